//! Cluster and log admin: DeleteRecords (below the start, above the high watermark, -1 for the
//! high watermark, unknown partitions and topics), DescribeCluster and DescribeLogDirs, at every
//! version both brokers serve.

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::{name, produce_request};
use crate::support::{batch, rec, TopicRef};

pub const SCENARIOS: &[Scenario] = &[
    ("admin/delete_records", delete_records),
    ("admin/describe_cluster", describe_cluster),
    ("admin/describe_log_dirs", describe_log_dirs),
];

fn delete_req(topic: &str, parts: &[(i32, i64)]) -> DeleteRecordsRequest {
    DeleteRecordsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![delete_records_request::DeleteRecordsTopic::default()
            .with_name(name(topic))
            .with_partitions(
                parts
                    .iter()
                    .map(|(p, o)| {
                        delete_records_request::DeleteRecordsPartition::default()
                            .with_partition_index(*p)
                            .with_offset(*o)
                    })
                    .collect(),
            )])
}

/// Produces a set-up batch to both brokers (Produce v9, not compared). Kafka's replica manager
/// may not lead a partition yet for a moment after Metadata names its leader, answering
/// NOT_LEADER_OR_FOLLOWER (a retriable error every client retries); so does the set-up here.
fn produce_set_up(ctx: &mut Ctx, req: &ProduceRequest) {
    for (side, c) in ctx.conns.iter_mut().enumerate() {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let r = c.send(req, 9);
            let code = r.responses[0].partition_responses[0].error_code;
            if code == 0 {
                break;
            }
            assert!(
                code == 6 && std::time::Instant::now() < deadline,
                "{}: set-up produce: {r:?}",
                crate::SIDES[side]
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// Ten records in partition 0, then DeleteRecords at every version: to 3, to 2 (below the new
/// start: no change), past the high watermark, -1 (the high watermark), an unknown partition
/// and an unknown topic; ListOffsets(earliest) after each shows the log start offset.
fn delete_records(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::DeleteRecords) {
        let t = format!("dt-delrec-v{v}");
        super::create_topic(ctx, &t, 2, &[]);
        let topic = TopicRef {
            name: t.clone(),
            id: uuid::Uuid::nil(),
        };
        let recs: Vec<_> = (0..10).map(|i| rec(&format!("k{i}"), "v")).collect();
        produce_set_up(ctx, &produce_request(&topic, 0, batch(&recs), -1));
        for (step, parts) in [
            ("to_3", vec![(0, 3)]),
            ("below_start", vec![(0, 2)]),
            ("above_hw", vec![(0, 11)]),
            ("hw", vec![(0, -1)]),
            ("empty_partition", vec![(1, 0)]),
            ("empty_partition_above", vec![(1, 1)]),
            ("bad_offset", vec![(0, -5)]),
            ("unknown_partition", vec![(7, 0)]),
        ] {
            ctx.send(step, &delete_req(&t, &parts), v);
        }
        ctx.send(
            "unknown_topic",
            &delete_req("dt-delrec-no-such-topic", &[(0, 0)]),
            v,
        );
        ctx.send(
            "earliest",
            &crate::support::requests::list_offsets_request(&t, 0, -2),
            9,
        );
    }
}

/// DescribeCluster at every version, with and without the authorized operations, for the
/// brokers endpoint type (v1+) and the controllers one (KIP-919: answered by controllers only).
fn describe_cluster(ctx: &mut Ctx) {
    ctx.each_version("plain", |_| DescribeClusterRequest::default());
    ctx.each_version("authorized_operations", |_| {
        DescribeClusterRequest::default().with_include_cluster_authorized_operations(true)
    });
    ctx.each_version("fenced", |v| {
        DescribeClusterRequest::default().with_include_fenced_brokers(v >= 2)
    });
    for v in ctx.versions(ApiKey::DescribeCluster) {
        if v >= 1 {
            ctx.send(
                "controllers_endpoint",
                &DescribeClusterRequest::default().with_endpoint_type(2),
                v,
            );
            ctx.send(
                "bad_endpoint_type",
                &DescribeClusterRequest::default().with_endpoint_type(9),
                v,
            );
        }
    }
}

/// DescribeLogDirs of one topic's partitions and of an unknown topic (paths and sizes differ
/// between the brokers; the entries compare the shape and error codes).
fn describe_log_dirs(ctx: &mut Ctx) {
    super::create_topic(ctx, "dt-logdirs", 2, &[]);
    ctx.each_version("topic", |_| {
        DescribeLogDirsRequest::default().with_topics(Some(vec![
            describe_log_dirs_request::DescribableLogDirTopic::default()
                .with_topic(name("dt-logdirs"))
                .with_partitions(vec![0, 1, 5]),
            describe_log_dirs_request::DescribableLogDirTopic::default()
                .with_topic(name("dt-logdirs-no-such-topic"))
                .with_partitions(vec![0]),
        ]))
    });
}
