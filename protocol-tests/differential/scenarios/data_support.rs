//! Helpers of the data scenarios (Produce, Fetch, ListOffsets, transactions): topics known by
//! each broker's own topic id, requests built per broker (topic ids and producer ids differ),
//! raw batch surgery (CRC32C, compression) and fetched-records scrubbing.

use std::fmt::Debug;
use std::io::Write;

use bytes::Bytes;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::Request;
use uuid::Uuid;

use super::super::support::requests::{creatable, TopicRef};
use super::super::{Ctx, KAFKA, KLAMM, SIDES};

/// A topic on both brokers: one name, each broker's own topic id.
pub struct Topic {
    pub name: String,
    pub ids: [Uuid; 2],
}

impl Topic {
    /// The topic as broker `side` knows it.
    pub fn at(&self, side: usize) -> TopicRef {
        TopicRef {
            name: self.name.clone(),
            id: self.ids[side],
        }
    }
}

/// A topic neither broker has (a random id, so Produce/Fetch v13+ ask for an unknown id).
pub fn unknown_topic(name: &str) -> Topic {
    Topic {
        name: name.to_string(),
        ids: [Uuid::from_u128(0x5eed_0000_0000_0000_0000_0000_0000_0001); 2],
    }
}

/// Creates `topic` on both brokers and waits for its leaders; returns its ids.
pub fn create(ctx: &mut Ctx, topic: &str, partitions: i32, configs: &[(&str, &str)]) -> Topic {
    let req = CreateTopicsRequest::default()
        .with_topics(vec![creatable(topic, partitions, configs)])
        .with_timeout_ms(30_000);
    let rs = ctx.send_each(&req, 7);
    let mut ids = [Uuid::nil(); 2];
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(
            r.topics[0].error_code, 0,
            "{}: creating {topic} on {}: {r:?}",
            ctx.scenario, SIDES[i]
        );
        ids[i] = r.topics[0].topic_id;
    }
    super::wait_for_leaders(ctx, topic, partitions);
    Topic {
        name: topic.to_string(),
        ids,
    }
}

/// Sends `make(side)` to each broker at `version` and compares the answers under `step@vN`.
pub fn each<R>(
    ctx: &mut Ctx,
    step: &str,
    version: i16,
    make: impl Fn(usize) -> R,
) -> [R::Response; 2]
where
    R: Request,
    R::Response: Debug,
{
    ctx.requests += 1;
    let k = ctx.conns[KAFKA].send(&make(KAFKA), version);
    let l = ctx.conns[KLAMM].send(&make(KLAMM), version);
    ctx.compare(&format!("{step}@v{version}"), &k, &l);
    [k, l]
}

/// Sends `make(side)` to each broker without comparing.
pub fn each_quiet<R: Request>(
    ctx: &mut Ctx,
    version: i16,
    make: impl Fn(usize) -> R,
) -> [R::Response; 2] {
    ctx.requests += 1;
    [
        ctx.conns[KAFKA].send(&make(KAFKA), version),
        ctx.conns[KLAMM].send(&make(KLAMM), version),
    ]
}

/// The Produce versions both serve that kafka-protocol encodes (v3+: v0-2 are removed in
/// Kafka 4 and the crate no longer writes them).
pub fn produce_versions(ctx: &Ctx) -> Vec<i16> {
    ctx.versions(ApiKey::Produce)
        .into_iter()
        .filter(|v| *v >= 3)
        .collect()
}

/// Each broker's idempotent producer id and epoch (InitProducerId v4, compared), once both
/// issue ids (Kafka's first requests get COORDINATOR_LOAD_IN_PROGRESS until its producer id
/// manager has a block from the controller).
pub fn idempotent_producer(ctx: &mut Ctx, step: &str) -> [(i64, i16); 2] {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(-1)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let probe = req.clone();
    ctx.wait_until("producer ids issued", move |c| {
        c.send(&probe, 4).error_code == 0
    });
    let rs = each(ctx, step, 4, |_| req.clone());
    rs.map(|r| (r.producer_id.0, r.producer_epoch))
}

