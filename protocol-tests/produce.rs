//! Produce (key 0): v3-13 append and answer with consecutive offsets; v0-2 are refused with
//! UNSUPPORTED_VERSION in their own response format; acks, batch validation, idempotence
//! (including across kill -9), LogAppendTime and timestamp bounds.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest};

use crate::support::*;

const PRODUCE_MIN: i16 = 3;

fn produce_versions() -> std::ops::RangeInclusive<i16> {
    PRODUCE_MIN..=*versions(ApiKey::Produce).end()
}

/// Fetches everything from `offset` (Fetch v12) and returns the records.
fn fetch_all(
    c: &mut Client,
    topic: &TopicRef,
    partition: i32,
    offset: i64,
) -> Vec<kafka_protocol::records::Record> {
    let p = fetch(c, topic, partition, offset, 12);
    assert_eq!(
        p.error_code,
        code::NONE,
        "fetch {}-{partition} at {offset}",
        topic.name
    );
    decode_records(&p.records.unwrap_or_default())
}

fn high_watermark(c: &mut Client, topic: &TopicRef, partition: i32) -> i64 {
    let p = fetch(c, topic, partition, 0, 12);
    assert_eq!(p.error_code, code::NONE);
    p.high_watermark
}

#[test]
fn every_version_appends_with_consecutive_offsets() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-versions", 1);
    let mut expected: Vec<Rec> = Vec::new();
    for v in produce_versions() {
        let records: Vec<Rec> = recs(&format!("v{v}"), 3)
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                r.header("version", Some(&v.to_string()))
                    .header("i", if i == 1 { None } else { Some("x") })
            })
            .collect();
        let p = produce(&mut c, &topic, 0, batch(&records), v);
        assert_eq!(p.index, 0);
        assert_eq!(
            p.error_code,
            code::NONE,
            "Produce v{v}: {:?}",
            p.error_message
        );
        assert_eq!(
            p.base_offset,
            expected.len() as i64,
            "Produce v{v} base offset"
        );
        assert_eq!(p.log_append_time_ms, -1, "Produce v{v}: CreateTime topic");
        if v >= 5 {
            assert_eq!(p.log_start_offset, 0, "Produce v{v} log start offset");
        }
        if v >= 8 {
            assert!(p.record_errors.is_empty());
            assert_eq!(p.error_message, None);
        }
        expected.extend(records);
    }
    assert_records(&fetch_all(&mut c, &topic, 0, 0), &expected, 0);
}

#[test]
fn null_keys_values_and_empty_headers_round_trip() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-nulls", 1);
    let now = now_ms();
    let records = vec![
        Rec {
            key: None,
            value: Some(Bytes::from_static(b"no key")),
            headers: vec![],
            timestamp: now,
        },
        Rec {
            key: Some(Bytes::from_static(b"tombstone")),
            value: None,
            headers: vec![],
            timestamp: now + 1,
        },
        Rec {
            key: Some(Bytes::new()),
            value: Some(Bytes::new()),
            headers: vec![("h".into(), Some(Bytes::new()))],
            timestamp: now + 2,
        },
    ];
    assert_eq!(produce_ok(&mut c, &topic, 0, &records), 0);
    assert_records(&fetch_all(&mut c, &topic, 0, 0), &records, 0);
}

