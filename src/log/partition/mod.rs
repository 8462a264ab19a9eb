//! One topic-partition's log: segments, offsets, producer state, flushing and fetch wake-ups
//! (the roles of Kafka's `UnifiedLog`, `LocalLog` and `Partition` on a single broker).
//!
//! Concurrency: every mutation happens under one short `std::sync::Mutex`. The only I/O under
//! it is the append's `writev` and, on roll, creating the new segment's files, writing the old
//! one's indexes and the producer-state snapshot, all without fsync (as Kafka's
//! `UnifiedLog.roll`, `takeSnapshot(sync = false)`). Every fsync (segments, indexes, the
//! snapshots rolled since the last flush, the directory) runs outside it on the blocking pool
//! in [`Partition::flush_to`], before the recovery point moves; fetches read the segment file
//! outside it. Appended bytes never change below the
//! log end offset, so a reader holding a file handle and a byte range needs no lock.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Instant;

use tokio::sync::Notify;
use tracing::{info, warn};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::log::batch::{self, BatchHeader, HEADER_LEN};
use crate::log::batch_reader::FileBatches;
use crate::log::config::LogConfig;
use crate::log::control;
use crate::log::producer_state::{self, ProducerStateManager, SequenceCheck};
use crate::log::records::{self, RecordIter};
use crate::log::segment::{self, LogSegment, SegmentLimits};
use crate::log::space::{self, LogDirSpace};
use crate::log::txn_index::{self, AbortedTxn};
use crate::log::validator::{AppendOrigin, ValidBatch};
use crate::log::FileSlice;

mod loader;
mod retention;
#[cfg(test)]
mod stored_batch_tests;
mod swap;
#[cfg(test)]
mod txn_tests;

use loader::delete_segment_files;
pub use swap::SegmentSnapshot;

/// The leader epoch of every partition: a single broker is elected once (KRaft starts at 0).
pub const LEADER_EPOCH: i32 = 0;

/// How much to trust the files at start-up.
#[derive(Clone, Copy, Debug)]
pub enum Recovery {
    /// The broker shut down cleanly: trust indexes and sizes.
    Clean,
    /// Unclean shutdown: validate every segment from the one holding this offset on.
    From(i64),
}

/// The result of an append.
#[derive(Clone, Copy, Debug)]
pub struct AppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    pub log_append_time: i64,
    pub log_start_offset: i64,
    pub record_count: i32,
    /// The batch was a retry of one already in the log; offsets are the original ones.
    pub duplicate: bool,
    /// `flush.messages` was reached: the caller must flush before acknowledging.
    pub needs_flush: bool,
    /// A segment was rolled; the previous one should be flushed in the background.
    pub rolled_at: Option<i64>,
}

/// Records read for a fetch: a region of a segment file.
#[derive(Clone, Debug)]
pub struct FetchData {
    pub records: FileSlice,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
}

struct LogState {
    segments: BTreeMap<i64, LogSegment>,
    log_start_offset: i64,
    next_offset: i64,
    recovery_point: i64,
    unflushed_messages: i64,
    producers: ProducerStateManager,
    /// Aborted transactions by marker offset, loaded from the `.txnindex` files (Kafka keeps
    /// them per segment; one ordered map answers a fetch's range query directly).
    aborted: BTreeMap<i64, AbortedTxn>,
    poisoned: Option<String>,
}

impl LogState {
    /// `UnifiedLog.lastStableOffset`: the first offset of the oldest open transaction, or the
    /// high watermark when none is open.
    fn last_stable_offset(&self) -> i64 {
        self.producers
            .first_unstable_offset()
            .map_or(self.next_offset, |o| o.min(self.next_offset))
    }
}

impl LogState {
    fn active(&mut self) -> &mut LogSegment {
        self.segments
            .values_mut()
            .next_back()
            .expect("a log always has an active segment")
    }
}

/// A partition's log.
pub struct Partition {
    pub topic: Arc<str>,
    pub topic_id: Uuid,
    pub index: i32,
    dir: PathBuf,
    config: RwLock<Arc<LogConfig>>,
    state: Mutex<LogState>,
    waiters: Mutex<Vec<Arc<Notify>>>,
    flush_lock: tokio::sync::Mutex<()>,
    /// Serialises the background work that replaces or removes segments (the log cleaner and
    /// retention), so each plans against a segment list only it changes. Appends never take it.
    maintenance: Mutex<()>,
    log_end_offset: AtomicI64,
    log_start_offset: AtomicI64,
    last_stable_offset: AtomicI64,
    deleted: AtomicBool,
    /// The data directory's space state: appends that run out of space report there.
    space: Arc<LogDirSpace>,
}

