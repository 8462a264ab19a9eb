//! The classic group protocol: JoinGroup (KIP-394's MEMBER_ID_REQUIRED from v4), SyncGroup,
//! Heartbeat and LeaveGroup (KIP-345 batches from v3) at every version both brokers serve, a
//! two-member rebalance, static members (KIP-345), inconsistent protocols and session timeouts
//! out of range. Every member has its own connection to each broker ([`Conn`]); a JoinGroup
//! that a rebalance holds is written first and read once the other member's join completes it,
//! so no answer depends on timing.

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::*;

use super::super::support::groups::{gid, join_request, subscription, sync_request};
use super::super::Ctx;
use super::groups_support::{latest, member_ids, version_up_to, wait_for_state, Conn, Each};
use super::Scenario;
use crate::support::requests::s;

pub const SCENARIOS: &[Scenario] = &[
    ("groups/classic_join_each_version", join_each_version),
    ("groups/classic_sync_errors", sync_errors),
    ("groups/classic_heartbeat_errors", heartbeat_errors),
    ("groups/classic_leave_each_version", leave_each_version),
    ("groups/classic_two_member_rebalance", two_member_rebalance),
    ("groups/classic_static_members", static_members),
    (
        "groups/classic_inconsistent_protocols",
        inconsistent_protocols,
    ),
    ("groups/classic_invalid_joins", invalid_joins),
];

const TOPICS: &[&str] = &["dg-classic-topic"];

/// A JoinGroup at `v` with a static member's `group.instance.id` (v5+).
fn static_join(group: &str, member: &str, instance: &str, v: i16) -> JoinGroupRequest {
    join_request(group, member, v, TOPICS).with_group_instance_id(Some(s(instance)))
}

fn heartbeat(group: &str, member: &str, generation: i32) -> HeartbeatRequest {
    HeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_member_id(s(member))
        .with_generation_id(generation)
}

/// A LeaveGroup at `v`: the member itself before v3, the members batch from v3 (KIP-345).
fn leave(group: &str, v: i16, members: &[(&str, Option<&str>)]) -> LeaveGroupRequest {
    let r = LeaveGroupRequest::default().with_group_id(gid(group));
    if v < 3 {
        return r.with_member_id(s(members[0].0));
    }
    r.with_members(
        members
            .iter()
            .map(|(m, i)| {
                MemberIdentity::default()
                    .with_member_id(s(m))
                    .with_group_instance_id(i.map(s))
            })
            .collect(),
    )
}

fn describe(ctx: &mut Ctx, step: &str, group: &str) {
    let v = latest(ctx, ApiKey::DescribeGroups);
    ctx.send(
        step,
        &DescribeGroupsRequest::default()
            .with_groups(vec![gid(group)])
            .with_include_authorized_operations(true),
        v,
    );
}

/// Joins a new dynamic member at `v` (twice from v4: the first join only gets the member id,
/// KIP-394), comparing each answer; returns the join's answers.
fn join_new(ctx: &mut Ctx, m: &mut Conn, group: &str, v: i16) -> Each<JoinGroupResponse> {
    let first = m.send(ctx, "join-new", v, |_| join_request(group, "", v, TOPICS));
    if v < 4 {
        return first;
    }
    let ids = member_ids(&first);
    m.send(ctx, "join-with-id", v, |i| {
        join_request(group, &ids[i], v, TOPICS)
    })
}

/// A one-member group in Stable at the latest versions: (member ids, generations).
fn stable_group(ctx: &mut Ctx, m: &mut Conn, group: &str) -> (Each<String>, Each<i32>) {
    let jv = latest(ctx, ApiKey::JoinGroup);
    let joined = join_new(ctx, m, group, jv);
    let ids = member_ids(&joined);
    let gens = [joined[0].generation_id, joined[1].generation_id];
    let sv = latest(ctx, ApiKey::SyncGroup);
    m.send(ctx, "sync-leader", sv, |i| {
        sync_request(group, gens[i], &ids[i], sv, &[(&ids[i], b"the-assignment")])
    });
    (ids, gens)
}

