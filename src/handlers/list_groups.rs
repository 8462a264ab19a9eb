//! ListGroups (key 16), v0-5: every group on this coordinator, filtered by state (v4+, KIP-518)
//! and by type (v5+, KIP-848).

use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, RequestContext};

pub fn handle(ctx: &RequestContext, req: ListGroupsRequest) -> ListGroupsResponse {
    let v = ctx.version;
    let states: Vec<String> = if v >= 4 {
        req.states_filter.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    let types: Vec<String> = if v >= 5 {
        req.types_filter.iter().map(|s| s.to_string()).collect()
    } else {
        Vec::new()
    };
    // DESCRIBE on the cluster lists every group; otherwise only the groups with DESCRIBE
    // (`KafkaApis.handleListGroupsRequest`, neither check logged).
    let all = authz::quietly(
        ctx,
        AclOperation::Describe,
        ResourceType::Cluster,
        authz::CLUSTER_NAME,
    );
    match ctx.broker.groups.list_groups(&states, &types) {
        Err(e) => ListGroupsResponse::default().with_error_code(e.code()),
        Ok(groups) => ListGroupsResponse::default().with_groups(
            groups
                .into_iter()
                .filter(|g| {
                    all || authz::quietly(
                        ctx,
                        AclOperation::Describe,
                        ResourceType::Group,
                        &g.group_id,
                    )
                })
                .map(|g| {
                    let mut l = ListedGroup::default()
                        .with_group_id(GroupId(sb(&g.group_id)))
                        .with_protocol_type(sb(&g.protocol_type));
                    if v >= 4 {
                        l.group_state = sb(&g.state);
                    }
                    if v >= 5 {
                        l.group_type = sb(&g.group_type);
                    }
                    l
                })
                .collect(),
        ),
    }
}
