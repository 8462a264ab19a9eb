//! Committed offsets and group administration: OffsetCommit (simple commits with generation -1,
//! commits of a member, wrong generations, unknown partitions, metadata over
//! `offset.metadata.max.bytes`), OffsetFetch (every version, KIP-709 batches from v8,
//! `require_stable` from v7), OffsetDelete (KIP-496), DeleteGroups, ListGroups (KIP-518 state
//! filter from v4, KIP-848 type filter from v5) and DescribeGroups.

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::*;

use super::super::support::groups::{gid, join_request, sync_request};
use super::super::Ctx;
use super::groups_support::{latest, member_ids, Conn};
use super::Scenario;
use crate::support::requests::{name, s};

pub const SCENARIOS: &[Scenario] = &[
    ("groups/offset_commit_simple", offset_commit_simple),
    ("groups/offset_commit_member", offset_commit_member),
    (
        "groups/offset_fetch_each_version",
        offset_fetch_each_version,
    ),
    ("groups/offset_delete", offset_delete),
    ("groups/delete_groups", delete_groups),
    ("groups/list_groups_filters", list_groups_filters),
    (
        "groups/describe_groups_each_version",
        describe_groups_each_version,
    ),
];

/// `(topic, [(partition, offset, metadata)])` of one commit.
type Commit<'a> = (&'a str, Vec<(i32, i64, Option<String>)>);

