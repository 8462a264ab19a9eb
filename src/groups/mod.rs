//! Consumer groups: the classic group coordinator and KIP-848 consumer groups, with committed
//! offsets and group metadata kept as records in the internal compacted topic
//! `__consumer_offsets` (Kafka's `group-coordinator` module).
//!
//! - `coordinator`: the service handlers call; shards, timers, the write path.
//! - `shard`: one `__consumer_offsets` partition's groups, offsets and timer; `loader` replays
//!   the partition into it at start-up.
//! - `membership`: JoinGroup/SyncGroup/Heartbeat/LeaveGroup and their timeouts, over the state
//!   machine in `classic` (group) and `member`.
//! - `offset_manager`: OffsetCommit/OffsetFetch/OffsetDelete over `offsets`.
//! - `admin`: ListGroups/DescribeGroups/DeleteGroups and offset expiration.
//! - `modern`: KIP-848 consumer groups (ConsumerGroupHeartbeat, ConsumerGroupDescribe).
//! - `share`: KIP-932 share groups (ShareGroupHeartbeat, ShareGroupDescribe).
//! - `records`: the `__consumer_offsets` key/value schemas; `codec` their primitives;
//!   `consumer_protocol` the subscription format; `timer` keyed deadlines.

pub mod admin;
pub mod classic;
pub mod codec;
pub mod consumer_protocol;
pub mod coordinator;
pub mod group;
pub mod loader;
pub mod member;
pub mod membership;
pub mod modern;
pub mod offset_manager;
pub mod offsets;
pub mod records;
#[cfg(test)]
mod scenario_tests;
pub mod shard;
pub mod share;
pub mod timer;

pub use coordinator::GroupCoordinator;

/// Kafka's `Topic.GROUP_METADATA_TOPIC_NAME`.
pub const GROUP_METADATA_TOPIC_NAME: &str = "__consumer_offsets";

/// Java's `String.hashCode` (over UTF-16 code units), which Kafka uses to place a group.
pub fn java_string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// The `__consumer_offsets` partition of a group: `Utils.abs(groupId.hashCode()) % n`, where
/// `Utils.abs(Integer.MIN_VALUE)` is 0.
pub fn partition_for(group_id: &str, partitions: i32) -> i32 {
    let h = java_string_hash(group_id);
    let abs = if h == i32::MIN { 0 } else { h.abs() };
    abs % partitions.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_partition_matches_kafka() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("hello"), 99162322);
        // Characters outside the BMP hash as two UTF-16 units, as in Java.
        assert_eq!(java_string_hash("\u{1F600}"), 0xD83D * 31 + 0xDE00);
        // "polygenelubricants".hashCode() == Integer.MIN_VALUE, and Utils.abs maps it to 0.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        // "console-consumer-1".hashCode() is negative: the absolute value is used.
        let h = java_string_hash("console-consumer-1");
        assert_eq!(partition_for("console-consumer-1", 50), h.abs() % 50);
        assert_eq!(
            partition_for("my-group", 50),
            java_string_hash("my-group").abs() % 50
        );
    }
}
