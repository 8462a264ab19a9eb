//! Kafka's offset checkpoint files (`OffsetCheckpointFile`): `recovery-point-offset-checkpoint`,
//! `log-start-offset-checkpoint` and `replication-offset-checkpoint` in the data directory.
//!
//! ```text
//! 0                 <- version
//! 2                 <- entries
//! topic 0 1234
//! other-topic 3 99
//! ```

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::cluster::write_atomically;

pub const RECOVERY_POINT: &str = "recovery-point-offset-checkpoint";
pub const LOG_START_OFFSET: &str = "log-start-offset-checkpoint";
pub const REPLICATION_OFFSET: &str = "replication-offset-checkpoint";

/// The only version Kafka's `OffsetCheckpointFile` writes.
const VERSION: &str = "0";

/// `(topic, partition) -> offset`
pub type Offsets = HashMap<(String, i32), i64>;

/// One checkpoint file and the lock its writers share (Kafka's `CheckpointFile`, whose `write`
/// holds a lock across writing the temporary file, fsync and rename). Every writer goes through
/// [`CheckpointFile::write_with`], which also takes the snapshot under the lock: two writers
/// (the periodic checkpoint task and retention, say) can then neither clobber each other's
/// `<name>.tmp` nor rename an older snapshot over a newer one.
#[derive(Debug)]
pub struct CheckpointFile {
    dir: PathBuf,
    name: &'static str,
    lock: Mutex<()>,
}

impl CheckpointFile {
    pub fn new(dir: &Path, name: &'static str) -> CheckpointFile {
        CheckpointFile {
            dir: dir.to_path_buf(),
            name,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(self.name)
    }

    /// Reads the file; see [`read`].
    pub fn read(&self) -> io::Result<Offsets> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        read(&self.dir, self.name)
    }

    /// Takes a snapshot with `entries` and writes it atomically, both under the file's lock.
    pub fn write_with(&self, entries: impl FnOnce() -> Vec<(String, i32, i64)>) -> io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        write(&self.dir, self.name, &entries())
    }
}

/// Reads a checkpoint file as Kafka's `CheckpointReadBuffer` does: version `0`, the entry
/// count, then exactly that many `topic partition offset` lines. A missing file is empty (a new
/// data directory); anything else that does not parse is an `InvalidData` error naming the
/// file and line, and the caller chooses the safe fallback. The count only checks the lines
/// read: nothing is allocated from it, so a file claiming 2^64-1 entries costs what its bytes
/// cost.
pub fn read(dir: &Path, name: &str) -> io::Result<Offsets> {
    let path = dir.join(name);
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Offsets::new()),
        Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
    };
    parse(&text).map_err(|(line, reason)| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: line {line}: {reason}", path.display()),
        )
    })
}

/// Parses the file's text; errors are `(1-based line, reason)`.
fn parse(text: &str) -> Result<Offsets, (usize, String)> {
    let mut lines = text.lines();
    match lines.next().map(str::trim) {
        None => return Ok(Offsets::new()),
        Some(VERSION) => {}
        Some(v) => return Err((1, format!("unrecognised version {v:?}"))),
    }
    let Some(count) = lines.next() else {
        return Ok(Offsets::new());
    };
    let count: u64 = count
        .trim()
        .parse()
        .map_err(|_| (2, format!("malformed entry count {count:?}")))?;
    let mut out = Offsets::new();
    let mut read: u64 = 0;
    for (i, line) in lines.enumerate() {
        let line_no = i + 3;
        read += 1;
        if read > count {
            return Err((line_no, format!("more entries than the {count} declared")));
        }
        let mut parts = line.split_whitespace();
        let (Some(t), Some(p), Some(o), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err((line_no, format!("malformed entry {line:?}")));
        };
        let (Ok(p), Ok(o)) = (p.parse::<i32>(), o.parse::<i64>()) else {
            return Err((line_no, format!("malformed entry {line:?}")));
        };
        out.insert((t.to_string(), p), o);
    }
    if read != count {
        return Err((
            read as usize + 3,
            format!("{read} entries where {count} were declared"),
        ));
    }
    Ok(out)
}