#[test]
fn produce_by_topic_id_and_to_several_partitions() {
    let broker = Broker::start();
    let mut c = broker.client();
    let a = create_topic(&mut c, "produce-multi-a", 3);
    let b = create_topic(&mut c, "produce-multi-b", 1);
    for v in [9, 12, 13] {
        let topic_data = |t: &TopicRef, parts: &[i32]| {
            TopicProduceData::default()
                .with_name(name(&t.name))
                .with_topic_id(t.id)
                .with_partition_data(
                    parts
                        .iter()
                        .map(|p| {
                            PartitionProduceData::default()
                                .with_index(*p)
                                .with_records(Some(batch(&recs(&format!("v{v}-p{p}"), 2))))
                        })
                        .collect(),
                )
        };
        let req = ProduceRequest::default()
            .with_acks(-1)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![topic_data(&a, &[0, 2]), topic_data(&b, &[0])]);
        let resp = c.send(&req, v);
        assert_eq!(resp.responses.len(), 2, "Produce v{v}");
        for t in &resp.responses {
            let parts: Vec<(i32, i16)> = t
                .partition_responses
                .iter()
                .map(|p| (p.index, p.error_code))
                .collect();
            let expected_parts =
                if (v >= 13 && t.topic_id == a.id) || (v < 13 && t.name.as_str() == a.name) {
                    vec![(0, 0), (2, 0)]
                } else {
                    if v >= 13 {
                        assert_eq!(t.topic_id, b.id);
                    } else {
                        assert_eq!(t.name.as_str(), b.name);
                    }
                    vec![(0, 0)]
                };
            assert_eq!(parts, expected_parts, "Produce v{v}");
        }
    }
    // Each partition got its own consecutive offsets.
    assert_eq!(high_watermark(&mut c, &a, 0), 6);
    assert_eq!(high_watermark(&mut c, &a, 1), 0);
    assert_eq!(high_watermark(&mut c, &a, 2), 6);
    assert_eq!(high_watermark(&mut c, &b, 0), 6);
    let got = fetch_all(&mut c, &a, 2, 0);
    assert_eq!(got[4].value.as_deref(), Some(&b"v13-p2-value-0"[..]));
}

#[test]
fn unknown_topic_id_at_v13() {
    let broker = Broker::start();
    let mut c = broker.client();
    let ghost = TopicRef {
        name: String::new(),
        id: uuid::Uuid::from_u128(42),
    };
    let p = produce(&mut c, &ghost, 0, batch(&recs("x", 1)), 13);
    assert_eq!(p.error_code, code::UNKNOWN_TOPIC_ID);
    assert_eq!(p.base_offset, -1);
}

#[test]
fn versions_0_to_2_get_unsupported_version_in_their_own_format() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-legacy", 1);
    for v in 0..PRODUCE_MIN {
        let corr = 100 + v as i32;
        let frame = legacy_produce_frame(v, corr, 1, &topic.name, &batch(&recs("legacy", 1)));
        let resp = c
            .send_frame(&frame)
            .unwrap_or_else(|| panic!("Produce v{v} is answered"));
        let (id, parts) = parse_legacy_produce_response(resp, v);
        assert_eq!(id, corr, "correlation id");
        assert_eq!(
            parts,
            vec![LegacyPartitionResponse {
                topic: topic.name.clone(),
                partition: 0,
                error_code: code::UNSUPPORTED_VERSION,
                base_offset: -1,
                log_append_time: (v >= 2).then_some(-1),
            }],
            "Produce v{v}"
        );

        // acks=0: no response at all; the connection keeps working.
        let frame = legacy_produce_frame(v, corr + 10, 0, &topic.name, &batch(&recs("legacy", 1)));
        c.write_raw(&frame);
        let md = c.send(&metadata_request(Some(&[&topic.name]), false), 12);
        assert_eq!(md.topics[0].error_code, code::NONE);
    }
    assert_eq!(high_watermark(&mut c, &topic, 0), 0, "nothing was appended");
}

#[test]
fn acks_0_gets_no_response_and_the_connection_goes_on() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-acks0", 1);
    let mut expected = Vec::new();
    for v in produce_versions() {
        let records = recs(&format!("acks0-v{v}"), 2);
        c.write_request(&produce_request(&topic, 0, batch(&records), 0), v);
        expected.extend(records);
        // The next request's response is the next frame on the connection.
        let p = list_offset(&mut c, &topic.name, 0, -1, 7);
        assert_eq!(p.error_code, code::NONE);
        assert_eq!(p.offset, expected.len() as i64, "after acks=0 Produce v{v}");
    }
    assert_records(&fetch_all(&mut c, &topic, 0, 0), &expected, 0);
}

