//! The non-flexible encoding every removed version uses (Kafka's `Readable`/`Writable` before
//! KIP-482): big-endian integers, `int16`-length strings (-1: null), `int32` array counts (-1:
//! null). Reads are bounded by the frame: a length or count larger than the bytes that remain
//! (every element takes at least one byte) is refused before anything is allocated, as Kafka's
//! generated readers refuse it ("Tried to allocate a collection of size N, but there are only M
//! bytes remaining"), and so is a count above [`MAX_COLLECTION_ELEMENTS`].

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::bounds::MAX_COLLECTION_ELEMENTS;

/// Why an old-version body could not be read.
pub type ReadError = String;

/// A bounded reader over a request body.
pub struct Reader {
    buf: Bytes,
}

impl Reader {
    pub fn new(buf: Bytes) -> Reader {
        Reader { buf }
    }

    fn need(&self, n: usize, what: &str) -> Result<(), ReadError> {
        if self.buf.remaining() < n {
            return Err(format!(
                "truncated {what}: {n} bytes needed, {} remain",
                self.buf.remaining()
            ));
        }
        Ok(())
    }

    pub fn i8(&mut self) -> Result<i8, ReadError> {
        self.need(1, "int8")?;
        Ok(self.buf.get_i8())
    }

    pub fn bool(&mut self) -> Result<bool, ReadError> {
        Ok(self.i8()? != 0)
    }

    pub fn i16(&mut self) -> Result<i16, ReadError> {
        self.need(2, "int16")?;
        Ok(self.buf.get_i16())
    }

    pub fn i32(&mut self) -> Result<i32, ReadError> {
        self.need(4, "int32")?;
        Ok(self.buf.get_i32())
    }

    pub fn i64(&mut self) -> Result<i64, ReadError> {
        self.need(8, "int64")?;
        Ok(self.buf.get_i64())
    }

    /// A nullable `string`: `int16` length, -1 for null.
    pub fn nullable_string(&mut self) -> Result<Option<StrBytes>, ReadError> {
        let len = self.i16()?;
        if len < 0 {
            return Ok(None);
        }
        self.need(len as usize, "string")?;
        let raw = self.buf.split_to(len as usize);
        StrBytes::from_utf8(raw)
            .map(Some)
            .map_err(|e| format!("string is not UTF-8: {e}"))
    }

    /// A non-nullable `string` (Kafka's readers refuse a null one).
    pub fn string(&mut self) -> Result<StrBytes, ReadError> {
        self.nullable_string()?
            .ok_or_else(|| "non-nullable field was serialized as null".to_string())
    }

    /// An `int32` array count, -1 for null, bounded by the bytes that remain.
    pub fn nullable_count(&mut self) -> Result<Option<usize>, ReadError> {
        let n = self.i32()?;
        if n < 0 {
            return Ok(None);
        }
        let remaining = self.buf.remaining();
        if n as u64 > MAX_COLLECTION_ELEMENTS || n as usize > remaining {
            return Err(format!(
                "Tried to allocate a collection of size {n}, but there are only {remaining} bytes remaining."
            ));
        }
        Ok(Some(n as usize))
    }

    /// A non-nullable array count.
    pub fn count(&mut self) -> Result<usize, ReadError> {
        self.nullable_count()?
            .ok_or_else(|| "non-nullable field was serialized as null".to_string())
    }

    /// `count` elements read by `f`.
    pub fn array<T>(
        &mut self,
        mut f: impl FnMut(&mut Reader) -> Result<T, ReadError>,
    ) -> Result<Vec<T>, ReadError> {
        let n = self.count()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(f(self)?);
        }
        Ok(out)
    }

    /// A nullable array.
    pub fn nullable_array<T>(
        &mut self,
        mut f: impl FnMut(&mut Reader) -> Result<T, ReadError>,
    ) -> Result<Option<Vec<T>>, ReadError> {
        let Some(n) = self.nullable_count()? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(f(self)?);
        }
        Ok(Some(out))
    }

    /// Bytes after the body, which Kafka's parsers ignore.
    pub fn remaining(&self) -> usize {
        self.buf.remaining()
    }
}

/// A response body writer.
#[derive(Default)]
pub struct Writer {
    pub buf: BytesMut,
}

impl Writer {
    pub fn i8(&mut self, v: i8) {
        self.buf.put_i8(v);
    }

    pub fn bool(&mut self, v: bool) {
        self.buf.put_i8(i8::from(v));
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    pub fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    /// A `string`; Kafka's writers refuse one longer than `i16::MAX`.
    pub fn string(&mut self, s: &str) -> anyhow::Result<()> {
        let len = i16::try_from(s.len())
            .map_err(|_| anyhow::anyhow!("string of {} bytes is too long", s.len()))?;
        self.buf.put_i16(len);
        self.buf.put_slice(s.as_bytes());
        Ok(())
    }

    pub fn nullable_string(&mut self, s: Option<&str>) -> anyhow::Result<()> {
        match s {
            Some(s) => self.string(s),
            None => {
                self.buf.put_i16(-1);
                Ok(())
            }
        }
    }

    /// An array count.
    pub fn count(&mut self, n: usize) -> anyhow::Result<()> {
        let n = i32::try_from(n).map_err(|_| anyhow::anyhow!("array of {n} elements"))?;
        self.buf.put_i32(n);
        Ok(())
    }

    /// `items` written by `f`, after their count.
    pub fn array<T>(
        &mut self,
        items: &[T],
        mut f: impl FnMut(&mut Writer, &T) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        self.count(items.len())?;
        for item in items {
            f(self, item)?;
        }
        Ok(())
    }
}
