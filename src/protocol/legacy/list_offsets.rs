//! ListOffsets v0 (Kafka 3.9's `ListOffsetsRequest.json` / `ListOffsetsResponse.json`, removed in
//! 4.0 by KIP-896). The request asks, per partition, for up to `max_num_offsets` offsets before
//! a timestamp; the response answers them in `old_style_offsets`, newest first. The crate has
//! neither field, so v0 has its own request and response types and its own handler
//! ([`crate::handlers::list_offsets::handle_v0`], Kafka's `handleListOffsetRequestV0`).

use kafka_protocol::protocol::StrBytes;

use super::wire::{ReadError, Reader, Writer};

/// `ListOffsetsRequest` v0: `replica_id`, then `[topic [partition timestamp max_num_offsets]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ListOffsetsRequestV0 {
    pub replica_id: i32,
    pub topics: Vec<ListOffsetsTopicV0>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListOffsetsTopicV0 {
    pub name: StrBytes,
    pub partitions: Vec<ListOffsetsPartitionV0>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListOffsetsPartitionV0 {
    pub partition_index: i32,
    pub timestamp: i64,
    pub max_num_offsets: i32,
}

/// `ListOffsetsResponse` v0: `[topic [partition error_code [old_style_offsets]]]`, no throttle
/// time (that came with v2).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListOffsetsResponseV0 {
    pub topics: Vec<ListOffsetsTopicResponseV0>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListOffsetsTopicResponseV0 {
    pub name: StrBytes,
    pub partitions: Vec<ListOffsetsPartitionResponseV0>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListOffsetsPartitionResponseV0 {
    pub partition_index: i32,
    pub error_code: i16,
    pub old_style_offsets: Vec<i64>,
}

pub fn decode_request(r: &mut Reader) -> Result<ListOffsetsRequestV0, ReadError> {
    let replica_id = r.i32()?;
    let topics = r.array(|r| {
        let name = r.string()?;
        let partitions = r.array(|r| {
            Ok(ListOffsetsPartitionV0 {
                partition_index: r.i32()?,
                timestamp: r.i64()?,
                max_num_offsets: r.i32()?,
            })
        })?;
        Ok(ListOffsetsTopicV0 { name, partitions })
    })?;
    Ok(ListOffsetsRequestV0 { replica_id, topics })
}

pub fn encode_response(w: &mut Writer, resp: &ListOffsetsResponseV0) -> anyhow::Result<()> {
    w.array(&resp.topics, |w, t| {
        w.string(&t.name)?;
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.i16(p.error_code);
            w.array(&p.old_style_offsets, |w, o| {
                w.i64(*o);
                Ok(())
            })
        })
    })
}
