//! OffsetForLeaderEpoch v0-1 (Kafka 3.9's `OffsetForLeaderEpochRequest.json`, removed in 4.0 by
//! KIP-896). The request has neither `replica_id` (v3+; a consumer's -2) nor
//! `current_leader_epoch` (v2+; -1, no fencing check); the response has no throttle time (v2+),
//! and v0 answers no `leader_epoch`.

use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::{
    BrokerId, OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse,
};

use super::wire::{ReadError, Reader, Writer};

/// The spec's `replica_id` default, `OffsetForLeaderEpochRequest.CONSUMER_REPLICA_ID`.
const CONSUMER_REPLICA_ID: i32 = -2;

pub fn decode_request(r: &mut Reader) -> Result<OffsetForLeaderEpochRequest, ReadError> {
    let topics = r.array(|r| {
        let topic = r.string()?;
        let partitions = r.array(|r| {
            let partition = r.i32()?;
            Ok(OffsetForLeaderPartition::default()
                .with_partition(partition)
                .with_current_leader_epoch(-1)
                .with_leader_epoch(r.i32()?))
        })?;
        Ok(OffsetForLeaderTopic::default()
            .with_topic(topic.into())
            .with_partitions(partitions))
    })?;
    Ok(OffsetForLeaderEpochRequest::default()
        .with_replica_id(BrokerId(CONSUMER_REPLICA_ID))
        .with_topics(topics))
}

pub fn encode_response(
    w: &mut Writer,
    version: i16,
    resp: &OffsetForLeaderEpochResponse,
) -> anyhow::Result<()> {
    w.array(&resp.topics, |w, t| {
        w.string(&t.topic)?;
        w.array(&t.partitions, |w, p| {
            w.i16(p.error_code);
            w.i32(p.partition);
            if version >= 1 {
                w.i32(p.leader_epoch);
            }
            w.i64(p.end_offset);
            Ok(())
        })
    })
}
