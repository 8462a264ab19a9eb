//! Broker settings: Kafka's `server.properties` names and defaults, layered
//! defaults < config file (TOML) < `KLAMM_*` environment < command-line flags and `--override`.
//!
//! The environment maps `KLAMM_LOG_SEGMENT_BYTES` to `log.segment.bytes` (lower case, `_` to
//! `.`), the convention Kafka's own container images use for `KAFKA_*` variables.

pub mod defs;
pub mod dynamic;
pub mod value;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use defs::{Def, DEFS};
pub use value::{Kind, Validator, Value};

/// Where a setting's value came from (DescribeConfigs `config_source`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Kafka's DEFAULT_CONFIG (5).
    Default,
    /// Kafka's STATIC_BROKER_CONFIG (4): config file, environment, flag or `--override`.
    Static(String),
    /// Kafka's DYNAMIC_DEFAULT_BROKER_CONFIG (3): set with AlterConfigs on the cluster-default
    /// broker resource (empty name).
    DynamicDefaultBroker,
    /// Kafka's DYNAMIC_BROKER_CONFIG (2): set with AlterConfigs on this broker's resource.
    DynamicBroker,
}

/// A resolved setting.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub def: &'static Def,
    pub value: Value,
    pub source: Source,
}

/// What the command line contributes on top of the file and environment.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<String>,
    pub listen: Option<String>,
    pub advertised_listener: Option<String>,
    pub http_listen: Option<String>,
    /// `--override KEY=VALUE`, in order.
    pub overrides: Vec<(String, String)>,
    /// Values below the config file: what a switch such as `--dev-security` stands for, so
    /// the file, the environment and flags can still change any of them.
    pub base: Vec<(String, String)>,
}

/// Failure to load settings; the message names the offending key or file.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0}")]
    Invalid(String),
    #[error("config: {0}")]
    Config(#[from] config::ConfigError),
}

/// The broker's resolved settings.
#[derive(Clone, Debug)]
pub struct Settings {
    values: BTreeMap<&'static str, Resolved>,
    /// Keys present in the sources that Klamm does not know (warned about at start-up).
    pub unknown_keys: Vec<String>,
    /// Kafka's per-listener settings, `listener.name.<lower-case listener name>.<setting>`
    /// (`KafkaConfig.valuesWithPrefixOverride`), raw as given; read through
    /// [`Settings::listener_value`].
    prefixed: BTreeMap<String, String>,
}

/// The prefix of Kafka's per-listener settings.
pub const LISTENER_PREFIX: &str = "listener.name.";

/// Environment variables that belong to the command line, not to the settings registry.
const NON_SETTING_ENV: &[&str] = &["config", "log.format"];

impl Settings {
    /// Resolves every setting in [`DEFS`] from the layered sources.
    pub fn load(cli: &Overrides) -> Result<Settings, SettingsError> {
        let env = config::Environment::with_prefix("KLAMM")
            .prefix_separator("_")
            .ignore_empty(true);
        Self::load_with_env(cli, env)
    }

    fn load_with_env(cli: &Overrides, env: config::Environment) -> Result<Settings, SettingsError> {
        // Raw values by Kafka name, later layers replacing earlier ones.
        let mut raw: BTreeMap<String, (String, String)> = BTreeMap::new();
        for (k, v) in &cli.base {
            raw.insert(k.clone(), (v.clone(), "--dev-security".to_string()));
        }
        if let Some(path) = &cli.config_file {
            let file = config::Config::builder()
                .add_source(
                    config::File::from(path.as_path())
                        .format(config::FileFormat::Toml)
                        .required(true),
                )
                .build()?;
            let origin = path.display().to_string();
            for (k, v) in flatten(file.try_deserialize()?)? {
                raw.insert(k, (v, origin.clone()));
            }
        }
        let env = config::Config::builder().add_source(env).build()?;
        for (k, v) in flatten(env.try_deserialize()?)? {
            let name = k.replace('_', ".");
            if !NON_SETTING_ENV.contains(&name.as_str()) {
                raw.insert(name, (v, "the environment".to_string()));
            }
        }
        for (k, v) in &cli.overrides {
            raw.insert(k.clone(), (v.clone(), "--override".to_string()));
        }
        let flags = [
            ("data.dir", &cli.data_dir),
            ("listen", &cli.listen),
            ("advertised.listener", &cli.advertised_listener),
            ("http.listen", &cli.http_listen),
        ];
        for (key, value) in flags {
            if let Some(v) = value {
                raw.insert(key.to_string(), (v.clone(), "the command line".to_string()));
            }
        }

        let mut values = BTreeMap::new();
        for def in DEFS {
            let resolved = match raw.get(def.name) {
                Some((v, origin)) => Resolved {
                    def,
                    value: value::parse(def.name, def.kind, def.validator, v)
                        .map_err(SettingsError::Invalid)?,
                    source: Source::Static(origin.clone()),
                },
                None => Resolved {
                    def,
                    value: default_value(def),
                    source: Source::Default,
                },
            };
            values.insert(def.name, resolved);
        }
        let unknown_keys = raw
            .keys()
            .filter(|k| defs::find(k).is_none() && !k.starts_with(LISTENER_PREFIX))
            .cloned()
            .collect();
        let prefixed = raw
            .iter()
            .filter(|(k, _)| k.starts_with(LISTENER_PREFIX))
            .map(|(k, (v, _))| (k.clone(), v.clone()))
            .collect();
        Ok(Settings {
            values,
            unknown_keys,
            prefixed,
        })
    }

