//! KIP-848 consumer groups: ConsumerGroupHeartbeat (key 68) and ConsumerGroupDescribe (key 69)
//! at every advertised version: joining, steady heartbeats, partitions moving between members
//! only after the old owner acknowledged their revocation, fencing by epoch, regex
//! subscriptions, session timeouts, restarts; and how the group shows in the offset and admin
//! APIs (member epochs in OffsetCommit/OffsetFetch, ListGroups types, classic/consumer mixing).

use std::collections::BTreeSet;
use std::time::Duration;

use kafka_protocol::messages::list_groups_request::ListGroupsRequest;
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::*;

use crate::support::consumer_groups::*;
use crate::support::groups::{commit_codes, commit_request, gid, join_request as classic_join};
use crate::support::*;

fn hb_versions() -> std::ops::RangeInclusive<i16> {
    versions(ApiKey::ConsumerGroupHeartbeat)
}

#[test]
fn join_steady_heartbeats_and_describe_at_every_version() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "cg-join", 6);
    for v in hb_versions() {
        let group = format!("join-{v}");
        let mut m = Member::join(&mut c, &group, &["cg-join"], v);
        assert_eq!(m.epoch, 1, "v{v}: the first member gets group epoch 1");
        assert_eq!(
            m.owned,
            owned(t.id, 0..6),
            "v{v}: a lone member gets every partition"
        );
        // Steady heartbeats: same epoch, no assignment repeated, the configured interval.
        for _ in 0..3 {
            let r = m.heartbeat(&mut c, v);
            assert_eq!(r.error_code, code::NONE);
            assert_eq!(r.member_epoch, 1);
            assert_eq!(r.heartbeat_interval_ms, 200);
            assert!(
                r.assignment.is_none(),
                "v{v}: unchanged assignment is not resent"
            );
            assert_eq!(r.member_id.as_deref(), Some(m.id.as_str()));
        }
        for dv in versions(ApiKey::ConsumerGroupDescribe) {
            let d = describe_group(&mut c, &group, dv);
            assert_eq!(d.error_code, code::NONE);
            assert_eq!(d.group_state.as_str(), "Stable");
            assert_eq!((d.group_epoch, d.assignment_epoch), (1, 1));
            assert_eq!(d.assignor_name.as_str(), "uniform");
            assert_eq!(d.members.len(), 1);
            let dm = &d.members[0];
            assert_eq!(dm.member_id.as_str(), m.id);
            assert_eq!(dm.member_epoch, 1);
            assert_eq!(dm.client_id.as_str(), client::CLIENT_ID);
            assert_eq!(dm.client_host.as_str(), "/127.0.0.1");
            let names: Vec<&str> = dm
                .subscribed_topic_names
                .iter()
                .map(|n| n.as_str())
                .collect();
            assert_eq!(names, ["cg-join"]);
            for a in [&dm.assignment, &dm.target_assignment] {
                assert_eq!(a.topic_partitions.len(), 1);
                assert_eq!(a.topic_partitions[0].topic_id, t.id);
                assert_eq!(a.topic_partitions[0].topic_name.as_str(), "cg-join");
                assert_eq!(a.topic_partitions[0].partitions, (0..6).collect::<Vec<_>>());
            }
            assert_eq!(dm.member_type, if dv >= 1 { 1 } else { -1 });
            assert_ne!(d.authorized_operations, i32::MIN);
        }
    }
    // Unknown group and a classic group: GROUP_ID_NOT_FOUND.
    for dv in versions(ApiKey::ConsumerGroupDescribe) {
        let d = describe_group(&mut c, "nope", dv);
        assert_eq!(d.error_code, code::GROUP_ID_NOT_FOUND);
        assert!(d.error_message.is_some());
    }
}

