//! A zero-copy view of a magic-v2 record batch header (Kafka's `DefaultRecordBatch`).
//!
//! The broker never decodes individual records on the produce and fetch paths: it reads and
//! patches the 61-byte batch header in place and moves the rest as opaque bytes.
//!
//! ```text
//! 0  baseOffset i64        | 8  batchLength i32     | 12 partitionLeaderEpoch i32
//! 16 magic i8              | 17 crc u32 (CRC-32C of bytes 21..end)
//! 21 attributes i16        | 23 lastOffsetDelta i32 | 27 baseTimestamp i64
//! 35 maxTimestamp i64      | 43 producerId i64      | 51 producerEpoch i16
//! 53 baseSequence i32      | 57 recordCount i32     | 61 records...
//! ```

/// Size of the header, records excluded.
pub const HEADER_LEN: usize = 61;
/// baseOffset + batchLength: the part of a batch not counted by batchLength.
pub const LOG_OVERHEAD: usize = 12;
/// The smallest batchLength Kafka's `ByteBufferLogInputStream` accepts (`LegacyRecord.RECORD_OVERHEAD_V0`).
pub const MIN_BATCH_LENGTH: i32 = 14;
/// The smallest batchLength of a magic-v2 batch: the header after the length field
/// (`DefaultRecordBatch.RECORD_BATCH_OVERHEAD - LOG_OVERHEAD`). A shorter v2 batch is invalid
/// (Kafka's `DefaultRecordBatch.ensureValid`).
pub const MIN_V2_BATCH_LENGTH: i32 = (HEADER_LEN - LOG_OVERHEAD) as i32;
/// The smallest encoded `DefaultRecord`: length, attributes, timestampDelta, offsetDelta,
/// keyLength, valueLength and headerCount take at least one byte each. An uncompressed batch
/// cannot hold more records than its records section has room for at this size.
pub const MIN_RECORD_LEN: i64 = 7;

pub const BASE_OFFSET: usize = 0;
pub const LENGTH: usize = 8;
pub const LEADER_EPOCH: usize = 12;
pub const MAGIC: usize = 16;
pub const CRC: usize = 17;
pub const ATTRIBUTES: usize = 21;
pub const LAST_OFFSET_DELTA: usize = 23;
pub const BASE_TIMESTAMP: usize = 27;
pub const MAX_TIMESTAMP: usize = 35;
pub const PRODUCER_ID: usize = 43;
pub const PRODUCER_EPOCH: usize = 51;
pub const BASE_SEQUENCE: usize = 53;
pub const RECORD_COUNT: usize = 57;

const COMPRESSION_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_MASK: i16 = 0x08;
const TRANSACTIONAL_MASK: i16 = 0x10;
const CONTROL_MASK: i16 = 0x20;

/// `RecordBatch.NO_PRODUCER_ID`
pub const NO_PRODUCER_ID: i64 = -1;
/// `RecordBatch.NO_SEQUENCE`
pub const NO_SEQUENCE: i32 = -1;
/// `RecordBatch.NO_TIMESTAMP`
pub const NO_TIMESTAMP: i64 = -1;

/// Compression codec of a batch (attributes bits 0-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    pub fn from_attributes(attributes: i16) -> Option<Compression> {
        match attributes & COMPRESSION_MASK {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    pub fn id(self) -> i16 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

/// Why bytes at a position are not a stored batch the log can read past: the valid log ends
/// there (Kafka's `FileLogInputStream` stops at an incomplete batch; `LogSegment.recover`
/// truncates at one that fails `ensureValid`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidBatch {
    /// Fewer bytes remain than the header, or than the batch's length declares.
    Incomplete,
    /// The header itself is inconsistent; the reason names the rule it breaks.
    Corrupt(&'static str),
}

impl std::fmt::Display for InvalidBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            InvalidBatch::Incomplete => f.write_str("incomplete batch"),
            InvalidBatch::Corrupt(why) => write!(f, "corrupt batch header: {why}"),
        }
    }
}

