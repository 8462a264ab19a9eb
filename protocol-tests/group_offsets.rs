//! Committed offsets and group administration: OffsetCommit, OffsetFetch, OffsetDelete,
//! DeleteGroups, DescribeGroups, ListGroups and OffsetForLeaderEpoch at every advertised version,
//! Kafka's error codes, and offsets and group metadata across restarts (SIGTERM, kill -9, and
//! with coordinator writes fsynced before the answer).

use kafka_protocol::messages::describe_groups_request::DescribeGroupsRequest;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::*;

use crate::support::groups::*;
use crate::support::*;

// ---- Offsets ------------------------------------------------------------------------------------

#[test]
fn offset_commit_and_fetch_every_version() {
    let broker = broker();
    let mut c = broker.client();
    create_topic(&mut c, "ot", 3);
    for v in versions(ApiKey::OffsetCommit) {
        let group = format!("simple-v{v}");
        let resp = c.send(
            &commit_request(&group, "", -1, v, "ot", &[(0, 10 + v as i64), (2, 20)]),
            v,
        );
        assert_eq!(
            commit_codes(&resp),
            vec![(0, code::NONE), (2, code::NONE)],
            "OffsetCommit v{v}"
        );
        let got = fetched(&mut c, &group, "ot", &[0, 1, 2]);
        let epoch = if v >= 6 { 0 } else { -1 };
        assert_eq!(
            got,
            vec![
                (0, 10 + v as i64, epoch, "meta-0".to_string(), 0),
                (1, -1, -1, String::new(), 0),
                (2, 20, epoch, "meta-2".to_string(), 0),
            ],
            "OffsetCommit v{v}"
        );
    }
    // Every OffsetFetch version reads them back.
    for v in versions(ApiKey::OffsetFetch) {
        let resp = if v >= 8 {
            let req = OffsetFetchRequest::default().with_groups(vec![
                OffsetFetchRequestGroup::default()
                    .with_group_id(gid("simple-v9"))
                    .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                        .with_name(name("ot"))
                        .with_partition_indexes(vec![0, 1])])),
                OffsetFetchRequestGroup::default()
                    .with_group_id(gid("simple-v8"))
                    .with_topics(None),
                OffsetFetchRequestGroup::default()
                    .with_group_id(gid("never-committed"))
                    .with_topics(None),
            ]);
            let resp = c.send(&req, v);
            let groups: Vec<(String, Vec<(i32, i64)>)> = resp
                .groups
                .iter()
                .map(|g| {
                    assert_eq!(g.error_code, code::NONE);
                    (
                        g.group_id.to_string(),
                        g.topics
                            .iter()
                            .flat_map(|t| {
                                t.partitions
                                    .iter()
                                    .map(|p| (p.partition_index, p.committed_offset))
                            })
                            .collect(),
                    )
                })
                .collect();
            assert_eq!(
                groups,
                vec![
                    ("simple-v9".to_string(), vec![(0, 19), (1, -1)]),
                    ("simple-v8".to_string(), vec![(0, 18), (2, 20)]),
                    ("never-committed".to_string(), vec![]),
                ],
                "OffsetFetch v{v}"
            );
            continue;
        } else {
            let mut req = OffsetFetchRequest::default()
                .with_group_id(gid("simple-v7"))
                .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                    .with_name(name("ot"))
                    .with_partition_indexes(vec![0, 1])]));
            if v >= 7 {
                req.require_stable = true;
            }
            c.send(&req, v)
        };
        assert_eq!(resp.error_code, code::NONE, "OffsetFetch v{v}");
        let parts: Vec<(i32, i64, i32, String)> = resp.topics[0]
            .partitions
            .iter()
            .map(|p| {
                (
                    p.partition_index,
                    p.committed_offset,
                    p.committed_leader_epoch,
                    p.metadata.as_deref().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let epoch = if v >= 5 { 0 } else { -1 };
        assert_eq!(
            parts,
            vec![(0, 17, epoch, "meta-0".into()), (1, -1, -1, String::new())],
            "OffsetFetch v{v}"
        );
        if v >= 2 {
            // All partitions (null topics).
            let resp = c.send(
                &OffsetFetchRequest::default()
                    .with_group_id(gid("simple-v7"))
                    .with_topics(None),
                v,
            );
            let all: Vec<(String, i32, i64)> = resp
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions
                        .iter()
                        .map(move |p| (t.name.to_string(), p.partition_index, p.committed_offset))
                })
                .collect();
            assert_eq!(
                all,
                vec![("ot".into(), 0, 17), ("ot".into(), 2, 20)],
                "OffsetFetch v{v} all partitions"
            );
        }
    }
}

