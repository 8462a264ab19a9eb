//! ConsumerGroupHeartbeat (KIP-848), step for step as Kafka's
//! `GroupMetadataManager.consumerGroupHeartbeat`:
//!
//! 1. The member is created or updated; a changed subscription (topic names or regex) is
//!    written and bumps the group epoch, as does a change in the subscribed topics' metadata
//!    (a topic created, deleted or grown; a regex matching new topics).
//! 2. When the group epoch is ahead of the target assignment epoch, the assignor computes a
//!    new target assignment.
//! 3. The member is reconciled towards its target ([`CurrentAssignmentBuilder`]): partitions it
//!    must give up are revoked first, partitions another member still owns are held back.
//!
//! Leaving (epoch -1, or -2 for a static member that comes back), session timeouts and
//! rebalance timeouts fence the member: its records are tombstoned and the group epoch bumped.

use std::collections::BTreeSet;

use tracing::info;
use uuid::Uuid;

use crate::cluster::uuid_to_kafka_string;
use crate::error::Error;
use crate::groups::group::Group;
use crate::groups::modern::config::ConsumerGroupConfig;
use crate::groups::modern::current_assignment::CurrentAssignmentBuilder;
use crate::groups::modern::group::ConsumerGroup;
use crate::groups::modern::member::{
    has_assigned_partitions_changed, is_subset, Assignment, ConsumerGroupMember, MemberState,
    LEAVE_GROUP_MEMBER_EPOCH, LEAVE_GROUP_STATIC_MEMBER_EPOCH,
};
use crate::groups::modern::regex;
use crate::groups::modern::replay::Txn;
use crate::groups::modern::target_assignment;
use crate::groups::modern::topics::TopicsImage;
use crate::groups::records::consumer::{ConsumerRecord, GroupEpoch, ResolvedRegex};
use crate::groups::shard::ShardState;
use crate::groups::timer::{TimerKey, TimerTask};

/// `ConsumerGroupHeartbeatRequest.CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION` (KIP-1082):
/// from v1 the client makes up its member id.
pub const CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION: i16 = 1;

/// A ConsumerGroupHeartbeat request, as the coordinator sees it.
#[derive(Clone, Debug, Default)]
pub struct HeartbeatRequest {
    pub group_id: String,
    pub member_id: String,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub subscribed_topic_names: Option<Vec<String>>,
    pub subscribed_topic_regex: Option<String>,
    pub server_assignor: Option<String>,
    /// `TopicPartitions`: what the member owns, `None` when unchanged since the last heartbeat.
    pub owned: Option<Vec<(Uuid, Vec<i32>)>>,
    pub client_id: String,
    pub client_host: String,
    pub api_version: i16,
}

/// The answer to a successful heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatResponse {
    pub member_id: String,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: i32,
    /// The member's assignment, when it changed or the request was a full one.
    pub assignment: Option<Assignment>,
}

/// Kafka's `GroupCoordinatorService.throwIfConsumerGroupHeartbeatRequestIsInvalid`.
pub fn validate(req: &HeartbeatRequest, config: &ConsumerGroupConfig) -> Result<(), Error> {
    let blank = |s: Option<&str>| s.is_some_and(|s| s.trim().is_empty());
    let invalid = |m: &str| Err(Error::InvalidRequest(m.to_string()));
    if (req.api_version >= CONSUMER_GENERATED_MEMBER_ID_REQUIRED_VERSION
        || req.member_epoch > 0
        || req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH)
        && blank(Some(&req.member_id))
    {
        return invalid("MemberId can't be empty.");
    }
    if blank(Some(&req.group_id)) {
        return invalid("GroupId can't be empty.");
    }
    if blank(req.instance_id.as_deref()) {
        return invalid("InstanceId can't be empty.");
    }
    if blank(req.rack_id.as_deref()) {
        return invalid("RackId can't be empty.");
    }
    if req.member_epoch == 0 {
        if req.rebalance_timeout_ms == -1 {
            return invalid("RebalanceTimeoutMs must be provided in first request.");
        }
        if req.owned.as_ref().is_none_or(|o| !o.is_empty()) {
            return invalid("TopicPartitions must be empty when (re-)joining.");
        }
        if req.subscribed_topic_names.is_none() && req.subscribed_topic_regex.is_none() {
            return invalid(
                "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
            );
        }
    } else if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        if req.instance_id.is_none() {
            return invalid("InstanceId can't be null.");
        }
    } else if req.member_epoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH {
        return invalid("MemberEpoch is invalid.");
    }
    if let Some(a) = &req.server_assignor {
        if !config.supports_assignor(a) {
            return Err(Error::UnsupportedAssignor(format!(
                "ServerAssignor {a} is not supported. Supported assignors: {}.",
                config.assignors.join(", ")
            )));
        }
    }
    Ok(())
}

