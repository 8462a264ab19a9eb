//! The log cleaner (Kafka's `LogCleaner` and `LogCleanerManager`): background threads that
//! compact partitions whose `cleanup.policy` includes `compact` (user topics and
//! `__consumer_offsets` alike), keeping the latest record of every key.
//!
//! Each pass picks the "filthiest" compacted partition: the one with the highest ratio of dirty
//! bytes (written since its last cleaning, up to the first uncleanable offset) to all bytes,
//! above its `min.cleanable.dirty.ratio`, or any partition whose oldest dirty data is older than
//! `max.compaction.lag.ms`. The active segment, and segments holding records younger than
//! `min.compaction.lag.ms`, are never cleaned. Progress per partition is kept in Kafka's
//! `cleaner-offset-checkpoint` file. With nothing to do a thread sleeps
//! `log.cleaner.backoff.ms`. Memory per thread is bounded by `log.cleaner.dedupe.buffer.size /
//! log.cleaner.threads`, and I/O by `log.cleaner.io.max.bytes.per.second`.

pub mod clean;
pub mod filter;
pub mod offset_map;
pub mod throttler;
pub mod txn;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::{error, info, warn};

use crate::broker::now_ms;
use crate::log::checkpoint::CheckpointFile;
use crate::log::partition::SegmentSnapshot;
use crate::log::{LogManager, Partition};
use clean::{CleanError, Cleaner, CleanerLimits, LogToClean};

/// Kafka's cleaner checkpoint file name.
pub const CHECKPOINT_FILE: &str = "cleaner-offset-checkpoint";

type TopicPartition = (String, i32);

/// Nice value of cleaner threads.
const CLEANER_NICE: i32 = 10;

struct Inner {
    logs: Arc<LogManager>,
    stop: AtomicBool,
    /// Wakes sleeping threads on shutdown.
    wake: (Mutex<()>, Condvar),
    /// Partitions being cleaned (Kafka's `inProgress`).
    in_progress: Mutex<HashSet<TopicPartition>>,
    /// Partitions whose cleaning failed; skipped until restart (Kafka's uncleanable partitions).
    uncleanable: Mutex<HashSet<TopicPartition>>,
    /// First dirty offset per partition.
    checkpoints: Mutex<HashMap<TopicPartition, i64>>,
    /// `cleaner-offset-checkpoint`, written by every cleaner thread and at shutdown.
    checkpoint_file: CheckpointFile,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

/// The running cleaner. Dropping it without [`LogCleaner::shutdown`] leaves threads running.
pub struct LogCleaner {
    inner: Arc<Inner>,
}

/// A partition chosen for cleaning, with its range and dirty ratio.
struct Candidate {
    partition: Arc<Partition>,
    range: LogToClean,
    ratio: f64,
}

impl LogCleaner {
    /// Starts `log.cleaner.threads` threads when `log.cleaner.enable` is set.
    pub fn start(logs: Arc<LogManager>) -> LogCleaner {
        let file = CheckpointFile::new(logs.data_dir(), CHECKPOINT_FILE);
        // Unreadable, the cleaner starts over from each log's start: more work, same result.
        let checkpoints = file.read().unwrap_or_else(|e| {
            warn!("cannot read {e}; cleaning every compacted log from its start");
            HashMap::new()
        });
        let inner = Arc::new(Inner {
            logs,
            stop: AtomicBool::new(false),
            wake: (Mutex::new(()), Condvar::new()),
            in_progress: Mutex::new(HashSet::new()),
            uncleanable: Mutex::new(HashSet::new()),
            checkpoints: Mutex::new(checkpoints),
            checkpoint_file: file,
            threads: Mutex::new(Vec::new()),
        });
        let cleaner = LogCleaner { inner };
        if cleaner.inner.logs.settings().bool("log.cleaner.enable") {
            cleaner.inner.ensure_threads();
        }
        cleaner
    }

    /// Stops the threads (a cleaning in progress is abandoned; its `.cleaned` files removed)
    /// and waits for them.
    pub fn shutdown(&self) {
        self.inner.stop.store(true, Ordering::Release);
        {
            let _g = self.inner.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            self.inner.wake.1.notify_all();
        }
        let handles =
            std::mem::take(&mut *self.inner.threads.lock().unwrap_or_else(|e| e.into_inner()));
        for h in handles {
            let _ = h.join();
        }
        let _ = self.inner.write_checkpoints();
    }

    /// Runs one cleaning pass on the calling thread (tests and tools). Returns true if a
    /// partition was cleaned.
    pub fn clean_once(&self) -> bool {
        self.inner.clean_filthiest()
    }

    /// The checkpointed first dirty offset of a partition.
    pub fn checkpoint(&self, topic: &str, partition: i32) -> Option<i64> {
        self.inner
            .checkpoints
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(topic.to_string(), partition))
            .copied()
    }
}

