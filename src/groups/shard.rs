//! One coordinator shard: the groups and offsets whose records live in one partition of
//! `__consumer_offsets` (Kafka's `GroupCoordinatorShard`), with its timer and the records its
//! operations want written.
//!
//! Operations run under the shard's lock and never do I/O themselves: they change soft state
//! (membership) directly and queue [`Write`]s. The coordinator appends each write to the shard's
//! partition before the lock is released, so records reach the log in the order the operations
//! ran; writes marked `replay` change state only once appended (offsets, tombstones), and a
//! write's completion runs when the append (and the flush the policy asks for) is done, as
//! Kafka's append futures do.

use crate::log::batch_builder::Producer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info};

use crate::error::Error;
use crate::groups::classic::{ClassicGroup, GroupState};
use crate::groups::group::Group;
use crate::groups::modern::{ConsumerGroupConfig, TopicsImage};
use crate::groups::offsets::OffsetStore;
use crate::groups::records::CoordinatorRecord;
use crate::groups::timer::{Timer, TimerKey, TimerTask};
use crate::settings::Settings;

/// The coordinator's settings (Kafka's `GroupCoordinatorConfig`), read once at start-up.
#[derive(Clone, Debug)]
pub struct GroupConfig {
    pub min_session_timeout_ms: i32,
    pub max_session_timeout_ms: i32,
    pub initial_rebalance_delay_ms: i32,
    pub max_size: usize,
    /// How long a new member's JoinGroup may stay parked (Kafka's
    /// `classicGroupNewMemberJoinTimeoutMs`, a constant 5 minutes).
    pub new_member_join_timeout_ms: i32,
    pub offsets_retention_ms: i64,
    pub offsets_retention_check_interval_ms: i64,
    pub offset_metadata_max_bytes: usize,
    pub offsets_commit_timeout_ms: i64,
    pub offsets_topic_num_partitions: i32,
    pub offsets_topic_segment_bytes: i32,
    pub offsets_load_buffer_size: usize,
    /// `log.flush.before.ack`: coordinator writes are acks=all writes.
    pub flush_before_ack: bool,
    /// KIP-848 consumer groups (`group.consumer.*`).
    pub consumer: ConsumerGroupConfig,
    /// KIP-932 share groups (`group.share.*`).
    pub share: crate::groups::share::ShareGroupConfig,
}

impl GroupConfig {
    pub fn from_settings(s: &Settings) -> GroupConfig {
        GroupConfig {
            min_session_timeout_ms: s.i32("group.min.session.timeout.ms"),
            max_session_timeout_ms: s.i32("group.max.session.timeout.ms"),
            initial_rebalance_delay_ms: s.i32("group.initial.rebalance.delay.ms").max(0),
            max_size: s.i32("group.max.size").max(1) as usize,
            new_member_join_timeout_ms: 5 * 60 * 1000,
            offsets_retention_ms: s.i64("offsets.retention.minutes").saturating_mul(60_000),
            offsets_retention_check_interval_ms: s
                .i64("offsets.retention.check.interval.ms")
                .max(1),
            offset_metadata_max_bytes: s.i32("offset.metadata.max.bytes").max(0) as usize,
            offsets_commit_timeout_ms: s.i64("offsets.commit.timeout.ms").max(1),
            offsets_topic_num_partitions: s.i32("offsets.topic.num.partitions").max(1),
            offsets_topic_segment_bytes: s.i32("offsets.topic.segment.bytes"),
            offsets_load_buffer_size: s.i32("offsets.load.buffer.size").max(1) as usize,
            flush_before_ack: s.bool("log.flush.before.ack"),
            consumer: ConsumerGroupConfig::from_settings(s),
            share: crate::groups::share::ShareGroupConfig::from_settings(s),
        }
    }
}

/// Runs once a write's records are appended (and flushed, when the policy asks), or failed.
pub type Completion = Box<dyn FnOnce(&mut ShardState, Result<(), Error>) + Send>;

/// Records an operation wants written, as one batch.
pub struct Write {
    pub records: Vec<CoordinatorRecord>,
    /// Apply the records to the shard's state once appended (offset commits, tombstones). Group
    /// metadata values are not replayed live: the operation already changed the group.
    pub replay: bool,
    pub on_done: Option<Completion>,
    /// Who writes the batch: the broker itself, or a transactional producer whose offsets
    /// (TxnOffsetCommit) stay pending until its transaction's marker.
    pub producer: Producer,
}

