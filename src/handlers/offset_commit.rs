//! OffsetCommit (key 8), v2-9: partitions of unknown topics answer UNKNOWN_TOPIC_OR_PARTITION
//! (Kafka's `KafkaApis.handleOffsetCommitRequest`); the rest go to the coordinator, which answers
//! once the records are in `__consumer_offsets`. A request-level error applies to every partition.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::RequestContext;
use crate::error::Error;
use crate::groups::offset_manager::{CommitPartition, CommitRequest};

pub async fn handle(ctx: &RequestContext, req: OffsetCommitRequest) -> OffsetCommitResponse {
    let logs = &ctx.broker.logs;
    // Per request partition: Some(error) decided here, None = sent to the coordinator.
    let mut verdicts: Vec<Vec<Option<Error>>> = Vec::with_capacity(req.topics.len());
    let mut partitions = Vec::new();
    for t in &req.topics {
        let topic = logs.topic(t.name.as_str());
        verdicts.push(
            t.partitions
                .iter()
                .map(|p| match &topic {
                    Some(topic) if topic.partition(p.partition_index).is_some() => {
                        partitions.push(CommitPartition {
                            topic: t.name.to_string(),
                            partition: p.partition_index,
                            offset: p.committed_offset,
                            leader_epoch: p.committed_leader_epoch,
                            metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                        });
                        None
                    }
                    _ => Some(Error::UnknownTopicOrPartition),
                })
                .collect(),
        );
    }
    let committed: Result<Vec<Option<Error>>, Error> = if partitions.is_empty() {
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
    let mut coordinator_errors = match &committed {
        Ok(errs) => errs.clone().into_iter(),
        Err(_) => Vec::new().into_iter(),
    };
    let topics = req
        .topics
        .into_iter()
        .zip(verdicts)
        .map(|(t, verdict)| {
            let parts = t
                .partitions
                .iter()
                .zip(verdict)
                .map(|(p, v)| {
                    let error = match (&committed, v) {
                        (Err(e), _) => Some(e.clone()),
                        (Ok(_), Some(e)) => Some(e),
                        (Ok(_), None) => coordinator_errors.next().flatten(),
                    };
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