impl Inner {
    fn wanted_threads(&self) -> usize {
        self.logs.settings().i32("log.cleaner.threads").max(0) as usize
    }

    /// Starts threads up to `log.cleaner.threads` (it is dynamically updatable).
    fn ensure_threads(self: &Arc<Self>) {
        let wanted = self.wanted_threads();
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        while threads.len() < wanted && !self.stop.load(Ordering::Acquire) {
            let id = threads.len();
            let me = self.clone();
            match std::thread::Builder::new()
                .name(format!("klamm-log-cleaner-{id}"))
                .spawn(move || me.run(id))
            {
                Ok(h) => threads.push(h),
                Err(e) => {
                    error!("could not start log cleaner thread: {e}");
                    break;
                }
            }
        }
    }

    fn run(self: Arc<Self>, id: usize) {
        // Cleaning is background work: below-normal CPU priority (nice 10) so that on a busy
        // machine appends and fetches get the CPU first. Linux applies it to this thread only.
        if let Err(e) =
            rustix::process::setpriority_process(Some(rustix::thread::gettid()), CLEANER_NICE)
        {
            warn!(
                thread = id,
                "could not lower the log cleaner's priority: {e}"
            );
        }
        info!(thread = id, "log cleaner started");
        while !self.stop.load(Ordering::Acquire) {
            if id == 0 {
                self.ensure_threads();
            }
            let cleaned = id < self.wanted_threads() && self.clean_filthiest();
            if !cleaned {
                self.back_off();
            }
        }
    }

    /// Sleeps `log.cleaner.backoff.ms`, in slices of at most a second so that a dynamic change
    /// of the setting applies within a second, and returns at once on shutdown.
    fn back_off(&self) {
        let started = std::time::Instant::now();
        loop {
            let backoff = Duration::from_millis(
                self.logs.settings().i64("log.cleaner.backoff.ms").max(1) as u64,
            );
            let left = backoff.saturating_sub(started.elapsed());
            if left.is_zero() {
                return;
            }
            let g = self.wake.0.lock().unwrap_or_else(|e| e.into_inner());
            if self.stop.load(Ordering::Acquire) {
                return;
            }
            let _ = self
                .wake
                .1
                .wait_timeout(g, left.min(Duration::from_secs(1)));
            if self.stop.load(Ordering::Acquire) {
                return;
            }
        }
    }

    fn limits(&self) -> CleanerLimits {
        let s = self.logs.settings();
        let threads = s.i32("log.cleaner.threads").max(1) as i64;
        CleanerLimits {
            dedupe_buffer_bytes: (s.i64("log.cleaner.dedupe.buffer.size").max(0) / threads)
                as usize,
            load_factor: s.f64("log.cleaner.io.buffer.load.factor"),
            io_buffer_bytes: (s.i32("log.cleaner.io.buffer.size").max(4096) as usize),
            max_io_bytes_per_second: s.f64("log.cleaner.io.max.bytes.per.second"),
        }
    }

