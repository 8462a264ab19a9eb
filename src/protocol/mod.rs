//! Request decoding and response encoding (Kafka's `RequestContext.parseRequest` and
//! `AbstractResponse.toSend`), zero-copy over the frame's `Bytes`.
//!
//! Unknown API keys, versions outside [`crate::versions`] and undecodable bodies are reported
//! as [`DecodeError`]; Kafka closes the connection for those, and so does Klamm. Two cases are
//! answered instead, as Kafka does: an ApiVersions request newer than we serve (KIP-511: a v0
//! response with UNSUPPORTED_VERSION and our ranges) and Produce v0-2 (advertised but removed
//! in Kafka 4: UNSUPPORTED_VERSION per partition). The other versions Kafka 4 removed are
//! decoded and encoded by [`legacy`], unless `klamm.compat.kafka.version` is `4.1`.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::versions;

pub mod bounds;
pub mod fetch_response;
pub mod legacy;
mod shapes;

/// A decoded request.
#[derive(Debug)]
pub struct Request {
    pub header: RequestHeader,
    pub api_key: ApiKey,
    pub version: i16,
    pub body: RequestKind,
}

/// What the connection should do with a frame.
#[derive(Debug)]
pub enum Decoded {
    Request(Box<Request>),
    /// KIP-511: ApiVersions above our range.
    UnsupportedApiVersions {
        correlation_id: i32,
        version: i16,
    },
    /// Produce v0-2.
    LegacyProduce(LegacyProduce),
    /// ListOffsets v0 (KIP-896 removed it; served by [`legacy::list_offsets`]).
    ListOffsetsV0 {
        header: RequestHeader,
        request: legacy::list_offsets::ListOffsetsRequestV0,
    },
}

/// The parts of a Produce v0-2 request needed to refuse it in its own response format.
#[derive(Debug)]
pub struct LegacyProduce {
    pub correlation_id: i32,
    pub version: i16,
    pub acks: i16,
    pub topics: Vec<(Bytes, Vec<i32>)>,
}

/// Why a frame cannot be answered.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("frame too short for a request header")]
    Truncated,
    #[error("unknown API key {0}")]
    UnknownApiKey(i16),
    #[error("unsupported version {version} of API {api_key:?}")]
    UnsupportedVersion { api_key: ApiKey, version: i16 },
    #[error("malformed {api_key:?} v{version} request: {reason}")]
    Malformed {
        api_key: ApiKey,
        version: i16,
        client_id: Option<String>,
        reason: String,
    },
    /// A length or element count larger than the frame (or Kafka's collection cap), refused
    /// before decoding; see [`bounds`].
    #[error("{api_key:?} v{version} request refused before decoding: {source}")]
    OutOfBounds {
        api_key: ApiKey,
        version: i16,
        client_id: Option<String>,
        source: bounds::BoundError,
    },
}

impl DecodeError {
    /// The `reason` label of `klamm_requests_rejected_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Truncated => "malformed",
            DecodeError::UnknownApiKey(_) => "unknown_api",
            DecodeError::UnsupportedVersion { .. } => "unsupported_version",
            DecodeError::Malformed { .. } => "malformed",
            DecodeError::OutOfBounds { source, .. } => source.reason(),
        }
    }

    /// The client id of the refused request, when its header could be read.
    pub fn client_id(&self) -> Option<&str> {
        match self {
            DecodeError::Malformed { client_id, .. }
            | DecodeError::OutOfBounds { client_id, .. } => client_id.as_deref(),
            _ => None,
        }
    }
}

/// Decodes one frame (size prefix already removed) with the default, wide version ranges.
pub fn decode(frame: Bytes) -> Result<Decoded, DecodeError> {
    decode_for(versions::Compat::default(), frame)
}