/// `throwIfConsumerGroupMemberEpochIsInvalid`. A member may always rejoin with epoch 0
/// (KIP-848; Kafka's KAFKA-19233), and may retry with its previous epoch when the response
/// that bumped it was lost, as long as it owns no more than its assignment.
fn check_member_epoch(
    m: &ConsumerGroupMember,
    received: i32,
    owned: Option<&[(Uuid, Vec<i32>)]>,
) -> Result<(), Error> {
    let epoch = m.member_epoch();
    if received == 0 {
        return Ok(());
    }
    if received > epoch {
        return Err(Error::FencedMemberEpoch(format!(
            "The consumer group member has a greater member epoch ({received}) than the one known by the group coordinator ({epoch}). The member must abandon all its partitions and rejoin."
        )));
    }
    if received < epoch
        && (received != m.current.previous_member_epoch
            || !is_subset(owned, &m.current.assigned_partitions))
    {
        return Err(Error::FencedMemberEpoch(format!(
            "The consumer group member has a smaller member epoch ({received}) than the one known by the group coordinator ({epoch}). The member must abandon all its partitions and rejoin."
        )));
    }
    Ok(())
}

fn consumer_group<'a>(st: &'a ShardState, group_id: &str) -> Result<&'a ConsumerGroup, Error> {
    match st.groups.get(group_id) {
        Some(Group::Consumer(g)) => Ok(g),
        Some(_) => Err(Error::GroupIdNotFound(format!(
            "Group {group_id} is not a consumer group."
        ))),
        None => Err(Error::GroupIdNotFound(format!(
            "Consumer group {group_id} not found."
        ))),
    }
}

impl ShardState {
    /// ConsumerGroupHeartbeat: a join (epoch 0), a heartbeat, or a leave (epoch -1/-2).
    pub fn consumer_group_heartbeat(
        &mut self,
        req: HeartbeatRequest,
    ) -> Result<HeartbeatResponse, Error> {
        let image = self.core.topics.clone();
        let mut txn = Txn::new(&req.group_id);
        let result = if req.member_epoch == LEAVE_GROUP_MEMBER_EPOCH
            || req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH
        {
            self.consumer_group_leave(&req, &image, &mut txn)
        } else {
            self.consumer_group_join_or_heartbeat(req, &image, &mut txn)
        };
        match result {
            Ok(r) => {
                self.commit(txn);
                Ok(r)
            }
            Err(e) => {
                self.rollback(txn);
                Err(e)
            }
        }
    }

