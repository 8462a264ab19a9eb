//! KIP-932 share groups: ShareGroupHeartbeat (joins, the simple assignor sharing partitions
//! between members, fenced and unknown members, leaves, the request checks), ShareGroupDescribe,
//! the generic group APIs meeting a share group (ListGroups with the "share" type filter,
//! DescribeGroups, ConsumerGroupDescribe), ShareFetch sessions and records,
//! ShareAcknowledge, and the share-group offsets admin APIs (DescribeShareGroupOffsets,
//! AlterShareGroupOffsets, DeleteShareGroupOffsets).
//!
//! Member ids are client-chosen UUIDs in 4.1 (ShareGroupHeartbeat takes the id the client
//! sends; ShareFetch parses it with `Uuid.fromString`, so the ids below are URL-safe base64 of 16
//! bytes), so the same id is used on both brokers and compares. Topic ids differ per broker:
//! each scenario compares a Metadata answer first, which renames the ids in topic-name order on
//! both sides.
//!
//! Epochs: Kafka assigns only partitions whose share state is initialised, and initialises a new
//! group's partitions asynchronously after the first heartbeat (GroupMetadataManager's
//! ShareGroupStatePartitionMetadata and InitializeShareGroupState), so its first heartbeat answers
//! an empty assignment and the next one bumps the group epoch and assigns (epoch 2); Klamm keeps
//! share state in-process and assigns on the join (epoch 1). The join is compared (its assignment
//! is an allowed difference); the member then heartbeats on Kafka until the assignment arrives,
//! and every later epoch (member, group and assignment epochs) is compared relative to the epoch
//! at which the group's first member got its partitions on that broker.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::*;
use uuid::Uuid;

use super::super::support::batches::{batch, decode_records, rec};
use super::super::support::groups::gid;
use super::super::support::requests::{name, produce_request, s};
use super::super::{Ctx, KAFKA, KLAMM, SIDES};
use super::data_support::{create, each, each_quiet, scrub_records, Topic};
use super::groups_support::{latest, Each};
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[
    ("groups/share_heartbeat", heartbeat),
    ("groups/share_invalid_heartbeats", invalid_heartbeats),
    ("groups/share_fetch", fetch),
    ("groups/share_offsets", offsets),
];

/// Member ids: URL-safe base64 (no padding) of "klamm-share-m-01" .. "-03", as Kafka's
/// `Uuid.fromString` reads them.
const M1: &str = "a2xhbW0tc2hhcmUtbS0wMQ";
const M2: &str = "a2xhbW0tc2hhcmUtbS0wMg";
const M3: &str = "a2xhbW0tc2hhcmUtbS0wMw";

/// ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch and ShareAcknowledge serve v1 only in
/// 4.1 (v0 was KIP-932's early access), the offsets APIs v0 only.
const V1: i16 = 1;
const V0: i16 = 0;

/// `ConfigResource.Type.GROUP`: the fetch scenarios set the group config
/// `share.auto.offset.reset=earliest` on it, so a share partition first fetched starts at the log
/// start rather than at its end (`latest`, the default).
const GROUP: i8 = 32;

/// A share-group member on both brokers, with its epoch on each. (The group's epoch shift on
/// each broker, the epoch at which its first member got partitions minus 1, is passed along.)
struct Member {
    group: String,
    id: &'static str,
    epoch: Each<i32>,
}

/// What a heartbeat or describe epoch compares as: relative to the group's shift (0 and the
/// negative leave epochs stay as they are).
fn rebase(epoch: i32, shift: i32) -> i32 {
    if epoch > 0 {
        epoch - shift
    } else {
        epoch
    }
}

/// Kafka error codes the scenarios expect.
const NONE: i16 = 0;
const UNKNOWN_SERVER_ERROR: i16 = -1;
const UNKNOWN_MEMBER_ID: i16 = 25;
const INVALID_REQUEST: i16 = 42;
const INVALID_GROUP_ID: i16 = 24;
const GROUP_ID_NOT_FOUND: i16 = 69;
const NON_EMPTY_GROUP: i16 = 68;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const FENCED_MEMBER_EPOCH: i16 = 110;
const INVALID_RECORD_STATE: i16 = 121;
const SHARE_SESSION_NOT_FOUND: i16 = 122;
const INVALID_SHARE_SESSION_EPOCH: i16 = 123;

/// Checks what the oracle answered, so that a step compares what it is meant to (two equal
/// answers that both miss the point would pass the comparison); Klamm is held to the same by
/// the comparison.
fn expect<T: PartialEq + std::fmt::Debug>(ctx: &Ctx, step: &str, kafka: T, want: T) {
    assert_eq!(
        kafka, want,
        "{}/{step}: Kafka's answer is not the one the step is about",
        ctx.scenario
    );
}

/// The partitions of a heartbeat answer's assignment, in order.
fn partitions(r: &ShareGroupHeartbeatResponse) -> Vec<i32> {
    let mut v: Vec<i32> = r
        .assignment
        .iter()
        .flat_map(|a| {
            a.topic_partitions
                .iter()
                .flat_map(|tp| tp.partitions.iter().copied())
        })
        .collect();
    v.sort_unstable();
    v
}

