//! ShareGroupHeartbeat (key 76), v1 (KIP-932): a share-group member joins (epoch 0, with its own
//! member id), heartbeats and leaves (-1), and is told its partitions. The logic is in
//! [`crate::groups::share::heartbeat`].

use kafka_protocol::messages::share_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{ShareGroupHeartbeatRequest, ShareGroupHeartbeatResponse};

use super::authz::{self, AclOperation};
use super::{client_host, sb, RequestContext};
use crate::error::Error;
use crate::groups::share::heartbeat::ShareHeartbeatRequest;

pub async fn handle(
    ctx: &RequestContext,
    req: ShareGroupHeartbeatRequest,
) -> ShareGroupHeartbeatResponse {
    let groups = &ctx.broker.groups;
    if !groups.config().share.enabled {
        return error(Error::UnsupportedVersion(
            "Share groups are disabled (group.share.enable).".into(),
        ));
    }
    // READ on the group, DESCRIBE on the subscribed topics (`KafkaApis.handleShareGroupHeartbeat`).
    if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
        return error(Error::GroupAuthorizationFailed);
    }
    if let Some(topics) = &req.subscribed_topic_names {
        if topics
            .iter()
            .any(|t| !authz::topic(ctx, AclOperation::Describe, t.as_str()))
        {
            return error(Error::topic_denied());
        }
    }
    let request = ShareHeartbeatRequest {
        group_id: req.group_id.to_string(),
        member_id: req.member_id.to_string(),
        member_epoch: req.member_epoch,
        rack_id: req.rack_id.map(|s| s.to_string()),
        subscribed_topic_names: req
            .subscribed_topic_names
            .map(|ts| ts.into_iter().map(|t| t.to_string()).collect()),
        client_id: ctx.client_id.clone().unwrap_or_default(),
        client_host: client_host(ctx),
    };
    match groups.share_group_heartbeat(request).await {
        Err(e) => error(e),
        Ok(r) => ShareGroupHeartbeatResponse::default()
            .with_member_id(Some(sb(&r.member_id)))
            .with_member_epoch(r.member_epoch)
            .with_heartbeat_interval_ms(r.heartbeat_interval_ms)
            .with_assignment(r.assignment.map(|a| {
                Assignment::default().with_topic_partitions(
                    a.into_iter()
                        .map(|(topic_id, ps)| {
                            TopicPartitions::default()
                                .with_topic_id(topic_id)
                                .with_partitions(ps)
                        })
                        .collect(),
                )
            })),
    }
}

fn error(e: Error) -> ShareGroupHeartbeatResponse {
    ShareGroupHeartbeatResponse::default()
        .with_error_code(e.code())
        .with_error_message(Some(sb(&e.message())))
}