    fn consumer_group_join_or_heartbeat(
        &mut self,
        req: HeartbeatRequest,
        image: &TopicsImage,
        txn: &mut Txn,
    ) -> Result<HeartbeatResponse, Error> {
        let gid = req.group_id.clone();
        let config = self.core.consumer_config(&gid);
        let create = req.member_epoch == 0;

        // The group: a new one, an empty classic group deleted to make room (online upgrade of
        // an empty group), or an existing consumer group.
        match self.groups.get(&gid) {
            None if !create => {
                return Err(Error::GroupIdNotFound(format!(
                    "Consumer group {gid} not found."
                )))
            }
            None => self.ensure_consumer_group(txn),
            Some(Group::Classic(c)) if create && c.is_empty() => {
                info!(group = %gid, "an empty classic group becomes a consumer group");
                self.emit_classic_group_tombstone(txn);
                self.ensure_consumer_group(txn);
            }
            Some(Group::Classic(_)) | Some(Group::Share(_)) => {
                return Err(Error::GroupIdNotFound(format!(
                    "Group {gid} is not a consumer group"
                )))
            }
            Some(Group::Consumer(_)) => {}
        }
        let group = consumer_group(self, &gid)?;
        if group.num_members() >= config.max_size
            && (req.member_id.is_empty() || !group.has_member(&req.member_id))
        {
            return Err(Error::GroupMaxSizeReached);
        }

        let member_id = if req.member_id.is_empty() {
            uuid_to_kafka_string(Uuid::new_v4())
        } else {
            req.member_id.clone()
        };
        let owned = req.owned.as_deref();

        // The member: a new one, an existing one, or a static member taking over its instance
        // id from the member it replaces.
        let member = match &req.instance_id {
            None => match group.member(&member_id) {
                Some(m) => {
                    check_member_epoch(m, req.member_epoch, owned)?;
                    m.clone()
                }
                None if create => {
                    info!(group = %gid, member = %member_id, "member joins the consumer group");
                    ConsumerGroupMember::new(&member_id)
                }
                None => {
                    return Err(Error::UnknownMember(format!(
                        "Member {member_id} is not a member of group {gid}."
                    )))
                }
            },
            Some(instance) => match group.static_member(instance).cloned() {
                None if create => {
                    info!(group = %gid, member = %member_id, %instance, "static member joins the consumer group");
                    group
                        .member(&member_id)
                        .cloned()
                        .unwrap_or_else(|| ConsumerGroupMember::new(&member_id))
                }
                None => {
                    return Err(Error::UnknownMember(format!(
                        "Instance id {instance} is unknown."
                    )))
                }
                Some(existing) if existing.member_id == member_id => {
                    check_member_epoch(&existing, req.member_epoch, owned)?;
                    existing
                }
                Some(existing) if create => {
                    if !existing.uses_classic_protocol()
                        && existing.member_epoch() != LEAVE_GROUP_STATIC_MEMBER_EPOCH
                    {
                        return Err(Error::UnreleasedInstanceId(format!(
                            "Static member {member_id} with instance id {instance} cannot join the group because the instance id is owned by {} member.",
                            existing.member_id
                        )));
                    }
                    info!(group = %gid, %instance, old = %existing.member_id, new = %member_id,
                        "static member rejoins the consumer group and replaces its previous member id");
                    self.replace_member(txn, &existing, &member_id);
                    consumer_group(self, &gid)?
                        .member(&member_id)
                        .cloned()
                        .ok_or(Error::UnknownMemberId)?
                }
                Some(existing) => {
                    info!(group = %gid, member = %member_id, %instance, current = %existing.member_id,
                        "static member is fenced by the member that owns its instance id");
                    return Err(Error::static_member_fenced(
                        &member_id,
                        instance,
                        &existing.member_id,
                    ));
                }
            },
        };

        // 1. Update the member's subscription.
        let mut updated = member.clone();
        {
            let s = &mut updated.subscription;
            if let Some(i) = &req.instance_id {
                s.instance_id = Some(i.clone());
            }
            if let Some(r) = &req.rack_id {
                s.rack_id = Some(r.clone());
            }
            if req.rebalance_timeout_ms != -1 {
                s.rebalance_timeout_ms = req.rebalance_timeout_ms;
            }
            if let Some(a) = &req.server_assignor {
                s.server_assignor = Some(a.clone());
            }
            if let Some(names) = &req.subscribed_topic_names {
                s.subscribed_topic_names = names.iter().cloned().collect();
            }
            if let Some(r) = &req.subscribed_topic_regex {
                s.subscribed_topic_regex = Some(r.clone()).filter(|r| !r.is_empty());
            }
            s.client_id = req.client_id.clone();
            s.client_host = req.client_host.clone();
            s.classic = None;
        }
        let mut bump = consumer_group(self, &gid)?.group_epoch() == 0;
        let names_changed = updated.subscription.subscribed_topic_names
            != member.subscription.subscribed_topic_names;
        let regex_changed = updated.regex() != member.regex();
        if updated.subscription != member.subscription {
            self.emit(
                txn,
                ConsumerRecord::MemberMetadata {
                    group: gid.clone(),
                    member: member_id.clone(),
                    value: Some(updated.subscription.clone()),
                },
            );
            bump |= names_changed || regex_changed;
        }
        if regex_changed {
            bump |= self.update_regexes(txn, member.regex(), updated.regex(), image)?;
        }

        // Subscribed topics changed (or the topics did): new metadata hash, new group epoch.
        self.maybe_bump_group_epoch(txn, bump, image);

        // 2. A new target assignment when the group epoch moved past it.
        let group = consumer_group(self, &gid)?;
        if group.group_epoch() > group.assignment_epoch() {
            let assignor = group
                .preferred_server_assignor()
                .filter(|a| config.supports_assignor(a))
                .unwrap_or(config.default_assignor())
                .to_string();
            let epoch = group.group_epoch();
            let started = std::time::Instant::now();
            let records = target_assignment::build(group, epoch, &assignor, image);
            info!(group = %gid, epoch, assignor = %assignor, members = group.num_members(),
                micros = started.elapsed().as_micros() as u64, "computed a new target assignment");
            for r in records {
                self.emit(txn, r);
            }
        }

        // 3. Reconcile the member towards its target.
        let subscription_changed = names_changed || regex_changed;
        let current = self.reconcile(txn, &gid, &member_id, owned, subscription_changed, image)?;
        self.schedule_consumer_session_timeout(&gid, &member_id, config.session_timeout_ms);

        let full_request = req.member_epoch == 0
            || (req.rebalance_timeout_ms != -1
                && (req.subscribed_topic_names.is_some() || req.subscribed_topic_regex.is_some())
                && req.owned.is_some());
        let assignment = (full_request || has_assigned_partitions_changed(&member, &current))
            .then(|| current.current.assigned_partitions.clone());
        Ok(HeartbeatResponse {
            member_id,
            member_epoch: current.member_epoch(),
            heartbeat_interval_ms: config.heartbeat_interval_ms,
            assignment,
        })
    }

