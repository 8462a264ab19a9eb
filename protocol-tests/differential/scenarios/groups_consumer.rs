//! KIP-848 consumer groups: ConsumerGroupHeartbeat (joins at epoch 0, subscription changes,
//! assignments and their reconciliation between two members, fenced and unknown members,
//! leaves with epoch -1 and static leaves with -2, regex subscriptions, server assignors),
//! ConsumerGroupDescribe, and the classic APIs meeting a consumer group (KIP-848's
//! upgrade/downgrade rules, ListGroups and DescribeGroups). Member ids are client-chosen fixed
//! strings (KIP-1082), so they compare; topic ids are renamed in topic-name order, and each
//! assignment is compared in topic-name order.

use std::collections::HashMap;

use kafka_protocol::messages::consumer_group_heartbeat_request::TopicPartitions;
use kafka_protocol::messages::*;
use uuid::Uuid;

use super::super::support::groups::{gid, join_request as classic_join, sync_request};
use super::super::{Ctx, KAFKA, KLAMM};
use super::groups_support::{latest, member_ids, Conn, Each};
use super::Scenario;
use crate::support::requests::{name, s};

pub const SCENARIOS: &[Scenario] = &[
    (
        "groups/consumer_heartbeat_each_version",
        heartbeat_each_version,
    ),
    ("groups/consumer_static_members", static_members),
    ("groups/consumer_invalid_heartbeats", invalid_heartbeats),
    ("groups/consumer_server_assignors", server_assignors),
    ("groups/consumer_regex_subscription", regex_subscription),
    ("groups/consumer_describe", describe),
    ("groups/consumer_classic_interop", classic_interop),
    ("groups/consumer_online_migration", online_migration),
    ("groups/consumer_online_upgrade", online_upgrade),
];

/// Creates `topic` and waits until each broker's group coordinator assigns its partitions
/// (Kafka's coordinator learns of new topics from its metadata image a moment after the
/// broker's Metadata names a leader; a join before that gets an empty assignment).
fn create_assignable(ctx: &mut Ctx, topic: &str, partitions: i32) {
    super::create_topic(ctx, topic, partitions, &[]);
    let t = topic.to_string();
    ctx.wait_until(&format!("{topic} assignable"), move |c| {
        let g = gid(&format!("dg-probe-{t}"));
        let join = c.send(
            &ConsumerGroupHeartbeatRequest::default()
                .with_group_id(g.clone())
                .with_member_id(s("dg-probe"))
                .with_member_epoch(0)
                .with_rebalance_timeout_ms(30_000)
                .with_subscribed_topic_names(Some(vec![name(&t)]))
                .with_topic_partitions(Some(Vec::new())),
            1,
        );
        c.send(
            &ConsumerGroupHeartbeatRequest::default()
                .with_group_id(g)
                .with_member_id(s("dg-probe"))
                .with_member_epoch(-1),
            1,
        );
        join.error_code == 0
            && join.assignment.is_some_and(|a| {
                a.topic_partitions
                    .iter()
                    .any(|tp| !tp.partitions.is_empty())
            })
    });
}

/// Topic id -> name, per broker.
type Names = Each<HashMap<Uuid, String>>;

/// Compares Metadata of `topics` (which renames their ids in name order on both brokers) and
/// returns each broker's topic names by id.
fn topic_names(ctx: &mut Ctx, topics: &[&str]) -> Names {
    let req = MetadataRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|t| metadata_request::MetadataRequestTopic::default().with_name(Some(name(t))))
                .collect(),
        ))
        .with_allow_auto_topic_creation(false);
    let out = ctx.send("metadata", &req, 12);
    out.map(|r| {
        r.topics
            .iter()
            .map(|t| {
                let n = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
                (t.topic_id, n)
            })
            .collect()
    })
}

/// `r` with its assignment in topic-name order and each topic's partitions in order: a set,
/// whose order no client depends on.
fn sorted(
    mut r: ConsumerGroupHeartbeatResponse,
    names: &HashMap<Uuid, String>,
) -> ConsumerGroupHeartbeatResponse {
    if let Some(a) = r.assignment.as_mut() {
        a.topic_partitions
            .sort_by_key(|tp| names.get(&tp.topic_id).cloned().unwrap_or_default());
        for tp in a.topic_partitions.iter_mut() {
            tp.partitions.sort_unstable();
        }
    }
    r
}

