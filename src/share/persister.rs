//! Share-partition state in `__share_group_state` (the share coordinator's log, KIP-932): each
//! write is a `ShareUpdate` of the runs that changed, and every
//! `share.coordinator.snapshot.update.records.per.snapshot` updates (and the first write of a
//! key) a `ShareSnapshot` of the whole state, as Kafka's `ShareCoordinatorShard.writeState`
//! does. Start-up replays every partition of the topic, a snapshot replacing a key's state and
//! an update merged over it.
//!
//! A write is appended before the operation that made it is answered, under the share
//! partition's lock, so the log holds the changes in the order they happened; the flush policy
//! (`log.flush.before.ack`, `flush.messages`) decides whether the answer also waits for an fsync.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::groups::partition_for;
use crate::log::batch::Batches;
use crate::log::batch_builder::Producer;
use crate::log::internal_append::append_records;
use crate::log::records::{records_section, RecordIter};
use crate::log::{LogManager, NewTopic, Partition};
use crate::settings::Settings;
use crate::share::partition::StateBatch;
use crate::share::state_records::{combine, Snapshot, StateKey, StateRecord, Update};

/// Kafka's `Topic.SHARE_GROUP_STATE_TOPIC_NAME`.
pub const SHARE_GROUP_STATE_TOPIC_NAME: &str = "__share_group_state";

/// A share partition's persisted state as replayed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persisted {
    pub start_offset: i64,
    pub state_epoch: i32,
    pub batches: Vec<StateBatch>,
}

#[derive(Clone, Copy, Debug, Default)]
struct KeyMeta {
    snapshot_epoch: i32,
    /// Updates written since the last snapshot.
    updates: u32,
    /// Offset of the key's last snapshot in its partition of `__share_group_state`: every
    /// record of the key before it is redundant.
    snapshot_offset: i64,
}

/// The writer and loader of `__share_group_state`.
pub struct Persister {
    logs: Arc<LogManager>,
    num_partitions: i32,
    snapshot_every: u32,
    flush_before_ack: bool,
    keys: Mutex<HashMap<StateKey, KeyMeta>>,
}

/// What a write needs before it counts: an fsync of `partition` up to `upto`.
pub type Flush = Option<(Arc<Partition>, i64)>;

impl Persister {
    /// Registers the topic and replays it. Blocking: run it before serving.
    pub fn load(
        logs: Arc<LogManager>,
        settings: &Settings,
    ) -> Result<(Persister, HashMap<StateKey, Persisted>)> {
        let configured = settings
            .i32("share.coordinator.state.topic.num.partitions")
            .max(1);
        logs.register_internal_topic(state_topic_spec(settings, configured));
        let existing = logs.topic(SHARE_GROUP_STATE_TOPIC_NAME);
        let num_partitions = existing
            .as_ref()
            .map(|t| t.partitions.len() as i32)
            .filter(|n| *n > 0)
            .unwrap_or(configured);
        let mut states: HashMap<StateKey, Persisted> = HashMap::new();
        let mut keys: HashMap<StateKey, KeyMeta> = HashMap::new();
        let buffer = settings.i32("offsets.load.buffer.size").max(1) as usize;
        if let Some(t) = &existing {
            for p in &t.partitions {
                replay_partition(p, buffer, &mut states, &mut keys)?;
            }
        }
        if !states.is_empty() {
            info!(share_partitions = states.len(), "loaded share-group state");
        }
        Ok((
            Persister {
                logs,
                num_partitions,
                snapshot_every: settings
                    .i32("share.coordinator.snapshot.update.records.per.snapshot")
                    .max(0) as u32,
                flush_before_ack: settings.bool("log.flush.before.ack"),
                keys: Mutex::new(keys),
            },
            states,
        ))
    }

    pub fn ensure_topic(&self) -> Result<()> {
        self.logs
            .get_or_create_internal(SHARE_GROUP_STATE_TOPIC_NAME)
            .map(|_| ())
    }

    fn partition(&self, key: &StateKey) -> Result<Arc<Partition>> {
        let topic = self
            .logs
            .get_or_create_internal(SHARE_GROUP_STATE_TOPIC_NAME)?;
        let index = partition_for(&key.coordinator_key(), self.num_partitions);
        topic
            .partition(index)
            .cloned()
            .ok_or(Error::CoordinatorNotAvailable)
    }

