//! ShareFetch (key 78), v1 (KIP-932): a share consumer's fetch, with its share session epoch and
//! the acknowledgements of what it processed. Records come back as the stored batches with the
//! ranges acquired for this member; the logic is in [`crate::share::manager`].

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::share_fetch_response::{
    AcquiredRecords, PartitionData, ShareFetchableTopicResponse,
};
use kafka_protocol::messages::{ShareFetchRequest, ShareFetchResponse};
use uuid::Uuid;

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;
use crate::share::manager::{
    AckBatch, FetchParams, FetchResult, PartitionResult, RequestPartition,
};

pub async fn handle(ctx: &RequestContext, req: ShareFetchRequest) -> ShareFetchResponse {
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
    let forgotten = req
        .forgotten_topics_data
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.topic_id, *p)))
        .collect();
    let params = FetchParams {
        group_id,
        member_id,
        epoch: req.share_session_epoch,
        max_wait_ms: req.max_wait_ms,
        min_bytes: req.min_bytes,
        max_bytes: req.max_bytes,
        max_records: req.max_records,
        partitions,
        forgotten,
        peer: ctx.peer,
    };
    let mut result = ctx
        .broker
        .share
        .fetch(params, ctx.broker.shutting_down.clone())
        .await;
    if result.error.is_none() {
        result.partitions.extend(denied);
    }
    response(result)
}

/// The checks every share RPC makes first: share groups enabled, READ on the group, a member
/// id that is a Kafka UUID (`Uuid.fromString` in `KafkaApis`).
pub fn check_request(ctx: &RequestContext, group_id: &str, member_id: &str) -> Option<Error> {
    if !ctx.broker.groups.config().share.enabled {
        return Some(Error::UnsupportedVersion(
            "Share groups are disabled (group.share.enable).".into(),
        ));
    }
    if !authz::group(ctx, AclOperation::Read, group_id) {
        return Some(Error::GroupAuthorizationFailed);
    }
    if group_id.is_empty() {
        return Some(Error::InvalidGroupId);
    }
    if !is_member_uuid(member_id) {
        // Kafka's `Uuid.fromString` throws: UNKNOWN_SERVER_ERROR.
        return Some(Error::Internal(format!("Invalid member id: {member_id}")));
    }
    None
}

/// A member id a share member may use: a Kafka UUID string (URL-safe base64 of 16 bytes), or,
/// beyond Kafka, the same in the standard base64 alphabet, which librdkafka 2.16's share
/// consumer makes up about half the time and Kafka cannot read (every ShareFetch of such a
/// member fails there).
fn is_member_uuid(member_id: &str) -> bool {
    use base64::Engine;
    crate::cluster::uuid_from_kafka_string(member_id).is_some()
        || base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(member_id.trim())
            .is_ok_and(|b| b.len() == 16)
}

/// The partitions a ShareFetch or ShareAcknowledge names, with their acknowledgements: those
/// whose topic the client may READ, and error answers for the others (UNKNOWN_TOPIC_ID,
/// TOPIC_AUTHORIZATION_FAILED).
pub fn resolve_partitions(
    ctx: &RequestContext,
    topics: impl Iterator<Item = (Uuid, Vec<(i32, Vec<AckBatch>)>)>,
) -> (Vec<RequestPartition>, Vec<PartitionResult>) {
    let mut partitions = Vec::new();
    let mut denied = Vec::new();
    for (topic_id, parts) in topics {
        let allowed = topic_allowed(ctx, topic_id);
        for (partition, acks) in parts {
            match &allowed {
                Err(e) => denied.push(PartitionResult {
                    topic_id,
                    partition,
                    error: Some(e.clone()),
                    ..Default::default()
                }),
                Ok(()) => partitions.push(RequestPartition {
                    topic_id,
                    partition,
                    acks,
                }),
            }
        }
    }
    (partitions, denied)
}

/// READ on the topic behind `topic_id` (UNKNOWN_TOPIC_ID when there is none).
pub fn topic_allowed(ctx: &RequestContext, topic_id: Uuid) -> Result<(), Error> {
    let t = ctx
        .broker
        .logs
        .topic_by_id(topic_id)
        .ok_or(Error::UnknownTopicId)?;
    if authz::topic(ctx, AclOperation::Read, &t.name) {
        Ok(())
    } else {
        Err(Error::topic_denied())
    }
}

/// A partition's error message: none for an error made without one, as Kafka's
/// `KafkaApis.validateAcknowledgementBatches` makes its INVALID_REQUEST answers
/// (`ShareAcknowledgeResponse.partitionResponse(tp, error)`, a code only).
pub fn partition_message(e: &Error) -> Option<kafka_protocol::protocol::StrBytes> {
    let m = e.message();
    (!m.is_empty()).then(|| sb(&m))
}

/// A top-level error answer: the code only, as Kafka's `ShareFetchRequest.getErrorResponse`
/// builds it (every top-level error of this RPC has a null message there).
fn error(e: Error) -> ShareFetchResponse {
    ShareFetchResponse::default().with_error_code(e.code())
}

fn response(r: FetchResult) -> ShareFetchResponse {
    if let Some(e) = r.error {
        return error(e);
    }
    let mut by_topic: BTreeMap<Uuid, Vec<PartitionData>> = BTreeMap::new();
    let mut order: Vec<Uuid> = Vec::new();
    for p in r.partitions {
        if !by_topic.contains_key(&p.topic_id) {
            order.push(p.topic_id);
        }
        let records = match p.records.len() {
            0 => Bytes::new(),
            1 => p.records[0].clone(),
            _ => {
                let mut b = BytesMut::with_capacity(p.records.iter().map(|r| r.len()).sum());
                for r in &p.records {
                    b.extend_from_slice(r);
                }
                b.freeze()
            }
        };
        let mut pd = PartitionData::default()
            .with_partition_index(p.partition)
            .with_records(Some(records))
            .with_acquired_records(
                p.acquired
                    .iter()
                    .map(|a| {
                        AcquiredRecords::default()
                            .with_first_offset(a.first_offset)
                            .with_last_offset(a.last_offset)
                            .with_delivery_count(a.delivery_count)
                    })
                    .collect(),
            );
        if let Some(e) = p.error {
            pd = pd
                .with_error_code(e.code())
                .with_error_message(partition_message(&e));
        }
        if let Some(e) = p.ack_error {
            pd = pd.with_acknowledge_error_code(e.code());
        }
        by_topic.entry(p.topic_id).or_default().push(pd);
    }
    ShareFetchResponse::default()
        .with_acquisition_lock_timeout_ms(r.lock_timeout_ms)
        .with_responses(
            order
                .into_iter()
                .map(|id| {
                    ShareFetchableTopicResponse::default()
                        .with_topic_id(id)
                        .with_partitions(by_topic.remove(&id).unwrap_or_default())
                })
                .collect(),
        )
}
