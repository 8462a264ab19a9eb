//! The group coordinator (Kafka's `GroupCoordinatorService` over its runtime): one shard per
//! partition of `__consumer_offsets`, each behind its own lock, with a task that fires its
//! timeouts; request-level checks (group id, session timeout bounds, active); and the write path
//! that turns a shard's queued records into a batch appended to the shard's partition, flushed
//! per the partition's flush policy before anyone is answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::{broadcast, oneshot, Notify};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::broker::now_ms;
use crate::error::{Error, Result};
use crate::groups::admin::{DescribedGroup, ListedGroup};
use crate::groups::loader;
use crate::groups::member::{JoinResult, SyncResult};
use crate::groups::membership::{
    append_error_to_response, JoinRequest, LeaveResult, LeavingMember, SyncRequest,
};
use crate::groups::modern::describe::DescribedConsumerGroup;
use crate::groups::modern::{heartbeat, HeartbeatRequest, HeartbeatResponse, TopicsImage};
use crate::groups::offset_manager::{CommitRequest, FetchedOffset, TopicErrors};
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::{Completion, GroupConfig, ShardState};
use crate::groups::share::describe::DescribedShareGroup;
use crate::groups::share::heartbeat::{
    self as share_heartbeat, ShareHeartbeatRequest, ShareHeartbeatResponse,
};
use crate::groups::{partition_for, GROUP_METADATA_TOPIC_NAME};
use crate::log::batch::NO_PRODUCER_ID;
use crate::log::batch_builder::Producer;
use crate::log::{LogManager, NewTopic, Partition};
use crate::settings::Settings;

struct Shard {
    state: Mutex<ShardState>,
    /// Wakes the shard's timer task when an earlier deadline was scheduled.
    wake: Notify,
}

