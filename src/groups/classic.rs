//! A classic group's state machine and membership (Kafka's `ClassicGroup` and
//! `ClassicGroupState`): Empty -> PreparingRebalance -> CompletingRebalance -> Stable, and Dead.
//!
//! This module only holds and checks state; the protocol steps that drive it (join, sync,
//! heartbeat, leave, timeouts) live in `membership`.

use std::collections::{BTreeMap, HashMap, HashSet};

use bytes::Bytes;
use tokio::sync::oneshot;
use tracing::{error, info};

use crate::error::Error;
use crate::groups::consumer_protocol::{self, PROTOCOL_TYPE};
use crate::groups::member::{ClassicMember, JoinMember, JoinResult, Protocol, SyncResult};
use crate::groups::offsets::OffsetAndMetadata;
use crate::groups::records::{GroupMetadataValue, MemberMetadata};

/// `ClassicGroupState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// The name clients see (DescribeGroups, ListGroups).
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }

    fn valid_previous(self) -> &'static [GroupState] {
        use GroupState::*;
        match self {
            Empty => &[PreparingRebalance],
            PreparingRebalance => &[Stable, CompletingRebalance, Empty],
            CompletingRebalance => &[PreparingRebalance],
            Stable => &[CompletingRebalance],
            Dead => &[Stable, PreparingRebalance, CompletingRebalance, Empty, Dead],
        }
    }
}

/// How old committed offsets of a group may expire (Kafka's `offsetExpirationCondition`): the
/// offset expires when `now - base >= offsets.retention.ms`, or at its explicit expire timestamp.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpirationBase {
    /// Since the group became empty (falling back to the commit time for old metadata).
    EmptySince(Option<i64>),
    /// Since the commit.
    CommitTimestamp,
}

impl ExpirationBase {
    pub fn is_expired(self, offset: &OffsetAndMetadata, now: i64, retention_ms: i64) -> bool {
        if let Some(expire) = offset.expire_timestamp {
            return now >= expire;
        }
        let base = match self {
            ExpirationBase::EmptySince(Some(ts)) => ts,
            _ => offset.commit_timestamp,
        };
        now.saturating_sub(base) >= retention_ms
    }
}

/// A classic (JoinGroup/SyncGroup) group.
#[derive(Debug)]
pub struct ClassicGroup {
    pub group_id: String,
    state: GroupState,
    previous_state: GroupState,
    current_state_timestamp: Option<i64>,
    protocol_type: Option<String>,
    protocol_name: Option<String>,
    generation_id: i32,
    leader_id: Option<String>,
    /// Ordered by member id, so leader re-election and listings are deterministic.
    members: BTreeMap<String, ClassicMember>,
    /// group.instance.id -> member id.
    static_members: HashMap<String, String>,
    /// Members that got MEMBER_ID_REQUIRED and have not joined with their id yet (KIP-394).
    pending_join_members: HashSet<String>,
    num_awaiting_join: usize,
    /// Protocol name -> number of members supporting it.
    supported_protocols: HashMap<String, usize>,
    /// Members whose SyncGroup is still expected for this generation.
    pending_sync_members: HashSet<String>,
    subscribed_topics: Option<HashSet<String>>,
    /// A member joined while the initial rebalance delay ran, so the delay is extended.
    pub new_member_added: bool,
}

impl ClassicGroup {
    pub fn new(group_id: &str, now: i64) -> ClassicGroup {
        ClassicGroup {
            group_id: group_id.to_string(),
            state: GroupState::Empty,
            previous_state: GroupState::Dead,
            current_state_timestamp: Some(now),
            protocol_type: None,
            protocol_name: None,
            generation_id: 0,
            leader_id: None,
            members: BTreeMap::new(),
            static_members: HashMap::new(),
            pending_join_members: HashSet::new(),
            num_awaiting_join: 0,
            supported_protocols: HashMap::new(),
            pending_sync_members: HashSet::new(),
            subscribed_topics: None,
            new_member_added: false,
        }
    }

