//! The AlterConfigs family: Kafka's request checks (`ConfigAdminManager.preprocess`) and the
//! incremental operations (`ConfigurationControlManager.incrementalAlterConfigResource`).
//! The result is always the resource's complete new set of explicit configs; the log manager
//! validates and applies it.

use std::collections::{BTreeMap, HashSet};

use super::resource_type;
use crate::error::Error;
use crate::log::config as topic_config;
use crate::log::manager::validate_topic_name;
use crate::log::LogManager;
use crate::settings::{defs, Kind};

/// `AlterConfigOp.OpType` ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpType {
    Set,
    Delete,
    Append,
    Subtract,
}

impl OpType {
    pub fn from_id(id: i8) -> Option<OpType> {
        match id {
            0 => Some(OpType::Set),
            1 => Some(OpType::Delete),
            2 => Some(OpType::Append),
            3 => Some(OpType::Subtract),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            OpType::Set => "SET",
            OpType::Delete => "DELETE",
            OpType::Append => "APPEND",
            OpType::Subtract => "SUBTRACT",
        }
    }
}

/// One requested change.
#[derive(Clone, Debug)]
pub struct AlterOp {
    pub name: String,
    pub op: OpType,
    pub value: Option<String>,
}

/// Kafka's per-resource request checks: no config named twice, and no null value except for
/// DELETE. Both are INVALID_REQUEST.
pub fn check_ops(ops: &[(String, Option<i8>, Option<String>)]) -> Result<(), Error> {
    let mut seen = HashSet::new();
    if ops.iter().any(|(n, _, _)| !seen.insert(n.as_str())) {
        return Err(Error::InvalidRequest(
            "Error due to duplicate config keys".into(),
        ));
    }
    let nulls: Vec<&str> = ops
        .iter()
        .filter(|(_, op, v)| v.is_none() && *op != Some(1))
        .map(|(n, _, _)| n.as_str())
        .collect();
    if !nulls.is_empty() {
        return Err(Error::InvalidRequest(format!(
            "Null value not supported for : {}",
            nulls.join(", ")
        )));
    }
    Ok(())
}

/// Applies incremental operations to a resource's explicit configs. `kind_of` gives a config's
/// type (APPEND and SUBTRACT need LIST), `default_of` the value a list operation starts from when
/// the config is not set explicitly.
pub fn apply_incremental(
    current: &BTreeMap<String, String>,
    ops: &[AlterOp],
    kind_of: impl Fn(&str) -> Option<Kind>,
    default_of: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = current.clone();
    for op in ops {
        match op.op {
            OpType::Set => {
                out.insert(op.name.clone(), op.value.clone().unwrap_or_default());
            }
            OpType::Delete => {
                out.remove(&op.name);
            }
            OpType::Append | OpType::Subtract => {
                if kind_of(&op.name) != Some(Kind::List) {
                    return Err(Error::InvalidConfig(format!(
                        "Can't {} to key {} because its type is not LIST.",
                        op.op.name(),
                        op.name
                    )));
                }
                let base = out.get(&op.name).cloned().or_else(|| default_of(&op.name));
                let mut parts: Vec<String> = base
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect();
                let given = op.value.clone().unwrap_or_default();
                for v in given.split(',') {
                    if op.op == OpType::Append {
                        if !parts.iter().any(|p| p == v) {
                            parts.push(v.to_string());
                        }
                    } else if let Some(i) = parts.iter().position(|p| p == v) {
                        parts.remove(i);
                    }
                }
                out.insert(op.name.clone(), parts.join(","));
            }
        }
    }
    Ok(out)
}

/// What an alter request does to a resource's explicit configs.
pub enum AlterTarget {
    /// AlterConfigs: this is the complete new set.
    Replace(BTreeMap<String, String>),
    /// IncrementalAlterConfigs: apply these operations.
    Incremental(Vec<AlterOp>),
}

/// Resources named more than once in a request (each such entry fails with INVALID_REQUEST).
pub fn duplicate_resources<'a>(
    resources: impl Iterator<Item = (i8, &'a str)>,
) -> HashSet<(i8, String)> {
    let mut seen = HashSet::new();
    let mut dups = HashSet::new();
    for (t, n) in resources {
        if !seen.insert((t, n.to_string())) {
            dups.insert((t, n.to_string()));
        }
    }
    dups
}

