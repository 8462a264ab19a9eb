//! The share-partition manager (Kafka's `SharePartitionManager` with its `ShareSessionCache`):
//! the share partitions of this broker, created lazily on the first ShareFetch of a group for a
//! partition (from `__share_group_state`, or at `share.auto.offset.reset` when the group never
//! read it), the share sessions of the members, and the ShareFetch/ShareAcknowledge paths.
//!
//! Sessions follow Kafka's rules: epoch 0 opens (replacing any session of the member), -1
//! closes (after its acknowledgements, releasing what the member still holds), any other
//! epoch must be the session's next one (INVALID_SHARE_SESSION_EPOCH, SHARE_SESSION_NOT_FOUND).
//! A session also ends with the connection that opened it, releasing the member's records.
//! ShareFetch and ShareAcknowledge do not ask the group coordinator about the member, as in
//! Kafka: a share partition's records are owned by member id.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use tokio::sync::Notify;
use tracing::{debug, warn};
use uuid::Uuid;

use crate::broker::now_ms;
use crate::configs::group::GroupConfigStore;
use crate::error::{Error, Result};
use crate::log::{LogManager, Partition};
use crate::settings::Settings;
use crate::share::dead_letter::{self, DeadLetterConfig};
use crate::share::partition::{AcquiredRange, Limits, LogRead, SharePartition, StateBatch};
use crate::share::persister::{self, Persisted, Persister};
use crate::share::state_records::StateKey;

/// The broker settings of share partitions and sessions.
#[derive(Clone, Debug)]
pub struct ShareConfig {
    pub delivery_limit: i16,
    pub lock_duration_ms: i64,
    pub max_in_flight: usize,
    pub max_sessions: usize,
    pub fetch_max_bytes: usize,
}

impl ShareConfig {
    pub fn from_settings(s: &Settings) -> ShareConfig {
        ShareConfig {
            delivery_limit: s.i32("group.share.delivery.count.limit").clamp(2, 10) as i16,
            lock_duration_ms: s.i64("group.share.record.lock.duration.ms").max(1),
            max_in_flight: s.i32("group.share.partition.max.record.locks").max(1) as usize,
            max_sessions: s.i32("group.share.max.share.sessions").max(1) as usize,
            fetch_max_bytes: s.i32("fetch.max.bytes").max(1024) as usize,
        }
    }
}

/// The first read of a share fetch per partition (doubled while more is acquired): about the
/// 500 records of a default `max.poll.records` of 100-byte records in whole batches.
const SHARE_READ_CHUNK: usize = 64 * 1024;

/// One acknowledgement batch of a request: first offset, last offset, types.
pub type AckBatch = (i64, i64, Vec<i8>);

/// A partition a request names, with its acknowledgements.
#[derive(Clone, Debug)]
pub struct RequestPartition {
    pub topic_id: Uuid,
    pub partition: i32,
    pub acks: Vec<AckBatch>,
}

/// A ShareFetch as the handler resolved it.
#[derive(Clone, Debug)]
pub struct FetchParams {
    pub group_id: String,
    pub member_id: String,
    pub epoch: i32,
    pub max_wait_ms: i32,
    pub min_bytes: i32,
    pub max_bytes: i32,
    pub max_records: i32,
    pub partitions: Vec<RequestPartition>,
    pub forgotten: Vec<(Uuid, i32)>,
    pub peer: SocketAddr,
}

/// One partition of a ShareFetch or ShareAcknowledge response.
#[derive(Clone, Debug, Default)]
pub struct PartitionResult {
    pub topic_id: Uuid,
    pub partition: i32,
    pub error: Option<Error>,
    pub ack_error: Option<Error>,
    pub records: Vec<Bytes>,
    pub acquired: Vec<AcquiredRange>,
}

/// One share partition as the metrics see it.
#[derive(Clone, Debug)]
pub struct SharePartitionMetrics {
    pub group: String,
    pub topic: String,
    pub partition: i32,
    pub start_offset: i64,
    /// SPEO - SPSO: records between the start and end offsets (acquired, available again, or
    /// acknowledged after a gap).
    pub in_flight: i64,
    pub acquired: usize,
    pub lag: i64,
    /// Since the share partition was loaded.
    pub events: crate::share::partition::Events,
}

/// One topic of a DescribeShareGroupOffsets answer: `(partition, start offset, leader epoch)`.
#[derive(Clone, Debug)]
pub struct DescribedTopicOffsets {
    pub name: String,
    pub topic_id: Uuid,
    pub partitions: Vec<(i32, i64, i32)>,
}

/// A whole response: a top-level error, or the partitions.
#[derive(Clone, Debug, Default)]
pub struct FetchResult {
    pub error: Option<Error>,
    pub lock_timeout_ms: i32,
    pub partitions: Vec<PartitionResult>,
}

