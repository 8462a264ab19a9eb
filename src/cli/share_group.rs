//! `klamm group` on share groups (KIP-932), the jobs of Kafka's `kafka-share-groups.sh`.
//!
//! A share group has no committed offsets: each share partition has a start offset (SPSO),
//! the first offset that is not yet finished with (acknowledged or archived). The CLI reads
//! it with DescribeShareGroupOffsets (API 90), moves it with AlterShareGroupOffsets (91) and
//! forgets it with DeleteShareGroupOffsets (92); members and assignments come from
//! ShareGroupDescribe (77). Kafka's coordinator, not this tool, refuses to alter or delete
//! the offsets of a group with members (NON_EMPTY_GROUP, `GroupMetadataManager`'s
//! share-group offset checks), so the error shown is the broker's own.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_share_group_offsets_request::{
    AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsRequestPartition,
    AlterShareGroupOffsetsRequestTopic,
};
use kafka_protocol::messages::delete_share_group_offsets_request::{
    DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsRequestTopic,
};
use kafka_protocol::messages::describe_share_group_offsets_request::{
    DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsRequestGroup,
};
use kafka_protocol::messages::share_group_describe_response::DescribedGroup;
use kafka_protocol::messages::{GroupId, ShareGroupDescribeRequest};
use serde_json::{json, Value};

use super::client::Client;
use super::group::{compute_plan, error_json, print_plan, wanted_partitions, ResetArgs};
use super::output::{print_json, progress, CliError, Table};
use super::{list_offsets, partitions_of, sb, topic_name, Common, LATEST};

/// GROUP_ID_NOT_FOUND: what ShareGroupDescribe answers for an unknown group and for a group
/// of another type (`GroupMetadataManager.shareGroup` throws GroupIdNotFoundException).
const GROUP_ID_NOT_FOUND: i16 = 69;
/// UNSUPPORTED_VERSION: Kafka's answer while the `share.version` feature is off.
const UNSUPPORTED_VERSION: i16 = 35;

/// The ShareGroupDescribe answer for `group` when it is a share group; `None` when it is not
/// one (unknown, another type of group, or share groups not served or not enabled), so that
/// the caller treats it as a consumer group.
pub(super) fn describe_if_share(
    client: &mut Client,
    group: &str,
) -> Result<Option<DescribedGroup>, CliError> {
    let conn = client.coordinator(group)?;
    if !conn.supports::<ShareGroupDescribeRequest>() {
        return Ok(None);
    }
    let req = ShareGroupDescribeRequest::default().with_group_ids(vec![GroupId(sb(group))]);
    let (resp, _) = conn.send(&req)?;
    let Some(g) = resp.groups.into_iter().next() else {
        return Err(CliError::Protocol(
            "ShareGroupDescribe returned no group".into(),
        ));
    };
    match g.error_code {
        0 => Ok(Some(g)),
        GROUP_ID_NOT_FOUND | UNSUPPORTED_VERSION => Ok(None),
        // Any other code is an error (`check` answers `Err` for every non-zero code).
        code => CliError::check(
            code,
            g.error_message.as_ref(),
            &format!("describing share group {group}"),
        )
        .map(|()| None),
    }
}

/// (topic, partition) -> (share-partition start offset, leader epoch).
type StartOffsets = BTreeMap<(String, i32), (i64, i32)>;

