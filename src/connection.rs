//! One client connection: framing, read-ahead, and in-order responses.
//!
//! A reader task checks that a whole frame is buffered before it allocates or decodes anything
//! (mini-redis `read_frame`), refuses size prefixes above `socket.request.max.bytes` by closing
//! the connection without allocating, grows its buffer with the bytes received rather than the
//! size declared, and keeps reading while earlier requests are processed (clients pipeline up
//! to five). A panic while handling a request closes this connection only ([`catch_unwind`]). The processor handles requests one at a time in arrival
//! order, as Kafka's network layer does (it mutes a channel until its response is sent), so a
//! producer's pipelined batches reach the log in order and responses leave in order.

use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestKind};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, info, warn};

use crate::broker::Broker;
use crate::handlers::{Outcome, RequestContext};
use crate::metrics::requests::{tally_errors, tally_fetch_errors, ErrorTally, RequestTiming};
use crate::protocol::{self, fetch_response, Decoded};
use crate::security::sasl::authenticator::{Authenticator, Gate};
use crate::security::{KafkaPrincipal, Listener, Session};
use crate::send::ResponseSend;
use crate::transport::Stream;

/// Limits applied to every connection.
#[derive(Clone)]
pub struct ConnectionLimits {
    /// `socket.request.max.bytes`
    pub max_request_bytes: usize,
    /// `connections.max.idle.ms`
    pub idle_timeout: Duration,
    /// `queued.max.requests`, shared by all connections.
    pub queue: Arc<Semaphore>,
}

/// The read buffer a connection starts with: enough for most requests, so an idle connection
/// costs a few KiB.
const INITIAL_BUFFER: usize = 4 * 1024;
/// The read buffer grows once its free space falls below this (or below what the frame still
/// needs), so reads stay reasonably large.
const MIN_READ: usize = 1024;