#[test]
fn partitions_move_only_after_revocation_is_acknowledged() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "cg-move", 6);
    for v in hb_versions() {
        let group = format!("move-{v}");
        let mut a = Member::join(&mut c, &group, &["cg-move"], v);
        assert_eq!(count(&a.owned), 6);
        let mut bm = Member::join(&mut c, &group, &["cg-move"], v);
        // B is at the new epoch but gets nothing yet: A still owns every partition.
        assert_eq!(bm.epoch, 2);
        assert!(bm.owned.is_empty(), "v{v}: B must wait for A to revoke");

        // A is told to give up 3 partitions and stays at epoch 1 while it revokes.
        let r = a.heartbeat(&mut c, v);
        assert_eq!(r.error_code, code::NONE);
        assert_eq!(
            r.member_epoch, 1,
            "v{v}: A keeps its epoch until it acknowledges"
        );
        let kept = assignment(&r).expect("A gets its reduced assignment");
        assert_eq!(count(&kept), 3);

        // A has not acknowledged yet (still reports all 6): B still gets nothing.
        let still_all = owned(t.id, 0..6);
        let r = c.send(&heartbeat_request(&group, &a.id, 1, Some(&still_all)), v);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, 1));
        let r = bm.heartbeat(&mut c, v);
        assert_eq!(r.error_code, code::NONE);
        assert!(bm.owned.is_empty(), "v{v}: no partition is owned twice");

        // A acknowledges (reports only what it kept): it moves to epoch 2.
        a.owned = kept.clone();
        let r = a.heartbeat(&mut c, v);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, 2));
        // Now B gets the released partitions.
        let r = bm.heartbeat(&mut c, v);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, 2));
        assert_eq!(count(&bm.owned), 3, "v{v}: B gets the revoked partitions");
        let all: BTreeSet<i32> = a.owned[&t.id].union(&bm.owned[&t.id]).copied().collect();
        assert_eq!(
            all,
            (0..6).collect(),
            "v{v}: together they own every partition"
        );
        assert!(a.owned[&t.id].is_disjoint(&bm.owned[&t.id]));
        let d = describe_group(&mut c, &group, 1);
        assert_eq!(d.group_state.as_str(), "Stable");
        assert_eq!((d.group_epoch, d.assignment_epoch), (2, 2));

        // B leaves (epoch -1): A gets everything back at epoch 3.
        let r = c.send(&heartbeat_request(&group, &bm.id, -1, None), v);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, -1));
        let r = a.heartbeat(&mut c, v);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, 3));
        assert_eq!(a.owned, owned(t.id, 0..6));
        // The member that left is unknown now.
        let r = bm.heartbeat(&mut c, v);
        assert_eq!(r.error_code, code::UNKNOWN_MEMBER_ID);
    }
}

#[test]
fn fencing_by_epoch_and_request_validation() {
    let b = broker();
    let mut c = b.client();
    create_topic(&mut c, "cg-fence", 2);
    for v in hb_versions() {
        let group = format!("fence-{v}");
        let m = Member::join(&mut c, &group, &["cg-fence"], v);
        // A greater epoch than the coordinator's, or a smaller one that is not the previous
        // epoch: FENCED_MEMBER_EPOCH.
        let r = c.send(&heartbeat_request(&group, &m.id, m.epoch + 1, None), v);
        assert_eq!(r.error_code, code::FENCED_MEMBER_EPOCH, "v{v}");
        assert!(r.error_message.is_some());
        // An unknown member id.
        let r = c.send(&heartbeat_request(&group, "someone-else", 1, None), v);
        assert_eq!(r.error_code, code::UNKNOWN_MEMBER_ID, "v{v}");
        // An unknown group with a non-zero epoch.
        let r = c.send(&heartbeat_request("no-such-group", &m.id, 1, None), v);
        assert_eq!(r.error_code, code::GROUP_ID_NOT_FOUND, "v{v}");
        // The member is still fine.
        let r = c.send(
            &heartbeat_request(&group, &m.id, m.epoch, Some(&m.owned)),
            v,
        );
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, m.epoch));
        // A fenced member rejoins with epoch 0 and the same id.
        let mut rejoin = join_request(&group, &m.id, &["cg-fence"]);
        rejoin.member_id = s(&m.id);
        let r = c.send(&rejoin, v);
        assert_eq!(r.error_code, code::NONE);
        assert_eq!(r.member_id.as_deref(), Some(m.id.as_str()));

        // Validation: an unsupported assignor, a missing rebalance timeout on join, an
        // invalid regex, owned partitions on join.
        let bad = join_request(&group, "x", &["cg-fence"]).with_server_assignor(Some(s("sticky")));
        assert_eq!(c.send(&bad, v).error_code, code::UNSUPPORTED_ASSIGNOR);
        let bad = join_request(&group, "x", &["cg-fence"]).with_rebalance_timeout_ms(-1);
        assert_eq!(c.send(&bad, v).error_code, code::INVALID_REQUEST);
        if v >= 1 {
            // SubscribedTopicRegex exists from v1.
            let bad = join_request(&group, "x", &[])
                .with_subscribed_topic_names(None)
                .with_subscribed_topic_regex(Some(s("(unclosed")));
            assert_eq!(c.send(&bad, v).error_code, code::INVALID_REGULAR_EXPRESSION);
        }
        let bad = join_request(&group, "x", &["cg-fence"]).with_topic_partitions(None);
        assert_eq!(c.send(&bad, v).error_code, code::INVALID_REQUEST);
    }
    // From v1 the client makes up the member id (KIP-1082).
    let r = c.send(&join_request("fence-v1", "", &["cg-fence"]), 1);
    assert_eq!(r.error_code, code::INVALID_REQUEST);
}

