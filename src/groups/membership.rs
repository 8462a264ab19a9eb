//! The classic group protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the session,
//! rebalance and sync timeouts, step for step as Kafka's `GroupMetadataManager`
//! (`classicGroupJoin`, `classicGroupSync`, `classicGroupHeartbeat`, `classicGroupLeave` and
//! the timer callbacks), including KIP-394 (MEMBER_ID_REQUIRED) and KIP-345 (static members).
//!
//! Requests that wait for a rebalance (JoinGroup, SyncGroup) hand in a oneshot sender that is
//! answered when the group gets there; everything else answers at once.

use std::collections::HashMap;

use bytes::Bytes;
use tokio::sync::oneshot;
use tracing::{info, warn};

use crate::error::Error;
use crate::groups::classic::{ClassicGroup, GroupState};
use crate::groups::group::Group;
use crate::groups::member::{ClassicMember, JoinResult, Protocol, SyncResult};
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::{Core, ShardState};
use crate::groups::timer::{TimerKey, TimerTask};

/// A JoinGroup request, as the coordinator sees it.
#[derive(Clone, Debug)]
pub struct JoinRequest {
    pub group_id: String,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub protocol_type: String,
    pub protocols: Vec<Protocol>,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub client_id: String,
    pub client_host: String,
    pub api_version: i16,
    pub reason: Option<String>,
}

/// A SyncGroup request.
#[derive(Clone, Debug)]
pub struct SyncRequest {
    pub group_id: String,
    pub generation_id: i32,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
}

/// One member named in a LeaveGroup request.
#[derive(Clone, Debug)]
pub struct LeavingMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub reason: Option<String>,
}

/// LeaveGroup's answer for one member.
#[derive(Clone, Debug)]
pub struct LeaveResult {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub error: Option<Error>,
}

fn hb_key(g: &ClassicGroup, member: &str) -> TimerKey {
    TimerKey::Heartbeat {
        group: g.group_id.clone(),
        member: member.to_string(),
    }
}

fn join_key(g: &ClassicGroup) -> TimerKey {
    TimerKey::Join {
        group: g.group_id.clone(),
    }
}

fn sync_key(g: &ClassicGroup) -> TimerKey {
    TimerKey::Sync {
        group: g.group_id.clone(),
    }
}

/// (Re)starts a member's session deadline.
fn reschedule_heartbeat(g: &ClassicGroup, c: &mut Core, member: &str, timeout_ms: i64) {
    c.schedule(
        hb_key(g, member),
        timeout_ms,
        TimerTask::HeartbeatExpired {
            group: g.group_id.clone(),
            member: member.to_string(),
        },
    );
}

fn session_timeout(g: &ClassicGroup, member: &str) -> i64 {
    g.member(member)
        .map(|m| m.session_timeout_ms as i64)
        .unwrap_or(0)
}

/// Kafka's `appendGroupMetadataErrorToResponseError`: what a failed coordinator write looks like
/// to the client.
pub fn append_error_to_response(e: Error) -> Error {
    match e {
        Error::UnknownTopicOrPartition | Error::NotEnoughReplicas(_) | Error::RequestTimedOut => {
            Error::CoordinatorNotAvailable
        }
        Error::NotLeaderOrFollower | Error::KafkaStorage(_) => Error::NotCoordinator,
        Error::MessageTooLarge(m) => Error::Internal(m),
        other => other,
    }
}

