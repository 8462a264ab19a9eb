//! Moving the log start offset: DeleteRecords (Kafka's `Partition.deleteRecordsOnLeader` and
//! `UnifiedLog.maybeIncrementLogStartOffset`) and retention (`UnifiedLog.deleteOldSegments`).
//!
//! Retention deletes whole segments from the head of the log while a rule says so: segments
//! wholly below the log start offset, then (with `cleanup.policy` containing `delete`) segments
//! that push the partition over `retention.bytes`, then segments whose largest timestamp is older
//! than `retention.ms`. As in Kafka, the active segment is never deleted while active: when every
//! segment is due, the log first rolls a new, empty active segment. Removed segments leave the
//! segment map and their files are renamed `*.deleted` under the partition lock (directory
//! operations only); the files are unlinked after `file.delete.delay.ms`.

use tracing::{info, warn};

use super::*;
use crate::log::deletion;

/// Why segments are deleted (Kafka's `SegmentDeletionReason`), for the log line.
#[derive(Clone, Copy, Debug)]
enum Reason {
    LogStartOffset,
    RetentionSize,
    RetentionMs,
}

impl Partition {
    /// DeleteRecords: moves the log start offset to `offset` (-1: the high watermark). Returns
    /// the new low watermark. Segments below it are removed by the next retention pass.
    pub fn delete_records(&self, offset: i64) -> Result<i64> {
        let config = self.config();
        if !config.cleanup_delete {
            return Err(Error::PolicyViolation(format!(
                "Records of partition {} can not be deleted due to the configured policy",
                self.name()
            )));
        }
        let mut st = self.lock();
        if self.is_deleted() {
            return Err(Error::UnknownTopicOrPartition);
        }
        let hw = st.next_offset;
        let target = if offset == -1 { hw } else { offset };
        if target < 0 || target > hw {
            return Err(Error::OffsetOutOfRange {
                offset: target,
                log_start_offset: st.log_start_offset,
                high_watermark: hw,
            });
        }
        if target > st.log_start_offset {
            st.log_start_offset = target;
            self.log_start_offset.store(target, Ordering::Release);
            info!(partition = %self.name(), log_start_offset = target, "incremented log start offset on client request");
        }
        Ok(st.log_start_offset)
    }

    /// One retention pass over this partition (Kafka's `UnifiedLog.deleteOldSegments`).
    /// Returns the number of segments deleted. Skips the partition while the cleaner works on it.
    pub fn delete_old_segments(&self, now_ms: i64) -> Result<usize> {
        let Ok(_maintenance) = self.maintenance.try_lock() else {
            return Ok(0);
        };
        let config = self.config();
        let mut deleted =
            self.delete_head_segments(&config, Reason::LogStartOffset, &mut |_, next, lso| {
                next.is_some_and(|n| n.base_offset <= lso)
            })?;
        if config.cleanup_delete {
            if config.retention_bytes >= 0 {
                let size: u64 = self.size_bytes();
                if size >= config.retention_bytes as u64 {
                    let mut diff = size as i64 - config.retention_bytes;
                    deleted += self.delete_head_segments(
                        &config,
                        Reason::RetentionSize,
                        &mut |seg, _, _| {
                            let fits = diff - seg.size() as i64 >= 0;
                            if fits {
                                diff -= seg.size() as i64;
                            }
                            fits
                        },
                    )?;
                }
            }
            if config.retention_ms >= 0 {
                let retention = config.retention_ms;
                deleted +=
                    self.delete_head_segments(&config, Reason::RetentionMs, &mut |seg, _, _| {
                        now_ms.saturating_sub(seg.largest_timestamp()) > retention
                    })?;
            }
        }
        Ok(deleted)
    }

    /// Deletes segments from the head while `predicate(segment, next segment, log start)` holds
    /// (Kafka's `deletableSegments` + `deleteSegments`). A last segment that is empty is never
    /// deleted; if every segment is deleted a new active segment is rolled first.
    fn delete_head_segments(
        &self,
        config: &LogConfig,
        reason: Reason,
        predicate: &mut dyn FnMut(&LogSegment, Option<&LogSegment>, i64) -> bool,
    ) -> Result<usize> {
        let (removed, paths): (Vec<LogSegment>, Vec<std::path::PathBuf>) = {
            let mut st = self.lock();
            if self.is_deleted() {
                return Ok(0);
            }
            let deletable: Vec<i64> = {
                let segs: Vec<&LogSegment> = st.segments.values().collect();
                let mut out = Vec::new();
                for (i, seg) in segs.iter().enumerate() {
                    let next = segs.get(i + 1).copied();
                    let last_and_empty = next.is_none() && seg.is_empty();
                    if last_and_empty || !predicate(seg, next, st.log_start_offset) {
                        break;
                    }
                    out.push(seg.base_offset);
                }
                out
            };
            let Some(&last) = deletable.last() else {
                return Ok(0);
            };
            if deletable.len() == st.segments.len() {
                // Kafka always keeps one segment: roll a fresh active one first.
                let next = st.next_offset;
                self.roll(&mut st, next, config)?;
            }
            let new_start = st
                .segments
                .range(last + 1..)
                .next()
                .map(|(b, _)| *b)
                .unwrap_or(st.next_offset);
            info!(
                partition = %self.name(), segments = deletable.len(), log_start_offset = new_start.max(st.log_start_offset),
                "deleting segments: {reason:?} breached"
            );
            let removed: Vec<LogSegment> = deletable
                .iter()
                .filter_map(|b| st.segments.remove(b))
                .collect();
            // Rename before the new log start offset becomes visible (as Kafka's
            // `removeAndDeleteSegments` does under the log lock): after a crash the segments are
            // gone, or the log start offset never moved. Renames touch only the directory.
            let paths = mark_segments_deleted(&removed);
            if new_start > st.log_start_offset {
                st.log_start_offset = new_start;
                self.log_start_offset.store(new_start, Ordering::Release);
            }
            // Aborted transactions whose marker left the log are no longer reported, and the
            // transaction indexes of removed segments go with them.
            let first_base = st.segments.keys().next().copied().unwrap_or(new_start);
            st.aborted = st.aborted.split_off(&first_base);
            crate::log::txn_index::delete_below(&self.dir, first_base);
            (removed, paths)
        };
        let count = removed.len();
        deletion::schedule(paths, config.file_delete_delay_ms);
        Ok(count)
    }
}

