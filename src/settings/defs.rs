//! Every broker setting Klamm reads: Kafka's `server.properties` name, type, default and
//! validation (from Kafka 4.1's `KafkaConfig`/`ServerLogConfigs`), plus the few Klamm-only
//! settings (listeners, data directory, fsync-before-ack). `config/klamm.toml` lists the same
//! entries; a unit test keeps the two in step.

use super::value::{Kind, Validator};

/// One broker setting.
#[derive(Debug)]
pub struct Def {
    pub name: &'static str,
    pub kind: Kind,
    /// `None` is Kafka's `null` default.
    pub default: Option<&'static str>,
    pub validator: Validator,
    pub doc: &'static str,
}

const fn def(
    name: &'static str,
    kind: Kind,
    default: Option<&'static str>,
    validator: Validator,
    doc: &'static str,
) -> Def {
    Def {
        name,
        kind,
        default,
        validator,
        doc,
    }
}

use Kind::*;
use Validator as V;

const LONG_MAX: &str = "9223372036854775807";
const INT_MAX: &str = "2147483647";

/// The registry. Order is the order of `config/klamm.toml`.
pub static DEFS: &[Def] = &[
    // --- Klamm: where to listen and store -------------------------------------------------
    def("data.dir", String, Some("klamm-data"), V::None,
        "Directory holding the partition logs (Kafka's log.dirs, one directory)."),
    def("listen", String, Some("0.0.0.0:9092"), V::None,
        "HOST:PORT the Kafka listener binds (PLAINTEXT)."),
    def("advertised.listener", String, None, V::None,
        "HOST:PORT returned to clients in Metadata; default: the listen address with an unspecified host replaced by localhost."),
    def("http.listen", String, Some("0.0.0.0:9644"), V::None,
        "HOST:PORT of the HTTP endpoint serving /metrics and /health."),
    def("metrics.enable", Boolean, Some("true"), V::None,
        "Klamm: record metrics and serve them on /metrics; false makes every metric a no-op (/metrics answers 404, /health still works)."),
    def("metrics.partition.series.enable", Boolean, Some("true"), V::None,
        "Klamm: emit per-partition series (offsets, sizes, segments, per-partition group lag) on /metrics; turn off on brokers with many partitions to bound cardinality (per-topic and per-group series stay)."),
    // --- Identity ----------------------------------------------------------------------------
    def("node.id", Int, Some("0"), V::AtLeast(0),
        "The broker's node id, reported in Metadata and DescribeCluster."),
    // --- Topics ------------------------------------------------------------------------------
    def("num.partitions", Int, Some("1"), V::AtLeast(1),
        "Default number of partitions for auto-created topics and CreateTopics with num_partitions -1."),
    def("default.replication.factor", Int, Some("1"), V::AtLeast(1),
        "Default replication factor; a single broker can only serve 1."),
    def("auto.create.topics.enable", Boolean, Some("true"), V::None,
        "Create unknown topics when Metadata or Produce names them."),
    def("delete.topic.enable", Boolean, Some("true"), V::None,
        "Allow DeleteTopics; when false it answers TOPIC_DELETION_DISABLED."),
    def("message.max.bytes", Int, Some("1048588"), V::AtLeast(0),
        "Largest record batch accepted (topic config max.message.bytes)."),
    def("fetch.max.bytes", Int, Some("57671680"), V::AtLeast(1024),
        "Most bytes one Fetch response carries, whatever the request's max_bytes (KIP-541); the first batch still comes whole when larger, so consumers always progress."),
    // --- Network -----------------------------------------------------------------------------
    def("socket.request.max.bytes", Int, Some("104857600"), V::AtLeast(1),
        "Largest request frame; bigger size prefixes close the connection without allocating."),
    def("max.connections", Int, Some(INT_MAX), V::AtLeast(0),
        "Maximum number of client connections; further connections wait in the accept backlog."),
    def("max.connections.per.ip", Int, Some(INT_MAX), V::AtLeast(0),
        "Maximum connections from one IP address; extra connections are closed."),
    def("queued.max.requests", Int, Some("500"), V::AtLeast(1),
        "Requests read ahead of processing, broker-wide, before connections stop reading."),
    def("connections.max.idle.ms", Long, Some("600000"), V::None,
        "Close connections idle for longer than this."),
    // --- Log segments and indexes -------------------------------------------------------------
    def("log.segment.bytes", Int, Some("1073741824"), V::AtLeast(1048576),
        "Roll a new segment when the active one would exceed this size (topic segment.bytes)."),
    def("log.roll.ms", Long, None, V::AtLeast(1),
        "Roll a new segment after this long (topic segment.ms); when null, log.roll.hours applies."),
    def("log.roll.hours", Int, Some("168"), V::AtLeast(1),
        "Roll a new segment after this many hours (when log.roll.ms is null)."),
    def("log.roll.jitter.ms", Long, None, V::AtLeast(0),
        "Random jitter subtracted from the roll time (topic segment.jitter.ms)."),
    def("log.roll.jitter.hours", Int, Some("0"), V::AtLeast(0),
        "Roll jitter in hours (when log.roll.jitter.ms is null)."),
    def("log.index.interval.bytes", Int, Some("4096"), V::AtLeast(0),
        "Bytes of log between sparse offset-index entries (topic index.interval.bytes)."),
    def("log.index.size.max.bytes", Int, Some("10485760"), V::AtLeast(4),
        "Maximum size of an offset index; a full index rolls the segment (topic segment.index.bytes)."),
    def("log.preallocate", Boolean, Some("false"), V::None,
        "Preallocate segment files (topic preallocate)."),
    // --- Flushing ------------------------------------------------------------------------------
    def("log.flush.interval.messages", Long, Some(LONG_MAX), V::AtLeast(1),
        "fsync a partition after this many appended records (topic flush.messages)."),
    def("log.flush.interval.ms", Long, None, V::None,
        "fsync a partition whose oldest unflushed data is older than this (topic flush.ms); when null, log.flush.scheduler.interval.ms applies."),
    def("log.flush.scheduler.interval.ms", Long, Some(LONG_MAX), V::None,
        "How often the flusher checks partitions against flush.ms."),
    def("log.flush.offset.checkpoint.interval.ms", Int, Some("60000"), V::AtLeast(0),
        "How often the recovery point (last flushed offset per partition) is checkpointed."),
    def("log.flush.start.offset.checkpoint.interval.ms", Int, Some("60000"), V::AtLeast(0),
        "How often log start offsets are checkpointed."),
    def("log.flush.before.ack", Boolean, Some("false"), V::None,
        "Klamm: fsync the appended batches before answering a produce request with acks=all (-1), so an acknowledged write survives power loss."),
    // --- Timestamps ------------------------------------------------------------------------------
    def("log.message.timestamp.type", String, Some("CreateTime"), V::OneOf(&["CreateTime", "LogAppendTime"]),
        "Whether records keep the producer's timestamp or get the broker's append time (topic message.timestamp.type)."),
    def("log.message.timestamp.before.max.ms", Long, Some(LONG_MAX), V::AtLeast(0),
        "Reject batches whose timestamp is more than this far in the past (topic message.timestamp.before.max.ms)."),
    def("log.message.timestamp.after.max.ms", Long, Some("3600000"), V::AtLeast(0),
        "Reject batches whose timestamp is more than this far in the future (topic message.timestamp.after.max.ms)."),
    // --- Retention -------------------------------------------------------------------------------
    def("log.retention.ms", Long, None, V::None,
        "Delete segments older than this (topic retention.ms); -1 keeps forever; null falls back to minutes, then hours."),
    def("log.retention.minutes", Int, None, V::None,
        "Retention in minutes (when log.retention.ms is null)."),
    def("log.retention.hours", Int, Some("168"), V::None,
        "Retention in hours (when log.retention.ms and log.retention.minutes are null)."),
    def("log.retention.bytes", Long, Some("-1"), V::None,
        "Delete the oldest segments while a partition is larger than this (topic retention.bytes); -1 is unlimited."),
    def("log.retention.check.interval.ms", Long, Some("300000"), V::AtLeast(1),
        "How often the retention task looks for deletable segments."),
    def("log.segment.delete.delay.ms", Long, Some("60000"), V::AtLeast(0),
        "Delay before a deleted segment's files are removed (topic file.delete.delay.ms)."),
    def("log.local.retention.ms", Long, Some("-2"), V::AtLeast(-2),
        "Local retention with tiered storage (topic local.retention.ms); tiered storage is not supported, so it has no effect."),
    def("log.local.retention.bytes", Long, Some("-2"), V::AtLeast(-2),
        "Local retention size with tiered storage (topic local.retention.bytes); tiered storage is not supported, so it has no effect."),
    def("log.cleanup.policy", List, Some("delete"), V::ListOf(&["compact", "delete"]),
        "Default cleanup policy: delete, compact, or both (topic cleanup.policy)."),
    // --- Log cleaner --------------------------------------------------------------------------------
    def("log.cleaner.enable", Boolean, Some("true"), V::None,
        "Run the log cleaner for compacted topics."),
    def("log.cleaner.threads", Int, Some("1"), V::AtLeast(0),
        "Number of cleaner tasks."),
    def("log.cleaner.dedupe.buffer.size", Long, Some("134217728"), V::None,
        "Memory for the cleaner's key-hash offset map."),
    def("log.cleaner.io.buffer.size", Int, Some("524288"), V::AtLeast(0),
        "I/O buffer size for cleaning."),
    def("log.cleaner.io.buffer.load.factor", Double, Some("0.9"), V::None,
        "Load factor of the cleaner's offset map."),
    def("log.cleaner.io.max.bytes.per.second", Double, Some("1.7976931348623157E308"), V::None,
        "Throttle for the cleaner's read and write I/O."),
    def("log.cleaner.backoff.ms", Long, Some("15000"), V::AtLeast(0),
        "Sleep between cleaner passes when there is nothing to clean."),
    def("log.cleaner.min.cleanable.ratio", Double, Some("0.5"), V::DoubleBetween(0.0, 1.0),
        "Minimum dirty ratio before a log is cleaned (topic min.cleanable.dirty.ratio)."),
    def("log.cleaner.delete.retention.ms", Long, Some("86400000"), V::AtLeast(0),
        "How long tombstones are kept after cleaning (topic delete.retention.ms)."),
    def("log.cleaner.min.compaction.lag.ms", Long, Some("0"), V::AtLeast(0),
        "Minimum age of a record before it can be compacted (topic min.compaction.lag.ms)."),
    def("log.cleaner.max.compaction.lag.ms", Long, Some(LONG_MAX), V::AtLeast(1),
        "Maximum age before a record must be compacted (topic max.compaction.lag.ms)."),
    // --- Producer side ---------------------------------------------------------------------------------
    def("compression.type", String, Some("producer"), V::OneOf(&["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"]),
        "Compression of stored batches: producer keeps what the producer sent (topic compression.type)."),
    def("compression.gzip.level", Int, Some("-1"), V::BetweenOr(1, 9, -1),
        "gzip level when compression.type=gzip (topic compression.gzip.level)."),
    def("compression.lz4.level", Int, Some("9"), V::Between(1, 17),
        "lz4 level when compression.type=lz4 (topic compression.lz4.level)."),
    def("compression.zstd.level", Int, Some("3"), V::Between(-131072, 22),
        "zstd level when compression.type=zstd (topic compression.zstd.level)."),
    def("min.insync.replicas", Int, Some("1"), V::AtLeast(1),
        "Minimum in-sync replicas for acks=all; a single broker satisfies only 1."),
    def("unclean.leader.election.enable", Boolean, Some("false"), V::None,
        "Accepted for compatibility; a single broker has no other replica to elect."),
    def("producer.id.expiration.ms", Int, Some("86400000"), V::AtLeast(1),
        "Forget an idempotent producer's sequence state after this long without writes."),
    def("num.recovery.threads.per.data.dir", Int, Some("2"), V::AtLeast(1),
        "Threads recovering partitions at start-up."),
    // --- Consumer groups (Kafka's GroupCoordinatorConfig) ----------------------------------------
    def("group.min.session.timeout.ms", Int, Some("6000"), V::None,
        "Smallest session.timeout.ms a consumer may ask for; JoinGroup below it gets INVALID_SESSION_TIMEOUT."),
    def("group.max.session.timeout.ms", Int, Some("1800000"), V::None,
        "Largest session.timeout.ms a consumer may ask for; JoinGroup above it gets INVALID_SESSION_TIMEOUT."),
    def("group.initial.rebalance.delay.ms", Int, Some("3000"), V::None,
        "How long a new (empty) group waits for more members before its first rebalance completes."),
    def("group.max.size", Int, Some(INT_MAX), V::AtLeast(1),
        "Maximum number of members in one classic group; further joins get GROUP_MAX_SIZE_REACHED."),
    def("offsets.topic.num.partitions", Int, Some("50"), V::AtLeast(1),
        "Partitions of __consumer_offsets when it is created (do not change after deployment)."),
    def("offsets.topic.segment.bytes", Int, Some("104857600"), V::AtLeast(1),
        "segment.bytes of __consumer_offsets: small segments keep compaction and start-up replay quick."),
    def("offsets.retention.minutes", Int, Some("10080"), V::AtLeast(1),
        "Committed offsets of a group expire this long after the group became empty (or, for simple consumers, after the commit)."),
    def("offsets.retention.check.interval.ms", Long, Some("600000"), V::AtLeast(1),
        "How often expired offsets and empty groups are looked for."),
    def("offset.metadata.max.bytes", Int, Some("4096"), V::None,
        "Longest metadata string an offset commit may carry; longer ones get OFFSET_METADATA_TOO_LARGE."),
    def("offsets.commit.timeout.ms", Int, Some("5000"), V::AtLeast(1),
        "How long a coordinator write (offset commit, group metadata) may wait for its fsync before failing."),
    def("offsets.load.buffer.size", Int, Some("5242880"), V::AtLeast(1),
        "Bytes read at a time from __consumer_offsets while replaying it at start-up."),
    // --- KIP-848 consumer groups (Kafka's GroupCoordinatorConfig, group.consumer.*) ------------
    def("group.coordinator.rebalance.protocols", List, Some("classic,consumer"), V::ListOf(&["classic", "consumer"]),
        "Enabled rebalance protocols: classic (JoinGroup/SyncGroup) and consumer (KIP-848 ConsumerGroupHeartbeat); without consumer, ConsumerGroupHeartbeat and ConsumerGroupDescribe are not advertised."),
    def("group.consumer.session.timeout.ms", Int, Some("45000"), V::AtLeast(1),
        "How long a consumer-protocol member may go without a heartbeat before it is removed and its partitions reassigned."),
    def("group.consumer.min.session.timeout.ms", Int, Some("45000"), V::AtLeast(1),
        "Smallest allowed group.consumer.session.timeout.ms."),
    def("group.consumer.max.session.timeout.ms", Int, Some("60000"), V::AtLeast(1),
        "Largest allowed group.consumer.session.timeout.ms."),
    def("group.consumer.heartbeat.interval.ms", Int, Some("5000"), V::AtLeast(1),
        "Heartbeat interval handed to consumer-protocol members; must be less than the session timeout."),
    def("group.consumer.min.heartbeat.interval.ms", Int, Some("5000"), V::AtLeast(1),
        "Smallest allowed group.consumer.heartbeat.interval.ms."),
    def("group.consumer.max.heartbeat.interval.ms", Int, Some("15000"), V::AtLeast(1),
        "Largest allowed group.consumer.heartbeat.interval.ms."),
    def("group.consumer.max.size", Int, Some(INT_MAX), V::AtLeast(1),
        "Maximum number of members in one consumer-protocol group; further members get GROUP_MAX_SIZE_REACHED."),
    def("group.consumer.assignors", List, Some("uniform,range"), V::ListOf(&["uniform", "range", "org.apache.kafka.coordinator.group.assignor.UniformAssignor", "org.apache.kafka.coordinator.group.assignor.RangeAssignor"]),
        "Server-side assignors by name (or Kafka class name); the first is the default when a member names none."),
    def("group.consumer.migration.policy", String, Some("bidirectional"), V::OneOfIgnoreCase(&["disabled", "upgrade", "downgrade", "bidirectional"]),
        "Kafka's policy for converting non-empty groups between the classic and consumer protocols; accepted for compatibility, but Klamm converts only empty groups (a non-empty group is never converted, as with disabled)."),
    // --- Transactions (Kafka's TransactionStateManagerConfig, TransactionLogConfig) ------------
    def("transaction.max.timeout.ms", Int, Some("900000"), V::AtLeast(1),
        "Longest transaction.timeout.ms a transactional producer may ask for; InitProducerId above it gets INVALID_TRANSACTION_TIMEOUT."),
    def("transaction.state.log.num.partitions", Int, Some("50"), V::AtLeast(1),
        "Partitions of __transaction_state when it is created (do not change after deployment)."),
    def("transaction.state.log.segment.bytes", Int, Some("104857600"), V::AtLeast(1),
        "segment.bytes of __transaction_state: small segments keep compaction and start-up replay quick."),
    def("transaction.abort.timed.out.transaction.cleanup.interval.ms", Int, Some("10000"), V::AtLeast(1),
        "How often transactions open longer than their timeout are looked for and aborted."),
    def("transactional.id.expiration.ms", Int, Some("604800000"), V::AtLeast(1),
        "A transactional id without an open transaction is forgotten (a tombstone in __transaction_state) after this long without a transaction status update; its next InitProducerId gets a new producer id."),
    def("transaction.remove.expired.transaction.cleanup.interval.ms", Int, Some("3600000"), V::AtLeast(1),
        "How often transactional ids past transactional.id.expiration.ms are looked for and removed."),
    // --- Admin ----------------------------------------------------------------------------------------
    def("max.request.partition.size.limit", Int, Some("2000"), V::AtLeast(1),
        "Most partitions one DescribeTopicPartitions response returns (the client pages with a cursor)."),
    // --- Listeners and TLS (Kafka's SocketServerConfigs, SslConfigs) --------------------------
    // --- SASL (Kafka's BrokerSecurityConfigs, SaslConfigs) -------------------------------------
    def("sasl.enabled.mechanisms", List, Some("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"), V::None,
        "SASL mechanisms a SASL_PLAINTEXT/SASL_SSL listener offers (listener.name.<l>.sasl.enabled.mechanisms per listener): PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER. Kafka's default is GSSAPI, which Klamm does not serve; OAUTHBEARER only when listed."),
    def("sasl.server.max.receive.size", Int, Some("524288"), V::AtLeast(1),
        "Largest request a SASL listener accepts before authentication completes; a larger size prefix closes the connection unread."),
    def("connections.max.reauth.ms", Long, Some("0"), V::None,
        "KIP-368: when positive, the session lifetime told to authenticating clients (at most the OAUTHBEARER token's remaining lifetime); a connection that does not re-authenticate in time is closed at its next request. 0 disables re-authentication."),
    def("sasl.jaas.config", Password, None, V::None,
        "JAAS login module configuration for every SASL listener and mechanism without a listener.name.<l>.<mechanism>.sasl.jaas.config (PlainLoginModule user_<name>=\"<password>\" options declare PLAIN users; OAuthBearerLoginModule unsecuredValidator* options configure the unsecured validator)."),
    def("sasl.server.callback.handler.class", String, None, V::None,
        "OAUTHBEARER validator (usually listener.name.<l>.oauthbearer.sasl.server.callback.handler.class): org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler (or its 3.x ...oauthbearer.secured. name) validates signed JWTs against the JWKS; unset means the unsecured validator unless a JWKS URL is set."),
    def("sasl.oauthbearer.jwks.endpoint.url", String, None, V::None,
        "JWKS with the keys that sign OAUTHBEARER tokens: a file:// path or an http:// URL. Setting it selects signed-JWT validation (RS256, ES256)."),
    def("sasl.oauthbearer.jwks.endpoint.refresh.ms", Long, Some("3600000"), V::AtLeast(1),
        "How often the JWKS is fetched again in the background; a token with an unknown kid also triggers a (rate-limited) fetch."),
    def("sasl.oauthbearer.expected.audience", List, None, V::None,
        "When set, a signed token's aud claim must contain one of these audiences."),
    def("sasl.oauthbearer.expected.issuer", String, None, V::None,
        "When set, a signed token's iss claim must equal this issuer."),
    def("sasl.oauthbearer.sub.claim.name", String, Some("sub"), V::None,
        "The claim of a signed token that names the principal."),
    def("sasl.oauthbearer.scope.claim.name", String, Some("scope"), V::None,
        "The claim of a signed token that holds its scopes."),
    def("sasl.oauthbearer.clock.skew.seconds", Int, Some("30"), V::AtLeast(0),
        "Allowed difference between the broker's clock and the token issuer's when checking exp, iat and nbf of signed tokens."),
    // --- Authorization (StandardAuthorizer) ------------------------------------------------------
    // --- Quotas (Kafka's QuotaConfig) -------------------------------------------------------------
];