/// Decodes one frame (size prefix already removed), accepting the versions `compat` serves.
pub fn decode_for(compat: versions::Compat, mut frame: Bytes) -> Result<Decoded, DecodeError> {
    if frame.len() < 8 {
        return Err(DecodeError::Truncated);
    }
    let raw_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let correlation_id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let api_key = ApiKey::try_from(raw_key).map_err(|_| DecodeError::UnknownApiKey(raw_key))?;
    let range =
        versions::answered_range(compat, api_key).ok_or(DecodeError::UnknownApiKey(raw_key))?;
    if api_key == ApiKey::ApiVersions && version > range.max {
        return Ok(Decoded::UnsupportedApiVersions {
            correlation_id,
            version,
        });
    }
    if version < range.min || version > range.max {
        return Err(DecodeError::UnsupportedVersion { api_key, version });
    }
    if api_key == ApiKey::Produce && version < versions::PRODUCE_MIN_ACCEPTED {
        return decode_legacy_produce(frame, version).map_err(|reason| DecodeError::Malformed {
            api_key,
            version,
            client_id: None,
            reason,
        });
    }
    if legacy::is_legacy(api_key, version) {
        return decode_legacy(api_key, version, frame);
    }
    let header_version = api_key.request_header_version(version);
    let out_of_bounds = |client_id: Option<String>, source| DecodeError::OutOfBounds {
        api_key,
        version,
        client_id,
        source,
    };
    // Kafka's generated `RequestHeaderData.read` takes any negative client id length as null,
    // not only -1; the codec refuses the others, so they are rewritten to -1 first (a copy, in
    // this rare case only).
    if header_version >= 1 && frame.len() >= 10 && i16::from_be_bytes([frame[8], frame[9]]) < -1 {
        let mut patched = BytesMut::from(&frame[..]);
        patched[8..10].copy_from_slice(&(-1i16).to_be_bytes());
        frame = patched.freeze();
    }
    // The header holds no collection, but walk it too: the body starts where it ends.
    bounds::check(bounds::header_shape(), header_version, &frame)
        .map_err(|e| out_of_bounds(None, e))?;
    let header =
        RequestHeader::decode(&mut frame, header_version).map_err(|e| DecodeError::Malformed {
            api_key,
            version,
            client_id: None,
            reason: e.to_string(),
        })?;
    let client_id = || header.client_id.as_ref().map(|c| c.to_string());
    let shape = bounds::request_shape(api_key).ok_or(DecodeError::UnknownApiKey(raw_key))?;
    bounds::check(shape, version, &frame).map_err(|e| out_of_bounds(client_id(), e))?;
    let body =
        RequestKind::decode(api_key, &mut frame, version).map_err(|e| DecodeError::Malformed {
            api_key,
            version,
            client_id: client_id(),
            reason: e.to_string(),
        })?;
    // Kafka's parsers ignore bytes after the body (some clients send them, e.g. librdkafka's
    // Metadata v13), and so does Klamm.
    if frame.has_remaining() {
        tracing::debug!(
            ?api_key,
            version,
            trailing = frame.remaining(),
            "ignoring bytes after the request body"
        );
    }
    Ok(Decoded::Request(Box::new(Request {
        header,
        api_key,
        version,
        body,
    })))
}

/// A removed version ([`legacy`]): header v1, then the old body, read with bounded counts.
fn decode_legacy(api_key: ApiKey, version: i16, mut frame: Bytes) -> Result<Decoded, DecodeError> {
    let malformed = |client_id: Option<String>, reason: String| DecodeError::Malformed {
        api_key,
        version,
        client_id,
        reason,
    };
    let header_version = legacy::REQUEST_HEADER_VERSION;
    bounds::check(bounds::header_shape(), header_version, &frame).map_err(|e| {
        DecodeError::OutOfBounds {
            api_key,
            version,
            client_id: None,
            source: e,
        }
    })?;
    let header = RequestHeader::decode(&mut frame, header_version)
        .map_err(|e| malformed(None, e.to_string()))?;
    let client_id = header.client_id.as_ref().map(|c| c.to_string());
    match legacy::decode_body(api_key, version, frame) {
        Ok(legacy::LegacyBody::Kind(body)) => Ok(Decoded::Request(Box::new(Request {
            header,
            api_key,
            version,
            body: *body,
        }))),
        Ok(legacy::LegacyBody::ListOffsetsV0(request)) => {
            Ok(Decoded::ListOffsetsV0 { header, request })
        }
        Err(reason) => Err(malformed(client_id, reason)),
    }
}