/// What membership and offset operations share besides the groups and offsets: the clock,
/// settings, timer and pending writes.
pub struct Core {
    pub config: Arc<GroupConfig>,
    pub timer: Timer,
    pub writes: Vec<Write>,
    /// Wall-clock milliseconds at the start of the current operation (Kafka timestamps).
    pub now: i64,
    /// Set when a deadline earlier than the shard task's sleep was scheduled.
    pub wake: bool,
    /// The broker's topics as of the current operation (consumer groups subscribe to them).
    pub topics: Arc<TopicsImage>,
    /// Per-group configs (GROUP resources); none in unit tests of the shard alone.
    pub group_configs: Option<Arc<crate::configs::group::GroupConfigStore>>,
}

impl Core {
    /// The consumer-group settings for group `gid`: the broker's, with the session timeout and
    /// heartbeat interval from the group's `consumer.*` configs when set (Kafka's
    /// `GroupMetadataManager.consumerGroupSessionTimeoutMs` / `...HeartbeatIntervalMs` read
    /// `GroupConfigManager` per group).
    pub fn consumer_config(&self, gid: &str) -> ConsumerGroupConfig {
        let mut c = self.config.consumer.clone();
        if let Some(store) = &self.group_configs {
            let (session, hb) =
                store.consumer_timeouts(gid, c.session_timeout_ms, c.heartbeat_interval_ms);
            c.session_timeout_ms = session;
            c.heartbeat_interval_ms = hb;
        }
        c
    }

    pub fn schedule(&mut self, key: TimerKey, delay_ms: i64, task: TimerTask) {
        let delay = Duration::from_millis(delay_ms.max(0) as u64);
        if self.timer.schedule(key, delay, task) {
            self.wake = true;
        }
    }

    pub fn cancel(&mut self, key: &TimerKey) {
        self.timer.cancel(key);
    }

    pub fn write(
        &mut self,
        records: Vec<CoordinatorRecord>,
        replay: bool,
        on_done: Option<Completion>,
    ) {
        self.writes.push(Write {
            records,
            replay,
            on_done,
            producer: Producer::NONE,
        });
    }

    /// Queues records written on behalf of a transactional producer (KIP-98 TxnOffsetCommit).
    pub fn write_transactional(&mut self, records: Vec<CoordinatorRecord>, producer: Producer) {
        self.writes.push(Write {
            records,
            replay: true,
            on_done: None,
            producer,
        });
    }
}

/// The state of one shard.
pub struct ShardState {
    /// Partition of `__consumer_offsets` holding this shard's records.
    pub index: i32,
    pub groups: HashMap<String, Group>,
    pub offsets: OffsetStore,
    pub core: Core,
}

impl ShardState {
    pub fn new(index: i32, config: Arc<GroupConfig>) -> ShardState {
        ShardState {
            index,
            groups: HashMap::new(),
            offsets: OffsetStore::default(),
            core: Core {
                config,
                timer: Timer::default(),
                writes: Vec::new(),
                now: 0,
                wake: false,
                topics: Arc::new(TopicsImage::default()),
                group_configs: None,
            },
        }
    }

    /// A classic group and the shared core, borrowed together.
    pub fn classic(&mut self, group_id: &str) -> Option<(&mut ClassicGroup, &mut Core)> {
        let ShardState { groups, core, .. } = self;
        match groups.get_mut(group_id) {
            Some(Group::Classic(g)) => Some((g, core)),
            Some(Group::Consumer(_)) | Some(Group::Share(_)) | None => None,
        }
    }

    /// Gets a classic group, creating an empty one (Kafka's `getOrMaybeCreateClassicGroup`).
    pub fn get_or_create_classic(&mut self, group_id: &str) -> Result<(), Error> {
        match self.groups.get(group_id) {
            Some(Group::Classic(_)) => Ok(()),
            Some(Group::Consumer(_)) | Some(Group::Share(_)) => Err(Error::GroupIdNotFound(
                format!("Group {group_id} is not a classic group."),
            )),
            None => {
                let g = ClassicGroup::new(group_id, self.core.now);
                self.groups.insert(group_id.to_string(), Group::Classic(g));
                Ok(())
            }
        }
    }

