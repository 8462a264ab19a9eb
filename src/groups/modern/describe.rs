//! ConsumerGroupDescribe (Kafka's `ConsumerGroup.asDescribedGroup`): the group's state, epochs,
//! assignor, and per member its subscription, current assignment and target assignment, with
//! topic names resolved from ids (partitions of deleted topics are left out).

use std::collections::BTreeSet;

use uuid::Uuid;

use crate::error::Error;
use crate::groups::group::Group;
use crate::groups::modern::member::Assignment;
use crate::groups::modern::topics::TopicsImage;
use crate::groups::shard::ShardState;

/// Partitions of one topic, named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedTopicPartitions {
    pub topic_id: Uuid,
    pub topic_name: String,
    pub partitions: Vec<i32>,
}

/// A described member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub member_epoch: i32,
    pub client_id: String,
    pub client_host: String,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    pub assignment: Vec<NamedTopicPartitions>,
    pub target_assignment: Vec<NamedTopicPartitions>,
    /// ConsumerGroupDescribe v1 `MemberType`: 0 classic protocol, 1 consumer protocol.
    pub member_type: i8,
}

/// A described group; `error` set (with an empty state) when there is no such consumer group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescribedConsumerGroup {
    pub group_id: String,
    pub error: Option<Error>,
    pub state: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    pub assignor_name: String,
    pub members: Vec<DescribedMember>,
}

fn named(a: &Assignment, image: &TopicsImage) -> Vec<NamedTopicPartitions> {
    a.iter()
        .filter_map(|(id, ps)| {
            image.name(id).map(|name| NamedTopicPartitions {
                topic_id: *id,
                topic_name: name.to_string(),
                partitions: ps.iter().copied().collect(),
            })
        })
        .collect()
}

impl ShardState {
    /// ConsumerGroupDescribe of one group.
    pub fn consumer_group_describe(&self, group_id: &str) -> DescribedConsumerGroup {
        let not_found = |msg: String| DescribedConsumerGroup {
            group_id: group_id.to_string(),
            error: Some(Error::GroupIdNotFound(msg)),
            state: String::new(),
            group_epoch: 0,
            assignment_epoch: 0,
            assignor_name: String::new(),
            members: Vec::new(),
        };
        let g = match self.groups.get(group_id) {
            Some(Group::Consumer(g)) => g,
            Some(_) => return not_found(format!("Group {group_id} is not a consumer group.")),
            None => return not_found(format!("Group {group_id} not found.")),
        };
        let image = &self.core.topics;
        let config = &self.core.config.consumer;
        DescribedConsumerGroup {
            group_id: group_id.to_string(),
            error: None,
            state: g.state().name().to_string(),
            group_epoch: g.group_epoch(),
            assignment_epoch: g.assignment_epoch(),
            assignor_name: g
                .preferred_server_assignor()
                .unwrap_or(config.default_assignor())
                .to_string(),
            members: g
                .members()
                .map(|m| {
                    let names: BTreeSet<&String> =
                        m.subscription.subscribed_topic_names.iter().collect();
                    DescribedMember {
                        member_id: m.member_id.clone(),
                        instance_id: m.subscription.instance_id.clone(),
                        rack_id: m.subscription.rack_id.clone(),
                        member_epoch: m.member_epoch(),
                        client_id: m.subscription.client_id.clone(),
                        client_host: m.subscription.client_host.clone(),
                        subscribed_topic_names: names.into_iter().cloned().collect(),
                        subscribed_topic_regex: m.subscription.subscribed_topic_regex.clone(),
                        assignment: named(&m.current.assigned_partitions, image),
                        target_assignment: named(&g.target_assignment(&m.member_id), image),
                        member_type: if m.uses_classic_protocol() { 0 } else { 1 },
                    }
                })
                .collect(),
        }
    }
}
