//! Deferred removal of segment files (Kafka's `LogSegment.deleteIfExists` scheduled after
//! `file.delete.delay.ms`): a removed segment's files are first renamed `*.deleted`, then unlinked
//! after the delay, so in-flight reads that resolved the old file keep a valid handle and
//! operators have a window to notice. Leftover `*.deleted` files are removed at start-up.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tracing::warn;

/// Suffix of files waiting for removal (Kafka's `LogFileUtils.DELETED_FILE_SUFFIX`).
pub const DELETED_SUFFIX: &str = ".deleted";

/// Renames `path` to `path.deleted`; returns the new path, or `None` if it did not exist.
pub fn mark_deleted(path: &Path) -> io::Result<Option<PathBuf>> {
    let mut to = path.as_os_str().to_owned();
    to.push(DELETED_SUFFIX);
    let to = PathBuf::from(to);
    match fs::rename(path, &to) {
        Ok(()) => Ok(Some(to)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Removes `paths` after `delay_ms`, on the runtime if there is one.
pub fn schedule(paths: Vec<PathBuf>, delay_ms: i64) {
    if paths.is_empty() {
        return;
    }
    let remove = move |paths: Vec<PathBuf>| {
        for p in paths {
            if let Err(e) = fs::remove_file(&p) {
                if e.kind() != io::ErrorKind::NotFound {
                    warn!("could not delete {}: {e}", p.display());
                }
            }
        }
    };
    let delay = Duration::from_millis(delay_ms.max(0) as u64);
    if delay.is_zero() {
        remove(paths);
        return;
    }
    match tokio::runtime::Handle::try_current() {
        Ok(h) => {
            h.spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = tokio::task::spawn_blocking(move || remove(paths)).await;
            });
        }
        Err(_) => {
            std::thread::spawn(move || {
                std::thread::sleep(delay);
                remove(paths);
            });
        }
    }
}