/// `(first, last, delivery count)` of each acquired range of a ShareFetch answer.
fn acquired(r: &ShareFetchResponse) -> Vec<(i64, i64, i16)> {
    r.responses
        .iter()
        .flat_map(|t| t.partitions.iter())
        .flat_map(|p| p.acquired_records.iter())
        .map(|a| (a.first_offset, a.last_offset, a.delivery_count))
        .collect()
}

/// The error code of the only partition of a ShareAcknowledge answer.
fn ack_code(r: &ShareAcknowledgeResponse) -> i16 {
    r.responses[0].partitions[0].error_code
}

fn hb(group: &str, member: &str, epoch: i32) -> ShareGroupHeartbeatRequest {
    ShareGroupHeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_member_id(s(member))
        .with_member_epoch(epoch)
}

/// `text` with each epoch quoted in parentheses ("member epoch (8)") rebased, so that
/// FENCED_MEMBER_EPOCH messages compare word for word.
fn rebase_text(text: &str, shift: i32) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find(')').unwrap_or(0);
        match rest[..close].parse::<i32>() {
            Ok(e) if close > 0 => out.push_str(&rebase(e, shift).to_string()),
            _ => out.push_str(&rest[..close]),
        }
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// Partitions in order (Kafka builds assignments from hash sets; no client depends on the
/// order) and the epochs rebased (the answer's and those its error message quotes).
fn comparable_hb(mut r: ShareGroupHeartbeatResponse, shift: i32) -> ShareGroupHeartbeatResponse {
    r.member_epoch = rebase(r.member_epoch, shift);
    if let Some(m) = r.error_message.as_ref() {
        r.error_message = Some(s(&rebase_text(m, shift)));
    }
    if let Some(a) = r.assignment.as_mut() {
        for tp in a.topic_partitions.iter_mut() {
            tp.partitions.sort_unstable();
        }
    }
    r
}

/// Sends `make(side)` to each broker and compares the answers with epochs rebased by `shift`.
fn send_hb(
    ctx: &mut Ctx,
    step: &str,
    shift: Each<i32>,
    make: impl Fn(usize) -> ShareGroupHeartbeatRequest,
) -> Each<ShareGroupHeartbeatResponse> {
    let out = each_quiet(ctx, V1, make);
    let cmp = [KAFKA, KLAMM].map(|i| comparable_hb(out[i].clone(), shift[i]));
    ctx.compare(&format!("{step}@v{V1}"), &cmp[KAFKA], &cmp[KLAMM]);
    out
}

fn assigned(r: &ShareGroupHeartbeatResponse) -> bool {
    r.error_code == 0
        && r.assignment.as_ref().is_some_and(|a| {
            a.topic_partitions
                .iter()
                .any(|tp| !tp.partitions.is_empty())
        })
}

impl Member {
    fn new(group: &str, id: &'static str) -> Member {
        Member {
            group: group.to_string(),
            id,
            epoch: [0, 0],
        }
    }

    /// A heartbeat at the member's epoch, compared; the new epoch is kept.
    fn heartbeat(
        &mut self,
        ctx: &mut Ctx,
        step: &str,
        shift: Each<i32>,
        edit: impl Fn(ShareGroupHeartbeatRequest) -> ShareGroupHeartbeatRequest,
    ) -> Each<ShareGroupHeartbeatResponse> {
        let reqs = [KAFKA, KLAMM].map(|i| edit(hb(&self.group, self.id, self.epoch[i])));
        let out = send_hb(ctx, step, shift, |i| reqs[i].clone());
        for i in [KAFKA, KLAMM] {
            if out[i].error_code == 0 {
                self.epoch[i] = out[i].member_epoch;
            }
        }
        out
    }

    /// The first member of a new group joins subscribing to `topics` (compared, see the module
    /// doc), then heartbeats on each broker until its partitions arrive; returns the group's
    /// epoch shift on each broker.
    fn join_first(&mut self, ctx: &mut Ctx, step: &str, topics: &[&str]) -> Each<i32> {
        let sub: Vec<TopicName> = topics.iter().map(|t| name(t)).collect();
        let out = self.heartbeat(ctx, step, [0, 0], |r| {
            r.with_subscribed_topic_names(Some(sub.clone()))
        });
        let mut shift = [0, 0];
        for i in [KAFKA, KLAMM] {
            assert_eq!(
                out[i].error_code, 0,
                "{}: join on {}: {:?}",
                ctx.scenario, SIDES[i], out[i]
            );
            let mut last = out[i].clone();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !assigned(&last) {
                assert!(
                    Instant::now() < deadline,
                    "{}: {} got no partitions on {} within 30 s: {last:?}",
                    ctx.scenario,
                    self.id,
                    SIDES[i]
                );
                std::thread::sleep(Duration::from_millis(100));
                ctx.requests += 1;
                last = ctx.conns[i].send(&hb(&self.group, self.id, self.epoch[i]), V1);
                assert_eq!(last.error_code, 0, "{}: {last:?}", SIDES[i]);
                self.epoch[i] = last.member_epoch;
            }
            shift[i] = self.epoch[i] - 1;
        }
        shift
    }

