//! DescribeTransactions (key 65), v0: each transactional id's state, producer, timeout, start
//! time and partitions (Kafka's `TransactionCoordinator.handleDescribeTransactions`).

use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{
    DescribeTransactionsRequest, DescribeTransactionsResponse, ProducerId,
};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, topic_name, RequestContext};
use crate::error::Error;

pub async fn handle(
    ctx: &RequestContext,
    req: DescribeTransactionsRequest,
) -> DescribeTransactionsResponse {
    let mut states = Vec::with_capacity(req.transactional_ids.len());
    for tid in req.transactional_ids {
        let base = TransactionState::default()
            .with_transactional_id(tid.clone())
            .with_transaction_state(sb(""))
            // Kafka's error entries keep the schema defaults (0), not -1.
            .with_producer_id(ProducerId(0))
            .with_producer_epoch(0)
            .with_transaction_start_time_ms(0);
        // DESCRIBE on the transactional id; the transaction's topics are listed only with
        // DESCRIBE on them (`KafkaApis.handleDescribeTransactionsRequest`).
        if !authz::transactional_id(ctx, AclOperation::Describe, tid.as_str()) {
            states.push(base.with_error_code(Error::TransactionalIdAuthorizationFailed.code()));
            continue;
        }
        let state = match ctx.broker.txn.describe(tid.as_str()).await {
            Ok(d) => base
                .with_transaction_state(sb(d.state.name()))
                .with_transaction_timeout_ms(d.timeout_ms)
                .with_transaction_start_time_ms(d.start_timestamp)
                .with_producer_id(ProducerId(d.producer_id))
                .with_producer_epoch(d.producer_epoch)
                .with_topics(
                    d.partitions
                        .into_iter()
                        .filter(|(t, _)| {
                            authz::quietly(ctx, AclOperation::Describe, ResourceType::Topic, t)
                        })
                        .map(|(t, ps)| {
                            TopicData::default()
                                .with_topic(topic_name(&t))
                                .with_partitions(ps)
                        })
                        .collect(),
                ),
            Err(e) => base.with_error_code(e.code()),
        };
        states.push(state);
    }
    DescribeTransactionsResponse::default().with_transaction_states(states)
}
