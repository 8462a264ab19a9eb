//! Sparse offset and time indexes in Kafka's file formats (`OffsetIndex`, `TimeIndex`).
//!
//! `.index` entries are 8 bytes: relative offset (u32 BE) and file position (u32 BE).
//! `.timeindex` entries are 12 bytes: timestamp (i64 BE) and relative offset (u32 BE).
//!
//! Indexes are caches of the log, never the truth: entries live in memory, are written to the
//! file when the segment is flushed, rolled or closed, and are rebuilt from the log by recovery
//! after an unclean shutdown. Persisting on flush (rather than per entry) keeps index I/O off the
//! produce path, the same effect Kafka gets from its memory-mapped index files.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const OFFSET_ENTRY: usize = 8;
const TIME_ENTRY: usize = 12;

/// Offset index of one segment.
pub struct OffsetIndex {
    path: PathBuf,
    base_offset: i64,
    /// `(relative offset, position)`; offsets strictly increasing.
    entries: Vec<(u32, u32)>,
    persisted: usize,
    max_entries: usize,
}

impl OffsetIndex {
    /// An empty index for a new segment (the file is created on first persist).
    pub fn new(path: PathBuf, base_offset: i64, max_index_bytes: usize) -> OffsetIndex {
        OffsetIndex {
            path,
            base_offset,
            entries: Vec::new(),
            persisted: 0,
            max_entries: (max_index_bytes / OFFSET_ENTRY).max(1),
        }
    }

    /// Loads an index file written earlier. Trailing zero entries (a preallocated Kafka index)
    /// and a partial trailing entry are ignored. Returns `None` if the file is missing or
    /// its entries are not strictly increasing: the caller then rebuilds from the log.
    pub fn load(path: PathBuf, base_offset: i64, max_index_bytes: usize) -> Option<OffsetIndex> {
        let bytes = read_file(&path).ok()?;
        let mut entries: Vec<(u32, u32)> = Vec::with_capacity(bytes.len() / OFFSET_ENTRY);
        for chunk in bytes.chunks_exact(OFFSET_ENTRY) {
            let rel = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let pos = u32::from_be_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
            if let Some(&(last_rel, last_pos)) = entries.last() {
                if rel == 0 && pos == 0 {
                    break;
                }
                if rel <= last_rel || pos <= last_pos {
                    return None;
                }
            }
            entries.push((rel, pos));
        }
        let persisted = entries.len();
        Some(OffsetIndex {
            path,
            base_offset,
            entries,
            persisted,
            max_entries: (max_index_bytes / OFFSET_ENTRY).max(1),
        })
    }

    /// Adds an entry; offsets and positions at or below the last entry are ignored.
    pub fn append(&mut self, offset: i64, position: u32) {
        let rel = (offset - self.base_offset) as u32;
        if let Some(&(last_rel, last_pos)) = self.entries.last() {
            if rel <= last_rel || position <= last_pos {
                return;
            }
        }
        self.entries.push((rel, position));
    }

    /// The last entry whose offset is at or below `target`, as `(offset, position)`;
    /// `(base_offset, 0)` when there is none.
    pub fn lookup(&self, target: i64) -> (i64, u32) {
        let rel = target - self.base_offset;
        if rel < 0 {
            return (self.base_offset, 0);
        }
        let rel = rel.min(u32::MAX as i64) as u32;
        let idx = self.entries.partition_point(|&(r, _)| r <= rel);
        if idx == 0 {
            (self.base_offset, 0)
        } else {
            let (r, p) = self.entries[idx - 1];
            (self.base_offset + r as i64, p)
        }
    }

