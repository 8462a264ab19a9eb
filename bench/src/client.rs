//! Client plumbing shared by the scenarios: base configuration, topic
//! administration and record payloads.

use std::process;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::admin::{
    AdminClient, AdminOptions, AlterConfig, NewTopic, ResourceSpecifier, TopicReplication,
};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::ToBytes;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, ProducerContext};
use rdkafka::ClientConfig;

/// How long topic creation and its propagation to metadata may take.
const TOPIC_READY_TIMEOUT: Duration = Duration::from_secs(15);

/// Environment variable whose value, if set, becomes librdkafka's `debug`
/// property on every client (e.g. `protocol,fetch`), for diagnosing a broker
/// that a scenario trips over.
pub const DEBUG_ENV: &str = "KLAMM_BENCH_RDKAFKA_DEBUG";

/// Enqueues `record`; while librdkafka's queue is full, serves its events for a millisecond and
/// tries again, until `deadline` (`None`: no limit). `Ok(false)` when the deadline passed.
pub fn enqueue<K: ToBytes + ?Sized, P: ToBytes + ?Sized>(
    producer: &BaseProducer<DeliveryErrors>,
    mut record: BaseRecord<'_, K, P>,
    deadline: Option<Instant>,
) -> Result<bool> {
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(true),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                record = back;
                producer.poll(Duration::from_millis(1));
                if deadline.is_some_and(|d| Instant::now() > d) {
                    return Ok(false);
                }
            }
            Err((e, _)) => return Err(e).context("enqueueing a record"),
        }
    }
}

/// Client properties every client gets on top of the base ones (`--security`: the
/// broker's dev-security client config), set once before the first client.
static EXTRA: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// Sets the properties [`base_config`] adds to every client.
pub fn set_extra_properties(props: Vec<(String, String)>) {
    let _ = EXTRA.set(props);
}

/// Configuration every client starts from. Topics are only ever created
/// explicitly, so a metadata request can never auto-create one.
pub fn base_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("client.id", "klamm-bench")
        .set("allow.auto.create.topics", "false")
        .set_log_level(RDKafkaLogLevel::Warning);
    for (k, v) in EXTRA.get().into_iter().flatten() {
        config.set(k, v);
    }
    if let Ok(contexts) = std::env::var(DEBUG_ENV) {
        config
            .set("debug", contexts)
            .set_log_level(RDKafkaLogLevel::Debug);
    }
    config
}

/// How long deleting a topic may take before deletion is given up.
const TOPIC_DELETE_TIMEOUT: Duration = Duration::from_secs(5);

