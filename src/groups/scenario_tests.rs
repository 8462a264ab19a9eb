//! Scenario tests of a shard without I/O: writes are "appended" by applying them as the
//! coordinator does (replay, then completions), and time is tokio's paused clock.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::error::Error;
use crate::groups::classic::GroupState;
use crate::groups::member::{JoinResult, Protocol, SyncResult};
use crate::groups::membership::{JoinRequest, LeavingMember, SyncRequest};
use crate::groups::offset_manager::{CommitPartition, CommitRequest};
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::{GroupConfig, ShardState};
use crate::settings::Settings;

fn shard() -> ShardState {
    let mut c = GroupConfig::from_settings(&Settings::defaults());
    c.initial_rebalance_delay_ms = 0;
    let mut st = ShardState::new(0, Arc::new(c));
    st.core.now = 1_000_000;
    st
}

/// Appends nothing, but does what the coordinator does after a successful append.
fn apply_writes(st: &mut ShardState) -> Vec<CoordinatorRecord> {
    let mut all = Vec::new();
    let mut offset = 0;
    loop {
        let writes = std::mem::take(&mut st.core.writes);
        if writes.is_empty() {
            return all;
        }
        for w in writes {
            if w.replay {
                for r in &w.records {
                    st.replay(offset, -1, r);
                    offset += 1;
                }
            }
            all.extend(w.records.iter().cloned());
            if let Some(cb) = w.on_done {
                cb(st, Ok(()));
            }
        }
    }
}

fn tick(st: &mut ShardState) {
    st.run_expired(Instant::now());
    apply_writes(st);
}

fn join_req(group: &str, member: &str, version: i16) -> JoinRequest {
    JoinRequest {
        group_id: group.into(),
        member_id: member.into(),
        group_instance_id: None,
        protocol_type: "consumer".into(),
        protocols: vec![Protocol {
            name: "range".into(),
            metadata: Bytes::from_static(b"sub"),
        }],
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        api_version: version,
        reason: None,
    }
}

fn join(st: &mut ShardState, req: JoinRequest) -> oneshot::Receiver<JoinResult> {
    let (tx, rx) = oneshot::channel();
    st.classic_join(req, tx);
    apply_writes(st);
    rx
}

fn sync(
    st: &mut ShardState,
    group: &str,
    member: &str,
    generation: i32,
    assignments: Vec<(String, Bytes)>,
) -> oneshot::Receiver<SyncResult> {
    let (tx, rx) = oneshot::channel();
    st.classic_sync(
        SyncRequest {
            group_id: group.into(),
            generation_id: generation,
            member_id: member.into(),
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments,
        },
        tx,
    );
    apply_writes(st);
    rx
}

fn code(e: &Option<Error>) -> i16 {
    e.as_ref().map_or(0, Error::code)
}

/// Joins a new member with KIP-394's two steps; returns its member id and parked join.
fn join_new(st: &mut ShardState, group: &str) -> (String, oneshot::Receiver<JoinResult>) {
    let first = join(st, join_req(group, "", 9)).try_recv().unwrap();
    assert_eq!(code(&first.error), 79, "MEMBER_ID_REQUIRED");
    assert!(first.member_id.starts_with("c-"));
    let rx = join(st, join_req(group, &first.member_id, 9));
    (first.member_id, rx)
}