    /// Reconciles a member with its target (Kafka's `maybeReconcile`) and arms or clears its
    /// rebalance timeout. Returns the member as it now is.
    fn reconcile(
        &mut self,
        txn: &mut Txn,
        gid: &str,
        member_id: &str,
        owned: Option<&[(Uuid, Vec<i32>)]>,
        subscription_changed: bool,
        image: &TopicsImage,
    ) -> Result<ConsumerGroupMember, Error> {
        let group = consumer_group(self, gid)?;
        let member = group
            .member(member_id)
            .cloned()
            .ok_or(Error::UnknownMemberId)?;
        let target_epoch = group.assignment_epoch();
        if member.is_reconciled_to(target_epoch) && !subscription_changed {
            return Ok(member);
        }
        let target = group.target_assignment(member_id);
        let subscribed: BTreeSet<Uuid> = group
            .member_topics(&member)
            .iter()
            .filter_map(|t| image.topic(t).map(|t| t.id))
            .collect();
        let partition_epoch = |t: &Uuid, p: i32| group.current_partition_epoch(t, p);
        let next = CurrentAssignmentBuilder {
            member: &member,
            target_epoch,
            target: &target,
            partition_epoch: &partition_epoch,
            owned,
            subscribed: &subscribed,
            subscription_changed,
        }
        .build()?;
        if next.current == member.current {
            return Ok(member);
        }
        self.emit(
            txn,
            ConsumerRecord::CurrentMemberAssignment {
                group: gid.to_string(),
                member: member_id.to_string(),
                value: Some(next.current.clone()),
            },
        );
        if !next.uses_classic_protocol() {
            if next.state() == MemberState::UnrevokedPartitions {
                self.schedule_consumer_rebalance_timeout(
                    gid,
                    member_id,
                    next.member_epoch(),
                    next.subscription.rebalance_timeout_ms,
                );
            } else {
                self.core.cancel(&TimerKey::ConsumerRebalance {
                    group: gid.to_string(),
                    member: member_id.to_string(),
                });
            }
        }
        Ok(next)
    }