/// Configuration every consumer starts from. librdkafka refuses `assign`
/// without a `group.id`, so each consumer gets a fresh group, but it never
/// commits: partitions are assigned directly and offsets are not stored.
pub fn consumer_config(bootstrap: &str) -> ClientConfig {
    let mut config = base_config(bootstrap);
    config
        .set("group.id", unique_name("consumer"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "false");
    config
}

/// Admin client for creating and deleting the scenarios' topics.
pub struct Admin {
    client: AdminClient<DefaultClientContext>,
    /// Set once a deletion failed: later ones are skipped rather than each
    /// waiting for a broker that cannot delete topics.
    deletion_failed: AtomicBool,
}

impl Admin {
    /// Connects and checks that the broker answers a metadata request, so an
    /// unreachable broker fails here with a clear message. The request names
    /// one (absent) topic rather than asking for all of them, so the check
    /// costs the same on a broker full of topics.
    pub fn connect(bootstrap: &str) -> Result<Self> {
        let client: AdminClient<DefaultClientContext> = base_config(bootstrap)
            .create()
            .context("creating the admin client")?;
        client
            .inner()
            .fetch_metadata(
                Some("klamm-bench.connectivity-check"),
                Duration::from_secs(10),
            )
            .with_context(|| format!("no metadata from the broker at {bootstrap}"))?;
        Ok(Self {
            client,
            deletion_failed: AtomicBool::new(false),
        })
    }

    /// Creates a topic with `partitions` partitions (replication factor 1)
    /// and waits until metadata shows a leader for every partition, so the
    /// first produce of a timed run does not race topic creation.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.create_topic_with(name, partitions, &[])
    }

    /// [`Admin::create_topic`] with topic config overrides.
    pub fn create_topic_with(
        &self,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in configs {
            topic = topic.set(k, v);
        }
        let opts = AdminOptions::new()
            .request_timeout(Some(TOPIC_READY_TIMEOUT))
            .operation_timeout(Some(TOPIC_READY_TIMEOUT));
        let results = futures_executor::block_on(self.client.create_topics([&topic], &opts))
            .with_context(|| format!("CreateTopics {name}"))?;
        for result in results {
            if let Err((topic, code)) = result {
                bail!("CreateTopics {topic} failed: {code}");
            }
        }

        let deadline = Instant::now() + TOPIC_READY_TIMEOUT;
        loop {
            let metadata = self
                .client
                .inner()
                .fetch_metadata(Some(name), Duration::from_secs(5))
                .with_context(|| format!("metadata for {name}"))?;
            let ready = metadata.topics().iter().any(|t| {
                t.name() == name
                    && t.error().is_none()
                    && t.partitions().len() == usize::try_from(partitions).unwrap_or(0)
                    && t.partitions()
                        .iter()
                        .all(|p| p.error().is_none() && p.leader() >= 0)
            });
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("topic {name} has no leader for all {partitions} partitions after {TOPIC_READY_TIMEOUT:?}");
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Replaces a resource's explicit configs (`AlterConfigs`).
    pub fn alter_configs(
        &self,
        resource: ResourceSpecifier<'_>,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        let mut alter = AlterConfig::new(resource);
        for (k, v) in configs {
            alter = alter.set(k, v);
        }
        let opts = AdminOptions::new().request_timeout(Some(TOPIC_READY_TIMEOUT));
        let results = futures_executor::block_on(self.client.alter_configs([&alter], &opts))
            .context("AlterConfigs")?;
        for result in results {
            if let Err((resource, code)) = result {
                bail!("AlterConfigs {resource:?} failed: {code}");
            }
        }
        Ok(())
    }

    /// Deletes a topic to give its disk space back. Best effort: a broker
    /// without `DeleteTopics` support only costs disk space, so the first
    /// failure is logged and later deletions are skipped.
    pub fn delete_topic(&self, name: &str) {
        if self.deletion_failed.load(Ordering::Relaxed) {
            return;
        }
        let opts = AdminOptions::new()
            .request_timeout(Some(TOPIC_DELETE_TIMEOUT))
            .operation_timeout(Some(TOPIC_DELETE_TIMEOUT));
        let outcome = futures_executor::block_on(self.client.delete_topics(&[name], &opts))
            .map_err(|e| e.to_string())
            .and_then(|results| {
                results
                    .into_iter()
                    .find_map(Result::err)
                    .map_or(Ok(()), |(_, code)| Err(code.to_string()))
            });
        if let Err(e) = outcome {
            self.deletion_failed.store(true, Ordering::Relaxed);
            log::warn!("DeleteTopics {name} failed ({e}); benchmark topics will be left in place");
        }
    }
}

/// Makes the broker create what a broker in service already has before the first window
/// opens: Kafka creates its internal topics (`__transaction_state`, `__consumer_offsets`, 50
/// partitions each) on the first `InitProducerId` and the first group coordinator lookup, and
/// without this the first scenario of a run would time that. One idempotent producer sends
/// one record and one consumer commits its offset in a group, on a throw-away topic.
pub fn warm_up(bootstrap: &str, admin: &Admin) -> Result<()> {
    use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _};
    use rdkafka::producer::Producer as _;
    let topic = unique_name("warm-up");
    admin.create_topic(&topic, 1)?;
    let result = (|| -> Result<()> {
        let producer: BaseProducer<DeliveryErrors> = base_config(bootstrap)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .create_with_context(DeliveryErrors::default())
            .context("creating the warm-up producer")?;
        enqueue(
            &producer,
            BaseRecord::<(), [u8]>::to(&topic).payload(b"warm-up"),
            None,
        )?;
        producer
            .flush(Duration::from_mins(1))
            .context("warm-up produce")?;
        producer.context().check()?;
        let consumer: BaseConsumer = base_config(bootstrap)
            .set("group.id", unique_name("warm-up"))
            .set("enable.auto.commit", "false")
            .create()
            .context("creating the warm-up consumer")?;
        let mut offsets = rdkafka::TopicPartitionList::new();
        offsets.add_partition_offset(&topic, 0, rdkafka::Offset::Offset(1))?;
        let deadline = Instant::now() + Duration::from_mins(1);
        // The first commit may meet a coordinator still loading; retry like a client would.
        loop {
            match consumer.commit(&offsets, CommitMode::Sync) {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() < deadline => {
                    log::debug!("warm-up commit: {e}; retrying");
                    thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e).context("warm-up offset commit"),
            }
        }
    })();
    admin.delete_topic(&topic);
    result
}

/// A topic or group name no earlier run (of this or another bench process)
/// used, so every run starts from an empty log and no committed offsets, even
/// against a long-lived broker.
pub fn unique_name(scenario: &str) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("klamm-bench.{scenario}.{}.{nanos}.{seq}", process::id())
}

/// A deterministic, incompressible-looking payload of `len` bytes, so
/// results do not depend on compression anywhere on the path and are the
/// same from run to run.
pub fn payload(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

/// Producer context that counts failed deliveries and keeps the first error.
///
/// Producers run with `delivery.report.only.error=true`, so a successful
/// record costs no callback; a record that never arrives still does.
#[derive(Debug, Default)]
pub struct DeliveryErrors {
    failed: AtomicU64,
    first: Mutex<Option<String>>,
}

impl DeliveryErrors {
    /// Fails if any delivery failed.
    pub fn check(&self) -> Result<()> {
        let failed = self.failed.load(Ordering::Relaxed);
        if failed == 0 {
            return Ok(());
        }
        let first = self
            .first
            .lock()
            .map_err(|_| anyhow!("poisoned lock"))?
            .clone()
            .unwrap_or_default();
        bail!("{failed} record(s) failed delivery; first error: {first}")
    }
}

impl ClientContext for DeliveryErrors {}

impl ProducerContext for DeliveryErrors {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): ()) {
        if let Err((err, _)) = result {
            if self.failed.fetch_add(1, Ordering::Relaxed) == 0 {
                if let Ok(mut first) = self.first.lock() {
                    *first = Some(err.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_deterministic_and_varied() {
        let a = payload(1024);
        assert_eq!(a, payload(1024));
        assert_eq!(a.len(), 1024);
        let distinct = a.iter().collect::<std::collections::HashSet<_>>().len();
        assert!(distinct > 200, "only {distinct} distinct byte values");
    }

    #[test]
    fn topic_names_are_unique_and_legal() {
        let a = unique_name("produce-1k-acks1");
        let b = unique_name("produce-1k-acks1");
        assert_ne!(a, b);
        assert!(a.len() <= 249);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')));
    }
}
