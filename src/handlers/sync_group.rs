//! SyncGroup (key 14), v0-5: the leader hands in the assignment, every member gets its own.
//! From v5 the protocol type and name are mandatory (INCONSISTENT_GROUP_PROTOCOL otherwise).

use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;
use crate::groups::member::SyncResult;
use crate::groups::membership::SyncRequest;

pub async fn handle(ctx: &RequestContext, req: SyncGroupRequest) -> SyncGroupResponse {
    let v = ctx.version;
    // READ on the group (`KafkaApis.handleSyncGroupRequest`), before the protocol check.
    let r = if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
        SyncResult::error(Error::GroupAuthorizationFailed)
    } else if v >= 5 && (req.protocol_type.is_none() || req.protocol_name.is_none()) {
        SyncResult::error(Error::InconsistentGroupProtocol)
    } else {
        let sync = SyncRequest {
            group_id: req.group_id.to_string(),
            generation_id: req.generation_id,
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.map(|s| s.to_string()),
            protocol_type: req.protocol_type.map(|s| s.to_string()),
            protocol_name: req.protocol_name.map(|s| s.to_string()),
            assignments: req
                .assignments
                .into_iter()
                .map(|a| (a.member_id.to_string(), a.assignment))
                .collect(),
        };
        ctx.broker.groups.sync_group(sync).await
    };
    let mut resp = SyncGroupResponse::default()
        .with_error_code(r.error.as_ref().map_or(0, Error::code))
        .with_assignment(r.assignment);
    if v >= 5 {
        resp.protocol_type = r.protocol_type.as_deref().map(sb);
        resp.protocol_name = r.protocol_name.as_deref().map(sb);
    }
    resp
}
