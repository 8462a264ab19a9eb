//! CreateTopics (key 19), v2-7, and DeleteTopics (key 20), v1-6: creation with partitions,
//! configs and manual assignments, validation errors, deletion by name and by id, and topics
//! persisting across restarts.

use std::time::Duration;

use kafka_protocol::messages::create_topics_request::{CreatableReplicaAssignment, CreatableTopic};
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{ApiKey, BrokerId, CreateTopicsRequest, DeleteTopicsRequest};
use uuid::Uuid;

use crate::support::*;

/// `DescribeConfigsResponse.ConfigSource`
const DYNAMIC_TOPIC_CONFIG: i8 = 1;

fn create(
    c: &mut Client,
    topics: Vec<CreatableTopic>,
    validate_only: bool,
    v: i16,
) -> Vec<CreatableTopicResult> {
    let req = CreateTopicsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only);
    c.send(&req, v).topics
}

fn create_one(c: &mut Client, topic: CreatableTopic, v: i16) -> CreatableTopicResult {
    let mut r = create(c, vec![topic], false, v);
    assert_eq!(r.len(), 1);
    r.remove(0)
}

fn exists(c: &mut Client, topic: &str) -> bool {
    let t = describe_topic(c, topic);
    match t.error_code {
        code::NONE => true,
        code::UNKNOWN_TOPIC_OR_PARTITION => false,
        other => panic!("Metadata for {topic}: error {other}"),
    }
}

fn topic_dirs(broker: &Broker, topic: &str) -> Vec<String> {
    std::fs::read_dir(broker.data_dir())
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(&format!("{topic}-")))
        .collect()
}

#[test]
fn create_at_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::CreateTopics) {
        let name = format!("create-v{v}");
        let r = create_one(
            &mut c,
            creatable(
                &name,
                3,
                &[("retention.ms", "12345"), ("cleanup.policy", "compact")],
            ),
            v,
        );
        assert_eq!(r.name.as_str(), name);
        assert_eq!(
            r.error_code,
            code::NONE,
            "CreateTopics v{v}: {:?}",
            r.error_message
        );
        if v >= 5 {
            assert_eq!(r.num_partitions, 3, "CreateTopics v{v} num_partitions");
            assert_eq!(
                r.replication_factor, 1,
                "CreateTopics v{v} replication_factor"
            );
            let configs = r.configs.as_ref().expect("configs");
            let get = |k: &str| {
                configs
                    .iter()
                    .find(|c| c.name.as_str() == k)
                    .unwrap_or_else(|| panic!("CreateTopics v{v}: {k} missing from the configs"))
            };
            let retention = get("retention.ms");
            assert_eq!(retention.value.as_ref().map(|s| s.as_str()), Some("12345"));
            assert_eq!(
                retention.config_source, DYNAMIC_TOPIC_CONFIG,
                "CreateTopics v{v} retention.ms source"
            );
            assert!(!retention.read_only && !retention.is_sensitive);
            let policy = get("cleanup.policy");
            assert_eq!(policy.value.as_ref().map(|s| s.as_str()), Some("compact"));
            assert_eq!(policy.config_source, DYNAMIC_TOPIC_CONFIG);
            let max = get("max.message.bytes");
            assert_eq!(
                max.value.as_ref().map(|s| s.as_str()),
                Some("1048588"),
                "broker default"
            );
            assert_ne!(
                max.config_source, DYNAMIC_TOPIC_CONFIG,
                "a default is not a topic override"
            );
        }
        let md = describe_topic(&mut c, &name);
        assert_eq!(
            md.error_code,
            code::NONE,
            "CreateTopics v{v}: topic visible in Metadata"
        );
        assert_eq!(md.partitions.len(), 3);
        if v >= 7 {
            assert!(!r.topic_id.is_nil());
            assert_eq!(
                r.topic_id, md.topic_id,
                "CreateTopics v7 topic id = Metadata's"
            );
        }
    }
}

