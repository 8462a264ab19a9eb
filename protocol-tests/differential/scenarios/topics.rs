//! Topic admin: CreateTopics, DeleteTopics, CreatePartitions and Metadata with valid and invalid
//! input at every version both brokers serve.

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::{creatable, name};

pub const SCENARIOS: &[Scenario] = &[
    ("topics/create_valid_and_invalid", create_valid_and_invalid),
    (
        "topics/metadata_unknown_and_auto_create",
        metadata_unknown_and_auto_create,
    ),
    ("topics/metadata_all_and_by_id", metadata_all_and_by_id),
    ("topics/delete_by_name_and_id", delete_by_name_and_id),
    ("topics/create_partitions", create_partitions),
    (
        "topics/describe_topic_partitions",
        describe_topic_partitions,
    ),
];

/// CreateTopics with a good topic, an existing one, bad names, bad partition counts, bad
/// configs and validate_only, at every version.
fn create_valid_and_invalid(ctx: &mut Ctx) {
    super::create_topic(ctx, "dt-create-existing", 2, &[]);
    ctx.each_version("create", |v| {
        let mut topics = vec![
            creatable(
                &format!("dt-create-new-v{v}"),
                3,
                &[("cleanup.policy", "compact")],
            ),
            creatable("dt-create-existing", 1, &[]),
            creatable("bad/name", 1, &[]),
            creatable("", 1, &[]),
            creatable(".", 1, &[]),
            creatable("..", 1, &[]),
            creatable(&"x".repeat(250), 1, &[]),
            creatable(&format!("dt-create-zero-v{v}"), 0, &[]),
            creatable(
                &format!("dt-create-badcfg-v{v}"),
                1,
                &[("retention.ms", "soon")],
            ),
            creatable(
                &format!("dt-create-unknowncfg-v{v}"),
                1,
                &[("no.such.config", "1")],
            ),
            creatable(&format!("dt-create-rf-v{v}"), 1, &[]).with_replication_factor(3),
        ];
        topics.push(creatable(&format!("dt-create-validate-v{v}"), 2, &[]));
        CreateTopicsRequest::default()
            .with_topics(topics)
            .with_timeout_ms(30_000)
            .with_validate_only(false)
    });
    ctx.each_version("validate_only", |v| {
        CreateTopicsRequest::default()
            .with_topics(vec![
                creatable(
                    &format!("dt-create-vo-v{v}"),
                    2,
                    &[("retention.ms", "1000")],
                ),
                creatable("dt-create-existing", 1, &[]),
            ])
            .with_timeout_ms(30_000)
            .with_validate_only(true)
    });
}

/// A Metadata request for `topics` by name at `version`: `allow_auto_topic_creation` exists
/// from v4 (below it, a named unknown topic is always auto-created, as Kafka's broker does with
/// `auto.create.topics.enable=true`); the topic authorized operations from v8.
fn metadata(version: i16, topics: Option<&[&str]>, auto_create: bool) -> MetadataRequest {
    let r = MetadataRequest::default().with_topics(topics.map(|ts| {
        ts.iter()
            .map(|t| metadata_request::MetadataRequestTopic::default().with_name(Some(name(t))))
            .collect()
    }));
    let r = if version >= 4 {
        r.with_allow_auto_topic_creation(auto_create)
    } else {
        r
    };
    r.with_include_topic_authorized_operations(version >= 8)
}

/// Metadata for an unknown topic without auto-creation (v4+), with it (the broker's
/// `auto.create.topics.enable` is true on both; below v4 a request always auto-creates), then
/// the auto-created topics once their leaders are known.
fn metadata_unknown_and_auto_create(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::Metadata) {
        if v >= 4 {
            ctx.send("unknown", &metadata(v, Some(&["dt-md-unknown"]), false), v);
        }
        let auto = format!("dt-md-auto-v{v}");
        // The first answer for a topic being auto-created (LEADER_NOT_AVAILABLE on Kafka, as
        // the creation goes through the controller) is compared as its error code only.
        let [k, l] = ctx.send_each(&metadata(v, Some(&[&auto]), true), v);
        let codes = [k, l].map(|r| r.topics.iter().map(|t| t.error_code).collect::<Vec<_>>());
        ctx.compare(&format!("auto_create@v{v}"), &codes[0], &codes[1]);
        super::wait_for_leaders(ctx, &auto, 1);
        ctx.send("auto_created", &metadata(v, Some(&[&auto]), false), v);
    }
    // Auto-creation of an invalid name and of an internal topic's name.
    ctx.each_version("auto_create_invalid", |v| {
        metadata(v, Some(&["bad/name", &"x".repeat(250)]), true)
    });
}

