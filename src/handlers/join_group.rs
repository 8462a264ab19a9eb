//! JoinGroup (key 11), v0-9: parks until the rebalance completes (see `groups::membership`).
//! v4+ members get MEMBER_ID_REQUIRED first (KIP-394); v5+ carry `group.instance.id`
//! (KIP-345); v9 may tell a returning static leader to skip the assignment.

use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use super::authz::{self, AclOperation};
use super::{client_host, sb, RequestContext};
use crate::error::Error;
use crate::groups::member::Protocol;
use crate::groups::membership::JoinRequest;

pub async fn handle(ctx: &RequestContext, req: JoinGroupRequest) -> JoinGroupResponse {
    let v = ctx.version;
    // READ on the group (`KafkaApis.handleJoinGroupRequest`).
    if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
        let mut resp = JoinGroupResponse::default()
            .with_error_code(Error::GroupAuthorizationFailed.code())
            .with_generation_id(-1);
        resp.protocol_name = if v < 7 { Some(sb("")) } else { None };
        return resp;
    }
    let join = JoinRequest {
        group_id: req.group_id.to_string(),
        member_id: req.member_id.to_string(),
        group_instance_id: req.group_instance_id.map(|s| s.to_string()),
        protocol_type: req.protocol_type.to_string(),
        protocols: req
            .protocols
            .into_iter()
            .map(|p| Protocol {
                name: p.name.to_string(),
                metadata: p.metadata,
            })
            .collect(),
        session_timeout_ms: req.session_timeout_ms,
        // v0 has no rebalance timeout: the session timeout serves (Kafka's JoinGroupRequest).
        rebalance_timeout_ms: if v == 0 {
            req.session_timeout_ms
        } else {
            req.rebalance_timeout_ms
        },
        client_id: ctx.client_id.clone().unwrap_or_default(),
        client_host: client_host(ctx),
        api_version: v,
        reason: req.reason.map(|s| s.to_string()),
    };
    let r = ctx.broker.groups.join_group(join).await;
    let mut resp = JoinGroupResponse::default()
        .with_error_code(r.error.as_ref().map_or(0, |e| e.code()))
        .with_generation_id(r.generation_id)
        .with_leader(sb(&r.leader))
        .with_member_id(sb(&r.member_id))
        .with_members(
            r.members
                .into_iter()
                .map(|m| {
                    JoinGroupResponseMember::default()
                        .with_member_id(sb(&m.member_id))
                        .with_group_instance_id(if v >= 5 {
                            m.group_instance_id.as_deref().map(sb)
                        } else {
                            None
                        })
                        .with_metadata(m.metadata)
                })
                .collect(),
        );
    // Before v7 the protocol name is not nullable: null becomes "" (Kafka's JoinGroupResponse).
    resp.protocol_name = match r.protocol_name.filter(|p| !p.is_empty()) {
        Some(p) => Some(sb(&p)),
        None if v < 7 => Some(sb("")),
        None => None,
    };
    if v >= 7 {
        resp.protocol_type = r.protocol_type.as_deref().map(sb);
    }
    if v >= 9 {
        resp.skip_assignment = r.skip_assignment;
    }
    resp
}
