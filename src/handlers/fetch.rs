//! Fetch (key 1), v4-18, for consumers.
//!
//! Stored batches are returned as they are on disk. When fewer than `min_bytes` are available
//! the request parks until an append to one of its partitions wakes it or `max_wait_ms` passes
//! (Kafka's `DelayedFetch`), so a consumer sees a new record as soon as it is appended.
//! Incremental fetch sessions (KIP-227) are declined: every response carries session id 0,
//! which tells clients to keep sending full fetch requests.

use std::sync::Arc;
use std::time::Duration;

use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, PartitionData,
};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, ProducerId};
use kafka_protocol::ResponseError;
use tokio::sync::Notify;

use super::authz::{self, AclOperation};
use super::{Outcome, RequestContext};
use crate::error::Error;
use crate::log::partition::LEADER_EPOCH;
use crate::log::Partition;
use crate::send::FileSlice;

/// `FetchRequest.READ_COMMITTED`
const READ_COMMITTED: i8 = 1;

/// One requested partition, resolved.
struct Target {
    topic_index: usize,
    request: FetchPartition,
    partition: Result<Arc<Partition>, Error>,
}

/// Handles a fetch; the response's records travel separately as file regions (see
/// `protocol::fetch_response`).
pub async fn handle(ctx: &RequestContext, req: FetchRequest) -> Outcome {
    let (resp, records) = fetch(ctx, req).await;
    Outcome::RespondFetch(Box::new(resp), records)
}

async fn fetch(ctx: &RequestContext, req: FetchRequest) -> (FetchResponse, Vec<Option<FileSlice>>) {
    let v = ctx.version;
    let replica_id = if v >= 15 {
        req.replica_state.replica_id.0
    } else {
        req.replica_id.0
    };
    // Sessions (KIP-227): a full fetch (epoch 0 opens a session, -1 closes one) is served
    // whatever session id it names, and Klamm opens none, answering session id 0. Any other
    // epoch refers to an existing session, and there is none: FETCH_SESSION_ID_NOT_FOUND, as
    // Kafka's `FetchManager.newContext` answers for an unknown session.
    if v >= 7 && req.session_epoch != 0 && req.session_epoch != -1 {
        let resp = FetchResponse::default()
            .with_error_code(ResponseError::FetchSessionIdNotFound.code())
            .with_session_id(0);
        return (resp, Vec::new());
    }

    let logs = &ctx.broker.logs;
    let mut topics: Vec<FetchableTopicResponse> = Vec::with_capacity(req.topics.len());
    let mut targets: Vec<Target> = Vec::new();
    for ft in req.topics {
        // READ on the topic (`filterByAuthorized(READ, TOPIC)`), checked before existence for
        // names (an unauthorized client learns nothing), after the id lookup for ids.
        let topic = if v >= 13 {
            logs.topic_by_id(ft.topic_id)
                .ok_or(Error::UnknownTopicId)
                .and_then(|t| {
                    if authz::topic(ctx, AclOperation::Read, &t.name) {
                        Ok(t)
                    } else {
                        Err(Error::topic_denied())
                    }
                })
        } else if !authz::topic(ctx, AclOperation::Read, ft.topic.as_str()) {
            Err(Error::topic_denied())
        } else {
            logs.topic(ft.topic.as_str())
                .ok_or(Error::UnknownTopicOrPartition)
        };
        let mut tr = FetchableTopicResponse::default();
        if v >= 13 {
            tr.topic_id = ft.topic_id;
        } else {
            tr.topic = ft.topic.clone();
        }
        let topic_index = topics.len();
        topics.push(tr);
        for fp in ft.partitions {
            let partition = match &topic {
                Err(e) => Err(e.clone()),
                Ok(t) => t
                    .partition(fp.partition)
                    .cloned()
                    .ok_or(Error::UnknownTopicOrPartition),
            };
            let partition = partition.and_then(|p| {
                if replica_id >= 0 {
                    // A follower fetch: a single broker has no followers.
                    Err(Error::NotLeaderOrFollower)
                } else if v >= 9 && fp.current_leader_epoch > LEADER_EPOCH {
                    Err(Error::UnknownLeaderEpoch)
                } else {
                    Ok(p)
                }
            });
            targets.push(Target {
                topic_index,
                request: fp,
                partition,
            });
        }
    }

    let read_committed = v >= 4 && req.isolation_level == READ_COMMITTED;
    // KIP-541: the broker's fetch.max.bytes caps what a request may ask for.
    let max_bytes = if req.max_bytes <= 0 {
        0
    } else {
        (req.max_bytes as usize).min(ctx.broker.fetch_max_bytes)
    };
    let min_bytes = req.min_bytes.max(0) as usize;
    let deadline =
        tokio::time::Instant::now() + Duration::from_millis(req.max_wait_ms.max(0) as u64);

    let waiter = Arc::new(Notify::new());
    let mut registered = false;
    let mut shutting_down = ctx.broker.shutting_down.clone();
    let parked_at = std::time::Instant::now();
    let (results, records) = loop {
        let (results, records, bytes, errors) = read_all(&targets, max_bytes, read_committed, v);
        let done = req.max_wait_ms <= 0
            || targets.is_empty()
            || bytes >= min_bytes
            || errors
            || ctx.broker.is_shutting_down()
            || tokio::time::Instant::now() >= deadline;
        if done {
            break (results, records);
        }
        if !registered {
            for t in &targets {
                if let Ok(p) = &t.partition {
                    p.register_waiter(&waiter);
                }
            }
            registered = true;
            crate::metrics::get().topics.long_poll_started();
            // An append between the read and the registration would be missed: read again.
            continue;
        }
        tokio::select! {
            _ = waiter.notified() => {
                for t in &targets {
                    if let Ok(p) = &t.partition {
                        p.register_waiter(&waiter);
                    }
                }
            }
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shutting_down.changed() => {}
        }
    };
    if registered {
        crate::metrics::get()
            .topics
            .long_poll_done(parked_at.elapsed());
        for t in &targets {
            if let Ok(p) = &t.partition {
                p.unregister_waiter(&waiter);
            }
        }
    }

    for ((t, pd), r) in targets.iter().zip(results).zip(&records) {
        if let (Ok(p), Some(r)) = (&t.partition, r) {
            crate::metrics::get().topics.fetched(&p.topic, r.len);
        }
        topics[t.topic_index].partitions.push(pd);
    }
    let mut resp = FetchResponse::default().with_responses(topics);
    if v >= 7 {
        resp.session_id = 0;
    }
    (resp, records)
}