#[test]
fn acks_1_and_all() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-acks", 1);
    let mut n = 0;
    for v in produce_versions() {
        for acks in [1, -1] {
            let resp = c.send(&produce_request(&topic, 0, batch(&recs("a", 2)), acks), v);
            let p = single_produce_response(resp, &topic, v);
            assert_eq!(p.error_code, code::NONE, "Produce v{v} acks={acks}");
            assert_eq!(p.base_offset, n, "Produce v{v} acks={acks}");
            n += 2;
        }
    }
}

#[test]
fn invalid_acks() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-bad-acks", 1);
    for v in produce_versions() {
        for acks in [2, -2, 5] {
            let resp = c.send(&produce_request(&topic, 0, batch(&recs("a", 1)), acks), v);
            let p = single_produce_response(resp, &topic, v);
            assert_eq!(
                p.error_code,
                code::INVALID_REQUIRED_ACKS,
                "Produce v{v} acks={acks}"
            );
        }
    }
    assert_eq!(high_watermark(&mut c, &topic, 0), 0);
}

#[test]
fn corrupt_crc_is_rejected() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-crc", 1);
    for v in produce_versions() {
        let mut bad = batch(&recs("crc", 2)).to_vec();
        let last = bad.len() - 1;
        bad[last] ^= 0x5a; // a byte of the last record's value, covered by the CRC
        let p = produce(&mut c, &topic, 0, Bytes::from(bad), v);
        assert_eq!(p.error_code, code::CORRUPT_MESSAGE, "Produce v{v}");
        assert_eq!(p.base_offset, -1);
    }
    assert_eq!(high_watermark(&mut c, &topic, 0), 0);
    // A good batch still goes in at offset 0.
    assert_eq!(produce_ok(&mut c, &topic, 0, &recs("good", 1)), 0);
}

#[test]
fn two_batches_in_one_partition_are_an_invalid_record() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-two-batches", 1);
    for v in produce_versions() {
        let mut two = batch(&recs("one", 1)).to_vec();
        two.extend_from_slice(&batch(&recs("two", 1)));
        let p = produce(&mut c, &topic, 0, Bytes::from(two), v);
        assert_eq!(p.error_code, code::INVALID_RECORD, "Produce v{v}");
    }
    assert_eq!(high_watermark(&mut c, &topic, 0), 0);
}

