//! ListOffsets (key 2), v1-10: EARLIEST, LATEST, MAX_TIMESTAMP (KIP-734), EARLIEST_LOCAL and
//! LATEST_TIERED (KIP-405), lookups by timestamp, and the per-partition errors.

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, ListOffsetsRequest};

use crate::support::*;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;

fn list_versions() -> std::ops::RangeInclusive<i16> {
    versions(ApiKey::ListOffsets)
}

/// Produces offsets 0-6 with timestamps (relative to `base`):
/// batch 0-2: 0, 10, 20; batch 3-5: 30, 100, 40; batch 6: 60.
fn timed_log(c: &mut Client, topic: &TopicRef, base: i64) {
    let at = |t: i64, i: usize| rec(&format!("k{i}"), &format!("v{i}")).at(base + t);
    assert_eq!(
        produce_ok(c, topic, 0, &[at(0, 0), at(10, 1), at(20, 2)]),
        0
    );
    assert_eq!(
        produce_ok(c, topic, 0, &[at(30, 3), at(100, 4), at(40, 5)]),
        3
    );
    assert_eq!(produce_ok(c, topic, 0, &[at(60, 6)]), 6);
}

#[test]
fn special_timestamps_at_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-special", 1);
    let base = now_ms() - 60_000;
    timed_log(&mut c, &topic, base);
    for v in list_versions() {
        let check = |c: &mut Client, ts: i64, want_ts: i64, want_offset: i64| {
            let p = list_offset(c, &topic.name, 0, ts, v);
            assert_eq!(p.partition_index, 0);
            assert_eq!(p.error_code, code::NONE, "ListOffsets v{v} timestamp {ts}");
            assert_eq!(
                (p.timestamp, p.offset),
                (want_ts, want_offset),
                "ListOffsets v{v} timestamp {ts}"
            );
            if v >= 4 {
                let epoch = if want_offset >= 0 { 0 } else { -1 };
                assert_eq!(
                    p.leader_epoch, epoch,
                    "ListOffsets v{v} timestamp {ts} leader epoch"
                );
            }
        };
        check(&mut c, EARLIEST, -1, 0);
        check(&mut c, LATEST, -1, 7);
        if v >= 7 {
            // KIP-734: the record with the largest timestamp, inside the second batch.
            check(&mut c, MAX_TIMESTAMP, base + 100, 4);
        }
        if v >= 8 {
            check(&mut c, EARLIEST_LOCAL, -1, 0);
        }
        if v >= 9 {
            // No tiered storage: no tiered offset.
            check(&mut c, LATEST_TIERED, -1, -1);
        }
    }
}

#[test]
fn lookup_by_timestamp() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-by-time", 1);
    let base = now_ms() - 60_000;
    timed_log(&mut c, &topic, base);
    for v in list_versions() {
        // (target, expected (timestamp, offset)): the first record in offset order whose
        // timestamp is >= the target.
        for (target, want) in [
            (base - 1000, (base, 0)),
            (base, (base, 0)),
            (base + 5, (base + 10, 1)),
            (base + 10, (base + 10, 1)),
            (base + 25, (base + 30, 3)),
            (base + 35, (base + 100, 4)), // inside the multi-record batch
            (base + 55, (base + 100, 4)), // offset 4 (100) comes before offset 6 (60)
            (base + 100, (base + 100, 4)),
        ] {
            let p = list_offset(&mut c, &topic.name, 0, target, v);
            assert_eq!(
                p.error_code,
                code::NONE,
                "ListOffsets v{v} target base+{}",
                target - base
            );
            assert_eq!(
                (p.timestamp, p.offset),
                want,
                "ListOffsets v{v} target base+{}",
                target - base
            );
            if v >= 4 {
                assert_eq!(p.leader_epoch, 0);
            }
        }
        let p = list_offset(&mut c, &topic.name, 0, base + 101, v);
        assert_eq!(p.error_code, code::NONE);
        assert_eq!(
            (p.timestamp, p.offset),
            (-1, -1),
            "ListOffsets v{v}: no record that late"
        );
        if v >= 4 {
            assert_eq!(p.leader_epoch, -1);
        }
    }
}

