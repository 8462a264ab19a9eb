//! OffsetCommit v0-1 (Kafka 3.9's `OffsetCommitRequest.json`, removed in 4.0 by KIP-896).
//! v0 carries no generation or member: a simple commit (generation -1, empty member id, as the
//! v2 defaults). v1 adds the generation id, the member id and a per-partition
//! `commit_timestamp`. The request maps to the v2 struct with the broker's default retention
//! (`retention_time_ms` -1, which v2-4 may override); the response is v2's layout, which v0-2
//! share (no throttle time before v3).

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::wire::{ReadError, Reader, Writer};

/// The request. A v1 `commit_timestamp` is read and dropped: Kafka 3.9 recorded it as the
/// commit time (so an old simple consumer could age its own offsets); Klamm stamps every
/// commit with the broker's clock, as v2+ do, and expiry follows `offsets.retention.minutes`.
pub fn decode_request(r: &mut Reader, version: i16) -> Result<OffsetCommitRequest, ReadError> {
    let mut req = OffsetCommitRequest::default()
        .with_group_id(r.string()?.into())
        .with_generation_id_or_member_epoch(-1)
        .with_retention_time_ms(-1);
    if version >= 1 {
        req.generation_id_or_member_epoch = r.i32()?;
        req.member_id = r.string()?;
    }
    req.topics = r.array(|r| {
        let name = r.string()?;
        let partitions = r.array(|r| {
            let partition_index = r.i32()?;
            let committed_offset = r.i64()?;
            if version >= 1 {
                let _commit_timestamp = r.i64()?;
            }
            Ok(OffsetCommitRequestPartition::default()
                .with_partition_index(partition_index)
                .with_committed_offset(committed_offset)
                .with_committed_leader_epoch(-1)
                .with_committed_metadata(r.nullable_string()?))
        })?;
        Ok(OffsetCommitRequestTopic::default()
            .with_name(name.into())
            .with_partitions(partitions))
    })?;
    Ok(req)
}

pub fn encode_response(w: &mut Writer, resp: &OffsetCommitResponse) -> anyhow::Result<()> {
    w.array(&resp.topics, |w, t| {
        w.string(&t.name)?;
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.i16(p.error_code);
            Ok(())
        })
    })
}
