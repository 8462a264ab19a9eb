//! Per-group dynamic configs (KIP-848's GROUP config resource, Kafka's `GroupConfig` and
//! `GroupConfigManager`): DescribeConfigs, AlterConfigs and IncrementalAlterConfigs on resource
//! type GROUP (32).
//!
//! The names are Kafka's `GroupConfig` names for consumer, share and streams groups. An unset name falls
//! back to the broker setting Kafka takes its default from (`GroupCoordinatorConfig
//! .extractGroupConfigMap`): `group.consumer.*` from Klamm's settings; Klamm has no share or
//! streams groups yet, so the `share.*` and `streams.*` names are stored, validated and described
//! with Kafka's built-in `group.share.*` and `group.streams.*` defaults and bounds, and have no
//! effect. A consumer group's session timeout and heartbeat interval follow its `consumer.*`
//! configs (Kafka's `GroupMetadataManager` reads `GroupConfigManager` per group).
//!
//! Kafka keeps them in the metadata log; Klamm keeps them in `klamm-group-configs.json` in the
//! data directory, written atomically, as it keeps dynamic broker configs.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;
use std::sync::RwLock;

use super::{ConfigEntry, ConfigSource, Synonym};
use crate::cluster::write_atomically;
use crate::error::Error;
use crate::settings::{Kind, Settings};

pub const FILE: &str = "klamm-group-configs.json";

