//! What a cleaning round knows about transactions as it walks the log in offset order (Kafka's
//! `CleanedTransactionMetadata`, KIP-98 with the marker removal of KAFKA-5148/KIP-534).
//!
//! Data batches of an aborted transaction are removed. A transaction marker may go once no batch
//! of its transaction is left: an ABORT marker when this round saw none of the transaction's
//! batches (they went in an earlier round), a COMMIT marker when this round saw no data batch of
//! that producer since its previous marker. Such a marker is first stamped with a delete horizon
//! (`now + delete.retention.ms`), like a tombstone, and dropped by a round after the horizon, so
//! a consumer that read the transaction's data just before still meets its marker. An aborted
//! transaction whose batches are all gone also leaves the transaction index at once: a
//! read_committed consumer needs the entry only to drop those batches.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::log::batch::BatchHeader;
use crate::log::control;
use crate::log::txn_index::AbortedTxn;

/// One aborted transaction the walk is inside of.
struct OngoingAborted {
    txn: AbortedTxn,
    /// Whether this round met a batch of it (then its marker and index entry stay).
    batch_seen: bool,
}

/// The transaction state of one cleaning round.
pub struct CleanedTransactions {
    /// Aborted transactions not reached yet, by first offset.
    upcoming: VecDeque<AbortedTxn>,
    ongoing_aborted: HashMap<i64, OngoingAborted>,
    ongoing_committed: HashSet<i64>,
    /// Aborted transactions left without batches: their index entries are to be removed.
    pub emptied_aborted: Vec<AbortedTxn>,
}

/// What to do with a control batch.
#[derive(Debug, PartialEq, Eq)]
pub enum MarkerFate {
    /// Its transaction still has batches in the log.
    Keep,
    /// Its transaction has no batches left: removable once its delete horizon has passed.
    Removable,
}

impl CleanedTransactions {
    /// `aborted`: the aborted transactions of the cleaned range (any order).
    pub fn new(mut aborted: Vec<AbortedTxn>) -> Self {
        aborted.sort_by_key(|a| (a.first_offset, a.last_offset));
        CleanedTransactions {
            upcoming: aborted.into(),
            ongoing_aborted: HashMap::new(),
            ongoing_committed: HashSet::new(),
            emptied_aborted: Vec::new(),
        }
    }

    /// `consumeAbortedTxnsUpTo`: the aborted transactions that have begun by `offset`.
    fn begin_up_to(&mut self, offset: i64) {
        while self
            .upcoming
            .front()
            .is_some_and(|a| a.first_offset <= offset)
        {
            if let Some(txn) = self.upcoming.pop_front() {
                self.ongoing_aborted.insert(
                    txn.producer_id,
                    OngoingAborted {
                        txn,
                        batch_seen: false,
                    },
                );
            }
        }
    }

    /// `onBatchRead` for a data batch: whether it belongs to an aborted transaction (its
    /// records are then removed).
    pub fn on_data_batch(&mut self, h: &BatchHeader<'_>) -> bool {
        self.begin_up_to(h.last_offset());
        if !h.is_transactional() {
            return false;
        }
        match self.ongoing_aborted.get_mut(&h.producer_id()) {
            Some(a) => {
                a.batch_seen = true;
                true
            }
            None => {
                self.ongoing_committed.insert(h.producer_id());
                false
            }
        }
    }

    /// `onControlBatchRead`: whether the marker's transaction still has batches.
    pub fn on_control_batch(&mut self, h: &BatchHeader<'_>, batch: &[u8]) -> MarkerFate {
        self.begin_up_to(h.last_offset());
        if h.record_count() == 0 {
            // An empty control batch (already cleaned) carries nothing.
            return MarkerFate::Removable;
        }
        let pid = h.producer_id();
        match control::control_type(batch) {
            Some(control::ABORT) => match self.ongoing_aborted.remove(&pid) {
                Some(a) if a.batch_seen => MarkerFate::Keep,
                Some(a) => {
                    self.emptied_aborted.push(a.txn);
                    MarkerFate::Removable
                }
                // No aborted entry (already removed in an earlier round): removable, unless
                // this round took batches of the producer for committed ones, which only a
                // lost index entry explains; then the marker is all that marks them aborted.
                None if self.ongoing_committed.remove(&pid) => MarkerFate::Keep,
                None => MarkerFate::Removable,
            },
            Some(control::COMMIT) => {
                if self.ongoing_committed.remove(&pid) {
                    MarkerFate::Keep
                } else {
                    MarkerFate::Removable
                }
            }
            _ => MarkerFate::Keep,
        }
    }
}
