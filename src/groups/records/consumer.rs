//! The records of KIP-848 consumer groups in `__consumer_offsets`, in Kafka's schemas
//! (`group-coordinator/src/main/resources/common/message/ConsumerGroup*{Key,Value}.json`): the
//! key's version is the record type, keys are not flexible, every value is version 0 and
//! flexible (compact strings and arrays, tagged fields). A null value is a tombstone.
//!
//! | key | record |
//! |----:|--------|
//! | 3 | `ConsumerGroupMetadata`: group epoch, and (tagged field 0, Kafka 4.1, KIP-1101) the hash of the subscribed topics' metadata |
//! | 4 | `ConsumerGroupPartitionMetadata`: what Kafka wrote before 4.1 instead of the hash; read only to know a tombstone is due |
//! | 5 | `ConsumerGroupMemberMetadata`: a member's subscription |
//! | 6 | `ConsumerGroupTargetAssignmentMetadata`: the target assignment epoch |
//! | 7 | `ConsumerGroupTargetAssignmentMember`: a member's target partitions |
//! | 8 | `ConsumerGroupCurrentMemberAssignment`: a member's epochs, state and partitions |
//! | 16 | `ConsumerGroupRegularExpression`: a subscribed regex resolved to topic names |

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::groups::codec::{CodecError, Reader, Writer};
use crate::groups::modern::member::{
    Assignment, ClassicMemberMetadata, ClassicProtocol, CurrentAssignment, MemberState,
    MemberSubscription,
};
use crate::log::batch_builder::SimpleRecord;

pub const GROUP_METADATA_KEY: i16 = 3;
pub const PARTITION_METADATA_KEY: i16 = 4;
pub const MEMBER_METADATA_KEY: i16 = 5;
pub const TARGET_ASSIGNMENT_METADATA_KEY: i16 = 6;
pub const TARGET_ASSIGNMENT_MEMBER_KEY: i16 = 7;
pub const CURRENT_MEMBER_ASSIGNMENT_KEY: i16 = 8;
pub const REGULAR_EXPRESSION_KEY: i16 = 16;

/// `ConsumerGroupMetadataValue`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupEpoch {
    pub epoch: i32,
    /// KIP-1101's hash of the subscribed topics' metadata; 0 when unknown (not written).
    pub metadata_hash: i64,
}

/// `ConsumerGroupRegularExpressionValue`: the topics a regex matched when it was resolved.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ResolvedRegex {
    pub topics: BTreeSet<String>,
    /// The topic metadata version the resolution used.
    pub version: i64,
    /// When it was resolved (ms).
    pub timestamp: i64,
}

/// One consumer-group record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerRecord {
    GroupMetadata {
        group: String,
        value: Option<GroupEpoch>,
    },
    PartitionMetadata {
        group: String,
        /// Whether a value (rather than a tombstone) was read; its content is not used.
        present: bool,
    },
    MemberMetadata {
        group: String,
        member: String,
        value: Option<MemberSubscription>,
    },
    TargetAssignmentMetadata {
        group: String,
        value: Option<i32>,
    },
    TargetAssignmentMember {
        group: String,
        member: String,
        value: Option<Assignment>,
    },
    CurrentMemberAssignment {
        group: String,
        member: String,
        value: Option<CurrentAssignment>,
    },
    RegularExpression {
        group: String,
        regex: String,
        value: Option<ResolvedRegex>,
    },
}

impl ConsumerRecord {
    pub fn group_id(&self) -> &str {
        match self {
            ConsumerRecord::GroupMetadata { group, .. }
            | ConsumerRecord::PartitionMetadata { group, .. }
            | ConsumerRecord::MemberMetadata { group, .. }
            | ConsumerRecord::TargetAssignmentMetadata { group, .. }
            | ConsumerRecord::TargetAssignmentMember { group, .. }
            | ConsumerRecord::CurrentMemberAssignment { group, .. }
            | ConsumerRecord::RegularExpression { group, .. } => group,
        }
    }

    pub fn is_tombstone(&self) -> bool {
        match self {
            ConsumerRecord::GroupMetadata { value, .. } => value.is_none(),
            ConsumerRecord::PartitionMetadata { present, .. } => !present,
            ConsumerRecord::MemberMetadata { value, .. } => value.is_none(),
            ConsumerRecord::TargetAssignmentMetadata { value, .. } => value.is_none(),
            ConsumerRecord::TargetAssignmentMember { value, .. } => value.is_none(),
            ConsumerRecord::CurrentMemberAssignment { value, .. } => value.is_none(),
            ConsumerRecord::RegularExpression { value, .. } => value.is_none(),
        }
    }

