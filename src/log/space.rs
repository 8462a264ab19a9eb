//! Running out of disk space in the data directory.
//!
//! Kafka treats any `IOException` in a log directory as a failure of the whole directory
//! (`LogDirFailureChannel`): its partitions go offline until the broker restarts. A full disk
//! is the one I/O error that undoes itself when an operator frees space, so Klamm tells it
//! apart (`ENOSPC`, `EDQUOT`): a write that runs out of space is rolled back and answered
//! `KAFKA_STORAGE_ERROR`, reads go on, and the next write that fits succeeds, with no restart.
//! Every other I/O error (and any failed fsync, after which the kernel may have dropped the
//! dirty pages) still poisons the partition as before.
//!
//! [`LogDirSpace`] is the data directory's state as `/health` and the log report it: marked full
//! by the first write that ran out of space, clear again once a write succeeds or `statvfs`
//! shows [`FREE_TO_CLEAR`] available.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::{info, warn};

/// Gauge: 1 while the data directory is out of space.
pub const LOG_DIR_FULL: &str = "klamm_log_dir_full";

/// Available bytes (`statvfs`) at which a directory marked full is considered writable again:
/// one page is not enough for anything useful, one MiB is a few produce requests. Kafka has no
/// such setting (it never recovers from a full disk without a restart).
pub const FREE_TO_CLEAR: u64 = 1 << 20;

/// Whether `e` says the file system (or the user's quota) is out of space.
pub fn is_out_of_space(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) || matches!(
        rustix::io::Errno::from_io_error(e),
        Some(rustix::io::Errno::NOSPC | rustix::io::Errno::DQUOT)
    )
}

/// The space state of one data directory, shared by its partitions and the manager.
#[derive(Debug)]
pub struct LogDirSpace {
    dir: PathBuf,
    full: AtomicBool,
}

/// One [`LogDirSpace`] per data directory in the process: partitions find theirs from the
/// directory they are opened in, as Kafka's partitions report to their log directory.
pub fn for_dir(dir: &Path) -> Arc<LogDirSpace> {
    static DIRS: OnceLock<Mutex<HashMap<PathBuf, Arc<LogDirSpace>>>> = OnceLock::new();
    let mut dirs = DIRS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    dirs.entry(dir.to_path_buf())
        .or_insert_with(|| {
            Arc::new(LogDirSpace {
                dir: dir.to_path_buf(),
                full: AtomicBool::new(false),
            })
        })
        .clone()
}

impl LogDirSpace {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the outcome of a failed write: returns true (and marks the directory full, with
    /// one loud warning per episode) if it ran out of space.
    pub fn note_error(&self, e: &io::Error) -> bool {
        if !is_out_of_space(e) {
            return false;
        }
        if !self.full.swap(true, Ordering::AcqRel) {
            warn!(
                dir = %self.dir.display(),
                "log directory is out of space: writes are refused with KAFKA_STORAGE_ERROR \
                 until space is freed (reads go on; DeleteTopics frees a topic's space)"
            );
            metrics::gauge!(LOG_DIR_FULL).set(1.0);
        }
        true
    }

    /// Records a successful write: space has returned if the directory was full.
    pub fn note_write(&self) {
        if self.full.load(Ordering::Acquire) {
            self.clear();
        }
    }

    /// Whether the directory is out of space. Once marked, `statvfs` is asked on each call
    /// (microseconds, and only while full), so `/health` turns back without a write.
    pub fn is_full(&self) -> bool {
        if !self.full.load(Ordering::Acquire) {
            return false;
        }
        if available_bytes(&self.dir).is_some_and(|n| n >= FREE_TO_CLEAR) {
            self.clear();
            return false;
        }
        true
    }

    fn clear(&self) {
        if self.full.swap(false, Ordering::AcqRel) {
            info!(dir = %self.dir.display(), "log directory has space again: accepting writes");
            metrics::gauge!(LOG_DIR_FULL).set(0.0);
        }
    }
}

/// Bytes available to the broker's user in the file system holding `dir`.
pub fn available_bytes(dir: &Path) -> Option<u64> {
    let s = rustix::fs::statvfs(dir).ok()?;
    Some(s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enospc_and_edquot_are_out_of_space_other_errors_are_not() {
        assert!(is_out_of_space(&io::Error::from_raw_os_error(28)));
        assert!(is_out_of_space(&io::Error::from_raw_os_error(122)));
        assert!(is_out_of_space(&io::Error::from(
            io::ErrorKind::StorageFull
        )));
        assert!(!is_out_of_space(&io::Error::from_raw_os_error(5))); // EIO
        assert!(!is_out_of_space(&io::Error::other(
            "No space left on device"
        )));
    }

    #[test]
    fn marked_by_enospc_cleared_by_a_write_or_free_space() {
        let dir = tempfile::tempdir().unwrap();
        let s = for_dir(dir.path());
        assert!(Arc::ptr_eq(&s, &for_dir(dir.path())), "one per directory");
        assert!(!s.note_error(&io::Error::from_raw_os_error(5)));
        assert!(!s.is_full());
        assert!(s.note_error(&io::Error::from_raw_os_error(28)));
        assert!(s.full.load(Ordering::Acquire));
        s.note_write();
        assert!(!s.is_full());
        // A temp dir has more than FREE_TO_CLEAR available: is_full clears by itself.
        assert!(s.note_error(&io::Error::from_raw_os_error(28)));
        assert!(available_bytes(dir.path()).unwrap() >= FREE_TO_CLEAR);
        assert!(!s.is_full());
    }
}
