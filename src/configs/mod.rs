//! Config administration: what DescribeConfigs, CreateTopics (v5+) and the AlterConfigs APIs
//! report and change, for TOPIC, BROKER and GROUP resources (Kafka's `ConfigHelper` and
//! `ConfigAdminManager`).
//!
//! A topic's value comes from its override, else from the broker setting it falls back to; a
//! broker setting's value comes from a dynamic per-broker value, else a dynamic cluster
//! default, else the static configuration (file, environment, `--override`), else its default.
//! Synonyms list every place a value could come from, most specific first, as Kafka does.

pub mod alter;
pub mod group;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::log::config::{self as topic_config, TopicDef, TOPIC_DEFS};
use crate::settings::dynamic::DynamicConfigs;
use crate::settings::{defs, Kind, Settings, Source};

/// `ConfigResource.Type` ids used on the wire.
pub mod resource_type {
    pub const TOPIC: i8 = 2;
    pub const BROKER: i8 = 4;
    pub const BROKER_LOGGER: i8 = 8;
    pub const GROUP: i8 = 32;
}

/// DescribeConfigs `config_source` codes (Kafka's `DescribeConfigsResponse.ConfigSource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    DynamicTopic = 1,
    DynamicBroker = 2,
    DynamicDefaultBroker = 3,
    StaticBroker = 4,
    Default = 5,
    /// Set on a GROUP resource (KIP-848's `GROUP_CONFIG`).
    Group = 8,
}

/// One synonym of a config: where a value could come from, most specific first.
#[derive(Clone, Debug, PartialEq)]
pub struct Synonym {
    pub name: String,
    pub value: Option<String>,
    pub source: ConfigSource,
}

/// A config as DescribeConfigs reports it.
#[derive(Clone, Debug)]
pub struct ConfigEntry {
    pub name: String,
    /// `None` for a null value (and for sensitive values).
    pub value: Option<String>,
    pub source: ConfigSource,
    pub synonyms: Vec<Synonym>,
    /// `None` when the name is not a known config (DescribeConfigs type UNKNOWN).
    pub kind: Option<Kind>,
    pub doc: Option<&'static str>,
    pub read_only: bool,
    pub sensitive: bool,
}

impl ConfigEntry {
    /// `DescribeConfigsResponse.ConfigType` code (0 = UNKNOWN).
    pub fn type_code(&self) -> i8 {
        self.kind.map(Kind::describe_code).unwrap_or(0)
    }
}

/// The broker's config layers at one moment.
#[derive(Clone)]
pub struct BrokerConfigView {
    /// Static settings (defaults, file, environment, flags).
    pub base: Arc<Settings>,
    pub dynamic: DynamicConfigs,
    /// Static settings with the dynamic layers applied.
    pub effective: Arc<Settings>,
}

