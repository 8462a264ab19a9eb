//! End-to-end latency: time from a producer's `send` to a consumer's receipt
//! of the same record, at a fixed moderate rate.
//!
//! The consumer long-polls with `fetch.wait.max.ms=500`, so a broker that
//! does not wake parked fetches when records are appended shows latencies
//! near 500 ms instead of a few milliseconds.

use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};
use rdkafka::{Offset, TopicPartitionList};

use crate::broker::ProcessProbe;
use crate::client::{base_config, consumer_config, enqueue, payload, unique_name, DeliveryErrors};
use crate::report::percentile;
use crate::scenario::{Env, LatencyMs, Measured, Sample, Scenario, Window};

/// Bytes at the start of each payload: send time (ns since the run's epoch)
/// and sequence number, both little-endian u64.
const HEADER_LEN: usize = 16;
/// How long the consumer may lag behind the producer's last send.
const DRAIN_GRACE: Duration = Duration::from_secs(10);

/// Fixed-rate end-to-end latency with `acks=all` and an idempotent producer.
pub struct E2eLatency {
    name: &'static str,
    payload_len: usize,
}

impl E2eLatency {
    /// A latency scenario with `payload_len`-byte records (at least 16).
    pub fn new(name: &'static str, payload_len: usize) -> Self {
        Self {
            name,
            payload_len: payload_len.max(HEADER_LEN),
        }
    }
}

impl Scenario for E2eLatency {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "end-to-end latency of {} B records sent at a fixed rate, acks=all (idempotent), \
             linger.ms=0, consumer fetch.wait.max.ms=500, 1 partition",
            self.payload_len
        )
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, 1)?;
        let result = self.measure(env, &topic);
        env.admin.delete_topic(&topic);
        result
    }
}

impl E2eLatency {
    fn measure(&self, env: &Env<'_>, topic: &str) -> Result<Sample> {
        let s = env.settings;
        let interval = Duration::from_secs(1) / u32::try_from(s.rate).context("--rate")?;
        let warmup_records = records_in(s.warmup, s.rate);
        let measured_records = records_in(s.duration, s.rate).max(1);
        let total = warmup_records + measured_records;

        let producer: BaseProducer<DeliveryErrors> = base_config(env.bootstrap)
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "0")
            .set("compression.type", "none")
            .set("delivery.report.only.error", "true")
            .set("message.timeout.ms", s.run_timeout.as_millis().to_string())
            .create_with_context(DeliveryErrors::default())
            .context("creating producer")?;
        let consumer: BaseConsumer = consumer_config(env.bootstrap)
            .set("fetch.wait.max.ms", "500")
            .set("fetch.min.bytes", "1")
            .create()
            .context("creating consumer")?;
        let mut assignment = TopicPartitionList::new();
        assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
        consumer.assign(&assignment)?;

        // The clock both sides stamp against; `Instant` is CLOCK_MONOTONIC.
        let epoch = Instant::now();
        let window = OnceLock::new();
        let receiver = Receiver {
            consumer: &consumer,
            epoch,
            warmup_records,
            total,
            deadline: epoch + s.warmup + s.duration + DRAIN_GRACE,
            window: &window,
            probe: env.probe,
        };
        let sender = Sender {
            producer: &producer,
            topic,
            interval,
            epoch,
            payload_len: self.payload_len,
            warmup_records,
            total,
            timeout: s.run_timeout,
        };
        let (latencies, measured) = thread::scope(|scope| {
            let consuming = thread::Builder::new()
                .name("e2e-consumer".into())
                .spawn_scoped(scope, || receiver.run())?;
            let sent = sender.run(env, &window);
            let latencies = consuming
                .join()
                .map_err(|_| anyhow!("consumer thread panicked"))?;
            sent.context("producing")?;
            latencies.context("consuming")
        })?;

        let mut sorted = latencies;
        sorted.sort_unstable();
        let ms = |q: f64| percentile(&sorted, q).map_or(f64::NAN, |ns| ns as f64 / 1e6);
        let mut sample = Sample::new(
            measured_records,
            measured_records * self.payload_len as u64,
            measured,
        );
        sample.latency_ms = Some(LatencyMs {
            p50: ms(0.50),
            p99: ms(0.99),
            p999: ms(0.999),
            max: ms(1.0),
        });
        Ok(sample)
    }
}