impl ShardState {
    /// JoinGroup (Kafka's `classicGroupJoinToClassicGroup`).
    pub fn classic_join(&mut self, req: JoinRequest, tx: oneshot::Sender<JoinResult>) {
        let is_unknown = req.member_id.is_empty();
        if let Err(e) = self.maybe_delete_empty_consumer_group(&req.group_id) {
            let _ = tx.send(JoinResult::error("", e));
            return;
        }
        let is_new_group = !self.groups.contains_key(&req.group_id);
        if is_new_group && !is_unknown {
            let _ = tx.send(JoinResult::error(&req.member_id, Error::UnknownMemberId));
            return;
        }
        if let Err(e) = self.get_or_create_classic(&req.group_id) {
            let _ = tx.send(JoinResult::error("", e));
            return;
        }
        let writes_before = self.core.writes.len();
        let group_id = req.group_id.clone();
        let Some((g, c)) = self.classic(&group_id) else {
            return;
        };
        if !accept_joining_member(g, &req.member_id, c.config.max_size) {
            g.remove(&req.member_id);
            let _ = tx.send(JoinResult::error("", Error::GroupMaxSizeReached));
        } else if is_unknown {
            join_new_member(g, c, req, tx);
        } else {
            join_existing_member(g, c, req, tx);
        }
        if is_new_group && c.writes.len() == writes_before {
            // Persist the new group, so a restart knows it; if that fails the group goes away.
            let record = CoordinatorRecord::group_metadata(&g.group_id, g.to_empty_record());
            let gid = g.group_id.clone();
            c.write(
                vec![record],
                false,
                Some(Box::new(
                    move |st: &mut ShardState, res: Result<(), Error>| {
                        if let Err(e) = res {
                            warn!(group = %gid, "failed to write the metadata of a new group: {e}");
                            let e = append_error_to_response(e);
                            if let Some(Group::Classic(mut g)) = st.groups.remove(&gid) {
                                g.complete_all(&e);
                            }
                        }
                    },
                )),
            );
        }
    }

    /// SyncGroup (Kafka's `classicGroupSyncToClassicGroup`).
    pub fn classic_sync(&mut self, req: SyncRequest, tx: oneshot::Sender<SyncResult>) {
        let Some((g, c)) = self.classic(&req.group_id) else {
            let _ = tx.send(SyncResult::error(Error::UnknownMemberId));
            return;
        };
        if g.is_empty() {
            let _ = tx.send(SyncResult::error(Error::UnknownMemberId));
            return;
        }
        if let Err(e) = validate_sync(g, &req) {
            let _ = tx.send(SyncResult::error(e));
            return;
        }
        match g.state() {
            GroupState::PreparingRebalance => {
                let _ = tx.send(SyncResult::error(Error::RebalanceInProgress));
            }
            GroupState::CompletingRebalance => {
                g.park_sync(&req.member_id, tx);
                remove_pending_sync_member(g, c, &req.member_id);
                if g.is_leader(&req.member_id) {
                    info!(group = %g.group_id, leader = %req.member_id, generation = g.generation_id(),
                        members = g.num_members(), "assignment received from the leader");
                    let mut assignment: HashMap<String, Bytes> =
                        req.assignments.into_iter().collect();
                    for id in g.member_ids() {
                        assignment.entry(id).or_default();
                    }
                    let record =
                        CoordinatorRecord::group_metadata(&g.group_id, g.to_record(&assignment));
                    let gid = g.group_id.clone();
                    let generation = req.generation_id;
                    c.write(
                        vec![record],
                        false,
                        Some(Box::new(move |st: &mut ShardState, res: Result<(), Error>| {
                            let Some((g, c)) = st.classic(&gid) else { return };
                            if !g.is_in(GroupState::CompletingRebalance) || g.generation_id() != generation {
                                return;
                            }
                            match res {
                                Err(e) => {
                                    let e = append_error_to_response(e);
                                    warn!(group = %gid, "failed to store the group assignment: {e}");
                                    reset_and_propagate_assignment_with_error(g, c, e);
                                    maybe_prepare_rebalance_or_complete_join(g, c, "error storing the assignment");
                                }
                                Ok(()) => {
                                    set_and_propagate_assignment(g, c, &assignment);
                                    g.transition_to(GroupState::Stable, c.now);
                                    info!(group = %gid, generation, "group is stable");
                                }
                            }
                        })),
                    );
                }
            }
            GroupState::Stable => {
                remove_pending_sync_member(g, c, &req.member_id);
                let assignment = g
                    .member(&req.member_id)
                    .map(|m| m.assignment.clone())
                    .unwrap_or_default();
                let _ = tx.send(SyncResult {
                    error: None,
                    protocol_type: g.protocol_type().map(str::to_string),
                    protocol_name: g.protocol_name().map(str::to_string),
                    assignment,
                });
            }
            GroupState::Empty | GroupState::Dead => {
                let _ = tx.send(SyncResult::error(Error::UnknownMemberId));
            }
        }
    }

