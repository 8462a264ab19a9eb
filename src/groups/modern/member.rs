//! A member of a consumer group (Kafka's `ConsumerGroupMember` and `MemberState`), split the
//! way `__consumer_offsets` stores it: what the member subscribes with
//! (`ConsumerGroupMemberMetadataValue`) and where its reconciliation stands
//! (`ConsumerGroupCurrentMemberAssignmentValue`).

use std::collections::{BTreeMap, BTreeSet};

use uuid::Uuid;

/// Partitions by topic id (Kafka's `Map<Uuid, Set<Integer>>`), ordered so records and
/// responses are deterministic.
pub type Assignment = BTreeMap<Uuid, BTreeSet<i32>>;

/// `ConsumerGroupHeartbeatRequest.LEAVE_GROUP_MEMBER_EPOCH`.
pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;
/// `ConsumerGroupHeartbeatRequest.LEAVE_GROUP_STATIC_MEMBER_EPOCH`: a static member that will
/// come back within its session keeps its partitions.
pub const LEAVE_GROUP_STATIC_MEMBER_EPOCH: i32 = -2;

/// `MemberState`, with the byte values of the current-assignment record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MemberState {
    /// Fully reconciled with the target assignment of its epoch.
    #[default]
    Stable,
    /// Must revoke partitions before it can move to the next epoch.
    UnrevokedPartitions,
    /// At the target epoch, but waiting for partitions other members still own.
    UnreleasedPartitions,
    /// A state written by a newer coordinator: the member is reconciled from scratch.
    Unknown,
}

impl MemberState {
    pub fn value(self) -> i8 {
        match self {
            MemberState::Stable => 0,
            MemberState::UnrevokedPartitions => 1,
            MemberState::UnreleasedPartitions => 2,
            MemberState::Unknown => 127,
        }
    }

    pub fn from_value(v: i8) -> MemberState {
        match v {
            0 => MemberState::Stable,
            1 => MemberState::UnrevokedPartitions,
            2 => MemberState::UnreleasedPartitions,
            _ => MemberState::Unknown,
        }
    }
}

/// One protocol a classic-protocol member supports (`ClassicMemberMetadata.SupportedProtocols`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicProtocol {
    pub name: String,
    pub metadata: Vec<u8>,
}

/// `ConsumerGroupMemberMetadataValue.ClassicMemberMetadata`: set for members that joined a
/// consumer group with JoinGroup (KIP-848's mixed groups); `None` for ConsumerGroupHeartbeat
/// members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassicMemberMetadata {
    pub session_timeout_ms: i32,
    pub supported_protocols: Vec<ClassicProtocol>,
}

/// What a member subscribes with (`ConsumerGroupMemberMetadataValue`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSubscription {
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: BTreeSet<String>,
    /// `None` (or, on the wire, an empty string) when the member does not use a regex.
    pub subscribed_topic_regex: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub server_assignor: Option<String>,
    pub classic: Option<ClassicMemberMetadata>,
}

impl Default for MemberSubscription {
    fn default() -> Self {
        MemberSubscription {
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            subscribed_topic_names: BTreeSet::new(),
            subscribed_topic_regex: None,
            rebalance_timeout_ms: -1,
            server_assignor: None,
            classic: None,
        }
    }
}

/// Where a member's reconciliation stands (`ConsumerGroupCurrentMemberAssignmentValue`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CurrentAssignment {
    pub member_epoch: i32,
    /// The epoch before the last bump: a member whose response was lost may retry with it.
    pub previous_member_epoch: i32,
    pub state: MemberState,
    /// The partitions the member owns (or may own now).
    pub assigned_partitions: Assignment,
    /// Partitions the member must give up before it moves on.
    pub partitions_pending_revocation: Assignment,
}

/// A consumer group member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroupMember {
    pub member_id: String,
    pub subscription: MemberSubscription,
    pub current: CurrentAssignment,
}

impl ConsumerGroupMember {
    /// A member as `ConsumerGroupMember.Builder(memberId)` makes it: epoch 0, Stable, nothing
    /// assigned.
    pub fn new(member_id: &str) -> ConsumerGroupMember {
        ConsumerGroupMember {
            member_id: member_id.to_string(),
            subscription: MemberSubscription::default(),
            current: CurrentAssignment::default(),
        }
    }

    pub fn member_epoch(&self) -> i32 {
        self.current.member_epoch
    }

    pub fn state(&self) -> MemberState {
        self.current.state
    }

    pub fn instance_id(&self) -> Option<&str> {
        self.subscription.instance_id.as_deref()
    }

    pub fn uses_classic_protocol(&self) -> bool {
        self.subscription.classic.is_some()
    }

    /// `isReconciledTo`: Stable at the given epoch.
    pub fn is_reconciled_to(&self, target_assignment_epoch: i32) -> bool {
        self.current.state == MemberState::Stable
            && self.current.member_epoch == target_assignment_epoch
    }

    pub fn regex(&self) -> Option<&str> {
        self.subscription.subscribed_topic_regex.as_deref()
    }
}

/// Whether `owned` (a heartbeat's `TopicPartitions`) holds only partitions of `target`
/// (Kafka's `isSubset`). `None` (not sent) is not a subset.
pub fn is_subset(owned: Option<&[(Uuid, Vec<i32>)]>, target: &Assignment) -> bool {
    let Some(owned) = owned else {
        return false;
    };
    owned
        .iter()
        .all(|(topic, partitions)| match target.get(topic) {
            Some(t) => partitions.iter().all(|p| t.contains(p)),
            None => false,
        })
}

/// Number of partitions in an assignment.
pub fn partition_count(a: &Assignment) -> usize {
    a.values().map(BTreeSet::len).sum()
}

/// `hasAssignedPartitionsChanged`.
pub fn has_assigned_partitions_changed(
    old: &ConsumerGroupMember,
    new: &ConsumerGroupMember,
) -> bool {
    old.current.assigned_partitions != new.current.assigned_partitions
}
