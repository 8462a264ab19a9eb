//! ListTransactions (key 66), v0-1: transactional ids filtered by state name and producer id,
//! and (v1, KIP-994) by running longer than `duration_filter` ms. Unknown state names come back
//! in `unknown_state_filters` (Kafka's `TransactionStateManager.listTransactionStates`).

use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{
    ListTransactionsRequest, ListTransactionsResponse, ProducerId, TransactionalId,
};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, RequestContext};

pub async fn handle(
    ctx: &RequestContext,
    req: ListTransactionsRequest,
) -> ListTransactionsResponse {
    let producer_ids: Vec<i64> = req.producer_id_filters.iter().map(|p| p.0).collect();
    let states: Vec<String> = req.state_filters.iter().map(|s| s.to_string()).collect();
    let duration = if ctx.version >= 1 {
        req.duration_filter
    } else {
        -1
    };
    let (txns, unknown) = ctx.broker.txn.list(&producer_ids, &states, duration).await;
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown.iter().map(|s| sb(s)).collect())
        .with_transaction_states(
            // Only the transactional ids with DESCRIBE (`KafkaApis.handleListTransactionsRequest`).
            txns.into_iter()
                .filter(|d| {
                    authz::quietly(
                        ctx,
                        AclOperation::Describe,
                        ResourceType::TransactionalId,
                        &d.transactional_id,
                    )
                })
                .map(|d| {
                    TransactionState::default()
                        .with_transactional_id(TransactionalId(sb(&d.transactional_id)))
                        .with_producer_id(ProducerId(d.producer_id))
                        .with_transaction_state(sb(d.state.name()))
                })
                .collect(),
        )
}