/// Broker settings that AlterConfigs may change at run time, taking effect at once (the subset of
/// Kafka's `DynamicBrokerConfig.AllDynamicConfigs` that Klamm has: the broker defaults of topic
/// configs, `DynamicLogConfig.ReconfigurableConfigs`, and `LogCleaner.ReconfigurableConfigs`).
/// Every other setting is read-only and AlterConfigs answers "Cannot update these configs
/// dynamically", as Kafka does.
pub static DYNAMIC: &[&str] = &[
    "log.segment.bytes",
    "log.roll.ms",
    "log.roll.jitter.ms",
    "log.index.size.max.bytes",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.retention.bytes",
    "log.retention.ms",
    "message.max.bytes",
    "log.index.interval.bytes",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms",
    "log.segment.delete.delay.ms",
    "log.cleaner.min.cleanable.ratio",
    "log.cleanup.policy",
    "unclean.leader.election.enable",
    "min.insync.replicas",
    "compression.type",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.zstd.level",
    "log.preallocate",
    "log.message.timestamp.type",
    "log.message.timestamp.before.max.ms",
    "log.message.timestamp.after.max.ms",
    "log.local.retention.ms",
    "log.local.retention.bytes",
    "log.cleaner.threads",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.io.buffer.load.factor",
    "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second",
    "log.cleaner.backoff.ms",
];

/// True when `name` may be changed with AlterConfigs at run time.
pub fn is_dynamic(name: &str) -> bool {
    DYNAMIC.contains(&name)
}

/// Looks up a setting by its Kafka name.
pub fn find(name: &str) -> Option<&'static Def> {
    DEFS.iter().find(|d| d.name == name)
}