impl Shard {
    fn lock(&self) -> MutexGuard<'_, ShardState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where a batch went, and the flush the policy requires before it counts as written.
struct Appended {
    base_offset: i64,
    flush: Option<(Arc<Partition>, i64)>,
}

/// A write appended to the log whose completion waits for a flush.
struct Deferred {
    partition: Arc<Partition>,
    upto: i64,
    on_done: Option<Completion>,
}

/// The group coordinator of this broker.
pub struct GroupCoordinator {
    logs: Arc<LogManager>,
    config: Arc<GroupConfig>,
    shards: Vec<Shard>,
    active: AtomicBool,
    /// The topics consumer groups subscribe to, rebuilt when the log manager's topic set moved
    /// on (Kafka's coordinators get a new `MetadataImage` the same way).
    topics: Mutex<Arc<TopicsImage>>,
}

impl GroupCoordinator {
    /// Registers `__consumer_offsets` with the log manager and rebuilds every shard by
    /// replaying its partition. Blocking: run it before serving.
    pub fn load(logs: Arc<LogManager>, settings: &Settings) -> Result<GroupCoordinator> {
        // Kafka refuses to start on inconsistent group.consumer.* bounds.
        crate::groups::modern::ConsumerGroupConfig::validate(settings)
            .map_err(Error::InvalidConfig)?;
        let config = Arc::new(GroupConfig::from_settings(settings));
        logs.register_internal_topic(offsets_topic_spec(&config));
        let existing = logs.topic(GROUP_METADATA_TOPIC_NAME);
        // An existing topic keeps its partition count: the group-to-partition mapping must not
        // change under the data (Kafka reads the count from metadata at start-up too).
        let n = existing
            .as_ref()
            .map(|t| t.partitions.len() as i32)
            .filter(|n| *n > 0)
            .unwrap_or(config.offsets_topic_num_partitions);
        let started = std::time::Instant::now();
        let mut shards = Vec::with_capacity(n as usize);
        for i in 0..n {
            let mut st = ShardState::new(i, config.clone());
            st.core.group_configs = Some(logs.group_configs());
            st.core.now = now_ms();
            if let Some(p) = existing.as_ref().and_then(|t| t.partition(i)) {
                loader::load(&mut st, p, config.offsets_load_buffer_size)?;
            }
            st.on_loaded();
            st.core.wake = false;
            shards.push(Shard {
                state: Mutex::new(st),
                wake: Notify::new(),
            });
        }
        let groups: usize = shards.iter().map(|s| s.lock().groups.len()).sum();
        info!(
            partitions = n,
            groups,
            load_ms = started.elapsed().as_millis() as u64,
            "group coordinator loaded"
        );
        let topics = Mutex::new(Arc::new(TopicsImage::from_logs(&logs)));
        Ok(GroupCoordinator {
            logs,
            config,
            shards,
            active: AtomicBool::new(true),
            topics,
        })
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Number of `__consumer_offsets` partitions (= shards).
    pub fn num_partitions(&self) -> i32 {
        self.shards.len() as i32
    }

    /// The partition of `__consumer_offsets` that holds `group_id`.
    pub fn partition_for(&self, group_id: &str) -> i32 {
        partition_for(group_id, self.num_partitions())
    }

    fn shard_index(&self, group_id: &str) -> usize {
        self.partition_for(group_id) as usize
    }

    /// Creates `__consumer_offsets` if it does not exist yet (FindCoordinator does this).
    pub fn ensure_topic(&self) -> Result<()> {
        self.logs
            .get_or_create_internal(GROUP_METADATA_TOPIC_NAME)
            .map(|_| ())
    }

    /// The current topics image, rebuilt when topics were created, deleted or changed.
    pub fn topics_image(&self) -> Arc<TopicsImage> {
        let mut cur = self.topics.lock().unwrap_or_else(|e| e.into_inner());
        let version = self.logs.topics_version();
        if cur.version != version {
            *cur = Arc::new(TopicsImage::from_logs(&self.logs));
        }
        cur.clone()
    }

    fn check_active(&self) -> Result<()> {
        if self.active.load(Ordering::Acquire) {
            Ok(())
        } else {
            Err(Error::CoordinatorNotAvailable)
        }
    }

    /// Stops serving: parked JoinGroup/SyncGroup requests are answered NOT_COORDINATOR and new
    /// requests COORDINATOR_NOT_AVAILABLE, so shutdown does not wait for rebalances.
    pub fn shutdown(&self) {
        self.active.store(false, Ordering::Release);
        for s in &self.shards {
            s.lock().unload();
        }
    }

    /// One task per shard firing its deadlines (session, rebalance and sync timeouts, offset
    /// expiration).
    pub fn spawn_timers(
        self: &Arc<Self>,
        shutdown: &broadcast::Receiver<()>,
    ) -> Vec<JoinHandle<()>> {
        (0..self.shards.len())
            .map(|i| {
                let me = self.clone();
                let mut shutdown = shutdown.resubscribe();
                tokio::spawn(async move {
                    loop {
                        let image = me.topics_image();
                        let (next, _) = me
                            .run(i, |st| {
                                st.core.topics = image;
                                st.run_expired(tokio::time::Instant::now());
                                st.core.timer.next_deadline()
                            })
                            .await;
                        let sleep = async {
                            match next {
                                Some(at) => tokio::time::sleep_until(at).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            _ = shutdown.recv() => break,
                            _ = sleep => {}
                            _ = me.shards[i].wake.notified() => {}
                        }
                    }
                })
            })
            .collect()
    }

    /// [`Self::run`] for a request answered from `op`'s result: a failed write of the records it
    /// queued fails the request, with the code Kafka's
    /// `appendGroupMetadataErrorToResponseError` gives.
    async fn run_request<T>(
        &self,
        index: usize,
        op: impl FnOnce(&mut ShardState) -> Result<T>,
    ) -> Result<T> {
        let (r, outcome) = self.run(index, op).await;
        outcome.map_err(append_error_to_response)?;
        r
    }

    /// Runs `op` on a shard, then appends the records it queued (in order, under the same lock),
    /// flushes them when the policy asks, and runs their completions. Returns the operation's
    /// result and the first write failure.
    async fn run<R>(&self, index: usize, op: impl FnOnce(&mut ShardState) -> R) -> (R, Result<()>) {
        let shard = &self.shards[index];
        let mut outcome = Ok(());
        let mut deferred = Vec::new();
        let r = {
            let mut st = shard.lock();
            st.core.now = now_ms();
            let r = op(&mut st);
            self.drain(&mut st, &mut deferred, &mut outcome);
            self.maybe_wake(shard, &mut st);
            r
        };
        while let Some(target) = deferred
            .iter()
            .max_by_key(|d| d.upto)
            .map(|d| (d.partition.clone(), d.upto))
        {
            let res = self.flush(target.0, target.1).await;
            if let (Err(e), Ok(())) = (&res, &outcome) {
                outcome = Err(e.clone());
            }
            let mut st = shard.lock();
            st.core.now = now_ms();
            for d in deferred.drain(..) {
                if let Some(cb) = d.on_done {
                    cb(&mut st, res.clone());
                }
            }
            self.drain(&mut st, &mut deferred, &mut outcome);
            self.maybe_wake(shard, &mut st);
        }
        (r, outcome)
    }

    fn maybe_wake(&self, shard: &Shard, st: &mut ShardState) {
        if std::mem::take(&mut st.core.wake) {
            shard.wake.notify_one();
        }
    }

    /// Appends every queued write; completions of writes that need no flush run at once.
    fn drain(&self, st: &mut ShardState, deferred: &mut Vec<Deferred>, outcome: &mut Result<()>) {
        loop {
            let writes = std::mem::take(&mut st.core.writes);
            if writes.is_empty() {
                return;
            }
            for w in writes {
                match self.append(st.index, &w.records, st.core.now, w.producer) {
                    Err(e) => {
                        warn!(
                            partition = st.index,
                            records = w.records.len(),
                            "coordinator write failed: {e}"
                        );
                        if outcome.is_ok() {
                            *outcome = Err(e.clone());
                        }
                        if let Some(cb) = w.on_done {
                            cb(st, Err(e));
                        }
                    }
                    Ok(Appended { base_offset, flush }) => {
                        if w.replay {
                            let pid = if w.producer.transactional {
                                w.producer.id
                            } else {
                                NO_PRODUCER_ID
                            };
                            for (i, r) in w.records.iter().enumerate() {
                                st.replay(base_offset + i as i64, pid, r);
                            }
                        }
                        match flush {
                            Some((partition, upto)) => deferred.push(Deferred {
                                partition,
                                upto,
                                on_done: w.on_done,
                            }),
                            None => {
                                if let Some(cb) = w.on_done {
                                    cb(st, Ok(()));
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Appends `records` as one batch to partition `index` (Kafka's coordinator appends with
    /// `AppendOrigin.COORDINATOR`). Returns the base offset, and the flush the policy requires
    /// before the write counts as done.
    fn append(
        &self,
        index: i32,
        records: &[CoordinatorRecord],
        now: i64,
        producer: Producer,
    ) -> Result<Appended> {
        let topic = self
            .logs
            .get_or_create_internal(GROUP_METADATA_TOPIC_NAME)?;
        let partition = topic
            .partition(index)
            .cloned()
            .ok_or(Error::NotCoordinator)?;
        let simple: Vec<_> = records.iter().map(CoordinatorRecord::encode).collect();
        if producer.transactional {
            // A zombie's offsets must not land after its successor fenced it (Kafka's
            // producer-state epoch check on the coordinator's append).
            partition.check_producer_epoch(producer.id, producer.epoch)?;
        }
        let info = crate::log::internal_append::append_records(&partition, &simple, now, producer)?;
        let flush = (info.needs_flush || self.config.flush_before_ack)
            .then(|| (partition, info.last_offset + 1));
        Ok(Appended {
            base_offset: info.base_offset,
            flush,
        })
    }

    async fn flush(&self, partition: Arc<Partition>, upto: i64) -> Result<()> {
        let timeout = Duration::from_millis(self.config.offsets_commit_timeout_ms as u64);
        match tokio::time::timeout(timeout, partition.flush_to(upto)).await {
            Ok(r) => r,
            Err(_) => Err(Error::RequestTimedOut),
        }
    }

    // --- classic group protocol ------------------------------------------------------------------

    /// JoinGroup: answers when the rebalance reaches this member.
    pub async fn join_group(&self, req: JoinRequest) -> JoinResult {
        let member_id = req.member_id.clone();
        if let Err(e) = self.check_active() {
            return JoinResult::error(&member_id, e);
        }
        if req.group_id.is_empty() {
            return JoinResult::error(&member_id, Error::InvalidGroupId);
        }
        if req.session_timeout_ms < self.config.min_session_timeout_ms
            || req.session_timeout_ms > self.config.max_session_timeout_ms
        {
            return JoinResult::error(&member_id, Error::InvalidSessionTimeout);
        }
        let (tx, rx) = oneshot::channel();
        let idx = self.shard_index(&req.group_id);
        // A failed write answers the parked request through its completion.
        let _ = self.run(idx, |st| st.classic_join(req, tx)).await;
        rx.await
            .unwrap_or_else(|_| JoinResult::error(&member_id, Error::CoordinatorNotAvailable))
    }

    /// SyncGroup: the leader's call stores the assignment; the others wait for it.
    pub async fn sync_group(&self, req: SyncRequest) -> SyncResult {
        if let Err(e) = self.check_active() {
            return SyncResult::error(e);
        }
        if req.group_id.is_empty() {
            return SyncResult::error(Error::InvalidGroupId);
        }
        let (tx, rx) = oneshot::channel();
        let idx = self.shard_index(&req.group_id);
        let _ = self.run(idx, |st| st.classic_sync(req, tx)).await;
        rx.await
            .unwrap_or_else(|_| SyncResult::error(Error::CoordinatorNotAvailable))
    }

    pub async fn heartbeat(
        &self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<()> {
        self.check_active()?;
        if group_id.is_empty() {
            return Err(Error::InvalidGroupId);
        }
        let idx = self.shard_index(group_id);
        self.run(idx, |st| {
            st.classic_heartbeat(group_id, member_id, instance_id, generation_id)
        })
        .await
        .0
    }

    pub async fn leave_group(
        &self,
        group_id: &str,
        members: Vec<LeavingMember>,
    ) -> Result<Vec<LeaveResult>> {
        self.check_active()?;
        if group_id.is_empty() {
            return Err(Error::InvalidGroupId);
        }
        let idx = self.shard_index(group_id);
        self.run_request(idx, |st| st.classic_leave(group_id, members))
            .await
    }

    // --- KIP-848 consumer groups ----------------------------------------------------------------

    /// ConsumerGroupHeartbeat: answers once the records it produced are written.
    pub async fn consumer_group_heartbeat(
        &self,
        req: HeartbeatRequest,
    ) -> Result<HeartbeatResponse> {
        self.check_active()?;
        heartbeat::validate(&req, &self.config.consumer)?;
        let image = self.topics_image();
        let idx = self.shard_index(&req.group_id);
        self.run_request(idx, |st| {
            st.core.topics = image;
            st.consumer_group_heartbeat(req)
        })
        .await
    }

    /// ConsumerGroupDescribe of each group.
    pub fn consumer_group_describe(
        &self,
        group_ids: &[String],
    ) -> Result<Vec<DescribedConsumerGroup>> {
        self.check_active()?;
        let image = self.topics_image();
        Ok(group_ids
            .iter()
            .map(|id| {
                let mut st = self.shards[self.shard_index(id)].lock();
                st.core.topics = image.clone();
                st.consumer_group_describe(id)
            })
            .collect())
    }

    // --- KIP-932 share groups -------------------------------------------------------------------

    /// ShareGroupHeartbeat: answers once the records it produced are written.
    pub async fn share_group_heartbeat(
        &self,
        req: ShareHeartbeatRequest,
    ) -> Result<ShareHeartbeatResponse> {
        self.check_active()?;
        share_heartbeat::validate(&req)?;
        let image = self.topics_image();
        let idx = self.shard_index(&req.group_id);
        self.run_request(idx, |st| {
            st.core.topics = image;
            st.share_group_heartbeat(req)
        })
        .await
    }

    /// ShareGroupDescribe of each group.
    pub fn share_group_describe(&self, group_ids: &[String]) -> Result<Vec<DescribedShareGroup>> {
        self.check_active()?;
        let image = self.topics_image();
        Ok(group_ids
            .iter()
            .map(|id| {
                let mut st = self.shards[self.shard_index(id)].lock();
                st.core.topics = image.clone();
                st.share_group_describe(id)
            })
            .collect())
    }

    /// Whether `group_id` is a share group, and whether it has members (the share-group offset
    /// APIs check both).
    pub fn share_group_status(&self, group_id: &str) -> Result<Option<bool>> {
        self.check_active()?;
        let st = self.shards[self.shard_index(group_id)].lock();
        Ok(match st.groups.get(group_id) {
            Some(crate::groups::group::Group::Share(g)) => Some(!g.members.is_empty()),
            _ => None,
        })
    }

    // --- offsets -----------------------------------------------------------------------------------

    /// OffsetCommit: answers after the records are appended (and flushed per policy).
    pub async fn commit_offsets(&self, req: CommitRequest) -> Result<Vec<Option<Error>>> {
        self.check_active()?;
        let idx = self.shard_index(&req.group_id);
        self.run_request(idx, |st| st.commit_offsets(req)).await
    }

    /// TxnOffsetCommit (KIP-98): the offsets are written to `__consumer_offsets` in the
    /// producer's transaction and become visible when its COMMIT marker lands there.
    pub async fn txn_commit_offsets(
        &self,
        req: CommitRequest,
        producer: Producer,
    ) -> Result<Vec<Option<Error>>> {
        self.check_active()?;
        let idx = self.shard_index(&req.group_id);
        let (r, outcome) = self
            .run(idx, |st| st.txn_commit_offsets(req, producer))
            .await;
        outcome.map_err(|e| match e {
            Error::InvalidProducerEpoch(m) => Error::ProducerFenced(m),
            e => append_error_to_response(e),
        })?;
        r
    }

    /// Writes a transaction's COMMIT or ABORT marker to partition `index` of
    /// `__consumer_offsets` and settles the producer's pending offsets there (the role of
    /// Kafka's `GroupCoordinator.onTransactionCompleted` after the marker is written).
    pub async fn complete_transaction(
        &self,
        index: i32,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
    ) -> Result<()> {
        let topic = self
            .logs
            .get_or_create_internal(GROUP_METADATA_TOPIC_NAME)?;
        let partition = topic
            .partition(index)
            .cloned()
            .ok_or(Error::NotCoordinator)?;
        let shard = self
            .shards
            .get(index as usize)
            .ok_or(Error::NotCoordinator)?;
        let flush_to = {
            let mut st = shard.lock();
            let info = partition.append_txn_marker(
                producer_id,
                producer_epoch,
                coordinator_epoch,
                commit,
                now_ms(),
            )?;
            st.offsets.replay_end_transaction(producer_id, commit);
            (info.needs_flush || self.config.flush_before_ack).then_some(info.last_offset + 1)
        };
        if let Some(upto) = flush_to {
            self.flush(partition, upto).await?;
        }
        Ok(())
    }

    /// OffsetFetch of the given topics' partitions, or (`None`) of every committed partition.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
        require_stable: bool,
    ) -> Result<Vec<(String, Vec<FetchedOffset>)>> {
        self.fetch_offsets_as(group_id, topics, require_stable, None, -1)
    }

    /// OffsetFetch v9+ with the member id and epoch of a KIP-848 member: a consumer group
    /// checks them (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID) before answering
    /// (`ConsumerGroup.validateOffsetFetch`); classic groups ignore them.
    pub fn fetch_offsets_as(
        &self,
        group_id: &str,
        topics: Option<&[(String, Vec<i32>)]>,
        require_stable: bool,
        member_id: Option<&str>,
        member_epoch: i32,
    ) -> Result<Vec<(String, Vec<FetchedOffset>)>> {
        self.check_active()?;
        let st = self.shards[self.shard_index(group_id)].lock();
        if let Some(g) = st.groups.get(group_id).and_then(|g| g.consumer()) {
            g.validate_offset_fetch(member_id, member_epoch)?;
        }
        Ok(match topics {
            Some(t) => st.fetch_offsets(group_id, t, require_stable),
            None => st.fetch_all_offsets(group_id, require_stable),
        })
    }

    pub async fn delete_offsets(
        &self,
        group_id: &str,
        topics: &[(String, Vec<i32>)],
    ) -> Result<TopicErrors> {
        self.check_active()?;
        if group_id.is_empty() {
            return Err(Error::InvalidGroupId);
        }
        let idx = self.shard_index(group_id);
        self.run_request(idx, |st| st.delete_offsets(group_id, topics))
            .await
    }

    /// Removes the committed offsets of a deleted topic from every group.
    pub async fn on_topic_deleted(&self, topic: &str) {
        for i in 0..self.shards.len() {
            let (_, outcome) = self.run(i, |st| st.on_topic_deleted(topic)).await;
            if let Err(e) = outcome {
                warn!(
                    topic,
                    "failed to delete the offsets of a deleted topic: {e}"
                );
            }
        }
    }

    // --- admin --------------------------------------------------------------------------------------

    pub fn list_groups(&self, states: &[String], types: &[String]) -> Result<Vec<ListedGroup>> {
        self.check_active()?;
        let mut out = Vec::new();
        for s in &self.shards {
            out.extend(s.lock().list_groups(states, types));
        }
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(out)
    }

    pub fn describe_groups(&self, group_ids: &[String]) -> Result<Vec<DescribedGroup>> {
        self.check_active()?;
        Ok(group_ids
            .iter()
            .map(|id| self.shards[self.shard_index(id)].lock().describe_group(id))
            .collect())
    }

    /// DeleteGroups, shard by shard; a failed write fails every group of that shard.
    pub async fn delete_groups(
        &self,
        group_ids: &[String],
    ) -> Result<Vec<(String, Option<Error>)>> {
        self.check_active()?;
        let mut by_shard: Vec<Vec<String>> = vec![Vec::new(); self.shards.len()];
        for id in group_ids {
            let ids = &mut by_shard[self.shard_index(id)];
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        let mut results = Vec::new();
        for (i, ids) in by_shard
            .into_iter()
            .enumerate()
            .filter(|(_, ids)| !ids.is_empty())
        {
            let (r, outcome) = self.run(i, |st| st.delete_groups(&ids)).await;
            match outcome {
                Ok(()) => {
                    // A deleted group's configs go with it (Kafka's `GroupCoordinatorService
                    // .deleteGroups` removes them once the group's tombstones are written).
                    // The state file is rewritten (and fsynced) off the runtime threads.
                    let deleted: Vec<String> = r
                        .iter()
                        .filter(|(_, e)| e.is_none())
                        .map(|(id, _)| id.clone())
                        .collect();
                    if !deleted.is_empty() {
                        let logs = self.logs.clone();
                        let removed = tokio::task::spawn_blocking(move || {
                            for id in &deleted {
                                if let Err(e) = logs.delete_group_configs(id) {
                                    warn!(group = %id, "cannot remove the deleted group's configs: {e}");
                                }
                            }
                        })
                        .await;
                        if let Err(e) = removed {
                            warn!("cannot remove the deleted groups' configs: {e}");
                        }
                    }
                    results.extend(r)
                }
                Err(e) => {
                    let e = append_error_to_response(e);
                    results.extend(ids.into_iter().map(|id| (id, Some(e.clone()))));
                }
            }
        }
        Ok(results)
    }

    /// Runs the expiration of offsets and empty groups now (tests and tools).
    pub async fn expire_now(&self) {
        for i in 0..self.shards.len() {
            if let (_, Err(e)) = self.run(i, |st| st.cleanup_group_metadata()).await {
                warn!(partition = i, "offset expiration failed: {e}");
            }
        }
    }
}

/// `__consumer_offsets` as Kafka creates it (`groupMetadataTopicConfigs`): compacted, the
/// producer's compression kept, small segments.
fn offsets_topic_spec(config: &GroupConfig) -> NewTopic {
    let mut configs = std::collections::BTreeMap::new();
    configs.insert("cleanup.policy".to_string(), "compact".to_string());
    configs.insert("compression.type".to_string(), "producer".to_string());
    configs.insert(
        "segment.bytes".to_string(),
        config.offsets_topic_segment_bytes.to_string(),
    );
    NewTopic {
        name: GROUP_METADATA_TOPIC_NAME.to_string(),
        num_partitions: config.offsets_topic_num_partitions,
        replication_factor: 1,
        assignments: Vec::new(),
        configs,
        internal: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::offset_manager::CommitPartition;
    use crate::settings::Overrides;

    fn open(dir: &std::path::Path, partitions: i32) -> (Arc<LogManager>, GroupCoordinator) {
        let cli = Overrides {
            data_dir: Some(dir.to_string_lossy().to_string()),
            overrides: vec![(
                "offsets.topic.num.partitions".into(),
                partitions.to_string(),
            )],
            ..Default::default()
        };
        let settings = Arc::new(Settings::load(&cli).unwrap());
        let logs = Arc::new(LogManager::open(settings.clone()).unwrap());
        let groups = GroupCoordinator::load(logs.clone(), &settings).unwrap();
        (logs, groups)
    }

    #[tokio::test]
    async fn commits_survive_a_restart_and_the_topic_is_made_on_first_need() {
        let dir = tempfile::tempdir().unwrap();
        let (logs, groups) = open(dir.path(), 5);
        assert!(logs.topic(GROUP_METADATA_TOPIC_NAME).is_none());
        let r = groups
            .commit_offsets(CommitRequest {
                group_id: "g".into(),
                member_id: String::new(),
                group_instance_id: None,
                generation_id: -1,
                retention_time_ms: -1,
                api_version: 9,
                partitions: vec![CommitPartition {
                    topic: "t".into(),
                    partition: 2,
                    offset: 17,
                    leader_epoch: 0,
                    metadata: Some("hi".into()),
                }],
            })
            .await
            .unwrap();
        assert_eq!(r, vec![None]);
        let topic = logs.topic(GROUP_METADATA_TOPIC_NAME).unwrap();
        assert!(topic.internal);
        assert_eq!(topic.partitions.len(), 5);
        assert!(topic.config.cleanup_compact);
        assert_eq!(
            topic.partitions[groups.partition_for("g") as usize].log_end_offset(),
            1
        );
        drop(groups);
        logs.shutdown().unwrap();
        drop(logs);

        // A different configured count does not move groups: the topic's count wins.
        let (_logs, groups) = open(dir.path(), 50);
        assert_eq!(groups.num_partitions(), 5);
        let f = groups
            .fetch_offsets("g", Some(&[("t".into(), vec![2])]), false)
            .unwrap();
        assert_eq!((f[0].1[0].offset, f[0].1[0].metadata.as_str()), (17, "hi"));
        assert_eq!(groups.list_groups(&[], &[]).unwrap()[0].group_id, "g");
    }
}
