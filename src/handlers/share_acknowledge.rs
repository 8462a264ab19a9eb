//! ShareAcknowledge (key 79), v1 (KIP-932): acknowledgements outside a fetch (ACCEPT, RELEASE,
//! REJECT per offset range), on the member's share session.

use std::collections::BTreeMap;

use kafka_protocol::messages::share_acknowledge_response::{
    PartitionData, ShareAcknowledgeTopicResponse,
};
use kafka_protocol::messages::{ShareAcknowledgeRequest, ShareAcknowledgeResponse};
use uuid::Uuid;

use super::share_fetch::{check_request, partition_message, resolve_partitions};
use super::RequestContext;
use crate::error::Error;

pub async fn handle(
    ctx: &RequestContext,
    req: ShareAcknowledgeRequest,
) -> ShareAcknowledgeResponse {
    let group_id = req
        .group_id
        .as_ref()
        .map(|g| g.to_string())
        .unwrap_or_default();
    let member_id = req
        .member_id
        .as_ref()
        .map(|m| m.to_string())
        .unwrap_or_default();
    if let Some(e) = check_request(ctx, &group_id, &member_id) {
        return error(e);
    }
    let (partitions, denied) = resolve_partitions(
        ctx,
        req.topics.into_iter().map(|t| {
            let parts = t.partitions.into_iter().map(|p| {
                let acks = p.acknowledgement_batches.into_iter();
                (
                    p.partition_index,
                    acks.map(|b| (b.first_offset, b.last_offset, b.acknowledge_types))
                        .collect(),
                )
            });
            (t.topic_id, parts.collect())
        }),
    );
    let result = ctx
        .broker
        .share
        .acknowledge(&group_id, &member_id, req.share_session_epoch, &partitions)
        .await;
    if let Some(e) = result.error {
        return error(e);
    }
    let mut by_topic: BTreeMap<Uuid, Vec<PartitionData>> = BTreeMap::new();
    let mut order = Vec::new();
    for p in result.partitions.into_iter().chain(denied) {
        if !by_topic.contains_key(&p.topic_id) {
            order.push(p.topic_id);
        }
        let mut pd = PartitionData::default().with_partition_index(p.partition);
        if let Some(e) = p.error {
            pd = pd
                .with_error_code(e.code())
                .with_error_message(partition_message(&e));
        }
        by_topic.entry(p.topic_id).or_default().push(pd);
    }
    ShareAcknowledgeResponse::default().with_responses(
        order
            .into_iter()
            .map(|id| {
                ShareAcknowledgeTopicResponse::default()
                    .with_topic_id(id)
                    .with_partitions(by_topic.remove(&id).unwrap_or_default())
            })
            .collect(),
    )
}

/// A top-level error answer: the code only, as Kafka's `ShareAcknowledgeRequest.getErrorResponse`
/// builds it (every top-level error of this RPC has a null message there).
fn error(e: Error) -> ShareAcknowledgeResponse {
    ShareAcknowledgeResponse::default().with_error_code(e.code())
}
