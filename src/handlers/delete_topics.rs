//! DeleteTopics (key 20), v1-6: by name, and (v6) by topic id, with Kafka's duplicate and
//! name-and-id checks (`ControllerApis.deleteTopics`). Authorization as Kafka: DELETE on the
//! topic, else TOPIC_AUTHORIZATION_FAILED; a topic named without DESCRIBE fails before its
//! existence is checked, and a topic given by id is named in the error only with DESCRIBE.

use std::collections::HashMap;

use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, TopicName};
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, topic_name, RequestContext};
use crate::error::Error;
use crate::quota::mutation::{MutationQuota, DELETE_TOPICS_STRICT_SINCE};

pub fn handle(ctx: &RequestContext, req: DeleteTopicsRequest) -> DeleteTopicsResponse {
    let v = ctx.version;
    let mut out: Vec<DeletableTopicResult> = Vec::new();
    let result = |name: Option<&str>, id: Uuid, code: i16, msg: Option<String>| {
        let mut r = DeletableTopicResult::default().with_error_code(code);
        r.name = name.map(topic_name);
        if v >= 6 {
            r.topic_id = id;
        }
        if v >= 5 {
            r.error_message = msg.map(|m| sb(&m));
        }
        r
    };

    if !ctx.broker.settings.bool("delete.topic.enable") {
        // Kafka answers v0-2 with INVALID_REQUEST and later versions TOPIC_DELETION_DISABLED.
        let e = if v < 3 {
            Error::InvalidRequest("Topic deletion is disabled.".into())
        } else {
            Error::TopicDeletionDisabled
        };
        let names: Vec<Option<String>> = if v >= 6 {
            req.topics
                .iter()
                .map(|t| t.name.as_ref().map(|n| n.as_str().to_string()))
                .collect()
        } else {
            req.topic_names
                .iter()
                .map(|n| Some(n.as_str().to_string()))
                .collect()
        };
        let resp = names
            .iter()
            .map(|n| result(n.as_deref(), Uuid::nil(), e.code(), Some(e.message())))
            .collect();
        return DeleteTopicsResponse::default().with_responses(resp);
    }

    // Collect names and ids, flagging duplicates and name+id combinations.
    let mut names: Vec<String> = Vec::new();
    let mut ids: Vec<Uuid> = Vec::new();
    if v >= 6 {
        for t in &req.topics {
            match (&t.name, t.topic_id.is_nil()) {
                (None, true) => out.push(result(
                    None,
                    Uuid::nil(),
                    ResponseError::InvalidRequest.code(),
                    Some("Neither topic name nor id were specified.".into()),
                )),
                (None, false) => ids.push(t.topic_id),
                (Some(n), true) => names.push(n.as_str().to_string()),
                (Some(n), false) => out.push(result(
                    Some(n.as_str()),
                    t.topic_id,
                    ResponseError::InvalidRequest.code(),
                    Some("You may not specify both topic name and topic id.".into()),
                )),
            }
        }
    } else {
        names = req
            .topic_names
            .iter()
            .map(|n: &TopicName| n.as_str().to_string())
            .collect();
    }
    let name_counts = counts(&names);
    let id_counts = counts(&ids);
    for (name, n) in &name_counts {
        if *n > 1 {
            out.push(result(
                Some(name),
                Uuid::nil(),
                ResponseError::InvalidRequest.code(),
                Some("Duplicate topic name.".into()),
            ));
        }
    }
    for (id, n) in &id_counts {
        if *n > 1 {
            out.push(result(
                None,
                *id,
                ResponseError::InvalidRequest.code(),
                Some("Duplicate topic id.".into()),
            ));
        }
    }

    let logs = &ctx.broker.logs;
    let mut quota = MutationQuota::for_request(ctx, DELETE_TOPICS_STRICT_SINCE);
    let mut seen_names = std::collections::HashSet::new();
    for id in ids.iter().filter(|id| id_counts[*id] == 1) {
        match logs.topic_by_id(*id) {
            // Kafka's controller answers its errors' default messages (`ApiError.fromThrowable`).
            None => out.push(result(
                None,
                *id,
                ResponseError::UnknownTopicId.code(),
                Some(Error::UnknownTopicId.message()),
            )),
            Some(t) if !authz::topic(ctx, AclOperation::Delete, &t.name) => {
                let describable = describable(ctx, &t.name);
                let e = Error::topic_denied();
                out.push(result(
                    describable.then_some(&*t.name),
                    *id,
                    e.code(),
                    Some(e.message()),
                ));
            }
            Some(t) => {
                seen_names.insert(t.name.to_string());
                out.push(delete(ctx, &t.name, *id, &result, &mut quota));
            }
        }
    }
    for name in names.iter().filter(|n| name_counts[*n] == 1) {
        if !describable(ctx, name) || !authz::topic(ctx, AclOperation::Delete, name) {
            let e = Error::topic_denied();
            out.push(result(Some(name), Uuid::nil(), e.code(), Some(e.message())));
            continue;
        }
        match logs.topic(name) {
            None => out.push(result(
                Some(name),
                Uuid::nil(),
                ResponseError::UnknownTopicOrPartition.code(),
                Some(Error::UnknownTopicOrPartition.message()),
            )),
            Some(t) if seen_names.contains(name) => out.push(result(
                Some(name),
                t.id,
                ResponseError::InvalidRequest.code(),
                Some("The provided topic name maps to an ID that was already supplied.".into()),
            )),
            Some(t) => out.push(delete(ctx, name, t.id, &result, &mut quota)),
        }
    }
    DeleteTopicsResponse::default()
        .with_responses(out)
        .with_throttle_time_ms(quota.throttle_time_ms())
}

/// Builds one topic's result: name, id, error code, error message.
type ResultFn<'a> = dyn Fn(Option<&str>, Uuid, i16, Option<String>) -> DeletableTopicResult + 'a;

fn delete(
    ctx: &RequestContext,
    name: &str,
    id: Uuid,
    result: &ResultFn<'_>,
    quota: &mut MutationQuota,
) -> DeletableTopicResult {
    let logs = &ctx.broker.logs;
    if logs.topic(name).is_some_and(|t| t.internal) {
        let e =
            Error::TopicAuthorizationFailed(format!("Internal topic {name} cannot be deleted."));
        return result(Some(name), id, e.code(), Some(e.message()));
    }
    // The topic's partitions are charged to the controller mutation quota before it goes
    // (`ReplicationControlManager.deleteTopic`).
    let partitions = logs.topic(name).map_or(0, |t| t.partitions.len() as u64);
    if let Err(e) = quota.record(partitions) {
        return result(Some(name), id, e.code(), Some(e.message()));
    }
    match logs.delete_topic(name) {
        Ok(_) => {
            // Committed offsets of the topic go too (Kafka's `onPartitionsDeleted`), in the
            // background as Kafka's metadata publisher does it.
            let groups = ctx.broker.groups.clone();
            let topic = name.to_string();
            tokio::spawn(async move { groups.on_topic_deleted(&topic).await });
            result(Some(name), id, 0, None)
        }
        Err(e) => result(Some(name), id, e.code(), Some(e.message())),
    }
}

/// `getDescribableTopics`: DESCRIBE on the topic, not logged when denied.
fn describable(ctx: &RequestContext, name: &str) -> bool {
    authz::quietly(ctx, AclOperation::Describe, ResourceType::Topic, name)
}

fn counts<T: std::hash::Hash + Eq + Clone>(items: &[T]) -> HashMap<T, usize> {
    let mut m = HashMap::new();
    for i in items {
        *m.entry(i.clone()).or_default() += 1;
    }
    m
}
