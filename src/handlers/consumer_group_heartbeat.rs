//! ConsumerGroupHeartbeat (key 68), v0-1 (KIP-848): a consumer-protocol member joins, heartbeats
//! its subscription and owned partitions, and gets its assignment; v1 members make up their own
//! member id (KIP-1082). The logic is in [`crate::groups::modern::heartbeat`].

use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse};

use super::{client_host, sb, RequestContext};
use crate::error::Error;
use crate::groups::modern::HeartbeatRequest;

pub async fn handle(
    ctx: &RequestContext,
    req: ConsumerGroupHeartbeatRequest,
) -> ConsumerGroupHeartbeatResponse {
    let groups = &ctx.broker.groups;
    if !groups.config().consumer.enabled {
        return error(Error::UnsupportedVersion(
            "The consumer group protocol is disabled (group.coordinator.rebalance.protocols)."
                .into(),
        ));
    }
    // READ on the group (`KafkaApis.handleConsumerGroupHeartbeat`).
    if !super::authz::group(ctx, super::authz::AclOperation::Read, req.group_id.as_str()) {
        return error(Error::GroupAuthorizationFailed);
    }
    let request = HeartbeatRequest {
        group_id: req.group_id.to_string(),
        member_id: req.member_id.to_string(),
        member_epoch: req.member_epoch,
        instance_id: req.instance_id.map(|s| s.to_string()),
        rack_id: req.rack_id.map(|s| s.to_string()),
        rebalance_timeout_ms: req.rebalance_timeout_ms,
        subscribed_topic_names: req
            .subscribed_topic_names
            .map(|ts| ts.into_iter().map(|t| t.to_string()).collect()),
        subscribed_topic_regex: req.subscribed_topic_regex.map(|s| s.to_string()),
        server_assignor: req.server_assignor.map(|s| s.to_string()),
        owned: req.topic_partitions.map(|tps| {
            tps.into_iter()
                .map(|tp| (tp.topic_id, tp.partitions))
                .collect()
        }),
        client_id: ctx.client_id.clone().unwrap_or_default(),
        client_host: client_host(ctx),
        api_version: ctx.version,
    };
    match groups.consumer_group_heartbeat(request).await {
        Err(e) => error(e),
        Ok(r) => ConsumerGroupHeartbeatResponse::default()
            .with_member_id(Some(sb(&r.member_id)))
            .with_member_epoch(r.member_epoch)
            .with_heartbeat_interval_ms(r.heartbeat_interval_ms)
            .with_assignment(r.assignment.map(|a| {
                Assignment::default().with_topic_partitions(
                    a.into_iter()
                        .map(|(topic_id, ps)| {
                            TopicPartitions::default()
                                .with_topic_id(topic_id)
                                .with_partitions(ps.into_iter().collect())
                        })
                        .collect(),
                )
            })),
    }
}

/// Kafka answers every ConsumerGroupHeartbeat error with the code and its message.
fn error(e: Error) -> ConsumerGroupHeartbeatResponse {
    ConsumerGroupHeartbeatResponse::default()
        .with_error_code(e.code())
        .with_error_message(Some(sb(&e.message())))
}