/// Kafka answers a created topic with a null error message (`ReplicationControlManager`:
/// `setErrorMessage(null)`), at every version (the field is nullable from v0).
#[test]
fn success_has_a_null_error_message() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::CreateTopics) {
        for validate_only in [true, false] {
            let r = create(
                &mut c,
                vec![creatable(&format!("create-null-msg-v{v}"), 1, &[])],
                validate_only,
                v,
            );
            assert_eq!(r[0].error_code, code::NONE);
            assert_eq!(
                r[0].error_message, None,
                "CreateTopics v{v} (validate_only {validate_only}) error message"
            );
        }
    }
}

#[test]
fn defaults_come_from_the_broker() {
    let broker = Broker::with_overrides(&[("num.partitions", "4")]);
    let mut c = broker.client();
    for v in 4..=*versions(ApiKey::CreateTopics).end() {
        // v4+: -1 partitions and replication factor mean the broker's defaults (KIP-464).
        let name = format!("create-defaults-v{v}");
        let t = CreatableTopic::default()
            .with_name(name_of(&name))
            .with_num_partitions(-1)
            .with_replication_factor(-1);
        let r = create_one(&mut c, t, v);
        assert_eq!(r.error_code, code::NONE, "CreateTopics v{v}");
        if v >= 5 {
            assert_eq!((r.num_partitions, r.replication_factor), (4, 1));
        }
        assert_eq!(describe_topic(&mut c, &name).partitions.len(), 4);
    }
}

fn name_of(n: &str) -> kafka_protocol::messages::TopicName {
    name(n)
}

#[test]
fn validate_only_creates_nothing() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::CreateTopics) {
        let name = format!("create-validate-v{v}");
        let r = create(
            &mut c,
            vec![creatable(&name, 2, &[("retention.ms", "1000")])],
            true,
            v,
        );
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].error_code,
            code::NONE,
            "CreateTopics v{v} validate_only"
        );
        if v >= 5 {
            assert_eq!(r[0].num_partitions, 2);
        }
        assert!(
            !exists(&mut c, &name),
            "CreateTopics v{v}: validate_only created {name}"
        );
        // Validation errors are still reported.
        let r = create(&mut c, vec![creatable(&name, 0, &[])], true, v);
        assert_eq!(r[0].error_code, code::INVALID_PARTITIONS);
    }
    assert!(topic_dirs(&broker, "create-validate").is_empty());
}

#[test]
fn creation_errors() {
    let broker = Broker::start();
    let mut c = broker.client();
    create_topic(&mut c, "create-existing", 1);
    for v in versions(ApiKey::CreateTopics) {
        let n = |s: &str| format!("create-err-{s}-v{v}");
        let cases: Vec<(CreatableTopic, i16, &str)> = vec![
            (
                creatable("create-existing", 1, &[]),
                code::TOPIC_ALREADY_EXISTS,
                "existing",
            ),
            (
                creatable(&n("rf"), 1, &[]).with_replication_factor(3),
                code::INVALID_REPLICATION_FACTOR,
                "rf 3",
            ),
            (
                creatable(&n("rf0"), 1, &[]).with_replication_factor(0),
                code::INVALID_REPLICATION_FACTOR,
                "rf 0",
            ),
            (
                creatable(&n("parts"), 0, &[]),
                code::INVALID_PARTITIONS,
                "0 partitions",
            ),
            (
                creatable(&n("neg"), -5, &[]),
                code::INVALID_PARTITIONS,
                "-5 partitions",
            ),
            (
                creatable(&n("cfg"), 1, &[("no.such.config", "1")]),
                code::INVALID_CONFIG,
                "unknown config",
            ),
            (
                creatable(&n("seg"), 1, &[("segment.bytes", "10")]),
                code::INVALID_CONFIG,
                "segment.bytes=10",
            ),
            (
                creatable(&n("ts"), 1, &[("message.timestamp.type", "Sometimes")]),
                code::INVALID_CONFIG,
                "bad enum",
            ),
            (
                creatable(&n("num"), 1, &[("retention.ms", "soon")]),
                code::INVALID_CONFIG,
                "not a number",
            ),
            (
                creatable("bad name!", 1, &[]),
                code::INVALID_TOPIC_EXCEPTION,
                "invalid name",
            ),
            (
                creatable(&"x".repeat(250), 1, &[]),
                code::INVALID_TOPIC_EXCEPTION,
                "name too long",
            ),
        ];
        for (topic, want, what) in cases {
            let name = topic.name.as_str().to_string();
            let r = create_one(&mut c, topic, v);
            assert_eq!(
                r.error_code, want,
                "CreateTopics v{v} {what}: {:?}",
                r.error_message
            );
            assert!(
                r.error_message.is_some(),
                "CreateTopics v{v} {what}: an error message"
            );
            if v >= 5 {
                assert_eq!(
                    (r.num_partitions, r.replication_factor),
                    (-1, -1),
                    "CreateTopics v{v} {what}"
                );
            }
            if name != "create-existing" && want != code::INVALID_TOPIC_EXCEPTION {
                assert!(
                    !exists(&mut c, &name),
                    "CreateTopics v{v} {what}: nothing created"
                );
            }
        }
    }
}

