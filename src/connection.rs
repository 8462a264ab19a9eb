//! One client connection: framing, read-ahead, and in-order responses.
//!
//! A reader task checks that a whole frame is buffered before it allocates or decodes anything
//! (mini-redis `read_frame`), refuses size prefixes above `socket.request.max.bytes` by closing
//! the connection without allocating, and keeps reading while earlier requests are processed
//! (clients pipeline up to five). The processor handles requests one at a time in arrival
//! order, as Kafka's network layer does (it mutes a channel until its response is sent), so a
//! producer's pipelined batches reach the log in order and responses leave in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::ApiKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc, OwnedSemaphorePermit, Semaphore};
use tracing::{debug, warn};

use crate::broker::Broker;
use crate::handlers::{self, Outcome, RequestContext};
use crate::metrics::requests::{tally_errors, tally_fetch_errors, ErrorTally, RequestTiming};
use crate::protocol::{self, fetch_response, Decoded};
use crate::send::ResponseSend;

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

#[derive(Debug, thiserror::Error)]
enum FrameError {
    #[error("invalid request size {0} (limit {1})")]
    Size(i64, usize),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Serves one connection until the client closes it, an error closes it, or shutdown.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    broker: Arc<Broker>,
    limits: ConnectionLimits,
    mut shutdown: broadcast::Receiver<()>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<(Bytes, OwnedSemaphorePermit, Instant)>(64);
    let reader_limits = limits.clone();
    let reader_task = tokio::spawn(async move {
        let mut reader = reader;
        let mut buf = BytesMut::with_capacity(64 * 1024);
        loop {
            let frame = tokio::select! {
                biased;
                _ = shutdown.recv() => break,
                r = tokio::time::timeout(
                    reader_limits.idle_timeout,
                    read_frame(&mut reader, &mut buf, reader_limits.max_request_bytes),
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
    });

    let mut client_id: Option<String> = None;
    let metrics = &crate::metrics::get().requests;
    let mut errors = ErrorTally::default();
    while let Some((frame, permit, received)) = rx.recv().await {
        let started = Instant::now();
        errors.clear();
        let (api, response) = process(&broker, peer, &mut client_id, frame, &mut errors).await;
        drop(permit);
        let processed = Instant::now();
        let open = match response {
            Ok(Some(send)) => match send.write_to(&mut writer).await {
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
        if !open {
            break;
        }
    }
    reader_task.abort();
    let _ = writer.shutdown().await;
    debug!(%peer, client_id = ?client_id, "connection closed");
}

/// The API and version of a processed request (for metrics), and what to send back.
type Processed = (Option<(ApiKey, i16)>, Result<Option<ResponseSend>, ()>);

/// Decodes and handles one frame. `Err(())` closes the connection. The response's error codes
/// are added to `errors`.
async fn process(
    broker: &Arc<Broker>,
    peer: SocketAddr,
    client_id: &mut Option<String>,
    frame: Bytes,
    errors: &mut ErrorTally,
) -> Processed {
    match protocol::decode(frame) {
        Ok(Decoded::Request(req)) => {
            if let Some(id) = req.header.client_id.as_ref() {
                if client_id.as_deref() != Some(id.as_str()) {
                    *client_id = Some(id.to_string());
                }
            }
            let ctx = RequestContext {
                broker: broker.clone(),
                peer,
                client_id: client_id.clone(),
                api_key: req.api_key,
                version: req.version,
                correlation_id: req.header.correlation_id,
            };
            let api = Some((ctx.api_key, ctx.version));
            let tally = crate::metrics::get().requests.enabled();
            let encoded = match handlers::handle(&ctx, req.body).await {
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
                Outcome::NoResponse => return (api, Ok(None)),
                Outcome::Close => return (api, Err(())),
            };
            match encoded {
                Ok(send) => (api, Ok(Some(send))),
                Err(e) => {
                    warn!(%peer, client_id = ?client_id, api = ?ctx.api_key, version = ctx.version,
                        "failed to encode response, closing connection: {e}");
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
            let response = protocol::encode_unsupported_api_versions(
                correlation_id,
                broker.groups.config().consumer.enabled,
            )
            .map(|b| Some(ResponseSend::from_bytes(b)))
            .map_err(|_| ());
            (api, response)
        }
        Ok(Decoded::LegacyProduce(p)) => {
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

/// Reads one frame: `Ok(None)` on a clean EOF between frames.
async fn read_frame(
    reader: &mut OwnedReadHalf,
    buf: &mut BytesMut,
    max: usize,
) -> Result<Option<Bytes>, FrameError> {
    loop {
        if buf.len() >= 4 {
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
            buf.reserve(total - buf.len());
        } else if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 * 1024);
        }
        let n = reader.read_buf(buf).await?;
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