    /// Heartbeat (Kafka's `classicGroupHeartbeatToClassicGroup`).
    pub fn classic_heartbeat(
        &mut self,
        group_id: &str,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
    ) -> Result<(), Error> {
        let (g, c) = self.classic(group_id).ok_or(Error::UnknownMemberId)?;
        if g.is_in(GroupState::Dead) {
            return Err(Error::CoordinatorNotAvailable);
        }
        g.validate_member(member_id, instance_id)?;
        if generation_id != g.generation_id() {
            return Err(Error::IllegalGeneration);
        }
        match g.state() {
            GroupState::Empty => Err(Error::UnknownMemberId),
            GroupState::PreparingRebalance => {
                let t = session_timeout(g, member_id);
                reschedule_heartbeat(g, c, member_id, t);
                Err(Error::RebalanceInProgress)
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                let t = session_timeout(g, member_id);
                reschedule_heartbeat(g, c, member_id, t);
                Ok(())
            }
            GroupState::Dead => Err(Error::CoordinatorNotAvailable),
        }
    }

    /// LeaveGroup (Kafka's `classicGroupLeaveToClassicGroup`). `Err` is a group-level error;
    /// an unknown group answers UNKNOWN_MEMBER_ID for every member.
    pub fn classic_leave(
        &mut self,
        group_id: &str,
        members: Vec<LeavingMember>,
    ) -> Result<Vec<LeaveResult>, Error> {
        let Some((g, c)) = self.classic(group_id) else {
            return Ok(members
                .into_iter()
                .map(|m| LeaveResult {
                    member_id: m.member_id,
                    group_instance_id: m.group_instance_id,
                    error: Some(Error::UnknownMemberId),
                })
                .collect());
        };
        if g.is_in(GroupState::Dead) {
            return Err(Error::CoordinatorNotAvailable);
        }
        let mut results = Vec::with_capacity(members.len());
        for m in members {
            let reason = m.reason.as_deref().unwrap_or("not provided");
            let error = if m.member_id.is_empty() {
                // Administrative removal of a static member by group.instance.id.
                match m
                    .group_instance_id
                    .as_deref()
                    .and_then(|i| g.static_member_id(i))
                    .map(str::to_string)
                {
                    Some(id) => {
                        remove_current_member(g, c, &id, reason);
                        None
                    }
                    None => Some(Error::UnknownMemberId),
                }
            } else if g.is_pending_member(&m.member_id) {
                g.remove(&m.member_id);
                let key = hb_key(g, &m.member_id);
                c.cancel(&key);
                info!(group = %g.group_id, member = %m.member_id, reason, "pending member left the group");
                None
            } else {
                match g.validate_member(&m.member_id, m.group_instance_id.as_deref()) {
                    Ok(()) => {
                        remove_current_member(g, c, &m.member_id, reason);
                        None
                    }
                    Err(e) => Some(e),
                }
            };
            results.push(LeaveResult {
                member_id: m.member_id,
                group_instance_id: m.group_instance_id,
                error,
            });
        }
        if results.iter().any(|r| r.error.is_none()) {
            match g.state() {
                GroupState::Stable | GroupState::CompletingRebalance => {
                    maybe_prepare_rebalance_or_complete_join(g, c, "members left the group");
                }
                GroupState::PreparingRebalance => maybe_complete_join_phase(g, c),
                _ => {}
            }
        }
        Ok(results)
    }
}

fn accept_joining_member(g: &ClassicGroup, member_id: &str, max_size: usize) -> bool {
    match g.state() {
        GroupState::Empty | GroupState::Dead => true,
        GroupState::PreparingRebalance => {
            g.member(member_id).is_some_and(|m| m.is_awaiting_join())
                || g.num_awaiting_join() < max_size
        }
        GroupState::CompletingRebalance | GroupState::Stable => {
            g.has_member(member_id) || g.num_members() < max_size
        }
    }
}

