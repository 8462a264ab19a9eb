//! THE reader of stored batches: every scan of a segment file (recovery, offset translation,
//! header reads, timestamp search, fetch location, swap completion, the cleaner) walks the file
//! through [`FileBatches`], so one set of rules decides where the valid log ends.
//!
//! It never yields a header shorter than [`HEADER_LEN`] or one [`BatchHeader::parse`] rejects,
//! nor a batch that runs past the end of the range; the first such position ends the valid log
//! (Kafka's `FileLogInputStream.nextBatch` returns null at an incomplete batch, and
//! `LogSegment.recover` truncates at the first batch failing `ensureValid`). Reads are bounded
//! by the bytes actually in the file: a length is checked against the range before anything is
//! allocated for it, and no count read from disk sizes an allocation.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use crate::log::batch::{BatchHeader, InvalidBatch, HEADER_LEN};

/// Reads the batches of `[start, end)` of a segment file in chunks.
pub struct FileBatches<'f> {
    file: &'f File,
    /// Start of the next batch (after the last one yielded).
    pos: u64,
    end: u64,
    /// Preferred read size; a whole batch larger than it is read in one piece.
    chunk: usize,
    buf: Vec<u8>,
    /// File position of `buf[0]`.
    buf_start: u64,
    /// Bytes read from the file so far (the cleaner throttles on them).
    bytes_read: u64,
    stop: Option<InvalidBatch>,
}

