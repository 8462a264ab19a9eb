//! The transaction coordinator (Kafka's `TransactionCoordinator` over its
//! `TransactionStateManager` and `TransactionMarkerChannelManager`), for a single broker.
//!
//! Each transactional id has its metadata behind its own async lock. A transition is written to
//! `__transaction_state` before it takes effect in memory, so a restart replays exactly what
//! clients were told. Ending a transaction writes PrepareCommit/PrepareAbort, then the markers
//! to every partition of the transaction (here the broker appends them directly: it is the
//! leader of every partition), then CompleteCommit/CompleteAbort. While that runs, other
//! requests for the id get CONCURRENT_TRANSACTIONS, as in Kafka. If a marker cannot be written
//! the transaction stays prepared and the periodic task retries it; a restart completes any
//! prepared transaction (commit if PrepareCommit was written, abort otherwise).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, MutexGuard};
use tracing::{info, warn};

use crate::broker::now_ms;
use crate::cluster::ProducerIdManager;
use crate::error::{Error, Result};
use crate::groups::{GroupCoordinator, GROUP_METADATA_TOPIC_NAME};
use crate::log::batch::Batches;
use crate::log::batch_builder::{self, Producer};
use crate::log::records::{records_section, RecordIter};
use crate::log::validator::{self, AppendOrigin};
use crate::log::{LogManager, NewTopic, Partition};
use crate::settings::Settings;
use crate::txn::metadata::{TransactionMetadata, TxnState, NO_PRODUCER_EPOCH};
use crate::txn::{partition_for, records, TRANSACTION_STATE_TOPIC_NAME};

/// Transaction settings (Kafka's `TransactionStateManagerConfig`).
#[derive(Clone, Debug)]
pub struct TxnConfig {
    pub max_timeout_ms: i32,
    pub num_partitions: i32,
    pub segment_bytes: i32,
    pub abort_interval_ms: i64,
    pub id_expiration_ms: i64,
    pub remove_expired_interval_ms: i64,
    pub flush_before_ack: bool,
    pub load_buffer_size: usize,
}

impl TxnConfig {
    pub fn from_settings(s: &Settings) -> TxnConfig {
        TxnConfig {
            max_timeout_ms: s.i32("transaction.max.timeout.ms"),
            num_partitions: s.i32("transaction.state.log.num.partitions").max(1),
            segment_bytes: s.i32("transaction.state.log.segment.bytes"),
            abort_interval_ms: s
                .i64("transaction.abort.timed.out.transaction.cleanup.interval.ms")
                .max(1),
            id_expiration_ms: s.i64("transactional.id.expiration.ms"),
            remove_expired_interval_ms: s
                .i64("transaction.remove.expired.transaction.cleanup.interval.ms")
                .max(1),
            flush_before_ack: s.bool("log.flush.before.ack"),
            load_buffer_size: s.i32("offsets.load.buffer.size").max(1) as usize,
        }
    }
}

/// One transactional id.
struct Entry {
    meta: tokio::sync::Mutex<TransactionMetadata>,
    /// Set while the transaction's end (markers) is being written.
    completing: AtomicBool,
}

/// A transaction as DescribeTransactions and ListTransactions show it.
#[derive(Clone, Debug)]
pub struct TxnDescription {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub state: TxnState,
    pub timeout_ms: i32,
    pub start_timestamp: i64,
    pub partitions: Vec<(String, Vec<i32>)>,
}

/// The transaction coordinator of this broker.
pub struct TransactionCoordinator {
    logs: Arc<LogManager>,
    groups: Arc<GroupCoordinator>,
    config: TxnConfig,
    num_partitions: i32,
    txns: Mutex<HashMap<String, Arc<Entry>>>,
}