#[test]
fn batch_larger_than_message_max_bytes() {
    let broker = Broker::with_overrides(&[("message.max.bytes", "2000")]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-too-large", 1);
    let big = vec![rec("k", &"x".repeat(3000))];
    let small = vec![rec("k", &"x".repeat(1000))];
    for v in produce_versions() {
        let p = produce(&mut c, &topic, 0, batch(&big), v);
        assert_eq!(p.error_code, code::MESSAGE_TOO_LARGE, "Produce v{v}");
    }
    assert_eq!(produce_ok(&mut c, &topic, 0, &small), 0);
    // The topic-level max.message.bytes overrides the broker's setting.
    let roomy = create_topic_with(
        &mut c,
        "produce-roomy",
        1,
        &[("max.message.bytes", "10000")],
    );
    assert_eq!(produce_ok(&mut c, &roomy, 0, &big), 0);
}

#[test]
fn unknown_partition_and_unknown_topic() {
    let broker = Broker::with_overrides(&[("auto.create.topics.enable", "false")]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-one-partition", 1);
    let ghost = TopicRef {
        name: "produce-no-such-topic".into(),
        id: uuid::Uuid::nil(),
    };
    for v in produce_versions() {
        for partition in [1, 5, -1] {
            let resp = c.send(
                &produce_request(&topic, partition, batch(&recs("x", 1)), -1),
                v,
            );
            let p = single_produce_response(resp, &topic, v);
            assert_eq!(p.index, partition);
            assert_eq!(
                p.error_code,
                code::UNKNOWN_TOPIC_OR_PARTITION,
                "Produce v{v} partition {partition}"
            );
        }
        if v < 13 {
            let p = produce(&mut c, &ghost, 0, batch(&recs("x", 1)), v);
            assert_eq!(
                p.error_code,
                code::UNKNOWN_TOPIC_OR_PARTITION,
                "Produce v{v} unknown topic"
            );
        }
    }
    let md = c.send(&metadata_request(Some(&[&ghost.name]), false), 12);
    assert_eq!(
        md.topics[0].error_code,
        code::UNKNOWN_TOPIC_OR_PARTITION,
        "not auto-created"
    );
}

#[test]
fn idempotent_producer_sequences_and_duplicates() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-idempotent", 1);
    let (pid, epoch) = init_producer_id(&mut c);
    let fields = |seq| ProducerFields {
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
    };
    let first = idempotent_batch(&recs("s0", 3), fields(0));
    let second = idempotent_batch(&recs("s3", 2), fields(3));
    for v in [3, 9, 13] {
        let t = create_topic(&mut c, &format!("produce-idempotent-v{v}"), 1);
        let (pid, epoch) = init_producer_id(&mut c);
        let f = |seq| ProducerFields {
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
        };
        let a = produce(&mut c, &t, 0, idempotent_batch(&recs("a", 3), f(0)), v);
        assert_eq!((a.error_code, a.base_offset), (0, 0), "Produce v{v} seq 0");
        let b = produce(&mut c, &t, 0, idempotent_batch(&recs("b", 1), f(3)), v);
        assert_eq!((b.error_code, b.base_offset), (0, 3), "Produce v{v} seq 3");
    }

    let p = produce(&mut c, &topic, 0, first.clone(), 9);
    assert_eq!((p.error_code, p.base_offset), (code::NONE, 0), "seq 0");
    let p = produce(&mut c, &topic, 0, second.clone(), 9);
    assert_eq!((p.error_code, p.base_offset), (code::NONE, 3), "seq 3");
    // Retries of either batch are duplicates: the original offsets, no error, nothing appended.
    let p = produce(&mut c, &topic, 0, first.clone(), 9);
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 0),
        "retry of seq 0"
    );
    let p = produce(&mut c, &topic, 0, second.clone(), 9);
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 3),
        "retry of seq 3"
    );
    assert_eq!(high_watermark(&mut c, &topic, 0), 5);
    // A gap in the sequence.
    let gap = idempotent_batch(&recs("gap", 1), fields(10));
    let p = produce(&mut c, &topic, 0, gap, 9);
    assert_eq!(
        p.error_code,
        code::OUT_OF_ORDER_SEQUENCE_NUMBER,
        "seq 10 after 4"
    );
    // The next in-order batch is still accepted.
    let p = produce(
        &mut c,
        &topic,
        0,
        idempotent_batch(&recs("s5", 1), fields(5)),
        9,
    );
    assert_eq!((p.error_code, p.base_offset), (code::NONE, 5), "seq 5");
    assert_eq!(high_watermark(&mut c, &topic, 0), 6);
    let got = fetch_all(&mut c, &topic, 0, 0);
    assert_eq!(got.len(), 6);
    assert!(
        got.iter().all(|r| r.producer_id == pid),
        "records carry the producer id"
    );
    assert_eq!(
        got.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4, 5]
    );
}