    /// Kafka's regex bookkeeping when a member changes its regex: the old one is dropped when
    /// nobody uses it any more; a new one is validated and resolved (Klamm resolves at once,
    /// against the broker's own topics). Returns whether the group epoch must be bumped.
    fn update_regexes(
        &mut self,
        txn: &mut Txn,
        old: Option<&str>,
        new: Option<&str>,
        image: &TopicsImage,
    ) -> Result<bool, Error> {
        let gid = txn_group(txn);
        let mut bump = false;
        if let Some(old) = old {
            let g = consumer_group(self, &gid)?;
            if g.num_regex_subscribers(old) == 0 && g.resolved_regex(old).is_some() {
                self.emit_regex(txn, old.to_string(), None);
            }
        }
        if let Some(new) = new {
            regex::compile(new)?;
            if consumer_group(self, &gid)?.resolved_regex(new).is_none() {
                let resolved = regex::resolve([new], image, self.core.now);
                for (r, v) in resolved {
                    info!(group = %gid, regex = %r, topics = v.topics.len(), "resolved a regex subscription");
                    self.emit_regex(txn, r, Some(v));
                }
            }
            bump = true;
        }
        Ok(bump)
    }

    /// Re-resolves the group's regexes when topics changed since they were resolved, and bumps
    /// the group epoch (with the new metadata hash) when `bump` or the subscribed topics'
    /// metadata changed (Kafka's metadata refresh and KIP-1101 hash).
    fn maybe_bump_group_epoch(&mut self, txn: &mut Txn, mut bump: bool, image: &TopicsImage) {
        let gid = txn_group(txn);
        let Ok(group) = consumer_group(self, &gid) else {
            return;
        };
        if !bump && group.checked_topics_version == Some(image.version) {
            return;
        }
        // Regexes resolved against older topics.
        let stale: Vec<String> = group
            .subscribed_regexes()
            .filter(|r| {
                group
                    .resolved_regex(r)
                    .is_none_or(|res| res.version != image.version as i64)
            })
            .map(str::to_string)
            .collect();
        if !stale.is_empty() {
            let now = self.core.now;
            for (r, v) in regex::resolve(stale.iter().map(String::as_str), image, now) {
                let changed = consumer_group(self, &gid)
                    .ok()
                    .and_then(|g| g.resolved_regex(&r))
                    .is_none_or(|old| old.topics != v.topics);
                if changed {
                    info!(group = %gid, regex = %r, topics = v.topics.len(), "regex subscription now matches other topics");
                    self.emit_regex(txn, r, Some(v));
                    bump = true;
                }
            }
        }
        let Ok(group) = consumer_group(self, &gid) else {
            return;
        };
        let topics = group.subscribed_topics();
        let hash = image.group_hash(topics.iter().map(String::as_str));
        bump |= hash != group.metadata_hash();
        let epoch = group.group_epoch();
        let legacy = group.has_legacy_partition_metadata;
        if bump {
            if legacy {
                self.emit(
                    txn,
                    ConsumerRecord::PartitionMetadata {
                        group: gid.clone(),
                        present: false,
                    },
                );
            }
            self.emit(
                txn,
                ConsumerRecord::GroupMetadata {
                    group: gid.clone(),
                    value: Some(GroupEpoch {
                        epoch: epoch + 1,
                        metadata_hash: hash,
                    }),
                },
            );
            info!(group = %gid, epoch = epoch + 1, "bumped the group epoch");
            crate::metrics::get().group_rebalance_started();
        }
        if let Some(Group::Consumer(g)) = self.groups.get_mut(&gid) {
            g.checked_topics_version = Some(image.version);
        }
    }

