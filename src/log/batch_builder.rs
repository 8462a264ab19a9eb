//! Builds magic-v2 record batches for the broker's own writers (the group coordinator now, the
//! transaction coordinator later): uncompressed, CreateTime, records in Kafka's `DefaultRecord`
//! layout, CRC-32C over attributes..end (Kafka's `MemoryRecordsBuilder` with `CompressionType.NONE`).
//!
//! Clients' batches are never rebuilt: they are stored as sent. Only coordinators, whose records
//! Klamm itself produces, come through here.

use crate::log::batch::{self, HEADER_LEN, LOG_OVERHEAD};
use crate::log::records::write_varlong;

/// One record to put in a batch: a key and a value, where `None` is null (a tombstone value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimpleRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// Who writes the batch (producer id, epoch and first sequence; -1 for non-idempotent writes).
#[derive(Clone, Copy, Debug)]
pub struct Producer {
    pub id: i64,
    pub epoch: i16,
    pub base_sequence: i32,
    pub transactional: bool,
}

impl Producer {
    /// A write outside any idempotent producer or transaction (`RecordBatch.NO_PRODUCER_ID`).
    pub const NONE: Producer = Producer {
        id: batch::NO_PRODUCER_ID,
        epoch: -1,
        base_sequence: batch::NO_SEQUENCE,
        transactional: false,
    };
}

/// A record with headers (the share-group dead-letter copies): key, value, and `(key, value)`
/// headers, `None` being null.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct HeaderedRecord {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<Header>,
}

/// Builds one uncompressed batch holding `records`, all stamped with `timestamp`, with base
/// offset 0 and partition leader epoch -1 (the log patches both on append).
pub fn build(records: &[SimpleRecord], timestamp: i64, producer: Producer) -> Vec<u8> {
    build_from(
        records
            .iter()
            .map(|r| (r.key.as_deref(), r.value.as_deref(), &[][..])),
        records.len(),
        timestamp,
        producer,
    )
}

/// [`build`] for records with headers.
pub fn build_headered(records: &[HeaderedRecord], timestamp: i64, producer: Producer) -> Vec<u8> {
    build_from(
        records
            .iter()
            .map(|r| (r.key.as_deref(), r.value.as_deref(), r.headers.as_slice())),
        records.len(),
        timestamp,
        producer,
    )
}

/// A record header: key, and value (`None`: null).
pub type Header = (Vec<u8>, Option<Vec<u8>>);

fn build_from<'a>(
    records: impl Iterator<Item = (Option<&'a [u8]>, Option<&'a [u8]>, &'a [Header])> + Clone,
    count: usize,
    timestamp: i64,
    producer: Producer,
) -> Vec<u8> {
    let mut body = Vec::with_capacity(
        records
            .clone()
            .map(|(k, v, h)| {
                16 + k.map_or(0, |k| k.len())
                    + v.map_or(0, |v| v.len())
                    + h.iter()
                        .map(|(hk, hv)| 10 + hk.len() + hv.as_ref().map_or(0, |v| v.len()))
                        .sum::<usize>()
            })
            .sum(),
    );
    let mut scratch = Vec::new();
    for (i, (key, value, headers)) in records.enumerate() {
        scratch.clear();
        scratch.push(0u8); // record attributes: unused
        write_varlong(&mut scratch, 0); // timestamp delta
        write_varlong(&mut scratch, i as i64); // offset delta
        put_nullable(&mut scratch, key);
        put_nullable(&mut scratch, value);
        write_varlong(&mut scratch, headers.len() as i64);
        for (hk, hv) in headers {
            write_varlong(&mut scratch, hk.len() as i64);
            scratch.extend_from_slice(hk);
            put_nullable(&mut scratch, hv.as_deref());
        }
        write_varlong(&mut body, scratch.len() as i64);
        body.extend_from_slice(&scratch);
    }
    let records_len = count;
    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.extend_from_slice(&0i64.to_be_bytes()); // base offset
    b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes()); // partition leader epoch
    b.push(2); // magic
    b.extend_from_slice(&0u32.to_be_bytes()); // crc, filled below
    let attributes: i16 = if producer.transactional { 0x10 } else { 0 };
    b.extend_from_slice(&attributes.to_be_bytes());
    b.extend_from_slice(&((records_len as i32) - 1).max(0).to_be_bytes()); // last offset delta
    b.extend_from_slice(&timestamp.to_be_bytes()); // base timestamp
    b.extend_from_slice(&timestamp.to_be_bytes()); // max timestamp
    b.extend_from_slice(&producer.id.to_be_bytes());
    b.extend_from_slice(&producer.epoch.to_be_bytes());
    b.extend_from_slice(&producer.base_sequence.to_be_bytes());
    b.extend_from_slice(&(records_len as i32).to_be_bytes());
    b.extend_from_slice(&body);
    let crc = batch::compute_crc(&b);
    b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

fn put_nullable(out: &mut Vec<u8>, v: Option<&[u8]>) {
    match v {
        None => write_varlong(out, -1),
        Some(v) => {
            write_varlong(out, v.len() as i64);
            out.extend_from_slice(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::BatchHeader;
    use crate::log::records::{records_section, RecordIter};

    #[test]
    fn builds_a_valid_batch_with_tombstones() {
        let recs = vec![
            SimpleRecord {
                key: Some(b"k1".to_vec()),
                value: Some(b"v1".to_vec()),
            },
            SimpleRecord {
                key: Some(b"k2".to_vec()),
                value: None,
            },
        ];
        let b = build(&recs, 1234, Producer::NONE);
        assert!(batch::crc_is_valid(&b));
        let h = BatchHeader::new(&b).unwrap();
        assert_eq!(h.size(), b.len());
        assert_eq!(h.record_count(), 2);
        assert_eq!(h.last_offset_delta(), 1);
        assert_eq!(h.max_timestamp(), 1234);
        assert_eq!(h.producer_id(), -1);
        let section = records_section(&b).unwrap();
        let got: Vec<_> = RecordIter::new(&section, 2)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got[0].key, Some(&b"k1"[..]));
        assert_eq!(got[0].value, Some(&b"v1"[..]));
        assert_eq!(got[1].offset_delta, 1);
        assert_eq!(got[1].value, None);
    }
}
