//! Record-level access to a batch, for the few places that need it (ListOffsets by timestamp,
//! coordinators replaying their topics, the log cleaner). The produce and fetch paths never call
//! this: they move whole batches.
//!
//! Records are walked in place (Kafka's `DefaultRecord` layout) so nothing is re-encoded:
//! `length varint, attributes i8, timestampDelta varlong, offsetDelta varint,
//! keyLength varint, key, valueLength varint, value, headerCount varint, headers...`.

use std::io::Read;

use crate::log::batch::{BatchHeader, Compression, HEADER_LEN};

/// The smallest record Kafka's `DefaultRecord` can encode: one byte each for the length,
/// attributes, timestamp delta, offset delta, key length, value length and header count. A batch
/// declaring `n` records needs at least `n * MIN_RECORD_SIZE` bytes of records, which bounds any
/// per-record allocation by the bytes actually there (never by the declared count).
pub const MIN_RECORD_SIZE: usize = 7;

/// Decompressed records of one batch may be at most this many times the batch's stored size.
/// Kafka has no such bound (it streams), but its `max.message.bytes` bounds the stored batch, so
/// a bound proportional to the stored size is one the producer chose by the size it sent; 64 is
/// far above what real records reach with any codec (text and JSON: 3-15x) and far below a
/// bomb's (gzip ~1000x, zstd and lz4 of zeros 250-30000x).
pub const MAX_EXPANSION: usize = 64;

/// The bound is never below this, so a small batch of very compressible records (a single
/// record of a megabyte of zeros is ~4 KiB with lz4) still reads.
pub const MIN_DECOMPRESSED_BOUND: usize = 16 << 20;

/// Most bytes the records section of a stored batch of `batch_size` bytes may decompress to:
/// with the default `max.message.bytes` (1 MiB) at most 64 MiB for any batch. Produce, the log
/// cleaner, ListOffsets by timestamp, the coordinators' loaders and `klamm consume` all decompress
/// through [`records_section`], so they agree on which batches are readable.
pub fn decompressed_bound(batch_size: usize) -> usize {
    batch_size
        .saturating_mul(MAX_EXPANSION)
        .max(MIN_DECOMPRESSED_BOUND)
}

/// A capacity for a per-record vector of a batch declaring `count` records over a records
/// section of `section_len` bytes: never more than the records that can fit.
pub fn capacity_hint(count: i32, section_len: usize) -> usize {
    (count.max(0) as usize).min(section_len / MIN_RECORD_SIZE)
}

/// Why a batch's records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("record batch is malformed: {0}")]
    Malformed(&'static str),
    #[error("unknown compression codec in attributes {0}")]
    UnknownCodec(i16),
    #[error("failed to decompress {codec} batch: {reason}")]
    Decompress { codec: &'static str, reason: String },
    #[error("{codec} batch decompresses to more than {limit} bytes")]
    TooLarge { codec: &'static str, limit: usize },
    #[error("failed to compress a {codec} batch: {reason}")]
    Compress { codec: &'static str, reason: String },
}

impl RecordsError {
    /// Whether the records themselves are malformed (Kafka's `InvalidRecordException`,
    /// INVALID_RECORD) rather than the compressed stream (`CorruptRecordException`,
    /// CORRUPT_MESSAGE).
    pub fn is_record_framing(&self) -> bool {
        matches!(self, RecordsError::Malformed(_))
    }
}

/// One record, borrowed from the (decompressed) records section.
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// Header section: count followed by the raw headers.
    pub header_count: i32,
    pub headers: &'a [u8],
    /// The whole record including its length prefix, for copying verbatim.
    pub raw: &'a [u8],
}

/// Reads a zigzag varint (Kafka's `ByteUtils.readVarlong`).
pub fn read_varlong(buf: &[u8], pos: &mut usize) -> Result<i64, RecordsError> {
    let mut value: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *buf
            .get(*pos)
            .ok_or(RecordsError::Malformed("truncated varint"))?;
        *pos += 1;
        value |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 63 {
            return Err(RecordsError::Malformed("varint too long"));
        }
    }
    Ok(((value >> 1) as i64) ^ -((value & 1) as i64))
}

/// Reads a zigzag varint of at most 5 bytes (Kafka's `ByteUtils.readVarint`, which refuses a
/// longer one).
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<i32, RecordsError> {
    let mut value: u32 = 0;
    let mut shift = 0;
    loop {
        let b = *buf
            .get(*pos)
            .ok_or(RecordsError::Malformed("truncated varint"))?;
        *pos += 1;
        value |= ((b & 0x7f) as u32) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
        if shift > 28 {
            return Err(RecordsError::Malformed("varint too long"));
        }
    }
    Ok(((value >> 1) as i32) ^ -((value & 1) as i32))
}

/// Appends a zigzag varint.
pub fn write_varlong(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

fn read_bytes<'a>(buf: &'a [u8], pos: &mut usize) -> Result<Option<&'a [u8]>, RecordsError> {
    let len = read_varint(buf, pos)?;
    if len < 0 {
        return Ok(None);
    }
    let end = pos
        .checked_add(len as usize)
        .filter(|&e| e <= buf.len())
        .ok_or(RecordsError::Malformed("field past end of record"))?;
    let s = &buf[*pos..end];
    *pos = end;
    Ok(Some(s))
}

