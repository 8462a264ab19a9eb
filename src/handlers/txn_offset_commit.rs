//! TxnOffsetCommit (key 28), v0-4: offsets committed inside a transaction
//! (`sendOffsetsToTransaction`). Partitions of unknown topics answer
//! UNKNOWN_TOPIC_OR_PARTITION; the rest are written to `__consumer_offsets` as the producer's
//! transactional batch and become visible when the transaction commits (Kafka's
//! `KafkaApis.handleTxnOffsetCommitRequest` and `OffsetMetadataManager.commitTransactionalOffset`).

use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};

use super::authz::{self, AclOperation};
use super::commit_partitions::{self, Requested};
use super::RequestContext;
use crate::error::Error;
use crate::groups::offset_manager::CommitRequest;
use crate::log::batch;
use crate::log::batch_builder::Producer;

pub async fn handle(ctx: &RequestContext, req: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
    // WRITE on the transactional id, then READ on the group (either failure applies to every
    // partition), then READ on each topic (`KafkaApis.handleTxnOffsetCommitRequest`).
    let denied =
        if !authz::transactional_id(ctx, AclOperation::Write, req.transactional_id.as_str()) {
            Some(Error::TransactionalIdAuthorizationFailed)
        } else if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
            Some(Error::GroupAuthorizationFailed)
        } else {
            None
        };
    let topic_allowed =
        |name: &str| denied.is_none() && authz::topic(ctx, AclOperation::Read, name);
    let mut split = commit_partitions::split(
        &ctx.broker.logs,
        req.topics.iter().map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| Requested {
                    partition: p.partition_index,
                    offset: p.committed_offset,
                    leader_epoch: p.committed_leader_epoch,
                    metadata: p.committed_metadata.as_deref(),
                })
                .collect();
            (t.name.as_str(), partitions)
        }),
        &topic_allowed,
    );
    let partitions = std::mem::take(&mut split.to_commit);
    let committed: Result<Vec<Option<Error>>, Error> = if let Some(e) = denied {
        Err(e)
    } else if partitions.is_empty() {
        Ok(Vec::new())
    } else if req.group_id.is_empty() {
        Err(Error::InvalidGroupId)
    } else {
        ctx.broker
            .groups
            .txn_commit_offsets(
                CommitRequest {
                    group_id: req.group_id.to_string(),
                    member_id: req.member_id.to_string(),
                    group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
                    generation_id: if ctx.version >= 3 {
                        req.generation_id
                    } else {
                        -1
                    },
                    retention_time_ms: -1,
                    api_version: ctx.version,
                    partitions,
                },
                Producer {
                    id: req.producer_id.0,
                    epoch: req.producer_epoch,
                    base_sequence: batch::NO_SEQUENCE,
                    transactional: true,
                },
            )
            .await
    };
    let topics = req
        .topics
        .into_iter()
        .zip(split.errors(committed))
        .map(|(t, errors)| {
            let parts = t
                .partitions
                .iter()
                .zip(errors)
                .map(|(p, error)| {
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(error.as_ref().map_or(0, Error::code))
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(parts)
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}
