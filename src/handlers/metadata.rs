//! Metadata (key 3), v0-13: the broker, the cluster id, and topics with stable topic ids.
//! Unknown topics are auto-created when the request and `auto.create.topics.enable` allow it.
//! Authorization as `KafkaApis.handleTopicMetadataRequest`: a listing of all topics leaves out
//! those without DESCRIBE; an explicitly requested topic without DESCRIBE, or one that would be
//! auto-created without CREATE (cluster or topic), gets TOPIC_AUTHORIZATION_FAILED.

use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, sb, topic_name, RequestContext};
use crate::error::Error;
use crate::log::manager::validate_topic_name;
use crate::log::partition::LEADER_EPOCH;
use crate::log::Topic;

pub fn handle(ctx: &RequestContext, req: MetadataRequest) -> MetadataResponse {
    let b = &ctx.broker;
    let v = ctx.version;
    let include_ops = v >= 8 && req.include_topic_authorized_operations;
    // v0-3 always allowed auto-creation; v4+ asks for it explicitly.
    let allow_auto_create = v < 4 || req.allow_auto_topic_creation;

    // Versions 10 and 11 carry topic id fields but do not allow lookups by id: Kafka rejects
    // the whole request (`KafkaApis.handleTopicMetadataRequest`).
    if (10..12).contains(&v) {
        if let Some(list) = &req.topics {
            if list
                .iter()
                .any(|t| t.name.is_none() || !t.topic_id.is_nil())
            {
                return invalid_request(&req);
            }
        }
    }

    let topics: Vec<MetadataResponseTopic> = match &req.topics {
        // Null (or an empty list at v0) means every topic.
        None => all_topics(ctx, include_ops),
        Some(list) if list.is_empty() && v == 0 => all_topics(ctx, include_ops),
        // A lookup by id: as soon as one topic carries a non-zero id, the ids are what is asked
        // for and the names are ignored (`KafkaApis.handleTopicMetadataRequest`: `useTopicId`).
        // The Java client sends the name field's default, "" (not null), beside each id.
        Some(list) if list.iter().any(|t| !t.topic_id.is_nil()) => list
            .iter()
            .filter(|t| !t.topic_id.is_nil())
            .map(|t| by_id(ctx, t.topic_id, include_ops))
            .collect(),
        Some(list) => list
            .iter()
            .map(|t| match &t.name {
                Some(name) => by_name(ctx, name.as_str(), allow_auto_create, include_ops),
                None => by_id(ctx, t.topic_id, include_ops),
            })
            .collect(),
    };

    let mut resp = MetadataResponse::default()
        .with_brokers(vec![MetadataResponseBroker::default()
            .with_node_id(BrokerId(b.node_id))
            .with_host(sb(&ctx.session.listener.advertised_host))
            .with_port(ctx.session.listener.advertised_port)
            .with_rack(None)])
        .with_topics(topics);
    if v >= 2 {
        resp.cluster_id = Some(sb(&b.meta.cluster_id));
    }
    if v >= 1 {
        resp.controller_id = BrokerId(b.node_id);
    }
    if (8..=10).contains(&v) {
        resp.cluster_authorized_operations = if req.include_cluster_authorized_operations {
            if authz::cluster(ctx, AclOperation::Describe) {
                authz::operations(ctx, true, ResourceType::Cluster, authz::CLUSTER_NAME)
            } else {
                0
            }
        } else {
            authorized_operations::OMITTED
        };
    }
    resp
}

/// `MetadataRequest.getErrorResponse` with INVALID_REQUEST: every requested topic carries the
/// error, no brokers.
fn invalid_request(req: &MetadataRequest) -> MetadataResponse {
    let topics = req
        .topics
        .iter()
        .flatten()
        .map(|t| {
            MetadataResponseTopic::default()
                .with_error_code(ResponseError::InvalidRequest.code())
                .with_name(Some(t.name.clone().unwrap_or_else(|| topic_name(""))))
                .with_topic_id(t.topic_id)
                .with_is_internal(false)
        })
        .collect();
    MetadataResponse::default().with_topics(topics)
}

