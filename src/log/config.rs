//! Per-topic configs (Kafka's `LogConfig`): names, types, validation, and the broker settings
//! that supply their defaults (Kafka's `ServerTopicConfigSynonyms`).
//!
//! A topic stores only its explicit overrides; everything else follows the broker default, so
//! changing a broker default changes every topic that did not override it, as in Kafka.

use std::collections::BTreeMap;

use crate::error::Error;
use crate::log::batch::Compression;
use crate::settings::value::{self, Kind, Validator, Value};
use crate::settings::Settings;

/// How a topic config gets its default.
#[derive(Debug, Clone, Copy)]
pub enum DefaultFrom {
    /// The broker setting of this name (same type).
    Broker(&'static str),
    /// A broker setting resolved through Kafka's ms/minutes/hours fallbacks.
    RetentionMs,
    SegmentMs,
    SegmentJitterMs,
    FlushMs,
    /// A fixed value (topic configs with no broker synonym).
    Fixed(&'static str),
}

/// One topic config.
#[derive(Debug)]
pub struct TopicDef {
    pub name: &'static str,
    pub kind: Kind,
    pub validator: Validator,
    pub default: DefaultFrom,
    pub doc: &'static str,
}

use DefaultFrom as D;
use Kind::{Boolean, Double, Int, List, Long};
use Validator as V;

const COMPRESSION_TYPES: &[&str] = &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

/// Every topic config Kafka 4.1 defines (`LogConfig.CONFIG`, `TopicConfig`), in name order.
/// Tiered-storage configs are accepted with their defaults so tools that copy configs work;
/// enabling remote storage is refused as Kafka refuses it when the broker has no remote tier.
pub static TOPIC_DEFS: &[TopicDef] = &[
    TopicDef { name: "cleanup.policy", kind: List, validator: V::ListOf(&["compact", "delete"]), default: D::Broker("log.cleanup.policy"),
        doc: "delete: remove old segments by time or size; compact: keep the latest record per key; or both." },
    TopicDef { name: "compression.gzip.level", kind: Int, validator: V::BetweenOr(1, 9, -1), default: D::Broker("compression.gzip.level"),
        doc: "gzip level used when compression.type is gzip." },
    TopicDef { name: "compression.lz4.level", kind: Int, validator: V::Between(1, 17), default: D::Broker("compression.lz4.level"),
        doc: "lz4 level used when compression.type is lz4." },
    TopicDef { name: "compression.type", kind: Kind::String, validator: V::OneOf(COMPRESSION_TYPES), default: D::Broker("compression.type"),
        doc: "Final compression of stored batches; producer keeps the producer's codec." },
    TopicDef { name: "compression.zstd.level", kind: Int, validator: V::Between(-131072, 22), default: D::Broker("compression.zstd.level"),
        doc: "zstd level used when compression.type is zstd." },
    TopicDef { name: "delete.retention.ms", kind: Long, validator: V::AtLeast(0), default: D::Broker("log.cleaner.delete.retention.ms"),
        doc: "How long tombstones survive after compaction." },
    TopicDef { name: "file.delete.delay.ms", kind: Long, validator: V::AtLeast(0), default: D::Broker("log.segment.delete.delay.ms"),
        doc: "Delay before a deleted segment's files are removed." },
    TopicDef { name: "flush.messages", kind: Long, validator: V::AtLeast(1), default: D::Broker("log.flush.interval.messages"),
        doc: "fsync after this many records." },
    TopicDef { name: "flush.ms", kind: Long, validator: V::AtLeast(0), default: D::FlushMs,
        doc: "fsync when unflushed data is older than this." },
    TopicDef { name: "follower.replication.throttled.replicas", kind: List, validator: V::None, default: D::Fixed(""),
        doc: "Accepted for compatibility; a single broker has no followers." },
    TopicDef { name: "index.interval.bytes", kind: Int, validator: V::AtLeast(0), default: D::Broker("log.index.interval.bytes"),
        doc: "Bytes between sparse offset-index entries." },
    TopicDef { name: "leader.replication.throttled.replicas", kind: List, validator: V::None, default: D::Fixed(""),
        doc: "Accepted for compatibility; a single broker has no followers." },
    TopicDef { name: "local.retention.bytes", kind: Long, validator: V::AtLeast(-2), default: D::Broker("log.local.retention.bytes"),
        doc: "Local size limit with tiered storage; tiered storage is not supported, so it has no effect." },
    TopicDef { name: "local.retention.ms", kind: Long, validator: V::AtLeast(-2), default: D::Broker("log.local.retention.ms"),
        doc: "Local age limit with tiered storage; tiered storage is not supported, so it has no effect." },
    TopicDef { name: "max.compaction.lag.ms", kind: Long, validator: V::AtLeast(1), default: D::Broker("log.cleaner.max.compaction.lag.ms"),
        doc: "Maximum time a record stays uncompacted." },
    TopicDef { name: "max.message.bytes", kind: Int, validator: V::AtLeast(0), default: D::Broker("message.max.bytes"),
        doc: "Largest record batch accepted." },
    TopicDef { name: "message.timestamp.after.max.ms", kind: Long, validator: V::AtLeast(0), default: D::Broker("log.message.timestamp.after.max.ms"),
        doc: "Reject batches timestamped further in the future than this." },
    TopicDef { name: "message.timestamp.before.max.ms", kind: Long, validator: V::AtLeast(0), default: D::Broker("log.message.timestamp.before.max.ms"),
        doc: "Reject batches timestamped further in the past than this." },
    TopicDef { name: "message.timestamp.type", kind: Kind::String, validator: V::OneOf(&["CreateTime", "LogAppendTime"]), default: D::Broker("log.message.timestamp.type"),
        doc: "CreateTime keeps producer timestamps; LogAppendTime stamps batches on append." },
    TopicDef { name: "min.cleanable.dirty.ratio", kind: Double, validator: V::DoubleBetween(0.0, 1.0), default: D::Broker("log.cleaner.min.cleanable.ratio"),
        doc: "Dirty ratio above which the log is compacted." },
    TopicDef { name: "min.compaction.lag.ms", kind: Long, validator: V::AtLeast(0), default: D::Broker("log.cleaner.min.compaction.lag.ms"),
        doc: "Minimum time a record stays uncompacted." },
    TopicDef { name: "min.insync.replicas", kind: Int, validator: V::AtLeast(1), default: D::Broker("min.insync.replicas"),
        doc: "Replicas that must acknowledge acks=all writes; above 1 a single broker answers NOT_ENOUGH_REPLICAS." },
    TopicDef { name: "preallocate", kind: Boolean, validator: V::None, default: D::Broker("log.preallocate"),
        doc: "Preallocate segment files (accepted; Klamm does not preallocate)." },
    TopicDef { name: "remote.log.copy.disable", kind: Boolean, validator: V::None, default: D::Fixed("false"),
        doc: "Tiered storage: stop copying to the remote tier (no effect: tiered storage is not supported)." },
    TopicDef { name: "remote.log.delete.on.disable", kind: Boolean, validator: V::None, default: D::Fixed("false"),
        doc: "Tiered storage: delete remote data when disabling it (no effect: tiered storage is not supported)." },
    TopicDef { name: "remote.storage.enable", kind: Boolean, validator: V::None, default: D::Fixed("false"),
        doc: "Tiered storage; Klamm has no remote tier, so only false is accepted." },
    TopicDef { name: "retention.bytes", kind: Long, validator: V::None, default: D::Broker("log.retention.bytes"),
        doc: "Maximum partition size before old segments are deleted; -1 is unlimited." },
    TopicDef { name: "retention.ms", kind: Long, validator: V::AtLeast(-1), default: D::RetentionMs,
        doc: "Maximum age of a segment before it is deleted; -1 keeps forever." },
    TopicDef { name: "segment.bytes", kind: Int, validator: V::AtLeast(1048576), default: D::Broker("log.segment.bytes"),
        doc: "Segment file size at which the log rolls." },
    TopicDef { name: "segment.index.bytes", kind: Int, validator: V::AtLeast(4), default: D::Broker("log.index.size.max.bytes"),
        doc: "Maximum offset-index size; a full index rolls the segment." },
    TopicDef { name: "segment.jitter.ms", kind: Long, validator: V::AtLeast(0), default: D::SegmentJitterMs,
        doc: "Maximum random jitter subtracted from segment.ms." },
    TopicDef { name: "segment.ms", kind: Long, validator: V::AtLeast(1), default: D::SegmentMs,
        doc: "Time after which the log rolls even if the segment is not full." },
    TopicDef { name: "unclean.leader.election.enable", kind: Boolean, validator: V::None, default: D::Broker("unclean.leader.election.enable"),
        doc: "Accepted for compatibility; a single broker is always the leader." },
];

/// The broker setting a topic config falls back to first (Kafka's
/// `ServerTopicConfigSynonyms.TOPIC_CONFIG_SYNONYMS`), if it has one.
pub fn primary_broker_synonym(def: &TopicDef) -> Option<&'static str> {
    match def.default {
        D::Broker(name) => Some(name),
        D::RetentionMs => Some("log.retention.ms"),
        D::SegmentMs => Some("log.roll.ms"),
        D::SegmentJitterMs => Some("log.roll.jitter.ms"),
        D::FlushMs => Some("log.flush.interval.ms"),
        D::Fixed(_) => None,
    }
}

pub fn find(name: &str) -> Option<&'static TopicDef> {
    TOPIC_DEFS.iter().find(|d| d.name == name)
}

