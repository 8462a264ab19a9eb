//! The admin CLI: `klamm topic|group|produce|consume|cluster|health`. Each command talks the
//! Kafka protocol to any broker (Klamm or Kafka) through [`client`], prints an aligned table
//! (or one JSON document with `--json`), explains Kafka errors by name and meaning, and exits
//! non-zero on any failure, like Kafka's own tools.

pub mod client;
pub mod cluster;
pub mod consume;
pub mod group;
pub mod health;
pub mod output;
pub mod produce;
pub mod share_group;
pub mod topic;

use std::collections::BTreeMap;

use kafka_protocol::messages::list_offsets_request::{
    ListOffsetsPartition, ListOffsetsRequest, ListOffsetsTopic,
};
use kafka_protocol::messages::{BrokerId, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use client::Client;
use output::CliError;

/// Options every admin subcommand takes.
#[derive(clap::Args, Clone, Debug)]
pub struct Common {
    /// Broker(s) to bootstrap from: HOST:PORT[,HOST:PORT...].
    #[arg(long, global = true, default_value = "localhost:9092")]
    pub bootstrap_server: String,
    /// Print JSON (one document on stdout) instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Common {
    pub fn connect(&self) -> Result<Client, CliError> {
        Client::connect(&self.bootstrap_server)
    }
}

pub fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

pub fn topic_name(s: &str) -> TopicName {
    TopicName(sb(s))
}

/// Parses `KEY=VALUE`.
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// `ListOffsets` special timestamps (`ListOffsetsRequest.EARLIEST_TIMESTAMP` ...).
pub const LATEST: i64 = -1;
pub const EARLIEST: i64 = -2;

/// A topic's partitions from metadata: index -> leader, or the topic's error.
pub fn partitions_of(md: &MetadataResponse, topic: &str) -> Result<BTreeMap<i32, i32>, CliError> {
    let t = md
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.as_str()) == Some(topic))
        .ok_or_else(|| CliError::Kafka {
            code: 3,
            context: format!("topic {topic}"),
            message: None,
        })?;
    CliError::check(t.error_code, None, &format!("topic {topic}"))?;
    Ok(t.partitions
        .iter()
        .map(|p| (p.partition_index, p.leader_id.0))
        .collect())
}

/// Offsets of `topic`'s partitions at `timestamp` (`LATEST`, `EARLIEST` or a time in ms),
/// asking each partition's leader. A partition without an answer maps to its error; a
/// timestamp after the last record maps to `Ok(None)`.
pub fn list_offsets(
    client: &mut Client,
    topic: &str,
    partitions: &BTreeMap<i32, i32>,
    timestamp: i64,
) -> Result<BTreeMap<i32, Result<Option<i64>, CliError>>, CliError> {
    let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (p, leader) in partitions {
        by_leader.entry(*leader).or_default().push(*p);
    }
    let mut out = BTreeMap::new();
    // LEADER_NOT_AVAILABLE and NOT_LEADER_OR_FOLLOWER are retriable (Kafka answers them for a
    // moment after partitions are created): those partitions are asked again after a short
    // backoff, until the request timeout.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for (leader, mut parts) in by_leader {
        while !parts.is_empty() {
            let req = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_topics(vec![ListOffsetsTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(
                        parts
                            .iter()
                            .map(|p| {
                                ListOffsetsPartition::default()
                                    .with_partition_index(*p)
                                    .with_current_leader_epoch(-1)
                                    .with_timestamp(timestamp)
                            })
                            .collect(),
                    )]);
            let (resp, _) = client.broker(leader)?.send(&req)?;
            let mut retry = Vec::new();
            for t in resp.topics {
                for p in t.partitions {
                    let retriable = p.error_code
                        == kafka_protocol::ResponseError::LeaderNotAvailable.code()
                        || p.error_code
                            == kafka_protocol::ResponseError::NotLeaderOrFollower.code();
                    if retriable && std::time::Instant::now() < deadline {
                        retry.push(p.partition_index);
                        continue;
                    }
                    let r = CliError::check(
                        p.error_code,
                        None,
                        &format!("listing offsets of {topic}-{}", p.partition_index),
                    )
                    .map(|()| (p.offset >= 0).then_some(p.offset));
                    out.insert(p.partition_index, r);
                }
            }
            parts = retry;
            if !parts.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    Ok(out)
}
