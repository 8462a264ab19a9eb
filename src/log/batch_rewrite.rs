//! Re-writing a magic-v2 record batch around a records section the broker already has (raw
//! records copied verbatim), for the two places the broker writes batches itself: re-encoding a
//! produced batch into the topic's `compression.type`, and the log cleaner's filtered batches.
//! Individual records are never re-encoded through a record struct, so keys, values and
//! duplicate header names stay byte-for-byte as the producer sent them.

use crate::log::batch::{self, Compression, HEADER_LEN, LOG_OVERHEAD};
use crate::log::compression::{self, Levels};
use crate::log::records::RecordsError;

/// `RecordBatch.DELETE_HORIZON_FLAG` (KIP-534): baseTimestamp holds the delete horizon.
pub const DELETE_HORIZON_MASK: i16 = 0x40;
const COMPRESSION_MASK: i16 = 0x07;

/// Header fields of a batch to write.
#[derive(Clone, Copy, Debug)]
pub struct BatchSpec {
    pub base_offset: i64,
    pub partition_leader_epoch: i32,
    /// Attributes without the codec bits (they come from the codec passed to [`build`]).
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub record_count: i32,
}

impl BatchSpec {
    /// The header fields of an existing batch.
    pub fn of(h: &batch::BatchHeader<'_>) -> BatchSpec {
        BatchSpec {
            base_offset: h.base_offset(),
            partition_leader_epoch: h.partition_leader_epoch(),
            attributes: h.attributes() & !COMPRESSION_MASK,
            last_offset_delta: h.last_offset_delta(),
            base_timestamp: h.base_timestamp(),
            max_timestamp: h.max_timestamp(),
            producer_id: h.producer_id(),
            producer_epoch: h.producer_epoch(),
            base_sequence: h.base_sequence(),
            record_count: h.record_count(),
        }
    }
}

/// Builds a batch: header from `spec`, `records` (uncompressed, concatenated raw records)
/// compressed with `codec`, lengths and CRC-32C computed. A failed compression is an error, so
/// no batch is ever built around records it lost.
pub fn build(
    spec: &BatchSpec,
    codec: Compression,
    levels: Levels,
    records: &[u8],
) -> Result<Vec<u8>, RecordsError> {
    let body = if codec == Compression::None || records.is_empty() {
        None
    } else {
        Some(compression::compress(codec, levels, records)?)
    };
    let body: &[u8] = body.as_deref().unwrap_or(records);
    let codec_bits = if records.is_empty() { 0 } else { codec.id() };
    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.extend_from_slice(&spec.base_offset.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
    b.extend_from_slice(&spec.partition_leader_epoch.to_be_bytes());
    b.push(2);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&((spec.attributes & !COMPRESSION_MASK) | codec_bits).to_be_bytes());
    b.extend_from_slice(&spec.last_offset_delta.to_be_bytes());
    b.extend_from_slice(&spec.base_timestamp.to_be_bytes());
    b.extend_from_slice(&spec.max_timestamp.to_be_bytes());
    b.extend_from_slice(&spec.producer_id.to_be_bytes());
    b.extend_from_slice(&spec.producer_epoch.to_be_bytes());
    b.extend_from_slice(&spec.base_sequence.to_be_bytes());
    b.extend_from_slice(&spec.record_count.to_be_bytes());
    b.extend_from_slice(body);
    let crc = batch::compute_crc(&b);
    b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch as test_batch;
    use crate::log::batch::BatchHeader;
    use crate::log::records::{records_section, RecordIter};

    #[test]
    fn rebuilds_an_equal_batch_in_every_codec() {
        let orig = test_batch(&[b"a", b"bb", b"ccc"], 1000, 7, 1, 5);
        let h = BatchHeader::new(&orig).unwrap();
        let section = records_section(&orig).unwrap().into_owned();
        assert_eq!(
            build(
                &BatchSpec::of(&h),
                Compression::None,
                Levels::default(),
                &section
            )
            .unwrap(),
            orig
        );
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let b = build(&BatchSpec::of(&h), codec, Levels::default(), &section).unwrap();
            let nh = BatchHeader::new(&b).unwrap();
            assert!(batch::crc_is_valid(&b));
            assert_eq!(nh.compression(), Some(codec));
            assert_eq!(
                (nh.producer_id(), nh.base_sequence(), nh.record_count()),
                (7, 5, 3)
            );
            let s = records_section(&b).unwrap();
            let vals: Vec<_> = RecordIter::new(&s, 3)
                .map(|r| r.unwrap().value.unwrap().to_vec())
                .collect();
            assert_eq!(vals, vec![b"a".to_vec(), b"bb".to_vec(), b"ccc".to_vec()]);
        }
    }
}