/// The broker-derived default of a topic config.
pub fn default_value(def: &TopicDef, settings: &Settings) -> Value {
    match def.default {
        D::Broker(name) => settings.get(name).value.clone(),
        D::RetentionMs => Value::Int(settings.log_retention_ms()),
        D::SegmentMs => Value::Int(settings.log_roll_ms()),
        D::SegmentJitterMs => Value::Int(settings.log_roll_jitter_ms()),
        D::FlushMs => Value::Int(settings.log_flush_interval_ms()),
        D::Fixed(raw) => {
            value::parse(def.name, def.kind, Validator::None, raw).unwrap_or(Value::Null)
        }
    }
}

/// Checks a topic's override map (Kafka's `LogConfig.validate`): every key known, every value
/// valid, and the combination with the broker defaults consistent. Returns the normalised map
/// (values as Kafka renders them). Failures are INVALID_CONFIG with a message naming the key.
pub fn validate_overrides(
    overrides: &BTreeMap<String, String>,
    settings: &Settings,
) -> Result<BTreeMap<String, String>, Error> {
    let mut out = BTreeMap::new();
    for (k, v) in overrides {
        let def = find(k)
            .ok_or_else(|| Error::InvalidConfig(format!("Unknown topic config name: {k}")))?;
        let parsed =
            value::parse(def.name, def.kind, def.validator, v).map_err(Error::InvalidConfig)?;
        out.insert(k.clone(), parsed.to_string());
    }
    let c = LogConfig::new(settings, &out);
    if c.min_compaction_lag_ms > c.max_compaction_lag_ms {
        return Err(Error::InvalidConfig(format!(
            "conflict topic config setting min.compaction.lag.ms ({}) > max.compaction.lag.ms ({})",
            c.min_compaction_lag_ms, c.max_compaction_lag_ms
        )));
    }
    if out.get("remote.storage.enable").map(String::as_str) == Some("true") {
        return Err(Error::InvalidConfig(
            "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."
                .into(),
        ));
    }
    Ok(out)
}