/// Kafka's `DynamicBrokerConfig.brokerConfigSynonyms`: the names one broker setting may be
/// given under, in precedence order.
pub fn broker_synonyms(name: &str) -> Vec<&str> {
    match name {
        "log.roll.ms" | "log.roll.hours" => vec!["log.roll.ms", "log.roll.hours"],
        "log.roll.jitter.ms" | "log.roll.jitter.hours" => {
            vec!["log.roll.jitter.ms", "log.roll.jitter.hours"]
        }
        "log.flush.interval.ms" => vec!["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
        "log.retention.ms" | "log.retention.minutes" | "log.retention.hours" => {
            vec![
                "log.retention.ms",
                "log.retention.minutes",
                "log.retention.hours",
            ]
        }
        other => vec![other],
    }
}

/// Kafka's `ConfigHelper.configSynonyms`: every layer that sets one of `names`, dynamic
/// per-broker first, then dynamic default, static, and built-in default; entries before the
/// first one named `primary` are dropped (Kafka's `dropWhile`).
fn config_synonyms(view: &BrokerConfigView, primary: &str, names: &[&str]) -> Vec<Synonym> {
    let mut all = Vec::new();
    for n in names {
        if let Some(v) = view.dynamic.per_broker.get(*n) {
            all.push(syn(n, Some(v.clone()), ConfigSource::DynamicBroker));
        }
    }
    for n in names {
        if let Some(v) = view.dynamic.cluster_default.get(*n) {
            all.push(syn(n, Some(v.clone()), ConfigSource::DynamicDefaultBroker));
        }
    }
    for n in names {
        if defs::find(n).is_some() {
            let r = view.base.get(n);
            if matches!(r.source, Source::Static(_)) {
                let v = (!r.value.is_null()).then(|| r.value.to_string());
                all.push(syn(n, v, ConfigSource::StaticBroker));
            }
        }
    }
    for n in names {
        if let Some(raw) = defs::find(n).and_then(|d| d.default) {
            let def = defs::find(n).expect("found above");
            let v = crate::settings::value::parse(
                def.name,
                def.kind,
                crate::settings::Validator::None,
                raw,
            )
            .map(|v| v.to_string())
            .unwrap_or_else(|_| raw.to_string());
            all.push(syn(n, Some(v), ConfigSource::Default));
        }
    }
    match all.iter().position(|s| s.name == primary) {
        Some(i) => all.split_off(i),
        None => Vec::new(),
    }
}

fn syn(name: &str, value: Option<String>, source: ConfigSource) -> Synonym {
    Synonym {
        name: name.to_string(),
        value,
        source,
    }
}

/// Every topic config with its effective value, source and synonyms (Kafka's
/// `ConfigHelper.createTopicConfigEntry`), for a topic with `overrides`.
pub fn describe_topic(
    view: &BrokerConfigView,
    overrides: &BTreeMap<String, String>,
) -> Vec<ConfigEntry> {
    TOPIC_DEFS
        .iter()
        .map(|def| topic_entry(view, overrides, def))
        .collect()
}

fn topic_entry(
    view: &BrokerConfigView,
    overrides: &BTreeMap<String, String>,
    def: &'static TopicDef,
) -> ConfigEntry {
    let value = overrides.get(def.name).cloned().or_else(|| {
        let v = topic_config::default_value(def, &view.effective);
        (!v.is_null()).then(|| v.to_string())
    });
    let mut synonyms = match topic_config::primary_broker_synonym(def) {
        Some(primary) => config_synonyms(view, primary, &broker_synonyms(primary)),
        None => Vec::new(),
    };
    if overrides.contains_key(def.name) {
        synonyms.insert(0, syn(def.name, value.clone(), ConfigSource::DynamicTopic));
    }
    let source = synonyms
        .first()
        .map(|s| s.source)
        .unwrap_or(ConfigSource::Default);
    ConfigEntry {
        name: def.name.to_string(),
        value,
        source,
        synonyms,
        kind: Some(def.kind),
        doc: Some(def.doc),
        read_only: false,
        sensitive: false,
    }
}

/// A broker resource's configs (Kafka's `ConfigHelper.createBrokerConfigEntry`): for this
/// broker (`per_broker`) every setting with its effective value; for the cluster default (empty
/// resource name) only the dynamic defaults that are set, with only dynamic-default synonyms.
///
/// Names Klamm does not know that were stored dynamically (AlterConfigs keeps them, as Kafka's
/// `DynamicBrokerConfig` does) are listed for this broker too: Kafka describes
/// `KafkaConfig.originals`, which holds every dynamic name, so `kafka-configs --describe` shows
/// what `--add-config` stored.
pub fn describe_broker(view: &BrokerConfigView, per_broker: bool) -> Vec<ConfigEntry> {
    if per_broker {
        let mut entries: Vec<ConfigEntry> = defs::DEFS
            .iter()
            .map(|def| {
                let r = view.effective.get(def.name);
                let value = (!r.value.is_null()).then(|| r.value.to_string());
                broker_entry(view, def.name, value, true)
            })
            .collect();
        // Per-broker values win over cluster defaults, as in the effective settings.
        let mut unknown: BTreeMap<&str, &str> = BTreeMap::new();
        for layer in [&view.dynamic.cluster_default, &view.dynamic.per_broker] {
            for (name, value) in layer.iter().filter(|(n, _)| defs::find(n).is_none()) {
                unknown.insert(name, value);
            }
        }
        entries.extend(
            unknown
                .into_iter()
                .map(|(name, value)| broker_entry(view, name, Some(value.to_string()), true)),
        );
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    } else {
        view.dynamic
            .cluster_default
            .iter()
            .map(|(name, raw)| broker_entry(view, name, Some(raw.clone()), false))
            .collect()
    }
}

fn broker_entry(
    view: &BrokerConfigView,
    name: &str,
    value: Option<String>,
    per_broker: bool,
) -> ConfigEntry {
    let def = defs::find(name);
    // Kafka's `KafkaConfig.maybeSensitive`: a name whose type is unknown is treated as
    // sensitive, to be safe (its value is never returned).
    let sensitive = def.is_none_or(|d| d.kind == Kind::Password);
    let synonyms: Vec<Synonym> = config_synonyms(view, name, &broker_synonyms(name))
        .into_iter()
        .filter(|s| per_broker || s.source == ConfigSource::DynamicDefaultBroker)
        .map(|mut s| {
            if sensitive {
                s.value = None;
            }
            s
        })
        .collect();
    let source = synonyms
        .first()
        .map(|s| s.source)
        .unwrap_or(ConfigSource::Default);
    ConfigEntry {
        name: name.to_string(),
        value: if sensitive { None } else { value },
        source,
        synonyms,
        kind: def.map(|d| d.kind),
        doc: def.map(|d| d.doc),
        read_only: !defs::is_dynamic(name),
        sensitive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(base: Settings, dynamic: DynamicConfigs) -> BrokerConfigView {
        let effective = base.with_dynamic(&dynamic.cluster_default, &dynamic.per_broker);
        BrokerConfigView {
            base: Arc::new(base),
            dynamic,
            effective: Arc::new(effective),
        }
    }

    fn entry<'a>(list: &'a [ConfigEntry], name: &str) -> &'a ConfigEntry {
        list.iter().find(|e| e.name == name).unwrap()
    }

    #[test]
    fn topic_sources_and_synonyms_follow_kafka() {
        let v = view(Settings::defaults(), DynamicConfigs::default());
        let mut o = BTreeMap::new();
        o.insert("cleanup.policy".to_string(), "compact".to_string());
        let list = describe_topic(&v, &o);
        let cp = entry(&list, "cleanup.policy");
        assert_eq!(cp.source, ConfigSource::DynamicTopic);
        assert_eq!(cp.value.as_deref(), Some("compact"));
        assert_eq!(cp.synonyms.len(), 2);
        assert_eq!(
            cp.synonyms[1],
            syn(
                "log.cleanup.policy",
                Some("delete".into()),
                ConfigSource::Default
            )
        );
        // retention.ms: log.retention.ms has no default, so Kafka drops the hours synonym.
        let r = entry(&list, "retention.ms");
        assert_eq!(r.value.as_deref(), Some("604800000"));
        assert_eq!(r.source, ConfigSource::Default);
        assert!(r.synonyms.is_empty());
        let sb = entry(&list, "segment.bytes");
        assert_eq!(sb.synonyms[0].name, "log.segment.bytes");
        assert_eq!(
            entry(&list, "min.cleanable.dirty.ratio").value.as_deref(),
            Some("0.5")
        );
    }

    #[test]
    fn dynamic_broker_layers() {
        let mut d = DynamicConfigs::default();
        d.cluster_default
            .insert("log.retention.ms".into(), "1000".into());
        d.per_broker
            .insert("log.retention.ms".into(), "2000".into());
        let v = view(Settings::defaults(), d);
        let list = describe_topic(&v, &BTreeMap::new());
        let r = entry(&list, "retention.ms");
        assert_eq!(r.value.as_deref(), Some("2000"));
        assert_eq!(r.source, ConfigSource::DynamicBroker);
        assert_eq!(r.synonyms[1].source, ConfigSource::DynamicDefaultBroker);
        let broker = describe_broker(&v, true);
        let b = entry(&broker, "log.retention.ms");
        assert_eq!(b.value.as_deref(), Some("2000"));
        assert!(!b.read_only);
        assert!(entry(&broker, "listen").read_only);
        let cluster = describe_broker(&v, false);
        assert_eq!(cluster.len(), 1);
        assert_eq!(cluster[0].value.as_deref(), Some("1000"));
        assert_eq!(cluster[0].source, ConfigSource::DynamicDefaultBroker);
    }

    /// Names Klamm does not know, stored dynamically, are described (Kafka lists
    /// `KafkaConfig.originals`) as sensitive with a null value (`KafkaConfig.maybeSensitive`).
    #[test]
    fn unknown_dynamic_names_are_described_as_sensitive() {
        let mut d = DynamicConfigs::default();
        d.cluster_default
            .insert("num.io.threads".into(), "4".into());
        d.cluster_default.insert("x.custom".into(), "a".into());
        d.per_broker.insert("x.custom".into(), "b".into());
        let v = view(Settings::defaults(), d);
        let broker = describe_broker(&v, true);
        let names: Vec<&str> = broker.iter().map(|e| e.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let custom = entry(&broker, "x.custom");
        assert!(custom.sensitive && custom.read_only);
        assert_eq!(custom.value, None);
        assert_eq!(custom.source, ConfigSource::DynamicBroker);
        let sources: Vec<(ConfigSource, Option<&str>)> = custom
            .synonyms
            .iter()
            .map(|s| (s.source, s.value.as_deref()))
            .collect();
        assert_eq!(
            sources,
            vec![
                (ConfigSource::DynamicBroker, None),
                (ConfigSource::DynamicDefaultBroker, None)
            ]
        );
        assert_eq!(
            entry(&broker, "num.io.threads").source,
            ConfigSource::DynamicDefaultBroker
        );
        assert_eq!(custom.type_code(), 0);
        let cluster = describe_broker(&v, false);
        assert_eq!(cluster.len(), 2);
        assert!(cluster.iter().all(|e| e.sensitive && e.value.is_none()));
        // Known settings keep their values.
        assert_eq!(entry(&broker, "node.id").value.as_deref(), Some("0"));
        assert!(!entry(&broker, "node.id").sensitive);
    }
}

/// The README's tables of every topic config and broker setting with its default, generated
/// from the registries so the documentation cannot drift (a unit test compares them).
pub fn render_readme_tables() -> String {
    let defaults = Settings::defaults();
    let view = BrokerConfigView {
        base: Arc::new(Settings::defaults()),
        dynamic: DynamicConfigs::default(),
        effective: Arc::new(defaults),
    };
    let mut out = String::new();
    out.push_str("### Topic configs\n\n");
    out.push_str("Set with CreateTopics, AlterConfigs or IncrementalAlterConfigs; unset configs follow the broker setting named in the third column.\n\n");
    out.push_str("| config | default | broker default from | |\n|---|---|---|---|\n");
    for e in describe_topic(&view, &BTreeMap::new()) {
        let def = topic_config::find(&e.name).expect("registry entry");
        let from = topic_config::primary_broker_synonym(def)
            .map(|s| format!("`{}`", broker_synonyms(s).join("`, `")))
            .unwrap_or_default();
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.name,
            match e.value.as_deref() {
                None => "null".to_string(),
                Some("") => "(empty)".to_string(),
                Some(v) => format!("`{v}`"),
            },
            from,
            def.doc
        ));
    }
    out.push_str("\n### Broker settings\n\n");
    out.push_str("Set in `config/klamm.toml`, the environment or `--override`; the ones marked dynamic can also be changed at run time with AlterConfigs on the broker (`0`) or cluster-default (empty name) resource, take effect at once and persist in `klamm-broker-configs.json`.\n\n");
    out.push_str("| setting | default | dynamic | |\n|---|---|---|---|\n");
    for def in defs::DEFS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            def.name,
            def.default
                .map(|v| format!("`{v}`"))
                .unwrap_or_else(|| "null".into()),
            if defs::is_dynamic(def.name) {
                "yes"
            } else {
                ""
            },
            def.doc
        ));
    }
    out
}

#[cfg(test)]
mod readme_tests {
    /// README.md's config tables (between the markers) are the generated ones. Regenerate with
    /// `KLAMM_WRITE_README=1 cargo test --lib configs`.
    #[test]
    fn readme_lists_every_config_with_its_default() {
        const BEGIN: &str =
            "<!-- configs:begin (generated: KLAMM_WRITE_README=1 cargo test --lib configs) -->\n";
        const END: &str = "<!-- configs:end -->";
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap_or_default();
        let tables = super::render_readme_tables();
        let (Some(b), Some(e)) = (readme.find(BEGIN), readme.find(END)) else {
            panic!("README.md has no generated config section; add the markers");
        };
        let current = &readme[b + BEGIN.len()..e];
        if current != tables && std::env::var_os("KLAMM_WRITE_README").is_some() {
            let updated = format!("{}{}{}{}", &readme[..b], BEGIN, tables, &readme[e..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            current, tables,
            "regenerate with KLAMM_WRITE_README=1 cargo test --lib configs"
        );
    }
}
