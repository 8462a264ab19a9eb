//! Fetch (key 1), v4-18: the stored batches exactly as produced, offsets and watermarks, size
//! limits (KIP-74), errors, topic ids (v13+), read_committed, long polling and the answers to
//! fetch-session requests on a broker that keeps no sessions.

use std::time::{Duration, Instant};

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::{ApiKey, BrokerId, FetchRequest};

use crate::support::*;

fn fetch_versions() -> std::ops::RangeInclusive<i16> {
    versions(ApiKey::Fetch)
}

/// Produces three batches of 2, 3 and 1 records (offsets 0-1, 2-4, 5) and returns the records.
fn three_batches(c: &mut Client, topic: &TopicRef) -> Vec<Rec> {
    let a = vec![rec("k0", "v0").header("h", Some("x")), rec("k1", "v1")];
    let b = vec![
        rec("k2", "v2"),
        rec("k3", "v3").header("a", None).header("b", Some("y")),
        rec("k4", "v4"),
    ];
    let d = vec![Rec {
        key: None,
        ..rec("", "v5")
    }];
    assert_eq!(produce_ok(c, topic, 0, &a), 0);
    assert_eq!(produce_ok(c, topic, 0, &b), 2);
    assert_eq!(produce_ok(c, topic, 0, &d), 5);
    [a, b, d].concat()
}

#[test]
fn every_version_returns_the_produced_batches() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-versions", 1);
    let expected = three_batches(&mut c, &topic);
    for v in fetch_versions() {
        let p = fetch(&mut c, &topic, 0, 0, v);
        assert_eq!(p.partition_index, 0);
        assert_eq!(p.error_code, code::NONE, "Fetch v{v}");
        assert_eq!(p.high_watermark, 6, "Fetch v{v} high watermark");
        assert_eq!(p.last_stable_offset, 6, "Fetch v{v} last stable offset");
        if v >= 5 {
            assert_eq!(p.log_start_offset, 0, "Fetch v{v} log start offset");
        }
        if v >= 11 {
            assert_eq!(
                p.preferred_read_replica,
                BrokerId(-1),
                "Fetch v{v} preferred read replica"
            );
        }
        let data = p.records.expect("records");
        let infos = batch_infos(&data);
        assert_eq!(
            infos
                .iter()
                .map(|b| (b.min_offset, b.record_count))
                .collect::<Vec<_>>(),
            vec![(0, 2), (2, 3), (5, 1)],
            "Fetch v{v} batches"
        );
        assert!(
            infos.iter().all(|b| b.partition_leader_epoch == 0),
            "leader epoch 0 stamped"
        );
        assert_records(&decode_records(&data), &expected, 0);
    }
}

#[test]
fn fetch_from_the_middle_of_a_batch_returns_the_whole_batch() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-middle", 1);
    let expected = three_batches(&mut c, &topic);
    for v in fetch_versions() {
        for (offset, first_batch) in [(1, 0), (3, 2), (4, 2), (5, 5)] {
            let p = fetch(&mut c, &topic, 0, offset, v);
            assert_eq!(p.error_code, code::NONE);
            let data = p.records.expect("records");
            let infos = batch_infos(&data);
            assert_eq!(infos[0].min_offset, first_batch, "Fetch v{v} at {offset}");
            let got = decode_records(&data);
            assert_records(&got, &expected[first_batch as usize..], first_batch);
        }
        // At the log end: nothing, no error.
        let p = fetch(&mut c, &topic, 0, 6, v);
        assert_eq!(p.error_code, code::NONE);
        assert!(
            p.records.unwrap_or_default().is_empty(),
            "Fetch v{v} at the log end"
        );
        assert_eq!(p.high_watermark, 6);
    }
}