    /// Joins a group whose partitions are initialised already (compared in full).
    fn join(
        &mut self,
        ctx: &mut Ctx,
        step: &str,
        shift: Each<i32>,
        topics: &[&str],
    ) -> Each<ShareGroupHeartbeatResponse> {
        let sub: Vec<TopicName> = topics.iter().map(|t| name(t)).collect();
        self.epoch = [0, 0];
        self.heartbeat(ctx, step, shift, |r| {
            r.with_subscribed_topic_names(Some(sub.clone()))
        })
    }
}

/// Compares Metadata of `topics`, so their ids are renamed in name order on both brokers.
fn metadata(ctx: &mut Ctx, topics: &[&str]) {
    let req = MetadataRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|t| metadata_request::MetadataRequestTopic::default().with_name(Some(name(t))))
                .collect(),
        ))
        .with_allow_auto_topic_creation(false);
    ctx.send("metadata", &req, 12);
}

/// ShareGroupDescribe of `groups` (authorized operations included), members' subscriptions and
/// partitions in order, epochs rebased.
fn share_describe(ctx: &mut Ctx, step: &str, shift: Each<i32>, groups: &[&str]) {
    let req = ShareGroupDescribeRequest::default()
        .with_group_ids(groups.iter().map(|g| gid(g)).collect())
        .with_include_authorized_operations(true);
    let mut out = ctx.send_each(&req, V1);
    for (i, r) in out.iter_mut().enumerate() {
        for g in r.groups.iter_mut() {
            g.group_epoch = rebase(g.group_epoch, shift[i]);
            g.assignment_epoch = rebase(g.assignment_epoch, shift[i]);
            for m in g.members.iter_mut() {
                m.member_epoch = rebase(m.member_epoch, shift[i]);
                m.subscribed_topic_names.sort_by_key(|n| n.to_string());
                for tp in m.assignment.topic_partitions.iter_mut() {
                    tp.partitions.sort_unstable();
                }
            }
        }
    }
    ctx.compare(&format!("{step}@v{V1}"), &out[KAFKA], &out[KLAMM]);
}

/// ListGroups at every version with `types` (v5+) and `states` (v4+) filters, groups of other
/// scenarios left out.
fn list(ctx: &mut Ctx, step: &str, prefix: &str, states: &[&str], types: &[&str]) {
    for v in ctx.versions(ApiKey::ListGroups) {
        if (!types.is_empty() && v < 5) || (!states.is_empty() && v < 4) {
            continue;
        }
        let req = ListGroupsRequest::default()
            .with_states_filter(states.iter().map(|x| s(x)).collect())
            .with_types_filter(types.iter().map(|x| s(x)).collect());
        let mut out = ctx.send_each(&req, v);
        for r in out.iter_mut() {
            r.groups.retain(|g| g.group_id.starts_with(prefix));
        }
        ctx.compare(&format!("{step}@v{v}"), &out[KAFKA], &out[KLAMM]);
    }
}

/// The generic group APIs on a share group: DescribeGroups at every version (a share group is
/// not a classic group: Dead, and GROUP_ID_NOT_FOUND from v6) and ConsumerGroupDescribe (not a
/// consumer group: GROUP_ID_NOT_FOUND).
fn generic_describes(ctx: &mut Ctx, step: &str, group: &str) {
    let g = group.to_string();
    ctx.each_version(&format!("{step}-describe-groups"), |_| {
        DescribeGroupsRequest::default().with_groups(vec![gid(&g)])
    });
    ctx.each_version(&format!("{step}-consumer-describe"), |_| {
        ConsumerGroupDescribeRequest::default().with_group_ids(vec![gid(&g)])
    });
}