/// Final compression of stored batches (topic `compression.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressionType {
    Producer,
    Uncompressed,
    Codec(Compression),
}

/// The effective configuration of one topic's partitions.
#[derive(Clone, Debug)]
pub struct LogConfig {
    pub cleanup_delete: bool,
    pub cleanup_compact: bool,
    pub compression: CompressionType,
    pub gzip_level: i32,
    pub lz4_level: i32,
    pub zstd_level: i32,
    pub delete_retention_ms: i64,
    pub file_delete_delay_ms: i64,
    pub flush_messages: i64,
    pub flush_ms: i64,
    pub index_interval_bytes: i32,
    pub max_compaction_lag_ms: i64,
    pub max_message_bytes: i32,
    pub timestamp_after_max_ms: i64,
    pub timestamp_before_max_ms: i64,
    pub log_append_time: bool,
    pub min_cleanable_dirty_ratio: f64,
    pub min_compaction_lag_ms: i64,
    pub min_insync_replicas: i32,
    pub retention_bytes: i64,
    pub retention_ms: i64,
    pub segment_bytes: i32,
    pub segment_index_bytes: i32,
    pub segment_jitter_ms: i64,
    pub segment_ms: i64,
    /// The topic's explicit overrides, normalised.
    pub overrides: BTreeMap<String, String>,
}