    /// Rebuilds a group from its last `GroupMetadata` record (Kafka's
    /// `GroupMetadataManager.replay`): Stable with its members, or Empty.
    pub fn from_record(group_id: &str, v: &GroupMetadataValue) -> ClassicGroup {
        let mut g = ClassicGroup::new(group_id, 0);
        g.state = if v.members.is_empty() {
            GroupState::Empty
        } else {
            GroupState::Stable
        };
        g.generation_id = v.generation;
        g.protocol_type = Some(v.protocol_type.clone()).filter(|t| !t.is_empty());
        g.protocol_name = v.protocol.clone();
        g.leader_id = v.leader.clone();
        g.current_state_timestamp =
            (v.current_state_timestamp != -1).then_some(v.current_state_timestamp);
        for m in &v.members {
            let rebalance_timeout = if m.rebalance_timeout == -1 {
                m.session_timeout
            } else {
                m.rebalance_timeout
            };
            let mut member = ClassicMember::new(
                m.member_id.clone(),
                m.group_instance_id.clone(),
                m.client_id.clone(),
                m.client_host.clone(),
                rebalance_timeout,
                m.session_timeout,
                v.protocol_type.clone(),
                vec![Protocol {
                    name: v.protocol.clone().unwrap_or_default(),
                    metadata: Bytes::from(m.subscription.clone()),
                }],
            );
            member.assignment = Bytes::from(m.assignment.clone());
            if let Some(id) = &m.group_instance_id {
                g.static_members.insert(id.clone(), m.member_id.clone());
            }
            for p in &member.supported_protocols {
                *g.supported_protocols.entry(p.name.clone()).or_default() += 1;
            }
            g.members.insert(m.member_id.clone(), member);
        }
        if g.leader_id
            .as_ref()
            .is_some_and(|l| !g.members.contains_key(l))
        {
            g.leader_id = g.members.keys().next().cloned();
        }
        g.subscribed_topics = g.compute_subscribed_topics();
        g
    }