/// A batch header over at least [`HEADER_LEN`] bytes. Construct with [`BatchHeader::new`], or
/// with [`BatchHeader::parse`] for bytes read back from the log.
#[derive(Clone, Copy)]
pub struct BatchHeader<'a> {
    bytes: &'a [u8],
}

#[inline]
fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

#[inline]
fn be_i64(b: &[u8], at: usize) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    i64::from_be_bytes(a)
}

impl<'a> BatchHeader<'a> {
    /// A view of the header at the start of `bytes`, or `None` when fewer than 61 bytes remain.
    #[inline]
    pub fn new(bytes: &'a [u8]) -> Option<BatchHeader<'a>> {
        (bytes.len() >= HEADER_LEN).then_some(BatchHeader { bytes })
    }

    /// A view of a stored header at the start of `bytes` that every reader can trust: a
    /// magic-v2 header whose lengths, offsets and counts agree with each other, so that
    /// [`BatchHeader::size`] is at least [`HEADER_LEN`], [`BatchHeader::last_offset`] does not
    /// overflow and the record count is no larger than the offsets (and, uncompressed, the
    /// bytes) can hold. Only the first [`HEADER_LEN`] bytes are looked at; whether the batch's
    /// `size()` bytes are all there is the caller's check. A header failing this ends the valid
    /// log (Kafka's `DefaultRecordBatch.ensureValid` and `LogSegment.recover`).
    pub fn parse(bytes: &'a [u8]) -> Result<BatchHeader<'a>, InvalidBatch> {
        let h = BatchHeader::new(bytes).ok_or(InvalidBatch::Incomplete)?;
        let corrupt = |why| Err(InvalidBatch::Corrupt(why));
        if h.batch_length() < MIN_V2_BATCH_LENGTH {
            return corrupt("batch length below the v2 header size");
        }
        if h.magic() != 2 {
            return corrupt("magic is not 2");
        }
        if h.base_offset() < 0 {
            return corrupt("negative base offset");
        }
        let delta = h.last_offset_delta();
        // The offset after the batch must exist too: readers compute `last_offset() + 1`.
        if delta < 0 || h.base_offset().checked_add(delta as i64 + 1).is_none() {
            return corrupt("last offset delta out of range");
        }
        let count = h.record_count() as i64;
        if count < 0 || count > delta as i64 + 1 {
            return corrupt("record count does not fit the last offset delta");
        }
        match h.compression() {
            None => return corrupt("unknown compression codec"),
            Some(Compression::None) => {
                let room = (h.batch_length() - MIN_V2_BATCH_LENGTH) as i64;
                if count * MIN_RECORD_LEN > room {
                    return corrupt("record count does not fit the batch length");
                }
            }
            Some(_) => {}
        }
        Ok(h)
    }

    /// The bytes this view covers: the whole batch when built over one, else the header.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    pub fn base_offset(&self) -> i64 {
        be_i64(self.bytes, BASE_OFFSET)
    }
    /// Bytes after the length field.
    pub fn batch_length(&self) -> i32 {
        be_i32(self.bytes, LENGTH)
    }
    /// Total size on disk: `LOG_OVERHEAD + batchLength` (negative lengths count as 0).
    pub fn size(&self) -> usize {
        LOG_OVERHEAD + self.batch_length().max(0) as usize
    }
    pub fn partition_leader_epoch(&self) -> i32 {
        be_i32(self.bytes, LEADER_EPOCH)
    }
    pub fn magic(&self) -> i8 {
        self.bytes[MAGIC] as i8
    }
    pub fn crc(&self) -> u32 {
        be_i32(self.bytes, CRC) as u32
    }
    pub fn attributes(&self) -> i16 {
        be_i16(self.bytes, ATTRIBUTES)
    }
    pub fn compression(&self) -> Option<Compression> {
        Compression::from_attributes(self.attributes())
    }
    pub fn is_log_append_time(&self) -> bool {
        self.attributes() & TIMESTAMP_TYPE_MASK != 0
    }
    pub fn is_transactional(&self) -> bool {
        self.attributes() & TRANSACTIONAL_MASK != 0
    }
    pub fn is_control(&self) -> bool {
        self.attributes() & CONTROL_MASK != 0
    }
    pub fn last_offset_delta(&self) -> i32 {
        be_i32(self.bytes, LAST_OFFSET_DELTA)
    }
    pub fn base_timestamp(&self) -> i64 {
        be_i64(self.bytes, BASE_TIMESTAMP)
    }
    pub fn max_timestamp(&self) -> i64 {
        be_i64(self.bytes, MAX_TIMESTAMP)
    }
    pub fn producer_id(&self) -> i64 {
        be_i64(self.bytes, PRODUCER_ID)
    }
    pub fn producer_epoch(&self) -> i16 {
        be_i16(self.bytes, PRODUCER_EPOCH)
    }
    pub fn base_sequence(&self) -> i32 {
        be_i32(self.bytes, BASE_SEQUENCE)
    }
    pub fn record_count(&self) -> i32 {
        be_i32(self.bytes, RECORD_COUNT)
    }
    pub fn last_offset(&self) -> i64 {
        self.base_offset() + self.last_offset_delta() as i64
    }
    pub fn has_producer_id(&self) -> bool {
        self.producer_id() > NO_PRODUCER_ID
    }
    /// `DefaultRecordBatch.lastSequence`: wraps at `i32::MAX` like Kafka's sequence numbers.
    pub fn last_sequence(&self) -> i32 {
        let base = self.base_sequence();
        if base == NO_SEQUENCE {
            return NO_SEQUENCE;
        }
        increment_sequence(base, self.last_offset_delta())
    }
    /// The timestamp readers see for the batch: append time or the largest create time.
    pub fn effective_max_timestamp(&self) -> i64 {
        self.max_timestamp()
    }
}

/// `DefaultRecordBatch.incrementSequence`.
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    if sequence > i32::MAX - increment {
        increment - (i32::MAX - sequence) - 1
    } else {
        sequence + increment
    }
}

