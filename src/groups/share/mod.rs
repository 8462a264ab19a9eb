//! KIP-932 share groups on the group coordinator: membership by ShareGroupHeartbeat, Kafka's
//! `simple` server-side assignor (every member of a share group may be given the same
//! partition), ShareGroupDescribe, and the group's records in `__consumer_offsets`. The records
//! themselves are handed out by the share partitions ([`crate::share`]), not here.
//!
//! - `heartbeat`: join, heartbeat, leave and session expiry; `assignor`: the simple assignor;
//! - `records`: the ShareGroup* schemas; `describe`: ShareGroupDescribe.

pub mod assignor;
pub mod describe;
pub mod heartbeat;
pub mod records;

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::settings::Settings;

/// The `group.share.*` settings the coordinator reads (Kafka's `ShareGroupConfig` and
/// `GroupCoordinatorConfig`).
#[derive(Clone, Debug)]
pub struct ShareGroupConfig {
    /// `group.share.enable` (Klamm; on by default): off leaves the share APIs unadvertised.
    pub enabled: bool,
    pub session_timeout_ms: i32,
    pub heartbeat_interval_ms: i32,
    pub max_size: usize,
}

impl ShareGroupConfig {
    pub fn from_settings(s: &Settings) -> ShareGroupConfig {
        ShareGroupConfig {
            enabled: s.bool("group.share.enable"),
            session_timeout_ms: s.i32("group.share.session.timeout.ms").max(1),
            heartbeat_interval_ms: s.i32("group.share.heartbeat.interval.ms").max(1),
            max_size: s.i32("group.share.max.size").max(1) as usize,
        }
    }
}

/// `ShareGroup.ShareGroupState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShareGroupState {
    Empty,
    Stable,
}

impl ShareGroupState {
    pub fn name(self) -> &'static str {
        match self {
            ShareGroupState::Empty => "Empty",
            ShareGroupState::Stable => "Stable",
        }
    }
}

/// One member of a share group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShareMember {
    pub member_id: String,
    pub member_epoch: i32,
    pub previous_member_epoch: i32,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    /// Topic id to partitions.
    pub assignment: BTreeMap<Uuid, Vec<i32>>,
}

/// A share group (Kafka's `ShareGroup`).
#[derive(Clone, Debug, Default)]
pub struct ShareGroup {
    pub group_id: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub members: BTreeMap<String, ShareMember>,
    /// The subscribed partitions the target assignment was computed from (not persisted: the
    /// first heartbeat after a restart recomputes it).
    pub subscribed: Vec<(Uuid, i32)>,
    /// The target assignment of each member as of `assignment_epoch`.
    pub target: BTreeMap<String, BTreeMap<Uuid, Vec<i32>>>,
}

impl ShareGroup {
    pub fn new(group_id: &str) -> ShareGroup {
        ShareGroup {
            group_id: group_id.to_string(),
            ..Default::default()
        }
    }

    pub fn state(&self) -> ShareGroupState {
        if self.members.is_empty() {
            ShareGroupState::Empty
        } else {
            ShareGroupState::Stable
        }
    }

    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        self.members
            .values()
            .any(|m| m.subscribed_topic_names.iter().any(|t| t == topic))
    }

    /// Every record key of the group, as tombstones (Kafka's `ShareGroup.createGroupTombstoneRecords`).
    pub fn tombstones(&self) -> Vec<records::ShareRecord> {
        let mut out = Vec::new();
        for m in self.members.keys() {
            out.push(records::ShareRecord::CurrentMemberAssignment {
                group: self.group_id.clone(),
                member: m.clone(),
                value: None,
            });
            out.push(records::ShareRecord::MemberMetadata {
                group: self.group_id.clone(),
                member: m.clone(),
                value: None,
            });
        }
        out.push(records::ShareRecord::GroupMetadata {
            group: self.group_id.clone(),
            epoch: None,
        });
        out
    }
}
