//! Metrics: the names Klamm records, the process-wide recorder, and the `/metrics` page.
//!
//! Two kinds of series, recorded two ways:
//! - Event counters and latency histograms (requests, bytes and records in and out, flushes,
//!   connections) are recorded where the event happens, through `metrics` handles that are
//!   registered once (per topic, per API) and cached here, so the hot path does a hash-map
//!   read and a few atomic adds per request and partition, never a lock per record
//!   ([`requests`], [`topics`]).
//! - State (offsets, sizes, segment counts, group lag, process RSS/CPU/fds) is read from the
//!   live broker at scrape time ([`scrape`], [`process`]): nothing is updated on the hot path
//!   and a deleted topic's series disappear with it.
//!
//! Names follow Prometheus conventions (`klamm_` prefix, base units, `_total`, `_seconds`,
//! `_bytes`); the Kafka names dashboards already use (JMX exporter's
//! `kafka_server_brokertopicmetrics_*`, `kafka_log_log_*`, `kafka_network_requestmetrics_*`
//! and kafka_exporter's `kafka_topic_partition_*`, `kafka_consumergroup_*`) are emitted from
//! the same counters and state. README's "Metrics" section lists the mapping.
//!
//! `metrics.enable=false` installs no recorder: every handle is a no-op (used by the bench to
//! measure the cost of metrics).

pub mod groups;
pub mod process;
pub mod requests;
pub mod scrape;
pub mod share;
pub mod topics;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ::metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::broker::Broker;
use crate::settings::Settings;

pub use groups::{GroupSnapshot, GroupSource};
pub use requests::RequestMetrics;
pub use topics::TopicMetrics;

/// How often histogram samples are folded into their buckets when nobody scrapes, so memory
/// stays bounded (the exporter's own HTTP listener does the same upkeep).
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Latency buckets in seconds: 50 µs to 10 s (request, flush and long-poll times).
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];
/// Batch size buckets in bytes: 64 B to 16 MiB.
const SIZE_BUCKETS: &[f64] = &[
    64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
];

/// The process-wide metrics state: the Prometheus handle (when enabled) and the cached
/// per-topic and per-API handles.
pub struct Metrics {
    handle: Option<PrometheusHandle>,
    /// `metrics.partition.series.enable`: emit per-partition series at scrape time.
    pub partition_series: bool,
    pub requests: RequestMetrics,
    pub topics: TopicMetrics,
    /// `klamm_group_rebalances_total`.
    rebalances: ::metrics::Counter,
    /// The group coordinator, once it exists.
    group_source: OnceLock<Arc<dyn GroupSource>>,
}

static METRICS: OnceLock<Metrics> = OnceLock::new();

/// The process's metrics. Before [`install`] (unit tests, tools) this is a disabled instance
/// whose handles record nothing.
pub fn get() -> &'static Metrics {
    METRICS.get_or_init(|| Metrics::new(None, false))
}

/// Installs the Prometheus recorder as the global `metrics` recorder (once per process) when
/// `metrics.enable` is set. Call before anything records, so cached handles are live ones.
pub fn install(settings: &Settings) -> &'static Metrics {
    METRICS.get_or_init(|| {
        let partition_series = settings.bool("metrics.partition.series.enable");
        if !settings.bool("metrics.enable") {
            return Metrics::new(None, partition_series);
        }
        let recorder = match PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_bytes".into()), SIZE_BUCKETS))
        {
            Ok(b) => b.build_recorder(),
            Err(e) => {
                tracing::error!("metrics disabled: cannot build the Prometheus recorder: {e}");
                return Metrics::new(None, partition_series);
            }
        };
        let handle = recorder.handle();
        if ::metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("metrics disabled: another metrics recorder is already installed");
            return Metrics::new(None, partition_series);
        }
        describe_all();
        Metrics::new(Some(handle), partition_series)
    })
}