/// The segment limits a topic config implies.
pub fn segment_limits(config: &LogConfig) -> SegmentLimits {
    limits(config)
}

fn limits(config: &LogConfig) -> SegmentLimits {
    SegmentLimits {
        index_interval_bytes: config.index_interval_bytes.max(0) as u64,
        max_index_bytes: config.segment_index_bytes.max(8) as usize,
    }
}

/// `<topic>-<partition>`: Kafka's partition directory name.
pub fn dir_name(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

impl Partition {
    /// The log state. A panic while the lock was held may have left it half-updated (say,
    /// bytes appended to the segment but `next_offset` not advanced), so the first locker after
    /// one puts the partition in the poisoned state, as a failed fsync does (fjall's
    /// `PoisonDart`): writes get KAFKA_STORAGE_ERROR until a restart recovers the log from its
    /// files, while what was acknowledged before stays readable.
    fn lock(&self) -> MutexGuard<'_, LogState> {
        match self.state.lock() {
            Ok(st) => st,
            Err(poisoned) => {
                let mut st = poisoned.into_inner();
                if st.poisoned.is_none() {
                    let reason = format!(
                        "a request panicked while holding the log of {}",
                        self.name()
                    );
                    warn!("{reason}; refusing further writes to this partition");
                    st.poisoned = Some(reason);
                }
                // Recorded in `st.poisoned` now; the mutex's flag has nothing more to say.
                self.state.clear_poison();
                st
            }
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn config(&self) -> Arc<LogConfig> {
        self.config
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_config(&self, config: Arc<LogConfig>) {
        *self.config.write().unwrap_or_else(|e| e.into_inner()) = config;
    }

    /// `topic-partition`, for messages.
    pub fn name(&self) -> String {
        dir_name(&self.topic, self.index)
    }

    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset.load(Ordering::Acquire)
    }

    /// The high watermark: everything appended, since a single broker is the whole ISR.
    pub fn high_watermark(&self) -> i64 {
        self.log_end_offset()
    }

    /// The last stable offset (KIP-98): below it every transaction is decided, so a
    /// read_committed consumer may read up to it.
    pub fn last_stable_offset(&self) -> i64 {
        self.last_stable_offset.load(Ordering::Acquire)
    }

    /// The aborted transactions a read_committed fetch of `[fetch_offset, upper_bound)` must
    /// report (Kafka's `LocalLog.collectAbortedTransactions`): those whose marker is at or after
    /// the fetch offset and whose first offset is below the bound.
    pub fn aborted_transactions(&self, fetch_offset: i64, upper_bound: i64) -> Vec<AbortedTxn> {
        self.lock()
            .aborted
            .range(fetch_offset..)
            .map(|(_, a)| *a)
            .filter(|a| a.first_offset < upper_bound)
            .collect()
    }

    /// Drops aborted transactions the cleaner has removed every batch of from the transaction
    /// index, in memory and in the `.txnindex` files: a read_committed consumer needs an entry
    /// only to skip those batches.
    pub fn forget_aborted_transactions(&self, gone: &[AbortedTxn]) -> Result<()> {
        if gone.is_empty() {
            return Ok(());
        }
        let mut st = self.lock();
        for a in gone {
            st.aborted.remove(&a.last_offset);
        }
        let markers: std::collections::HashSet<i64> = gone.iter().map(|a| a.last_offset).collect();
        let mut by_file: BTreeMap<i64, Vec<AbortedTxn>> = BTreeMap::new();
        for (base, a) in txn_index::read_all(&self.dir) {
            by_file.entry(base).or_default().push(a);
        }
        for (base, entries) in by_file {
            if entries.iter().any(|a| markers.contains(&a.last_offset)) {
                let keep: Vec<AbortedTxn> = entries
                    .into_iter()
                    .filter(|a| !markers.contains(&a.last_offset))
                    .collect();
                txn_index::rewrite(&self.dir, base, &keep)?;
            }
        }
        drop(st);
        Ok(())
    }

    /// Open transactions as `(first offset, producer id)`, oldest first.
    pub fn ongoing_transactions(&self) -> Vec<(i64, i64)> {
        self.lock().producers.ongoing_transactions().collect()
    }

    /// True when `producer_id` has a transaction open on this partition (Produce's transaction
    /// verification asks this for every transactional batch: no list is built).
    pub fn has_ongoing_transaction(&self, producer_id: i64) -> bool {
        self.lock()
            .producers
            .ongoing_transactions()
            .any(|(_, pid)| pid == producer_id)
    }

    /// Refuses a write on behalf of `producer_id` at an epoch older than the partition last
    /// saw (Kafka's `ProducerAppendInfo.checkProducerEpoch`).
    pub fn check_producer_epoch(&self, producer_id: i64, epoch: i16) -> Result<()> {
        self.lock().producers.check_marker(producer_id, epoch)
    }

    /// Writes a COMMIT or ABORT marker for `producer_id` (Kafka's `UnifiedLog.appendAsLeader`
    /// with `AppendOrigin.COORDINATOR` for a `WriteTxnMarkers` entry).
    pub fn append_txn_marker(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        let bytes = bytes::Bytes::from(control::end_txn_marker(
            producer_id,
            producer_epoch,
            coordinator_epoch,
            commit,
            now_ms,
        ));
        let config = self.config();
        let batch = crate::log::validator::validate(
            &bytes,
            i16::MAX,
            &config,
            AppendOrigin::Coordinator,
            now_ms,
            &self.name(),
        )?;
        self.append(&batch, AppendOrigin::Coordinator)
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset.load(Ordering::Acquire)
    }

    pub fn recovery_point(&self) -> i64 {
        self.lock().recovery_point
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// Total bytes of all segments.
    pub fn size_bytes(&self) -> u64 {
        self.lock().segments.values().map(|s| s.size()).sum()
    }

    pub fn segment_count(&self) -> usize {
        self.lock().segments.len()
    }

    /// Appends one validated batch, assigning offsets (Kafka's `UnifiedLog.append`).
    pub fn append(&self, batch: &ValidBatch, origin: AppendOrigin) -> Result<AppendInfo> {
        let config = self.config();
        let bytes = &batch.bytes;
        let header = BatchHeader::new(bytes)
            .ok_or_else(|| Error::CorruptMessage("short record batch".into()))?;
        let mut st = self.lock();
        if self.is_deleted() {
            return Err(Error::UnknownTopicOrPartition);
        }
        if let Some(reason) = &st.poisoned {
            return Err(Error::KafkaStorage(reason.clone()));
        }
        let marker_coordinator_epoch = if header.is_control() {
            st.producers
                .check_marker(header.producer_id(), header.producer_epoch())?;
            let epoch = control::marker_coordinator_epoch(bytes);
            if let Some(e) = epoch {
                st.producers
                    .check_coordinator_epoch(header.producer_id(), e)?;
            }
            epoch
        } else {
            None
        };
        if origin == AppendOrigin::Client {
            if let SequenceCheck::Duplicate(dup) = st.producers.check(&header)? {
                return Ok(AppendInfo {
                    base_offset: dup.first_offset,
                    last_offset: dup.last_offset,
                    // `UnifiedLog.append`: a duplicate is answered with the original batch's
                    // timestamp (`BatchMetadata.timestamp`, its max timestamp).
                    log_append_time: dup.timestamp,
                    log_start_offset: st.log_start_offset,
                    record_count: batch.record_count,
                    duplicate: true,
                    needs_flush: false,
                    rolled_at: None,
                });
            }
        }
        let base = st.next_offset;
        let last = base + batch.last_offset_delta as i64;
        let mut rolled_at = None;
        let should_roll = st.active().should_roll(
            bytes.len() as u64,
            batch.max_timestamp,
            last,
            config.segment_bytes.max(0) as u64,
            config.segment_ms,
            config.segment_jitter_ms,
        );
        if should_roll {
            if let Err(e) = self.roll(&mut st, base, &config) {
                self.space.note_error(&e);
                return Err(e.into());
            }
            rolled_at = Some(base);
        }
        let prefix = batch::patched_prefix(bytes, base, LEADER_EPOCH);
        if let Err(e) = st
            .active()
            .append(&prefix, &bytes[16..], last, batch.max_timestamp)
        {
            let reason = format!("append to {} failed: {e}", self.name());
            // Out of space, the segment append cut off what it wrote: the log is as before
            // and the next append may fit. Anything else leaves state we cannot trust.
            if !self.space.note_error(&e) {
                warn!("{reason}; refusing further writes to this partition");
                st.poisoned = Some(reason.clone());
            }
            return Err(Error::KafkaStorage(reason));
        }
        self.space.note_write();
        let ended_txn = st.producers.update(&header, base, last);
        if let Some(e) = marker_coordinator_epoch {
            st.producers.set_coordinator_epoch(header.producer_id(), e);
        }
        st.next_offset = last + 1;
        if let Some(first_offset) = ended_txn {
            if control::control_type(bytes) == Some(control::ABORT) {
                let entry = AbortedTxn {
                    producer_id: header.producer_id(),
                    first_offset,
                    last_offset: base,
                    last_stable_offset: st.last_stable_offset(),
                };
                let active = st.active().base_offset;
                if let Err(e) = txn_index::append(&self.dir, active, &entry) {
                    // The marker is in the log; start-up rebuilds the entry from it.
                    warn!(partition = %self.name(), "failed to append to the transaction index: {e}");
                }
                st.aborted.insert(base, entry);
            }
        }
        let lso = st.last_stable_offset();
        st.unflushed_messages += batch.record_count as i64;
        let needs_flush = st.unflushed_messages >= config.flush_messages;
        let log_start_offset = st.log_start_offset;
        self.log_end_offset.store(last + 1, Ordering::Release);
        self.last_stable_offset.store(lso, Ordering::Release);
        drop(st);
        self.wake_waiters();
        Ok(AppendInfo {
            base_offset: base,
            last_offset: last,
            log_append_time: batch.log_append_time.unwrap_or(-1),
            log_start_offset,
            record_count: batch.record_count,
            duplicate: false,
            needs_flush,
            rolled_at,
        })
    }

    fn roll(&self, st: &mut LogState, new_base: i64, config: &LogConfig) -> io::Result<()> {
        {
            let active = st.active();
            active.on_become_inactive();
            active.persist_indexes()?;
        }
        let seg = LogSegment::create(&self.dir, new_base, limits(config))?;
        st.segments.insert(new_base, seg);
        // Kafka snapshots producer state at every roll so start-up replays one segment at most.
        // Unsynced, as `UnifiedLog.roll` does (`takeSnapshot(sync = false)`): this runs under the
        // partition lock, and `flush_to` fsyncs it before the recovery point passes `new_base`.
        if let Err(e) = st.producers.write_snapshot(&self.dir, new_base, false) {
            warn!(partition = %self.name(), "failed to write producer snapshot: {e}");
        }
        producer_state::clean_snapshots(&self.dir, new_base, 3);
        Ok(())
    }

    /// Reads whole batches starting with the one that contains `fetch_offset`, up to
    /// `max_bytes` (at least one batch when `min_one`; KIP-74).
    pub fn read(&self, fetch_offset: i64, max_bytes: usize, min_one: bool) -> Result<FetchData> {
        self.read_isolated(fetch_offset, max_bytes, min_one, false)
    }

    /// [`Partition::read`] with an isolation level: read_committed stops before the last stable
    /// offset (Kafka's `FetchIsolation.TXN_COMMITTED`), so no undecided transaction is returned.
    pub fn read_isolated(
        &self,
        fetch_offset: i64,
        max_bytes: usize,
        min_one: bool,
        read_committed: bool,
    ) -> Result<FetchData> {
        let (file, start_pos, end_pos, end_hint, hw, lso, log_start) = {
            let st = self.lock();
            if self.is_deleted() {
                return Err(Error::UnknownTopicOrPartition);
            }
            let hw = st.next_offset;
            let lso = st.last_stable_offset();
            let upper = if read_committed { lso } else { hw };
            let log_start = st.log_start_offset;
            if fetch_offset < log_start || fetch_offset > hw {
                return Err(Error::OffsetOutOfRange {
                    offset: fetch_offset,
                    log_start_offset: log_start,
                    high_watermark: hw,
                });
            }
            // The segment holding the offset; if the offset is past its end (a gap left by
            // compaction or an empty tail), the next segment.
            let seg = st
                .segments
                .range(..=fetch_offset)
                .next_back()
                .map(|(_, s)| s)
                .filter(|s| s.next_offset() > fetch_offset)
                .or_else(|| st.segments.range(fetch_offset + 1..).next().map(|(_, s)| s));
            let seg = match seg {
                Some(seg) if fetch_offset < upper && (max_bytes > 0 || min_one) => seg,
                _ => {
                    return Ok(FetchData {
                        records: FileSlice::empty(self.any_file(&st)),
                        high_watermark: hw,
                        last_stable_offset: lso,
                        log_start_offset: log_start,
                    })
                }
            };
            let pos = if seg.base_offset > fetch_offset {
                0
            } else {
                seg.index_lookup(fetch_offset).1 as u64
            };
            // An indexed batch start near where the response must end, so finding the last
            // whole batch reads only a few headers.
            let (hint_offset, hint) =
                seg.index_lookup_position((pos + max_bytes as u64).min(u32::MAX as u64) as u32);
            // Batches before an indexed one below the bound are below it too; past the
            // bound the walk must check every header.
            let hint = if hint_offset < upper {
                hint as u64
            } else {
                pos
            };
            (seg.file(), pos, seg.size(), hint, hw, lso, log_start)
        };
        let max_offset = if read_committed && lso < hw {
            lso
        } else {
            i64::MAX
        };
        let (position, len) = locate_batches(
            &file,
            start_pos,
            end_pos,
            end_hint,
            fetch_offset,
            max_offset,
            max_bytes,
            min_one,
        )?;
        Ok(FetchData {
            records: FileSlice {
                file,
                position,
                len,
            },
            high_watermark: hw,
            last_stable_offset: lso,
            log_start_offset: log_start,
        })
    }

    fn any_file(&self, st: &LogState) -> Arc<fs::File> {
        st.segments
            .values()
            .next_back()
            .expect("a log always has an active segment")
            .file()
    }

    /// fsyncs everything appended before `offset` (and the indexes), once; concurrent callers
    /// share one fsync. After a failed fsync the partition refuses writes (fsyncgate: the
    /// kernel may have dropped the dirty pages, so pretending would lose acknowledged data).
    pub async fn flush_to(self: &Arc<Self>, offset: i64) -> Result<()> {
        let _guard = self.flush_lock.lock().await;
        let (files, snapshots, target) = {
            let mut st = self.lock();
            if st.recovery_point >= offset.min(st.next_offset) {
                return Ok(());
            }
            if let Some(reason) = &st.poisoned {
                return Err(Error::KafkaStorage(reason.clone()));
            }
            let from = st.recovery_point;
            let mut files = Vec::new();
            let bases: Vec<i64> = st
                .segments
                .iter()
                .filter(|(_, s)| s.next_offset() > from || s.is_empty())
                .map(|(b, _)| *b)
                .collect();
            // A roll wrote `<base>.snapshot` unsynced for every segment it created; those
            // created since the recovery point are fsynced here, before it moves past them.
            let snapshots: Vec<i64> = bases.iter().copied().filter(|&b| b >= from).collect();
            for b in bases {
                if let Some(seg) = st.segments.get_mut(&b) {
                    seg.persist_indexes()?;
                    files.push(seg.file());
                }
            }
            (files, snapshots, st.next_offset)
        };
        let dir = self.dir.clone();
        let fsync_started = Instant::now();
        let result = tokio::task::spawn_blocking(move || -> io::Result<()> {
            for f in files {
                f.sync_data()?;
            }
            producer_state::sync_snapshots(&dir, &snapshots)?;
            sync_dir(&dir)
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        crate::metrics::get()
            .topics
            .flushed(fsync_started.elapsed());
        let mut st = self.lock();
        match result {
            Ok(()) => {
                if target > st.recovery_point {
                    st.recovery_point = target;
                }
                if target >= st.next_offset {
                    st.unflushed_messages = 0;
                }
                Ok(())
            }
            Err(e) => {
                // Poisoned even when out of space: after a failed fsync the kernel may have
                // dropped the dirty pages, so only a restart (re-reading the files) is honest.
                self.space.note_error(&e);
                let reason = format!("fsync of {} failed: {e}", self.name());
                warn!("{reason}; refusing further writes to this partition");
                st.poisoned = Some(reason.clone());
                Err(Error::KafkaStorage(reason))
            }
        }
    }

    /// Synchronous flush of everything (shutdown): indexes, log files, producer snapshot.
    pub fn close(&self) -> io::Result<()> {
        let mut st = self.lock();
        let next = st.next_offset;
        for seg in st.segments.values_mut() {
            seg.on_become_inactive();
            seg.flush()?;
        }
        st.producers.write_snapshot(&self.dir, next, true)?;
        producer_state::clean_snapshots(&self.dir, next, 3);
        st.recovery_point = next;
        sync_dir(&self.dir)
    }

    /// True when unflushed data is older than `flush.ms` (checked by the background flusher).
    pub fn flush_due(&self, last_flush: Instant) -> bool {
        let cfg = self.config();
        let st = self.lock();
        st.recovery_point < st.next_offset
            && cfg.flush_ms < i64::MAX
            && last_flush.elapsed().as_millis() as i64 >= cfg.flush_ms
    }

    /// Registers a fetch waiting for data; appends wake it (no polling).
    pub fn register_waiter(&self, n: &Arc<Notify>) {
        let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        if !w.iter().any(|x| Arc::ptr_eq(x, n)) {
            w.push(n.clone());
        }
    }

    pub fn unregister_waiter(&self, n: &Arc<Notify>) {
        let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
        w.retain(|x| !Arc::ptr_eq(x, n));
    }

    fn wake_waiters(&self) {
        let waiters = {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if w.is_empty() {
                return;
            }
            std::mem::take(&mut *w)
        };
        for n in waiters {
            n.notify_one();
        }
    }

    /// Marks the partition deleted: appends and reads fail, waiting fetches wake up.
    pub fn mark_deleted(&self) {
        self.deleted.store(true, Ordering::Release);
        self.wake_waiters();
    }

    /// Producer state snapshot for DescribeProducers and friends.
    pub fn with_producers<R>(&self, f: impl FnOnce(&ProducerStateManager) -> R) -> R {
        f(&self.lock().producers)
    }

    /// ListOffsets MAX_TIMESTAMP (-3): the first record carrying the largest timestamp
    /// (Kafka's `UnifiedLog.fetchOffsetByTimestamp` with KIP-734).
    pub fn max_timestamp_offset(&self) -> Result<Option<(i64, i64)>> {
        let (file_seg, max_ts, offset_of_max) = {
            let st = self.lock();
            let Some(seg) = st
                .segments
                .values()
                .filter(|s| s.max_timestamp() >= 0)
                .fold(None::<&LogSegment>, |best, s| match best {
                    Some(b) if b.max_timestamp() >= s.max_timestamp() => Some(b),
                    _ => Some(s),
                })
            else {
                return Ok(None);
            };
            let (_, pos) = seg.index_lookup(seg.offset_of_max_timestamp());
            (
                (seg.file(), pos as u64, seg.size()),
                seg.max_timestamp(),
                seg.offset_of_max_timestamp(),
            )
        };
        let (file, start, end) = file_seg;
        let mut found = None;
        scan_file_batches(&file, start, end, &mut |h| {
            let batch = h.bytes();
            if h.max_timestamp() == max_ts && h.last_offset() <= offset_of_max.max(h.last_offset())
            {
                found = Some(first_record_with(batch, h, |ts| ts == max_ts));
                return false;
            }
            true
        })?;
        Ok(found.flatten().map(|off| (max_ts, off)))
    }

    /// ListOffsets by timestamp: the first record with timestamp >= `target` at or after the
    /// log start offset (Kafka's `LogSegment.findOffsetByTimestamp`).
    pub fn offset_for_timestamp(&self, target: i64) -> Result<Option<(i64, i64)>> {
        let candidates: Vec<(Arc<fs::File>, u64, u64)> = {
            let st = self.lock();
            let log_start = st.log_start_offset;
            st.segments
                .values()
                .filter(|s| s.max_timestamp() >= target)
                .map(|s| {
                    let ts_pos = s.timestamp_start_position(target) as u64;
                    let start_pos = if log_start > s.base_offset {
                        s.index_lookup(log_start).1 as u64
                    } else {
                        0
                    };
                    (s.file(), ts_pos.max(start_pos), s.size())
                })
                .collect()
        };
        let log_start = self.log_start_offset();
        for (file, start, end) in candidates {
            let mut found: Option<(i64, i64)> = None;
            let mut error = None;
            scan_file_batches(&file, start, end, &mut |h| {
                let batch = h.bytes();
                if h.max_timestamp() < target || h.last_offset() < log_start {
                    return true;
                }
                if h.is_log_append_time() {
                    found = Some((h.max_timestamp(), h.base_offset().max(log_start)));
                    return false;
                }
                match records_with_timestamps(batch, h) {
                    Ok(list) => {
                        if let Some(&(ts, off)) = list
                            .iter()
                            .find(|(ts, off)| *ts >= target && *off >= log_start)
                        {
                            found = Some((ts, off));
                            return false;
                        }
                        true
                    }
                    Err(e) => {
                        error = Some(e);
                        false
                    }
                }
            })?;
            if let Some(e) = error {
                return Err(Error::CorruptMessage(e.to_string()));
            }
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }
}

/// `(timestamp, offset)` of every record in a batch (decompressing if needed). The list grows
/// with the records actually read, never from the count the header declares: a stored header
/// may claim 2^31-1 records that are not there.
fn records_with_timestamps(
    batch: &[u8],
    h: &BatchHeader<'_>,
) -> std::result::Result<Vec<(i64, i64)>, records::RecordsError> {
    let section = records::records_section(batch)?;
    // Sized by the bytes there, not the declared count (a poison pill declares 2^31-1).
    let mut out = Vec::with_capacity(records::capacity_hint(h.record_count(), section.len()));
    for r in RecordIter::new(&section, h.record_count()) {
        let r = r?;
        out.push((
            h.base_timestamp().saturating_add(r.timestamp_delta),
            h.base_offset().saturating_add(r.offset_delta as i64),
        ));
    }
    Ok(out)
}

fn first_record_with(batch: &[u8], h: &BatchHeader<'_>, pred: impl Fn(i64) -> bool) -> Option<i64> {
    if h.is_log_append_time() {
        return Some(h.base_offset());
    }
    records_with_timestamps(batch, h)
        .ok()?
        .into_iter()
        .find(|(ts, _)| pred(*ts))
        .map(|(_, off)| off)
}

/// Calls `f` with each complete batch (a header viewing all its bytes) in `[start, end)` of a
/// segment file, until it returns false or the valid log ends.
fn scan_file_batches(
    file: &fs::File,
    start: u64,
    end: u64,
    f: &mut dyn FnMut(&BatchHeader<'_>) -> bool,
) -> io::Result<()> {
    let mut batches = FileBatches::new(file, start, end, 1 << 20);
    while let Some((_, h)) = batches.next_batch()? {
        if !f(&h) {
            break;
        }
    }
    Ok(())
}

/// Finds the bytes a fetch returns: from the batch containing `fetch_offset` (scanning forward
/// from the index position `start`) through the last whole batch that fits `max_bytes`, or the
/// first batch alone when it is larger and `min_one` (KIP-74). Only batch headers are read;
/// the records themselves go to the socket with `sendfile`. `end_hint` is an indexed batch
/// position at or before `start + max_bytes`, where the search for the last batch begins.
/// Batches starting at or after `max_offset` (the last stable offset of a read_committed
/// fetch; `i64::MAX` otherwise) are not returned.
#[allow(clippy::too_many_arguments)]
pub fn locate_batches(
    file: &fs::File,
    start: u64,
    end: u64,
    end_hint: u64,
    fetch_offset: i64,
    max_offset: i64,
    max_bytes: usize,
    min_one: bool,
) -> io::Result<(u64, usize)> {
    // Skip whole batches below the fetch offset (at most about index.interval.bytes), one
    // header read each.
    let mut skip = FileBatches::new(file, start, end, HEADER_LEN);
    let (pos, first_size) = loop {
        let Some((at, h)) = skip.next_header()? else {
            return Ok((skip.position(), 0));
        };
        if h.last_offset() >= fetch_offset {
            if h.base_offset() >= max_offset {
                return Ok((at, 0));
            }
            break (at, h.size() as u64);
        }
    };
    let limit = pos.saturating_add(max_bytes as u64).min(end);
    if first_size > limit - pos {
        return Ok((pos, if min_one { first_size as usize } else { 0 }));
    }
    if limit == end && max_offset == i64::MAX {
        // The segment holds only whole batches up to the high watermark.
        return Ok((pos, (end - pos) as usize));
    }
    // Walk headers from the last indexed batch before the limit to the last whole batch that
    // ends within it.
    let boundary = end_hint.max(pos + first_size);
    let mut tail = FileBatches::new(file, boundary, limit, 16 * 1024);
    while let Some((at, h)) = tail.next_header()? {
        if h.base_offset() >= max_offset {
            return Ok((pos, (at - pos) as usize));
        }
    }
    Ok((pos, (tail.position() - pos) as usize))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;
    use crate::log::batch::Batches;
    use crate::log::validator;
    use crate::settings::Settings;
    use bytes::Bytes;

    fn cfg() -> Arc<LogConfig> {
        Arc::new(LogConfig::new(&Settings::defaults(), &BTreeMap::new()))
    }

    fn valid(values: &[&[u8]], ts: i64, pid: i64, seq: i32) -> ValidBatch {
        let b = Bytes::from(batch(values, ts, pid, if pid >= 0 { 0 } else { -1 }, seq));
        validator::validate(&b, 9, &cfg(), AppendOrigin::Client, ts, "t-0").unwrap()
    }

    fn open(dir: &Path, recovery: Recovery) -> Partition {
        Partition::open("t".into(), Uuid::nil(), 0, dir, cfg(), recovery, None).unwrap()
    }

    #[test]
    fn append_read_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path(), Recovery::Clean);
        let a = p
            .append(&valid(&[b"a", b"b"], 1000, -1, -1), AppendOrigin::Client)
            .unwrap();
        assert_eq!((a.base_offset, a.last_offset), (0, 1));
        let b = p
            .append(&valid(&[b"c"], 1001, -1, -1), AppendOrigin::Client)
            .unwrap();
        assert_eq!(b.base_offset, 2);
        assert_eq!(p.log_end_offset(), 3);

        let bytes = |off: i64, max: usize, min_one: bool| {
            p.read(off, max, min_one)
                .unwrap()
                .records
                .read_to_bytes()
                .unwrap()
        };
        let d = bytes(1, 1 << 20, true);
        let first = BatchHeader::new(&d).unwrap();
        assert_eq!(first.base_offset(), 0, "the batch containing offset 1");
        assert_eq!(Batches::new(&d).count(), 2);
        assert!(matches!(
            p.read(4, 100, true),
            Err(Error::OffsetOutOfRange { .. })
        ));
        assert!(bytes(3, 100, true).is_empty());
        // max_bytes smaller than the first batch still returns it with min_one.
        assert_eq!(Batches::new(&bytes(0, 1, true)).count(), 1);
        assert!(bytes(0, 1, false).is_empty());
        // A limit between the two batches returns only the first, whole.
        let one = bytes(0, 1, true).len();
        assert_eq!(bytes(0, one + 10, false).len(), one);

        p.close().unwrap();
        drop(p);
        let p = open(dir.path(), Recovery::Clean);
        assert_eq!(p.log_end_offset(), 3);
        let c = p
            .append(&valid(&[b"d"], 1002, -1, -1), AppendOrigin::Client)
            .unwrap();
        assert_eq!(c.base_offset, 3);
    }

    #[test]
    fn a_panic_holding_the_log_lock_poisons_the_partition() {
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path(), Recovery::Clean);
        p.append(&valid(&[b"a"], 1, -1, -1), AppendOrigin::Client)
            .unwrap();
        std::thread::scope(|s| {
            let crashed = s.spawn(|| {
                let _st = p.lock();
                panic!("bug while appending");
            });
            assert!(crashed.join().is_err());
        });
        let refused = p.append(&valid(&[b"b"], 2, -1, -1), AppendOrigin::Client);
        let err = refused.unwrap_err();
        assert!(matches!(err, Error::KafkaStorage(_)), "{err:?}");
        assert_eq!(err.code(), 56, "KAFKA_STORAGE_ERROR");
        // Still refused on later calls (the flag lives in the state, not the mutex).
        let again = p.append(&valid(&[b"c"], 3, -1, -1), AppendOrigin::Client);
        assert_eq!(again.unwrap_err().code(), 56);
        // What was acknowledged before stays readable.
        assert_eq!(p.log_end_offset(), 1);
        let d = p
            .read(0, 1 << 20, true)
            .unwrap()
            .records
            .read_to_bytes()
            .unwrap();
        assert_eq!(Batches::new(&d).count(), 1);
        assert_eq!(BatchHeader::new(&d).unwrap().base_offset(), 0);
    }

    #[test]
    fn idempotent_retry_returns_original_offsets_across_restart() {
        let dir = tempfile::tempdir().unwrap();
        let p = open(dir.path(), Recovery::Clean);
        let first = valid(&[b"a"], 1, 42, 0);
        p.append(&first, AppendOrigin::Client).unwrap();
        p.append(&valid(&[b"b"], 2, 42, 1), AppendOrigin::Client)
            .unwrap();
        drop(p); // no clean close: state must come back from the log
        let p = open(dir.path(), Recovery::From(0));
        let dup = p.append(&first, AppendOrigin::Client).unwrap();
        assert!(dup.duplicate);
        assert_eq!(dup.base_offset, 0);
        let gap = p.append(&valid(&[b"c"], 3, 42, 5), AppendOrigin::Client);
        assert_eq!(gap.unwrap_err().code(), 45);
    }

    #[test]
    fn rolls_segments_and_reads_across_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut small = LogConfig::new(&Settings::defaults(), &BTreeMap::new());
        small.segment_bytes = 300;
        let p = Partition::open(
            "t".into(),
            Uuid::nil(),
            0,
            dir.path(),
            Arc::new(small),
            Recovery::Clean,
            None,
        )
        .unwrap();
        let big = vec![1u8; 200];
        for i in 0..5 {
            p.append(&valid(&[&big], 10 + i, -1, -1), AppendOrigin::Client)
                .unwrap();
        }
        assert_eq!(p.segment_count(), 5);
        for off in 0..5 {
            let d = p
                .read(off, 1 << 20, true)
                .unwrap()
                .records
                .read_to_bytes()
                .unwrap();
            assert_eq!(BatchHeader::new(&d).unwrap().base_offset(), off);
        }
        assert_eq!(p.offset_for_timestamp(12).unwrap(), Some((12, 2)));
        assert_eq!(p.offset_for_timestamp(99).unwrap(), None);
        assert_eq!(p.max_timestamp_offset().unwrap(), Some((14, 4)));
    }
}
