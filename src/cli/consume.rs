//! `klamm consume TOPIC` (the job of `kafka-console-consumer.sh` / `kcat -C`): from the
//! beginning, the end, an offset, or a group's committed offsets, printing each record with a
//! kcat-style `--format` or as JSON lines, until `--count` records, the end of the log
//! (`--exit-at-end`), `--timeout-ms` without records, or Ctrl-C.
//!
//! With `--group` the consumer reads all partitions from the group's committed offsets and
//! commits its position when it stops (a simple consumer using the group's offsets, as
//! `kafka-console-consumer --group` without joining; the group must have no active members).
//! Stored batches are decoded with the broker's own record walker and codecs.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchRequest, FetchTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{OffsetFetchRequest, OffsetFetchRequestTopic};
use kafka_protocol::messages::{BrokerId, GroupId};
use serde_json::json;

use super::output::{progress, CliError};
use super::{list_offsets, partitions_of, sb, topic_name, Common, EARLIEST, LATEST};
use crate::log::batch::{Batches, InvalidBatch};
use crate::log::records::{self, read_varlong, RecordIter};

#[derive(clap::Args, Debug)]
pub struct ConsumeArgs {
    #[command(flatten)]
    common: Common,
    topic: String,
    /// Start at the log start offset (default: the end, only new records).
    #[arg(long)]
    from_beginning: bool,
    /// Start at this offset (with --partition, or in every partition).
    #[arg(long)]
    offset: Option<i64>,
    /// Read only this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// Start from this group's committed offsets and commit the position on exit.
    #[arg(long)]
    group: Option<String>,
    /// Output format: %t topic, %p partition, %o offset, %k key, %v value, %T timestamp (ms),
    /// %h headers (k=v,...), %K/%S key/value size, \n \t \\ escapes; a newline follows.
    #[arg(long, default_value = "%v")]
    format: String,
    /// Stop after this many records.
    #[arg(long)]
    count: Option<u64>,
    /// Stop when every partition's end offset (as of the start) is reached.
    #[arg(long)]
    exit_at_end: bool,
    /// Stop after this long without a new record.
    #[arg(long)]
    timeout_ms: Option<u64>,
}

/// A record's headers: name and (nullable) value.
type Headers<'a> = Vec<(String, Option<&'a [u8]>)>;

/// A decoded record.
struct Rec<'a> {
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    headers: Headers<'a>,
}

