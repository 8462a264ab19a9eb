//! A response ready to go on the wire: byte chunks and regions of segment files (Kafka's `Send`
//! and `TransferableRecords`).
//!
//! Fetch responses carry their records as file regions, written with `sendfile(2)` straight
//! from the page cache to the socket, the zero-copy transfer Kafka gets from
//! `FileChannel.transferTo`. Everything else is a plain byte buffer.

use std::io;

use bytes::Bytes;

pub use crate::log::FileSlice;
use tokio::io::{AsyncWriteExt, Interest};
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
}
