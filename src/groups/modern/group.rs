//! A KIP-848 consumer group (Kafka's `ConsumerGroup` over `ModernGroup`): members, the group
//! epoch, the target assignment and its epoch, who owns which partition at which epoch, static
//! members, server-assignor preferences, regex subscriptions and their resolutions.
//!
//! All persisted state changes through [`ConsumerGroup::replay`], both when `__consumer_offsets`
//! is loaded and right after an operation produced its records, so what the broker serves is what
//! a restart rebuilds. The group state (Empty, Assigning, Reconciling, Stable) is derived from it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tracing::warn;
use uuid::Uuid;

use crate::error::Error;
use crate::groups::modern::member::{
    Assignment, ConsumerGroupMember, CurrentAssignment, MemberState, LEAVE_GROUP_MEMBER_EPOCH,
};
use crate::groups::records::consumer::{ConsumerRecord, GroupEpoch, ResolvedRegex};

/// `ConsumerGroup.ConsumerGroupState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ConsumerGroupState {
    #[default]
    Empty,
    Assigning,
    Reconciling,
    Stable,
    Dead,
}

impl ConsumerGroupState {
    pub const ALL: [ConsumerGroupState; 5] = [
        ConsumerGroupState::Empty,
        ConsumerGroupState::Assigning,
        ConsumerGroupState::Reconciling,
        ConsumerGroupState::Stable,
        ConsumerGroupState::Dead,
    ];

    /// The name clients see (ListGroups, ConsumerGroupDescribe).
    pub fn name(self) -> &'static str {
        match self {
            ConsumerGroupState::Empty => "Empty",
            ConsumerGroupState::Assigning => "Assigning",
            ConsumerGroupState::Reconciling => "Reconciling",
            ConsumerGroupState::Stable => "Stable",
            ConsumerGroupState::Dead => "Dead",
        }
    }
}

/// A consumer group.
#[derive(Clone, Debug, Default)]
pub struct ConsumerGroup {
    pub group_id: String,
    group_epoch: i32,
    metadata_hash: i64,
    target_assignment_epoch: i32,
    members: BTreeMap<String, ConsumerGroupMember>,
    /// group.instance.id -> member id.
    static_members: HashMap<String, String>,
    target_assignment: HashMap<String, Assignment>,
    /// Topic id -> partition -> epoch of its current owner (Kafka's `currentPartitionEpoch`):
    /// a partition is free when absent.
    partition_epochs: HashMap<Uuid, HashMap<i32, i32>>,
    /// Members subscribed to each topic name (not counting regexes).
    subscribed_topic_names: HashMap<String, usize>,
    /// Members subscribed to each regex.
    subscribed_regexes: HashMap<String, usize>,
    resolved_regexes: HashMap<String, ResolvedRegex>,
    /// Members naming each server assignor.
    server_assignors: HashMap<String, usize>,
    state: ConsumerGroupState,
    /// A pre-4.1 `ConsumerGroupPartitionMetadata` record exists: Kafka 4.1 tombstones it at the
    /// next epoch bump.
    pub has_legacy_partition_metadata: bool,
    /// The topics-image version the metadata hash and regex resolutions were last checked
    /// against (soft state: a restart checks again).
    pub checked_topics_version: Option<u64>,
    /// Counts the records applied by live operations, so a failed write only reverts the group
    /// when nothing changed it since (soft state).
    pub write_seq: u64,
}

impl ConsumerGroup {
    pub fn new(group_id: &str) -> ConsumerGroup {
        ConsumerGroup {
            group_id: group_id.to_string(),
            ..ConsumerGroup::default()
        }
    }

    // --- accessors -------------------------------------------------------------------------

    pub fn state(&self) -> ConsumerGroupState {
        self.state
    }

    pub fn group_epoch(&self) -> i32 {
        self.group_epoch
    }

    pub fn metadata_hash(&self) -> i64 {
        self.metadata_hash
    }

    pub fn assignment_epoch(&self) -> i32 {
        self.target_assignment_epoch
    }

    pub fn is_empty(&self) -> bool {
        self.state == ConsumerGroupState::Empty
    }

    pub fn num_members(&self) -> usize {
        self.members.len()
    }

    pub fn members(&self) -> impl Iterator<Item = &ConsumerGroupMember> {
        self.members.values()
    }

    pub fn member(&self, member_id: &str) -> Option<&ConsumerGroupMember> {
        self.members.get(member_id)
    }