pub fn run(args: ConsumeArgs) -> Result<(), CliError> {
    let c = &args.common;
    let topic = args.topic.clone();
    let mut client = c.connect()?;
    let md = client.metadata(Some(std::slice::from_ref(&topic)))?;
    let mut leaders = partitions_of(&md, &topic)?;
    if let Some(p) = args.partition {
        if !leaders.contains_key(&p) {
            return Err(CliError::Kafka {
                code: 3,
                context: format!("partition {topic}-{p}"),
                message: None,
            });
        }
        leaders.retain(|k, _| *k == p);
    }
    let earliest = list_offsets(&mut client, &topic, &leaders, EARLIEST)?;
    let latest = list_offsets(&mut client, &topic, &leaders, LATEST)?;
    let off = |m: &BTreeMap<i32, Result<Option<i64>, CliError>>, p: i32| -> Result<i64, CliError> {
        match m.get(&p) {
            Some(Ok(o)) => Ok(o.unwrap_or(0)),
            Some(Err(e)) => Err(CliError::Protocol(e.to_string())),
            None => Ok(0),
        }
    };
    let committed = match &args.group {
        Some(g) => fetch_committed(&mut client, g, &topic, &leaders)?,
        None => BTreeMap::new(),
    };
    // position and end (as of the start) per partition
    let mut pos: BTreeMap<i32, i64> = BTreeMap::new();
    let mut end: BTreeMap<i32, i64> = BTreeMap::new();
    for p in leaders.keys() {
        let (lo, hi) = (off(&earliest, *p)?, off(&latest, *p)?);
        let start = if let Some(o) = args.offset {
            o
        } else if let Some(o) = committed.get(p).copied().filter(|o| *o >= 0) {
            o
        } else if args.from_beginning {
            lo
        } else {
            hi
        };
        pos.insert(*p, start);
        end.insert(*p, hi);
    }
    let mut consumed = 0u64;
    let mut last_record = Instant::now();
    let mut last_progress = Instant::now();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let done = |consumed: u64, pos: &BTreeMap<i32, i64>| -> bool {
        args.count.is_some_and(|n| consumed >= n)
            || (args.exit_at_end && pos.iter().all(|(p, o)| *o >= end[p]))
    };
    while !done(consumed, &pos) {
        if args
            .timeout_ms
            .is_some_and(|t| last_record.elapsed() >= Duration::from_millis(t))
        {
            break;
        }
        let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
        for (p, l) in &leaders {
            by_leader.entry(*l).or_default().push(*p);
        }
        for (leader, parts) in by_leader {
            let wait = args.timeout_ms.map(|t| t.min(500)).unwrap_or(500) as i32;
            let req = FetchRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_max_wait_ms(if args.exit_at_end { 0 } else { wait })
                .with_min_bytes(1)
                .with_max_bytes(50 * 1024 * 1024)
                .with_isolation_level(1)
                .with_session_id(0)
                .with_session_epoch(-1)
                .with_topics(vec![FetchTopic::default()
                    .with_topic(topic_name(&topic))
                    .with_partitions(
                        parts
                            .iter()
                            .map(|p| {
                                FetchPartition::default()
                                    .with_partition(*p)
                                    .with_fetch_offset(pos[p])
                                    .with_log_start_offset(-1)
                                    .with_current_leader_epoch(-1)
                                    .with_last_fetched_epoch(-1)
                                    .with_partition_max_bytes(1024 * 1024)
                            })
                            .collect(),
                    )]);
            let (resp, _) = client.broker(leader)?.send(&req)?;
            CliError::check(resp.error_code, None, "fetching")?;
            for t in resp.responses {
                for pd in t.partitions {
                    let p = pd.partition_index;
                    let Some(&fetched_from) = pos.get(&p) else {
                        // Not a partition this fetch asked for: nothing to read.
                        continue;
                    };
                    CliError::check(pd.error_code, None, &format!("fetching {topic}-{p}"))?;
                    let data: Bytes = pd.records.unwrap_or_default();
                    let mut cur = fetched_from;
                    walk_fetched(&topic, p, &data, &mut |item| {
                        match item {
                            Fetched::Record(rec) => {
                                if rec.offset < cur {
                                    return Ok(true);
                                }
                                if args.count.is_some_and(|n| consumed >= n) {
                                    return Ok(false);
                                }
                                print_record(&mut out, &topic, &rec, &args.format, c.json)?;
                                consumed += 1;
                                cur = rec.offset.saturating_add(1);
                                last_record = Instant::now();
                            }
                            Fetched::BatchEnd(batch_end) => {
                                if args.count.is_none_or(|n| consumed < n) {
                                    cur = cur.max(batch_end);
                                }
                            }
                        }
                        Ok(true)
                    })?;
                    pos.insert(p, cur);
                }
            }
        }
        if args.count.is_some() && last_progress.elapsed() >= Duration::from_secs(1) {
            progress(format!(
                "consumed {consumed}/{} records",
                args.count.unwrap_or(0)
            ));
            last_progress = Instant::now();
        }
    }
    out.flush()?;
    if let Some(g) = &args.group {
        commit(&mut client, g, &topic, &pos)?;
    }
    eprintln!("Processed a total of {consumed} messages");
    Ok(())
}

/// Headers after the count: `keyLength varint, key, valueLength varint, value` each.
/// What [`walk_fetched`] hands out, in offset order.
enum Fetched<'a> {
    Record(Rec<'a>),
    /// The offset after a batch (records of its own or not, such as a transaction marker).
    BatchEnd(i64),
}

