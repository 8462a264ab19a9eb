//! One log segment: `<base offset>.log` with its `.index` and `.timeindex` (Kafka's
//! `LogSegment`).
//!
//! Appends write the producer's batch bytes unchanged except for the 16-byte prefix (base offset,
//! length, leader epoch) that the log assigns; the prefix and the body go out in one vectored
//! write, so the produce path copies nothing. Reads hand out the shared file handle and a byte
//! range; the caller reads outside the partition lock.

use std::fs::{File, OpenOptions};
use std::io::{self, IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use crate::log::batch::{self, BatchHeader, InvalidBatch, HEADER_LEN, NO_TIMESTAMP};
use crate::log::batch_reader::FileBatches;
use crate::log::index::{self, OffsetIndex, TimeIndex};

/// Chunk size for sequential scans (recovery, tail loading).
const SCAN_CHUNK: usize = 1 << 20;

/// `<20-digit zero-padded offset><suffix>`, Kafka's `LogFileUtils.filenamePrefixFromOffset`.
pub fn file_name(offset: i64, suffix: &str) -> String {
    format!("{offset:020}{suffix}")
}

/// Parses the base offset out of a segment or index file name.
pub fn offset_from_file_name(name: &str) -> Option<i64> {
    let stem = name.split('.').next()?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// Settings a segment needs for appends.
#[derive(Clone, Copy, Debug)]
pub struct SegmentLimits {
    pub index_interval_bytes: u64,
    pub max_index_bytes: usize,
}

/// What a full scan of a segment found.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScanResult {
    /// Bytes of complete, valid batches from the start of the file.
    pub valid_bytes: u64,
    /// Bytes after them (a torn or corrupt tail).
    pub invalid_bytes: u64,
    /// Offset after the last valid batch (`None` if the segment holds no batch).
    pub next_offset: Option<i64>,
    /// Why the valid bytes end before the file does, for the log line.
    pub end_reason: Option<&'static str>,
}

/// An open segment.
pub struct LogSegment {
    pub base_offset: i64,
    dir: PathBuf,
    /// Suffix after `.log`/`.index`/`.timeindex`: empty for a live segment, `.cleaned` or
    /// `.swap` while the log cleaner builds a replacement (Kafka's `LogFileUtils`).
    suffix: &'static str,
    file: Arc<File>,
    size: u64,
    next_offset: i64,
    offset_index: OffsetIndex,
    time_index: TimeIndex,
    bytes_since_last_index_entry: u64,
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    /// maxTimestamp of the first batch: Kafka's `rollingBasedTimestamp` for `segment.ms`.
    first_batch_timestamp: Option<i64>,
    created: Instant,
    limits: SegmentLimits,
}

fn open_log_file(path: &Path, truncate: bool) -> io::Result<File> {
    let f = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    if truncate {
        f.set_len(0)?;
    }
    Ok(f)
}

impl LogSegment {
    /// Creates an empty segment at `base_offset` (replacing leftover files of that name).
    pub fn create(dir: &Path, base_offset: i64, limits: SegmentLimits) -> io::Result<LogSegment> {
        Self::create_with_suffix(dir, base_offset, limits, "")
    }

    /// Creates an empty segment whose files carry `suffix` (`.cleaned` for the cleaner's output).
    pub fn create_with_suffix(
        dir: &Path,
        base_offset: i64,
        limits: SegmentLimits,
        suffix: &'static str,
    ) -> io::Result<LogSegment> {
        let name = |ext: &str| dir.join(format!("{}{suffix}", file_name(base_offset, ext)));
        let file = open_log_file(&name(".log"), true)?;
        let _ = std::fs::remove_file(name(".index"));
        let _ = std::fs::remove_file(name(".timeindex"));
        Ok(LogSegment {
            base_offset,
            dir: dir.to_path_buf(),
            suffix,
            file: Arc::new(file),
            size: 0,
            next_offset: base_offset,
            offset_index: OffsetIndex::new(name(".index"), base_offset, limits.max_index_bytes),
            time_index: TimeIndex::new(name(".timeindex"), base_offset, limits.max_index_bytes),
            bytes_since_last_index_entry: 0,
            max_timestamp: NO_TIMESTAMP,
            offset_of_max_timestamp: base_offset - 1,
            first_batch_timestamp: None,
            created: Instant::now(),
            limits,
        })
    }

    /// Opens an existing segment. With `recover`, every batch is validated (CRC, lengths,
    /// offsets), indexes are rebuilt and a torn tail is truncated; otherwise the indexes on disk
    /// are trusted if they are consistent, and only the tail after the last index entry is read.
    /// `on_batch` sees every valid batch that was scanned.
    pub fn open(
        dir: &Path,
        base_offset: i64,
        limits: SegmentLimits,
        recover: bool,
        on_batch: &mut dyn FnMut(&BatchHeader<'_>),
    ) -> io::Result<(LogSegment, ScanResult)> {
        let path = dir.join(file_name(base_offset, ".log"));
        let file = open_log_file(&path, false)?;
        let file_len = file.metadata()?.len();
        let mut seg = LogSegment {
            base_offset,
            dir: dir.to_path_buf(),
            suffix: "",
            file: Arc::new(file),
            size: file_len,
            next_offset: base_offset,
            offset_index: OffsetIndex::new(
                dir.join(file_name(base_offset, ".index")),
                base_offset,
                limits.max_index_bytes,
            ),
            time_index: TimeIndex::new(
                dir.join(file_name(base_offset, ".timeindex")),
                base_offset,
                limits.max_index_bytes,
            ),
            bytes_since_last_index_entry: 0,
            max_timestamp: NO_TIMESTAMP,
            offset_of_max_timestamp: base_offset - 1,
            first_batch_timestamp: None,
            created: Instant::now(),
            limits,
        };
        if !recover {
            let oi = OffsetIndex::load(
                dir.join(file_name(base_offset, ".index")),
                base_offset,
                limits.max_index_bytes,
            );
            let ti = TimeIndex::load(
                dir.join(file_name(base_offset, ".timeindex")),
                base_offset,
                limits.max_index_bytes,
            );
            if let (Some(oi), Some(ti)) = (oi, ti) {
                if (oi.last_position() as u64) < file_len.max(1) {
                    seg.offset_index = oi;
                    seg.time_index = ti;
                    if let Some((ts, off)) = seg.time_index.last_entry() {
                        seg.max_timestamp = ts;
                        seg.offset_of_max_timestamp = off;
                    }
                    let start = seg.offset_index.last_position() as u64;
                    let scan = seg.scan_from(start, false, on_batch)?;
                    if scan.invalid_bytes == 0 {
                        seg.first_batch_timestamp = seg.read_first_timestamp()?;
                        return Ok((seg, scan));
                    }
                }
            }
        }
        // Full recovery: rebuild indexes from the log and cut a torn or corrupt tail.
        seg.offset_index.clear();
        seg.time_index.clear();
        seg.max_timestamp = NO_TIMESTAMP;
        seg.offset_of_max_timestamp = base_offset - 1;
        seg.bytes_since_last_index_entry = 0;
        let scan = seg.scan_from(0, true, on_batch)?;
        if scan.invalid_bytes > 0 {
            seg.file.set_len(scan.valid_bytes)?;
            seg.size = scan.valid_bytes;
        }
        seg.first_batch_timestamp = seg.read_first_timestamp()?;
        // Indexes are caches of the log: on a full disk the broker starts with them in memory
        // (written at the next flush, roll or shutdown) rather than not at all.
        if let Err(e) = seg.persist_indexes() {
            if !crate::log::space::is_out_of_space(&e) {
                return Err(e);
            }
            tracing::warn!(segment = %path.display(), "cannot write the rebuilt indexes: {e}");
        }
        Ok((seg, scan))
    }

    fn read_first_timestamp(&self) -> io::Result<Option<i64>> {
        if self.size < HEADER_LEN as u64 {
            return Ok(None);
        }
        let mut h = [0u8; HEADER_LEN];
        self.file.read_exact_at(&mut h, 0)?;
        Ok(BatchHeader::parse(&h).ok().map(|h| h.max_timestamp()))
    }

    /// Scans batches from `start` to the end of the file, updating `next_offset`, the max
    /// timestamp and the indexes. The scan stops where [`FileBatches`] finds the valid log
    /// ends, or at the first batch with a bad CRC (when `validate`, reading whole batches) or
    /// offsets outside the segment or not increasing (Kafka's `LogSegment.recover`).
    fn scan_from(
        &mut self,
        start: u64,
        validate: bool,
        on_batch: &mut dyn FnMut(&BatchHeader<'_>),
    ) -> io::Result<ScanResult> {
        let end = self.size;
        let file = Arc::clone(&self.file);
        let mut batches = FileBatches::new(&file, start, end, SCAN_CHUNK);
        let mut pos = start;
        let mut last_offset: Option<i64> = None;
        let end_reason = loop {
            let next = if validate {
                batches.next_batch()?
            } else {
                batches.next_header()?
            };
            let Some((at, h)) = next else {
                break batches.stop().map(|why| match why {
                    InvalidBatch::Incomplete => "incomplete batch",
                    InvalidBatch::Corrupt(why) => why,
                });
            };
            let offsets_ok = h.base_offset() >= self.base_offset
                && last_offset.is_none_or(|l| h.base_offset() > l)
                && h.last_offset() - self.base_offset <= u32::MAX as i64;
            if !offsets_ok {
                break Some("offsets outside the segment or not increasing");
            }
            if validate && !batch::crc_is_valid(h.bytes()) {
                break Some("CRC mismatch");
            }
            on_batch(&h);
            self.track_batch(&h, at);
            last_offset = Some(h.last_offset());
            pos = at + h.size() as u64;
        };
        if let Some(l) = last_offset {
            self.next_offset = l + 1;
        }
        Ok(ScanResult {
            valid_bytes: pos,
            invalid_bytes: end - pos,
            next_offset: last_offset.map(|l| l + 1),
            end_reason,
        })
    }

    /// Updates the in-memory state (max timestamp, sparse indexes) for a batch already in the
    /// file at `position`, exactly as [`LogSegment::append`] would have.
    fn track_batch(&mut self, h: &BatchHeader<'_>, position: u64) {
        if h.max_timestamp() > self.max_timestamp {
            self.max_timestamp = h.max_timestamp();
            self.offset_of_max_timestamp = h.last_offset();
        }
        if self.bytes_since_last_index_entry > self.limits.index_interval_bytes {
            self.offset_index.append(h.last_offset(), position as u32);
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += h.size() as u64;
    }

    /// Appends one batch: `prefix` is the patched first 16 bytes, `rest` the producer's bytes
    /// from offset 16 on. Indexes are updated every `index.interval.bytes` (Kafka's
    /// `LogSegment.append`).
    pub fn append(
        &mut self,
        prefix: &[u8],
        rest: &[u8],
        last_offset: i64,
        max_timestamp: i64,
    ) -> io::Result<()> {
        let position = self.size;
        if let Err(e) = write_all_vectored(&self.file, &[prefix, rest]) {
            // Part of the batch may have reached the file (a full disk takes what fits): cut it
            // off so the segment ends at its last whole batch and the next append (the file is
            // opened for appending) lands right after it. If even that fails the segment is no
            // longer what memory says: report an error that is not "out of space", so the
            // partition is poisoned.
            return match self.file.set_len(self.size) {
                Ok(()) => Err(e),
                Err(cut) => Err(io::Error::other(format!(
                    "{e}; cutting the partial batch off failed: {cut}"
                ))),
            };
        }
        let size = (prefix.len() + rest.len()) as u64;
        self.size += size;
        if self.first_batch_timestamp.is_none() {
            self.first_batch_timestamp = Some(max_timestamp);
        }
        if max_timestamp > self.max_timestamp {
            self.max_timestamp = max_timestamp;
            self.offset_of_max_timestamp = last_offset;
        }
        if self.bytes_since_last_index_entry > self.limits.index_interval_bytes {
            self.offset_index.append(last_offset, position as u32);
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += size;
        self.next_offset = last_offset + 1;
        Ok(())
    }

    /// Kafka's `LogSegment.shouldRoll`.
    pub fn should_roll(
        &self,
        incoming_size: u64,
        incoming_max_timestamp: i64,
        incoming_last_offset: i64,
        segment_bytes: u64,
        segment_ms: i64,
        jitter_ms: i64,
    ) -> bool {
        let waited_ms = match self.first_batch_timestamp {
            Some(ts) if ts >= 0 && incoming_max_timestamp >= 0 => incoming_max_timestamp - ts,
            _ => self.created.elapsed().as_millis() as i64,
        };
        self.size > segment_bytes.saturating_sub(incoming_size)
            || (self.size > 0 && waited_ms > segment_ms - jitter_ms)
            || self.offset_index.is_full()
            || self.time_index.is_full()
            || incoming_last_offset - self.base_offset > i32::MAX as i64
    }

    /// Records the final max timestamp in the time index, as Kafka does when a segment stops
    /// being active, so retention and ListOffsets see it after a restart.
    pub fn on_become_inactive(&mut self) {
        if self.max_timestamp >= 0 {
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp);
        }
    }

    /// Position of the batch that contains `offset` (or the first batch after it), scanning
    /// forward from the nearest index entry. `None` when the segment has no such batch.
    pub fn translate_offset(&self, offset: i64) -> io::Result<Option<(u64, i64)>> {
        let (_, start) = self.offset_index.lookup(offset);
        let mut batches = FileBatches::new(&self.file, start as u64, self.size, 64 * 1024);
        while let Some((at, h)) = batches.next_header()? {
            if h.last_offset() >= offset {
                return Ok(Some((at, h.base_offset())));
            }
        }
        Ok(None)
    }

    /// Batch headers (position and the [`HEADER_LEN`] header bytes) from `position` to
    /// `end_position`, for scans such as timestamp search and producer-state rebuild; stops
    /// when `f` returns false or the valid log ends.
    pub fn read_headers(
        &self,
        position: u64,
        end_position: u64,
        f: &mut dyn FnMut(u64, &BatchHeader<'_>) -> bool,
    ) -> io::Result<()> {
        let end = end_position.min(self.size);
        let mut batches = FileBatches::new(&self.file, position, end, SCAN_CHUNK);
        while let Some((at, h)) = batches.next_header()? {
            if !f(at, &h) {
                break;
            }
        }
        Ok(())
    }

    /// Reads `len` bytes at `position` (one whole batch, typically).
    pub fn read_bytes(&self, position: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut v = vec![0u8; len];
        self.file.read_exact_at(&mut v, position)?;
        Ok(v)
    }

    /// Offset-index lookup: the last indexed `(offset, position)` at or before `offset`.
    pub fn index_lookup(&self, offset: i64) -> (i64, u32) {
        self.offset_index.lookup(offset)
    }

    /// Offset-index lookup by file position: the last indexed batch starting at or before it.
    pub fn index_lookup_position(&self, position: u32) -> (i64, u32) {
        self.offset_index.lookup_position(position)
    }

    /// Time-index lookup: a position at or before the first batch that may hold `timestamp`.
    pub fn timestamp_start_position(&self, timestamp: i64) -> u32 {
        let (_, offset) = self.time_index.lookup(timestamp);
        self.offset_index.lookup(offset).1
    }

    /// Cuts the segment so that it ends before the batch that starts at `position`.
    pub fn truncate_to_position(&mut self, position: u64, next_offset: i64) -> io::Result<()> {
        self.file.set_len(position)?;
        self.size = position;
        self.next_offset = next_offset;
        self.offset_index.truncate_to(next_offset);
        self.time_index.truncate_to(next_offset);
        Ok(())
    }

    /// Writes the indexes and fsyncs the log and index files.
    pub fn flush(&mut self) -> io::Result<()> {
        self.file.sync_data()?;
        self.persist_indexes()?;
        index::sync_file(self.offset_index.path())?;
        index::sync_file(self.time_index.path())
    }

    /// Writes in-memory index entries to their files (no fsync).
    pub fn persist_indexes(&mut self) -> io::Result<()> {
        self.offset_index.persist()?;
        self.time_index.persist()
    }

    /// A handle for fsync outside the partition lock.
    pub fn file(&self) -> Arc<File> {
        self.file.clone()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Largest batch timestamp in the segment (`-1` when none).
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }

    pub fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join(format!(
            "{}{}",
            file_name(self.base_offset, ".log"),
            self.suffix
        ))
    }

    /// Renames the segment's files to carry `suffix` instead of the current one (Kafka's
    /// `LogSegment.changeFileSuffixes`). The open file handle stays valid.
    pub fn change_suffix(&mut self, suffix: &'static str) -> io::Result<()> {
        let name = |ext: &str| {
            self.dir
                .join(format!("{}{suffix}", file_name(self.base_offset, ext)))
        };
        let (log_to, index_to, time_to) = (name(".log"), name(".index"), name(".timeindex"));
        std::fs::rename(self.log_path(), &log_to)?;
        rename_if_exists(self.offset_index.path(), &index_to)?;
        rename_if_exists(self.time_index.path(), &time_to)?;
        self.offset_index.set_path(index_to);
        self.time_index.set_path(time_to);
        self.suffix = suffix;
        Ok(())
    }

    /// Kafka's `LogSegment.largestTimestamp`: the largest batch timestamp, or the file's
    /// modification time when no batch carries a timestamp.
    pub fn largest_timestamp(&self) -> i64 {
        if self.max_timestamp >= 0 {
            return self.max_timestamp;
        }
        self.file
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }

    /// maxTimestamp of the first batch (Kafka's `getFirstBatchTimestamp`), for
    /// `max.compaction.lag.ms`.
    pub fn first_batch_timestamp(&self) -> Option<i64> {
        self.first_batch_timestamp
    }

    /// Bytes the offset and time indexes take (for grouping segments to clean).
    pub fn index_bytes(&self) -> (u64, u64) {
        (
            self.offset_index.len() as u64 * 8,
            self.time_index.len() as u64 * 12,
        )
    }

    /// Every file belonging to this segment.
    pub fn paths(&self) -> [PathBuf; 3] {
        [
            self.log_path(),
            self.offset_index.path().to_path_buf(),
            self.time_index.path().to_path_buf(),
        ]
    }

    /// Removes the segment's files (the open handle keeps data readable for in-flight reads).
    pub fn delete_files(&self) -> io::Result<()> {
        for p in self.paths() {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::rename(from, to) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// `write_all` for two slices in one `writev` where possible.
fn write_all_vectored(mut file: &File, parts: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = parts.iter().map(|p| IoSlice::new(p)).collect();
    let mut s: &mut [IoSlice<'_>] = &mut slices;
    while !s.is_empty() {
        let n = file.write_vectored(s)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "failed to write batch",
            ));
        }
        IoSlice::advance_slices(&mut s, n);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;

    fn limits() -> SegmentLimits {
        SegmentLimits {
            index_interval_bytes: 100,
            max_index_bytes: 1 << 20,
        }
    }

    fn append(seg: &mut LogSegment, offset: i64, values: &[&[u8]], ts: i64) {
        let b = batch(values, ts, -1, -1, -1);
        let prefix = batch::patched_prefix(&b, offset, 0);
        seg.append(
            &prefix,
            &b[16..],
            offset + values.len() as i64 - 1,
            ts + values.len() as i64 - 1,
        )
        .unwrap();
    }

    #[test]
    fn append_translate_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 0, limits()).unwrap();
        let big = vec![7u8; 150];
        for i in 0..10 {
            append(&mut seg, i * 2, &[&big, b"x"], 1000 + i);
        }
        assert_eq!(seg.next_offset(), 20);
        let (pos5, base5) = seg.translate_offset(5).unwrap().unwrap();
        assert_eq!(base5, 4);
        assert!(pos5 > 0);
        assert!(seg.translate_offset(20).unwrap().is_none());
        seg.on_become_inactive();
        seg.flush().unwrap();
        drop(seg);

        let mut seen = 0;
        let (seg, scan) =
            LogSegment::open(dir.path(), 0, limits(), false, &mut |_| seen += 1).unwrap();
        assert_eq!(seg.next_offset(), 20);
        assert_eq!(scan.invalid_bytes, 0);
        assert!(seen >= 1);
        assert_eq!(seg.translate_offset(5).unwrap().unwrap(), (pos5, 4));
        assert_eq!(seg.max_timestamp(), 1010);
    }

    #[test]
    fn recovery_truncates_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 0, limits()).unwrap();
        append(&mut seg, 0, &[b"a", b"b"], 1);
        append(&mut seg, 2, &[b"c"], 2);
        let good = seg.size();
        seg.flush().unwrap();
        drop(seg);
        // Half a batch of garbage at the end.
        let b = batch(&[b"torn"], 3, -1, -1, -1);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(file_name(0, ".log")))
            .unwrap();
        f.write_all(&b[..b.len() / 2]).unwrap();
        drop(f);
        let (seg, scan) = LogSegment::open(dir.path(), 0, limits(), true, &mut |_| {}).unwrap();
        assert_eq!(scan.valid_bytes, good);
        assert!(scan.invalid_bytes > 0);
        assert_eq!(seg.size(), good);
        assert_eq!(seg.next_offset(), 3);
        assert_eq!(
            std::fs::metadata(dir.path().join(file_name(0, ".log")))
                .unwrap()
                .len(),
            good
        );
    }

    #[test]
    fn recovery_stops_at_bad_crc() {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 0, limits()).unwrap();
        append(&mut seg, 0, &[b"a"], 1);
        let good = seg.size();
        append(&mut seg, 1, &[b"b"], 2);
        drop(seg);
        let path = dir.path().join(file_name(0, ".log"));
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let (seg, _) = LogSegment::open(dir.path(), 0, limits(), true, &mut |_| {}).unwrap();
        assert_eq!(seg.size(), good);
        assert_eq!(seg.next_offset(), 1);
    }

    /// Offsets 0..=1 and 2 in two valid batches, then `bad` bytes, then a valid batch at 3:
    /// recovery keeps the first two and cuts from `bad` on.
    fn recover_with(bad: &[u8]) -> (LogSegment, ScanResult, u64) {
        let dir = tempfile::tempdir().unwrap();
        let mut seg = LogSegment::create(dir.path(), 0, limits()).unwrap();
        append(&mut seg, 0, &[b"a", b"b"], 1);
        append(&mut seg, 2, &[b"c"], 2);
        let good = seg.size();
        seg.flush().unwrap();
        drop(seg);
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(file_name(0, ".log")))
            .unwrap();
        f.write_all(bad).unwrap();
        let mut after = batch(&[b"d"], 3, -1, -1, -1);
        after[..8].copy_from_slice(&3i64.to_be_bytes());
        f.write_all(&after).unwrap();
        drop(f);
        let (seg, scan) = LogSegment::open(dir.path(), 0, limits(), true, &mut |_| {}).unwrap();
        let on_disk = std::fs::metadata(dir.path().join(file_name(0, ".log")))
            .unwrap()
            .len();
        assert_eq!(on_disk, seg.size());
        (seg, scan, good)
    }

    #[test]
    fn recovery_truncates_at_a_short_batch_header() {
        // batchLength 14..48 makes a "batch" shorter than the 61-byte v2 header.
        for len in 14..49i32 {
            let mut bad = batch(&[b"x"], 3, -1, -1, -1);
            bad[..8].copy_from_slice(&3i64.to_be_bytes());
            bad[batch::LENGTH..batch::LENGTH + 4].copy_from_slice(&len.to_be_bytes());
            let (seg, scan, good) = recover_with(&bad);
            assert_eq!(scan.valid_bytes, good, "batchLength {len}");
            assert_eq!(
                scan.end_reason,
                Some("batch length below the v2 header size")
            );
            assert_eq!((seg.size(), seg.next_offset()), (good, 3));
            assert_eq!(seg.translate_offset(3).unwrap(), None);
        }
    }

    #[test]
    fn recovery_truncates_at_garbage_and_inconsistent_headers() {
        let mut claims_i32_max = batch(&[b"x"], 3, -1, -1, -1);
        claims_i32_max[..8].copy_from_slice(&3i64.to_be_bytes());
        claims_i32_max[batch::RECORD_COUNT..batch::RECORD_COUNT + 4]
            .copy_from_slice(&i32::MAX.to_be_bytes());
        let crc = batch::compute_crc(&claims_i32_max);
        claims_i32_max[batch::CRC..batch::CRC + 4].copy_from_slice(&crc.to_be_bytes());
        let mut bad_magic = batch(&[b"x"], 3, -1, -1, -1);
        bad_magic[batch::MAGIC] = 1;
        let mut bad_crc = batch(&[b"x"], 3, -1, -1, -1);
        bad_crc[..8].copy_from_slice(&3i64.to_be_bytes());
        let last = bad_crc.len() - 1;
        bad_crc[last] ^= 1;
        let cases = [
            (vec![0xab; 100], "batch length below the v2 header size"),
            (
                claims_i32_max,
                "record count does not fit the last offset delta",
            ),
            (bad_magic, "magic is not 2"),
            (vec![0; 61], "batch length below the v2 header size"),
            (bad_crc, "CRC mismatch"),
        ];
        for (bad, reason) in cases {
            let (seg, scan, good) = recover_with(&bad);
            assert_eq!(scan.valid_bytes, good);
            assert_eq!(scan.end_reason, Some(reason));
            assert!(scan.invalid_bytes > 0);
            assert_eq!((seg.size(), seg.next_offset()), (good, 3));
            let mut seen = Vec::new();
            seg.read_headers(0, u64::MAX, &mut |pos, h| {
                seen.push((pos, h.base_offset()));
                true
            })
            .unwrap();
            assert_eq!(seen.iter().map(|s| s.1).collect::<Vec<_>>(), vec![0, 2]);
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(file_name(42, ".log"), "00000000000000000042.log");
        assert_eq!(
            offset_from_file_name("00000000000000000042.timeindex"),
            Some(42)
        );
        assert_eq!(offset_from_file_name("leader-epoch-checkpoint"), None);
    }
}
