//! Produce (key 0), v3-13 (v0-2 are answered UNSUPPORTED_VERSION in `protocol`).
//!
//! Per partition: validate the batch header, append, then, before answering, fsync when
//! `flush.messages` was reached or when `log.flush.before.ack` is set and acks=all.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};
use tracing::{debug, warn};

use super::authz::{self, AclOperation};
use super::{sb, Outcome, RequestContext};
use crate::broker::now_ms;
use crate::error::Error;
use crate::log::batch::BatchHeader;
use crate::log::partition::AppendInfo;
use crate::log::validator::{self, AppendOrigin};
use crate::log::{Partition, Topic};

pub async fn handle(ctx: &RequestContext, req: ProduceRequest) -> Outcome {
    let v = ctx.version;
    let acks = req.acks;
    let logs = &ctx.broker.logs;
    let fsync_before_ack = acks == -1 && ctx.broker.settings.bool("log.flush.before.ack");
    let now = now_ms();

    // `KafkaApis.handleProduceRequest`: transactional records need a transactional id with
    // WRITE on it (always allowed without an authorizer), or the whole request fails with
    // TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
    let transactional = req
        .topic_data
        .iter()
        .flat_map(|t| t.partition_data.iter())
        .any(|p| p.records.as_ref().is_some_and(is_transactional));
    if transactional
        && !req
            .transactional_id
            .as_ref()
            .is_some_and(|id| authz::transactional_id(ctx, AclOperation::Write, id))
    {
        return fail_all(v, acks, req, &Error::TransactionalIdAuthorizationFailed);
    }

    let tid: Option<String> = req.transactional_id.as_ref().map(|t| t.to_string());
    let mut any_error = false;
    let mut to_flush: Vec<(Arc<Partition>, i64)> = Vec::new();
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for td in req.topic_data {
        // WRITE on the topic (`filterByAuthorized(WRITE, TOPIC)`); a topic that does not exist
        // is UNKNOWN_TOPIC_OR_PARTITION: Produce never creates topics (`KafkaApis` checks the
        // metadata cache; clients auto-create through Metadata).
        let topic: Result<Arc<Topic>, Error> = if v >= 13 {
            logs.topic_by_id(td.topic_id)
                .ok_or(Error::UnknownTopicId)
                .and_then(|t| {
                    if authz::topic(ctx, AclOperation::Write, &t.name) {
                        Ok(t)
                    } else {
                        Err(Error::topic_denied())
                    }
                })
        } else {
            let name = td.name.as_str();
            if !authz::topic(ctx, AclOperation::Write, name) {
                Err(Error::topic_denied())
            } else {
                logs.topic(name).ok_or(Error::UnknownTopicOrPartition)
            }
        };
        let mut parts = Vec::with_capacity(td.partition_data.len());
        for pd in td.partition_data {
            let result = if !matches!(acks, -1..=1) {
                Err(Failure::before_append(Error::InvalidRequiredAcks))
            } else {
                match &topic {
                    Err(e) => Err(Failure::before_append(e.clone())),
                    Ok(t) => {
                        match verify_transaction(ctx, tid.as_deref(), t, pd.index, &pd.records)
                            .await
                        {
                            Err(f) => Err(f),
                            Ok(()) => append_one(ctx, t, pd.index, pd.records, acks, now),
                        }
                    }
                }
            };
            parts.push(match result {
                Ok((partition, info)) => {
                    if let Some(rolled) = info.rolled_at {
                        // Kafka flushes the segment it just rolled away from in the background.
                        let p = partition.clone();
                        tokio::spawn(async move {
                            if let Err(e) = p.flush_to(rolled).await {
                                warn!(partition = %p.name(), "flush after roll failed: {e}");
                            }
                        });
                    }
                    if !info.duplicate && (info.needs_flush || fsync_before_ack) {
                        to_flush.push((partition, info.last_offset + 1));
                    }
                    ok_response(v, pd.index, &info)
                }
                Err(f) => {
                    any_error = true;
                    debug!(peer = %ctx.peer, client_id = ?ctx.client_id, "produce to {} partition {} failed: {}", td.name.as_str(), pd.index, f.error);
                    error_response(v, pd.index, &f)
                }
            });
        }
        let mut tr = TopicProduceResponse::default().with_partition_responses(parts);
        if v >= 13 {
            tr.topic_id = td.topic_id;
        } else {
            tr.name = td.name;
        }
        responses.push(tr);
    }

    // Acknowledge only after the data is on disk where the flush policy asks for it.
    for (p, offset) in to_flush {
        if let Err(e) = p.flush_to(offset).await {
            any_error = true;
            mark_flush_failure(&mut responses, &p, &e, v);
        }
    }

    if acks == 0 {
        // Kafka closes the connection when an acks=0 produce fails, so the client notices.
        return if any_error {
            Outcome::Close
        } else {
            Outcome::NoResponse
        };
    }
    Outcome::Respond(Box::new(ResponseKind::Produce(
        ProduceResponse::default().with_responses(responses),
    )))
}

