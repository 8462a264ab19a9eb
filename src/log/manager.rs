//! The partition manager (Kafka's `LogManager` plus the topic part of the metadata image):
//! which topics exist, their ids, partition counts and config overrides, and the open
//! partition logs. Topic definitions persist in `klamm-topics.json` in the data directory;
//! the data itself uses Kafka's layout (`<topic>-<partition>/` directories).

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use tracing::{info, warn};
use uuid::Uuid;

use crate::cluster::{self, uuid_from_kafka_string, uuid_to_kafka_string, write_atomically};
use crate::configs::group::{self as group_config, GroupConfigStore};
use crate::configs::BrokerConfigView;
use crate::error::{Error, Result};
use crate::log::checkpoint::{self, CheckpointFile};
use crate::log::config::{self, LogConfig};
use crate::log::partition::{self, Partition, Recovery};
use crate::log::space::{self, LogDirSpace};
use crate::settings::dynamic::{self, DynamicConfigs};
use crate::settings::Settings;

const TOPICS_FILE: &str = "klamm-topics.json";
/// Kafka's clean-shutdown marker (`CleanShutdownFileHandler`).
const CLEAN_SHUTDOWN_FILE: &str = ".kafka_cleanshutdown";
/// Kafka's `Topic.MAX_NAME_LENGTH`.
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// A topic and its partitions. Immutable: changes replace the whole value in the manager.
pub struct Topic {
    pub name: Arc<str>,
    pub id: Uuid,
    pub internal: bool,
    pub partitions: Vec<Arc<Partition>>,
    pub overrides: BTreeMap<String, String>,
    pub config: Arc<LogConfig>,
}

impl std::fmt::Debug for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Topic")
            .field("name", &self.name)
            .field("id", &self.id)
            .field("partitions", &self.partitions.len())
            .field("internal", &self.internal)
            .finish()
    }
}

impl Topic {
    pub fn partition(&self, index: i32) -> Option<&Arc<Partition>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
    }
}