    /// Settings with every value at its default (tests and tools).
    pub fn defaults() -> Settings {
        let values = DEFS
            .iter()
            .map(|def| {
                (
                    def.name,
                    Resolved {
                        def,
                        value: default_value(def),
                        source: Source::Default,
                    },
                )
            })
            .collect();
        Settings {
            values,
            unknown_keys: Vec::new(),
            prefixed: BTreeMap::new(),
        }
    }

    /// A setting as one listener sees it: `listener.name.<listener lower-case>.<name>` when
    /// given (Kafka's listener prefix override), else the broker-wide value of `name` when it is
    /// in the registry and not null. `name` may itself carry a mechanism prefix
    /// (`plain.sasl.jaas.config`), which only the listener-prefixed form can hold, as in Kafka.
    pub fn listener_value(&self, listener: &str, name: &str) -> Option<String> {
        let key = format!("{LISTENER_PREFIX}{}.{name}", listener.to_ascii_lowercase());
        if let Some(v) = self.prefixed.get(&key) {
            return Some(v.clone());
        }
        let r = self.values.get(name)?;
        match r.value {
            Value::Null => None,
            _ => Some(r.value.to_string()),
        }
    }

    /// Every listener-prefixed setting given, by full key (for validation and tests).
    pub fn prefixed(&self) -> &BTreeMap<String, String> {
        &self.prefixed
    }

    /// The resolved entry for `name`. Panics on a name missing from [`DEFS`]: that is a
    /// programming error, caught by the unit tests that read every typed accessor.
    pub fn get(&self, name: &str) -> &Resolved {
        match self.values.get(name) {
            Some(r) => r,
            None => panic!("setting {name} is not in the registry"),
        }
    }

    /// These settings with dynamic broker configs layered on top (Kafka's `DynamicBrokerConfig`:
    /// per-broker values beat cluster-wide defaults, which beat static settings). Values that
    /// no longer parse are ignored; they were validated when they were stored.
    pub fn with_dynamic(
        &self,
        cluster_default: &BTreeMap<String, String>,
        per_broker: &BTreeMap<String, String>,
    ) -> Settings {
        let mut out = self.clone();
        for (layer, source) in [
            (cluster_default, Source::DynamicDefaultBroker),
            (per_broker, Source::DynamicBroker),
        ] {
            for (name, raw) in layer {
                let Some(r) = out.values.get_mut(name.as_str()) else {
                    continue;
                };
                if let Ok(v) = value::parse(r.def.name, r.def.kind, r.def.validator, raw) {
                    r.value = v;
                    r.source = source.clone();
                }
            }
        }
        out
    }

    /// Every resolved setting, in registry order.
    pub fn all(&self) -> impl Iterator<Item = &Resolved> {
        DEFS.iter().map(move |d| self.get(d.name))
    }

    pub fn i64(&self, name: &str) -> i64 {
        self.get(name).value.as_i64().unwrap_or_default()
    }

    pub fn opt_i64(&self, name: &str) -> Option<i64> {
        self.get(name).value.as_i64()
    }

    pub fn i32(&self, name: &str) -> i32 {
        self.i64(name).clamp(i32::MIN as i64, i32::MAX as i64) as i32
    }

    pub fn bool(&self, name: &str) -> bool {
        self.get(name).value.as_bool().unwrap_or_default()
    }

    pub fn f64(&self, name: &str) -> f64 {
        self.get(name).value.as_f64().unwrap_or_default()
    }

    pub fn string(&self, name: &str) -> String {
        self.get(name).value.to_string()
    }

    pub fn data_dir(&self) -> PathBuf {
        PathBuf::from(self.string("data.dir"))
    }

    pub fn node_id(&self) -> i32 {
        self.i32("node.id")
    }

    /// The Kafka listener address.
    pub fn listen(&self) -> Result<SocketAddr, SettingsError> {
        parse_addr("listen", &self.string("listen"))
    }

    pub fn http_listen(&self) -> Result<SocketAddr, SettingsError> {
        parse_addr("http.listen", &self.string("http.listen"))
    }

