//! CreateTopics (key 19), v2-7: partitions, replication factor 1 (broker 0 only), manual
//! assignments naming broker 0, topic configs, `validate_only`, and (v5+) the resulting
//! configs in the response. Authorization as Kafka's `ControllerApis.createTopics`: CREATE on
//! the cluster or the topic, else TOPIC_AUTHORIZATION_FAILED "Authorization failed."; the
//! configs are reported only with DESCRIBE_CONFIGS on the topic (else
//! `topic_config_error_code` TOPIC_AUTHORIZATION_FAILED).

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, RequestContext};
use crate::configs;
use crate::error::Error;
use crate::log::NewTopic;
use crate::quota::mutation::{MutationQuota, CREATE_TOPICS_STRICT_SINCE};
use uuid::Uuid;

/// Kafka's `ReplicationControlManager.MAX_PARTITIONS_PER_BATCH`: the controller refuses a
/// CreateTopics (and a CreatePartitions) that would create more partitions than this in one
/// request, so one request cannot make the broker create millions of partition directories.
pub const MAX_PARTITIONS_PER_REQUEST: u64 = 10_000;

/// Kafka's message for a request over [`MAX_PARTITIONS_PER_REQUEST`].
pub const EXCESSIVE_PARTITIONS: &str = "Excessively large number of partitions per request.";

/// The partitions a CreateTopics asks for, counted as Kafka's
/// `validateTotalNumberOfPartitions` counts them (-1: the broker default; assignments count
/// one each).
fn requested_partitions(topics: &[CreatableTopic], default_partitions: i32) -> u64 {
    topics
        .iter()
        .map(|t| {
            if !t.assignments.is_empty() {
                t.assignments.len() as u64
            } else if t.num_partitions == -1 {
                default_partitions.max(0) as u64
            } else {
                t.num_partitions.max(0) as u64
            }
        })
        .sum()
}

pub fn handle(ctx: &RequestContext, req: CreateTopicsRequest) -> CreateTopicsResponse {
    let default_partitions = ctx.broker.logs.settings().i32("num.partitions");
    if requested_partitions(&req.topics, default_partitions) > MAX_PARTITIONS_PER_REQUEST {
        let e = Error::PolicyViolation(EXCESSIVE_PARTITIONS.into());
        let topics = req.topics.into_iter().map(|t| failed(ctx, t, &e)).collect();
        return CreateTopicsResponse::default().with_topics(topics);
    }
    let mut counts: HashMap<String, usize> = HashMap::new();
    for t in &req.topics {
        *counts.entry(t.name.as_str().to_string()).or_default() += 1;
    }
    let mut quota = MutationQuota::for_request(ctx, CREATE_TOPICS_STRICT_SINCE);
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.as_str().to_string();
            if counts.get(&name).copied().unwrap_or(0) > 1 {
                let e = Error::InvalidRequest(format!(
                    "Create topics request from client `{}` contains multiple entries for the following topics: {name}",
                    ctx.client_id.as_deref().unwrap_or("")
                ));
                return failed(ctx, t, &e);
            }
            if !authz::may_create_topic(ctx, &name) {
                let mut r = failed(ctx, t, &Error::topic_denied());
                r.error_message = Some(sb("Authorization failed."));
                return r;
            }
            create_one(ctx, t, req.validate_only, &mut quota)
        })
        .collect();
    CreateTopicsResponse::default()
        .with_topics(topics)
        .with_throttle_time_ms(quota.throttle_time_ms())
}

fn create_one(
    ctx: &RequestContext,
    t: CreatableTopic,
    validate_only: bool,
    quota: &mut MutationQuota,
) -> CreatableTopicResult {
    let mut configs = BTreeMap::new();
    for c in &t.configs {
        match &c.value {
            Some(v) => {
                configs.insert(c.name.as_str().to_string(), v.as_str().to_string());
            }
            None => {
                let e = Error::InvalidConfig(format!(
                    "Null value not supported for topic configs: {}",
                    c.name.as_str()
                ));
                return failed(ctx, t, &e);
            }
        }
    }
    let new_topic = NewTopic {
        name: t.name.as_str().to_string(),
        num_partitions: t.num_partitions,
        replication_factor: t.replication_factor,
        assignments: t
            .assignments
            .iter()
            .map(|a| {
                (
                    a.partition_index,
                    a.broker_ids.iter().map(|b| b.0).collect(),
                )
            })
            .collect(),
        configs,
        internal: false,
    };
    let logs = &ctx.broker.logs;
    // Kafka's controller validates the topic, then charges its partitions to the controller
    // mutation quota (`ReplicationControlManager.createTopic`).
    if quota.is_bounded() {
        let charged = logs
            .validate_new_topic(&new_topic)
            .and_then(|(partitions, _)| quota.record(partitions.max(0) as u64));
        if let Err(e) = charged {
            return failed(ctx, t, &e);
        }
    }
    let result = if validate_only {
        // Kafka's controller draws the topic id before it checks `validate_only`
        // (`ReplicationControlManager.createTopic`), so a validated topic answers an id too, one
        // that names nothing.
        logs.validate_new_topic(&new_topic)
            .map(|(partitions, overrides)| (Some(Uuid::new_v4()), partitions, overrides))
    } else {
        logs.create_topic(&new_topic).map(|topic| {
            (
                Some(topic.id),
                topic.partitions.len() as i32,
                topic.overrides.clone(),
            )
        })
    };
    match result {
        Err(e) => failed(ctx, t, &e),
        Ok((id, partitions, overrides)) => {
            // Kafka sends a null error message on success (the crate defaults to "").
            let mut r = CreatableTopicResult::default()
                .with_name(t.name)
                .with_error_code(0)
                .with_error_message(None);
            if ctx.version >= 5 {
                let name = r.name.as_str();
                if authz::quietly(
                    ctx,
                    AclOperation::DescribeConfigs,
                    ResourceType::Topic,
                    name,
                ) {
                    r.num_partitions = partitions;
                    r.replication_factor = 1;
                    r.configs = Some(describe_configs(ctx, &overrides));
                } else {
                    r.num_partitions = -1;
                    r.replication_factor = -1;
                    r.configs = Some(Vec::new());
                    r.topic_config_error_code = Error::topic_denied().code();
                }
            }
            if ctx.version >= 7 {
                if let Some(id) = id {
                    r.topic_id = id;
                }
            }
            r
        }
    }
}

/// The created topic's configs with their sources (CreateTopics v5+, KIP-525).
fn describe_configs(
    ctx: &RequestContext,
    overrides: &BTreeMap<String, String>,
) -> Vec<CreatableTopicConfigs> {
    configs::describe_topic(&ctx.broker.logs.config_view(), overrides)
        .into_iter()
        .map(|e| {
            CreatableTopicConfigs::default()
                .with_name(sb(&e.name))
                .with_value(e.value.as_deref().map(sb))
                .with_read_only(e.read_only)
                .with_config_source(e.source as i8)
                .with_is_sensitive(e.sensitive)
        })
        .collect()
}

fn failed(ctx: &RequestContext, t: CreatableTopic, e: &Error) -> CreatableTopicResult {
    let mut r = CreatableTopicResult::default()
        .with_name(t.name)
        .with_error_code(e.code())
        .with_error_message(Some(sb(&e.message())));
    if ctx.version >= 5 {
        r.num_partitions = -1;
        r.replication_factor = -1;
        // Kafka answers an empty list, not null, for a topic it did not create.
        r.configs = Some(Vec::new());
    }
    r
}
