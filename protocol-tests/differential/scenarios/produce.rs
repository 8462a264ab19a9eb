//! Produce edge cases at every version both brokers serve (v3+): corrupt and malformed batches,
//! the idempotent producer's sequence rules (KIP-98), acks, oversized batches, unknown topics,
//! compression codecs per version, and KIP-467's per-record errors.

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::*;

use super::super::support::batches::{
    batch, idempotent_batch, rec, recs, transactional_batch, ProducerFields, Rec,
};
use super::super::support::now_ms;
use super::super::support::requests::produce_request;
use super::super::{Ctx, Outcome, KAFKA, KLAMM};
use super::data_support::*;
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[
    ("data/produce_malformed_batches", malformed_batches),
    ("data/produce_idempotent_sequences", idempotent_sequences),
    ("data/produce_acks", acks),
    ("data/produce_unknown_and_oversized", unknown_and_oversized),
    ("data/produce_compression", compression),
    ("data/produce_record_errors", record_errors),
];

fn produce_one(
    t: &Topic,
    side: usize,
    partition: i32,
    records: Bytes,
    acks: i16,
) -> ProduceRequest {
    produce_request(&t.at(side), partition, records, acks)
}

/// Bad CRC, wrong magic, a record count that does not match the records, a truncated batch:
/// CORRUPT_MESSAGE / INVALID_RECORD as Kafka answers, nothing appended (the log end offset
/// after each version shows it).
fn malformed_batches(ctx: &mut Ctx) {
    let t = create(ctx, "dt-produce-malformed", 1, &[]);
    let good = batch(&recs("m", 3));
    for v in produce_versions(ctx) {
        let mut crc = good.to_vec();
        crc[CRC] ^= 0xFF;
        each(ctx, "bad_crc", v, |s| {
            produce_one(&t, s, 0, Bytes::from(crc.clone()), -1)
        });

        let mut magic = good.to_vec();
        magic[MAGIC] = 1;
        each(ctx, "magic_1", v, |s| {
            produce_one(&t, s, 0, Bytes::from(magic.clone()), -1)
        });
        let mut magic3 = good.to_vec();
        magic3[MAGIC] = 3;
        each(ctx, "magic_3", v, |s| {
            produce_one(&t, s, 0, Bytes::from(magic3.clone()), -1)
        });

        for (what, count) in [
            ("count_more", 5i32),
            ("count_less", 2),
            ("count_negative", -1),
        ] {
            let mut b = good.to_vec();
            b[RECORD_COUNT..RECORD_COUNT + 4].copy_from_slice(&count.to_be_bytes());
            fix_crc(&mut b);
            each(ctx, what, v, |s| {
                produce_one(&t, s, 0, Bytes::from(b.clone()), -1)
            });
        }

        let truncated = good.slice(..good.len() - 5);
        each(ctx, "truncated", v, |s| {
            produce_one(&t, s, 0, truncated.clone(), -1)
        });
        each(ctx, "empty_records", v, |s| {
            produce_one(&t, s, 0, Bytes::new(), -1)
        });

        each(ctx, "good", v, |s| produce_one(&t, s, 0, good.clone(), -1));
    }
}

