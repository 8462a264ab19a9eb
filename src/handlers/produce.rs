//! Produce (key 0), v3-13 (v0-2 are answered UNSUPPORTED_VERSION in `protocol`).
//!
//! Per partition: validate the batch header, append, then, before answering, fsync when
//! `flush.messages` was reached or when `log.flush.before.ack` is set and acks=all.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
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

    // `KafkaApis.handleProduceRequest`: transactional records need WRITE on the transactional
    // id, or the whole request fails with TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
    // (Kafka also refuses transactional records without a transactional id when no authorizer
    // is set; Klamm keeps accepting them then, as before.) Without an authorizer the batches
    // are not scanned at all.
    let authorizing = ctx.broker.authorizer.is_enabled();
    let transactional = authorizing
        && req
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

    let mut any_error = false;
    let mut to_flush: Vec<(Arc<Partition>, i64)> = Vec::new();
    let mut responses = Vec::with_capacity(req.topic_data.len());
    for td in req.topic_data {
        // WRITE on the topic (`filterByAuthorized(WRITE, TOPIC)`); a topic that does not exist
        // is auto-created only when CREATE is allowed too (cluster or topic, as Metadata).
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
            } else if authorizing
                && logs.topic(name).is_none()
                && !authz::may_create_topic(ctx, name)
            {
                Err(Error::UnknownTopicOrPartition)
            } else {
                logs.get_or_auto_create(name)
            }
        };
        let mut parts = Vec::with_capacity(td.partition_data.len());
        for pd in td.partition_data {
            let result = if !matches!(acks, -1..=1) {
                Err(Error::InvalidRequiredAcks)
            } else {
                match &topic {
                    Err(e) => Err(e.clone()),
                    Ok(t) => append_one(ctx, t, pd.index, pd.records, acks, now),
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
                Err(e) => {
                    any_error = true;
                    debug!(peer = %ctx.peer, client_id = ?ctx.client_id, "produce to {} partition {} failed: {e}", td.name.as_str(), pd.index);
                    error_response(v, pd.index, &e)
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
                .map(|pd| error_response(v, pd.index, e))
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

fn append_one(
    ctx: &RequestContext,
    topic: &Arc<Topic>,
    index: i32,
    records: Option<Bytes>,
    acks: i16,
    now: i64,
) -> Result<(Arc<Partition>, AppendInfo), Error> {
    let partition = topic
        .partition(index)
        .cloned()
        .ok_or(Error::UnknownTopicOrPartition)?;
    if topic.internal {
        return Err(Error::InvalidTopic(format!(
            "Cannot append to internal topic {}",
            topic.name
        )));
    }
    let config = partition.config();
    if acks == -1 && config.min_insync_replicas > 1 {
        return Err(Error::NotEnoughReplicas(format!(
            "The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of {} for partition {}",
            config.min_insync_replicas,
            partition.name()
        )));
    }
    let records = records.unwrap_or_default();
    let batch = validator::validate(
        &records,
        ctx.version,
        &config,
        AppendOrigin::Client,
        now,
        &partition.name(),
    )?;
    let info = partition.append(&batch, AppendOrigin::Client)?;
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

fn error_response(v: i16, index: i32, e: &Error) -> PartitionProduceResponse {
    let mut r = PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(e.code())
        .with_base_offset(-1)
        .with_log_append_time_ms(-1);
    if v >= 5 {
        r.log_start_offset = -1;
    }
    if v >= 8 {
        r.error_message = Some(sb(&e.message()));
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
            *pr = error_response(v, p.index, e);
        }
    }
}
