//! OffsetForLeaderEpoch (key 23), v2-4: consumers validate their position after a restart or
//! leader change (KIP-320). A single broker has one epoch history per partition: epoch 0 from
//! offset 0, so epoch 0 ends at the log end offset and any later epoch is unknown (Kafka's
//! `LeaderEpochFileCache.endOffsetFor`).

use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;
use crate::log::partition::LEADER_EPOCH;

/// `RecordBatch.NO_PARTITION_LEADER_EPOCH` / `UNDEFINED_EPOCH`.
const UNDEFINED_EPOCH: i32 = -1;
const UNDEFINED_EPOCH_OFFSET: i64 = -1;

pub fn handle(
    ctx: &RequestContext,
    req: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let logs = &ctx.broker.logs;
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            // DESCRIBE on the topic (`filterByAuthorized(DESCRIBE, TOPIC)`).
            let authorized = authz::topic(ctx, AclOperation::Describe, t.topic.as_str());
            let topic = logs.topic(t.topic.as_str());
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let r = EpochEndOffset::default().with_partition(p.partition);
                    if !authorized {
                        return r.with_error_code(Error::topic_denied().code());
                    }
                    let Some(part) = topic.as_ref().and_then(|t| t.partition(p.partition)) else {
                        return r.with_error_code(Error::UnknownTopicOrPartition.code());
                    };
                    // Partition.checkCurrentLeaderEpoch: -1 skips the check.
                    if p.current_leader_epoch != UNDEFINED_EPOCH {
                        if p.current_leader_epoch < LEADER_EPOCH {
                            return r.with_error_code(Error::FencedLeaderEpoch.code());
                        }
                        if p.current_leader_epoch > LEADER_EPOCH {
                            return r.with_error_code(Error::UnknownLeaderEpoch.code());
                        }
                    }
                    let (epoch, end) = match p.leader_epoch {
                        UNDEFINED_EPOCH => (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET),
                        LEADER_EPOCH => (LEADER_EPOCH, part.log_end_offset()),
                        // Older than the first epoch: it ends where epoch 0 starts.
                        e if e < LEADER_EPOCH => (e, 0),
                        _ => (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET),
                    };
                    r.with_error_code(0)
                        .with_leader_epoch(epoch)
                        .with_end_offset(end)
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(t.topic)
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}
