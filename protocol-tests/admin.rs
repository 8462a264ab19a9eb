//! Topic administration APIs at every advertised version: CreatePartitions (v0-3),
//! DeleteRecords (v0-2), DescribeLogDirs (v1-4), DescribeTopicPartitions (v0), ElectLeaders
//! (v0-2), ListPartitionReassignments (v0) and DescribeProducers (v0).

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::describe_producers_request::TopicRequest as ProducersTopic;
use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::*;

use crate::support::*;

fn create_partitions(
    topic: &str,
    count: i32,
    assignments: Option<Vec<Vec<i32>>>,
) -> CreatePartitionsTopic {
    CreatePartitionsTopic::default()
        .with_name(name(topic))
        .with_count(count)
        .with_assignments(assignments.map(|a| {
            a.into_iter()
                .map(|b| {
                    CreatePartitionsAssignment::default()
                        .with_broker_ids(b.into_iter().map(BrokerId).collect())
                })
                .collect()
        }))
}

fn partition_count(c: &mut Client, topic: &str) -> usize {
    describe_topic(c, topic).partitions.len()
}

#[test]
fn create_partitions_every_version() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::CreatePartitions) {
        let topic = unique_topic("adm-cp");
        let t = create_topic(&mut c, &topic, 1);
        let req = CreatePartitionsRequest::default()
            .with_topics(vec![create_partitions(&topic, 3, None)])
            .with_timeout_ms(10_000)
            .with_validate_only(true);
        let r = c.send(&req, v);
        assert_eq!(r.results[0].error_code, code::NONE, "v{v} validate_only");
        assert_eq!(partition_count(&mut c, &topic), 1);

        let req = CreatePartitionsRequest::default()
            .with_topics(vec![create_partitions(
                &topic,
                3,
                Some(vec![vec![0], vec![0]]),
            )])
            .with_timeout_ms(10_000);
        let r = c.send(&req, v);
        assert_eq!(
            r.results[0].error_code,
            code::NONE,
            "v{v}: {:?}",
            r.results[0].error_message
        );
        assert_eq!(r.results[0].name.as_str(), topic);
        assert_eq!(partition_count(&mut c, &topic), 3);
        produce_ok(&mut c, &t, 2, &recs("new", 2));

        let other = unique_topic("adm-cp-other");
        create_topic(&mut c, &other, 2);
        let cases: Vec<(CreatePartitionsTopic, i16)> = vec![
            (create_partitions(&topic, 3, None), code::INVALID_PARTITIONS),
            (create_partitions(&topic, 2, None), code::INVALID_PARTITIONS),
            (
                create_partitions("no-such-topic", 5, None),
                code::UNKNOWN_TOPIC_OR_PARTITION,
            ),
            (
                create_partitions(&other, 4, Some(vec![vec![0]])),
                code::INVALID_REPLICA_ASSIGNMENT,
            ),
            (
                create_partitions(&other, 3, Some(vec![vec![1]])),
                code::INVALID_REPLICA_ASSIGNMENT,
            ),
            (
                create_partitions(&other, 3, Some(vec![vec![0, 0]])),
                code::INVALID_REPLICA_ASSIGNMENT,
            ),
        ];
        for (t, want) in cases {
            let req = CreatePartitionsRequest::default()
                .with_topics(vec![t])
                .with_timeout_ms(10_000);
            let r = c.send(&req, v);
            assert_eq!(
                r.results[0].error_code, want,
                "v{v}: {:?}",
                r.results[0].error_message
            );
            // Kafka's controller answers an unknown topic without a message
            // (`new ApiError(UNKNOWN_TOPIC_OR_PARTITION)`), every other refusal with one.
            assert_eq!(
                r.results[0].error_message.is_some(),
                want != code::UNKNOWN_TOPIC_OR_PARTITION,
                "v{v}: {:?}",
                r.results[0].error_message
            );
        }
        let dup = CreatePartitionsRequest::default()
            .with_topics(vec![
                create_partitions(&other, 5, None),
                create_partitions(&other, 6, None),
            ])
            .with_timeout_ms(10_000);
        let r = c.send(&dup, v);
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.results[0].error_code, code::INVALID_REQUEST);
        assert_eq!(partition_count(&mut c, &other), 2);
    }
    // New partitions survive a restart and keep their data.
    let topic = unique_topic("adm-cp-restart");
    let t = create_topic(&mut c, &topic, 1);
    let req = CreatePartitionsRequest::default()
        .with_topics(vec![create_partitions(&topic, 4, None)])
        .with_timeout_ms(10_000);
    assert_eq!(c.send(&req, 3).results[0].error_code, code::NONE);
    produce_ok(&mut c, &t, 3, &recs("p3", 3));
    broker.restart();
    let mut c = broker.client();
    assert_eq!(partition_count(&mut c, &topic), 4);
    let d = fetch(&mut c, &t, 3, 0, 12);
    assert_eq!(
        decode_records(d.records.as_ref().expect("records")).len(),
        3
    );
}