    /// What Metadata advertises: the configured advertised listener, or the bound address with
    /// an unspecified host (0.0.0.0, ::) replaced by `localhost`.
    pub fn advertised(&self, bound: SocketAddr) -> Result<(String, i32), SettingsError> {
        if let Some(adv) = self.get("advertised.listener").value.as_str() {
            return split_host_port(adv).ok_or_else(|| {
                SettingsError::Invalid(format!(
                    "Invalid value {adv} for configuration advertised.listener: expected HOST:PORT"
                ))
            });
        }
        let host = if bound.ip().is_unspecified() {
            "localhost".to_string()
        } else {
            bound.ip().to_string()
        };
        Ok((host, bound.port() as i32))
    }

    /// Effective `log.retention.ms` after Kafka's ms < minutes < hours fallback.
    pub fn log_retention_ms(&self) -> i64 {
        if let Some(ms) = self.opt_i64("log.retention.ms") {
            return ms;
        }
        if let Some(min) = self.opt_i64("log.retention.minutes") {
            return min.saturating_mul(60_000);
        }
        self.i64("log.retention.hours").saturating_mul(3_600_000)
    }

    /// Effective `log.roll.ms` (ms, else hours).
    pub fn log_roll_ms(&self) -> i64 {
        self.opt_i64("log.roll.ms")
            .unwrap_or_else(|| self.i64("log.roll.hours").saturating_mul(3_600_000))
    }

    /// Effective `log.roll.jitter.ms` (ms, else hours).
    pub fn log_roll_jitter_ms(&self) -> i64 {
        self.opt_i64("log.roll.jitter.ms")
            .unwrap_or_else(|| self.i64("log.roll.jitter.hours").saturating_mul(3_600_000))
    }

    /// Effective `log.flush.interval.ms` (falls back to the scheduler interval, as Kafka).
    pub fn log_flush_interval_ms(&self) -> i64 {
        self.opt_i64("log.flush.interval.ms")
            .unwrap_or_else(|| self.i64("log.flush.scheduler.interval.ms"))
    }
}

fn default_value(def: &Def) -> Value {
    match def.default {
        None => Value::Null,
        // Defaults are compile-time constants covered by a unit test; a bad one is a bug.
        Some(raw) => value::parse(def.name, def.kind, Validator::None, raw).unwrap_or(Value::Null),
    }
}

fn config_value_to_string(key: &str, v: config::Value) -> Result<String, SettingsError> {
    match v.kind {
        config::ValueKind::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                parts.push(item.into_string().map_err(|_| {
                    SettingsError::Invalid(format!(
                        "Invalid value for configuration {key}: list elements must be strings"
                    ))
                })?);
            }
            Ok(parts.join(","))
        }
        config::ValueKind::Table(_) => Err(SettingsError::Invalid(format!(
            "Invalid value for configuration {key}: expected a value, found a table"
        ))),
        config::ValueKind::Nil => Ok(String::new()),
        _ => v
            .into_string()
            .map_err(|e| SettingsError::Invalid(e.to_string())),
    }
}

/// Flattens a parsed source into `name -> raw value`. Both spellings of a Kafka name work in
/// TOML: a quoted key (`"max.connections.per.ip" = 10`) and dotted tables
/// (`log.segment.bytes = 1048576`); quoting is needed where one name is a prefix of another.
fn flatten(tree: BTreeMap<String, config::Value>) -> Result<Vec<(String, String)>, SettingsError> {
    fn walk(
        prefix: &str,
        v: config::Value,
        out: &mut Vec<(String, String)>,
    ) -> Result<(), SettingsError> {
        match v.kind {
            config::ValueKind::Table(t) => {
                for (k, child) in t {
                    walk(&format!("{prefix}.{k}"), child, out)?;
                }
                Ok(())
            }
            _ => {
                out.push((prefix.to_string(), config_value_to_string(prefix, v)?));
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    for (k, v) in tree {
        walk(&k, v, &mut out)?;
    }
    Ok(out)
}

fn parse_addr(key: &str, raw: &str) -> Result<SocketAddr, SettingsError> {
    use std::net::ToSocketAddrs;
    raw.to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| {
            SettingsError::Invalid(format!(
                "Invalid value {raw} for configuration {key}: expected HOST:PORT"
            ))
        })
}

fn split_host_port(s: &str) -> Option<(String, i32)> {
    let (host, port) = s.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_string(), port as i32))
}

/// The documented default config file.
pub fn default_config_path() -> &'static Path {
    Path::new("config/klamm.toml")
}

