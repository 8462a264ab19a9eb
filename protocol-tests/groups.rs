//! Consumer-group membership: FindCoordinator, JoinGroup, SyncGroup, Heartbeat and LeaveGroup
//! at every advertised version, with Kafka's error codes (KIP-394 member ids, KIP-345 static
//! members, session and rebalance timeouts, the initial rebalance delay), and a Java consumer's
//! own captured frames replayed in order with the live member id and generation put in (member
//! ids are the broker's to hand out). Committed offsets and group administration are in
//! `group_offsets.rs`.
//!
//! Brokers run with `group.initial.rebalance.delay.ms=0` unless a test is about that delay.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::*;

use crate::support::groups::*;
use crate::support::*;

// ---- FindCoordinator --------------------------------------------------------------------------

#[test]
fn find_coordinator_every_version() {
    let broker = broker();
    let mut c = broker.client();
    for v in versions(ApiKey::FindCoordinator) {
        for key_type in [0i8, 1] {
            let mut req = FindCoordinatorRequest::default();
            if v >= 1 {
                req.key_type = key_type;
            } else if key_type != 0 {
                continue;
            }
            if v >= 4 {
                req.coordinator_keys = vec![s("group-a"), s("group-b")];
            } else {
                req.key = s("group-a");
            }
            let resp = c.send(&req, v);
            if v >= 4 {
                let keys: Vec<&str> = resp.coordinators.iter().map(|c| c.key.as_str()).collect();
                assert_eq!(keys, ["group-a", "group-b"], "v{v}");
                for co in &resp.coordinators {
                    assert_eq!(co.error_code, code::NONE, "v{v}");
                    assert_eq!(
                        (co.node_id.0, co.host.as_str(), co.port),
                        (0, broker.advertised_host.as_str(), broker.advertised_port)
                    );
                }
            } else {
                assert_eq!(resp.error_code, code::NONE, "v{v}");
                assert_eq!(
                    (resp.node_id.0, resp.host.as_str(), resp.port),
                    (0, broker.advertised_host.as_str(), broker.advertised_port)
                );
                if v >= 1 {
                    assert_eq!(
                        resp.error_message.as_deref(),
                        Some("NONE"),
                        "Kafka sends Errors.NONE.message()"
                    );
                }
            }
        }
    }
    // The group lookup created __consumer_offsets: internal, 50 partitions, compacted.
    let md = describe_topic(&mut c, "__consumer_offsets");
    assert_eq!(md.error_code, code::NONE);
    assert!(md.is_internal);
    assert_eq!(md.partitions.len(), 50);
    // The share coordinator (KIP-932): a key that is not `group:topicId:partition` is
    // INVALID_REQUEST with no node; a share-partition key finds this broker and creates
    // __share_group_state (50 partitions, cleanup.policy=delete), as Kafka does.
    let resp = c.send(
        &FindCoordinatorRequest::default()
            .with_key_type(2)
            .with_coordinator_keys(vec![s("g"), s("g:AAAAAAAAAAAAAAAAAAAAAA:x")]),
        6,
    );
    for k in &resp.coordinators {
        assert_eq!(k.error_code, code::INVALID_REQUEST, "{:?}", k.key);
        assert_eq!(k.node_id.0, -1);
    }
    let resp = c.send(
        &FindCoordinatorRequest::default()
            .with_key_type(2)
            .with_coordinator_keys(vec![s("g:AAAAAAAAAAAAAAAAAAAAAQ:3")]),
        6,
    );
    assert_eq!(resp.coordinators[0].error_code, code::NONE);
    assert_eq!(resp.coordinators[0].node_id.0, 0);
    let md = describe_topic(&mut c, "__share_group_state");
    assert_eq!(md.error_code, code::NONE);
    assert!(md.is_internal);
    assert_eq!(md.partitions.len(), 50);
}

// ---- JoinGroup / SyncGroup / Heartbeat / LeaveGroup -------------------------------------------

