//! Metadata (key 3), v0-13: the broker, cluster and controller ids, topics with stable ids,
//! auto-creation, topic-name validation, lookups by topic id and authorized operations.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::{ApiKey, BrokerId, MetadataRequest, MetadataResponse};
use uuid::Uuid;

use crate::support::*;

/// `Integer.MIN_VALUE`: authorized operations not requested.
const OPS_OMITTED: i32 = i32::MIN;
/// AclOperation codes (Kafka's `AclOperation`).
const READ: i32 = 3;
const WRITE: i32 = 4;
const DESCRIBE: i32 = 8;

/// A request for `topics` (`None`: all) that may auto-create them when `auto` is set; v0-3
/// have no such field (they always auto-create), so it is left at its default there.
fn request(topics: Option<&[&str]>, auto: bool, version: i16) -> MetadataRequest {
    metadata_request(topics, auto || version < 4)
}

fn by_name(topics: &[&str], version: i16) -> MetadataRequest {
    request(Some(topics), false, version)
}

fn find<'a>(resp: &'a MetadataResponse, topic: &str) -> &'a MetadataResponseTopic {
    resp.topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.as_str()) == Some(topic))
        .unwrap_or_else(|| panic!("{topic} missing from {:?}", resp.topics))
}

fn assert_broker(resp: &MetadataResponse, broker: &Broker, v: i16) {
    assert_eq!(resp.brokers.len(), 1, "Metadata v{v}: one broker");
    let b = &resp.brokers[0];
    assert_eq!(b.node_id, BrokerId(0), "Metadata v{v} node id");
    assert_eq!(
        b.host.as_str(),
        broker.advertised_host,
        "Metadata v{v} host"
    );
    assert_eq!(b.port, broker.advertised_port, "Metadata v{v} port");
    assert_eq!(b.rack, None, "Metadata v{v} rack");
}

fn assert_partitions(t: &MetadataResponseTopic, n: i32, v: i16) {
    let mut parts = t.partitions.clone();
    parts.sort_by_key(|p| p.partition_index);
    assert_eq!(
        parts.iter().map(|p| p.partition_index).collect::<Vec<_>>(),
        (0..n).collect::<Vec<_>>(),
        "Metadata v{v} partitions"
    );
    for p in &parts {
        assert_eq!(p.error_code, code::NONE, "Metadata v{v} partition error");
        assert_eq!(p.leader_id, BrokerId(0), "Metadata v{v} leader");
        assert_eq!(p.replica_nodes, vec![BrokerId(0)], "Metadata v{v} replicas");
        assert_eq!(p.isr_nodes, vec![BrokerId(0)], "Metadata v{v} isr");
        if v >= 5 {
            assert!(
                p.offline_replicas.is_empty(),
                "Metadata v{v} offline replicas"
            );
        }
        if v >= 7 {
            assert_eq!(p.leader_epoch, 0, "Metadata v{v} leader epoch");
        }
    }
}