/// Renders `config/klamm.toml`: every setting with its default and one comment line. Settings
/// whose default is null are listed commented out. A unit test keeps the checked-in file equal
/// to this rendering, so the file is always the complete reference.
pub fn render_default_toml() -> String {
    let mut out = String::from(
        "# Klamm broker settings: every setting, its default, and what it does.\n\
         # Names and defaults are Apache Kafka's server.properties ones where Kafka has the setting.\n\
         # Precedence: defaults < this file < KLAMM_* environment (KLAMM_LOG_SEGMENT_BYTES sets\n\
         # log.segment.bytes) < command-line flags and --override KEY=VALUE.\n",
    );
    for def in DEFS {
        out.push('\n');
        out.push_str(&format!("# {}\n", def.doc));
        match def.default {
            None => out.push_str(&format!("# \"{}\" =\n", def.name)),
            Some(raw) => {
                let rendered = match def.kind {
                    Kind::String | Kind::List | Kind::Password => format!("\"{raw}\""),
                    _ => raw.to_string(),
                };
                out.push_str(&format!("\"{}\" = {rendered}\n", def.name));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env() -> config::Environment {
        config::Environment::with_prefix("KLAMM")
            .prefix_separator("_")
            .source(Some(Default::default()))
    }

    #[test]
    fn every_default_parses_and_validates() {
        for def in DEFS {
            if let Some(raw) = def.default {
                value::parse(def.name, def.kind, def.validator, raw)
                    .unwrap_or_else(|e| panic!("default of {}: {e}", def.name));
            }
        }
    }

    #[test]
    fn layering_file_env_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(
            &path,
            "num.partitions = 4\nlog.segment.bytes = 2097152\nlisten = \"127.0.0.1:1\"\nbogus.key = 1\n\"max.connections.per.ip\" = 7\n",
        )
        .unwrap();
        let mut env_map = config::Map::new();
        env_map.insert("KLAMM_NUM_PARTITIONS".to_string(), "5".to_string());
        env_map.insert("KLAMM_LOG_FLUSH_BEFORE_ACK".to_string(), "true".to_string());
        let env = config::Environment::with_prefix("KLAMM")
            .prefix_separator("_")
            .source(Some(env_map));
        let cli = Overrides {
            config_file: Some(path),
            listen: Some("127.0.0.1:2".into()),
            overrides: vec![("log.segment.bytes".into(), "3145728".into())],
            ..Default::default()
        };
        let s = Settings::load_with_env(&cli, env).unwrap();
        assert_eq!(s.i32("num.partitions"), 5, "env beats file");
        assert_eq!(s.i32("log.segment.bytes"), 3145728, "override beats file");
        assert_eq!(s.string("listen"), "127.0.0.1:2", "flag beats file");
        assert!(s.bool("log.flush.before.ack"));
        assert_eq!(s.i32("max.connections.per.ip"), 7, "quoted dotted key");
        assert_eq!(s.i32("message.max.bytes"), 1048588);
        assert_eq!(s.get("message.max.bytes").source, Source::Default);
        assert_eq!(s.unknown_keys, vec!["bogus.key".to_string()]);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let cli = Overrides {
            overrides: vec![("num.partitions".into(), "0".into())],
            ..Default::default()
        };
        let err = Settings::load_with_env(&cli, no_env())
            .unwrap_err()
            .to_string();
        assert!(err.contains("num.partitions"), "{err}");
    }

    #[test]
    fn checked_in_config_file_lists_every_setting_with_its_default() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(default_config_path());
        if std::env::var_os("KLAMM_WRITE_CONFIG").is_some() {
            std::fs::write(&path, render_default_toml()).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            on_disk,
            render_default_toml(),
            "regenerate with KLAMM_WRITE_CONFIG=1 cargo test"
        );
        let cli = Overrides {
            config_file: Some(path),
            ..Default::default()
        };
        let loaded = Settings::load_with_env(&cli, no_env()).unwrap();
        assert!(loaded.unknown_keys.is_empty(), "{:?}", loaded.unknown_keys);
        let defaults = Settings::defaults();
        for def in DEFS {
            assert_eq!(
                loaded.get(def.name).value,
                defaults.get(def.name).value,
                "{}",
                def.name
            );
        }
    }

    #[test]
    fn retention_and_roll_fallbacks() {
        let s = Settings::defaults();
        assert_eq!(s.log_retention_ms(), 168 * 3_600_000);
        assert_eq!(s.log_roll_ms(), 168 * 3_600_000);
        assert_eq!(s.log_flush_interval_ms(), i64::MAX);
    }

    #[test]
    fn advertised_defaults_to_localhost_for_unspecified_host() {
        let s = Settings::defaults();
        let bound: SocketAddr = "0.0.0.0:9092".parse().unwrap();
        assert_eq!(s.advertised(bound).unwrap(), ("localhost".into(), 9092));
        let bound: SocketAddr = "127.0.0.1:1234".parse().unwrap();
        assert_eq!(s.advertised(bound).unwrap(), ("127.0.0.1".into(), 1234));
    }
}
