//! The client quotas the broker holds, durable in the data directory: AlterClientQuotas
//! validates and applies changes as Kafka's `ClientQuotaControlManager` does, and
//! DescribeClientQuotas filters them as `ClientQuotasImage.describe` does. Every accepted change
//! is written atomically (temporary file, fsync, rename, directory fsync) before it is
//! answered, so it survives kill -9.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use kafka_protocol::ResponseError;
use serde::{Deserialize, Serialize};

use super::entity::{
    ClientQuotaEntity, KeyType, CLIENT_ID, IP, IP_KEYS, USER, USER_AND_CLIENT_KEYS,
};
use crate::cluster::write_atomically;

const FILE: &str = "klamm-client-quotas.json";

/// One entity's quota values, by key.
pub type QuotaValues = BTreeMap<String, f64>;

/// Quota values per entity.
pub type QuotaMap = BTreeMap<ClientQuotaEntity, QuotaValues>;

/// A refused alteration or describe: Kafka's error and message.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaError {
    pub error: ResponseError,
    pub message: String,
}

fn invalid(message: impl Into<String>) -> QuotaError {
    QuotaError {
        error: ResponseError::InvalidRequest,
        message: message.into(),
    }
}

/// One result per altered entity.
pub type AlterResults = Vec<(ClientQuotaEntity, Result<(), QuotaError>)>;

/// One requested entity alteration: its entity and `(key, Some(value) | None to remove)`.
pub struct Alteration {
    pub entity: ClientQuotaEntity,
    pub ops: Vec<(String, Option<f64>)>,
}

/// `DescribeClientQuotasRequest` match types.
pub const MATCH_TYPE_EXACT: i8 = 0;
pub const MATCH_TYPE_DEFAULT: i8 = 1;
pub const MATCH_TYPE_SPECIFIED: i8 = 2;

