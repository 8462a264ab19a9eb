//! `klamm topic create|list|describe|alter-config|delete|add-partitions` (the jobs of
//! `kafka-topics.sh` and `kafka-configs.sh --entity-type topics`).

use std::collections::BTreeMap;

use kafka_protocol::messages::create_partitions_request::{
    CreatePartitionsRequest, CreatePartitionsTopic,
};
use kafka_protocol::messages::create_topics_request::{
    CreatableTopic, CreatableTopicConfig, CreateTopicsRequest,
};
use kafka_protocol::messages::delete_topics_request::{DeleteTopicState, DeleteTopicsRequest};
use kafka_protocol::messages::describe_configs_request::{
    DescribeConfigsRequest, DescribeConfigsResource,
};
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig, IncrementalAlterConfigsRequest,
};
use serde_json::{json, Value};

use super::output::{print_json, CliError, Table};
use super::{
    list_offsets, parse_key_value, partitions_of, sb, topic_name, Common, EARLIEST, LATEST,
};
use crate::cluster::uuid_to_kafka_string;

/// Kafka's `ConfigResource.Type.TOPIC`.
const RESOURCE_TOPIC: i8 = 2;
/// `DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG`.
const SOURCE_DEFAULT: i8 = 5;
/// Admin request timeout.
const TIMEOUT_MS: i32 = 30_000;

#[derive(clap::Args, Debug)]
pub struct TopicArgs {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    cmd: TopicCmd,
}

#[derive(clap::Subcommand, Debug)]
enum TopicCmd {
    /// Create a topic.
    Create {
        topic: String,
        /// Number of partitions (default: the broker's num.partitions).
        #[arg(long)]
        partitions: Option<i32>,
        /// Replication factor (default: the broker's default.replication.factor).
        #[arg(long)]
        replication_factor: Option<i16>,
        /// Topic config KEY=VALUE (repeatable), e.g. --config cleanup.policy=compact.
        #[arg(long = "config", value_parser = parse_key_value)]
        configs: Vec<(String, String)>,
        /// Succeed if the topic exists already.
        #[arg(long)]
        if_not_exists: bool,
    },
    /// List topics.
    List {
        /// Leave out internal topics (__consumer_offsets, ...).
        #[arg(long)]
        exclude_internal: bool,
    },
    /// Describe topics (all when none named): partitions, leaders, offsets, non-default configs.
    Describe { topics: Vec<String> },
    /// Set or delete topic configs (IncrementalAlterConfigs).
    AlterConfig {
        topic: String,
        /// KEY=VALUE to set (repeatable).
        #[arg(long = "set", value_parser = parse_key_value)]
        set: Vec<(String, String)>,
        /// KEY to reset to the default (repeatable).
        #[arg(long = "delete")]
        delete: Vec<String>,
    },
    /// Delete topics.
    Delete {
        #[arg(required = true)]
        topics: Vec<String>,
        /// Succeed for topics that do not exist.
        #[arg(long)]
        if_exists: bool,
    },
    /// Grow a topic to a total number of partitions (CreatePartitions).
    AddPartitions {
        topic: String,
        /// The new total number of partitions.
        #[arg(long)]
        total: i32,
    },
}

pub fn run(args: TopicArgs) -> Result<(), CliError> {
    let c = &args.common;
    match args.cmd {
        TopicCmd::Create {
            topic,
            partitions,
            replication_factor,
            configs,
            if_not_exists,
        } => create(
            c,
            &topic,
            partitions,
            replication_factor,
            &configs,
            if_not_exists,
        ),
        TopicCmd::List { exclude_internal } => list(c, exclude_internal),
        TopicCmd::Describe { topics } => describe(c, &topics),
        TopicCmd::AlterConfig { topic, set, delete } => alter_config(c, &topic, &set, &delete),
        TopicCmd::Delete { topics, if_exists } => delete_topics(c, &topics, if_exists),
        TopicCmd::AddPartitions { topic, total } => add_partitions(c, &topic, total),
    }
}

