//! The records of `__consumer_offsets`, in Kafka's own schemas and byte layout
//! (`group-coordinator/src/main/resources/common/message/{OffsetCommit,GroupMetadata}{Key,Value}.json`,
//! serialised as Kafka's `CoordinatorRecordSerde` does: an `int16` version, then the fields).
//!
//! The key's version says the record type: 0 and 1 are `OffsetCommitKey`, 2 is
//! `GroupMetadataKey`; 3-8 and 16 are KIP-848 consumer-group records ([`consumer`]); 10, 11
//! and 14 are KIP-932 share-group records ([`crate::groups::share::records`]); the other share
//! and the streams group types are skipped, as Kafka skips types it does not know. A null value is
//! a tombstone. Values are written at the versions Kafka 4 writes: `OffsetCommitValue` v3 (v1 when
//! the commit carries an explicit expire timestamp) and `GroupMetadataValue` v3. Any version up to
//! 4 (the first flexible one) is read, and a newer value version is read as the newest known one
//! (KIP-915).

pub mod consumer;

use crate::groups::share::records::ShareRecord;

use crate::groups::codec::{CodecError, Reader, Writer};
use crate::log::batch_builder::SimpleRecord;

pub use consumer::ConsumerRecord;

const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
const GROUP_METADATA_KEY_VERSION: i16 = 2;
const GROUP_METADATA_VALUE_VERSION: i16 = 3;
const LATEST_VALUE_VERSION: i16 = 4;

/// `OffsetCommitKey`: which group's offset for which partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OffsetCommitKey {
    pub group: String,
    pub topic: String,
    pub partition: i32,
}

/// `OffsetCommitValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitValue {
    pub offset: i64,
    /// -1 when unknown (`RecordBatch.NO_PARTITION_LEADER_EPOCH`).
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
    /// -1 unless an OffsetCommit v2-4 asked for an explicit retention time.
    pub expire_timestamp: i64,
}

/// `GroupMetadataKey`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadataKey {
    pub group: String,
}

/// `GroupMetadataValue`: a classic group as of its last rebalance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadataValue {
    pub protocol_type: String,
    pub generation: i32,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    /// -1 when unknown (values before v2).
    pub current_state_timestamp: i64,
    pub members: Vec<MemberMetadata>,
}

/// `GroupMetadataValue.MemberMetadata`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberMetadata {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    /// -1 when unknown (v0 values).
    pub rebalance_timeout: i32,
    pub session_timeout: i32,
    pub subscription: Vec<u8>,
    pub assignment: Vec<u8>,
}

/// One record of `__consumer_offsets` that this coordinator understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoordinatorRecord {
    OffsetCommit {
        key: OffsetCommitKey,
        value: Option<OffsetCommitValue>,
    },
    GroupMetadata {
        key: GroupMetadataKey,
        value: Option<GroupMetadataValue>,
    },
    /// A KIP-848 consumer-group record.
    Consumer(ConsumerRecord),
    /// A KIP-932 share-group record (types 10, 11, 14).
    Share(ShareRecord),
}

impl CoordinatorRecord {
    pub fn offset_commit(
        group: &str,
        topic: &str,
        partition: i32,
        value: OffsetCommitValue,
    ) -> Self {
        CoordinatorRecord::OffsetCommit {
            key: OffsetCommitKey {
                group: group.to_string(),
                topic: topic.to_string(),
                partition,
            },
            value: Some(value),
        }
    }

    pub fn offset_tombstone(group: &str, topic: &str, partition: i32) -> Self {
        CoordinatorRecord::OffsetCommit {
            key: OffsetCommitKey {
                group: group.to_string(),
                topic: topic.to_string(),
                partition,
            },
            value: None,
        }
    }

    pub fn group_metadata(group: &str, value: GroupMetadataValue) -> Self {
        CoordinatorRecord::GroupMetadata {
            key: GroupMetadataKey {
                group: group.to_string(),
            },
            value: Some(value),
        }
    }

    pub fn group_tombstone(group: &str) -> Self {
        CoordinatorRecord::GroupMetadata {
            key: GroupMetadataKey {
                group: group.to_string(),
            },
            value: None,
        }
    }

