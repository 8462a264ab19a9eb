//! One transactional id's state (Kafka's `TransactionMetadata` and `TransactionState`).

use std::collections::BTreeSet;

/// `TransactionState`, with Kafka's ids (the `TransactionStatus` byte of the log value) and
/// names (what DescribeTransactions and ListTransactions show).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    Dead,
    PrepareEpochFence,
}

impl TxnState {
    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::Dead,
        TxnState::PrepareEpochFence,
    ];

    pub fn id(self) -> i8 {
        match self {
            TxnState::Empty => 0,
            TxnState::Ongoing => 1,
            TxnState::PrepareCommit => 2,
            TxnState::PrepareAbort => 3,
            TxnState::CompleteCommit => 4,
            TxnState::CompleteAbort => 5,
            TxnState::Dead => 6,
            TxnState::PrepareEpochFence => 7,
        }
    }

    pub fn from_id(id: i8) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::Dead => "Dead",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
        }
    }

    pub fn from_name(name: &str) -> Option<TxnState> {
        TxnState::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// `RecordBatch.NO_PRODUCER_EPOCH`
pub const NO_PRODUCER_EPOCH: i16 = -1;

/// The state of one transactional id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionMetadata {
    pub transactional_id: String,
    pub producer_id: i64,
    /// The producer id before the last rotation (epoch exhaustion), for retried InitProducerId.
    pub previous_producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last bump, so a retried InitProducerId gets the same answer.
    pub last_producer_epoch: i16,
    pub txn_timeout_ms: i32,
    pub state: TxnState,
    pub partitions: BTreeSet<(String, i32)>,
    /// When the current transaction started (-1 when none is open).
    pub txn_start_timestamp: i64,
    pub txn_last_update_timestamp: i64,
}

impl TransactionMetadata {
    pub fn new(transactional_id: &str, producer_id: i64, timeout_ms: i32, now: i64) -> Self {
        TransactionMetadata {
            transactional_id: transactional_id.to_string(),
            producer_id,
            previous_producer_id: -1,
            producer_epoch: NO_PRODUCER_EPOCH,
            last_producer_epoch: NO_PRODUCER_EPOCH,
            txn_timeout_ms: timeout_ms,
            state: TxnState::Empty,
            partitions: BTreeSet::new(),
            txn_start_timestamp: -1,
            txn_last_update_timestamp: now,
        }
    }

    /// `TransactionMetadata.isProducerEpochExhausted`: one epoch is kept in reserve for fencing.
    pub fn is_epoch_exhausted(epoch: i16) -> bool {
        epoch >= i16::MAX - 1
    }

    /// The partitions grouped by topic, in order.
    pub fn partitions_by_topic(&self) -> Vec<(String, Vec<i32>)> {
        let mut out: Vec<(String, Vec<i32>)> = Vec::new();
        for (t, p) in &self.partitions {
            match out.last_mut() {
                Some((last, ps)) if last == t => ps.push(*p),
                _ => out.push((t.clone(), vec![*p])),
            }
        }
        out
    }

    /// Kafka's `TransactionState.isExpirationAllowed`: only an id without a transaction in
    /// flight may expire.
    pub fn expiration_allowed(&self) -> bool {
        matches!(
            self.state,
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
        )
    }

    /// Whether the open transaction has run past its timeout at `now`.
    pub fn has_timed_out(&self, now: i64) -> bool {
        self.state == TxnState::Ongoing
            && self.txn_start_timestamp >= 0
            && now > self.txn_start_timestamp + self.txn_timeout_ms as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_ids_and_names_match_kafka() {
        for s in TxnState::ALL {
            assert_eq!(TxnState::from_id(s.id()), Some(s));
            assert_eq!(TxnState::from_name(s.name()), Some(s));
        }
        assert_eq!(TxnState::PrepareEpochFence.id(), 7);
        assert_eq!(TxnState::from_name("ongoing"), None);
    }
}