/// Start offsets of the share partitions of `group` that have state (Kafka answers only the
/// group's initialized partitions when no topics are named): (topic, partition) -> (SPSO,
/// leader epoch). An SPSO of -1 means the partition has no state yet.
pub(super) fn start_offsets(client: &mut Client, group: &str) -> Result<StartOffsets, CliError> {
    let req = DescribeShareGroupOffsetsRequest::default().with_groups(vec![
        DescribeShareGroupOffsetsRequestGroup::default()
            .with_group_id(GroupId(sb(group)))
            .with_topics(None),
    ]);
    let (resp, _) = client.coordinator(group)?.send(&req)?;
    let mut out = BTreeMap::new();
    for g in resp.groups {
        CliError::check(
            g.error_code,
            g.error_message.as_ref(),
            &format!("describing the offsets of share group {group}"),
        )?;
        for t in g.topics {
            for p in t.partitions {
                CliError::check(
                    p.error_code,
                    p.error_message.as_ref(),
                    &format!(
                        "describing the offsets of share group {group} for {}-{}",
                        t.topic_name.as_str(),
                        p.partition_index
                    ),
                )?;
                out.insert(
                    (t.topic_name.to_string(), p.partition_index),
                    (p.start_offset, p.leader_epoch),
                );
            }
        }
    }
    Ok(out)
}