impl Metrics {
    fn new(handle: Option<PrometheusHandle>, partition_series: bool) -> Metrics {
        let enabled = handle.is_some();
        Metrics {
            handle,
            partition_series,
            requests: RequestMetrics::new(enabled),
            topics: TopicMetrics::new(enabled),
            rebalances: ::metrics::counter!(groups::REBALANCES),
            group_source: OnceLock::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.handle.is_some()
    }

    /// Registers the group coordinator as the source of the consumer-group series.
    pub fn set_group_source(&self, source: Arc<dyn GroupSource>) {
        let _ = self.group_source.set(source);
    }

    /// A group started a rebalance (a classic group entered PreparingRebalance, or a KIP-848
    /// consumer group bumped its epoch).
    pub fn group_rebalance_started(&self) {
        self.rebalances.increment(1);
    }

    /// Keeps histogram memory bounded between scrapes; runs until the task is aborted.
    pub fn spawn_upkeep(&'static self) -> Option<tokio::task::JoinHandle<()>> {
        let handle = self.handle.clone()?;
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        }))
    }

    /// The `/metrics` page: recorded series, then state read from `broker` (absent while the
    /// logs are being recovered), then the process's own figures. `None` when disabled.
    pub fn render(&self, broker: Option<&Arc<Broker>>) -> Option<String> {
        let handle = self.handle.as_ref()?;
        let mut out = handle.render();
        if let Some(b) = broker {
            let groups = self.group_source.get().and_then(|g| g.snapshot());
            out.push_str(&scrape::render(b, groups.as_deref(), self.partition_series));
            crate::quota::metrics::render(&b.quotas, &mut out);
        }
        process::render(&mut out);
        Some(out)
    }
}

/// HELP lines for the recorded families (the scrape-time ones describe themselves).
fn describe_all() {
    use names::*;
    describe_counter!(REQUESTS, "Requests handled, by API and version.");
    describe_counter!(
        groups::REBALANCES,
        "Consumer group rebalances started (classic groups: transitions to PreparingRebalance; KIP-848 consumer groups: group epoch bumps)."
    );
    describe_counter!(
        REQUEST_ERRORS,
        "Error codes returned, by API and Kafka error name (NONE for success), counted per partition or resource as Kafka's ErrorsPerSec."
    );
    describe_counter!(
        REQUESTS_REJECTED,
        "Requests that closed the connection instead of getting a response (undecodable, unknown API, oversized frame)."
    );
    describe_counter!(
        REQUEST_PANICS,
        "Requests whose handler panicked, by API; the panic closed that connection only (Kafka's KafkaApis.handle catches per request)."
    );
    describe_histogram!(
        REQUEST_QUEUE_TIME,
        Unit::Seconds,
        "Time a request waited between being read and being processed, by API."
    );
    describe_histogram!(
        REQUEST_LOCAL_TIME,
        Unit::Seconds,
        "Time spent processing a request (including fsync and long-poll waits), by API."
    );
    describe_histogram!(
        RESPONSE_SEND_TIME,
        Unit::Seconds,
        "Time spent writing a response to the socket, by API."
    );
    describe_histogram!(
        REQUEST_TOTAL_TIME,
        Unit::Seconds,
        "Time from reading a request to having sent its response, by API."
    );
    describe_counter!(
        KAFKA_REQUESTS,
        "Kafka JMX name for klamm_requests_total (RequestMetrics RequestsPerSec)."
    );
    describe_counter!(
        KAFKA_ERRORS,
        "Kafka JMX name for klamm_request_errors_total (RequestMetrics ErrorsPerSec)."
    );
    describe_gauge!(CONNECTIONS_ACTIVE, "Open client connections.");
    describe_gauge!(
        crate::log::space::LOG_DIR_FULL,
        "1 while the data directory is out of space (writes refused, reads served)."
    );
    describe_counter!(CONNECTIONS_OPENED, "Client connections accepted.");
    describe_counter!(CONNECTIONS_CLOSED, "Client connections closed.");
    describe_counter!(
        CONNECTIONS_REFUSED,
        "Client connections refused, by reason: accept failed (process_fd_limit, system_fd_limit, no_memory, accept_error) or max_connections_per_ip."
    );
    describe_counter!(
        TOPIC_BYTES_IN,
        Unit::Bytes,
        "Record batch bytes appended by producers, by topic."
    );
    describe_counter!(TOPIC_RECORDS_IN, "Records appended by producers, by topic.");
    describe_counter!(
        TOPIC_BYTES_OUT,
        Unit::Bytes,
        "Record batch bytes returned to fetchers, by topic."
    );
    describe_counter!(
        KAFKA_MESSAGES_IN,
        "Kafka JMX name: BrokerTopicMetrics MessagesInPerSec, by topic."
    );
    describe_counter!(
        KAFKA_BYTES_IN,
        "Kafka JMX name: BrokerTopicMetrics BytesInPerSec, by topic."
    );
    describe_counter!(
        KAFKA_BYTES_OUT,
        "Kafka JMX name: BrokerTopicMetrics BytesOutPerSec, by topic."
    );
    describe_histogram!(
        PRODUCE_BATCH_SIZE,
        Unit::Bytes,
        "Size of each record batch appended by a producer."
    );
    describe_histogram!(
        LOG_FLUSH_TIME,
        Unit::Seconds,
        "Duration of each partition fsync (Kafka's LogFlushStats)."
    );
    describe_counter!(
        FETCH_LONG_POLL_WAITS,
        "Fetch requests that found fewer than min_bytes and waited for data (Kafka's DelayedFetch)."
    );
    describe_histogram!(
        FETCH_LONG_POLL_TIME,
        Unit::Seconds,
        "How long fetch requests that waited for data were parked."
    );
    describe_counter!(
        TRANSACTIONS_TIMED_OUT,
        "Transactions aborted by the coordinator for running past their transaction.timeout.ms."
    );
    describe_counter!(
        TRANSACTIONAL_IDS_EXPIRED,
        "Transactional ids removed after transactional.id.expiration.ms without a status update."
    );
}