fn delete_records(topic: &str, parts: &[(i32, i64)]) -> DeleteRecordsRequest {
    DeleteRecordsRequest::default()
        .with_topics(vec![DeleteRecordsTopic::default()
            .with_name(name(topic))
            .with_partitions(
                parts
                    .iter()
                    .map(|(p, o)| {
                        DeleteRecordsPartition::default()
                            .with_partition_index(*p)
                            .with_offset(*o)
                    })
                    .collect(),
            )])
        .with_timeout_ms(10_000)
}

#[test]
fn delete_records_every_version() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::DeleteRecords) {
        let topic = unique_topic("adm-dr");
        let t = create_topic(&mut c, &topic, 2);
        let records = recs("dr", 5);
        produce_ok(&mut c, &t, 0, &records);
        produce_ok(&mut c, &t, 0, &recs("dr2", 5));
        produce_ok(&mut c, &t, 1, &recs("p1", 4));
        // Offset 3 is in the middle of the first batch.
        let r = c.send(&delete_records(&topic, &[(0, 3), (1, -1), (7, 0)]), v);
        let parts = &r.topics[0].partitions;
        assert_eq!(
            (parts[0].error_code, parts[0].low_watermark),
            (code::NONE, 3),
            "v{v}"
        );
        assert_eq!(
            (parts[1].error_code, parts[1].low_watermark),
            (code::NONE, 4)
        );
        assert_eq!(parts[2].error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
        assert_eq!(list_offset(&mut c, &topic, 0, -2, 7).offset, 3);
        let below = fetch(&mut c, &t, 0, 2, 12);
        assert_eq!(below.error_code, code::OFFSET_OUT_OF_RANGE);
        assert_eq!(below.log_start_offset, -1);
        let at = fetch(&mut c, &t, 0, 3, 12);
        assert_eq!(at.error_code, code::NONE);
        assert_eq!(at.log_start_offset, 3);
        let got: Vec<i64> = decode_records(at.records.as_ref().expect("records"))
            .iter()
            .map(|r| r.offset)
            .filter(|o| *o >= 3)
            .collect();
        assert_eq!(got, (3..10).collect::<Vec<_>>());
        let r = c.send(&delete_records(&topic, &[(0, 11)]), v);
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            code::OFFSET_OUT_OF_RANGE
        );
        let r = c.send(&delete_records(&topic, &[(0, 1)]), v);
        assert_eq!(
            r.topics[0].partitions[0].low_watermark, 3,
            "never moves back"
        );
        let r = c.send(&delete_records("nope", &[(0, 1)]), v);
        assert_eq!(
            r.topics[0].partitions[0].error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION
        );
    }
    // Compacted topics refuse it (POLICY_VIOLATION).
    let topic = unique_topic("adm-dr-compact");
    create_topic_with(&mut c, &topic, 1, &[("cleanup.policy", "compact")]);
    let r = c.send(&delete_records(&topic, &[(0, 0)]), 2);
    assert_eq!(r.topics[0].partitions[0].error_code, 44);
    // The log start offset survives a restart.
    let topic = unique_topic("adm-dr-restart");
    let t = create_topic(&mut c, &topic, 1);
    produce_ok(&mut c, &t, 0, &recs("r", 6));
    assert_eq!(
        c.send(&delete_records(&topic, &[(0, 4)]), 2).topics[0].partitions[0].low_watermark,
        4
    );
    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(list_offset(&mut c, &topic, 0, -2, 7).offset, 4);
}

