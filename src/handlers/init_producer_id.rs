//! InitProducerId (key 22), v0-5: without a transactional id, a fresh producer id with epoch 0
//! for an idempotent producer; with one, the transaction coordinator's id and bumped epoch
//! (Kafka's `TransactionCoordinator.handleInitProducerId`). Before v4 PRODUCER_FENCED is sent
//! as INVALID_PRODUCER_EPOCH, which older clients understand (KIP-588).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;
use tracing::error;

use super::authz::{self, AclOperation, ResourceType};
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let resp = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    // `KafkaApis.handleInitProducerIdRequest`: a producer id without an epoch, or an epoch
    // without an id, is INVALID_REQUEST (checked after authorization).
    let half_known = (req.producer_id.0 == -1) != (req.producer_epoch == -1);
    let Some(tid) = req.transactional_id else {
        // An idempotent producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic
        // (KIP-679, `authorizeByResourceType`).
        let auth = &ctx.broker.authorizer;
        if !auth.is_allowed(
            &ctx.session,
            AclOperation::IdempotentWrite,
            ResourceType::Cluster,
            authz::CLUSTER_NAME,
        ) && !auth.authorize_by_resource_type(
            &ctx.session,
            AclOperation::Write,
            ResourceType::Topic,
        ) {
            authz::cluster(ctx, AclOperation::IdempotentWrite);
            return resp.with_error_code(Error::ClusterAuthorizationFailed.code());
        }
        if half_known {
            return resp.with_error_code(ResponseError::InvalidRequest.code());
        }
        return match ctx.broker.producer_ids.next_id() {
            Ok(id) => resp
                .with_error_code(0)
                .with_producer_id(ProducerId(id))
                .with_producer_epoch(0),
            Err(e) => {
                error!("allocating a producer id failed: {e}");
                resp.with_error_code(ResponseError::UnknownServerError.code())
            }
        };
    };
    if !authz::transactional_id(ctx, AclOperation::Write, tid.as_str()) {
        return resp.with_error_code(Error::TransactionalIdAuthorizationFailed.code());
    }
    if half_known {
        return resp.with_error_code(ResponseError::InvalidRequest.code());
    }
    // KIP-360 (v3+): the producer's current id and epoch, when it has one.
    let expected = (ctx.version >= 3 && req.producer_id.0 != -1)
        .then_some((req.producer_id.0, req.producer_epoch));
    match ctx
        .broker
        .txn
        .init_producer_id(
            tid.as_str(),
            req.transaction_timeout_ms,
            expected,
            &ctx.broker.producer_ids,
        )
        .await
    {
        Ok((pid, epoch)) => resp
            .with_error_code(0)
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch),
        Err(e) => resp.with_error_code(fenced_as_old_error(&e, ctx.version, 4)),
    }
}

/// The error code, with PRODUCER_FENCED as INVALID_PRODUCER_EPOCH below `first_fenced_version`
/// (Kafka's `KafkaApis` does this per API for clients that predate the code).
pub fn fenced_as_old_error(e: &Error, version: i16, first_fenced_version: i16) -> i16 {
    match e {
        Error::ProducerFenced(_) if version < first_fenced_version => {
            ResponseError::InvalidProducerEpoch.code()
        }
        e => e.code(),
    }
}