#[test]
fn regex_subscription_picks_up_a_new_topic() {
    let b = broker();
    let mut c = b.client();
    let a = create_topic(&mut c, "rx-a", 2);
    create_topic(&mut c, "other", 1);
    // SubscribedTopicRegex exists from v1.
    for v in hb_versions().filter(|v| *v >= 1) {
        let group = format!("rx-{v}");
        let join = join_request(&group, &uuid::Uuid::new_v4().to_string(), &[])
            .with_subscribed_topic_names(None)
            .with_subscribed_topic_regex(Some(s("rx-.*")));
        let r = c.send(&join, v);
        assert_eq!(r.error_code, code::NONE, "{:?}", r.error_message);
        let mut m = Member {
            group: group.clone(),
            id: r.member_id.as_deref().unwrap().to_string(),
            epoch: r.member_epoch,
            owned: assignment(&r).unwrap(),
        };
        assert_eq!(
            m.owned,
            owned(a.id, 0..2),
            "v{v}: the regex matches rx-a only"
        );
        let d = describe_group(&mut c, &group, 1);
        assert_eq!(
            d.members[0].subscribed_topic_regex.as_deref(),
            Some("rx-.*")
        );

        let new = create_topic(&mut c, &format!("rx-new-{v}"), 3);
        let mut expected = owned(a.id, 0..2);
        expected.extend(owned(new.id, 0..3));
        assert!(
            eventually(Duration::from_secs(10), || {
                let r = m.heartbeat(&mut c, v);
                assert_eq!(r.error_code, code::NONE);
                m.owned == expected
            }),
            "v{v}: the new topic's partitions are assigned: {:?}",
            m.owned
        );
        assert!(m.epoch > 1, "v{v}: the new topic bumped the group epoch");
    }
}

#[test]
fn session_timeout_moves_the_partitions_of_a_silent_member() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "cg-session", 4);
    let mut a = Member::join(&mut c, "session", &["cg-session"], 1);
    let mut bm = Member::join(&mut c, "session", &["cg-session"], 1);
    // Settle: A revokes half, B gets them.
    assert!(eventually(Duration::from_secs(10), || {
        a.heartbeat(&mut c, 1);
        bm.heartbeat(&mut c, 1);
        count(&a.owned) == 2 && count(&bm.owned) == 2
    }));
    // B goes silent; A keeps heartbeating and gets all 4 once B's 1.5 s session expires.
    let started = std::time::Instant::now();
    assert!(eventually(Duration::from_secs(10), || {
        let r = a.heartbeat(&mut c, 1);
        assert_eq!(r.error_code, code::NONE);
        a.owned == owned(t.id, 0..4)
    }));
    assert!(started.elapsed() >= Duration::from_millis(1000));
    let d = describe_group(&mut c, "session", 1);
    assert_eq!(d.members.len(), 1);
    // B was fenced: it must rejoin.
    let r = bm.heartbeat(&mut c, 1);
    assert_eq!(r.error_code, code::UNKNOWN_MEMBER_ID);
}

