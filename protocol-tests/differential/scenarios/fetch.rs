//! Fetch edge cases at every version both brokers serve: offsets out of range, isolation levels
//! with open and aborted transactions (last_stable_offset, aborted_transactions), max_bytes and
//! partition_max_bytes below the first batch (KIP-74: one whole batch still comes back), fetch
//! sessions (KIP-227), unknown topic ids (v13+), min_bytes with data present. Records are
//! compared byte for byte (`data_support::scrub_records`).

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::*;

use super::super::support::batches::{batch, recs};
use super::super::support::requests::{fetch_request, name, produce_request};
use super::super::{Ctx, KAFKA, KLAMM};
use super::data_support::*;
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[
    ("data/fetch_offsets_and_sizes", offsets_and_sizes),
    ("data/fetch_sessions", sessions),
    ("data/fetch_unknown", unknown),
];

/// Produces `batches` batches of `n` records each to every partition (uncompared; the same
/// bytes to both brokers).
pub fn fill(ctx: &mut Ctx, t: &Topic, partitions: i32, batches: usize, n: usize) {
    for p in 0..partitions {
        for i in 0..batches {
            let b = batch(&recs(&format!("{}-{p}-{i}", t.name), n));
            let rs = each_quiet(ctx, 9, |s| produce_request(&t.at(s), p, b.clone(), -1));
            for r in rs {
                assert_eq!(r.responses[0].partition_responses[0].error_code, 0, "{r:?}");
            }
        }
    }
}

fn fetch_at(t: &Topic, side: usize, partition: i32, offset: i64) -> FetchRequest {
    fetch_request(&t.at(side), partition, offset)
}

/// Offsets below the log start (after DeleteRecords) and above the end, at the end exactly,
/// in the middle of a batch; max_bytes and partition_max_bytes smaller than a batch; two
/// partitions where the first fills max_bytes; min_bytes above what is there with a short wait.
fn offsets_and_sizes(ctx: &mut Ctx) {
    let t = create(ctx, "dt-fetch-offsets", 2, &[]);
    fill(ctx, &t, 2, 3, 4);
    // Partition 0 starts at 2 after DeleteRecords.
    let del = DeleteRecordsRequest::default()
        .with_topics(vec![delete_records_request::DeleteRecordsTopic::default()
            .with_name(name(&t.name))
            .with_partitions(vec![
                delete_records_request::DeleteRecordsPartition::default()
                    .with_partition_index(0)
                    .with_offset(2),
            ])])
        .with_timeout_ms(30_000);
    ctx.send("delete_records", &del, 2);
    for v in ctx.versions(ApiKey::Fetch) {
        for (what, offset) in [
            ("below_start", 0i64),
            ("at_start", 2),
            ("mid_batch", 5),
            ("at_end", 12),
            ("above_end", 13),
            ("far_above_end", 1_000),
            ("negative", -1),
        ] {
            fetch_each(ctx, what, v, |s| fetch_at(&t, s, 0, offset));
        }
        fetch_each(ctx, "max_bytes_1", v, |s| {
            fetch_at(&t, s, 1, 0).with_max_bytes(1)
        });
        fetch_each(ctx, "partition_max_bytes_1", v, |s| {
            let mut r = fetch_at(&t, s, 1, 0);
            r.topics[0].partitions[0].partition_max_bytes = 1;
            r
        });
        fetch_each(ctx, "two_partitions_max_bytes_100", v, |s| {
            let mut r = fetch_at(&t, s, 1, 0).with_max_bytes(100);
            r.topics[0].partitions.push(
                FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(2)
                    .with_partition_max_bytes(1024 * 1024),
            );
            r
        });
        fetch_each(ctx, "two_partitions_partition_max_bytes_1", v, |s| {
            let mut r = fetch_at(&t, s, 1, 4);
            r.topics[0].partitions[0].partition_max_bytes = 1;
            r.topics[0].partitions.push(
                FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(2)
                    .with_partition_max_bytes(1),
            );
            r
        });
        fetch_each(ctx, "min_bytes_with_data", v, |s| {
            fetch_at(&t, s, 1, 0)
                .with_min_bytes(1)
                .with_max_wait_ms(5_000)
        });
        fetch_each(ctx, "min_bytes_above_data_short_wait", v, |s| {
            fetch_at(&t, s, 1, 8)
                .with_min_bytes(10_000_000)
                .with_max_wait_ms(10)
        });
        fetch_each(ctx, "min_bytes_at_end_short_wait", v, |s| {
            fetch_at(&t, s, 1, 12)
                .with_min_bytes(1)
                .with_max_wait_ms(10)
        });
        fetch_each(ctx, "read_committed_no_txn", v, |s| {
            fetch_at(&t, s, 1, 0).with_isolation_level(1)
        });
    }
}