/// Describes one share group: the JSON document and the text block (state line, partition
/// table, member table).
///
/// LAG is the log end offset minus the SPSO. KIP-1226 defines a share partition's lag as the
/// records from the SPSO to the high watermark that are not yet finished with; records after
/// the SPSO already acknowledged or archived, and aborted transactional records, are counted
/// here too, so this is an upper bound of it (Kafka 4.1's DescribeShareGroupOffsets v0 has no
/// lag field to read it from).
pub(super) fn describe_one(
    client: &mut Client,
    group: &str,
    g: &DescribedGroup,
) -> Result<(Value, String), CliError> {
    // (topic, partition) -> members assigned it (a share partition may go to several).
    let mut owners: BTreeMap<(String, i32), Vec<String>> = BTreeMap::new();
    let mut members = Vec::new();
    let mut member_table = Table::new(&["MEMBER-ID", "CLIENT-ID", "HOST", "EPOCH", "ASSIGNMENT"]);
    for m in &g.members {
        let mut assignment: Vec<(String, Vec<i32>)> = m
            .assignment
            .topic_partitions
            .iter()
            .map(|tp| {
                let name = if tp.topic_name.is_empty() {
                    tp.topic_id.to_string()
                } else {
                    tp.topic_name.to_string()
                };
                let mut ps = tp.partitions.clone();
                ps.sort_unstable();
                (name, ps)
            })
            .collect();
        assignment.sort();
        for (t, ps) in &assignment {
            for p in ps {
                owners
                    .entry((t.clone(), *p))
                    .or_default()
                    .push(m.member_id.to_string());
            }
        }
        let mut subscribed: Vec<String> = m
            .subscribed_topic_names
            .iter()
            .map(|t| t.to_string())
            .collect();
        subscribed.sort();
        member_table.row(vec![
            m.member_id.to_string(),
            m.client_id.to_string(),
            m.client_host.to_string(),
            m.member_epoch.to_string(),
            if assignment.is_empty() {
                "-".into()
            } else {
                assignment
                    .iter()
                    .map(|(t, ps)| {
                        let ps: Vec<String> = ps.iter().map(i32::to_string).collect();
                        format!("{t}:{}", ps.join(","))
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            },
        ]);
        members.push(json!({
            "member_id": m.member_id.as_str(),
            "member_epoch": m.member_epoch,
            "rack_id": m.rack_id.as_ref().map(|s| s.as_str()),
            "client_id": m.client_id.as_str(),
            "host": m.client_host.as_str(),
            "subscribed_topics": subscribed,
            "assignment": assignment.iter().map(|(t, ps)| json!({"topic": t, "partitions": ps})).collect::<Vec<_>>(),
        }));
    }
    let starts = start_offsets(client, group)?;
    let mut keys: Vec<(String, i32)> = starts.keys().cloned().collect();
    keys.extend(owners.keys().cloned());
    keys.sort();
    keys.dedup();
    let mut topics: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for (t, p) in &keys {
        topics.entry(t.clone()).or_default().push(*p);
    }
    let mut end_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    for (t, ps) in &topics {
        let md = client.metadata(Some(std::slice::from_ref(t)))?;
        let Ok(mut leaders) = partitions_of(&md, t) else {
            continue;
        };
        leaders.retain(|p, _| ps.contains(p));
        for (p, r) in list_offsets(client, t, &leaders, LATEST)? {
            if let Ok(Some(o)) = r {
                end_offsets.insert((t.clone(), p), o);
            }
        }
    }
    let show = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_else(|| "-".into());
    let mut table = Table::new(&[
        "GROUP",
        "TOPIC",
        "PARTITION",
        "START-OFFSET",
        "LOG-END-OFFSET",
        "LAG",
        "MEMBERS",
    ]);
    let mut offsets = Vec::new();
    for key in &keys {
        let (start, epoch) = match starts.get(key) {
            Some((s, e)) if *s >= 0 => (Some(*s), (*e >= 0).then_some(*e)),
            _ => (None, None),
        };
        let end = end_offsets.get(key).copied();
        let lag = match (start, end) {
            (Some(s), Some(e)) => Some((e - s).max(0)),
            _ => None,
        };
        let owned = owners.get(key).cloned().unwrap_or_default();
        table.row(vec![
            group.to_string(),
            key.0.clone(),
            key.1.to_string(),
            show(start),
            show(end),
            show(lag),
            owned.len().to_string(),
        ]);
        offsets.push(json!({
            "topic": key.0,
            "partition": key.1,
            "start_offset": start,
            "leader_epoch": epoch,
            "log_end_offset": end,
            "lag": lag,
            "member_ids": owned,
        }));
    }
    let mut text = format!(
        "Share group {group}: state {}, group epoch {}, assignment epoch {}, assignor {}, {} member(s)\n\n{table}",
        g.group_state.as_str(),
        g.group_epoch,
        g.assignment_epoch,
        if g.assignor_name.is_empty() {
            "-"
        } else {
            g.assignor_name.as_str()
        },
        g.members.len(),
    );
    if !member_table.is_empty() {
        text.push('\n');
        text.push_str(&member_table.to_string());
    }
    let doc = json!({
        "group": group,
        "type": "share",
        "state": g.group_state.as_str(),
        "group_epoch": g.group_epoch,
        "assignment_epoch": g.assignment_epoch,
        "assignor": g.assignor_name.as_str(),
        "members": members,
        "offsets": offsets,
    });
    Ok((doc, text))
}

/// `reset-offsets` on a share group: the same targets as for a consumer group, applied with
/// AlterShareGroupOffsets. `--all-topics` means the topics whose share partitions have state.
pub(super) fn reset(
    c: &Common,
    client: &mut Client,
    r: &ResetArgs,
    timestamp: Option<i64>,
    g: &DescribedGroup,
) -> Result<(), CliError> {
    let group = &r.group;
    let mut wanted = wanted_partitions(r)?;
    if r.all_topics {
        for (t, _) in start_offsets(client, group)?.keys() {
            wanted.insert(t.clone(), None);
        }
    }
    let plan = compute_plan(client, &wanted, r, timestamp)?;
    if !g.members.is_empty() {
        progress(format!(
            "note: share group {group} is {} with {} member(s); Kafka alters the start offsets only of an empty share group (NON_EMPTY_GROUP otherwise)",
            g.group_state.as_str(),
            g.members.len()
        ));
    }
    if r.execute {
        let mut by_topic: BTreeMap<&str, Vec<(i32, i64)>> = BTreeMap::new();
        for (t, p, o) in &plan {
            by_topic.entry(t).or_default().push((*p, *o));
        }
        let req = AlterShareGroupOffsetsRequest::default()
            .with_group_id(GroupId(sb(group)))
            .with_topics(
                by_topic
                    .iter()
                    .map(|(t, ps)| {
                        AlterShareGroupOffsetsRequestTopic::default()
                            .with_topic_name(topic_name(t))
                            .with_partitions(
                                ps.iter()
                                    .map(|(p, o)| {
                                        AlterShareGroupOffsetsRequestPartition::default()
                                            .with_partition_index(*p)
                                            .with_start_offset(*o)
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            );
        progress(format!(
            "altering {} start offset(s) of share group {group}",
            plan.len()
        ));
        let (resp, _) = client.coordinator(group)?.send(&req)?;
        CliError::check(
            resp.error_code,
            resp.error_message.as_ref(),
            &format!("altering the offsets of share group {group}"),
        )?;
        let mut answered = std::collections::BTreeSet::new();
        for t in &resp.responses {
            for p in &t.partitions {
                CliError::check(
                    p.error_code,
                    p.error_message.as_ref(),
                    &format!(
                        "altering the offset of share group {group} for {}-{}",
                        t.topic_name.as_str(),
                        p.partition_index
                    ),
                )?;
                answered.insert((t.topic_name.to_string(), p.partition_index));
            }
        }
        // Every partition asked for must have a result: a broker that leaves one out did not
        // alter it (Kafka 4.1.2 answers an empty, error-free response when its KafkaApis
        // drops the request's topics), so saying "done" would be wrong.
        let missing: Vec<String> = plan
            .iter()
            .filter(|(t, p, _)| !answered.contains(&(t.clone(), *p)))
            .map(|(t, p, _)| format!("{t}-{p}"))
            .collect();
        if !missing.is_empty() {
            return Err(CliError::Protocol(format!(
                "AlterShareGroupOffsets answered no result for {}: the broker did not alter their start offsets",
                missing.join(", ")
            )));
        }
    }
    print_plan(c, group, &plan, r.execute);
    Ok(())
}

/// `delete-offsets`: DeleteShareGroupOffsets for whole topics. Kafka answers GROUP_ID_NOT_FOUND
/// for a group that is not a share group and NON_EMPTY_GROUP for one with members (both for
/// the whole request), UNKNOWN_TOPIC_OR_PARTITION for a topic the group has no state for.
pub(super) fn delete_offsets(c: &Common, group: &str, topics: &[String]) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let req = DeleteShareGroupOffsetsRequest::default()
        .with_group_id(GroupId(sb(group)))
        .with_topics(
            topics
                .iter()
                .map(|t| {
                    DeleteShareGroupOffsetsRequestTopic::default().with_topic_name(topic_name(t))
                })
                .collect(),
        );
    let (resp, _) = client.coordinator(group)?.send(&req)?;
    CliError::check(
        resp.error_code,
        resp.error_message.as_ref(),
        &format!("deleting the offsets of share group {group}"),
    )?;
    // A topic asked for without a result was not deleted: say so rather than print nothing.
    let missing: Vec<&str> = topics
        .iter()
        .filter(|t| {
            !resp
                .responses
                .iter()
                .any(|r| r.topic_name.as_str() == t.as_str())
        })
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        return Err(CliError::Protocol(format!(
            "DeleteShareGroupOffsets answered no result for topic(s) {}: the broker did not delete their offsets",
            missing.join(", ")
        )));
    }
    let mut failed = 0;
    let mut out = Vec::new();
    for t in &resp.responses {
        let name = t.topic_name.as_str();
        match CliError::check(
            t.error_code,
            t.error_message.as_ref(),
            &format!("deleting the offsets of share group {group} for topic {name}"),
        ) {
            Ok(()) => {
                if !c.json {
                    println!("Deleted the offsets of share group {group} for topic {name}.");
                }
                out.push(json!({"topic": name, "deleted": true}));
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                out.push(
                    json!({"topic": name, "deleted": false, "error": error_json(t.error_code)}),
                );
            }
        }
    }
    if c.json {
        print_json(&json!({"group": group, "topics": out}));
    }
    if failed > 0 {
        return Err(CliError::Partial(failed, resp.responses.len()));
    }
    Ok(())
}