#[test]
fn describe_log_dirs_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("adm-logdirs");
    let t = create_topic(&mut c, &topic, 2);
    produce_ok(&mut c, &t, 1, &recs("ld", 10));
    let data_dir = std::fs::canonicalize(broker.data_dir()).expect("data dir");
    for v in versions(ApiKey::DescribeLogDirs) {
        for topics in [
            None,
            Some(vec![DescribableLogDirTopic::default()
                .with_topic(name(&topic))
                .with_partitions(vec![1, 9])]),
        ] {
            let all = topics.is_none();
            let r = c.send(&DescribeLogDirsRequest::default().with_topics(topics), v);
            assert_eq!(r.error_code, code::NONE);
            assert_eq!(r.results.len(), 1, "v{v}");
            let d = &r.results[0];
            assert_eq!(d.error_code, code::NONE);
            assert_eq!(d.log_dir.as_str(), data_dir.to_string_lossy());
            if v >= 4 {
                assert!(
                    d.total_bytes > 0 && d.usable_bytes > 0 && d.usable_bytes <= d.total_bytes,
                    "{} {}",
                    d.total_bytes,
                    d.usable_bytes
                );
            } else {
                assert_eq!((d.total_bytes, d.usable_bytes), (-1, -1));
            }
            let entry = d
                .topics
                .iter()
                .find(|x| x.name.as_str() == topic)
                .expect("our topic");
            let parts: Vec<(i32, i64)> = entry
                .partitions
                .iter()
                .map(|p| (p.partition_index, p.partition_size))
                .collect();
            let size1 = std::fs::metadata(
                data_dir
                    .join(format!("{topic}-1"))
                    .join("00000000000000000000.log"),
            )
            .expect("segment")
            .len() as i64;
            if all {
                assert_eq!(parts, vec![(0, 0), (1, size1)], "v{v}");
            } else {
                assert_eq!(parts, vec![(1, size1)], "v{v}");
                assert_eq!(d.topics.len(), 1);
            }
            assert!(entry
                .partitions
                .iter()
                .all(|p| p.offset_lag == 0 && !p.is_future_key));
        }
    }
}

#[test]
fn describe_topic_partitions_pages_with_a_cursor() {
    let broker = Broker::start();
    let mut c = broker.client();
    let a = create_topic(&mut c, "dtp-a", 3);
    let b = create_topic(&mut c, "dtp-b", 2);
    create_topic(&mut c, "dtp-c", 1);
    let req = |topics: &[&str], limit: i32, cursor: Option<(&str, i32)>| {
        DescribeTopicPartitionsRequest::default()
            .with_topics(
                topics
                    .iter()
                    .map(|t| TopicRequest::default().with_name(name(t)))
                    .collect(),
            )
            .with_response_partition_limit(limit)
            .with_cursor(cursor.map(|(t, p)| {
                Cursor::default()
                    .with_topic_name(name(t))
                    .with_partition_index(p)
            }))
    };
    let summary = |r: &DescribeTopicPartitionsResponse| -> Vec<(String, i16, Vec<i32>)> {
        r.topics
            .iter()
            .map(|t| {
                (
                    t.name.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                    t.error_code,
                    t.partitions.iter().map(|p| p.partition_index).collect(),
                )
            })
            .collect()
    };
    // All topics, two partitions a page.
    let r1 = c.send(&req(&[], 2, None), 0);
    assert_eq!(summary(&r1), vec![("dtp-a".into(), 0, vec![0, 1])]);
    let cur = r1.next_cursor.as_ref().expect("cursor");
    assert_eq!((cur.topic_name.as_str(), cur.partition_index), ("dtp-a", 2));
    assert_eq!(r1.topics[0].topic_id, a.id);
    let p = &r1.topics[0].partitions[0];
    assert_eq!((p.leader_id.0, p.leader_epoch), (0, 0));
    assert_eq!(p.replica_nodes, vec![BrokerId(0)]);
    assert_eq!(p.isr_nodes, vec![BrokerId(0)]);
    assert!(p.offline_replicas.is_empty());
    let r2 = c.send(&req(&[], 2, Some(("dtp-a", 2))), 0);
    assert_eq!(
        summary(&r2),
        vec![("dtp-a".into(), 0, vec![2]), ("dtp-b".into(), 0, vec![0])]
    );
    let r3 = c.send(&req(&[], 2, Some(("dtp-b", 1))), 0);
    assert_eq!(
        summary(&r3),
        vec![("dtp-b".into(), 0, vec![1]), ("dtp-c".into(), 0, vec![0])]
    );
    assert!(r3.next_cursor.is_none());
    assert_eq!(r3.topics[0].topic_id, b.id);
    // Named topics (sorted), unknown ones with an error, the limit at a topic boundary.
    let r = c.send(&req(&["dtp-c", "missing", "dtp-b"], 4, None), 0);
    assert_eq!(
        summary(&r),
        vec![
            ("dtp-b".into(), 0, vec![0, 1]),
            ("dtp-c".into(), 0, vec![0]),
            ("missing".into(), code::UNKNOWN_TOPIC_OR_PARTITION, vec![])
        ]
    );
    assert!(r.next_cursor.is_none());
    let r = c.send(&req(&["dtp-a", "dtp-b"], 3, None), 0);
    assert_eq!(summary(&r), vec![("dtp-a".into(), 0, vec![0, 1, 2])]);
    let cur = r.next_cursor.expect("cursor at the next topic");
    assert_eq!((cur.topic_name.as_str(), cur.partition_index), ("dtp-b", 0));
    // A cursor naming a topic outside the list is an invalid request.
    let r = c.send(&req(&["dtp-a"], 3, Some(("dtp-b", 0))), 0);
    assert_eq!(
        summary(&r),
        vec![("dtp-a".into(), code::INVALID_REQUEST, vec![])]
    );
}