#[test]
fn empty_partition() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-empty", 1);
    for v in list_versions() {
        for ts in [EARLIEST, LATEST] {
            let p = list_offset(&mut c, &topic.name, 0, ts, v);
            assert_eq!(
                (p.error_code, p.offset),
                (code::NONE, 0),
                "ListOffsets v{v} ts {ts}"
            );
        }
        let p = list_offset(&mut c, &topic.name, 0, now_ms() - 1000, v);
        assert_eq!(
            (p.error_code, p.timestamp, p.offset),
            (code::NONE, -1, -1),
            "ListOffsets v{v}"
        );
        if v >= 7 {
            let p = list_offset(&mut c, &topic.name, 0, MAX_TIMESTAMP, v);
            assert_eq!(
                (p.error_code, p.timestamp, p.offset),
                (code::NONE, -1, -1),
                "ListOffsets v{v} max"
            );
        }
    }
}

#[test]
fn unknown_topic_and_partition() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-one", 1);
    for v in list_versions() {
        let p = list_offset(&mut c, "list-no-such-topic", 0, LATEST, v);
        assert_eq!(
            p.error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION,
            "ListOffsets v{v} unknown topic"
        );
        assert_eq!(p.offset, -1);
        let p = list_offset(&mut c, &topic.name, 4, LATEST, v);
        assert_eq!(
            p.error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION,
            "ListOffsets v{v} unknown partition"
        );
    }
}

#[test]
fn current_leader_epoch_newer_than_the_broker_s() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-epoch", 1);
    produce_ok(&mut c, &topic, 0, &recs("x", 2));
    for v in 4..=*list_versions().end() {
        let mut req = list_offsets_request(&topic.name, 0, LATEST);
        req.topics[0].partitions[0].current_leader_epoch = 5;
        let resp = c.send(&req, v);
        let p = &resp.topics[0].partitions[0];
        assert_eq!(p.error_code, code::UNKNOWN_LEADER_EPOCH, "ListOffsets v{v}");
        req.topics[0].partitions[0].current_leader_epoch = 0;
        let resp = c.send(&req, v);
        let p = &resp.topics[0].partitions[0];
        assert_eq!(
            (p.error_code, p.offset),
            (code::NONE, 2),
            "ListOffsets v{v} current epoch"
        );
    }
}

#[test]
fn duplicate_partitions_are_invalid() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-dups", 2);
    produce_ok(&mut c, &topic, 1, &recs("x", 3));
    for v in list_versions() {
        let part = |p: i32| {
            ListOffsetsPartition::default()
                .with_partition_index(p)
                .with_timestamp(LATEST)
        };
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![ListOffsetsTopic::default()
                .with_name(name(&topic.name))
                .with_partitions(vec![part(0), part(1), part(0)])]);
        let resp = c.send(&req, v);
        let parts: Vec<(i32, i16)> = resp.topics[0]
            .partitions
            .iter()
            .map(|p| (p.partition_index, p.error_code))
            .collect();
        assert!(
            parts.contains(&(1, code::NONE)),
            "ListOffsets v{v}: {parts:?}"
        );
        let dup: Vec<i16> = parts
            .iter()
            .filter(|(p, _)| *p == 0)
            .map(|(_, e)| *e)
            .collect();
        assert!(
            !dup.is_empty() && dup.iter().all(|e| *e == code::INVALID_REQUEST),
            "ListOffsets v{v}: {parts:?}"
        );
        let p1 = resp.topics[0]
            .partitions
            .iter()
            .find(|p| p.partition_index == 1)
            .expect("p1");
        assert_eq!(p1.offset, 3);
    }
}

#[test]
fn offsets_survive_restart_and_kill_9() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "list-restart", 1);
    let base = now_ms() - 60_000;
    timed_log(&mut c, &topic, base);
    for crash in [false, true] {
        if crash {
            broker.kill9_and_restart();
        } else {
            broker.restart();
        }
        let mut c = broker.client();
        let p = list_offset(&mut c, &topic.name, 0, LATEST, 10);
        assert_eq!(p.offset, 7, "LATEST after restart (crash: {crash})");
        let p = list_offset(&mut c, &topic.name, 0, MAX_TIMESTAMP, 10);
        assert_eq!(
            (p.timestamp, p.offset),
            (base + 100, 4),
            "MAX_TIMESTAMP after restart (crash: {crash})"
        );
        let p = list_offset(&mut c, &topic.name, 0, base + 35, 10);
        assert_eq!(p.offset, 4, "by timestamp after restart (crash: {crash})");
    }
}