    /// Kafka's `replaceMember`: the static member's new id takes over the old one's
    /// subscription, target and current assignment (at epoch 0, so it reconciles at once).
    fn replace_member(&mut self, txn: &mut Txn, old: &ConsumerGroupMember, new_id: &str) {
        let gid = txn_group(txn);
        let target = consumer_group(self, &gid)
            .map(|g| g.target_assignment(&old.member_id))
            .unwrap_or_default();
        self.emit_member_tombstones(txn, &old.member_id);
        self.emit(
            txn,
            ConsumerRecord::MemberMetadata {
                group: gid.clone(),
                member: new_id.to_string(),
                value: Some(old.subscription.clone()),
            },
        );
        self.emit(
            txn,
            ConsumerRecord::TargetAssignmentMember {
                group: gid.clone(),
                member: new_id.to_string(),
                value: Some(target),
            },
        );
        let mut current = old.current.clone();
        current.member_epoch = 0;
        current.previous_member_epoch = 0;
        self.emit(
            txn,
            ConsumerRecord::CurrentMemberAssignment {
                group: gid.clone(),
                member: new_id.to_string(),
                value: Some(current),
            },
        );
        self.cancel_consumer_member_timers(&gid, &old.member_id);
    }

    /// Kafka's `removeMember`: current assignment, target and subscription tombstones, in that
    /// order.
    /// Emits the group's ConsumerGroupRegularExpression record for `regex` (`None`: its
    /// tombstone, when no member subscribes with it any more).
    fn emit_regex(&mut self, txn: &mut Txn, regex: String, value: Option<ResolvedRegex>) {
        let group = txn_group(txn);
        self.emit(
            txn,
            ConsumerRecord::RegularExpression {
                group,
                regex,
                value,
            },
        );
    }

    fn emit_member_tombstones(&mut self, txn: &mut Txn, member_id: &str) {
        let gid = txn_group(txn);
        for r in [
            ConsumerRecord::CurrentMemberAssignment {
                group: gid.clone(),
                member: member_id.to_string(),
                value: None,
            },
            ConsumerRecord::TargetAssignmentMember {
                group: gid.clone(),
                member: member_id.to_string(),
                value: None,
            },
            ConsumerRecord::MemberMetadata {
                group: gid.clone(),
                member: member_id.to_string(),
                value: None,
            },
        ] {
            self.emit(txn, r);
        }
    }

    /// A member leaves: -1 for good, -2 for a static member that will come back within its
    /// session (it keeps its partitions meanwhile).
    fn consumer_group_leave(
        &mut self,
        req: &HeartbeatRequest,
        image: &TopicsImage,
        txn: &mut Txn,
    ) -> Result<HeartbeatResponse, Error> {
        let gid = &req.group_id;
        let group = consumer_group(self, gid)?;
        let response = |epoch: i32| HeartbeatResponse {
            member_id: req.member_id.clone(),
            member_epoch: epoch,
            heartbeat_interval_ms: 0,
            assignment: None,
        };
        match &req.instance_id {
            None => {
                if !group.has_member(&req.member_id) {
                    return Err(Error::UnknownMember(format!(
                        "Member {} is not a member of group {gid}.",
                        req.member_id
                    )));
                }
                info!(group = %gid, member = %req.member_id, "member left the consumer group");
                self.fence_consumer_member(txn, &req.member_id, image);
                Ok(response(req.member_epoch))
            }
            Some(instance) => {
                let Some(member) = group.static_member(instance).cloned() else {
                    return Err(Error::UnknownMember(format!(
                        "Instance id {instance} is unknown."
                    )));
                };
                if member.member_id != req.member_id {
                    return Err(Error::static_member_fenced(
                        &req.member_id,
                        instance,
                        &member.member_id,
                    ));
                }
                if req.member_epoch == LEAVE_GROUP_STATIC_MEMBER_EPOCH {
                    info!(group = %gid, member = %req.member_id, %instance,
                        "static member temporarily left the consumer group");
                    let mut current = member.current.clone();
                    current.member_epoch = LEAVE_GROUP_STATIC_MEMBER_EPOCH;
                    current.partitions_pending_revocation = Assignment::new();
                    self.emit(
                        txn,
                        ConsumerRecord::CurrentMemberAssignment {
                            group: gid.clone(),
                            member: member.member_id.clone(),
                            value: Some(current),
                        },
                    );
                    Ok(response(LEAVE_GROUP_STATIC_MEMBER_EPOCH))
                } else {
                    info!(group = %gid, member = %req.member_id, %instance, "static member left the consumer group");
                    self.fence_consumer_member(txn, &member.member_id, image);
                    Ok(response(req.member_epoch))
                }
            }
        }
    }

