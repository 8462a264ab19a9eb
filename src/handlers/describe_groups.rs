//! DescribeGroups (key 15), v0-6: state, protocol and members of each group; member
//! subscriptions only while Stable. An unknown group is "Dead"; from v6 it also carries
//! GROUP_ID_NOT_FOUND (KIP-1043).

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, RequestContext};
use crate::error::Error;

pub fn handle(ctx: &RequestContext, req: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let v = ctx.version;
    // DESCRIBE on each group (`KafkaApis.handleDescribeGroupsRequest`): the others get
    // GROUP_AUTHORIZATION_FAILED and nothing else.
    // One pass (a request may name many groups): authorized ids to describe, the rest denied.
    let mut ids: Vec<String> = Vec::new();
    let mut denied: Vec<DescribedGroup> = Vec::new();
    for g in &req.groups {
        if authz::group(ctx, AclOperation::Describe, g.as_str()) {
            ids.push(g.to_string());
        } else {
            let e = Error::GroupAuthorizationFailed;
            let mut d = DescribedGroup::default()
                .with_group_id(g.clone())
                .with_error_code(e.code());
            if v >= 6 {
                d.error_message = Some(sb(&e.message()));
            }
            denied.push(d);
        }
    }
    let described = match ctx.broker.groups.describe_groups(&ids) {
        Ok(d) => d,
        Err(e) => {
            return DescribeGroupsResponse::default().with_groups(
                req.groups
                    .into_iter()
                    .map(|g| {
                        DescribedGroup::default()
                            .with_group_id(g)
                            .with_error_code(e.code())
                    })
                    .collect(),
            )
        }
    };
    let groups = described
        .into_iter()
        .map(|d| {
            let mut g = DescribedGroup::default()
                .with_group_id(GroupId(sb(&d.group_id)))
                .with_group_state(sb(&d.state))
                .with_protocol_type(sb(&d.protocol_type))
                .with_protocol_data(sb(&d.protocol_data))
                .with_members(
                    d.members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(sb(&m.member_id))
                                .with_group_instance_id(if v >= 4 {
                                    m.group_instance_id.as_deref().map(sb)
                                } else {
                                    None
                                })
                                .with_client_id(sb(&m.client_id))
                                .with_client_host(sb(&m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect(),
                );
            match d.error {
                Some(e) if v >= 6 => {
                    g.error_code = e.code();
                    g.error_message = Some(sb(&e.message()));
                }
                // Every group answered without an error gets its operations, a Dead one
                // before v6 included (`KafkaApis.handleDescribeGroupsRequest` checks the
                // answer's error code, which is NONE for an unknown group before KIP-1043).
                _ if v >= 3 && req.include_authorized_operations => {
                    g.authorized_operations =
                        authz::operations(ctx, true, ResourceType::Group, &d.group_id);
                }
                _ => {}
            }
            g
        })
        .chain(denied)
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}