#[test]
fn join_group_every_version() {
    let broker = broker();
    let mut c = broker.client();
    for v in versions(ApiKey::JoinGroup) {
        let group = format!("join-v{v}");
        let j = join_new(&mut c, &group, v, &["t"]);
        assert_eq!(j.error_code, code::NONE, "v{v}");
        assert_eq!(j.generation_id, 1, "v{v}");
        assert_eq!(j.leader, j.member_id, "v{v}: the only member leads");
        assert_eq!(j.members.len(), 1, "v{v}: the leader gets the member list");
        assert_eq!(j.members[0].metadata, subscription(&["t"]));
        assert_eq!(j.protocol_name.as_deref(), Some("range"), "v{v}");
        if v >= 7 {
            assert_eq!(j.protocol_type.as_deref(), Some("consumer"));
        }
        // Joining again with the same metadata before SyncGroup (a lost JoinGroup answer):
        // the same generation again.
        let again = c.send(&join_request(&group, &j.member_id, v, &["t"]), v);
        assert_eq!(
            (again.error_code, again.generation_id, again.members.len()),
            (code::NONE, 1, 1),
            "v{v}"
        );
        let m = j.member_id.to_string();
        assert_eq!(
            c.send(&sync_request(&group, 1, &m, 5, &[]), 5).error_code,
            code::NONE
        );
        // The leader joining a Stable group forces a new generation.
        let again = c.send(&join_request(&group, &j.member_id, v, &["t"]), v);
        assert_eq!(
            (again.error_code, again.generation_id),
            (code::NONE, 2),
            "v{v}"
        );
    }
}

#[test]
fn sync_heartbeat_and_leave_every_version() {
    let broker = broker();
    let mut c = broker.client();
    for v in versions(ApiKey::SyncGroup) {
        let group = format!("sync-v{v}");
        let j = join_new(&mut c, &group, 9, &["t"]);
        let m = j.member_id.to_string();
        let resp = c.send(
            &sync_request(&group, j.generation_id, &m, v, &[(&m, b"mine")]),
            v,
        );
        assert_eq!(resp.error_code, code::NONE, "SyncGroup v{v}");
        assert_eq!(&resp.assignment[..], b"mine");
        if v >= 5 {
            assert_eq!(resp.protocol_type.as_deref(), Some("consumer"));
            assert_eq!(resp.protocol_name.as_deref(), Some("range"));
        }
        // Stable now: a second sync returns the stored assignment.
        let resp = c.send(&sync_request(&group, j.generation_id, &m, v, &[]), v);
        assert_eq!(
            (resp.error_code, &resp.assignment[..]),
            (code::NONE, &b"mine"[..])
        );
        let bad = c.send(&sync_request(&group, j.generation_id + 1, &m, v, &[]), v);
        assert_eq!(bad.error_code, code::ILLEGAL_GENERATION, "SyncGroup v{v}");
    }
    // SyncGroup v5 needs the protocol type and name.
    let (m, generation) = form_group(&mut c, "sync-v5-null", &["t"]);
    let mut req = sync_request("sync-v5-null", generation, &m, 5, &[]);
    req.protocol_name = None;
    assert_eq!(
        c.send(&req, 5).error_code,
        code::INCONSISTENT_GROUP_PROTOCOL
    );

    for v in versions(ApiKey::Heartbeat) {
        let group = format!("hb-v{v}");
        let (m, generation) = form_group(&mut c, &group, &["t"]);
        assert_eq!(
            heartbeat(&mut c, &group, &m, generation, v),
            code::NONE,
            "v{v}"
        );
        assert_eq!(
            heartbeat(&mut c, &group, &m, generation + 1, v),
            code::ILLEGAL_GENERATION,
            "v{v}"
        );
        assert_eq!(
            heartbeat(&mut c, &group, "stranger", generation, v),
            code::UNKNOWN_MEMBER_ID,
            "v{v}"
        );
        assert_eq!(
            heartbeat(&mut c, "no-such-group", &m, generation, v),
            code::UNKNOWN_MEMBER_ID,
            "v{v}"
        );
        assert_eq!(
            heartbeat(&mut c, "", &m, generation, v),
            code::INVALID_GROUP_ID,
            "v{v}"
        );
    }

    for v in versions(ApiKey::LeaveGroup) {
        let group = format!("leave-v{v}");
        let (m, _) = form_group(&mut c, &group, &["t"]);
        let req = if v >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(gid(&group))
                .with_members(vec![
                    MemberIdentity::default().with_member_id(s(&m)),
                    MemberIdentity::default().with_member_id(s("stranger")),
                ])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(gid(&group))
                .with_member_id(s(&m))
        };
        let resp = c.send(&req, v);
        assert_eq!(resp.error_code, code::NONE, "LeaveGroup v{v}");
        if v >= 3 {
            let codes: Vec<(String, i16)> = resp
                .members
                .iter()
                .map(|r| (r.member_id.to_string(), r.error_code))
                .collect();
            assert_eq!(
                codes,
                vec![
                    (m.clone(), code::NONE),
                    ("stranger".to_string(), code::UNKNOWN_MEMBER_ID)
                ]
            );
        }
        let d = describe(&mut c, &group, 5);
        assert_eq!(
            (d.group_state.as_str(), d.members.len()),
            ("Empty", 0),
            "v{v}"
        );
        // An unknown group: UNKNOWN_MEMBER_ID (per member from v3).
        let req = if v >= 3 {
            LeaveGroupRequest::default()
                .with_group_id(gid("nope"))
                .with_members(vec![MemberIdentity::default().with_member_id(s("x"))])
        } else {
            LeaveGroupRequest::default()
                .with_group_id(gid("nope"))
                .with_member_id(s("x"))
        };
        let resp = c.send(&req, v);
        if v >= 3 {
            assert_eq!(
                (resp.error_code, resp.members[0].error_code),
                (code::NONE, code::UNKNOWN_MEMBER_ID)
            );
        } else {
            assert_eq!(resp.error_code, code::UNKNOWN_MEMBER_ID);
        }
    }
}

