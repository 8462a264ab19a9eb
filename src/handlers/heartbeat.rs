//! Heartbeat (key 12), v0-4: keeps a member's session alive and tells it when to rejoin
//! (REBALANCE_IN_PROGRESS).

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: HeartbeatRequest) -> HeartbeatResponse {
    // READ on the group (`KafkaApis.handleHeartbeatRequest`).
    if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
        return HeartbeatResponse::default()
            .with_error_code(Error::GroupAuthorizationFailed.code());
    }
    let r = ctx
        .broker
        .groups
        .heartbeat(
            req.group_id.as_str(),
            req.member_id.as_str(),
            req.group_instance_id.as_deref(),
            req.generation_id,
        )
        .await;
    HeartbeatResponse::default().with_error_code(r.err().as_ref().map_or(0, Error::code))
}
