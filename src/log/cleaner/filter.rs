//! What the cleaner keeps of one batch (Kafka's `Cleaner.cleanInto` record filter with
//! `MemoryRecords.filterTo`).
//!
//! A record survives when it is past the range the key map covers, or when it is the latest
//! record of its key and is not a tombstone whose delete horizon has passed. Records without a
//! key are dropped. Control batches are kept whole (transaction markers stay until a transaction
//! coordinator can tell when their transaction's data is gone). A batch whose records all
//! survive is copied byte for byte; otherwise the surviving records are copied verbatim into a
//! new batch with the same base offset, last offset delta, producer id/epoch/sequence and
//! attributes, compressed with the batch's codec. A batch with no survivors disappears, except
//! the last batch of an active producer and the last batch of the cleaning round, which stay as
//! empty batches so producer sequence state and the log end survive (Kafka's `RETAIN_EMPTY`).
//!
//! Transactions (KIP-98, Kafka's `Cleaner` with `CleanedTransactionMetadata`, see [`super::txn`]):
//! the records of aborted transactions are removed, and never shadow a committed value of their
//! key. A marker whose transaction has no batches left is stamped with a delete horizon like a
//! tombstone and dropped by a clean after it.
//!
//! Tombstones (KIP-534): the first clean that keeps a tombstone stamps its batch with a delete
//! horizon (`now + delete.retention.ms`, stored in the base timestamp with attribute bit 6); a
//! clean after the horizon drops it.

use std::collections::HashMap;

use super::offset_map::OffsetMap;
use super::txn::{CleanedTransactions, MarkerFate};
use crate::log::batch::{BatchHeader, Compression, NO_PRODUCER_ID};
use crate::log::batch_rewrite::{self, BatchSpec, DELETE_HORIZON_MASK};
use crate::log::compression::Levels;
use crate::log::records::{self, read_varlong, write_varlong, RecordIter, RecordsError};

/// The facts a cleaning round decides with.
pub struct FilterContext<'a> {
    pub map: &'a OffsetMap,
    pub now_ms: i64,
    pub delete_retention_ms: i64,
    /// Producer id -> last offset of its last data batch.
    pub last_data_offsets: &'a HashMap<i64, i64>,
    /// The first offset this round does not clean.
    pub upper_bound_offset: i64,
    pub levels: Levels,
}

/// Aborted transactions by producer id, as `(first offset, marker offset)` ranges.
pub type AbortedRanges = HashMap<i64, Vec<(i64, i64)>>;

/// Whether a data batch belongs to an aborted transaction.
pub fn is_aborted(h: &BatchHeader<'_>, aborted: &AbortedRanges) -> bool {
    h.is_transactional()
        && !h.is_control()
        && aborted.get(&h.producer_id()).is_some_and(|ranges| {
            ranges
                .iter()
                .any(|(first, marker)| h.base_offset() >= *first && h.base_offset() < *marker)
        })
}

/// The outcome for one batch.
#[derive(Debug)]
pub enum Filtered {
    /// Write the original bytes.
    Original,
    /// Write these bytes instead.
    Rewritten(Vec<u8>),
    /// Drop the batch.
    Dropped,
}

/// Counts for the cleaner's statistics.
#[derive(Debug, Default, Clone, Copy)]
pub struct FilterStats {
    pub records_read: u64,
    pub records_kept: u64,
}