/// Metadata for all topics (null, or an empty list at v0), compared on the scenario's own
/// topics (other scenarios' topics are theirs), and Metadata by topic id (v10+), known and
/// unknown.
fn metadata_all_and_by_id(ctx: &mut Ctx) {
    super::create_topic(ctx, "dt-md-all-a", 2, &[]);
    super::create_topic(ctx, "dt-md-all-b", 1, &[]);
    for v in ctx.versions(ApiKey::Metadata) {
        let req = if v == 0 {
            metadata(v, Some(&[]), false)
        } else {
            metadata(v, None, false)
        };
        let [k, l] = ctx.send_each(&req, v);
        let mine = [k, l].map(|mut r| {
            r.topics.retain(|t| {
                t.name
                    .as_ref()
                    .is_some_and(|n| n.as_str().starts_with("dt-md-all-"))
            });
            r
        });
        ctx.compare(&format!("all@v{v}"), &mine[0], &mine[1]);
    }
    // Which internal topics each lists among all topics (Kafka lists its __consumer_offsets
    // and __transaction_state once created), compared on their own.
    for v in ctx.versions(ApiKey::Metadata) {
        let req = if v == 0 {
            metadata(v, Some(&[]), false)
        } else {
            metadata(v, None, false)
        };
        let [k, l] = ctx.send_each(&req, v);
        let internal = [k, l].map(|r| {
            let mut v: Vec<String> = r
                .topics
                .iter()
                .filter(|t| t.is_internal || t.name.as_ref().is_some_and(|n| n.starts_with("__")))
                .map(|t| {
                    format!(
                        "{} internal={}",
                        t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                        t.is_internal
                    )
                })
                .collect();
            v.sort();
            v
        });
        ctx.compare(&format!("internal_topics@v{v}"), &internal[0], &internal[1]);
    }
    let ids = {
        let [k, l] = ctx.send_each(&metadata(12, Some(&["dt-md-all-a"]), false), 12);
        [k.topics[0].topic_id, l.topics[0].topic_id]
    };
    for v in ctx
        .versions(ApiKey::Metadata)
        .into_iter()
        .filter(|v| *v >= 10)
    {
        let mut answers = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let req = MetadataRequest::default()
                .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
                )
                .with_topic_id(*id)]))
                .with_allow_auto_topic_creation(false);
            answers.push(ctx.conns[i].send(&req, v));
        }
        ctx.compare(&format!("by_id@v{v}"), &answers[0], &answers[1]);
        ctx.send(
            "unknown_id",
            &MetadataRequest::default()
                .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
                )
                .with_topic_id(uuid::Uuid::from_u128(0x1234))]))
                .with_allow_auto_topic_creation(false),
            v,
        );
    }
}

/// DeleteTopics by name (every version), by topic id (v6), unknown names and ids, a name and
/// an id together.
fn delete_by_name_and_id(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::DeleteTopics) {
        let t = format!("dt-del-v{v}");
        super::create_topic(ctx, &t, 1, &[]);
        let names = [t.as_str(), "dt-del-no-such-topic", "bad/name"];
        let req = if v >= 6 {
            DeleteTopicsRequest::default().with_topics(
                names
                    .iter()
                    .map(|n| {
                        delete_topics_request::DeleteTopicState::default().with_name(Some(name(n)))
                    })
                    .collect(),
            )
        } else {
            DeleteTopicsRequest::default().with_topic_names(names.iter().map(|n| name(n)).collect())
        };
        ctx.send("by_name", &req.with_timeout_ms(30_000), v);
    }
    if ctx.versions(ApiKey::DeleteTopics).contains(&6) {
        super::create_topic(ctx, "dt-del-by-id", 1, &[]);
        let ids = {
            let [k, l] = ctx.send_each(&metadata(12, Some(&["dt-del-by-id"]), false), 12);
            [k.topics[0].topic_id, l.topics[0].topic_id]
        };
        let mut answers = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            let req = DeleteTopicsRequest::default()
                .with_topics(vec![
                    delete_topics_request::DeleteTopicState::default().with_topic_id(*id),
                    delete_topics_request::DeleteTopicState::default()
                        .with_topic_id(uuid::Uuid::from_u128(0x5678)),
                ])
                .with_timeout_ms(30_000);
            answers.push(ctx.conns[i].send(&req, 6));
        }
        ctx.compare("by_id@v6", &answers[0], &answers[1]);
        ctx.send(
            "name_and_id",
            &DeleteTopicsRequest::default()
                .with_topics(vec![delete_topics_request::DeleteTopicState::default()
                    .with_name(Some(name("dt-del-both")))
                    .with_topic_id(uuid::Uuid::from_u128(0x9abc))])
                .with_timeout_ms(30_000),
            6,
        );
    }
    // (Deleting an internal topic is not compared: Kafka 4.1 deletes __consumer_offsets when
    // asked, which would take the group coordinator from every later scenario.)
}