#[derive(Clone, Debug)]
struct SessionPartition {
    topic_id: Uuid,
    partition: i32,
    /// Sent in the next response even without records (newly added, or after an error).
    requires_update: bool,
}

#[derive(Debug)]
struct Session {
    /// The epoch the next request must carry.
    epoch: i32,
    partitions: Vec<SessionPartition>,
    peer: SocketAddr,
}

/// Kafka's `ShareRequestMetadata.nextEpoch`.
fn next_epoch(e: i32) -> i32 {
    if e < 0 {
        -1
    } else if e == i32::MAX {
        1
    } else {
        e + 1
    }
}

type SessionKey = (String, String);

/// The share partitions and sessions of this broker.
pub struct ShareManager {
    logs: Arc<LogManager>,
    persister: Persister,
    /// Persisted state replayed at start-up, taken when the share partition is first used.
    loaded: Mutex<HashMap<StateKey, Persisted>>,
    partitions: DashMap<StateKey, Arc<Mutex<SharePartition>>>,
    sessions: Mutex<HashMap<SessionKey, Session>>,
    config: ShareConfig,
    group_configs: Arc<GroupConfigStore>,
    /// Wakes parked fetches when records become available again (release, lock expiry).
    released: Notify,
}

fn lock(p: &Mutex<SharePartition>) -> MutexGuard<'_, SharePartition> {
    p.lock().unwrap_or_else(|e| e.into_inner())
}

impl ShareManager {
    /// Replays `__share_group_state`. Blocking: run it before serving.
    pub fn load(logs: Arc<LogManager>, settings: &Settings) -> Result<ShareManager> {
        let (persister, loaded) = Persister::load(logs.clone(), settings)?;
        Ok(ShareManager {
            group_configs: logs.group_configs(),
            logs,
            persister,
            loaded: Mutex::new(loaded),
            partitions: DashMap::new(),
            sessions: Mutex::new(HashMap::new()),
            config: ShareConfig::from_settings(settings),
            released: Notify::new(),
        })
    }

    /// Prunes `__share_group_state` of records later snapshots made redundant.
    pub fn prune_state(&self) -> Vec<(i32, i64)> {
        self.persister.prune()
    }