fn commit(
    group: &str,
    generation: i32,
    member: &str,
    v: i16,
    topics: &[Commit],
) -> OffsetCommitRequest {
    OffsetCommitRequest::default()
        .with_group_id(gid(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(
            topics
                .iter()
                .map(|(t, ps)| {
                    OffsetCommitRequestTopic::default()
                        .with_name(name(t))
                        .with_partitions(
                            ps.iter()
                                .map(|(p, o, m)| {
                                    let part = OffsetCommitRequestPartition::default()
                                        .with_partition_index(*p)
                                        .with_committed_offset(*o)
                                        .with_committed_metadata(m.as_deref().map(s));
                                    if v >= 6 {
                                        part.with_committed_leader_epoch(0)
                                    } else {
                                        part
                                    }
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

/// OffsetFetch at `v` of `group`'s `topics` (`None`: all it committed, v2+).
fn fetch(v: i16, group: &str, topics: Option<&[(&str, &[i32])]>) -> OffsetFetchRequest {
    if v >= 8 {
        return OffsetFetchRequest::default().with_groups(vec![fetch_group(group, topics)]);
    }
    OffsetFetchRequest::default()
        .with_group_id(gid(group))
        .with_topics(topics.map(|ts| {
            ts.iter()
                .map(|(t, ps)| {
                    OffsetFetchRequestTopic::default()
                        .with_name(name(t))
                        .with_partition_indexes(ps.to_vec())
                })
                .collect()
        }))
}

fn fetch_group(group: &str, topics: Option<&[(&str, &[i32])]>) -> OffsetFetchRequestGroup {
    OffsetFetchRequestGroup::default()
        .with_group_id(gid(group))
        .with_topics(topics.map(|ts| {
            ts.iter()
                .map(|(t, ps)| {
                    OffsetFetchRequestTopics::default()
                        .with_name(name(t))
                        .with_partition_indexes(ps.to_vec())
                })
                .collect()
        }))
}

/// A Stable one-member group subscribed to `topics`: (member ids, generations).
fn stable_group(
    ctx: &mut Ctx,
    m: &mut Conn,
    group: &str,
    topics: &[&str],
) -> ([String; 2], [i32; 2]) {
    let jv = latest(ctx, ApiKey::JoinGroup);
    let first = m.send(ctx, "join-new", jv, |_| join_request(group, "", jv, topics));
    let ids = member_ids(&first);
    let joined = m.send(ctx, "join-with-id", jv, |i| {
        join_request(group, &ids[i], jv, topics)
    });
    let gens = [joined[0].generation_id, joined[1].generation_id];
    let sv = latest(ctx, ApiKey::SyncGroup);
    m.send(ctx, "sync", sv, |i| {
        sync_request(group, gens[i], &ids[i], sv, &[(&ids[i], b"assignment")])
    });
    (ids, gens)
}

/// Simple commits (generation -1, no member: the admin client's and `assign()` consumers'
/// way) at every version, with an unknown topic, an unknown partition and metadata one byte
/// over `offset.metadata.max.bytes` (4096) beside good partitions; then what was committed.
fn offset_commit_simple(ctx: &mut Ctx) {
    let t = "dg-oc-simple-topic";
    super::create_topic(ctx, t, 2, &[]);
    let big = "m".repeat(4097);
    for v in ctx.versions(ApiKey::OffsetCommit) {
        let g = format!("dg-oc-simple-v{v}");
        ctx.send(
            "commit",
            &commit(
                &g,
                -1,
                "",
                v,
                &[
                    (
                        t,
                        vec![
                            (0, 10 + i64::from(v), Some(format!("meta-v{v}"))),
                            (1, 20, None),
                            (7, 1, None),
                        ],
                    ),
                    ("dg-oc-no-such-topic", vec![(0, 1, None)]),
                ],
            ),
            v,
        );
        ctx.send(
            "metadata-too-large",
            &commit(
                &g,
                -1,
                "",
                v,
                &[(
                    t,
                    vec![(0, 99, Some(big.clone())), (1, 21, Some("x".into()))],
                )],
            ),
            v,
        );
        ctx.send(
            "empty-group-id",
            &commit("", -1, "", v, &[(t, vec![(0, 1, None)])]),
            v,
        );
        let fv = latest(ctx, ApiKey::OffsetFetch);
        ctx.send(
            &format!("fetch-after-v{v}"),
            &fetch(fv, &g, Some(&[(t, &[0, 1, 7])])),
            fv,
        );
    }
}

/// Commits of a member of a Stable group at every version: its generation (NONE), a wrong
/// generation (ILLEGAL_GENERATION), an unknown member (UNKNOWN_MEMBER_ID), and a simple commit
/// (generation -1) to the non-empty group.
fn offset_commit_member(ctx: &mut Ctx) {
    let t = "dg-oc-member-topic";
    super::create_topic(ctx, t, 1, &[]);
    let g = "dg-oc-member";
    let mut m = Conn::open(ctx);
    let (ids, gens) = stable_group(ctx, &mut m, g, &[t]);
    for v in ctx.versions(ApiKey::OffsetCommit) {
        let one = |o: i64| vec![(t, vec![(0, o, None)])];
        m.send(ctx, "member", v, |i| {
            commit(g, gens[i], &ids[i], v, &one(100 + i64::from(v)))
        });
        m.send(ctx, "wrong-generation", v, |i| {
            commit(g, gens[i] + 1, &ids[i], v, &one(1))
        });
        m.send(ctx, "unknown-member", v, |i| {
            commit(g, gens[i], "dg-nobody", v, &one(1))
        });
        m.send(ctx, "simple-to-non-empty", v, |_| {
            commit(g, -1, "", v, &one(1))
        });
        m.send(ctx, "unknown-group-with-generation", v, |_| {
            commit("dg-oc-member-no-such-group", 3, "dg-nobody", v, &one(1))
        });
    }
    let fv = latest(ctx, ApiKey::OffsetFetch);
    ctx.send("fetch", &fetch(fv, g, Some(&[(t, &[0])])), fv);
}

/// OffsetFetch at every version: named partitions (committed, never committed, of an unknown
/// topic), all of a group's offsets (v2+), an unknown group, several groups at once (v8+) and
/// `require_stable` (v7+).
fn offset_fetch_each_version(ctx: &mut Ctx) {
    let t = "dg-of-topic";
    super::create_topic(ctx, t, 3, &[]);
    let g = "dg-of-group";
    let cv = latest(ctx, ApiKey::OffsetCommit);
    ctx.send(
        "commit",
        &commit(
            g,
            -1,
            "",
            cv,
            &[(t, vec![(0, 5, Some("five".into())), (2, 7, None)])],
        ),
        cv,
    );
    let named: &[(&str, &[i32])] = &[(t, &[0, 1, 2, 9]), ("dg-of-no-such-topic", &[0])];
    for v in ctx.versions(ApiKey::OffsetFetch) {
        ctx.send("named", &fetch(v, g, Some(named)), v);
        ctx.send(
            "unknown-group",
            &fetch(v, "dg-of-no-such-group", Some(named)),
            v,
        );
        if v >= 2 {
            ctx.send("all", &fetch(v, g, None), v);
            ctx.send(
                "all-unknown-group",
                &fetch(v, "dg-of-no-such-group", None),
                v,
            );
        }
        if v >= 7 {
            ctx.send(
                "require-stable",
                &fetch(v, g, Some(named)).with_require_stable(true),
                v,
            );
        }
        if v >= 8 {
            ctx.send(
                "batched",
                &OffsetFetchRequest::default().with_groups(vec![
                    fetch_group(g, Some(named)),
                    fetch_group("dg-of-no-such-group", None),
                    fetch_group("dg-of-other-unknown", Some(&[(t, &[0])])),
                ]),
                v,
            );
        }
    }
}

fn offset_delete_request(group: &str, topics: &[(&str, &[i32])]) -> OffsetDeleteRequest {
    OffsetDeleteRequest::default()
        .with_group_id(gid(group))
        .with_topics(
            topics
                .iter()
                .map(|(t, ps)| {
                    OffsetDeleteRequestTopic::default()
                        .with_name(name(t))
                        .with_partitions(
                            ps.iter()
                                .map(|p| {
                                    OffsetDeleteRequestPartition::default().with_partition_index(*p)
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

/// OffsetDelete (KIP-496): a group whose member subscribes to a topic keeps that topic's
/// offsets (GROUP_SUBSCRIBED_TO_TOPIC) and loses the others'; once Empty it loses them all;
/// unknown groups are GROUP_ID_NOT_FOUND.
fn offset_delete(ctx: &mut Ctx) {
    let (sub, other) = ("dg-od-subscribed", "dg-od-other");
    super::create_topic(ctx, sub, 2, &[]);
    super::create_topic(ctx, other, 1, &[]);
    let g = "dg-od-group";
    let mut m = Conn::open(ctx);
    let (ids, gens) = stable_group(ctx, &mut m, g, &[sub]);
    let cv = latest(ctx, ApiKey::OffsetCommit);
    m.send(ctx, "commit", cv, |i| {
        commit(
            g,
            gens[i],
            &ids[i],
            cv,
            &[
                (sub, vec![(0, 1, None), (1, 2, None)]),
                (other, vec![(0, 3, None)]),
            ],
        )
    });
    for v in ctx.versions(ApiKey::OffsetDelete) {
        ctx.send(
            "with-member",
            &offset_delete_request(
                g,
                &[(sub, &[0]), (other, &[0]), ("dg-od-no-such-topic", &[0])],
            ),
            v,
        );
        ctx.send(
            "unknown-group",
            &offset_delete_request("dg-od-no-such-group", &[(sub, &[0])]),
            v,
        );
        ctx.send(
            "empty-group-id",
            &offset_delete_request("", &[(sub, &[0])]),
            v,
        );
    }
    let lv = latest(ctx, ApiKey::LeaveGroup);
    m.send(ctx, "leave", lv, |i| {
        LeaveGroupRequest::default()
            .with_group_id(gid(g))
            .with_members(vec![
                leave_group_request::MemberIdentity::default().with_member_id(s(&ids[i]))
            ])
    });
    for v in ctx.versions(ApiKey::OffsetDelete) {
        ctx.send(
            "empty-group",
            &offset_delete_request(g, &[(sub, &[0, 1]), (other, &[0])]),
            v,
        );
    }
    let fv = latest(ctx, ApiKey::OffsetFetch);
    ctx.send("fetch-after", &fetch(fv, g, None), fv);
}

/// DeleteGroups at every version: a group with a member (NON_EMPTY_GROUP), an unknown group
/// (GROUP_ID_NOT_FOUND), an Empty group with offsets and an empty group id.
fn delete_groups(ctx: &mut Ctx) {
    let t = "dg-del-topic";
    super::create_topic(ctx, t, 1, &[]);
    let busy = "dg-del-busy";
    let mut m = Conn::open(ctx);
    stable_group(ctx, &mut m, busy, &[t]);
    let cv = latest(ctx, ApiKey::OffsetCommit);
    for v in ctx.versions(ApiKey::DeleteGroups) {
        let empty = format!("dg-del-empty-v{v}");
        ctx.send(
            "commit",
            &commit(&empty, -1, "", cv, &[(t, vec![(0, 1, None)])]),
            cv,
        );
        ctx.send(
            "delete",
            &DeleteGroupsRequest::default().with_groups_names(vec![
                gid(busy),
                gid("dg-del-no-such-group"),
                gid(&empty),
                gid(""),
            ]),
            v,
        );
        ctx.send(
            "delete-again",
            &DeleteGroupsRequest::default().with_groups_names(vec![gid(&empty)]),
            v,
        );
    }
    describe_latest(ctx, "describe-busy", busy);
}

fn describe_latest(ctx: &mut Ctx, step: &str, group: &str) {
    let v = latest(ctx, ApiKey::DescribeGroups);
    ctx.send(
        step,
        &DescribeGroupsRequest::default()
            .with_groups(vec![gid(group)])
            .with_include_authorized_operations(true),
        v,
    );
}

/// The groups of this scenario (both brokers also hold every other scenario's groups).
const LG: &str = "dg-lg-";

/// ListGroups at every version, without filters, by state (v4+) and by type (v5+); only this
/// scenario's groups are compared, since which groups other scenarios left behind is theirs.
fn list_groups_filters(ctx: &mut Ctx) {
    let t = "dg-lg-topic";
    super::create_topic(ctx, t, 1, &[]);
    let mut m = Conn::open(ctx);
    stable_group(ctx, &mut m, "dg-lg-stable", &[t]);
    let cv = latest(ctx, ApiKey::OffsetCommit);
    ctx.send(
        "commit",
        &commit("dg-lg-empty", -1, "", cv, &[(t, vec![(0, 1, None)])]),
        cv,
    );
    let filters: &[(&str, &[&str], &[&str], i16)] = &[
        ("all", &[], &[], 0),
        ("stable", &["Stable"], &[], 4),
        ("empty", &["Empty"], &[], 4),
        ("stable-or-empty", &["stable", "EMPTY"], &[], 4),
        ("no-such-state", &["Sleeping"], &[], 4),
        ("classic", &[], &["classic"], 5),
        ("consumer", &[], &["consumer"], 5),
        ("classic-upper", &[], &["Classic"], 5),
        ("no-such-type", &[], &["nope"], 5),
    ];
    for v in ctx.versions(ApiKey::ListGroups) {
        for (step, states, types, from) in filters {
            if v < *from {
                continue;
            }
            let req = ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|x| s(x)).collect())
                .with_types_filter(types.iter().map(|x| s(x)).collect());
            let mut out = ctx.send_each(&req, v);
            for r in out.iter_mut() {
                r.groups.retain(|g| g.group_id.starts_with(LG));
            }
            ctx.compare(&format!("{step}@v{v}"), &out[0], &out[1]);
        }
    }
}

/// DescribeGroups at every version: a Stable group, an Empty group with offsets, an unknown
/// group (state Dead, no error) and an empty group id, with authorized operations from v3.
fn describe_groups_each_version(ctx: &mut Ctx) {
    let t = "dg-dg-topic";
    super::create_topic(ctx, t, 1, &[]);
    let mut m = Conn::open(ctx);
    stable_group(ctx, &mut m, "dg-dg-stable", &[t]);
    let cv = latest(ctx, ApiKey::OffsetCommit);
    ctx.send(
        "commit",
        &commit("dg-dg-empty", -1, "", cv, &[(t, vec![(0, 1, None)])]),
        cv,
    );
    let groups = ["dg-dg-stable", "dg-dg-empty", "dg-dg-no-such-group", ""];
    ctx.each_version("describe", |v| {
        DescribeGroupsRequest::default()
            .with_groups(groups.iter().map(|g| gid(g)).collect())
            .with_include_authorized_operations(v >= 3)
    });
}