fn create_partitions_req(
    topics: &[(&str, i32, Option<Vec<Vec<i32>>>)],
    validate_only: bool,
) -> CreatePartitionsRequest {
    CreatePartitionsRequest::default()
        .with_timeout_ms(30_000)
        .with_validate_only(validate_only)
        .with_topics(
            topics
                .iter()
                .map(|(t, count, assignments)| {
                    create_partitions_request::CreatePartitionsTopic::default()
                        .with_name(name(t))
                        .with_count(*count)
                        .with_assignments(assignments.as_ref().map(|a| {
                            a.iter()
                                .map(|ids| {
                                    create_partitions_request::CreatePartitionsAssignment::default()
                                        .with_broker_ids(ids.iter().map(|i| BrokerId(*i)).collect())
                                })
                                .collect()
                        }))
                })
                .collect(),
        )
}

/// CreatePartitions: validate_only, increase, the same count, a decrease, an unknown topic,
/// assignments (good, unknown broker, wrong count), the same topic twice.
fn create_partitions(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::CreatePartitions) {
        let t = format!("dt-cp-v{v}");
        super::create_topic(ctx, &t, 2, &[]);
        ctx.send(
            "validate_only",
            &create_partitions_req(&[(&t, 4, None)], true),
            v,
        );
        ctx.send(
            "increase",
            &create_partitions_req(&[(&t, 3, None)], false),
            v,
        );
        super::wait_for_leaders(ctx, &t, 3);
        ctx.send("same", &create_partitions_req(&[(&t, 3, None)], false), v);
        ctx.send(
            "decrease",
            &create_partitions_req(&[(&t, 1, None)], false),
            v,
        );
        ctx.send(
            "unknown_topic",
            &create_partitions_req(&[("dt-cp-no-such-topic", 3, None)], false),
            v,
        );
        ctx.send(
            "assignment",
            &create_partitions_req(&[(&t, 4, Some(vec![vec![0]]))], false),
            v,
        );
        super::wait_for_leaders(ctx, &t, 4);
        ctx.send(
            "assignment_unknown_broker",
            &create_partitions_req(&[(&t, 5, Some(vec![vec![7]]))], false),
            v,
        );
        ctx.send(
            "assignment_wrong_count",
            &create_partitions_req(&[(&t, 6, Some(vec![vec![0]]))], false),
            v,
        );
        ctx.send(
            "assignment_two_replicas",
            &create_partitions_req(&[(&t, 5, Some(vec![vec![0, 0]]))], false),
            v,
        );
        ctx.send(
            "twice",
            &create_partitions_req(&[(&t, 6, None), (&t, 7, None)], false),
            v,
        );
        ctx.send("metadata", &metadata(12, Some(&[&t]), false), 12);
    }
}

/// DescribeTopicPartitions: known topics, an unknown one, a partition limit and a cursor.
fn describe_topic_partitions(ctx: &mut Ctx) {
    super::create_topic(ctx, "dt-dtp-a", 3, &[]);
    super::create_topic(ctx, "dt-dtp-b", 2, &[]);
    let req = |topics: &[&str], limit: i32, cursor: Option<(&str, i32)>| {
        DescribeTopicPartitionsRequest::default()
            .with_topics(
                topics
                    .iter()
                    .map(|t| {
                        describe_topic_partitions_request::TopicRequest::default()
                            .with_name(name(t))
                    })
                    .collect(),
            )
            .with_response_partition_limit(limit)
            .with_cursor(cursor.map(|(t, p)| {
                describe_topic_partitions_request::Cursor::default()
                    .with_topic_name(name(t))
                    .with_partition_index(p)
            }))
    };
    ctx.each_version("known_and_unknown", |_| {
        req(
            &["dt-dtp-a", "dt-dtp-b", "dt-dtp-no-such-topic"],
            2000,
            None,
        )
    });
    ctx.each_version("limit", |_| req(&["dt-dtp-a", "dt-dtp-b"], 2, None));
    ctx.each_version("cursor", |_| {
        req(&["dt-dtp-a", "dt-dtp-b"], 2, Some(("dt-dtp-a", 2)))
    });
    ctx.each_version("cursor_unknown_topic", |_| {
        req(&["dt-dtp-a"], 2, Some(("dt-dtp-zzz", 0)))
    });
}