#[test]
fn duplicate_detected_after_kill_9() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-idem-crash", 1);
    let (pid, epoch) = init_producer_id(&mut c);
    let fields = |seq| ProducerFields {
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
    };
    let b0 = idempotent_batch(&recs("c0", 2), fields(0));
    let b1 = idempotent_batch(&recs("c2", 3), fields(2));
    assert_eq!(produce(&mut c, &topic, 0, b0.clone(), 9).base_offset, 0);
    assert_eq!(produce(&mut c, &topic, 0, b1.clone(), 9).base_offset, 2);

    broker.kill9_and_restart();
    let mut c = broker.client();
    // The producer's retries are recognised from the recovered log.
    let p = produce(&mut c, &topic, 0, b1, 9);
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 2),
        "retry of seq 2 after kill -9"
    );
    let p = produce(&mut c, &topic, 0, b0, 9);
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 0),
        "retry of seq 0 after kill -9"
    );
    assert_eq!(
        high_watermark(&mut c, &topic, 0),
        5,
        "no duplicates appended"
    );
    let p = produce(
        &mut c,
        &topic,
        0,
        idempotent_batch(&recs("c5", 1), fields(7)),
        9,
    );
    assert_eq!(
        p.error_code,
        code::OUT_OF_ORDER_SEQUENCE_NUMBER,
        "gap after kill -9"
    );
    let p = produce(
        &mut c,
        &topic,
        0,
        idempotent_batch(&recs("c5", 1), fields(5)),
        9,
    );
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 5),
        "next sequence after kill -9"
    );

    // And across a clean restart too.
    broker.restart();
    let mut c = broker.client();
    let p = produce(
        &mut c,
        &topic,
        0,
        idempotent_batch(&recs("c5", 1), fields(5)),
        9,
    );
    assert_eq!(
        (p.error_code, p.base_offset),
        (code::NONE, 5),
        "retry of seq 5 after a restart"
    );
    assert_eq!(high_watermark(&mut c, &topic, 0), 6);
}

#[test]
fn log_append_time_topic_stamps_the_batch() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic_with(
        &mut c,
        "produce-lat",
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    );
    let old = now_ms() - 10 * 24 * 3600 * 1000;
    let records: Vec<Rec> = recs("lat", 3).into_iter().map(|r| r.at(old)).collect();
    for v in produce_versions() {
        let before = now_ms();
        let p = produce(&mut c, &topic, 0, batch(&records), v);
        let after = now_ms();
        assert_eq!(p.error_code, code::NONE, "Produce v{v}");
        assert!(
            p.log_append_time_ms >= before - 5 && p.log_append_time_ms <= after + 5,
            "Produce v{v}: log_append_time_ms {} not within [{before}, {after}]",
            p.log_append_time_ms
        );
        let f = fetch(&mut c, &topic, 0, p.base_offset, 12);
        let data = f.records.unwrap_or_default();
        let batches = raw_batches(&data);
        assert!(!batches.is_empty());
        assert!(
            batch_is_log_append_time(&batches[0]),
            "Produce v{v}: stored as LogAppendTime"
        );
        assert_eq!(
            batch_max_timestamp(&batches[0]),
            p.log_append_time_ms,
            "Produce v{v}: stamped time"
        );
        // The rewritten batch still has a valid CRC and the producer's records.
        let got = decode_records(&batches[0]);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].value, records[2].value);
    }
}

#[test]
fn timestamps_too_far_in_the_future_are_rejected() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-future", 1);
    let future = now_ms() + 2 * 3600 * 1000;
    for v in produce_versions() {
        let records = vec![rec("k", "now"), rec("k", "future").at(future)];
        let p = produce(&mut c, &topic, 0, batch(&records), v);
        assert_eq!(p.error_code, code::INVALID_TIMESTAMP, "Produce v{v}");
    }
    // Within the hour is fine.
    let soon = now_ms() + 30 * 60 * 1000;
    assert_eq!(
        produce_ok(&mut c, &topic, 0, &[rec("k", "soon").at(soon)]),
        0
    );
    // The topic can narrow the window.
    let strict = create_topic_with(
        &mut c,
        "produce-strict",
        1,
        &[("message.timestamp.after.max.ms", "1000")],
    );
    let p = produce(
        &mut c,
        &strict,
        0,
        batch(&[rec("k", "v").at(now_ms() + 60_000)]),
        9,
    );
    assert_eq!(p.error_code, code::INVALID_TIMESTAMP);
}

