//! `klamm group list|describe|delete|reset-offsets|delete-offsets` (the jobs of
//! `kafka-consumer-groups.sh`, and of `kafka-share-groups.sh` for share groups, see
//! [`super::share_group`]).
//!
//! `reset-offsets` is a dry run unless `--execute` is given, and refuses groups with active
//! members, as Kafka's tool does (`ConsumerGroupCommand.resetOffsets`): offsets are committed
//! with generation -1 and an empty member id, which a coordinator accepts only for an empty
//! group.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::delete_groups_request::DeleteGroupsRequest;
use kafka_protocol::messages::describe_groups_request::DescribeGroupsRequest;
use kafka_protocol::messages::list_groups_request::ListGroupsRequest;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequest, OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequest;
use kafka_protocol::messages::{ConsumerProtocolAssignment, DescribeGroupsResponse, GroupId};
use kafka_protocol::protocol::Decodable;
use serde_json::{json, Value};

use super::client::Client;
use super::output::{print_json, progress, CliError, Table};
use super::share_group;
use super::{list_offsets, partitions_of, sb, topic_name, Common, EARLIEST, LATEST};
use crate::error_names;

#[derive(clap::Args, Debug)]
pub struct GroupArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: GroupCmd,
}

#[derive(clap::Subcommand, Debug)]
enum GroupCmd {
    /// List the groups on every broker (consumer, classic and share groups), with their type.
    List,
    /// Members, assignments, offsets, log end offsets and lag of groups.
    ///
    /// For a consumer group: committed offsets, LAG = log end offset - committed offset. For a
    /// share group (KIP-932): each share partition's start offset (SPSO, the first record not
    /// yet acknowledged or archived) and LAG = log end offset - SPSO. That is an approximation
    /// of KIP-1226's share-partition lag (an upper bound): records after the SPSO that were
    /// already acknowledged or archived, and aborted transactional records, are counted too.
    Describe {
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Delete groups, consumer or share (they must have no active members).
    Delete {
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Compute (and with --execute, apply) new offsets for a group: committed offsets of a
    /// consumer group, share-partition start offsets of a share group (Kafka refuses the
    /// latter while the share group has members: NON_EMPTY_GROUP).
    ResetOffsets(ResetArgs),
    /// Delete a share group's offsets (share-partition state) for whole topics; its members
    /// start those topics afresh, by share.auto.offset.reset. The group must be empty.
    DeleteOffsets {
        group: String,
        /// A topic (repeatable).
        #[arg(long = "topic", required = true)]
        topics: Vec<String>,
    },
}

#[derive(clap::Args, Debug)]
pub(super) struct ResetArgs {
    pub(super) group: String,
    /// TOPIC or TOPIC:P1,P2 (repeatable).
    #[arg(long = "topic", required_unless_present = "all_topics")]
    pub(super) topics: Vec<String>,
    /// Every topic the group has committed offsets (share group: share-partition state) for.
    #[arg(long, conflicts_with = "topics")]
    pub(super) all_topics: bool,
    #[arg(long, group = "target")]
    pub(super) to_earliest: bool,
    #[arg(long, group = "target")]
    pub(super) to_latest: bool,
    /// An offset (clamped to the partition's log start and end, as Kafka does).
    #[arg(long, group = "target")]
    pub(super) to_offset: Option<i64>,
    /// Milliseconds since the epoch: the first offset with a timestamp at or after it.
    #[arg(long, group = "target")]
    pub(super) to_timestamp: Option<i64>,
    /// UTC date-time `YYYY-MM-DDTHH:MM:SS[.mmm][Z]`, as --to-timestamp.
    #[arg(long, group = "target")]
    pub(super) to_datetime: Option<String>,
    /// Apply the new offsets (without it: a dry run that only prints them).
    #[arg(long)]
    pub(super) execute: bool,
}

pub fn run(args: GroupArgs) -> Result<(), CliError> {
    let c = &args.common;
    match args.cmd {
        GroupCmd::List => list(c),
        GroupCmd::Describe { groups } => describe(c, &groups),
        GroupCmd::Delete { groups } => delete(c, &groups),
        GroupCmd::ResetOffsets(r) => reset_offsets(c, &r),
        GroupCmd::DeleteOffsets { group, topics } => {
            share_group::delete_offsets(c, &group, &topics)
        }
    }
}

/// `{"code", "name", "message"}` of a Kafka error code.
pub fn error_json(code: i16) -> Value {
    json!({
        "code": code,
        "name": error_names::name(code),
        "message": error_names::description(code),
    })
}

fn list(c: &Common) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let md = client.metadata(Some(&[]))?;
    let mut groups = Vec::new();
    for b in &md.brokers {
        let conn = client.broker(b.node_id.0)?;
        let (resp, _) = conn.send(&ListGroupsRequest::default())?;
        CliError::check(
            resp.error_code,
            None,
            &format!("listing groups on broker {}", b.node_id.0),
        )?;
        // GroupType ("classic", "consumer", "share") is in ListGroups v5+ (KIP-848); an
        // older broker lists no type.
        for g in resp.groups {
            groups.push((
                g.group_id.to_string(),
                g.group_state.to_string(),
                g.protocol_type.to_string(),
                (!g.group_type.is_empty()).then(|| g.group_type.to_string()),
            ));
        }
    }
    groups.sort();
    if c.json {
        let v: Vec<Value> = groups
            .iter()
            .map(|(g, s, p, ty)| json!({"group": g, "state": s, "protocol_type": p, "type": ty}))
            .collect();
        print_json(&Value::Array(v));
    } else {
        let mut t = Table::new(&["GROUP", "TYPE", "STATE", "PROTOCOL-TYPE"]);
        let dash = |s: String| if s.is_empty() { "-".to_string() } else { s };
        for (g, s, p, ty) in groups {
            t.row(vec![g, ty.unwrap_or_else(|| "-".into()), dash(s), dash(p)]);
        }
        t.print();
    }
    Ok(())
}

fn describe_group(client: &mut Client, group: &str) -> Result<DescribeGroupsResponse, CliError> {
    let req = DescribeGroupsRequest::default().with_groups(vec![GroupId(sb(group))]);
    let (resp, _) = client.coordinator(group)?.send(&req)?;
    for g in &resp.groups {
        CliError::check(
            g.error_code,
            g.error_message.as_ref(),
            &format!("describing group {group}"),
        )?;
    }
    Ok(resp)
}

/// Committed offsets of `group`: (topic, partition) -> offset (-1 = none).
fn committed_offsets(
    client: &mut Client,
    group: &str,
) -> Result<BTreeMap<(String, i32), i64>, CliError> {
    let req = OffsetFetchRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_topics(None);
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
                &format!(
                    "fetching offsets of group {group} for {}-{}",
                    t.name.as_str(),
                    p.partition_index
                ),
            )?;
            out.insert((t.name.to_string(), p.partition_index), p.committed_offset);
        }
    }
    Ok(out)
}

