//! Kafka's primitive wire types for the coordinator's own record schemas and the embedded consumer
//! protocol: big-endian integers, `int16`-length strings, `int32`-length bytes and arrays, and for
//! flexible versions (KIP-482) the compact forms with unsigned-varint lengths and tagged fields.
//!
//! The request/response messages go through the `kafka-protocol` crate; these few schemas
//! (`OffsetCommitValue`, `GroupMetadataValue`, `ConsumerProtocolSubscription`) are not in it.

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("invalid {0}")]
    Invalid(&'static str),
}

type R<T> = Result<T, CodecError>;

/// Reads Kafka primitives from a byte slice, failing (never panicking) on truncation.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> R<&'a [u8]> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(CodecError::Truncated(what))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    pub fn i8(&mut self) -> R<i8> {
        Ok(self.take(1, "int8")?[0] as i8)
    }

    pub fn i16(&mut self) -> R<i16> {
        let b = self.take(2, "int16")?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub fn i32(&mut self) -> R<i32> {
        let b = self.take(4, "int32")?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i64(&mut self) -> R<i64> {
        let b = self.take(8, "int64")?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_be_bytes(a))
    }

    pub fn uvarint(&mut self) -> R<u32> {
        let mut value: u32 = 0;
        for shift in (0..35).step_by(7) {
            let b = self.take(1, "varint")?[0];
            value |= ((b & 0x7f) as u32) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(CodecError::Invalid("varint"))
    }

    fn utf8(bytes: &[u8]) -> R<String> {
        String::from_utf8(bytes.to_vec()).map_err(|_| CodecError::Invalid("utf-8 string"))
    }

    /// `string` / `nullable string` (int16 length, -1 = null).
    pub fn nullable_string(&mut self) -> R<Option<String>> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        let b = self.take(len as usize, "string")?;
        Self::utf8(b).map(Some)
    }

    pub fn string(&mut self) -> R<String> {
        self.nullable_string()?
            .ok_or(CodecError::Invalid("null string"))
    }

    /// Compact (nullable) string: unsigned varint length + 1, 0 = null.
    pub fn compact_nullable_string(&mut self) -> R<Option<String>> {
        let n = self.uvarint()?;
        if n == 0 {
            return Ok(None);
        }
        let b = self.take(n as usize - 1, "compact string")?;
        Self::utf8(b).map(Some)
    }

    pub fn compact_string(&mut self) -> R<String> {
        self.compact_nullable_string()?
            .ok_or(CodecError::Invalid("null compact string"))
    }

    /// `bytes` (int32 length).
    pub fn bytes(&mut self) -> R<Vec<u8>> {
        let len = self.i32()?;
        if len < 0 {
            return Err(CodecError::Invalid("null bytes"));
        }
        Ok(self.take(len as usize, "bytes")?.to_vec())
    }

    pub fn compact_bytes(&mut self) -> R<Vec<u8>> {
        let n = self.uvarint()?;
        if n == 0 {
            return Err(CodecError::Invalid("null compact bytes"));
        }
        Ok(self.take(n as usize - 1, "compact bytes")?.to_vec())
    }

    /// Array length (int32); -1 is null, read as empty.
    pub fn array_len(&mut self) -> R<usize> {
        let n = self.i32()?;
        Ok(n.max(0) as usize)
    }

    pub fn compact_array_len(&mut self) -> R<usize> {
        Ok(self.uvarint()?.saturating_sub(1) as usize)
    }

    /// Skips a tagged-field section (fields unknown to this version are ignored, as Kafka does).
    pub fn skip_tagged_fields(&mut self) -> R<()> {
        let n = self.uvarint()?;
        for _ in 0..n {
            let _tag = self.uvarint()?;
            let size = self.uvarint()?;
            self.take(size as usize, "tagged field")?;
        }
        Ok(())
    }
}

/// Appends Kafka primitives to a buffer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Writer {
        Writer {
            buf: Vec::with_capacity(64),
        }
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn string(&mut self, s: &str) {
        self.i16(s.len() as i16);
        self.buf.extend_from_slice(s.as_bytes());
    }

    pub fn nullable_string(&mut self, s: Option<&str>) {
        match s {
            None => self.i16(-1),
            Some(s) => self.string(s),
        }
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.i32(b.len() as i32);
        self.buf.extend_from_slice(b);
    }

    pub fn into_vec(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_it_writes_and_rejects_truncation() {
        let mut w = Writer::new();
        w.i16(3);
        w.string("héllo");
        w.nullable_string(None);
        w.bytes(&[1, 2, 3]);
        w.i64(-7);
        let b = w.into_vec();
        let mut r = Reader::new(&b);
        assert_eq!(r.i16().unwrap(), 3);
        assert_eq!(r.string().unwrap(), "héllo");
        assert_eq!(r.nullable_string().unwrap(), None);
        assert_eq!(r.bytes().unwrap(), vec![1, 2, 3]);
        assert_eq!(r.i64().unwrap(), -7);
        assert_eq!(r.remaining(), 0);
        for cut in 0..b.len() {
            let mut r = Reader::new(&b[..cut]);
            let res = (|| -> R<()> {
                r.i16()?;
                r.string()?;
                r.nullable_string()?;
                r.bytes()?;
                r.i64()?;
                Ok(())
            })();
            assert!(res.is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn compact_forms() {
        // "ab" as compact string, null compact string, compact bytes [9], one tagged field.
        let b = [3, b'a', b'b', 0, 2, 9, 1, 0, 2, 0xaa, 0xbb];
        let mut r = Reader::new(&b);
        assert_eq!(r.compact_string().unwrap(), "ab");
        assert_eq!(r.compact_nullable_string().unwrap(), None);
        assert_eq!(r.compact_bytes().unwrap(), vec![9]);
        r.skip_tagged_fields().unwrap();
        assert_eq!(r.remaining(), 0);
    }
}