/// A member's whole life at each JoinGroup version: join, sync, heartbeat, leave, and the
/// group left Empty.
fn join_each_version(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::JoinGroup) {
        let g = format!("dg-join-v{v}");
        let mut m = Conn::open(ctx);
        let joined = join_new(ctx, &mut m, &g, v);
        let ids = member_ids(&joined);
        let gens = [joined[0].generation_id, joined[1].generation_id];
        let sv = version_up_to(ctx, ApiKey::SyncGroup, v);
        m.send(ctx, "sync", sv, |i| {
            sync_request(&g, gens[i], &ids[i], sv, &[(&ids[i], b"assignment")])
        });
        let hv = version_up_to(ctx, ApiKey::Heartbeat, v);
        m.send(ctx, "heartbeat", hv, |i| heartbeat(&g, &ids[i], gens[i]));
        describe(ctx, &format!("describe-stable-v{v}"), &g);
        let lv = version_up_to(ctx, ApiKey::LeaveGroup, v);
        m.send(ctx, "leave", lv, |i| leave(&g, lv, &[(&ids[i], None)]));
        describe(ctx, &format!("describe-empty-v{v}"), &g);
    }
}

/// SyncGroup at every version: the leader again (its assignment), a wrong generation
/// (ILLEGAL_GENERATION), an unknown member and group (UNKNOWN_MEMBER_ID), and from v5 a
/// protocol type or name other than the group's (INCONSISTENT_GROUP_PROTOCOL).
fn sync_errors(ctx: &mut Ctx) {
    let g = "dg-sync-errors";
    let mut m = Conn::open(ctx);
    let (ids, gens) = stable_group(ctx, &mut m, g);
    for v in ctx.versions(ApiKey::SyncGroup) {
        m.send(ctx, "leader-again", v, |i| {
            sync_request(g, gens[i], &ids[i], v, &[(&ids[i], b"the-assignment")])
        });
        m.send(ctx, "wrong-generation", v, |i| {
            sync_request(g, gens[i] + 1, &ids[i], v, &[])
        });
        m.send(ctx, "unknown-member", v, |i| {
            sync_request(g, gens[i], "dg-nobody", v, &[])
        });
        m.send(ctx, "unknown-group", v, |_| {
            sync_request("dg-sync-no-such-group", 1, "dg-nobody", v, &[])
        });
        if v >= 5 {
            m.send(ctx, "protocol-type-mismatch", v, |i| {
                sync_request(g, gens[i], &ids[i], v, &[]).with_protocol_type(Some(s("connect")))
            });
            m.send(ctx, "protocol-name-mismatch", v, |i| {
                sync_request(g, gens[i], &ids[i], v, &[]).with_protocol_name(Some(s("roundrobin")))
            });
        }
    }
}

/// Heartbeat at every version: the member (NONE), a wrong generation (ILLEGAL_GENERATION), an
/// unknown member, an unknown group.
fn heartbeat_errors(ctx: &mut Ctx) {
    let g = "dg-heartbeat-errors";
    let mut m = Conn::open(ctx);
    let (ids, gens) = stable_group(ctx, &mut m, g);
    for v in ctx.versions(ApiKey::Heartbeat) {
        m.send(ctx, "member", v, |i| heartbeat(g, &ids[i], gens[i]));
        m.send(ctx, "wrong-generation", v, |i| {
            heartbeat(g, &ids[i], gens[i] + 1)
        });
        m.send(ctx, "unknown-member", v, |i| {
            heartbeat(g, "dg-nobody", gens[i])
        });
        m.send(ctx, "unknown-group", v, |_| {
            heartbeat("dg-heartbeat-no-such-group", "dg-nobody", 1)
        });
    }
}

/// LeaveGroup at every version: an unknown member first (UNKNOWN_MEMBER_ID, per member from
/// v3), then the member with an unknown one beside it (v3+), leaving the group Empty.
fn leave_each_version(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::LeaveGroup) {
        let g = format!("dg-leave-v{v}");
        let mut m = Conn::open(ctx);
        let (ids, _) = stable_group(ctx, &mut m, &g);
        m.send(ctx, "unknown-member", v, |_| {
            leave(&g, v, &[("dg-nobody", None)])
        });
        m.send(ctx, "unknown-group", v, |_| {
            leave("dg-leave-no-such-group", v, &[("dg-nobody", None)])
        });
        if v >= 3 {
            m.send(ctx, "member-and-unknown", v, |i| {
                leave(&g, v, &[(&ids[i], None), ("dg-nobody", None)])
            });
        } else {
            m.send(ctx, "member", v, |i| leave(&g, v, &[(&ids[i], None)]));
        }
        describe(ctx, &format!("describe-after-leave-v{v}"), &g);
    }
}

