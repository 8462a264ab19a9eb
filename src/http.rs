//! The HTTP endpoint on `http.listen`: `GET /metrics` (Prometheus text format) and
//! `GET /health` (200 while serving, saying so when the disk is full; 503 while recovering the
//! logs or shutting down).
//!
//! Two read-only paths do not warrant an HTTP stack in the broker, so this is a deliberately
//! small HTTP/1.1 responder: one request per connection (`Connection: close`), the request
//! head limited to [`MAX_HEAD_BYTES`] and [`READ_TIMEOUT`], GET and HEAD only (405 otherwise),
//! 404 for other paths, and per-connection read and write timeouts. Every connection is served
//! at once in its own task (the oldest closed beyond [`MAX_CONNECTIONS`]), so idle clients
//! cannot delay a readiness probe. It starts before log recovery so orchestrators can see
//! "alive but not ready" during a long recovery.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;
use tracing::debug;

use crate::accept::AcceptErrors;
use crate::broker::Broker;

/// Largest request head (request line and headers) accepted; the body, if any, is never read.
pub const MAX_HEAD_BYTES: usize = 8192;
/// A client must send its whole request head within this time.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// A client must take the whole response within this time.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Open HTTP connections kept at once. At the limit the oldest is closed to make room, so a
/// new request (a readiness probe) is never queued behind idle or slow clients.
pub const MAX_CONNECTIONS: usize = 1024;

/// The broker's lifecycle as `/health` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Recovering and loading the logs: not ready.
    Starting = 0,
    /// The Kafka listener accepts connections.
    Serving = 1,
    /// Shutdown has begun.
    ShuttingDown = 2,
}

/// Shared between the server (which moves it along) and the HTTP endpoint (which reports it).
#[derive(Default)]
pub struct Health {
    state: AtomicU8,
    broker: OnceLock<Arc<Broker>>,
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }

    pub fn set(&self, s: State) {
        self.state.store(s as u8, Ordering::Release);
    }

    pub fn state(&self) -> State {
        match self.state.load(Ordering::Acquire) {
            0 => State::Starting,
            1 => State::Serving,
            _ => State::ShuttingDown,
        }
    }

    /// Makes the broker's state available to `/metrics` once the logs are loaded.
    pub fn set_broker(&self, broker: Arc<Broker>) {
        let _ = self.broker.set(broker);
    }
}

/// Binds the listener (failing start-up if the address is taken, like the Kafka port).
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves until the task is aborted.
pub async fn serve(listener: TcpListener, health: Arc<Health>) {
    serve_with(listener, health, MAX_CONNECTIONS).await
}

/// [`serve`] keeping at most `max_connections` open. Every connection is accepted at once and
/// served in its own task with its own timeouts: nothing a client does (connect and stay
/// silent, send slowly, not read the response) delays another client's request. A full table
/// closes its oldest connection rather than leaving the new one in the accept backlog.
async fn serve_with(listener: TcpListener, health: Arc<Health>, max_connections: usize) {
    let mut open: VecDeque<AbortHandle> = VecDeque::new();
    let mut accept_errors = AcceptErrors::new("http");
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => {
                accept_errors.succeeded();
                x
            }
            Err(e) => {
                tokio::time::sleep(accept_errors.failed(&e, Instant::now())).await;
                continue;
            }
        };
        open.retain(|task| !task.is_finished());
        while open.len() >= max_connections.max(1) {
            if let Some(oldest) = open.pop_front() {
                debug!("http connection limit ({max_connections}) reached: closing the oldest");
                oldest.abort();
            }
        }
        let health = health.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = handle(stream, &health).await {
                debug!(%peer, "http connection: {e}");
            }
        });
        open.push_back(task.abort_handle());
    }
}

/// A parsed request line.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
}

/// A response: status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    /// Sent as `Allow` on 405.
    pub allow: bool,
}

impl Response {
    fn text(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            allow: false,
        }
    }
}

async fn handle(mut stream: TcpStream, health: &Health) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let head = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream, &mut buf)).await;
    let (response, head_only) = match head {
        Err(_) => (Response::text(408, "request timeout\n"), false),
        Ok(Err(e)) => return Err(e),
        Ok(Ok(None)) => (
            Response::text(431, "request header fields too large\n"),
            false,
        ),
        Ok(Ok(Some(end))) => match parse_request_line(&buf[..end]) {
            None => (Response::text(400, "bad request\n"), false),
            Some(line) => (route(&line, health), line.method == "HEAD"),
        },
    };
    match tokio::time::timeout(
        WRITE_TIMEOUT,
        write_response(&mut stream, &response, head_only),
    )
    .await
    {
        Ok(written) => written,
        Err(_) => Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "client did not take the response in time",
        )),
    }
}