#[tokio::test(start_paused = true)]
async fn a_group_forms_rebalances_and_stabilises() {
    let mut st = shard();
    let (a, mut a_join) = join_new(&mut st, "g");
    assert!(
        a_join.try_recv().is_err(),
        "parked during the initial delay"
    );
    tick(&mut st);
    let r = a_join.try_recv().unwrap();
    assert_eq!(
        (code(&r.error), r.generation_id, r.leader.as_str()),
        (0, 1, a.as_str())
    );
    assert_eq!(r.members.len(), 1);
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    let mut a_sync = sync(
        &mut st,
        "g",
        &a,
        1,
        vec![(a.clone(), Bytes::from_static(b"A1"))],
    );
    let s = a_sync.try_recv().unwrap();
    assert_eq!((code(&s.error), &s.assignment[..]), (0, &b"A1"[..]));
    assert_eq!(st.describe_group("g").state, "Stable");

    // A second member joins: the first learns of the rebalance by heartbeat and rejoins.
    let (b, mut b_join) = join_new(&mut st, "g");
    assert_eq!(
        st.classic_heartbeat("g", &a, None, 1).unwrap_err().code(),
        27
    );
    assert!(b_join.try_recv().is_err());
    let mut a_join = join(&mut st, join_req("g", &a, 9));
    let ra = a_join.try_recv().unwrap();
    let rb = b_join.try_recv().unwrap();
    assert_eq!((ra.generation_id, rb.generation_id), (2, 2));
    assert_eq!(ra.members.len(), 2, "the leader gets the member list");
    assert!(rb.members.is_empty());
    // Followers wait in SyncGroup for the leader's assignment.
    let mut b_sync = sync(&mut st, "g", &b, 2, vec![]);
    assert!(b_sync.try_recv().is_err());
    assert_eq!(st.classic_heartbeat("g", &b, None, 2), Ok(()));
    let mut a_sync = sync(
        &mut st,
        "g",
        &a,
        2,
        vec![
            (a.clone(), Bytes::from_static(b"A2")),
            (b.clone(), Bytes::from_static(b"B2")),
        ],
    );
    assert_eq!(&a_sync.try_recv().unwrap().assignment[..], b"A2");
    assert_eq!(&b_sync.try_recv().unwrap().assignment[..], b"B2");
    assert_eq!(
        st.classic_heartbeat("g", &b, None, 1).unwrap_err().code(),
        22,
        "ILLEGAL_GENERATION"
    );
    assert_eq!(
        st.classic_heartbeat("g", "nobody", None, 2)
            .unwrap_err()
            .code(),
        25
    );

    // b leaves: a rebalance, a rejoins alone.
    let left = st
        .classic_leave(
            "g",
            vec![LeavingMember {
                member_id: b.clone(),
                group_instance_id: None,
                reason: None,
            }],
        )
        .unwrap();
    assert_eq!(code(&left[0].error), 0);
    let mut a_join = join(&mut st, join_req("g", &a, 9));
    let r = a_join.try_recv().unwrap();
    assert_eq!((r.generation_id, r.members.len()), (3, 1));
}

#[tokio::test(start_paused = true)]
async fn session_timeout_removes_a_silent_member() {
    let mut st = shard();
    let (a, mut aj) = join_new(&mut st, "g");
    tick(&mut st);
    aj.try_recv().unwrap();
    sync(&mut st, "g", &a, 1, vec![]).try_recv().unwrap();
    tokio::time::advance(Duration::from_millis(9_000)).await;
    assert_eq!(st.classic_heartbeat("g", &a, None, 1), Ok(()));
    tokio::time::advance(Duration::from_millis(9_000)).await;
    tick(&mut st);
    assert_eq!(
        st.describe_group("g").state,
        "Stable",
        "the heartbeat restarted the session"
    );
    tokio::time::advance(Duration::from_millis(1_001)).await;
    tick(&mut st);
    let d = st.describe_group("g");
    assert_eq!((d.state.as_str(), d.members.len()), ("Empty", 0));
    // The group moved on to an empty generation.
    assert_eq!(st.classic("g").unwrap().0.generation_id(), 2);
}

#[tokio::test(start_paused = true)]
async fn pending_member_expires_and_join_v3_needs_no_member_id() {
    let mut st = shard();
    let first = join(&mut st, join_req("g", "", 5)).try_recv().unwrap();
    assert_eq!(code(&first.error), 79);
    tokio::time::advance(Duration::from_millis(10_001)).await;
    tick(&mut st);
    // The pending id is gone: joining with it now is UNKNOWN_MEMBER_ID.
    let r = join(&mut st, join_req("g", &first.member_id, 5))
        .try_recv()
        .unwrap();
    assert_eq!(code(&r.error), 25);
    // v3 joins directly.
    let mut rx = join(&mut st, join_req("g", "", 3));
    tick(&mut st);
    let r = rx.try_recv().unwrap();
    assert_eq!((code(&r.error), r.generation_id), (0, 1));
}