#[test]
fn join_errors_follow_kafka() {
    let broker = broker();
    let mut c = broker.client();
    // Session timeout outside [group.min.session.timeout.ms, group.max.session.timeout.ms].
    let mut r = join_request("g", "", 9, &["t"]);
    r.session_timeout_ms = 99;
    assert_eq!(c.send(&r, 9).error_code, code::INVALID_SESSION_TIMEOUT);
    r.session_timeout_ms = 1_800_001;
    assert_eq!(c.send(&r, 9).error_code, code::INVALID_SESSION_TIMEOUT);
    assert_eq!(
        c.send(&join_request("", "", 9, &["t"]), 9).error_code,
        code::INVALID_GROUP_ID
    );
    // An unknown member id for a group that does not exist.
    let resp = c.send(&join_request("g", "ghost", 9, &["t"]), 9);
    assert_eq!(
        (resp.error_code, resp.member_id.as_str()),
        (code::UNKNOWN_MEMBER_ID, "ghost")
    );
    // Empty protocol type, or a protocol the group does not speak.
    let mut r = join_request("g2", "", 3, &["t"]);
    r.protocol_type = s("");
    assert_eq!(c.send(&r, 3).error_code, code::INCONSISTENT_GROUP_PROTOCOL);
    form_group(&mut c, "g", &["t"]);
    let mut other = join_request("g", "", 3, &["t"]);
    other.protocols[0].name = s("roundrobin");
    assert_eq!(
        c.send(&other, 3).error_code,
        code::INCONSISTENT_GROUP_PROTOCOL
    );
    other.protocol_type = s("connect");
    other.protocols[0].name = s("range");
    assert_eq!(
        c.send(&other, 3).error_code,
        code::INCONSISTENT_GROUP_PROTOCOL
    );

    // group.max.size=1: a second member is refused (checked before anything else).
    let broker = Broker::with_overrides(&[
        ("group.initial.rebalance.delay.ms", "0"),
        ("group.max.size", "1"),
    ]);
    let mut c = broker.client();
    let (m, generation) = form_group(&mut c, "g", &["t"]);
    let resp = c.send(&join_request("g", "", 3, &["t"]), 3);
    assert_eq!(
        (resp.error_code, resp.member_id.as_str()),
        (code::GROUP_MAX_SIZE_REACHED, "")
    );
    assert_eq!(heartbeat(&mut c, "g", &m, generation, 4), code::NONE);
}