/// Two members: B's join puts the Stable group into PreparingRebalance and waits; A's heartbeat
/// and commit get REBALANCE_IN_PROGRESS; A's rejoin completes both joins; the follower's sync
/// waits for the leader's; B leaves (with an unknown member beside it) and A rejoins alone.
fn two_member_rebalance(ctx: &mut Ctx) {
    let g = "dg-rebalance";
    let (jv, sv) = (
        latest(ctx, ApiKey::JoinGroup),
        latest(ctx, ApiKey::SyncGroup),
    );
    super::create_topic(ctx, "dg-rebalance-topic", 1, &[]);
    let mut a = Conn::open(ctx);
    let mut b = Conn::open(ctx);
    let (a_ids, a_gens) = stable_group(ctx, &mut a, g);
    let first = b.send(ctx, "b-join-new", jv, |_| join_request(g, "", jv, TOPICS));
    let b_ids = member_ids(&first);
    let b_join = b.write(ctx, jv, |i| join_request(g, &b_ids[i], jv, TOPICS));
    wait_for_state(ctx, g, "PreparingRebalance");
    describe(ctx, "describe-preparing", g);
    for v in ctx.versions(ApiKey::Heartbeat) {
        a.send(ctx, "a-heartbeat-rebalancing", v, |i| {
            heartbeat(g, &a_ids[i], a_gens[i])
        });
    }
    let cv = latest(ctx, ApiKey::OffsetCommit);
    a.send(ctx, "a-commit-rebalancing", cv, |i| {
        super::super::support::groups::commit_request(
            g,
            &a_ids[i],
            a_gens[i],
            cv,
            "dg-rebalance-topic",
            &[(0, 1)],
        )
    });
    let a_rejoin = a.write(ctx, jv, |i| join_request(g, &a_ids[i], jv, TOPICS));
    let a_joined = a.read::<JoinGroupRequest>(ctx, "a-rejoin", jv, a_rejoin);
    let b_joined = b.read::<JoinGroupRequest>(ctx, "b-join", jv, b_join);
    let gens = [a_joined[0].generation_id, a_joined[1].generation_id];
    let _ = b_joined;
    let b_sync = b.write(ctx, sv, |i| sync_request(g, gens[i], &b_ids[i], sv, &[]));
    a.send(ctx, "a-sync-leader", sv, |i| {
        sync_request(
            g,
            gens[i],
            &a_ids[i],
            sv,
            &[(&a_ids[i], b"for-a"), (&b_ids[i], b"for-b")],
        )
    });
    b.read::<SyncGroupRequest>(ctx, "b-sync-follower", sv, b_sync);
    let hv = latest(ctx, ApiKey::Heartbeat);
    a.send(ctx, "a-heartbeat", hv, |i| heartbeat(g, &a_ids[i], gens[i]));
    b.send(ctx, "b-heartbeat", hv, |i| heartbeat(g, &b_ids[i], gens[i]));
    describe(ctx, "describe-two-members", g);
    let lv = latest(ctx, ApiKey::LeaveGroup);
    b.send(ctx, "b-leave", lv, |i| {
        leave(g, lv, &[(&b_ids[i], None), ("dg-nobody", None)])
    });
    a.send(ctx, "a-heartbeat-after-leave", hv, |i| {
        heartbeat(g, &a_ids[i], gens[i])
    });
    a.send(ctx, "a-rejoin-alone", jv, |i| {
        join_request(g, &a_ids[i], jv, TOPICS)
    });
    describe(ctx, "describe-after-b-left", g);
}