/// One DescribeClientQuotas filter component.
pub struct Component {
    pub entity_type: String,
    pub match_type: i8,
    pub matched: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredEntry {
    entity: BTreeMap<String, Option<String>>,
    quotas: BTreeMap<String, f64>,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredFile {
    version: u32,
    entries: Vec<StoredEntry>,
}

/// The durable quota store.
pub struct QuotaStore {
    path: PathBuf,
    quotas: RwLock<QuotaMap>,
}

impl QuotaStore {
    pub fn open(data_dir: &Path) -> std::io::Result<QuotaStore> {
        let path = data_dir.join(FILE);
        let file: StoredFile = crate::cluster::read_json(&path)?.unwrap_or_default();
        let quotas = file
            .entries
            .into_iter()
            .filter(|e| !e.quotas.is_empty())
            .map(|e| (ClientQuotaEntity { entries: e.entity }, e.quotas))
            .collect();
        Ok(QuotaStore {
            path,
            quotas: RwLock::new(quotas),
        })
    }

    /// A copy of every quota (for the enforcing managers).
    pub fn snapshot(&self) -> QuotaMap {
        self.quotas
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// `ClientQuotaControlManager.alterClientQuotas`: one result per distinct entity, in the
    /// order entities first appear. Valid alterations are applied (and written) together unless
    /// `validate_only`. Returns whether anything changed.
    pub fn alter(&self, alterations: Vec<Alteration>, validate_only: bool) -> (AlterResults, bool) {
        let mut quotas = self.quotas.write().unwrap_or_else(|e| e.into_inner());
        let mut next = quotas.clone();
        let mut results: AlterResults = Vec::new();
        let mut changed = false;
        for alteration in alterations {
            let entity = alteration.entity;
            let mut keys: Vec<(String, Option<f64>)> = Vec::with_capacity(alteration.ops.len());
            let mut duplicate_key = false;
            for (key, value) in alteration.ops {
                if keys.iter().any(|(k, _)| *k == key) {
                    duplicate_key = true;
                } else {
                    keys.push((key, value));
                }
            }
            let seen = results.iter().position(|(e, _)| *e == entity);
            // Kafka reports a duplicate key, and a second alteration of the same entity, as
            // "Ignoring duplicate entity" (the duplicate-key message is overwritten); the
            // first alteration of an entity still applies.
            if duplicate_key || seen.is_some() {
                let e = invalid(format!("Ignoring duplicate entity {entity}"));
                match seen {
                    Some(i) => results[i].1 = Err(e),
                    None => results.push((entity, Err(e))),
                }
                continue;
            }
            let result = alter_entity(&mut next, &entity, keys, &mut changed);
            results.push((entity, result));
        }
        if validate_only || !changed {
            return (results, false);
        }
        if let Err(e) = persist(&self.path, &next) {
            let error = QuotaError {
                error: ResponseError::UnknownServerError,
                message: format!("failed to store client quotas: {e}"),
            };
            for (_, r) in &mut results {
                if r.is_ok() {
                    *r = Err(error.clone());
                }
            }
            return (results, false);
        }
        *quotas = next;
        (results, true)
    }

    /// `ClientQuotasImage.describe`: the entities matching the filter, with their values.
    pub fn describe(
        &self,
        components: &[Component],
        strict: bool,
    ) -> Result<Vec<(ClientQuotaEntity, QuotaValues)>, QuotaError> {
        let mut exact: BTreeMap<&str, Option<&str>> = BTreeMap::new();
        let mut specified: Vec<&str> = Vec::new();
        for c in components {
            let t = c.entity_type.as_str();
            if t.is_empty() {
                return Err(invalid("Invalid empty entity type."));
            }
            if exact.contains_key(t) || specified.contains(&t) {
                return Err(invalid(format!(
                    "Entity type {t} cannot appear more than once in the filter."
                )));
            }
            if ![IP, USER, CLIENT_ID].contains(&t) {
                return Err(QuotaError {
                    error: ResponseError::UnsupportedVersion,
                    message: format!("Unsupported entity type {t}"),
                });
            }
            match c.match_type {
                MATCH_TYPE_EXACT => match &c.matched {
                    None => {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_EXACT, but set match string to null.",
                        ))
                    }
                    Some(m) => {
                        exact.insert(t, Some(m.as_str()));
                    }
                },
                MATCH_TYPE_DEFAULT => {
                    if c.matched.is_some() {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_DEFAULT, but also specified a match string.",
                        ));
                    }
                    exact.insert(t, None);
                }
                MATCH_TYPE_SPECIFIED => {
                    if c.matched.is_some() {
                        return Err(invalid(
                            "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.",
                        ));
                    }
                    specified.push(t);
                }
                other => return Err(invalid(format!("Unknown match type {other}"))),
            }
        }
        let has = |t: &str| exact.contains_key(t) || specified.contains(&t);
        if has(IP) && (has(USER) || has(CLIENT_ID)) {
            return Err(invalid(
                "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
            ));
        }
        let quotas = self.quotas.read().unwrap_or_else(|e| e.into_inner());
        let matches = |entity: &ClientQuotaEntity| {
            if strict && entity.entries.len() != exact.len() + specified.len() {
                return false;
            }
            exact
                .iter()
                .all(|(t, name)| entity.get(t).is_some_and(|n| n.as_deref() == *name))
                && specified.iter().all(|t| entity.get(t).is_some())
        };
        Ok(quotas
            .iter()
            .filter(|(e, _)| matches(e))
            .map(|(e, v)| (e.clone(), v.clone()))
            .collect())
    }
}

/// `ClientQuotaControlManager.alterClientQuotaEntity`: validates one entity's changes and applies
/// them to `quotas`, or leaves it untouched.
fn alter_entity(
    quotas: &mut QuotaMap,
    entity: &ClientQuotaEntity,
    ops: Vec<(String, Option<f64>)>,
    changed: &mut bool,
) -> Result<(), QuotaError> {
    if entity.entries.is_empty() {
        return Err(invalid("Invalid empty client quota entity"));
    }
    for (t, name) in &entity.entries {
        if ![USER, CLIENT_ID, IP].contains(&t.as_str()) {
            return Err(invalid(format!("Unhandled client quota entity type: {t}")));
        }
        if name.as_deref() == Some("") {
            return Err(invalid(format!("Empty {t} not supported")));
        }
    }
    let keys = config_keys(entity)?;
    let mut current = quotas.get(entity).cloned().unwrap_or_default();
    let before = current.clone();
    for (key, value) in ops {
        match value {
            None => {
                current.remove(&key);
            }
            Some(v) => {
                validate_value(keys, &key, v)?;
                current.insert(key, v);
            }
        }
    }
    if current != before {
        *changed = true;
        if current.is_empty() {
            quotas.remove(entity);
        } else {
            quotas.insert(entity.clone(), current);
        }
    }
    Ok(())
}

