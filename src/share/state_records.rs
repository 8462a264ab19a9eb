//! The records of `__share_group_state` in Kafka's schemas (`share-coordinator/src/main/resources/
//! common/message/Share{Snapshot,Update}{Key,Value}.json`), serialised as Kafka's
//! `CoordinatorRecordSerde` does: the key is an `int16` record type then the key struct (not
//! flexible), the value an `int16` version (0) then the value struct (flexible). A null value
//! is a tombstone of the key's state.
//!
//! | type | record |
//! |----:|--------|
//! | 0 | `ShareSnapshot`: the whole state of one share partition (start offset, epochs, batches) |
//! | 1 | `ShareUpdate`: batches changed since the snapshot (and the start offset), merged on replay |

use uuid::Uuid;

use crate::groups::codec::{CodecError, Reader, Writer};
use crate::log::batch_builder::SimpleRecord;
use crate::share::partition::{RecordState, StateBatch};

pub const SNAPSHOT_TYPE: i16 = 0;
pub const UPDATE_TYPE: i16 = 1;
const VALUE_VERSION: i16 = 0;

/// `SharePartitionKey`: one share group's state of one topic partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey {
    pub group: String,
    pub topic_id: Uuid,
    pub partition: i32,
}

impl StateKey {
    /// The coordinator key Kafka hashes to place the state (`SharePartitionKey.asCoordinatorKey`):
    /// `group:topicId:partition`, the topic id in Kafka's base64 form.
    pub fn coordinator_key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.group,
            crate::cluster::uuid_to_kafka_string(self.topic_id),
            self.partition
        )
    }
}

/// `ShareSnapshotValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub snapshot_epoch: i32,
    pub state_epoch: i32,
    pub leader_epoch: i32,
    pub start_offset: i64,
    pub create_timestamp: i64,
    pub write_timestamp: i64,
    pub batches: Vec<StateBatch>,
}

/// `ShareUpdateValue`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub snapshot_epoch: i32,
    pub leader_epoch: i32,
    pub start_offset: i64,
    pub batches: Vec<StateBatch>,
}

/// One record of `__share_group_state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateRecord {
    Snapshot(StateKey, Option<Snapshot>),
    Update(StateKey, Update),
}

fn write_key(w: &mut Writer, ty: i16, k: &StateKey) {
    w.i16(ty);
    w.string(&k.group);
    w.uuid(k.topic_id);
    w.i32(k.partition);
}

fn write_batches(w: &mut Writer, batches: &[StateBatch]) {
    w.compact_array_len(batches.len());
    for b in batches {
        w.i64(b.first_offset);
        w.i64(b.last_offset);
        w.i8(b.state as i8);
        w.i16(b.delivery_count);
        w.tagged_fields(&[]);
    }
}

fn read_batches(r: &mut Reader<'_>) -> Result<Vec<StateBatch>, CodecError> {
    let n = r.compact_array_len()?;
    // Each batch is at least 20 bytes: a count larger than the bytes left is corrupt.
    if n > r.remaining() / 20 {
        return Err(CodecError::Invalid("state batch count"));
    }
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let first_offset = r.i64()?;
        let last_offset = r.i64()?;
        let state = RecordState::from_id(r.i8()?).ok_or(CodecError::Invalid("delivery state"))?;
        let delivery_count = r.i16()?;
        r.skip_tagged_fields()?;
        out.push(StateBatch {
            first_offset,
            last_offset,
            state,
            delivery_count,
        });
    }
    Ok(out)
}

impl StateRecord {
    pub fn key(&self) -> &StateKey {
        match self {
            StateRecord::Snapshot(k, _) | StateRecord::Update(k, _) => k,
        }
    }

    pub fn encode(&self) -> SimpleRecord {
        let mut key = Writer::new();
        let value = match self {
            StateRecord::Snapshot(k, v) => {
                write_key(&mut key, SNAPSHOT_TYPE, k);
                v.as_ref().map(|v| {
                    let mut w = Writer::new();
                    w.i16(VALUE_VERSION);
                    w.i32(v.snapshot_epoch);
                    w.i32(v.state_epoch);
                    w.i32(v.leader_epoch);
                    w.i64(v.start_offset);
                    w.i64(v.create_timestamp);
                    w.i64(v.write_timestamp);
                    write_batches(&mut w, &v.batches);
                    w.tagged_fields(&[]);
                    w.into_vec()
                })
            }
            StateRecord::Update(k, v) => {
                write_key(&mut key, UPDATE_TYPE, k);
                let mut w = Writer::new();
                w.i16(VALUE_VERSION);
                w.i32(v.snapshot_epoch);
                w.i32(v.leader_epoch);
                w.i64(v.start_offset);
                write_batches(&mut w, &v.batches);
                w.tagged_fields(&[]);
                Some(w.into_vec())
            }
        };
        SimpleRecord {
            key: Some(key.into_vec()),
            value,
        }
    }

    /// Decodes one record; `Ok(None)` for a record type this broker does not know (skipped, as
    /// Kafka's coordinator loader skips unknown types).
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Option<StateRecord>, CodecError> {
        let mut r = Reader::new(key);
        let ty = r.i16()?;
        if ty != SNAPSHOT_TYPE && ty != UPDATE_TYPE {
            return Ok(None);
        }
        let k = StateKey {
            group: r.string()?,
            topic_id: r.uuid()?,
            partition: r.i32()?,
        };
        let Some(value) = value else {
            // An update is never deleted on its own; a snapshot tombstone deletes the state.
            return Ok(Some(StateRecord::Snapshot(k, None)));
        };
        let mut r = Reader::new(value);
        let _version = r.i16()?;
        Ok(Some(if ty == SNAPSHOT_TYPE {
            let v = Snapshot {
                snapshot_epoch: r.i32()?,
                state_epoch: r.i32()?,
                leader_epoch: r.i32()?,
                start_offset: r.i64()?,
                create_timestamp: r.i64()?,
                write_timestamp: r.i64()?,
                batches: read_batches(&mut r)?,
            };
            StateRecord::Snapshot(k, Some(v))
        } else {
            let v = Update {
                snapshot_epoch: r.i32()?,
                leader_epoch: r.i32()?,
                start_offset: r.i64()?,
                batches: read_batches(&mut r)?,
            };
            StateRecord::Update(k, v)
        }))
    }
}