/// Applies an alter request to one resource: a topic's overrides, a dynamic broker layer or a
/// group's configs.
pub fn alter_resource(
    logs: &LogManager,
    node_id: i32,
    kind: i8,
    name: &str,
    target: AlterTarget,
    validate_only: bool,
) -> Result<(), Error> {
    match kind {
        resource_type::TOPIC => {
            if name.is_empty() {
                return Err(Error::InvalidRequest(
                    "Default topic resources are not allowed.".into(),
                ));
            }
            validate_topic_name(name)?;
            // `ControllerConfigurationValidator.validate`: the topic must exist.
            if logs.topic(name).is_none() {
                return Err(Error::UnknownTopicWithMessage(format!(
                    "The topic '{name}' does not exist."
                )));
            }
            let configs = match target {
                AlterTarget::Replace(c) => c,
                AlterTarget::Incremental(ops) => {
                    let current = logs
                        .topic(name)
                        .map(|t| t.overrides.clone())
                        .unwrap_or_default();
                    apply_incremental(
                        &current,
                        &ops,
                        |n| topic_config::find(n).map(|d| d.kind),
                        |n| {
                            let def = topic_config::find(n)?;
                            let primary = topic_config::primary_broker_synonym(def)?;
                            defs::find(primary)?.default.map(str::to_string)
                        },
                    )?
                }
            };
            logs.alter_topic_configs(name, &configs, validate_only)
        }
        resource_type::BROKER => {
            let per_broker = !name.is_empty();
            if per_broker {
                let id: i32 = name.parse().map_err(|_| {
                    Error::InvalidRequest(format!("Node id must be an integer, but it is: {name}"))
                })?;
                if id != node_id {
                    return Err(Error::InvalidRequest(format!(
                        "Unexpected broker id, expected {node_id}, but received {name}"
                    )));
                }
            }
            let configs = match target {
                AlterTarget::Replace(c) => c,
                AlterTarget::Incremental(ops) => {
                    let current = logs.config_view().dynamic.layer(per_broker).clone();
                    for op in &ops {
                        if matches!(op.op, OpType::Append | OpType::Subtract)
                            && defs::find(&op.name).is_none()
                        {
                            return Err(Error::InvalidConfig(format!(
                                "Unknown config name: {}",
                                op.name
                            )));
                        }
                    }
                    apply_incremental(
                        &current,
                        &ops,
                        |n| defs::find(n).map(|d| d.kind),
                        |n| defs::find(n).and_then(|d| d.default).map(str::to_string),
                    )?
                }
            };
            logs.alter_broker_configs(per_broker, &configs, validate_only)
        }
        resource_type::GROUP => {
            // Kafka's `ConfigAdminManager` / `ControllerConfigurationValidator`: a GROUP
            // resource needs a name; its configs are validated by `GroupConfig.validate`.
            if name.is_empty() {
                return Err(Error::InvalidRequest(
                    "Default group resources are not allowed.".into(),
                ));
            }
            let configs = match target {
                AlterTarget::Replace(c) => c,
                AlterTarget::Incremental(ops) => apply_incremental(
                    &logs.group_configs().get(name),
                    &ops,
                    |n| super::group::find(n).map(|d| d.kind()),
                    |_| None,
                )?,
            };
            logs.alter_group_configs(name, &configs, validate_only)
        }
        resource_type::BROKER_LOGGER => Err(Error::InvalidRequest(
            "BROKER_LOGGER resources are not supported: Klamm's log levels are set with RUST_LOG"
                .into(),
        )),
        other => Err(Error::InvalidRequest(format!(
            "Unknown resource type {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str, op: OpType, value: Option<&str>) -> AlterOp {
        AlterOp {
            name: name.into(),
            op,
            value: value.map(str::to_string),
        }
    }

    #[test]
    fn set_delete_append_subtract() {
        let kind = |n: &str| {
            if n == "cleanup.policy" {
                Some(Kind::List)
            } else {
                Some(Kind::Long)
            }
        };
        let default = |n: &str| (n == "cleanup.policy").then(|| "delete".to_string());
        let mut cur = BTreeMap::new();
        cur.insert("retention.ms".to_string(), "5".to_string());
        let out = apply_incremental(
            &cur,
            &[
                op("retention.ms", OpType::Delete, None),
                op("segment.ms", OpType::Set, Some("100")),
                op("cleanup.policy", OpType::Append, Some("compact")),
            ],
            kind,
            default,
        )
        .unwrap();
        assert!(!out.contains_key("retention.ms"));
        assert_eq!(out["segment.ms"], "100");
        assert_eq!(out["cleanup.policy"], "delete,compact");
        let out = apply_incremental(
            &out,
            &[op("cleanup.policy", OpType::Subtract, Some("delete"))],
            kind,
            default,
        )
        .unwrap();
        assert_eq!(out["cleanup.policy"], "compact");
        let err = apply_incremental(
            &out,
            &[op("segment.ms", OpType::Append, Some("1"))],
            kind,
            default,
        )
        .unwrap_err();
        assert_eq!(err.code(), 40);
        assert!(err.to_string().contains("segment.ms"));
    }

    #[test]
    fn request_checks() {
        let dup = vec![
            ("a".to_string(), Some(0), Some("1".to_string())),
            ("a".to_string(), Some(0), Some("2".to_string())),
        ];
        assert_eq!(check_ops(&dup).unwrap_err().code(), 42);
        let null = vec![
            ("a".to_string(), Some(0), None),
            ("b".to_string(), Some(1), None),
        ];
        let e = check_ops(&null).unwrap_err();
        assert_eq!(e.to_string(), "Null value not supported for : a");
    }
}
