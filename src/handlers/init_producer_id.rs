//! InitProducerId (key 22), v0-5, for idempotent producers: a fresh producer id with epoch 0
//! (Kafka's `TransactionCoordinator.handleInitProducerId` with a null transactional id).

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::ResponseError;
use tracing::error;

use super::RequestContext;

pub async fn handle(ctx: &RequestContext, req: InitProducerIdRequest) -> InitProducerIdResponse {
    let resp = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    if req.transactional_id.is_some() {
        // Transactional producers need the transaction coordinator, which this broker does not
        // run: FindCoordinator is not advertised, so clients never get here legitimately.
        return resp.with_error_code(ResponseError::CoordinatorNotAvailable.code());
    }
    match ctx.broker.producer_ids.next_id() {
        Ok(id) => resp
            .with_error_code(0)
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(0),
        Err(e) => {
            error!("allocating a producer id failed: {e}");
            resp.with_error_code(ResponseError::UnknownServerError.code())
        }
    }
}