#[test]
fn second_member_triggers_a_rebalance() {
    let broker = broker();
    let mut a = broker.client();
    let (ma, g1) = form_group(&mut a, "rb", &["t"]);
    // b's join parks until a rejoins; a learns of the rebalance from its heartbeat.
    let addr = broker.addr;
    let b_thread = std::thread::spawn(move || {
        let mut b = Client::connect(addr);
        join_new(&mut b, "rb", 9, &["t"])
    });
    assert!(
        eventually(Duration::from_secs(10), || heartbeat(
            &mut a, "rb", &ma, g1, 4
        ) == code::REBALANCE_IN_PROGRESS),
        "the first member is told to rejoin"
    );
    let ja = a.send(&join_request("rb", &ma, 9, &["t"]), 9);
    let jb = b_thread.join().expect("b joined");
    assert_eq!((ja.error_code, jb.error_code), (code::NONE, code::NONE));
    assert_eq!((ja.generation_id, jb.generation_id), (g1 + 1, g1 + 1));
    assert_eq!(ja.leader.as_str(), ma);
    assert_eq!(ja.members.len(), 2);
    assert!(jb.members.is_empty());
    let d = describe(&mut a, "rb", 5);
    assert_eq!(d.group_state.as_str(), "CompletingRebalance");
    // Commits during CompletingRebalance: REBALANCE_IN_PROGRESS.
    create_topic(&mut a, "t", 1);
    let resp = a.send(&commit_request("rb", &ma, g1 + 1, 8, "t", &[(0, 1)]), 8);
    assert_eq!(commit_codes(&resp), vec![(0, code::REBALANCE_IN_PROGRESS)]);
    // b waits in SyncGroup for the leader's assignment.
    let mb = jb.member_id.to_string();
    let b_sync = std::thread::spawn(move || {
        let mut b = Client::connect(addr);
        b.send(&sync_request("rb", g1 + 1, &mb, 5, &[]), 5)
    });
    let mbs = jb.member_id.to_string();
    let sa = a.send(
        &sync_request("rb", g1 + 1, &ma, 5, &[(&ma, b"A"), (&mbs, b"B")]),
        5,
    );
    let sb = b_sync.join().expect("b synced");
    assert_eq!(
        (&sa.assignment[..], &sb.assignment[..]),
        (&b"A"[..], &b"B"[..])
    );
    let d = describe(&mut a, "rb", 5);
    assert_eq!(
        (
            d.group_state.as_str(),
            d.members.len(),
            d.protocol_data.as_str()
        ),
        ("Stable", 2, "range")
    );
}

#[test]
fn session_timeout_removes_the_member() {
    let broker = broker();
    let mut c = broker.client();
    let mut r = join_request("st", "", 3, &["t"]);
    r.session_timeout_ms = 300;
    let j = c.send(&r, 3);
    assert_eq!(j.error_code, code::NONE);
    let m = j.member_id.to_string();
    assert_eq!(
        c.send(&sync_request("st", 1, &m, 3, &[]), 3).error_code,
        code::NONE
    );
    // Heartbeats keep it; silence removes it.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(heartbeat(&mut c, "st", &m, 1, 3), code::NONE);
    }
    let start = Instant::now();
    assert!(eventually(Duration::from_secs(10), || describe(
        &mut c, "st", 5
    )
    .group_state
    .as_str()
        == "Empty"));
    assert!(
        start.elapsed() >= Duration::from_millis(200),
        "not before the session timeout"
    );
    assert_eq!(heartbeat(&mut c, "st", &m, 1, 3), code::UNKNOWN_MEMBER_ID);
}