    /// Creates `__share_group_state` if it does not exist yet (FindCoordinator with the SHARE
    /// key type does this, as for `__consumer_offsets`).
    pub fn ensure_topic(&self) -> Result<()> {
        self.persister.ensure_topic()
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<SessionKey, Session>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `share.record.lock.duration.ms` of the group, else the broker's.
    pub fn lock_duration_ms(&self, group: &str) -> i64 {
        self.group_configs
            .get(group)
            .get("share.record.lock.duration.ms")
            .and_then(|v| v.parse().ok())
            .unwrap_or(self.config.lock_duration_ms)
    }

    fn limits(&self, group: &str) -> Limits {
        Limits {
            lock_duration_ms: self.lock_duration_ms(group),
            delivery_limit: self.config.delivery_limit,
            max_in_flight: self.config.max_in_flight,
        }
    }

    /// The group's dead-letter topic, when it has one (`errors.deadletterqueue.topic.name`).
    fn dead_letter_config(&self, group: &str) -> Option<DeadLetterConfig> {
        let cfg = self.group_configs.get(group);
        let topic = cfg
            .get("errors.deadletterqueue.topic.name")
            .filter(|t| !t.is_empty())?
            .clone();
        Some(DeadLetterConfig {
            topic,
            copy_record: cfg
                .get("errors.deadletterqueue.copy.record.enable")
                .is_none_or(|v| v == "true"),
        })
    }

    /// Runs `op` on a locked share partition, copying what it archived for the dead-letter
    /// topic (if the group has one) before the lock is released.
    fn with_dead_letters<R>(
        &self,
        key: &StateKey,
        sp: &mut SharePartition,
        op: impl FnOnce(&mut SharePartition) -> R,
    ) -> R {
        let config = self.dead_letter_config(&key.group);
        sp.dead_letters = config.as_ref().map(|_| Vec::new());
        let r = op(sp);
        let letters = sp.dead_letters.take().unwrap_or_default();
        if let (Some(config), false) = (config, letters.is_empty()) {
            let copied = self
                .log_partition(key.topic_id, key.partition)
                .and_then(|log| {
                    dead_letter::copy(&self.logs, &log, &key.group, &letters, &config, now_ms())
                });
            match copied {
                Ok(()) => sp.events.dead_lettered += letters.len() as u64,
                Err(e) => warn!(group = %key.group, topic = %config.topic, records = letters.len(),
                    "cannot copy records to the dead-letter topic: {e}"),
            }
        }
        r
    }

    fn read_committed(&self, group: &str) -> bool {
        self.group_configs
            .get(group)
            .get("share.isolation.level")
            .is_some_and(|v| v == "read_committed")
    }

    fn log_partition(&self, topic_id: Uuid, partition: i32) -> Result<Arc<Partition>> {
        let t = self
            .logs
            .topic_by_id(topic_id)
            .ok_or(Error::UnknownTopicId)?;
        t.partition(partition)
            .cloned()
            .ok_or(Error::UnknownTopicOrPartition)
    }

    /// Where a share partition without state starts: `share.auto.offset.reset` of the group
    /// (`latest` by default, `earliest`, or `by_duration:<ISO-8601>`).
    fn initial_offset(&self, group: &str, log: &Partition) -> Result<i64> {
        let reset = self
            .group_configs
            .get(group)
            .get("share.auto.offset.reset")
            .cloned()
            .unwrap_or_else(|| "latest".to_string());
        let reset = reset.trim().to_ascii_lowercase();
        if reset == "earliest" {
            return Ok(log.log_start_offset());
        }
        if let Some(d) = reset.strip_prefix("by_duration:") {
            let ms = iso_duration_ms(d.trim()).unwrap_or(0);
            return Ok(match log.offset_for_timestamp(now_ms() - ms)? {
                Some((_, offset)) => offset,
                None => log.high_watermark(),
            });
        }
        Ok(log.high_watermark())
    }

    /// The share partition of `key`, initialised on first use.
    fn share_partition(&self, key: &StateKey) -> Result<Arc<Mutex<SharePartition>>> {
        if let Some(p) = self.partitions.get(key) {
            return Ok(p.clone());
        }
        let log = self.log_partition(key.topic_id, key.partition)?;
        let persisted = {
            let mut loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            loaded.remove(key)
        };
        let mut sp = match persisted {
            Some(p) if p.start_offset >= 0 => {
                let mut sp = SharePartition::new(p.start_offset, p.state_epoch, &p.batches);
                sp.persisted_start = p.start_offset;
                sp
            }
            other => SharePartition::new(
                self.initial_offset(&key.group, &log)?,
                other.map_or(0, |p| p.state_epoch),
                &[],
            ),
        };
        sp.on_log_start(log.log_start_offset());
        debug!(group = %key.group, partition = %log.name(), start = sp.start_offset(), "share partition initialised");
        Ok(self
            .partitions
            .entry(key.clone())
            .or_insert_with(|| Arc::new(Mutex::new(sp)))
            .clone())
    }

    /// Persists `changed` runs of a share partition (under its lock), returning the flush to
    /// wait for before answering.
    /// Each write carries the start offset from before the operation moved it, as Kafka's
    /// `SharePartition` writes its state before it updates its offsets; replay moves past the
    /// acknowledged records again.
    fn persist(
        &self,
        key: &StateKey,
        sp: &mut SharePartition,
        start_before: i64,
        changed: &[StateBatch],
    ) -> Result<persister::Flush> {
        if changed.is_empty() {
            return Ok(None);
        }
        let flush = self.persister.write(
            key,
            start_before,
            sp.state_epoch,
            changed,
            || sp.state_batches_from(start_before),
            now_ms(),
        )?;
        sp.persisted_start = start_before;
        Ok(flush)
    }

    /// Expires the locks of a share partition (under its lock) and persists what changed.
    fn expire(&self, key: &StateKey, sp: &mut SharePartition, limits: &Limits) -> persister::Flush {
        let start_before = sp.start_offset();
        let before = sp.state_batches();
        let freed = self.with_dead_letters(key, sp, |sp| sp.expire_locks(now_ms(), limits));
        if !freed && sp.state_batches() == before {
            return None;
        }
        self.released.notify_waiters();
        let changed = sp.state_batches_from(start_before);
        match self.persist(key, sp, start_before, &changed) {
            Ok(f) => f,
            Err(e) => {
                warn!(group = %key.group, "cannot persist expired share locks: {e}");
                None
            }
        }
    }

    /// Applies one partition's acknowledgements for `member`.
    async fn acknowledge_partition(
        &self,
        group: &str,
        member: &str,
        p: &RequestPartition,
    ) -> Option<Error> {
        if p.acks.is_empty() {
            return None;
        }
        // Batches must ascend (Kafka's `validateAcknowledgementBatches`).
        if p.acks.windows(2).any(|w| w[1].0 < w[0].1) {
            // Without a message, as `KafkaApis.validateAcknowledgementBatches` answers.
            return Some(Error::InvalidRequest(String::new()));
        }
        let key = StateKey {
            group: group.to_string(),
            topic_id: p.topic_id,
            partition: p.partition,
        };
        let Some(sp) = self.partitions.get(&key).map(|e| e.clone()) else {
            return Some(match self.log_partition(p.topic_id, p.partition) {
                Err(e) => e,
                Ok(_) => {
                    Error::InvalidRecordState("The records are not acquired by this member.".into())
                }
            });
        };
        let limits = self.limits(group);
        let flush = {
            let mut sp = lock(&sp);
            let _ = self.expire(&key, &mut sp, &limits);
            let start_before = sp.start_offset();
            let changed = match self
                .with_dead_letters(&key, &mut sp, |sp| sp.acknowledge(member, &p.acks, &limits))
            {
                Ok(c) => c,
                Err(e) => return Some(e),
            };
            if changed
                .iter()
                .any(|b| b.state == crate::share::partition::RecordState::Available)
            {
                self.released.notify_waiters();
            }
            match self.persist(&key, &mut sp, start_before, &changed) {
                Ok(f) => f,
                Err(e) => return Some(e),
            }
        };
        persister::complete(flush).await.err()
    }

    /// Releases what `member` holds in `partitions` (its session ended).
    async fn release(&self, group: &str, member: &str, partitions: &[(Uuid, i32)]) {
        let mut flushes = Vec::new();
        for (topic_id, partition) in partitions {
            let key = StateKey {
                group: group.to_string(),
                topic_id: *topic_id,
                partition: *partition,
            };
            let Some(sp) = self.partitions.get(&key).map(|e| e.clone()) else {
                continue;
            };
            let mut sp = lock(&sp);
            let start_before = sp.start_offset();
            let changed = sp.release_member(member);
            if changed.is_empty() {
                continue;
            }
            match self.persist(&key, &mut sp, start_before, &changed) {
                Ok(f) => flushes.push(f),
                Err(e) => warn!(group, "cannot persist released share records: {e}"),
            }
        }
        self.released.notify_waiters();
        for f in flushes {
            if let Err(e) = persister::complete(f).await {
                warn!(group, "flush of released share records failed: {e}");
            }
        }
    }

    /// ShareFetch (KIP-932): session, acknowledgements, then acquisition with long polling.
    pub async fn fetch(
        &self,
        req: FetchParams,
        shutting_down: tokio::sync::watch::Receiver<bool>,
    ) -> FetchResult {
        let lock_timeout_ms = self.lock_duration_ms(&req.group_id) as i32;
        let error = |e: Error| FetchResult {
            error: Some(e),
            ..Default::default()
        };
        let key = (req.group_id.clone(), req.member_id.clone());
        let has_acks = req.partitions.iter().any(|p| !p.acks.is_empty());
        // The partitions to fetch, and whether this is an incremental (filtered) response.
        let (fetch_set, incremental): (Vec<(Uuid, i32)>, bool) = match req.epoch {
            -1 => {
                if !self.sessions().contains_key(&key) {
                    return error(Error::ShareSessionNotFound);
                }
                (Vec::new(), false)
            }
            0 => {
                if has_acks {
                    return error(Error::InvalidRequest(
                        "Acknowledgements are not allowed in a request that opens a share session."
                            .into(),
                    ));
                }
                let full = {
                    let mut sessions = self.sessions();
                    sessions.remove(&key);
                    sessions.len() >= self.config.max_sessions
                };
                if full {
                    // Kafka answers SHARE_SESSION_LIMIT_REACHED after MaxWaitMs.
                    tokio::time::sleep(Duration::from_millis(req.max_wait_ms.max(0) as u64)).await;
                    return error(Error::ShareSessionLimitReached);
                }
                let mut parts: Vec<SessionPartition> = Vec::new();
                for p in &req.partitions {
                    if !parts
                        .iter()
                        .any(|s| s.topic_id == p.topic_id && s.partition == p.partition)
                    {
                        parts.push(SessionPartition {
                            topic_id: p.topic_id,
                            partition: p.partition,
                            requires_update: false,
                        });
                    }
                }
                let set = parts.iter().map(|s| (s.topic_id, s.partition)).collect();
                self.sessions().insert(
                    key.clone(),
                    Session {
                        epoch: 1,
                        partitions: parts,
                        peer: req.peer,
                    },
                );
                (set, false)
            }
            e => {
                let mut sessions = self.sessions();
                let Some(s) = sessions.get_mut(&key) else {
                    return error(Error::ShareSessionNotFound);
                };
                if s.epoch != e {
                    return error(Error::InvalidShareSessionEpoch);
                }
                for p in &req.partitions {
                    if !s
                        .partitions
                        .iter()
                        .any(|x| x.topic_id == p.topic_id && x.partition == p.partition)
                    {
                        s.partitions.push(SessionPartition {
                            topic_id: p.topic_id,
                            partition: p.partition,
                            requires_update: true,
                        });
                    }
                }
                s.partitions
                    .retain(|x| !req.forgotten.contains(&(x.topic_id, x.partition)));
                s.epoch = next_epoch(s.epoch);
                // Kafka rotates the partitions by the epoch so each gets its turn first.
                let n = s.partitions.len().max(1);
                let rot = (e as usize) % n;
                let mut set: Vec<(Uuid, i32)> = s
                    .partitions
                    .iter()
                    .map(|x| (x.topic_id, x.partition))
                    .collect();
                let len = set.len();
                set.rotate_left(rot.min(len));
                (set, true)
            }
        };

        // Acknowledgements first.
        let mut ack_errors: Vec<((Uuid, i32), Option<Error>)> = Vec::new();
        for p in req.partitions.iter().filter(|p| !p.acks.is_empty()) {
            let e = self
                .acknowledge_partition(&req.group_id, &req.member_id, p)
                .await;
            ack_errors.push(((p.topic_id, p.partition), e));
        }

        if req.epoch == -1 {
            let session = self.sessions().remove(&key);
            if let Some(s) = session {
                let parts: Vec<(Uuid, i32)> = s
                    .partitions
                    .iter()
                    .map(|x| (x.topic_id, x.partition))
                    .collect();
                self.release(&req.group_id, &req.member_id, &parts).await;
            }
            return FetchResult {
                error: None,
                lock_timeout_ms,
                partitions: ack_errors
                    .into_iter()
                    .map(|((topic_id, partition), e)| PartitionResult {
                        topic_id,
                        partition,
                        ack_error: e,
                        ..Default::default()
                    })
                    .collect(),
            };
        }

        let mut results = self
            .acquire_with_wait(&req, &fetch_set, shutting_down)
            .await;

        if incremental {
            let mut sessions = self.sessions();
            if let Some(s) = sessions.get_mut(&key) {
                results.retain(|r| {
                    let Some(sp) = s
                        .partitions
                        .iter_mut()
                        .find(|x| x.topic_id == r.topic_id && x.partition == r.partition)
                    else {
                        return !r.acquired.is_empty() || r.error.is_some();
                    };
                    let keep = !r.acquired.is_empty() || r.error.is_some() || sp.requires_update;
                    sp.requires_update = r.error.is_some();
                    keep
                });
            }
        }
        for ((topic_id, partition), e) in ack_errors {
            match results
                .iter_mut()
                .find(|r| r.topic_id == topic_id && r.partition == partition)
            {
                Some(r) => r.ack_error = e,
                None => results.push(PartitionResult {
                    topic_id,
                    partition,
                    ack_error: e,
                    ..Default::default()
                }),
            }
        }
        FetchResult {
            error: None,
            lock_timeout_ms,
            partitions: results,
        }
    }

    /// Acquires from every partition of `set`, parking until something is acquired, an error
    /// occurs or `max_wait_ms` passes (Kafka's `DelayedShareFetch`).
    async fn acquire_with_wait(
        &self,
        req: &FetchParams,
        set: &[(Uuid, i32)],
        mut shutting_down: tokio::sync::watch::Receiver<bool>,
    ) -> Vec<PartitionResult> {
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(req.max_wait_ms.max(0) as u64);
        let waiter = Arc::new(Notify::new());
        let mut registered: Vec<Arc<Partition>> = Vec::new();
        let results = loop {
            // Registered before reading, so an append between the read and the wait is seen.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            if registered.is_empty() {
                for (t, p) in set {
                    if let Ok(lp) = self.log_partition(*t, *p) {
                        lp.register_waiter(&waiter);
                        registered.push(lp);
                    }
                }
            } else {
                for lp in &registered {
                    lp.register_waiter(&waiter);
                }
            }
            let (results, next_deadline) = self.acquire_all(req, set);
            let bytes: usize = results
                .iter()
                .flat_map(|r| r.records.iter())
                .map(|b| b.len())
                .sum();
            let acquired = results.iter().any(|r| !r.acquired.is_empty());
            let errors = results.iter().any(|r| r.error.is_some());
            if (acquired && bytes >= req.min_bytes.max(1) as usize)
                || errors
                || set.is_empty()
                || req.max_wait_ms <= 0
                || *shutting_down.borrow()
                || tokio::time::Instant::now() >= deadline
            {
                break results;
            }
            let wake_at = match next_deadline {
                Some(ms) => {
                    let d = (ms - now_ms()).max(0) as u64;
                    deadline.min(tokio::time::Instant::now() + Duration::from_millis(d))
                }
                None => deadline,
            };
            tokio::select! {
                _ = waiter.notified() => {}
                _ = &mut released => {}
                _ = tokio::time::sleep_until(wake_at) => {}
                _ = shutting_down.changed() => {}
            }
        };
        for lp in &registered {
            lp.unregister_waiter(&waiter);
        }
        results
    }