/// CRC-32C over `attributes..end` of a whole batch (the value stored at [`CRC`]).
pub fn compute_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[ATTRIBUTES..])
}

/// True when the stored CRC matches the batch contents.
pub fn crc_is_valid(batch: &[u8]) -> bool {
    match BatchHeader::new(batch) {
        Some(h) => h.crc() == compute_crc(batch),
        None => false,
    }
}

/// Writes the first 16 bytes of a batch as they go to disk: `baseOffset` assigned by the log,
/// the producer's `batchLength`, and the leader epoch. These fields are outside the CRC.
pub fn patched_prefix(batch: &[u8], base_offset: i64, leader_epoch: i32) -> [u8; 16] {
    let mut prefix = [0u8; 16];
    prefix[0..8].copy_from_slice(&base_offset.to_be_bytes());
    prefix[8..12].copy_from_slice(&batch[LENGTH..LENGTH + 4]);
    prefix[12..16].copy_from_slice(&leader_epoch.to_be_bytes());
    prefix
}

/// Iterates over the complete, valid batches at the start of `buf`, yielding `(position,
/// header)` with the header viewing the whole batch. Stops at the first incomplete batch or
/// invalid header (see [`BatchHeader::parse`]), as Kafka's `ByteBufferLogInputStream` does;
/// [`Batches::stop`] says why. The in-memory twin of [`crate::log::batch_reader::FileBatches`].
pub struct Batches<'a> {
    buf: &'a [u8],
    pos: usize,
    stop: Option<InvalidBatch>,
}