#[tokio::test(start_paused = true)]
async fn static_member_restart_keeps_the_generation() {
    let mut st = shard();
    let mut req = join_req("g", "", 9);
    req.group_instance_id = Some("i1".into());
    let mut rx = join(&mut st, req.clone());
    tick(&mut st);
    let r = rx.try_recv().unwrap();
    assert!(r.member_id.starts_with("i1-"), "{}", r.member_id);
    sync(
        &mut st,
        "g",
        &r.member_id,
        1,
        vec![(r.member_id.clone(), Bytes::from_static(b"X"))],
    )
    .try_recv()
    .unwrap();
    // Same instance id, unknown member id: replaced without a rebalance, assignment kept.
    let r2 = join(&mut st, req.clone()).try_recv().unwrap();
    assert_eq!(code(&r2.error), 0);
    assert_eq!(r2.generation_id, 1);
    assert!(r2.skip_assignment, "v9 leader skips the assignment");
    assert_ne!(r2.member_id, r.member_id);
    assert_eq!(st.describe_group("g").state, "Stable");
    // The old id is fenced.
    assert_eq!(
        st.classic_heartbeat("g", &r.member_id, Some("i1"), 1)
            .unwrap_err()
            .code(),
        82
    );
    let s = sync(&mut st, "g", &r2.member_id, 1, vec![])
        .try_recv()
        .unwrap();
    assert_eq!(&s.assignment[..], b"X");
    // Admin removal by instance id.
    let left = st
        .classic_leave(
            "g",
            vec![LeavingMember {
                member_id: String::new(),
                group_instance_id: Some("i1".into()),
                reason: None,
            }],
        )
        .unwrap();
    assert_eq!(code(&left[0].error), 0);
}

#[tokio::test(start_paused = true)]
async fn offset_commit_rules() {
    let mut st = shard();
    let commit = |member: &str, generation: i32, version: i16| CommitRequest {
        group_id: "g".into(),
        member_id: member.into(),
        group_instance_id: None,
        generation_id: generation,
        retention_time_ms: -1,
        api_version: version,
        partitions: vec![CommitPartition {
            topic: "t".into(),
            partition: 0,
            offset: 5,
            leader_epoch: 0,
            metadata: Some("m".into()),
        }],
    };
    // Unknown group with a generation: ILLEGAL_GENERATION, or GROUP_ID_NOT_FOUND from v9.
    assert_eq!(st.commit_offsets(commit("x", 1, 8)).unwrap_err().code(), 22);
    assert_eq!(st.commit_offsets(commit("x", 1, 9)).unwrap_err().code(), 69);
    // A simple commit creates the group and is applied once written.
    assert_eq!(st.commit_offsets(commit("", -1, 9)).unwrap(), vec![None]);
    assert!(st.fetch_offsets("g", &[("t".into(), vec![0])], false)[0].1[0].offset == -1);
    apply_writes(&mut st);
    let f = &st.fetch_offsets("g", &[("t".into(), vec![0, 1])], false)[0].1;
    assert_eq!(
        (f[0].offset, f[0].leader_epoch, f[0].metadata.as_str()),
        (5, 0, "m")
    );
    assert_eq!(f[1].offset, -1);
    let mut big = commit("", -1, 9);
    big.partitions[0].metadata = Some("x".repeat(4097));
    assert_eq!(
        st.commit_offsets(big).unwrap(),
        vec![Some(Error::OffsetMetadataTooLarge)]
    );
    assert_eq!(st.list_groups(&[], &[])[0].protocol_type, "");

    // Members of a live group must commit with their generation.
    let (a, mut aj) = join_new(&mut st, "g");
    tick(&mut st);
    aj.try_recv().unwrap();
    assert_eq!(
        st.commit_offsets(commit(&a, 1, 9)).unwrap_err().code(),
        27,
        "CompletingRebalance"
    );
    sync(&mut st, "g", &a, 1, vec![]).try_recv().unwrap();
    assert_eq!(st.commit_offsets(commit(&a, 1, 9)).unwrap(), vec![None]);
    assert_eq!(st.commit_offsets(commit("", -1, 9)).unwrap_err().code(), 25);
    assert_eq!(st.commit_offsets(commit(&a, 0, 9)).unwrap_err().code(), 22);
    // DeleteGroups refuses a live group.
    assert_eq!(
        st.delete_groups(&["g".into()])[0]
            .1
            .as_ref()
            .unwrap()
            .code(),
        68
    );
}