impl TransactionCoordinator {
    /// Registers `__transaction_state` and replays it. Blocking: run it before serving, then
    /// [`TransactionCoordinator::complete_in_doubt`].
    pub fn load(
        logs: Arc<LogManager>,
        groups: Arc<GroupCoordinator>,
        settings: &Settings,
    ) -> Result<TransactionCoordinator> {
        let config = TxnConfig::from_settings(settings);
        logs.register_internal_topic(state_topic_spec(&config));
        let existing = logs.topic(TRANSACTION_STATE_TOPIC_NAME);
        let num_partitions = existing
            .as_ref()
            .map(|t| t.partitions.len() as i32)
            .filter(|n| *n > 0)
            .unwrap_or(config.num_partitions);
        let mut txns = HashMap::new();
        if let Some(t) = &existing {
            for p in &t.partitions {
                replay_partition(p, config.load_buffer_size, &mut txns)?;
            }
        }
        if !txns.is_empty() {
            info!(
                transactional_ids = txns.len(),
                "transaction coordinator loaded"
            );
        }
        let txns = txns
            .into_iter()
            .map(|(k, m)| {
                (
                    k,
                    Arc::new(Entry {
                        meta: tokio::sync::Mutex::new(m),
                        completing: AtomicBool::new(false),
                    }),
                )
            })
            .collect();
        Ok(TransactionCoordinator {
            logs,
            groups,
            config,
            num_partitions,
            txns: Mutex::new(txns),
        })
    }

    pub fn num_partitions(&self) -> i32 {
        self.num_partitions
    }

    /// Creates `__transaction_state` if it does not exist yet (FindCoordinator does this).
    pub fn ensure_topic(&self) -> Result<()> {
        self.logs
            .get_or_create_internal(TRANSACTION_STATE_TOPIC_NAME)
            .map(|_| ())
    }

    fn entry(&self, transactional_id: &str) -> Option<Arc<Entry>> {
        self.txns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(transactional_id)
            .cloned()
    }