impl<'a> Batches<'a> {
    pub fn new(buf: &'a [u8]) -> Batches<'a> {
        Batches {
            buf,
            pos: 0,
            stop: None,
        }
    }

    /// Bytes consumed by the complete batches yielded so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Why iteration ended before the end of the buffer (`None` while running or when the
    /// buffer ended exactly at a batch boundary).
    pub fn stop(&self) -> Option<InvalidBatch> {
        self.stop
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = (usize, BatchHeader<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = &self.buf[self.pos..];
        if rest.is_empty() || self.stop.is_some() {
            return None;
        }
        let size = match BatchHeader::parse(rest) {
            Ok(h) => h.size(),
            Err(e) => {
                self.stop = Some(e);
                return None;
            }
        };
        if size > rest.len() {
            self.stop = Some(InvalidBatch::Incomplete);
            return None;
        }
        let at = self.pos;
        self.pos += size;
        Some((
            at,
            BatchHeader {
                bytes: &rest[..size],
            },
        ))
    }
}

#[cfg(test)]
pub mod test_support {
    //! Hand-built batches for unit tests (uncompressed, records with no headers).

    use super::*;

    fn put_varint(out: &mut Vec<u8>, v: i64) {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        loop {
            if z < 0x80 {
                out.push(z as u8);
                return;
            }
            out.push((z as u8 & 0x7f) | 0x80);
            z >>= 7;
        }
    }

    /// A valid uncompressed batch of `values` with keys `k{i}`, starting at `base_timestamp`.
    pub fn batch(
        values: &[&[u8]],
        base_timestamp: i64,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
    ) -> Vec<u8> {
        let mut records = Vec::new();
        for (i, v) in values.iter().enumerate() {
            let key = format!("k{i}");
            let mut body = Vec::new();
            body.push(0u8); // attributes
            put_varint(&mut body, i as i64); // timestamp delta
            put_varint(&mut body, i as i64); // offset delta
            put_varint(&mut body, key.len() as i64);
            body.extend_from_slice(key.as_bytes());
            put_varint(&mut body, v.len() as i64);
            body.extend_from_slice(v);
            put_varint(&mut body, 0); // headers
            put_varint(&mut records, body.len() as i64);
            records.extend_from_slice(&body);
        }
        let mut b = Vec::new();
        b.extend_from_slice(&0i64.to_be_bytes());
        b.extend_from_slice(&((HEADER_LEN - LOG_OVERHEAD + records.len()) as i32).to_be_bytes());
        b.extend_from_slice(&(-1i32).to_be_bytes());
        b.push(2);
        b.extend_from_slice(&0u32.to_be_bytes());
        b.extend_from_slice(&0i16.to_be_bytes());
        b.extend_from_slice(&((values.len() as i32) - 1).to_be_bytes());
        b.extend_from_slice(&base_timestamp.to_be_bytes());
        b.extend_from_slice(&(base_timestamp + values.len() as i64 - 1).to_be_bytes());
        b.extend_from_slice(&producer_id.to_be_bytes());
        b.extend_from_slice(&epoch.to_be_bytes());
        b.extend_from_slice(&base_sequence.to_be_bytes());
        b.extend_from_slice(&(values.len() as i32).to_be_bytes());
        b.extend_from_slice(&records);
        let crc = compute_crc(&b);
        b[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::batch;
    use super::*;

    #[test]
    fn reads_header_fields() {
        let b = batch(&[b"a", b"bb", b"ccc"], 1000, 7, 2, 10);
        let h = BatchHeader::new(&b).unwrap();
        assert_eq!(h.magic(), 2);
        assert_eq!(h.record_count(), 3);
        assert_eq!(h.last_offset_delta(), 2);
        assert_eq!(h.base_timestamp(), 1000);
        assert_eq!(h.max_timestamp(), 1002);
        assert_eq!(h.producer_id(), 7);
        assert_eq!(h.producer_epoch(), 2);
        assert_eq!(h.last_sequence(), 12);
        assert_eq!(h.size(), b.len());
        assert!(crc_is_valid(&b));
        let mut bad = b.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(!crc_is_valid(&bad));
    }

    #[test]
    fn iterates_complete_batches_only() {
        let a = batch(&[b"x"], 1, -1, -1, -1);
        let b = batch(&[b"y", b"z"], 2, -1, -1, -1);
        let mut buf = a.clone();
        buf.extend_from_slice(&b);
        buf.extend_from_slice(&b[..20]);
        let found: Vec<usize> = Batches::new(&buf).map(|(p, _)| p).collect();
        assert_eq!(found, vec![0, a.len()]);
    }

    #[test]
    fn sequence_wraps() {
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    }
}
