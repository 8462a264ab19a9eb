//! EndTxn (key 26), v0-4: commits or aborts the producer's transaction; answered once the
//! markers are written (Kafka's `KafkaApis.handleEndTxnRequest` over
//! `TransactionCoordinator.handleEndTransaction`). v5 (transactions version 2, with an epoch
//! bump per transaction) is not served.

use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse, ProducerId};

use super::authz::{self, AclOperation};
use super::init_producer_id::fenced_as_old_error;
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: EndTxnRequest) -> EndTxnResponse {
    // WRITE on the transactional id.
    let result = if authz::transactional_id(ctx, AclOperation::Write, req.transactional_id.as_str())
    {
        ctx.broker
            .txn
            .end_txn(
                req.transactional_id.as_str(),
                req.producer_id.0,
                req.producer_epoch,
                req.committed,
            )
            .await
    } else {
        Err(Error::TransactionalIdAuthorizationFailed)
    };
    EndTxnResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1)
        .with_error_code(match result {
            Ok(()) => 0,
            Err(e) => fenced_as_old_error(&e, ctx.version, 2),
        })
}