/// Decides what to keep of `batch` (one complete batch as stored); batches come in offset order
/// and `txns` follows the transactions along.
pub fn filter_batch(
    batch: &[u8],
    ctx: &FilterContext<'_>,
    txns: &mut CleanedTransactions,
    stats: &mut FilterStats,
) -> Result<Filtered, RecordsError> {
    let h = BatchHeader::new(batch).ok_or(RecordsError::Malformed("short batch"))?;
    let count = h.record_count().max(0);
    stats.records_read += count as u64;
    let horizon = (h.attributes() & DELETE_HORIZON_MASK != 0).then(|| h.base_timestamp());
    let last_of_round = h.last_offset() + 1 == ctx.upper_bound_offset;
    if h.is_control() {
        let fate = txns.on_control_batch(&h, batch);
        return match (fate, horizon) {
            (MarkerFate::Removable, Some(hz)) if hz <= ctx.now_ms && !last_of_round => {
                Ok(Filtered::Dropped)
            }
            (MarkerFate::Removable, None) => {
                // The first clean that finds the transaction gone stamps the delete horizon.
                stats.records_kept += count as u64;
                let section = records::records_section(batch)?;
                let mut all = Vec::with_capacity(records::capacity_hint(count, section.len()));
                for r in RecordIter::new(&section, count) {
                    let r = r?;
                    all.push((r.raw, h.base_timestamp().saturating_add(r.timestamp_delta)));
                }
                let hz = ctx.now_ms.saturating_add(ctx.delete_retention_ms);
                Ok(Filtered::Rewritten(rebuild(
                    &h,
                    Compression::None,
                    &all,
                    Some(hz),
                    section.len(),
                    ctx,
                )?))
            }
            _ => {
                stats.records_kept += count as u64;
                Ok(Filtered::Original)
            }
        };
    }
    let retain_empty = (h.producer_id() != NO_PRODUCER_ID
        && ctx.last_data_offsets.get(&h.producer_id()) == Some(&h.last_offset()))
        || last_of_round;
    let codec = h
        .compression()
        .ok_or(RecordsError::UnknownCodec(h.attributes()))?;
    let section = records::records_section(batch)?;
    let aborted = txns.on_data_batch(&h);
    let mut kept: Vec<(&[u8], i64)> =
        Vec::with_capacity(records::capacity_hint(count, section.len()));
    let mut tombstones = false;
    let mut read = 0;
    for r in RecordIter::new(&section, count) {
        let r = r?;
        read += 1;
        let offset = h.base_offset() + r.offset_delta as i64;
        let keep = if aborted {
            false
        } else if offset > ctx.map.latest_offset() {
            true
        } else if let Some(key) = r.key {
            let latest = offset >= ctx.map.get(OffsetMap::hash(key));
            let value_kept = r.value.is_some() || horizon.is_none_or(|hz| ctx.now_ms < hz);
            latest && value_kept
        } else {
            false
        };
        if keep {
            tombstones |= r.value.is_none();
            kept.push((r.raw, h.base_timestamp().saturating_add(r.timestamp_delta)));
        }
    }
    if read != count {
        return Err(RecordsError::Malformed(
            "record count does not match the batch header",
        ));
    }
    stats.records_kept += kept.len() as u64;
    let set_horizon = tombstones && horizon.is_none();
    if kept.len() == count as usize && !set_horizon {
        return Ok(Filtered::Original);
    }
    if kept.is_empty() {
        if !retain_empty {
            return Ok(Filtered::Dropped);
        }
        // `DefaultRecordBatch.writeEmptyHeader`: no records, both timestamps the batch's max.
        let spec = BatchSpec {
            attributes: h.attributes() & !DELETE_HORIZON_MASK,
            base_timestamp: h.max_timestamp(),
            record_count: 0,
            ..BatchSpec::of(&h)
        };
        return Ok(Filtered::Rewritten(batch_rewrite::build(
            &spec,
            Compression::None,
            ctx.levels,
            &[],
        )?));
    }
    let new_horizon = if set_horizon {
        Some(ctx.now_ms.saturating_add(ctx.delete_retention_ms))
    } else {
        horizon
    };
    Ok(Filtered::Rewritten(rebuild(
        &h,
        codec,
        &kept,
        new_horizon,
        section.len(),
        ctx,
    )?))
}

/// A new batch of `kept` records (raw, absolute timestamp) with `h`'s base offset, producer
/// fields and attributes; with a delete horizon it becomes the base timestamp (KIP-534).
fn rebuild(
    h: &BatchHeader<'_>,
    codec: Compression,
    kept: &[(&[u8], i64)],
    new_horizon: Option<i64>,
    size_hint: usize,
    ctx: &FilterContext<'_>,
) -> Result<Vec<u8>, RecordsError> {
    let base_timestamp = new_horizon.unwrap_or(h.base_timestamp());
    let mut out = Vec::with_capacity(size_hint);
    let mut max_ts = i64::MIN;
    for (raw, ts) in kept {
        max_ts = max_ts.max(*ts);
        if base_timestamp == h.base_timestamp() {
            out.extend_from_slice(raw);
        } else {
            rebase_timestamp(raw, ts - base_timestamp, &mut out)?;
        }
    }
    let spec = BatchSpec {
        attributes: if new_horizon.is_some() {
            h.attributes() | DELETE_HORIZON_MASK
        } else {
            h.attributes()
        },
        base_timestamp,
        max_timestamp: if h.is_log_append_time() {
            h.max_timestamp()
        } else {
            max_ts
        },
        record_count: kept.len() as i32,
        ..BatchSpec::of(h)
    };
    batch_rewrite::build(&spec, codec, ctx.levels, &out)
}

/// Copies a raw record with a new timestamp delta: `length, attributes, timestampDelta, rest`.
fn rebase_timestamp(raw: &[u8], delta: i64, out: &mut Vec<u8>) -> Result<(), RecordsError> {
    let mut pos = 0;
    read_varlong(raw, &mut pos)?; // length
    let attributes = *raw
        .get(pos)
        .ok_or(RecordsError::Malformed("empty record"))?;
    let mut after = pos + 1;
    read_varlong(raw, &mut after)?; // old timestamp delta
    let mut body = Vec::with_capacity(raw.len() + 8);
    body.push(attributes);
    write_varlong(&mut body, delta);
    body.extend_from_slice(&raw[after..]);
    write_varlong(out, body.len() as i64);
    out.extend_from_slice(&body);
    Ok(())
}