    /// Kafka's `consumerGroupFenceMember`: the member's records are tombstoned (and its regex's
    /// when it was the last to use it), and the group epoch bumped so the others get its
    /// partitions.
    pub(crate) fn fence_consumer_member(
        &mut self,
        txn: &mut Txn,
        member_id: &str,
        image: &TopicsImage,
    ) {
        let gid = txn_group(txn);
        let Ok(group) = consumer_group(self, &gid) else {
            return;
        };
        let Some(member) = group.member(member_id).cloned() else {
            return;
        };
        self.emit_member_tombstones(txn, member_id);
        if let Some(r) = member.regex() {
            let g = consumer_group(self, &gid);
            if g.is_ok_and(|g| g.num_regex_subscribers(r) == 0 && g.resolved_regex(r).is_some()) {
                self.emit_regex(txn, r.to_string(), None);
            }
        }
        self.maybe_bump_group_epoch(txn, true, image);
        self.cancel_consumer_member_timers(&gid, member_id);
    }

    pub(crate) fn schedule_consumer_session_timeout(
        &mut self,
        gid: &str,
        member_id: &str,
        timeout_ms: i32,
    ) {
        self.core.schedule(
            TimerKey::Heartbeat {
                group: gid.to_string(),
                member: member_id.to_string(),
            },
            timeout_ms as i64,
            TimerTask::ConsumerSessionExpired {
                group: gid.to_string(),
                member: member_id.to_string(),
            },
        );
    }

    pub(crate) fn schedule_consumer_rebalance_timeout(
        &mut self,
        gid: &str,
        member_id: &str,
        epoch: i32,
        timeout_ms: i32,
    ) {
        self.core.schedule(
            TimerKey::ConsumerRebalance {
                group: gid.to_string(),
                member: member_id.to_string(),
            },
            timeout_ms.max(0) as i64,
            TimerTask::ConsumerRebalanceExpired {
                group: gid.to_string(),
                member: member_id.to_string(),
                epoch,
            },
        );
    }

    fn cancel_consumer_member_timers(&mut self, gid: &str, member_id: &str) {
        self.core.cancel(&TimerKey::Heartbeat {
            group: gid.to_string(),
            member: member_id.to_string(),
        });
        self.core.cancel(&TimerKey::ConsumerRebalance {
            group: gid.to_string(),
            member: member_id.to_string(),
        });
    }

    /// A member's session expired, or it did not revoke within its rebalance timeout (`epoch`
    /// set): it is fenced.
    pub fn expire_consumer_member(&mut self, gid: &str, member_id: &str, epoch: Option<i32>) {
        let image = self.core.topics.clone();
        let Ok(group) = consumer_group(self, gid) else {
            return;
        };
        let Some(member) = group.member(member_id) else {
            return;
        };
        if let Some(epoch) = epoch {
            if member.member_epoch() != epoch {
                return;
            }
            info!(group = %gid, member = %member_id, epoch, timeout_ms = member.subscription.rebalance_timeout_ms,
                "member fenced: it did not revoke its partitions within its rebalance timeout");
        } else {
            info!(group = %gid, member = %member_id, "member fenced: its session expired");
        }
        let mut txn = Txn::new(gid);
        self.fence_consumer_member(&mut txn, member_id, &image);
        self.commit(txn);
    }