    /// Writes a change of `key`'s state: the runs in `changed`, with the share partition's
    /// current start offset; a snapshot of `full()` when one is due.
    pub fn write(
        &self,
        key: &StateKey,
        start_offset: i64,
        state_epoch: i32,
        changed: &[StateBatch],
        full: impl FnOnce() -> Vec<StateBatch>,
        now: i64,
    ) -> Result<Flush> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let meta = keys.get(key).copied();
        let record = match meta {
            Some(m) if m.updates < self.snapshot_every => StateRecord::Update(
                key.clone(),
                Update {
                    snapshot_epoch: m.snapshot_epoch,
                    leader_epoch: 0,
                    start_offset,
                    batches: combine(&[], changed, start_offset),
                },
            ),
            _ => StateRecord::Snapshot(
                key.clone(),
                Some(Snapshot {
                    snapshot_epoch: meta.map_or(0, |m| m.snapshot_epoch + 1),
                    state_epoch,
                    leader_epoch: 0,
                    start_offset,
                    create_timestamp: now,
                    write_timestamp: now,
                    batches: full(),
                }),
            ),
        };
        let (flush, offset) = self.append(key, &record, now)?;
        let m = keys.entry(key.clone()).or_default();
        match &record {
            StateRecord::Snapshot(_, Some(s)) => {
                *m = KeyMeta {
                    snapshot_epoch: s.snapshot_epoch,
                    updates: 0,
                    snapshot_offset: offset,
                }
            }
            _ => m.updates += 1,
        }
        Ok(flush)
    }

    /// Writes `key`'s whole state as a new snapshot (AlterShareGroupOffsets: a new start offset
    /// and state epoch, nothing in flight), as Kafka's `InitializeShareGroupState` does.
    pub fn snapshot(
        &self,
        key: &StateKey,
        start_offset: i64,
        state_epoch: i32,
        now: i64,
    ) -> Result<Flush> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let snapshot_epoch = keys.get(key).map_or(0, |m| m.snapshot_epoch + 1);
        let record = StateRecord::Snapshot(
            key.clone(),
            Some(Snapshot {
                snapshot_epoch,
                state_epoch,
                leader_epoch: 0,
                start_offset,
                create_timestamp: now,
                write_timestamp: now,
                batches: Vec::new(),
            }),
        );
        let (flush, offset) = self.append(key, &record, now)?;
        keys.insert(
            key.clone(),
            KeyMeta {
                snapshot_epoch,
                updates: 0,
                snapshot_offset: offset,
            },
        );
        Ok(flush)
    }

    /// Deletes `key`'s state (DeleteShareGroupOffsets, DeleteGroups): a snapshot tombstone.
    pub fn delete(&self, key: &StateKey, now: i64) -> Result<Flush> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.remove(key).is_none() {
            return Ok(None);
        }
        Ok(self
            .append(key, &StateRecord::Snapshot(key.clone(), None), now)?
            .0)
    }

    /// Appends one record; returns the flush the policy requires and the record's offset.
    fn append(&self, key: &StateKey, record: &StateRecord, now: i64) -> Result<(Flush, i64)> {
        let partition = self.partition(key)?;
        let info = append_records(&partition, &[record.encode()], now, Producer::NONE)?;
        let flush =
            (info.needs_flush || self.flush_before_ack).then(|| (partition, info.last_offset + 1));
        Ok((flush, info.base_offset))
    }

    /// Removes the records every key's later snapshot made redundant (Kafka's share coordinator
    /// prunes `__share_group_state` every `share.coordinator.state.topic.prune.interval.ms`
    /// with DeleteRecords): each partition's log start moves to the earliest last snapshot of
    /// its keys, or to its end when it has none. Returns the partitions moved.
    pub fn prune(&self) -> Vec<(i32, i64)> {
        let Some(topic) = self.logs.topic(SHARE_GROUP_STATE_TOPIC_NAME) else {
            return Vec::new();
        };
        let mut earliest: HashMap<i32, i64> = HashMap::new();
        {
            let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            for (k, m) in keys.iter() {
                let index = partition_for(&k.coordinator_key(), self.num_partitions);
                let e = earliest.entry(index).or_insert(i64::MAX);
                *e = (*e).min(m.snapshot_offset);
            }
        }
        let mut moved = Vec::new();
        for p in &topic.partitions {
            let upto = earliest
                .get(&p.index)
                .copied()
                .unwrap_or_else(|| p.high_watermark())
                .min(p.high_watermark());
            if upto > p.log_start_offset() {
                match p.delete_records(upto) {
                    Ok(start) => moved.push((p.index, start)),
                    Err(e) => warn!(partition = %p.name(), "cannot prune __share_group_state: {e}"),
                }
            }
        }
        moved
    }

    /// The keys of `group` with written state.
    pub fn keys_of_group(&self, group: &str) -> Vec<StateKey> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.keys().filter(|k| k.group == group).cloned().collect()
    }
}