#[tokio::test(start_paused = true)]
async fn delete_group_and_expire_offsets() {
    let mut st = shard();
    let c = |group: &str| CommitRequest {
        group_id: group.into(),
        member_id: String::new(),
        group_instance_id: None,
        generation_id: -1,
        retention_time_ms: -1,
        api_version: 9,
        partitions: vec![CommitPartition {
            topic: "t".into(),
            partition: 0,
            offset: 1,
            leader_epoch: -1,
            metadata: None,
        }],
    };
    st.commit_offsets(c("a")).unwrap();
    st.commit_offsets(c("b")).unwrap();
    apply_writes(&mut st);
    let res = st.delete_groups(&["a".into(), "zz".into()]);
    assert_eq!(res[0].1, None);
    assert_eq!(res[1].1.as_ref().unwrap().code(), 69);
    let written = apply_writes(&mut st);
    assert_eq!(
        written,
        vec![
            CoordinatorRecord::offset_tombstone("a", "t", 0),
            CoordinatorRecord::group_tombstone("a")
        ]
    );
    assert!(st.group("a").is_none());
    assert!(st.fetch_offsets("a", &[("t".into(), vec![0])], false)[0].1[0].offset == -1);

    // Offsets of the simple group "b" expire offsets.retention.minutes after the commit; then the
    // empty group goes too.
    st.core.now += 7 * 24 * 3600 * 1000 - 1;
    st.cleanup_group_metadata();
    assert!(apply_writes(&mut st).is_empty());
    st.core.now += 1;
    st.cleanup_group_metadata();
    assert_eq!(
        apply_writes(&mut st),
        vec![
            CoordinatorRecord::offset_tombstone("b", "t", 0),
            CoordinatorRecord::group_tombstone("b")
        ]
    );
    assert!(st.list_groups(&[], &[]).is_empty());
}

#[tokio::test(start_paused = true)]
async fn replay_rebuilds_groups_and_offsets() {
    let mut st = shard();
    let (a, mut aj) = join_new(&mut st, "g");
    tick(&mut st);
    aj.try_recv().unwrap();
    let mut log = Vec::new();
    let (tx, mut rx) = oneshot::channel();
    st.classic_sync(
        SyncRequest {
            group_id: "g".into(),
            generation_id: 1,
            member_id: a.clone(),
            group_instance_id: None,
            protocol_type: None,
            protocol_name: None,
            assignments: vec![(a.clone(), Bytes::from_static(b"A"))],
        },
        tx,
    );
    log.extend(apply_writes(&mut st));
    rx.try_recv().unwrap();
    // Replay only the group record into a fresh shard: the group is back, Stable, with its
    // member and assignment; the member's session starts at load.
    let mut fresh = shard();
    for (i, r) in log.iter().enumerate() {
        fresh.replay(i as i64, -1, r);
    }
    fresh.on_loaded();
    let d = fresh.describe_group("g");
    assert_eq!((d.state.as_str(), d.members.len()), ("Stable", 1));
    assert_eq!(&d.members[0].assignment[..], b"A");
    assert_eq!(fresh.classic_heartbeat("g", &a, None, 1), Ok(()));
    let (g, _) = fresh.classic("g").unwrap();
    assert_eq!(g.state(), GroupState::Stable);
}

#[tokio::test(start_paused = true)]
async fn rebalance_timeout_drops_members_that_do_not_rejoin_or_sync() {
    let mut st = shard();
    // a's session (60 s) outlasts the rebalance timeout (30 s).
    let mut req = join_req("g", "", 3);
    req.session_timeout_ms = 60_000;
    let mut aj = join(&mut st, req);
    tick(&mut st);
    let a = aj.try_recv().unwrap().member_id;
    sync(&mut st, "g", &a, 1, vec![]).try_recv().unwrap();
    // b joins; a never rejoins: the join phase completes without it after the rebalance timeout.
    let (b, mut bj) = join_new(&mut st, "g");
    tokio::time::advance(Duration::from_millis(29_999)).await;
    tick(&mut st);
    assert!(bj.try_recv().is_err(), "waiting for a to rejoin");
    tokio::time::advance(Duration::from_millis(1)).await;
    tick(&mut st);
    let r = bj.try_recv().unwrap();
    assert_eq!(
        (code(&r.error), r.generation_id, r.members.len()),
        (0, 2, 1)
    );
    assert_eq!(r.leader, b, "the leader that did not rejoin was replaced");
    assert_eq!(
        st.classic_heartbeat("g", &a, None, 1).unwrap_err().code(),
        25
    );

    // b heartbeats but never sends SyncGroup: removed when the rebalance timeout passes.
    for _ in 0..3 {
        tokio::time::advance(Duration::from_millis(9_000)).await;
        tick(&mut st);
        assert_eq!(st.classic_heartbeat("g", &b, None, 2), Ok(()));
    }
    assert_eq!(st.describe_group("g").state, "CompletingRebalance");
    tokio::time::advance(Duration::from_millis(3_000)).await;
    tick(&mut st);
    let d = st.describe_group("g");
    assert_eq!((d.state.as_str(), d.members.len()), ("Empty", 0));
}
