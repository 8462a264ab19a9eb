//! The AlterConfigs family: Kafka's request checks (`ConfigAdminManager.preprocess`) and the
//! incremental operations (`ConfigurationControlManager.incrementalAlterConfigResource`).
//! The result is always the resource's complete new set of explicit configs; the log manager
//! validates and applies it.

use std::collections::{BTreeMap, HashSet};

use crate::error::Error;
use crate::settings::Kind;

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
        return Err(Error::InvalidRequest("Error due to duplicate config keys".into()));
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
        let kind = |n: &str| if n == "cleanup.policy" { Some(Kind::List) } else { Some(Kind::Long) };
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
        let out = apply_incremental(&out, &[op("cleanup.policy", OpType::Subtract, Some("delete"))], kind, default).unwrap();
        assert_eq!(out["cleanup.policy"], "compact");
        let err = apply_incremental(&out, &[op("segment.ms", OpType::Append, Some("1"))], kind, default).unwrap_err();
        assert_eq!(err.code(), 40);
        assert!(err.to_string().contains("segment.ms"));
    }

    #[test]
    fn request_checks() {
        let dup = vec![("a".to_string(), Some(0), Some("1".to_string())), ("a".to_string(), Some(0), Some("2".to_string()))];
        assert_eq!(check_ops(&dup).unwrap_err().code(), 42);
        let null = vec![("a".to_string(), Some(0), None), ("b".to_string(), Some(1), None)];
        let e = check_ops(&null).unwrap_err();
        assert_eq!(e.to_string(), "Null value not supported for : a");
    }
}