fn all_topics(ctx: &RequestContext, include_ops: bool) -> Vec<MetadataResponseTopic> {
    ctx.broker
        .logs
        .topics()
        .iter()
        .filter(|t| authz::quietly(ctx, AclOperation::Describe, ResourceType::Topic, &t.name))
        .map(|t| describe(ctx, t, include_ops))
        .collect()
}

fn by_name(
    ctx: &RequestContext,
    name: &str,
    allow_auto_create: bool,
    include_ops: bool,
) -> MetadataResponseTopic {
    let logs = &ctx.broker.logs;
    let failed = |e: Error| {
        let mut t = MetadataResponseTopic::default()
            .with_error_code(e.code())
            .with_name(Some(topic_name(name)));
        if ctx.version >= 8 {
            t.topic_authorized_operations = authorized_operations::OMITTED;
        }
        t
    };
    if !authz::topic(ctx, AclOperation::Describe, name) {
        return failed(Error::topic_denied());
    }
    // An unknown or invalid topic the caller may describe carries the requested authorized
    // operations: `KafkaApis.handleTopicMetadataRequest` sets them on every topic of
    // `getTopicMetadata`, errors included, and omits them only for denied topics.
    let failed = |e: Error| {
        let mut t = failed(e);
        if ctx.version >= 8 {
            t.topic_authorized_operations =
                authz::operations(ctx, include_ops, ResourceType::Topic, name);
        }
        t
    };
    if let Some(t) = logs.topic(name) {
        return describe(ctx, &t, include_ops);
    }
    if allow_auto_create
        && ctx.broker.settings.bool("auto.create.topics.enable")
        && !authz::may_create_topic(ctx, name)
    {
        return failed(Error::topic_denied());
    }
    if let Err(e) = validate_topic_name(name) {
        return failed(e);
    }
    if !allow_auto_create {
        return failed(Error::UnknownTopicOrPartition);
    }
    match logs.get_or_auto_create(name) {
        Ok(t) => describe(ctx, &t, include_ops),
        Err(e) => failed(e),
    }
}

fn by_id(ctx: &RequestContext, id: Uuid, include_ops: bool) -> MetadataResponseTopic {
    match ctx.broker.logs.topic_by_id(id) {
        // Topic ids are not sensitive: Kafka reports TOPIC_AUTHORIZATION_FAILED with the id.
        Some(t) if !authz::topic(ctx, AclOperation::Describe, &t.name) => {
            let mut mt = MetadataResponseTopic::default()
                .with_error_code(Error::topic_denied().code())
                .with_name(None)
                .with_topic_id(id);
            if ctx.version >= 8 {
                mt.topic_authorized_operations = authorized_operations::OMITTED;
            }
            mt
        }
        Some(t) => describe(ctx, &t, include_ops),
        None => {
            let mut t = MetadataResponseTopic::default()
                .with_error_code(ResponseError::UnknownTopicId.code())
                .with_name(None)
                .with_topic_id(id);
            if ctx.version >= 8 {
                t.topic_authorized_operations = authorized_operations::OMITTED;
            }
            t
        }
    }
}

fn describe(ctx: &RequestContext, t: &Topic, include_ops: bool) -> MetadataResponseTopic {
    let v = ctx.version;
    let node = BrokerId(ctx.broker.node_id);
    let partitions = t
        .partitions
        .iter()
        .map(|p| {
            let mut mp = MetadataResponsePartition::default()
                .with_error_code(0)
                .with_partition_index(p.index)
                .with_leader_id(node)
                .with_replica_nodes(vec![node])
                .with_isr_nodes(vec![node]);
            if v >= 7 {
                mp.leader_epoch = LEADER_EPOCH;
            }
            mp
        })
        .collect();
    let mut mt = MetadataResponseTopic::default()
        .with_error_code(0)
        .with_name(Some(topic_name(&t.name)))
        .with_partitions(partitions);
    if v >= 1 {
        mt.is_internal = t.internal;
    }
    if v >= 10 {
        mt.topic_id = t.id;
    }
    if v >= 8 {
        mt.topic_authorized_operations =
            authz::operations(ctx, include_ops, ResourceType::Topic, &t.name);
    }
    mt
}