/// Merges `new` batches over `so_far` (Kafka's `PersisterStateBatchCombiner`, simplified to
/// what one writer produces: a later batch's state wins over the offsets it covers), dropping
/// everything before `start`. The result is sorted and non-overlapping.
pub fn combine(so_far: &[StateBatch], new: &[StateBatch], start: i64) -> Vec<StateBatch> {
    let mut out: Vec<StateBatch> = Vec::with_capacity(so_far.len() + new.len());
    let push = |b: StateBatch, out: &mut Vec<StateBatch>| {
        if b.last_offset < start {
            return;
        }
        let b = StateBatch {
            first_offset: b.first_offset.max(start),
            ..b
        };
        // Cut every existing batch around `b`.
        let mut kept = Vec::with_capacity(out.len() + 2);
        for e in out.drain(..) {
            if e.last_offset < b.first_offset || e.first_offset > b.last_offset {
                kept.push(e);
                continue;
            }
            if e.first_offset < b.first_offset {
                kept.push(StateBatch {
                    last_offset: b.first_offset - 1,
                    ..e
                });
            }
            if e.last_offset > b.last_offset {
                kept.push(StateBatch {
                    first_offset: b.last_offset + 1,
                    ..e
                });
            }
        }
        kept.push(b);
        kept.sort_by_key(|x| x.first_offset);
        *out = kept;
    };
    for b in so_far.iter().chain(new) {
        push(*b, &mut out);
    }
    // Join neighbours with the same state and count.
    let mut joined: Vec<StateBatch> = Vec::with_capacity(out.len());
    for b in out {
        match joined.last_mut() {
            Some(l)
                if l.last_offset + 1 == b.first_offset
                    && l.state == b.state
                    && l.delivery_count == b.delivery_count =>
            {
                l.last_offset = b.last_offset
            }
            _ => joined.push(b),
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(first: i64, last: i64, state: RecordState, dc: i16) -> StateBatch {
        StateBatch {
            first_offset: first,
            last_offset: last,
            state,
            delivery_count: dc,
        }
    }

    #[test]
    fn snapshot_and_update_round_trip_in_kafkas_layout() {
        let k = StateKey {
            group: "g".into(),
            topic_id: Uuid::from_bytes([7; 16]),
            partition: 3,
        };
        let snap = StateRecord::Snapshot(
            k.clone(),
            Some(Snapshot {
                snapshot_epoch: 1,
                state_epoch: 0,
                leader_epoch: 0,
                start_offset: 10,
                create_timestamp: 5,
                write_timestamp: 6,
                batches: vec![b(12, 13, RecordState::Acknowledged, 1)],
            }),
        );
        let e = snap.encode();
        let key = e.key.clone().unwrap();
        // type 0, "g" as int16 length + byte, the uuid, partition 3.
        assert_eq!(&key[..5], &[0, 0, 0, 1, b'g']);
        assert_eq!(key.len(), 2 + 3 + 16 + 4);
        let value = e.value.clone().unwrap();
        // version 0, epochs, start offset, timestamps, one batch (compact count 2), tags.
        assert_eq!(value.len(), 2 + 12 + 8 + 16 + 1 + (8 + 8 + 1 + 2 + 1) + 1);
        assert_eq!(StateRecord::decode(&key, Some(&value)).unwrap(), Some(snap));
        let up = StateRecord::Update(
            k.clone(),
            Update {
                snapshot_epoch: 1,
                leader_epoch: 0,
                start_offset: 12,
                batches: vec![b(14, 20, RecordState::Available, 2)],
            },
        );
        let e = up.encode();
        assert_eq!(
            StateRecord::decode(e.key.as_ref().unwrap(), e.value.as_deref()).unwrap(),
            Some(up)
        );
        assert_eq!(
            StateRecord::decode(&key, None).unwrap(),
            Some(StateRecord::Snapshot(k.clone(), None))
        );
        // Unknown types are skipped; truncated values are errors.
        assert_eq!(StateRecord::decode(&[0, 9, 0, 0], None).unwrap(), None);
        assert!(StateRecord::decode(&key, Some(&value[..10])).is_err());
    }

    #[test]
    fn later_batches_win_and_the_start_cuts() {
        let so_far = [
            b(0, 9, RecordState::Available, 1),
            b(10, 19, RecordState::Acknowledged, 1),
        ];
        let new = [b(5, 12, RecordState::Archived, 2)];
        assert_eq!(
            combine(&so_far, &new, 3),
            vec![
                b(3, 4, RecordState::Available, 1),
                b(5, 12, RecordState::Archived, 2),
                b(13, 19, RecordState::Acknowledged, 1),
            ]
        );
        assert_eq!(
            combine(
                &[b(0, 4, RecordState::Acknowledged, 1)],
                &[b(5, 9, RecordState::Acknowledged, 1)],
                0
            ),
            vec![b(0, 9, RecordState::Acknowledged, 1)]
        );
    }
}
