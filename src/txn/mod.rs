//! Transactions (KIP-98): the transaction coordinator, with each transactional id's state kept
//! as records in the internal compacted topic `__transaction_state` (Kafka's
//! `transaction-coordinator` module and `kafka.coordinator.transaction`).
//!
//! - `metadata`: the state machine of one transactional id (`TransactionMetadata`).
//! - `records`: the `__transaction_state` key/value schemas (`TransactionLogKey/Value`).
//! - `coordinator`: the service handlers call: InitProducerId, AddPartitionsToTxn,
//!   AddOffsetsToTxn, EndTxn, DescribeTransactions, ListTransactions; marker writing,
//!   start-up replay with completion of in-doubt transactions, and the timeout abort task.

pub mod coordinator;
pub mod metadata;
pub mod records;

pub use coordinator::TransactionCoordinator;

/// Kafka's `Topic.TRANSACTION_STATE_TOPIC_NAME`.
pub const TRANSACTION_STATE_TOPIC_NAME: &str = "__transaction_state";

/// The `__transaction_state` partition of a transactional id:
/// `Utils.abs(transactionalId.hashCode()) % transaction.state.log.num.partitions`
/// (`TransactionStateManager.partitionFor`), the same rule as for groups.
pub fn partition_for(transactional_id: &str, partitions: i32) -> i32 {
    crate::groups::partition_for(transactional_id, partitions)
}
