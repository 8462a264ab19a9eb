//! The request versions Kafka 4.0 removed (KIP-896) whose records are message format v2, served
//! as Kafka 3.9 served them so clients still in service keep working (Debian's sarama 1.22
//! commits with OffsetCommit v1 and describes configs with DescribeConfigs v0). Produce v0-2
//! and Fetch v0-3 stay refused: they carry message format v0/v1. WriteTxnMarkers v0 is
//! broker-to-broker and stays out.
//!
//! The `kafka-protocol` crate's codecs start at Kafka 4's minimums, so each removed version has
//! a small decoder and encoder here, one file per API, after Kafka 3.9's JSON specs
//! (`clients/src/main/resources/common/message/*.json` at 3.9). Every one is non-flexible
//! (request header v1, response header v0, `int16` strings, `int32` counts). A request maps to
//! the lowest version the crate knows, with that version's defaults for the fields the old one
//! lacks, and the handler runs with the client's version in its context, so the version checks
//! the handlers already make (`version >= 2` and so on) give the old behaviour; the response is
//! written back in the old layout. ListOffsets v0 alone has fields no later version has
//! (`max_num_offsets`, `old_style_offsets`) and gets its own types.
//!
//! Which of them are served depends on `klamm.compat.kafka.version`; see
//! [`crate::versions::Compat`].

pub mod acls;
pub mod create_topics;
pub mod delete_topics;
pub mod describe_configs;
pub mod describe_log_dirs;
pub mod list_offsets;
pub mod offset_commit;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod wire;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestKind, ResponseKind};

use crate::versions;
use wire::{ReadError, Reader, Writer};

/// Every removed version is non-flexible: request header v1 (with client id, no tags).
pub const REQUEST_HEADER_VERSION: i16 = 1;

/// True when `version` of `key` is one of the removed versions this module serves.
pub fn is_legacy(key: ApiKey, version: i16) -> bool {
    versions::REMOVED_IN_KAFKA_4
        .iter()
        .any(|r| r.key == key && version >= r.min && version <= r.max)
}

/// A decoded old-version body.
#[derive(Debug)]
pub enum LegacyBody {
    /// Mapped to the crate's lowest version of the API.
    Kind(Box<RequestKind>),
    /// ListOffsets v0, which no later version can express.
    ListOffsetsV0(list_offsets::ListOffsetsRequestV0),
}

/// Decodes the body of a removed `version` of `key` (the header already read).
pub fn decode_body(key: ApiKey, version: i16, body: Bytes) -> Result<LegacyBody, ReadError> {
    let r = &mut Reader::new(body);
    let kind = match key {
        ApiKey::ListOffsets => {
            return Ok(LegacyBody::ListOffsetsV0(list_offsets::decode_request(r)?))
        }
        ApiKey::OffsetCommit => {
            RequestKind::OffsetCommit(offset_commit::decode_request(r, version)?)
        }
        ApiKey::OffsetFetch => RequestKind::OffsetFetch(offset_fetch::decode_request(r)?),
        ApiKey::CreateTopics => {
            RequestKind::CreateTopics(create_topics::decode_request(r, version)?)
        }
        ApiKey::DeleteTopics => RequestKind::DeleteTopics(delete_topics::decode_request(r)?),
        ApiKey::OffsetForLeaderEpoch => {
            RequestKind::OffsetForLeaderEpoch(offset_for_leader_epoch::decode_request(r)?)
        }
        ApiKey::DescribeAcls => RequestKind::DescribeAcls(acls::decode_describe_request(r)?),
        ApiKey::CreateAcls => RequestKind::CreateAcls(acls::decode_create_request(r)?),
        ApiKey::DeleteAcls => RequestKind::DeleteAcls(acls::decode_delete_request(r)?),
        ApiKey::DescribeConfigs => {
            RequestKind::DescribeConfigs(describe_configs::decode_request(r)?)
        }
        ApiKey::DescribeLogDirs => {
            RequestKind::DescribeLogDirs(describe_log_dirs::decode_request(r)?)
        }
        other => {
            return Err(format!(
                "{other:?} v{version} is not a removed version Klamm serves"
            ))
        }
    };
    if r.remaining() > 0 {
        // Kafka's parsers ignore bytes after the body, and so does Klamm (as for every version).
        tracing::debug!(
            ?key,
            version,
            trailing = r.remaining(),
            "ignoring bytes after the request body"
        );
    }
    Ok(LegacyBody::Kind(Box::new(kind)))
}

/// Encodes the response to a removed version: size prefix, response header v0 (the correlation
/// id), then the old body layout.
pub fn encode_response(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &ResponseKind,
) -> anyhow::Result<Bytes> {
    let mut w = begin(correlation_id);
    match (key, body) {
        (ApiKey::OffsetCommit, ResponseKind::OffsetCommit(r)) => {
            offset_commit::encode_response(&mut w, r)?
        }
        (ApiKey::OffsetFetch, ResponseKind::OffsetFetch(r)) => {
            offset_fetch::encode_response(&mut w, r)?
        }
        (ApiKey::CreateTopics, ResponseKind::CreateTopics(r)) => {
            create_topics::encode_response(&mut w, version, r)?
        }
        (ApiKey::DeleteTopics, ResponseKind::DeleteTopics(r)) => {
            delete_topics::encode_response(&mut w, r)?
        }
        (ApiKey::OffsetForLeaderEpoch, ResponseKind::OffsetForLeaderEpoch(r)) => {
            offset_for_leader_epoch::encode_response(&mut w, version, r)?
        }
        (ApiKey::DescribeAcls, ResponseKind::DescribeAcls(r)) => {
            acls::encode_describe_response(&mut w, r)?
        }
        (ApiKey::CreateAcls, ResponseKind::CreateAcls(r)) => {
            acls::encode_create_response(&mut w, r)?
        }
        (ApiKey::DeleteAcls, ResponseKind::DeleteAcls(r)) => {
            acls::encode_delete_response(&mut w, r)?
        }
        (ApiKey::DescribeConfigs, ResponseKind::DescribeConfigs(r)) => {
            describe_configs::encode_response(&mut w, r)?
        }
        (ApiKey::DescribeLogDirs, ResponseKind::DescribeLogDirs(r)) => {
            describe_log_dirs::encode_response(&mut w, r)?
        }
        _ => anyhow::bail!("no v{version} encoder for a {key:?} response"),
    }
    Ok(finish(w))
}

/// Encodes a ListOffsets v0 response.
pub fn encode_list_offsets_v0(
    correlation_id: i32,
    resp: &list_offsets::ListOffsetsResponseV0,
) -> anyhow::Result<Bytes> {
    let mut w = begin(correlation_id);
    list_offsets::encode_response(&mut w, resp)?;
    Ok(finish(w))
}

fn begin(correlation_id: i32) -> Writer {
    let mut buf = BytesMut::with_capacity(256);
    buf.put_i32(0);
    buf.put_i32(correlation_id);
    Writer { buf }
}

fn finish(w: Writer) -> Bytes {
    let mut buf = w.buf;
    let len = (buf.len() - 4) as i32;
    buf[0..4].copy_from_slice(&len.to_be_bytes());
    buf.freeze()
}