/// Waits for a write's fsync, when the policy asked for one.
pub async fn complete(flush: Flush) -> Result<()> {
    match flush {
        Some((p, upto)) => p.flush_to(upto).await,
        None => Ok(()),
    }
}

fn replay_partition(
    partition: &Partition,
    buffer: usize,
    states: &mut HashMap<StateKey, Persisted>,
    keys: &mut HashMap<StateKey, KeyMeta>,
) -> Result<()> {
    let mut next = partition.log_start_offset();
    let end = partition.log_end_offset();
    while next < end {
        let data = partition.read(next, buffer, true)?;
        let bytes = data.records.read_to_bytes()?;
        let mut progressed = false;
        for (at, h) in Batches::new(&bytes) {
            let batch = &bytes[at..at + h.size()];
            if h.last_offset() < next {
                continue;
            }
            next = h.last_offset() + 1;
            progressed = true;
            if h.is_control() {
                continue;
            }
            let Ok(section) = records_section(batch) else {
                warn!(partition = %partition.name(), offset = h.base_offset(), "skipping an unreadable batch of __share_group_state");
                continue;
            };
            for r in RecordIter::new(&section, h.record_count()) {
                let Ok(r) = r else {
                    warn!(partition = %partition.name(), offset = h.base_offset(), "skipping the rest of a malformed batch");
                    break;
                };
                let Some(key) = r.key else { continue };
                let offset = h.base_offset() + r.offset_delta as i64;
                match StateRecord::decode(key, r.value) {
                    Ok(Some(rec)) => replay(rec, offset, states, keys),
                    Ok(None) => {}
                    Err(e) => {
                        warn!(partition = %partition.name(), "skipping a malformed share state record: {e}")
                    }
                }
            }
        }
        if !progressed {
            break;
        }
    }
    Ok(())
}

/// Applies one record (Kafka's `ShareCoordinatorShard.replay`).
fn replay(
    rec: StateRecord,
    offset: i64,
    states: &mut HashMap<StateKey, Persisted>,
    keys: &mut HashMap<StateKey, KeyMeta>,
) {
    match rec {
        StateRecord::Snapshot(k, None) => {
            states.remove(&k);
            keys.remove(&k);
        }
        StateRecord::Snapshot(k, Some(s)) => {
            keys.insert(
                k.clone(),
                KeyMeta {
                    snapshot_epoch: s.snapshot_epoch,
                    updates: 0,
                    snapshot_offset: offset,
                },
            );
            states.insert(
                k,
                Persisted {
                    start_offset: s.start_offset,
                    state_epoch: s.state_epoch,
                    batches: combine(&[], &s.batches, s.start_offset),
                },
            );
        }
        StateRecord::Update(k, u) => {
            let Some(st) = states.get_mut(&k) else {
                // An update without a snapshot (the snapshot was pruned): nothing to apply to.
                return;
            };
            if u.start_offset >= 0 {
                st.start_offset = u.start_offset;
            }
            st.batches = combine(&st.batches, &u.batches, st.start_offset);
            if let Some(m) = keys.get_mut(&k) {
                m.updates += 1;
            }
        }
    }
}

