//! Replacing segments with a cleaned copy (Kafka's `UnifiedLog.replaceSegments`) and finishing
//! an interrupted replacement at start-up (`LogLoader.completeSwapOperations`).
//!
//! The cleaner writes `<base>.log.cleaned` (and its indexes) beside the originals, fsyncs it and
//! renames it `<base>.log.swap`. Under the partition lock the originals leave the segment map
//! and are renamed `*.deleted`, then the swap files lose their suffix. A crash before the
//! `.swap` rename leaves only `.cleaned` files, which start-up deletes (the originals are
//! intact). A crash after it leaves `.swap` files, which start-up completes: it removes the
//! original segments inside the swap's offset range and renames the swap in place. Either way
//! no record is lost.

use std::collections::HashMap;

use tracing::{info, warn};

use super::*;

/// What the cleaner needs to know about a segment, taken under the lock.
#[derive(Clone)]
pub struct SegmentSnapshot {
    pub base_offset: i64,
    pub next_offset: i64,
    pub size: u64,
    pub file: Arc<fs::File>,
    pub largest_timestamp: i64,
    pub first_batch_timestamp: Option<i64>,
    /// Bytes of (offset index, time index).
    pub index_bytes: (u64, u64),
}

impl Partition {
    /// The segments, oldest first, with the log start and end offsets.
    pub fn segment_snapshot(&self) -> (Vec<SegmentSnapshot>, i64, i64) {
        let st = self.lock();
        let segs = st
            .segments
            .values()
            .map(|s| SegmentSnapshot {
                base_offset: s.base_offset,
                next_offset: s.next_offset(),
                size: s.size(),
                file: s.file(),
                largest_timestamp: s.largest_timestamp(),
                first_batch_timestamp: s.first_batch_timestamp(),
                index_bytes: s.index_bytes(),
            })
            .collect();
        (segs, st.log_start_offset, st.next_offset)
    }

    /// Held by the log cleaner for a whole cleaning of this partition (retention skips the
    /// partition meanwhile, as Kafka's cleaner manager does for logs in progress).
    pub fn lock_maintenance(&self) -> MutexGuard<'_, ()> {
        self.maintenance.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The last offset of each producer's last data batch (Kafka's
    /// `lastRecordsOfActiveProducers`): the cleaner keeps those batches, possibly empty, so the
    /// producers' sequence state survives compaction.
    pub fn last_data_offsets_of_producers(&self) -> HashMap<i64, i64> {
        self.with_producers(|p| {
            p.iter()
                .filter_map(|(pid, e)| e.batches.back().map(|b| (*pid, b.last_offset)))
                .collect()
        })
    }

    /// Swaps `cleaned` (flushed, named `.cleaned`) in for `old`, which must still be the
    /// partition's segments with the same files. Returns false (and removes the cleaned files)
    /// when the log changed underneath: the partition was deleted or a segment went away.
    pub fn replace_segments(
        &self,
        old: &[SegmentSnapshot],
        mut cleaned: LogSegment,
    ) -> Result<bool> {
        let abort = |cleaned: LogSegment| -> Result<bool> {
            let _ = cleaned.delete_files();
            Ok(false)
        };
        if let Err(e) = cleaned.change_suffix(".swap") {
            warn!(partition = %self.name(), "could not rename cleaned segment: {e}");
            return abort(cleaned);
        }
        let removed: Vec<LogSegment> = {
            let mut st = self.lock();
            let unchanged = !self.is_deleted()
                && old.iter().all(|o| {
                    st.segments
                        .get(&o.base_offset)
                        .is_some_and(|s| Arc::ptr_eq(&s.file(), &o.file))
                })
                && old.last().is_some_and(|last| {
                    st.segments
                        .keys()
                        .next_back()
                        .is_some_and(|active| *active > last.base_offset)
                });
            if !unchanged {
                drop(st);
                return abort(cleaned);
            }
            let removed: Vec<LogSegment> = old
                .iter()
                .filter_map(|o| st.segments.remove(&o.base_offset))
                .collect();
            // The originals must be out of the way before the swap takes the first one's name.
            for seg in &removed {
                for p in seg.paths() {
                    if let Err(e) = crate::log::deletion::mark_deleted(&p) {
                        warn!("could not rename {} for deletion: {e}", p.display());
                    }
                }
            }
            if let Err(e) = cleaned.change_suffix("") {
                // Start-up completes the swap from the `.swap` files; until then refuse writes.
                let reason = format!("swapping in cleaned segment of {} failed: {e}", self.name());
                warn!("{reason}");
                st.poisoned = Some(reason.clone());
                return Err(Error::KafkaStorage(reason));
            }
            st.segments.insert(cleaned.base_offset, cleaned);
            removed
        };
        if let Err(e) = sync_dir(&self.dir) {
            warn!(partition = %self.name(), "fsync of directory failed after swap: {e}");
        }
        // The originals were renamed already; schedule their removal.
        let delay = self.config().file_delete_delay_ms;
        let mut paths = Vec::new();
        for seg in &removed {
            for p in seg.paths() {
                let mut d = p.into_os_string();
                d.push(crate::log::deletion::DELETED_SUFFIX);
                paths.push(std::path::PathBuf::from(d));
            }
        }
        crate::log::deletion::schedule(paths, delay);
        Ok(true)
    }
}

/// Finishes swaps a crash interrupted: for each `<base>.log.swap`, deletes the original
/// segments whose base offset lies in the swap's offset range, then renames the swap in place.
/// Its indexes are dropped so that opening the segment rebuilds them from the log.
pub(super) fn complete_interrupted_swaps(dir: &Path) -> io::Result<()> {
    let mut swaps: Vec<i64> = fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".log.swap")
                .and_then(|_| segment::offset_from_file_name(&name))
        })
        .collect();
    swaps.sort_unstable();
    for base in swaps {
        let swap_path = dir.join(format!("{}.swap", segment::file_name(base, ".log")));
        let next = match scan_next_offset(&swap_path)? {
            Some(n) => n,
            None => base + 1,
        };
        let originals: Vec<i64> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.strip_suffix(".log")
                    .and_then(|_| segment::offset_from_file_name(&name))
            })
            .filter(|b| *b >= base && *b < next)
            .collect();
        for b in &originals {
            super::delete_segment_files(dir, *b);
        }
        for ext in [".index", ".timeindex"] {
            let _ = fs::remove_file(dir.join(format!("{}.swap", segment::file_name(base, ext))));
            let _ = fs::remove_file(dir.join(segment::file_name(base, ext)));
        }
        fs::rename(&swap_path, dir.join(segment::file_name(base, ".log")))?;
        info!(dir = %dir.display(), base, replaced = originals.len(), "completed an interrupted segment swap");
    }
    Ok(())
}

/// The offset after the last valid batch of a segment file.
fn scan_next_offset(path: &Path) -> io::Result<Option<i64>> {
    let file = fs::File::open(path)?;
    let len = file.metadata()?.len();
    let mut next = None;
    let mut batches = FileBatches::new(&file, 0, len, HEADER_LEN);
    while let Some((_, h)) = batches.next_header()? {
        next = Some(h.last_offset() + 1);
    }
    Ok(next)
}