/// KIP-227 fetch sessions (v7+): a full request with epoch 0 opens a session; an incremental
/// one with the next epoch answers only changed partitions; a wrong epoch, an unknown session
/// id, an incremental request without a session and a closing request (epoch -1) get Kafka's
/// errors; forgotten topics drop partitions.
fn sessions(ctx: &mut Ctx) {
    let t = create(ctx, "dt-fetch-sessions", 2, &[]);
    fill(ctx, &t, 2, 1, 2);
    for v in ctx.versions(ApiKey::Fetch).into_iter().filter(|v| *v >= 7) {
        let both = |s: usize, session_id: i32, epoch: i32| {
            let mut r = fetch_at(&t, s, 0, 0)
                .with_session_id(session_id)
                .with_session_epoch(epoch);
            r.topics[0].partitions.push(
                FetchPartition::default()
                    .with_partition(1)
                    .with_fetch_offset(0)
                    .with_partition_max_bytes(1024 * 1024),
            );
            r
        };
        let opened = fetch_each(ctx, "open", v, |s| both(s, 0, 0));
        let ids = [opened[KAFKA].session_id, opened[KLAMM].session_id];
        let incremental = |s: usize, epoch: i32| {
            FetchRequest::default()
                .with_max_wait_ms(0)
                .with_min_bytes(0)
                .with_max_bytes(50 * 1024 * 1024)
                .with_session_id(ids[s])
                .with_session_epoch(epoch)
        };
        fetch_each(ctx, "incremental_nothing_new", v, |s| incremental(s, 1));
        // Partition 0 moves on: only it is answered.
        fetch_each(ctx, "incremental_move_p0", v, |s| {
            incremental(s, 2).with_topics(vec![FetchTopic::default()
                .with_topic(name(&t.name))
                .with_topic_id(t.ids[s])
                .with_partitions(vec![FetchPartition::default()
                    .with_partition(0)
                    .with_fetch_offset(2)
                    .with_partition_max_bytes(1024 * 1024)])])
        });
        fetch_each(ctx, "wrong_epoch", v, |s| incremental(s, 7));
        fetch_each(ctx, "forget_p1", v, |s| {
            incremental(s, 3).with_forgotten_topics_data(vec![ForgottenTopic::default()
                .with_topic(name(&t.name))
                .with_topic_id(t.ids[s])
                .with_partitions(vec![1])])
        });
        fetch_each(ctx, "after_forget", v, |s| incremental(s, 4));
        fetch_each(ctx, "unknown_session", v, |s| {
            incremental(s, 1).with_session_id(ids[s].wrapping_add(12_345))
        });
        fetch_each(ctx, "incremental_without_session", v, |s| {
            incremental(s, 1).with_session_id(0)
        });
        fetch_each(ctx, "close", v, |s| incremental(s, -1));
        fetch_each(ctx, "after_close", v, |s| incremental(s, 5));
        fetch_each(ctx, "sessionless", v, |s| both(s, 0, -1));
    }
}

/// Unknown topics (by name below v13, by id from v13) and partitions; isolation level 2.
fn unknown(ctx: &mut Ctx) {
    let t = create(ctx, "dt-fetch-unknown", 1, &[]);
    let nobody = unknown_topic("dt-fetch-no-such-topic");
    for v in ctx.versions(ApiKey::Fetch) {
        fetch_each(ctx, "unknown_topic", v, |s| fetch_at(&nobody, s, 0, 0));
        fetch_each(ctx, "unknown_partition", v, |s| fetch_at(&t, s, 5, 0));
        fetch_each(ctx, "known_and_unknown", v, |s| {
            let mut r = fetch_at(&t, s, 0, 0);
            r.topics.push(fetch_at(&nobody, s, 0, 0).topics.remove(0));
            r
        });
    }
}