/// The idempotent producer (KIP-98): sequences in order, a duplicate of the last batch and of an
/// older one (answered with the original offset), a gap, a sequence not starting at 0 for a new
/// producer id, a stale epoch, a producer id the broker never issued, and a transactional batch
/// without AddPartitionsToTxn.
fn idempotent_sequences(ctx: &mut Ctx) {
    let t = create(ctx, "dt-produce-idempotent", 1, &[]);
    for v in produce_versions(ctx) {
        let pids = idempotent_producer(ctx, &format!("init_producer_id_for_v{v}"));
        let b = |side: usize, seq: i32, n: usize, epoch_delta: i16| {
            let (producer_id, producer_epoch) = pids[side];
            idempotent_batch(
                &recs(&format!("i{v}-{seq}"), n),
                ProducerFields {
                    producer_id,
                    producer_epoch: producer_epoch + epoch_delta,
                    base_sequence: seq,
                },
            )
        };
        let first = [b(KAFKA, 0, 3, 0), b(KLAMM, 0, 3, 0)];
        let second = [b(KAFKA, 3, 2, 0), b(KLAMM, 3, 2, 0)];
        each(ctx, "seq_0", v, |s| {
            produce_one(&t, s, 0, first[s].clone(), -1)
        });
        each(ctx, "seq_3", v, |s| {
            produce_one(&t, s, 0, second[s].clone(), -1)
        });
        each(ctx, "duplicate_last", v, |s| {
            produce_one(&t, s, 0, second[s].clone(), -1)
        });
        each(ctx, "duplicate_older", v, |s| {
            produce_one(&t, s, 0, first[s].clone(), -1)
        });
        let gap = [b(KAFKA, 9, 1, 0), b(KLAMM, 9, 1, 0)];
        each(ctx, "gap", v, |s| produce_one(&t, s, 0, gap[s].clone(), -1));
        let reorder = [b(KAFKA, 2, 1, 0), b(KLAMM, 2, 1, 0)];
        each(ctx, "seq_behind", v, |s| {
            produce_one(&t, s, 0, reorder[s].clone(), -1)
        });
        let newer_epoch = [b(KAFKA, 0, 1, 1), b(KLAMM, 0, 1, 1)];
        each(ctx, "epoch_bump_seq_0", v, |s| {
            produce_one(&t, s, 0, newer_epoch[s].clone(), -1)
        });
        let stale = [b(KAFKA, 5, 1, 0), b(KLAMM, 5, 1, 0)];
        each(ctx, "stale_epoch", v, |s| {
            produce_one(&t, s, 0, stale[s].clone(), -1)
        });
        let newer_epoch_gap = [b(KAFKA, 7, 1, 2), b(KLAMM, 7, 1, 2)];
        each(ctx, "epoch_bump_seq_7", v, |s| {
            produce_one(&t, s, 0, newer_epoch_gap[s].clone(), -1)
        });

        // A producer id neither broker issued, starting at sequence 0 and at 4.
        let unknown = |seq: i32| {
            idempotent_batch(
                &recs(&format!("u{v}-{seq}"), 1),
                ProducerFields {
                    producer_id: 900_000 + i64::from(v) * 10 + i64::from(seq),
                    producer_epoch: 0,
                    base_sequence: seq,
                },
            )
        };
        let u0 = unknown(0);
        each(ctx, "unknown_producer_seq_0", v, |s| {
            produce_one(&t, s, 0, u0.clone(), -1)
        });
        let u4 = unknown(4);
        each(ctx, "unknown_producer_seq_4", v, |s| {
            produce_one(&t, s, 0, u4.clone(), -1)
        });

        // A transactional batch from an idempotent (not transactional) producer id.
        let txn = [KAFKA, KLAMM].map(|side| {
            transactional_batch(
                &recs(&format!("t{v}"), 1),
                ProducerFields {
                    producer_id: pids[side].0,
                    producer_epoch: pids[side].1 + 2,
                    base_sequence: 1,
                },
            )
        });
        each(ctx, "transactional_without_txn", v, |s| {
            produce_one(&t, s, 0, txn[s].clone(), -1)
        });
    }
    list_end(ctx, &t, "end");
}

/// The log end offset of partition 0 (ListOffsets v1, latest), compared.
pub fn list_end(ctx: &mut Ctx, t: &Topic, step: &str) {
    ctx.send(
        step,
        &super::super::support::requests::list_offsets_request(&t.name, 0, -1),
        1,
    );
}

/// acks=1 and -1 answer; acks=0 answers nothing (the records are appended all the same); other
/// acks values get INVALID_REQUIRED_ACKS.
fn acks(ctx: &mut Ctx) {
    let t = create(ctx, "dt-produce-acks", 1, &[]);
    for v in produce_versions(ctx) {
        for acks in [1i16, -1, 2, -2] {
            let b = batch(&recs(&format!("a{v}{acks}"), 2));
            each(ctx, &format!("acks_{acks}"), v, |s| {
                produce_one(&t, s, 0, b.clone(), acks)
            });
        }
        let b = batch(&recs(&format!("a{v}0"), 2));
        ctx.requests += 1;
        let outcomes = [KAFKA, KLAMM].map(|side| {
            let req = produce_one(&t, side, 0, b.clone(), 0);
            let c = &mut ctx.conns[side];
            c.write_request(&req, v);
            c.set_read_timeout(Duration::from_millis(300));
            let o = match c.read_frame() {
                Ok(Some(f)) => Outcome::Frame(f),
                Ok(None) => Outcome::Closed,
                Err(_) => Outcome::Silent,
            };
            c.set_read_timeout(super::super::support::client::READ_TIMEOUT);
            format!("{:?}", std::mem::discriminant(&o))
        });
        ctx.compare(&format!("acks_0@v{v}"), &outcomes[0], &outcomes[1]);
        // The end offset counts the acks=0 batch on both.
        list_end(ctx, &t, &format!("end_after_v{v}"));
    }
}