fn join_new_member(
    g: &mut ClassicGroup,
    c: &mut Core,
    req: JoinRequest,
    tx: oneshot::Sender<JoinResult>,
) {
    if g.is_in(GroupState::Dead) {
        let _ = tx.send(JoinResult::error("", Error::CoordinatorNotAvailable));
        return;
    }
    if !g.supports_protocols(&req.protocol_type, &req.protocols) {
        let _ = tx.send(JoinResult::error("", Error::InconsistentGroupProtocol));
        return;
    }
    let new_id = ClassicGroup::generate_member_id(&req.client_id, req.group_instance_id.as_deref());
    match req.group_instance_id.clone() {
        Some(instance) => match g.static_member_id(&instance).map(str::to_string) {
            Some(existing) => {
                info!(group = %g.group_id, %instance, old = %existing, new = %new_id,
                    "static member rejoined with an unknown member id; replacing the old member id");
                update_static_member_then_rebalance_or_complete_join(
                    g, c, req, &existing, new_id, tx,
                );
            }
            None => add_member_then_rebalance_or_complete_join(g, c, req, new_id, tx),
        },
        None if req.api_version >= 4 => {
            // KIP-394: hand out the member id first; the member joins again with it.
            g.add_pending_member(&new_id);
            reschedule_heartbeat(g, c, &new_id, req.session_timeout_ms as i64);
            let mut r = JoinResult::error(&new_id, Error::MemberIdRequired);
            r.member_id = new_id;
            let _ = tx.send(r);
        }
        None => add_member_then_rebalance_or_complete_join(g, c, req, new_id, tx),
    }
}

fn join_existing_member(
    g: &mut ClassicGroup,
    c: &mut Core,
    req: JoinRequest,
    tx: oneshot::Sender<JoinResult>,
) {
    let member_id = req.member_id.clone();
    if g.is_in(GroupState::Dead) {
        let _ = tx.send(JoinResult::error(
            &member_id,
            Error::CoordinatorNotAvailable,
        ));
        return;
    }
    if !g.supports_protocols(&req.protocol_type, &req.protocols) {
        let _ = tx.send(JoinResult::error(
            &member_id,
            Error::InconsistentGroupProtocol,
        ));
        return;
    }
    if g.is_pending_member(&member_id) {
        if req.group_instance_id.is_some() {
            let _ = tx.send(JoinResult::error(
                &member_id,
                Error::Internal("a pending member cannot be a static member".into()),
            ));
            return;
        }
        add_member_then_rebalance_or_complete_join(g, c, req, member_id, tx);
        return;
    }
    if let Err(e) = g.validate_member(&member_id, req.group_instance_id.as_deref()) {
        let _ = tx.send(JoinResult::error(&member_id, e));
        return;
    }
    let matches = g
        .member(&member_id)
        .is_some_and(|m| m.matches(&req.protocols));
    match g.state() {
        GroupState::PreparingRebalance => {
            update_member_then_rebalance_or_complete_join(g, c, req, tx)
        }
        GroupState::CompletingRebalance => {
            if matches {
                // The member missed its JoinGroup answer: send the current generation again.
                let _ = tx.send(g.join_result_for(&member_id, false));
            } else {
                update_member_then_rebalance_or_complete_join(g, c, req, tx);
            }
        }
        GroupState::Stable => {
            if g.is_leader(&member_id) || !matches {
                // A rejoining leader forces a rebalance (it may have seen metadata change).
                update_member_then_rebalance_or_complete_join(g, c, req, tx);
            } else {
                let mut r = g.join_result_for(&member_id, false);
                r.members.clear();
                let _ = tx.send(r);
            }
        }
        GroupState::Empty | GroupState::Dead => {
            warn!(group = %g.group_id, member = %member_id, state = ?g.state(), "rejoining member in an unexpected state");
            let _ = tx.send(JoinResult::error(&member_id, Error::UnknownMemberId));
        }
    }
}

