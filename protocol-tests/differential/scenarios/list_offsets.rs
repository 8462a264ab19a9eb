//! ListOffsets at every version both brokers serve: every special timestamp (-1 latest, -2
//! earliest, -3 max timestamp (KIP-734, v7+), -4 earliest local (KIP-405, v8+), -5 earliest
//! pending upload (KIP-1023, v9+)), lookups by timestamp before, between, on and after the
//! records, after DeleteRecords, unknown topics and partitions.

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::*;

use super::super::support::batches::{batch, rec};
use super::super::support::requests::{name, produce_request};
use super::super::Ctx;
use super::data_support::*;
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[("data/list_offsets_specs", specs)];

/// A ListOffsets request (`isolation` 1 needs v2+).
pub fn list_request(topic: &str, partitions: &[(i32, i64)], isolation: i8) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_isolation_level(isolation)
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(name(topic))
            .with_partitions(
                partitions
                    .iter()
                    .map(|&(p, ts)| {
                        ListOffsetsPartition::default()
                            .with_partition_index(p)
                            .with_timestamp(ts)
                            .with_current_leader_epoch(-1)
                    })
                    .collect(),
            )])
}

fn specs(ctx: &mut Ctx) {
    // retention.ms=-1: the records carry 1970s timestamps.
    let t = create(ctx, "dt-list-offsets", 3, &[("retention.ms", "-1")]);
    // Partition 0: offsets 0-1 at 1000/2000, 2-3 at 5000/3000 (the max is not last), 4 at 4000.
    // Partition 1: empty. Partition 2: four records, the first two deleted.
    for records in [
        vec![rec("a", "a").at(1000), rec("b", "b").at(2000)],
        vec![rec("c", "c").at(5000), rec("d", "d").at(3000)],
        vec![rec("e", "e").at(4000)],
    ] {
        let b = batch(&records);
        each_quiet(ctx, 9, |s| produce_request(&t.at(s), 0, b.clone(), -1));
    }
    let b = batch(
        &(0..4)
            .map(|i| rec("k", "v").at(1000 * i + 1000))
            .collect::<Vec<_>>(),
    );
    each_quiet(ctx, 9, |s| produce_request(&t.at(s), 2, b.clone(), -1));
    let del = DeleteRecordsRequest::default()
        .with_topics(vec![delete_records_request::DeleteRecordsTopic::default()
            .with_name(name(&t.name))
            .with_partitions(vec![
                delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(2)
                    .with_offset(2),
            ])])
        .with_timeout_ms(30_000);
    ctx.send("delete_records", &del, 2);

    let timestamps = [
        -1i64, -2, -3, -4, -5, -6, 0, 999, 1000, 1500, 2000, 3500, 5000, 5001,
    ];
    for v in ctx.versions(ApiKey::ListOffsets) {
        for ts in timestamps {
            ctx.send(
                &format!("ts_{ts}"),
                &list_request(&t.name, &[(0, ts), (1, ts), (2, ts)], 0),
                v,
            );
        }
        if v >= 2 {
            ctx.send(
                "read_committed_latest",
                &list_request(&t.name, &[(0, -1)], 1),
                v,
            );
        }
        ctx.send(
            "unknown_partition",
            &list_request(&t.name, &[(9, -1)], 0),
            v,
        );
        ctx.send(
            "unknown_topic",
            &list_request("dt-list-offsets-no-such-topic", &[(0, -1)], 0),
            v,
        );
        ctx.send(
            "duplicate_partition",
            &list_request(&t.name, &[(0, -1), (0, -2)], 0),
            v,
        );
        ctx.send(
            "leader_epoch_fenced",
            &{
                let mut r = list_request(&t.name, &[(0, -1)], 0);
                r.topics[0].partitions[0].current_leader_epoch = 5;
                r
            },
            v,
        );
    }
}