#[test]
fn offset_commit_errors_follow_kafka() {
    let broker = broker();
    let mut c = broker.client();
    create_topic(&mut c, "oe", 1);
    // Unknown topic or partition, per partition; the rest still commits.
    let mut req = commit_request("g", "", -1, 8, "oe", &[(0, 1), (5, 1)]);
    req.topics.push(
        OffsetCommitRequestTopic::default()
            .with_name(name("missing"))
            .with_partitions(vec![OffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(1)]),
    );
    let resp = c.send(&req, 8);
    assert_eq!(
        resp.topics
            .iter()
            .map(|t| (
                t.name.to_string(),
                t.partitions
                    .iter()
                    .map(|p| p.error_code)
                    .collect::<Vec<_>>()
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                "oe".to_string(),
                vec![code::NONE, code::UNKNOWN_TOPIC_OR_PARTITION]
            ),
            (
                "missing".to_string(),
                vec![code::UNKNOWN_TOPIC_OR_PARTITION]
            )
        ]
    );
    // Metadata longer than offset.metadata.max.bytes (4096).
    let mut big = commit_request("g", "", -1, 8, "oe", &[(0, 2)]);
    big.topics[0].partitions[0].committed_metadata = Some(s(&"m".repeat(4097)));
    assert_eq!(
        commit_codes(&c.send(&big, 8)),
        vec![(0, code::OFFSET_METADATA_TOO_LARGE)]
    );
    // A generation for a group that does not exist: ILLEGAL_GENERATION, GROUP_ID_NOT_FOUND from v9.
    assert_eq!(
        commit_codes(&c.send(&commit_request("nope", "m", 1, 8, "oe", &[(0, 1)]), 8)),
        vec![(0, code::ILLEGAL_GENERATION)]
    );
    assert_eq!(
        commit_codes(&c.send(&commit_request("nope", "m", 1, 9, "oe", &[(0, 1)]), 9)),
        vec![(0, code::GROUP_ID_NOT_FOUND)]
    );
    // A live group: members commit with their generation; others are refused.
    let (m, generation) = form_group(&mut c, "live", &["oe"]);
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("live", &m, generation, 9, "oe", &[(0, 7)]),
            9
        )),
        vec![(0, code::NONE)]
    );
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("live", &m, generation + 1, 9, "oe", &[(0, 7)]),
            9
        )),
        vec![(0, code::ILLEGAL_GENERATION)]
    );
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("live", "x", generation, 9, "oe", &[(0, 7)]),
            9
        )),
        vec![(0, code::UNKNOWN_MEMBER_ID)]
    );
    assert_eq!(
        commit_codes(&c.send(&commit_request("live", "", -1, 9, "oe", &[(0, 7)]), 9)),
        vec![(0, code::UNKNOWN_MEMBER_ID)]
    );
    assert_eq!(fetched(&mut c, "live", "oe", &[0])[0].1, 7);
}

#[test]
fn committed_offsets_and_groups_survive_restarts() {
    let mut broker = broker();
    let mut c = broker.client();
    create_topic(&mut c, "rt", 2);
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("simple", "", -1, 9, "rt", &[(0, 5), (1, 6)]),
            9
        )),
        vec![(0, 0), (1, 0)]
    );
    let (m, generation) = form_group(&mut c, "live", &["rt"]);
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("live", &m, generation, 9, "rt", &[(1, 42)]),
            9
        )),
        vec![(1, 0)]
    );
    // Overwrite, then delete one offset: replay must apply them in order.
    assert_eq!(
        commit_codes(&c.send(&commit_request("simple", "", -1, 9, "rt", &[(0, 8)]), 9)),
        vec![(0, 0)]
    );
    let del = OffsetDeleteRequest::default()
        .with_group_id(gid("simple"))
        .with_topics(vec![OffsetDeleteRequestTopic::default()
            .with_name(name("rt"))
            .with_partitions(vec![
                OffsetDeleteRequestPartition::default().with_partition_index(1)
            ])]);
    assert_eq!(c.send(&del, 0).error_code, code::NONE);
    for restart in [false, true] {
        if restart {
            broker.kill9_and_restart();
        } else {
            broker.restart();
        }
        let mut c = broker.client();
        assert_eq!(
            fetched(&mut c, "simple", "rt", &[0, 1])
                .iter()
                .map(|f| (f.0, f.1))
                .collect::<Vec<_>>(),
            vec![(0, 8), (1, -1)],
            "after {}",
            if restart { "kill -9" } else { "SIGTERM" }
        );
        assert_eq!(fetched(&mut c, "live", "rt", &[1])[0].1, 42);
        let d = describe(&mut c, "live", 5);
        assert_eq!((d.group_state.as_str(), d.members.len()), ("Stable", 1));
        assert_eq!(d.members[0].member_id.as_str(), m);
        assert_eq!(&d.members[0].member_assignment[..], b"assignment");
        assert_eq!(
            heartbeat(&mut c, "live", &m, generation, 4),
            code::NONE,
            "the member goes on without rejoining"
        );
    }
}