fn update_member_then_rebalance_or_complete_join(
    g: &mut ClassicGroup,
    c: &mut Core,
    req: JoinRequest,
    tx: oneshot::Sender<JoinResult>,
) {
    g.update_member(
        &req.member_id,
        req.protocols,
        req.rebalance_timeout_ms,
        req.session_timeout_ms,
        Some(tx),
    );
    maybe_prepare_rebalance_or_complete_join(g, c, "member joined with new metadata");
}

fn add_member_then_rebalance_or_complete_join(
    g: &mut ClassicGroup,
    c: &mut Core,
    req: JoinRequest,
    member_id: String,
    tx: oneshot::Sender<JoinResult>,
) {
    let mut member = ClassicMember::new(
        member_id.clone(),
        req.group_instance_id,
        req.client_id,
        req.client_host,
        req.rebalance_timeout_ms,
        req.session_timeout_ms,
        req.protocol_type,
        req.protocols,
    );
    member.is_new = true;
    if g.is_in(GroupState::PreparingRebalance) && g.previous_state() == GroupState::Empty {
        g.new_member_added = true;
    }
    g.add(member, Some(tx));
    // A new member's JoinGroup is parked and it cannot heartbeat; it is given up after the
    // new-member join timeout so defunct joins do not pile up.
    let t = c.config.new_member_join_timeout_ms as i64;
    reschedule_heartbeat(g, c, &member_id, t);
    maybe_prepare_rebalance_or_complete_join(g, c, "new member joined");
}

fn update_static_member_then_rebalance_or_complete_join(
    g: &mut ClassicGroup,
    c: &mut Core,
    req: JoinRequest,
    old_id: &str,
    new_id: String,
    tx: oneshot::Sender<JoinResult>,
) {
    let instance = req.group_instance_id.clone().unwrap_or_default();
    let current_leader = g.leader_id().unwrap_or_default().to_string();
    g.replace_static_member(&instance, old_id, &new_id);
    let t = session_timeout(g, &new_id);
    reschedule_heartbeat(g, c, &new_id, t);
    let (old_protocols, old_rebalance, old_session) = match g.member(&new_id) {
        Some(m) => (
            m.supported_protocols.clone(),
            m.rebalance_timeout_ms,
            m.session_timeout_ms,
        ),
        None => return,
    };
    g.update_member(
        &new_id,
        req.protocols.clone(),
        req.rebalance_timeout_ms,
        req.session_timeout_ms,
        Some(tx),
    );
    match g.state() {
        GroupState::Stable => {
            if g.protocol_name().unwrap_or_default() == g.select_protocol().unwrap_or_default() {
                // Same protocol: no rebalance, the returning member keeps its assignment
                // (KIP-345). Only the new member id is persisted.
                let record =
                    CoordinatorRecord::group_metadata(&g.group_id, g.to_record(&g.assignments()));
                let gid = g.group_id.clone();
                let old_id = old_id.to_string();
                let version = req.api_version;
                c.write(
                    vec![record],
                    false,
                    Some(Box::new(move |st: &mut ShardState, res: Result<(), Error>| {
                        let Some((g, c)) = st.classic(&gid) else { return };
                        match res {
                            Err(e) => {
                                warn!(group = %gid, %instance, "failed to persist the new static member id, reverting: {e}");
                                let tx = g.take_join_sender(&new_id);
                                g.update_member(&new_id, old_protocols, old_rebalance, old_session, None);
                                g.replace_static_member(&instance, &new_id, &old_id);
                                let t = session_timeout(g, &old_id);
                                reschedule_heartbeat(g, c, &old_id, t);
                                if let Some(tx) = tx {
                                    let mut r = JoinResult::error("", append_error_to_response(e));
                                    r.generation_id = g.generation_id();
                                    r.protocol_name = g.protocol_name().map(str::to_string);
                                    r.protocol_type = g.protocol_type().map(str::to_string);
                                    r.leader = current_leader;
                                    let _ = tx.send(r);
                                }
                            }
                            Ok(()) if version >= 9 => {
                                let leader = g.is_leader(&new_id);
                                let r = g.join_result_for(&new_id, leader);
                                g.complete_join(&new_id, r);
                            }
                            Ok(()) => {
                                let mut r = g.join_result_for(&new_id, false);
                                r.members.clear();
                                r.leader = current_leader;
                                g.complete_join(&new_id, r);
                            }
                        }
                    })),
                );
            } else {
                maybe_prepare_rebalance_or_complete_join(
                    g,
                    c,
                    "static member rejoined with a protocol change",
                );
            }
        }
        GroupState::CompletingRebalance => {
            // The leader may already be assigning for the old member id: rebalance again.
            prepare_rebalance(g, c, "static member rejoined during CompletingRebalance");
        }
        GroupState::PreparingRebalance => maybe_complete_join_phase(g, c),
        GroupState::Empty | GroupState::Dead => {
            let r = JoinResult::error(&new_id, Error::Internal("unexpected group state".into()));
            g.complete_join(&new_id, r);
        }
    }
}