    pub fn has_member(&self, member_id: &str) -> bool {
        self.members.contains_key(member_id)
    }

    pub fn static_member_id(&self, instance_id: &str) -> Option<&str> {
        self.static_members.get(instance_id).map(String::as_str)
    }

    pub fn static_member(&self, instance_id: &str) -> Option<&ConsumerGroupMember> {
        self.static_member_id(instance_id)
            .and_then(|id| self.members.get(id))
    }

    /// The target assignment of a member (empty when it has none).
    pub fn target_assignment(&self, member_id: &str) -> Assignment {
        self.target_assignment
            .get(member_id)
            .cloned()
            .unwrap_or_default()
    }

    pub fn target_assignments(&self) -> &HashMap<String, Assignment> {
        &self.target_assignment
    }

    /// Kafka's `targetAssignment(memberId, instanceId)`: a static member that replaces a
    /// departed one inherits its target.
    pub fn target_assignment_for(&self, member_id: &str, instance_id: Option<&str>) -> Assignment {
        match instance_id.and_then(|i| self.static_member_id(i)) {
            Some(previous) => self.target_assignment(previous),
            None if instance_id.is_some() => Assignment::new(),
            None => self.target_assignment(member_id),
        }
    }

    /// The epoch of the partition's current owner, or -1 when it is free.
    pub fn current_partition_epoch(&self, topic: &Uuid, partition: i32) -> i32 {
        self.partition_epochs
            .get(topic)
            .and_then(|p| p.get(&partition))
            .copied()
            .unwrap_or(-1)
    }

    pub fn resolved_regex(&self, regex: &str) -> Option<&ResolvedRegex> {
        self.resolved_regexes.get(regex)
    }

    pub fn resolved_regexes(&self) -> &HashMap<String, ResolvedRegex> {
        &self.resolved_regexes
    }

    /// Regexes some member subscribes to.
    pub fn subscribed_regexes(&self) -> impl Iterator<Item = &str> {
        self.subscribed_regexes.keys().map(String::as_str)
    }

    pub fn num_regex_subscribers(&self, regex: &str) -> usize {
        self.subscribed_regexes.get(regex).copied().unwrap_or(0)
    }

    /// Topics the member subscribes to: its names, and what its regex resolved to.
    pub fn member_topics(&self, member: &ConsumerGroupMember) -> BTreeSet<String> {
        let mut topics = member.subscription.subscribed_topic_names.clone();
        if let Some(r) = member.regex().and_then(|r| self.resolved_regexes.get(r)) {
            topics.extend(r.topics.iter().cloned());
        }
        topics
    }

    /// Every topic any member subscribes to, by name or through a resolved regex.
    pub fn subscribed_topics(&self) -> BTreeSet<String> {
        let mut topics: BTreeSet<String> = self.subscribed_topic_names.keys().cloned().collect();
        for (regex, resolved) in &self.resolved_regexes {
            if self.num_regex_subscribers(regex) > 0 {
                topics.extend(resolved.topics.iter().cloned());
            }
        }
        topics
    }