/// The transactional bit of the first batch, when it is a whole v2 header (anything shorter
/// is refused by the validator after the authorization checks).
fn is_transactional(records: &Bytes) -> bool {
    BatchHeader::new(records).is_some_and(|h| h.magic() == 2 && h.is_transactional())
}

/// `ProduceRequest.getErrorResponse`: every partition carries `e`.
fn fail_all(v: i16, acks: i16, req: ProduceRequest, e: &Error) -> Outcome {
    if acks == 0 {
        return Outcome::Close;
    }
    let responses = req
        .topic_data
        .into_iter()
        .map(|td| {
            let parts = td
                .partition_data
                .iter()
                .map(|pd| error_response(v, pd.index, &Failure::before_append(e.clone())))
                .collect();
            let mut tr = TopicProduceResponse::default().with_partition_responses(parts);
            if v >= 13 {
                tr.topic_id = td.topic_id;
            } else {
                tr.name = td.name;
            }
            tr
        })
        .collect();
    Outcome::Respond(Box::new(ResponseKind::Produce(
        ProduceResponse::default().with_responses(responses),
    )))
}

/// A partition's failed append and the log start offset answered with it.
struct Failure {
    error: Error,
    log_start_offset: i64,
    /// The message Kafka gives the error (`LogAppendResult.hasCustomErrorMessage`), if any.
    message: Option<String>,
}

impl Failure {
    /// Refused before the log was asked (`KafkaApis`' checks, `ProduceRequest.validateRecords`,
    /// acks): no log start offset.
    fn before_append(error: Error) -> Failure {
        Failure {
            error,
            log_start_offset: -1,
            message: None,
        }
    }

    /// Refused by the log (`ReplicaManager.appendToLocalLog`): Kafka answers the partition's
    /// log start offset (`processFailedRecord`) except for the exceptions it lists as known
    /// (unknown partition, not leader, too large, corrupt, storage), which get -1.
    fn in_append(error: Error, partition: &Partition) -> Failure {
        let known = matches!(
            error,
            Error::UnknownTopicOrPartition
                | Error::NotLeaderOrFollower
                | Error::MessageTooLarge(_)
                | Error::CorruptMessage(_)
                | Error::KafkaStorage(_)
        );
        let log_start_offset = if known {
            -1
        } else {
            partition.log_start_offset()
        };
        let message = match &error {
            Error::RecordErrors(_) => Some(error.message()),
            _ => None,
        };
        Failure {
            error,
            log_start_offset,
            message,
        }
    }
}

/// Transaction verification before a transactional batch is appended
/// (`ReplicaManager.appendRecordsWithTransactionVerification`, KIP-890 part 1): only the first
/// batch of a producer's transaction on a partition is checked against the coordinator.
async fn verify_transaction(
    ctx: &RequestContext,
    transactional_id: Option<&str>,
    topic: &Arc<Topic>,
    index: i32,
    records: &Option<Bytes>,
) -> Result<(), Failure> {
    let (Some(tid), Some(records), Some(partition)) =
        (transactional_id, records.as_ref(), topic.partition(index))
    else {
        return Ok(());
    };
    let Some(h) = BatchHeader::new(records).filter(|h| h.magic() == 2 && h.is_transactional())
    else {
        return Ok(());
    };
    let producer_id = h.producer_id();
    if partition.has_ongoing_transaction(producer_id) {
        return Ok(());
    }
    // `KafkaApis.handleProduceRequest`'s `transactionSupportedOperation`: Produce v12+
    // (`addPartition`) adds the partition to the transaction itself (as Kafka 4.1 does at
    // transaction.version 1 too); v11 (`genericErrorSupported`) answers a partition not added
    // with TRANSACTION_ABORTABLE; older versions with INVALID_TXN_STATE and its message.
    let txn = &ctx.broker.txn;
    let epoch = h.producer_epoch();
    let verified = if ctx.version >= 12 {
        let partitions = [(topic.name.to_string(), index)];
        txn.add_partitions(tid, producer_id, epoch, &partitions)
            .await
    } else {
        txn.verify_partition(tid, producer_id, epoch, &topic.name, index)
            .await
    };
    verified.map_err(|error| match error {
        Error::InvalidTxnState if ctx.version == 11 => {
            Failure::before_append(Error::TransactionAbortable)
        }
        Error::InvalidTxnState => Failure {
            error,
            log_start_offset: -1,
            message: Some("Partition was not added to the transaction".to_string()),
        },
        // `AddPartitionsToTxnManager`: a fenced epoch is INVALID_PRODUCER_EPOCH to producers.
        Error::ProducerFenced(m) => Failure::before_append(Error::InvalidProducerEpoch(m)),
        error => Failure::before_append(error),
    })
}