#[test]
fn restart_keeps_the_group_and_its_assignments() {
    let mut b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "cg-restart", 6);
    let mut a = Member::join(&mut c, "restart", &["cg-restart"], 1);
    let mut bm = Member::join(&mut c, "restart", &["cg-restart"], 1);
    assert!(eventually(Duration::from_secs(10), || {
        a.heartbeat(&mut c, 1);
        bm.heartbeat(&mut c, 1);
        count(&a.owned) == 3 && count(&bm.owned) == 3 && a.epoch == 2 && bm.epoch == 2
    }));
    let before = describe_group(&mut c, "restart", 1);
    b.restart();
    let mut c = b.client();
    let after = describe_group(&mut c, "restart", 1);
    assert_eq!(after.error_code, code::NONE);
    assert_eq!(after.group_state.as_str(), "Stable");
    assert_eq!(
        (after.group_epoch, after.assignment_epoch),
        (before.group_epoch, before.assignment_epoch)
    );
    let members = |d: &consumer_group_describe_response::DescribedGroup| {
        let mut m: Vec<(String, i32, Vec<i32>)> = d
            .members
            .iter()
            .map(|m| {
                (
                    m.member_id.to_string(),
                    m.member_epoch,
                    m.assignment.topic_partitions[0].partitions.clone(),
                )
            })
            .collect();
        m.sort();
        m
    };
    assert_eq!(members(&after), members(&before));
    // Both members carry on at their epoch with their partitions.
    for m in [&mut a, &mut bm] {
        let r = m.heartbeat(&mut c, 1);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, 2));
        assert!(r.assignment.is_none());
    }
    assert_eq!(
        a.owned[&t.id].union(&bm.owned[&t.id]).count(),
        6,
        "the assignment survived the restart"
    );
}

#[test]
fn offset_commit_and_fetch_check_the_member_epoch() {
    let b = broker();
    let mut c = b.client();
    create_topic(&mut c, "cg-offsets", 2);
    let m = Member::join(&mut c, "offsets", &["cg-offsets"], 1);
    let commit = |c: &mut Client, member: &str, epoch: i32, v: i16| {
        commit_codes(&c.send(
            &commit_request("offsets", member, epoch, v, "cg-offsets", &[(0, 5)]),
            v,
        ))[0]
            .1
    };
    assert_eq!(commit(&mut c, &m.id, m.epoch, 9), code::NONE);
    assert_eq!(
        commit(&mut c, &m.id, m.epoch + 1, 9),
        code::STALE_MEMBER_EPOCH
    );
    assert_eq!(
        commit(&mut c, "stranger", m.epoch, 9),
        code::UNKNOWN_MEMBER_ID
    );
    // A consumer-protocol member must commit with v9+ (OffsetMetadataManager).
    assert_eq!(commit(&mut c, &m.id, m.epoch, 8), code::UNSUPPORTED_VERSION);
    // An admin commit (epoch -1) to a non-empty group is rejected.
    assert_eq!(commit(&mut c, "", -1, 9), code::UNKNOWN_MEMBER_ID);

    let fetch = |c: &mut Client, member: Option<&str>, epoch: i32| {
        let req =
            OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
                .with_group_id(gid("offsets"))
                .with_member_id(member.map(s))
                .with_member_epoch(epoch)
                .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                    .with_name(name("cg-offsets"))
                    .with_partition_indexes(vec![0])]))]);
        let r = c.send(&req, 9);
        let g = &r.groups[0];
        let offset = g
            .topics
            .first()
            .map(|t| t.partitions[0].committed_offset)
            .unwrap_or(-2);
        (g.error_code, offset)
    };
    assert_eq!(fetch(&mut c, Some(&m.id), m.epoch), (code::NONE, 5));
    assert_eq!(fetch(&mut c, None, -1), (code::NONE, 5), "admin fetch");
    assert_eq!(
        fetch(&mut c, Some(&m.id), m.epoch + 1).0,
        code::STALE_MEMBER_EPOCH
    );
    assert_eq!(
        fetch(&mut c, Some("stranger"), 1).0,
        code::UNKNOWN_MEMBER_ID
    );
}