/// Every metric name in one place.
pub mod names {
    pub const REQUESTS: &str = "klamm_requests_total";
    pub const REQUEST_ERRORS: &str = "klamm_request_errors_total";
    pub const REQUESTS_REJECTED: &str = "klamm_requests_rejected_total";
    pub const REQUEST_PANICS: &str = "klamm_request_panics_total";
    pub const REQUEST_QUEUE_TIME: &str = "klamm_request_queue_time_seconds";
    pub const REQUEST_LOCAL_TIME: &str = "klamm_request_local_time_seconds";
    pub const RESPONSE_SEND_TIME: &str = "klamm_response_send_time_seconds";
    pub const REQUEST_TOTAL_TIME: &str = "klamm_request_total_time_seconds";
    pub const KAFKA_REQUESTS: &str = "kafka_network_requestmetrics_requests_total";
    pub const KAFKA_ERRORS: &str = "kafka_network_requestmetrics_errors_total";
    pub const CONNECTIONS_ACTIVE: &str = "klamm_connections_active";
    pub const CONNECTIONS_OPENED: &str = "klamm_connections_opened_total";
    pub const CONNECTIONS_CLOSED: &str = "klamm_connections_closed_total";
    pub const CONNECTIONS_REFUSED: &str = "klamm_connections_refused_total";
    pub const TOPIC_BYTES_IN: &str = "klamm_topic_bytes_in_total";
    pub const TOPIC_RECORDS_IN: &str = "klamm_topic_records_in_total";
    pub const TOPIC_BYTES_OUT: &str = "klamm_topic_bytes_out_total";
    pub const KAFKA_MESSAGES_IN: &str = "kafka_server_brokertopicmetrics_messagesin_total";
    pub const KAFKA_BYTES_IN: &str = "kafka_server_brokertopicmetrics_bytesin_total";
    pub const KAFKA_BYTES_OUT: &str = "kafka_server_brokertopicmetrics_bytesout_total";
    pub const PRODUCE_BATCH_SIZE: &str = "klamm_produce_batch_size_bytes";
    pub const LOG_FLUSH_TIME: &str = "klamm_log_flush_seconds";
    pub const FETCH_LONG_POLL_WAITS: &str = "klamm_fetch_long_poll_waits_total";
    pub const FETCH_LONG_POLL_TIME: &str = "klamm_fetch_long_poll_wait_seconds";
    pub const TRANSACTIONS_TIMED_OUT: &str = "klamm_transactions_timed_out_total";
    pub const TRANSACTIONAL_IDS_EXPIRED: &str = "klamm_transactional_ids_expired_total";
}