/// Iterates over the records of an uncompressed records section, framing checked as Kafka's
/// `DefaultRecord.readFrom` checks it: the length fits in the section, every field and header
/// lies inside the record, and the fields end exactly where the length says. Nothing is
/// allocated per record.
pub struct RecordIter<'a> {
    buf: &'a [u8],
    pos: usize,
    remaining: i32,
}

impl<'a> RecordIter<'a> {
    pub fn new(records: &'a [u8], count: i32) -> RecordIter<'a> {
        RecordIter {
            buf: records,
            pos: 0,
            remaining: count.max(0),
        }
    }

    /// Bytes of the section consumed by the records read so far.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    fn parse_one(&mut self) -> Result<RecordView<'a>, RecordsError> {
        let start = self.pos;
        let len = read_varint(self.buf, &mut self.pos)?;
        let body_start = self.pos;
        let end = usize::try_from(len)
            .ok()
            .and_then(|l| body_start.checked_add(l))
            .filter(|&e| e <= self.buf.len())
            .ok_or(RecordsError::Malformed("invalid record size"))?;
        let body = &self.buf[..end];
        let mut p = body_start;
        let attributes = *body.get(p).ok_or(RecordsError::Malformed("empty record"))? as i8;
        p += 1;
        let timestamp_delta = read_varlong(body, &mut p)?;
        let offset_delta = read_varint(body, &mut p)?;
        let key = read_bytes(body, &mut p)?;
        let value = read_bytes(body, &mut p)?;
        let header_count = read_varint(body, &mut p)?;
        if header_count < 0 {
            return Err(RecordsError::Malformed("invalid number of record headers"));
        }
        let headers_start = p;
        // Each header takes at least two bytes, so the loop ends at the record's end whatever
        // count it declares.
        for _ in 0..header_count {
            let key_len = read_varint(body, &mut p)?;
            if key_len < 0 {
                return Err(RecordsError::Malformed("negative header key size"));
            }
            p = p
                .checked_add(key_len as usize)
                .filter(|&e| e <= end)
                .ok_or(RecordsError::Malformed("header past end of record"))?;
            read_bytes(body, &mut p)?;
        }
        if p != end {
            return Err(RecordsError::Malformed(
                "record size does not match the fields read",
            ));
        }
        self.pos = end;
        Ok(RecordView {
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            header_count,
            headers: &body[headers_start..end],
            raw: &self.buf[start..end],
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordView<'a>, RecordsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let r = self.parse_one();
        if r.is_err() {
            self.remaining = 0;
        }
        Some(r)
    }
}

/// The records section of a batch, decompressed if needed, at most
/// [`decompressed_bound`] bytes of it.
pub fn records_section(batch: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, RecordsError> {
    let header = BatchHeader::new(batch).ok_or(RecordsError::Malformed("short batch"))?;
    let body = batch
        .get(HEADER_LEN..header.size().min(batch.len()))
        .ok_or(RecordsError::Malformed("short batch"))?;
    match header.compression() {
        Some(Compression::None) => Ok(std::borrow::Cow::Borrowed(body)),
        Some(codec) => {
            decompress(codec, body, decompressed_bound(header.size())).map(std::borrow::Cow::Owned)
        }
        None => Err(RecordsError::UnknownCodec(header.attributes())),
    }
}

/// Smallest step by which the output grows while decompressing.
const GROW_STEP: usize = 64 * 1024;

/// Decompresses a records section written with `codec` into at most `limit` bytes: more is
/// [`RecordsError::TooLarge`] (a decompression bomb, or a batch Klamm will not hold in memory),
/// and the output buffer never grows past `limit + 1` bytes whatever the stream or its headers
/// declare.
pub fn decompress(codec: Compression, data: &[u8], limit: usize) -> Result<Vec<u8>, RecordsError> {
    let mut out = Vec::new();
    decompress_into(codec, data, limit, &mut out)?;
    Ok(out)
}

/// [`decompress`] into `out` (cleared first), reusing its capacity: the produce path keeps one
/// such buffer per thread, since fresh pages for every batch cost more than decompressing it.
pub fn decompress_into(
    codec: Compression,
    data: &[u8],
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), RecordsError> {
    out.clear();
    let fail = |reason: String| RecordsError::Decompress {
        codec: codec.name(),
        reason,
    };
    let too_large = RecordsError::TooLarge {
        codec: codec.name(),
        limit,
    };
    let bounded = |e: BoundedReadError| e.into_records(codec, limit);
    match codec {
        Compression::None if data.len() > limit => Err(too_large),
        Compression::None => {
            out.extend_from_slice(data);
            Ok(())
        }
        Compression::Gzip => {
            read_bounded(flate2::read::GzDecoder::new(data), data.len(), limit, out)
                .map_err(bounded)
        }
        Compression::Snappy => snappy_decompress(data, out, limit).map_err(|e| match e {
            SnappyError::TooLarge => too_large,
            SnappyError::Corrupt(reason) => fail(reason),
        }),
        Compression::Lz4 => read_bounded(
            lz4_flex::frame::FrameDecoder::new(data),
            data.len(),
            limit,
            out,
        )
        .map_err(bounded),
        Compression::Zstd => {
            // ruzstd reserves the window the frame header declares (up to 128 MiB by
            // default): a window larger than the output bound is refused before any of it.
            let window = (limit as u64).max(1 << 20);
            let dec = ruzstd::decoding::StreamingDecoder::new_with_max_window_size(data, window)
                .map_err(|e| fail(e.to_string()))?;
            read_bounded(dec, data.len(), limit, out).map_err(bounded)
        }
    }
}

enum BoundedReadError {
    TooLarge,
    Io(std::io::Error),
}

impl BoundedReadError {
    fn into_records(self, codec: Compression, limit: usize) -> RecordsError {
        match self {
            BoundedReadError::TooLarge => RecordsError::TooLarge {
                codec: codec.name(),
                limit,
            },
            BoundedReadError::Io(e) => RecordsError::Decompress {
                codec: codec.name(),
                reason: e.to_string(),
            },
        }
    }
}

/// Reads `r` to its end into a buffer whose capacity doubles but never passes `limit + 1`
/// bytes (one byte over tells "too large" from "exactly the limit"): each step reserves exactly
/// its room and reads at most that much through `Read::take`, so std's `read_to_end` never
/// grows the buffer on its own.
fn read_bounded(
    mut r: impl Read,
    input_len: usize,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), BoundedReadError> {
    let cap = limit.saturating_add(1);
    let mut step = input_len.max(GROW_STEP).min(cap);
    loop {
        out.reserve_exact(step);
        let n = (&mut r)
            .take(step as u64)
            .read_to_end(out)
            .map_err(BoundedReadError::Io)?;
        if n < step {
            break;
        }
        step = out.len().max(GROW_STEP).min(cap - out.len());
        if step == 0 {
            return Err(BoundedReadError::TooLarge);
        }
    }
    if out.len() > limit {
        return Err(BoundedReadError::TooLarge);
    }
    Ok(())
}

enum SnappyError {
    TooLarge,
    Corrupt(String),
}

/// The Java client frames snappy data with xerial's `SnappyOutputStream` header; other clients
/// send raw snappy. Kafka accepts both, so do we. Each block's declared length is checked
/// against what is left of `limit` before its buffer is allocated.
fn snappy_decompress(data: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), SnappyError> {
    const XERIAL_MAGIC: &[u8] = &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
    let mut dec = snap::raw::Decoder::new();
    let mut block = |block: &[u8], out: &mut Vec<u8>| -> Result<(), SnappyError> {
        let n =
            snap::raw::decompress_len(block).map_err(|e| SnappyError::Corrupt(e.to_string()))?;
        if n > limit - out.len() {
            return Err(SnappyError::TooLarge);
        }
        let at = out.len();
        out.reserve_exact(n);
        out.resize(at + n, 0);
        let written = dec
            .decompress(block, &mut out[at..])
            .map_err(|e| SnappyError::Corrupt(e.to_string()))?;
        out.truncate(at + written);
        Ok(())
    };
    if data.len() >= 16 && &data[..8] == XERIAL_MAGIC {
        let mut pos = 16;
        while pos + 4 <= data.len() {
            let len = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]])
                as usize;
            pos += 4;
            let b = pos
                .checked_add(len)
                .and_then(|end| data.get(pos..end))
                .ok_or_else(|| SnappyError::Corrupt("truncated xerial block".to_string()))?;
            block(b, out)?;
            pos += len;
        }
        Ok(())
    } else {
        block(data, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;

    #[test]
    fn walks_records_of_an_uncompressed_batch() {
        let b = batch(&[b"one", b"", b"three"], 5000, -1, -1, -1);
        let section = records_section(&b).unwrap();
        let recs: Vec<_> = RecordIter::new(&section, 3)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].key, Some(&b"k0"[..]));
        assert_eq!(recs[2].value, Some(&b"three"[..]));
        assert_eq!(recs[2].offset_delta, 2);
        assert_eq!(recs[1].timestamp_delta, 1);
    }