/// A topic to create.
#[derive(Clone, Debug, Default)]
pub struct NewTopic {
    pub name: String,
    /// -1: `num.partitions`.
    pub num_partitions: i32,
    /// -1: `default.replication.factor`.
    pub replication_factor: i16,
    /// Manual assignment: partition index -> broker ids.
    pub assignments: Vec<(i32, Vec<i32>)>,
    pub configs: BTreeMap<String, String>,
    pub internal: bool,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredTopics {
    version: u32,
    topics: Vec<StoredTopic>,
}

#[derive(Serialize, Deserialize, Clone)]
struct StoredTopic {
    name: String,
    id: String,
    partitions: i32,
    #[serde(default)]
    configs: BTreeMap<String, String>,
    #[serde(default)]
    internal: bool,
}

/// Every topic and partition on this broker.
pub struct LogManager {
    data_dir: PathBuf,
    /// Defaults, config file, environment and flags.
    static_settings: Arc<Settings>,
    /// `static_settings` with the dynamic broker configs applied: what topic defaults follow.
    settings: RwLock<Arc<Settings>>,
    dynamic: Mutex<DynamicConfigs>,
    /// Per-group dynamic configs (GROUP resources), shared with the group coordinator.
    group_configs: Arc<GroupConfigStore>,
    node_id: i32,
    topics: DashMap<String, Arc<Topic>>,
    ids: DashMap<Uuid, String>,
    /// Serialises topic creation, deletion and config changes, and the topics file.
    admin: Mutex<()>,
    /// How the coordinators' internal topics are created (Kafka's `AutoTopicCreationManager`
    /// uses the coordinator's partition count and configs for `__consumer_offsets`).
    internal_specs: Mutex<BTreeMap<String, NewTopic>>,
    /// Bumped whenever the topic set is written (created, deleted, changed): the group
    /// coordinator re-reads topics and re-resolves regex subscriptions when it moves (Kafka
    /// reacts to a new metadata image the same way).
    topics_version: std::sync::atomic::AtomicU64,
    /// The three offset checkpoint files, each with the lock its writers share (the periodic
    /// checkpoint task, retention, DeleteRecords and shutdown all write them).
    checkpoints: Checkpoints,
    /// Whether the data directory is out of space (shared with every partition in it).
    space: Arc<LogDirSpace>,
}

/// Kafka's `LogManager.recoveryPointCheckpoints`, `logStartOffsetCheckpoints` and the
/// replica manager's `highWatermarkCheckpoints`, for one data directory.
struct Checkpoints {
    recovery_point: CheckpointFile,
    log_start_offset: CheckpointFile,
    replication_offset: CheckpointFile,
}

impl LogManager {
    /// Opens the data directory: recovers every partition (fully after an unclean shutdown,
    /// from the checkpointed recovery points) and loads the topic definitions.
    pub fn open(static_settings: Arc<Settings>) -> io::Result<LogManager> {
        let data_dir = static_settings.data_dir();
        fs::create_dir_all(&data_dir)?;
        let dynamic = DynamicConfigs::load(&data_dir)?;
        let group_configs = Arc::new(GroupConfigStore::load(&data_dir)?);
        let settings =
            Arc::new(static_settings.with_dynamic(&dynamic.cluster_default, &dynamic.per_broker));
        let space = space::for_dir(&data_dir);
        metrics::gauge!(space::LOG_DIR_FULL).set(0.0);
        if space::available_bytes(&data_dir).is_some_and(|n| n < space::FREE_TO_CLEAR) {
            space.note_error(&io::Error::from(io::ErrorKind::StorageFull));
        }
        // The ids in `-delete` directories name deletions that may not have reached the topics
        // file; removing the directories first frees their space for the rest of start-up.
        let deleting = topic_ids_being_deleted(&data_dir);
        remove_deleted_dirs(&data_dir);
        remove_tmp_files(&data_dir);
        let clean = data_dir.join(CLEAN_SHUTDOWN_FILE).exists();
        let checkpoints = Checkpoints {
            recovery_point: CheckpointFile::new(&data_dir, checkpoint::RECOVERY_POINT),
            log_start_offset: CheckpointFile::new(&data_dir, checkpoint::LOG_START_OFFSET),
            replication_offset: CheckpointFile::new(&data_dir, checkpoint::REPLICATION_OFFSET),
        };
        // Kafka refuses to start on a checkpoint it cannot read; the safe fallbacks are known,
        // so Klamm starts: without recovery points every segment is recovered (slower, never
        // wrong), without log start offsets each partition starts at its first segment's base.
        let recovery_points = match checkpoints.recovery_point.read() {
            Ok(points) => Some(points),
            Err(e) => {
                warn!("cannot read {e}; recovering every partition from its first segment");
                None
            }
        };
        let log_starts = checkpoints.log_start_offset.read().unwrap_or_else(|e| {
            warn!(
                "cannot read {e}; log start offsets fall back to the first segments' base \
                 offsets (records deleted by DeleteRecords or retention within a segment are \
                 visible again)"
            );
            checkpoint::Offsets::new()
        });
        let stored = load_topics_file(&data_dir)?;
        let stored = finish_interrupted_deletions(&data_dir, stored, &deleting);
        let stored = adopt_orphan_dirs(&data_dir, stored);

        let mgr = LogManager {
            node_id: settings.node_id(),
            data_dir: data_dir.clone(),
            static_settings,
            settings: RwLock::new(settings.clone()),
            dynamic: Mutex::new(dynamic),
            group_configs,
            topics: DashMap::new(),
            ids: DashMap::new(),
            admin: Mutex::new(()),
            internal_specs: Mutex::new(BTreeMap::new()),
            topics_version: std::sync::atomic::AtomicU64::new(0),
            checkpoints,
            space,
        };
        let threads = settings.i32("num.recovery.threads.per.data.dir").max(1) as usize;
        let jobs: Vec<(StoredTopic, i32)> = stored
            .topics
            .iter()
            .flat_map(|t| (0..t.partitions).map(move |p| (t.clone(), p)))
            .collect();
        let opened: Mutex<Vec<(String, i32, Arc<Partition>)>> = Mutex::new(Vec::new());
        let failure: Mutex<Option<io::Error>> = Mutex::new(None);
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..threads.min(jobs.len().max(1)) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((t, p)) = jobs.get(i) else { break };
                    let id = uuid_from_kafka_string(&t.id).unwrap_or_default();
                    let cfg = Arc::new(LogConfig::new(&settings, &t.configs));
                    let key = (t.name.clone(), *p);
                    let recovery = match &recovery_points {
                        // Written just before the clean-shutdown marker: unreadable, it means
                        // the files changed after shutdown, and the marker is not trusted.
                        None => Recovery::From(i64::MIN),
                        Some(_) if clean => Recovery::Clean,
                        Some(points) => Recovery::From(points.get(&key).copied().unwrap_or(0)),
                    };
                    match Partition::open(
                        t.name.as_str().into(),
                        id,
                        *p,
                        &data_dir,
                        cfg,
                        recovery,
                        log_starts.get(&key).copied(),
                    ) {
                        Ok(part) => opened.lock().unwrap_or_else(|e| e.into_inner()).push((
                            t.name.clone(),
                            *p,
                            Arc::new(part),
                        )),
                        Err(e) => {
                            *failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(
                                io::Error::new(e.kind(), format!("opening {}-{p}: {e}", t.name)),
                            );
                        }
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().unwrap_or_else(|e| e.into_inner()) {
            return Err(e);
        }
        let mut by_topic: BTreeMap<String, Vec<(i32, Arc<Partition>)>> = BTreeMap::new();
        for (t, p, part) in opened.into_inner().unwrap_or_else(|e| e.into_inner()) {
            by_topic.entry(t).or_default().push((p, part));
        }
        for t in &stored.topics {
            let mut parts = by_topic.remove(&t.name).unwrap_or_default();
            parts.sort_by_key(|(p, _)| *p);
            let id = uuid_from_kafka_string(&t.id).unwrap_or_default();
            let topic = Topic {
                name: t.name.as_str().into(),
                id,
                internal: t.internal,
                partitions: parts.into_iter().map(|(_, p)| p).collect(),
                overrides: t.configs.clone(),
                config: Arc::new(LogConfig::new(&settings, &t.configs)),
            };
            mgr.ids.insert(id, t.name.clone());
            mgr.topics.insert(t.name.clone(), Arc::new(topic));
        }
        // From here on a crash is an unclean shutdown.
        let _ = fs::remove_file(data_dir.join(CLEAN_SHUTDOWN_FILE));
        if let Err(e) = mgr.persist_topics() {
            // On a full disk the broker starts anyway, to serve reads and let an operator
            // delete topics; the file is rewritten from memory at the next topic change.
            if !mgr.space.note_error(&e) {
                return Err(e);
            }
            warn!("cannot write {TOPICS_FILE}: {e}");
        }
        info!(
            topics = mgr.topics.len(),
            clean_shutdown = clean,
            "loaded logs from {}",
            data_dir.display()
        );
        Ok(mgr)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The data directory's space state (for `/health`).
    pub fn space(&self) -> &LogDirSpace {
        &self.space
    }

    /// The effective broker settings (static with dynamic broker configs applied).
    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The config layers, for DescribeConfigs.
    pub fn config_view(&self) -> BrokerConfigView {
        let dynamic = self
            .dynamic
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        BrokerConfigView {
            base: self.static_settings.clone(),
            dynamic,
            effective: self.settings(),
        }
    }

    pub fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.get(name).map(|t| t.clone())
    }

    pub fn topic_by_id(&self, id: Uuid) -> Option<Arc<Topic>> {
        let name = self.ids.get(&id)?.clone();
        self.topic(&name)
    }

    pub fn partition(&self, topic: &str, index: i32) -> Option<Arc<Partition>> {
        self.topics.get(topic)?.partition(index).cloned()
    }

    /// All topics, sorted by name.
    pub fn topics(&self) -> Vec<Arc<Topic>> {
        let mut v: Vec<Arc<Topic>> = self.topics.iter().map(|e| e.value().clone()).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// Every partition of every topic.
    pub fn all_partitions(&self) -> Vec<Arc<Partition>> {
        self.topics
            .iter()
            .flat_map(|t| t.partitions.clone())
            .collect()
    }

    /// Validates a topic creation without performing it (CreateTopics `validate_only` and the
    /// first half of [`LogManager::create_topic`]). Returns the partition count.
    pub fn validate_new_topic(&self, t: &NewTopic) -> Result<(i32, BTreeMap<String, String>)> {
        validate_topic_name(&t.name)?;
        if self.topics.contains_key(&t.name) {
            return Err(Error::TopicAlreadyExists(t.name.clone()));
        }
        if let Some(other) = self.topics.iter().find(|e| has_collision(e.key(), &t.name)) {
            return Err(Error::InvalidTopic(format!(
                "Topic '{}' collides with existing topic: {}",
                t.name,
                other.key()
            )));
        }
        let partitions = if !t.assignments.is_empty() {
            if t.num_partitions != -1 || t.replication_factor != -1 {
                return Err(Error::InvalidRequest(
                    "A manual partition assignment was specified, but numPartitions or replicationFactor was not set to -1."
                        .into(),
                ));
            }
            self.validate_assignments(&t.assignments)?
        } else {
            let n = if t.num_partitions == -1 {
                self.settings().i32("num.partitions")
            } else {
                t.num_partitions
            };
            if n <= 0 {
                return Err(Error::InvalidPartitions(
                    "Number of partitions was set to an invalid non-positive value.".into(),
                ));
            }
            let rf = if t.replication_factor == -1 {
                self.settings().i32("default.replication.factor")
            } else {
                t.replication_factor as i32
            };
            if rf <= 0 {
                return Err(Error::InvalidReplicationFactor(
                    "Replication factor must be larger than 0, or -1 to use the default value."
                        .into(),
                ));
            }
            if rf > 1 {
                return Err(Error::InvalidReplicationFactor(format!(
                    "Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached because only 1 broker(s) are registered."
                )));
            }
            n
        };
        let configs = config::validate_overrides(&t.configs, &self.settings())?;
        Ok((partitions, configs))
    }

    fn validate_assignments(&self, assignments: &[(i32, Vec<i32>)]) -> Result<i32> {
        let mut seen = HashSet::new();
        for (p, brokers) in assignments {
            if !seen.insert(*p) {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "Partition {p} appears more than once in the assignment."
                )));
            }
            if brokers.is_empty() {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes an empty replica list for partition {p}."
                )));
            }
            let distinct: HashSet<_> = brokers.iter().collect();
            if distinct.len() != brokers.len() {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes the broker {} more than once for partition {p}.",
                    brokers[0]
                )));
            }
            if let Some(b) = brokers.iter().find(|b| **b != self.node_id) {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes broker {b}, but no such broker is registered."
                )));
            }
        }
        let n = assignments.len() as i32;
        if (0..n).any(|p| !seen.contains(&p)) {
            return Err(Error::InvalidReplicaAssignment(
                "Partitions should be numbered sequentially from 0 in a manual assignment.".into(),
            ));
        }
        Ok(n)
    }

    /// Registers how an internal topic (a coordinator's log) is created on first need. A topic
    /// of that name is internal however it gets created, as Kafka's `Topic.isInternal` decides
    /// by name.
    pub fn register_internal_topic(&self, spec: NewTopic) {
        let mut specs = self
            .internal_specs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        specs.insert(
            spec.name.clone(),
            NewTopic {
                internal: true,
                ..spec
            },
        );
    }

    fn internal_spec(&self, name: &str) -> Option<NewTopic> {
        let specs = self
            .internal_specs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        specs.get(name).cloned()
    }

    /// Returns a registered internal topic, creating it from its spec when missing.
    pub fn get_or_create_internal(&self, name: &str) -> Result<Arc<Topic>> {
        if let Some(t) = self.topic(name) {
            return Ok(t);
        }
        let spec = self
            .internal_spec(name)
            .ok_or(Error::UnknownTopicOrPartition)?;
        match self.create_topic(&spec) {
            Ok(t) => Ok(t),
            Err(Error::TopicAlreadyExists(_)) => {
                self.topic(name).ok_or(Error::UnknownTopicOrPartition)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a topic (CreateTopics, auto-creation, internal topics).
    pub fn create_topic(&self, t: &NewTopic) -> Result<Arc<Topic>> {
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let (partitions, overrides) = self.validate_new_topic(t)?;
        let internal = t.internal || self.internal_spec(&t.name).is_some();
        let id = cluster::random_uuid();
        let cfg = Arc::new(LogConfig::new(&self.settings(), &overrides));
        let mut parts = Vec::with_capacity(partitions as usize);
        for p in 0..partitions {
            match Partition::open(
                t.name.as_str().into(),
                id,
                p,
                &self.data_dir,
                cfg.clone(),
                Recovery::Clean,
                None,
            ) {
                Ok(part) => parts.push(Arc::new(part)),
                Err(e) => {
                    // Out of descriptors or space half way: leave nothing behind, or the topic
                    // would come back (part-created) at the next start.
                    drop(parts);
                    self.remove_partition_dirs(&t.name, 0..p + 1);
                    warn!(topic = %t.name, partition = p, "creating the topic failed, rolled back: {e}");
                    return Err(e.into());
                }
            }
        }
        let topic = Arc::new(Topic {
            name: t.name.as_str().into(),
            id,
            internal,
            partitions: parts,
            overrides,
            config: cfg,
        });
        self.ids.insert(id, t.name.clone());
        self.topics.insert(t.name.clone(), topic.clone());
        if let Err(e) = self.persist_topics() {
            self.topics.remove(&t.name);
            self.ids.remove(&id);
            drop(topic);
            self.remove_partition_dirs(&t.name, 0..partitions);
            return Err(e.into());
        }
        info!(topic = %t.name, partitions, "created topic");
        Ok(topic)
    }

    /// Removes the directories of partitions `range` of `topic` that a failed creation made.
    fn remove_partition_dirs(&self, topic: &str, range: std::ops::Range<i32>) {
        for p in range {
            let dir = self.data_dir.join(super::partition::dir_name(topic, p));
            if dir.is_dir() {
                if let Err(e) = std::fs::remove_dir_all(&dir) {
                    warn!(dir = %dir.display(), "could not remove a partition of a failed creation: {e}");
                }
            }
        }
    }

    /// Returns the topic, creating it with broker defaults when `auto.create.topics.enable`
    /// allows (Kafka's `AutoTopicCreationManager`).
    pub fn get_or_auto_create(&self, name: &str) -> Result<Arc<Topic>> {
        if let Some(t) = self.topic(name) {
            return Ok(t);
        }
        if !self.settings().bool("auto.create.topics.enable") {
            return Err(Error::UnknownTopicOrPartition);
        }
        if self.internal_spec(name).is_some() {
            return self.get_or_create_internal(name);
        }
        match self.create_topic(&NewTopic {
            name: name.to_string(),
            num_partitions: -1,
            replication_factor: -1,
            ..Default::default()
        }) {
            Ok(t) => Ok(t),
            // Lost a race with another creator: use theirs.
            Err(Error::TopicAlreadyExists(_)) => {
                self.topic(name).ok_or(Error::UnknownTopicOrPartition)
            }
            Err(e) => Err(e),
        }
    }

    /// Deletes a topic: it disappears at once; its directories are renamed
    /// `<dir>.<uuid>-delete` (Kafka's convention) and removed in the background.
    ///
    /// The renames come before the topics file is written: a `-delete` directory holding the
    /// topic's id in its `partition.metadata` is the durable record of the deletion, which
    /// start-up completes if the topics file still lists the topic. That makes DeleteTopics
    /// work on a full disk, which is how an operator gets out of one: the topic's segment
    /// files are truncated and removed at once (open handles would otherwise keep their
    /// space), then the topics file, which now fits, is written.
    pub fn delete_topic(&self, name: &str) -> Result<Arc<Topic>> {
        if !self.settings().bool("delete.topic.enable") {
            return Err(Error::TopicDeletionDisabled);
        }
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let (_, topic) = self
            .topics
            .remove(name)
            .ok_or(Error::UnknownTopicOrPartition)?;
        self.ids.remove(&topic.id);
        for p in &topic.partitions {
            p.mark_deleted();
        }
        let mut renamed = Vec::new();
        for p in &topic.partitions {
            let from = p.dir().to_path_buf();
            let marker = format!(
                "{}.{}-delete",
                partition::dir_name(&topic.name, p.index),
                Uuid::new_v4().simple()
            );
            let to = self.data_dir.join(marker);
            match fs::rename(&from, &to) {
                Ok(()) => renamed.push(to),
                Err(e) => warn!("could not rename {} for deletion: {e}", from.display()),
            }
        }
        if let Err(e) = fs::File::open(&self.data_dir).and_then(|d| d.sync_all()) {
            warn!("fsync of {} failed: {e}", self.data_dir.display());
        }
        let all_renamed = renamed.len() == topic.partitions.len();
        let mut freed = false;
        if self.space.is_full() {
            free_segment_files(&renamed);
            freed = true;
        }
        let mut persisted = self.persist_topics();
        if let Err(e) = &persisted {
            if !freed && self.space.note_error(e) {
                free_segment_files(&renamed);
                persisted = self.persist_topics();
            }
        }
        match persisted {
            Ok(()) => {
                std::thread::spawn(move || {
                    for dir in renamed {
                        let _ = fs::remove_dir_all(dir);
                    }
                });
            }
            // The renamed directories stay, as the record the next start completes.
            Err(e) if all_renamed => {
                warn!(topic = %name, "cannot write {TOPICS_FILE} ({e}): the deletion completes at the next start");
            }
            Err(e) => return Err(e.into()),
        }
        info!(topic = %name, "deleted topic");
        Ok(topic)
    }

    /// Changes whenever topics are created, deleted or changed.
    pub fn topics_version(&self) -> u64 {
        self.topics_version
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Replaces a topic's config overrides (the AlterConfigs family). Validation comes first, as
    /// in Kafka's controller: an invalid config is INVALID_CONFIG even for an unknown topic. The
    /// change persists in the topics file and applies to the partitions at once.
    pub fn alter_topic_configs(
        &self,
        name: &str,
        overrides: &BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<()> {
        if name.is_empty() {
            return Err(Error::InvalidRequest(
                "Default topic resources are not allowed.".into(),
            ));
        }
        validate_topic_name(name)?;
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let settings = self.settings();
        let normalized = config::validate_overrides(overrides, &settings)?;
        let topic = self.topic(name).ok_or(Error::UnknownTopicOrPartition)?;
        if validate_only {
            return Ok(());
        }
        let cfg = Arc::new(LogConfig::new(&settings, &normalized));
        let updated = Arc::new(Topic {
            name: topic.name.clone(),
            id: topic.id,
            internal: topic.internal,
            partitions: topic.partitions.clone(),
            overrides: normalized,
            config: cfg.clone(),
        });
        self.topics.insert(name.to_string(), updated);
        if let Err(e) = self.persist_topics() {
            self.topics.insert(name.to_string(), topic);
            return Err(e.into());
        }
        for p in &topic.partitions {
            p.set_config(cfg.clone());
        }
        info!(topic = %name, "updated topic configs");
        Ok(())
    }

    /// Every group's explicit configs (the group coordinator reads them per group).
    pub fn group_configs(&self) -> Arc<GroupConfigStore> {
        self.group_configs.clone()
    }

    /// Replaces the explicit configs of group `name` (an AlterConfigs or
    /// IncrementalAlterConfigs on its GROUP resource) after Kafka's `GroupConfig.validate`
    /// against the effective broker settings, and persists them.
    pub fn alter_group_configs(
        &self,
        name: &str,
        configs: &BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<()> {
        let normalized = group_config::validate(&self.settings(), configs)?;
        if validate_only {
            return Ok(());
        }
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        self.group_configs.set(&self.data_dir, name, normalized)?;
        info!(group = %name, "updated group configs");
        Ok(())
    }

    /// Removes a deleted group's configs (DeleteGroups).
    pub fn delete_group_configs(&self, name: &str) -> Result<()> {
        if self.group_configs.get(name).is_empty() {
            return Ok(()); // most deleted groups never had configs: no admin lock, no write
        }
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        self.group_configs
            .set(&self.data_dir, name, BTreeMap::new())?;
        Ok(())
    }

    /// Replaces one dynamic broker config layer (`per_broker`: this broker's resource, else the
    /// cluster default), persists it, and re-derives every topic's effective config.
    pub fn alter_broker_configs(
        &self,
        per_broker: bool,
        configs: &BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<()> {
        let normalized = dynamic::validate(configs)?;
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let mut dynamic = self.dynamic.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = dynamic.clone();
        *next.layer_mut(per_broker) = normalized;
        let effective = Arc::new(
            self.static_settings
                .with_dynamic(&next.cluster_default, &next.per_broker),
        );
        if validate_only {
            return Ok(());
        }
        next.persist(&self.data_dir)?;
        *dynamic = next;
        drop(dynamic);
        *self.settings.write().unwrap_or_else(|e| e.into_inner()) = effective.clone();
        for t in self.topics() {
            let cfg = Arc::new(LogConfig::new(&effective, &t.overrides));
            for p in &t.partitions {
                p.set_config(cfg.clone());
            }
            self.topics.insert(
                t.name.to_string(),
                Arc::new(Topic {
                    name: t.name.clone(),
                    id: t.id,
                    internal: t.internal,
                    partitions: t.partitions.clone(),
                    overrides: t.overrides.clone(),
                    config: cfg,
                }),
            );
        }
        info!(per_broker, "updated dynamic broker configs");
        Ok(())
    }

    /// CreatePartitions: grows a topic to `count` partitions (Kafka's
    /// `ReplicationControlManager.createPartitions`). `assignments`, when given, lists the
    /// replicas of each new partition and must name this broker only.
    pub fn create_partitions(
        &self,
        name: &str,
        count: i32,
        assignments: Option<&[Vec<i32>]>,
        validate_only: bool,
    ) -> Result<()> {
        let _guard = self.admin.lock().unwrap_or_else(|e| e.into_inner());
        let topic = self.topic(name).ok_or(Error::UnknownTopicOrPartition)?;
        let current = topic.partitions.len() as i32;
        if count == current {
            return Err(Error::InvalidPartitions(format!(
                "Topic already has {current} partition(s)."
            )));
        }
        if count < current {
            return Err(Error::InvalidPartitions(format!(
                "The topic {name} currently has {current} partition(s); {count} would not be an increase."
            )));
        }
        let additional = count - current;
        if let Some(a) = assignments {
            if a.len() as i32 != additional {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "Attempted to add {additional} additional partition(s), but only {} assignment(s) were specified.",
                    a.len()
                )));
            }
            for replicas in a {
                self.validate_replicas(replicas, Some(1))?;
            }
        }
        if validate_only {
            return Ok(());
        }
        let mut parts = topic.partitions.clone();
        for p in current..count {
            match Partition::open(
                topic.name.clone(),
                topic.id,
                p,
                &self.data_dir,
                topic.config.clone(),
                Recovery::Clean,
                None,
            ) {
                Ok(part) => parts.push(Arc::new(part)),
                Err(e) => {
                    drop(parts);
                    self.remove_partition_dirs(name, current..p + 1);
                    warn!(topic = %name, partition = p, "adding partitions failed, rolled back: {e}");
                    return Err(e.into());
                }
            }
        }
        self.topics.insert(
            name.to_string(),
            Arc::new(Topic {
                name: topic.name.clone(),
                id: topic.id,
                internal: topic.internal,
                partitions: parts,
                overrides: topic.overrides.clone(),
                config: topic.config.clone(),
            }),
        );
        if let Err(e) = self.persist_topics() {
            self.topics.insert(name.to_string(), topic);
            self.remove_partition_dirs(name, current..count);
            return Err(e.into());
        }
        info!(topic = %name, from = current, to = count, "added partitions");
        Ok(())
    }

    /// Kafka's `validateManualPartitionAssignment` for one partition's replica list.
    fn validate_replicas(&self, replicas: &[i32], replication_factor: Option<usize>) -> Result<()> {
        if replicas.is_empty() {
            return Err(Error::InvalidReplicaAssignment(
                "The manual partition assignment includes an empty replica list.".into(),
            ));
        }
        let mut sorted = replicas.to_vec();
        sorted.sort_unstable();
        let mut prev = None;
        for b in &sorted {
            if *b != self.node_id {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes broker {b}, but no such broker is registered."
                )));
            }
            if prev == Some(*b) {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes the broker {b} more than once."
                )));
            }
            prev = Some(*b);
        }
        if let Some(rf) = replication_factor {
            if sorted.len() != rf {
                return Err(Error::InvalidReplicaAssignment(format!(
                    "The manual partition assignment includes a partition with {} replica(s), but this is not consistent with previous partitions, which have {rf} replica(s).",
                    sorted.len()
                )));
            }
        }
        Ok(())
    }

    /// One retention pass over every partition (Kafka's `LogManager.cleanupLogs`). Returns the
    /// number of segments deleted.
    pub fn delete_old_segments(&self, now_ms: i64) -> usize {
        let mut total = 0;
        for p in self.all_partitions() {
            match p.delete_old_segments(now_ms) {
                Ok(n) => total += n,
                Err(e) => warn!(partition = %p.name(), "retention failed: {e}"),
            }
        }
        total
    }

    /// Writes `klamm-topics.json` atomically.
    fn persist_topics(&self) -> io::Result<()> {
        self.topics_version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let mut topics: Vec<StoredTopic> = self
            .topics
            .iter()
            .map(|t| StoredTopic {
                name: t.name.to_string(),
                id: uuid_to_kafka_string(t.id),
                partitions: t.partitions.len() as i32,
                configs: t.overrides.clone(),
                internal: t.internal,
            })
            .collect();
        topics.sort_by(|a, b| a.name.cmp(&b.name));
        let body = serde_json::to_vec_pretty(&StoredTopics { version: 1, topics })
            .map_err(io::Error::other)?;
        write_atomically(&self.data_dir.join(TOPICS_FILE), &body)
    }

    /// Writes the recovery-point, log-start-offset and high-watermark checkpoints. Each file's
    /// snapshot is taken under its lock, so concurrent callers write in snapshot order.
    pub fn write_checkpoints(&self) -> io::Result<()> {
        let snapshot = |offset: fn(&Partition) -> i64| {
            let mut entries = Vec::new();
            for t in self.topics() {
                for p in &t.partitions {
                    entries.push((t.name.to_string(), p.index, offset(p)));
                }
            }
            entries
        };
        let c = &self.checkpoints;
        c.recovery_point
            .write_with(|| snapshot(Partition::recovery_point))?;
        c.log_start_offset
            .write_with(|| snapshot(Partition::log_start_offset))?;
        c.replication_offset
            .write_with(|| snapshot(Partition::high_watermark))
    }

    /// One retention pass and, if segments went, the checkpoints of the moved log start
    /// offsets (the retention task's body). Returns the number of segments deleted.
    pub fn retention_pass(&self, now_ms: i64) -> usize {
        let n = self.delete_old_segments(now_ms);
        if n > 0 {
            if let Err(e) = self.write_checkpoints() {
                tracing::error!("writing offset checkpoints failed: {e}");
            }
        }
        n
    }

    /// Clean shutdown: flush and close every partition, write checkpoints and the
    /// clean-shutdown marker so the next start skips recovery.
    pub fn shutdown(&self) -> io::Result<()> {
        let mut first_error = None;
        for p in self.all_partitions() {
            if let Err(e) = p.close() {
                warn!(partition = %p.name(), "close failed: {e}");
                first_error.get_or_insert(e);
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        self.write_checkpoints()?;
        write_atomically(
            &self.data_dir.join(CLEAN_SHUTDOWN_FILE),
            b"{\"version\":0,\"brokerEpoch\":-1}",
        )?;
        info!("logs flushed and closed");
        Ok(())
    }
}

/// Kafka's `Topic.validate`, with its messages (Kafka 4.1's `InvalidTopicException` texts, which
/// the Admin client shows the user).
pub fn validate_topic_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidTopic(
            "Topic name is invalid: the empty string is not allowed".into(),
        ));
    }
    if name == "." || name == ".." {
        return Err(Error::InvalidTopic(format!(
            "Topic name is invalid: '{name}' is not allowed"
        )));
    }
    if name.len() > MAX_TOPIC_NAME_LENGTH {
        return Err(Error::InvalidTopic(format!(
            "Topic name is invalid: the length of '{name}' is longer than the max allowed length {MAX_TOPIC_NAME_LENGTH}"
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(Error::InvalidTopic(format!(
            "Topic name is invalid: '{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Kafka's `Topic.hasCollision`: '.' and '_' map to the same metric name.
fn has_collision(a: &str, b: &str) -> bool {
    a != b && a.replace('.', "_") == b.replace('.', "_")
}

fn load_topics_file(dir: &Path) -> io::Result<StoredTopics> {
    match fs::read(dir.join(TOPICS_FILE)) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", dir.join(TOPICS_FILE).display()),
            )
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(StoredTopics::default()),
        Err(e) => Err(e),
    }
}

/// Partition directories whose topic is missing from the topics file (written by Kafka, or the
/// file was lost) are adopted: the topic id comes from `partition.metadata`.
fn adopt_orphan_dirs(dir: &Path, mut stored: StoredTopics) -> StoredTopics {
    let known: HashSet<String> = stored.topics.iter().map(|t| t.name.clone()).collect();
    let mut found: BTreeMap<String, (String, i32)> = BTreeMap::new();
    let Ok(rd) = fs::read_dir(dir) else {
        return stored;
    };
    for e in rd.filter_map(|e| e.ok()) {
        if !e.path().is_dir() {
            continue;
        }
        let name = e.file_name().to_string_lossy().to_string();
        let Some((topic, part)) = name.rsplit_once('-') else {
            continue;
        };
        let Ok(part) = part.parse::<i32>() else {
            continue;
        };
        if known.contains(topic) || validate_topic_name(topic).is_err() {
            continue;
        }
        let Ok(meta) = fs::read_to_string(e.path().join("partition.metadata")) else {
            continue;
        };
        let Some(id) = meta
            .lines()
            .find_map(|l| l.strip_prefix("topic_id:"))
            .map(|s| s.trim().to_string())
        else {
            continue;
        };
        let entry = found.entry(topic.to_string()).or_insert((id, 0));
        entry.1 = entry.1.max(part + 1);
    }
    for (name, (id, partitions)) in found {
        warn!(topic = %name, partitions, "adopting partition directories missing from the topics file");
        stored.topics.push(StoredTopic {
            internal: name.starts_with("__"),
            name,
            id,
            partitions,
            configs: BTreeMap::new(),
        });
    }
    stored
}

/// Topic ids named by the `partition.metadata` of `-delete` directories.
fn topic_ids_being_deleted(dir: &Path) -> HashSet<String> {
    let Ok(rd) = fs::read_dir(dir) else {
        return HashSet::new();
    };
    rd.filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with("-delete"))
        .filter_map(|e| topic_id_of(&e.path()))
        .collect()
}

/// The topic id in a partition directory's `partition.metadata`.
fn topic_id_of(partition_dir: &Path) -> Option<String> {
    let meta = fs::read_to_string(partition_dir.join("partition.metadata")).ok()?;
    meta.lines()
        .find_map(|l| l.strip_prefix("topic_id:"))
        .map(|s| s.trim().to_string())
}

/// Drops the topics whose deletion began (their directories were renamed `-delete`) but did
/// not reach the topics file, with any partition directories not renamed yet.
fn finish_interrupted_deletions(
    dir: &Path,
    mut stored: StoredTopics,
    deleting: &HashSet<String>,
) -> StoredTopics {
    stored.topics.retain(|t| {
        if !deleting.contains(&t.id) {
            return true;
        }
        warn!(topic = %t.name, "completing the deletion of the topic (interrupted by a crash or a full disk)");
        for p in 0..t.partitions {
            let live = dir.join(partition::dir_name(&t.name, p));
            if topic_id_of(&live).as_deref() == Some(t.id.as_str()) {
                let _ = fs::remove_dir_all(&live);
            }
        }
        false
    });
    stored
}

/// Truncates and removes every file of the deleted partition directories but their
/// `partition.metadata` (the record of the deletion). Truncating frees the space even while
/// a reader still holds a segment open (its fetch then fails, as the topic is gone).
fn free_segment_files(dirs: &[PathBuf]) {
    for d in dirs {
        let Ok(rd) = fs::read_dir(d) else { continue };
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_name() == "partition.metadata" {
                continue;
            }
            let path = e.path();
            let cut = fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_len(0));
            if let Err(e) = cut.and_then(|()| fs::remove_file(&path)) {
                warn!("could not free {}: {e}", path.display());
            }
        }
    }
}

/// Temporary files of atomic writes a crash or a full disk interrupted (`<name>.tmp`, never the
/// truth): nothing writes them before start-up is done, and they may hold space.
fn remove_tmp_files(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_name().to_string_lossy().ends_with(".tmp") && !e.path().is_dir() {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

fn remove_deleted_dirs(dir: &Path) {
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_name().to_string_lossy().ends_with("-delete") {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dir: &Path) -> Arc<Settings> {
        let cli = crate::settings::Overrides {
            data_dir: Some(dir.to_string_lossy().to_string()),
            ..Default::default()
        };
        Arc::new(Settings::load(&cli).unwrap())
    }

    #[test]
    fn topic_names_are_validated_like_kafka() {
        assert!(validate_topic_name("orders.v1_x-2").is_ok());
        for bad in ["", ".", "..", "bad topic!", &"x".repeat(250)] {
            assert_eq!(validate_topic_name(bad).unwrap_err().code(), 17, "{bad}");
        }
        assert!(has_collision("a.b", "a_b"));
        assert!(!has_collision("a.b", "a.b"));
    }

    /// A creation that fails half way (here: partition 3's directory path is taken by a file,
    /// as "Too many open files" or a full disk would fail it) leaves no partition behind and no
    /// topic after a restart.
    #[test]
    fn a_creation_that_fails_half_way_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        std::fs::write(dir.path().join("half-3"), b"in the way").unwrap();
        let new = NewTopic {
            name: "half".into(),
            num_partitions: 6,
            replication_factor: 1,
            ..Default::default()
        };
        let e = m.create_topic(&new).unwrap_err();
        assert_eq!(e.code(), 56, "{e:?}");
        for p in [0, 1, 2, 4, 5] {
            assert!(
                !dir.path().join(format!("half-{p}")).exists(),
                "half-{p} left behind"
            );
        }
        assert!(m.topic("half").is_none());
        drop(m);
        let m = LogManager::open(settings(dir.path())).unwrap();
        assert!(m.topic("half").is_none());
        std::fs::remove_file(dir.path().join("half-3")).unwrap();
        assert_eq!(m.create_topic(&new).unwrap().partitions.len(), 6);
    }

    #[test]
    fn create_validate_delete_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        let t = m
            .create_topic(&NewTopic {
                name: "a.b".into(),
                num_partitions: 3,
                replication_factor: 1,
                ..Default::default()
            })
            .unwrap();
        assert_eq!(t.partitions.len(), 3);
        let dup = m.create_topic(&NewTopic {
            name: "a.b".into(),
            num_partitions: 1,
            replication_factor: 1,
            ..Default::default()
        });
        assert_eq!(dup.unwrap_err().code(), 36);
        let coll = m.create_topic(&NewTopic {
            name: "a_b".into(),
            num_partitions: 1,
            replication_factor: 1,
            ..Default::default()
        });
        assert_eq!(coll.unwrap_err().code(), 17);
        let rf = m.create_topic(&NewTopic {
            name: "c".into(),
            num_partitions: 1,
            replication_factor: 3,
            ..Default::default()
        });
        assert_eq!(rf.unwrap_err().code(), 38);
        let parts = m.create_topic(&NewTopic {
            name: "c".into(),
            num_partitions: 0,
            replication_factor: 1,
            ..Default::default()
        });
        assert_eq!(parts.unwrap_err().code(), 37);
        let id = t.id;
        m.shutdown().unwrap();
        drop(m);
        let m = LogManager::open(settings(dir.path())).unwrap();
        let t = m.topic("a.b").unwrap();
        assert_eq!(t.id, id);
        assert_eq!(m.topic_by_id(id).unwrap().partitions.len(), 3);
        m.delete_topic("a.b").unwrap();
        assert!(m.topic("a.b").is_none());
        assert_eq!(m.delete_topic("a.b").unwrap_err().code(), 3);
    }

    fn append(p: &Partition, value: &[u8], ts: i64) {
        use crate::log::batch::test_support::batch;
        use crate::log::validator::{self, AppendOrigin};
        let b = bytes::Bytes::from(batch(&[value], ts, -1, -1, -1));
        let v = validator::validate(&b, 9, &p.config(), AppendOrigin::Client, ts, "t").unwrap();
        p.append(&v, AppendOrigin::Client).unwrap();
    }

    /// The periodic checkpoint task and retention checkpoint at once (issue: one rename removed
    /// the other's `.tmp`, or a truncated file was renamed into place). Every read of every
    /// file, taken while they race, must be complete, and log start offsets never go back.
    #[test]
    fn checkpoint_writers_racing_with_retention_never_tear_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        let t = m
            .create_topic(&NewTopic {
                name: "race".into(),
                num_partitions: 4,
                replication_factor: 1,
                ..Default::default()
            })
            .unwrap();
        // Below the `segment.bytes` minimum a topic config accepts: a segment per batch.
        let mut cfg = (*t.config).clone();
        cfg.segment_bytes = 300;
        cfg.retention_bytes = 600;
        cfg.file_delete_delay_ms = 0;
        let cfg = Arc::new(cfg);
        for p in &t.partitions {
            p.set_config(cfg.clone());
        }
        let stop = std::sync::atomic::AtomicBool::new(false);
        let files = [
            checkpoint::RECOVERY_POINT,
            checkpoint::LOG_START_OFFSET,
            checkpoint::REPLICATION_OFFSET,
        ];
        std::thread::scope(|s| {
            let producer = s.spawn(|| {
                let now = crate::broker::now_ms();
                for i in 0..300 {
                    for p in &t.partitions {
                        append(p, &[7u8; 200], now + i);
                    }
                }
            });
            // The periodic checkpoint task and DeleteRecords.
            let mut writers: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        while !stop.load(std::sync::atomic::Ordering::Acquire) {
                            m.write_checkpoints().unwrap();
                        }
                    })
                })
                .collect();
            // Retention (its pass checkpoints after deleting segments; errors are logged, so
            // check its write directly as well).
            writers.push(s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    m.retention_pass(crate::broker::now_ms());
                    m.write_checkpoints().unwrap();
                }
            }));
            let reader = s.spawn(|| {
                let mut last_start = [0i64; 4];
                let mut reads = 0;
                while !stop.load(std::sync::atomic::Ordering::Acquire) {
                    for name in files {
                        let offsets = checkpoint::read(dir.path(), name).unwrap();
                        if offsets.is_empty() {
                            continue;
                        }
                        assert_eq!(offsets.len(), 4, "{name}");
                        reads += 1;
                        if name == checkpoint::LOG_START_OFFSET {
                            for (p, last) in last_start.iter_mut().enumerate() {
                                let o = offsets[&("race".to_string(), p as i32)];
                                assert!(
                                    o >= *last,
                                    "log start of race-{p} went from {last} to {o}"
                                );
                                *last = o;
                            }
                        }
                    }
                }
                reads
            });
            producer.join().unwrap();
            stop.store(true, std::sync::atomic::Ordering::Release);
            for w in writers {
                w.join().unwrap();
            }
            assert!(reader.join().unwrap() > 0);
        });
        m.write_checkpoints().unwrap();
        let starts = checkpoint::read(dir.path(), checkpoint::LOG_START_OFFSET).unwrap();
        let hws = checkpoint::read(dir.path(), checkpoint::REPLICATION_OFFSET).unwrap();
        for p in &t.partitions {
            let key = ("race".to_string(), p.index);
            assert_eq!(hws[&key], 300);
            assert_eq!(starts[&key], p.log_start_offset());
            assert!(p.log_start_offset() > 0, "retention ran");
        }
    }

    /// Unreadable checkpoints do not stop start-up: recovery points fall back to a full
    /// recovery (even after a clean shutdown), log start offsets to the segments' base offsets.
    #[test]
    fn corrupt_checkpoints_fall_back_to_the_segments() {
        let dir = tempfile::tempdir().unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        let t = m
            .create_topic(&NewTopic {
                name: "cp".into(),
                num_partitions: 2,
                replication_factor: 1,
                ..Default::default()
            })
            .unwrap();
        for i in 0..5 {
            append(&t.partitions[0], b"v", i);
        }
        assert_eq!(t.partitions[0].delete_records(3).unwrap(), 3);
        m.shutdown().unwrap();
        drop((t, m));
        // Junk after the last batch: only a recovery finds (and cuts) it.
        let seg = dir.path().join("cp-0").join("00000000000000000000.log");
        let good_len = fs::metadata(&seg).unwrap().len();
        let mut f = fs::OpenOptions::new().append(true).open(&seg).unwrap();
        std::io::Write::write_all(&mut f, &[0xab; 100]).unwrap();
        drop(f);
        fs::write(
            dir.path().join(checkpoint::RECOVERY_POINT),
            "0\n18446744073709551615\ncp 0 5\n",
        )
        .unwrap();
        fs::write(
            dir.path().join(checkpoint::LOG_START_OFFSET),
            "0\n2147483647\ncp 0 3\n",
        )
        .unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        let p = m.partition("cp", 0).unwrap();
        assert_eq!(p.log_end_offset(), 5);
        assert_eq!(p.log_start_offset(), 0, "first segment's base offset");
        assert_eq!(fs::metadata(&seg).unwrap().len(), good_len, "recovered");
        assert_eq!(
            p.read(0, 1 << 20, true).unwrap().records.len as u64,
            good_len
        );
        // The next checkpoint writes readable files again.
        m.write_checkpoints().unwrap();
        let starts = checkpoint::read(dir.path(), checkpoint::LOG_START_OFFSET).unwrap();
        assert_eq!(starts[&("cp".to_string(), 0)], 0);
        assert_eq!(starts[&("cp".to_string(), 1)], 0);

        // Garbage bytes in both.
        m.shutdown().unwrap();
        drop((p, m));
        fs::write(
            dir.path().join(checkpoint::RECOVERY_POINT),
            [0xffu8, 0, 7, 0x80],
        )
        .unwrap();
        fs::write(dir.path().join(checkpoint::LOG_START_OFFSET), "garbage\n").unwrap();
        let tmp = dir
            .path()
            .join(format!("{}.tmp", checkpoint::RECOVERY_POINT));
        fs::write(&tmp, "0\n3\ncp 0").unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        assert!(
            !tmp.exists(),
            "a torn temporary file is removed at start-up"
        );
        assert_eq!(m.partition("cp", 0).unwrap().log_end_offset(), 5);
        assert_eq!(m.partition("cp", 1).unwrap().log_end_offset(), 0);
    }

    /// A deletion whose directory renames happened but whose topics file write did not (a
    /// crash, or a disk too full for it) is completed at the next start, so the topic does
    /// not come back; an older incarnation's leftovers do not delete a new topic of the name.
    #[test]
    fn a_deletion_interrupted_before_the_topics_file_completes_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        let new = |name: &str| NewTopic {
            name: name.into(),
            num_partitions: 2,
            replication_factor: 1,
            ..Default::default()
        };
        m.create_topic(&new("gone")).unwrap();
        m.create_topic(&new("kept")).unwrap();
        append(&m.partition("kept", 0).unwrap(), b"v", 1);
        m.shutdown().unwrap();
        drop(m);
        // As if delete_topic("gone") renamed one partition and then crashed.
        fs::rename(
            dir.path().join("gone-0"),
            dir.path().join("gone-0.abc-delete"),
        )
        .unwrap();
        let m = LogManager::open(settings(dir.path())).unwrap();
        assert!(m.topic("gone").is_none());
        assert!(
            !dir.path().join("gone-1").exists(),
            "the rest of the topic went too"
        );
        assert!(!dir.path().join("gone-0.abc-delete").exists());
        assert_eq!(m.partition("kept", 0).unwrap().log_end_offset(), 1);
        let stored = load_topics_file(dir.path()).unwrap();
        let names: Vec<&str> = stored.topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["kept"]);

        // A leftover of a deleted "kept" next to a recreated one: the ids differ.
        let old = dir.path().join("kept-0.old-delete");
        fs::create_dir(&old).unwrap();
        fs::write(
            old.join("partition.metadata"),
            "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAQ\n",
        )
        .unwrap();
        m.shutdown().unwrap();
        drop(m);
        let m = LogManager::open(settings(dir.path())).unwrap();
        assert_eq!(m.partition("kept", 0).unwrap().log_end_offset(), 1);
        assert!(!old.exists());

        // delete_topic itself renames before it writes the file, and frees everything.
        m.delete_topic("kept").unwrap();
        assert!(!dir.path().join("kept-0").exists());
        drop(m);
        let m = LogManager::open(settings(dir.path())).unwrap();
        assert!(m.topics().is_empty());
    }
}
