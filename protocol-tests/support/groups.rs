//! Helpers of the consumer-group protocol tests: requests for joining, syncing, heartbeating
//! and committing, and a broker with test-friendly group settings.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::describe_groups_request::DescribeGroupsRequest;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;

use super::*;

pub const GROUP_OVERRIDES: &[(&str, &str)] = &[
    ("group.initial.rebalance.delay.ms", "0"),
    ("group.min.session.timeout.ms", "100"),
];

pub fn broker() -> Broker {
    Broker::with_overrides(GROUP_OVERRIDES)
}

pub fn gid(v: &str) -> GroupId {
    GroupId(s(v))
}

/// A `ConsumerProtocolSubscription` v0: the topics, no user data.
pub fn subscription(topics: &[&str]) -> Bytes {
    let mut b = BytesMut::new();
    b.put_i16(0);
    b.put_i32(topics.len() as i32);
    for t in topics {
        b.put_i16(t.len() as i16);
        b.put_slice(t.as_bytes());
    }
    b.put_i32(-1);
    b.freeze()
}

pub fn join_request(group: &str, member: &str, v: i16, topics: &[&str]) -> JoinGroupRequest {
    let mut r = JoinGroupRequest::default()
        .with_group_id(gid(group))
        .with_session_timeout_ms(10_000)
        .with_member_id(s(member))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(s("range"))
            .with_metadata(subscription(topics))]);
    if v >= 1 {
        r.rebalance_timeout_ms = 10_000;
    }
    r
}

/// Joins as a new dynamic member at version `v` (two round trips from v4: KIP-394).
pub fn join_new(c: &mut Client, group: &str, v: i16, topics: &[&str]) -> JoinGroupResponse {
    let first = c.send(&join_request(group, "", v, topics), v);
    if v < 4 {
        return first;
    }
    assert_eq!(
        first.error_code,
        code::MEMBER_ID_REQUIRED,
        "JoinGroup v{v} first join"
    );
    assert!(
        first
            .member_id
            .starts_with(&format!("{}-", client::CLIENT_ID)),
        "{:?}",
        first.member_id
    );
    assert_eq!(first.generation_id, -1);
    c.send(&join_request(group, &first.member_id, v, topics), v)
}

pub fn sync_request(
    group: &str,
    generation: i32,
    member: &str,
    v: i16,
    assignments: &[(&str, &[u8])],
) -> SyncGroupRequest {
    let mut r = SyncGroupRequest::default()
        .with_group_id(gid(group))
        .with_generation_id(generation)
        .with_member_id(s(member))
        .with_assignments(
            assignments
                .iter()
                .map(|(m, a)| {
                    SyncGroupRequestAssignment::default()
                        .with_member_id(s(m))
                        .with_assignment(Bytes::copy_from_slice(a))
                })
                .collect(),
        );
    if v >= 5 {
        r.protocol_type = Some(s("consumer"));
        r.protocol_name = Some(s("range"));
    }
    r
}

/// A one-member group, Stable: returns (member id, generation).
pub fn form_group(c: &mut Client, group: &str, topics: &[&str]) -> (String, i32) {
    let j = join_new(c, group, 9, topics);
    assert_eq!(j.error_code, code::NONE);
    let member = j.member_id.to_string();
    let s5 = c.send(
        &sync_request(
            group,
            j.generation_id,
            &member,
            5,
            &[(&member, b"assignment")],
        ),
        5,
    );
    assert_eq!(s5.error_code, code::NONE);
    assert_eq!(&s5.assignment[..], b"assignment");
    (member, j.generation_id)
}

pub fn heartbeat(c: &mut Client, group: &str, member: &str, generation: i32, v: i16) -> i16 {
    let r = HeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_member_id(s(member))
        .with_generation_id(generation);
    c.send(&r, v).error_code
}

pub fn describe(c: &mut Client, group: &str, v: i16) -> describe_groups_response::DescribedGroup {
    let mut resp = c.send(
        &DescribeGroupsRequest::default().with_groups(vec![gid(group)]),
        v,
    );
    assert_eq!(resp.groups.len(), 1);
    resp.groups.remove(0)
}

pub fn commit_request(
    group: &str,
    member: &str,
    generation: i32,
    v: i16,
    topic: &str,
    offsets: &[(i32, i64)],
) -> OffsetCommitRequest {
    let partitions = offsets
        .iter()
        .map(|(p, o)| {
            let mut part = OffsetCommitRequestPartition::default()
                .with_partition_index(*p)
                .with_committed_offset(*o)
                .with_committed_metadata(Some(s(&format!("meta-{p}"))));
            if v >= 6 {
                part.committed_leader_epoch = 0;
            }
            part
        })
        .collect();
    OffsetCommitRequest::default()
        .with_group_id(gid(group))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(s(member))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(name(topic))
            .with_partitions(partitions)])
}

pub fn commit_codes(resp: &OffsetCommitResponse) -> Vec<(i32, i16)> {
    resp.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (p.partition_index, p.error_code))
        })
        .collect()
}

/// Committed offsets of `partitions` (OffsetFetch v8): partition -> (offset, epoch, metadata, error).
pub fn fetched(
    c: &mut Client,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Vec<(i32, i64, i32, String, i16)> {
    let req = OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
        .with_group_id(gid(group))
        .with_topics(Some(vec![OffsetFetchRequestTopics::default()
            .with_name(name(topic))
            .with_partition_indexes(partitions.to_vec())]))]);
    let resp = c.send(&req, 8);
    assert_eq!(resp.groups.len(), 1);
    assert_eq!(resp.groups[0].error_code, code::NONE);
    resp.groups[0]
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                (
                    p.partition_index,
                    p.committed_offset,
                    p.committed_leader_epoch,
                    p.metadata.as_deref().unwrap_or_default().to_string(),
                    p.error_code,
                )
            })
        })
        .collect()
}