#[test]
fn every_version_describes_the_broker_and_a_topic() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-all-versions", 3);
    let mut cluster_id: Option<String> = None;
    for v in versions(ApiKey::Metadata) {
        let resp = c.send(&by_name(&[&topic.name], v), v);
        assert_broker(&resp, &broker, v);
        if v >= 1 {
            assert_eq!(
                resp.controller_id,
                BrokerId(0),
                "Metadata v{v} controller id"
            );
        }
        if v >= 2 {
            let id = resp.cluster_id.as_ref().expect("cluster id").to_string();
            assert_eq!(
                id.len(),
                22,
                "Metadata v{v}: a Kafka cluster id is 22 base64 chars: {id}"
            );
            if let Some(prev) = &cluster_id {
                assert_eq!(&id, prev, "cluster id is the same at every version");
            }
            cluster_id = Some(id);
        }
        if v >= 3 {
            assert_eq!(resp.throttle_time_ms, 0);
        }
        assert_eq!(
            resp.topics.len(),
            1,
            "Metadata v{v}: only the requested topic"
        );
        let t = &resp.topics[0];
        assert_eq!(t.error_code, code::NONE, "Metadata v{v} topic error");
        assert_eq!(
            t.name.as_ref().map(|n| n.as_str()),
            Some(topic.name.as_str())
        );
        if v >= 1 {
            assert!(!t.is_internal, "Metadata v{v} is_internal");
        }
        if v >= 10 {
            assert_eq!(
                t.topic_id, topic.id,
                "Metadata v{v} topic id = CreateTopics' id"
            );
        }
        if v >= 8 {
            assert_eq!(
                t.topic_authorized_operations, OPS_OMITTED,
                "Metadata v{v}: not requested"
            );
        }
        if (8..=10).contains(&v) {
            assert_eq!(
                resp.cluster_authorized_operations, OPS_OMITTED,
                "Metadata v{v}: not requested"
            );
        }
        assert_partitions(t, 3, v);
    }
}

#[test]
fn authorized_operations_when_requested() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-ops", 1);
    for v in 8..=*versions(ApiKey::Metadata).end() {
        let mut req = by_name(&[&topic.name], v);
        req.include_topic_authorized_operations = true;
        if v <= 10 {
            req.include_cluster_authorized_operations = true;
        }
        let resp = c.send(&req, v);
        let ops = resp.topics[0].topic_authorized_operations;
        assert_ne!(ops, OPS_OMITTED, "Metadata v{v} topic operations");
        for op in [READ, WRITE, DESCRIBE] {
            assert!(
                ops & (1 << op) != 0,
                "Metadata v{v}: topic operations {ops:#x} lack {op}"
            );
        }
        if v <= 10 {
            let ops = resp.cluster_authorized_operations;
            assert_ne!(ops, OPS_OMITTED, "Metadata v{v} cluster operations");
            assert!(
                ops & (1 << DESCRIBE) != 0,
                "Metadata v{v}: cluster operations {ops:#x}"
            );
        }
    }
}

#[test]
fn topic_ids_are_stable_across_calls_and_restarts() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-stable-id", 2);
    let cluster_id = c.send(&by_name(&[&topic.name], 12), 12).cluster_id;
    let ids = |c: &mut Client| -> Vec<Uuid> {
        (10..=*versions(ApiKey::Metadata).end())
            .map(|v| find(&c.send(&by_name(&[&topic.name], v), v), &topic.name).topic_id)
            .collect()
    };
    let expected = vec![topic.id; ids(&mut c).len()];
    assert_eq!(ids(&mut c), expected);
    assert_eq!(ids(&mut c), expected, "a second call returns the same id");

    broker.restart();
    let mut c = broker.client();
    assert_eq!(ids(&mut c), expected, "same id after a clean restart");
    assert_eq!(
        c.send(&by_name(&[&topic.name], 12), 12).cluster_id,
        cluster_id
    );

    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(ids(&mut c), expected, "same id after kill -9");
    let resp = c.send(&by_name(&[&topic.name], 12), 12);
    assert_eq!(resp.cluster_id, cluster_id, "cluster id survives kill -9");
    assert_partitions(find(&resp, &topic.name), 2, 12);
}

