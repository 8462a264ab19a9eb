//! LeaveGroup (key 13), v0-5: v0-2 name one member; v3+ a batch, also by `group.instance.id`
//! (KIP-345 administrative removal). Before v3 the member's error is the response's error.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;
use crate::groups::membership::LeavingMember;

pub async fn handle(ctx: &RequestContext, req: LeaveGroupRequest) -> LeaveGroupResponse {
    let v = ctx.version;
    // READ on the group (`KafkaApis.handleLeaveGroupRequest`).
    if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
        return LeaveGroupResponse::default()
            .with_error_code(Error::GroupAuthorizationFailed.code());
    }
    let members: Vec<LeavingMember> = if v >= 3 {
        req.members
            .into_iter()
            .map(|m| LeavingMember {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.map(|s| s.to_string()),
                reason: m.reason.map(|s| s.to_string()),
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: req.member_id.to_string(),
            group_instance_id: None,
            reason: None,
        }]
    };
    let result = ctx
        .broker
        .groups
        .leave_group(req.group_id.as_str(), members)
        .await;
    match result {
        Err(e) => LeaveGroupResponse::default().with_error_code(e.code()),
        Ok(results) if v < 3 => {
            let code = results
                .iter()
                .find_map(|r| r.error.as_ref())
                .map_or(0, Error::code);
            LeaveGroupResponse::default().with_error_code(code)
        }
        Ok(results) => LeaveGroupResponse::default().with_members(
            results
                .into_iter()
                .map(|r| {
                    MemberResponse::default()
                        .with_member_id(sb(&r.member_id))
                        .with_group_instance_id(r.group_instance_id.as_deref().map(sb))
                        .with_error_code(r.error.as_ref().map_or(0, Error::code))
                })
                .collect(),
        ),
    }
}