#[test]
fn static_member_rejoin_and_fencing() {
    let broker = broker();
    let mut c = broker.client();
    let mut r = join_request("static", "", 5, &["t"]);
    r.group_instance_id = Some(s("instance-1"));
    let j1 = c.send(&r, 5);
    assert_eq!(
        j1.error_code,
        code::NONE,
        "a static member needs no member-id round trip"
    );
    assert!(j1.member_id.starts_with("instance-1-"));
    let m1 = j1.member_id.to_string();
    let mut s1 = sync_request("static", 1, &m1, 5, &[(&m1, b"kept")]);
    s1.group_instance_id = Some(s("instance-1"));
    assert_eq!(c.send(&s1, 5).error_code, code::NONE);
    // Restarted with the same instance id: new member id, same generation, no rebalance.
    let j2 = c.send(&r, 5);
    assert_eq!((j2.error_code, j2.generation_id), (code::NONE, 1));
    assert_ne!(j2.member_id, j1.member_id);
    assert_eq!(describe(&mut c, "static", 5).group_state.as_str(), "Stable");
    let mut hb = HeartbeatRequest::default()
        .with_group_id(gid("static"))
        .with_member_id(s(&m1))
        .with_generation_id(1)
        .with_group_instance_id(Some(s("instance-1")));
    assert_eq!(c.send(&hb, 4).error_code, code::FENCED_INSTANCE_ID);
    hb.member_id = j2.member_id.clone();
    assert_eq!(c.send(&hb, 4).error_code, code::NONE);
    let mut s2 = sync_request("static", 1, &j2.member_id, 5, &[]);
    s2.group_instance_id = Some(s("instance-1"));
    assert_eq!(&c.send(&s2, 5).assignment[..], b"kept");
    let d = describe(&mut c, "static", 4);
    assert_eq!(
        d.members[0].group_instance_id.as_deref(),
        Some("instance-1")
    );
    // Administrative removal by instance id (LeaveGroup v3+).
    let resp = c.send(
        &LeaveGroupRequest::default()
            .with_group_id(gid("static"))
            .with_members(vec![MemberIdentity::default()
                .with_member_id(s(""))
                .with_group_instance_id(Some(s("instance-1")))]),
        4,
    );
    assert_eq!(resp.members[0].error_code, code::NONE);
    assert_eq!(describe(&mut c, "static", 5).group_state.as_str(), "Empty");
}

// ---- A Java consumer's captured frames, in order ------------------------------------------------

fn capture(file: &str) -> Bytes {
    let path = shared_dir().join("wire-captures/java").join(file);
    let frame = hex_decode(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    );
    let api = ApiKey::try_from(i16::from_be_bytes([frame[4], frame[5]])).expect("api key");
    let v = i16::from_be_bytes([frame[6], frame[7]]);
    let mut body = Bytes::copy_from_slice(&frame[4..]);
    let _ = <RequestHeader as kafka_protocol::protocol::Decodable>::decode(
        &mut body,
        api.request_header_version(v),
    )
    .expect("header");
    body
}

fn decoded<T: kafka_protocol::protocol::Decodable>(file: &str, v: i16) -> T {
    T::decode(&mut capture(file), v).expect("captured body")
}

