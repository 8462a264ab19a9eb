//! `klamm produce TOPIC`: one record per line of stdin (the job of
//! `kafka-console-producer.sh`). With `--keyed`, a line is `key<TAB>value` (the separator can
//! be changed with `--key-separator`). Keys choose the partition as Kafka's default
//! partitioner does (murmur2, `BuiltInPartitioner.partitionForKey`); lines without a key go
//! round-robin. Records are sent in batches of `--batch-size` lines per partition.

use std::collections::BTreeMap;
use std::io::BufRead;

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use serde_json::json;

use super::output::{print_json, progress, CliError};
use super::{partitions_of, topic_name, Common};
use crate::broker::now_ms;

#[derive(clap::Args, Debug)]
pub struct ProduceArgs {
    #[command(flatten)]
    common: Common,
    topic: String,
    /// Lines are KEY<separator>VALUE.
    #[arg(long)]
    keyed: bool,
    /// Separator between key and value with --keyed.
    #[arg(long, default_value = "\t")]
    key_separator: String,
    /// Send every record to this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// acks: -1 (all), 1 or 0.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    acks: i16,
    /// Lines per produce request.
    #[arg(long, default_value_t = 1000)]
    batch_size: usize,
    /// A header KEY=VALUE added to every record (repeatable).
    #[arg(long = "header", value_parser = super::parse_key_value)]
    headers: Vec<(String, String)>,
}

/// Kafka's `Utils.murmur2`.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let len = data.len();
    let mut h: u32 = SEED ^ (len as u32);
    let chunks = data.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    match tail.len() {
        3 => {
            h ^= (tail[2] as u32) << 16;
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(M);
        }
        2 => {
            h ^= (tail[1] as u32) << 8;
            h ^= tail[0] as u32;
            h = h.wrapping_mul(M);
        }
        1 => {
            h ^= tail[0] as u32;
            h = h.wrapping_mul(M);
        }
        _ => {}
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's partition for a keyed record: `toPositive(murmur2(key)) % numPartitions`.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    (murmur2(key) & 0x7fff_ffff) % partitions.max(1)
}

struct Pending {
    records: Vec<Record>,
}

pub fn run(args: ProduceArgs) -> Result<(), CliError> {
    let c = &args.common;
    if args.keyed && args.key_separator.is_empty() {
        return Err(CliError::Usage("--key-separator must not be empty".into()));
    }
    let mut client = c.connect()?;
    let md = client.metadata(Some(std::slice::from_ref(&args.topic)))?;
    let leaders = partitions_of(&md, &args.topic)?;
    let n = leaders.len() as i32;
    if let Some(p) = args.partition {
        if !leaders.contains_key(&p) {
            return Err(CliError::Kafka {
                code: 3,
                context: format!("partition {}-{p}", args.topic),
                message: None,
            });
        }
    }
    let headers: IndexMap<_, _> = args
        .headers
        .iter()
        .map(|(k, v)| (super::sb(k), Some(Bytes::from(v.clone().into_bytes()))))
        .collect();
    let mut pending: BTreeMap<i32, Pending> = BTreeMap::new();
    let mut total = 0u64;
    let mut in_batch = 0usize;
    let mut next_rr = 0i32;
    let mut results: BTreeMap<i32, (i64, u64)> = BTreeMap::new();
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let line = line?;
        let (key, value) = if args.keyed {
            match line.split_once(args.key_separator.as_str()) {
                Some((k, v)) => (Some(k.to_string()), v.to_string()),
                None => {
                    return Err(CliError::Usage(format!(
                        "line {} has no key separator {:?}",
                        total + 1,
                        args.key_separator
                    )))
                }
            }
        } else {
            (None, line)
        };
        let partition = match (args.partition, &key) {
            (Some(p), _) => p,
            (None, Some(k)) => partition_for_key(k.as_bytes(), n),
            (None, None) => {
                next_rr = (next_rr + 1) % n.max(1);
                next_rr
            }
        };
        let p = pending.entry(partition).or_insert_with(|| Pending {
            records: Vec::new(),
        });
        let offset = p.records.len() as i64;
        p.records.push(Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: TimestampType::Creation,
            offset,
            // kafka-protocol starts a new batch wherever `offset - sequence` changes; this
            // keeps one batch per partition with base sequence -1 (no idempotence).
            sequence: offset as i32 - 1,
            timestamp: now_ms(),
            key: key.map(|k| Bytes::from(k.into_bytes())),
            value: Some(Bytes::from(value.into_bytes())),
            headers: headers.clone(),
        });
        total += 1;
        in_batch += 1;
        if in_batch >= args.batch_size.max(1) {
            send(&mut client, &args, &leaders, &mut pending, &mut results)?;
            in_batch = 0;
            progress(format!("produced {total} records"));
        }
    }
    send(&mut client, &args, &leaders, &mut pending, &mut results)?;
    if c.json {
        let parts: Vec<_> = results
            .iter()
            .map(
                |(p, (base, count))| json!({"partition": p, "base_offset": base, "records": count}),
            )
            .collect();
        print_json(&json!({"topic": args.topic, "records": total, "partitions": parts}));
    } else {
        println!("Produced {total} records to topic {}.", args.topic);
    }
    Ok(())
}

