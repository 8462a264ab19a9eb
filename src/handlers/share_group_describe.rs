//! ShareGroupDescribe (key 77), v1 (KIP-932): epochs, the `simple` assignor and each member's
//! subscription and partitions. A group that is not a share group answers GROUP_ID_NOT_FOUND.

use kafka_protocol::messages::share_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{
    GroupId, ShareGroupDescribeRequest, ShareGroupDescribeResponse, TopicName,
};

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, sb, RequestContext};
use crate::error::Error;

pub fn handle(ctx: &RequestContext, req: ShareGroupDescribeRequest) -> ShareGroupDescribeResponse {
    let groups = &ctx.broker.groups;
    let failed = |e: &Error| {
        ShareGroupDescribeResponse::default().with_groups(
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
    if !groups.config().share.enabled {
        return failed(&Error::UnsupportedVersion(
            "Share groups are disabled (group.share.enable).".into(),
        ));
    }
    let ids: Vec<String> = req.group_ids.iter().map(|g| g.to_string()).collect();
    let (ids, denied): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|g| authz::group(ctx, AclOperation::Describe, g));
    let described = match groups.share_group_describe(&ids) {
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
    let out = described.into_iter().map(|d| {
        let g = DescribedGroup::default().with_group_id(GroupId(sb(&d.group_id)));
        if d.group_id.is_empty() {
            return g.with_error_code(Error::InvalidGroupId.code());
        }
        if let Some(e) = d.error {
            return g
                .with_error_code(e.code())
                .with_error_message(Some(sb(&e.message())));
        }
        g.with_group_state(sb(d.state))
            .with_group_epoch(d.group_epoch)
            .with_assignment_epoch(d.assignment_epoch)
            .with_assignor_name(sb("simple"))
            .with_authorized_operations(if req.include_authorized_operations {
                authz::operations(ctx, true, ResourceType::Group, &d.group_id)
            } else {
                authorized_operations::OMITTED
            })
            .with_members(
                d.members
                    .into_iter()
                    .map(|m| {
                        Member::default()
                            .with_member_id(sb(&m.member_id))
                            .with_rack_id(m.rack_id.as_deref().map(sb))
                            .with_member_epoch(m.member_epoch)
                            .with_client_id(sb(&m.client_id))
                            .with_client_host(sb(&m.client_host))
                            .with_subscribed_topic_names(
                                m.subscribed_topic_names
                                    .iter()
                                    .map(|t| TopicName(sb(t)))
                                    .collect(),
                            )
                            .with_assignment(
                                Assignment::default().with_topic_partitions(
                                    m.assignment
                                        .into_iter()
                                        .map(|(id, name, ps)| {
                                            TopicPartitions::default()
                                                .with_topic_id(id)
                                                .with_topic_name(TopicName(sb(&name)))
                                                .with_partitions(ps)
                                        })
                                        .collect(),
                                ),
                            )
                    })
                    .collect(),
            )
    });
    ShareGroupDescribeResponse::default().with_groups(out.chain(denied).collect())
}
