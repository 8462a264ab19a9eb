//! Cleaning one partition (Kafka's `Cleaner.doClean`): build the key map over the dirty range,
//! then rewrite every segment below the map's end, group by group, into `.cleaned` segments
//! and swap them in. Reads and writes happen without the partition lock; only the swap takes
//! it. The cleaner holds the partition's maintenance lock throughout, so retention waits.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{info, warn};

use super::filter::{self, FilterContext, FilterStats, Filtered};
use super::offset_map::{OffsetMap, BYTES_PER_ENTRY};
use super::throttler::Throttler;
use super::txn::CleanedTransactions;
use crate::log::batch::{BatchHeader, InvalidBatch};
use crate::log::batch_reader::FileBatches;
use crate::log::compression::Levels;
use crate::log::partition::{self, SegmentSnapshot};
use crate::log::records::RecordsError;
use crate::log::segment::LogSegment;
use crate::log::Partition;

/// Why a cleaning stopped early.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// Shutdown, or the log changed underneath (deleted, segments removed): try again later.
    #[error("cleaning aborted")]
    Aborted,
    #[error("I/O error while cleaning: {0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Records(#[from] RecordsError),
    #[error("{0}")]
    Log(#[from] crate::error::Error),
    /// The segment's batches end before its size; rewriting it would drop the rest.
    #[error("segment holds no valid batch at position {position}: {why}")]
    CorruptSegment { position: u64, why: InvalidBatch },
}

/// The range to clean, chosen by the cleaner manager.
#[derive(Clone, Debug)]
pub struct LogToClean {
    pub first_dirty_offset: i64,
    /// The first offset that must not be cleaned (a segment boundary).
    pub first_uncleanable_offset: i64,
}

/// What a cleaning did.
#[derive(Debug, Default, Clone, Copy)]
pub struct CleanerStats {
    /// New first dirty offset (the cleaner checkpoint).
    pub end_offset: i64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub records_read: u64,
    pub records_kept: u64,
    pub map_utilization: f64,
    pub elapsed: Duration,
}

/// Limits one cleaner works within.
pub struct CleanerLimits {
    /// Bytes the key map may take (`log.cleaner.dedupe.buffer.size` / threads).
    pub dedupe_buffer_bytes: usize,
    pub load_factor: f64,
    /// Read buffer size (`log.cleaner.io.buffer.size`); grows for larger batches.
    pub io_buffer_bytes: usize,
    pub max_io_bytes_per_second: f64,
}

/// One cleaning of one partition.
pub struct Cleaner<'a> {
    partition: &'a Arc<Partition>,
    limits: &'a CleanerLimits,
    stop: &'a AtomicBool,
    throttler: Throttler,
    stats: CleanerStats,
}