#[test]
fn size_limits_are_honoured_but_at_least_one_batch_is_returned() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-limits", 1);
    let batches: Vec<Vec<Rec>> = (0..4)
        .map(|i| recs(&format!("b{i}-{}", "p".repeat(500)), 2))
        .collect();
    let mut sizes = Vec::new();
    for (i, b) in batches.iter().enumerate() {
        sizes.push(batch(b).len());
        assert_eq!(produce_ok(&mut c, &topic, 0, b), 2 * i as i64);
    }
    let two = sizes[0] + sizes[1];
    for v in fetch_versions() {
        // (max_bytes, partition_max_bytes) -> complete batches expected.
        for (max_bytes, part_max, want) in [
            (1, 1024 * 1024, 1), // KIP-74: the first batch even though it exceeds max_bytes
            (1024 * 1024, 1, 1), // ... and partition_max_bytes
            (two as i32, 1024 * 1024, 2),
            (1024 * 1024, two as i32 + 10, 2),
            (1024 * 1024, 1024 * 1024, 4),
        ] {
            let mut req = fetch_request(&topic, 0, 0).with_max_bytes(max_bytes);
            req.topics[0].partitions[0].partition_max_bytes = part_max;
            let p = single_fetch_partition(c.send(&req, v), &topic, v);
            assert_eq!(p.error_code, code::NONE);
            let data = p.records.expect("records");
            let complete = raw_batches(&data);
            assert_eq!(
                complete.len(),
                want,
                "Fetch v{v} max_bytes={max_bytes} partition_max_bytes={part_max}"
            );
            let limit = (max_bytes.min(part_max) as usize).max(sizes[0]);
            assert!(
                data.len() <= limit,
                "Fetch v{v}: {} bytes for a limit of {limit}",
                data.len()
            );
        }
    }
}

#[test]
fn broker_fetch_max_bytes_caps_the_request() {
    // KIP-541: fetch.max.bytes (at least 1024) bounds a response whatever max_bytes asks.
    let broker = Broker::with_overrides(&[("fetch.max.bytes", "1024")]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-broker-cap", 1);
    let mut sizes = Vec::new();
    for i in 0..4 {
        let b = recs(&format!("b{i}-{}", "p".repeat(300)), 1);
        sizes.push(batch(&b).len());
        assert_eq!(produce_ok(&mut c, &topic, 0, &b), i as i64);
    }
    assert!(sizes[0] + sizes[1] > 1024 && sizes[0] <= 1024, "{sizes:?}");
    for v in fetch_versions() {
        let p = fetch(&mut c, &topic, 0, 0, v);
        assert_eq!(p.error_code, code::NONE);
        let data = p.records.expect("records");
        assert_eq!(
            raw_batches(&data).len(),
            1,
            "Fetch v{v} under a 1024-byte cap"
        );
        assert!(data.len() <= 1024, "Fetch v{v}: {} bytes", data.len());
    }
    // The first batch still comes whole when it alone is above the cap (KIP-74).
    let big = recs(&"q".repeat(3000), 1);
    assert_eq!(produce_ok(&mut c, &topic, 0, &big), 4);
    let p = fetch(&mut c, &topic, 0, 4, 12);
    assert_eq!(raw_batches(&p.records.expect("records")).len(), 1);
}

#[test]
fn max_bytes_spans_partitions() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-limit-parts", 2);
    let big = recs(&"q".repeat(800), 1);
    let size = batch(&big).len();
    for p in 0..2 {
        produce_ok(&mut c, &topic, p, &big);
        produce_ok(&mut c, &topic, p, &big);
    }
    for v in fetch_versions() {
        let req = FetchRequest::default()
            .with_max_bytes((size * 3) as i32)
            .with_topics(vec![FetchTopic::default()
                .with_topic(name(&topic.name))
                .with_topic_id(topic.id)
                .with_partitions(
                    (0..2)
                        .map(|p| {
                            FetchPartition::default()
                                .with_partition(p)
                                .with_fetch_offset(0)
                                .with_partition_max_bytes(1024 * 1024)
                        })
                        .collect(),
                )]);
        let resp = c.send(&req, v);
        let parts = &resp.responses[0].partitions;
        assert_eq!(parts.len(), 2);
        let counts: Vec<usize> = parts
            .iter()
            .map(|p| raw_batches(&p.records.clone().unwrap_or_default()).len())
            .collect();
        assert_eq!(
            counts.iter().sum::<usize>(),
            3,
            "Fetch v{v}: 3 batches fit in max_bytes: {counts:?}"
        );
        assert_eq!(
            counts[0], 2,
            "Fetch v{v}: the first partition is served first"
        );
    }
}