#[test]
fn manual_replica_assignment() {
    let broker = Broker::start();
    let mut c = broker.client();
    let assign = |p: i32, brokers: &[i32]| {
        CreatableReplicaAssignment::default()
            .with_partition_index(p)
            .with_broker_ids(brokers.iter().map(|b| BrokerId(*b)).collect())
    };
    for v in versions(ApiKey::CreateTopics) {
        let name = format!("create-assigned-v{v}");
        let t = CreatableTopic::default()
            .with_name(name_of(&name))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![assign(0, &[0]), assign(1, &[0])]);
        let r = create_one(&mut c, t, v);
        assert_eq!(
            r.error_code,
            code::NONE,
            "CreateTopics v{v}: {:?}",
            r.error_message
        );
        if v >= 5 {
            assert_eq!((r.num_partitions, r.replication_factor), (2, 1));
        }
        let md = describe_topic(&mut c, &name);
        assert_eq!(md.partitions.len(), 2);

        let bad = format!("create-assigned-bad-v{v}");
        let t = CreatableTopic::default()
            .with_name(name_of(&bad))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![assign(0, &[1])]);
        let r = create_one(&mut c, t, v);
        assert_eq!(
            r.error_code,
            code::INVALID_REPLICA_ASSIGNMENT,
            "CreateTopics v{v} broker 1"
        );
        assert!(!exists(&mut c, &bad));
    }
}

#[test]
fn duplicate_names_in_one_request() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::CreateTopics) {
        let dup = format!("create-dup-v{v}");
        let other = format!("create-dup-other-v{v}");
        let r = create(
            &mut c,
            vec![
                creatable(&dup, 1, &[]),
                creatable(&other, 1, &[]),
                creatable(&dup, 2, &[]),
            ],
            false,
            v,
        );
        let dups: Vec<&CreatableTopicResult> =
            r.iter().filter(|t| t.name.as_str() == dup).collect();
        assert!(
            !dups.is_empty(),
            "CreateTopics v{v}: the duplicate name is answered"
        );
        for d in dups {
            assert_eq!(
                d.error_code,
                code::INVALID_REQUEST,
                "CreateTopics v{v} duplicate"
            );
        }
        let o = r
            .iter()
            .find(|t| t.name.as_str() == other)
            .expect("other topic answered");
        assert_eq!(o.error_code, code::NONE);
        assert!(
            !exists(&mut c, &dup),
            "CreateTopics v{v}: the duplicate was not created"
        );
        assert!(exists(&mut c, &other));
    }
}

fn delete_by_names(c: &mut Client, names: &[&str], v: i16) -> Vec<DeletableTopicResult> {
    let mut req = DeleteTopicsRequest::default().with_timeout_ms(30_000);
    if v >= 6 {
        req.topics = names
            .iter()
            .map(|n| DeleteTopicState::default().with_name(Some(name(n))))
            .collect();
    } else {
        req.topic_names = names.iter().map(|n| name(n)).collect();
    }
    c.send(&req, v).responses
}