/// Reads until the blank line ending the head; `None` if it exceeds [`MAX_HEAD_BYTES`].
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Option<usize>> {
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(i) = find_head_end(buf) {
            return Ok(Some(i));
        }
        if buf.len() > MAX_HEAD_BYTES {
            return Ok(None);
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "closed before the end of the request head",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

/// `METHOD SP request-target SP HTTP/1.x`.
pub fn parse_request_line(head: &[u8]) -> Option<RequestLine<'_>> {
    let head = std::str::from_utf8(head).ok()?;
    let line = head.lines().next()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if parts.next().is_some() || !version.starts_with("HTTP/1.") || method.is_empty() {
        return None;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    Some(RequestLine { method, path })
}

/// Maps a request to its response.
pub fn route(line: &RequestLine<'_>, health: &Health) -> Response {
    if !matches!(line.path, "/metrics" | "/health") {
        return Response::text(404, "not found: try /metrics or /health\n");
    }
    if !matches!(line.method, "GET" | "HEAD") {
        let mut r = Response::text(405, "method not allowed\n");
        r.allow = true;
        return r;
    }
    match line.path {
        "/health" => match health.state() {
            // Still 200: reads are served and writes resume by themselves once space is
            // freed, so a probe must not take the broker out of service or restart it.
            State::Serving => match health.broker.get().map(|b| b.logs.space()) {
                Some(space) if space.is_full() => Response::text(
                    200,
                    format!(
                        "ok, but the log directory {} is out of space: writes are refused until space is freed\n",
                        space.dir().display()
                    ),
                ),
                _ => Response::text(200, "ok\n"),
            },
            State::Starting => Response::text(503, "recovering\n"),
            State::ShuttingDown => Response::text(503, "shutting down\n"),
        },
        _ => match crate::metrics::get().render(health.broker.get()) {
            Some(body) => Response {
                status: 200,
                content_type: "text/plain; version=0.0.4; charset=utf-8",
                body,
                allow: false,
            },
            None => Response::text(404, "metrics are disabled (metrics.enable=false)\n"),
        },
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "",
    }
}

async fn write_response(
    stream: &mut TcpStream,
    r: &Response,
    head_only: bool,
) -> std::io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        r.status,
        reason(r.status),
        r.content_type,
        r.body.len()
    );
    if r.allow {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    if !head_only {
        out.push_str(&r.body);
    }
    stream.write_all(out.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn start(max_connections: usize) -> SocketAddr {
        let listener = bind("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let health = Arc::new(Health::new());
        health.set(State::Serving);
        tokio::spawn(serve_with(listener, health, max_connections));
        addr
    }

    async fn get(addr: SocketAddr, path: &str) -> String {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        c.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn idle_connections_do_not_delay_health() {
        let addr = start(MAX_CONNECTIONS).await;
        let mut idle = Vec::new();
        for _ in 0..200 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        let t = Instant::now();
        let answer = tokio::time::timeout(Duration::from_millis(500), get(addr, "/health"))
            .await
            .expect("/health answered within 500 ms");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
        assert!(t.elapsed() < Duration::from_millis(500));
        drop(idle);
    }

    #[tokio::test]
    async fn a_full_table_closes_its_oldest_connection() {
        let addr = start(2).await;
        let mut oldest = TcpStream::connect(addr).await.unwrap();
        let _second = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let answer = tokio::time::timeout(Duration::from_secs(2), get(addr, "/health"))
            .await
            .expect("the new request is served");
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        let mut b = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(2), oldest.read(&mut b))
            .await
            .expect("the oldest connection is closed");
        assert_eq!(n.unwrap_or(0), 0, "closed without a response");
    }

    #[tokio::test]
    async fn an_oversized_head_gets_431() {
        let addr = start(4).await;
        let mut c = TcpStream::connect(addr).await.unwrap();
        let mut req = b"GET /health HTTP/1.1\r\nX: ".to_vec();
        // One byte over: the server reads all of it, so closing sends no reset.
        req.resize(MAX_HEAD_BYTES + 1, b'a');
        c.write_all(&req).await.unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out).await;
        let out = String::from_utf8_lossy(&out);
        assert!(out.starts_with("HTTP/1.1 431 "), "{out}");
    }

    #[test]
    fn parses_request_lines() {
        assert_eq!(
            parse_request_line(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n"),
            Some(RequestLine {
                method: "GET",
                path: "/metrics"
            })
        );
        assert_eq!(parse_request_line(b"GET /metrics\r\n"), None);
        assert_eq!(parse_request_line(b"GET /metrics HTTP/2 x\r\n"), None);
        assert_eq!(parse_request_line(b"\xff\xfe"), None);
    }

    #[test]
    fn routes() {
        let h = Health::new();
        let get = |p| RequestLine {
            method: "GET",
            path: p,
        };
        assert_eq!(route(&get("/health"), &h).status, 503);
        h.set(State::Serving);
        assert_eq!(route(&get("/health"), &h).status, 200);
        h.set(State::ShuttingDown);
        assert_eq!(route(&get("/health"), &h).status, 503);
        assert_eq!(route(&get("/nope"), &h).status, 404);
        let post = RequestLine {
            method: "POST",
            path: "/health",
        };
        let r = route(&post, &h);
        assert_eq!((r.status, r.allow), (405, true));
    }
}