    /// After start-up replay: every loaded member's session starts now, and members that were
    /// revoking get their rebalance timeout again (Kafka's `onLoaded`).
    pub fn on_loaded_consumer_groups(&mut self) {
        let mut timers = Vec::new();
        for (gid, g) in &self.groups {
            let session = self.core.consumer_config(gid).session_timeout_ms;
            let Group::Consumer(g) = g else { continue };
            if g.num_members() > 0 {
                info!(group = %gid, members = g.num_members(), epoch = g.group_epoch(), "loaded consumer group");
            }
            for m in g.members() {
                let timeout = m
                    .subscription
                    .classic
                    .as_ref()
                    .map_or(session, |c| c.session_timeout_ms);
                timers.push((gid.clone(), m.clone(), timeout));
            }
        }
        for (gid, m, timeout) in timers {
            self.schedule_consumer_session_timeout(&gid, &m.member_id, timeout);
            if m.state() == MemberState::UnrevokedPartitions && !m.uses_classic_protocol() {
                self.schedule_consumer_rebalance_timeout(
                    &gid,
                    &m.member_id,
                    m.member_epoch(),
                    m.subscription.rebalance_timeout_ms,
                );
            }
        }
    }
}

fn txn_group(txn: &Txn) -> String {
    txn.group_id().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(member: &str, topics: &[&str]) -> HeartbeatRequest {
        HeartbeatRequest {
            group_id: "g".into(),
            member_id: member.into(),
            member_epoch: 0,
            rebalance_timeout_ms: 1000,
            subscribed_topic_names: Some(topics.iter().map(|t| t.to_string()).collect()),
            owned: Some(Vec::new()),
            api_version: 1,
            ..HeartbeatRequest::default()
        }
    }

    #[test]
    fn request_validation_follows_kafka() {
        let c = ConsumerGroupConfig::default();
        assert!(validate(&join("m", &["t"]), &c).is_ok());
        let msg = |r: &HeartbeatRequest| validate(r, &c).unwrap_err().message();
        assert_eq!(msg(&join("", &["t"])), "MemberId can't be empty.");
        let mut v0 = join("", &["t"]);
        v0.api_version = 0;
        assert!(validate(&v0, &c).is_ok());
        let mut r = join("m", &["t"]);
        r.rebalance_timeout_ms = -1;
        assert_eq!(
            msg(&r),
            "RebalanceTimeoutMs must be provided in first request."
        );
        let mut r = join("m", &["t"]);
        r.owned = None;
        assert_eq!(msg(&r), "TopicPartitions must be empty when (re-)joining.");
        let mut r = join("m", &["t"]);
        r.subscribed_topic_names = None;
        assert!(msg(&r).starts_with("Either SubscribedTopicNames or SubscribedTopicRegex"));
        let mut r = join("m", &["t"]);
        r.member_epoch = -2;
        assert_eq!(msg(&r), "InstanceId can't be null.");
        r.member_epoch = -3;
        assert_eq!(msg(&r), "MemberEpoch is invalid.");
        let mut r = join("m", &["t"]);
        r.server_assignor = Some("sticky".into());
        let e = validate(&r, &c).unwrap_err();
        assert_eq!(e.code(), 112);
        assert_eq!(
            e.message(),
            "ServerAssignor sticky is not supported. Supported assignors: uniform, range."
        );
        let mut r = join("m", &["t"]);
        r.group_id = " ".into();
        assert_eq!(validate(&r, &c).unwrap_err().code(), 42);
    }
}