    fn entries(&self) -> Vec<Arc<Entry>> {
        self.txns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Locks an id's metadata, or CONCURRENT_TRANSACTIONS while its transaction is completing.
    async fn lock<'a>(&self, entry: &'a Entry) -> Result<MutexGuard<'a, TransactionMetadata>> {
        if entry.completing.load(Ordering::Acquire) {
            return Err(Error::ConcurrentTransactions);
        }
        Ok(entry.meta.lock().await)
    }

    /// Completes every transaction left prepared by a crash (Kafka's
    /// `TransactionStateManager.loadTransactionsForTxnTopicPartition` hands them to the marker
    /// channel): PrepareCommit commits, PrepareAbort (and a fence) aborts.
    pub async fn complete_in_doubt(&self) {
        for entry in self.entries() {
            let mut m = entry.meta.lock().await;
            let commit = match m.state {
                TxnState::PrepareCommit => true,
                TxnState::PrepareAbort | TxnState::PrepareEpochFence => false,
                _ => continue,
            };
            info!(transactional_id = %m.transactional_id, commit, "completing an in-doubt transaction");
            if let Err(e) = self
                .write_markers_and_complete(&entry, &mut m, commit)
                .await
            {
                warn!(transactional_id = %m.transactional_id, "completing an in-doubt transaction failed: {e}");
            }
        }
    }

    // --- InitProducerId --------------------------------------------------------------------------

    /// InitProducerId with a transactional id (`handleInitProducerId`): a new producer id, or
    /// the existing one with its epoch bumped, which fences older instances. An open
    /// transaction is aborted first and the client told CONCURRENT_TRANSACTIONS, so its retry
    /// bumps the epoch once more. `expected` is KIP-360's current producer id and epoch.
    pub async fn init_producer_id(
        &self,
        transactional_id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        ids: &ProducerIdManager,
    ) -> Result<(i64, i16)> {
        if transactional_id.is_empty() {
            return Err(Error::InvalidRequest(
                "The transactional id must not be empty".into(),
            ));
        }
        if timeout_ms <= 0 || timeout_ms > self.config.max_timeout_ms {
            return Err(Error::InvalidTransactionTimeout(format!(
                "The transaction timeout {timeout_ms} is larger than the maximum value allowed by the broker (transaction.max.timeout.ms={})",
                self.config.max_timeout_ms
            )));
        }
        let entry = match self.entry(transactional_id) {
            Some(e) => e,
            None => {
                let pid = ids.next_id()?;
                let mut map = self.txns.lock().unwrap_or_else(|e| e.into_inner());
                map.entry(transactional_id.to_string())
                    .or_insert_with(|| {
                        Arc::new(Entry {
                            meta: tokio::sync::Mutex::new(TransactionMetadata::new(
                                transactional_id,
                                pid,
                                timeout_ms,
                                now_ms(),
                            )),
                            completing: AtomicBool::new(false),
                        })
                    })
                    .clone()
            }
        };
        let mut m = self.lock(&entry).await?;
        if let Some((pid, epoch)) = expected {
            let valid = m.producer_epoch == NO_PRODUCER_EPOCH
                || pid == m.producer_id
                || (pid == m.previous_producer_id
                    && TransactionMetadata::is_epoch_exhausted(epoch));
            if !valid {
                return Err(fenced(transactional_id));
            }
        }
        match m.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort => Err(Error::ConcurrentTransactions),
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort => {
                let mut next = m.clone();
                if TransactionMetadata::is_epoch_exhausted(m.producer_epoch)
                    && expected.is_none_or(|(_, e)| e == m.producer_epoch)
                {
                    // `prepareProducerIdRotation`
                    next.previous_producer_id = m.producer_id;
                    next.producer_id = ids.next_id()?;
                    next.producer_epoch = 0;
                    next.last_producer_epoch = NO_PRODUCER_EPOCH;
                } else {
                    // `prepareIncrementProducerEpoch`
                    match expected {
                        None => {
                            next.producer_epoch = m.producer_epoch + 1;
                            next.last_producer_epoch = NO_PRODUCER_EPOCH;
                        }
                        Some((_, e))
                            if m.producer_epoch == NO_PRODUCER_EPOCH || e == m.producer_epoch =>
                        {
                            next.producer_epoch = m.producer_epoch + 1;
                            next.last_producer_epoch = m.producer_epoch;
                        }
                        // A retry whose answer was lost: the same epoch again.
                        Some((_, e)) if e == m.last_producer_epoch => {}
                        Some(_) => return Err(fenced(transactional_id)),
                    }
                }
                next.txn_timeout_ms = timeout_ms;
                next.state = TxnState::Empty;
                next.partitions.clear();
                next.txn_start_timestamp = -1;
                next.txn_last_update_timestamp = now_ms();
                self.write_state(&next).await?;
                *m = next;
                info!(
                    transactional_id,
                    producer_id = m.producer_id,
                    producer_epoch = m.producer_epoch,
                    "initialized transactional producer"
                );
                Ok((m.producer_id, m.producer_epoch))
            }
            TxnState::Ongoing => {
                // `prepareFenceProducerEpoch`: abort with a bumped epoch that is never returned.
                info!(
                    transactional_id,
                    "aborting the open transaction of a fenced producer"
                );
                m.producer_epoch = m.producer_epoch.saturating_add(1);
                m.last_producer_epoch = NO_PRODUCER_EPOCH;
                self.end(&entry, &mut m, false).await?;
                Err(Error::ConcurrentTransactions)
            }
            TxnState::Dead | TxnState::PrepareEpochFence => Err(Error::ConcurrentTransactions),
        }
    }

    // --- AddPartitionsToTxn / AddOffsetsToTxn -----------------------------------------------------

    /// AddPartitionsToTxn (`handleAddPartitionsToTransaction`): the partitions join the
    /// transaction, which becomes Ongoing.
    pub async fn add_partitions(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        partitions: &[(String, i32)],
    ) -> Result<()> {
        if transactional_id.is_empty() {
            return Err(Error::InvalidRequest(
                "The transactional id must not be empty".into(),
            ));
        }
        let entry = self
            .entry(transactional_id)
            .ok_or(Error::InvalidProducerIdMapping)?;
        if entry.completing.load(Ordering::Acquire) {
            // Checked after the id and epoch in Kafka, but a completing transaction has both
            // fixed: answer the retriable error without waiting for the markers.
            let m = entry.meta.try_lock();
            if let Ok(m) = m {
                check_producer(&m, producer_id, producer_epoch)?;
            }
            return Err(Error::ConcurrentTransactions);
        }
        let mut m = entry.meta.lock().await;
        if m.state == TxnState::Dead {
            // Expired while this request waited: the id is no longer known.
            return Err(Error::InvalidProducerIdMapping);
        }
        check_producer(&m, producer_id, producer_epoch)?;
        if matches!(m.state, TxnState::PrepareCommit | TxnState::PrepareAbort) {
            return Err(Error::ConcurrentTransactions);
        }
        if m.state == TxnState::Ongoing
            && partitions
                .iter()
                .all(|p| m.partitions.contains(&(p.0.clone(), p.1)))
        {
            return Ok(());
        }
        let now = now_ms();
        let mut next = m.clone();
        if m.state != TxnState::Ongoing {
            // `prepareAddPartitions` from Empty or Complete*: a new transaction starts.
            next.partitions.clear();
            next.txn_start_timestamp = now;
        }
        next.partitions
            .extend(partitions.iter().map(|(t, p)| (t.clone(), *p)));
        next.state = TxnState::Ongoing;
        next.txn_last_update_timestamp = now;
        self.write_state(&next).await?;
        *m = next;
        Ok(())
    }

    /// `handleVerifyPartitionsInTransaction` (KIP-890 part 1, Kafka's default
    /// `transaction.partition.verification.enable=true`): a transactional Produce to a
    /// partition the producer has no open transaction on is accepted only when the partition
    /// was added to its ongoing transaction (else INVALID_TXN_STATE).
    pub async fn verify_partition(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        topic: &str,
        partition: i32,
    ) -> Result<()> {
        let entry = self
            .entry(transactional_id)
            .ok_or(Error::InvalidProducerIdMapping)?;
        let m = entry.meta.lock().await;
        if m.state == TxnState::Dead {
            return Err(Error::InvalidProducerIdMapping);
        }
        check_producer(&m, producer_id, producer_epoch)?;
        if m.state != TxnState::Ongoing || !m.partitions.contains(&(topic.to_string(), partition)) {
            return Err(Error::InvalidTxnState);
        }
        Ok(())
    }

    /// The `__consumer_offsets` partition AddOffsetsToTxn adds for `group_id`.
    pub fn offsets_partition(&self, group_id: &str) -> (String, i32) {
        (
            GROUP_METADATA_TOPIC_NAME.to_string(),
            self.groups.partition_for(group_id),
        )
    }

    // --- EndTxn ----------------------------------------------------------------------------------

    /// EndTxn (`endTransaction` from a client, transactions version 1): commits or aborts the
    /// open transaction; a retry of a completed end answers success.
    pub async fn end_txn(
        &self,
        transactional_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    ) -> Result<()> {
        if transactional_id.is_empty() {
            return Err(Error::InvalidRequest(
                "The transactional id must not be empty".into(),
            ));
        }
        let entry = self
            .entry(transactional_id)
            .ok_or(Error::InvalidProducerIdMapping)?;
        let mut m = self.lock(&entry).await?;
        if m.state == TxnState::Dead {
            return Err(Error::InvalidProducerIdMapping);
        }
        check_producer(&m, producer_id, producer_epoch)?;
        match (m.state, commit) {
            (TxnState::Ongoing, _) => self.end(&entry, &mut m, commit).await,
            (TxnState::CompleteCommit, true) | (TxnState::CompleteAbort, false) => Ok(()),
            (TxnState::PrepareCommit, true) | (TxnState::PrepareAbort, false) => {
                Err(Error::ConcurrentTransactions)
            }
            _ => Err(Error::InvalidTxnState),
        }
    }

    /// Writes PrepareCommit/PrepareAbort, then the markers and the Complete state.
    async fn end(&self, entry: &Entry, m: &mut TransactionMetadata, commit: bool) -> Result<()> {
        let mut next = m.clone();
        next.state = if commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        next.txn_last_update_timestamp = now_ms();
        self.write_state(&next).await?;
        *m = next;
        if let Err(e) = self.write_markers_and_complete(entry, m, commit).await {
            // The decision is durable: the periodic task (or a restart) finishes the job.
            warn!(transactional_id = %m.transactional_id, "writing transaction markers failed, will retry: {e}");
        }
        Ok(())
    }

    /// Writes the markers of a prepared transaction and then its Complete state.
    async fn write_markers_and_complete(
        &self,
        entry: &Entry,
        m: &mut TransactionMetadata,
        commit: bool,
    ) -> Result<()> {
        entry.completing.store(true, Ordering::Release);
        let result = self.write_markers(m, commit).await;
        let result = match result {
            Ok(()) => {
                let mut next = m.clone();
                next.state = if commit {
                    TxnState::CompleteCommit
                } else {
                    TxnState::CompleteAbort
                };
                next.partitions.clear();
                next.txn_last_update_timestamp = now_ms();
                let r = self.write_state(&next).await;
                if r.is_ok() {
                    *m = next;
                }
                r
            }
            Err(e) => Err(e),
        };
        entry.completing.store(false, Ordering::Release);
        result
    }

    /// Appends a COMMIT/ABORT marker to every partition of the transaction (Kafka sends
    /// WriteTxnMarkers to the leaders; this broker leads them all). Partitions of deleted topics
    /// are skipped, as Kafka drops markers for them.
    async fn write_markers(&self, m: &TransactionMetadata, commit: bool) -> Result<()> {
        for (topic, index) in &m.partitions {
            match self
                .write_marker(topic, *index, m.producer_id, m.producer_epoch, 0, commit)
                .await
            {
                Err(Error::UnknownTopicOrPartition) => continue,
                r => r?,
            }
        }
        Ok(())
    }

    /// Appends one COMMIT/ABORT marker to one partition, as the partition leader does for each
    /// entry of a WriteTxnMarkers request (`KafkaApis.handleWriteTxnMarkersRequest`): on
    /// `__consumer_offsets` the group coordinator completes the transaction's pending offsets
    /// (`GroupCoordinator.onTransactionCompleted`). UNKNOWN_TOPIC_OR_PARTITION when the
    /// partition of a user topic does not exist.
    pub async fn write_marker(
        &self,
        topic: &str,
        index: i32,
        producer_id: i64,
        producer_epoch: i16,
        coordinator_epoch: i32,
        commit: bool,
    ) -> Result<()> {
        if topic == GROUP_METADATA_TOPIC_NAME {
            return self
                .groups
                .complete_transaction(
                    index,
                    producer_id,
                    producer_epoch,
                    coordinator_epoch,
                    commit,
                )
                .await;
        }
        let p = self
            .logs
            .partition(topic, index)
            .ok_or(Error::UnknownTopicOrPartition)?;
        let info = p.append_txn_marker(
            producer_id,
            producer_epoch,
            coordinator_epoch,
            commit,
            now_ms(),
        )?;
        self.after_append(&p, info.rolled_at, info.needs_flush, info.last_offset)
            .await
    }

    async fn after_append(
        &self,
        p: &Arc<Partition>,
        rolled_at: Option<i64>,
        needs_flush: bool,
        last_offset: i64,
    ) -> Result<()> {
        if let Some(rolled) = rolled_at {
            let p = p.clone();
            tokio::spawn(async move {
                if let Err(e) = p.flush_to(rolled).await {
                    warn!(partition = %p.name(), "flush after roll failed: {e}");
                }
            });
        }
        if needs_flush {
            p.flush_to(last_offset + 1).await?;
        }
        Ok(())
    }

    /// Appends `m` to the id's `__transaction_state` partition (`appendTransactionToLog`).
    async fn write_state(&self, m: &TransactionMetadata) -> Result<()> {
        self.append_record(&m.transactional_id, records::encode(m))
            .await
    }

    /// Appends one record of `transactional_id` to its `__transaction_state` partition.
    async fn append_record(
        &self,
        transactional_id: &str,
        record: batch_builder::SimpleRecord,
    ) -> Result<()> {
        let topic = self
            .logs
            .get_or_create_internal(TRANSACTION_STATE_TOPIC_NAME)?;
        let index = partition_for(transactional_id, self.num_partitions);
        let partition = topic
            .partition(index)
            .cloned()
            .ok_or(Error::NotCoordinator)?;
        let now = now_ms();
        let bytes = Bytes::from(batch_builder::build(&[record], now, Producer::NONE));
        let batch = validator::validate(
            &bytes,
            i16::MAX,
            &partition.config(),
            AppendOrigin::Coordinator,
            now,
            &partition.name(),
        )?;
        let info = partition.append(&batch, AppendOrigin::Coordinator)?;
        self.after_append(
            &partition,
            info.rolled_at,
            info.needs_flush || self.config.flush_before_ack,
            info.last_offset,
        )
        .await
    }

    // --- timeouts --------------------------------------------------------------------------------

    /// One pass of Kafka's `abortTimedOutTransactions`: every transaction open longer than its
    /// timeout is aborted with a bumped epoch (fencing the producer that abandoned it), and
    /// prepared transactions whose markers failed are retried. Returns how many were aborted.
    pub async fn abort_timed_out(&self) -> usize {
        let mut aborted = 0;
        let now = now_ms();
        for entry in self.entries() {
            let Ok(mut m) = entry.meta.try_lock() else {
                continue;
            };
            match m.state {
                TxnState::Ongoing if m.has_timed_out(now) => {
                    info!(transactional_id = %m.transactional_id, producer_id = m.producer_id,
                        "aborting a transaction that exceeded its timeout");
                    m.producer_epoch = m.producer_epoch.saturating_add(1);
                    m.last_producer_epoch = NO_PRODUCER_EPOCH;
                    match self.end(&entry, &mut m, false).await {
                        Ok(()) => aborted += 1,
                        Err(e) => {
                            warn!(transactional_id = %m.transactional_id, "aborting a timed-out transaction failed: {e}")
                        }
                    }
                }
                TxnState::PrepareCommit | TxnState::PrepareAbort => {
                    let commit = m.state == TxnState::PrepareCommit;
                    if let Err(e) = self
                        .write_markers_and_complete(&entry, &mut m, commit)
                        .await
                    {
                        warn!(transactional_id = %m.transactional_id, "completing a transaction failed: {e}");
                    }
                }
                _ => {}
            }
        }
        aborted
    }

    /// One pass of Kafka's `removeExpiredTransactionalIds`: an id whose state allows expiry
    /// (no transaction in flight) and whose last status update is `transactional.id.expiration.ms`
    /// old gets a tombstone in `__transaction_state` and leaves the cache, so its next
    /// InitProducerId starts afresh with a new producer id. Returns how many were removed.
    pub async fn remove_expired(&self) -> usize {
        let mut removed = 0;
        let cutoff = now_ms().saturating_sub(self.config.id_expiration_ms);
        for entry in self.entries() {
            if entry.completing.load(Ordering::Acquire) {
                continue;
            }
            let Ok(mut m) = entry.meta.try_lock() else {
                continue;
            };
            if !m.expiration_allowed() || m.txn_last_update_timestamp > cutoff {
                continue;
            }
            let tid = m.transactional_id.clone();
            if let Err(e) = self.append_record(&tid, records::tombstone(&tid)).await {
                warn!(transactional_id = %tid, "writing the tombstone of an expired transactional id failed: {e}");
                continue;
            }
            // A request that found the entry before its removal sees Dead once it locks it.
            m.state = TxnState::Dead;
            let mut map = self.txns.lock().unwrap_or_else(|e| e.into_inner());
            if map.get(&tid).is_some_and(|e| Arc::ptr_eq(e, &entry)) {
                map.remove(&tid);
            }
            info!(transactional_id = %tid, producer_id = m.producer_id, "removed an expired transactional id");
            removed += 1;
        }
        removed
    }

    /// Runs [`TransactionCoordinator::abort_timed_out`] every
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms` and
    /// [`TransactionCoordinator::remove_expired`] every
    /// `transaction.remove.expired.transaction.cleanup.interval.ms`.
    pub fn spawn_timeout_task(
        self: &Arc<Self>,
        shutdown: &broadcast::Receiver<()>,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        let mut shutdown = shutdown.resubscribe();
        let abort_every = Duration::from_millis(self.config.abort_interval_ms as u64);
        let expire_every = Duration::from_millis(self.config.remove_expired_interval_ms as u64);
        tokio::spawn(async move {
            let mut abort_tick = tokio::time::interval(abort_every);
            abort_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            abort_tick.tick().await;
            let mut expire_tick = tokio::time::interval(expire_every);
            expire_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            expire_tick.tick().await;
            loop {
                tokio::select! {
                    _ = shutdown.recv() => break,
                    _ = abort_tick.tick() => {
                        let n = me.abort_timed_out().await;
                        if n > 0 {
                            metrics::counter!(crate::metrics::names::TRANSACTIONS_TIMED_OUT).increment(n as u64);
                        }
                    }
                    _ = expire_tick.tick() => {
                        let n = me.remove_expired().await;
                        if n > 0 {
                            metrics::counter!(crate::metrics::names::TRANSACTIONAL_IDS_EXPIRED).increment(n as u64);
                        }
                    }
                }
            }
        })
    }

    // --- DescribeTransactions / ListTransactions -----------------------------------------------------

    /// DescribeTransactions of one id (`handleDescribeTransactions`).
    pub async fn describe(&self, transactional_id: &str) -> Result<TxnDescription> {
        if transactional_id.is_empty() {
            return Err(Error::InvalidRequest(
                "The transactional id must not be empty".into(),
            ));
        }
        let entry = self
            .entry(transactional_id)
            .ok_or(Error::TransactionalIdNotFound)?;
        let m = entry.meta.lock().await;
        if m.state == TxnState::Dead {
            return Err(Error::TransactionalIdNotFound);
        }
        Ok(describe(&m))
    }

    /// ListTransactions (`TransactionStateManager.listTransactionStates`): filtered by producer
    /// id, state and (v1) by running longer than `min_duration_ms`. Returns the transactions
    /// and the state names that are not states.
    pub async fn list(
        &self,
        producer_ids: &[i64],
        states: &[String],
        min_duration_ms: i64,
    ) -> (Vec<TxnDescription>, Vec<String>) {
        let mut unknown = Vec::new();
        let mut wanted = Vec::new();
        for s in states {
            match TxnState::from_name(s) {
                Some(st) => wanted.push(st),
                None => unknown.push(s.clone()),
            }
        }
        let now = now_ms();
        let mut out = Vec::new();
        for entry in self.entries() {
            let m = entry.meta.lock().await;
            let include = m.state != TxnState::Dead
                && (producer_ids.is_empty() || producer_ids.contains(&m.producer_id))
                && (states.is_empty() || wanted.contains(&m.state))
                && (min_duration_ms < 0 || now - m.txn_start_timestamp > min_duration_ms);
            if include {
                out.push(describe(&m));
            }
        }
        out.sort_by(|a, b| a.transactional_id.cmp(&b.transactional_id));
        (out, unknown)
    }
}

fn describe(m: &TransactionMetadata) -> TxnDescription {
    TxnDescription {
        transactional_id: m.transactional_id.clone(),
        producer_id: m.producer_id,
        producer_epoch: m.producer_epoch,
        state: m.state,
        timeout_ms: m.txn_timeout_ms,
        start_timestamp: m.txn_start_timestamp,
        partitions: m.partitions_by_topic(),
    }
}

fn fenced(transactional_id: &str) -> Error {
    Error::ProducerFenced(format!(
        "There is a newer producer with the same transactionalId {transactional_id} which fences the current one."
    ))
}

/// The producer id and epoch a client request names must be the id's current ones.
fn check_producer(m: &TransactionMetadata, producer_id: i64, producer_epoch: i16) -> Result<()> {
    if m.producer_id != producer_id {
        return Err(Error::InvalidProducerIdMapping);
    }
    if m.producer_epoch != producer_epoch {
        return Err(fenced(&m.transactional_id));
    }
    Ok(())
}

/// Replays one `__transaction_state` partition: the last record of each id wins; a tombstone
/// removes it.
fn replay_partition(
    p: &Partition,
    buffer_size: usize,
    txns: &mut HashMap<String, TransactionMetadata>,
) -> Result<()> {
    let mut next = p.log_start_offset();
    let end = p.log_end_offset();
    while next < end {
        let data = p.read(next, buffer_size, true)?;
        let bytes = data.records.read_to_bytes()?;
        let mut progressed = false;
        for (at, h) in Batches::new(&bytes) {
            if h.last_offset() < next {
                continue;
            }
            next = h.last_offset() + 1;
            progressed = true;
            if h.is_control() {
                continue;
            }
            let batch = &bytes[at..at + h.size()];
            let section = match records_section(batch) {
                Ok(s) => s,
                Err(e) => {
                    warn!(partition = %p.name(), offset = h.base_offset(), "skipping an unreadable batch: {e}");
                    continue;
                }
            };
            for r in RecordIter::new(&section, h.record_count()) {
                let Ok(r) = r else {
                    warn!(partition = %p.name(), offset = h.base_offset(), "skipping the rest of a malformed batch");
                    break;
                };
                let Some(key) = r.key else { continue };
                match records::decode(key, r.value) {
                    Ok(Some((tid, Some(m)))) => {
                        txns.insert(tid, m);
                    }
                    Ok(Some((tid, None))) => {
                        txns.remove(&tid);
                    }
                    Ok(None) => {}
                    Err(e) => {
                        warn!(partition = %p.name(), "skipping a malformed transaction record: {e}")
                    }
                }
            }
        }
        if !progressed {
            warn!(partition = %p.name(), offset = next, "no complete batch to replay; stopping the load here");
            break;
        }
    }
    Ok(())
}

fn state_topic_spec(config: &TxnConfig) -> NewTopic {
    let mut configs = std::collections::BTreeMap::new();
    configs.insert("cleanup.policy".to_string(), "compact".to_string());
    configs.insert("compression.type".to_string(), "uncompressed".to_string());
    configs.insert("min.insync.replicas".to_string(), "1".to_string());
    configs.insert(
        "segment.bytes".to_string(),
        config.segment_bytes.to_string(),
    );
    configs.insert(
        "unclean.leader.election.enable".to_string(),
        "false".to_string(),
    );
    NewTopic {
        name: TRANSACTION_STATE_TOPIC_NAME.to_string(),
        num_partitions: config.num_partitions,
        replication_factor: 1,
        assignments: Vec::new(),
        configs,
        internal: true,
    }
}
