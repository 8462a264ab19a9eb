//! What a connection's bytes travel over: a plain TCP stream or a TLS stream around one
//! (Kafka's `PlaintextTransportLayer` and `SslTransportLayer`). The connection code reads
//! frames from a [`Reader`] and writes responses to a [`Writer`] without knowing which.
//!
//! Responses with file regions keep their zero-copy `sendfile` path on plain TCP; under TLS the
//! bytes must be encrypted in user space, so file regions are read with positioned reads into
//! one large buffer and written through the TLS stream ([`ResponseSend::write_buffered`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWriteExt, ReadBuf, ReadHalf, WriteHalf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

use crate::send::ResponseSend;

/// One accepted connection, after any TLS handshake.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl Stream {
    pub fn set_nodelay(&self) {
        let tcp = match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0,
        };
        let _ = tcp.set_nodelay(true);
    }

    /// Splits into the reader task's half and the processor's half.
    pub fn into_split(self) -> (Reader, Writer) {
        match self {
            Stream::Plain(s) => {
                let (r, w) = s.into_split();
                (Reader::Plain(r), Writer::Plain(w))
            }
            Stream::Tls(s) => {
                let (r, w) = tokio::io::split(*s);
                (Reader::Tls(r), Writer::Tls(w, Vec::new()))
            }
        }
    }
}

/// The read side of a connection.
pub enum Reader {
    Plain(OwnedReadHalf),
    Tls(ReadHalf<TlsStream<TcpStream>>),
}

impl AsyncRead for Reader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Reader::Plain(r) => Pin::new(r).poll_read(cx, buf),
            Reader::Tls(r) => Pin::new(r).poll_read(cx, buf),
        }
    }
}

/// The write side of a connection.
pub enum Writer {
    Plain(OwnedWriteHalf),
    /// The TLS stream and the buffer its file regions are read into, kept for the connection.
    Tls(WriteHalf<TlsStream<TcpStream>>, Vec<u8>),
}

impl Writer {
    /// Writes one whole response: `sendfile` for file regions on plain TCP, buffered
    /// positioned reads under TLS.
    pub async fn send(&mut self, response: &ResponseSend) -> io::Result<()> {
        match self {
            Writer::Plain(w) => response.write_to(w).await,
            Writer::Tls(w, buf) => {
                response.write_buffered(w, buf).await?;
                w.flush().await
            }
        }
    }

    /// Closes the write side (a TLS close_notify first).
    pub async fn shutdown(&mut self) {
        let _ = match self {
            Writer::Plain(w) => w.shutdown().await,
            Writer::Tls(w, _) => w.shutdown().await,
        };
    }
}
