//! Dynamic broker configs (Kafka's `DynamicBrokerConfig`): values set at run time with
//! AlterConfigs / IncrementalAlterConfigs on a BROKER resource, either for this broker (resource
//! name = node id) or as the cluster-wide default (empty resource name).
//!
//! Kafka keeps them in the metadata log; Klamm keeps them in `klamm-broker-configs.json` in the
//! data directory, written atomically, and layers them over the static settings
//! ([`super::Settings::with_dynamic`]): per-broker beats cluster default beats static.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{defs, value};
use crate::cluster::write_atomically;
use crate::error::Error;

pub const FILE: &str = "klamm-broker-configs.json";

/// The two dynamic layers.
#[derive(Serialize, Deserialize, Default, Clone, Debug, PartialEq)]
pub struct DynamicConfigs {
    #[serde(default)]
    pub version: u32,
    /// Set on the resource with the empty name (Kafka's `<default>` broker entity).
    #[serde(default)]
    pub cluster_default: BTreeMap<String, String>,
    /// Set on this broker's resource.
    #[serde(default)]
    pub per_broker: BTreeMap<String, String>,
}

impl DynamicConfigs {
    /// Reads the file; a missing file is an empty set of dynamic configs.
    pub fn load(dir: &Path) -> io::Result<DynamicConfigs> {
        match fs::read(dir.join(FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", dir.join(FILE).display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DynamicConfigs::default()),
            Err(e) => Err(e),
        }
    }

    pub fn persist(&self, dir: &Path) -> io::Result<()> {
        let body = serde_json::to_vec_pretty(self).map_err(io::Error::other)?;
        write_atomically(&dir.join(FILE), &body)
    }

    /// The layer a resource name addresses (empty: the cluster default).
    pub fn layer(&self, per_broker: bool) -> &BTreeMap<String, String> {
        if per_broker {
            &self.per_broker
        } else {
            &self.cluster_default
        }
    }

    pub fn layer_mut(&mut self, per_broker: bool) -> &mut BTreeMap<String, String> {
        if per_broker {
            &mut self.per_broker
        } else {
            &mut self.cluster_default
        }
    }
}

/// Checks the full new content of one dynamic layer (Kafka's
/// `DynamicBrokerConfig.validateConfigs`): every known setting must be dynamically updatable
/// and its value valid. Names Klamm does not know are kept, as Kafka keeps them. Failures are
/// INVALID_REQUEST, as in Kafka (KAFKA-13609 keeps that code for compatibility).
pub fn validate(configs: &BTreeMap<String, String>) -> Result<BTreeMap<String, String>, Error> {
    let read_only: Vec<&str> = configs
        .keys()
        .filter(|k| defs::find(k).is_some() && !defs::is_dynamic(k))
        .map(String::as_str)
        .collect();
    if !read_only.is_empty() {
        return Err(Error::InvalidRequest(format!(
            "Cannot update these configs dynamically: Set({})",
            read_only.join(", ")
        )));
    }
    let mut out = BTreeMap::new();
    for (k, v) in configs {
        match defs::find(k) {
            Some(def) => {
                let parsed = value::parse(def.name, def.kind, def.validator, v)
                    .map_err(Error::InvalidRequest)?;
                out.insert(k.clone(), parsed.to_string());
            }
            None => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dynamic_settings_may_change() {
        let mut m = BTreeMap::new();
        m.insert("log.retention.ms".to_string(), "1000".to_string());
        assert!(validate(&m).is_ok());
        m.insert("listen".to_string(), "0.0.0.0:1".to_string());
        let e = validate(&m).unwrap_err();
        assert_eq!(e.code(), 42);
        assert!(e.to_string().contains("listen"), "{e}");
        let mut bad = BTreeMap::new();
        bad.insert("log.cleaner.backoff.ms".to_string(), "-5".to_string());
        assert!(validate(&bad)
            .unwrap_err()
            .to_string()
            .contains("log.cleaner.backoff.ms"));
    }

    #[test]
    fn roundtrip_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = DynamicConfigs::default();
        d.per_broker.insert("log.retention.ms".into(), "5".into());
        d.persist(dir.path()).unwrap();
        assert_eq!(DynamicConfigs::load(dir.path()).unwrap(), d);
    }
}
