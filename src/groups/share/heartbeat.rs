//! ShareGroupHeartbeat (KIP-932) on a shard, as Kafka's `GroupMetadataManager.shareGroupHeartbeat`:
//! a member joins with epoch 0 and its subscription, heartbeats with its epoch, and leaves
//! with -1. A change of members, subscriptions or subscribed partitions bumps the group epoch and
//! recomputes the target assignment; a member takes its target at once when it heartbeats (share
//! groups have no revocation phase) and its epoch becomes the group's. A member that stops
//! heartbeating for `share.session.timeout.ms` is removed.

use std::collections::BTreeMap;

use tracing::info;
use uuid::Uuid;

use crate::error::Error;
use crate::groups::group::Group;
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::ShardState;
use crate::groups::share::assignor::{assign, AssignorMember};
use crate::groups::share::records::{MemberAssignment, MemberMetadata, ShareRecord};
use crate::groups::share::{ShareGroup, ShareMember};
use crate::groups::timer::{TimerKey, TimerTask};

/// A decoded ShareGroupHeartbeat with who sent it.
#[derive(Clone, Debug)]
pub struct ShareHeartbeatRequest {
    pub group_id: String,
    pub member_id: String,
    pub member_epoch: i32,
    pub rack_id: Option<String>,
    pub subscribed_topic_names: Option<Vec<String>>,
    pub client_id: String,
    pub client_host: String,
}

/// What the member is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareHeartbeatResponse {
    pub member_id: String,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: i32,
    pub assignment: Option<BTreeMap<Uuid, Vec<i32>>>,
}

pub const LEAVE_GROUP_MEMBER_EPOCH: i32 = -1;

/// Kafka's `throwIfShareGroupHeartbeatRequestIsInvalid`.
pub fn validate(req: &ShareHeartbeatRequest) -> Result<(), Error> {
    let bad = |m: &str| Err(Error::InvalidRequest(m.to_string()));
    if req.group_id.trim().is_empty() {
        return bad("GroupId can't be empty.");
    }
    if req.member_id.trim().is_empty() {
        return bad("MemberId can't be empty.");
    }
    if req.rack_id.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return bad("RackId can't be empty.");
    }
    // `GroupCoordinatorService.shareGroupHeartbeat`'s wording.
    if req.member_epoch < LEAVE_GROUP_MEMBER_EPOCH {
        return bad("MemberEpoch is invalid.");
    }
    if req.member_epoch == 0
        && req
            .subscribed_topic_names
            .as_ref()
            .is_none_or(|t| t.is_empty())
    {
        return bad("SubscribedTopicNames must be set in first request.");
    }
    Ok(())
}

fn not_share(gid: &str) -> Error {
    Error::GroupIdNotFound(format!("Group {gid} is not a share group."))
}

impl ShardState {
    /// The share group `gid`, or GROUP_ID_NOT_FOUND.
    pub fn share_group(&self, gid: &str) -> Result<&ShareGroup, Error> {
        match self.groups.get(gid) {
            Some(Group::Share(g)) => Ok(g),
            Some(_) => Err(not_share(gid)),
            None => Err(Error::GroupIdNotFound(format!("Group {gid} not found."))),
        }
    }

    fn share_group_mut(&mut self, gid: &str) -> Result<&mut ShareGroup, Error> {
        match self.groups.get_mut(gid) {
            Some(Group::Share(g)) => Ok(g),
            Some(_) => Err(not_share(gid)),
            None => Err(Error::GroupIdNotFound(format!("Group {gid} not found."))),
        }
    }

    /// The session timeout and heartbeat interval of share group `gid`: its
    /// `share.session.timeout.ms` / `share.heartbeat.interval.ms` group configs, else the
    /// broker's `group.share.*`.
    fn share_timeouts(&self, gid: &str) -> (i32, i32) {
        let c = &self.core.config.share;
        let mut session = c.session_timeout_ms;
        let mut interval = c.heartbeat_interval_ms;
        if let Some(store) = &self.core.group_configs {
            let cfg = store.get(gid);
            if let Some(v) = cfg
                .get("share.session.timeout.ms")
                .and_then(|v| v.parse().ok())
            {
                session = v;
            }
            if let Some(v) = cfg
                .get("share.heartbeat.interval.ms")
                .and_then(|v| v.parse().ok())
            {
                interval = v;
            }
        }
        (session, interval)
    }