/// The time-of-day digits in an error message (`Timestamp 1764... of message ...`), replaced so
/// messages that quote the broker's clock compare.
pub fn scrub_clock(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if digits.len() >= 12 {
            out.push_str("<ms>");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

// ---- raw batches (magic 2 layout, DefaultRecordBatch) ---------------------------------------

pub const MAGIC: usize = 16;
pub const CRC: usize = 17;
pub const ATTRIBUTES: usize = 21;
pub const BASE_TIMESTAMP: usize = 27;
pub const PRODUCER_ID: usize = 43;
pub const RECORD_COUNT: usize = 57;
pub const RECORDS: usize = 61;

/// Recomputes a batch's CRC32C (over attributes to the end), after an edit.
pub fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[ATTRIBUTES..]);
    batch[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
}

/// The same batch with its records compressed with `codec` (1 gzip, 2 snappy, 3 lz4, 4 zstd;
/// other ids keep the records as they are, for unknown codecs), CRC and length recomputed.
pub fn compressed(batch: &Bytes, codec: i16) -> Bytes {
    let records = &batch[RECORDS..];
    let body: Vec<u8> = match codec {
        1 => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(records).expect("gzip");
            e.finish().expect("gzip")
        }
        2 => snap::raw::Encoder::new()
            .compress_vec(records)
            .expect("snappy"),
        3 => {
            let mut e = lz4_flex::frame::FrameEncoder::new(Vec::new());
            e.write_all(records).expect("lz4");
            e.finish().expect("lz4")
        }
        4 => {
            ruzstd::encoding::compress_to_vec(records, ruzstd::encoding::CompressionLevel::Fastest)
        }
        _ => records.to_vec(),
    };
    let mut out = batch[..RECORDS].to_vec();
    out.extend_from_slice(&body);
    let len = (out.len() - 12) as i32;
    out[8..12].copy_from_slice(&len.to_be_bytes());
    let attrs = (i16::from_be_bytes([out[ATTRIBUTES], out[ATTRIBUTES + 1]]) & !0x07) | codec;
    out[ATTRIBUTES..ATTRIBUTES + 2].copy_from_slice(&attrs.to_be_bytes());
    fix_crc(&mut out);
    Bytes::from(out)
}

/// Fetched records with what must differ taken out: the producer id of idempotent and
/// transactional batches (each broker allocates its own), and for LogAppendTime and control
/// batches the broker-stamped timestamps; the CRC over them is zeroed then too. Everything else (offsets,
/// leader epoch, attributes, sequences, records, a trailing partial batch) stays byte for byte.
pub fn scrub_records(data: &Bytes) -> Bytes {
    let mut out = data.to_vec();
    let mut at = 0usize;
    while out.len() >= at + RECORDS {
        let len = i32::from_be_bytes(out[at + 8..at + 12].try_into().expect("4 bytes"));
        let end = at + 12 + len.max(0) as usize;
        if len <= 0 || end > out.len() {
            break;
        }
        let b = &mut out[at..end];
        let pid = i64::from_be_bytes(b[PRODUCER_ID..PRODUCER_ID + 8].try_into().expect("8"));
        let attrs = i16::from_be_bytes([b[ATTRIBUTES], b[ATTRIBUTES + 1]]);
        let mut scrubbed = false;
        if pid != -1 {
            b[PRODUCER_ID..PRODUCER_ID + 8].fill(0xEE);
            scrubbed = true;
        }
        // LogAppendTime (bit 3) and control batches (bit 5, the broker's transaction markers).
        if attrs & 0x28 != 0 {
            b[BASE_TIMESTAMP..PRODUCER_ID].fill(0xEE);
            scrubbed = true;
        }
        if scrubbed {
            b[CRC..CRC + 4].fill(0xEE);
        }
        at = end;
    }
    Bytes::from(out)
}

/// A Fetch response with its records scrubbed (`scrub_records`).
pub fn scrub_fetch(r: &FetchResponse) -> FetchResponse {
    let mut r = r.clone();
    for t in r.responses.iter_mut() {
        for p in t.partitions.iter_mut() {
            if let Some(data) = p.records.as_ref() {
                p.records = Some(scrub_records(data));
            }
        }
    }
    r
}

/// Sends a Fetch built per broker and compares the answers with scrubbed records.
pub fn fetch_each(
    ctx: &mut Ctx,
    step: &str,
    version: i16,
    make: impl Fn(usize) -> FetchRequest,
) -> [FetchResponse; 2] {
    let rs = each_quiet(ctx, version, make);
    let scrubbed = [scrub_fetch(&rs[KAFKA]), scrub_fetch(&rs[KLAMM])];
    ctx.compare(
        &format!("{step}@v{version}"),
        &scrubbed[KAFKA],
        &scrubbed[KLAMM],
    );
    rs
}
