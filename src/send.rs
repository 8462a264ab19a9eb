//! A response ready to go on the wire: byte chunks and regions of segment files (Kafka's `Send`
//! and `TransferableRecords`).
//!
//! Fetch responses carry their records as file regions, written with `sendfile(2)` straight
//! from the page cache to the socket, the zero-copy transfer Kafka gets from
//! `FileChannel.transferTo`. Everything else is a plain byte buffer.

use std::io;

use bytes::Bytes;

pub use crate::log::FileSlice;
use tokio::io::{AsyncWrite, AsyncWriteExt, Interest};
use tokio::net::tcp::OwnedWriteHalf;

/// One piece of a response.
#[derive(Clone, Debug)]
pub enum Chunk {
    Bytes(Bytes),
    File(FileSlice),
}

/// A complete response frame (size prefix included) as a sequence of chunks.
#[derive(Clone, Debug, Default)]
pub struct ResponseSend {
    pub chunks: Vec<Chunk>,
}

impl ResponseSend {
    pub fn from_bytes(b: Bytes) -> ResponseSend {
        ResponseSend {
            chunks: vec![Chunk::Bytes(b)],
        }
    }

    /// Total bytes on the wire.
    pub fn len(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| match c {
                Chunk::Bytes(b) => b.len(),
                Chunk::File(f) => f.len,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes the whole response. File regions go out with `sendfile`; while a response has
    /// any, the socket is corked so the small header chunks and the records share packets.
    pub async fn write_to(&self, writer: &mut OwnedWriteHalf) -> io::Result<()> {
        let has_files = self.chunks.iter().any(|c| matches!(c, Chunk::File(_)));
        if has_files {
            rustix::net::sockopt::set_tcp_cork(writer.as_ref(), true)?;
        }
        let result = self.write_chunks(writer).await;
        if has_files {
            rustix::net::sockopt::set_tcp_cork(writer.as_ref(), false)?;
        }
        result
    }

    async fn write_chunks(&self, writer: &mut OwnedWriteHalf) -> io::Result<()> {
        for chunk in &self.chunks {
            match chunk {
                Chunk::Bytes(b) => writer.write_all(b).await?,
                Chunk::File(f) => send_file(writer, f).await?,
            }
        }
        Ok(())
    }
}

/// The buffer file regions are read into when they cannot be sent with `sendfile` (TLS):
/// large, so a fetch of many partitions costs few reads and few TLS records per buffer.
pub const BUFFERED_READ_SIZE: usize = 256 * 1024;

impl ResponseSend {
    /// Writes the whole response through a writer that transforms the bytes (TLS): byte chunks
    /// as they are, file regions with positioned reads of up to [`BUFFERED_READ_SIZE`] into
    /// `buf`, the connection's buffer reused across responses (grown once to what the largest
    /// region needs). No per-record work. The caller flushes.
    pub async fn write_buffered<W: AsyncWrite + Unpin>(
        &self,
        writer: &mut W,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
        let file_bytes: usize = self
            .chunks
            .iter()
            .map(|c| match c {
                Chunk::File(f) => f.len,
                Chunk::Bytes(_) => 0,
            })
            .max()
            .unwrap_or(0);
        let want = file_bytes.min(BUFFERED_READ_SIZE);
        if buf.len() < want {
            buf.resize(want, 0);
        }
        for chunk in &self.chunks {
            match chunk {
                Chunk::Bytes(b) => writer.write_all(b).await?,
                Chunk::File(f) => copy_region(writer, f, &mut buf[..want]).await?,
            }
        }
        Ok(())
    }
}

/// Copies one file region to `writer` through `buf`. The reads hit the page cache the way
/// `sendfile` does on the plain path, on the connection's task.
async fn copy_region<W: AsyncWrite + Unpin>(
    writer: &mut W,
    slice: &FileSlice,
    buf: &mut [u8],
) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let mut offset = slice.position;
    let mut remaining = slice.len;
    while remaining > 0 {
        let want = remaining.min(buf.len());
        let n = match slice.file.read_at(&mut buf[..want], offset) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "segment file shorter than the fetched region",
            ));
        }
        writer.write_all(&buf[..n]).await?;
        offset += n as u64;
        remaining -= n;
    }
    Ok(())
}

async fn send_file(writer: &mut OwnedWriteHalf, slice: &FileSlice) -> io::Result<()> {
    let mut offset = slice.position;
    let mut remaining = slice.len;
    while remaining > 0 {
        writer.writable().await?;
        let sent = writer.as_ref().try_io(Interest::WRITABLE, || {
            rustix::fs::sendfile(writer.as_ref(), &*slice.file, Some(&mut offset), remaining)
                .map_err(io::Error::from)
        });
        match sent {
            Ok(0) => {
                // The file ended before the region did: the response would be malformed.
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "segment file shorter than the fetched region",
                ));
            }
            Ok(n) => remaining -= n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;
    use tokio::io::AsyncReadExt;

    #[tokio::test(flavor = "current_thread")]
    async fn writes_bytes_and_file_regions_in_order() {
        let mut tmp = tempfile::tempfile().unwrap();
        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        tmp.write_all(&payload).unwrap();
        let file = Arc::new(tmp);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let send = ResponseSend {
            chunks: vec![
                Chunk::Bytes(Bytes::from_static(b"head")),
                Chunk::File(FileSlice {
                    file: file.clone(),
                    position: 10,
                    len: 250_000,
                }),
                Chunk::Bytes(Bytes::from_static(b"tail")),
            ],
        };
        let expected_len = send.len();
        let writer = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let (_r, mut w) = stream.into_split();
            send.write_to(&mut w).await.unwrap();
        });
        let mut client = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        writer.await.unwrap();
        assert_eq!(got.len(), expected_len);
        assert_eq!(&got[..4], b"head");
        assert_eq!(&got[4..250_004], &payload[10..250_010]);
        assert_eq!(&got[250_004..], b"tail");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn buffered_writes_match_sendfile_byte_for_byte() {
        let mut tmp = tempfile::tempfile().unwrap();
        let payload: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        tmp.write_all(&payload).unwrap();
        let file = Arc::new(tmp);
        let region = |position: u64, len: usize| {
            Chunk::File(FileSlice {
                file: file.clone(),
                position,
                len,
            })
        };
        let send = ResponseSend {
            chunks: vec![
                Chunk::Bytes(Bytes::from_static(b"head")),
                region(3, 600_001),
                Chunk::Bytes(Bytes::from_static(b"mid")),
                region(0, 10),
            ],
        };
        let mut out = Vec::new();
        send.write_buffered(&mut out, &mut Vec::new())
            .await
            .unwrap();
        assert_eq!(out.len(), send.len());
        assert_eq!(&out[..4], b"head");
        assert_eq!(&out[4..600_005], &payload[3..600_004]);
        assert_eq!(&out[600_005..600_008], b"mid");
        assert_eq!(&out[600_008..], &payload[..10]);
        let short = ResponseSend {
            chunks: vec![region(699_999, 2)],
        };
        let e = short
            .write_buffered(&mut Vec::new(), &mut Vec::new())
            .await
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
    }
}