fn delete_by_ids(c: &mut Client, states: Vec<DeleteTopicState>) -> Vec<DeletableTopicResult> {
    let req = DeleteTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(states);
    c.send(&req, 6).responses
}

#[test]
fn delete_by_name_at_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::DeleteTopics) {
        let name = format!("delete-v{v}");
        let topic = create_topic(&mut c, &name, 2);
        produce_ok(&mut c, &topic, 1, &recs("doomed", 3));
        assert_eq!(topic_dirs(&broker, &name).len(), 2);
        let r = delete_by_names(&mut c, &[&name], v);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].name.as_ref().map(|n| n.as_str()), Some(name.as_str()));
        assert_eq!(
            r[0].error_code,
            code::NONE,
            "DeleteTopics v{v}: {:?}",
            r[0].error_message
        );
        if v >= 5 {
            assert_eq!(
                r[0].error_message, None,
                "DeleteTopics v{v}: no message for a success"
            );
        }
        if v >= 6 {
            assert_eq!(r[0].topic_id, topic.id, "DeleteTopics v{v} topic id");
        }
        assert!(
            !exists(&mut c, &name),
            "DeleteTopics v{v}: gone from Metadata"
        );
        let all = c.send(&metadata_request(None, false), 12);
        assert!(all.topics.iter().all(|t| t.topic_id != topic.id));
        assert!(
            eventually(Duration::from_secs(10), || topic_dirs(&broker, &name)
                .is_empty()),
            "DeleteTopics v{v}: data directories still there: {:?}",
            topic_dirs(&broker, &name)
        );
        // Unknown name.
        let r = delete_by_names(&mut c, &[&name], v);
        assert_eq!(
            r[0].error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION,
            "DeleteTopics v{v} unknown name"
        );
        // A topic of the same name can be created again, empty, with a new id.
        let again = create_topic(&mut c, &name, 1);
        assert_ne!(again.id, topic.id);
        assert_eq!(fetch(&mut c, &again, 0, 0, 12).high_watermark, 0);
    }
}

#[test]
fn delete_by_id() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "delete-by-id", 1);
    let keep = create_topic(&mut c, "delete-keep", 1);
    let r = delete_by_ids(
        &mut c,
        vec![DeleteTopicState::default()
            .with_name(None)
            .with_topic_id(topic.id)],
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].error_code, code::NONE, "{:?}", r[0].error_message);
    assert_eq!(r[0].topic_id, topic.id);
    assert_eq!(
        r[0].name.as_ref().map(|n| n.as_str()),
        Some(topic.name.as_str())
    );
    assert!(!exists(&mut c, &topic.name));
    assert!(exists(&mut c, &keep.name));

    // Unknown id.
    let ghost = Uuid::from_u128(99);
    let r = delete_by_ids(
        &mut c,
        vec![DeleteTopicState::default()
            .with_name(None)
            .with_topic_id(ghost)],
    );
    assert_eq!(
        (r[0].error_code, r[0].topic_id),
        (code::UNKNOWN_TOPIC_ID, ghost)
    );
    // Both a name and an id.
    let r = delete_by_ids(
        &mut c,
        vec![DeleteTopicState::default()
            .with_name(Some(name(&keep.name)))
            .with_topic_id(keep.id)],
    );
    assert_eq!(
        r[0].error_code,
        code::INVALID_REQUEST,
        "name and id together"
    );
    assert!(
        exists(&mut c, &keep.name),
        "nothing deleted by an invalid entry"
    );
    assert!(eventually(Duration::from_secs(10), || topic_dirs(
        &broker,
        &topic.name
    )
    .is_empty()));
}