#[test]
fn acks_0_failure_closes_the_connection() {
    // Kafka closes the connection when an acks=0 produce fails, so the producer notices.
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-acks0-fail", 1);
    let mut bad = batch(&recs("crc", 1)).to_vec();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    c.write_request(&produce_request(&topic, 0, Bytes::from(bad), 0), 9);
    assert!(
        c.closed_within(Duration::from_secs(10)),
        "connection closed after a failed acks=0 produce"
    );
    let mut c = broker.client();
    assert_eq!(high_watermark(&mut c, &topic, 0), 0);
}

/// Sets a batch's codec and records section, then fixes its length and CRC-32C.
fn with_section(batch: &[u8], codec: i16, section: &[u8]) -> Bytes {
    let mut b = batch[..61].to_vec();
    b.extend_from_slice(section);
    let attributes = (i16::from_be_bytes([b[21], b[22]]) & !0x07) | codec;
    b[21..23].copy_from_slice(&attributes.to_be_bytes());
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(b)
}

fn lz4(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = lz4_flex::frame::FrameEncoder::new(Vec::new());
    enc.write_all(data).expect("lz4 to a Vec");
    enc.finish().expect("lz4 to a Vec")
}

/// Issue 11's stored poison pill: a batch whose header declares 2^31-1 records (one is there,
/// the CRC is valid) gets INVALID_RECORD as from Kafka's LogValidator ("Incorrect declared batch
/// size"), plain or lz4; a 1.5 KiB lz4 batch expanding to 32 MiB gets CORRUPT_MESSAGE; nothing
/// is stored, and ListOffsets by timestamp on the partition keeps answering, after a restart too.
#[test]
fn batches_whose_records_do_not_match_the_header_are_refused() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "produce-poison-pill", 1);
    let base = now_ms() - 60_000;
    assert_eq!(
        produce_ok(&mut c, &topic, 0, &[rec("k0", "v0").at(base)]),
        0
    );
    let one = batch(&[rec("k", "v").at(base + 10)]);
    let mut pill = one.to_vec();
    pill[23..27].copy_from_slice(&(i32::MAX - 1).to_be_bytes()); // lastOffsetDelta
    pill[57..61].copy_from_slice(&i32::MAX.to_be_bytes()); // recordCount
    let plain_pill = with_section(&pill, 0, &one[61..]);
    let lz4_pill = with_section(&pill, 3, &lz4(&one[61..]));
    let zeros = "\0".repeat(32 << 20);
    let big = batch(&[rec("k", &zeros).at(base + 10)]);
    let bomb = with_section(&big, 3, &lz4(&big[61..]));
    assert!(bomb.len() < 200_000, "{}", bomb.len());
    for v in produce_versions() {
        for (what, b, want) in [
            ("poison pill", &plain_pill, code::INVALID_RECORD),
            ("lz4 poison pill", &lz4_pill, code::INVALID_RECORD),
            ("lz4 bomb", &bomb, code::CORRUPT_MESSAGE),
        ] {
            let p = produce(&mut c, &topic, 0, b.clone(), v);
            assert_eq!(p.error_code, want, "Produce v{v}: {what}");
            assert_eq!(p.base_offset, -1, "Produce v{v}: {what}");
        }
    }
    assert_eq!(high_watermark(&mut c, &topic, 0), 1);
    assert_eq!(
        produce_ok(&mut c, &topic, 0, &[rec("k1", "v1").at(base + 20)]),
        1
    );
    for restarted in [false, true] {
        if restarted {
            broker.restart();
            c = broker.client();
        }
        for v in versions(ApiKey::ListOffsets) {
            let p = list_offset(&mut c, &topic.name, 0, base + 5, v);
            assert_eq!(
                (p.error_code, p.timestamp, p.offset),
                (code::NONE, base + 20, 1),
                "ListOffsets v{v} by timestamp (restarted: {restarted})"
            );
        }
    }
    assert!(broker.is_running());
}
