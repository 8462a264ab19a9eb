//! Committed offsets of one coordinator shard (Kafka's `OffsetMetadataManager` storage):
//! group -> topic -> partition -> [`OffsetAndMetadata`], plus the offsets of open transactions
//! (KIP-98 `TxnOffsetCommit`), which stay "pending" until the transaction's end marker is replayed:
//! a commit marker moves them into the committed store, an abort drops them.
//!
//! State changes only through [`OffsetStore::replay`] and [`OffsetStore::replay_end_transaction`],
//! both at start-up and after a live write was appended, so what the broker serves is always what
//! a replay of `__consumer_offsets` rebuilds.

use std::collections::{HashMap, HashSet};

use crate::groups::records::{OffsetCommitKey, OffsetCommitValue};
use crate::log::batch::NO_PRODUCER_ID;

/// A committed offset (Kafka's `OffsetAndMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetAndMetadata {
    pub committed_offset: i64,
    /// -1 when the client did not send one.
    pub leader_epoch: i32,
    pub metadata: String,
    pub commit_timestamp: i64,
    /// Set only by OffsetCommit v2-4 with an explicit retention time.
    pub expire_timestamp: Option<i64>,
    /// Offset of the record in `__consumer_offsets`: when transactional and plain commits race,
    /// the later record wins (Kafka's `replayEndTransactionMarker`).
    pub record_offset: i64,
}

impl OffsetAndMetadata {
    pub fn from_record(record_offset: i64, v: &OffsetCommitValue) -> OffsetAndMetadata {
        OffsetAndMetadata {
            committed_offset: v.offset,
            leader_epoch: v.leader_epoch,
            metadata: v.metadata.clone(),
            commit_timestamp: v.commit_timestamp,
            expire_timestamp: (v.expire_timestamp >= 0).then_some(v.expire_timestamp),
            record_offset,
        }
    }
}

/// Offsets of one topic: partition -> offset.
pub type PartitionOffsets = HashMap<i32, OffsetAndMetadata>;
/// Offsets of one group: topic -> partitions.
pub type GroupOffsets = HashMap<String, PartitionOffsets>;

/// Offsets by group.
#[derive(Default, Debug)]
pub struct Offsets {
    by_group: HashMap<String, GroupOffsets>,
}

impl Offsets {
    pub fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&OffsetAndMetadata> {
        self.by_group.get(group)?.get(topic)?.get(&partition)
    }

    fn put(&mut self, key: &OffsetCommitKey, value: OffsetAndMetadata) {
        self.by_group
            .entry(key.group.clone())
            .or_default()
            .entry(key.topic.clone())
            .or_default()
            .insert(key.partition, value);
    }

    fn remove(&mut self, group: &str, topic: &str, partition: i32) -> Option<OffsetAndMetadata> {
        let topics = self.by_group.get_mut(group)?;
        let partitions = topics.get_mut(topic)?;
        let removed = partitions.remove(&partition);
        if partitions.is_empty() {
            topics.remove(topic);
        }
        if topics.is_empty() {
            self.by_group.remove(group);
        }
        removed
    }

    pub fn group(&self, group: &str) -> Option<&GroupOffsets> {
        self.by_group.get(group)
    }

    pub fn groups(&self) -> impl Iterator<Item = &String> {
        self.by_group.keys()
    }
}

/// The committed and pending offsets of a shard.
#[derive(Default, Debug)]
pub struct OffsetStore {
    committed: Offsets,
    /// Pending transactional offsets by producer id.
    pending: HashMap<i64, Offsets>,
    /// Producer ids with pending offsets, by group.
    open_transactions: HashMap<String, HashSet<i64>>,
}

impl OffsetStore {
    pub fn get(&self, group: &str, topic: &str, partition: i32) -> Option<&OffsetAndMetadata> {
        self.committed.get(group, topic, partition)
    }

    pub fn group(&self, group: &str) -> Option<&GroupOffsets> {
        self.committed.group(group)
    }

    /// Groups that have committed offsets.
    pub fn groups(&self) -> impl Iterator<Item = &String> {
        self.committed.groups()
    }

    pub fn has_committed(&self, group: &str, topic: &str, partition: i32) -> bool {
        self.get(group, topic, partition).is_some()
    }

    /// A transaction has written an offset for this partition and not ended yet
    /// (OffsetFetch with `require_stable` answers UNSTABLE_OFFSET_COMMIT).
    pub fn has_pending(&self, group: &str, topic: &str, partition: i32) -> bool {
        self.open_transactions.get(group).is_some_and(|pids| {
            pids.iter().any(|pid| {
                self.pending
                    .get(pid)
                    .is_some_and(|o| o.get(group, topic, partition).is_some())
            })
        })
    }

    pub fn has_open_transactions(&self, group: &str) -> bool {
        self.open_transactions.contains_key(group)
    }

