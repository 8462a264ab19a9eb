//! DeleteGroups (key 42), v0-2: deletes empty groups with their committed offsets
//! (NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown groups).

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse, GroupId};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let mut ids: Vec<String> = Vec::with_capacity(req.groups_names.len());
    for g in &req.groups_names {
        if !ids.iter().any(|i| i == g.as_str()) {
            ids.push(g.to_string());
        }
    }
    // DELETE on each group (`filterByAuthorized(DELETE, GROUP)`); the others are deleted.
    let (ids, denied): (Vec<String>, Vec<String>) = ids
        .into_iter()
        .partition(|id| authz::group(ctx, AclOperation::Delete, id));
    let mut results = match ctx.broker.groups.delete_groups(&ids).await {
        Ok(r) => r,
        Err(e) => ids.into_iter().map(|id| (id, Some(e.clone()))).collect(),
    };
    // A deleted share group's share-partition state goes with it (Kafka deletes it through the
    // share coordinator before the group's tombstones).
    for (id, e) in &results {
        if e.is_none() {
            ctx.broker.share.delete_group(id).await;
        }
    }
    results.extend(
        denied
            .into_iter()
            .map(|id| (id, Some(Error::GroupAuthorizationFailed))),
    );
    DeleteGroupsResponse::default().with_results(
        results
            .into_iter()
            .map(|(id, e)| {
                DeletableGroupResult::default()
                    .with_group_id(GroupId(sb(&id)))
                    .with_error_code(e.as_ref().map_or(0, Error::code))
            })
            .collect(),
    )
}