    /// The group this record belongs to.
    pub fn group_id(&self) -> &str {
        match self {
            CoordinatorRecord::OffsetCommit { key, .. } => &key.group,
            CoordinatorRecord::GroupMetadata { key, .. } => &key.group,
            CoordinatorRecord::Consumer(r) => r.group_id(),
            CoordinatorRecord::Share(r) => r.group_id(),
        }
    }

    /// Key and value bytes as Kafka writes them.
    pub fn encode(&self) -> SimpleRecord {
        match self {
            CoordinatorRecord::OffsetCommit { key, value } => {
                let mut k = Writer::new();
                k.i16(OFFSET_COMMIT_KEY_VERSION);
                k.string(&key.group);
                k.string(&key.topic);
                k.i32(key.partition);
                SimpleRecord {
                    key: Some(k.into_vec()),
                    value: value.as_ref().map(encode_offset_commit_value),
                }
            }
            CoordinatorRecord::GroupMetadata { key, value } => {
                let mut k = Writer::new();
                k.i16(GROUP_METADATA_KEY_VERSION);
                k.string(&key.group);
                SimpleRecord {
                    key: Some(k.into_vec()),
                    value: value.as_ref().map(encode_group_metadata_value),
                }
            }
            CoordinatorRecord::Consumer(r) => r.encode(),
            CoordinatorRecord::Share(r) => r.encode(),
        }
    }

    /// Decodes a record read from the log. `Ok(None)`: a record type this coordinator does not
    /// handle (share and streams groups), to be skipped.
    pub fn decode(
        key: &[u8],
        value: Option<&[u8]>,
    ) -> Result<Option<CoordinatorRecord>, CodecError> {
        let mut k = Reader::new(key);
        match k.i16()? {
            0 | 1 => {
                let key = OffsetCommitKey {
                    group: k.string()?,
                    topic: k.string()?,
                    partition: k.i32()?,
                };
                let value = value.map(decode_offset_commit_value).transpose()?;
                Ok(Some(CoordinatorRecord::OffsetCommit { key, value }))
            }
            2 => {
                let key = GroupMetadataKey { group: k.string()? };
                let value = value.map(decode_group_metadata_value).transpose()?;
                Ok(Some(CoordinatorRecord::GroupMetadata { key, value }))
            }
            v @ 10..=15 => Ok(ShareRecord::decode(v, &mut k, value)?.map(CoordinatorRecord::Share)),
            v if v >= 3 => {
                Ok(ConsumerRecord::decode(v, &mut k, value)?.map(CoordinatorRecord::Consumer))
            }
            _ => Err(CodecError::Invalid("record key version")),
        }
    }
}

/// `MetadataVersion.offsetCommitValueVersion`: v1 carries an explicit expire timestamp, v3 the
/// leader epoch.
fn encode_offset_commit_value(v: &OffsetCommitValue) -> Vec<u8> {
    let mut w = Writer::new();
    if v.expire_timestamp >= 0 {
        w.i16(1);
        w.i64(v.offset);
        w.string(&v.metadata);
        w.i64(v.commit_timestamp);
        w.i64(v.expire_timestamp);
    } else {
        w.i16(3);
        w.i64(v.offset);
        w.i32(v.leader_epoch);
        w.string(&v.metadata);
        w.i64(v.commit_timestamp);
    }
    w.into_vec()
}

fn decode_offset_commit_value(bytes: &[u8]) -> Result<OffsetCommitValue, CodecError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    if version < 0 {
        return Err(CodecError::Invalid("OffsetCommitValue version"));
    }
    let version = version.min(LATEST_VALUE_VERSION);
    let offset = r.i64()?;
    let leader_epoch = if version >= 3 { r.i32()? } else { -1 };
    let metadata = if version >= 4 {
        r.compact_string()?
    } else {
        r.string()?
    };
    let commit_timestamp = r.i64()?;
    let expire_timestamp = if version == 1 { r.i64()? } else { -1 };
    if version >= 4 {
        r.skip_tagged_fields()?;
    }
    Ok(OffsetCommitValue {
        offset,
        leader_epoch,
        metadata,
        commit_timestamp,
        expire_timestamp,
    })
}

