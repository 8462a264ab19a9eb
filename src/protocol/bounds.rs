//! Bounds every length and element count of a request before it is decoded.
//!
//! The protocol crate's array decoders reserve `Vec::with_capacity(n)` with the count read from
//! the wire before reading a single element, so a 20-byte frame declaring 2^31-1 elements makes
//! the allocator fail and the process abort. Kafka's generated readers check each count first
//! (`Tried to allocate a collection of size N, but there are only M bytes remaining`), and since
//! Kafka 4.4 also refuse any collection above 1,000,000 elements. Klamm does the same in one walk
//! over the frame along the request's [shape](super::shapes), before the crate sees it: every
//! element of a Kafka array takes at least one byte, so once each count is no larger than the
//! bytes that remain, nothing the crate allocates for a request is larger than a small multiple
//! of the frame, which `socket.request.max.bytes` bounds.
//!
//! The walk reads exactly what the crate reads (fields by version, tagged fields in flexible
//! versions, known tags decoded in place, unknown tags skipped by their size), allocates nothing
//! and costs a few nanoseconds per field. It is lenient where the crate is strict (any negative
//! length is taken as null): it only has to make the crate's decode safe, and the crate still
//! rejects what is malformed in other ways.

use kafka_protocol::messages::ApiKey;

use super::shapes;

/// Kafka 4.4's cap on the elements of one decoded collection (`MessageUtil`'s
/// `MAX_COLLECTION_SIZE`-style check in the generated readers).
pub const MAX_COLLECTION_ELEMENTS: u64 = 1_000_000;