    /// One pass over the partitions: acquisition within the request's record budget. Returns
    /// the results and the earliest lock deadline among them (to wake for expiries).
    fn acquire_all(
        &self,
        req: &FetchParams,
        set: &[(Uuid, i32)],
    ) -> (Vec<PartitionResult>, Option<i64>) {
        let mut budget = req.max_records.max(1) as usize;
        let mut bytes_left = (req.max_bytes.max(0) as usize).min(self.config.fetch_max_bytes);
        let limits = self.limits(&req.group_id);
        let read_committed = self.read_committed(&req.group_id);
        let member: Arc<str> = Arc::from(req.member_id.as_str());
        let mut next_deadline: Option<i64> = None;
        let mut out = Vec::with_capacity(set.len());
        let mut flushes = Vec::new();
        for (topic_id, partition) in set {
            let mut r = PartitionResult {
                topic_id: *topic_id,
                partition: *partition,
                ..Default::default()
            };
            let key = StateKey {
                group: req.group_id.clone(),
                topic_id: *topic_id,
                partition: *partition,
            };
            let acquired = self.log_partition(*topic_id, *partition).and_then(|log| {
                let sp = self.share_partition(&key)?;
                let mut sp = lock(&sp);
                flushes.push(self.expire(&key, &mut sp, &limits));
                sp.on_log_start(log.log_start_offset());
                // Read about what the record budget needs, not the request's MaxBytes (50 MiB
                // from the Java client): a little more each round while records are acquired
                // and budget and bytes are left.
                let mut got = crate::share::partition::Acquisition::default();
                let mut chunk = SHARE_READ_CHUNK;
                while budget > got.count && bytes_left > 0 {
                    let max = bytes_left.min(chunk).max(1);
                    let more =
                        sp.acquire(&member, budget - got.count, now_ms(), &limits, |from| {
                            read_log(&log, from, max, read_committed)
                        })?;
                    if more.count == 0 {
                        break;
                    }
                    let n: usize = more.records.iter().map(|b| b.len()).sum();
                    bytes_left = bytes_left.saturating_sub(n);
                    got.count += more.count;
                    got.records.extend(more.records);
                    got.ranges.extend(more.ranges);
                    chunk = chunk.saturating_mul(2);
                }
                if let Some(d) = sp.next_deadline() {
                    next_deadline = Some(next_deadline.map_or(d, |n: i64| n.min(d)));
                }
                Ok(got)
            });
            match acquired {
                Ok(got) => {
                    budget = budget.saturating_sub(got.count);
                    r.records = got.records;
                    r.acquired = got.ranges;
                }
                Err(e) => r.error = Some(e),
            }
            out.push(r);
        }
        // Lock-expiry writes need no wait before answering: the records are available either way.
        drop(flushes);
        (out, next_deadline)
    }