/// Decodes a consumer-protocol assignment (`ConsumerProtocol.deserializeAssignment`).
fn decode_assignment(bytes: &Bytes) -> Vec<(String, Vec<i32>)> {
    if bytes.len() < 2 {
        return Vec::new();
    }
    let mut b = bytes.clone();
    let version = b.get_i16().clamp(0, 3);
    match ConsumerProtocolAssignment::decode(&mut b, version) {
        Ok(a) => a
            .assigned_partitions
            .into_iter()
            .map(|tp| (tp.topic.to_string(), tp.partitions))
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn describe(c: &Common, groups: &[String]) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let mut docs = Vec::new();
    let mut table = Table::new(&[
        "GROUP",
        "TOPIC",
        "PARTITION",
        "CURRENT-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "CONSUMER-ID",
        "HOST",
        "CLIENT-ID",
    ]);
    let mut states = Vec::new();
    let mut share_blocks = Vec::new();
    for group in groups {
        // A share group answers ShareGroupDescribe; DescribeGroups calls it Dead.
        if let Some(sg) = share_group::describe_if_share(&mut client, group)? {
            let (doc, text) = share_group::describe_one(&mut client, group, &sg)?;
            docs.push(doc);
            share_blocks.push(text);
            continue;
        }
        let resp = describe_group(&mut client, group)?;
        let Some(g) = resp.groups.into_iter().next() else {
            return Err(CliError::Protocol(
                "DescribeGroups returned no group".into(),
            ));
        };
        let consumer = g.protocol_type.as_str() == "consumer" || g.protocol_type.is_empty();
        // (topic, partition) -> (member, client, host)
        let mut owner: BTreeMap<(String, i32), (String, String, String)> = BTreeMap::new();
        let mut members = Vec::new();
        for m in &g.members {
            let assignment = if consumer {
                decode_assignment(&m.member_assignment)
            } else {
                Vec::new()
            };
            for (t, ps) in &assignment {
                for p in ps {
                    owner.insert(
                        (t.clone(), *p),
                        (
                            m.member_id.to_string(),
                            m.client_id.to_string(),
                            m.client_host.to_string(),
                        ),
                    );
                }
            }
            members.push(json!({
                "member_id": m.member_id.as_str(),
                "group_instance_id": m.group_instance_id.as_ref().map(|s| s.as_str()),
                "client_id": m.client_id.as_str(),
                "host": m.client_host.as_str(),
                "assignment": assignment.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>(),
            }));
        }
        let committed = committed_offsets(&mut client, group)?;
        // Every partition that has a committed offset or an owner.
        let mut keys: Vec<(String, i32)> = committed.keys().cloned().collect();
        keys.extend(owner.keys().cloned());
        keys.sort();
        keys.dedup();
        let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
        for (t, p) in &keys {
            topics.entry(t.clone()).or_default().push(*p);
        }
        let mut end_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
        for t in topics.keys() {
            let md = client.metadata(Some(std::slice::from_ref(t)))?;
            let Ok(leaders) = partitions_of(&md, t) else {
                continue;
            };
            for (p, r) in list_offsets(&mut client, t, &leaders, LATEST)? {
                if let Ok(Some(o)) = r {
                    end_offsets.insert((t.clone(), p), o);
                }
            }
        }
        let mut offsets = Vec::new();
        for key in &keys {
            let current = committed.get(key).copied().filter(|o| *o >= 0);
            let end = end_offsets.get(key).copied();
            let lag = match (current, end) {
                (Some(c), Some(e)) => Some((e - c).max(0)),
                _ => None,
            };
            let (member, client_id, host) = owner.get(key).cloned().unwrap_or_default();
            let show = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
            let dash = |s: &str| {
                if s.is_empty() {
                    "-".to_string()
                } else {
                    s.to_string()
                }
            };
            table.row(vec![
                group.clone(),
                key.0.clone(),
                key.1.to_string(),
                show(current),
                show(end),
                show(lag),
                dash(&member),
                dash(&host),
                dash(&client_id),
            ]);
            offsets.push(json!({
                "topic": key.0,
                "partition": key.1,
                "committed_offset": current,
                "log_end_offset": end,
                "lag": lag,
                "member_id": (!member.is_empty()).then_some(member),
            }));
        }
        states.push(format!(
            "Group {group}: state {}, protocol type {}, protocol {}, {} member(s)",
            g.group_state.as_str(),
            if g.protocol_type.is_empty() {
                "-"
            } else {
                g.protocol_type.as_str()
            },
            if g.protocol_data.is_empty() {
                "-"
            } else {
                g.protocol_data.as_str()
            },
            g.members.len()
        ));
        docs.push(json!({
            "group": group,
            "type": "consumer",
            "state": g.group_state.as_str(),
            "protocol_type": g.protocol_type.as_str(),
            "protocol": g.protocol_data.as_str(),
            "members": members,
            "offsets": offsets,
        }));
    }
    if c.json {
        print_json(&Value::Array(docs));
    } else {
        let mut separate = !states.is_empty();
        if separate {
            for s in states {
                println!("{s}");
            }
            println!();
            table.print();
        }
        for b in &share_blocks {
            if separate {
                println!();
            }
            print!("{b}");
            separate = true;
        }
    }
    Ok(())
}

fn delete(c: &Common, groups: &[String]) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let mut failed = 0;
    let mut out = Vec::new();
    for group in groups {
        let req = DeleteGroupsRequest::default().with_groups_names(vec![GroupId(sb(group))]);
        let (resp, _) = client.coordinator(group)?.send(&req)?;
        for r in resp.results {
            match CliError::check(
                r.error_code,
                None,
                &format!("deleting group {}", r.group_id.as_str()),
            ) {
                Ok(()) => {
                    if !c.json {
                        println!("Deleted group {}.", r.group_id.as_str());
                    }
                    out.push(json!({"group": r.group_id.as_str(), "deleted": true}));
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("error: {e}");
                    out.push(json!({"group": r.group_id.as_str(), "deleted": false, "error": error_json(r.error_code)}));
                }
            }
        }
    }
    if c.json {
        print_json(&Value::Array(out));
    }
    if failed > 0 {
        return Err(CliError::Partial(failed, groups.len()));
    }
    Ok(())
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.mmm][Z]` (UTC) into epoch milliseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, b),
        None => (time, "0"),
    };
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next().unwrap_or(Some(0))?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let millis: i64 = format!("{:0<3}", &frac[..frac.len().min(3)]).parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146097 + doe - 719468;
    Some(((days * 24 + hh) * 60 + mm) * 60_000 + ss * 1000 + millis)
}

fn reset_offsets(c: &Common, r: &ResetArgs) -> Result<(), CliError> {
    let target_count = [r.to_earliest, r.to_latest].iter().filter(|x| **x).count()
        + [
            r.to_offset.is_some(),
            r.to_timestamp.is_some(),
            r.to_datetime.is_some(),
        ]
        .iter()
        .filter(|x| **x)
        .count();
    if target_count != 1 {
        return Err(CliError::Usage(
            "give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp, --to-datetime".into(),
        ));
    }
    let timestamp = match &r.to_datetime {
        Some(s) => Some(parse_datetime(s).ok_or_else(|| {
            CliError::Usage(format!(
                "cannot parse --to-datetime {s:?} (expected YYYY-MM-DDTHH:MM:SS[.mmm][Z])"
            ))
        })?),
        None => r.to_timestamp,
    };
    let mut client = c.connect()?;
    let group = &r.group;
    if let Some(sg) = share_group::describe_if_share(&mut client, group)? {
        return share_group::reset(c, &mut client, r, timestamp, &sg);
    }
    let desc = describe_group(&mut client, group)?;
    if let Some(g) = desc.groups.first() {
        let state = g.group_state.as_str();
        if !matches!(state, "Empty" | "Dead") {
            return Err(CliError::Usage(format!(
                "Assignments can only be reset if the group '{group}' is inactive, but the current state is {state}."
            )));
        }
    }
    let mut wanted = wanted_partitions(r)?;
    if r.all_topics {
        for (t, _) in committed_offsets(&mut client, group)?.keys() {
            wanted.insert(t.clone(), None);
        }
    }
    let plan = compute_plan(&mut client, &wanted, r, timestamp)?;
    if r.execute {
        let mut by_topic: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        for (t, p, o) in &plan {
            by_topic.entry(t).or_default().push((*p, *o));
        }
        let req = OffsetCommitRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(sb(""))
            .with_topics(
                by_topic
                    .iter()
                    .map(|(t, ps)| {
                        OffsetCommitRequestTopic::default()
                            .with_name(topic_name(t))
                            .with_partitions(
                                ps.iter()
                                    .map(|(p, o)| {
                                        OffsetCommitRequestPartition::default()
                                            .with_partition_index(*p)
                                            .with_committed_offset(*o)
                                            .with_committed_leader_epoch(-1)
                                            .with_committed_metadata(Some(sb("")))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        progress(format!(
            "committing {} offset(s) for group {group}",
            plan.len()
        ));
        let (resp, _) = client.coordinator(group)?.send(&req)?;
        for t in &resp.topics {
            for p in &t.partitions {
                CliError::check(
                    p.error_code,
                    None,
                    &format!(
                        "committing offset of group {group} for {}-{}",
                        t.name.as_str(),
                        p.partition_index
                    ),
                )?;
            }
        }
    }
    print_plan(c, group, &plan, r.execute);
    Ok(())
}

/// The `--topic` specs of a reset: topic -> the partitions named (`None`: all of them).
pub(super) fn wanted_partitions(
    r: &ResetArgs,
) -> Result<BTreeMap<String, Option<Vec<i32>>>, CliError> {
    let mut wanted: BTreeMap<String, Option<Vec<i32>>> = BTreeMap::new();
    for spec in &r.topics {
        match spec.split_once(':') {
            Some((t, ps)) => {
                let parts = ps
                    .split(',')
                    .map(|p| p.trim().parse::<i32>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        CliError::Usage(format!("bad partition list in --topic {spec:?}"))
                    })?;
                wanted.insert(t.to_string(), Some(parts));
            }
            None => {
                wanted.insert(spec.clone(), None);
            }
        }
    }
    Ok(wanted)
}

/// The new offset of every wanted partition: (topic, partition, offset), from the partitions'
/// log start and end offsets (and the offset at `timestamp`), as Kafka's tools compute them.
pub(super) fn compute_plan(
    client: &mut Client,
    wanted: &BTreeMap<String, Option<Vec<i32>>>,
    r: &ResetArgs,
    timestamp: Option<i64>,
) -> Result<Vec<(String, i32, i64)>, CliError> {
    let mut plan: Vec<(String, i32, i64)> = Vec::new();
    for (topic, parts) in wanted {
        let md = client.metadata(Some(std::slice::from_ref(topic)))?;
        let mut leaders = partitions_of(&md, topic)?;
        if let Some(ps) = parts {
            for p in ps {
                if !leaders.contains_key(p) {
                    return Err(CliError::Kafka {
                        code: 3,
                        context: format!("partition {topic}-{p}"),
                        message: None,
                    });
                }
            }
            leaders.retain(|p, _| ps.contains(p));
        }
        progress(format!(
            "{topic}: computing offsets for {} partition(s)",
            leaders.len()
        ));
        let earliest = list_offsets(client, topic, &leaders, EARLIEST)?;
        let latest = list_offsets(client, topic, &leaders, LATEST)?;
        let at_time = match timestamp {
            Some(ts) => Some(list_offsets(client, topic, &leaders, ts)?),
            None => None,
        };
        for p in leaders.keys() {
            let get = |m: &BTreeMap<i32, Result<Option<i64>, CliError>>| -> Result<Option<i64>, CliError> {
                match m.get(p) {
                    Some(Ok(v)) => Ok(*v),
                    Some(Err(e)) => Err(CliError::Protocol(e.to_string())),
                    None => Ok(None),
                }
            };
            let lo = get(&earliest)?.unwrap_or(0);
            let hi = get(&latest)?.unwrap_or(lo);
            let new = if r.to_earliest {
                lo
            } else if r.to_latest {
                hi
            } else if let Some(o) = r.to_offset {
                o.clamp(lo, hi)
            } else if let Some(m) = &at_time {
                // No record at or after the time: the log end (Kafka's tool does the same).
                get(m)?.unwrap_or(hi)
            } else {
                hi
            };
            plan.push((topic.clone(), *p, new));
        }
    }
    Ok(plan)
}

/// Prints a reset plan (JSON `{"executed", "offsets"}` or a table; a dry run says so).
pub(super) fn print_plan(c: &Common, group: &str, plan: &[(String, i32, i64)], executed: bool) {
    if c.json {
        let v: Vec<Value> = plan
            .iter()
            .map(|(t, p, o)| json!({"group": group, "topic": t, "partition": p, "new_offset": o}))
            .collect();
        print_json(&json!({"executed": executed, "offsets": v}));
    } else {
        let mut t = Table::new(&["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"]);
        for (topic, p, o) in plan {
            t.row(vec![
                group.to_string(),
                topic.clone(),
                p.to_string(),
                o.to_string(),
            ]);
        }
        t.print();
        if !executed {
            eprintln!("(dry run: nothing was changed; add --execute to apply)");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_datetimes() {
        assert_eq!(parse_datetime("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_datetime("2024-02-29T12:34:56.789"),
            Some(1_709_210_096_789)
        );
        assert_eq!(parse_datetime("2024-13-01T00:00:00"), None);
        assert_eq!(parse_datetime("yesterday"), None);
    }
}