/// Walks one partition's fetched record batches as a Kafka consumer does: each batch's CRC is
/// checked (`check.crcs`, default true), then its records go to `f` (until it returns false
/// for that batch), then its end offset. A partial batch at the end is normal (the broker cuts
/// the response at `max_bytes`); a corrupt header or record is an error, since fetching again
/// would return it again (Kafka's `CorruptRecordException`). Nothing is sized from a count or
/// length the broker sent: [`Batches`] checks every header against the bytes received.
fn walk_fetched(
    topic: &str,
    p: i32,
    data: &[u8],
    f: &mut dyn FnMut(Fetched<'_>) -> Result<bool, CliError>,
) -> Result<(), CliError> {
    let corrupt = |offset: i64, why: String| {
        CliError::Protocol(format!("{topic}-{p} batch at offset {offset}: {why}"))
    };
    let mut batches = Batches::new(data);
    let mut last = None;
    for (_, h) in batches.by_ref() {
        let batch_end = h.last_offset() + 1;
        if !h.is_control() {
            let hb = h.bytes();
            if !crate::log::batch::crc_is_valid(hb) {
                return Err(corrupt(h.base_offset(), "CRC mismatch".into()));
            }
            let section = records::records_section(hb)
                .map_err(|e| corrupt(h.base_offset(), e.to_string()))?;
            for r in RecordIter::new(&section, h.record_count()) {
                let r = r.map_err(|e| corrupt(h.base_offset(), e.to_string()))?;
                let timestamp = if h.is_log_append_time() {
                    h.max_timestamp()
                } else {
                    h.base_timestamp().saturating_add(r.timestamp_delta)
                };
                let rec = Rec {
                    partition: p,
                    offset: h.base_offset().saturating_add(r.offset_delta as i64),
                    timestamp,
                    key: r.key,
                    value: r.value,
                    headers: parse_headers(r.header_count, r.headers)?,
                };
                if !f(Fetched::Record(rec))? {
                    break;
                }
            }
        }
        f(Fetched::BatchEnd(batch_end))?;
        last = Some(h.last_offset());
    }
    match (batches.stop(), last) {
        (Some(why @ InvalidBatch::Corrupt(_)), Some(after)) => Err(CliError::Protocol(format!(
            "{topic}-{p} batch after offset {after}: {why}"
        ))),
        (Some(why @ InvalidBatch::Corrupt(_)), None) => Err(CliError::Protocol(format!(
            "{topic}-{p} first fetched batch: {why}"
        ))),
        _ => Ok(()),
    }
}

fn parse_headers(count: i32, raw: &[u8]) -> Result<Headers<'_>, CliError> {
    let bad = |e: records::RecordsError| CliError::Protocol(format!("bad record headers: {e}"));
    let mut out = Vec::new();
    let mut pos = 0usize;
    let take = |pos: &mut usize, len: i64| -> Result<Option<&[u8]>, CliError> {
        if len < 0 {
            return Ok(None);
        }
        let end = pos
            .checked_add(len as usize)
            .filter(|e| *e <= raw.len())
            .ok_or_else(|| CliError::Protocol("header past end of record".into()))?;
        let s = &raw[*pos..end];
        *pos = end;
        Ok(Some(s))
    };
    for _ in 0..count.max(0) {
        let klen = read_varlong(raw, &mut pos).map_err(bad)?;
        let key = take(&mut pos, klen)?.unwrap_or_default();
        let vlen = read_varlong(raw, &mut pos).map_err(bad)?;
        let value = take(&mut pos, vlen)?;
        out.push((String::from_utf8_lossy(key).into_owned(), value));
    }
    Ok(out)
}