/// Renames the files of segments that left the log to `*.deleted`; returns the new paths.
fn mark_segments_deleted(segments: &[LogSegment]) -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for seg in segments {
        for p in seg.paths() {
            match deletion::mark_deleted(&p) {
                Ok(Some(d)) => paths.push(d),
                Ok(None) => {}
                Err(e) => warn!("could not rename {} for deletion: {e}", p.display()),
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;
    use crate::log::validator;
    use crate::settings::Settings;
    use bytes::Bytes;

    fn open_with(dir: &Path, f: impl FnOnce(&mut LogConfig)) -> Partition {
        let mut c = LogConfig::new(&Settings::defaults(), &BTreeMap::new());
        c.segment_bytes = 300;
        c.file_delete_delay_ms = 0;
        f(&mut c);
        Partition::open(
            "t".into(),
            Uuid::nil(),
            0,
            dir,
            Arc::new(c),
            Recovery::Clean,
            None,
        )
        .unwrap()
    }

    fn append(p: &Partition, ts: i64) {
        let b = Bytes::from(batch(&[&[7u8; 200]], ts, -1, -1, -1));
        let v = validator::validate(&b, 9, &p.config(), AppendOrigin::Client, ts, "t-0").unwrap();
        p.append(&v, AppendOrigin::Client).unwrap();
    }

    #[test]
    fn retention_ms_deletes_old_segments_and_moves_log_start() {
        let dir = tempfile::tempdir().unwrap();
        let p = open_with(dir.path(), |c| c.retention_ms = 1000);
        for ts in [10_000, 10_001, 20_000, 20_001] {
            append(&p, ts);
        }
        assert_eq!(p.segment_count(), 4);
        // At 20_500 the two segments stamped ~10_000 are past 1 s retention.
        assert_eq!(p.delete_old_segments(20_500).unwrap(), 2);
        assert_eq!(p.log_start_offset(), 2);
        assert!(matches!(
            p.read(1, 1000, true),
            Err(Error::OffsetOutOfRange { .. })
        ));
        let d = p
            .read(2, 1000, true)
            .unwrap()
            .records
            .read_to_bytes()
            .unwrap();
        assert_eq!(BatchHeader::new(&d).unwrap().base_offset(), 2);
        // Everything expired: a fresh active segment is rolled, the log is empty at 4.
        assert_eq!(p.delete_old_segments(1_000_000).unwrap(), 2);
        assert_eq!(p.log_start_offset(), 4);
        assert_eq!(p.segment_count(), 1);
        assert_eq!(p.read(4, 1000, true).unwrap().records.len, 0);
        let names: Vec<String> = fs::read_dir(dir.path().join("t-0"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".log"))
            .collect();
        assert_eq!(names, vec!["00000000000000000004.log".to_string()]);
    }

    #[test]
    fn retention_bytes_and_delete_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = open_with(dir.path(), |c| c.retention_bytes = 600);
        let now = crate::broker::now_ms();
        for i in 0..5 {
            append(&p, now + i);
        }
        let seg = p.size_bytes() / 5;
        assert!(seg * 2 < 600 && seg * 3 > 600);
        // Kafka deletes while the rest stays at or above retention.bytes: 5 -> 3 segments.
        assert_eq!(p.delete_old_segments(now).unwrap(), 2);
        assert_eq!(p.log_start_offset(), 2);

        assert_eq!(p.delete_records(4).unwrap(), 4);
        assert_eq!(p.delete_records(2).unwrap(), 4, "never moves backwards");
        assert_eq!(p.delete_records(6).unwrap_err().code(), 1);
        assert_eq!(p.delete_records(-1).unwrap(), 5);
        assert_eq!(p.read(5, 1000, true).unwrap().records.len, 0);
    }

    #[test]
    fn delete_records_refused_on_compacted_topic() {
        let dir = tempfile::tempdir().unwrap();
        let p = open_with(dir.path(), |c| {
            c.cleanup_delete = false;
            c.cleanup_compact = true;
        });
        assert_eq!(p.delete_records(0).unwrap_err().code(), 44);
    }
}