/// Sends the pending records, one request per leader, and records the first offset of each
/// partition (acks=0 has none: -1).
fn send(
    client: &mut super::client::Client,
    args: &ProduceArgs,
    leaders: &BTreeMap<i32, i32>,
    pending: &mut BTreeMap<i32, Pending>,
    results: &mut BTreeMap<i32, (i64, u64)>,
) -> Result<(), CliError> {
    let mut by_leader: BTreeMap<i32, Vec<(i32, Pending)>> = BTreeMap::new();
    for (p, recs) in std::mem::take(pending) {
        by_leader.entry(leaders[&p]).or_default().push((p, recs));
    }
    for (leader, parts) in by_leader {
        let mut data = Vec::new();
        let mut counts = BTreeMap::new();
        for (p, recs) in parts {
            let mut buf = BytesMut::new();
            RecordBatchEncoder::encode(
                &mut buf,
                recs.records.iter(),
                &RecordEncodeOptions {
                    version: 2,
                    compression: Compression::None,
                },
            )
            .map_err(|e| CliError::Protocol(format!("encoding records: {e}")))?;
            counts.insert(p, recs.records.len() as u64);
            data.push(
                PartitionProduceData::default()
                    .with_index(p)
                    .with_records(Some(buf.freeze())),
            );
        }
        let request = |data: Vec<PartitionProduceData>| {
            ProduceRequest::default()
                .with_acks(args.acks)
                .with_timeout_ms(30_000)
                .with_topic_data(vec![TopicProduceData::default()
                    .with_name(topic_name(&args.topic))
                    .with_partition_data(data)])
        };
        let conn = client.broker(leader)?;
        if args.acks == 0 {
            let req = request(data);
            // No response comes back for acks=0; write the request and go on.
            let v = conn.version_for::<ProduceRequest>()?;
            conn.send_no_response(&req, v)?;
            for (p, n) in counts {
                results.entry(p).or_insert((-1, 0)).1 += n;
            }
            continue;
        }
        // A partition whose leader is not ready yet (LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER:
        // retriable, as the Java producer treats them; Kafka answers them for a moment after a
        // topic is created) is sent again, alone, after a short backoff, until the request
        // timeout; the partitions that were appended are not.
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(30_000);
        let mut data = data;
        while !data.is_empty() {
            let (resp, _) = conn.send(&request(data.clone()))?;
            let mut retry = Vec::new();
            for t in resp.responses {
                for pr in t.partition_responses {
                    let retriable = pr.error_code
                        == kafka_protocol::ResponseError::LeaderNotAvailable.code()
                        || pr.error_code
                            == kafka_protocol::ResponseError::NotLeaderOrFollower.code();
                    if retriable && std::time::Instant::now() < deadline {
                        retry.push(pr.index);
                        continue;
                    }
                    CliError::check(
                        pr.error_code,
                        pr.error_message.as_ref(),
                        &format!("producing to {}-{}", args.topic, pr.index),
                    )?;
                    let n = counts.get(&pr.index).copied().unwrap_or(0);
                    let e = results.entry(pr.index).or_insert((pr.base_offset, 0));
                    e.1 += n;
                }
            }
            data.retain(|d| retry.contains(&d.index));
            if !data.is_empty() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values from Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafka() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
        ];
        for (input, want) in cases {
            assert_eq!(murmur2(input), want, "{}", String::from_utf8_lossy(input));
        }
    }
}
