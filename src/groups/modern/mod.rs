//! KIP-848 consumer groups: the next-generation consumer rebalance protocol, where members
//! heartbeat their subscription with ConsumerGroupHeartbeat and the coordinator computes and
//! hands out assignments incrementally (Kafka's `modern.consumer` package and the consumer-group
//! half of `GroupMetadataManager`).
//!
//! - `heartbeat`: ConsumerGroupHeartbeat (join, heartbeat, leave), fencing and timeouts.
//! - `group`, `member`: the group and member state, changed only by replaying records.
//! - `current_assignment`: reconciliation of one member (revoke before assign).
//! - `target_assignment`, `assignor`: the group's target assignment (`uniform`, `range`).
//! - `regex`: `SubscribedTopicRegex` resolution; `topics`: the topics it resolves against.
//! - `replay`: how operations emit records and undo them; `describe`: ConsumerGroupDescribe.
//! - `config`: the `group.consumer.*` settings.

pub mod assignor;
pub mod config;
pub mod current_assignment;
pub mod describe;
pub mod group;
pub mod heartbeat;
pub mod member;
pub mod regex;
pub mod replay;
pub mod target_assignment;
pub mod topics;

pub use config::ConsumerGroupConfig;
pub use group::{ConsumerGroup, ConsumerGroupState};
pub use heartbeat::{HeartbeatRequest, HeartbeatResponse};
pub use topics::TopicsImage;