    /// ShareAcknowledge (KIP-932).
    pub async fn acknowledge(
        &self,
        group_id: &str,
        member_id: &str,
        epoch: i32,
        partitions: &[RequestPartition],
    ) -> FetchResult {
        let key = (group_id.to_string(), member_id.to_string());
        let error = |e: Error| FetchResult {
            error: Some(e),
            ..Default::default()
        };
        if epoch == 0 {
            return error(Error::InvalidShareSessionEpoch);
        }
        {
            let mut sessions = self.sessions();
            let Some(s) = sessions.get_mut(&key) else {
                return error(Error::ShareSessionNotFound);
            };
            if epoch != -1 {
                if s.epoch != epoch {
                    return error(Error::InvalidShareSessionEpoch);
                }
                s.epoch = next_epoch(s.epoch);
            }
        }
        let mut out = Vec::with_capacity(partitions.len());
        for p in partitions {
            let e = self.acknowledge_partition(group_id, member_id, p).await;
            out.push(PartitionResult {
                topic_id: p.topic_id,
                partition: p.partition,
                error: e,
                ..Default::default()
            });
        }
        if epoch == -1 {
            let session = self.sessions().remove(&key);
            if let Some(s) = session {
                let parts: Vec<(Uuid, i32)> = s
                    .partitions
                    .iter()
                    .map(|x| (x.topic_id, x.partition))
                    .collect();
                self.release(group_id, member_id, &parts).await;
            }
        }
        FetchResult {
            error: None,
            lock_timeout_ms: 0,
            partitions: out,
        }
    }