#[test]
fn offset_delete_and_delete_groups() {
    let broker = broker();
    let mut c = broker.client();
    create_topic(&mut c, "sub", 1);
    create_topic(&mut c, "other", 1);
    let (m, generation) = form_group(&mut c, "dg", &["sub"]);
    for t in ["sub", "other"] {
        assert_eq!(
            commit_codes(&c.send(&commit_request("dg", &m, generation, 9, t, &[(0, 3)]), 9)),
            vec![(0, 0)]
        );
    }
    let del = |topics: &[&str]| {
        OffsetDeleteRequest::default()
            .with_group_id(gid("dg"))
            .with_topics(
                topics
                    .iter()
                    .map(|t| {
                        OffsetDeleteRequestTopic::default()
                            .with_name(name(t))
                            .with_partitions(vec![
                                OffsetDeleteRequestPartition::default().with_partition_index(0)
                            ])
                    })
                    .collect(),
            )
    };
    let resp = c.send(&del(&["sub", "other", "missing"]), 0);
    assert_eq!(resp.error_code, code::NONE);
    let codes: Vec<(String, i16)> = resp
        .topics
        .iter()
        .map(|t| (t.name.to_string(), t.partitions[0].error_code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("missing".into(), code::UNKNOWN_TOPIC_OR_PARTITION),
            ("sub".into(), code::GROUP_SUBSCRIBED_TO_TOPIC),
            ("other".into(), code::NONE)
        ]
    );
    assert_eq!(fetched(&mut c, "dg", "sub", &[0])[0].1, 3);
    assert_eq!(fetched(&mut c, "dg", "other", &[0])[0].1, -1);
    let resp = c.send(
        &OffsetDeleteRequest::default()
            .with_group_id(gid("unknown"))
            .with_topics(vec![]),
        0,
    );
    assert_eq!(resp.error_code, code::GROUP_ID_NOT_FOUND);

    for v in versions(ApiKey::DeleteGroups) {
        let simple = format!("simple-{v}");
        assert_eq!(
            commit_codes(&c.send(&commit_request(&simple, "", -1, 9, "other", &[(0, 1)]), 9)),
            vec![(0, 0)]
        );
        let resp = c.send(
            &DeleteGroupsRequest::default().with_groups_names(vec![
                gid("dg"),
                gid(&simple),
                gid("ghost"),
                gid(&simple),
            ]),
            v,
        );
        let got: Vec<(String, i16)> = resp
            .results
            .iter()
            .map(|r| (r.group_id.to_string(), r.error_code))
            .collect();
        let mut got = got;
        got.sort();
        let mut want = vec![
            ("dg".to_string(), code::NON_EMPTY_GROUP),
            (simple.clone(), code::NONE),
            ("ghost".to_string(), code::GROUP_ID_NOT_FOUND),
        ];
        want.sort();
        assert_eq!(got, want, "DeleteGroups v{v}");
        assert_eq!(
            fetched(&mut c, &simple, "other", &[0])[0].1,
            -1,
            "its offsets went too"
        );
    }
}

