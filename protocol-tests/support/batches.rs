//! Record batches built with kafka-protocol's `RecordBatchEncoder` (magic 2, uncompressed) and
//! fetched data decoded with `RecordBatchDecoder`.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    BatchDecodeInfo, Compression, Record, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType,
};

/// One record to produce.
#[derive(Clone, Debug, PartialEq)]
pub struct Rec {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Record timestamp (CreateTime).
    pub timestamp: i64,
}

/// A record with a key and value, timestamped now.
pub fn rec(key: &str, value: &str) -> Rec {
    Rec {
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
        timestamp: super::now_ms(),
    }
}

impl Rec {
    pub fn at(mut self, timestamp: i64) -> Rec {
        self.timestamp = timestamp;
        self
    }

    pub fn header(mut self, name: &str, value: Option<&str>) -> Rec {
        self.headers.push((
            name.to_string(),
            value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        ));
        self
    }
}

/// `n` records `key-i`/`value-i` (with `prefix`), timestamped now.
pub fn recs(prefix: &str, n: usize) -> Vec<Rec> {
    (0..n)
        .map(|i| rec(&format!("{prefix}-key-{i}"), &format!("{prefix}-value-{i}")))
        .collect()
}

/// The idempotent-producer fields of a batch.
#[derive(Clone, Copy, Debug)]
pub struct ProducerFields {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
}

/// An uncompressed batch without producer id (base sequence -1, like a plain producer).
pub fn batch(records: &[Rec]) -> Bytes {
    encode(records, None)
}

/// An uncompressed idempotent batch.
pub fn idempotent_batch(records: &[Rec], p: ProducerFields) -> Bytes {
    encode(records, Some(p))
}

/// An uncompressed transactional batch (KIP-98): the producer's id, epoch and sequence, with the
/// transactional attribute set.
pub fn transactional_batch(records: &[Rec], p: ProducerFields) -> Bytes {
    encode_with(records, Some(p), true)
}

fn encode(records: &[Rec], p: Option<ProducerFields>) -> Bytes {
    encode_with(records, p, false)
}

fn encode_with(records: &[Rec], p: Option<ProducerFields>, transactional: bool) -> Bytes {
    assert!(!records.is_empty());
    let (producer_id, producer_epoch, base_sequence) = match p {
        Some(p) => (p.producer_id, p.producer_epoch, p.base_sequence),
        None => (-1, -1, -1),
    };
    let records: Vec<Record> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut headers = IndexMap::new();
            for (k, v) in &r.headers {
                headers.insert(StrBytes::from_string(k.clone()), v.clone());
            }
            Record {
                transactional,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id,
                producer_epoch,
                timestamp_type: TimestampType::Creation,
                offset: i as i64,
                // The encoder keeps records in one batch while offset - sequence is constant,
                // and derives the base sequence from the first record.
                sequence: base_sequence.wrapping_add(i as i32),
                timestamp: r.timestamp,
                key: r.key.clone(),
                value: r.value.clone(),
                headers,
            }
        })
        .collect();
    let mut buf = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut buf,
        records.iter(),
        &RecordEncodeOptions {
            version: 2,
            compression: Compression::None,
        },
    )
    .expect("encode batch");
    let out = buf.freeze();
    assert_eq!(
        batch_infos(&out).len(),
        1,
        "the records must form one batch"
    );
    out
}

/// Every record in fetched (or produced) data.
pub fn decode_records(data: &Bytes) -> Vec<Record> {
    let mut buf = data.clone();
    RecordBatchDecoder::decode_all(&mut buf)
        .expect("decode record batches")
        .into_iter()
        .flat_map(|set| set.records)
        .collect()
}

/// The batch headers of fetched (or produced) data.
pub fn batch_infos(data: &Bytes) -> Vec<BatchDecodeInfo> {
    let mut buf = data.clone();
    RecordBatchDecoder::decode_batch_info(&mut buf).expect("decode batch headers")
}

/// Asserts that fetched records are exactly `expected`, at consecutive offsets from `first`.
pub fn assert_records(fetched: &[Record], expected: &[Rec], first_offset: i64) {
    assert_eq!(
        fetched.len(),
        expected.len(),
        "number of records fetched (offsets {:?})",
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>()
    );
    for (i, (got, want)) in fetched.iter().zip(expected).enumerate() {
        let at = first_offset + i as i64;
        assert_eq!(got.offset, at, "offset of record {i}");
        assert_eq!(got.key, want.key, "key at offset {at}");
        assert_eq!(got.value, want.value, "value at offset {at}");
        assert_eq!(got.timestamp, want.timestamp, "timestamp at offset {at}");
        let headers: Vec<(String, Option<Bytes>)> = got
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.clone()))
            .collect();
        assert_eq!(headers, want.headers, "headers at offset {at}");
    }
}

/// The complete batches in fetched data, as raw bytes. A trailing partial batch (Kafka may cut
/// the last batch at the fetch size limit) is left out.
pub fn raw_batches(data: &Bytes) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while data.len() >= at + 12 {
        let len = i32::from_be_bytes(data[at + 8..at + 12].try_into().expect("4 bytes"));
        let end = at + 12 + len.max(0) as usize;
        if len <= 0 || end > data.len() {
            break;
        }
        out.push(data.slice(at..end));
        at = end;
    }
    out
}

/// Offset of a raw batch's base offset, attributes and max timestamp fields (magic 2).
pub const BATCH_ATTRIBUTES: usize = 21;
pub const BATCH_MAX_TIMESTAMP: usize = 35;

/// The `maxTimestamp` of a raw batch: for a LogAppendTime batch, the time the broker stamped.
pub fn batch_max_timestamp(batch: &[u8]) -> i64 {
    i64::from_be_bytes(
        batch[BATCH_MAX_TIMESTAMP..BATCH_MAX_TIMESTAMP + 8]
            .try_into()
            .expect("8 bytes"),
    )
}

/// Whether a raw batch's timestamp type is LogAppendTime (attribute bit 3).
pub fn batch_is_log_append_time(batch: &[u8]) -> bool {
    let attributes = i16::from_be_bytes(
        batch[BATCH_ATTRIBUTES..BATCH_ATTRIBUTES + 2]
            .try_into()
            .expect("2 bytes"),
    );
    attributes & 0x08 != 0
}