/// Records sent at `rate` per second during `span`.
fn records_in(span: Duration, rate: u64) -> u64 {
    u64::try_from(span.as_nanos() * u128::from(rate) / 1_000_000_000).unwrap_or(u64::MAX)
}

/// Nanoseconds since `epoch`, as carried in payloads.
fn nanos_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The paced producer side of a latency run.
struct Sender<'a> {
    producer: &'a BaseProducer<DeliveryErrors>,
    topic: &'a str,
    interval: Duration,
    epoch: Instant,
    payload_len: usize,
    warmup_records: u64,
    total: u64,
    timeout: Duration,
}

impl Sender<'_> {
    /// Sends record `i` at `epoch + i * interval`. Deadlines are absolute, so
    /// sleep overshoot never accumulates into a lower rate: a late wake-up
    /// just sends the records that fell due meanwhile. Each record is stamped
    /// right before it is handed to the client.
    fn run(&self, env: &Env<'_>, window: &OnceLock<Window>) -> Result<()> {
        let mut value = payload(self.payload_len);
        for seq in 0..self.total {
            let due = self.epoch + self.interval * u32::try_from(seq)?;
            let now = Instant::now();
            if due > now {
                thread::sleep(due - now);
            }
            if seq == self.warmup_records {
                let _ = window.set(env.start_window());
            }
            value[8..16].copy_from_slice(&seq.to_le_bytes());
            value[..8].copy_from_slice(&nanos_since(self.epoch).to_le_bytes());
            let record = BaseRecord::<(), [u8]>::to(self.topic).payload(&value);
            enqueue(self.producer, record, None)?;
            if seq % 64 == 0 {
                self.producer.poll(Duration::ZERO);
            }
        }
        self.producer
            .flush(self.timeout)
            .context("flushing the producer")?;
        self.producer.context().check()
    }
}

/// The consumer side of a latency run.
struct Receiver<'a> {
    consumer: &'a BaseConsumer,
    epoch: Instant,
    warmup_records: u64,
    total: u64,
    deadline: Instant,
    window: &'a OnceLock<Window>,
    probe: Option<&'a ProcessProbe>,
}

impl Receiver<'_> {
    /// Receives every record; returns the latencies (ns) of the records sent
    /// after the warm-up and the measurement window, which closes on receipt
    /// of the last record.
    fn run(&self) -> Result<(Vec<u64>, Measured)> {
        let capacity = usize::try_from(self.total - self.warmup_records).unwrap_or(0);
        let mut latencies = Vec::with_capacity(capacity);
        let mut received = 0u64;
        while received < self.total {
            match self.consumer.poll(Duration::from_millis(100)) {
                Some(Ok(message)) => {
                    let now = nanos_since(self.epoch);
                    let value = message.payload().unwrap_or_default();
                    if value.len() < HEADER_LEN {
                        bail!("foreign record of {} bytes in the topic", value.len());
                    }
                    let sent = u64::from_le_bytes(value[..8].try_into()?);
                    let seq = u64::from_le_bytes(value[8..16].try_into()?);
                    if seq >= self.warmup_records {
                        latencies.push(now.saturating_sub(sent));
                    }
                    received += 1;
                }
                Some(Err(e)) => return Err(e.into()),
                None if Instant::now() > self.deadline => bail!(
                    "only {received} of {} records arrived by the deadline",
                    self.total
                ),
                None => {}
            }
        }
        let window = self
            .window
            .get()
            .ok_or_else(|| anyhow!("measurement window never opened"))?;
        Ok((latencies, window.finish(self.probe)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_in_span() {
        assert_eq!(records_in(Duration::from_secs(10), 10_000), 100_000);
        assert_eq!(records_in(Duration::from_millis(1500), 10_000), 15_000);
        assert_eq!(records_in(Duration::ZERO, 10_000), 0);
    }
}
