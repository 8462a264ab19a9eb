//! AddOffsetsToTxn (key 25), v0-4: adds the group's `__consumer_offsets` partition to the
//! transaction, so the coordinator writes its marker there too (Kafka's
//! `KafkaApis.handleAddOffsetsToTxnRequest`).

use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use super::init_producer_id::fenced_as_old_error;
use super::RequestContext;

pub async fn handle(ctx: &RequestContext, req: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let txn = &ctx.broker.txn;
    let result = match ctx.broker.groups.ensure_topic() {
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
    };
    AddOffsetsToTxnResponse::default().with_error_code(match result {
        Ok(()) => 0,
        Err(e) => fenced_as_old_error(&e, ctx.version, 2),
    })
}