/// One member joins a two-partition topic and gets both partitions; steady and full
/// heartbeats; ShareGroupDescribe, ListGroups (the "share" type filter, state filters) and the
/// classic and consumer describes of the group; a second member joins and the simple assignor
/// hands out the partitions; a wrong epoch (FENCED_MEMBER_EPOCH), an unknown member
/// (UNKNOWN_MEMBER_ID), an unknown group (GROUP_ID_NOT_FOUND), leaves of both; both leave
/// (epoch -1), a heartbeat after leaving, and the group is Empty.
fn heartbeat(ctx: &mut Ctx) {
    let t = "dg-sg-hb-topic";
    let g = "dg-sg-hb";
    create(ctx, t, 2, &[]);
    metadata(ctx, &[t]);
    share_describe(ctx, "describe-before", [0, 0], &[g]);
    let mut m1 = Member::new(g, M1);
    let shift = m1.join_first(ctx, "first-join", &[t]);
    let r = m1.heartbeat(ctx, "m1-steady", shift, |r| r);
    expect(
        ctx,
        "m1-steady",
        (r[KAFKA].error_code, r[KAFKA].assignment.is_none()),
        (NONE, true),
    );
    let sub = vec![name(t)];
    let r = m1.heartbeat(ctx, "m1-full", shift, |r| {
        r.with_subscribed_topic_names(Some(sub.clone()))
    });
    expect(ctx, "m1-full", partitions(&r[KAFKA]), vec![0, 1]);
    share_describe(ctx, "describe-one", shift, &[g, "dg-sg-nobody"]);
    list(ctx, "list-share", "dg-sg-hb", &[], &["share"]);
    list(
        ctx,
        "list-consumer",
        "dg-sg-hb",
        &[],
        &["consumer", "classic"],
    );
    list(ctx, "list-stable", "dg-sg-hb", &["Stable"], &[]);
    list(ctx, "list-all", "dg-sg-hb", &[], &[]);
    generic_describes(ctx, "one", g);

    let mut m2 = Member::new(g, M2);
    // Two members of two partitions: the simple assignor's hash step gives each member one
    // partition, so each has at least one (m2 at once: the partitions are initialised).
    let r2 = m2.join(ctx, "m2-join", shift, &[t]);
    expect(ctx, "m2-join", partitions(&r2[KAFKA]).is_empty(), false);
    let r1 = m1.heartbeat(ctx, "m1-after-m2", shift, |r| r);
    expect(ctx, "m1-after-m2", r1[KAFKA].error_code, NONE);
    m2.heartbeat(ctx, "m2-steady", shift, |r| r);
    share_describe(ctx, "describe-two", shift, &[g]);

    let r = m1.heartbeat(ctx, "m1-fenced", shift, |r| {
        let e = r.member_epoch;
        r.with_member_epoch(e + 5)
    });
    expect(ctx, "m1-fenced", r[KAFKA].error_code, FENCED_MEMBER_EPOCH);
    let r = send_hb(ctx, "unknown-member", shift, |_| hb(g, M3, 3));
    expect(
        ctx,
        "unknown-member",
        r[KAFKA].error_code,
        UNKNOWN_MEMBER_ID,
    );
    let r = send_hb(ctx, "unknown-group", shift, |_| {
        hb("dg-sg-hb-nosuch", M1, 1)
    });
    expect(
        ctx,
        "unknown-group",
        r[KAFKA].error_code,
        GROUP_ID_NOT_FOUND,
    );
    let r = send_hb(ctx, "unknown-group-leave", shift, |_| {
        hb("dg-sg-hb-nosuch", M1, -1)
    });
    expect(
        ctx,
        "unknown-group-leave",
        r[KAFKA].error_code,
        GROUP_ID_NOT_FOUND,
    );
    let r = send_hb(ctx, "unknown-member-leave", shift, |_| hb(g, M3, -1));
    expect(
        ctx,
        "unknown-member-leave",
        r[KAFKA].error_code,
        UNKNOWN_MEMBER_ID,
    );

    let r = m2.heartbeat(ctx, "m2-leave", shift, |r| r.with_member_epoch(-1));
    expect(
        ctx,
        "m2-leave",
        (r[KAFKA].error_code, r[KAFKA].member_epoch),
        (NONE, -1),
    );
    let r = m1.heartbeat(ctx, "m1-after-m2-left", shift, |r| r);
    expect(ctx, "m1-after-m2-left", r[KAFKA].error_code, NONE);
    // A full heartbeat (subscription set) carries the assignment: the only member has both.
    let r = m1.heartbeat(ctx, "m1-full-alone", shift, |r| {
        r.with_subscribed_topic_names(Some(sub.clone()))
    });
    expect(ctx, "m1-full-alone", partitions(&r[KAFKA]), vec![0, 1]);
    share_describe(ctx, "describe-after-leave", shift, &[g]);
    m1.heartbeat(ctx, "m1-leave", shift, |r| r.with_member_epoch(-1));
    let r = send_hb(ctx, "m1-after-leave", shift, |i| hb(g, M1, m1.epoch[i]));
    expect(
        ctx,
        "m1-after-leave",
        r[KAFKA].error_code,
        UNKNOWN_MEMBER_ID,
    );
    share_describe(ctx, "describe-empty", shift, &[g]);
    list(ctx, "list-share-empty", "dg-sg-hb", &["Empty"], &["share"]);
    generic_describes(ctx, "empty", g);
}

