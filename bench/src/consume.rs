//! Consumer throughput: how fast the broker serves a pre-filled topic to a
//! librdkafka consumer reading from the beginning with large fetches.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::client::{consumer_config, unique_name};
use crate::produce::{produce, Acks, ProduceJob};
use crate::scenario::{default_records, Env, Sample, Scenario};

/// Consumer configuration tuned for throughput: big fetch responses and a
/// deep local pre-fetch queue, so the client keeps a fetch outstanding while
/// the application drains the previous one.
pub fn throughput_config(bootstrap: &str) -> ClientConfig {
    let mut config = consumer_config(bootstrap);
    config
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .set("receive.message.max.bytes", "53477376")
        .set("queued.max.messages.kbytes", "1048576")
        .set("queued.min.messages", "1000000");
    config
}

/// Reads `records` records from the beginning of all `partitions` partitions
/// of `topic`. The window runs from `assign` to the last record, so it covers
/// offset lookup, every fetch and client-side delivery of each record.
pub fn consume(
    env: &Env<'_>,
    config: &ClientConfig,
    topic: &str,
    partitions: i32,
    records: u64,
) -> Result<Sample> {
    let consumer: BaseConsumer = config.create().context("creating consumer")?;
    consumer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("consumer metadata")?;
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }

    let deadline = Instant::now() + env.settings.run_timeout;
    let window = env.start_window();
    consumer.assign(&assignment)?;
    let mut received = 0u64;
    let mut bytes = 0u64;
    while received < records {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                received += 1;
                bytes += message.payload_len() as u64;
            }
            Some(Err(e)) => return Err(e).context("consuming"),
            None if Instant::now() > deadline => bail!(
                "timed out after {:?} with {received} of {records} records read",
                env.settings.run_timeout
            ),
            None => {}
        }
    }
    let measured = window.finish(env.probe);
    Ok(Sample::new(received, bytes, measured))
}

/// Fails unless the broker reports exactly `records` records in `topic`,
/// starting at offset 0: a shortfall would otherwise surface only as a
/// consumer that waits for records that never come.
pub fn check_stored(bootstrap: &str, topic: &str, partitions: i32, records: u64) -> Result<()> {
    let consumer: BaseConsumer = consumer_config(bootstrap)
        .create()
        .context("creating consumer")?;
    let mut stored = 0;
    for partition in 0..partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, Duration::from_secs(10))
            .with_context(|| format!("offsets of {topic}-{partition}"))?;
        if low != 0 {
            bail!("{topic}-{partition} starts at offset {low}, not 0: the broker dropped records");
        }
        stored += u64::try_from(high).unwrap_or(0);
    }
    if stored != records {
        bail!("the broker holds {stored} records in {topic}, {records} were acknowledged");
    }
    Ok(())
}

/// Consumer throughput: a topic is filled once (untimed), then every run
/// reads it all with a fresh consumer.
pub struct Consume {
    name: &'static str,
    payload_len: usize,
    partitions: i32,
    /// Topic and record count, once prepared.
    filled: Option<(String, u64)>,
}

impl Consume {
    /// A scenario consuming `payload_len`-byte records from a topic of
    /// `partitions` partitions.
    pub fn new(name: &'static str, payload_len: usize, partitions: i32) -> Self {
        Self {
            name,
            payload_len,
            partitions,
            filled: None,
        }
    }
}

impl Scenario for Consume {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "consume {} B records from the beginning of a pre-filled {}-partition topic, \
             fetch.max.bytes=50MiB, max.partition.fetch.bytes=10MiB",
            self.payload_len, self.partitions
        )
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, self.partitions)?;
        let records = env
            .settings
            .records
            .unwrap_or_else(|| default_records(self.payload_len));
        // Recorded before filling so cleanup deletes the topic even if the fill fails.
        self.filled = Some((topic.clone(), records));
        let fill = produce(
            env,
            &ProduceJob {
                topic: &topic,
                records,
                payload_len: self.payload_len,
                acks: Acks::One,
                producers: env.settings.producers,
                timeout: env.settings.run_timeout,
                compression: "none",
                batch_size: crate::produce::BATCH_BYTES,
            },
        )
        .context("pre-filling the topic")?;
        eprintln!(
            "[{}] pre-filled {records} records in {:.1} s",
            self.name,
            fill.elapsed.as_secs_f64()
        );
        check_stored(env.bootstrap, &topic, self.partitions, records)
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let Some((topic, records)) = &self.filled else {
            bail!("scenario not prepared");
        };
        consume(
            env,
            &throughput_config(env.bootstrap),
            topic,
            self.partitions,
            *records,
        )
    }

    fn cleanup(&mut self, env: &Env<'_>) {
        if let Some((topic, _)) = self.filled.take() {
            env.admin.delete_topic(&topic);
        }
    }
}
