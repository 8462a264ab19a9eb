//! CreatePartitions (key 37), v0-3: grow topics (never shrink), optionally with replica
//! assignments naming this broker, with `validate_only` (Kafka's
//! `ControllerApis.createPartitions` and `ReplicationControlManager.createPartitions`).
//! Needs ALTER on the topic (TOPIC_AUTHORIZATION_FAILED, checked after duplicates).

use std::collections::HashMap;

use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;
use crate::quota::mutation::{MutationQuota, CREATE_PARTITIONS_STRICT_SINCE};

pub fn handle(ctx: &RequestContext, req: CreatePartitionsRequest) -> CreatePartitionsResponse {
    // Kafka's per-request partition cap (see `create_topics::MAX_PARTITIONS_PER_REQUEST`),
    // counted over the partitions each topic would gain.
    let added: u64 = req
        .topics
        .iter()
        .map(|t| {
            let current = ctx
                .broker
                .logs
                .topic(t.name.as_str())
                .map_or(0, |topic| topic.partitions.len() as i64);
            (i64::from(t.count) - current).max(0) as u64
        })
        .sum();
    if added > super::create_topics::MAX_PARTITIONS_PER_REQUEST {
        let e = Error::PolicyViolation(super::create_topics::EXCESSIVE_PARTITIONS.into());
        let results = req
            .topics
            .iter()
            .map(|t| {
                let mut r = CreatePartitionsTopicResult::default().with_name(t.name.clone());
                r.error_code = e.code();
                r.error_message = Some(sb(&e.message()));
                r
            })
            .collect();
        return CreatePartitionsResponse::default().with_results(results);
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for t in &req.topics {
        *counts.entry(t.name.as_str()).or_default() += 1;
    }
    let mut quota = MutationQuota::for_request(ctx, CREATE_PARTITIONS_STRICT_SINCE);
    let mut results = Vec::new();
    let mut reported_dups = std::collections::HashSet::new();
    for t in &req.topics {
        let name = t.name.as_str();
        let result = if counts[name] > 1 {
            if !reported_dups.insert(name) {
                continue;
            }
            Err(Error::InvalidRequest("Duplicate topic name.".into()))
        } else if !authz::topic(ctx, AclOperation::Alter, name) {
            Err(Error::topic_denied())
        } else {
            let assignments: Option<Vec<Vec<i32>>> = t.assignments.as_ref().map(|a| {
                a.iter()
                    .map(|x| x.broker_ids.iter().map(|b| b.0).collect())
                    .collect()
            });
            // Validated first, then the partitions gained are charged to the controller
            // mutation quota (`ReplicationControlManager.createPartitions`).
            let validated = if quota.is_bounded() {
                ctx.broker
                    .logs
                    .create_partitions(name, t.count, assignments.as_deref(), true)
                    .and_then(|()| {
                        let current = ctx
                            .broker
                            .logs
                            .topic(name)
                            .map_or(0, |topic| topic.partitions.len() as i64);
                        quota.record((i64::from(t.count) - current).max(0) as u64)
                    })
            } else {
                Ok(())
            };
            validated.and_then(|()| {
                ctx.broker.logs.create_partitions(
                    name,
                    t.count,
                    assignments.as_deref(),
                    req.validate_only,
                )
            })
        };
        let mut r = CreatePartitionsTopicResult::default().with_name(t.name.clone());
        match result {
            Ok(()) => r.error_code = 0,
            // Kafka's controller answers an unknown topic without a message
            // (`ReplicationControlManager.createPartitions`: `new ApiError(UNKNOWN_TOPIC_OR_PARTITION)`).
            Err(e @ Error::UnknownTopicOrPartition) => r.error_code = e.code(),
            Err(e) => {
                r.error_code = e.code();
                r.error_message = Some(sb(&e.message()));
            }
        }
        results.push(r);
    }
    CreatePartitionsResponse::default()
        .with_results(results)
        .with_throttle_time_ms(quota.throttle_time_ms())
}