impl<'f> FileBatches<'f> {
    /// A reader of `[start, end)`, reading about `chunk` bytes at a time (at least a header).
    pub fn new(file: &'f File, start: u64, end: u64, chunk: usize) -> FileBatches<'f> {
        FileBatches {
            file,
            pos: start,
            end,
            chunk: chunk.max(HEADER_LEN),
            buf: Vec::new(),
            buf_start: start,
            bytes_read: 0,
            stop: None,
        }
    }

    /// End of the last batch yielded: the valid bytes of the range when the reader is done.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Why the reader stopped before `end` (`None` while running or at a clean end).
    pub fn stop(&self) -> Option<InvalidBatch> {
        self.stop
    }

    /// Bytes read from the file so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next batch's position and header; the view covers [`HEADER_LEN`] bytes and the
    /// records are not read.
    pub fn next_header(&mut self) -> io::Result<Option<(u64, BatchHeader<'_>)>> {
        let Some(size) = self.next_size()? else {
            return Ok(None);
        };
        let at = self.pos;
        self.pos += size;
        let off = (at - self.buf_start) as usize;
        Ok(self.view(off, HEADER_LEN).map(|h| (at, h)))
    }

    /// The next whole batch: its position and a header viewing all its bytes
    /// ([`BatchHeader::bytes`]).
    pub fn next_batch(&mut self) -> io::Result<Option<(u64, BatchHeader<'_>)>> {
        let Some(size) = self.next_size()? else {
            return Ok(None);
        };
        let at = self.pos;
        let len = size as usize;
        if !self.buffered(at, len) {
            // `size` was checked against the range, so this is bounded by the file's bytes.
            self.fill(at, len.max(self.chunk))?;
        }
        self.pos += size;
        let off = (at - self.buf_start) as usize;
        Ok(self.view(off, len).map(|h| (at, h)))
    }

    /// Size of the valid batch at `pos`, with its header buffered; `None` (and `stop` set when
    /// bytes remain) at the end of the valid log.
    fn next_size(&mut self) -> io::Result<Option<u64>> {
        if self.stop.is_some() || self.pos >= self.end {
            return Ok(None);
        }
        if self.end - self.pos < HEADER_LEN as u64 {
            self.stop = Some(InvalidBatch::Incomplete);
            return Ok(None);
        }
        if !self.buffered(self.pos, HEADER_LEN) {
            self.fill(self.pos, self.chunk)?;
        }
        let off = (self.pos - self.buf_start) as usize;
        let size = match BatchHeader::parse(&self.buf[off..]) {
            Ok(h) => h.size() as u64,
            Err(e) => {
                self.stop = Some(e);
                return Ok(None);
            }
        };
        if size > self.end - self.pos {
            self.stop = Some(InvalidBatch::Incomplete);
            return Ok(None);
        }
        Ok(Some(size))
    }

    fn buffered(&self, at: u64, len: usize) -> bool {
        at >= self.buf_start && at + len as u64 <= self.buf_start + self.buf.len() as u64
    }

    /// Reads up to `want` bytes at `at` (never past `end`) into the buffer.
    fn fill(&mut self, at: u64, want: usize) -> io::Result<()> {
        let len = (self.end - at).min(want as u64) as usize;
        self.buf.resize(len, 0);
        self.file.read_exact_at(&mut self.buf, at)?;
        self.buf_start = at;
        self.bytes_read += len as u64;
        Ok(())
    }

    fn view(&self, off: usize, len: usize) -> Option<BatchHeader<'_>> {
        self.buf.get(off..off + len).and_then(BatchHeader::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;
    use crate::log::batch::{LENGTH, RECORD_COUNT};
    use std::io::Write;

    fn file_of(bytes: &[u8]) -> (tempfile::TempDir, File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000.log");
        File::create(&path).unwrap().write_all(bytes).unwrap();
        (dir, File::open(&path).unwrap())
    }

    /// Two valid batches, offsets 0 and 1..=2.
    fn two_batches() -> (Vec<u8>, usize) {
        let a = batch(&[b"x"], 1, -1, -1, -1);
        let mut b = batch(&[b"y", b"z"], 2, -1, -1, -1);
        b[..8].copy_from_slice(&1i64.to_be_bytes());
        let first = a.len();
        let mut buf = a;
        buf.extend_from_slice(&b);
        (buf, first)
    }

    fn walk(
        bytes: &[u8],
        chunk: usize,
        whole: bool,
    ) -> (Vec<(u64, i64)>, u64, Option<InvalidBatch>) {
        let (_d, f) = file_of(bytes);
        let mut r = FileBatches::new(&f, 0, bytes.len() as u64, chunk);
        let mut seen = Vec::new();
        loop {
            let next = if whole {
                r.next_batch()
            } else {
                r.next_header()
            };
            let Some((at, h)) = next.unwrap() else { break };
            if whole {
                assert_eq!(h.bytes().len(), h.size());
            }
            seen.push((at, h.base_offset()));
        }
        (seen, r.position(), r.stop())
    }

    #[test]
    fn reads_every_batch_with_any_chunk_size() {
        let (buf, first) = two_batches();
        for chunk in [1, HEADER_LEN, 70, 4096] {
            for whole in [false, true] {
                let (seen, end, stop) = walk(&buf, chunk, whole);
                assert_eq!(seen, vec![(0, 0), (first as u64, 1)], "chunk {chunk}");
                assert_eq!(end, buf.len() as u64);
                assert_eq!(stop, None);
            }
        }
    }

    #[test]
    fn short_batch_lengths_end_the_valid_log() {
        // batchLength 14..48 passed the old iterator and yielded headers shorter than 61 bytes.
        for len in 14..49i32 {
            let (mut buf, first) = two_batches();
            buf[first + LENGTH..first + LENGTH + 4].copy_from_slice(&len.to_be_bytes());
            for whole in [false, true] {
                let (seen, end, stop) = walk(&buf, 4096, whole);
                assert_eq!(seen, vec![(0, 0)], "batchLength {len}");
                assert_eq!(end, first as u64);
                assert!(matches!(stop, Some(InvalidBatch::Corrupt(_))));
            }
        }
    }

    #[test]
    fn garbage_and_torn_tails_end_the_valid_log() {
        let (buf, first) = two_batches();
        let mut garbage = buf[..first].to_vec();
        garbage.extend_from_slice(&[0xab; 100]);
        let (seen, end, stop) = walk(&garbage, 4096, true);
        assert_eq!((seen.len(), end), (1, first as u64));
        assert!(matches!(stop, Some(InvalidBatch::Corrupt(_))));
        // A batch whose length runs past the end of the file.
        let torn = &buf[..buf.len() - 1];
        let (seen, end, stop) = walk(torn, 4096, false);
        assert_eq!((seen.len(), end), (1, first as u64));
        assert_eq!(stop, Some(InvalidBatch::Incomplete));
        // Fewer bytes than a header.
        let (seen, _, stop) = walk(&buf[..first + 20], 4096, false);
        assert_eq!((seen.len(), stop), (1, Some(InvalidBatch::Incomplete)));
    }

    #[test]
    fn a_batch_claiming_i32_max_records_ends_the_valid_log() {
        let (mut buf, first) = two_batches();
        buf[first + RECORD_COUNT..first + RECORD_COUNT + 4]
            .copy_from_slice(&i32::MAX.to_be_bytes());
        let (seen, end, stop) = walk(&buf, 4096, true);
        assert_eq!((seen.len(), end), (1, first as u64));
        assert_eq!(
            stop,
            Some(InvalidBatch::Corrupt(
                "record count does not fit the last offset delta"
            ))
        );
    }
}
