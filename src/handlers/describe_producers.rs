//! DescribeProducers (key 61), v0: the idempotent producers each partition tracks, with their
//! epoch, last sequence, last append time and open transaction (Kafka's
//! `ReplicaManager.activeProducerState`).

use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;

pub fn handle(ctx: &RequestContext, req: DescribeProducersRequest) -> DescribeProducersResponse {
    let logs = &ctx.broker.logs;
    let topics = req
        .topics
        .iter()
        .map(|t| {
            // READ on the topic (`KafkaApis.handleDescribeProducersRequest`).
            let authorized = authz::topic(ctx, AclOperation::Read, t.name.as_str());
            let topic = logs.topic(t.name.as_str()).filter(|_| authorized);
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&index| {
                    let mut r = PartitionResponse::default().with_partition_index(index);
                    match topic.as_ref().and_then(|t| t.partition(index)) {
                        None => {
                            let e = if authorized {
                                Error::UnknownTopicOrPartition
                            } else {
                                Error::topic_denied()
                            };
                            // Kafka answers these errors without a message.
                            r.error_code = e.code();
                            r.error_message = None;
                        }
                        Some(p) => {
                            r.error_code = 0;
                            let mut producers: Vec<ProducerState> = p.with_producers(|ps| {
                                ps.iter()
                                    .map(|(pid, e)| {
                                        ProducerState::default()
                                            .with_producer_id(ProducerId(*pid))
                                            .with_producer_epoch(e.epoch as i32)
                                            .with_last_sequence(
                                                e.batches.back().map(|b| b.last_seq).unwrap_or(-1),
                                            )
                                            .with_last_timestamp(e.last_timestamp)
                                            .with_coordinator_epoch(e.coordinator_epoch)
                                            .with_current_txn_start_offset(
                                                e.current_txn_first_offset.unwrap_or(-1),
                                            )
                                    })
                                    .collect()
                            });
                            producers.sort_by_key(|s| s.producer_id.0);
                            r.active_producers = producers;
                        }
                    }
                    r
                })
                .collect();
            TopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}