/// `ClientQuotaControlManager.configKeysForEntityType`: which keys an entity combination takes.
fn config_keys(
    entity: &ClientQuotaEntity,
) -> Result<&'static [(&'static str, KeyType)], QuotaError> {
    let has_user = entity.get(USER).is_some();
    let has_client = entity.get(CLIENT_ID).is_some();
    match entity.get(IP) {
        Some(ip) => {
            if has_user || has_client {
                // Kafka's message, missing space included.
                return Err(invalid(
                    "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
                ));
            }
            match ip {
                Some(ip) if ip.parse::<IpAddr>().is_err() => Err(invalid(format!(
                    "{ip} is not a valid IP or resolvable host."
                ))),
                _ => Ok(IP_KEYS),
            }
        }
        None if has_user || has_client => Ok(USER_AND_CLIENT_KEYS),
        None => Err(invalid("Invalid empty client quota entity")),
    }
}

/// `ClientQuotaControlManager.validateQuotaKeyValue`.
fn validate_value(keys: &[(&str, KeyType)], key: &str, value: f64) -> Result<(), QuotaError> {
    let Some((_, key_type)) = keys.iter().find(|(k, _)| *k == key) else {
        return Err(invalid(format!("Invalid configuration key {key}")));
    };
    if value.is_nan() || value <= 0.0 {
        return Err(invalid(format!("Quota {key} must be greater than 0")));
    }
    let integral = |value: f64| {
        if (value % 1.0).abs() > 1e-6 {
            Err(invalid(format!("{key} cannot be a fractional value.")))
        } else {
            Ok(())
        }
    };
    match key_type {
        KeyType::Double => Ok(()),
        KeyType::Int if value > i32::MAX as f64 => Err(invalid(format!(
            "Proposed value for {key} is too large for an INT."
        ))),
        KeyType::Long if value > i64::MAX as f64 => Err(invalid(format!(
            "Proposed value for {key} is too large for a LONG."
        ))),
        KeyType::Int | KeyType::Long => integral(value),
    }
}

fn persist(path: &Path, quotas: &QuotaMap) -> std::io::Result<()> {
    let file = StoredFile {
        version: 1,
        entries: quotas
            .iter()
            .map(|(e, q)| StoredEntry {
                entity: e.entries.clone(),
                quotas: q.clone(),
            })
            .collect(),
    };
    let body = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    write_atomically(path, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quota::entity::PRODUCER_BYTE_RATE;

    fn alt(pairs: &[(&str, Option<&str>)], ops: &[(&str, Option<f64>)]) -> Alteration {
        Alteration {
            entity: ClientQuotaEntity::from_pairs(pairs.iter().copied()),
            ops: ops.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        }
    }

    fn message(r: &Result<(), QuotaError>) -> String {
        r.as_ref()
            .err()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    }

    #[test]
    fn validates_like_the_controller_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let s = QuotaStore::open(dir.path()).unwrap();
        let (r, changed) = s.alter(
            vec![
                alt(
                    &[(USER, Some("alice"))],
                    &[(PRODUCER_BYTE_RATE, Some(1024.0))],
                ),
                alt(&[(USER, Some("bob"))], &[(PRODUCER_BYTE_RATE, Some(1.5))]),
                alt(&[(USER, Some("carol"))], &[("nope", Some(1.0))]),
                alt(&[(USER, Some("dave"))], &[(PRODUCER_BYTE_RATE, Some(-1.0))]),
                alt(&[("group", Some("g"))], &[(PRODUCER_BYTE_RATE, Some(1.0))]),
                alt(&[(IP, Some("1.2.3.4")), (USER, None)], &[]),
                alt(&[], &[]),
                alt(&[(USER, Some(""))], &[]),
                alt(
                    &[(CLIENT_ID, None)],
                    &[(PRODUCER_BYTE_RATE, Some(1.0)), (PRODUCER_BYTE_RATE, None)],
                ),
            ],
            false,
        );
        assert!(changed);
        assert_eq!(r[0].1, Ok(()));
        assert_eq!(
            message(&r[1].1),
            "producer_byte_rate cannot be a fractional value."
        );
        assert_eq!(message(&r[2].1), "Invalid configuration key nope");
        assert_eq!(
            message(&r[3].1),
            "Quota producer_byte_rate must be greater than 0"
        );
        assert_eq!(
            message(&r[4].1),
            "Unhandled client quota entity type: group"
        );
        assert!(message(&r[5].1).starts_with("Invalid quota entity combination"));
        assert_eq!(message(&r[6].1), "Invalid empty client quota entity");
        assert_eq!(message(&r[7].1), "Empty user not supported");
        assert_eq!(
            message(&r[8].1),
            "Ignoring duplicate entity ClientQuotaEntity(entries={client-id=null})"
        );
        drop(s);
        let s = QuotaStore::open(dir.path()).unwrap();
        let all = s.describe(&[], false).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1[PRODUCER_BYTE_RATE], 1024.0);
    }
}