/// The Java consumer of `sub-000-ufMJIvQ` (KafkaConsumer 3.x), frame by frame: FindCoordinator
/// v4, JoinGroup v9 (MEMBER_ID_REQUIRED), JoinGroup v9 with the member id, SyncGroup v5 with the
/// leader's assignment, OffsetFetch v8 (require_stable), OffsetCommit v8, Heartbeat v4,
/// OffsetForLeaderEpoch v3 and LeaveGroup v5, each as the client sent it except for the member
/// id and generation this broker handed out, with the answers the consumer needs to go on.
#[test]
fn java_consumer_frames_in_order() {
    let broker = broker();
    let mut c = broker.client();
    let topic = "test-topic-0000000-oWpvdQM";
    let t = create_topic(&mut c, topic, 10);
    produce_ok(&mut c, &t, 0, &recs("j", 7));

    let fc: FindCoordinatorRequest = decoded("10-FindCoordinator-v4-1.hex", 4);
    let group = fc.coordinator_keys[0].to_string();
    let resp = c.send(&fc, 4);
    assert_eq!(
        (resp.coordinators[0].error_code, resp.coordinators[0].port),
        (code::NONE, broker.advertised_port)
    );

    let join: JoinGroupRequest = decoded("11-JoinGroup-v9-1.hex", 9);
    assert_eq!(join.group_id.as_str(), group);
    let first = c.send(&join, 9);
    assert_eq!(first.error_code, code::MEMBER_ID_REQUIRED);
    let member = first.member_id.to_string();
    let mut rejoin: JoinGroupRequest = decoded("11-JoinGroup-v9-3.hex", 9);
    rejoin.member_id = s(&member);
    let j = c.send(&rejoin, 9);
    assert_eq!(
        (j.error_code, j.generation_id, j.leader.as_str()),
        (code::NONE, 1, member.as_str())
    );
    assert_eq!(
        j.protocol_name.as_deref(),
        Some("range"),
        "range is the first protocol both lists share"
    );
    assert_eq!(
        j.members[0].metadata, rejoin.protocols[0].metadata,
        "the leader sees the subscription as sent"
    );

    let mut sync: SyncGroupRequest = decoded("14-SyncGroup-v5-1.hex", 5);
    sync.member_id = s(&member);
    sync.generation_id = j.generation_id;
    sync.assignments[0].member_id = s(&member);
    let assignment = sync.assignments[0].assignment.clone();
    let resp = c.send(&sync, 5);
    assert_eq!(
        (resp.error_code, resp.assignment.clone()),
        (code::NONE, assignment)
    );
    assert_eq!(
        (resp.protocol_type.as_deref(), resp.protocol_name.as_deref()),
        (Some("consumer"), Some("range"))
    );

    let fetch: OffsetFetchRequest = decoded("9-OffsetFetch-v8-1.hex", 8);
    let resp = c.send(&fetch, 8);
    assert_eq!(resp.groups[0].error_code, code::NONE);
    assert!(resp.groups[0].topics[0]
        .partitions
        .iter()
        .all(|p| p.committed_offset == -1 && p.error_code == 0));
    assert_eq!(resp.groups[0].topics[0].partitions.len(), 10);

    for file in ["8-OffsetCommit-v8-1.hex", "8-OffsetCommit-v8-2.hex"] {
        let mut commit: OffsetCommitRequest = decoded(file, 8);
        commit.member_id = s(&member);
        commit.generation_id_or_member_epoch = j.generation_id;
        let resp = c.send(&commit, 8);
        assert_eq!(
            commit_codes(&resp).iter().map(|x| x.1).collect::<Vec<_>>(),
            vec![code::NONE],
            "{file}"
        );
    }
    let resp = c.send(&fetch, 8);
    let committed: Vec<(i32, i64)> = resp.groups[0].topics[0]
        .partitions
        .iter()
        .filter(|p| p.committed_offset >= 0)
        .map(|p| (p.partition_index, p.committed_offset))
        .collect();
    assert_eq!(committed, vec![(1, 1), (0, 6)]);

    let mut hb: HeartbeatRequest = decoded("12-Heartbeat-v4-1.hex", 4);
    hb.group_id = gid(&group);
    hb.member_id = s(&member);
    hb.generation_id = j.generation_id;
    assert_eq!(c.send(&hb, 4).error_code, code::NONE);

    let mut ofle: OffsetForLeaderEpochRequest = decoded("23-OffsetForLeaderEpoch-v3-1.hex", 3);
    ofle.topics[0].topic = name(topic);
    let resp = c.send(&ofle, 3);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(
        (p.error_code, p.leader_epoch, p.end_offset),
        (code::NONE, 0, 7),
        "epoch 0 ends at the log end"
    );

    let lg: ListGroupsRequest = decoded("16-ListGroups-v4-1.hex", 4);
    let resp = c.send(&lg, 4);
    assert_eq!(
        resp.groups
            .iter()
            .map(|g| (g.group_id.to_string(), g.group_state.to_string()))
            .collect::<Vec<_>>(),
        vec![(group.clone(), "Stable".to_string())]
    );

    let mut leave: LeaveGroupRequest = decoded("13-LeaveGroup-v5-1.hex", 5);
    leave.group_id = gid(&group);
    leave.members[0].member_id = s(&member);
    let resp = c.send(&leave, 5);
    assert_eq!(
        (resp.error_code, resp.members[0].error_code),
        (code::NONE, code::NONE)
    );
    assert_eq!(describe(&mut c, &group, 5).group_state.as_str(), "Empty");
}

#[test]
fn initial_rebalance_delay_waits_for_more_members() {
    let broker = Broker::with_overrides(&[("group.initial.rebalance.delay.ms", "300")]);
    let mut c = broker.client();
    let start = Instant::now();
    let j = join_new(&mut c, "delayed", 9, &["t"]);
    let took = start.elapsed();
    assert_eq!(j.error_code, code::NONE);
    assert!(
        took >= Duration::from_millis(290),
        "the join waited the initial delay ({took:?})"
    );
    assert!(
        took < Duration::from_secs(5),
        "and not much longer ({took:?})"
    );
}