fn get_string(buf: &mut Bytes) -> Result<Bytes, String> {
    if buf.remaining() < 2 {
        return Err("truncated string".into());
    }
    let len = buf.get_i16();
    if len < 0 {
        return Ok(Bytes::new());
    }
    if buf.remaining() < len as usize {
        return Err("truncated string".into());
    }
    Ok(buf.split_to(len as usize))
}

fn get_i32(buf: &mut Bytes) -> Result<i32, String> {
    if buf.remaining() < 4 {
        return Err("truncated int32".into());
    }
    Ok(buf.get_i32())
}

/// Produce v0-2: header v1, then acks, timeout, `[topic [partition records]]`.
fn decode_legacy_produce(mut b: Bytes, version: i16) -> Result<Decoded, String> {
    b.advance(4); // api key, version
    let correlation_id = get_i32(&mut b)?;
    get_string(&mut b)?; // client id
    if b.remaining() < 6 {
        return Err("truncated produce header".into());
    }
    let acks = b.get_i16();
    b.get_i32(); // timeout
    let n_topics = get_i32(&mut b)?;
    let mut topics = Vec::new();
    for _ in 0..n_topics.max(0) {
        let name = get_string(&mut b)?;
        let n_parts = get_i32(&mut b)?;
        let mut parts = Vec::new();
        for _ in 0..n_parts.max(0) {
            parts.push(get_i32(&mut b)?);
            let len = get_i32(&mut b)?;
            if len > 0 {
                if b.remaining() < len as usize {
                    return Err("truncated records".into());
                }
                b.advance(len as usize);
            }
        }
        topics.push((name, parts));
    }
    Ok(Decoded::LegacyProduce(LegacyProduce {
        correlation_id,
        version,
        acks,
        topics,
    }))
}

/// Encodes a response frame: size prefix, header (v0, or v1 for flexible versions; always v0
/// for ApiVersions), body.
pub fn encode_response(
    api_key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseKind,
) -> anyhow::Result<Bytes> {
    if legacy::is_legacy(api_key, version) {
        return legacy::encode_response(api_key, version, correlation_id, body);
    }
    let header_version = api_key.response_header_version(version);
    let header = ResponseHeader::default().with_correlation_id(correlation_id);
    let size = header.compute_size(header_version)? + response_size(body, version)?;
    let mut buf = BytesMut::with_capacity(4 + size);
    buf.put_i32(0);
    header.encode(&mut buf, header_version)?;
    body.encode(&mut buf, version)?;
    let len = (buf.len() - 4) as i32;
    buf[0..4].copy_from_slice(&len.to_be_bytes());
    Ok(buf.freeze())
}

/// Exact body size, so the output buffer is allocated once (fetch bodies are large).
fn response_size(body: &ResponseKind, version: i16) -> anyhow::Result<usize> {
    Ok(match body {
        ResponseKind::Fetch(r) => r.compute_size(version)?,
        ResponseKind::Produce(r) => r.compute_size(version)?,
        ResponseKind::Metadata(r) => r.compute_size(version)?,
        _ => 256,
    })
}