#[test]
fn auto_creation_follows_the_request_flag() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::Metadata) {
        let name = format!("meta-auto-v{v}");
        if v >= 4 {
            // Not allowed: UNKNOWN_TOPIC_OR_PARTITION, and nothing is created.
            let resp = c.send(&metadata_request(Some(&[&name]), false), v);
            assert_eq!(resp.topics.len(), 1);
            assert_eq!(
                resp.topics[0].error_code,
                code::UNKNOWN_TOPIC_OR_PARTITION,
                "Metadata v{v}"
            );
            assert!(resp.topics[0].partitions.is_empty());
            let again = c.send(&metadata_request(Some(&[&name]), false), 12);
            assert_eq!(again.topics[0].error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
        }
        // Allowed (v0-3 always allow): the topic is created with num.partitions (1).
        let resp = c.send(&request(Some(&[&name]), true, v), v);
        let t = find(&resp, &name);
        // Kafka answers LEADER_NOT_AVAILABLE (5) while the creation propagates; a broker that
        // creates synchronously answers with the topic itself.
        assert!(
            t.error_code == code::NONE || t.error_code == 5,
            "Metadata v{v} auto-create error {}",
            t.error_code
        );
        if t.error_code == code::NONE {
            assert_partitions(t, 1, v);
        }
        let after = describe_topic(&mut c, &name);
        assert_eq!(after.error_code, code::NONE, "Metadata v{v} created {name}");
        assert_partitions(&after, 1, 12);
    }
}

#[test]
fn auto_creation_disabled_by_the_broker() {
    let broker = Broker::with_overrides(&[("auto.create.topics.enable", "false")]);
    let mut c = broker.client();
    for v in [0, 3, 4, 12, 13] {
        let resp = c.send(&request(Some(&["meta-no-auto"]), true, v), v);
        assert_eq!(
            resp.topics[0].error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION,
            "Metadata v{v}"
        );
    }
}

#[test]
fn invalid_topic_names_are_rejected() {
    let broker = Broker::start();
    let mut c = broker.client();
    let long = "x".repeat(250);
    for v in versions(ApiKey::Metadata) {
        for bad in ["bad topic!", "..", "ü-not-ascii", long.as_str()] {
            for auto in [true, false] {
                let resp = c.send(&request(Some(&[bad]), auto, v), v);
                assert_eq!(resp.topics.len(), 1);
                let t = &resp.topics[0];
                assert_eq!(
                    t.error_code,
                    code::INVALID_TOPIC_EXCEPTION,
                    "Metadata v{v} {bad:?} auto={auto}"
                );
                assert!(t.partitions.is_empty());
            }
        }
    }
    // Nothing was created.
    let all = c.send(&metadata_request(None, false), 12);
    assert!(all.topics.is_empty(), "{:?}", all.topics);
}

#[test]
fn lookup_by_topic_id() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-by-id", 2);
    let unknown = Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    for v in 12..=*versions(ApiKey::Metadata).end() {
        let req = MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default()
                    .with_topic_id(topic.id)
                    .with_name(None),
                MetadataRequestTopic::default()
                    .with_topic_id(unknown)
                    .with_name(None),
            ]))
            .with_allow_auto_topic_creation(true);
        let resp = c.send(&req, v);
        assert_eq!(resp.topics.len(), 2, "Metadata v{v}");
        let known = resp
            .topics
            .iter()
            .find(|t| t.topic_id == topic.id)
            .expect("known id");
        assert_eq!(known.error_code, code::NONE);
        assert_eq!(
            known.name.as_ref().map(|n| n.as_str()),
            Some(topic.name.as_str())
        );
        assert_partitions(known, 2, v);
        let missing = resp
            .topics
            .iter()
            .find(|t| t.topic_id == unknown)
            .expect("unknown id");
        assert_eq!(
            missing.error_code,
            code::UNKNOWN_TOPIC_ID,
            "Metadata v{v} unknown id"
        );
        assert_eq!(
            missing.name, None,
            "Metadata v{v}: no name for an unknown id"
        );
        assert!(missing.partitions.is_empty());
    }
}