#[test]
fn list_describe_and_mixing_classic_and_consumer_groups() {
    let b = broker();
    let mut c = b.client();
    create_topic(&mut c, "cg-mix", 2);
    let m = Member::join(&mut c, "modern", &["cg-mix"], 1);
    let (classic_member, _) = crate::support::groups::form_group(&mut c, "classic", &["cg-mix"]);
    assert!(!classic_member.is_empty());

    // ListGroups v5 filters by type; both show with their type and state.
    for (filter, expected) in [
        (vec![], vec![("classic", "classic"), ("modern", "consumer")]),
        (vec!["consumer"], vec![("modern", "consumer")]),
        (vec!["Classic"], vec![("classic", "classic")]),
    ] {
        let r = c.send(
            &ListGroupsRequest::default().with_types_filter(filter.iter().map(|f| s(f)).collect()),
            5,
        );
        let got: Vec<(&str, &str)> = r
            .groups
            .iter()
            .map(|g| (g.group_id.as_str(), g.group_type.as_str()))
            .collect();
        assert_eq!(got, expected, "filter {filter:?}");
        for g in &r.groups {
            assert_eq!(g.protocol_type.as_str(), "consumer");
            assert_eq!(g.group_state.as_str(), "Stable");
        }
    }

    // DescribeGroups (the classic API) does not describe consumer groups.
    let d = crate::support::groups::describe(&mut c, "modern", 6);
    assert_eq!(d.error_code, code::GROUP_ID_NOT_FOUND);
    assert_eq!(d.group_state.as_str(), "Dead");
    assert_eq!(
        d.error_message.as_deref(),
        Some("Group modern is not a classic group.")
    );

    // A classic JoinGroup into a non-empty consumer group, a ConsumerGroupHeartbeat into a
    // non-empty classic group.
    let j = c.send(&classic_join("modern", "", 9, &["cg-mix"]), 9);
    assert_eq!(j.error_code, code::INCONSISTENT_GROUP_PROTOCOL);
    let r = c.send(&join_request("classic", "x", &["cg-mix"]), 1);
    assert_eq!(r.error_code, code::GROUP_ID_NOT_FOUND);
    let d = describe_group(&mut c, "classic", 1);
    assert_eq!(d.error_code, code::GROUP_ID_NOT_FOUND);

    // An empty classic group (offsets committed without membership) becomes a consumer group
    // when a consumer-protocol member joins; its offsets stay.
    let r = c.send(&commit_request("simple", "", -1, 9, "cg-mix", &[(1, 7)]), 9);
    assert_eq!(commit_codes(&r), [(1, code::NONE)]);
    let s1 = Member::join(&mut c, "simple", &["cg-mix"], 1);
    assert_eq!(count(&s1.owned), 2);
    let f = crate::support::groups::fetched(&mut c, "simple", "cg-mix", &[1]);
    assert_eq!(f[0].1, 7);

    // An empty consumer group becomes a classic group when a classic member joins.
    let r = c.send(&heartbeat_request("modern", &m.id, -1, None), 1);
    assert_eq!(r.error_code, code::NONE);
    let j = crate::support::groups::join_new(&mut c, "modern", 9, &["cg-mix"]);
    assert_eq!(j.error_code, code::NONE);
    let r = c.send(
        &ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
        5,
    );
    let ids: Vec<&str> = r.groups.iter().map(|g| g.group_id.as_str()).collect();
    assert_eq!(ids, ["simple"]);
}

#[test]
fn deleted_consumer_group_stays_deleted_after_a_restart() {
    let mut b = broker();
    let mut c = b.client();
    create_topic(&mut c, "cg-delete", 1);
    let m = Member::join(&mut c, "doomed", &["cg-delete"], 1);
    // A non-empty group cannot be deleted.
    let del = |c: &mut Client| {
        c.send(
            &DeleteGroupsRequest::default().with_groups_names(vec![gid("doomed")]),
            2,
        )
        .results[0]
            .error_code
    };
    assert_eq!(del(&mut c), code::NON_EMPTY_GROUP);
    let r = c.send(&heartbeat_request("doomed", &m.id, -1, None), 1);
    assert_eq!(r.error_code, code::NONE);
    assert_eq!(del(&mut c), code::NONE);
    // Every record of the group was tombstoned: a restart does not bring it back.
    b.restart();
    let mut c = b.client();
    let d = describe_group(&mut c, "doomed", 1);
    assert_eq!(d.error_code, code::GROUP_ID_NOT_FOUND);
    let r = c.send(&ListGroupsRequest::default(), 5);
    assert!(r.groups.iter().all(|g| g.group_id.as_str() != "doomed"));
}