/// Reads every partition once. Returns the partition data, each partition's records, the
/// total bytes, and whether any partition failed (Kafka answers at once when reading produced
/// an error).
fn read_all(
    targets: &[Target],
    max_bytes: usize,
    read_committed: bool,
    v: i16,
) -> (Vec<PartitionData>, Vec<Option<FileSlice>>, usize, bool) {
    let mut remaining = max_bytes;
    let mut min_one = true;
    let mut total = 0usize;
    let mut errors = false;
    let mut out = Vec::with_capacity(targets.len());
    let mut records = Vec::with_capacity(targets.len());
    for t in targets {
        let fp = &t.request;
        let mut pd = PartitionData::default().with_partition_index(fp.partition);
        let result = t.partition.as_ref().map_err(Clone::clone).and_then(|p| {
            let limit = remaining.min(fp.partition_max_bytes.max(0) as usize);
            if v >= 12
                && fp.last_fetched_epoch > LEADER_EPOCH
                && fp.fetch_offset > p.log_end_offset()
            {
                return Ok(Diverging(p.log_end_offset()));
            }
            p.read_isolated(fp.fetch_offset, limit, min_one, read_committed)
                .map(|data| {
                    // read_committed: the aborted transactions overlapping what is returned
                    // (bounded by the last stable offset), for the consumer to filter.
                    let aborted = (read_committed && data.records.len > 0)
                        .then(|| p.aborted_transactions(fp.fetch_offset, data.last_stable_offset));
                    Read(data, aborted)
                })
        });
        match result {
            Ok(Read(data, aborted)) => {
                let n = data.records.len;
                if n > 0 {
                    min_one = false;
                    remaining = remaining.saturating_sub(n);
                    total += n;
                }
                pd.error_code = 0;
                pd.high_watermark = data.high_watermark;
                pd.last_stable_offset = data.last_stable_offset;
                pd.log_start_offset = data.log_start_offset;
                records.push(Some(data.records));
                // `FetchDataInfo.abortedTransactions`: a list only for read_committed reads
                // that returned records, null otherwise (read_uncommitted, nothing read);
                // error answers keep the empty list (`FetchResponse.partitionResponse`).
                pd.aborted_transactions = aborted.map(|list| {
                    list.iter()
                        .map(|a| {
                            AbortedTransaction::default()
                                .with_producer_id(ProducerId(a.producer_id))
                                .with_first_offset(a.first_offset)
                        })
                        .collect()
                });
            }
            Ok(Diverging(end)) => {
                pd.high_watermark = end;
                pd.last_stable_offset = end;
                pd.diverging_epoch = EpochEndOffset::default()
                    .with_epoch(LEADER_EPOCH)
                    .with_end_offset(end);
                records.push(None);
            }
            Err(e) => {
                errors = true;
                pd.error_code = e.code();
                pd.high_watermark = -1;
                pd.last_stable_offset = -1;
                pd.log_start_offset = -1;
                records.push(None);
            }
        }
        if v >= 11 {
            pd.preferred_read_replica = BrokerId(-1);
        }
        out.push(pd);
    }
    (out, records, total, errors)
}

enum ReadResult {
    Read(
        crate::log::partition::FetchData,
        Option<Vec<crate::log::txn_index::AbortedTxn>>,
    ),
    Diverging(i64),
}
use ReadResult::{Diverging, Read};