/// The Java client's lookup by id (Admin.describeTopics(TopicCollection.ofTopicIds)) sends the
/// name field's default, an empty string, beside each id. Kafka answers by id as soon as any id
/// is non-zero and ignores the names (`KafkaApis.handleTopicMetadataRequest`, `useTopicId`); the
/// Admin then refuses any answered topic without an id (`MetadataResponse.errorsByTopicId`).
#[test]
fn lookup_by_topic_id_ignores_the_empty_names_the_java_client_sends() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-by-id-java", 3);
    let unknown = Uuid::from_u128(0x0fed_cba9_8765_4321_0fed_cba9_8765_4321);
    for v in 12..=*versions(ApiKey::Metadata).end() {
        let req = MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default()
                    .with_topic_id(topic.id)
                    .with_name(Some(name(""))),
                MetadataRequestTopic::default()
                    .with_topic_id(unknown)
                    .with_name(Some(name(""))),
            ]))
            .with_allow_auto_topic_creation(false);
        let resp = c.send(&req, v);
        let got: Vec<(Uuid, i16, Option<String>, usize)> = resp
            .topics
            .iter()
            .map(|t| {
                (
                    t.topic_id,
                    t.error_code,
                    t.name.as_ref().map(|n| n.to_string()),
                    t.partitions.len(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (topic.id, code::NONE, Some(topic.name.clone()), 3),
                (unknown, code::UNKNOWN_TOPIC_ID, None, 0),
            ],
            "Metadata v{v}"
        );
    }
}

/// Kafka serves lookups by topic id from v12 only: v10-11 requests naming a topic by id (with a
/// null name) are invalid (`KafkaApis.handleTopicMetadataRequest`), so every topic of the
/// response carries INVALID_REQUEST (`MetadataRequest.getErrorResponse`).
#[test]
fn lookup_by_topic_id_below_v12_is_an_invalid_request() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "meta-by-id-old", 1);
    for v in 10..=11 {
        let req = MetadataRequest::default()
            .with_topics(Some(vec![MetadataRequestTopic::default()
                .with_topic_id(topic.id)
                .with_name(None)]))
            .with_allow_auto_topic_creation(false);
        let resp = c.send(&req, v);
        assert_eq!(resp.topics.len(), 1, "Metadata v{v}");
        assert_eq!(
            resp.topics[0].error_code,
            code::INVALID_REQUEST,
            "Metadata v{v} by topic id"
        );
    }
}

#[test]
fn null_topics_means_all_topics() {
    let broker = Broker::start();
    let mut c = broker.client();
    let a = create_topic(&mut c, "meta-all-a", 1);
    let b = create_topic(&mut c, "meta-all-b", 2);
    for v in versions(ApiKey::Metadata) {
        // v0 has no null list: an empty list means all topics.
        let req = if v == 0 {
            MetadataRequest::default().with_topics(Some(vec![]))
        } else {
            request(None, false, v)
        };
        let resp = c.send(&req, v);
        let mut names: Vec<String> = resp
            .topics
            .iter()
            .map(|t| t.name.as_ref().expect("name").to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec![a.name.clone(), b.name.clone()],
            "Metadata v{v} all topics"
        );
        assert_partitions(find(&resp, &b.name), 2, v);
        if v >= 10 {
            assert_eq!(find(&resp, &a.name).topic_id, a.id);
            assert_eq!(find(&resp, &b.name).topic_id, b.id);
        }
        if v >= 1 {
            // From v1 an empty list means no topics (only the brokers).
            let resp = c.send(&request(Some(&[]), false, v), v);
            assert!(resp.topics.is_empty(), "Metadata v{v} with an empty list");
            assert_broker(&resp, &broker, v);
        }
    }
}

#[test]
fn advertised_listener_is_returned() {
    let broker = Broker::start_with(&["--advertised-listener", "kafka.example.com:19092"]);
    assert_eq!(broker.advertised_host, "kafka.example.com");
    assert_eq!(broker.advertised_port, 19092);
    let mut c = broker.client();
    for v in versions(ApiKey::Metadata) {
        let resp = c.send(&request(Some(&[]), false, v), v);
        assert_broker(&resp, &broker, v);
    }
}

#[test]
fn default_advertised_listener_is_the_bound_address() {
    let broker = Broker::start();
    assert_eq!(broker.advertised_port, broker.addr.port() as i32);
    assert_eq!(broker.advertised_host, broker.addr.ip().to_string());
}
