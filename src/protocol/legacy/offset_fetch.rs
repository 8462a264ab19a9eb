//! OffsetFetch v0 (Kafka 3.9's `OffsetFetchRequest.json`, removed in 4.0 by KIP-896). Its wire
//! layout is v1's: `group_id [topic [partition_index]]` (topics not nullable before v2), and the
//! response `[topic [partition committed_offset metadata error_code]]`, no throttle time and no
//! top-level error code. ZooKeeper-mode Kafka read v0 from ZooKeeper; Klamm has one offset store,
//! so v0 reads what the group coordinator holds, as v1 does.

use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse};

use super::wire::{ReadError, Reader, Writer};

pub fn decode_request(r: &mut Reader) -> Result<OffsetFetchRequest, ReadError> {
    let group_id = r.string()?;
    let topics = r.array(|r| {
        let name = r.string()?;
        let partition_indexes = r.array(|r| r.i32())?;
        Ok(OffsetFetchRequestTopic::default()
            .with_name(name.into())
            .with_partition_indexes(partition_indexes))
    })?;
    Ok(OffsetFetchRequest::default()
        .with_group_id(group_id.into())
        .with_topics(Some(topics)))
}

pub fn encode_response(w: &mut Writer, resp: &OffsetFetchResponse) -> anyhow::Result<()> {
    w.array(&resp.topics, |w, t| {
        w.string(&t.name)?;
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.i64(p.committed_offset);
            w.nullable_string(p.metadata.as_deref())?;
            w.i16(p.error_code);
            Ok(())
        })
    })
}