fn create(
    c: &Common,
    topic: &str,
    partitions: Option<i32>,
    replication_factor: Option<i16>,
    configs: &[(String, String)],
    if_not_exists: bool,
) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let req = CreateTopicsRequest::default()
        .with_timeout_ms(TIMEOUT_MS)
        .with_topics(vec![CreatableTopic::default()
            .with_name(topic_name(topic))
            .with_num_partitions(partitions.unwrap_or(-1))
            .with_replication_factor(replication_factor.unwrap_or(-1))
            .with_configs(
                configs
                    .iter()
                    .map(|(k, v)| {
                        CreatableTopicConfig::default()
                            .with_name(sb(k))
                            .with_value(Some(sb(v)))
                    })
                    .collect(),
            )]);
    let (resp, _) = client.any().send(&req)?;
    let r = resp
        .topics
        .first()
        .ok_or_else(|| CliError::Protocol("CreateTopics returned no result".into()))?;
    let exists = r.error_code == kafka_protocol::ResponseError::TopicAlreadyExists.code();
    if !(exists && if_not_exists) {
        CliError::check(
            r.error_code,
            r.error_message.as_ref(),
            &format!("creating topic {topic}"),
        )?;
    }
    let created = !exists;
    if created {
        wait_for_leaders(&mut client, topic);
    }
    // v5+ returns the partitions and replication factor used; for an existing topic (or an
    // older broker) metadata tells.
    let (parts, rf, topic_id) = if created && r.num_partitions > 0 {
        (r.num_partitions, r.replication_factor, r.topic_id)
    } else {
        let md = client.metadata(Some(&[topic.to_string()]))?;
        let p = partitions_of(&md, topic)?;
        let t = md
            .topics
            .iter()
            .find(|t| t.name.as_ref().map(|n| n.as_str()) == Some(topic));
        let rf = t
            .and_then(|t| t.partitions.first())
            .map(|p| p.replica_nodes.len() as i16)
            .unwrap_or(-1);
        (
            p.len() as i32,
            rf,
            t.map(|t| t.topic_id).unwrap_or(r.topic_id),
        )
    };
    if c.json {
        print_json(&json!({
            "topic": topic,
            "created": created,
            "topic_id": uuid_to_kafka_string(topic_id),
            "partitions": parts,
            "replication_factor": rf,
        }));
    } else if created {
        println!("Created topic {topic} with {parts} partitions.");
    } else {
        println!("Topic {topic} already exists.");
    }
    Ok(())
}