/// Starts a rebalance when the group can, otherwise tries to finish the join phase.
pub fn maybe_prepare_rebalance_or_complete_join(g: &mut ClassicGroup, c: &mut Core, reason: &str) {
    if g.can_rebalance() {
        prepare_rebalance(g, c, reason);
    } else {
        maybe_complete_join_phase(g, c);
    }
}

/// Kafka's `prepareRebalance`.
pub fn prepare_rebalance(g: &mut ClassicGroup, c: &mut Core, reason: &str) {
    if g.is_in(GroupState::CompletingRebalance) {
        reset_and_propagate_assignment_with_error(g, c, Error::RebalanceInProgress);
    }
    remove_sync_expiration(g, c);
    let initial = g.is_in(GroupState::Empty);
    if initial {
        // A new group waits group.initial.rebalance.delay.ms for more members (extended while
        // members keep arriving, up to the rebalance timeout).
        let delay = c.config.initial_rebalance_delay_ms as i64;
        let remaining = (g.rebalance_timeout_ms() as i64 - delay).max(0);
        c.schedule(
            join_key(g),
            delay,
            TimerTask::InitialRebalance {
                group: g.group_id.clone(),
                delay_ms: delay,
                remaining_ms: remaining,
            },
        );
    }
    g.transition_to(GroupState::PreparingRebalance, c.now);
    info!(group = %g.group_id, generation = g.generation_id(), reason, "preparing to rebalance");
    if !initial {
        maybe_complete_join_else_schedule(g, c);
    }
}

fn maybe_complete_join_else_schedule(g: &mut ClassicGroup, c: &mut Core) {
    if g.has_all_members_joined() {
        complete_join(g, c);
    } else {
        let t = g.rebalance_timeout_ms() as i64;
        c.schedule(
            join_key(g),
            t,
            TimerTask::CompleteJoin {
                group: g.group_id.clone(),
            },
        );
    }
}

/// The initial rebalance delay passed (Kafka's `tryCompleteInitialRebalanceElseSchedule`).
pub fn try_complete_initial_rebalance(
    g: &mut ClassicGroup,
    c: &mut Core,
    delay_ms: i64,
    remaining_ms: i64,
) {
    if g.new_member_added && remaining_ms != 0 {
        g.new_member_added = false;
        let new_delay = (c.config.initial_rebalance_delay_ms as i64).min(remaining_ms);
        let new_remaining = (remaining_ms - delay_ms).max(0);
        c.schedule(
            join_key(g),
            new_delay,
            TimerTask::InitialRebalance {
                group: g.group_id.clone(),
                delay_ms: new_delay,
                remaining_ms: new_remaining,
            },
        );
    } else {
        complete_join(g, c);
    }
}

/// Completes the join phase when every member has rejoined (never during the initial delay).
pub fn maybe_complete_join_phase(g: &mut ClassicGroup, c: &mut Core) {
    if g.is_in(GroupState::PreparingRebalance)
        && g.previous_state() != GroupState::Empty
        && g.has_all_members_joined()
    {
        complete_join(g, c);
    }
}

