//! ConsumerGroupDescribe (key 69), v0-1 (KIP-848): epochs, assignor and, per member, its
//! subscription, current and target assignment; v1 adds the member type (KIP-1099). A group
//! that is not a consumer group answers GROUP_ID_NOT_FOUND, as Kafka does.

use kafka_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, GroupId,
};

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, sb, topic_name, RequestContext};
use crate::error::Error;
use crate::groups::modern::describe::NamedTopicPartitions;

pub fn handle(
    ctx: &RequestContext,
    req: ConsumerGroupDescribeRequest,
) -> ConsumerGroupDescribeResponse {
    let groups = &ctx.broker.groups;
    let ids: Vec<String> = req.group_ids.iter().map(|g| g.to_string()).collect();
    let failed = |e: &Error| {
        ConsumerGroupDescribeResponse::default().with_groups(
            req.group_ids
                .iter()
                .map(|g| {
                    DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(e.code())
                        .with_error_message(Some(sb(&e.message())))
                })
                .collect(),
        )
    };
    if !groups.config().consumer.enabled {
        return failed(&Error::UnsupportedVersion(
            "The consumer group protocol is disabled (group.coordinator.rebalance.protocols)."
                .into(),
        ));
    }
    // DESCRIBE on each group (`KafkaApis.handleConsumerGroupDescribe`).
    let (ids, denied): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|g| authz::group(ctx, AclOperation::Describe, g));
    let described = match groups.consumer_group_describe(&ids) {
        Ok(d) => d,
        Err(e) => return failed(&e),
    };
    let denied = denied.into_iter().map(|id| {
        let e = Error::GroupAuthorizationFailed;
        DescribedGroup::default()
            .with_group_id(GroupId(sb(&id)))
            .with_error_code(e.code())
            .with_error_message(Some(sb(&e.message())))
    });
    let out = described
        .into_iter()
        .map(|d| {
            let mut g = DescribedGroup::default().with_group_id(GroupId(sb(&d.group_id)));
            // An empty group id is INVALID_GROUP_ID without a message
            // (`GroupCoordinatorService.consumerGroupDescribe` checks it before any lookup).
            if d.group_id.is_empty() {
                return g.with_error_code(Error::InvalidGroupId.code());
            }
            if let Some(e) = d.error {
                return g
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(&e.message())));
            }
            g = g
                .with_group_state(sb(&d.state))
                .with_group_epoch(d.group_epoch)
                .with_assignment_epoch(d.assignment_epoch)
                .with_assignor_name(sb(&d.assignor_name))
                .with_members(
                    d.members
                        .into_iter()
                        .map(|m| {
                            let mut member = Member::default()
                                .with_member_id(sb(&m.member_id))
                                .with_instance_id(m.instance_id.as_deref().map(sb))
                                .with_rack_id(m.rack_id.as_deref().map(sb))
                                .with_member_epoch(m.member_epoch)
                                .with_client_id(sb(&m.client_id))
                                .with_client_host(sb(&m.client_host))
                                .with_subscribed_topic_names(
                                    m.subscribed_topic_names
                                        .iter()
                                        .map(|t| topic_name(t))
                                        .collect(),
                                )
                                // Kafka's `ConsumerGroupMember` holds "" for no regex,
                                // and describes it so (never null).
                                .with_subscribed_topic_regex(Some(sb(m
                                    .subscribed_topic_regex
                                    .as_deref()
                                    .unwrap_or_default())))
                                .with_assignment(assignment(m.assignment))
                                .with_target_assignment(assignment(m.target_assignment));
                            if ctx.version >= 1 {
                                member.member_type = m.member_type;
                            }
                            member
                        })
                        .collect(),
                );
            g.authorized_operations = if req.include_authorized_operations {
                authz::operations(ctx, true, ResourceType::Group, &d.group_id)
            } else {
                authorized_operations::OMITTED
            };
            g
        })
        .chain(denied)
        .collect();
    ConsumerGroupDescribeResponse::default().with_groups(out)
}

fn assignment(parts: Vec<NamedTopicPartitions>) -> Assignment {
    Assignment::default().with_topic_partitions(
        parts
            .into_iter()
            .map(|p| {
                TopicPartitions::default()
                    .with_topic_id(p.topic_id)
                    .with_topic_name(topic_name(&p.topic_name))
                    .with_partitions(p.partitions)
            })
            .collect(),
    )
}
