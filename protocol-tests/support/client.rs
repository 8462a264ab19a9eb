//! A small blocking Kafka client over `std::net::TcpStream`: encodes a request with the header
//! version its API and version call for, sends it with its size prefix, and decodes the
//! response header and body at the same version, insisting that every byte is consumed.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes};

/// How long a read may block before the test fails instead of hanging.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);
pub const CLIENT_ID: &str = "klamm-protocol-tests";

pub struct Client {
    stream: Conn,
    next_correlation_id: i32,
}

/// What a test client's bytes travel over: plain TCP or TLS (rustls, blocking).
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        }
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> io::Result<()> {
        self.tcp().set_read_timeout(t)
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Encodes a whole request frame: size prefix, header (client id [`CLIENT_ID`]), body.
pub fn encode_request<R: Request>(req: &R, version: i16, correlation_id: i32) -> Vec<u8> {
    let header = RequestHeader::default()
        .with_request_api_key(R::KEY)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[0; 4]);
    header
        .encode(&mut buf, R::header_version(version))
        .unwrap_or_else(|e| panic!("encoding the {:?} v{version} header: {e}", api(R::KEY)));
    req.encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("encoding {:?} v{version}: {e}", api(R::KEY)));
    let len = (buf.len() - 4) as i32;
    buf[..4].copy_from_slice(&len.to_be_bytes());
    buf.to_vec()
}

/// Decodes a response frame (without size prefix) of `R` at `version`; returns the correlation
/// id and the body. Fails when bytes are left over: the broker must encode exactly the version
/// it was asked for.
pub fn decode_response<R: Request>(mut frame: Bytes, version: i16) -> (i32, R::Response) {
    let hv = <R::Response as HeaderVersion>::header_version(version);
    let header = ResponseHeader::decode(&mut frame, hv).unwrap_or_else(|e| {
        panic!(
            "decoding the {:?} v{version} response header: {e}",
            api(R::KEY)
        )
    });
    let body = <R::Response as Decodable>::decode(&mut frame, version)
        .unwrap_or_else(|e| panic!("decoding the {:?} v{version} response: {e}", api(R::KEY)));
    assert!(
        !frame.has_remaining(),
        "{} bytes left after the {:?} v{version} response body",
        frame.remaining(),
        api(R::KEY)
    );
    (header.correlation_id, body)
}

fn api(key: i16) -> ApiKey {
    ApiKey::try_from(key).expect("known api key")
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        stream.set_nodelay(true).expect("nodelay");
        stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("read timeout");
        Client {
            stream: Conn::Plain(stream),
            next_correlation_id: 1,
        }
    }

    /// A TLS connection to `addr`, the handshake completed (as far as the client can tell: a
    /// TLS 1.3 server refuses a client certificate only after the client's side is done).
    pub fn connect_tls(
        addr: SocketAddr,
        config: std::sync::Arc<rustls::ClientConfig>,
        server_name: &str,
    ) -> io::Result<Client> {
        let mut tcp = TcpStream::connect(addr)?;
        tcp.set_nodelay(true)?;
        tcp.set_read_timeout(Some(READ_TIMEOUT))?;
        let name = rustls::pki_types::ServerName::try_from(server_name.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let mut conn = rustls::ClientConnection::new(config, name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(Client {
            stream: Conn::Tls(Box::new(rustls::StreamOwned::new(conn, tcp))),
            next_correlation_id: 1,
        })
    }

    /// The negotiated TLS version and the server's leaf certificate (DER), for TLS clients.
    pub fn tls_session(&self) -> Option<(rustls::ProtocolVersion, Vec<u8>)> {
        match &self.stream {
            Conn::Plain(_) => None,
            Conn::Tls(s) => Some((
                s.conn.protocol_version()?,
                s.conn.peer_certificates()?.first()?.as_ref().to_vec(),
            )),
        }
    }

    /// Sends a request and returns its response, checking the correlation id.
    pub fn send<R: Request>(&mut self, req: &R, version: i16) -> R::Response {
        let id = self.write_request(req, version);
        self.read_response::<R>(version, id)
    }

    /// Sends a request that gets no response (acks=0 produce); returns its correlation id.
    pub fn write_request<R: Request>(&mut self, req: &R, version: i16) -> i32 {
        let id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let frame = encode_request(req, version, id);
        self.write_raw(&frame);
        id
    }

    /// Reads the next response, which must carry `correlation_id`.
    pub fn read_response<R: Request>(&mut self, version: i16, correlation_id: i32) -> R::Response {
        let frame = match self.read_frame() {
            Ok(Some(f)) => f,
            Ok(None) => panic!(
                "connection closed instead of a {:?} v{version} response",
                api(R::KEY)
            ),
            Err(e) => panic!("reading a {:?} v{version} response: {e}", api(R::KEY)),
        };
        let (id, body) = decode_response::<R>(frame, version);
        assert_eq!(
            id,
            correlation_id,
            "correlation id of a {:?} v{version} response",
            api(R::KEY)
        );
        body
    }

    /// Writes raw bytes (a frame including its size prefix, or garbage).
    pub fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to broker");
        self.stream.flush().expect("flush to broker");
    }

    /// Reads whatever raw bytes are available (no framing).
    pub fn read_raw(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.read(buf)
    }

    /// Writes raw bytes, tolerating a connection the broker already closed.
    pub fn try_write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Reads one response frame (size prefix removed). `Ok(None)`: the broker closed the
    /// connection (EOF or reset) before a whole frame arrived.
    pub fn read_frame(&mut self) -> io::Result<Option<Bytes>> {
        let mut size = [0u8; 4];
        if !read_exact_or_eof(&mut self.stream, &mut size)? {
            return Ok(None);
        }
        let size = i32::from_be_bytes(size);
        assert!(size >= 4, "response size prefix {size}");
        let mut frame = vec![0u8; size as usize];
        if !read_exact_or_eof(&mut self.stream, &mut frame)? {
            return Ok(None);
        }
        Ok(Some(Bytes::from(frame)))
    }

    /// Sends raw bytes and reads one frame back; `None` when the broker closed the connection.
    pub fn send_frame(&mut self, bytes: &[u8]) -> Option<Bytes> {
        if self.try_write_raw(bytes).is_err() {
            return None;
        }
        self.read_frame()
            .unwrap_or_else(|e| panic!("reading a response frame: {e}"))
    }

    /// True when the broker closes the connection (EOF or reset) within `within` without
    /// sending anything more.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        self.stream.set_read_timeout(Some(within)).expect("timeout");
        let mut b = [0u8; 1];
        let closed = match self.stream.read(&mut b) {
            Ok(0) => true,
            Ok(_) => panic!("expected the connection to close, but the broker sent data"),
            Err(e) => is_reset(&e) || e.kind() == io::ErrorKind::UnexpectedEof,
        };
        self.stream
            .set_read_timeout(Some(READ_TIMEOUT))
            .expect("timeout");
        closed
    }

    /// Sets the socket read timeout (e.g. to time a long poll).
    pub fn set_read_timeout(&mut self, t: Duration) {
        self.stream.set_read_timeout(Some(t)).expect("timeout");
    }
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// `read_exact`, but `Ok(false)` when the peer closed or reset the connection.
fn read_exact_or_eof(s: &mut impl Read, buf: &mut [u8]) -> io::Result<bool> {
    let mut at = 0;
    while at < buf.len() {
        match s.read(&mut buf[at..]) {
            Ok(0) => return Ok(false),
            Ok(n) => at += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_reset(&e) => return Ok(false),
            // A TLS peer that closed without close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}