#[test]
fn elect_leaders_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("adm-elect");
    create_topic(&mut c, &topic, 2);
    for v in versions(ApiKey::ElectLeaders) {
        let req = ElectLeadersRequest::default()
            .with_election_type(0)
            .with_topic_partitions(Some(vec![
                TopicPartitions::default()
                    .with_topic(name(&topic))
                    .with_partitions(vec![0, 1, 5]),
                TopicPartitions::default()
                    .with_topic(name("no-such"))
                    .with_partitions(vec![0]),
            ]))
            .with_timeout_ms(10_000);
        let r = c.send(&req, v);
        assert_eq!(r.error_code, code::NONE);
        let got: Vec<(String, i32, i16)> = r
            .replica_election_results
            .iter()
            .flat_map(|t| {
                t.partition_result
                    .iter()
                    .map(move |p| (t.topic.to_string(), p.partition_id, p.error_code))
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (topic.clone(), 0, 84),
                (topic.clone(), 1, 84),
                (topic.clone(), 5, code::UNKNOWN_TOPIC_OR_PARTITION),
                ("no-such".into(), 0, code::UNKNOWN_TOPIC_OR_PARTITION),
            ],
            "v{v}"
        );
        // All partitions: none needed an election, so none are listed.
        let r = c.send(
            &ElectLeadersRequest::default()
                .with_topic_partitions(None)
                .with_timeout_ms(10_000),
            v,
        );
        assert!(r
            .replica_election_results
            .iter()
            .all(|t| t.partition_result.is_empty()));
        assert!(r
            .replica_election_results
            .iter()
            .any(|t| t.topic.as_str() == topic));
    }
}

#[test]
fn list_partition_reassignments_is_empty() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("adm-reassign");
    create_topic(&mut c, &topic, 2);
    for topics in [
        None,
        Some(vec![ListPartitionReassignmentsTopics::default()
            .with_name(name(&topic))
            .with_partition_indexes(vec![0, 1])]),
    ] {
        let r = c.send(
            &ListPartitionReassignmentsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(topics),
            0,
        );
        assert_eq!(r.error_code, code::NONE);
        assert!(r.error_message.is_none());
        assert!(r.topics.is_empty());
    }
}

#[test]
fn describe_producers_lists_idempotent_producers() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("adm-producers");
    let t = create_topic(&mut c, &topic, 2);
    let (pid, epoch) = init_producer_id(&mut c);
    let b = idempotent_batch(
        &recs("idem", 3),
        ProducerFields {
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: 0,
        },
    );
    assert_eq!(produce(&mut c, &t, 0, b, 9).error_code, code::NONE);
    produce_ok(&mut c, &t, 1, &recs("plain", 1));
    let req = DescribeProducersRequest::default().with_topics(vec![ProducersTopic::default()
        .with_name(name(&topic))
        .with_partition_indexes(vec![0, 1, 4])]);
    let r = c.send(&req, 0);
    let parts = &r.topics[0].partitions;
    assert_eq!(parts[0].error_code, code::NONE);
    assert_eq!(parts[0].active_producers.len(), 1);
    let p = &parts[0].active_producers[0];
    assert_eq!(
        (p.producer_id.0, p.producer_epoch, p.last_sequence),
        (pid, epoch as i32, 2)
    );
    assert!(p.last_timestamp > 0);
    assert_eq!(p.current_txn_start_offset, -1);
    assert_eq!(parts[1].error_code, code::NONE);
    assert!(parts[1].active_producers.is_empty());
    assert_eq!(parts[2].error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
}