/// Kafka's `completeClassicGroupJoin`: drops dynamic members that did not rejoin, starts the
/// next generation and answers every parked JoinGroup (the leader gets the member list).
pub fn complete_join(g: &mut ClassicGroup, c: &mut Core) {
    let key = join_key(g);
    c.cancel(&key);
    let gone: Vec<String> = g
        .not_yet_rejoined()
        .into_iter()
        .filter(|id| g.member(id).is_some_and(|m| !m.is_static()))
        .collect();
    for id in &gone {
        g.remove(id);
        let key = hb_key(g, id);
        c.cancel(&key);
    }
    if !gone.is_empty() {
        info!(group = %g.group_id, members = ?gone, "removed dynamic members that did not rejoin");
    }
    if g.is_in(GroupState::Dead) {
        return;
    }
    if !g.maybe_elect_new_joined_leader() && g.num_members() > 0 {
        // Nobody rejoined: wait another rebalance timeout for the sessions to expire.
        warn!(group = %g.group_id, "could not complete the rebalance because no members rejoined");
        let t = g.rebalance_timeout_ms() as i64;
        c.schedule(
            join_key(g),
            t,
            TimerTask::CompleteJoin {
                group: g.group_id.clone(),
            },
        );
        return;
    }
    g.init_next_generation(c.now);
    if g.is_empty() {
        info!(group = %g.group_id, generation = g.generation_id(), "group is now empty");
        let record = CoordinatorRecord::group_metadata(&g.group_id, g.to_record(&HashMap::new()));
        let gid = g.group_id.clone();
        c.write(
            vec![record],
            false,
            Some(Box::new(
                move |_: &mut ShardState, res: Result<(), Error>| {
                    if let Err(e) = res {
                        warn!(group = %gid, "failed to write the metadata of the empty group: {e}");
                    }
                },
            )),
        );
        return;
    }
    info!(group = %g.group_id, generation = g.generation_id(), members = g.num_members(),
        protocol = ?g.protocol_name(), "rebalance: join phase complete");
    for id in g.member_ids() {
        let r = g.join_result_for(&id, false);
        g.complete_join(&id, r);
        let t = session_timeout(g, &id);
        reschedule_heartbeat(g, c, &id, t);
        if let Some(m) = g.member_mut(&id) {
            m.is_new = false;
        }
        g.add_pending_sync_member(&id);
    }
    let t = g.rebalance_timeout_ms() as i64;
    c.schedule(
        sync_key(g),
        t,
        TimerTask::PendingSyncExpired {
            group: g.group_id.clone(),
            generation: g.generation_id(),
        },
    );
}

/// A member's session deadline passed (Kafka's `expireClassicGroupMemberHeartbeat`).
pub fn expire_member_heartbeat(g: &mut ClassicGroup, c: &mut Core, member_id: &str) {
    if g.is_in(GroupState::Dead) {
        return;
    }
    if g.is_pending_member(member_id) {
        info!(group = %g.group_id, member = %member_id, "pending member removed after its session timeout");
        g.remove(member_id);
        if g.is_in(GroupState::PreparingRebalance) && g.has_all_members_joined() {
            complete_join(g, c);
        }
        return;
    }
    let Some(m) = g.member(member_id) else {
        return;
    };
    if m.has_satisfied_heartbeat() {
        return;
    }
    info!(group = %g.group_id, member = %member_id, "member failed its session timeout; removing it");
    g.complete_join(member_id, JoinResult::error("", Error::UnknownMemberId));
    g.remove(member_id);
    if g.is_in(GroupState::Stable) || g.is_in(GroupState::CompletingRebalance) {
        maybe_prepare_rebalance_or_complete_join(g, c, "member session expired");
    } else if g.is_in(GroupState::PreparingRebalance) && g.has_all_members_joined() {
        complete_join(g, c);
    }
}