/// Waits (up to the request timeout) until Metadata names a leader for every partition of a
/// topic just created. Kafka's controller creates a topic before its broker leads the
/// partitions, so a command run right after `topic create` could get LEADER_NOT_AVAILABLE;
/// Klamm answers at once. A topic still without leaders at the deadline is reported as created
/// all the same (the create succeeded).
fn wait_for_leaders(client: &mut super::client::Client, topic: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(TIMEOUT_MS as u64);
    while std::time::Instant::now() < deadline {
        let ready = client
            .metadata(Some(&[topic.to_string()]))
            .ok()
            .and_then(|md| partitions_of(&md, topic).ok())
            .is_some_and(|p| !p.is_empty() && p.values().all(|&leader| leader >= 0));
        if ready {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn list(c: &Common, exclude_internal: bool) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let md = client.metadata(None)?;
    let mut topics: Vec<_> = md
        .topics
        .iter()
        .filter(|t| !(exclude_internal && t.is_internal))
        .filter_map(|t| {
            Some((
                t.name.as_ref()?.to_string(),
                t.partitions.len(),
                t.is_internal,
            ))
        })
        .collect();
    topics.sort();
    if c.json {
        let v: Vec<Value> = topics
            .iter()
            .map(|(n, p, i)| json!({"topic": n, "partitions": p, "internal": i}))
            .collect();
        print_json(&Value::Array(v));
    } else {
        let mut t = Table::new(&["TOPIC", "PARTITIONS", "INTERNAL"]);
        for (n, p, i) in topics {
            t.row(vec![n, p.to_string(), i.to_string()]);
        }
        t.print();
    }
    Ok(())
}

/// A topic's non-default configs: name -> value (null for a null value).
type TopicConfigs = BTreeMap<String, Option<String>>;

/// Non-default configs of `topics` (None when the broker has no DescribeConfigs).
fn topic_configs(
    client: &mut super::client::Client,
    topics: &[String],
) -> Result<Option<BTreeMap<String, TopicConfigs>>, CliError> {
    let conn = client.any();
    if !conn.supports::<DescribeConfigsRequest>() || topics.is_empty() {
        return Ok(None);
    }
    let req = DescribeConfigsRequest::default().with_resources(
        topics
            .iter()
            .map(|t| {
                DescribeConfigsResource::default()
                    .with_resource_type(RESOURCE_TOPIC)
                    .with_resource_name(sb(t))
                    .with_configuration_keys(None)
            })
            .collect(),
    );
    let (resp, v) = conn.send(&req)?;
    let mut out = BTreeMap::new();
    for r in resp.results {
        let name = r.resource_name.to_string();
        CliError::check(
            r.error_code,
            r.error_message.as_ref(),
            &format!("describing configs of {name}"),
        )?;
        let configs = r
            .configs
            .into_iter()
            // v0 has is_default instead of config_source; v1+ is what this client sends.
            .filter(|c| v == 0 || c.config_source != SOURCE_DEFAULT)
            .map(|c| {
                let value = if c.is_sensitive {
                    Some("(sensitive)".to_string())
                } else {
                    c.value.map(|v| v.to_string())
                };
                (c.name.to_string(), value)
            })
            .collect();
        out.insert(name, configs);
    }
    Ok(Some(out))
}

fn describe(c: &Common, names: &[String]) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let md = client.metadata(if names.is_empty() { None } else { Some(names) })?;
    let mut topics: Vec<_> = md.topics.iter().collect();
    topics.sort_by(|a, b| {
        a.name
            .as_ref()
            .map(|n| n.as_str())
            .cmp(&b.name.as_ref().map(|n| n.as_str()))
    });
    for t in &topics {
        let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        CliError::check(t.error_code, None, &format!("describing topic {name}"))?;
    }
    let topic_names: Vec<String> = topics
        .iter()
        .filter_map(|t| t.name.as_ref().map(|n| n.to_string()))
        .collect();
    let configs = topic_configs(&mut client, &topic_names)?;
    if configs.is_none() {
        eprintln!("note: the broker does not serve DescribeConfigs; configs are not shown");
    }
    let mut docs = Vec::new();
    let mut table = Table::new(&[
        "TOPIC",
        "PARTITION",
        "LEADER",
        "REPLICAS",
        "ISR",
        "LOG-START-OFFSET",
        "LOG-END-OFFSET",
    ]);
    let mut headers = Vec::new();
    for t in &topics {
        let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        let leaders = partitions_of(&md, &name)?;
        let start = list_offsets(&mut client, &name, &leaders, EARLIEST)?;
        let end = list_offsets(&mut client, &name, &leaders, LATEST)?;
        let mut parts: Vec<_> = t.partitions.iter().collect();
        parts.sort_by_key(|p| p.partition_index);
        let mut pj = Vec::new();
        for p in parts {
            let off = |m: &BTreeMap<i32, Result<Option<i64>, CliError>>| -> Result<i64, CliError> {
                match m.get(&p.partition_index) {
                    Some(Ok(o)) => Ok(o.unwrap_or(-1)),
                    Some(Err(e)) => Err(CliError::Protocol(e.to_string())),
                    None => Ok(-1),
                }
            };
            let (s, e) = (off(&start)?, off(&end)?);
            let ids = |v: &[kafka_protocol::messages::BrokerId]| -> Vec<i32> {
                v.iter().map(|b| b.0).collect()
            };
            let join = |v: &[i32]| {
                v.iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let replicas = ids(&p.replica_nodes);
            let isr = ids(&p.isr_nodes);
            table.row(vec![
                name.clone(),
                p.partition_index.to_string(),
                p.leader_id.0.to_string(),
                join(&replicas),
                join(&isr),
                s.to_string(),
                e.to_string(),
            ]);
            pj.push(json!({
                "partition": p.partition_index,
                "leader": p.leader_id.0,
                "replicas": replicas,
                "isr": isr,
                "log_start_offset": s,
                "log_end_offset": e,
            }));
        }
        let cfg = configs
            .as_ref()
            .and_then(|c| c.get(&name))
            .cloned()
            .unwrap_or_default();
        let rf = t
            .partitions
            .first()
            .map(|p| p.replica_nodes.len())
            .unwrap_or(0);
        headers.push(format!(
            "Topic: {name}\tTopicId: {}\tPartitionCount: {}\tReplicationFactor: {rf}\tConfigs: {}",
            uuid_to_kafka_string(t.topic_id),
            t.partitions.len(),
            cfg.iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("null")))
                .collect::<Vec<_>>()
                .join(",")
        ));
        docs.push(json!({
            "topic": name,
            "topic_id": uuid_to_kafka_string(t.topic_id),
            "internal": t.is_internal,
            "replication_factor": rf,
            "configs": cfg,
            "partitions": pj,
        }));
    }
    if c.json {
        print_json(&Value::Array(docs));
    } else {
        for h in headers {
            println!("{h}");
        }
        if !table.is_empty() {
            println!();
            table.print();
        }
    }
    Ok(())
}

