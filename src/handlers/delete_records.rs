//! DeleteRecords (key 21), v0-2: move partitions' log start offsets forward (Kafka's
//! `ReplicaManager.deleteRecords`). Offset -1 means the high watermark. The segments below the
//! new log start offset are removed by the next retention pass; reads below it answer
//! OFFSET_OUT_OF_RANGE at once. Needs DELETE on the topic (TOPIC_AUTHORIZATION_FAILED).

use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use tracing::warn;

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: DeleteRecordsRequest) -> DeleteRecordsResponse {
    let logs = &ctx.broker.logs;
    let mut moved = false;
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let authorized = authz::topic(ctx, AclOperation::Delete, t.name.as_str());
            let topic = logs.topic(t.name.as_str());
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let result = if authorized {
                        topic
                            .as_ref()
                            .and_then(|t| t.partition(p.partition_index))
                            .ok_or(Error::UnknownTopicOrPartition)
                            .and_then(|part| part.delete_records(p.offset))
                    } else {
                        Err(Error::topic_denied())
                    };
                    let mut r = DeleteRecordsPartitionResult::default()
                        .with_partition_index(p.partition_index);
                    match result {
                        Ok(low) => {
                            moved = true;
                            r.low_watermark = low;
                            r.error_code = 0;
                        }
                        Err(e) => {
                            r.low_watermark = -1;
                            r.error_code = e.code();
                        }
                    }
                    r
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    if moved {
        // Persist the new log start offsets now rather than at the next periodic checkpoint.
        let l = logs.clone();
        match tokio::task::spawn_blocking(move || l.write_checkpoints()).await {
            Ok(Err(e)) => warn!("writing offset checkpoints after DeleteRecords failed: {e}"),
            Err(e) => warn!("checkpoint task failed: {e}"),
            Ok(Ok(())) => {}
        }
    }
    DeleteRecordsResponse::default().with_topics(topics)
}