    /// The `GroupMetadata` record value for the current generation with `assignment`
    /// (Kafka's `newGroupMetadataRecord`).
    pub fn to_record(&self, assignment: &HashMap<String, Bytes>) -> GroupMetadataValue {
        let protocol = self.protocol_name.clone();
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_default(),
            generation: self.generation_id,
            protocol: protocol.clone(),
            leader: self.leader_id.clone(),
            current_state_timestamp: self.current_state_timestamp.unwrap_or(-1),
            members: self
                .members
                .values()
                .map(|m| MemberMetadata {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    rebalance_timeout: m.rebalance_timeout_ms,
                    session_timeout: m.session_timeout_ms,
                    subscription: m.metadata(protocol.as_deref().unwrap_or_default()).to_vec(),
                    assignment: assignment
                        .get(&m.member_id)
                        .map(|a| a.to_vec())
                        .unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// The record of a freshly created, empty group (Kafka's `newEmptyGroupMetadataRecord`).
    pub fn to_empty_record(&self) -> GroupMetadataValue {
        GroupMetadataValue {
            protocol_type: String::new(),
            generation: 0,
            protocol: None,
            leader: None,
            current_state_timestamp: self.current_state_timestamp.unwrap_or(-1),
            members: Vec::new(),
        }
    }

    // --- accessors ---------------------------------------------------------------------------

    pub fn state(&self) -> GroupState {
        self.state
    }

    pub fn previous_state(&self) -> GroupState {
        self.previous_state
    }

    pub fn is_in(&self, s: GroupState) -> bool {
        self.state == s
    }

    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    pub fn protocol_type(&self) -> Option<&str> {
        self.protocol_type.as_deref()
    }

    pub fn protocol_name(&self) -> Option<&str> {
        self.protocol_name.as_deref()
    }

    pub fn leader_id(&self) -> Option<&str> {
        self.leader_id.as_deref()
    }

    pub fn current_state_timestamp(&self) -> Option<i64> {
        self.current_state_timestamp
    }

    pub fn is_leader(&self, member_id: &str) -> bool {
        self.leader_id.as_deref() == Some(member_id)
    }

    pub fn has_member(&self, member_id: &str) -> bool {
        self.members.contains_key(member_id)
    }

    pub fn member(&self, member_id: &str) -> Option<&ClassicMember> {
        self.members.get(member_id)
    }

    pub fn member_mut(&mut self, member_id: &str) -> Option<&mut ClassicMember> {
        self.members.get_mut(member_id)
    }

    pub fn members(&self) -> impl Iterator<Item = &ClassicMember> {
        self.members.values()
    }

    pub fn member_ids(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }

    pub fn num_members(&self) -> usize {
        self.members.len()
    }

    pub fn num_awaiting_join(&self) -> usize {
        self.num_awaiting_join
    }

    pub fn is_empty(&self) -> bool {
        self.state == GroupState::Empty
    }

    pub fn uses_consumer_protocol(&self) -> bool {
        self.protocol_type.as_deref() == Some(PROTOCOL_TYPE)
    }

    pub fn static_member_id(&self, instance_id: &str) -> Option<&str> {
        self.static_members.get(instance_id).map(|s| s.as_str())
    }

    pub fn is_pending_member(&self, member_id: &str) -> bool {
        self.pending_join_members.contains(member_id)
    }

    pub fn add_pending_member(&mut self, member_id: &str) {
        self.pending_join_members.insert(member_id.to_string());
    }

    pub fn has_all_members_joined(&self) -> bool {
        self.members.len() == self.num_awaiting_join && self.pending_join_members.is_empty()
    }

    /// The longest rebalance timeout of any member: how long a rebalance may wait for joins.
    pub fn rebalance_timeout_ms(&self) -> i32 {
        self.members
            .values()
            .map(|m| m.rebalance_timeout_ms)
            .max()
            .unwrap_or(0)
    }

    /// PreparingRebalance may be entered from the current state.
    pub fn can_rebalance(&self) -> bool {
        GroupState::PreparingRebalance
            .valid_previous()
            .contains(&self.state)
    }

    pub fn transition_to(&mut self, target: GroupState, now: i64) {
        if !target.valid_previous().contains(&self.state) {
            // Kafka throws IllegalStateException here; the callers never get here by design.
            error!(group = %self.group_id, from = ?self.state, to = ?target, "invalid group state transition");
            return;
        }
        self.previous_state = self.state;
        self.state = target;
        self.current_state_timestamp = Some(now);
        if target == GroupState::PreparingRebalance {
            crate::metrics::get().group_rebalance_started();
        }
    }

    // --- membership ----------------------------------------------------------------------------

    /// `ClassicGroup.generateMemberId`: `<group.instance.id or client.id>-<uuid>`.
    pub fn generate_member_id(client_id: &str, group_instance_id: Option<&str>) -> String {
        format!(
            "{}-{}",
            group_instance_id.unwrap_or(client_id),
            uuid::Uuid::new_v4().hyphenated()
        )
    }

    /// Adds a member, parking its JoinGroup on `join` when given.
    pub fn add(&mut self, mut member: ClassicMember, join: Option<oneshot::Sender<JoinResult>>) {
        if let Some(id) = &member.group_instance_id {
            self.static_members
                .insert(id.clone(), member.member_id.clone());
        }
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader_id.is_none() {
            self.leader_id = Some(member.member_id.clone());
        }
        for p in &member.supported_protocols {
            *self.supported_protocols.entry(p.name.clone()).or_default() += 1;
        }
        if join.is_some() {
            self.num_awaiting_join += 1;
        }
        member.awaiting_join = join;
        self.pending_join_members.remove(&member.member_id);
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member (or pending member); a removed leader is replaced by the first member.
    pub fn remove(&mut self, member_id: &str) {
        if let Some(m) = self.members.remove(member_id) {
            for p in &m.supported_protocols {
                if let Some(n) = self.supported_protocols.get_mut(&p.name) {
                    *n = n.saturating_sub(1);
                }
            }
            if m.is_awaiting_join() {
                self.num_awaiting_join -= 1;
            }
            if let Some(id) = &m.group_instance_id {
                self.static_members.remove(id);
            }
        }
        if self.is_leader(member_id) {
            self.leader_id = self.members.keys().next().cloned();
        }
        self.pending_join_members.remove(member_id);
        self.pending_sync_members.remove(member_id);
    }

    /// Replaces the supported protocols and timeouts of a member and parks (or unparks) its join.
    pub fn update_member(
        &mut self,
        member_id: &str,
        protocols: Vec<Protocol>,
        rebalance_timeout_ms: i32,
        session_timeout_ms: i32,
        join: Option<oneshot::Sender<JoinResult>>,
    ) {
        let Some(m) = self.members.get_mut(member_id) else {
            return;
        };
        for p in &m.supported_protocols {
            if let Some(n) = self.supported_protocols.get_mut(&p.name) {
                *n = n.saturating_sub(1);
            }
        }
        for p in &protocols {
            *self.supported_protocols.entry(p.name.clone()).or_default() += 1;
        }
        m.supported_protocols = protocols;
        m.rebalance_timeout_ms = rebalance_timeout_ms;
        m.session_timeout_ms = session_timeout_ms;
        match (join.is_some(), m.is_awaiting_join()) {
            (true, false) => self.num_awaiting_join += 1,
            (false, true) => self.num_awaiting_join -= 1,
            _ => {}
        }
        if let Some(old) = m.awaiting_join.take() {
            // A second JoinGroup from the same member supersedes the parked one.
            let _ = old.send(JoinResult::error(member_id, Error::UnknownMemberId));
        }
        m.awaiting_join = join;
    }

    /// Answers the member's parked JoinGroup, if any.
    pub fn complete_join(&mut self, member_id: &str, result: JoinResult) -> bool {
        let Some(m) = self.members.get_mut(member_id) else {
            return false;
        };
        match m.awaiting_join.take() {
            Some(tx) => {
                self.num_awaiting_join -= 1;
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    /// Takes the member's parked JoinGroup out, to answer it elsewhere.
    pub fn take_join_sender(&mut self, member_id: &str) -> Option<oneshot::Sender<JoinResult>> {
        let tx = self.members.get_mut(member_id)?.awaiting_join.take()?;
        self.num_awaiting_join -= 1;
        Some(tx)
    }

    /// Answers the member's parked SyncGroup, if any.
    pub fn complete_sync(&mut self, member_id: &str, result: SyncResult) -> bool {
        match self
            .members
            .get_mut(member_id)
            .and_then(|m| m.awaiting_sync.take())
        {
            Some(tx) => {
                let _ = tx.send(result);
                true
            }
            None => false,
        }
    }

    /// Parks a member's SyncGroup until the leader's assignment is stored.
    pub fn park_sync(&mut self, member_id: &str, tx: oneshot::Sender<SyncResult>) {
        if let Some(m) = self.members.get_mut(member_id) {
            if let Some(old) = m.awaiting_sync.replace(tx) {
                let _ = old.send(SyncResult::error(Error::UnknownMemberId));
            }
        }
    }

    /// Answers every parked request with `error` (coordinator unload/shutdown).
    pub fn complete_all(&mut self, error: &Error) {
        for id in self.member_ids() {
            self.complete_join(&id, JoinResult::error(&id, error.clone()));
            self.complete_sync(&id, SyncResult::error(error.clone()));
        }
    }

    /// Members that have not rejoined during the current rebalance.
    pub fn not_yet_rejoined(&self) -> Vec<String> {
        self.members
            .values()
            .filter(|m| !m.is_awaiting_join())
            .map(|m| m.member_id.clone())
            .collect()
    }

    pub fn add_pending_sync_member(&mut self, member_id: &str) {
        self.pending_sync_members.insert(member_id.to_string());
    }

    pub fn remove_pending_sync_member(&mut self, member_id: &str) {
        self.pending_sync_members.remove(member_id);
    }

    pub fn has_received_sync_from_all(&self) -> bool {
        self.pending_sync_members.is_empty()
    }

    pub fn pending_sync_members(&self) -> Vec<String> {
        self.pending_sync_members.iter().cloned().collect()
    }

    pub fn clear_pending_sync_members(&mut self) {
        self.pending_sync_members.clear();
    }

    /// When the leader did not rejoin, another joined member leads (Kafka's
    /// `maybeElectNewJoinedLeader`). False when nobody rejoined.
    pub fn maybe_elect_new_joined_leader(&mut self) -> bool {
        let Some(leader) = self.leader_id.clone() else {
            return false;
        };
        if self
            .members
            .get(&leader)
            .is_some_and(|m| m.is_awaiting_join())
        {
            return true;
        }
        match self.members.values().find(|m| m.is_awaiting_join()) {
            Some(m) => {
                info!(group = %self.group_id, old_leader = %leader, new_leader = %m.member_id,
                    "group leader failed to rejoin before the rebalance timeout; elected a new leader");
                self.leader_id = Some(m.member_id.clone());
                true
            }
            None => false,
        }
    }

    /// Gives a static member's slot to a new member id; parked requests of the old id are
    /// fenced (Kafka's `replaceStaticMember`).
    pub fn replace_static_member(&mut self, instance_id: &str, old_id: &str, new_id: &str) {
        let Some(mut m) = self.members.remove(old_id) else {
            return;
        };
        if let Some(tx) = m.awaiting_join.take() {
            self.num_awaiting_join -= 1;
            let _ = tx.send(JoinResult::error(old_id, Error::FencedInstanceId));
        }
        if let Some(tx) = m.awaiting_sync.take() {
            let _ = tx.send(SyncResult::error(Error::FencedInstanceId));
        }
        m.member_id = new_id.to_string();
        m.is_new = false;
        self.members.insert(new_id.to_string(), m);
        if self.is_leader(old_id) {
            self.leader_id = Some(new_id.to_string());
        }
        self.static_members
            .insert(instance_id.to_string(), new_id.to_string());
        self.pending_sync_members.remove(old_id);
    }

    /// `ClassicGroup.validateMember`: the member id (and instance id of a static member) must be
    /// the current ones.
    pub fn validate_member(&self, member_id: &str, instance_id: Option<&str>) -> Result<(), Error> {
        if let Some(instance) = instance_id {
            match self.static_member_id(instance) {
                None => return Err(Error::UnknownMemberId),
                Some(existing) if existing != member_id => return Err(Error::FencedInstanceId),
                Some(_) => {}
            }
        }
        if !self.has_member(member_id) {
            return Err(Error::UnknownMemberId);
        }
        Ok(())
    }

    // --- protocols -------------------------------------------------------------------------------

    /// Whether a member with these protocols may join: an empty group takes any non-empty
    /// protocol type and list; otherwise the type must match and one protocol must be supported
    /// by every current member.
    pub fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.is_in(GroupState::Empty) {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| {
                self.supported_protocols.get(&p.name).copied().unwrap_or(0) == self.members.len()
            })
    }

    /// The protocol every member supports that most members prefer (Kafka's `selectProtocol`).
    pub fn select_protocol(&self) -> Option<String> {
        let n = self.members.len();
        let candidates: Vec<&str> = self
            .supported_protocols
            .iter()
            .filter(|(_, count)| **count == n)
            .map(|(name, _)| name.as_str())
            .collect();
        let mut votes: Vec<(String, usize)> = Vec::new();
        for m in self.members.values() {
            if let Some(choice) = m.vote(&candidates) {
                match votes.iter_mut().find(|(p, _)| p == choice) {
                    Some(v) => v.1 += 1,
                    None => votes.push((choice.to_string(), 1)),
                }
            }
        }
        // Most votes; ties go to the protocol voted for first.
        let mut best: Option<(String, usize)> = None;
        for (p, c) in votes {
            if best.as_ref().is_none_or(|(_, bc)| c > *bc) {
                best = Some((p, c));
            }
        }
        best.map(|(p, _)| p)
    }

    /// Starts the next generation: CompletingRebalance with the selected protocol, or Empty.
    pub fn init_next_generation(&mut self, now: i64) {
        self.generation_id += 1;
        if !self.members.is_empty() {
            self.protocol_name = self.select_protocol();
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition_to(GroupState::CompletingRebalance, now);
        } else {
            self.protocol_name = None;
            self.subscribed_topics = self.compute_subscribed_topics();
            self.transition_to(GroupState::Empty, now);
        }
        self.pending_sync_members.clear();
    }

    /// The members as the leader sees them in its JoinGroup response.
    pub fn join_members(&self) -> Vec<JoinMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or_default();
        self.members
            .values()
            .map(|m| JoinMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                metadata: m.metadata(protocol),
            })
            .collect()
    }

    /// The JoinGroup answer of the current generation for `member_id`.
    pub fn join_result_for(&self, member_id: &str, skip_assignment: bool) -> JoinResult {
        let leader = self.is_leader(member_id);
        JoinResult {
            error: None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader_id.clone().unwrap_or_default(),
            skip_assignment,
            member_id: member_id.to_string(),
            members: if leader {
                self.join_members()
            } else {
                Vec::new()
            },
        }
    }

    /// Every member's current assignment.
    pub fn assignments(&self) -> HashMap<String, Bytes> {
        self.members
            .values()
            .map(|m| (m.member_id.clone(), m.assignment.clone()))
            .collect()
    }

    // --- subscriptions and offsets ---------------------------------------------------------------

    /// Topics the members of a `consumer` group subscribe to; `None` when unknown.
    fn compute_subscribed_topics(&self) -> Option<HashSet<String>> {
        if !self.uses_consumer_protocol() {
            return None;
        }
        if self.members.is_empty() {
            return Some(HashSet::new());
        }
        let protocol = self.protocol_name.as_deref()?;
        let mut topics = HashSet::new();
        for m in self.members.values() {
            match consumer_protocol::subscribed_topics(&m.metadata(protocol)) {
                Ok(t) => topics.extend(t),
                Err(e) => {
                    tracing::warn!(group = %self.group_id, "cannot parse a consumer subscription ({e}); subscribed topics unknown");
                    return None;
                }
            }
        }
        Some(topics)
    }

    /// `ClassicGroup.isSubscribedToTopic`: unknown subscriptions count as subscribed for
    /// consumer groups.
    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match &self.subscribed_topics {
            Some(t) => t.contains(topic),
            None => self.uses_consumer_protocol(),
        }
    }

    /// `ClassicGroup.validateOffsetCommit`.
    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
        transactional: bool,
    ) -> Result<(), Error> {
        if self.is_in(GroupState::Dead) {
            return Err(Error::CoordinatorNotAvailable);
        }
        if generation_id < 0 && self.is_in(GroupState::Empty) {
            // An admin client or a consumer that assigns partitions itself.
            return Ok(());
        }
        if generation_id >= 0 || !member_id.is_empty() || instance_id.is_some() {
            self.validate_member(member_id, instance_id)?;
            if generation_id != self.generation_id {
                return Err(Error::IllegalGeneration);
            }
        } else if !transactional && !self.is_in(GroupState::Empty) {
            return Err(Error::UnknownMemberId);
        }
        if !transactional && self.is_in(GroupState::CompletingRebalance) {
            return Err(Error::RebalanceInProgress);
        }
        Ok(())
    }

    /// `ClassicGroup.validateOffsetDelete`.
    pub fn validate_offset_delete(&self) -> Result<(), Error> {
        match self.state {
            GroupState::Dead => Err(Error::GroupIdNotFound(format!(
                "Group {} is in dead state.",
                self.group_id
            ))),
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance
                if !self.uses_consumer_protocol() =>
            {
                Err(Error::NonEmptyGroup)
            }
            _ => Ok(()),
        }
    }

    /// `ClassicGroup.validateDeleteGroup`.
    pub fn validate_delete_group(&self) -> Result<(), Error> {
        match self.state {
            GroupState::Dead => Err(Error::GroupIdNotFound(format!(
                "Group {} is in dead state.",
                self.group_id
            ))),
            GroupState::Stable
            | GroupState::PreparingRebalance
            | GroupState::CompletingRebalance => Err(Error::NonEmptyGroup),
            GroupState::Empty => Ok(()),
        }
    }

    /// `ClassicGroup.offsetExpirationCondition`; `None`: nothing expires now.
    pub fn offset_expiration(&self) -> Option<ExpirationBase> {
        if self.protocol_type.is_none() {
            return Some(ExpirationBase::CommitTimestamp);
        }
        if self.is_in(GroupState::Empty) {
            return Some(ExpirationBase::EmptySince(self.current_state_timestamp));
        }
        if self.uses_consumer_protocol()
            && self.subscribed_topics.is_some()
            && self.is_in(GroupState::Stable)
        {
            return Some(ExpirationBase::CommitTimestamp);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, protocols: &[&str]) -> ClassicMember {
        ClassicMember::new(
            id.into(),
            None,
            "client".into(),
            "/127.0.0.1".into(),
            1000,
            1000,
            "consumer".into(),
            protocols
                .iter()
                .map(|p| Protocol {
                    name: p.to_string(),
                    metadata: Bytes::new(),
                })
                .collect(),
        )
    }

    #[test]
    fn protocol_selection_takes_the_common_most_preferred() {
        let mut g = ClassicGroup::new("g", 0);
        g.add(member("a", &["cooperative-sticky", "range"]), None);
        g.transition_to(GroupState::PreparingRebalance, 1);
        assert!(g.supports_protocols(
            "consumer",
            &[Protocol {
                name: "range".into(),
                metadata: Bytes::new()
            }]
        ));
        assert!(!g.supports_protocols(
            "connect",
            &[Protocol {
                name: "range".into(),
                metadata: Bytes::new()
            }]
        ));
        g.add(member("b", &["range", "roundrobin"]), None);
        g.add(member("c", &["range", "cooperative-sticky"]), None);
        assert_eq!(g.select_protocol().as_deref(), Some("range"));
        g.init_next_generation(2);
        assert_eq!(g.state(), GroupState::CompletingRebalance);
        assert_eq!(g.generation_id(), 1);
        assert_eq!(g.protocol_name(), Some("range"));
        assert_eq!(g.leader_id(), Some("a"));
        g.remove("a");
        assert_eq!(g.leader_id(), Some("b"));
    }

    #[test]
    fn offset_commit_validation_follows_kafka() {
        let mut g = ClassicGroup::new("g", 0);
        assert!(g.validate_offset_commit("", None, -1, false).is_ok());
        g.add(member("a", &["range"]), None);
        g.transition_to(GroupState::PreparingRebalance, 1);
        g.init_next_generation(2);
        assert_eq!(
            g.validate_offset_commit("a", None, 1, false)
                .unwrap_err()
                .code(),
            27
        );
        g.transition_to(GroupState::Stable, 3);
        assert!(g.validate_offset_commit("a", None, 1, false).is_ok());
        assert_eq!(
            g.validate_offset_commit("a", None, 0, false)
                .unwrap_err()
                .code(),
            22
        );
        assert_eq!(
            g.validate_offset_commit("x", None, 1, false)
                .unwrap_err()
                .code(),
            25
        );
        assert_eq!(
            g.validate_offset_commit("", None, -1, false)
                .unwrap_err()
                .code(),
            25
        );
        assert_eq!(g.validate_delete_group().unwrap_err().code(), 68);
    }
}
