//! Readers of stored batches facing batches that produce validation would refuse today but an
//! older broker (or a damaged disk) left in the log: they must stop or fail cleanly, never panic
//! or allocate from a count read from disk.

use super::*;
use crate::log::batch::test_support::batch;
use crate::log::batch::Compression;
use crate::log::batch_rewrite::{self, BatchSpec};
use crate::log::compression::Levels;
use crate::settings::Settings;
use bytes::Bytes;
use std::io::Write;

fn cfg() -> Arc<LogConfig> {
    Arc::new(LogConfig::new(&Settings::defaults(), &BTreeMap::new()))
}

fn open(dir: &Path, recovery: Recovery) -> Partition {
    Partition::open("t".into(), Uuid::nil(), 0, dir, cfg(), recovery, None).unwrap()
}

/// Appends `bytes` as produce did before it validated records: header fields taken as they are.
fn append_raw(p: &Partition, bytes: Vec<u8>) -> AppendInfo {
    let h = BatchHeader::new(&bytes).unwrap();
    let v = ValidBatch {
        record_count: h.record_count(),
        last_offset_delta: h.last_offset_delta(),
        max_timestamp: h.max_timestamp(),
        log_append_time: None,
        bytes: Bytes::from(bytes),
    };
    p.append(&v, AppendOrigin::Client).unwrap()
}

/// The stored poison pill of issue 11: a CRC-valid header declaring 2^31-1 records.
fn claims_i32_max_records(compressed: bool) -> Vec<u8> {
    let one = batch(&[b"p"], 2000, -1, -1, -1);
    if !compressed {
        // Uncompressed: the count cannot fit the bytes (nor the last offset delta of 0).
        let mut b = one;
        b[batch::RECORD_COUNT..batch::RECORD_COUNT + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = batch::compute_crc(&b);
        b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
        return b;
    }
    // Compressed with a consistent last offset delta: only the records can tell it is wrong.
    let spec = BatchSpec {
        base_offset: 0,
        partition_leader_epoch: -1,
        attributes: 0,
        last_offset_delta: i32::MAX - 1,
        base_timestamp: 2000,
        max_timestamp: 2000,
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        record_count: i32::MAX,
    };
    batch_rewrite::build(
        &spec,
        Compression::Gzip,
        Levels::default(),
        &one[HEADER_LEN..],
    )
    .unwrap()
}

#[test]
fn list_offsets_by_timestamp_survives_a_compressed_batch_claiming_i32_max_records() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), Recovery::Clean);
    append_raw(&p, batch(&[b"a", b"b"], 1000, -1, -1, -1));
    let poison = append_raw(&p, claims_i32_max_records(true));
    assert_eq!(
        (poison.base_offset, poison.last_offset),
        (2, i32::MAX as i64 + 1)
    );
    assert_eq!(p.offset_for_timestamp(500).unwrap(), Some((1000, 0)));
    let err = p.offset_for_timestamp(1500).unwrap_err();
    assert_eq!(err.code(), 2, "CORRUPT_MESSAGE: {err}");
    assert!(p.max_timestamp_offset().is_ok());
    drop(p);
    // Again after a recovery that validates every batch (its CRC is valid, so it stays).
    let p = open(dir.path(), Recovery::From(0));
    assert_eq!(p.log_end_offset(), i32::MAX as i64 + 2);
    assert_eq!(p.offset_for_timestamp(1500).unwrap_err().code(), 2);
}

#[test]
fn an_uncompressed_batch_claiming_i32_max_records_ends_the_valid_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = open(dir.path(), Recovery::Clean);
    append_raw(&p, batch(&[b"a", b"b"], 1000, -1, -1, -1));
    assert_eq!(append_raw(&p, claims_i32_max_records(false)).base_offset, 2);
    assert_eq!(
        append_raw(&p, batch(&[b"c"], 3000, -1, -1, -1)).base_offset,
        3
    );
    // Readers stop at the inconsistent header, as at the end of the log.
    assert_eq!(p.offset_for_timestamp(500).unwrap(), Some((1000, 0)));
    assert_eq!(p.offset_for_timestamp(1500).unwrap(), None);
    let d = p
        .read(0, 1 << 20, true)
        .unwrap()
        .records
        .read_to_bytes()
        .unwrap();
    assert!(!d.is_empty());
    drop(p);
    // Recovery truncates the log at it.
    let p = open(dir.path(), Recovery::From(0));
    assert_eq!(p.log_end_offset(), 2);
    assert_eq!(
        append_raw(&p, batch(&[b"d"], 4000, -1, -1, -1)).base_offset,
        2
    );
    assert_eq!(p.offset_for_timestamp(3500).unwrap(), Some((4000, 2)));
}

#[test]
fn fetch_location_stops_before_a_short_batch_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000000.log");
    let first = batch(&[b"a", b"b"], 1, -1, -1, -1);
    let mut second = batch(&[b"c"], 2, -1, -1, -1);
    second[..8].copy_from_slice(&2i64.to_be_bytes());
    let mut bytes = first.clone();
    bytes.extend_from_slice(&second);
    let short_at = bytes.len() as u64;
    for len in 14..49i32 {
        let mut short = batch(&[b"x"], 3, -1, -1, -1);
        short[..8].copy_from_slice(&3i64.to_be_bytes());
        short[batch::LENGTH..batch::LENGTH + 4].copy_from_slice(&len.to_be_bytes());
        let mut file_bytes = bytes.clone();
        file_bytes.extend_from_slice(&short);
        fs::File::create(&path)
            .unwrap()
            .write_all(&file_bytes)
            .unwrap();
        let file = fs::File::open(&path).unwrap();
        let end = file_bytes.len() as u64;
        let locate = |offset: i64| {
            locate_batches(&file, 0, end, 0, offset, i64::MAX - 1, 1 << 20, true).unwrap()
        };
        assert_eq!(locate(0), (0, short_at as usize), "batchLength {len}");
        assert_eq!(locate(2), (first.len() as u64, second.len()));
        assert_eq!(locate(3), (short_at, 0));
    }
}
