//! AddPartitionsToTxn (key 24), v0-3, the client versions (v4+ batches transactions for
//! broker-to-broker verification and is not served). Partitions of unknown topics answer
//! UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as Kafka's `KafkaApis`
//! does; otherwise the coordinator's one verdict applies to every partition.

use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};

use super::authz::{self, AclOperation};
use super::init_producer_id::fenced_as_old_error;
use super::RequestContext;
use crate::error::Error;

pub async fn handle(
    ctx: &RequestContext,
    req: AddPartitionsToTxnRequest,
) -> AddPartitionsToTxnResponse {
    let logs = &ctx.broker.logs;
    // WRITE on the transactional id (else every partition fails), then WRITE on each topic:
    // any unauthorized or unknown partition fails the request, the others answer
    // OPERATION_NOT_ATTEMPTED (`KafkaApis.handleAddPartitionsToTxnRequest`).
    let txn_denied = !authz::transactional_id(
        ctx,
        AclOperation::Write,
        req.v3_and_below_transactional_id.as_str(),
    );
    let mut partitions = Vec::new();
    // Sets: the verdict below looks each partition up in them.
    let mut unknown: std::collections::HashSet<(String, i32)> = std::collections::HashSet::new();
    let mut denied: std::collections::HashSet<(String, i32)> = std::collections::HashSet::new();
    for t in &req.v3_and_below_topics {
        if txn_denied {
            break;
        }
        let topic = logs.topic(t.name.as_str());
        let authorized = authz::topic(ctx, AclOperation::Write, t.name.as_str());
        for p in &t.partitions {
            if !authorized {
                denied.insert((t.name.to_string(), *p));
                continue;
            }
            let known = topic
                .as_ref()
                .is_some_and(|tp| !tp.internal && tp.partition(*p).is_some());
            if known {
                partitions.push((t.name.to_string(), *p));
            } else {
                unknown.insert((t.name.to_string(), *p));
            }
        }
    }
    let verdict = |name: &str, p: i32, result: &Result<(), Error>| -> i16 {
        if txn_denied {
            return Error::TransactionalIdAuthorizationFailed.code();
        }
        if !unknown.is_empty() || !denied.is_empty() {
            let key = (name.to_string(), p);
            return if denied.contains(&key) {
                Error::topic_denied().code()
            } else if unknown.contains(&key) {
                Error::UnknownTopicOrPartition.code()
            } else {
                Error::OperationNotAttempted.code()
            };
        }
        match result {
            Ok(()) => 0,
            Err(e) => fenced_as_old_error(e, ctx.version, 2),
        }
    };
    let result = if unknown.is_empty() && denied.is_empty() && !txn_denied {
        ctx.broker
            .txn
            .add_partitions(
                req.v3_and_below_transactional_id.as_str(),
                req.v3_and_below_producer_id.0,
                req.v3_and_below_producer_epoch,
                &partitions,
            )
            .await
    } else {
        Ok(())
    };
    let results = req
        .v3_and_below_topics
        .iter()
        .map(|t| {
            AddPartitionsToTxnTopicResult::default()
                .with_name(t.name.clone())
                .with_results_by_partition(
                    t.partitions
                        .iter()
                        .map(|p| {
                            AddPartitionsToTxnPartitionResult::default()
                                .with_partition_index(*p)
                                .with_partition_error_code(verdict(t.name.as_str(), *p, &result))
                        })
                        .collect(),
                )
        })
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results)
}