    /// `isSubscribedToTopic` (OffsetDelete, offset expiration).
    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        self.subscribed_topic_names.contains_key(topic)
            || self
                .resolved_regexes
                .iter()
                .any(|(r, res)| self.num_regex_subscribers(r) > 0 && res.topics.contains(topic))
    }

    /// The server assignor most members name (Kafka's `preferredServerAssignor`); ties go to
    /// the alphabetically first name, so the choice is deterministic.
    pub fn preferred_server_assignor(&self) -> Option<&str> {
        self.server_assignors
            .iter()
            .filter(|(_, n)| **n > 0)
            .max_by(|(a, na), (b, nb)| na.cmp(nb).then_with(|| b.cmp(a)))
            .map(|(name, _)| name.as_str())
    }

    /// All members use the classic protocol except `member_id` (KIP-848 downgrade check).
    pub fn all_members_use_classic_protocol_except(&self, member_id: &str) -> bool {
        self.members
            .values()
            .all(|m| m.member_id == member_id || m.uses_classic_protocol())
            && self
                .members
                .get(member_id)
                .is_some_and(|m| !m.uses_classic_protocol())
    }

    pub fn num_classic_members(&self) -> usize {
        self.members
            .values()
            .filter(|m| m.uses_classic_protocol())
            .count()
    }

    // --- validation (Kafka's `Group` interface) ------------------------------------------------

    /// `ConsumerGroup.validateOffsetCommit`.
    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        member_epoch: i32,
        transactional: bool,
        api_version: i16,
    ) -> Result<(), Error> {
        // An admin client, or a consumer that assigns partitions itself, commits with epoch -1
        // to an empty group.
        if member_epoch < 0 && self.members.is_empty() {
            return Ok(());
        }
        let member = self.members.get(member_id).ok_or(Error::UnknownMemberId)?;
        if !transactional && !member.uses_classic_protocol() && api_version < 9 {
            return Err(Error::UnsupportedVersion(
                "OffsetCommit version 9 or above must be used by members using the modern group protocol"
                    .into(),
            ));
        }
        validate_member_epoch(member, member_epoch)
    }

    /// `ConsumerGroup.validateOffsetFetch`.
    pub fn validate_offset_fetch(
        &self,
        member_id: Option<&str>,
        member_epoch: i32,
    ) -> Result<(), Error> {
        let Some(member_id) = member_id else {
            if member_epoch < 0 {
                return Ok(());
            }
            return Err(Error::UnknownMemberId);
        };
        let member = self.members.get(member_id).ok_or(Error::UnknownMemberId)?;
        validate_member_epoch(member, member_epoch)
    }

    /// `ConsumerGroup.validateDeleteGroup`.
    pub fn validate_delete_group(&self) -> Result<(), Error> {
        if self.state != ConsumerGroupState::Empty {
            return Err(Error::NonEmptyGroup);
        }
        Ok(())
    }

    /// Tombstones for the whole group, in Kafka's order (`createGroupTombstoneRecords`): current
    /// assignments, target assignments and their epoch, subscriptions, regexes, the group.
    pub fn tombstones(&self) -> Vec<ConsumerRecord> {
        let g = &self.group_id;
        let mut out = Vec::new();
        for id in self.members.keys() {
            out.push(ConsumerRecord::CurrentMemberAssignment {
                group: g.clone(),
                member: id.clone(),
                value: None,
            });
        }
        for id in self.members.keys() {
            out.push(ConsumerRecord::TargetAssignmentMember {
                group: g.clone(),
                member: id.clone(),
                value: None,
            });
        }
        out.push(ConsumerRecord::TargetAssignmentMetadata {
            group: g.clone(),
            value: None,
        });
        for id in self.members.keys() {
            out.push(ConsumerRecord::MemberMetadata {
                group: g.clone(),
                member: id.clone(),
                value: None,
            });
        }
        let mut regexes: Vec<&String> = self.resolved_regexes.keys().collect();
        regexes.sort();
        for regex in regexes {
            out.push(ConsumerRecord::RegularExpression {
                group: g.clone(),
                regex: regex.clone(),
                value: None,
            });
        }
        if self.has_legacy_partition_metadata {
            out.push(ConsumerRecord::PartitionMetadata {
                group: g.clone(),
                present: false,
            });
        }
        out.push(ConsumerRecord::GroupMetadata {
            group: g.clone(),
            value: None,
        });
        out
    }

    // --- replay ------------------------------------------------------------------------------------

    /// Applies one record of this group (Kafka's `GroupMetadataManager.replay` overloads).
    /// Returns false for a group tombstone: the caller removes the group.
    pub fn replay(&mut self, record: &ConsumerRecord) -> bool {
        match record {
            ConsumerRecord::GroupMetadata { value: None, .. } => {
                if !self.members.is_empty() {
                    warn!(group = %self.group_id, members = self.members.len(),
                        "group tombstone for a consumer group that still has members");
                }
                return false;
            }
            ConsumerRecord::GroupMetadata {
                value:
                    Some(GroupEpoch {
                        epoch,
                        metadata_hash,
                    }),
                ..
            } => {
                self.group_epoch = *epoch;
                self.metadata_hash = *metadata_hash;
            }
            ConsumerRecord::PartitionMetadata { present, .. } => {
                self.has_legacy_partition_metadata = *present;
            }
            ConsumerRecord::MemberMetadata {
                member,
                value: Some(sub),
                ..
            } => self.replay_member(member, |m| m.subscription = sub.clone()),
            ConsumerRecord::MemberMetadata {
                member,
                value: None,
                ..
            } => {
                if let Some(m) = self.members.get(member) {
                    if m.member_epoch() != LEAVE_GROUP_MEMBER_EPOCH {
                        warn!(group = %self.group_id, member = %member,
                            "member tombstone before its current-assignment tombstone");
                    }
                }
                self.remove_member(member);
            }
            ConsumerRecord::TargetAssignmentMetadata { value, .. } => {
                self.target_assignment_epoch = value.unwrap_or(-1);
            }
            ConsumerRecord::TargetAssignmentMember {
                member,
                value: Some(a),
                ..
            } => {
                self.target_assignment.insert(member.clone(), a.clone());
            }
            ConsumerRecord::TargetAssignmentMember {
                member,
                value: None,
                ..
            } => {
                self.target_assignment.remove(member);
            }
            ConsumerRecord::CurrentMemberAssignment {
                member,
                value: Some(c),
                ..
            } => self.replay_member(member, |m| m.current = c.clone()),
            ConsumerRecord::CurrentMemberAssignment {
                member,
                value: None,
                ..
            } => {
                // The member is gone once its subscription is tombstoned too; meanwhile it owns
                // nothing (Kafka sets its epochs to -1).
                if let Some(mut m) = self.members.get(member).cloned() {
                    m.current = CurrentAssignment {
                        member_epoch: LEAVE_GROUP_MEMBER_EPOCH,
                        previous_member_epoch: LEAVE_GROUP_MEMBER_EPOCH,
                        state: MemberState::Stable,
                        assigned_partitions: Assignment::new(),
                        partitions_pending_revocation: Assignment::new(),
                    };
                    self.update_member(m);
                }
            }
            ConsumerRecord::RegularExpression {
                regex,
                value: Some(v),
                ..
            } => {
                self.resolved_regexes.insert(regex.clone(), v.clone());
            }
            ConsumerRecord::RegularExpression {
                regex, value: None, ..
            } => {
                self.resolved_regexes.remove(regex);
            }
        }
        self.update_state();
        true
    }

    /// Applies one replayed member record to the member (created by its first record).
    fn replay_member(&mut self, member_id: &str, apply: impl FnOnce(&mut ConsumerGroupMember)) {
        let mut m = self
            .members
            .get(member_id)
            .cloned()
            .unwrap_or_else(|| ConsumerGroupMember::new(member_id));
        apply(&mut m);
        self.update_member(m);
    }

    fn update_member(&mut self, new: ConsumerGroupMember) {
        let old = self.members.remove(&new.member_id);
        if let Some(old) = &old {
            self.unindex(old);
        }
        self.index(&new);
        self.members.insert(new.member_id.clone(), new);
    }

    fn remove_member(&mut self, member_id: &str) {
        if let Some(old) = self.members.remove(member_id) {
            self.unindex(&old);
        }
    }

    /// Adds a member's subscriptions, assignor, static id and owned partitions to the indexes.
    fn index(&mut self, m: &ConsumerGroupMember) {
        for t in &m.subscription.subscribed_topic_names {
            *self.subscribed_topic_names.entry(t.clone()).or_default() += 1;
        }
        if let Some(r) = m.regex() {
            *self.subscribed_regexes.entry(r.to_string()).or_default() += 1;
        }
        if let Some(a) = &m.subscription.server_assignor {
            *self.server_assignors.entry(a.clone()).or_default() += 1;
        }
        if let Some(i) = &m.subscription.instance_id {
            self.static_members.insert(i.clone(), m.member_id.clone());
        }
        let epoch = m.current.member_epoch;
        for a in [
            &m.current.assigned_partitions,
            &m.current.partitions_pending_revocation,
        ] {
            for (topic, partitions) in a {
                let owners = self.partition_epochs.entry(*topic).or_default();
                for p in partitions {
                    if let Some(prev) = owners.insert(*p, epoch) {
                        // Kafka throws here; never two owners, but never a panic either.
                        warn!(group = %self.group_id, member = %m.member_id, %topic, partition = p,
                            prev, epoch, "partition already owned at another epoch");
                    }
                }
            }
        }
    }

    fn unindex(&mut self, m: &ConsumerGroupMember) {
        fn dec(map: &mut HashMap<String, usize>, key: &str) {
            if let Some(n) = map.get_mut(key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(key);
                }
            }
        }
        for t in &m.subscription.subscribed_topic_names {
            dec(&mut self.subscribed_topic_names, t);
        }
        if let Some(r) = m.regex() {
            dec(&mut self.subscribed_regexes, r);
        }
        if let Some(a) = &m.subscription.server_assignor {
            dec(&mut self.server_assignors, a);
        }
        if let Some(i) = &m.subscription.instance_id {
            if self.static_members.get(i) == Some(&m.member_id) {
                self.static_members.remove(i);
            }
        }
        for a in [
            &m.current.assigned_partitions,
            &m.current.partitions_pending_revocation,
        ] {
            for (topic, partitions) in a {
                if let Some(owners) = self.partition_epochs.get_mut(topic) {
                    for p in partitions {
                        owners.remove(p);
                    }
                    if owners.is_empty() {
                        self.partition_epochs.remove(topic);
                    }
                }
            }
        }
    }

    /// `maybeUpdateGroupState`.
    fn update_state(&mut self) {
        self.state = if self.members.is_empty() {
            ConsumerGroupState::Empty
        } else if self.group_epoch > self.target_assignment_epoch {
            ConsumerGroupState::Assigning
        } else if self
            .members
            .values()
            .any(|m| !m.is_reconciled_to(self.target_assignment_epoch))
        {
            ConsumerGroupState::Reconciling
        } else {
            ConsumerGroupState::Stable
        };
    }
}