/// Where a group config's default and its bounds come from.
#[derive(Clone, Copy)]
enum Bound {
    /// A Klamm setting: the default, the minimum and the maximum setting names.
    Setting(&'static str, &'static str, &'static str),
    /// Kafka's built-in broker default, minimum and maximum (settings Klamm does not have yet).
    Fixed(i32, i32, i32, [&'static str; 2]),
    /// A string with Kafka's default and allowed values.
    OneOf(&'static str, &'static [&'static str]),
    /// A count from 0 with Kafka's built-in default and maximum, and the broker setting that
    /// names the maximum.
    Count(i32, i32, &'static str),
    /// `share.auto.offset.reset`: `latest` (the default), `earliest` or `by_duration:<ISO-8601
    /// duration>` (Kafka's `ShareGroupAutoOffsetResetStrategy.Validator`).
    ShareAutoOffsetReset,
    /// A dead-letter topic name (beyond Kafka 4.1, after KIP-1191): empty (off, the default) or a
    /// legal topic name starting with `errors.deadletterqueue.topic.name.prefix`.
    DeadLetterTopic,
    /// `true` or `false`, with the default.
    Boolean(bool),
}

/// A non-negative ISO-8601 duration as `java.time.Duration.parse` reads it: `PnDTnHnMn.nS`,
/// each part optional but at least one present.
fn is_iso_duration(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('P').or_else(|| s.strip_prefix('p')) else {
        return false;
    };
    let (date, time) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let parts = |text: &str, units: &[char]| -> Option<usize> {
        let mut n = 0;
        let mut text = text;
        for u in units {
            if let Some(i) = text.find([*u, u.to_ascii_lowercase()]) {
                let num = &text[..i];
                let ok = if *u == 'S' {
                    let mut it = num.splitn(2, '.');
                    let whole = it.next().unwrap_or("");
                    let frac = it.next();
                    !whole.is_empty()
                        && whole.bytes().all(|b| b.is_ascii_digit())
                        && frac.is_none_or(|f| {
                            !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit())
                        })
                } else {
                    !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit())
                };
                if !ok {
                    return None;
                }
                n += 1;
                text = &text[i + 1..];
            }
        }
        text.is_empty().then_some(n)
    };
    let Some(d) = parts(date, &['D']) else {
        return false;
    };
    match time {
        None => d > 0,
        Some(t) => parts(t, &['H', 'M', 'S']).is_some_and(|n| n > 0),
    }
}

/// One group config: Kafka's name, its bounds and documentation.
pub struct GroupDef {
    pub name: &'static str,
    bound: Bound,
    pub doc: &'static str,
}

/// Kafka's `GroupConfig.CONFIG`, in its order of definition.
pub static GROUP_DEFS: &[GroupDef] = &[
    GroupDef {
        name: "consumer.session.timeout.ms",
        bound: Bound::Setting(
            "group.consumer.session.timeout.ms",
            "group.consumer.min.session.timeout.ms",
            "group.consumer.max.session.timeout.ms",
        ),
        doc: "The timeout to detect client failures when using the consumer group protocol.",
    },
    GroupDef {
        name: "consumer.heartbeat.interval.ms",
        bound: Bound::Setting(
            "group.consumer.heartbeat.interval.ms",
            "group.consumer.min.heartbeat.interval.ms",
            "group.consumer.max.heartbeat.interval.ms",
        ),
        doc: "The heartbeat interval given to the members of a consumer group.",
    },
    GroupDef {
        name: "share.session.timeout.ms",
        bound: Bound::Setting(
            "group.share.session.timeout.ms",
            "group.share.min.session.timeout.ms",
            "group.share.max.session.timeout.ms",
        ),
        doc: "The timeout to detect client failures when using the share group protocol.",
    },
    GroupDef {
        name: "share.heartbeat.interval.ms",
        bound: Bound::Setting(
            "group.share.heartbeat.interval.ms",
            "group.share.min.heartbeat.interval.ms",
            "group.share.max.heartbeat.interval.ms",
        ),
        doc: "The heartbeat interval given to the members of a share group.",
    },
    GroupDef {
        name: "share.record.lock.duration.ms",
        bound: Bound::Setting(
            "group.share.record.lock.duration.ms",
            "group.share.min.record.lock.duration.ms",
            "group.share.max.record.lock.duration.ms",
        ),
        doc: "The record acquisition lock duration in milliseconds for share groups.",
    },
    GroupDef {
        name: "share.auto.offset.reset",
        bound: Bound::ShareAutoOffsetReset,
        doc: "The strategy to initialize the share-partition start offset.",
    },
    GroupDef {
        name: "share.isolation.level",
        bound: Bound::OneOf("read_uncommitted", &["read_committed", "read_uncommitted"]),
        doc: "Whether a share group reads transactional records committed only or all of them.",
    },
    // Beyond Kafka 4.1 (Kafka adds share-group dead-letter queues with KIP-1191): records a share
    // group rejects, or archives at the delivery limit, are copied to this topic.
    GroupDef {
        name: "errors.deadletterqueue.topic.name",
        bound: Bound::DeadLetterTopic,
        doc: "Klamm (after KIP-1191): the topic that records of this share group are copied to when a consumer REJECTs them or they reach group.share.delivery.count.limit; empty (the default) copies nothing.",
    },
    GroupDef {
        name: "errors.deadletterqueue.copy.record.enable",
        bound: Bound::Boolean(true),
        doc: "Klamm (after KIP-1191): copy the record's key, value and headers to the dead-letter topic (true, the default), or only the dead-letter headers naming it (false).",
    },
    // KIP-1071 streams groups (not served by Klamm): stored, validated and described as the
    // share settings are.
    GroupDef {
        name: "streams.session.timeout.ms",
        bound: Bound::Fixed(
            45000,
            45000,
            60000,
            [
                "group.streams.min.session.timeout.ms",
                "group.streams.max.session.timeout.ms",
            ],
        ),
        doc: "The timeout to detect client failures when using the streams group protocol.",
    },
    GroupDef {
        name: "streams.heartbeat.interval.ms",
        bound: Bound::Fixed(
            5000,
            5000,
            15000,
            [
                "group.streams.min.heartbeat.interval.ms",
                "group.streams.max.heartbeat.interval.ms",
            ],
        ),
        doc: "The heartbeat interval given to the members of a streams group.",
    },
    GroupDef {
        name: "streams.num.standby.replicas",
        bound: Bound::Count(0, 2, "group.streams.max.standby.replicas"),
        doc: "The number of standby replicas for each task of a streams group.",
    },
];

pub fn find(name: &str) -> Option<&'static GroupDef> {
    GROUP_DEFS.iter().find(|d| d.name == name)
}

impl GroupDef {
    pub fn kind(&self) -> Kind {
        match self.bound {
            Bound::OneOf(..) | Bound::ShareAutoOffsetReset | Bound::DeadLetterTopic => Kind::String,
            Bound::Boolean(_) => Kind::Boolean,
            _ => Kind::Int,
        }
    }

    /// The value an unset config has: the broker's setting it defaults to.
    pub fn default_value(&self, s: &Settings) -> String {
        match self.bound {
            Bound::Setting(d, _, _) => s.i32(d).to_string(),
            Bound::Fixed(d, _, _, _) => d.to_string(),
            Bound::OneOf(d, _) => d.to_string(),
            Bound::Count(d, _, _) => d.to_string(),
            Bound::ShareAutoOffsetReset => "latest".to_string(),
            Bound::DeadLetterTopic => String::new(),
            Bound::Boolean(d) => d.to_string(),
        }
    }

    /// Kafka's `ConfigDef.parse` plus `GroupConfig.validateValues`' range checks, with its
    /// messages; failures are INVALID_CONFIG.
    fn check(&self, s: &Settings, raw: &str) -> Result<String, Error> {
        let v = raw.trim();
        let int = |v: &str| {
            v.parse::<i32>().map_err(|_| {
                Error::InvalidConfig(format!(
                    "Invalid value {v} for configuration {}: Not a number of type INT",
                    self.name
                ))
            })
        };
        let range = |n: i32, min: i32, max: i32, names: [&str; 2]| {
            if n < 1 {
                return Err(Error::InvalidConfig(format!(
                    "Invalid value {n} for configuration {}: Value must be at least 1",
                    self.name
                )));
            }
            if n < min {
                return Err(Error::InvalidConfig(format!(
                    "{} must be greater than or equal to {}",
                    self.name, names[0]
                )));
            }
            if n > max {
                return Err(Error::InvalidConfig(format!(
                    "{} must be less than or equal to {}",
                    self.name, names[1]
                )));
            }
            Ok(n.to_string())
        };
        match self.bound {
            Bound::Setting(_, min, max) => range(int(v)?, s.i32(min), s.i32(max), [min, max]),
            Bound::Fixed(_, min, max, names) => range(int(v)?, min, max, names),
            Bound::ShareAutoOffsetReset => {
                let ok = match v.strip_prefix("by_duration:") {
                    Some(d) => is_iso_duration(d),
                    None => v == "latest" || v == "earliest",
                };
                if ok {
                    Ok(v.to_string())
                } else {
                    Err(Error::InvalidConfig(format!(
                        "Invalid value {v} for configuration {name}: Invalid value `{v}` for \
                         configuration {name}. The value must be either 'earliest', 'latest' or \
                         of the format 'by_duration:<PnDTnHnMn.nS>'.",
                        name = self.name
                    )))
                }
            }
            Bound::DeadLetterTopic => {
                let prefix = s.string("errors.deadletterqueue.topic.name.prefix");
                let legal = v.len() <= 249
                    && v != "."
                    && v != ".."
                    && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
                if v.is_empty() || (legal && v.starts_with(prefix.as_str())) {
                    Ok(v.to_string())
                } else {
                    Err(Error::InvalidConfig(format!(
                        "Invalid value {v} for configuration {}: a dead-letter topic must be a legal topic name starting with '{prefix}' (errors.deadletterqueue.topic.name.prefix)",
                        self.name
                    )))
                }
            }
            Bound::Boolean(_) => match v.to_ascii_lowercase().as_str() {
                "true" | "false" => Ok(v.to_ascii_lowercase()),
                _ => Err(Error::InvalidConfig(format!(
                    "Invalid value {v} for configuration {}: Expected value to be either true or false",
                    self.name
                ))),
            },
            Bound::Count(_, max, max_name) => {
                let n = int(v)?;
                if n < 0 {
                    return Err(Error::InvalidConfig(format!(
                        "Invalid value {n} for configuration {}: Value must be at least 0",
                        self.name
                    )));
                }
                if n > max {
                    return Err(Error::InvalidConfig(format!(
                        "{} must be less than or equal to {max_name}",
                        self.name
                    )));
                }
                Ok(n.to_string())
            }
            Bound::OneOf(_, allowed) => {
                if allowed.contains(&v) {
                    Ok(v.to_string())
                } else {
                    Err(Error::InvalidConfig(format!(
                        "Invalid value {v} for configuration {}: String must be one of: {}",
                        self.name,
                        allowed.join(", ")
                    )))
                }
            }
        }
    }
}

/// Kafka's `GroupConfig.validate`: only group config names, each value valid and within the
/// broker's bounds, and each session timeout greater than its heartbeat interval (with the
/// unset ones at their defaults). Returns the normalized configs.
pub fn validate(
    s: &Settings,
    configs: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    if let Some(unknown) = configs.keys().find(|k| find(k).is_none()) {
        return Err(Error::InvalidConfig(format!(
            "Unknown group config name: {unknown}"
        )));
    }
    let mut out = BTreeMap::new();
    for def in GROUP_DEFS {
        if let Some(v) = configs.get(def.name) {
            out.insert(def.name.to_string(), def.check(s, v)?);
        }
    }
    let value = |name: &str| -> i64 {
        out.get(name)
            .cloned()
            .or_else(|| find(name).map(|d| d.default_value(s)))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    for kind in ["consumer", "share", "streams"] {
        let session = format!("{kind}.session.timeout.ms");
        let hb = format!("{kind}.heartbeat.interval.ms");
        if value(&session) <= value(&hb) {
            return Err(Error::InvalidConfig(format!(
                "{session} must be greater than {hb}"
            )));
        }
    }
    Ok(out)
}

/// Every group config of a group with explicit `overrides` (Kafka's
/// `ConfigHelper.createGroupConfigEntry`): GROUP_CONFIG with that one synonym when set, else
/// DEFAULT_CONFIG with the default as its one synonym (Kafka's `GroupConfig` holds the broker's
/// defaults as the group's own defaults, so the synonym carries the config's own name).
pub fn describe(s: &Settings, overrides: &BTreeMap<String, String>) -> Vec<ConfigEntry> {
    GROUP_DEFS
        .iter()
        .map(|def| {
            let set = overrides.get(def.name);
            let value = set.cloned().unwrap_or_else(|| def.default_value(s));
            let synonyms = vec![Synonym {
                name: def.name.to_string(),
                value: Some(value.clone()),
                source: if set.is_some() {
                    ConfigSource::Group
                } else {
                    ConfigSource::Default
                },
            }];
            ConfigEntry {
                name: def.name.to_string(),
                value: Some(value),
                source: if set.is_some() {
                    ConfigSource::Group
                } else {
                    ConfigSource::Default
                },
                synonyms,
                kind: Some(def.kind()),
                doc: Some(def.doc),
                read_only: false,
                sensitive: false,
            }
        })
        .collect()
}

/// Every group's explicit configs, persisted in the data directory.
#[derive(Default)]
pub struct GroupConfigStore {
    groups: RwLock<BTreeMap<String, BTreeMap<String, String>>>,
}

impl GroupConfigStore {
    /// Reads the file; a missing file is no group configs.
    pub fn load(dir: &Path) -> io::Result<GroupConfigStore> {
        let groups = crate::cluster::read_json(&dir.join(FILE))?.unwrap_or_default();
        Ok(GroupConfigStore {
            groups: RwLock::new(groups),
        })
    }

    /// The explicit configs of `group` (empty when none are set).
    pub fn get(&self, group: &str) -> BTreeMap<String, String> {
        self.groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(group)
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces the explicit configs of `group` (none: removes the group) and persists.
    pub fn set(
        &self,
        dir: &Path,
        group: &str,
        configs: BTreeMap<String, String>,
    ) -> io::Result<()> {
        // Writers are serialised by the caller (the log manager's admin lock); the file is
        // written without holding the map's lock, which every KIP-848 heartbeat reads.
        let mut next = self
            .groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if configs.is_empty() {
            if next.remove(group).is_none() {
                return Ok(());
            }
        } else {
            next.insert(group.to_string(), configs);
        }
        let body = serde_json::to_vec_pretty(&next).map_err(io::Error::other)?;
        write_atomically(&dir.join(FILE), &body)?;
        *self.groups.write().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(())
    }

    /// The session timeout and heartbeat interval of consumer group `group`: its
    /// `consumer.*` configs when set, else `session` and `heartbeat` (the broker's).
    pub fn consumer_timeouts(&self, group: &str, session: i32, heartbeat: i32) -> (i32, i32) {
        let groups = self.groups.read().unwrap_or_else(|e| e.into_inner());
        let Some(c) = groups.get(group) else {
            return (session, heartbeat);
        };
        // Values were validated when set; one edited by hand into the file below 1 ms is not
        // used (as the broker's own `group.consumer.*` values are clamped).
        let get = |k: &str, d: i32| {
            c.get(k)
                .and_then(|v| v.parse::<i32>().ok())
                .filter(|v| *v >= 1)
                .unwrap_or(d)
        };
        (
            get("consumer.session.timeout.ms", session),
            get("consumer.heartbeat.interval.ms", heartbeat),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn validation_follows_kafka() {
        let s = Settings::defaults();
        let e = validate(&s, &map(&[("consumer.session.timeout.ms", "1000")])).unwrap_err();
        assert_eq!(e.code(), 40);
        assert_eq!(
            e.to_string(),
            "consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms"
        );
        let e = validate(&s, &map(&[("consumer.heartbeat.interval.ms", "20000")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms"
        );
        let e = validate(&s, &map(&[("x.y", "1")])).unwrap_err();
        assert_eq!(e.to_string(), "Unknown group config name: x.y");
        let e = validate(&s, &map(&[("share.auto.offset.reset", "none")])).unwrap_err();
        assert_eq!(e.code(), 40);
        for ok in [
            "by_duration:PT1H",
            "by_duration:P1DT2H3M4.5S",
            "by_duration:P2D",
        ] {
            assert!(
                validate(&s, &map(&[("share.auto.offset.reset", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "by_duration:",
            "by_duration:P",
            "by_duration:PT",
            "by_duration:-PT1H",
            "by_duration:1H",
        ] {
            assert!(
                validate(&s, &map(&[("share.auto.offset.reset", bad)])).is_err(),
                "{bad}"
            );
        }
        let e = validate(&s, &map(&[("streams.num.standby.replicas", "3")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "streams.num.standby.replicas must be less than or equal to group.streams.max.standby.replicas"
        );
        let ok = validate(
            &s,
            &map(&[
                ("consumer.session.timeout.ms", " 50000"),
                ("share.auto.offset.reset", "earliest"),
            ]),
        )
        .unwrap();
        assert_eq!(
            ok,
            map(&[
                ("consumer.session.timeout.ms", "50000"),
                ("share.auto.offset.reset", "earliest")
            ])
        );
    }

    #[test]
    fn describe_sources_and_store() {
        let s = Settings::defaults();
        let list = describe(&s, &map(&[("consumer.heartbeat.interval.ms", "6000")]));
        assert_eq!(list.len(), GROUP_DEFS.len());
        let hb = &list[1];
        assert_eq!(hb.value.as_deref(), Some("6000"));
        assert_eq!(hb.source, ConfigSource::Group);
        assert_eq!(hb.synonyms.len(), 1);
        let st = &list[0];
        assert_eq!(st.value.as_deref(), Some("45000"));
        assert_eq!(st.source, ConfigSource::Default);
        assert_eq!(st.synonyms.len(), 1);
        assert_eq!(st.synonyms[0].source, ConfigSource::Default);
        assert_eq!(st.synonyms[0].value.as_deref(), Some("45000"));
        let dir = tempfile::tempdir().unwrap();
        let store = GroupConfigStore::load(dir.path()).unwrap();
        store
            .set(
                dir.path(),
                "g",
                map(&[("consumer.heartbeat.interval.ms", "6000")]),
            )
            .unwrap();
        let again = GroupConfigStore::load(dir.path()).unwrap();
        assert_eq!(again.consumer_timeouts("g", 45000, 5000), (45000, 6000));
        assert_eq!(again.consumer_timeouts("h", 45000, 5000), (45000, 5000));
        again.set(dir.path(), "g", BTreeMap::new()).unwrap();
        assert!(GroupConfigStore::load(dir.path())
            .unwrap()
            .get("g")
            .is_empty());
    }
}