/// Heartbeats the coordinator refuses with INVALID_REQUEST (empty group id, empty member id, a
/// join without subscribed topics or with an empty list, an epoch below -1, a blank rack id),
/// ShareGroupDescribe of an empty group id, and a share heartbeat for a consumer group's id
/// (GROUP_ID_NOT_FOUND: "is not a share group").
fn invalid_heartbeats(ctx: &mut Ctx) {
    let t = "dg-sg-invalid-topic";
    let g = "dg-sg-invalid";
    create(ctx, t, 1, &[]);
    metadata(ctx, &[t]);
    let sub = Some(vec![name(t)]);
    let none = [0, 0];
    let refused: [(&str, ShareGroupHeartbeatRequest); 6] = [
        (
            "empty-group-id",
            hb("", M1, 0).with_subscribed_topic_names(sub.clone()),
        ),
        (
            "empty-member-id",
            hb(g, "", 0).with_subscribed_topic_names(sub.clone()),
        ),
        ("join-without-topics", hb(g, M1, 0)),
        (
            "join-empty-topics",
            hb(g, M1, 0).with_subscribed_topic_names(Some(Vec::new())),
        ),
        (
            "epoch-below-minus-one",
            hb(g, M1, -2).with_subscribed_topic_names(sub.clone()),
        ),
        (
            "blank-rack",
            hb(g, M1, 0)
                .with_subscribed_topic_names(sub.clone())
                .with_rack_id(Some(s(" "))),
        ),
    ];
    for (step, req) in refused {
        let r = send_hb(ctx, step, none, |_| req.clone());
        expect(ctx, step, r[KAFKA].error_code, INVALID_REQUEST);
    }
    share_describe(ctx, "describe-empty-id", none, &["", g]);

    // A consumer group of the same id space: a share heartbeat for it is refused.
    let cg = "dg-sg-invalid-consumer";
    let join = ConsumerGroupHeartbeatRequest::default()
        .with_group_id(gid(cg))
        .with_member_id(s("dg-sg-consumer-member"))
        .with_member_epoch(0)
        .with_rebalance_timeout_ms(30_000)
        .with_subscribed_topic_names(Some(vec![name(t)]))
        .with_topic_partitions(Some(Vec::new()));
    let rs = ctx.send_each(&join, 1);
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(r.error_code, 0, "consumer join on {}: {r:?}", SIDES[i]);
    }
    let r = send_hb(ctx, "consumer-group-id", none, |_| {
        hb(cg, M1, 0).with_subscribed_topic_names(sub.clone())
    });
    expect(
        ctx,
        "consumer-group-id",
        r[KAFKA].error_code,
        GROUP_ID_NOT_FOUND,
    );
    share_describe(ctx, "describe-consumer-group", none, &[cg]);
    ctx.send_each(&join.clone().with_member_epoch(-1), 1);
}

/// `n` records of one batch with fixed timestamps, so both logs hold the same bytes.
fn fixed_batch(prefix: &str, n: usize) -> Bytes {
    let recs: Vec<_> = (0..n)
        .map(|i| {
            rec(&format!("{prefix}-k{i}"), &format!("{prefix}-v{i}"))
                .at(1_700_000_000_000 + i as i64)
        })
        .collect();
    batch(&recs)
}

/// Produces `b` to partition 0 of `t` on both brokers (acks -1, uncompared, checked).
fn produce(ctx: &mut Ctx, t: &Topic, b: Bytes) {
    let rs = each_quiet(ctx, 9, |i| produce_request(&t.at(i), 0, b.clone(), -1));
    for (i, r) in rs.iter().enumerate() {
        assert_eq!(
            r.responses[0].partition_responses[0].error_code, 0,
            "produce on {}: {r:?}",
            SIDES[i]
        );
    }
}

/// Sets the group's share configs on both brokers (IncrementalAlterConfigs GROUP, compared).
fn set_group_configs(ctx: &mut Ctx, group: &str, configs: &[(&str, &str)]) {
    let ops: Vec<(&str, i8, Option<&str>)> =
        configs.iter().map(|(k, v)| (*k, 0, Some(*v))).collect();
    let req = super::configs::incremental(&[(GROUP, group, &ops)], false);
    let v = latest(ctx, ApiKey::IncrementalAlterConfigs);
    ctx.send("group-configs", &req, v);
}

fn ack_batch(first: i64, last: i64, types: &[i8]) -> share_fetch_request::AcknowledgementBatch {
    share_fetch_request::AcknowledgementBatch::default()
        .with_first_offset(first)
        .with_last_offset(last)
        .with_acknowledge_types(types.to_vec())
}

/// A ShareFetch of partition 0 of `t` (as broker `side` knows it) with `acks` piggy-backed.
fn share_fetch(
    group: &str,
    member: &str,
    epoch: i32,
    topic: Option<Uuid>,
    acks: &[(i64, i64, &[i8])],
    max_wait_ms: i32,
) -> ShareFetchRequest {
    let topics = topic
        .map(|id| {
            vec![share_fetch_request::FetchTopic::default()
                .with_topic_id(id)
                .with_partitions(vec![share_fetch_request::FetchPartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(
                        acks.iter().map(|(f, l, t)| ack_batch(*f, *l, t)).collect(),
                    )])]
        })
        .unwrap_or_default();
    ShareFetchRequest::default()
        .with_group_id(Some(gid(group)))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_max_records(500)
        .with_batch_size(500)
        .with_topics(topics)
}

/// A ShareAcknowledge of partition 0 of topic `id`.
fn share_ack(
    group: &str,
    member: &str,
    epoch: i32,
    id: Uuid,
    acks: &[(i64, i64, &[i8])],
) -> ShareAcknowledgeRequest {
    ShareAcknowledgeRequest::default()
        .with_group_id(Some(gid(group)))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_topics(vec![share_acknowledge_request::AcknowledgeTopic::default()
            .with_topic_id(id)
            .with_partitions(vec![
                share_acknowledge_request::AcknowledgePartition::default()
                    .with_partition_index(0)
                    .with_acknowledgement_batches(
                        acks.iter()
                            .map(|(f, l, t)| {
                                share_acknowledge_request::AcknowledgementBatch::default()
                                    .with_first_offset(*f)
                                    .with_last_offset(*l)
                                    .with_acknowledge_types(t.to_vec())
                            })
                            .collect(),
                    ),
            ])])
}