    /// Applies one `OffsetCommit` record (Kafka's `OffsetMetadataManager.replay`): a value from a
    /// transactional batch (`producer_id` set) becomes pending; a plain value is committed; a
    /// tombstone removes the committed offset and any pending one for the partition.
    pub fn replay(
        &mut self,
        record_offset: i64,
        producer_id: i64,
        key: &OffsetCommitKey,
        value: Option<&OffsetCommitValue>,
    ) {
        match value {
            Some(v) if producer_id == NO_PRODUCER_ID => {
                self.committed
                    .put(key, OffsetAndMetadata::from_record(record_offset, v));
            }
            Some(v) => {
                self.pending
                    .entry(producer_id)
                    .or_default()
                    .put(key, OffsetAndMetadata::from_record(record_offset, v));
                self.open_transactions
                    .entry(key.group.clone())
                    .or_default()
                    .insert(producer_id);
            }
            None => {
                self.committed.remove(&key.group, &key.topic, key.partition);
                if let Some(pids) = self.open_transactions.get(&key.group) {
                    for pid in pids {
                        if let Some(p) = self.pending.get_mut(pid) {
                            p.remove(&key.group, &key.topic, key.partition);
                        }
                    }
                }
            }
        }
    }

    /// Applies a transaction end marker: commit materialises the producer's pending offsets
    /// (unless a later plain commit superseded them), abort drops them.
    pub fn replay_end_transaction(&mut self, producer_id: i64, commit: bool) {
        let Some(pending) = self.pending.remove(&producer_id) else {
            return;
        };
        for group in pending.by_group.keys() {
            if let Some(pids) = self.open_transactions.get_mut(group) {
                pids.remove(&producer_id);
                if pids.is_empty() {
                    self.open_transactions.remove(group);
                }
            }
        }
        if !commit {
            return;
        }
        for (group, topics) in pending.by_group {
            for (topic, partitions) in topics {
                for (partition, offset) in partitions {
                    let newer = self
                        .committed
                        .get(&group, &topic, partition)
                        .is_some_and(|c| c.record_offset > offset.record_offset);
                    if !newer {
                        let key = OffsetCommitKey {
                            group: group.clone(),
                            topic: topic.clone(),
                            partition,
                        };
                        self.committed.put(&key, offset);
                    }
                }
            }
        }
    }

    /// `(topic, partition)` of every committed offset of `group`, and of pending ones without a
    /// committed offset (what DeleteGroups must tombstone; Kafka's `deleteAllOffsets`).
    pub fn partitions_to_delete(&self, group: &str) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .group(group)
            .map(|topics| {
                topics
                    .iter()
                    .flat_map(|(t, ps)| ps.keys().map(move |p| (t.clone(), *p)))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(pids) = self.open_transactions.get(group) {
            for pid in pids {
                if let Some(topics) = self.pending.get(pid).and_then(|o| o.group(group)) {
                    for (t, ps) in topics {
                        for p in ps.keys() {
                            if !self.has_committed(group, t, *p) && !out.contains(&(t.clone(), *p))
                            {
                                out.push((t.clone(), *p));
                            }
                        }
                    }
                }
            }
        }
        out.sort();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(p: i32) -> OffsetCommitKey {
        OffsetCommitKey {
            group: "g".into(),
            topic: "t".into(),
            partition: p,
        }
    }

    fn value(offset: i64) -> OffsetCommitValue {
        OffsetCommitValue {
            offset,
            leader_epoch: -1,
            metadata: String::new(),
            commit_timestamp: 1,
            expire_timestamp: -1,
        }
    }

    #[test]
    fn commits_tombstones_and_transactions() {
        let mut s = OffsetStore::default();
        s.replay(0, -1, &key(0), Some(&value(5)));
        assert_eq!(s.get("g", "t", 0).unwrap().committed_offset, 5);
        s.replay(1, 77, &key(0), Some(&value(9)));
        s.replay(2, 77, &key(1), Some(&value(3)));
        assert!(s.has_pending("g", "t", 0));
        assert_eq!(s.get("g", "t", 0).unwrap().committed_offset, 5);
        assert_eq!(
            s.partitions_to_delete("g"),
            vec![("t".into(), 0), ("t".into(), 1)]
        );
        // A plain commit after the transactional one wins when the transaction commits.
        s.replay(3, -1, &key(1), Some(&value(4)));
        s.replay_end_transaction(77, true);
        assert!(!s.has_pending("g", "t", 0));
        assert!(!s.has_open_transactions("g"));
        assert_eq!(s.get("g", "t", 0).unwrap().committed_offset, 9);
        assert_eq!(s.get("g", "t", 1).unwrap().committed_offset, 4);
        s.replay(4, 78, &key(0), Some(&value(100)));
        s.replay_end_transaction(78, false);
        assert_eq!(s.get("g", "t", 0).unwrap().committed_offset, 9);
        s.replay(5, -1, &key(0), None);
        s.replay(6, -1, &key(1), None);
        assert!(s.group("g").is_none());
    }
}