fn text(b: Option<&[u8]>) -> String {
    b.map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

fn print_record(
    out: &mut impl Write,
    topic: &str,
    r: &Rec<'_>,
    format: &str,
    json: bool,
) -> Result<(), CliError> {
    if json {
        let v = json!({
            "topic": topic,
            "partition": r.partition,
            "offset": r.offset,
            "timestamp": r.timestamp,
            "key": r.key.map(|k| String::from_utf8_lossy(k).into_owned()),
            "value": r.value.map(|v| String::from_utf8_lossy(v).into_owned()),
            "headers": r.headers.iter().map(|(k, v)| json!([k, v.map(|v| String::from_utf8_lossy(v).into_owned())])).collect::<Vec<_>>(),
        });
        serde_json::to_writer(&mut *out, &v).map_err(|e| CliError::Protocol(e.to_string()))?;
        writeln!(out)?;
        return Ok(());
    }
    let mut s = String::new();
    let mut chars = format.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '%' => match chars.next() {
                Some('t') => s.push_str(topic),
                Some('p') => s.push_str(&r.partition.to_string()),
                Some('o') => s.push_str(&r.offset.to_string()),
                Some('k') => s.push_str(&text(r.key)),
                Some('v') => s.push_str(&text(r.value)),
                Some('T') => s.push_str(&r.timestamp.to_string()),
                Some('K') => s.push_str(&r.key.map(|k| k.len() as i64).unwrap_or(-1).to_string()),
                Some('S') => s.push_str(&r.value.map(|v| v.len() as i64).unwrap_or(-1).to_string()),
                Some('h') => s.push_str(
                    &r.headers
                        .iter()
                        .map(|(k, v)| format!("{k}={}", text(*v)))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Some('%') => s.push('%'),
                Some(other) => {
                    s.push('%');
                    s.push(other);
                }
                None => s.push('%'),
            },
            '\\' => match chars.next() {
                Some('n') => s.push('\n'),
                Some('t') => s.push('\t'),
                Some('\\') => s.push('\\'),
                Some(other) => {
                    s.push('\\');
                    s.push(other);
                }
                None => s.push('\\'),
            },
            c => s.push(c),
        }
    }
    writeln!(out, "{s}")?;
    Ok(())
}

fn fetch_committed(
    client: &mut super::client::Client,
    group: &str,
    topic: &str,
    leaders: &BTreeMap<i32, i32>,
) -> Result<BTreeMap<i32, i64>, CliError> {
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_topics(Some(vec![OffsetFetchRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partition_indexes(leaders.keys().copied().collect())]));
    let (resp, _) = client.coordinator(group)?.send(&req)?;
    CliError::check(
        resp.error_code,
        None,
        &format!("fetching offsets of group {group}"),
    )?;
    let mut out = BTreeMap::new();
    for t in resp.topics {
        for p in t.partitions {
            CliError::check(
                p.error_code,
                None,
                &format!("fetching offsets of group {group}"),
            )?;
            out.insert(p.partition_index, p.committed_offset);
        }
    }
    Ok(out)
}