/// Sends a ShareFetch built per broker and compares the answers with the records scrubbed
/// (`data_support::scrub_records`: byte for byte but for broker-allocated producer ids).
fn fetch_each(
    ctx: &mut Ctx,
    step: &str,
    make: impl Fn(usize) -> ShareFetchRequest,
) -> Each<ShareFetchResponse> {
    let out = each_quiet(ctx, V1, make);
    let cmp = out.clone().map(|mut r| {
        for t in r.responses.iter_mut() {
            for p in t.partitions.iter_mut() {
                if let Some(d) = p.records.as_ref() {
                    p.records = Some(scrub_records(d));
                }
            }
        }
        r
    });
    ctx.compare(&format!("{step}@v{V1}"), &cmp[KAFKA], &cmp[KLAMM]);
    out
}

/// ShareFetch session errors before a session exists (SHARE_SESSION_NOT_FOUND for epochs above
/// 0 and for -1, INVALID_REQUEST for acknowledgements on the opening epoch 0, UNKNOWN_SERVER_ERROR
/// for a member id that is no UUID), ShareAcknowledge without a session; then with
/// share.auto.offset.reset=earliest the session opens and acquires the five records of one batch
/// (delivery count 1, the batch byte for byte); a wrong session epoch
/// (INVALID_SHARE_SESSION_EPOCH); ShareAcknowledge accepting two and releasing one record, then
/// the cases it refuses: the released record, no longer acquired (INVALID_RECORD_STATE), first
/// offset above last, a type count that does not match the range, an unknown type and offsets beyond
/// what was fetched, batches out of order (INVALID_REQUEST), and one it skips (a record below the
/// start offset, accepted already: NONE); the released record comes back with delivery count 2; the
/// rest is accepted on a ShareFetch (acknowledge_error_code) and the session closed (epoch -1),
/// after which its epoch is unknown; DescribeShareGroupOffsets shows the persisted start offset.
fn fetch(ctx: &mut Ctx) {
    let tn = "dg-sg-fetch-topic";
    let g = "dg-sg-fetch";
    let t = create(ctx, tn, 1, &[]);
    metadata(ctx, &[tn]);
    set_group_configs(ctx, g, &[("share.auto.offset.reset", "earliest")]);
    produce(ctx, &t, fixed_batch("sf", 5));
    let mut m = Member::new(g, M1);
    m.join_first(ctx, "first-join", &[tn]);
    let ids = t.ids;

    let refused: [(&str, i32, &str, bool, i16); 4] = [
        ("no-session", 3, M1, false, SHARE_SESSION_NOT_FOUND),
        ("close-no-session", -1, M1, false, SHARE_SESSION_NOT_FOUND),
        ("open-with-acks", 0, M1, true, INVALID_REQUEST),
        (
            "member-not-uuid",
            0,
            "not a uuid!",
            false,
            UNKNOWN_SERVER_ERROR,
        ),
    ];
    for (step, epoch, member, with_acks, code) in refused {
        let acks: &[(i64, i64, &[i8])] = if with_acks { &[(0, 0, &[1])] } else { &[] };
        let r = fetch_each(ctx, step, |i| {
            share_fetch(g, member, epoch, Some(ids[i]), acks, 100)
        });
        expect(
            ctx,
            step,
            (r[KAFKA].error_code, r[KAFKA].responses.len()),
            (code, 0),
        );
    }
    for (step, epoch, code) in [
        ("ack-no-session", 1, SHARE_SESSION_NOT_FOUND),
        ("ack-epoch-0", 0, INVALID_SHARE_SESSION_EPOCH),
    ] {
        let r = each(ctx, step, V1, |i| {
            share_ack(g, M1, epoch, ids[i], &[(0, 0, &[1])])
        });
        expect(ctx, step, r[KAFKA].error_code, code);
    }

    let r = fetch_each(ctx, "open", |i| {
        share_fetch(g, M1, 0, Some(ids[i]), &[], 5000)
    });
    expect(ctx, "open", acquired(&r[KAFKA]), vec![(0, 4, 1)]);
    let records = r[KAFKA].responses[0].partitions[0]
        .records
        .clone()
        .unwrap_or_default();
    let values: Vec<Option<Bytes>> = decode_records(&records)
        .into_iter()
        .map(|r| r.value)
        .collect();
    let want: Vec<Option<Bytes>> = (0..5)
        .map(|i| Some(Bytes::from(format!("sf-v{i}"))))
        .collect();
    expect(ctx, "open", values, want);
    let r = fetch_each(ctx, "wrong-epoch", |i| {
        share_fetch(g, M1, 7, Some(ids[i]), &[], 100)
    });
    expect(
        ctx,
        "wrong-epoch",
        r[KAFKA].error_code,
        INVALID_SHARE_SESSION_EPOCH,
    );
    // Every ShareAcknowledge with the session's epoch moves it on, whatever its partitions get.
    let mut epoch = 1;
    let mut ack = |ctx: &mut Ctx, step: &str, acks: &[(i64, i64, &[i8])], code: i16| {
        let r = each(ctx, step, V1, |i| share_ack(g, M1, epoch, ids[i], acks));
        expect(
            ctx,
            step,
            (r[KAFKA].error_code, ack_code(&r[KAFKA])),
            (NONE, code),
        );
        epoch += 1;
    };
    ack(
        ctx,
        "accept-0-1-release-2",
        &[(0, 1, &[1]), (2, 2, &[2])],
        NONE,
    );
    ack(
        ctx,
        "accept-released",
        &[(2, 2, &[1])],
        INVALID_RECORD_STATE,
    );
    ack(ctx, "accept-below-start", &[(0, 0, &[1])], NONE);
    ack(ctx, "first-above-last", &[(4, 3, &[1])], INVALID_REQUEST);
    ack(
        ctx,
        "type-count-mismatch",
        &[(3, 4, &[1, 1, 1])],
        INVALID_REQUEST,
    );
    ack(ctx, "unknown-type", &[(3, 3, &[9])], INVALID_REQUEST);
    ack(ctx, "beyond-fetched", &[(50, 50, &[1])], INVALID_REQUEST);
    ack(
        ctx,
        "descending-batches",
        &[(4, 4, &[1]), (3, 3, &[1])],
        INVALID_REQUEST,
    );
    let r = fetch_each(ctx, "redelivery", |_| {
        share_fetch(g, M1, epoch, None, &[], 5000)
    });
    expect(ctx, "redelivery", acquired(&r[KAFKA]), vec![(2, 2, 2)]);
    epoch += 1;
    let r = fetch_each(ctx, "accept-rest-on-fetch", |i| {
        share_fetch(g, M1, epoch, Some(ids[i]), &[(2, 4, &[1])], 200)
    });
    let p = &r[KAFKA].responses[0].partitions[0];
    expect(
        ctx,
        "accept-rest-on-fetch",
        (
            p.error_code,
            p.acknowledge_error_code,
            p.acquired_records.len(),
        ),
        (NONE, NONE, 0),
    );
    epoch += 1;
    let r = fetch_each(ctx, "close", |_| share_fetch(g, M1, -1, None, &[], 100));
    expect(ctx, "close", r[KAFKA].error_code, NONE);
    let r = fetch_each(ctx, "after-close", |_| {
        share_fetch(g, M1, epoch, None, &[], 100)
    });
    expect(
        ctx,
        "after-close",
        r[KAFKA].error_code,
        SHARE_SESSION_NOT_FOUND,
    );
    // The persisted start offset: Kafka writes each acknowledgement's state with the start offset
    // as it was, then advances the start offset in memory (SharePartition's
    // maybeUpdateCachedStateAndOffsets after the write), so the store holds 2 (moved there by
    // the first acknowledgement), not the 5 the last one reached.
    let r = describe_offsets(ctx, "offsets-after-acks", g, Some(&[(tn, &[0])]));
    expect(ctx, "offsets-after-acks", start_offsets(&r[KAFKA]), vec![2]);
    m.heartbeat(ctx, "leave", [0, 0], |r| r.with_member_epoch(-1));
}