#[test]
fn offset_out_of_range_and_unknown_topics() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-errors", 1);
    three_batches(&mut c, &topic);
    let ghost = TopicRef {
        name: "fetch-no-such-topic".into(),
        id: uuid::Uuid::from_u128(7),
    };
    for v in fetch_versions() {
        for offset in [7, 1000, -5] {
            let p = fetch(&mut c, &topic, 0, offset, v);
            assert_eq!(
                p.error_code,
                code::OFFSET_OUT_OF_RANGE,
                "Fetch v{v} at {offset}"
            );
            assert!(p.records.unwrap_or_default().is_empty());
        }
        let p = fetch(&mut c, &topic, 3, 0, v);
        assert_eq!(
            p.error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION,
            "Fetch v{v} unknown partition"
        );
        let p = fetch(&mut c, &ghost, 0, 0, v);
        let want = if v >= 13 {
            code::UNKNOWN_TOPIC_ID
        } else {
            code::UNKNOWN_TOPIC_OR_PARTITION
        };
        assert_eq!(p.error_code, want, "Fetch v{v} unknown topic");
    }
    // Fetch does not auto-create.
    let md = c.send(&metadata_request(Some(&[&ghost.name]), false), 12);
    assert_eq!(md.topics[0].error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
}

#[test]
fn current_leader_epoch_newer_than_the_broker_s() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-epoch", 1);
    three_batches(&mut c, &topic);
    for v in 9..=*fetch_versions().end() {
        let mut req = fetch_request(&topic, 0, 0);
        req.topics[0].partitions[0].current_leader_epoch = 5;
        let p = single_fetch_partition(c.send(&req, v), &topic, v);
        assert_eq!(p.error_code, code::UNKNOWN_LEADER_EPOCH, "Fetch v{v}");
        req.topics[0].partitions[0].current_leader_epoch = 0;
        let p = single_fetch_partition(c.send(&req, v), &topic, v);
        assert_eq!(
            p.error_code,
            code::NONE,
            "Fetch v{v} with the current epoch"
        );
    }
}

#[test]
fn read_committed_has_an_empty_aborted_transactions_list() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-committed", 1);
    let expected = three_batches(&mut c, &topic);
    for v in fetch_versions() {
        let req = fetch_request(&topic, 0, 0).with_isolation_level(1);
        let p = single_fetch_partition(c.send(&req, v), &topic, v);
        assert_eq!(p.error_code, code::NONE);
        assert_eq!(
            p.aborted_transactions,
            Some(vec![]),
            "Fetch v{v} read_committed"
        );
        assert_eq!(p.last_stable_offset, 6);
        assert_records(&decode_records(&p.records.expect("records")), &expected, 0);
    }
}

#[test]
fn long_poll_returns_as_soon_as_a_record_arrives() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-long-poll", 1);
    produce_ok(&mut c, &topic, 0, &recs("before", 1));
    for v in [4, 12, 13, 18] {
        let end = fetch(&mut c, &topic, 0, 0, v).high_watermark;
        let mut poller = broker.client();
        let req = fetch_request(&topic, 0, end)
            .with_max_wait_ms(5000)
            .with_min_bytes(1);
        let started = Instant::now();
        let id = poller.write_request(&req, v);
        let producer = {
            let addr = broker.addr;
            let topic = topic.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let mut c = Client::connect(addr);
                let produced_at = Instant::now();
                produce_ok(&mut c, &topic, 0, &[rec("new", &format!("arrived-v{v}"))]);
                produced_at
            })
        };
        let resp = poller.read_response::<FetchRequest>(v, id);
        let answered = Instant::now();
        let produced_at = producer.join().expect("producer thread");
        let waited = answered - started;
        assert!(
            waited >= Duration::from_millis(250),
            "Fetch v{v} returned after {waited:?}, before the produce"
        );
        assert!(
            answered.saturating_duration_since(produced_at) < Duration::from_millis(1500),
            "Fetch v{v} returned {:?} after the produce (max_wait 5000 ms)",
            answered.saturating_duration_since(produced_at)
        );
        let p = single_fetch_partition(resp, &topic, v);
        assert_eq!(p.error_code, code::NONE);
        let got = decode_records(&p.records.expect("records"));
        assert_eq!(got.len(), 1, "Fetch v{v}: the new record");
        assert_eq!(got[0].offset, end);
        assert_eq!(
            got[0].value.as_deref(),
            Some(format!("arrived-v{v}").as_bytes())
        );
    }
}