#[test]
fn describe_and_list_groups_every_version() {
    let broker = broker();
    let mut c = broker.client();
    create_topic(&mut c, "dt", 1);
    let (m, _) = form_group(&mut c, "described", &["dt"]);
    assert_eq!(
        commit_codes(&c.send(&commit_request("simple", "", -1, 9, "dt", &[(0, 1)]), 9)),
        vec![(0, 0)]
    );
    for v in versions(ApiKey::DescribeGroups) {
        let mut req = DescribeGroupsRequest::default().with_groups(vec![
            gid("described"),
            gid("simple"),
            gid("ghost"),
        ]);
        if v >= 3 {
            req.include_authorized_operations = true;
        }
        let resp = c.send(&req, v);
        let [d, simple, ghost] = &resp.groups[..] else {
            panic!("three groups: {resp:?}")
        };
        assert_eq!(
            (
                d.error_code,
                d.group_state.as_str(),
                d.protocol_type.as_str(),
                d.protocol_data.as_str()
            ),
            (0, "Stable", "consumer", "range"),
            "v{v}"
        );
        let mem = &d.members[0];
        assert_eq!(mem.member_id.as_str(), m);
        assert_eq!(mem.client_id.as_str(), client::CLIENT_ID);
        assert_eq!(mem.client_host.as_str(), "/127.0.0.1");
        assert_eq!(mem.member_metadata, subscription(&["dt"]));
        assert_eq!(&mem.member_assignment[..], b"assignment");
        if v >= 3 {
            assert_eq!(
                d.authorized_operations,
                (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11),
                "READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS"
            );
        }
        assert_eq!(
            (
                simple.group_state.as_str(),
                simple.protocol_type.as_str(),
                simple.members.len()
            ),
            ("Empty", "", 0)
        );
        assert_eq!(ghost.group_state.as_str(), "Dead", "v{v}");
        if v >= 6 {
            assert_eq!(ghost.error_code, code::GROUP_ID_NOT_FOUND);
            assert_eq!(
                ghost.error_message.as_deref(),
                Some("Group ghost not found.")
            );
        } else {
            assert_eq!(ghost.error_code, code::NONE);
        }
    }
    for v in versions(ApiKey::ListGroups) {
        let resp = c.send(&ListGroupsRequest::default(), v);
        assert_eq!(resp.error_code, code::NONE);
        let mut got: Vec<(String, String, String, String)> = resp
            .groups
            .iter()
            .map(|g| {
                (
                    g.group_id.to_string(),
                    g.protocol_type.to_string(),
                    g.group_state.to_string(),
                    g.group_type.to_string(),
                )
            })
            .collect();
        got.sort();
        let state = |st: &str| {
            if v >= 4 {
                st.to_string()
            } else {
                String::new()
            }
        };
        let kind = if v >= 5 {
            "classic".to_string()
        } else {
            String::new()
        };
        assert_eq!(
            got,
            vec![
                (
                    "described".into(),
                    "consumer".into(),
                    state("Stable"),
                    kind.clone()
                ),
                ("simple".into(), "".into(), state("Empty"), kind.clone()),
            ],
            "ListGroups v{v}"
        );
        if v >= 4 {
            let resp = c.send(
                &ListGroupsRequest::default().with_states_filter(vec![s("stable")]),
                v,
            );
            assert_eq!(
                resp.groups
                    .iter()
                    .map(|g| g.group_id.to_string())
                    .collect::<Vec<_>>(),
                ["described"]
            );
        }
        if v >= 5 {
            let resp = c.send(
                &ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
                v,
            );
            assert!(resp.groups.is_empty(), "no KIP-848 consumer groups");
            let resp = c.send(
                &ListGroupsRequest::default().with_types_filter(vec![s("Classic")]),
                v,
            );
            assert_eq!(resp.groups.len(), 2);
        }
    }
}

#[test]
fn offset_for_leader_epoch_every_version() {
    let broker = broker();
    let mut c = broker.client();
    let t = create_topic(&mut c, "ep", 1);
    produce_ok(&mut c, &t, 0, &recs("e", 4));
    for v in versions(ApiKey::OffsetForLeaderEpoch) {
        let part = |current: i32, epoch: i32| {
            OffsetForLeaderPartition::default()
                .with_partition(0)
                .with_current_leader_epoch(current)
                .with_leader_epoch(epoch)
        };
        let req = OffsetForLeaderEpochRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![
                OffsetForLeaderTopic::default()
                    .with_topic(name("ep"))
                    .with_partitions(vec![
                        part(0, 0),
                        part(-1, 0),
                        part(0, 5),
                        part(-1, -1),
                        part(1, 0),
                    ]),
                OffsetForLeaderTopic::default()
                    .with_topic(name("missing"))
                    .with_partitions(vec![part(0, 0)]),
            ]);
        let resp = c.send(&req, v);
        let got: Vec<(i16, i32, i64)> = resp.topics[0]
            .partitions
            .iter()
            .map(|p| (p.error_code, p.leader_epoch, p.end_offset))
            .collect();
        assert_eq!(
            got,
            vec![
                (code::NONE, 0, 4),
                (code::NONE, 0, 4),
                (code::NONE, -1, -1),
                (code::NONE, -1, -1),
                (code::UNKNOWN_LEADER_EPOCH, -1, -1),
            ],
            "OffsetForLeaderEpoch v{v}"
        );
        assert_eq!(
            resp.topics[1].partitions[0].error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION
        );
    }
}

#[test]
fn coordinator_writes_are_fsynced_before_the_answer_with_flush_before_ack() {
    // Coordinator writes are acks=all writes: with log.flush.before.ack the group's assignment
    // and the commits are fsynced before SyncGroup and OffsetCommit are answered.
    let mut broker = Broker::with_overrides(&[
        ("group.initial.rebalance.delay.ms", "0"),
        ("log.flush.before.ack", "true"),
    ]);
    let mut c = broker.client();
    create_topic(&mut c, "fs", 1);
    let (m, generation) = form_group(&mut c, "flushed", &["fs"]);
    assert_eq!(
        commit_codes(&c.send(
            &commit_request("flushed", &m, generation, 9, "fs", &[(0, 9)]),
            9
        )),
        vec![(0, 0)]
    );
    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(fetched(&mut c, "flushed", "fs", &[0])[0].1, 9);
    assert_eq!(
        &describe(&mut c, "flushed", 5).members[0].member_assignment[..],
        b"assignment"
    );
}