    /// The last entry whose position is at or below `position`.
    pub fn lookup_position(&self, position: u32) -> (i64, u32) {
        let idx = self.entries.partition_point(|&(_, p)| p <= position);
        if idx == 0 {
            (self.base_offset, 0)
        } else {
            let (r, p) = self.entries[idx - 1];
            (self.base_offset + r as i64, p)
        }
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The largest position in the index (for sanity checks against the log size).
    pub fn last_position(&self) -> u32 {
        self.entries.last().map(|e| e.1).unwrap_or(0)
    }

    pub fn last_offset(&self) -> i64 {
        self.entries
            .last()
            .map(|e| self.base_offset + e.0 as i64)
            .unwrap_or(self.base_offset)
    }

    /// Drops entries for offsets at or after `offset`.
    pub fn truncate_to(&mut self, offset: i64) {
        let rel = (offset - self.base_offset).max(0);
        let keep = self.entries.partition_point(|&(r, _)| (r as i64) < rel);
        self.entries.truncate(keep);
        self.persisted = self.persisted.min(keep);
    }

    /// Replaces every entry (used by recovery) and forces a full rewrite on the next persist.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.persisted = 0;
    }

    /// Writes entries not yet on disk; rewrites the file if it is out of step.
    pub fn persist(&mut self) -> io::Result<()> {
        let rewrite = self.persisted == 0;
        let start = self.persisted;
        let mut buf = Vec::with_capacity((self.entries.len() - start) * OFFSET_ENTRY);
        for &(rel, pos) in &self.entries[start..] {
            buf.extend_from_slice(&rel.to_be_bytes());
            buf.extend_from_slice(&pos.to_be_bytes());
        }
        write_entries(&self.path, &buf, rewrite, self.persisted * OFFSET_ENTRY)?;
        self.persisted = self.entries.len();
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn set_path(&mut self, path: PathBuf) {
        self.path = path;
    }
}

/// Time index of one segment.
pub struct TimeIndex {
    path: PathBuf,
    base_offset: i64,
    /// `(timestamp, relative offset)`; both strictly increasing.
    entries: Vec<(i64, u32)>,
    persisted: usize,
    max_entries: usize,
}

impl TimeIndex {
    pub fn new(path: PathBuf, base_offset: i64, max_index_bytes: usize) -> TimeIndex {
        TimeIndex {
            path,
            base_offset,
            entries: Vec::new(),
            persisted: 0,
            max_entries: (max_index_bytes / TIME_ENTRY).max(1),
        }
    }

    /// Loads a time index file; `None` when missing or inconsistent.
    pub fn load(path: PathBuf, base_offset: i64, max_index_bytes: usize) -> Option<TimeIndex> {
        let bytes = read_file(&path).ok()?;
        let mut entries: Vec<(i64, u32)> = Vec::with_capacity(bytes.len() / TIME_ENTRY);
        for chunk in bytes.chunks_exact(TIME_ENTRY) {
            let mut ts = [0u8; 8];
            ts.copy_from_slice(&chunk[0..8]);
            let ts = i64::from_be_bytes(ts);
            let rel = u32::from_be_bytes([chunk[8], chunk[9], chunk[10], chunk[11]]);
            if let Some(&(last_ts, last_rel)) = entries.last() {
                if ts == 0 && rel == 0 {
                    break;
                }
                if ts <= last_ts || rel < last_rel {
                    return None;
                }
            }
            entries.push((ts, rel));
        }
        let persisted = entries.len();
        Some(TimeIndex {
            path,
            base_offset,
            entries,
            persisted,
            max_entries: (max_index_bytes / TIME_ENTRY).max(1),
        })
    }

    /// `TimeIndex.maybeAppend`: adds an entry only when the timestamp grows.
    pub fn maybe_append(&mut self, timestamp: i64, offset: i64) {
        let rel = (offset - self.base_offset) as u32;
        if let Some(&(last_ts, last_rel)) = self.entries.last() {
            if timestamp <= last_ts || rel < last_rel {
                return;
            }
        }
        self.entries.push((timestamp, rel));
    }

    /// The last entry with timestamp at or below `target`: `(timestamp, offset)`;
    /// `(-1, base_offset)` when there is none.
    pub fn lookup(&self, target: i64) -> (i64, i64) {
        let idx = self.entries.partition_point(|&(ts, _)| ts <= target);
        if idx == 0 {
            (-1, self.base_offset)
        } else {
            let (ts, rel) = self.entries[idx - 1];
            (ts, self.base_offset + rel as i64)
        }
    }