    pub fn share_group_heartbeat(
        &mut self,
        req: ShareHeartbeatRequest,
    ) -> Result<ShareHeartbeatResponse, Error> {
        let gid = req.group_id.clone();
        let (session_ms, interval_ms) = self.share_timeouts(&gid);
        if req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH {
            self.share_group(&gid)?;
            if !self.share_group(&gid)?.members.contains_key(&req.member_id) {
                return Err(Error::UnknownMember(format!(
                    "Member {} is not a member of group {gid}.",
                    req.member_id
                )));
            }
            self.remove_share_member(&gid, &req.member_id, "the member left");
            return Ok(ShareHeartbeatResponse {
                member_id: req.member_id,
                member_epoch: LEAVE_GROUP_MEMBER_EPOCH,
                heartbeat_interval_ms: 0,
                assignment: None,
            });
        }
        match self.groups.get(&gid) {
            None if req.member_epoch == 0 => {
                self.groups
                    .insert(gid.clone(), Group::Share(ShareGroup::new(&gid)));
            }
            // Kafka's `getOrMaybeCreateShareGroup` words it "Share group ... not found.".
            None => {
                return Err(Error::GroupIdNotFound(format!(
                    "Share group {gid} not found."
                )))
            }
            Some(Group::Share(_)) => {}
            Some(_) => return Err(not_share(&gid)),
        }
        let max_size = self.core.config.share.max_size;
        let image = self.core.topics.clone();
        let mut records = Vec::new();
        let group = self.share_group_mut(&gid)?;
        let existing = group.members.get(&req.member_id).cloned();
        if existing.is_none() && group.members.len() >= max_size {
            return Err(Error::GroupMaxSizeReached);
        }
        let mut member = match existing {
            Some(m) => {
                // Kafka's `throwIfShareGroupMemberEpochIsInvalid`, with its two messages.
                if req.member_epoch > m.member_epoch {
                    return Err(Error::FencedMemberEpoch(format!(
                        "The share group member has a greater member epoch ({}) than the one known by the group coordinator ({}). The member must abandon all its partitions and rejoin.",
                        req.member_epoch, m.member_epoch
                    )));
                }
                if req.member_epoch < m.member_epoch && req.member_epoch != m.previous_member_epoch
                {
                    return Err(Error::FencedMemberEpoch(format!(
                        "The share group member has a smaller member epoch ({}) than the one known by the group coordinator ({}), and it does not match the previous member epoch ({}). The member must abandon all its partitions and rejoin.",
                        req.member_epoch, m.member_epoch, m.previous_member_epoch
                    )));
                }
                m
            }
            None if req.member_epoch != 0 => {
                return Err(Error::UnknownMember(format!(
                    "Member {} is not a member of group {gid}.",
                    req.member_id
                )))
            }
            None => ShareMember {
                member_id: req.member_id.clone(),
                ..Default::default()
            },
        };
        let before = member.clone();
        if let Some(r) = &req.rack_id {
            member.rack_id = Some(r.clone());
        }
        if let Some(t) = &req.subscribed_topic_names {
            let mut t = t.clone();
            t.sort();
            t.dedup();
            member.subscribed_topic_names = t;
        }
        member.client_id = req.client_id.clone();
        member.client_host = req.client_host.clone();
        let is_new = before.member_epoch == 0 && !group.members.contains_key(&req.member_id);
        let subscription_changed =
            is_new || before.subscribed_topic_names != member.subscribed_topic_names;
        if is_new
            || subscription_changed
            || before.rack_id != member.rack_id
            || before.client_id != member.client_id
            || before.client_host != member.client_host
        {
            records.push(ShareRecord::MemberMetadata {
                group: gid.clone(),
                member: member.member_id.clone(),
                value: Some(MemberMetadata {
                    rack_id: member.rack_id.clone(),
                    client_id: member.client_id.clone(),
                    client_host: member.client_host.clone(),
                    subscribed_topic_names: member.subscribed_topic_names.clone(),
                }),
            });
        }
        group.members.insert(member.member_id.clone(), member);
        // The partitions the group subscribes to now: a change (a topic created, deleted or
        // given partitions) bumps the epoch, as Kafka's metadata hash does.
        let subscribed = subscribed_partitions(group, &image);
        let mut bumped = false;
        if subscription_changed || subscribed != group.subscribed || group.group_epoch == 0 {
            group.group_epoch += 1;
            group.subscribed = subscribed;
            bumped = true;
            records.push(ShareRecord::GroupMetadata {
                group: gid.clone(),
                epoch: Some(group.group_epoch),
            });
        }
        if bumped || group.assignment_epoch < group.group_epoch {
            recompute_target(group, &image);
        }
        let target = group
            .target
            .get(&req.member_id)
            .cloned()
            .unwrap_or_default();
        let epoch = group.assignment_epoch;
        let m = group
            .members
            .get_mut(&req.member_id)
            .ok_or_else(|| Error::Internal("member vanished".into()))?;
        let mut changed = false;
        if m.member_epoch != epoch || m.assignment != target {
            m.previous_member_epoch = m.member_epoch;
            m.member_epoch = epoch;
            changed = m.assignment != target;
            m.assignment = target;
            records.push(ShareRecord::CurrentMemberAssignment {
                group: gid.clone(),
                member: m.member_id.clone(),
                value: Some(MemberAssignment {
                    member_epoch: m.member_epoch,
                    previous_member_epoch: m.previous_member_epoch,
                    state: 0,
                    partitions: m.assignment.clone(),
                }),
            });
        }
        let response = ShareHeartbeatResponse {
            member_id: m.member_id.clone(),
            member_epoch: m.member_epoch,
            heartbeat_interval_ms: interval_ms,
            assignment: (req.member_epoch == 0 || req.subscribed_topic_names.is_some() || changed)
                .then(|| m.assignment.clone()),
        };
        if is_new {
            info!(group = %gid, member = %req.member_id, epoch = response.member_epoch, "share group member joined");
        }
        self.schedule_share_session(&gid, &req.member_id, session_ms);
        if !records.is_empty() {
            self.core.write(
                records.into_iter().map(CoordinatorRecord::Share).collect(),
                false,
                None,
            );
        }
        Ok(response)
    }