/// DescribeShareGroupOffsets (v0) of one group, all its initialised partitions (`None`) or the
/// named ones.
/// The start offsets a DescribeShareGroupOffsets answer gives, in topic and partition order.
fn start_offsets(r: &DescribeShareGroupOffsetsResponse) -> Vec<i64> {
    let mut out = Vec::new();
    for g in &r.groups {
        let mut topics: Vec<_> = g.topics.iter().collect();
        topics.sort_by_key(|t| t.topic_name.to_string());
        for t in topics {
            let mut ps: Vec<_> = t.partitions.iter().collect();
            ps.sort_by_key(|p| p.partition_index);
            out.extend(ps.iter().map(|p| p.start_offset));
        }
    }
    out
}

fn describe_offsets(
    ctx: &mut Ctx,
    step: &str,
    group: &str,
    topics: Option<&[(&str, &[i32])]>,
) -> Each<DescribeShareGroupOffsetsResponse> {
    let req = DescribeShareGroupOffsetsRequest::default().with_groups(vec![
        describe_share_group_offsets_request::DescribeShareGroupOffsetsRequestGroup::default()
            .with_group_id(gid(group))
            .with_topics(topics.map(|ts| {
                ts.iter()
                    .map(|(t, ps)| {
                        describe_share_group_offsets_request::DescribeShareGroupOffsetsRequestTopic::default()
                            .with_topic_name(name(t))
                            .with_partitions(ps.to_vec())
                    })
                    .collect()
            })),
    ]);
    ctx.send(step, &req, V0)
}

fn delete_offsets(
    ctx: &mut Ctx,
    step: &str,
    group: &str,
    topics: &[&str],
) -> Each<DeleteShareGroupOffsetsResponse> {
    let req = DeleteShareGroupOffsetsRequest::default()
        .with_group_id(gid(group))
        .with_topics(
            topics
                .iter()
                .map(|t| {
                    delete_share_group_offsets_request::DeleteShareGroupOffsetsRequestTopic::default()
                        .with_topic_name(name(t))
                })
                .collect(),
        );
    ctx.send(step, &req, V0)
}