#[test]
fn topics_persist_across_restarts() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let a = create_topic_with(&mut c, "persist-a", 3, &[("retention.ms", "86400000")]);
    let b = create_topic(&mut c, "persist-b", 1);
    let deleted = create_topic(&mut c, "persist-deleted", 1);
    produce_ok(&mut c, &a, 2, &recs("a", 4));
    assert_eq!(
        delete_by_names(&mut c, &[&deleted.name], 6)[0].error_code,
        code::NONE
    );
    for crash in [false, true] {
        if crash {
            broker.kill9_and_restart();
        } else {
            broker.restart();
        }
        let mut c = broker.client();
        let all = c.send(&metadata_request(None, false), 12);
        let mut got: Vec<(String, Uuid, usize)> = all
            .topics
            .iter()
            .map(|t| {
                (
                    t.name.as_ref().expect("name").to_string(),
                    t.topic_id,
                    t.partitions.len(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![(a.name.clone(), a.id, 3), (b.name.clone(), b.id, 1)],
            "topics after restart (crash: {crash})"
        );
        assert_eq!(fetch(&mut c, &a, 2, 0, 12).high_watermark, 4);
        // Creating it again reports the existing topic.
        let r = create_one(&mut c, creatable(&a.name, 3, &[]), 7);
        assert_eq!(r.error_code, code::TOPIC_ALREADY_EXISTS);
    }
}

#[test]
fn deletion_disabled() {
    let broker = Broker::with_overrides(&[("delete.topic.enable", "false")]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "delete-disabled", 1);
    for v in versions(ApiKey::DeleteTopics) {
        let r = delete_by_names(&mut c, &[&topic.name], v);
        // Kafka: TOPIC_DELETION_DISABLED (73) from v3, INVALID_REQUEST before.
        let want = if v >= 3 { 73 } else { code::INVALID_REQUEST };
        assert_eq!(
            r[0].error_code, want,
            "DeleteTopics v{v} with deletion disabled"
        );
    }
    assert!(exists(&mut c, &topic.name));
}

/// Kafka's controller refuses a request that would create more than 10,000 partitions
/// (`MAX_PARTITIONS_PER_BATCH`) with POLICY_VIOLATION for every topic in it, and creates
/// nothing: one request cannot make the broker create millions of partition directories.
#[test]
fn more_than_ten_thousand_partitions_in_one_request_are_refused() {
    let broker = Broker::start();
    let mut c = broker.client();
    for (topics, what) in [
        (vec![creatable("cap-huge", i32::MAX, &[])], "one huge topic"),
        (
            vec![
                creatable("cap-half-a", 5_000, &[]),
                creatable("cap-half-b", 5_001, &[]),
            ],
            "two topics over the cap together",
        ),
    ] {
        let names: Vec<String> = topics.iter().map(|t| t.name.to_string()).collect();
        let results = create(&mut c, topics, false, 7);
        assert_eq!(results.len(), names.len(), "{what}");
        for r in &results {
            assert_eq!(r.error_code, code::POLICY_VIOLATION, "{what}");
            assert_eq!(
                r.error_message.as_deref(),
                Some("Excessively large number of partitions per request."),
                "{what}"
            );
        }
        for n in &names {
            assert!(!exists(&mut c, n), "{what}: {n} was created");
            assert!(
                topic_dirs(&broker, n).is_empty(),
                "{what}: {n} has directories"
            );
        }
    }
    // At the cap it is created.
    let r = create_one(&mut c, creatable("cap-at-limit", 2, &[]), 7);
    assert_eq!(r.error_code, code::NONE);
    // CreatePartitions counts the partitions a topic would gain.
    use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
    use kafka_protocol::messages::CreatePartitionsRequest;
    let grow = |count: i32| {
        CreatePartitionsRequest::default()
            .with_topics(vec![CreatePartitionsTopic::default()
                .with_name(name_of("cap-at-limit"))
                .with_count(count)])
            .with_timeout_ms(30_000)
    };
    let r = c.send(&grow(i32::MAX), 3);
    assert_eq!(r.results[0].error_code, code::POLICY_VIOLATION);
    assert_eq!(topic_dirs(&broker, "cap-at-limit").len(), 2);
    let r = c.send(&grow(3), 3);
    assert_eq!(r.results[0].error_code, code::NONE);
    assert_eq!(topic_dirs(&broker, "cap-at-limit").len(), 3);
}
