//! OffsetCommit (key 8), v2-9: partitions of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION
//! (Kafka's `KafkaApis.handleOffsetCommitRequest`); the rest go to the coordinator, which answers
//! once the records are in `__consumer_offsets`. A request-level error applies to every partition.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::authz::{self, AclOperation};
use super::commit_partitions::{self, Requested};
use super::RequestContext;
use crate::error::Error;
use crate::groups::offset_manager::CommitRequest;

pub async fn handle(ctx: &RequestContext, req: OffsetCommitRequest) -> OffsetCommitResponse {
    // READ on the group, else every partition fails; then READ on each topic.
    let denied = (!authz::group(ctx, AclOperation::Read, req.group_id.as_str()))
        .then_some(Error::GroupAuthorizationFailed);
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
    } else {
        ctx.broker
            .groups
            .commit_offsets(CommitRequest {
                group_id: req.group_id.to_string(),
                member_id: req.member_id.to_string(),
                group_instance_id: req.group_instance_id.as_ref().map(|s| s.to_string()),
                generation_id: req.generation_id_or_member_epoch,
                retention_time_ms: req.retention_time_ms,
                api_version: ctx.version,
                partitions,
            })
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
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(error.as_ref().map_or(0, Error::code))
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(parts)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