#[test]
fn long_poll_without_data_waits_max_wait() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-long-poll-idle", 1);
    produce_ok(&mut c, &topic, 0, &recs("x", 1));
    for v in [4, 11, 15, 18] {
        let req = fetch_request(&topic, 0, 1)
            .with_max_wait_ms(300)
            .with_min_bytes(1);
        let started = Instant::now();
        let p = single_fetch_partition(c.send(&req, v), &topic, v);
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(280),
            "Fetch v{v} returned after {waited:?}"
        );
        assert!(
            waited < Duration::from_millis(3000),
            "Fetch v{v} returned after {waited:?}"
        );
        assert_eq!(p.error_code, code::NONE);
        assert!(p.records.unwrap_or_default().is_empty());
        // min_bytes larger than what is available also waits, then returns what there is.
        let req = fetch_request(&topic, 0, 0)
            .with_max_wait_ms(300)
            .with_min_bytes(1_000_000);
        let started = Instant::now();
        let p = single_fetch_partition(c.send(&req, v), &topic, v);
        assert!(
            started.elapsed() >= Duration::from_millis(280),
            "Fetch v{v} min_bytes wait"
        );
        assert_eq!(decode_records(&p.records.expect("records")).len(), 1);
    }
}

/// A broker that keeps no fetch sessions (KIP-227) answers like Kafka's `FetchManager.newContext`
/// with an empty session cache. An incremental request (epoch > 0) continues a session; the
/// broker looks its id up, finds nothing (0 included: it is never a session id) and answers
/// FETCH_SESSION_ID_NOT_FOUND at the top level, with no partitions.
#[test]
fn incremental_fetch_names_an_unknown_session() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-sessions-incremental", 1);
    three_batches(&mut c, &topic);
    for v in 7..=*fetch_versions().end() {
        for (session_id, epoch) in [(12345, 3), (-7, 1), (0, 5)] {
            let req = fetch_request(&topic, 0, 0)
                .with_session_id(session_id)
                .with_session_epoch(epoch);
            let resp = c.send(&req, v);
            assert_eq!(
                resp.error_code,
                code::FETCH_SESSION_ID_NOT_FOUND,
                "Fetch v{v} session {session_id} epoch {epoch}"
            );
            assert_eq!(resp.session_id, 0);
            assert!(
                resp.responses.is_empty(),
                "Fetch v{v}: no partitions with a session error"
            );
        }
    }
}

/// A full fetch (epoch 0: open a session, or -1: no session) is served whatever session id it
/// carries: Kafka closes the named session if it exists and answers the request in full
/// (`FetchManager.newContext`, `reqMetadata.isFull`). Without sessions the answer's id is 0.
#[test]
fn full_fetches_are_served() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-sessions-full", 1);
    let expected = three_batches(&mut c, &topic);
    for v in 7..=*fetch_versions().end() {
        for epoch in [-1, 0] {
            let req = fetch_request(&topic, 0, 0)
                .with_session_id(0)
                .with_session_epoch(epoch);
            let resp = c.send(&req, v);
            assert_eq!(
                resp.error_code,
                code::NONE,
                "Fetch v{v} full fetch, epoch {epoch}"
            );
            assert_eq!(
                resp.session_id, 0,
                "Fetch v{v}: the broker creates no session"
            );
            let p = single_fetch_partition(resp, &topic, v);
            assert_records(&decode_records(&p.records.expect("records")), &expected, 0);
        }
    }
}

/// A full fetch naming a session id the broker does not have (a client closing its session
/// with epoch -1, or restarting one with epoch 0 after the broker lost it) is served too.
#[test]
fn full_fetch_with_a_stale_session_id_is_served() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "fetch-sessions-stale", 1);
    let expected = three_batches(&mut c, &topic);
    for v in 7..=*fetch_versions().end() {
        for epoch in [-1, 0] {
            let req = fetch_request(&topic, 0, 0)
                .with_session_id(12345)
                .with_session_epoch(epoch);
            let resp = c.send(&req, v);
            assert_eq!(
                resp.error_code,
                code::NONE,
                "Fetch v{v} session 12345 epoch {epoch}"
            );
            let p = single_fetch_partition(resp, &topic, v);
            assert_records(&decode_records(&p.records.expect("records")), &expected, 0);
        }
    }
}
