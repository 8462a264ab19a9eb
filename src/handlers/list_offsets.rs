//! ListOffsets (key 2), v1-10: earliest (-2), latest (-1), max timestamp (-3, KIP-734),
//! earliest local (-4), latest tiered (-5), and lookup by timestamp via the time index; and v0
//! (removed in Kafka 4 by KIP-896, served unless `klamm.compat.kafka.version` is `4.1`), whose
//! segment-based answer is Kafka 3.9's `handleListOffsetRequestV0`.

use std::collections::HashSet;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;
use crate::log::partition::LEADER_EPOCH;
use crate::protocol::legacy::list_offsets::{
    ListOffsetsPartitionResponseV0, ListOffsetsRequestV0, ListOffsetsResponseV0,
    ListOffsetsTopicResponseV0,
};

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;
/// `ListOffsetsRequest.READ_COMMITTED`
const READ_COMMITTED: i8 = 1;

/// Async because a timestamp lookup (a spec >= 0, or MAX_TIMESTAMP) reads and may decompress
/// segment data: [`lookup`] runs it on the blocking pool so a page-cache miss or a large
/// compressed batch does not stall every connection served by this runtime worker (Kafka
/// serves ListOffsets on its request-handler pool, off the network threads).
pub async fn handle(ctx: &RequestContext, req: ListOffsetsRequest) -> ListOffsetsResponse {
    let v = ctx.version;
    let read_committed = v >= 2 && req.isolation_level == READ_COMMITTED;
    // Kafka answers INVALID_REQUEST for a partition listed twice.
    let mut seen = HashSet::new();
    let mut dups = HashSet::new();
    for t in &req.topics {
        for p in &t.partitions {
            if !seen.insert((t.name.as_str().to_string(), p.partition_index)) {
                dups.insert((t.name.as_str().to_string(), p.partition_index));
            }
        }
    }
    let mut topics = Vec::with_capacity(req.topics.len());
    for t in req.topics {
        let name = t.name.as_str().to_string();
        // DESCRIBE on the topic, checked first (`partitionSeqByAuthorized(DESCRIBE, TOPIC)`).
        let authorized = authz::topic(ctx, AclOperation::Describe, &name);
        let topic = ctx.broker.logs.topic(&name);
        let mut partitions = Vec::with_capacity(t.partitions.len());
        for p in &t.partitions {
            let mut r =
                ListOffsetsPartitionResponse::default().with_partition_index(p.partition_index);
            let result = if !authorized {
                Err(Error::topic_denied())
            } else if dups.contains(&(name.clone(), p.partition_index)) {
                Err(Error::InvalidRequest(
                    "Duplicate partition in request".into(),
                ))
            } else {
                lookup(
                    ctx,
                    topic.as_deref(),
                    p.partition_index,
                    p.current_leader_epoch,
                    p.timestamp,
                    read_committed,
                )
                .await
            };
            match result {
                Ok((timestamp, offset)) => {
                    r.error_code = 0;
                    r.timestamp = timestamp;
                    r.offset = offset;
                    if v >= 4 {
                        r.leader_epoch = if offset >= 0 { LEADER_EPOCH } else { -1 };
                    }
                }
                Err(e) => {
                    r.error_code = e.code();
                    r.timestamp = -1;
                    r.offset = -1;
                    if v >= 4 {
                        r.leader_epoch = -1;
                    }
                }
            }
            partitions.push(r);
        }
        topics.push(
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions),
        );
    }
    ListOffsetsResponse::default().with_topics(topics)
}

async fn lookup(
    ctx: &RequestContext,
    topic: Option<&crate::log::Topic>,
    index: i32,
    current_leader_epoch: i32,
    timestamp: i64,
    read_committed: bool,
) -> Result<(i64, i64), Error> {
    // `ReplicaManager.isListOffsetsTimestampUnsupported`: a negative timestamp is a spec only
    // from the version that introduced it (-3 v7, KIP-734; -4 v8 and -5 v9, KIP-405); any
    // other negative one is UNSUPPORTED_VERSION. Checked before the partition is looked up.
    let min_version = match timestamp {
        LATEST | EARLIEST => Some(1),
        MAX_TIMESTAMP => Some(7),
        EARLIEST_LOCAL => Some(8),
        LATEST_TIERED => Some(9),
        _ => None,
    };
    if timestamp < 0 && min_version.is_none_or(|min| ctx.version < min) {
        return Err(Error::UnsupportedVersion(format!(
            "ListOffsets v{} does not support timestamp {timestamp}",
            ctx.version
        )));
    }
    let p = topic
        .and_then(|t| t.partition(index))
        .ok_or(Error::UnknownTopicOrPartition)?;
    if ctx.version >= 4 && current_leader_epoch > LEADER_EPOCH {
        return Err(Error::UnknownLeaderEpoch);
    }
    // Kafka's Partition.fetchOffsetForTimestamp: what a client may fetch ends at the last stable
    // offset under read_committed and at the high watermark otherwise; LATEST answers that
    // bound, and a timestamp lookup whose record lies at or past it finds nothing (-1).
    let last_fetchable = if read_committed {
        p.last_stable_offset()
    } else {
        p.high_watermark()
    };
    let fetchable = |found: Option<(i64, i64)>| {
        found
            .filter(|&(_, offset)| offset < last_fetchable)
            .unwrap_or((-1, -1))
    };
    Ok(match timestamp {
        EARLIEST | EARLIEST_LOCAL => (-1, p.log_start_offset()),
        LATEST => (-1, last_fetchable),
        LATEST_TIERED => (-1, -1),
        // The scans read (and may decompress) segment data: off the runtime worker.
        ts => {
            let p = std::sync::Arc::clone(p);
            let found = tokio::task::spawn_blocking(move || {
                if ts == MAX_TIMESTAMP {
                    p.max_timestamp_offset()
                } else {
                    p.offset_for_timestamp(ts)
                }
            })
            .await
            .map_err(|e| Error::KafkaStorage(format!("timestamp lookup failed: {e}")))??;
            fetchable(found)
        }
    })
}