/// `__share_group_state` as Kafka creates it (`ShareCoordinatorService`'s topic configs):
/// cleanup.policy=delete with unlimited retention (the coordinator prunes what snapshots made
/// redundant), the producer's compression, `share.coordinator.state.topic.segment.bytes`.
fn state_topic_spec(settings: &Settings, partitions: i32) -> NewTopic {
    let mut configs = std::collections::BTreeMap::new();
    configs.insert("cleanup.policy".to_string(), "delete".to_string());
    configs.insert("retention.ms".to_string(), "-1".to_string());
    configs.insert("compression.type".to_string(), "producer".to_string());
    configs.insert(
        "segment.bytes".to_string(),
        settings
            .i32("share.coordinator.state.topic.segment.bytes")
            .to_string(),
    );
    NewTopic {
        name: SHARE_GROUP_STATE_TOPIC_NAME.to_string(),
        num_partitions: partitions,
        replication_factor: 1,
        assignments: Vec::new(),
        configs,
        internal: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Overrides;
    use crate::share::partition::RecordState;

    fn open(dir: &std::path::Path) -> (Arc<LogManager>, Settings) {
        let cli = Overrides {
            data_dir: Some(dir.to_string_lossy().to_string()),
            overrides: vec![
                (
                    "share.coordinator.state.topic.num.partitions".into(),
                    "1".into(),
                ),
                (
                    "share.coordinator.snapshot.update.records.per.snapshot".into(),
                    "2".into(),
                ),
            ],
            ..Default::default()
        };
        let settings = Settings::load(&cli).unwrap();
        let logs = Arc::new(LogManager::open(Arc::new(settings.clone())).unwrap());
        (logs, settings)
    }

    fn b(first: i64, last: i64, state: RecordState, dc: i16) -> StateBatch {
        StateBatch {
            first_offset: first,
            last_offset: last,
            state,
            delivery_count: dc,
        }
    }

    /// Snapshot, updates, a snapshot every two updates, pruning up to the last snapshot, and a
    /// replay that rebuilds the same state from what is left.
    #[tokio::test]
    async fn updates_snapshots_prune_and_replay() {
        let dir = tempfile::tempdir().unwrap();
        let key = StateKey {
            group: "g".into(),
            topic_id: uuid::Uuid::from_bytes([3; 16]),
            partition: 0,
        };
        let full = vec![b(2, 3, RecordState::Available, 1)];
        {
            let (logs, settings) = open(dir.path());
            let (p, loaded) = Persister::load(logs.clone(), &settings).unwrap();
            assert!(loaded.is_empty());
            // 0: snapshot; 1, 2: updates; 3: snapshot; 4: update.
            p.write(
                &key,
                0,
                0,
                &[b(0, 1, RecordState::Acknowledged, 1)],
                Vec::new,
                1,
            )
            .unwrap();
            p.write(
                &key,
                2,
                0,
                &[b(2, 3, RecordState::Available, 1)],
                Vec::new,
                2,
            )
            .unwrap();
            p.write(
                &key,
                2,
                0,
                &[b(4, 4, RecordState::Archived, 5)],
                Vec::new,
                3,
            )
            .unwrap();
            p.write(&key, 2, 0, &[], || full.clone(), 4).unwrap();
            p.write(
                &key,
                2,
                0,
                &[b(5, 5, RecordState::Acknowledged, 1)],
                Vec::new,
                5,
            )
            .unwrap();
            let t = logs.topic(SHARE_GROUP_STATE_TOPIC_NAME).unwrap();
            assert_eq!(t.partitions[0].log_end_offset(), 5);
            assert_eq!(p.prune(), vec![(0, 3)]);
            assert_eq!(t.partitions[0].log_start_offset(), 3);
            // Nothing more to prune until the next snapshot.
            assert_eq!(p.prune(), vec![]);
            logs.shutdown().unwrap();
        }
        let (logs, settings) = open(dir.path());
        let (_p, loaded) = Persister::load(logs, &settings).unwrap();
        assert_eq!(
            loaded[&key],
            Persisted {
                start_offset: 2,
                state_epoch: 0,
                batches: vec![
                    b(2, 3, RecordState::Available, 1),
                    b(5, 5, RecordState::Acknowledged, 1)
                ],
            }
        );
    }
}