#[derive(Debug, thiserror::Error)]
enum FrameError {
    #[error("invalid request size {0} (limit {1})")]
    Size(i64, usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves one connection until the client closes it, an error closes it, or shutdown.
/// `principal` is who the transport says the client is (a TLS client certificate's principal,
/// else ANONYMOUS).
pub async fn serve(
    stream: Stream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    listener: Arc<Listener>,
    principal: KafkaPrincipal,
    limits: ConnectionLimits,
    mut shutdown: broadcast::Receiver<()>,
) {
    // Quotas (KIP-219): a throttled connection is muted after its response; shutdown ends it.
    let mut muted_shutdown = shutdown.resubscribe();
    stream.set_nodelay();
    let (reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<(Bytes, OwnedSemaphorePermit, Instant)>(64);
    // SASL: until authentication completes, frames are limited to `sasl.server.max.receive.size`;
    // the authenticator moves this limit and the reader applies it to every frame.
    let (mut auth, frame_limit) = Authenticator::new(
        broker.clone(),
        broker.sasl.for_listener(&listener),
        limits.max_request_bytes,
    );
    let reader_limits = limits.clone();
    let reader_task = AbortOnDrop(tokio::spawn(async move {
        let mut reader = reader;
        let mut buf = BytesMut::with_capacity(INITIAL_BUFFER);
        loop {
            let frame = tokio::select! {
                biased;
                _ = shutdown.recv() => break,
                r = tokio::time::timeout(
                    reader_limits.idle_timeout,
                    read_frame(&mut reader, &mut buf, &frame_limit),
                ) => r,
            };
            match frame {
                Err(_) => {
                    debug!(%peer, "closing idle connection");
                    break;
                }
                Ok(Ok(Some(frame))) => {
                    let received = Instant::now();
                    let Ok(permit) = reader_limits.queue.clone().acquire_owned().await else {
                        break;
                    };
                    if tx.send((frame, permit, received)).await.is_err() {
                        break;
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    if matches!(e, FrameError::Size(..)) {
                        crate::metrics::get().requests.rejected("frame_size");
                    }
                    warn!(%peer, "closing connection: {e}");
                    break;
                }
            }
        }
    }));

    let mut client_id: Option<String> = None;
    let mut session = Arc::new(Session {
        principal,
        ..Session::anonymous(listener, peer.ip())
    });
    let metrics = &crate::metrics::get().requests;
    let mut errors = ErrorTally::default();
    while let Some((frame, permit, received)) = rx.recv().await {
        let started = Instant::now();
        errors.clear();
        let mut throttle = Duration::ZERO;
        let mut close_after = false;
        let (api, response) = process(
            &broker,
            peer,
            Conn {
                session: &mut session,
                auth: &mut auth,
                close_after: &mut close_after,
            },
            &mut client_id,
            frame,
            &mut errors,
            &mut throttle,
        )
        .await;
        drop(permit);
        let processed = Instant::now();
        let open = match response {
            Ok(Some(send)) => match writer.send(&send).await {
                Ok(_) => true,
                Err(e) => {
                    debug!(%peer, "write failed: {e}");
                    false
                }
            },
            Ok(None) => true,
            Err(()) => false,
        };
        if let Some((api, version)) = api {
            let timing = RequestTiming {
                received,
                started,
                processed,
                sent: Instant::now(),
            };
            metrics.record(api, version, &timing, &errors);
        }
        if !open || close_after {
            break;
        }
        // KIP-219: the response went out at once; the connection now takes no further request
        // until the throttle time has passed.
        if !throttle.is_zero() {
            tokio::select! {
                _ = tokio::time::sleep(throttle) => {}
                _ = muted_shutdown.recv() => break,
            }
        }
    }
    drop(reader_task);
    // KIP-932: the share sessions this connection opened end with it.
    broker.share.on_connection_closed(peer).await;
    writer.shutdown().await;
    debug!(%peer, client_id = ?client_id, "connection closed");
}

/// The API and version of a processed request (for metrics), and what to send back.
type Processed = (Option<(ApiKey, i16)>, Result<Option<ResponseSend>, ()>);

/// Aborts the connection's reader task when the connection ends, also when a panic unwinds it.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A connection's per-request mutable state: who it is, its SASL authenticator, and whether
/// it closes once the response is sent (a failed authentication).
struct Conn<'a> {
    session: &'a mut Arc<Session>,
    auth: &'a mut Authenticator,
    close_after: &'a mut bool,
}

/// Decodes and handles one frame. `Err(())` closes the connection. The response's error codes
/// are added to `errors`.
async fn process(
    broker: &Arc<Broker>,
    peer: SocketAddr,
    conn: Conn<'_>,
    client_id: &mut Option<String>,
    frame: Bytes,
    errors: &mut ErrorTally,
    throttle: &mut Duration,
) -> Processed {
    let request_size = frame.len();
    let Conn {
        session,
        auth,
        close_after,
    } = conn;
    if auth.expects_raw_token() {
        // After a v0 SaslHandshake: a raw SASL token, no Kafka header (KIP-43).
        return match auth.raw_token(frame, peer, session).await {
            Ok(b) => (None, Ok(Some(ResponseSend::from_bytes(b)))),
            Err(()) => (None, Err(())),
        };
    }
    match protocol::decode_for(broker.compat, frame) {
        Ok(Decoded::Request(req)) => {
            if let Some(id) = req.header.client_id.as_ref() {
                if client_id.as_deref() != Some(id.as_str()) {
                    *client_id = Some(id.to_string());
                }
            }
            let ctx = RequestContext {
                broker: broker.clone(),
                peer,
                session: session.clone(),
                client_id: client_id.clone(),
                api_key: req.api_key,
                version: req.version,
                correlation_id: req.header.correlation_id,
            };
            let api = Some((ctx.api_key, ctx.version));
            match auth.gate(ctx.api_key) {
                Gate::Pass => {}
                Gate::Close(reason) => {
                    // Kafka closes without a response (`SaslServerAuthenticator`, `SocketServer`).
                    info!(%peer, client_id = ?client_id, api = ?ctx.api_key, "closing connection: {reason}");
                    crate::metrics::get().requests.rejected("sasl_state");
                    return (api, Err(()));
                }
                Gate::Sasl => {
                    // The same request boundary as below: a panic in a mechanism (JWT, JWKS,
                    // SCRAM parsing) costs this connection, never the process.
                    let answer =
                        match catch_unwind(auth.handle(ctx.version, req.body, peer, session)).await
                        {
                            Ok(Some(answer)) => answer,
                            Ok(None) => return (api, Err(())),
                            Err(_) => {
                                crate::metrics::get().requests.panicked(ctx.api_key);
                                warn!(%peer, client_id = ?client_id, api = ?ctx.api_key,
                                    "SASL request panicked, closing connection");
                                return (api, Err(()));
                            }
                        };
                    *close_after = answer.close_after;
                    if crate::metrics::get().requests.enabled() {
                        tally_errors(&answer.response, errors);
                    }
                    let response = protocol::encode_response(
                        ctx.api_key,
                        ctx.version,
                        ctx.correlation_id,
                        &answer.response,
                    )
                    .map(|b| Some(ResponseSend::from_bytes(b)))
                    .map_err(|_| ());
                    return (api, response);
                }
            }
            // The request boundary: a panic in a handler or in encoding costs this connection,
            // never the process (Kafka's `KafkaApis.handle` catches every Throwable per request).
            match catch_unwind(respond(&ctx, req.body, request_size, errors, throttle)).await {
                Ok(response) => (api, response),
                Err(_) => {
                    crate::metrics::get().requests.panicked(ctx.api_key);
                    warn!(%peer, client_id = ?client_id, api = ?ctx.api_key, version = ctx.version,
                        "request handler panicked, closing connection");
                    (api, Err(()))
                }
            }
        }
        Ok(Decoded::UnsupportedApiVersions {
            correlation_id,
            version,
        }) => {
            debug!(%peer, version, "ApiVersions version not supported; answering v0 (KIP-511)");
            errors.add(kafka_protocol::ResponseError::UnsupportedVersion.code());
            let api = Some((ApiKey::ApiVersions, version));
            let response = protocol::encode_unsupported_api_versions(correlation_id)
                .map(|b| Some(ResponseSend::from_bytes(b)))
                .map_err(|_| ());
            (api, response)
        }
        Ok(Decoded::ListOffsetsV0 { header, request }) => {
            if let Some(id) = header.client_id.as_ref() {
                if client_id.as_deref() != Some(id.as_str()) {
                    *client_id = Some(id.to_string());
                }
            }
            let api = Some((ApiKey::ListOffsets, 0));
            if let Gate::Close(reason) = auth.gate(ApiKey::ListOffsets) {
                info!(%peer, client_id = ?client_id, api = ?ApiKey::ListOffsets, "closing connection: {reason}");
                crate::metrics::get().requests.rejected("sasl_state");
                return (api, Err(()));
            }
            let ctx = RequestContext {
                broker: broker.clone(),
                peer,
                session: session.clone(),
                client_id: client_id.clone(),
                api_key: ApiKey::ListOffsets,
                version: 0,
                correlation_id: header.correlation_id,
            };
            // The same request boundary as every other request. ListOffsets v0 has its own
            // request type (`max_num_offsets`), which the quota layer's `RequestKind` path does
            // not take: its request-time quota (`request_percentage`) is not recorded.
            let answered =
                catch_unwind(async { crate::handlers::list_offsets::handle_v0(&ctx, request) })
                    .await;
            match answered {
                Ok(resp) => {
                    for t in &resp.topics {
                        for p in &t.partitions {
                            errors.add(p.error_code);
                        }
                    }
                    let response =
                        protocol::legacy::encode_list_offsets_v0(ctx.correlation_id, &resp)
                            .map(|b| Some(ResponseSend::from_bytes(b)))
                            .map_err(|_| ());
                    (api, response)
                }
                Err(_) => {
                    crate::metrics::get().requests.panicked(ApiKey::ListOffsets);
                    warn!(%peer, client_id = ?client_id, "ListOffsets v0 panicked, closing connection");
                    (api, Err(()))
                }
            }
        }
        Ok(Decoded::LegacyProduce(p)) => {
            if let Gate::Close(reason) = auth.gate(ApiKey::Produce) {
                info!(%peer, client_id = ?client_id, "closing connection: {reason}");
                return (Some((ApiKey::Produce, p.version)), Err(()));
            }
            warn!(%peer, client_id = ?client_id, version = p.version,
                "rejected Produce v{} (removed in Kafka 4): UNSUPPORTED_VERSION", p.version);
            errors.add(kafka_protocol::ResponseError::UnsupportedVersion.code());
            (
                Some((ApiKey::Produce, p.version)),
                Ok(protocol::encode_legacy_produce(&p).map(ResponseSend::from_bytes)),
            )
        }
        Err(e) => {
            // Kafka closes the connection on a request it cannot parse
            // (`SocketServer` / `RequestContext.parseRequest`); only this connection goes.
            crate::metrics::get().requests.rejected(e.reason());
            let client_id = e
                .client_id()
                .map(str::to_owned)
                .or_else(|| client_id.clone());
            warn!(%peer, client_id = ?client_id, reason = e.reason(),
                "rejected request, closing connection: {e}");
            (None, Err(()))
        }
    }
}

/// Runs one decoded request through its handler and encodes the response. `Err(())` closes
/// the connection.
async fn respond(
    ctx: &RequestContext,
    body: RequestKind,
    request_size: usize,
    errors: &mut ErrorTally,
    throttle: &mut Duration,
) -> Result<Option<ResponseSend>, ()> {
    let tally = crate::metrics::get().requests.enabled();
    let encoded = match crate::quota::enforce::handle(ctx, body, request_size, throttle).await {
        Outcome::Respond(body) => {
            if tally {
                tally_errors(&body, errors);
            }
            protocol::encode_response(ctx.api_key, ctx.version, ctx.correlation_id, &body)
                .map(ResponseSend::from_bytes)
        }
        Outcome::RespondFetch(body, records) => {
            if tally {
                tally_fetch_errors(&body, errors);
            }
            fetch_response::encode(ctx.version, ctx.correlation_id, &body, &records)
        }
        Outcome::NoResponse => return Ok(None),
        Outcome::Close => return Err(()),
    };
    match encoded {
        Ok(send) => Ok(Some(send)),
        Err(e) => {
            warn!(peer = %ctx.peer, client_id = ?ctx.client_id, api = ?ctx.api_key,
                version = ctx.version, "failed to encode response, closing connection: {e}");
            Err(())
        }
    }
}

/// Polls `fut`, turning a panic inside it into `Err(payload)` (what `FutureExt::catch_unwind`
/// does, without the crate). The future is dropped after a panic and never polled again, and
/// nothing it borrowed is used afterwards except through locks, which a panic poisons; that is
/// why `AssertUnwindSafe` is sound enough here: shared state behind a poisoned lock is treated
/// as unusable where it matters (a partition's log state refuses writes).
pub async fn catch_unwind<F: Future>(fut: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => Poll::Ready(Err(payload)),
        }
    })
    .await
}

