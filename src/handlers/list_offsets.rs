//! ListOffsets (key 2), v1-10: earliest (-2), latest (-1), max timestamp (-3, KIP-734),
//! earliest local (-4), latest tiered (-5), and lookup by timestamp via the time index.

use std::collections::HashSet;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;
use crate::log::partition::LEADER_EPOCH;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;
const EARLIEST_LOCAL: i64 = -4;
const LATEST_TIERED: i64 = -5;
/// `ListOffsetsRequest.READ_COMMITTED`
const READ_COMMITTED: i8 = 1;

pub fn handle(ctx: &RequestContext, req: ListOffsetsRequest) -> ListOffsetsResponse {
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
    let topics = req
        .topics
        .into_iter()
        .map(|t| {
            let name = t.name.as_str().to_string();
            // DESCRIBE on the topic, checked first (`partitionSeqByAuthorized(DESCRIBE, TOPIC)`).
            let authorized = authz::topic(ctx, AclOperation::Describe, &name);
            let topic = ctx.broker.logs.topic(&name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let mut r = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index);
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
                    r
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

fn lookup(
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
        MAX_TIMESTAMP => fetchable(p.max_timestamp_offset()?),
        LATEST_TIERED => (-1, -1),
        ts => fetchable(p.offset_for_timestamp(ts)?),
    })
}