    /// Applies one record of `__consumer_offsets` (start-up replay, and live writes marked
    /// `replay`). Offsets for an unknown group create a "simple" group: an empty classic group
    /// without protocol type, as Kafka does for consumers that only commit.
    pub fn replay(&mut self, record_offset: i64, producer_id: i64, record: &CoordinatorRecord) {
        match record {
            CoordinatorRecord::OffsetCommit { key, value } => {
                if value.is_some() && !self.groups.contains_key(&key.group) {
                    let _ = self.get_or_create_classic(&key.group);
                }
                self.offsets
                    .replay(record_offset, producer_id, key, value.as_ref());
            }
            CoordinatorRecord::GroupMetadata { key, value: None } => {
                if let Some(mut g) = self.groups.remove(&key.group) {
                    if let Some(c) = g.classic_mut() {
                        c.complete_all(&Error::CoordinatorNotAvailable);
                        c.transition_to(GroupState::Dead, self.core.now);
                    }
                    debug!(group = %key.group, "group removed");
                }
            }
            CoordinatorRecord::GroupMetadata {
                key,
                value: Some(v),
            } => {
                let g = ClassicGroup::from_record(&key.group, v);
                self.groups.insert(key.group.clone(), Group::Classic(g));
            }
            CoordinatorRecord::Consumer(r) => self.replay_consumer(r),
            CoordinatorRecord::Share(r) => self.replay_share(r),
        }
    }

    /// After start-up replay (Kafka's `onLoaded`): groups that only have offsets exist as simple
    /// groups, every loaded member's session starts now, and the expiration task is scheduled.
    pub fn on_loaded(&mut self) {
        let orphans: Vec<String> = self
            .offsets
            .groups()
            .filter(|g| !self.groups.contains_key(*g))
            .cloned()
            .collect();
        for g in orphans {
            let _ = self.get_or_create_classic(&g);
        }
        let max_size = self.core.config.max_size;
        let ids: Vec<String> = self.groups.keys().cloned().collect();
        for id in ids {
            let Some((g, core)) = self.classic(&id) else {
                continue;
            };
            let members: Vec<(String, i32)> = g
                .members()
                .map(|m| (m.member_id.clone(), m.session_timeout_ms))
                .collect();
            for (member, session) in &members {
                core.schedule(
                    TimerKey::Heartbeat {
                        group: id.clone(),
                        member: member.clone(),
                    },
                    *session as i64,
                    TimerTask::HeartbeatExpired {
                        group: id.clone(),
                        member: member.clone(),
                    },
                );
            }
            if !members.is_empty() {
                info!(group = %id, members = members.len(), generation = g.generation_id(), "loaded classic group");
            }
            if g.num_members() > max_size {
                crate::groups::membership::prepare_rebalance(
                    g,
                    core,
                    "loaded group is over group.max.size",
                );
            }
        }
        self.on_loaded_consumer_groups();
        self.on_loaded_share_groups();
        self.schedule_expiration();
    }

    pub fn schedule_expiration(&mut self) {
        let every = self.core.config.offsets_retention_check_interval_ms;
        self.core
            .schedule(TimerKey::Expiration, every, TimerTask::CleanupGroupMetadata);
    }

    /// Runs the tasks whose deadline passed.
    pub fn run_expired(&mut self, now: tokio::time::Instant) {
        for task in self.core.timer.pop_expired(now) {
            self.on_timer(task);
        }
    }

    fn on_timer(&mut self, task: TimerTask) {
        use crate::groups::membership as m;
        match task {
            TimerTask::HeartbeatExpired { group, member } => {
                if let Some((g, c)) = self.classic(&group) {
                    m::expire_member_heartbeat(g, c, &member);
                }
            }
            TimerTask::CompleteJoin { group } => {
                if let Some((g, c)) = self.classic(&group) {
                    m::complete_join(g, c);
                }
            }
            TimerTask::InitialRebalance {
                group,
                delay_ms,
                remaining_ms,
            } => {
                if let Some((g, c)) = self.classic(&group) {
                    m::try_complete_initial_rebalance(g, c, delay_ms, remaining_ms);
                }
            }
            TimerTask::PendingSyncExpired { group, generation } => {
                if let Some((g, c)) = self.classic(&group) {
                    m::expire_pending_sync(g, c, generation);
                }
            }
            TimerTask::CleanupGroupMetadata => {
                self.cleanup_group_metadata();
                self.schedule_expiration();
            }
            TimerTask::ConsumerSessionExpired { group, member } => {
                self.expire_consumer_member(&group, &member, None);
            }
            TimerTask::ShareSessionExpired { group, member } => {
                self.remove_share_member(&group, &member, "its session expired");
            }
            TimerTask::ConsumerRebalanceExpired {
                group,
                member,
                epoch,
            } => {
                self.expire_consumer_member(&group, &member, Some(epoch));
            }
        }
    }

    /// Coordinator unload or broker shutdown: every parked JoinGroup and SyncGroup is answered
    /// NOT_COORDINATOR so clients look for the coordinator again (Kafka's `onUnloaded`).
    pub fn unload(&mut self) {
        for g in self.groups.values_mut() {
            if let Some(c) = g.classic_mut() {
                c.complete_all(&Error::NotCoordinator);
            }
        }
    }
}