impl<'a> Cleaner<'a> {
    pub fn new(
        partition: &'a Arc<Partition>,
        limits: &'a CleanerLimits,
        stop: &'a AtomicBool,
    ) -> Cleaner<'a> {
        Cleaner {
            partition,
            limits,
            stop,
            throttler: Throttler::new(limits.max_io_bytes_per_second),
            stats: CleanerStats::default(),
        }
    }

    fn check_done(&self) -> Result<(), CleanError> {
        if self.stop.load(Ordering::Acquire) || self.partition.is_deleted() {
            return Err(CleanError::Aborted);
        }
        Ok(())
    }

    /// Accounts I/O against the rate limit, sleeping in short steps so shutdown stays prompt.
    fn throttle(&mut self, bytes: usize) -> Result<(), CleanError> {
        let mut pause = self.throttler.account(bytes);
        while !pause.is_zero() {
            self.check_done()?;
            let step = pause.min(Duration::from_millis(50));
            std::thread::sleep(step);
            pause -= step;
        }
        Ok(())
    }

    fn account_read(&mut self, bytes: u64) -> Result<(), CleanError> {
        if bytes == 0 {
            return Ok(());
        }
        self.stats.bytes_read += bytes;
        self.throttle(bytes as usize)
    }

    /// Cleans the partition's log up to the key map's reach.
    pub fn clean(mut self, target: &LogToClean, now_ms: i64) -> Result<CleanerStats, CleanError> {
        let started = Instant::now();
        let p = self.partition;
        let _maintenance = p.lock_maintenance();
        let config = p.config();
        let (segments, _, _) = p.segment_snapshot();
        let dirty: Vec<&SegmentSnapshot> = segments
            .iter()
            .filter(|s| {
                s.base_offset < target.first_uncleanable_offset
                    && segment_end(&segments, s) > target.first_dirty_offset
            })
            .collect();
        // Size the map to the range: it cannot hold more keys than the range has offsets.
        let max_slots = (self.limits.dedupe_buffer_bytes / BYTES_PER_ENTRY).max(2);
        let span = (target.first_uncleanable_offset - target.first_dirty_offset).max(1) as f64;
        let wanted = (span / self.limits.load_factor.clamp(0.01, 0.99)) as usize + 2;
        let mut map = OffsetMap::new(wanted.min(max_slots), self.limits.load_factor);
        let aborted_txns = p.aborted_transactions(-1, target.first_uncleanable_offset);
        let mut aborted: filter::AbortedRanges = HashMap::new();
        for a in &aborted_txns {
            aborted
                .entry(a.producer_id)
                .or_default()
                .push((a.first_offset, a.last_offset));
        }
        self.build_offset_map(&segments, &dirty, target, &mut map, &aborted)?;
        let end_offset = map.latest_offset() + 1;
        self.stats.end_offset = end_offset.max(target.first_dirty_offset);
        if end_offset <= target.first_dirty_offset {
            return Ok(self.stats);
        }

        let last_data_offsets: HashMap<i64, i64> = p.last_data_offsets_of_producers();
        let ctx = FilterContext {
            map: &map,
            now_ms,
            delete_retention_ms: config.delete_retention_ms,
            last_data_offsets: &last_data_offsets,
            upper_bound_offset: target.first_uncleanable_offset,
            levels: Levels {
                gzip: config.gzip_level,
                lz4: config.lz4_level,
                zstd: config.zstd_level,
            },
        };
        let to_clean: Vec<SegmentSnapshot> = segments
            .iter()
            .filter(|s| {
                s.base_offset < end_offset && s.base_offset < target.first_uncleanable_offset
            })
            .cloned()
            .collect();
        let groups = group_segments_by_size(
            &to_clean,
            config.segment_bytes.max(0) as u64,
            config.segment_index_bytes.max(0) as u64,
            target.first_uncleanable_offset,
        );
        let seg_limits = partition::segment_limits(&config);
        let mut filter_stats = FilterStats::default();
        let mut txns = CleanedTransactions::new(aborted_txns);
        for group in groups {
            self.check_done()?;
            let mut cleaned = LogSegment::create_with_suffix(
                p.dir(),
                group[0].base_offset,
                seg_limits,
                ".cleaned",
            )?;
            let result = self.clean_group(&group, &mut cleaned, &ctx, &mut txns, &mut filter_stats);
            if let Err(e) = result {
                let _ = cleaned.delete_files();
                return Err(e);
            }
            cleaned.on_become_inactive();
            if let Err(e) = cleaned.flush() {
                let _ = cleaned.delete_files();
                return Err(e.into());
            }
            if !p.replace_segments(&group, cleaned)? {
                return Err(CleanError::Aborted);
            }
        }
        // Aborted transactions without batches left need no index entry any more (Kafka leaves
        // them out of the cleaned segment's `.txnindex`).
        p.forget_aborted_transactions(&txns.emptied_aborted)?;
        self.stats.records_read = filter_stats.records_read;
        self.stats.records_kept = filter_stats.records_kept;
        self.stats.map_utilization = map.utilization();
        self.stats.elapsed = started.elapsed();
        info!(
            partition = %p.name(), end_offset, bytes_read = self.stats.bytes_read, bytes_written = self.stats.bytes_written,
            records_read = self.stats.records_read, records_kept = self.stats.records_kept,
            map_utilization = format!("{:.3}", self.stats.map_utilization),
            elapsed_ms = self.stats.elapsed.as_millis() as u64, "cleaned log"
        );
        Ok(self.stats)
    }

    /// Kafka's `buildOffsetMap`: the latest offset of every key in the dirty range, as far as
    /// the map holds.
    fn build_offset_map(
        &mut self,
        all: &[SegmentSnapshot],
        dirty: &[&SegmentSnapshot],
        target: &LogToClean,
        map: &mut OffsetMap,
        aborted: &filter::AbortedRanges,
    ) -> Result<(), CleanError> {
        let start = target.first_dirty_offset;
        let name = self.partition.name();
        for seg in dirty {
            let next_start = segment_end(all, seg).min(target.first_uncleanable_offset);
            let mut full = false;
            self.for_each_batch(&seg.file, seg.size, false, &mut |h| {
                if h.last_offset() < start {
                    return Ok(true);
                }
                if !h.is_control() && !filter::is_aborted(h, aborted) {
                    let keys = match batch_keys(h) {
                        Ok(keys) => keys,
                        Err(e) => {
                            // Kept unchanged by `clean_group`: its records shadow nothing.
                            warn!(partition = %name, base_offset = h.base_offset(), "log cleaner skips a malformed batch: {e}");
                            Vec::new()
                        }
                    };
                    for (hash, offset) in keys {
                        if offset >= start {
                            if map.is_full() {
                                full = true;
                                return Ok(false);
                            }
                            map.put(hash, offset);
                        }
                    }
                }
                map.update_latest_offset(h.last_offset());
                Ok(true)
            })?;
            if full {
                return Ok(());
            }
            // Offsets left out by compaction at the segment's end still count as covered.
            map.update_latest_offset(next_start - 1);
        }
        Ok(())
    }

    /// Writes what survives of `group` into `cleaned` (Kafka's `cleanSegments`/`cleanInto`).
    fn clean_group(
        &mut self,
        group: &[SegmentSnapshot],
        cleaned: &mut LogSegment,
        ctx: &FilterContext<'_>,
        txns: &mut CleanedTransactions,
        stats: &mut FilterStats,
    ) -> Result<(), CleanError> {
        let name = self.partition.name();
        for seg in group {
            let mut written = 0usize;
            let mut error = None;
            self.for_each_batch(&seg.file, seg.size, true, &mut |h| {
                let b = h.bytes();
                let out: Option<std::borrow::Cow<'_, [u8]>> =
                    match filter::filter_batch(b, ctx, txns, stats) {
                        Ok(Filtered::Original) => Some(b.into()),
                        Ok(Filtered::Rewritten(v)) => Some(v.into()),
                        Ok(Filtered::Dropped) => None,
                        Err(e) => {
                            // Its batch range is copied as it is, and cleaning goes on.
                            warn!(partition = %name, base_offset = h.base_offset(), "log cleaner keeps a malformed batch unchanged: {e}");
                            Some(b.into())
                        }
                    };
                if let Some(out) = out {
                    let max_timestamp = BatchHeader::parse(&out)
                        .map_err(|_| RecordsError::Malformed("rewritten batch has no header"))?
                        .max_timestamp();
                    if let Err(e) =
                        cleaned.append(&out[..16], &out[16..], h.last_offset(), max_timestamp)
                    {
                        error = Some(e);
                        return Ok(false);
                    }
                    written += out.len();
                }
                Ok(true)
            })?;
            if let Some(e) = error {
                return Err(e.into());
            }
            self.stats.bytes_written += written as u64;
            self.throttle(written)?;
        }
        Ok(())
    }

    /// Calls `f` with each batch (a header viewing all its bytes) of the first `size` bytes of
    /// a segment file, read through the log's one batch reader `io_buffer_bytes` at a time
    /// (more for a larger batch), until `f` returns false. With `to_the_end`, the file must hold
    /// valid batches up to `size`: a segment rewritten from it must not lose a corrupt or torn
    /// tail the reader cannot step over (Kafka's cleaner fails on a corrupt batch too).
    fn for_each_batch(
        &mut self,
        file: &File,
        size: u64,
        to_the_end: bool,
        f: &mut dyn FnMut(&BatchHeader<'_>) -> Result<bool, CleanError>,
    ) -> Result<(), CleanError> {
        let mut batches = FileBatches::new(file, 0, size, self.limits.io_buffer_bytes);
        let mut accounted = 0u64;
        loop {
            self.check_done()?;
            // Reads are accounted before the next one (the last batch's after the loop).
            let fresh = batches.bytes_read() - accounted;
            accounted += fresh;
            self.account_read(fresh)?;
            let Some((_, h)) = batches.next_batch()? else {
                break;
            };
            if !f(&h)? {
                return Ok(());
            }
        }
        self.account_read(batches.bytes_read() - accounted)?;
        match batches.stop() {
            Some(why) if to_the_end => Err(CleanError::CorruptSegment {
                position: batches.position(),
                why,
            }),
            _ => Ok(()),
        }
    }
}

