//! Helpers of the KIP-848 consumer-group tests: ConsumerGroupHeartbeat and
//! ConsumerGroupDescribe requests, and a broker with short consumer-group timeouts.

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::consumer_group_describe_response::DescribedGroup;
use kafka_protocol::messages::consumer_group_heartbeat_request::TopicPartitions;
use kafka_protocol::messages::*;
use uuid::Uuid;

use super::groups::gid;
use super::*;

/// Short session and heartbeat settings (Kafka's bounds lowered to allow them).
pub const CONSUMER_OVERRIDES: &[(&str, &str)] = &[
    ("group.consumer.min.session.timeout.ms", "500"),
    ("group.consumer.session.timeout.ms", "1500"),
    ("group.consumer.min.heartbeat.interval.ms", "100"),
    ("group.consumer.heartbeat.interval.ms", "200"),
    ("group.initial.rebalance.delay.ms", "0"),
    ("group.min.session.timeout.ms", "100"),
];

pub fn broker() -> Broker {
    Broker::with_overrides(CONSUMER_OVERRIDES)
}

/// Partitions by topic id.
pub type Owned = BTreeMap<Uuid, BTreeSet<i32>>;

/// A member's join (epoch 0) subscribing to `topics`.
pub fn join_request(group: &str, member: &str, topics: &[&str]) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_member_id(s(member))
        .with_member_epoch(0)
        .with_rebalance_timeout_ms(5_000)
        .with_subscribed_topic_names(Some(topics.iter().map(|t| name(t)).collect()))
        .with_topic_partitions(Some(Vec::new()))
}

/// A heartbeat reporting what the member owns; subscription fields left null (unchanged).
pub fn heartbeat_request(
    group: &str,
    member: &str,
    epoch: i32,
    owned: Option<&Owned>,
) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(gid(group))
        .with_member_id(s(member))
        .with_member_epoch(epoch)
        .with_rebalance_timeout_ms(-1)
        .with_topic_partitions(owned.map(topic_partitions))
}

pub fn topic_partitions(owned: &Owned) -> Vec<TopicPartitions> {
    owned
        .iter()
        .map(|(id, ps)| {
            TopicPartitions::default()
                .with_topic_id(*id)
                .with_partitions(ps.iter().copied().collect())
        })
        .collect()
}

/// The assignment of a heartbeat response, if it carried one.
pub fn assignment(r: &ConsumerGroupHeartbeatResponse) -> Option<Owned> {
    r.assignment.as_ref().map(|a| {
        a.topic_partitions
            .iter()
            .filter(|tp| !tp.partitions.is_empty())
            .map(|tp| (tp.topic_id, tp.partitions.iter().copied().collect()))
            .collect()
    })
}

/// `topic`'s partitions `ps`.
pub fn owned(topic: Uuid, ps: impl IntoIterator<Item = i32>) -> Owned {
    let set: BTreeSet<i32> = ps.into_iter().collect();
    if set.is_empty() {
        Owned::new()
    } else {
        [(topic, set)].into()
    }
}

pub fn count(o: &Owned) -> usize {
    o.values().map(BTreeSet::len).sum()
}

/// A member as the tests drive it: id, epoch and owned partitions, updated from responses the
/// way a client does (it owns exactly what the last assignment said).
#[derive(Clone, Debug)]
pub struct Member {
    pub group: String,
    pub id: String,
    pub epoch: i32,
    pub owned: Owned,
}

impl Member {
    /// Joins at version `v` (v0: the broker makes up the id; v1: the client does).
    pub fn join(c: &mut Client, group: &str, topics: &[&str], v: i16) -> Member {
        let id = if v >= 1 {
            Uuid::new_v4().to_string()
        } else {
            String::new()
        };
        let r = c.send(&join_request(group, &id, topics), v);
        assert_eq!(r.error_code, code::NONE, "join v{v}: {:?}", r.error_message);
        let id = r.member_id.as_deref().expect("member id").to_string();
        assert!(!id.is_empty());
        Member {
            group: group.to_string(),
            id,
            epoch: r.member_epoch,
            owned: assignment(&r).expect("a join gets its assignment"),
        }
    }

    /// One heartbeat at version `v` reporting the owned partitions; applies the response.
    pub fn heartbeat(&mut self, c: &mut Client, v: i16) -> ConsumerGroupHeartbeatResponse {
        let r = c.send(
            &heartbeat_request(&self.group, &self.id, self.epoch, Some(&self.owned)),
            v,
        );
        if r.error_code == code::NONE {
            self.epoch = r.member_epoch;
            if let Some(a) = assignment(&r) {
                self.owned = a;
            }
        }
        r
    }
}

pub fn describe_group(c: &mut Client, group: &str, v: i16) -> DescribedGroup {
    let mut r = c.send(
        &ConsumerGroupDescribeRequest::default()
            .with_group_ids(vec![gid(group)])
            .with_include_authorized_operations(true),
        v,
    );
    assert_eq!(r.groups.len(), 1);
    r.groups.remove(0)
}
