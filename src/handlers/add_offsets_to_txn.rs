//! AddOffsetsToTxn (key 25), v0-4: adds the group's `__consumer_offsets` partition to the
//! transaction, so the coordinator writes its marker there too (Kafka's
//! `KafkaApis.handleAddOffsetsToTxnRequest`).

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use super::authz::{self, AclOperation};
use super::init_producer_id::fenced_as_old_error;
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let txn = &ctx.broker.txn;
    // WRITE on the transactional id, then READ on the group.
    let result =
        if !authz::transactional_id(ctx, AclOperation::Write, req.transactional_id.as_str()) {
            Err(Error::TransactionalIdAuthorizationFailed)
        } else if !authz::group(ctx, AclOperation::Read, req.group_id.as_str()) {
            Err(Error::GroupAuthorizationFailed)
        } else {
            match ctx.broker.groups.ensure_topic() {
                Err(e) => Err(e),
                Ok(()) => {
                    let partition = txn.offsets_partition(req.group_id.as_str());
                    txn.add_partitions(
                        req.transactional_id.as_str(),
                        req.producer_id.0,
                        req.producer_epoch,
                        &[partition],
                    )
                    .await
                }
            }
        };
    AddOffsetsToTxnResponse::default().with_error_code(match result {
        Ok(()) => 0,
        Err(e) => fenced_as_old_error(&e, ctx.version, 2),
    })
}