impl LogConfig {
    /// The effective config: overrides on top of broker defaults. Overrides must already have
    /// passed [`validate_overrides`]; a value that no longer parses falls back to the default.
    pub fn new(settings: &Settings, overrides: &BTreeMap<String, String>) -> LogConfig {
        let get = |name: &str| -> Value {
            let def = find(name).expect("topic config registry entry");
            overrides
                .get(name)
                .and_then(|raw| value::parse(def.name, def.kind, def.validator, raw).ok())
                .unwrap_or_else(|| default_value(def, settings))
        };
        let int = |name: &str| get(name).as_i64().unwrap_or_default();
        let policy = get("cleanup.policy");
        let policy = policy.as_list().unwrap_or(&[]);
        let compression = match get("compression.type").as_str().unwrap_or("producer") {
            "uncompressed" => CompressionType::Uncompressed,
            "gzip" => CompressionType::Codec(Compression::Gzip),
            "snappy" => CompressionType::Codec(Compression::Snappy),
            "lz4" => CompressionType::Codec(Compression::Lz4),
            "zstd" => CompressionType::Codec(Compression::Zstd),
            _ => CompressionType::Producer,
        };
        LogConfig {
            cleanup_delete: policy.iter().any(|p| p == "delete"),
            cleanup_compact: policy.iter().any(|p| p == "compact"),
            compression,
            gzip_level: int("compression.gzip.level") as i32,
            lz4_level: int("compression.lz4.level") as i32,
            zstd_level: int("compression.zstd.level") as i32,
            delete_retention_ms: int("delete.retention.ms"),
            file_delete_delay_ms: int("file.delete.delay.ms"),
            flush_messages: int("flush.messages"),
            flush_ms: int("flush.ms"),
            index_interval_bytes: int("index.interval.bytes") as i32,
            max_compaction_lag_ms: int("max.compaction.lag.ms"),
            max_message_bytes: int("max.message.bytes") as i32,
            timestamp_after_max_ms: int("message.timestamp.after.max.ms"),
            timestamp_before_max_ms: int("message.timestamp.before.max.ms"),
            log_append_time: get("message.timestamp.type").as_str() == Some("LogAppendTime"),
            min_cleanable_dirty_ratio: get("min.cleanable.dirty.ratio").as_f64().unwrap_or(0.5),
            min_compaction_lag_ms: int("min.compaction.lag.ms"),
            min_insync_replicas: int("min.insync.replicas") as i32,
            retention_bytes: int("retention.bytes"),
            retention_ms: int("retention.ms"),
            segment_bytes: int("segment.bytes") as i32,
            segment_index_bytes: int("segment.index.bytes") as i32,
            segment_jitter_ms: int("segment.jitter.ms"),
            segment_ms: int("segment.ms"),
            overrides: overrides.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_broker_settings() {
        let s = Settings::defaults();
        let c = LogConfig::new(&s, &BTreeMap::new());
        assert!(c.cleanup_delete && !c.cleanup_compact);
        assert_eq!(c.segment_bytes, 1 << 30);
        assert_eq!(c.max_message_bytes, 1048588);
        assert_eq!(c.retention_ms, 7 * 24 * 3_600_000);
        assert_eq!(c.index_interval_bytes, 4096);
        assert_eq!(c.compression, CompressionType::Producer);
        assert_eq!(c.timestamp_after_max_ms, 3_600_000);
    }

    #[test]
    fn overrides_are_validated_by_name() {
        let mut m = BTreeMap::new();
        m.insert("cleanup.policy".to_string(), "compact,delete".to_string());
        m.insert("segment.bytes".to_string(), "2097152".to_string());
        let ok = validate_overrides(&m, &Settings::defaults()).unwrap();
        let c = LogConfig::new(&Settings::defaults(), &ok);
        assert!(c.cleanup_compact && c.cleanup_delete);
        assert_eq!(c.segment_bytes, 2097152);

        m.insert("segment.bytes".to_string(), "1000".to_string());
        let err = validate_overrides(&m, &Settings::defaults()).unwrap_err();
        assert!(err.to_string().contains("segment.bytes"), "{err}");
        let mut unknown = BTreeMap::new();
        unknown.insert("no.such.config".to_string(), "1".to_string());
        let err = validate_overrides(&unknown, &Settings::defaults()).unwrap_err();
        assert_eq!(err.code(), 40);
        assert!(err.to_string().contains("no.such.config"));
        let mut lag = BTreeMap::new();
        lag.insert("min.compaction.lag.ms".to_string(), "10".to_string());
        lag.insert("max.compaction.lag.ms".to_string(), "5".to_string());
        let err = validate_overrides(&lag, &Settings::defaults()).unwrap_err();
        assert!(
            err.to_string()
                .contains("min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"),
            "{err}"
        );
        let mut remote = BTreeMap::new();
        remote.insert("remote.storage.enable".to_string(), "true".to_string());
        assert_eq!(
            validate_overrides(&remote, &Settings::defaults())
                .unwrap_err()
                .code(),
            40
        );
        let mut gz = BTreeMap::new();
        gz.insert("compression.gzip.level".to_string(), "0".to_string());
        assert_eq!(
            validate_overrides(&gz, &Settings::defaults())
                .unwrap_err()
                .code(),
            40
        );
        gz.insert("compression.gzip.level".to_string(), "-1".to_string());
        assert!(validate_overrides(&gz, &Settings::defaults()).is_ok());
    }
}