/// Static members (KIP-345) at each JoinGroup version from v5: a join with a
/// `group.instance.id` gets its member id at once; a rejoin with the same instance id and no
/// member id replaces the member; the old member id is then FENCED_INSTANCE_ID in heartbeats,
/// syncs, commits and leaves; a leave by instance id alone removes the member.
fn static_members(ctx: &mut Ctx) {
    for v in ctx
        .versions(ApiKey::JoinGroup)
        .into_iter()
        .filter(|&v| v >= 5)
    {
        let g = format!("dg-static-v{v}");
        let inst = format!("dg-instance-v{v}");
        let mut old = Conn::open(ctx);
        let joined = old.send(ctx, "join-static", v, |_| static_join(&g, "", &inst, v));
        let ids = member_ids(&joined);
        let gens = [joined[0].generation_id, joined[1].generation_id];
        let sv = version_up_to(ctx, ApiKey::SyncGroup, v);
        old.send(ctx, "sync", sv, |i| {
            sync_request(&g, gens[i], &ids[i], sv, &[(&ids[i], b"static-assignment")])
                .with_group_instance_id(Some(s(&inst)))
        });
        let mut new = Conn::open(ctx);
        let rejoined = new.send(ctx, "rejoin-same-instance", v, |_| {
            static_join(&g, "", &inst, v)
        });
        let new_ids = member_ids(&rejoined);
        let hv = version_up_to(ctx, ApiKey::Heartbeat, 4);
        old.send(ctx, "old-heartbeat", hv, |i| {
            heartbeat(&g, &ids[i], gens[i]).with_group_instance_id(Some(s(&inst)))
        });
        old.send(ctx, "old-sync", sv, |i| {
            sync_request(&g, gens[i], &ids[i], sv, &[]).with_group_instance_id(Some(s(&inst)))
        });
        let cv = latest(ctx, ApiKey::OffsetCommit);
        let topic = format!("dg-static-topic-v{v}");
        super::create_topic(ctx, &topic, 1, &[]);
        old.send(ctx, "old-commit", cv, |i| {
            super::super::support::groups::commit_request(
                &g,
                &ids[i],
                gens[i],
                cv,
                &topic,
                &[(0, 5)],
            )
            .with_group_instance_id(Some(s(&inst)))
        });
        let new_gens = [rejoined[0].generation_id, rejoined[1].generation_id];
        new.send(ctx, "new-heartbeat", hv, |i| {
            heartbeat(&g, &new_ids[i], new_gens[i]).with_group_instance_id(Some(s(&inst)))
        });
        describe(ctx, &format!("describe-replaced-v{v}"), &g);
        let lv = latest(ctx, ApiKey::LeaveGroup);
        old.send(ctx, "old-leave", lv, |i| {
            leave(&g, lv, &[(&ids[i], Some(&inst))])
        });
        new.send(ctx, "leave-by-instance", lv, |_| {
            leave(&g, lv, &[("", Some(&inst))])
        });
        describe(ctx, &format!("describe-after-static-leave-v{v}"), &g);
    }
}

/// A Stable group of protocol type `consumer` with protocol `range`; joins of another member
/// at each version with another protocol type, no common protocol, or no protocols at all
/// (INCONSISTENT_GROUP_PROTOCOL).
fn inconsistent_protocols(ctx: &mut Ctx) {
    let g = "dg-inconsistent";
    let mut a = Conn::open(ctx);
    stable_group(ctx, &mut a, g);
    let mut b = Conn::open(ctx);
    let protocol = |name: &str| {
        JoinGroupRequestProtocol::default()
            .with_name(s(name))
            .with_metadata(subscription(TOPICS))
    };
    for v in ctx.versions(ApiKey::JoinGroup) {
        b.send(ctx, "other-protocol-type", v, |_| {
            join_request(g, "", v, TOPICS).with_protocol_type(s("connect"))
        });
        b.send(ctx, "no-common-protocol", v, |_| {
            join_request(g, "", v, TOPICS).with_protocols(vec![protocol("roundrobin")])
        });
        b.send(ctx, "no-protocols", v, |_| {
            join_request(g, "", v, TOPICS).with_protocols(vec![])
        });
        b.send(ctx, "empty-protocol-type", v, |_| {
            join_request("dg-inconsistent-empty-type", "", v, TOPICS).with_protocol_type(s(""))
        });
    }
    describe(ctx, "describe", g);
}

/// Joins the coordinator refuses at each version: a session timeout below
/// `group.min.session.timeout.ms` or above `group.max.session.timeout.ms`
/// (INVALID_SESSION_TIMEOUT), an empty group id (INVALID_GROUP_ID), an unknown member id
/// (UNKNOWN_MEMBER_ID), and protocol metadata that is not a consumer subscription.
fn invalid_joins(ctx: &mut Ctx) {
    let mut m = Conn::open(ctx);
    for v in ctx.versions(ApiKey::JoinGroup) {
        let g = format!("dg-invalid-join-v{v}");
        m.send(ctx, "session-timeout-below-min", v, |_| {
            join_request(&g, "", v, TOPICS).with_session_timeout_ms(5_999)
        });
        m.send(ctx, "session-timeout-above-max", v, |_| {
            join_request(&g, "", v, TOPICS).with_session_timeout_ms(1_800_001)
        });
        m.send(ctx, "empty-group-id", v, |_| {
            join_request("", "", v, TOPICS)
        });
        m.send(ctx, "unknown-member-id", v, |_| {
            join_request(&g, "dg-nobody", v, TOPICS)
        });
        m.send(ctx, "garbage-metadata", v, |_| {
            join_request(&format!("dg-garbage-join-v{v}"), "", v, TOPICS).with_protocols(vec![
                JoinGroupRequestProtocol::default()
                    .with_name(s("range"))
                    .with_metadata(Bytes::from_static(b"\xff\xff\xff")),
            ])
        });
        describe(ctx, &format!("describe-v{v}"), &g);
    }
}