/// Writes a checkpoint file atomically. Callers that may run concurrently for the same file
/// go through one [`CheckpointFile`].
pub fn write(dir: &Path, name: &str, entries: &[(String, i32, i64)]) -> io::Result<()> {
    let mut s = format!("{VERSION}\n{}\n", entries.len());
    for (t, p, o) in entries {
        s.push_str(&format!("{t} {p} {o}\n"));
    }
    write_atomically(&dir.join(name), s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            RECOVERY_POINT,
            &[("a".into(), 0, 5), ("b-c".into(), 2, 7)],
        )
        .unwrap();
        let m = read(dir.path(), RECOVERY_POINT).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m.get(&("a".to_string(), 0)), Some(&5));
        assert_eq!(m.get(&("b-c".to_string(), 2)), Some(&7));
        assert!(read(dir.path(), LOG_START_OFFSET).unwrap().is_empty());
    }

    fn parse_err(text: &str) -> (usize, String) {
        parse(text).expect_err(text)
    }

    #[test]
    fn counts_in_the_file_allocate_nothing_and_must_match() {
        // 2^64-1 and 2^31-1 declared entries, one present: an error, not an allocation.
        let (line, reason) = parse_err("0\n18446744073709551615\nt 0 5\n");
        assert_eq!(line, 4);
        assert!(
            reason.contains("1 entries where 18446744073709551615"),
            "{reason}"
        );
        let (line, _) = parse_err("0\n2147483647\n");
        assert_eq!(line, 3);
        // More lines than declared, as Kafka's reader refuses.
        assert_eq!(parse_err("0\n1\nt 0 5\nt 1 6\n").0, 4);
        // A count that does not fit u64.
        assert_eq!(parse_err("0\n99999999999999999999999\n").0, 2);
        assert_eq!(parse_err("0\n-1\n").0, 2);
    }

    #[test]
    fn malformed_files_are_errors_naming_the_line() {
        assert_eq!(parse_err("1\n0\n").0, 1);
        assert_eq!(parse_err("\u{1}garbage\n").0, 1);
        assert_eq!(parse_err("0\nx\n").0, 2);
        assert_eq!(parse_err("0\n1\nt 0\n").0, 3);
        assert_eq!(parse_err("0\n1\nt 0 5 extra\n").0, 3);
        assert_eq!(parse_err("0\n1\nt zero 5\n").0, 3);
        assert_eq!(parse_err("0\n1\nt 0 99999999999999999999\n").0, 3);
        // Empty and version-only files are empty, as Kafka reads them.
        assert!(parse("").unwrap().is_empty());
        assert!(parse("0\n").unwrap().is_empty());
        assert!(parse("0\n0\n").unwrap().is_empty());
    }

    #[test]
    fn unreadable_bytes_and_the_file_name_in_the_error() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(RECOVERY_POINT), [0xff, 0xfe, 0x00, 0x80]).unwrap();
        let e = read(dir.path(), RECOVERY_POINT).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
        assert!(e.to_string().contains(RECOVERY_POINT), "{e}");
        fs::write(dir.path().join(LOG_START_OFFSET), "0\n2147483647\nt 0 1\n").unwrap();
        let e = read(dir.path(), LOG_START_OFFSET).unwrap_err();
        assert!(e.to_string().contains(LOG_START_OFFSET), "{e}");
        assert!(e.to_string().contains("line 4"), "{e}");
    }

    #[test]
    fn concurrent_writers_of_one_file_never_leave_it_torn() {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile::new(dir.path(), RECOVERY_POINT);
        let counter = std::sync::atomic::AtomicI64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        file.write_with(|| {
                            let v = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            (0..50).map(|p| (format!("topic-{p}"), p, v)).collect()
                        })
                        .unwrap();
                    }
                });
            }
            s.spawn(|| {
                let mut last = -1;
                for _ in 0..400 {
                    let m = read(dir.path(), RECOVERY_POINT).unwrap();
                    if m.is_empty() {
                        continue;
                    }
                    assert_eq!(m.len(), 50);
                    let v = m[&("topic-0".to_string(), 0)];
                    assert!(m.values().all(|o| *o == v));
                    // Snapshots are taken under the lock: the file never goes back in time.
                    assert!(v >= last, "{v} after {last}");
                    last = v;
                }
            });
        });
        let m = file.read().unwrap();
        assert_eq!(m[&("topic-49".to_string(), 49)], 799);
    }
}
