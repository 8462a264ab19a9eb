//! DescribeTopicPartitions (key 75), v0: topic and partition metadata paged with a cursor
//! (KIP-966; Kafka's `DescribeTopicPartitionsRequestHandler` and
//! `KRaftMetadataCache.getTopicMetadataForDescribeTopicResponse`). Topics come in name order;
//! at most `min(response_partition_limit, max.request.partition.size.limit)` partitions are
//! returned, and `next_cursor` names the first one left out.

use std::collections::BTreeSet;

use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse,
};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, topic_name, RequestContext};
use crate::error::Error;
use crate::log::manager::validate_topic_name;
use crate::log::partition::LEADER_EPOCH;

pub fn handle(
    ctx: &RequestContext,
    req: DescribeTopicPartitionsRequest,
) -> DescribeTopicPartitionsResponse {
    let logs = &ctx.broker.logs;
    let fetch_all = req.topics.is_empty();
    let cursor_topic = req
        .cursor
        .as_ref()
        .map(|c| c.topic_name.to_string())
        .unwrap_or_default();
    let names: BTreeSet<String> = if fetch_all {
        logs.topics()
            .iter()
            .map(|t| t.name.to_string())
            .filter(|n| *n >= cursor_topic)
            // Listing every topic leaves out those without DESCRIBE.
            .filter(|n| authz::quietly(ctx, AclOperation::Describe, ResourceType::Topic, n))
            .collect()
    } else {
        req.topics
            .iter()
            .map(|t| t.name.to_string())
            .filter(|n| *n >= cursor_topic)
            .collect()
    };
    if let Some(c) = &req.cursor {
        let invalid = if !fetch_all && !names.contains(c.topic_name.as_str()) {
            Some(format!(
                "DescribeTopicPartitionsRequest topic list should contain the cursor topic: {}",
                c.topic_name.as_str()
            ))
        } else if c.partition_index < 0 {
            Some(format!(
                "DescribeTopicPartitionsRequest cursor partition must be valid: Cursor(topicName={}, partitionIndex={})",
                c.topic_name.as_str(),
                c.partition_index
            ))
        } else {
            None
        };
        if invalid.is_some() {
            // Kafka fails the whole request: every requested topic gets INVALID_REQUEST.
            let topics = req
                .topics
                .iter()
                .map(|t| {
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_error_code(ResponseError::InvalidRequest.code())
                        .with_name(Some(t.name.clone()))
                        .with_topic_authorized_operations(authorized_operations::OMITTED)
                })
                .collect();
            return DescribeTopicPartitionsResponse::default().with_topics(topics);
        }
    }
    let limit = ctx
        .broker
        .settings
        .i32("max.request.partition.size.limit")
        .min(req.response_partition_limit)
        .max(1);
    let mut remaining = limit as usize;
    let node = BrokerId(ctx.broker.node_id);
    let mut resp = DescribeTopicPartitionsResponse::default();
    for name in names {
        if remaining == 0 {
            resp.next_cursor = Some(
                Cursor::default()
                    .with_topic_name(topic_name(&name))
                    .with_partition_index(0),
            );
            break;
        }
        // A named topic without DESCRIBE: TOPIC_AUTHORIZATION_FAILED, existence not disclosed.
        if !fetch_all && !authz::topic(ctx, AclOperation::Describe, &name) {
            resp.topics.push(
                DescribeTopicPartitionsResponseTopic::default()
                    .with_error_code(Error::topic_denied().code())
                    .with_name(Some(topic_name(&name)))
                    .with_topic_id(Uuid::nil())
                    .with_is_internal(false)
                    .with_topic_authorized_operations(authorized_operations::OMITTED),
            );
            continue;
        }
        let Some(t) = logs.topic(&name) else {
            if !fetch_all {
                let code = match validate_topic_name(&name) {
                    Err(e @ Error::InvalidTopic(_)) => e.code(),
                    _ => ResponseError::UnknownTopicOrPartition.code(),
                };
                resp.topics.push(
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_error_code(code)
                        .with_name(Some(topic_name(&name)))
                        .with_topic_id(Uuid::nil())
                        .with_is_internal(false)
                        // Kafka's handler fills the operations of every topic the caller may
                        // describe, unknown ones included (only denied topics omit them).
                        .with_topic_authorized_operations(authz::operations(
                            ctx,
                            true,
                            ResourceType::Topic,
                            &name,
                        )),
                );
            }
            continue;
        };
        let start = if name == cursor_topic {
            req.cursor
                .as_ref()
                .map(|c| c.partition_index)
                .unwrap_or(0)
                .max(0) as usize
        } else {
            0
        };
        let count = t.partitions.len();
        let upper = count.min(start + remaining);
        let partitions: Vec<DescribeTopicPartitionsResponsePartition> = (start..upper)
            .map(|i| {
                DescribeTopicPartitionsResponsePartition::default()
                    .with_error_code(0)
                    .with_partition_index(i as i32)
                    .with_leader_id(node)
                    .with_leader_epoch(LEADER_EPOCH)
                    .with_replica_nodes(vec![node])
                    .with_isr_nodes(vec![node])
                    .with_eligible_leader_replicas(Some(Vec::new()))
                    .with_last_known_elr(Some(Vec::new()))
                    .with_offline_replicas(Vec::new())
            })
            .collect();
        let returned = partitions.len();
        resp.topics.push(
            DescribeTopicPartitionsResponseTopic::default()
                .with_error_code(0)
                .with_name(Some(topic_name(&t.name)))
                .with_topic_id(t.id)
                .with_is_internal(t.internal)
                .with_partitions(partitions)
                .with_topic_authorized_operations(authz::operations(
                    ctx,
                    true,
                    ResourceType::Topic,
                    &t.name,
                )),
        );
        if upper < count {
            resp.next_cursor = Some(
                Cursor::default()
                    .with_topic_name(topic_name(&t.name))
                    .with_partition_index(upper as i32),
            );
            break;
        }
        remaining -= returned;
    }
    resp
}