fn commit(
    client: &mut super::client::Client,
    group: &str,
    topic: &str,
    pos: &BTreeMap<i32, i64>,
) -> Result<(), CliError> {
    let req = OffsetCommitRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(sb(""))
        .with_topics(vec![OffsetCommitRequestTopic::default()
            .with_name(topic_name(topic))
            .with_partitions(
                pos.iter()
                    .map(|(p, o)| {
                        OffsetCommitRequestPartition::default()
                            .with_partition_index(*p)
                            .with_committed_offset(*o)
                            .with_committed_leader_epoch(-1)
                            .with_committed_metadata(Some(sb("")))
                    })
                    .collect(),
            )]);
    let (resp, _) = client.coordinator(group)?.send(&req)?;
    for t in resp.topics {
        for p in t.partitions {
            CliError::check(
                p.error_code,
                None,
                &format!(
                    "committing the position of group {group} on {topic}-{}",
                    p.partition_index
                ),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::batch::test_support::batch;
    use crate::log::batch::{
        self, BatchHeader, Compression, BASE_TIMESTAMP, CRC, LENGTH, RECORD_COUNT,
    };
    use crate::log::batch_rewrite::{self, BatchSpec};
    use crate::log::compression::Levels;

    type Seen = Vec<(i64, Vec<u8>)>;

    /// `(offset, value)` of every record walked, and how the walk ended.
    fn walk(data: &[u8]) -> (Seen, Result<(), CliError>) {
        let mut seen = Vec::new();
        let r = walk_fetched("t", 0, data, &mut |item| {
            if let Fetched::Record(rec) = item {
                seen.push((rec.offset, rec.value.unwrap_or_default().to_vec()));
            }
            Ok(true)
        });
        (seen, r)
    }

    fn at(offset: i64, mut b: Vec<u8>) -> Vec<u8> {
        b[..8].copy_from_slice(&offset.to_be_bytes());
        b
    }

    fn recrc(mut b: Vec<u8>) -> Vec<u8> {
        let crc = batch::compute_crc(&b);
        b[CRC..CRC + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }

    fn two_batches() -> Vec<u8> {
        let mut d = at(0, batch(&[b"a", b"b"], 1, -1, -1, -1));
        d.extend_from_slice(&at(2, batch(&[b"c"], 2, -1, -1, -1)));
        d
    }

    #[test]
    fn walks_records_and_ignores_a_partial_last_batch() {
        let mut d = two_batches();
        let third = at(3, batch(&[b"d"], 3, -1, -1, -1));
        d.extend_from_slice(&third[..third.len() - 1]);
        let (seen, r) = walk(&d);
        assert!(r.is_ok());
        let want: Seen = vec![(0, b"a".to_vec()), (1, b"b".to_vec()), (2, b"c".to_vec())];
        assert_eq!(seen, want);
    }

    #[test]
    fn a_short_or_inconsistent_header_is_an_error_after_the_good_batches() {
        let mut claims_i32_max = at(3, batch(&[b"x"], 3, -1, -1, -1));
        claims_i32_max[RECORD_COUNT..RECORD_COUNT + 4].copy_from_slice(&i32::MAX.to_be_bytes());
        let mut bads = vec![recrc(claims_i32_max), vec![0xab; 80]];
        for len in 14..49i32 {
            let mut short = at(3, batch(&[b"x"], 3, -1, -1, -1));
            short[LENGTH..LENGTH + 4].copy_from_slice(&len.to_be_bytes());
            bads.push(short);
        }
        for bad in bads {
            let mut d = two_batches();
            d.extend_from_slice(&bad);
            let (seen, r) = walk(&d);
            assert_eq!(seen.len(), 3);
            let err = r.unwrap_err().to_string();
            assert!(err.contains("after offset 2"), "{err}");
        }
    }

    #[test]
    fn corrupt_batches_and_records_are_errors_not_panics() {
        // A CRC mismatch.
        let mut d = two_batches();
        let last = d.len() - 1;
        d[last] ^= 1;
        let (seen, r) = walk(&d);
        assert_eq!(seen.len(), 2);
        assert!(r.unwrap_err().to_string().contains("CRC mismatch"));
        // A compressed batch claiming 2^31-1 records that holds one.
        let one = batch(&[b"p"], 2000, -1, -1, -1);
        let spec = BatchSpec {
            last_offset_delta: i32::MAX - 1,
            record_count: i32::MAX,
            ..BatchSpec::of(&BatchHeader::new(&one).unwrap())
        };
        let poison =
            batch_rewrite::build(&spec, Compression::Gzip, Levels::default(), &one[61..]).unwrap();
        let (seen, r) = walk(&poison);
        assert_eq!(seen, vec![(0, b"p".to_vec())]);
        assert!(r.unwrap_err().to_string().contains("truncated varint"));
        // Timestamps that overflow saturate.
        let mut late = batch(&[b"a", b"b"], 0, -1, -1, -1);
        late[BASE_TIMESTAMP..BASE_TIMESTAMP + 8].copy_from_slice(&i64::MAX.to_be_bytes());
        let mut stamps = Vec::new();
        walk_fetched("t", 0, &recrc(late), &mut |item| {
            if let Fetched::Record(rec) = item {
                stamps.push(rec.timestamp);
            }
            Ok(true)
        })
        .unwrap();
        assert_eq!(stamps, vec![i64::MAX, i64::MAX]);
    }
}