/// `ListOffsetsRequest.CONSUMER_REPLICA_ID`: v0 caps a consumer's answer at the high watermark.
const CONSUMER_REPLICA_ID: i32 = -1;

/// ListOffsets v0 as Kafka 3.9's `KafkaApis.handleListOffsetRequestV0`: DESCRIBE on each topic
/// (topics without it answer TOPIC_AUTHORIZATION_FAILED and come last, as Kafka appends them);
/// a timestamp below EARLIEST (-2) answers UNSUPPORTED_VERSION; otherwise up to
/// `max_num_offsets` offsets from [`legacy_offsets_before`].
pub fn handle_v0(ctx: &RequestContext, req: ListOffsetsRequestV0) -> ListOffsetsResponseV0 {
    let partition = |index, error: &Error| ListOffsetsPartitionResponseV0 {
        partition_index: index,
        error_code: error.code(),
        old_style_offsets: Vec::new(),
    };
    let (authorized, denied): (Vec<_>, Vec<_>) = req
        .topics
        .into_iter()
        .partition(|t| authz::topic(ctx, AclOperation::Describe, t.name.as_str()));
    let mut topics: Vec<ListOffsetsTopicResponseV0> = authorized
        .into_iter()
        .map(|t| {
            let topic = ctx.broker.logs.topic(t.name.as_str());
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    if p.timestamp < EARLIEST {
                        return partition(
                            p.partition_index,
                            &Error::UnsupportedVersion(String::new()),
                        );
                    }
                    let Some(log) = topic.as_ref().and_then(|t| t.partition(p.partition_index))
                    else {
                        return partition(p.partition_index, &Error::UnknownTopicOrPartition);
                    };
                    let from_consumer = req.replica_id == CONSUMER_REPLICA_ID;
                    match legacy_offsets_before(log, p.timestamp, p.max_num_offsets, from_consumer)
                    {
                        Some(offsets) => ListOffsetsPartitionResponseV0 {
                            partition_index: p.partition_index,
                            error_code: 0,
                            old_style_offsets: offsets,
                        },
                        // Kafka's `new Array[Long](n)` with a negative count throws, and the
                        // handler answers the exception as UNKNOWN_SERVER_ERROR.
                        None => partition(
                            p.partition_index,
                            &Error::Internal("negative max_num_offsets".into()),
                        ),
                    }
                })
                .collect();
            ListOffsetsTopicResponseV0 {
                name: t.name,
                partitions,
            }
        })
        .collect();
    topics.extend(denied.into_iter().map(|t| {
        ListOffsetsTopicResponseV0 {
            partitions: t
                .partitions
                .iter()
                .map(|p| partition(p.partition_index, &Error::topic_denied()))
                .collect(),
            name: t.name,
        }
    }));
    ListOffsetsResponseV0 { topics }
}

/// Kafka 3.9's `UnifiedLog.legacyFetchOffsetsBefore` and `Partition.legacyFetchOffsetsForTimestamp`:
/// each segment stands for its base offset (at least the log start offset) at its file's
/// modification time, and a non-empty active segment adds the log end offset at the current
/// time. LATEST starts from the newest entry, EARLIEST from the oldest, a timestamp from the
/// newest entry modified at or before it; up to `max_num_offsets` entries are taken from there
/// towards older ones, newest first. A consumer's answer does not go past the high watermark
/// (offsets above it are replaced by the high watermark). `None` for a negative
/// `max_num_offsets`.
fn legacy_offsets_before(
    log: &crate::log::Partition,
    timestamp: i64,
    max_num_offsets: i32,
    from_consumer: bool,
) -> Option<Vec<i64>> {
    let (segments, log_start_offset, log_end_offset) = log.segment_snapshot();
    let modified = |f: &std::fs::File| {
        f.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64)
    };
    let mut entries: Vec<(i64, i64)> = segments
        .iter()
        .map(|s| (s.base_offset.max(log_start_offset), modified(&s.file)))
        .collect();
    if segments.last().is_some_and(|s| s.size > 0) {
        entries.push((log_end_offset, crate::broker::now_ms()));
    }
    let start: i64 = match timestamp {
        LATEST => entries.len() as i64 - 1,
        EARLIEST => 0,
        ts => entries
            .iter()
            .rposition(|&(_, mtime)| mtime <= ts)
            .map_or(-1, |i| i as i64),
    };
    if max_num_offsets < 0 {
        return None;
    }
    let take = i64::from(max_num_offsets).min(start + 1).max(0) as usize;
    let take = take.min(entries.len());
    let mut offsets: Vec<i64> = (0..take).map(|j| entries[(start as usize) - j].0).collect();
    offsets.sort_by(|a, b| b.cmp(a));
    if from_consumer {
        let hw = log.high_watermark();
        if offsets.iter().any(|&o| o > hw) {
            let mut capped = vec![hw];
            capped.extend(offsets.into_iter().skip_while(|&o| o > hw));
            offsets = capped;
        }
    }
    Some(offsets)
}
