//! The share-group records of `__consumer_offsets` in Kafka's schemas
//! (`group-coordinator/src/main/resources/common/message/ShareGroup*{Key,Value}.json`): the key's
//! version is the record type, keys are not flexible, values are version 0 and flexible.
//!
//! | key | record |
//! |----:|--------|
//! | 10 | `ShareGroupMemberMetadata`: a member's rack, client and subscription |
//! | 11 | `ShareGroupMetadata`: the group epoch (and the subscribed topics' metadata hash) |
//! | 14 | `ShareGroupCurrentMemberAssignment`: a member's epochs, state and partitions |
//!
//! Klamm assigns from the current topics directly (no target-assignment or state-partition
//! records: types 12, 13 and 15 are read as tombstone candidates only and otherwise skipped).

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::groups::codec::{CodecError, Reader, Writer};
use crate::log::batch_builder::SimpleRecord;

pub const MEMBER_METADATA_KEY: i16 = 10;
pub const GROUP_METADATA_KEY: i16 = 11;
pub const TARGET_ASSIGNMENT_METADATA_KEY: i16 = 12;
pub const TARGET_ASSIGNMENT_MEMBER_KEY: i16 = 13;
pub const CURRENT_MEMBER_ASSIGNMENT_KEY: i16 = 14;
pub const STATE_PARTITION_METADATA_KEY: i16 = 15;

/// `ShareGroupMemberMetadataValue`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemberMetadata {
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
}

/// `ShareGroupCurrentMemberAssignmentValue`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MemberAssignment {
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    /// `MemberState`: 0 is STABLE, the only state of a share member.
    pub state: i8,
    pub partitions: BTreeMap<Uuid, Vec<i32>>,
}

/// One share-group record; `None` values are tombstones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareRecord {
    GroupMetadata {
        group: String,
        epoch: Option<i32>,
    },
    MemberMetadata {
        group: String,
        member: String,
        value: Option<MemberMetadata>,
    },
    CurrentMemberAssignment {
        group: String,
        member: String,
        value: Option<MemberAssignment>,
    },
}

fn value_writer() -> Writer {
    let mut w = Writer::new();
    w.i16(0);
    w
}

fn write_partitions(w: &mut Writer, parts: &BTreeMap<Uuid, Vec<i32>>) {
    w.compact_array_len(parts.len());
    for (id, ps) in parts {
        w.uuid(*id);
        w.compact_array_len(ps.len());
        for p in ps {
            w.i32(*p);
        }
        w.tagged_fields(&[]);
    }
}

fn read_partitions(r: &mut Reader<'_>) -> Result<BTreeMap<Uuid, Vec<i32>>, CodecError> {
    let n = r.compact_array_len()?;
    if n > r.remaining() {
        return Err(CodecError::Invalid("topic count"));
    }
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let id = r.uuid()?;
        let m = r.compact_array_len()?;
        if m > r.remaining() / 4 {
            return Err(CodecError::Invalid("partition count"));
        }
        let mut ps = Vec::with_capacity(m);
        for _ in 0..m {
            ps.push(r.i32()?);
        }
        r.skip_tagged_fields()?;
        out.insert(id, ps);
    }
    Ok(out)
}

impl ShareRecord {
    pub fn group_id(&self) -> &str {
        match self {
            ShareRecord::GroupMetadata { group, .. }
            | ShareRecord::MemberMetadata { group, .. }
            | ShareRecord::CurrentMemberAssignment { group, .. } => group,
        }
    }