    /// Picks the filthiest cleanable partition, cleans it and records the progress.
    fn clean_filthiest(&self) -> bool {
        let now = now_ms();
        let Some(c) = self.grab_filthiest(now) else {
            return false;
        };
        let tp = (c.partition.topic.to_string(), c.partition.index);
        let limits = self.limits();
        let result = Cleaner::new(&c.partition, &limits, &self.stop).clean(&c.range, now);
        match result {
            Ok(stats) => {
                metrics::counter!("klamm_log_cleaner_bytes_read_total").increment(stats.bytes_read);
                metrics::counter!("klamm_log_cleaner_bytes_written_total")
                    .increment(stats.bytes_written);
                metrics::counter!("klamm_log_cleaner_runs_total").increment(1);
                self.checkpoints
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(tp.clone(), stats.end_offset);
                if let Err(e) = self.write_checkpoints() {
                    warn!("writing {CHECKPOINT_FILE} failed: {e}");
                }
            }
            Err(CleanError::Aborted) => {}
            Err(e) => {
                error!(partition = %c.partition.name(), "cleaning failed, skipping the partition until restart: {e}");
                self.uncleanable
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(tp.clone());
            }
        }
        self.in_progress
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&tp);
        true
    }

    /// Kafka's `LogCleanerManager.grabFilthiestCompactedLog`.
    fn grab_filthiest(&self, now: i64) -> Option<Candidate> {
        let mut in_progress = self.in_progress.lock().unwrap_or_else(|e| e.into_inner());
        let uncleanable = self
            .uncleanable
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut checkpoints = self.checkpoints.lock().unwrap_or_else(|e| e.into_inner());
        let mut best: Option<Candidate> = None;
        for p in self.logs.all_partitions() {
            let config = p.config();
            if !config.cleanup_compact || p.is_deleted() {
                continue;
            }
            let tp = (p.topic.to_string(), p.index);
            if in_progress.contains(&tp) || uncleanable.contains(&tp) {
                continue;
            }
            let (segments, log_start, log_end) = p.segment_snapshot();
            let checkpointed = checkpoints.get(&tp).copied();
            let first_dirty = match checkpointed {
                Some(o) if o >= log_start && o <= log_end => o,
                _ => log_start,
            };
            if checkpointed.is_some() && checkpointed != Some(first_dirty) {
                checkpoints.insert(tp.clone(), first_dirty);
            }
            // Nothing at or above the last stable offset is cleaned: an undecided transaction
            // must reach its marker first (Kafka's `firstUncleanableOffset` includes the LSO).
            let stable_end = log_end.min(p.last_stable_offset());
            let Some(c) = cleanable(&segments, first_dirty, stable_end, &config, now) else {
                continue;
            };
            let (ratio, need_now, cleanable_bytes, total) = c.1;
            if total == 0
                || !((need_now && cleanable_bytes > 0) || ratio > config.min_cleanable_dirty_ratio)
            {
                continue;
            }
            if best.as_ref().is_none_or(|b| ratio > b.ratio) {
                best = Some(Candidate {
                    partition: p.clone(),
                    range: c.0,
                    ratio,
                });
            }
        }
        if let Some(b) = &best {
            in_progress.insert((b.partition.topic.to_string(), b.partition.index));
        }
        best
    }

    /// Several cleaner threads and shutdown write the file: the snapshot is taken under the
    /// file's lock so they write in order.
    fn write_checkpoints(&self) -> std::io::Result<()> {
        self.checkpoint_file.write_with(|| {
            let mut entries: Vec<(String, i32, i64)> = {
                let mut cps = self.checkpoints.lock().unwrap_or_else(|e| e.into_inner());
                cps.retain(|(t, p), _| self.logs.partition(t, *p).is_some());
                cps.iter().map(|((t, p), o)| (t.clone(), *p, *o)).collect()
            };
            entries.sort();
            entries
        })
    }
}

/// Kafka's `cleanableOffsets` + `calculateCleanableBytes` + `maxCompactionDelay`: the range to
/// clean and `(dirty ratio, must clean now, cleanable bytes, total bytes)`.
fn cleanable(
    segments: &[SegmentSnapshot],
    first_dirty: i64,
    log_end: i64,
    config: &crate::log::config::LogConfig,
    now: i64,
) -> Option<(LogToClean, (f64, bool, u64, u64))> {
    let active = segments.last()?;
    let non_active = &segments[..segments.len() - 1];
    let end_of = |i: usize| {
        segments
            .get(i + 1)
            .map(|s| s.base_offset)
            .unwrap_or(i64::MAX)
    };
    // Non-active segments holding offsets at or after `from`.
    let dirty_from = |from: i64| {
        non_active
            .iter()
            .enumerate()
            .filter(move |(i, _)| end_of(*i) > from)
            .map(|(_, s)| s)
    };

    let mut uncleanable = log_end.min(active.base_offset);
    if config.min_compaction_lag_ms > 0 {
        if let Some(s) = dirty_from(first_dirty)
            .find(|s| s.largest_timestamp > now - config.min_compaction_lag_ms)
        {
            uncleanable = uncleanable.min(s.base_offset);
        }
    }
    let uncleanable = uncleanable.max(first_dirty);
    // Round down to the start of the segment holding it.
    let first_uncleanable = dirty_from(uncleanable)
        .next()
        .map(|s| s.base_offset)
        .unwrap_or(active.base_offset);
    let overlapping = |from: i64, to: i64| -> u64 {
        segments
            .iter()
            .enumerate()
            .filter(|(i, s)| s.base_offset < to && end_of(*i) > from)
            .map(|(_, s)| s.size)
            .sum()
    };
    let clean_bytes = overlapping(-1, first_dirty);
    let cleanable_bytes = overlapping(first_dirty.min(first_uncleanable), first_uncleanable);
    let total = clean_bytes + cleanable_bytes;
    let ratio = if total == 0 {
        0.0
    } else {
        cleanable_bytes as f64 / total as f64
    };
    let earliest = dirty_from(first_dirty)
        .filter_map(|s| s.first_batch_timestamp)
        .filter(|t| *t > 0)
        .min();
    let clean_until = now.saturating_sub(config.max_compaction_lag_ms.max(0));
    let need_now = earliest.is_some_and(|t| t < clean_until);
    Some((
        LogToClean {
            first_dirty_offset: first_dirty,
            first_uncleanable_offset: first_uncleanable,
        },
        (ratio, need_now, cleanable_bytes, total),
    ))
}

#[cfg(test)]
mod tests;