    fn schedule_share_session(&mut self, gid: &str, member: &str, session_ms: i32) {
        self.core.schedule(
            TimerKey::Heartbeat {
                group: gid.to_string(),
                member: member.to_string(),
            },
            session_ms as i64,
            TimerTask::ShareSessionExpired {
                group: gid.to_string(),
                member: member.to_string(),
            },
        );
    }

    /// Removes a member (leave or session expiry): its records are tombstoned and the group
    /// epoch bumped so the others are given its partitions.
    pub fn remove_share_member(&mut self, gid: &str, member: &str, why: &str) {
        self.core.cancel(&TimerKey::Heartbeat {
            group: gid.to_string(),
            member: member.to_string(),
        });
        let image = self.core.topics.clone();
        let Ok(group) = self.share_group_mut(gid) else {
            return;
        };
        if group.members.remove(member).is_none() {
            return;
        }
        group.target.remove(member);
        group.group_epoch += 1;
        // Kafka's `shareGroupFenceMember` bumps the group epoch with the subscription metadata
        // recomputed without the member, but leaves the target assignment (and its epoch) as it
        // is: the remaining members' next heartbeat computes it at the new epoch, and a group
        // whose last member left keeps the assignment epoch of its last assignment
        // (ShareGroupDescribe shows it).
        group.subscribed = subscribed_partitions(group, &image);
        let records = vec![
            ShareRecord::CurrentMemberAssignment {
                group: gid.to_string(),
                member: member.to_string(),
                value: None,
            },
            ShareRecord::MemberMetadata {
                group: gid.to_string(),
                member: member.to_string(),
                value: None,
            },
            ShareRecord::GroupMetadata {
                group: gid.to_string(),
                epoch: Some(group.group_epoch),
            },
        ];
        info!(group = %gid, member, epoch = group.group_epoch, "share group member removed: {why}");
        self.core.write(
            records.into_iter().map(CoordinatorRecord::Share).collect(),
            false,
            None,
        );
    }

