//! CreateTopics v0-1 (Kafka 3.9's `CreateTopicsRequest.json`, removed in 4.0 by KIP-896). The
//! request is v2's without `validate_only` in v0 (false); the response has no throttle time
//! (v2+) and, in v0, no error message. Both map to v2, which the handler serves.

use kafka_protocol::messages::create_topics_request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kafka_protocol::messages::{BrokerId, CreateTopicsRequest, CreateTopicsResponse};

use super::wire::{ReadError, Reader, Writer};

pub fn decode_request(r: &mut Reader, version: i16) -> Result<CreateTopicsRequest, ReadError> {
    let topics = r.array(|r| {
        let name = r.string()?;
        let num_partitions = r.i32()?;
        let replication_factor = r.i16()?;
        let assignments = r.array(|r| {
            let partition_index = r.i32()?;
            let broker_ids = r.array(|r| r.i32().map(BrokerId))?;
            Ok(CreatableReplicaAssignment::default()
                .with_partition_index(partition_index)
                .with_broker_ids(broker_ids))
        })?;
        let configs = r.array(|r| {
            let name = r.string()?;
            Ok(CreatableTopicConfig::default()
                .with_name(name)
                .with_value(r.nullable_string()?))
        })?;
        Ok(CreatableTopic::default()
            .with_name(name.into())
            .with_num_partitions(num_partitions)
            .with_replication_factor(replication_factor)
            .with_assignments(assignments)
            .with_configs(configs))
    })?;
    let timeout_ms = r.i32()?;
    let validate_only = if version >= 1 { r.bool()? } else { false };
    Ok(CreateTopicsRequest::default()
        .with_topics(topics)
        .with_timeout_ms(timeout_ms)
        .with_validate_only(validate_only))
}

pub fn encode_response(
    w: &mut Writer,
    version: i16,
    resp: &CreateTopicsResponse,
) -> anyhow::Result<()> {
    w.array(&resp.topics, |w, t| {
        w.string(&t.name)?;
        w.i16(t.error_code);
        if version >= 1 {
            w.nullable_string(t.error_message.as_deref())?;
        }
        Ok(())
    })
}
