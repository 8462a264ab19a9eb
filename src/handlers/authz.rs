//! The authorization checks handlers make, as Kafka's `AuthHelper` (`authorize`,
//! `filterByAuthorized`, `authorizedOperations`): thin calls on the broker's authorizer with the
//! request's session.

use super::RequestContext;
pub use crate::security::acl::{AclOperation, ResourceType, CLUSTER_NAME};

/// `AuthHelper.authorize`: a denial is logged and counted.
pub fn allowed(ctx: &RequestContext, op: AclOperation, rt: ResourceType, name: &str) -> bool {
    ctx.broker.authorizer.authorize(&ctx.session, op, rt, name)
}

/// `authorize(op, TOPIC, name)`.
pub fn topic(ctx: &RequestContext, op: AclOperation, name: &str) -> bool {
    allowed(ctx, op, ResourceType::Topic, name)
}

/// `authorize(op, GROUP, id)`.
pub fn group(ctx: &RequestContext, op: AclOperation, id: &str) -> bool {
    allowed(ctx, op, ResourceType::Group, id)
}

/// `authorize(op, TRANSACTIONAL_ID, id)`.
pub fn transactional_id(ctx: &RequestContext, op: AclOperation, id: &str) -> bool {
    allowed(ctx, op, ResourceType::TransactionalId, id)
}

/// `authorize(op, CLUSTER, kafka-cluster)` (`authorizeClusterOperation`).
pub fn cluster(ctx: &RequestContext, op: AclOperation) -> bool {
    allowed(ctx, op, ResourceType::Cluster, CLUSTER_NAME)
}

/// A check for filtering a listing (Kafka's `logIfDenied = false`): not logged or counted.
pub fn quietly(ctx: &RequestContext, op: AclOperation, rt: ResourceType, name: &str) -> bool {
    ctx.broker.authorizer.is_allowed(&ctx.session, op, rt, name)
}

/// `authorizedOperations` when `requested`, else Kafka's "not requested" marker
/// (`Integer.MIN_VALUE`).
pub fn operations(ctx: &RequestContext, requested: bool, rt: ResourceType, name: &str) -> i32 {
    if requested {
        ctx.broker
            .authorizer
            .authorized_operations(&ctx.session, rt, name)
    } else {
        i32::MIN
    }
}

/// Auto-creating (or creating) topic `name` needs CREATE on the cluster or on the topic
/// (`KafkaApis.handleTopicMetadataRequest`, `handleCreateTopicsRequest`).
pub fn may_create_topic(ctx: &RequestContext, name: &str) -> bool {
    quietly(
        ctx,
        AclOperation::Create,
        ResourceType::Cluster,
        CLUSTER_NAME,
    ) || topic(ctx, AclOperation::Create, name)
}

/// The check DescribeConfigs (DESCRIBE_CONFIGS) and AlterConfigs/IncrementalAlterConfigs
/// (ALTER_CONFIGS) make per `ConfigResource` (`KafkaApis`): on the cluster for BROKER,
/// BROKER_LOGGER and CLIENT_METRICS, on the topic for TOPIC, on the group for GROUP, with the
/// matching *_AUTHORIZATION_FAILED. Other types are left to the handler's own validation.
pub fn config_resource(
    ctx: &RequestContext,
    op: AclOperation,
    resource_type: i8,
    name: &str,
) -> Result<(), crate::error::Error> {
    use crate::error::Error;
    match resource_type {
        4 | 8 | 16 if !cluster(ctx, op) => Err(Error::ClusterAuthorizationFailed),
        2 if !topic(ctx, op, name) => Err(Error::topic_denied()),
        32 if !group(ctx, op, name) => Err(Error::GroupAuthorizationFailed),
        _ => Ok(()),
    }
}