    /// The connection `peer` closed: its sessions end and their members' records are released
    /// (Kafka's `ShareSessionCache` connection-disconnect listener).
    pub async fn on_connection_closed(&self, peer: SocketAddr) {
        let ended: Vec<(SessionKey, Vec<(Uuid, i32)>)> = {
            let mut sessions = self.sessions();
            let keys: Vec<SessionKey> = sessions
                .iter()
                .filter(|(_, s)| s.peer == peer)
                .map(|(k, _)| k.clone())
                .collect();
            keys.into_iter()
                .filter_map(|k| {
                    sessions.remove(&k).map(|s| {
                        (
                            k,
                            s.partitions
                                .iter()
                                .map(|x| (x.topic_id, x.partition))
                                .collect(),
                        )
                    })
                })
                .collect()
        };
        for ((group, member), parts) in ended {
            self.release(&group, &member, &parts).await;
        }
    }

    /// The start offset and lag of each share partition of `group` this broker has state for
    /// (DescribeShareGroupOffsets, `klamm group`, the metrics).
    pub fn group_offsets(&self, group: &str) -> Vec<(StateKey, i64, i64)> {
        let mut out: Vec<(StateKey, i64, i64)> = Vec::new();
        for e in self.partitions.iter() {
            if e.key().group != group {
                continue;
            }
            let end = self
                .log_partition(e.key().topic_id, e.key().partition)
                .map_or(0, |p| p.high_watermark());
            let sp = lock(e.value());
            out.push((e.key().clone(), sp.persisted_start, sp.lag(end)));
        }
        let loaded = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        for (k, p) in loaded.iter().filter(|(k, _)| k.group == group) {
            let end = self
                .log_partition(k.topic_id, k.partition)
                .map_or(0, |p| p.high_watermark());
            let sp = SharePartition::new(p.start_offset.max(0), p.state_epoch, &p.batches);
            out.push((k.clone(), p.start_offset, sp.lag(end)));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// DescribeShareGroupOffsets of one group: for each topic partition asked (or, with `None`,
    /// every partition the group has state for), its share-partition start offset, -1 when the
    /// group has none there (Kafka's `ReadShareGroupStateSummary`). Topics unknown to the broker
    /// come back with the zero topic id and start offset -1, as in Kafka.
    pub fn describe_offsets(
        &self,
        group: &str,
        topics: Option<&[(String, Vec<i32>)]>,
    ) -> Vec<DescribedTopicOffsets> {
        let known: HashMap<(Uuid, i32), i64> = self
            .group_offsets(group)
            .into_iter()
            .map(|(k, start, _)| ((k.topic_id, k.partition), start))
            .collect();
        let asked: Vec<(String, Vec<i32>)> = match topics {
            Some(t) => t.to_vec(),
            None => {
                let mut by_topic: std::collections::BTreeMap<String, Vec<i32>> = Default::default();
                for (id, p) in known.keys() {
                    if let Some(t) = self.logs.topic_by_id(*id) {
                        by_topic.entry(t.name.to_string()).or_default().push(*p);
                    }
                }
                by_topic
                    .into_iter()
                    .map(|(n, mut ps)| {
                        ps.sort();
                        (n, ps)
                    })
                    .collect()
            }
        };
        asked
            .into_iter()
            .map(|(name, partitions)| {
                let id = self.logs.topic(&name).map(|t| t.id);
                DescribedTopicOffsets {
                    topic_id: id.unwrap_or_else(Uuid::nil),
                    partitions: partitions
                        .into_iter()
                        .map(|p| {
                            let start = id.and_then(|id| known.get(&(id, p)).copied());
                            (p, start.unwrap_or(-1), 0)
                        })
                        .collect(),
                    name,
                }
            })
            .collect()
    }

    /// AlterShareGroupOffsets of an empty group: each share partition starts again at the given
    /// offset with nothing in flight and a new state epoch (Kafka's `InitializeShareGroupState`
    /// with the requested start offset).
    pub async fn alter_offsets(
        &self,
        group: &str,
        offsets: &[(Uuid, i32, i64)],
    ) -> Vec<Option<Error>> {
        let mut out = Vec::with_capacity(offsets.len());
        for (topic_id, partition, start) in offsets {
            let key = StateKey {
                group: group.to_string(),
                topic_id: *topic_id,
                partition: *partition,
            };
            let r = (|| {
                let log = self.log_partition(*topic_id, *partition)?;
                if *start < 0 {
                    return Err(Error::InvalidRequest(format!(
                        "Invalid start offset {start}."
                    )));
                }
                let start = (*start).clamp(log.log_start_offset(), log.high_watermark());
                let sp = self.share_partition(&key)?;
                let mut sp = lock(&sp);
                sp.reset_to(start);
                sp.state_epoch += 1;
                let flush = self
                    .persister
                    .snapshot(&key, start, sp.state_epoch, now_ms())?;
                sp.persisted_start = start;
                Ok(flush)
            })();
            out.push(match r {
                Ok(flush) => persister::complete(flush).await.err(),
                Err(e) => Some(e),
            });
        }
        out
    }

    /// DeleteShareGroupOffsets of an empty group: the state of every partition of each topic
    /// goes; a topic the group has no state for is UNKNOWN_TOPIC_OR_PARTITION. The next fetch
    /// starts the partition again at `share.auto.offset.reset`.
    pub async fn delete_offsets(&self, group: &str, topics: &[Uuid]) -> Vec<Option<Error>> {
        let mut out = Vec::with_capacity(topics.len());
        let all = self.group_keys(group);
        for t in topics {
            let keys: Vec<&StateKey> = all.iter().filter(|k| k.topic_id == *t).collect();
            if keys.is_empty() {
                // Kafka's `GroupMetadataManager.shareGroupDeleteOffsets...` message.
                out.push(Some(Error::UnknownTopicWithMessage(
                    "There is no offset information to delete.".into(),
                )));
                continue;
            }
            let mut err = None;
            for k in keys {
                self.partitions.remove(k);
                self.loaded
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(k);
                match self.persister.delete(k, now_ms()) {
                    Ok(f) => {
                        if let Err(e) = persister::complete(f).await {
                            err = Some(e);
                        }
                    }
                    Err(e) => err = Some(e),
                }
            }
            out.push(err);
        }
        out
    }

    /// Every key of `group` in memory, replayed or written.
    fn group_keys(&self, group: &str) -> Vec<StateKey> {
        let mut keys: Vec<StateKey> = self
            .partitions
            .iter()
            .filter(|e| e.key().group == group)
            .map(|e| e.key().clone())
            .collect();
        keys.extend(
            self.loaded
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .keys()
                .filter(|k| k.group == group)
                .cloned(),
        );
        keys.extend(self.persister.keys_of_group(group));
        keys.sort();
        keys.dedup();
        keys
    }

    /// Every share partition in memory, for the metrics.
    pub fn snapshot_metrics(&self) -> Vec<SharePartitionMetrics> {
        let mut out = Vec::new();
        for e in self.partitions.iter() {
            let Ok(log) = self.log_partition(e.key().topic_id, e.key().partition) else {
                continue;
            };
            let sp = lock(e.value());
            out.push(SharePartitionMetrics {
                group: e.key().group.clone(),
                topic: log.topic.to_string(),
                partition: e.key().partition,
                start_offset: sp.start_offset(),
                in_flight: sp.end_offset() - sp.start_offset(),
                acquired: sp.acquired_count(),
                lag: sp.lag(log.high_watermark()),
                events: sp.events,
            });
        }
        out.sort_by(|a, b| {
            (&a.group, &a.topic, a.partition).cmp(&(&b.group, &b.topic, b.partition))
        });
        out
    }

    /// Share sessions open on this broker.
    pub fn session_count(&self) -> usize {
        self.sessions().len()
    }

    /// A share group was deleted: its state goes too (Kafka's `DeleteShareGroupState` from
    /// DeleteGroups), and its sessions end.
    pub async fn delete_group(&self, group: &str) {
        let keys = self.group_keys(group);
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|k, _| k.group != group);
        self.sessions().retain(|(g, _), _| g != group);
        let mut flushes = Vec::new();
        for k in keys {
            self.partitions.remove(&k);
            match self.persister.delete(&k, now_ms()) {
                Ok(f) => flushes.push(f),
                Err(e) => warn!(group, "cannot delete share-group state: {e}"),
            }
        }
        for f in flushes {
            let _ = persister::complete(f).await;
        }
    }
}

/// Reads whole batches of `log` from `from` for a share fetch, bounded by the high watermark
/// (read_uncommitted) or the last stable offset (read_committed, with the aborted transactions).
fn read_log(log: &Partition, from: i64, max_bytes: usize, read_committed: bool) -> Result<LogRead> {
    let data = log.read_isolated(from, max_bytes, true, read_committed)?;
    let upper = if read_committed {
        data.last_stable_offset
    } else {
        data.high_watermark
    };
    let aborted = if read_committed && data.records.len > 0 {
        log.aborted_transactions(from, upper)
            .iter()
            .map(|a| (a.producer_id, a.first_offset))
            .collect()
    } else {
        Vec::new()
    };
    let bytes = if data.records.len > 0 {
        data.records.read_to_bytes()?
    } else {
        Bytes::new()
    };
    Ok(LogRead {
        bytes,
        upper,
        aborted,
    })
}

/// Milliseconds of an ISO-8601 duration `PnDTnHnMn.nS` (validated by the group config).
pub fn iso_duration_ms(s: &str) -> Option<i64> {
    let s = s.strip_prefix(['P', 'p'])?;
    let (date, time) = match s.find(['T', 't']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut ms: f64 = 0.0;
    let mut num = String::new();
    for c in date.chars() {
        match c {
            '0'..='9' | '.' => num.push(c),
            'D' | 'd' => {
                ms += num.parse::<f64>().ok()? * 86_400_000.0;
                num.clear();
            }
            _ => return None,
        }
    }
    for c in time.unwrap_or("").chars() {
        let unit = match c {
            '0'..='9' | '.' => {
                num.push(c);
                continue;
            }
            'H' | 'h' => 3_600_000.0,
            'M' | 'm' => 60_000.0,
            'S' | 's' => 1000.0,
            _ => return None,
        };
        ms += num.parse::<f64>().ok()? * unit;
        num.clear();
    }
    Some(ms as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_epochs() {
        assert_eq!(iso_duration_ms("PT1H"), Some(3_600_000));
        assert_eq!(iso_duration_ms("P1DT0.5S"), Some(86_400_500));
        assert_eq!(iso_duration_ms("1H"), None);
        assert_eq!(next_epoch(1), 2);
        assert_eq!(next_epoch(i32::MAX), 1);
        assert_eq!(next_epoch(-1), -1);
    }
}
