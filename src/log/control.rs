//! Control batches: the COMMIT and ABORT markers a transaction coordinator writes to every
//! partition of a transaction (Kafka's `ControlRecordType`, `EndTransactionMarker` and
//! `MemoryRecords.withEndTransactionMarker`).
//!
//! A marker is a batch with the transactional and control attribute bits, the producer's id and
//! epoch, no sequence, and one record whose key is `version i16 (0), type i16` (0 abort, 1
//! commit) and whose value is `version i16 (0), coordinatorEpoch i32`.

use crate::log::batch::{self, BatchHeader, HEADER_LEN, LOG_OVERHEAD};
use crate::log::records::{self, RecordIter};

/// `ControlRecordType.ABORT`
pub const ABORT: i16 = 0;
/// `ControlRecordType.COMMIT`
pub const COMMIT: i16 = 1;

/// Attributes of a marker batch: transactional (0x10) and control (0x20).
const MARKER_ATTRIBUTES: i16 = 0x30;

/// Builds an end-transaction marker batch (base offset 0, leader epoch -1: the log patches
/// both on append).
pub fn end_txn_marker(
    producer_id: i64,
    producer_epoch: i16,
    coordinator_epoch: i32,
    commit: bool,
    timestamp: i64,
) -> Vec<u8> {
    let mut record = Vec::with_capacity(24);
    record.push(0u8); // attributes
    records::write_varlong(&mut record, 0); // timestamp delta
    records::write_varlong(&mut record, 0); // offset delta
    records::write_varlong(&mut record, 4); // key length
    record.extend_from_slice(&0i16.to_be_bytes());
    record.extend_from_slice(&(if commit { COMMIT } else { ABORT }).to_be_bytes());
    records::write_varlong(&mut record, 6); // value length
    record.extend_from_slice(&0i16.to_be_bytes());
    record.extend_from_slice(&coordinator_epoch.to_be_bytes());
    records::write_varlong(&mut record, 0); // no headers
    let mut body = Vec::with_capacity(record.len() + 2);
    records::write_varlong(&mut body, record.len() as i64);
    body.extend_from_slice(&record);

    let mut b = Vec::with_capacity(HEADER_LEN + body.len());
    b.extend_from_slice(&0i64.to_be_bytes());
    b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + body.len()) as i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.push(2);
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&MARKER_ATTRIBUTES.to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes()); // last offset delta
    b.extend_from_slice(&timestamp.to_be_bytes());
    b.extend_from_slice(&timestamp.to_be_bytes());
    b.extend_from_slice(&producer_id.to_be_bytes());
    b.extend_from_slice(&producer_epoch.to_be_bytes());
    b.extend_from_slice(&batch::NO_SEQUENCE.to_be_bytes());
    b.extend_from_slice(&1i32.to_be_bytes());
    b.extend_from_slice(&body);
    let crc = batch::compute_crc(&b);
    b[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
    b
}

/// The control record type of a whole control batch (`ControlRecordType.parse` of its first
/// record's key), or `None` if it is not a readable control batch.
pub fn control_type(batch_bytes: &[u8]) -> Option<i16> {
    let h = BatchHeader::new(batch_bytes)?;
    if !h.is_control() || batch_bytes.len() < h.size() {
        return None;
    }
    let section = records::records_section(&batch_bytes[..h.size()]).ok()?;
    let first = RecordIter::new(&section, h.record_count()).next()?.ok()?;
    let key = first.key.filter(|k| k.len() >= 4)?;
    Some(i16::from_be_bytes([key[2], key[3]]))
}

/// The coordinator epoch a marker batch carries (`EndTransactionMarker.coordinatorEpoch`, the
/// value's `version i16, coordinatorEpoch i32`), or `None` if it is not a readable marker.
pub fn marker_coordinator_epoch(batch_bytes: &[u8]) -> Option<i32> {
    let h = BatchHeader::new(batch_bytes)?;
    if !h.is_control() || batch_bytes.len() < h.size() {
        return None;
    }
    let section = records::records_section(&batch_bytes[..h.size()]).ok()?;
    let first = RecordIter::new(&section, h.record_count()).next()?.ok()?;
    let value = first.value.filter(|v| v.len() >= 6)?;
    Some(i32::from_be_bytes([value[2], value[3], value[4], value[5]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_roundtrip() {
        let b = end_txn_marker(42, 3, 7, true, 1000);
        assert!(batch::crc_is_valid(&b));
        let h = BatchHeader::new(&b).unwrap();
        assert!(h.is_control() && h.is_transactional());
        assert_eq!(
            (h.producer_id(), h.producer_epoch(), h.record_count()),
            (42, 3, 1)
        );
        assert_eq!(h.size(), b.len());
        assert_eq!(control_type(&b), Some(COMMIT));
        assert_eq!(marker_coordinator_epoch(&b), Some(7));
        assert_eq!(
            control_type(&end_txn_marker(1, 0, 0, false, 0)),
            Some(ABORT)
        );
    }
}
