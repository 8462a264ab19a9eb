//! OffsetDelete (key 47), v0: removes committed offsets of an empty group, or of topics a live
//! consumer group is not subscribed to (GROUP_SUBSCRIBED_TO_TOPIC otherwise, KIP-496).

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::authz::{self, AclOperation};
use super::{topic_name, RequestContext};
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let logs = &ctx.broker.logs;
    // DELETE on the group, then READ on each topic (`KafkaApis.handleOffsetDeleteRequest`).
    if !authz::group(ctx, AclOperation::Delete, req.group_id.as_str()) {
        return OffsetDeleteResponse::default()
            .with_error_code(Error::GroupAuthorizationFailed.code());
    }
    let mut denied: Vec<(String, Vec<i32>)> = Vec::new();
    let mut unknown: Vec<(String, Vec<i32>)> = Vec::new();
    let mut known: Vec<(String, Vec<i32>)> = Vec::new();
    for t in &req.topics {
        if !authz::topic(ctx, AclOperation::Read, t.name.as_str()) {
            let ps = t.partitions.iter().map(|p| p.partition_index).collect();
            denied.push((t.name.to_string(), ps));
            continue;
        }
        let topic = logs.topic(t.name.as_str());
        let (mut good, mut bad) = (Vec::new(), Vec::new());
        for p in &t.partitions {
            match &topic {
                Some(topic) if topic.partition(p.partition_index).is_some() => {
                    good.push(p.partition_index)
                }
                _ => bad.push(p.partition_index),
            }
        }
        if !bad.is_empty() {
            unknown.push((t.name.to_string(), bad));
        }
        if !good.is_empty() {
            known.push((t.name.to_string(), good));
        }
    }
    let deleted = ctx
        .broker
        .groups
        .delete_offsets(req.group_id.as_str(), &known)
        .await;
    let deleted = match deleted {
        Err(e) => return OffsetDeleteResponse::default().with_error_code(e.code()),
        Ok(d) => d,
    };
    let mut topics: Vec<OffsetDeleteResponseTopic> = Vec::new();
    let mut add = |name: &str, partitions: Vec<(i32, Option<Error>)>| {
        let parts = partitions.into_iter().map(|(p, e)| {
            OffsetDeleteResponsePartition::default()
                .with_partition_index(p)
                .with_error_code(e.as_ref().map_or(0, Error::code))
        });
        match topics.iter_mut().find(|t| t.name.as_str() == name) {
            Some(t) => t.partitions.extend(parts),
            None => topics.push(
                OffsetDeleteResponseTopic::default()
                    .with_name(topic_name(name))
                    .with_partitions(parts.collect()),
            ),
        }
    };
    for (t, ps) in denied {
        add(
            &t,
            ps.into_iter()
                .map(|p| (p, Some(Error::topic_denied())))
                .collect(),
        );
    }
    for (t, ps) in unknown {
        add(
            &t,
            ps.into_iter()
                .map(|p| (p, Some(Error::UnknownTopicOrPartition)))
                .collect(),
        );
    }
    for (t, ps) in deleted {
        add(&t, ps);
    }
    OffsetDeleteResponse::default().with_topics(topics)
}