/// A KIP-848 member, driven the way a client drives it: it reports what its last assignment
/// gave it, on each broker.
struct Member {
    group: String,
    id: String,
    instance: Option<String>,
    epoch: Each<i32>,
    owned: Each<Vec<TopicPartitions>>,
    conn: Conn,
}

impl Member {
    fn new(ctx: &Ctx, group: &str, id: &str) -> Member {
        Member {
            group: group.to_string(),
            id: id.to_string(),
            instance: None,
            epoch: [0, 0],
            owned: [Vec::new(), Vec::new()],
            conn: Conn::open(ctx),
        }
    }

    /// The heartbeat this member sends on broker `i`: its epoch and owned partitions, the
    /// subscription unchanged (null) unless `edit` sets it.
    fn request(&self, i: usize) -> ConsumerGroupHeartbeatRequest {
        let join = self.epoch[i] == 0;
        ConsumerGroupHeartbeatRequest::default()
            .with_group_id(gid(&self.group))
            .with_member_id(s(&self.id))
            .with_member_epoch(self.epoch[i])
            .with_instance_id(self.instance.as_deref().map(s))
            .with_rebalance_timeout_ms(if join { 30_000 } else { -1 })
            .with_topic_partitions(Some(self.owned[i].clone()))
    }

    /// Sends one heartbeat at `v` (edited by `edit`), compares the sorted answers, and applies
    /// them: a new epoch, and the assignment if one came.
    fn heartbeat(
        &mut self,
        ctx: &mut Ctx,
        names: &Names,
        step: &str,
        v: i16,
        edit: impl Fn(ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatRequest,
    ) -> Each<ConsumerGroupHeartbeatResponse> {
        let reqs = [edit(self.request(KAFKA)), edit(self.request(KLAMM))];
        let out = self.conn.exchange(ctx, v, |i| reqs[i].clone());
        let out = [
            sorted(out[KAFKA].clone(), &names[KAFKA]),
            sorted(out[KLAMM].clone(), &names[KLAMM]),
        ];
        ctx.compare(&format!("{step}@v{v}"), &out[KAFKA], &out[KLAMM]);
        for i in [KAFKA, KLAMM] {
            let r = &out[i];
            if r.error_code != 0 {
                continue;
            }
            self.epoch[i] = r.member_epoch;
            if let Some(a) = &r.assignment {
                self.owned[i] = a
                    .topic_partitions
                    .iter()
                    .map(|tp| {
                        TopicPartitions::default()
                            .with_topic_id(tp.topic_id)
                            .with_partitions(tp.partitions.clone())
                    })
                    .collect();
            }
        }
        out
    }

    /// Joins (epoch 0) subscribing to `topics`.
    fn join(&mut self, ctx: &mut Ctx, names: &Names, step: &str, v: i16, topics: &[&str]) {
        let subscription: Vec<TopicName> = topics.iter().map(|t| name(t)).collect();
        self.epoch = [0, 0];
        self.owned = [Vec::new(), Vec::new()];
        self.heartbeat(ctx, names, step, v, |r| {
            r.with_subscribed_topic_names(Some(subscription.clone()))
        });
    }
}

/// ConsumerGroupDescribe of `groups` at every version, compared with each member's
/// subscribed topic names and assigned partitions in order: Kafka keeps them in hash sets,
/// whose order no client depends on.
fn consumer_describe(ctx: &mut Ctx, step: &str, groups: &[&str]) {
    let req = ConsumerGroupDescribeRequest::default()
        .with_group_ids(groups.iter().map(|g| gid(g)).collect())
        .with_include_authorized_operations(true);
    for v in ctx.versions(ApiKey::ConsumerGroupDescribe) {
        let mut out = ctx.send_each(&req, v);
        for r in out.iter_mut() {
            for g in r.groups.iter_mut() {
                for m in g.members.iter_mut() {
                    m.subscribed_topic_names.sort_by_key(|n| n.to_string());
                    for a in [&mut m.assignment, &mut m.target_assignment] {
                        for tp in a.topic_partitions.iter_mut() {
                            tp.partitions.sort_unstable();
                        }
                    }
                }
            }
        }
        ctx.compare(&format!("{step}@v{v}"), &out[KAFKA], &out[KLAMM]);
    }
}

/// At each version: a member joins at epoch 0 and gets all partitions of its topic; a steady
/// heartbeat; a subscription change (a new epoch and both topics); a wrong epoch
/// (FENCED_MEMBER_EPOCH) and an unknown member (UNKNOWN_MEMBER_ID); a second member joins and
/// the two reconcile (revocation first, then the new owner gets the partitions); both leave
/// with epoch -1 and the group is Empty.
fn heartbeat_each_version(ctx: &mut Ctx) {
    let (ta, tb) = ("dg-cg-topic-a", "dg-cg-topic-b");
    create_assignable(ctx, ta, 3);
    create_assignable(ctx, tb, 2);
    let names = topic_names(ctx, &[ta, tb]);
    for v in ctx.versions(ApiKey::ConsumerGroupHeartbeat) {
        let g = format!("dg-cg-v{v}");
        let mut m1 = Member::new(ctx, &g, &format!("dg-cg-member-1-v{v}"));
        m1.join(ctx, &names, "m1-join", v, &[ta]);
        m1.heartbeat(ctx, &names, "m1-steady", v, |r| r);
        let both: Vec<TopicName> = vec![name(ta), name(tb)];
        m1.heartbeat(ctx, &names, "m1-subscribe-both", v, |r| {
            r.with_subscribed_topic_names(Some(both.clone()))
        });
        m1.heartbeat(ctx, &names, "m1-after-change", v, |r| r);
        // Back to one topic, so the two-member assignment below is one topic's partitions
        // spread over members (which partitions a member keeps of several topics follows
        // Kafka's hash order of topic ids, random per cluster).
        let only_a: Vec<TopicName> = vec![name(ta)];
        m1.heartbeat(ctx, &names, "m1-subscribe-a-only", v, |r| {
            r.with_subscribed_topic_names(Some(only_a.clone()))
        });
        m1.heartbeat(ctx, &names, "m1-after-revoking-b", v, |r| r);
        m1.heartbeat(ctx, &names, "m1-wrong-epoch", v, |r| {
            let e = r.member_epoch;
            r.with_member_epoch(e + 5)
        });
        m1.heartbeat(ctx, &names, "m1-older-epoch", v, |r| {
            let e = r.member_epoch;
            r.with_member_epoch(e - 1)
        });
        m1.heartbeat(ctx, &names, "unknown-member", v, |r| {
            r.with_member_id(s("dg-cg-nobody")).with_member_epoch(3)
        });
        let mut m2 = Member::new(ctx, &g, &format!("dg-cg-member-2-v{v}"));
        m2.join(ctx, &names, "m2-join", v, &[ta]);
        consumer_describe(ctx, &format!("describe-joined-v{v}"), &[&g]);
        for round in 0..3 {
            m1.heartbeat(ctx, &names, &format!("m1-reconcile-{round}"), v, |r| r);
            m2.heartbeat(ctx, &names, &format!("m2-reconcile-{round}"), v, |r| r);
        }
        consumer_describe(ctx, &format!("describe-reconciled-v{v}"), &[&g]);
        m2.heartbeat(ctx, &names, "m2-leave", v, |r| r.with_member_epoch(-1));
        m1.heartbeat(ctx, &names, "m1-after-m2-left", v, |r| r);
        m1.heartbeat(ctx, &names, "m1-leave", v, |r| r.with_member_epoch(-1));
        m1.heartbeat(ctx, &names, "m1-after-leave", v, |r| r.with_member_epoch(1));
        consumer_describe(ctx, &format!("describe-empty-v{v}"), &[&g]);
    }
}

/// Static members (KIP-848 `instance_id`): a static leave (epoch -2) keeps the member's
/// assignment for its return; a new member id with the same instance id takes it over; a
/// second member claiming the instance id while it is held gets UNRELEASED_INSTANCE_ID.
fn static_members(ctx: &mut Ctx) {
    let t = "dg-cg-static-topic";
    create_assignable(ctx, t, 2);
    let names = topic_names(ctx, &[t]);
    for v in ctx.versions(ApiKey::ConsumerGroupHeartbeat) {
        let g = format!("dg-cg-static-v{v}");
        let inst = format!("dg-cg-instance-v{v}");
        let mut m = Member::new(ctx, &g, &format!("dg-cg-static-a-v{v}"));
        m.instance = Some(inst.clone());
        m.join(ctx, &names, "join-static", v, &[t]);
        m.heartbeat(ctx, &names, "steady", v, |r| r);
        let mut rival = Member::new(ctx, &g, &format!("dg-cg-static-rival-v{v}"));
        rival.instance = Some(inst.clone());
        rival.join(ctx, &names, "rival-while-held", v, &[t]);
        m.heartbeat(ctx, &names, "static-leave", v, |r| r.with_member_epoch(-2));
        consumer_describe(ctx, &format!("describe-after-static-leave-v{v}"), &[&g]);
        let mut back = Member::new(ctx, &g, &format!("dg-cg-static-b-v{v}"));
        back.instance = Some(inst.clone());
        back.join(ctx, &names, "rejoin-new-member-id", v, &[t]);
        back.heartbeat(ctx, &names, "rejoined-steady", v, |r| r);
        m.heartbeat(ctx, &names, "old-member-after-replace", v, |r| r);
        consumer_describe(ctx, &format!("describe-replaced-v{v}"), &[&g]);
        back.heartbeat(ctx, &names, "leave-for-good", v, |r| {
            r.with_member_epoch(-1)
        });
    }
}

/// Heartbeats the coordinator refuses, at each version: a join without a subscription, a join
/// without owned partitions or rebalance timeout, an empty group id, an empty member id, an
/// invalid regex (INVALID_REGULAR_EXPRESSION), an unknown server assignor
/// (UNSUPPORTED_ASSIGNOR), both topic names and a regex, and a non-zero epoch for a member
/// that never joined.
fn invalid_heartbeats(ctx: &mut Ctx) {
    let t = "dg-cg-invalid-topic";
    create_assignable(ctx, t, 1);
    let names = topic_names(ctx, &[t]);
    let sub = Some(vec![name(t)]);
    for v in ctx.versions(ApiKey::ConsumerGroupHeartbeat) {
        let g = format!("dg-cg-invalid-v{v}");
        let mut m = Member::new(ctx, &g, &format!("dg-cg-invalid-member-v{v}"));
        m.heartbeat(ctx, &names, "join-without-subscription", v, |r| r);
        m.heartbeat(ctx, &names, "join-without-owned", v, |r| {
            r.with_subscribed_topic_names(sub.clone())
                .with_topic_partitions(None)
        });
        m.heartbeat(ctx, &names, "join-without-rebalance-timeout", v, |r| {
            r.with_subscribed_topic_names(sub.clone())
                .with_rebalance_timeout_ms(-1)
        });
        m.heartbeat(ctx, &names, "empty-group-id", v, |r| {
            r.with_group_id(gid(""))
                .with_subscribed_topic_names(sub.clone())
        });
        m.heartbeat(ctx, &names, "empty-member-id", v, |r| {
            r.with_member_id(s(""))
                .with_subscribed_topic_names(sub.clone())
        });
        if v >= 1 {
            m.heartbeat(ctx, &names, "invalid-regex", v, |r| {
                r.with_subscribed_topic_regex(Some(s("dg-cg-[")))
            });
        }
        m.heartbeat(ctx, &names, "unknown-assignor", v, |r| {
            r.with_subscribed_topic_names(sub.clone())
                .with_server_assignor(Some(s("no-such-assignor")))
        });
        m.heartbeat(ctx, &names, "never-joined-epoch-5", v, |r| {
            r.with_member_epoch(5)
        });
        m.heartbeat(ctx, &names, "negative-epoch-3", v, |r| {
            r.with_member_epoch(-3)
                .with_subscribed_topic_names(sub.clone())
        });
    }
}

/// The server assignors Kafka ships (`uniform`, the default, and `range`), chosen per member
/// (KIP-848 `server_assignor`), with a regex subscription (KIP-848's RE2J patterns) beside.
fn server_assignors(ctx: &mut Ctx) {
    let (ta, tb) = ("dg-cg-assignor-a", "dg-cg-assignor-b");
    create_assignable(ctx, ta, 4);
    create_assignable(ctx, tb, 2);
    let names = topic_names(ctx, &[ta, tb]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    for assignor in ["range", "uniform"] {
        let g = format!("dg-cg-assignor-{assignor}");
        // One topic: which partitions a member keeps of several topics when a second member
        // joins follows Kafka's hash order of topic ids, random per cluster.
        let sub = Some(vec![name(ta)]);
        let mut m1 = Member::new(ctx, &g, &format!("dg-cg-{assignor}-1"));
        let mut m2 = Member::new(ctx, &g, &format!("dg-cg-{assignor}-2"));
        let a = Some(s(assignor));
        m1.heartbeat(ctx, &names, &format!("{assignor}-m1-join"), v, |r| {
            r.with_subscribed_topic_names(sub.clone())
                .with_server_assignor(a.clone())
        });
        m2.heartbeat(ctx, &names, &format!("{assignor}-m2-join"), v, |r| {
            r.with_subscribed_topic_names(sub.clone())
                .with_server_assignor(a.clone())
        });
        for round in 0..3 {
            m1.heartbeat(ctx, &names, &format!("{assignor}-m1-{round}"), v, |r| r);
            m2.heartbeat(ctx, &names, &format!("{assignor}-m2-{round}"), v, |r| r);
        }
        consumer_describe(ctx, &format!("describe-{assignor}"), &[&g]);
    }
}

/// A regex subscription (KIP-848, RE2J syntax): Kafka resolves it off the request path, so the
/// member's join answer comes before the resolution; the scenario waits until the member has
/// its partitions on both brokers before the next heartbeat, so nothing depends on timing.
fn regex_subscription(ctx: &mut Ctx) {
    let (ta, tb) = ("dg-cg-regex-topic-a", "dg-cg-regex-topic-b");
    create_assignable(ctx, ta, 2);
    create_assignable(ctx, tb, 1);
    let names = topic_names(ctx, &[ta, tb]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    let g = "dg-cg-regex";
    let mut m = Member::new(ctx, g, "dg-cg-regex-1");
    m.heartbeat(ctx, &names, "regex-join", v, |r| {
        r.with_subscribed_topic_regex(Some(s("dg-cg-regex-topic-.*")))
    });
    ctx.wait_until("regex resolved", |c| {
        let d = c.send(
            &ConsumerGroupDescribeRequest::default().with_group_ids(vec![gid(g)]),
            latest_describe(),
        );
        // Resolved: the group epoch moved past the assignment (Kafka, whose next heartbeat
        // computes the assignment), or the target names both topics (Klamm, which resolves
        // the regex on the join itself).
        d.groups.first().is_some_and(|d| {
            d.group_epoch > d.assignment_epoch
                || d.members
                    .iter()
                    .any(|m| m.target_assignment.topic_partitions.len() == 2)
        })
    });
    for round in 0..2 {
        m.heartbeat(ctx, &names, &format!("regex-{round}"), v, |r| r);
    }
    consumer_describe(ctx, "describe-regex", &[g]);
}

/// ConsumerGroupDescribe's version for polling (both brokers serve 0-1).
fn latest_describe() -> i16 {
    1
}

/// ConsumerGroupDescribe at every version: an unknown group (GROUP_ID_NOT_FOUND), an empty
/// group id, a classic group (not a consumer group), and a consumer group with two members.
fn describe(ctx: &mut Ctx) {
    let t = "dg-cg-describe-topic";
    create_assignable(ctx, t, 3);
    let names = topic_names(ctx, &[t]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    let g = "dg-cg-describe";
    let mut m1 = Member::new(ctx, g, "dg-cg-describe-1");
    let mut m2 = Member::new(ctx, g, "dg-cg-describe-2");
    m1.join(ctx, &names, "m1-join", v, &[t]);
    m2.join(ctx, &names, "m2-join", v, &[t]);
    m1.heartbeat(ctx, &names, "m1-revoke", v, |r| r);
    let mut classic = Conn::open(ctx);
    let jv = latest(ctx, ApiKey::JoinGroup);
    // A classic group with a member (its second join: a join answered MEMBER_ID_REQUIRED
    // writes nothing, and Kafka reads groups at the last committed offset).
    let first = classic.send(ctx, "classic-join", jv, |_| {
        classic_join("dg-cg-describe-classic", "", jv, &[t])
    });
    let ids = member_ids(&first);
    classic.send(ctx, "classic-join-with-id", jv, |i| {
        classic_join("dg-cg-describe-classic", &ids[i], jv, &[t])
    });
    consumer_describe(
        ctx,
        "describe",
        &[
            g,
            "dg-cg-describe-no-such-group",
            "",
            "dg-cg-describe-classic",
        ],
    );
}

/// KIP-848's online migration (`group.consumer.migration.policy`, bidirectional by default):
/// a classic JoinGroup into a consumer group with a member.
fn online_migration(ctx: &mut Ctx) {
    let t = "dg-cg-migration-topic";
    create_assignable(ctx, t, 2);
    let names = topic_names(ctx, &[t]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    let jv = latest(ctx, ApiKey::JoinGroup);

    // A consumer group with one member; a classic member asks to join it.
    let cg = "dg-cg-migration-consumer";
    let mut m = Member::new(ctx, cg, "dg-cg-migration-member");
    m.join(ctx, &names, "consumer-join", v, &[t]);
    let mut classic = Conn::open(ctx);
    let first = classic.send(ctx, "classic-join-consumer-group", jv, |_| {
        classic_join(cg, "", jv, &[t])
    });
    if first[KAFKA].error_code == 79 && first[KLAMM].error_code == 79 {
        let ids = member_ids(&first);
        let j = classic.write(ctx, jv, |i| classic_join(cg, &ids[i], jv, &[t]));
        // The consumer member's heartbeats let the coordinator complete the classic join.
        m.heartbeat(
            ctx,
            &names,
            "consumer-heartbeat-while-classic-joins",
            v,
            |r| r,
        );
        m.heartbeat(ctx, &names, "consumer-heartbeat-after-revoking", v, |r| r);
        classic.read::<JoinGroupRequest>(ctx, "classic-join-with-id", jv, j);
    }

    list_groups(ctx, "dg-cg-migration-consumer");
}

/// KIP-848's online upgrade: a ConsumerGroupHeartbeat into a classic group whose members all
/// use the consumer protocol converts it to a consumer group (policy bidirectional).
fn online_upgrade(ctx: &mut Ctx) {
    let t = "dg-cg-upgrade-topic";
    create_assignable(ctx, t, 2);
    let names = topic_names(ctx, &[t]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    let (jv, sv) = (
        latest(ctx, ApiKey::JoinGroup),
        latest(ctx, ApiKey::SyncGroup),
    );
    let clg = "dg-cg-upgrade-classic";
    let mut c = Conn::open(ctx);
    let first = c.send(ctx, "classic-join-new", jv, |_| {
        classic_join(clg, "", jv, &[t])
    });
    let ids = member_ids(&first);
    let joined = c.send(ctx, "classic-join-with-id", jv, |i| {
        classic_join(clg, &ids[i], jv, &[t])
    });
    let gens = [joined[0].generation_id, joined[1].generation_id];
    c.send(ctx, "classic-sync", sv, |i| {
        sync_request(clg, gens[i], &ids[i], sv, &[(&ids[i], b"")])
    });
    let mut up = Member::new(ctx, clg, "dg-cg-upgrade-member");
    up.join(ctx, &names, "consumer-join-classic-group", v, &[t]);
    list_groups(ctx, clg);
    ctx.each_version("describe-groups", |dv| {
        DescribeGroupsRequest::default()
            .with_groups(vec![gid(clg)])
            .with_include_authorized_operations(dv >= 3)
    });
    consumer_describe(ctx, "consumer-describe", &[clg]);
}

/// ListGroups at every version (all, by state from v4, by type from v5) of the groups named
/// `prefix*` (both brokers also hold every other scenario's groups).
fn list_groups(ctx: &mut Ctx, prefix: &str) {
    let filters: &[(&str, &[&str], &[&str], i16)] = &[
        ("all", &[], &[], 0),
        ("stable", &["Stable"], &[], 4),
        ("empty", &["Empty"], &[], 4),
        ("consumer", &[], &["consumer"], 5),
        ("classic", &[], &["classic"], 5),
    ];
    for lv in ctx.versions(ApiKey::ListGroups) {
        for (step, states, types, from) in filters {
            if lv < *from {
                continue;
            }
            let req = ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|x| s(x)).collect())
                .with_types_filter(types.iter().map(|x| s(x)).collect());
            let mut out = ctx.send_each(&req, lv);
            for r in out.iter_mut() {
                r.groups.retain(|g| g.group_id.starts_with(prefix));
            }
            ctx.compare(&format!("list-{step}@v{lv}"), &out[0], &out[1]);
        }
    }
}

/// Consumer groups seen through the classic APIs: an Empty classic group (offsets only)
/// becomes a consumer group on a KIP-848 join; ListGroups and DescribeGroups of consumer
/// groups (Stable, Empty after the member left) beside a classic group.
fn classic_interop(ctx: &mut Ctx) {
    let t = "dg-cg-interop-topic";
    create_assignable(ctx, t, 2);
    let names = topic_names(ctx, &[t]);
    let v = latest(ctx, ApiKey::ConsumerGroupHeartbeat);
    let (jv, sv) = (
        latest(ctx, ApiKey::JoinGroup),
        latest(ctx, ApiKey::SyncGroup),
    );

    let cg = "dg-cg-interop-consumer";
    let mut m = Member::new(ctx, cg, "dg-cg-interop-member");
    m.join(ctx, &names, "consumer-join", v, &[t]);

    let left = "dg-cg-interop-left";
    let mut l = Member::new(ctx, left, "dg-cg-interop-leaver");
    l.join(ctx, &names, "leaver-join", v, &[t]);
    l.heartbeat(ctx, &names, "leaver-leave", v, |r| r.with_member_epoch(-1));

    let clg = "dg-cg-interop-classic";
    let mut c = Conn::open(ctx);
    let first = c.send(ctx, "classic-join-new", jv, |_| {
        classic_join(clg, "", jv, &[t])
    });
    let ids = member_ids(&first);
    let joined = c.send(ctx, "classic-join-with-id", jv, |i| {
        classic_join(clg, &ids[i], jv, &[t])
    });
    let gens = [joined[0].generation_id, joined[1].generation_id];
    c.send(ctx, "classic-sync", sv, |i| {
        sync_request(clg, gens[i], &ids[i], sv, &[(&ids[i], b"")])
    });

    // An Empty classic group (offsets only) becomes a consumer group on a KIP-848 join.
    let empty = "dg-cg-interop-empty-classic";
    let cv = latest(ctx, ApiKey::OffsetCommit);
    ctx.send(
        "commit",
        &super::super::support::groups::commit_request(empty, "", -1, cv, t, &[(0, 4)]),
        cv,
    );
    let mut e = Member::new(ctx, empty, "dg-cg-interop-empty-member");
    e.join(ctx, &names, "consumer-join-empty-classic", v, &[t]);

    list_groups(ctx, "dg-cg-interop-");
    ctx.each_version("describe-groups", |dv| {
        DescribeGroupsRequest::default()
            .with_groups(vec![gid(cg), gid(left), gid(clg), gid(empty)])
            .with_include_authorized_operations(dv >= 3)
    });
    consumer_describe(ctx, "consumer-describe", &[cg, left, clg, empty]);
}