/// A field's wire type.
#[derive(Debug)]
pub enum Ty {
    /// A fixed-width field (int8..int64, bool, uuid, float64): this many bytes.
    Fixed(usize),
    /// `int16` length, then bytes (negative: null).
    Str,
    /// Unsigned varint length + 1, then bytes (0: null).
    CompactStr,
    /// `int32` length, then bytes (negative: null).
    Bytes,
    /// Unsigned varint length + 1, then bytes (0: null).
    CompactBytes,
    /// An unsigned varint.
    UVarInt,
    /// `int32` count, then elements (negative: null).
    Array(&'static Ty),
    /// Unsigned varint count + 1, then elements (0: null).
    CompactArray(&'static Ty),
    /// A nested struct, at the same version.
    Struct(&'static Shape),
    /// An `int8` presence marker (1: present), then the struct.
    OptionStruct(&'static Shape),
}

/// A field: the versions it is present in, and its type.
#[derive(Debug)]
pub struct Field(pub u32, pub Ty);

/// A known tagged field: its tag, the versions it is valid in, and its type.
#[derive(Debug)]
pub struct Tag(pub u32, pub u32, pub Ty);

/// One message struct.
#[derive(Debug)]
pub struct Shape {
    pub name: &'static str,
    /// The versions the struct is decoded at.
    pub versions: u32,
    /// The versions that end the struct with tagged fields.
    pub flexible: u32,
    pub fields: &'static [Field],
    pub tags: &'static [Tag],
}

/// Why a frame was refused before decoding.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    #[error("{shape}: a collection of {count} elements, but only {remaining} bytes remain")]
    Collection {
        shape: &'static str,
        count: u64,
        remaining: usize,
    },
    #[error(
        "{shape}: a collection of {count} elements is above the limit of {MAX_COLLECTION_ELEMENTS}"
    )]
    TooManyElements { shape: &'static str, count: u64 },
    #[error("{shape}: a length of {len} bytes, but only {remaining} bytes remain")]
    Length {
        shape: &'static str,
        len: u64,
        remaining: usize,
    },
    #[error("{shape}: truncated")]
    Truncated { shape: &'static str },
    #[error("{shape}: tag {tag} is not valid for version {version}")]
    InvalidTag {
        shape: &'static str,
        tag: u32,
        version: i16,
    },
    #[error("version {version} of {shape} is not described")]
    Version { shape: &'static str, version: i16 },
}

impl BoundError {
    /// The `reason` label of `klamm_requests_rejected_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            BoundError::Collection { .. } | BoundError::TooManyElements { .. } => "collection_size",
            BoundError::Length { .. } => "length",
            BoundError::Truncated { .. }
            | BoundError::InvalidTag { .. }
            | BoundError::Version { .. } => "malformed",
        }
    }
}

/// The shape of `key`'s request body, for every API Klamm decodes.
pub fn request_shape(key: ApiKey) -> Option<&'static Shape> {
    use shapes::*;
    Some(match key {
        ApiKey::Produce => &produce::PRODUCE_REQUEST,
        ApiKey::Fetch => &fetch::FETCH_REQUEST,
        ApiKey::ListOffsets => &list_offsets::LIST_OFFSETS_REQUEST,
        ApiKey::Metadata => &metadata::METADATA_REQUEST,
        ApiKey::OffsetCommit => &offset_commit::OFFSET_COMMIT_REQUEST,
        ApiKey::OffsetFetch => &offset_fetch::OFFSET_FETCH_REQUEST,
        ApiKey::FindCoordinator => &find_coordinator::FIND_COORDINATOR_REQUEST,
        ApiKey::JoinGroup => &join_group::JOIN_GROUP_REQUEST,
        ApiKey::Heartbeat => &heartbeat::HEARTBEAT_REQUEST,
        ApiKey::LeaveGroup => &leave_group::LEAVE_GROUP_REQUEST,
        ApiKey::SyncGroup => &sync_group::SYNC_GROUP_REQUEST,
        ApiKey::DescribeGroups => &describe_groups::DESCRIBE_GROUPS_REQUEST,
        ApiKey::ListGroups => &list_groups::LIST_GROUPS_REQUEST,
        ApiKey::ApiVersions => &api_versions::API_VERSIONS_REQUEST,
        ApiKey::CreateTopics => &create_topics::CREATE_TOPICS_REQUEST,
        ApiKey::DeleteTopics => &delete_topics::DELETE_TOPICS_REQUEST,
        ApiKey::DeleteRecords => &delete_records::DELETE_RECORDS_REQUEST,
        ApiKey::InitProducerId => &init_producer_id::INIT_PRODUCER_ID_REQUEST,
        ApiKey::OffsetForLeaderEpoch => &offset_for_leader_epoch::OFFSET_FOR_LEADER_EPOCH_REQUEST,
        ApiKey::AddPartitionsToTxn => &add_partitions_to_txn::ADD_PARTITIONS_TO_TXN_REQUEST,
        ApiKey::AddOffsetsToTxn => &add_offsets_to_txn::ADD_OFFSETS_TO_TXN_REQUEST,
        ApiKey::EndTxn => &end_txn::END_TXN_REQUEST,
        ApiKey::WriteTxnMarkers => &write_txn_markers::WRITE_TXN_MARKERS_REQUEST,
        ApiKey::TxnOffsetCommit => &txn_offset_commit::TXN_OFFSET_COMMIT_REQUEST,
        ApiKey::DescribeConfigs => &describe_configs::DESCRIBE_CONFIGS_REQUEST,
        ApiKey::AlterConfigs => &alter_configs::ALTER_CONFIGS_REQUEST,
        ApiKey::DescribeLogDirs => &describe_log_dirs::DESCRIBE_LOG_DIRS_REQUEST,
        ApiKey::CreatePartitions => &create_partitions::CREATE_PARTITIONS_REQUEST,
        ApiKey::DeleteGroups => &delete_groups::DELETE_GROUPS_REQUEST,
        ApiKey::ElectLeaders => &elect_leaders::ELECT_LEADERS_REQUEST,
        ApiKey::IncrementalAlterConfigs => {
            &incremental_alter_configs::INCREMENTAL_ALTER_CONFIGS_REQUEST
        }
        ApiKey::ListPartitionReassignments => {
            &list_partition_reassignments::LIST_PARTITION_REASSIGNMENTS_REQUEST
        }
        ApiKey::OffsetDelete => &offset_delete::OFFSET_DELETE_REQUEST,
        ApiKey::DescribeUserScramCredentials => {
            &describe_user_scram_credentials::DESCRIBE_USER_SCRAM_CREDENTIALS_REQUEST
        }
        ApiKey::AlterUserScramCredentials => {
            &alter_user_scram_credentials::ALTER_USER_SCRAM_CREDENTIALS_REQUEST
        }
        ApiKey::DescribeClientQuotas => &describe_client_quotas::DESCRIBE_CLIENT_QUOTAS_REQUEST,
        ApiKey::AlterClientQuotas => &alter_client_quotas::ALTER_CLIENT_QUOTAS_REQUEST,
        ApiKey::DescribeCluster => &describe_cluster::DESCRIBE_CLUSTER_REQUEST,
        ApiKey::DescribeProducers => &describe_producers::DESCRIBE_PRODUCERS_REQUEST,
        ApiKey::DescribeTransactions => &describe_transactions::DESCRIBE_TRANSACTIONS_REQUEST,
        ApiKey::ListTransactions => &list_transactions::LIST_TRANSACTIONS_REQUEST,
        ApiKey::ConsumerGroupHeartbeat => {
            &consumer_group_heartbeat::CONSUMER_GROUP_HEARTBEAT_REQUEST
        }
        ApiKey::ConsumerGroupDescribe => &consumer_group_describe::CONSUMER_GROUP_DESCRIBE_REQUEST,
        ApiKey::DescribeTopicPartitions => {
            &describe_topic_partitions::DESCRIBE_TOPIC_PARTITIONS_REQUEST
        }
        ApiKey::ShareGroupHeartbeat => &share_group_heartbeat::SHARE_GROUP_HEARTBEAT_REQUEST,
        ApiKey::ShareGroupDescribe => &share_group_describe::SHARE_GROUP_DESCRIBE_REQUEST,
        ApiKey::ShareFetch => &share_fetch::SHARE_FETCH_REQUEST,
        ApiKey::ShareAcknowledge => &share_acknowledge::SHARE_ACKNOWLEDGE_REQUEST,
        ApiKey::DescribeShareGroupOffsets => {
            &share_group_offsets::DESCRIBE_SHARE_GROUP_OFFSETS_REQUEST
        }
        ApiKey::AlterShareGroupOffsets => &share_group_offsets::ALTER_SHARE_GROUP_OFFSETS_REQUEST,
        ApiKey::DeleteShareGroupOffsets => &share_group_offsets::DELETE_SHARE_GROUP_OFFSETS_REQUEST,
        ApiKey::SaslHandshake => &sasl_handshake::SASL_HANDSHAKE_REQUEST,
        ApiKey::DescribeAcls => &describe_acls::DESCRIBE_ACLS_REQUEST,
        ApiKey::CreateAcls => &create_acls::CREATE_ACLS_REQUEST,
        ApiKey::DeleteAcls => &delete_acls::DELETE_ACLS_REQUEST,
        ApiKey::SaslAuthenticate => &sasl_authenticate::SASL_AUTHENTICATE_REQUEST,
        _ => return None,
    })
}

/// The request header's shape (v1: client id; v2: client id and tagged fields).
pub fn header_shape() -> &'static Shape {
    &shapes::request_header::REQUEST_HEADER
}