/// The KIP-511 answer: ApiVersions v0 with UNSUPPORTED_VERSION and ApiVersions' own range only,
/// as Kafka's `ApiVersionsRequest.getErrorResponse` answers, so the client retries at the
/// highest version both sides serve and then learns the other ranges.
pub fn encode_unsupported_api_versions(correlation_id: i32) -> anyhow::Result<Bytes> {
    let api_keys = versions::range(ApiKey::ApiVersions)
        .map(|r| {
            kafka_protocol::messages::api_versions_response::ApiVersion::default()
                .with_api_key(r.key as i16)
                .with_min_version(r.min)
                .with_max_version(r.max)
        })
        .into_iter()
        .collect();
    let resp = kafka_protocol::messages::ApiVersionsResponse::default()
        .with_error_code(kafka_protocol::ResponseError::UnsupportedVersion.code())
        .with_api_keys(api_keys);
    encode_response(
        ApiKey::ApiVersions,
        0,
        correlation_id,
        &ResponseKind::ApiVersions(resp),
    )
}

/// Produce v0-2 answered with UNSUPPORTED_VERSION for every partition (none if acks=0).
pub fn encode_legacy_produce(p: &LegacyProduce) -> Option<Bytes> {
    if p.acks == 0 {
        return None;
    }
    let code = kafka_protocol::ResponseError::UnsupportedVersion.code();
    let mut buf = BytesMut::new();
    buf.put_i32(0);
    buf.put_i32(p.correlation_id);
    buf.put_i32(p.topics.len() as i32);
    for (name, parts) in &p.topics {
        buf.put_i16(name.len() as i16);
        buf.put_slice(name);
        buf.put_i32(parts.len() as i32);
        for part in parts {
            buf.put_i32(*part);
            buf.put_i16(code);
            buf.put_i64(-1);
            if p.version >= 2 {
                buf.put_i64(-1);
            }
        }
    }
    if p.version >= 1 {
        buf.put_i32(0);
    }
    let len = (buf.len() - 4) as i32;
    buf[0..4].copy_from_slice(&len.to_be_bytes());
    Some(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Bytes {
        let s: String = s.split_whitespace().collect();
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>(),
        )
    }

    #[test]
    fn rejects_unknown_keys_and_versions() {
        let mut f = BytesMut::new();
        f.put_i16(9999);
        f.put_i16(0);
        f.put_i32(1);
        f.put_i16(-1);
        assert!(matches!(
            decode(f.freeze()),
            Err(DecodeError::UnknownApiKey(9999))
        ));
        let mut f = BytesMut::new();
        f.put_i16(3);
        f.put_i16(99);
        f.put_i32(1);
        f.put_i16(-1);
        assert!(matches!(
            decode(f.freeze()),
            Err(DecodeError::UnsupportedVersion { .. })
        ));
        let mut f = BytesMut::new();
        f.put_i16(18);
        f.put_i16(99);
        f.put_i32(7);
        assert!(matches!(
            decode(f.freeze()),
            Ok(Decoded::UnsupportedApiVersions {
                correlation_id: 7,
                ..
            })
        ));
        assert!(matches!(
            decode(Bytes::from_static(b"\x00\x03")),
            Err(DecodeError::Truncated)
        ));
    }

    #[test]
    fn legacy_produce_gets_unsupported_version() {
        // sarama Produce v0 from shared/wire-captures/other (size prefix removed); a missing
        // capture fails the test rather than skipping it.
        let shared = std::env::var_os("KLAMM_SHARED_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
            });
        let path = shared.join("wire-captures/other/0-Produce-v0-1.hex");
        let frame = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let frame = hex(&frame).slice(4..);
        let Ok(Decoded::LegacyProduce(p)) = decode(frame) else {
            panic!("not a legacy produce")
        };
        let resp = encode_legacy_produce(&p).unwrap();
        let mut r = resp.slice(4..);
        assert_eq!(r.get_i32(), p.correlation_id);
        assert_eq!(r.get_i32(), p.topics.len() as i32);
        let name_len = r.get_i16() as usize;
        r.advance(name_len);
        assert_eq!(r.get_i32(), p.topics[0].1.len() as i32);
        r.get_i32();
        assert_eq!(r.get_i16(), 35);
    }
}
