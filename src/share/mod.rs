//! KIP-932 share groups, the record side: share partitions (in-flight records, acquisition
//! locks, delivery counts), share sessions, ShareFetch/ShareAcknowledge, and the share-partition
//! state in `__share_group_state`. Membership and assignment live with the group coordinator
//! ([`crate::groups::share`]).
//!
//! - `partition`: one share partition's state machine (no I/O);
//! - `manager`: the share partitions and sessions of the broker, the fetch and acknowledge paths;
//! - `persister`, `state_records`: `__share_group_state` (ShareSnapshot/ShareUpdate);
//! - `dead_letter`: copies of rejected and delivery-limit records (beyond Kafka 4.1).

pub mod dead_letter;
pub mod manager;
pub mod partition;
pub mod persister;
pub mod state_records;

pub use manager::ShareManager;