/// Walks `buf` as `shape` at `version` and returns the bytes the body occupies, or why a length
/// or count does not fit.
pub fn check(shape: &'static Shape, version: i16, buf: &[u8]) -> Result<usize, BoundError> {
    let mut w = Walker { buf, pos: 0 };
    w.check_struct(shape, version)?;
    Ok(w.pos)
}

struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn has(mask: u32, version: i16) -> bool {
    (0..32).contains(&version) && mask & (1 << version) != 0
}

impl Walker<'_> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize, shape: &'static Shape) -> Result<(), BoundError> {
        if n > self.remaining() {
            return Err(BoundError::Truncated { shape: shape.name });
        }
        self.pos += n;
        Ok(())
    }

    fn fixed<const N: usize>(&mut self, shape: &'static Shape) -> Result<[u8; N], BoundError> {
        let Some(bytes) = self.buf.get(self.pos..self.pos + N) else {
            return Err(BoundError::Truncated { shape: shape.name });
        };
        let mut out = [0; N];
        out.copy_from_slice(bytes);
        self.pos += N;
        Ok(out)
    }

    /// An unsigned varint read as the crate reads it: at most five bytes, high bits dropped.
    fn uvarint(&mut self, shape: &'static Shape) -> Result<u32, BoundError> {
        let mut value = 0u32;
        for i in 0..5 {
            let [b] = self.fixed::<1>(shape)?;
            value |= u32::from(b & 0x7f).wrapping_shl(i * 7);
            if b < 0x80 {
                break;
            }
        }
        Ok(value)
    }

    fn skip_len(&mut self, len: u64, shape: &'static Shape) -> Result<(), BoundError> {
        let remaining = self.remaining();
        if len > remaining as u64 {
            return Err(BoundError::Length {
                shape: shape.name,
                len,
                remaining,
            });
        }
        self.pos += len as usize;
        Ok(())
    }

    fn count(&self, count: u64, shape: &'static Shape) -> Result<(), BoundError> {
        let remaining = self.remaining();
        if count > MAX_COLLECTION_ELEMENTS {
            return Err(BoundError::TooManyElements {
                shape: shape.name,
                count,
            });
        }
        if count > remaining as u64 {
            return Err(BoundError::Collection {
                shape: shape.name,
                count,
                remaining,
            });
        }
        Ok(())
    }

    fn check_struct(&mut self, shape: &'static Shape, version: i16) -> Result<(), BoundError> {
        if !has(shape.versions, version) {
            return Err(BoundError::Version {
                shape: shape.name,
                version,
            });
        }
        for Field(mask, ty) in shape.fields {
            if has(*mask, version) {
                self.check_ty(ty, shape, version)?;
            }
        }
        if has(shape.flexible, version) {
            let tagged = self.uvarint(shape)?;
            for _ in 0..tagged {
                let tag = self.uvarint(shape)?;
                let size = self.uvarint(shape)?;
                match shape.tags.iter().find(|t| t.0 == tag) {
                    Some(Tag(_, mask, ty)) if has(*mask, version) => {
                        self.check_ty(ty, shape, version)?
                    }
                    Some(_) => {
                        return Err(BoundError::InvalidTag {
                            shape: shape.name,
                            tag,
                            version,
                        })
                    }
                    None => self.skip_len(u64::from(size), shape)?,
                }
            }
        }
        Ok(())
    }

    fn check_ty(
        &mut self,
        ty: &'static Ty,
        shape: &'static Shape,
        version: i16,
    ) -> Result<(), BoundError> {
        match ty {
            Ty::Fixed(n) => self.take(*n, shape),
            Ty::Str => {
                let len = i16::from_be_bytes(self.fixed(shape)?);
                if len > 0 {
                    self.skip_len(len as u64, shape)?;
                }
                Ok(())
            }
            Ty::Bytes => {
                let len = i32::from_be_bytes(self.fixed(shape)?);
                if len > 0 {
                    self.skip_len(len as u64, shape)?;
                }
                Ok(())
            }
            Ty::CompactStr | Ty::CompactBytes => {
                let n = self.uvarint(shape)?;
                if n > 1 {
                    self.skip_len(u64::from(n - 1), shape)?;
                }
                Ok(())
            }
            Ty::UVarInt => self.uvarint(shape).map(drop),
            Ty::Array(elem) => {
                let n = i32::from_be_bytes(self.fixed(shape)?);
                if n > 0 {
                    self.elements(n as u64, elem, shape, version)?;
                }
                Ok(())
            }
            Ty::CompactArray(elem) => {
                let n = self.uvarint(shape)?;
                if n > 1 {
                    self.elements(u64::from(n - 1), elem, shape, version)?;
                }
                Ok(())
            }
            Ty::Struct(inner) => self.check_struct(inner, version),
            Ty::OptionStruct(inner) => {
                let [present] = self.fixed::<1>(shape)?;
                if present == 1 {
                    self.check_struct(inner, version)?;
                }
                Ok(())
            }
        }
    }

    fn elements(
        &mut self,
        n: u64,
        elem: &'static Ty,
        shape: &'static Shape,
        version: i16,
    ) -> Result<(), BoundError> {
        self.count(n, shape)?;
        for _ in 0..n {
            self.check_ty(elem, shape, version)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::versions::{ANSWERED_NOT_ADVERTISED, PRODUCE_MIN_ACCEPTED, SERVED};
    use bytes::{Buf, Bytes};
    use kafka_protocol::messages::{RequestHeader, RequestKind};
    use kafka_protocol::protocol::Decodable;
    use std::path::PathBuf;

    /// Frames real clients sent (`shared/wire-captures/{java,other}`) and the frames that
    /// aborted the broker before this check existed (`shared/hostile-frames`). They stay in
    /// shared/ (the captures are third-party bytes); a missing directory fails the test.
    fn frames(dir: &str) -> Vec<(String, Bytes)> {
        let shared = std::env::var_os("KLAMM_SHARED_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
        let path = match dir {
            "hostile" => shared.join("hostile-frames"),
            other => shared.join("wire-captures").join(other),
        };
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")) {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "hex") {
                let text: String = std::fs::read_to_string(&p)
                    .unwrap()
                    .split_whitespace()
                    .collect();
                let bytes: Vec<u8> = (0..text.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                    .collect();
                out.push((
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    Bytes::from(bytes).slice(4..),
                ));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(!out.is_empty(), "no frames in {path:?}");
        out
    }

    /// For a frame of an answered API and version: the walk's and the crate's consumed bytes
    /// for the header and the body, when both succeed. `None` for frames outside our ranges.
    fn both(frame: &Bytes) -> Option<(Result<usize, BoundError>, Option<usize>)> {
        if frame.len() < 4 {
            return None;
        }
        let key = ApiKey::try_from(i16::from_be_bytes([frame[0], frame[1]])).ok()?;
        let version = i16::from_be_bytes([frame[2], frame[3]]);
        let range = crate::versions::answered_range(crate::versions::Compat::Kafka41, key)?;
        let min = if key == ApiKey::Produce {
            PRODUCE_MIN_ACCEPTED
        } else {
            range.min
        };
        if version < min || version > range.max {
            return None;
        }
        let hv = key.request_header_version(version);
        let walked = check(header_shape(), hv, frame)
            .and_then(|h| check(request_shape(key).unwrap(), version, &frame[h..]).map(|b| h + b));
        if walked.is_err() {
            return Some((walked, None));
        }
        let mut buf = frame.clone();
        let decoded = RequestHeader::decode(&mut buf, hv)
            .ok()
            .and_then(|_| RequestKind::decode(key, &mut buf, version).ok())
            .map(|_| frame.len() - buf.remaining());
        Some((walked, decoded))
    }

    #[test]
    fn every_decoded_api_and_version_has_a_shape() {
        for r in SERVED.iter().chain(ANSWERED_NOT_ADVERTISED) {
            let shape = request_shape(r.key).unwrap_or_else(|| panic!("{:?}", r.key));
            let min = if r.key == ApiKey::Produce {
                PRODUCE_MIN_ACCEPTED
            } else {
                r.min
            };
            for v in min..=r.max {
                assert!(has(shape.versions, v), "{:?} v{v}", r.key);
            }
        }
    }

    #[test]
    fn the_walk_consumes_what_the_crate_decodes_for_client_frames() {
        let mut checked = 0;
        for dir in ["java", "other"] {
            for (name, frame) in frames(dir) {
                let Some((walked, decoded)) = both(&frame) else {
                    continue;
                };
                let walked = walked.unwrap_or_else(|e| panic!("{dir}/{name}: {e}"));
                assert_eq!(Some(walked), decoded, "{dir}/{name}");
                checked += 1;
            }
        }
        assert!(checked >= 150, "only {checked} frames checked");
    }

    #[test]
    fn the_frames_that_aborted_the_broker_are_refused() {
        for (name, frame) in frames("hostile") {
            let got = crate::protocol::decode(frame);
            assert!(
                matches!(got, Err(crate::protocol::DecodeError::OutOfBounds { .. })),
                "{name}: {got:?}"
            );
        }
    }

    #[test]
    fn counts_above_the_remaining_bytes_are_refused_in_plain_and_compact_arrays() {
        // Metadata v4: header v1 (client id "c"), topics: 2^31-1 elements, then nothing.
        let mut f = vec![0, 3, 0, 4, 0, 0, 0, 1, 0, 1, b'c'];
        f.extend_from_slice(&i32::MAX.to_be_bytes());
        let got = crate::protocol::decode(Bytes::from(f));
        let Err(crate::protocol::DecodeError::OutOfBounds {
            source, client_id, ..
        }) = got
        else {
            panic!("{got:?}")
        };
        assert_eq!(client_id.as_deref(), Some("c"));
        assert_eq!(
            source,
            BoundError::TooManyElements {
                shape: "MetadataRequest",
                count: i32::MAX as u64
            }
        );
        // Metadata v12 (flexible): header v2, topics: compact count 1001 (1000 elements) with
        // 3 bytes left.
        let f = vec![0, 3, 0, 12, 0, 0, 0, 1, 0, 1, b'c', 0, 0xe9, 0x07, 1, 0, 0];
        let got = crate::protocol::decode(Bytes::from(f));
        let Err(crate::protocol::DecodeError::OutOfBounds { source, .. }) = got else {
            panic!("{got:?}")
        };
        assert_eq!(
            source,
            BoundError::Collection {
                shape: "MetadataRequest",
                count: 1000,
                remaining: 3
            }
        );
        assert_eq!(source.reason(), "collection_size");
    }

    /// A small deterministic generator (xorshift64*), so failures reproduce from the seed.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// Mutates a frame the way the fuzzer that found the aborts did: lengths and counts
    /// replaced, bytes flipped, ranges repeated or cut.
    fn mutate(rng: &mut Rng, frame: &[u8]) -> Vec<u8> {
        let mut f = frame.to_vec();
        if f.len() < 5 {
            return f;
        }
        for _ in 0..1 + rng.below(3) {
            let at = 4 + rng.below(f.len() - 4);
            match rng.below(6) {
                0 => f[at] ^= 1 << rng.below(8),
                1 => {
                    let v: [u8; 4] = match rng.below(4) {
                        0 => i32::MAX.to_be_bytes(),
                        1 => (-1i32).to_be_bytes(),
                        2 => 0x7fff_fff0u32.to_be_bytes(),
                        _ => (rng.next() as u32).to_be_bytes(),
                    };
                    for (i, b) in v.iter().enumerate() {
                        if let Some(x) = f.get_mut(at + i) {
                            *x = *b;
                        }
                    }
                }
                2 => {
                    for (i, b) in [0xff, 0xff, 0xff, 0xff, 0x0f].iter().enumerate() {
                        if let Some(x) = f.get_mut(at + i) {
                            *x = *b;
                        }
                    }
                }
                3 => f.truncate(at),
                4 => {
                    let end = (at + 1 + rng.below(16)).min(f.len());
                    let piece = f[at..end].to_vec();
                    f.splice(at..at, piece);
                }
                _ => f[at] = rng.next() as u8,
            }
            if f.len() < 5 {
                break;
            }
        }
        f
    }

    /// Mutated client frames: the walk never lets through what the crate would read
    /// differently, and decoding never aborts (a failure here would have been an abort).
    #[test]
    fn mutated_frames_are_walked_as_the_crate_decodes_them() {
        let mut rng = Rng(0x5eed_1234_abcd_ef01);
        let mut seeds = frames("java");
        seeds.extend(frames("other"));
        seeds.extend(frames("hostile"));
        let (mut accepted, mut refused) = (0, 0);
        for round in 0..150 {
            for (name, frame) in &seeds {
                let m = Bytes::from(mutate(&mut rng, frame));
                if let Some((walked, decoded)) = both(&m) {
                    match (walked, decoded) {
                        (Ok(w), Some(d)) => {
                            assert_eq!(w, d, "{name} round {round}: {m:?}");
                            accepted += 1;
                        }
                        (Ok(_), None) => accepted += 1,
                        (Err(_), _) => refused += 1,
                    }
                }
                let _ = crate::protocol::decode(m);
            }
        }
        assert!(accepted > 1000 && refused > 1000, "{accepted} {refused}");
    }
}