    /// Key and value bytes as Kafka writes them.
    pub fn encode(&self) -> SimpleRecord {
        let mut k = Writer::new();
        let value = match self {
            ConsumerRecord::GroupMetadata { group, value } => {
                k.i16(GROUP_METADATA_KEY);
                k.string(group);
                value.as_ref().map(encode_group_epoch)
            }
            ConsumerRecord::PartitionMetadata { group, present } => {
                k.i16(PARTITION_METADATA_KEY);
                k.string(group);
                // Only ever written as a tombstone; an empty topic list otherwise.
                present.then(|| {
                    let mut w = Writer::new();
                    w.i16(0);
                    w.compact_array_len(0);
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            ConsumerRecord::MemberMetadata {
                group,
                member,
                value,
            } => {
                k.i16(MEMBER_METADATA_KEY);
                k.string(group);
                k.string(member);
                value.as_ref().map(encode_member_subscription)
            }
            ConsumerRecord::TargetAssignmentMetadata { group, value } => {
                k.i16(TARGET_ASSIGNMENT_METADATA_KEY);
                k.string(group);
                value.map(|epoch| {
                    let mut w = Writer::new();
                    w.i16(0);
                    w.i32(epoch);
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            ConsumerRecord::TargetAssignmentMember {
                group,
                member,
                value,
            } => {
                k.i16(TARGET_ASSIGNMENT_MEMBER_KEY);
                k.string(group);
                k.string(member);
                value.as_ref().map(|a| {
                    let mut w = Writer::new();
                    w.i16(0);
                    write_topic_partitions(&mut w, a);
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            ConsumerRecord::CurrentMemberAssignment {
                group,
                member,
                value,
            } => {
                k.i16(CURRENT_MEMBER_ASSIGNMENT_KEY);
                k.string(group);
                k.string(member);
                value.as_ref().map(encode_current_assignment)
            }
            ConsumerRecord::RegularExpression {
                group,
                regex,
                value,
            } => {
                k.i16(REGULAR_EXPRESSION_KEY);
                k.string(group);
                k.string(regex);
                value.as_ref().map(|v| {
                    let mut w = Writer::new();
                    w.i16(0);
                    w.compact_array_len(v.topics.len());
                    for t in &v.topics {
                        w.compact_string(t);
                    }
                    w.i64(v.version);
                    w.i64(v.timestamp);
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
        };
        SimpleRecord {
            key: Some(k.into_vec()),
            value,
        }
    }

    /// Decodes a record whose key version (already read from `k`) is a consumer-group type;
    /// `Ok(None)` for other types.
    pub fn decode(
        key_version: i16,
        k: &mut Reader<'_>,
        value: Option<&[u8]>,
    ) -> Result<Option<ConsumerRecord>, CodecError> {
        let r = match key_version {
            GROUP_METADATA_KEY => ConsumerRecord::GroupMetadata {
                group: k.string()?,
                value: value.map(decode_group_epoch).transpose()?,
            },
            PARTITION_METADATA_KEY => ConsumerRecord::PartitionMetadata {
                group: k.string()?,
                present: value.is_some(),
            },
            MEMBER_METADATA_KEY => ConsumerRecord::MemberMetadata {
                group: k.string()?,
                member: k.string()?,
                value: value.map(decode_member_subscription).transpose()?,
            },
            TARGET_ASSIGNMENT_METADATA_KEY => ConsumerRecord::TargetAssignmentMetadata {
                group: k.string()?,
                value: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        let epoch = r.i32()?;
                        r.skip_tagged_fields()?;
                        Ok::<_, CodecError>(epoch)
                    })
                    .transpose()?,
            },
            TARGET_ASSIGNMENT_MEMBER_KEY => ConsumerRecord::TargetAssignmentMember {
                group: k.string()?,
                member: k.string()?,
                value: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        let a = read_topic_partitions(&mut r)?;
                        r.skip_tagged_fields()?;
                        Ok::<_, CodecError>(a)
                    })
                    .transpose()?,
            },
            CURRENT_MEMBER_ASSIGNMENT_KEY => ConsumerRecord::CurrentMemberAssignment {
                group: k.string()?,
                member: k.string()?,
                value: value.map(decode_current_assignment).transpose()?,
            },
            REGULAR_EXPRESSION_KEY => ConsumerRecord::RegularExpression {
                group: k.string()?,
                regex: k.string()?,
                value: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        let n = r.compact_array_len()?;
                        if n > r.remaining() {
                            return Err(CodecError::Truncated("topics"));
                        }
                        let mut topics = BTreeSet::new();
                        for _ in 0..n {
                            topics.insert(r.compact_string()?);
                        }
                        let version = r.i64()?;
                        let timestamp = r.i64()?;
                        r.skip_tagged_fields()?;
                        Ok(ResolvedRegex {
                            topics,
                            version,
                            timestamp,
                        })
                    })
                    .transpose()?,
            },
            _ => return Ok(None),
        };
        Ok(Some(r))
    }
}

/// A value's reader past its version (any non-negative version reads as version 0, plus
/// tagged fields it does not know: KIP-915).
fn value_reader(v: &[u8]) -> Result<Reader<'_>, CodecError> {
    let mut r = Reader::new(v);
    if r.i16()? < 0 {
        return Err(CodecError::Invalid("record value version"));
    }
    Ok(r)
}

fn encode_group_epoch(v: &GroupEpoch) -> Vec<u8> {
    let mut w = Writer::new();
    w.i16(0);
    w.i32(v.epoch);
    if v.metadata_hash != 0 {
        w.tagged_fields(&[(0, v.metadata_hash.to_be_bytes().to_vec())]);
    } else {
        w.tagged_fields(&[]);
    }
    w.into_vec()
}

fn decode_group_epoch(v: &[u8]) -> Result<GroupEpoch, CodecError> {
    let mut r = value_reader(v)?;
    let epoch = r.i32()?;
    let mut metadata_hash = 0;
    for _ in 0..r.uvarint()? {
        let tag = r.uvarint()?;
        let size = r.uvarint()? as usize;
        let bytes = r.raw(size, "tagged field")?;
        if tag == 0 {
            metadata_hash = Reader::new(bytes).i64()?;
        }
    }
    Ok(GroupEpoch {
        epoch,
        metadata_hash,
    })
}

fn encode_member_subscription(v: &MemberSubscription) -> Vec<u8> {
    let mut w = Writer::new();
    w.i16(0);
    w.compact_nullable_string(v.instance_id.as_deref());
    w.compact_nullable_string(v.rack_id.as_deref());
    w.compact_string(&v.client_id);
    w.compact_string(&v.client_host);
    w.compact_array_len(v.subscribed_topic_names.len());
    for t in &v.subscribed_topic_names {
        w.compact_string(t);
    }
    w.compact_nullable_string(v.subscribed_topic_regex.as_deref());
    w.i32(v.rebalance_timeout_ms);
    w.compact_nullable_string(v.server_assignor.as_deref());
    match &v.classic {
        None => w.tagged_fields(&[]),
        Some(c) => {
            // A nullable struct: a presence byte (1), then the struct.
            let mut s = Writer::new();
            s.i8(1);
            s.i32(c.session_timeout_ms);
            s.compact_array_len(c.supported_protocols.len());
            for p in &c.supported_protocols {
                s.compact_string(&p.name);
                s.compact_bytes(&p.metadata);
                s.tagged_fields(&[]);
            }
            s.tagged_fields(&[]);
            w.tagged_fields(&[(0, s.into_vec())]);
        }
    }
    w.into_vec()
}

fn decode_member_subscription(v: &[u8]) -> Result<MemberSubscription, CodecError> {
    let mut r = value_reader(v)?;
    let instance_id = r.compact_nullable_string()?;
    let rack_id = r.compact_nullable_string()?;
    let client_id = r.compact_string()?;
    let client_host = r.compact_string()?;
    let n = r.compact_array_len()?;
    if n > r.remaining() {
        return Err(CodecError::Truncated("subscribed topic names"));
    }
    let mut subscribed_topic_names = BTreeSet::new();
    for _ in 0..n {
        subscribed_topic_names.insert(r.compact_string()?);
    }
    let subscribed_topic_regex = r.compact_nullable_string()?.filter(|s| !s.is_empty());
    let rebalance_timeout_ms = r.i32()?;
    let server_assignor = r.compact_nullable_string()?;
    let mut classic = None;
    for _ in 0..r.uvarint()? {
        let tag = r.uvarint()?;
        let size = r.uvarint()? as usize;
        let bytes = r.raw(size, "tagged field")?;
        if tag == 0 {
            classic = decode_classic(bytes)?;
        }
    }
    Ok(MemberSubscription {
        instance_id,
        rack_id,
        client_id,
        client_host,
        subscribed_topic_names,
        subscribed_topic_regex,
        rebalance_timeout_ms,
        server_assignor,
        classic,
    })
}

fn decode_classic(b: &[u8]) -> Result<Option<ClassicMemberMetadata>, CodecError> {
    let mut r = Reader::new(b);
    if r.i8()? < 0 {
        return Ok(None);
    }
    let session_timeout_ms = r.i32()?;
    let n = r.compact_array_len()?;
    if n > r.remaining() {
        return Err(CodecError::Truncated("supported protocols"));
    }
    let mut supported_protocols = Vec::with_capacity(n);
    for _ in 0..n {
        let name = r.compact_string()?;
        let metadata = r.compact_bytes()?;
        r.skip_tagged_fields()?;
        supported_protocols.push(ClassicProtocol { name, metadata });
    }
    r.skip_tagged_fields()?;
    Ok(Some(ClassicMemberMetadata {
        session_timeout_ms,
        supported_protocols,
    }))
}

fn encode_current_assignment(v: &CurrentAssignment) -> Vec<u8> {
    let mut w = Writer::new();
    w.i16(0);
    w.i32(v.member_epoch);
    w.i32(v.previous_member_epoch);
    w.i8(v.state.value());
    write_topic_partitions(&mut w, &v.assigned_partitions);
    write_topic_partitions(&mut w, &v.partitions_pending_revocation);
    w.tagged_fields(&[]);
    w.into_vec()
}

fn decode_current_assignment(v: &[u8]) -> Result<CurrentAssignment, CodecError> {
    let mut r = value_reader(v)?;
    let member_epoch = r.i32()?;
    let previous_member_epoch = r.i32()?;
    let state = MemberState::from_value(r.i8()?);
    let assigned_partitions = read_topic_partitions(&mut r)?;
    let partitions_pending_revocation = read_topic_partitions(&mut r)?;
    r.skip_tagged_fields()?;
    Ok(CurrentAssignment {
        member_epoch,
        previous_member_epoch,
        state,
        assigned_partitions,
        partitions_pending_revocation,
    })
}

/// `[]TopicPartitions` of the assignment records: topic id, partitions, tagged fields.
fn write_topic_partitions(w: &mut Writer, a: &Assignment) {
    w.compact_array_len(a.len());
    for (topic, partitions) in a {
        w.uuid(*topic);
        w.compact_array_len(partitions.len());
        for p in partitions {
            w.i32(*p);
        }
        w.tagged_fields(&[]);
    }
}

fn read_topic_partitions(r: &mut Reader<'_>) -> Result<Assignment, CodecError> {
    let n = r.compact_array_len()?;
    if n > r.remaining() {
        return Err(CodecError::Truncated("topic partitions"));
    }
    let mut a = Assignment::new();
    for _ in 0..n {
        let topic: Uuid = r.uuid()?;
        let m = r.compact_array_len()?;
        if m > r.remaining() {
            return Err(CodecError::Truncated("partitions"));
        }
        let mut partitions = BTreeSet::new();
        for _ in 0..m {
            partitions.insert(r.i32()?);
        }
        r.skip_tagged_fields()?;
        if !partitions.is_empty() {
            a.entry(topic).or_default().extend(partitions);
        }
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::codec::Reader;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn roundtrip(r: ConsumerRecord) -> SimpleRecord {
        let s = r.encode();
        let key = s.key.clone().unwrap();
        let mut k = Reader::new(&key);
        let version = k.i16().unwrap();
        let back = ConsumerRecord::decode(version, &mut k, s.value.as_deref()).unwrap();
        assert_eq!(back, Some(r));
        if let Some(v) = &s.value {
            for cut in 0..v.len() {
                let mut k = Reader::new(&key);
                let version = k.i16().unwrap();
                assert!(
                    ConsumerRecord::decode(version, &mut k, Some(&v[..cut])).is_err(),
                    "cut at {cut}"
                );
            }
        }
        s
    }

    #[test]
    fn group_metadata_matches_kafkas_bytes() {
        // Kafka 4.1: ConsumerGroupMetadataValue().setEpoch(7) is 0000 00000007 00; with a
        // metadata hash, tagged field 0 holds the int64.
        let s = roundtrip(ConsumerRecord::GroupMetadata {
            group: "g1".into(),
            value: Some(GroupEpoch {
                epoch: 7,
                metadata_hash: 0,
            }),
        });
        assert_eq!(hex(s.key.as_ref().unwrap()), "000300026731");
        assert_eq!(hex(s.value.as_ref().unwrap()), "00000000000700");
        let s = roundtrip(ConsumerRecord::GroupMetadata {
            group: "g1".into(),
            value: Some(GroupEpoch {
                epoch: 7,
                metadata_hash: 0x1122334455667788,
            }),
        });
        assert_eq!(
            hex(s.value.as_ref().unwrap()),
            "0000000000070100081122334455667788"
        );
        roundtrip(ConsumerRecord::GroupMetadata {
            group: "g1".into(),
            value: None,
        });
    }

    #[test]
    fn member_records_round_trip() {
        let topic = Uuid::from_u128(0x0102030405060708090a0b0c0d0e0f10);
        let s = roundtrip(ConsumerRecord::MemberMetadata {
            group: "g1".into(),
            member: "m1".into(),
            value: Some(MemberSubscription {
                instance_id: None,
                rack_id: None,
                client_id: "c".into(),
                client_host: "h".into(),
                subscribed_topic_names: ["t".to_string()].into(),
                subscribed_topic_regex: None,
                rebalance_timeout_ms: 1000,
                server_assignor: None,
                classic: None,
            }),
        });
        assert_eq!(hex(s.key.as_ref().unwrap()), "00050002673100026d31");
        assert_eq!(
            hex(s.value.as_ref().unwrap()),
            "000000000263026802027400000003e80000"
        );
        roundtrip(ConsumerRecord::MemberMetadata {
            group: "g1".into(),
            member: "m1".into(),
            value: Some(MemberSubscription {
                instance_id: Some("i".into()),
                rack_id: Some("r".into()),
                client_id: "c".into(),
                client_host: "/127.0.0.1".into(),
                subscribed_topic_names: BTreeSet::new(),
                subscribed_topic_regex: Some("t.*".into()),
                rebalance_timeout_ms: 300000,
                server_assignor: Some("range".into()),
                classic: Some(ClassicMemberMetadata {
                    session_timeout_ms: 45000,
                    supported_protocols: vec![ClassicProtocol {
                        name: "range".into(),
                        metadata: vec![0, 1, 2],
                    }],
                }),
            }),
        });
        let mut a = Assignment::new();
        a.insert(topic, [0, 2].into());
        let s = roundtrip(ConsumerRecord::TargetAssignmentMember {
            group: "g1".into(),
            member: "m1".into(),
            value: Some(a.clone()),
        });
        assert_eq!(
            hex(s.value.as_ref().unwrap()),
            format!(
                "000002{}03000000000000000200{}",
                hex(topic.as_bytes()),
                "00"
            )
        );
        roundtrip(ConsumerRecord::CurrentMemberAssignment {
            group: "g1".into(),
            member: "m1".into(),
            value: Some(CurrentAssignment {
                member_epoch: 5,
                previous_member_epoch: 4,
                state: MemberState::UnrevokedPartitions,
                assigned_partitions: a.clone(),
                partitions_pending_revocation: a,
            }),
        });
        roundtrip(ConsumerRecord::TargetAssignmentMetadata {
            group: "g1".into(),
            value: Some(3),
        });
        roundtrip(ConsumerRecord::RegularExpression {
            group: "g1".into(),
            regex: "t.*".into(),
            value: Some(ResolvedRegex {
                topics: ["t1".to_string(), "t2".to_string()].into(),
                version: 9,
                timestamp: 12,
            }),
        });
        roundtrip(ConsumerRecord::CurrentMemberAssignment {
            group: "g1".into(),
            member: "m1".into(),
            value: None,
        });
    }

    #[test]
    fn unknown_member_state_and_newer_tags_are_tolerated() {
        let mut w = Writer::new();
        w.i16(1); // a newer value version
        w.i32(3);
        w.i32(2);
        w.i8(42); // a state this coordinator does not know
        w.compact_array_len(0);
        w.compact_array_len(0);
        w.tagged_fields(&[(5, vec![1, 2, 3])]);
        let v = decode_current_assignment(&w.into_vec()).unwrap();
        assert_eq!(v.state, MemberState::Unknown);
        assert_eq!(v.member_epoch, 3);
    }
}
