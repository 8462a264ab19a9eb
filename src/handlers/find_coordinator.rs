//! FindCoordinator (key 10), v0-6: this broker coordinates every group and every transactional
//! id. v4+ batches keys (KIP-699). A GROUP lookup creates `__consumer_offsets` on first need, as
//! Kafka's auto-creation of the coordinator topic does.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::StrBytes;

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;

/// `CoordinatorType`: GROUP, TRANSACTION, SHARE.
const GROUP: i8 = 0;
const TRANSACTION: i8 = 1;
const SHARE: i8 = 2;

pub fn handle(ctx: &RequestContext, req: FindCoordinatorRequest) -> FindCoordinatorResponse {
    let b = &ctx.broker;
    let v = ctx.version;
    // DESCRIBE on the group or transactional id, before the lookup
    // (`KafkaApis.handleFindCoordinatorRequest`).
    let lookup = |key_type: i8, key: &str| -> Result<(), Error> {
        match key_type {
            GROUP if !authz::group(ctx, AclOperation::Describe, key) => {
                Err(Error::GroupAuthorizationFailed)
            }
            TRANSACTION if !authz::transactional_id(ctx, AclOperation::Describe, key) => {
                Err(Error::TransactionalIdAuthorizationFailed)
            }
            GROUP => b
                .groups
                .ensure_topic()
                .map_err(|_| Error::CoordinatorNotAvailable),
            TRANSACTION => b
                .txn
                .ensure_topic()
                .map_err(|_| Error::CoordinatorNotAvailable),
            // The share coordinator (KIP-932) of a share partition's state: this broker, with
            // `__share_group_state`. Kafka's checks: v6+ (the key is `group:topicId:partition`),
            // CLUSTER_ACTION (brokers ask it, not clients), a well-formed key.
            SHARE if v < 6 || !b.groups.config().share.enabled => Err(invalid_request()),
            SHARE if !authz::cluster(ctx, AclOperation::ClusterAction) => {
                Err(Error::ClusterAuthorizationFailed)
            }
            SHARE if !is_share_partition_key(key) => Err(invalid_request()),
            SHARE => b
                .share
                .ensure_topic()
                .map_err(|_| Error::CoordinatorNotAvailable),
            // `CoordinatorType.forId` throws for an unknown type: the whole request fails and
            // its error answer carries INVALID_REQUEST's default message (`Errors.message()`).
            _ => Err(invalid_request()),
        }
    };
    let node = |r: &Result<(), Error>| match r {
        Ok(()) => (
            b.node_id,
            sb(&ctx.session.listener.advertised_host),
            ctx.session.listener.advertised_port,
        ),
        // Node.noNode()
        Err(_) => (-1, StrBytes::default(), -1),
    };
    if v < 4 {
        let r = lookup(req.key_type, req.key.as_str());
        let (id, host, port) = node(&r);
        let mut resp = FindCoordinatorResponse::default()
            .with_node_id(BrokerId(id))
            .with_host(host)
            .with_port(port);
        resp.error_code = r.as_ref().err().map_or(0, Error::code);
        if v >= 1 {
            // Kafka sends `Errors.message()`, which is "NONE" on success.
            resp.error_message = Some(sb(&r.err().map_or("NONE".to_string(), |e| e.message())));
        }
        return resp;
    }
    let coordinators = req
        .coordinator_keys
        .into_iter()
        .map(|key| {
            let r = lookup(req.key_type, key.as_str());
            let (id, host, port) = node(&r);
            Coordinator::default()
                .with_key(key)
                .with_node_id(BrokerId(id))
                .with_host(host)
                .with_port(port)
                .with_error_code(r.as_ref().err().map_or(0, Error::code))
                .with_error_message(Some(sb(&batched_message(req.key_type, &r))))
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}

/// A batched (v4+) coordinator's `error_message`: Kafka's
/// `handleFindCoordinatorRequestV4AndAbove` never sets it, so it keeps the schema default "",
/// success or error; only an unknown key type, which fails the whole request
/// (`FindCoordinatorRequest.getErrorResponse`), carries `Errors.message()`.
/// Kafka's `SharePartitionKey.validate`: `groupId:topicId:partition`, a non-empty group, a
/// topic id in Kafka's UUID form and a partition number.
fn is_share_partition_key(key: &str) -> bool {
    let mut parts = key.rsplitn(3, ':');
    let (Some(partition), Some(topic_id), Some(group)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    !group.is_empty()
        && crate::cluster::uuid_from_kafka_string(topic_id).is_some()
        && partition.parse::<i32>().is_ok_and(|p| p >= 0)
}

fn batched_message(key_type: i8, r: &Result<(), Error>) -> String {
    match r {
        Err(e) if !matches!(key_type, GROUP | TRANSACTION | SHARE) => e.message(),
        _ => String::new(),
    }
}

/// INVALID_REQUEST with `Errors.INVALID_REQUEST.message()`, the text Kafka's error answers carry.
fn invalid_request() -> Error {
    let code = Error::InvalidRequest(String::new()).code();
    Error::InvalidRequest(crate::error_names::description(code).into())
}