/// Reads one frame: `Ok(None)` on a clean EOF between frames.
async fn read_frame<R: AsyncRead + Unpin>(
    reader: &mut R,
    buf: &mut BytesMut,
    limit: &AtomicUsize,
) -> Result<Option<Bytes>, FrameError> {
    loop {
        if buf.len() >= 4 {
            // Read at every check: authentication may raise the limit while a frame arrives.
            let max = limit.load(Ordering::Relaxed);
            let size = i32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
            if size < 0 || size as usize > max {
                return Err(FrameError::Size(size as i64, max));
            }
            let total = 4 + size as usize;
            if buf.len() >= total {
                let mut frame = buf.split_to(total);
                frame.advance(4);
                return Ok(Some(frame.freeze()));
            }
            // Grow with the bytes actually received, never to the declared size up front: a
            // client that declares 100 MiB and sends four bytes costs the initial buffer. Each
            // growth doubles what is buffered (capped at the frame's end), so a large frame is
            // read with few, large reads and a logarithmic number of copies.
            let remaining = total - buf.len();
            if buf.capacity() - buf.len() < remaining.min(MIN_READ) {
                buf.reserve(remaining.min(buf.len().max(INITIAL_BUFFER)));
            }
        } else if buf.capacity() - buf.len() < 4 {
            buf.reserve(INITIAL_BUFFER);
        }
        let n = match reader.read_buf(buf).await {
            Ok(n) => n,
            // A TLS client that closes without close_notify between frames (kafka-python,
            // librdkafka) is closing normally; rustls reports it as an unexpected EOF.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && buf.is_empty() => {
                return Ok(None)
            }
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(FrameError::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("connection closed mid-frame ({} bytes buffered)", buf.len()),
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;
    use tokio::net::tcp::OwnedReadHalf;
    use tokio::net::{TcpListener, TcpStream};

    #[tokio::test]
    async fn catch_unwind_turns_a_panicking_future_into_an_error() {
        let ok = catch_unwind(async { 7 }).await;
        assert_eq!(ok.ok(), Some(7));
        let n = std::hint::black_box(42);
        let panicked = catch_unwind(async move {
            tokio::task::yield_now().await; // panics on a later poll, not the first
            panic!("handler bug {n}");
        })
        .await;
        let payload = panicked.expect_err("the panic is caught");
        assert_eq!(
            payload.downcast_ref::<String>().map(String::as_str),
            Some("handler bug 42")
        );
        // The runtime and this task go on.
        assert_eq!(catch_unwind(async { "after" }).await.ok(), Some("after"));
    }

    /// A connected pair: the broker's read half and the client's stream.
    async fn pair() -> (OwnedReadHalf, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (server.into_split().0, client)
    }

    #[tokio::test]
    async fn a_declared_size_is_not_reserved_before_its_bytes_arrive() {
        let (mut reader, mut client) = pair().await;
        let declared = 100 * 1024 * 1024;
        client
            .write_all(&(declared as i32).to_be_bytes())
            .await
            .unwrap();
        client.write_all(b"abcd").await.unwrap();
        let mut buf = BytesMut::with_capacity(INITIAL_BUFFER);
        let read = tokio::time::timeout(
            Duration::from_millis(200),
            read_frame(&mut reader, &mut buf, &AtomicUsize::new(declared)),
        )
        .await;
        assert!(read.is_err(), "the frame is incomplete: still waiting");
        assert_eq!(&buf[..], b"\x06\x40\x00\x00abcd");
        assert!(
            buf.capacity() <= 2 * INITIAL_BUFFER,
            "reserved {} bytes for 8 received",
            buf.capacity()
        );
    }

    #[tokio::test]
    async fn a_large_frame_arrives_whole_through_bounded_growth() {
        let (mut reader, mut client) = pair().await;
        let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let mut framed = (body.len() as i32).to_be_bytes().to_vec();
        framed.extend_from_slice(&body);
        framed.extend_from_slice(&[0, 0, 0, 1, 9]); // the next frame, pipelined
        let writer = tokio::spawn(async move {
            client.write_all(&framed).await.unwrap();
            client
        });
        let mut buf = BytesMut::with_capacity(INITIAL_BUFFER);
        let limit = AtomicUsize::new(1 << 20);
        let frame = read_frame(&mut reader, &mut buf, &limit).await.unwrap();
        assert_eq!(frame.as_deref(), Some(&body[..]));
        let _client = writer.await.unwrap();
        let next = read_frame(&mut reader, &mut buf, &limit).await.unwrap();
        assert_eq!(next.as_deref(), Some(&[9u8][..]));
    }
}