/// Not every member sent SyncGroup within the rebalance timeout (Kafka's `expirePendingSync`).
pub fn expire_pending_sync(g: &mut ClassicGroup, c: &mut Core, generation: i32) {
    if generation != g.generation_id() {
        return;
    }
    if (g.is_in(GroupState::CompletingRebalance) || g.is_in(GroupState::Stable))
        && !g.has_received_sync_from_all()
    {
        let pending = g.pending_sync_members();
        for id in &pending {
            g.remove(id);
            let key = hb_key(g, id);
            c.cancel(&key);
        }
        info!(group = %g.group_id, members = ?pending, "removed members that did not send SyncGroup");
        prepare_rebalance(g, c, "pending sync expired");
    }
}

fn validate_sync(g: &ClassicGroup, req: &SyncRequest) -> Result<(), Error> {
    if g.is_in(GroupState::Dead) {
        return Err(Error::CoordinatorNotAvailable);
    }
    g.validate_member(&req.member_id, req.group_instance_id.as_deref())?;
    if req.generation_id != g.generation_id() {
        return Err(Error::IllegalGeneration);
    }
    let inconsistent = |asked: &Option<String>, has: Option<&str>| matches!((asked, has), (Some(a), Some(h)) if a != h);
    if inconsistent(&req.protocol_type, g.protocol_type())
        || inconsistent(&req.protocol_name, g.protocol_name())
    {
        return Err(Error::InconsistentGroupProtocol);
    }
    Ok(())
}

fn remove_pending_sync_member(g: &mut ClassicGroup, c: &mut Core, member_id: &str) {
    g.remove_pending_sync_member(member_id);
    let cancel = match g.state() {
        GroupState::Dead | GroupState::Empty | GroupState::PreparingRebalance => true,
        GroupState::CompletingRebalance | GroupState::Stable => g.has_received_sync_from_all(),
    };
    if cancel {
        let key = sync_key(g);
        c.cancel(&key);
    }
}

fn remove_sync_expiration(g: &mut ClassicGroup, c: &mut Core) {
    g.clear_pending_sync_members();
    let key = sync_key(g);
    c.cancel(&key);
}

fn reset_and_propagate_assignment_with_error(g: &mut ClassicGroup, c: &mut Core, e: Error) {
    for id in g.member_ids() {
        if let Some(m) = g.member_mut(&id) {
            m.assignment = Bytes::new();
        }
    }
    propagate_assignment(g, c, Some(e));
}

fn set_and_propagate_assignment(
    g: &mut ClassicGroup,
    c: &mut Core,
    assignment: &HashMap<String, Bytes>,
) {
    for id in g.member_ids() {
        let a = assignment.get(&id).cloned().unwrap_or_default();
        if let Some(m) = g.member_mut(&id) {
            m.assignment = a;
        }
    }
    propagate_assignment(g, c, None);
}

/// Answers every parked SyncGroup and restarts those members' sessions.
fn propagate_assignment(g: &mut ClassicGroup, c: &mut Core, error: Option<Error>) {
    let (protocol_type, protocol_name) = if error.is_none() {
        (
            g.protocol_type().map(str::to_string),
            g.protocol_name().map(str::to_string),
        )
    } else {
        (None, None)
    };
    for id in g.member_ids() {
        let assignment = g
            .member(&id)
            .map(|m| m.assignment.clone())
            .unwrap_or_default();
        let answered = g.complete_sync(
            &id,
            SyncResult {
                error: error.clone(),
                protocol_type: protocol_type.clone(),
                protocol_name: protocol_name.clone(),
                assignment,
            },
        );
        if answered {
            let t = session_timeout(g, &id);
            reschedule_heartbeat(g, c, &id, t);
        }
    }
}

fn remove_current_member(g: &mut ClassicGroup, c: &mut Core, member_id: &str, reason: &str) {
    let key = hb_key(g, member_id);
    c.cancel(&key);
    info!(group = %g.group_id, member = %member_id, reason, "member left the group");
    g.complete_join(member_id, JoinResult::error("", Error::UnknownMemberId));
    g.remove(member_id);
}