fn encode_group_metadata_value(v: &GroupMetadataValue) -> Vec<u8> {
    let mut w = Writer::new();
    w.i16(GROUP_METADATA_VALUE_VERSION);
    w.string(&v.protocol_type);
    w.i32(v.generation);
    w.nullable_string(v.protocol.as_deref());
    w.nullable_string(v.leader.as_deref());
    w.i64(v.current_state_timestamp);
    w.i32(v.members.len() as i32);
    for m in &v.members {
        w.string(&m.member_id);
        w.nullable_string(m.group_instance_id.as_deref());
        w.string(&m.client_id);
        w.string(&m.client_host);
        w.i32(m.rebalance_timeout);
        w.i32(m.session_timeout);
        w.bytes(&m.subscription);
        w.bytes(&m.assignment);
    }
    w.into_vec()
}

fn decode_group_metadata_value(bytes: &[u8]) -> Result<GroupMetadataValue, CodecError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    if version < 0 {
        return Err(CodecError::Invalid("GroupMetadataValue version"));
    }
    let version = version.min(LATEST_VALUE_VERSION);
    let flexible = version >= 4;
    let string = |r: &mut Reader<'_>| {
        if flexible {
            r.compact_string()
        } else {
            r.string()
        }
    };
    let nullable = |r: &mut Reader<'_>| {
        if flexible {
            r.compact_nullable_string()
        } else {
            r.nullable_string()
        }
    };
    let protocol_type = string(&mut r)?;
    let generation = r.i32()?;
    let protocol = nullable(&mut r)?;
    let leader = nullable(&mut r)?;
    let current_state_timestamp = if version >= 2 { r.i64()? } else { -1 };
    let count = if flexible {
        r.compact_array_len()?
    } else {
        r.array_len()?
    };
    if count > r.remaining() {
        return Err(CodecError::Truncated("members"));
    }
    let mut members = Vec::with_capacity(count);
    for _ in 0..count {
        let member_id = string(&mut r)?;
        let group_instance_id = if version >= 3 {
            nullable(&mut r)?
        } else {
            None
        };
        let client_id = string(&mut r)?;
        let client_host = string(&mut r)?;
        let rebalance_timeout = if version >= 1 { r.i32()? } else { -1 };
        let session_timeout = r.i32()?;
        let subscription = if flexible {
            r.compact_bytes()?
        } else {
            r.bytes()?
        };
        let assignment = if flexible {
            r.compact_bytes()?
        } else {
            r.bytes()?
        };
        if flexible {
            r.skip_tagged_fields()?;
        }
        members.push(MemberMetadata {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout,
            session_timeout,
            subscription,
            assignment,
        });
    }
    if flexible {
        r.skip_tagged_fields()?;
    }
    Ok(GroupMetadataValue {
        protocol_type,
        generation,
        protocol,
        leader,
        current_state_timestamp,
        members,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn offset_commit_bytes_match_kafkas_layout() {
        let r = CoordinatorRecord::offset_commit(
            "g",
            "t",
            3,
            OffsetCommitValue {
                offset: 42,
                leader_epoch: 0,
                metadata: "m".into(),
                commit_timestamp: 1000,
                expire_timestamp: -1,
            },
        );
        let s = r.encode();
        // version 1, "g", "t", partition 3
        assert_eq!(hex(s.key.as_ref().unwrap()), "000100016700017400000003");
        // version 3, offset 42, epoch 0, "m", commit timestamp 1000
        assert_eq!(
            hex(s.value.as_ref().unwrap()),
            "0003000000000000002a0000000000016d00000000000003e8"
        );
        let back = CoordinatorRecord::decode(s.key.as_ref().unwrap(), s.value.as_deref()).unwrap();
        assert_eq!(back, Some(r));
    }

    #[test]
    fn explicit_expire_timestamp_writes_version_1() {
        let v = OffsetCommitValue {
            offset: 1,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 5,
            expire_timestamp: 9,
        };
        let r = CoordinatorRecord::offset_commit("g", "t", 0, v.clone());
        let s = r.encode();
        let value = s.value.unwrap();
        assert_eq!(&value[..2], &[0, 1]);
        assert_eq!(value.len(), 2 + 8 + 2 + 8 + 8);
        let back = CoordinatorRecord::decode(&s.key.unwrap(), Some(&value)).unwrap();
        assert_eq!(back, Some(r));
    }

    #[test]
    fn older_offset_values_and_tombstones_decode() {
        let key = CoordinatorRecord::offset_tombstone("g", "t", 0)
            .encode()
            .key
            .unwrap();
        // v0: offset, metadata, commit timestamp.
        let mut w = Writer::new();
        w.i16(0);
        w.i64(7);
        w.string("meta");
        w.i64(11);
        let v0 = w.into_vec();
        match CoordinatorRecord::decode(&key, Some(&v0)).unwrap() {
            Some(CoordinatorRecord::OffsetCommit { value: Some(v), .. }) => {
                assert_eq!(
                    (
                        v.offset,
                        v.leader_epoch,
                        v.metadata.as_str(),
                        v.commit_timestamp
                    ),
                    (7, -1, "meta", 11)
                );
            }
            other => panic!("{other:?}"),
        }
        // v4 (flexible): compact metadata and an empty tagged-field section.
        let mut v4 = vec![0, 4];
        v4.extend_from_slice(&8i64.to_be_bytes());
        v4.extend_from_slice(&2i32.to_be_bytes());
        v4.extend_from_slice(&[3, b'h', b'i']);
        v4.extend_from_slice(&12i64.to_be_bytes());
        v4.push(0);
        match CoordinatorRecord::decode(&key, Some(&v4)).unwrap() {
            Some(CoordinatorRecord::OffsetCommit { value: Some(v), .. }) => {
                assert_eq!(
                    (v.offset, v.leader_epoch, v.metadata.as_str()),
                    (8, 2, "hi")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            CoordinatorRecord::decode(&key, None).unwrap(),
            Some(CoordinatorRecord::offset_tombstone("g", "t", 0))
        );
        // Share-group records Klamm does not keep (target assignment, state partitions) are
        // skipped; a truncated share member record is an error; garbage is an error.
        assert_eq!(
            CoordinatorRecord::decode(&[0, 12, 0, 1, b'g'], Some(&[0, 0])).unwrap(),
            None
        );
        assert!(CoordinatorRecord::decode(&[0, 10, 0, 1, b'g'], Some(&[0, 0])).is_err());
        assert!(CoordinatorRecord::decode(&[0, 1, 0], None).is_err());
        assert!(CoordinatorRecord::decode(&key, Some(&v0[..5])).is_err());
    }

    #[test]
    fn group_metadata_roundtrip_and_layout() {
        let value = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 5,
            protocol: Some("range".into()),
            leader: Some("m1".into()),
            current_state_timestamp: 99,
            members: vec![MemberMetadata {
                member_id: "m1".into(),
                group_instance_id: None,
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                rebalance_timeout: 300000,
                session_timeout: 45000,
                subscription: vec![0, 1],
                assignment: vec![2],
            }],
        };
        let r = CoordinatorRecord::group_metadata("grp", value.clone());
        let s = r.encode();
        assert_eq!(hex(s.key.as_ref().unwrap()), "00020003677270");
        let v = s.value.as_ref().unwrap();
        assert_eq!(&v[..2], &[0, 3]);
        let back = CoordinatorRecord::decode(s.key.as_ref().unwrap(), Some(v)).unwrap();
        assert_eq!(back, Some(r));
        for cut in 0..v.len() {
            assert!(CoordinatorRecord::decode(s.key.as_ref().unwrap(), Some(&v[..cut])).is_err());
        }
    }

    #[test]
    fn group_metadata_v0_decodes_with_defaults() {
        let mut w = Writer::new();
        w.i16(0);
        w.string("consumer");
        w.i32(1);
        w.nullable_string(Some("range"));
        w.nullable_string(Some("m"));
        w.i32(1);
        w.string("m");
        w.string("c");
        w.string("h");
        w.i32(10000);
        w.bytes(&[1]);
        w.bytes(&[2]);
        let key = CoordinatorRecord::group_tombstone("g")
            .encode()
            .key
            .unwrap();
        match CoordinatorRecord::decode(&key, Some(&w.into_vec())).unwrap() {
            Some(CoordinatorRecord::GroupMetadata { value: Some(v), .. }) => {
                assert_eq!(v.current_state_timestamp, -1);
                assert_eq!(v.members[0].rebalance_timeout, -1);
                assert_eq!(v.members[0].session_timeout, 10000);
            }
            other => panic!("{other:?}"),
        }
    }
}