/// `validateMemberEpoch`: classic-protocol members get ILLEGAL_GENERATION, others
/// STALE_MEMBER_EPOCH.
fn validate_member_epoch(member: &ConsumerGroupMember, received: i32) -> Result<(), Error> {
    let expected = member.member_epoch();
    if received == expected {
        return Ok(());
    }
    if member.uses_classic_protocol() {
        Err(Error::IllegalGeneration)
    } else {
        Err(Error::StaleMemberEpoch(format!(
            "The received member epoch {received} does not match the expected member epoch {expected}."
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::groups::modern::member::MemberSubscription;

    fn sub(topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            subscribed_topic_names: topics.iter().map(|t| t.to_string()).collect(),
            rebalance_timeout_ms: 1000,
            ..MemberSubscription::default()
        }
    }

    #[test]
    fn replay_tracks_state_and_partition_owners() {
        let t = Uuid::from_u128(1);
        let mut g = ConsumerGroup::new("g");
        assert_eq!(g.state(), ConsumerGroupState::Empty);
        g.replay(&ConsumerRecord::MemberMetadata {
            group: "g".into(),
            member: "a".into(),
            value: Some(sub(&["t"])),
        });
        g.replay(&ConsumerRecord::GroupMetadata {
            group: "g".into(),
            value: Some(GroupEpoch {
                epoch: 1,
                metadata_hash: 5,
            }),
        });
        assert_eq!(g.state(), ConsumerGroupState::Assigning);
        g.replay(&ConsumerRecord::TargetAssignmentMember {
            group: "g".into(),
            member: "a".into(),
            value: Some([(t, [0, 1].into())].into()),
        });
        g.replay(&ConsumerRecord::TargetAssignmentMetadata {
            group: "g".into(),
            value: Some(1),
        });
        assert_eq!(g.state(), ConsumerGroupState::Reconciling);
        g.replay(&ConsumerRecord::CurrentMemberAssignment {
            group: "g".into(),
            member: "a".into(),
            value: Some(CurrentAssignment {
                member_epoch: 1,
                previous_member_epoch: 0,
                state: MemberState::Stable,
                assigned_partitions: [(t, [0, 1].into())].into(),
                partitions_pending_revocation: Assignment::new(),
            }),
        });
        assert_eq!(g.state(), ConsumerGroupState::Stable);
        assert_eq!(g.current_partition_epoch(&t, 1), 1);
        assert!(g.is_subscribed_to_topic("t"));
        assert!(g.validate_offset_commit("a", 1, false, 9).is_ok());
        assert_eq!(
            g.validate_offset_commit("a", 0, false, 9)
                .unwrap_err()
                .code(),
            113
        );
        assert_eq!(
            g.validate_offset_commit("a", 1, false, 8)
                .unwrap_err()
                .code(),
            35
        );
        assert_eq!(
            g.validate_offset_commit("x", 1, false, 9)
                .unwrap_err()
                .code(),
            25
        );
        assert_eq!(g.validate_delete_group().unwrap_err().code(), 68);
        for r in g.tombstones() {
            if !g.replay(&r) {
                break;
            }
        }
        assert_eq!(g.state(), ConsumerGroupState::Empty);
        assert_eq!(g.current_partition_epoch(&t, 1), -1);
        assert!(!g.is_subscribed_to_topic("t"));
    }
}