    pub fn last_entry(&self) -> Option<(i64, i64)> {
        self.entries
            .last()
            .map(|&(ts, rel)| (ts, self.base_offset + rel as i64))
    }

    pub fn is_full(&self) -> bool {
        self.entries.len() >= self.max_entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn truncate_to(&mut self, offset: i64) {
        let rel = (offset - self.base_offset).max(0);
        let keep = self.entries.partition_point(|&(_, r)| (r as i64) < rel);
        self.entries.truncate(keep);
        self.persisted = self.persisted.min(keep);
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.persisted = 0;
    }

    pub fn persist(&mut self) -> io::Result<()> {
        let rewrite = self.persisted == 0;
        let start = self.persisted;
        let mut buf = Vec::with_capacity((self.entries.len() - start) * TIME_ENTRY);
        for &(ts, rel) in &self.entries[start..] {
            buf.extend_from_slice(&ts.to_be_bytes());
            buf.extend_from_slice(&rel.to_be_bytes());
        }
        write_entries(&self.path, &buf, rewrite, self.persisted * TIME_ENTRY)?;
        self.persisted = self.entries.len();
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn set_path(&mut self, path: PathBuf) {
        self.path = path;
    }
}

fn read_file(path: &Path) -> io::Result<Vec<u8>> {
    let mut f = File::open(path)?;
    let mut v = Vec::new();
    f.read_to_end(&mut v)?;
    Ok(v)
}

/// Appends `buf` at byte `at` of the file (truncating anything after it), or rewrites the file.
fn write_entries(path: &Path, buf: &[u8], rewrite: bool, at: usize) -> io::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(rewrite)
        .open(path)?;
    if !rewrite {
        f.set_len(at as u64)?;
        use std::io::Seek;
        f.seek(io::SeekFrom::Start(at as u64))?;
    }
    f.write_all(buf)?;
    Ok(())
}

/// fsyncs an index file if it exists (after [`OffsetIndex::persist`]).
pub fn sync_file(path: &Path) -> io::Result<()> {
    match File::open(path) {
        Ok(f) => f.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_index_lookup_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000100.index");
        let mut idx = OffsetIndex::new(path.clone(), 100, 1024);
        assert_eq!(idx.lookup(150), (100, 0));
        idx.append(110, 4000);
        idx.append(120, 8000);
        idx.append(120, 9000); // ignored: offset not increasing
        assert_eq!(idx.lookup(109), (100, 0));
        assert_eq!(idx.lookup(110), (110, 4000));
        assert_eq!(idx.lookup(119), (110, 4000));
        assert_eq!(idx.lookup(500), (120, 8000));
        idx.persist().unwrap();
        idx.append(130, 12000);
        idx.persist().unwrap();
        let loaded = OffsetIndex::load(path.clone(), 100, 1024).unwrap();
        assert_eq!(loaded.len(), 3);
        assert_eq!(loaded.lookup(135), (130, 12000));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 24);
        let mut t = loaded;
        t.truncate_to(120);
        t.persist().unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 8);
    }

    #[test]
    fn time_index_only_grows() {
        let dir = tempfile::tempdir().unwrap();
        let mut idx = TimeIndex::new(dir.path().join("0.timeindex"), 0, 1200);
        idx.maybe_append(1000, 5);
        idx.maybe_append(900, 7);
        idx.maybe_append(2000, 9);
        assert_eq!(idx.lookup(999), (-1, 0));
        assert_eq!(idx.lookup(1500), (1000, 5));
        assert_eq!(idx.lookup(2500), (2000, 9));
        idx.persist().unwrap();
        let loaded = TimeIndex::load(dir.path().join("0.timeindex"), 0, 1200).unwrap();
        assert_eq!(loaded.last_entry(), Some((2000, 9)));
    }
}