fn alter_offsets(ctx: &mut Ctx, step: &str, group: &str, topic: &str, start: i64) {
    let req = AlterShareGroupOffsetsRequest::default()
        .with_group_id(gid(group))
        .with_topics(vec![
            alter_share_group_offsets_request::AlterShareGroupOffsetsRequestTopic::default()
                .with_topic_name(name(topic))
                .with_partitions(vec![
                    alter_share_group_offsets_request::AlterShareGroupOffsetsRequestPartition::default()
                        .with_partition_index(0)
                        .with_start_offset(start),
                ]),
        ]);
    ctx.send(step, &req, V0);
}

/// The share-group offsets admin APIs: a member reads and accepts three records;
/// DescribeShareGroupOffsets of all the group's partitions, of named ones (a partition the
/// topic lacks, a topic that does not exist: zero topic id, start offset -1), of a group that
/// does not exist; DeleteShareGroupOffsets and AlterShareGroupOffsets refused while the group
/// has a member (NON_EMPTY_GROUP); after it leaves, AlterShareGroupOffsets (Kafka 4.1.2 answers
/// it empty and changes nothing, see allowed-differences.txt), DeleteShareGroupOffsets of the
/// topic and of a topic the group never read (UNKNOWN_TOPIC_OR_PARTITION), of an empty group id
/// (INVALID_GROUP_ID) and of a group that does not exist (GROUP_ID_NOT_FOUND); the offsets are
/// gone after the delete.
fn offsets(ctx: &mut Ctx) {
    let tn = "dg-sg-offsets-topic";
    let other = "dg-sg-offsets-other";
    let g = "dg-sg-offsets";
    let t = create(ctx, tn, 1, &[]);
    create(ctx, other, 1, &[]);
    metadata(ctx, &[tn, other]);
    set_group_configs(ctx, g, &[("share.auto.offset.reset", "earliest")]);
    produce(ctx, &t, fixed_batch("so", 3));
    let mut m = Member::new(g, M1);
    m.join_first(ctx, "first-join", &[tn]);
    let ids = t.ids;
    let got = fetch_each(ctx, "open", |i| {
        share_fetch(g, M1, 0, Some(ids[i]), &[], 5000)
    });
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.error_code, 0, "open on {}: {r:?}", SIDES[i]);
    }
    each(ctx, "accept-and-close", V1, |i| {
        share_ack(g, M1, -1, ids[i], &[(0, 2, &[1])])
    });

    // The persisted start offset is still 0: the one acknowledgement was written with the start
    // offset before it advanced (see `fetch`).
    let r = describe_offsets(ctx, "describe-all", g, None);
    expect(ctx, "describe-all", start_offsets(&r[KAFKA]), vec![0]);
    let r = describe_offsets(
        ctx,
        "describe-named",
        g,
        Some(&[(tn, &[0, 1]), ("dg-sg-no-such-topic", &[0])]),
    );
    // In topic-name order: the unknown topic's partition, then partitions 0 and 1 of tn.
    expect(
        ctx,
        "describe-named",
        start_offsets(&r[KAFKA]),
        vec![-1, 0, -1],
    );
    let r = describe_offsets(ctx, "describe-unknown-group", "dg-sg-offsets-nosuch", None);
    expect(
        ctx,
        "describe-unknown-group",
        r[KAFKA].groups[0].error_code,
        NONE,
    );
    let r = delete_offsets(ctx, "delete-non-empty", g, &[tn]);
    expect(
        ctx,
        "delete-non-empty",
        r[KAFKA].error_code,
        NON_EMPTY_GROUP,
    );
    alter_offsets(ctx, "alter-non-empty", g, tn, 1);
    m.heartbeat(ctx, "leave", [0, 0], |r| r.with_member_epoch(-1));

    alter_offsets(ctx, "alter-empty", g, tn, 1);
    describe_offsets(ctx, "describe-after-alter", g, None);
    let r = delete_offsets(ctx, "delete-never-read", g, &[other]);
    expect(
        ctx,
        "delete-never-read",
        (r[KAFKA].error_code, r[KAFKA].responses[0].error_code),
        (NONE, UNKNOWN_TOPIC_OR_PARTITION),
    );
    let r = delete_offsets(ctx, "delete-empty-group-id", "", &[tn]);
    expect(
        ctx,
        "delete-empty-group-id",
        r[KAFKA].error_code,
        INVALID_GROUP_ID,
    );
    let r = delete_offsets(ctx, "delete-unknown-group", "dg-sg-offsets-nosuch", &[tn]);
    expect(
        ctx,
        "delete-unknown-group",
        r[KAFKA].error_code,
        GROUP_ID_NOT_FOUND,
    );
    let r = delete_offsets(ctx, "delete", g, &[tn]);
    expect(
        ctx,
        "delete",
        (r[KAFKA].error_code, r[KAFKA].responses[0].error_code),
        (NONE, NONE),
    );
    let r = describe_offsets(ctx, "describe-after-delete", g, None);
    expect(
        ctx,
        "describe-after-delete",
        start_offsets(&r[KAFKA]),
        Vec::<i64>::new(),
    );
    let r = describe_offsets(ctx, "describe-named-after-delete", g, Some(&[(tn, &[0])]));
    expect(
        ctx,
        "describe-named-after-delete",
        start_offsets(&r[KAFKA]),
        vec![-1],
    );
}
