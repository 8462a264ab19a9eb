//! Record-level access to a batch, for the few places that need it (ListOffsets by timestamp,
//! coordinators replaying their topics, the log cleaner). The produce and fetch paths never call
//! this: they move whole batches.
//!
//! Records are walked in place (Kafka's `DefaultRecord` layout) so nothing is re-encoded:
//! `length varint, attributes i8, timestampDelta varlong, offsetDelta varint,
//! keyLength varint, key, valueLength varint, value, headerCount varint, headers...`.

use std::io::Read;

use crate::log::batch::{BatchHeader, Compression, HEADER_LEN};

/// Why a batch's records could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    #[error("record batch is malformed: {0}")]
    Malformed(&'static str),
    #[error("unknown compression codec in attributes {0}")]
    UnknownCodec(i16),
    #[error("failed to decompress {codec} batch: {reason}")]
    Decompress { codec: &'static str, reason: String },
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

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<i32, RecordsError> {
    let v = read_varlong(buf, pos)?;
    i32::try_from(v).map_err(|_| RecordsError::Malformed("varint out of range"))
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

/// Iterates over the records of an uncompressed records section.
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

    fn parse_one(&mut self) -> Result<RecordView<'a>, RecordsError> {
        let start = self.pos;
        let len = read_varint(self.buf, &mut self.pos)?;
        if len < 0 {
            return Err(RecordsError::Malformed("negative record length"));
        }
        let body_start = self.pos;
        let end = body_start
            .checked_add(len as usize)
            .filter(|&e| e <= self.buf.len())
            .ok_or(RecordsError::Malformed("record past end of batch"))?;
        let body = &self.buf[..end];
        let mut p = body_start;
        let attributes = *body.get(p).ok_or(RecordsError::Malformed("empty record"))? as i8;
        p += 1;
        let timestamp_delta = read_varlong(body, &mut p)?;
        let offset_delta = read_varint(body, &mut p)?;
        let key = read_bytes(body, &mut p)?;
        let value = read_bytes(body, &mut p)?;
        let header_count = read_varint(body, &mut p)?;
        let headers = &body[p..end];
        self.pos = end;
        Ok(RecordView {
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            header_count,
            headers,
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

/// The records section of a batch, decompressed if needed.
pub fn records_section(batch: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, RecordsError> {
    let header = BatchHeader::new(batch).ok_or(RecordsError::Malformed("short batch"))?;
    let body = batch
        .get(HEADER_LEN..header.size().min(batch.len()))
        .ok_or(RecordsError::Malformed("short batch"))?;
    match header.compression() {
        Some(Compression::None) => Ok(std::borrow::Cow::Borrowed(body)),
        Some(codec) => decompress(codec, body).map(std::borrow::Cow::Owned),
        None => Err(RecordsError::UnknownCodec(header.attributes())),
    }
}

/// Decompresses a records section written with `codec`.
pub fn decompress(codec: Compression, data: &[u8]) -> Result<Vec<u8>, RecordsError> {
    let fail = |reason: String| RecordsError::Decompress {
        codec: codec.name(),
        reason,
    };
    let mut out = Vec::with_capacity(data.len() * 4);
    match codec {
        Compression::None => out.extend_from_slice(data),
        Compression::Gzip => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .map_err(|e| fail(e.to_string()))?;
        }
        Compression::Snappy => snappy_decompress(data, &mut out).map_err(fail)?,
        Compression::Lz4 => {
            lz4_flex::frame::FrameDecoder::new(data)
                .read_to_end(&mut out)
                .map_err(|e| fail(e.to_string()))?;
        }
        Compression::Zstd => {
            let mut dec =
                ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| fail(e.to_string()))?;
            dec.read_to_end(&mut out).map_err(|e| fail(e.to_string()))?;
        }
    }
    Ok(out)
}

/// The Java client frames snappy data with xerial's `SnappyOutputStream` header; other clients
/// send raw snappy. Kafka accepts both, so do we.
fn snappy_decompress(data: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    const XERIAL_MAGIC: &[u8] = &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
    let mut dec = snap::raw::Decoder::new();
    if data.len() >= 16 && &data[..8] == XERIAL_MAGIC {
        let mut pos = 16;
        while pos + 4 <= data.len() {
            let len = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]])
                as usize;
            pos += 4;
            let block = data
                .get(pos..pos + len)
                .ok_or_else(|| "truncated xerial block".to_string())?;
            out.extend_from_slice(&dec.decompress_vec(block).map_err(|e| e.to_string())?);
            pos += len;
        }
        Ok(())
    } else {
        out.extend_from_slice(&dec.decompress_vec(data).map_err(|e| e.to_string())?);
        Ok(())
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
        assert_eq!(decompress(Compression::Gzip, &gz).unwrap(), data);

        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decompress(Compression::Snappy, &raw).unwrap(), data);
        let mut xerial = vec![
            0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
        ];
        xerial.extend_from_slice(&(raw.len() as u32).to_be_bytes());
        xerial.extend_from_slice(&raw);
        assert_eq!(decompress(Compression::Snappy, &xerial).unwrap(), data);

        let mut lz = lz4_flex::frame::FrameEncoder::new(Vec::new());
        lz.write_all(&data).unwrap();
        let lz = lz.finish().unwrap();
        assert_eq!(decompress(Compression::Lz4, &lz).unwrap(), data);

        let zs = ruzstd::encoding::compress_to_vec(
            &data[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        assert_eq!(decompress(Compression::Zstd, &zs).unwrap(), data);
    }
}