    /// Applies a share-group record (start-up replay).
    pub fn replay_share(&mut self, r: &ShareRecord) {
        let gid = r.group_id().to_string();
        if let ShareRecord::GroupMetadata { epoch: None, .. } = r {
            if matches!(self.groups.get(&gid), Some(Group::Share(_))) {
                self.groups.remove(&gid);
            }
            return;
        }
        if !matches!(self.groups.get(&gid), Some(Group::Share(_))) {
            if matches!(
                r,
                ShareRecord::MemberMetadata { value: None, .. }
                    | ShareRecord::CurrentMemberAssignment { value: None, .. }
            ) {
                return;
            }
            self.groups
                .insert(gid.clone(), Group::Share(ShareGroup::new(&gid)));
        }
        let Some(Group::Share(g)) = self.groups.get_mut(&gid) else {
            return;
        };
        match r {
            ShareRecord::GroupMetadata { epoch: Some(e), .. } => g.group_epoch = *e,
            ShareRecord::GroupMetadata { epoch: None, .. } => {}
            ShareRecord::MemberMetadata {
                member,
                value: Some(v),
                ..
            } => {
                let m = g
                    .members
                    .entry(member.clone())
                    .or_insert_with(|| ShareMember {
                        member_id: member.clone(),
                        ..Default::default()
                    });
                m.rack_id = v.rack_id.clone();
                m.client_id = v.client_id.clone();
                m.client_host = v.client_host.clone();
                m.subscribed_topic_names = v.subscribed_topic_names.clone();
            }
            ShareRecord::MemberMetadata {
                member,
                value: None,
                ..
            } => {
                g.members.remove(member);
            }
            ShareRecord::CurrentMemberAssignment {
                member,
                value: Some(v),
                ..
            } => {
                if let Some(m) = g.members.get_mut(member) {
                    m.member_epoch = v.member_epoch;
                    m.previous_member_epoch = v.previous_member_epoch;
                    m.assignment = v.partitions.clone();
                }
            }
            ShareRecord::CurrentMemberAssignment { value: None, .. } => {}
        }
    }

    /// After start-up replay: every loaded share member's session starts now.
    pub fn on_loaded_share_groups(&mut self) {
        let mut sessions = Vec::new();
        for (gid, g) in &self.groups {
            if let Group::Share(g) = g {
                for m in g.members.keys() {
                    sessions.push((gid.clone(), m.clone()));
                }
            }
        }
        for (gid, m) in sessions {
            let (session_ms, _) = self.share_timeouts(&gid);
            self.schedule_share_session(&gid, &m, session_ms);
        }
    }
}

/// The simple assignor over the group's members and their subscribed topics that exist; the
/// target's epoch becomes the group epoch.
fn recompute_target(group: &mut ShareGroup, image: &crate::groups::modern::TopicsImage) {
    let inputs: Vec<AssignorMember<'_>> = group
        .members
        .values()
        .map(|m| AssignorMember {
            member_id: &m.member_id,
            current: &m.assignment,
            topics: m
                .subscribed_topic_names
                .iter()
                .filter_map(|t| image.topic(t))
                .map(|t| (t.id, t.num_partitions))
                .collect(),
        })
        .collect();
    group.target = assign(&inputs);
    group.subscribed = subscribed_partitions(group, image);
    group.assignment_epoch = group.group_epoch;
}

/// The partitions of every topic the group's members subscribe to that exist.
fn subscribed_partitions(
    g: &ShareGroup,
    image: &crate::groups::modern::TopicsImage,
) -> Vec<(Uuid, i32)> {
    let mut names: Vec<&String> = g
        .members
        .values()
        .flat_map(|m| m.subscribed_topic_names.iter())
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| image.topic(n))
        .map(|t| (t.id, t.num_partitions))
        .collect()
}