/// Unknown topics and partitions (and ids, v13), and a batch above the topic's
/// max.message.bytes: MESSAGE_TOO_LARGE.
fn unknown_and_oversized(ctx: &mut Ctx) {
    let t = create(
        ctx,
        "dt-produce-oversized",
        2,
        &[("max.message.bytes", "1000")],
    );
    let nobody = unknown_topic("dt-produce-no-such-topic");
    for v in produce_versions(ctx) {
        let b = batch(&recs(&format!("o{v}"), 1));
        each(ctx, "unknown_topic", v, |s| {
            produce_one(&nobody, s, 0, b.clone(), -1)
        });
        each(ctx, "unknown_partition", v, |s| {
            produce_one(&t, s, 7, b.clone(), -1)
        });
        each(ctx, "negative_partition", v, |s| {
            produce_one(&t, s, -1, b.clone(), -1)
        });
        let big = batch(&[rec("big", &"x".repeat(1500))]);
        each(ctx, "too_large", v, |s| {
            produce_one(&t, s, 0, big.clone(), -1)
        });
        let fits = batch(&[rec("fits", &"x".repeat(500))]);
        each(ctx, "fits", v, |s| produce_one(&t, s, 1, fits.clone(), -1));
        // Two partitions, one good and one too large, in one request.
        each(ctx, "mixed", v, |s| {
            let mut r = produce_one(&t, s, 0, big.clone(), -1);
            r.topic_data[0].partition_data.push(
                produce_request::PartitionProduceData::default()
                    .with_index(1)
                    .with_records(Some(fits.clone())),
            );
            r
        });
        // A partition without records (null), by name (one frame for both brokers), with a
        // short wait: the answer, or the silence, is what is compared.
        if v < 13 {
            let mut r = produce_one(&t, KAFKA, 1, fits.clone(), -1);
            r.topic_data[0].partition_data[0].records = None;
            let frame = super::super::frame(&r, v, 99);
            ctx.raw(
                &format!("null_records@v{v}"),
                &frame,
                Duration::from_secs(1),
            );
        }
    }
}

/// Every codec at every Produce version (zstd needs v7+: UNSUPPORTED_COMPRESSION_TYPE below),
/// then the batches fetched back at every Fetch version (zstd again needs Fetch v10+).
fn compression(ctx: &mut Ctx) {
    let t = create(ctx, "dt-produce-compression", 1, &[]);
    for v in produce_versions(ctx) {
        for (codec, what) in [(1i16, "gzip"), (2, "snappy"), (3, "lz4"), (4, "zstd")] {
            let b = compressed(&batch(&recs(&format!("c{v}{what}"), 4)), codec);
            each(ctx, what, v, |s| produce_one(&t, s, 0, b.clone(), -1));
        }
        let bad = compressed(&batch(&recs(&format!("c{v}bad"), 1)), 5);
        each(ctx, "codec_5", v, |s| {
            produce_one(&t, s, 0, bad.clone(), -1)
        });
    }
    for v in ctx.versions(ApiKey::Fetch) {
        fetch_each(ctx, "fetch", v, |s| {
            super::super::support::requests::fetch_request(&t.at(s), 0, 0)
        });
    }
}

/// KIP-467: keyless records in a batch for a compacted topic get INVALID_RECORD with each bad
/// record's batch index; timestamps outside message.timestamp.{before,after}.max.ms get
/// INVALID_TIMESTAMP. Messages quoting the clock are compared with the clock taken out.
fn record_errors(ctx: &mut Ctx) {
    let compacted = create(
        ctx,
        "dt-produce-compacted",
        1,
        &[("cleanup.policy", "compact")],
    );
    let timed = create(
        ctx,
        "dt-produce-timestamps",
        1,
        &[
            ("message.timestamp.before.max.ms", "3600000"),
            ("message.timestamp.after.max.ms", "3600000"),
        ],
    );
    let keyless = |r: Rec| Rec { key: None, ..r };
    for v in produce_versions(ctx) {
        let b = batch(&[
            rec("k0", "v0"),
            keyless(rec("k1", "v1")),
            rec("k2", "v2"),
            keyless(rec("k3", "v3")),
        ]);
        each(ctx, "keyless_in_compacted", v, |s| {
            produce_one(&compacted, s, 0, b.clone(), -1)
        });
        let ok = batch(&[rec("k", "v")]);
        each(ctx, "keyed_in_compacted", v, |s| {
            produce_one(&compacted, s, 0, ok.clone(), -1)
        });

        let now = now_ms();
        let day = 24 * 3600 * 1000;
        for (what, records) in [
            (
                "too_old",
                vec![rec("a", "a").at(now - day), rec("b", "b").at(now)],
            ),
            (
                "too_new",
                vec![rec("a", "a").at(now), rec("b", "b").at(now + day)],
            ),
            ("in_range", vec![rec("a", "a").at(now - 1000)]),
        ] {
            let b = batch(&records);
            let rs = each_quiet(ctx, v, |s| produce_one(&timed, s, 0, b.clone(), -1));
            let scrubbed = rs.map(|mut r| {
                for t in r.responses.iter_mut() {
                    for p in t.partition_responses.iter_mut() {
                        p.error_message = p
                            .error_message
                            .take()
                            .map(|m| super::super::support::requests::s(&scrub_clock(m.as_str())));
                        for e in p.record_errors.iter_mut() {
                            e.batch_index_error_message =
                                e.batch_index_error_message.take().map(|m| {
                                    super::super::support::requests::s(&scrub_clock(m.as_str()))
                                });
                        }
                    }
                }
                r
            });
            ctx.compare(&format!("{what}@v{v}"), &scrubbed[0], &scrubbed[1]);
        }
    }
}