    pub fn encode(&self) -> SimpleRecord {
        let mut k = Writer::new();
        let value = match self {
            ShareRecord::GroupMetadata { group, epoch } => {
                k.i16(GROUP_METADATA_KEY);
                k.string(group);
                epoch.map(|e| {
                    let mut w = value_writer();
                    w.i32(e);
                    w.i64(0); // MetadataHash: not computed by Klamm
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            ShareRecord::MemberMetadata {
                group,
                member,
                value,
            } => {
                k.i16(MEMBER_METADATA_KEY);
                k.string(group);
                k.string(member);
                value.as_ref().map(|v| {
                    let mut w = value_writer();
                    w.compact_nullable_string(v.rack_id.as_deref());
                    w.compact_string(&v.client_id);
                    w.compact_string(&v.client_host);
                    w.compact_array_len(v.subscribed_topic_names.len());
                    for t in &v.subscribed_topic_names {
                        w.compact_string(t);
                    }
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            ShareRecord::CurrentMemberAssignment {
                group,
                member,
                value,
            } => {
                k.i16(CURRENT_MEMBER_ASSIGNMENT_KEY);
                k.string(group);
                k.string(member);
                value.as_ref().map(|v| {
                    let mut w = value_writer();
                    w.i32(v.member_epoch);
                    w.i32(v.previous_member_epoch);
                    w.i8(v.state);
                    write_partitions(&mut w, &v.partitions);
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

    /// Decodes a share-group record whose key type (already read from `k`) is `ty`;
    /// `Ok(None)` for the types Klamm does not keep.
    pub fn decode(
        ty: i16,
        k: &mut Reader<'_>,
        value: Option<&[u8]>,
    ) -> Result<Option<ShareRecord>, CodecError> {
        Ok(Some(match ty {
            GROUP_METADATA_KEY => ShareRecord::GroupMetadata {
                group: k.string()?,
                epoch: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        r.i32()
                    })
                    .transpose()?,
            },
            MEMBER_METADATA_KEY => ShareRecord::MemberMetadata {
                group: k.string()?,
                member: k.string()?,
                value: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        let rack_id = r.compact_nullable_string()?;
                        let client_id = r.compact_string()?;
                        let client_host = r.compact_string()?;
                        let n = r.compact_array_len()?;
                        if n > r.remaining() {
                            return Err(CodecError::Invalid("topic count"));
                        }
                        let mut topics = Vec::with_capacity(n);
                        for _ in 0..n {
                            topics.push(r.compact_string()?);
                        }
                        Ok(MemberMetadata {
                            rack_id,
                            client_id,
                            client_host,
                            subscribed_topic_names: topics,
                        })
                    })
                    .transpose()?,
            },
            CURRENT_MEMBER_ASSIGNMENT_KEY => ShareRecord::CurrentMemberAssignment {
                group: k.string()?,
                member: k.string()?,
                value: value
                    .map(|v| {
                        let mut r = value_reader(v)?;
                        Ok::<_, CodecError>(MemberAssignment {
                            member_epoch: r.i32()?,
                            previous_member_epoch: r.i32()?,
                            state: r.i8()?,
                            partitions: read_partitions(&mut r)?,
                        })
                    })
                    .transpose()?,
            },
            _ => return Ok(None),
        }))
    }
}

/// A value's reader past its version.
fn value_reader(v: &[u8]) -> Result<Reader<'_>, CodecError> {
    let mut r = Reader::new(v);
    r.i16()?;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_records_round_trip() {
        let recs = vec![
            ShareRecord::GroupMetadata {
                group: "g".into(),
                epoch: Some(3),
            },
            ShareRecord::GroupMetadata {
                group: "g".into(),
                epoch: None,
            },
            ShareRecord::MemberMetadata {
                group: "g".into(),
                member: "m".into(),
                value: Some(MemberMetadata {
                    rack_id: None,
                    client_id: "c".into(),
                    client_host: "/127.0.0.1".into(),
                    subscribed_topic_names: vec!["t".into()],
                }),
            },
            ShareRecord::CurrentMemberAssignment {
                group: "g".into(),
                member: "m".into(),
                value: Some(MemberAssignment {
                    member_epoch: 2,
                    previous_member_epoch: 1,
                    state: 0,
                    partitions: BTreeMap::from([(Uuid::from_bytes([1; 16]), vec![0, 1])]),
                }),
            },
        ];
        for r in recs {
            let e = r.encode();
            let key = e.key.unwrap();
            let mut k = Reader::new(&key);
            let ty = k.i16().unwrap();
            assert_eq!(
                ShareRecord::decode(ty, &mut k, e.value.as_deref()).unwrap(),
                Some(r)
            );
        }
        // ShareGroupMetadataValue v0: epoch then metadata hash, then tags.
        let e = ShareRecord::GroupMetadata {
            group: "g".into(),
            epoch: Some(3),
        }
        .encode();
        assert_eq!(
            e.value.unwrap(),
            vec![0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