/// `(key hash, offset)` of every keyed record of a data batch, or the reason its records
/// cannot be read; all or nothing, so a malformed batch adds no key to the map.
fn batch_keys(h: &BatchHeader<'_>) -> Result<Vec<(u128, i64)>, RecordsError> {
    let section = crate::log::records::records_section(h.bytes())?;
    let mut keys = Vec::new();
    let mut read = 0i64;
    for r in crate::log::records::RecordIter::new(&section, h.record_count()) {
        let r = r?;
        read += 1;
        if let Some(key) = r.key {
            keys.push((
                OffsetMap::hash(key),
                h.base_offset().saturating_add(r.offset_delta as i64),
            ));
        }
    }
    if read != h.record_count() as i64 {
        return Err(RecordsError::Malformed(
            "record count does not match the batch header",
        ));
    }
    Ok(keys)
}

/// The offset where the next segment starts (or the segment's own end for the last one).
fn segment_end(all: &[SegmentSnapshot], seg: &SegmentSnapshot) -> i64 {
    all.iter()
        .find(|s| s.base_offset > seg.base_offset)
        .map(|s| s.base_offset)
        .unwrap_or(seg.next_offset)
}

/// Kafka's `groupSegmentsBySize`: consecutive segments whose log and index sizes fit one
/// segment and whose offsets fit a 32-bit delta from the group's base.
pub fn group_segments_by_size(
    segments: &[SegmentSnapshot],
    max_size: u64,
    max_index_size: u64,
    first_uncleanable_offset: i64,
) -> Vec<Vec<SegmentSnapshot>> {
    let mut groups = Vec::new();
    let mut i = 0;
    while i < segments.len() {
        let mut group = vec![segments[i].clone()];
        let (mut log, (mut idx, mut tidx)) = (segments[i].size, segments[i].index_bytes);
        i += 1;
        while i < segments.len() {
            let s = &segments[i];
            let last_offset = segments
                .get(i + 1)
                .map(|n| n.base_offset - 1)
                .unwrap_or(first_uncleanable_offset - 1);
            let fits = log + s.size <= max_size
                && idx + s.index_bytes.0 <= max_index_size
                && tidx + s.index_bytes.1 <= max_index_size
                && (s.size == 0 || last_offset - group[0].base_offset <= i32::MAX as i64);
            if !fits {
                break;
            }
            log += s.size;
            idx += s.index_bytes.0;
            tidx += s.index_bytes.1;
            group.push(s.clone());
            i += 1;
        }
        groups.push(group);
    }
    groups
}
