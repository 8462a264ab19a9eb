//! Producer throughput: how fast the broker takes batched records from
//! librdkafka producers, with `acks=1` and with idempotent `acks=all`.

use std::fmt;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::ClientConfig;

use crate::client::{base_config, enqueue, payload, unique_name, DeliveryErrors};
use crate::scenario::{default_records, Env, Measured, Sample, Scenario};

/// Producer acknowledgement mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acks {
    /// The leader acknowledges once it has appended the batch.
    One,
    /// Full acknowledgement, with the idempotent producer as modern clients
    /// default to; on a single node this is where durability settings such as
    /// flush-before-ack show up.
    All,
}

impl Acks {
    fn config_value(self) -> &'static str {
        match self {
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

impl fmt::Display for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "acks={}", self.config_value())
    }
}

/// Producer configuration tuned for throughput: a short linger so batches
/// fill, batches close to the broker's default 1 MB record-batch limit, a deep
/// local queue, no compression (the broker's cost per byte is what is
/// measured), and only failed deliveries reported back.
pub fn throughput_config(bootstrap: &str, acks: Acks, timeout: Duration) -> ClientConfig {
    let mut config = base_config(bootstrap);
    config
        .set("acks", acks.config_value())
        .set("enable.idempotence", (acks == Acks::All).to_string())
        .set("linger.ms", "5")
        .set("batch.size", BATCH_BYTES.to_string())
        .set("batch.num.messages", "100000")
        .set("compression.type", "none")
        .set("queue.buffering.max.messages", "1000000")
        .set("queue.buffering.max.kbytes", "1048576")
        .set("delivery.report.only.error", "true")
        .set("message.timeout.ms", timeout.as_millis().to_string());
    config
}

/// One batch of produce work, possibly split over several producer instances.
#[derive(Debug, Clone)]
pub struct ProduceJob<'a> {
    /// Existing topic to write to.
    pub topic: &'a str,
    /// Records in total.
    pub records: u64,
    /// Payload bytes per record (no key).
    pub payload_len: usize,
    /// Acknowledgement mode.
    pub acks: Acks,
    /// Producer instances, each on its own thread.
    pub producers: usize,
    /// Give up after this long.
    pub timeout: Duration,
    /// librdkafka `compression.type` (`none` unless a scenario measures a codec).
    pub compression: &'static str,
    /// librdkafka `batch.size` in bytes: [`BATCH_BYTES`] unless a scenario needs the log cut
    /// into smaller batches (share groups acquire records batch by batch).
    pub batch_size: usize,
}

/// `batch.size` of the throughput producer: close to the broker's default 1 MB batch limit.
pub const BATCH_BYTES: usize = 1_000_000;

/// Sends `job.records` records and waits until all are acknowledged.
///
/// Producers connect before the window opens, so the window holds sending
/// and acknowledgement only. Fails if any record is not delivered.
pub fn produce(env: &Env<'_>, job: &ProduceJob<'_>) -> Result<Measured> {
    let n = job.producers.max(1);
    let barrier = Barrier::new(n + 1);
    let per_producer = |i: usize| {
        let i = i as u64;
        let n = n as u64;
        job.records / n + u64::from(i < job.records % n)
    };
    thread::scope(|scope| {
        let workers: Vec<_> = (0..n)
            .map(|i| {
                let barrier = &barrier;
                let count = per_producer(i);
                thread::Builder::new()
                    .name(format!("producer-{i}"))
                    .spawn_scoped(scope, move || {
                        let producer = connect(env.bootstrap, job);
                        barrier.wait();
                        send(&producer?, job, count)
                    })
            })
            .collect::<Result<_, _>>()?;
        let window = env.start_window();
        barrier.wait();
        for worker in workers {
            worker
                .join()
                .map_err(|_| anyhow!("producer thread panicked"))??;
        }
        Ok(window.finish(env.probe))
    })
}

/// Creates a producer and makes sure it reaches the broker and knows the topic.
fn connect(bootstrap: &str, job: &ProduceJob<'_>) -> Result<BaseProducer<DeliveryErrors>> {
    let producer: BaseProducer<DeliveryErrors> =
        throughput_config(bootstrap, job.acks, job.timeout)
            .set("compression.type", job.compression)
            .set("batch.size", job.batch_size.to_string())
            .create_with_context(DeliveryErrors::default())
            .context("creating producer")?;
    producer
        .client()
        .fetch_metadata(Some(job.topic), Duration::from_secs(10))
        .context("producer metadata")?;
    Ok(producer)
}

/// The send loop of one producer: enqueue as fast as librdkafka accepts,
/// back off briefly when its queue is full, then flush.
fn send(producer: &BaseProducer<DeliveryErrors>, job: &ProduceJob<'_>, count: u64) -> Result<()> {
    let deadline = Instant::now() + job.timeout;
    let value = payload(job.payload_len);
    for i in 0..count {
        let record = BaseRecord::<(), [u8]>::to(job.topic).payload(&value);
        if !enqueue(producer, record, Some(deadline))? {
            bail!(
                "timed out after {:?} with {i} of {count} records queued",
                job.timeout
            );
        }
        if i % 4096 == 0 {
            // Serves (error-only) delivery reports; effectively free otherwise.
            producer.poll(Duration::ZERO);
        }
    }
    let remaining = deadline.saturating_duration_since(Instant::now());
    producer.flush(remaining).with_context(|| {
        format!(
            "flush timed out ({} records still unacknowledged)",
            producer.in_flight_count()
        )
    })?;
    producer.context().check()
}

/// Producer throughput with batching: records/s, MB/s and broker CPU per record.
pub struct Produce {
    name: &'static str,
    payload_len: usize,
    acks: Acks,
    partitions: i32,
    compression: &'static str,
}

impl Produce {
    /// A scenario producing `payload_len`-byte records with `acks` into a fresh
    /// topic of `partitions` partitions on every run.
    pub fn new(name: &'static str, payload_len: usize, acks: Acks, partitions: i32) -> Self {
        Self {
            name,
            payload_len,
            acks,
            partitions,
            compression: "none",
        }
    }

    /// The same with the producer compressing batches with `codec` (the broker then
    /// decompresses each batch to validate its records, as Kafka's `LogValidator` does).
    pub fn compressed(mut self, codec: &'static str) -> Self {
        self.compression = codec;
        self
    }
}

impl Scenario for Produce {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "produce {} B records, {}{}, linger.ms=5, batch.size=1000000, compression {}, {} partition(s)",
            self.payload_len,
            self.acks,
            if self.acks == Acks::All {
                " (idempotent)"
            } else {
                ""
            },
            self.compression,
            self.partitions
        )
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, self.partitions)?;
        let records = env
            .settings
            .records
            .unwrap_or_else(|| default_records(self.payload_len));
        let job = ProduceJob {
            topic: &topic,
            records,
            payload_len: self.payload_len,
            acks: self.acks,
            producers: env.settings.producers,
            timeout: env.settings.run_timeout,
            compression: self.compression,
            batch_size: BATCH_BYTES,
        };
        let result = produce(env, &job);
        env.admin.delete_topic(&topic);
        let measured = result?;
        Ok(Sample::new(
            records,
            records * self.payload_len as u64,
            measured,
        ))
    }
}