    #[test]
    fn varlong_roundtrip() {
        for v in [0i64, 1, -1, 63, -64, 300, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            write_varlong(&mut out, v);
            let mut pos = 0;
            assert_eq!(read_varlong(&out, &mut pos).unwrap(), v);
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn decompresses_every_codec() {
        use std::io::Write;
        let data = b"hello hello hello hello kafka".repeat(10);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&data).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(
            decompress(Compression::Gzip, &gz, data.len()).unwrap(),
            data
        );

        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(
            decompress(Compression::Snappy, &raw, data.len()).unwrap(),
            data
        );
        let mut xerial = vec![
            0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        ];
        xerial.extend_from_slice(&(raw.len() as u32).to_be_bytes());
        xerial.extend_from_slice(&raw);
        assert_eq!(
            decompress(Compression::Snappy, &xerial, data.len()).unwrap(),
            data
        );

        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&data).unwrap();
        let lz = lz.finish().unwrap();
        assert_eq!(decompress(Compression::Lz4, &lz, data.len()).unwrap(), data);

        let zs = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        assert_eq!(
            decompress(Compression::Zstd, &zs, data.len()).unwrap(),
            data
        );
    }

    /// 64 MiB of zeros compressed with `codec` by the broker's own encoders (a bomb of a few
    /// KiB to tens of KiB).
    fn bomb(codec: Compression) -> Vec<u8> {
        crate::log::compression::compress(
            codec,
            crate::log::compression::Levels::default(),
            &vec![0u8; 64 << 20],
        )
        .unwrap()
    }