fn append_one(
    ctx: &RequestContext,
    topic: &Arc<Topic>,
    index: i32,
    records: Option<Bytes>,
    acks: i16,
    now: i64,
) -> Result<(Arc<Partition>, AppendInfo), Failure> {
    let partition = topic
        .partition(index)
        .cloned()
        .ok_or(Failure::before_append(Error::UnknownTopicOrPartition))?;
    let records = records.unwrap_or_default();
    // A batch the iterator cannot frame fails in `RequestUtils.flag` (Kafka fails the whole
    // request there), answered with the exception's message; the rest without one.
    validator::check_produce_records(&records, ctx.version, &partition.name()).map_err(|e| {
        let message = matches!(e, Error::CorruptMessage(_)).then(|| e.message());
        Failure {
            error: e,
            log_start_offset: -1,
            message,
        }
    })?;
    let failed = |e: Error| Failure::in_append(e, &partition);
    if topic.internal {
        return Err(failed(Error::InvalidTopic(format!(
            "Cannot append to internal topic {}",
            topic.name
        ))));
    }
    let config = partition.config();
    if acks == -1 && config.min_insync_replicas > 1 {
        return Err(failed(Error::NotEnoughReplicas(format!(
            "The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of {} for partition {}",
            config.min_insync_replicas,
            partition.name()
        ))));
    }
    let batch = validator::validate(
        &records,
        ctx.version,
        &config,
        AppendOrigin::Client,
        now,
        &partition.name(),
    )
    .map_err(failed)?;
    let info = partition
        .append(&batch, AppendOrigin::Client)
        .map_err(failed)?;
    if !info.duplicate {
        crate::metrics::get()
            .topics
            .produced(&partition.topic, records.len(), info.record_count);
    }
    Ok((partition, info))
}

fn ok_response(v: i16, index: i32, info: &AppendInfo) -> PartitionProduceResponse {
    let mut r = PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(0)
        .with_base_offset(info.base_offset)
        .with_log_append_time_ms(info.log_append_time);
    if v >= 5 {
        r.log_start_offset = info.log_start_offset;
    }
    r
}

/// A partition's error answer. `error_message` (v8+) carries only what Kafka's
/// `LogAppendResult.errorMessage` does: the messages of a `RecordValidationException` (KIP-467,
/// with `record_errors`) and of transaction verification; every other error goes without.
fn error_response(v: i16, index: i32, f: &Failure) -> PartitionProduceResponse {
    let e = &f.error;
    let mut r = PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(e.code())
        .with_base_offset(-1)
        .with_log_append_time_ms(-1);
    if v >= 5 {
        r.log_start_offset = f.log_start_offset;
    }
    if v >= 8 {
        r.error_message = f.message.as_deref().map(sb);
    }
    if let (true, Error::RecordErrors(refused)) = (v >= 8, e) {
        r.record_errors = refused
            .errors
            .iter()
            .map(|(i, m)| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(*i)
                    .with_batch_index_error_message(Some(sb(m)))
            })
            .collect();
    }
    r
}

fn mark_flush_failure(responses: &mut [TopicProduceResponse], p: &Partition, e: &Error, v: i16) {
    for tr in responses.iter_mut() {
        let same_topic = if v >= 13 {
            tr.topic_id == p.topic_id
        } else {
            tr.name.as_str() == &*p.topic
        };
        if !same_topic {
            continue;
        }
        for pr in tr
            .partition_responses
            .iter_mut()
            .filter(|r| r.index == p.index)
        {
            *pr = error_response(v, p.index, &Failure::before_append(e.clone()));
        }
    }
}