fn alter_config(
    c: &Common,
    topic: &str,
    set: &[(String, String)],
    delete: &[String],
) -> Result<(), CliError> {
    if set.is_empty() && delete.is_empty() {
        return Err(CliError::Usage(
            "nothing to change: give --set KEY=VALUE or --delete KEY".into(),
        ));
    }
    let mut client = c.connect()?;
    let mut configs: Vec<AlterableConfig> = set
        .iter()
        .map(|(k, v)| {
            AlterableConfig::default()
                .with_name(sb(k))
                .with_config_operation(0)
                .with_value(Some(sb(v)))
        })
        .collect();
    configs.extend(delete.iter().map(|k| {
        AlterableConfig::default()
            .with_name(sb(k))
            .with_config_operation(1)
            .with_value(None)
    }));
    let req = IncrementalAlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(RESOURCE_TOPIC)
            .with_resource_name(sb(topic))
            .with_configs(configs),
    ]);
    let (resp, _) = client.any().send(&req)?;
    for r in &resp.responses {
        CliError::check(
            r.error_code,
            r.error_message.as_ref(),
            &format!("altering configs of topic {topic}"),
        )?;
    }
    if c.json {
        let set: BTreeMap<_, _> = set.iter().cloned().collect();
        print_json(&json!({"topic": topic, "set": set, "deleted": delete}));
    } else {
        println!("Updated configs of topic {topic}.");
    }
    Ok(())
}

fn delete_topics(c: &Common, topics: &[String], if_exists: bool) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let conn = client.any();
    let v = conn.version_for::<DeleteTopicsRequest>()?;
    let mut req = DeleteTopicsRequest::default().with_timeout_ms(TIMEOUT_MS);
    if v >= 6 {
        req.topics = topics
            .iter()
            .map(|t| DeleteTopicState::default().with_name(Some(topic_name(t))))
            .collect();
    } else {
        req.topic_names = topics.iter().map(|t| topic_name(t)).collect();
    }
    let resp = conn.send_version(&req, v)?;
    let mut failed = 0;
    let mut out = Vec::new();
    for r in &resp.responses {
        let name = r.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
        let missing = r.error_code == kafka_protocol::ResponseError::UnknownTopicOrPartition.code();
        let result = if missing && if_exists {
            Ok(())
        } else {
            CliError::check(
                r.error_code,
                r.error_message.as_ref(),
                &format!("deleting topic {name}"),
            )
        };
        match result {
            Ok(()) => {
                out.push(json!({"topic": name, "deleted": !missing}));
                if !c.json && !missing {
                    println!("Deleted topic {name}.");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {e}");
                out.push(json!({"topic": name, "deleted": false, "error": super::group::error_json(r.error_code)}));
            }
        }
    }
    if c.json {
        print_json(&Value::Array(out));
    }
    if failed > 0 {
        return Err(CliError::Partial(failed, topics.len()));
    }
    Ok(())
}

fn add_partitions(c: &Common, topic: &str, total: i32) -> Result<(), CliError> {
    let mut client = c.connect()?;
    let req = CreatePartitionsRequest::default()
        .with_timeout_ms(TIMEOUT_MS)
        .with_topics(vec![CreatePartitionsTopic::default()
            .with_name(topic_name(topic))
            .with_count(total)
            .with_assignments(None)]);
    let (resp, _) = client.any().send(&req)?;
    for r in &resp.results {
        CliError::check(
            r.error_code,
            r.error_message.as_ref(),
            &format!("adding partitions to topic {topic}"),
        )?;
    }
    if c.json {
        print_json(&json!({"topic": topic, "partitions": total}));
    } else {
        println!("Topic {topic} now has {total} partitions.");
    }
    Ok(())
}
