//! How consumer-group operations change a shard: every change is a record, replayed into the
//! group at once (as Kafka's coordinator runtime replays an operation's records) and appended to
//! `__consumer_offsets` with the operation's other records as one batch. Start-up replays the
//! same records through the same code.
//!
//! An operation that fails part-way, or whose write fails, is undone by restoring the group as
//! it was before the operation's first record (Kafka reverts to its last committed snapshot).

use tracing::{debug, info, warn};

use crate::error::Error;
use crate::groups::classic::ClassicGroup;
use crate::groups::group::Group;
use crate::groups::modern::group::ConsumerGroup;
use crate::groups::records::consumer::ConsumerRecord;
use crate::groups::records::{CoordinatorRecord, GroupMetadataValue};
use crate::groups::shard::ShardState;

/// A group as it was before an operation touched it.
#[derive(Debug)]
enum Snapshot {
    Absent,
    Classic(GroupMetadataValue),
    Consumer(Box<ConsumerGroup>),
    Share(Box<crate::groups::share::ShareGroup>),
}

/// The records one operation on one group produced, and how to undo them.
#[derive(Debug)]
pub struct Txn {
    group_id: String,
    snapshot: Option<Snapshot>,
    records: Vec<CoordinatorRecord>,
}

impl Txn {
    pub fn new(group_id: &str) -> Txn {
        Txn {
            group_id: group_id.to_string(),
            snapshot: None,
            records: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn group_id(&self) -> &str {
        &self.group_id
    }
}

impl ShardState {
    /// Applies one consumer-group record (load and live). Records for a group id held by an
    /// empty classic group (e.g. a "simple" group made for committed offsets) replace it, as
    /// Kafka's `getOrMaybeCreatePersistedConsumerGroup` does.
    pub fn replay_consumer(&mut self, record: &ConsumerRecord) {
        let gid = record.group_id();
        match self.groups.get_mut(gid) {
            Some(Group::Consumer(g)) => {
                if !g.replay(record) {
                    self.groups.remove(gid);
                    debug!(group = %gid, "consumer group removed");
                }
            }
            Some(Group::Share(_)) => {
                warn!(group = %gid, "consumer-group record for a share group; skipped");
            }
            Some(Group::Classic(c)) => {
                if record.is_tombstone() {
                    return;
                }
                if !c.is_empty() {
                    warn!(group = %gid, "consumer-group record for a non-empty classic group; skipped");
                    return;
                }
                let mut g = ConsumerGroup::new(gid);
                g.replay(record);
                self.groups.insert(gid.to_string(), Group::Consumer(g));
            }
            None => {
                if record.is_tombstone() {
                    return;
                }
                let mut g = ConsumerGroup::new(gid);
                g.replay(record);
                self.groups.insert(gid.to_string(), Group::Consumer(g));
            }
        }
    }

    fn snapshot(&self, group_id: &str) -> Snapshot {
        match self.groups.get(group_id) {
            None => Snapshot::Absent,
            Some(Group::Consumer(g)) => Snapshot::Consumer(Box::new(g.clone())),
            Some(Group::Share(g)) => Snapshot::Share(Box::new(g.clone())),
            Some(Group::Classic(c)) => Snapshot::Classic(c.to_record(&c.assignments())),
        }
    }

    fn begin(&mut self, txn: &mut Txn) {
        if txn.snapshot.is_none() {
            txn.snapshot = Some(self.snapshot(&txn.group_id));
        }
    }

    /// Replays `record` and keeps it for the write.
    pub fn emit(&mut self, txn: &mut Txn, record: ConsumerRecord) {
        self.begin(txn);
        self.replay_consumer(&record);
        if let Some(Group::Consumer(g)) = self.groups.get_mut(&txn.group_id) {
            g.write_seq += 1;
        }
        txn.records.push(CoordinatorRecord::Consumer(record));
    }

    /// Makes the (not yet existing) consumer group exist for the rest of the operation.
    pub fn ensure_consumer_group(&mut self, txn: &mut Txn) {
        self.begin(txn);
        if !matches!(self.groups.get(&txn.group_id), Some(Group::Consumer(_))) {
            self.groups.insert(
                txn.group_id.clone(),
                Group::Consumer(ConsumerGroup::new(&txn.group_id)),
            );
        }
    }

    /// Removes an empty classic group with a `GroupMetadata` tombstone (Kafka's
    /// `maybeDeleteEmptyClassicGroup`, the online "upgrade" of an empty group).
    pub fn emit_classic_group_tombstone(&mut self, txn: &mut Txn) {
        self.begin(txn);
        let record = CoordinatorRecord::group_tombstone(&txn.group_id);
        self.replay(-1, crate::log::batch::NO_PRODUCER_ID, &record);
        txn.records.push(record);
    }

    /// A classic JoinGroup for a consumer group (Kafka's `classicGroupJoin`): an empty
    /// consumer group is deleted so a classic group can take its place (the online
    /// "downgrade" of an empty group, `maybeDeleteEmptyConsumerGroup`); a non-empty one answers
    /// INCONSISTENT_GROUP_PROTOCOL, since Klamm does not run classic members inside consumer
    /// groups.
    pub fn maybe_delete_empty_consumer_group(&mut self, group_id: &str) -> Result<(), Error> {
        let Some(Group::Consumer(g)) = self.groups.get(group_id) else {
            return Ok(());
        };
        if !g.is_empty() {
            return Err(Error::InconsistentGroupProtocol);
        }
        info!(group = %group_id, "an empty consumer group becomes a classic group");
        let records = g.tombstones();
        let mut txn = Txn::new(group_id);
        for r in records {
            self.emit(&mut txn, r);
        }
        self.commit(txn);
        Ok(())
    }

    /// Queues the operation's records as one write; if it fails, the group is restored, unless
    /// a later operation changed it meanwhile.
    pub fn commit(&mut self, txn: Txn) {
        if txn.records.is_empty() {
            return;
        }
        let seq = self.write_seq(&txn.group_id);
        let Txn {
            group_id,
            snapshot,
            records,
        } = txn;
        self.core.write(
            records,
            false,
            Some(Box::new(move |st: &mut ShardState, res: Result<(), Error>| {
                if let Err(e) = res {
                    if st.write_seq(&group_id) == seq {
                        warn!(group = %group_id, "consumer group write failed, reverting: {e}");
                        if let Some(s) = snapshot {
                            st.restore(&group_id, s);
                        }
                    } else {
                        warn!(group = %group_id, "consumer group write failed after later changes: {e}");
                    }
                }
            })),
        );
    }

    /// Undoes an operation that failed before its write.
    pub fn rollback(&mut self, txn: Txn) {
        if let Some(s) = txn.snapshot {
            self.restore(&txn.group_id, s);
        }
    }

    fn write_seq(&self, group_id: &str) -> Option<u64> {
        match self.groups.get(group_id) {
            Some(Group::Consumer(g)) => Some(g.write_seq),
            _ => None,
        }
    }

    fn restore(&mut self, group_id: &str, s: Snapshot) {
        match s {
            Snapshot::Absent => {
                self.groups.remove(group_id);
            }
            Snapshot::Consumer(g) => {
                self.groups
                    .insert(group_id.to_string(), Group::Consumer(*g));
            }
            Snapshot::Share(g) => {
                self.groups.insert(group_id.to_string(), Group::Share(*g));
            }
            Snapshot::Classic(v) => {
                let g = ClassicGroup::from_record(group_id, &v);
                self.groups.insert(group_id.to_string(), Group::Classic(g));
            }
        }
    }
}