    #[test]
    fn decompression_bombs_stop_at_the_bound() {
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let b = bomb(codec);
            // Snappy's format caps its ratio near 21x, so its bomb is 3 MiB and still above
            // max.message.bytes; the other codecs' fit in one default-sized batch.
            assert!(b.len() < 4 << 20, "{codec:?} bomb is {} bytes", b.len());
            let limit = if codec == Compression::Snappy {
                MIN_DECOMPRESSED_BOUND
            } else {
                assert!(b.len() < 1 << 20, "{codec:?} bomb is {} bytes", b.len());
                decompressed_bound(b.len() + HEADER_LEN)
            };
            assert!(limit < 64 << 20, "{codec:?}");
            match decompress(codec, &b, limit) {
                Err(RecordsError::TooLarge { limit: l, .. }) => assert_eq!(l, limit),
                other => panic!("{codec:?}: {:?}", other.map(|v| v.len())),
            }
            // The same stream under a bound it fits reads whole.
            assert_eq!(decompress(codec, &b, 64 << 20).unwrap().len(), 64 << 20);
            assert!(decompress(codec, &b, (64 << 20) - 1).is_err(), "{codec:?}");
        }
    }

    #[test]
    fn bounded_reads_never_allocate_past_the_bound() {
        let data = vec![7u8; 1_000_003];
        let limit = 1_000_003;
        let mut out = Vec::new();
        assert!(read_bounded(&data[..], 10, limit, &mut out).is_ok());
        assert_eq!(out, data);
        assert!(out.capacity() <= limit + 1, "{}", out.capacity());
        assert!(matches!(
            read_bounded(&data[..], 10, limit - 1, &mut Vec::new()),
            Err(BoundedReadError::TooLarge)
        ));
    }

    #[test]
    fn snappy_declared_lengths_are_checked_before_allocating() {
        // Raw snappy: the uncompressed length varint claims 4 GiB - 1.
        let raw = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x00];
        assert!(matches!(
            decompress(Compression::Snappy, &raw, 16 << 20),
            Err(RecordsError::TooLarge { .. })
        ));
        let mut xerial = vec![
            0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        ];
        xerial.extend_from_slice(&(raw.len() as u32).to_be_bytes());
        xerial.extend_from_slice(&raw);
        assert!(matches!(
            decompress(Compression::Snappy, &xerial, 16 << 20),
            Err(RecordsError::TooLarge { .. })
        ));
        // A block length past the data is corrupt, not a panic.
        let mut short = xerial.clone();
        short[16..20].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            decompress(Compression::Snappy, &short, 16 << 20),
            Err(RecordsError::Decompress { .. })
        ));
    }

    #[test]
    fn corrupt_streams_are_decompress_errors() {
        for codec in [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ] {
            let e = decompress(codec, b"definitely not compressed data", 1 << 20).unwrap_err();
            assert!(!e.is_record_framing(), "{codec:?}: {e}");
        }
    }

    fn record(body: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        write_varlong(&mut r, body.len() as i64);
        r.extend_from_slice(body);
        r
    }

    #[test]
    fn record_framing_is_checked_as_default_record_read_from() {
        // attributes, ts 0, offset 0, key "k", value "v", one header "h" = "x"
        let good = record(&[0, 0, 0, 2, b'k', 2, b'v', 2, 2, b'h', 2, b'x']);
        let r = RecordIter::new(&good, 1).next().unwrap().unwrap();
        assert_eq!(
            (r.key, r.value, r.header_count),
            (Some(&b"k"[..]), Some(&b"v"[..]), 1)
        );
        assert_eq!(r.headers, &[2, b'h', 2, b'x']);
        assert_eq!(r.raw, &good[..]);
        let bad = |body: &[u8]| RecordIter::new(body, 1).next().unwrap().unwrap_err();
        // Two headers declared, one there.
        assert!(bad(&record(&[0, 0, 0, 1, 1, 4, 2, b'h', 2, b'x'])).is_record_framing());
        // Negative header count and negative header key size.
        bad(&record(&[0, 0, 0, 1, 1, 1]));
        bad(&record(&[0, 0, 0, 1, 1, 2, 1, 1]));
        // A byte left inside the record after its fields.
        bad(&record(&[0, 0, 0, 1, 1, 0, 9]));
        // A value running past the record's length into the next record.
        let mut past = record(&[0, 0, 0, 1, 4, b'v']);
        past.extend_from_slice(&record(&[0, 0, 0, 1, 1, 0]));
        bad(&past);
        // A record length past the section, and a negative one.
        bad(&[40, 0, 0, 0, 1, 1, 0]);
        bad(&[1, 0, 0, 0, 1, 1, 0]);
        // A varint of more than 5 bytes (Kafka's readVarint refuses it).
        bad(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]);
        assert_eq!(capacity_hint(i32::MAX, 70), 10);
        assert_eq!(capacity_hint(-1, 70), 0);
    }
}
