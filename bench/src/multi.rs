//! Many clients at once: 4 idempotent producers and a group of 4 consumers on a
//! 16-partition topic, concurrently, the shape of a real service more than one client
//! alone is.
//!
//! Producers and consumers run at the same time: the consumers join their group (and get
//! 4 partitions each from the range assignor) before the window opens, so the group's
//! `group.initial.rebalance.delay.ms` is not part of it; then the producers start and the
//! consumers read what arrives. The window closes for the producers when all four have every
//! record acknowledged, and for the consumers when the last record is read. Delivery is
//! checked per partition: every partition's consumed count must equal its high watermark,
//! and their sum the records produced.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::message::Message as _;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

use crate::client::{consumer_config, enqueue, payload, unique_name, DeliveryErrors};
use crate::produce::{throughput_config, Acks};
use crate::scenario::{default_records, Env, Measured, Sample, Scenario};

/// Producer instances, each on its own thread.
pub const PRODUCERS: usize = 4;
/// Consumers of the one group, each on its own thread.
pub const CONSUMERS: usize = 4;
/// Partitions of the topic.
pub const PARTITIONS: usize = 16;

/// Concurrent multi-producer, multi-consumer throughput.
pub struct Multi {
    name: &'static str,
    payload_len: usize,
}

impl Multi {
    /// A scenario moving `payload_len`-byte records.
    pub fn new(name: &'static str, payload_len: usize) -> Self {
        Self { name, payload_len }
    }
}

impl Scenario for Multi {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "{PRODUCERS} producers (acks=all, idempotent, linger.ms=5, default partitioner) and \
             {CONSUMERS} consumers of one group (subscribe) concurrently on a {PARTITIONS}-partition \
             topic, {} B records; records/s is the consumers', the note gives the producers'",
            self.payload_len
        )
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, i32::try_from(PARTITIONS)?)?;
        let records = env
            .settings
            .records
            .unwrap_or_else(|| default_records(self.payload_len));
        let result = run_once(env, &topic, records, self.payload_len);
        env.admin.delete_topic(&topic);
        result
    }
}

/// State the consumer threads share with the coordinating thread.
struct Shared {
    /// Partitions each consumer holds (written while joining).
    assigned: [AtomicUsize; CONSUMERS],
    /// Records each consumer has read.
    read: [AtomicU64; CONSUMERS],
    /// Set when every consumer should stop (done, failed or timed out elsewhere).
    stop: AtomicBool,
}

impl Shared {
    fn total_read(&self) -> u64 {
        self.read.iter().map(|r| r.load(Ordering::Relaxed)).sum()
    }
}

/// What one consumer read: per-partition counts and when its last record came.
struct ConsumerResult {
    per_partition: [u64; PARTITIONS],
    last: Option<Instant>,
}

fn run_once(env: &Env<'_>, topic: &str, records: u64, payload_len: usize) -> Result<Sample> {
    let timeout = env.settings.run_timeout;
    let deadline = Instant::now() + timeout;
    let group = unique_name("multi-group");
    let shared = Shared {
        assigned: Default::default(),
        read: Default::default(),
        stop: AtomicBool::new(false),
    };
    let producers_ready = Barrier::new(PRODUCERS + 1);

    thread::scope(|scope| -> Result<Sample> {
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|i| {
                let (shared, group) = (&shared, group.as_str());
                thread::Builder::new()
                    .name(format!("consumer-{i}"))
                    .spawn_scoped(scope, move || {
                        let r = consume(env.bootstrap, topic, group, i, shared, records, deadline);
                        if r.is_err() {
                            shared.stop.store(true, Ordering::Relaxed);
                        }
                        r
                    })
            })
            .collect::<Result<_, _>>()?;

        let join_secs = wait_for_group(&shared, deadline);
        if shared.stop.load(Ordering::Relaxed) {
            for c in consumers {
                c.join()
                    .map_err(|_| anyhow!("consumer thread panicked"))??;
            }
            bail!("the group did not form (all {CONSUMERS} members holding partitions) in time");
        }

        let producers: Vec<_> = (0..PRODUCERS)
            .map(|i| {
                let n = PRODUCERS as u64;
                let count = records / n + u64::from((i as u64) < records % n);
                let barrier = &producers_ready;
                thread::Builder::new()
                    .name(format!("producer-{i}"))
                    .spawn_scoped(scope, move || -> Result<Instant> {
                        let producer = connect(env.bootstrap, topic, timeout);
                        barrier.wait();
                        produce(&producer?, topic, payload_len, count, deadline)
                    })
            })
            .collect::<Result<_, _>>()?;
        producers_ready.wait();
        let window = env.start_window();
        let start = Instant::now();

        let mut produced_at = start;
        let mut failure = None;
        for p in producers {
            match p.join().map_err(|_| anyhow!("producer thread panicked"))? {
                Ok(at) => produced_at = produced_at.max(at),
                Err(e) => {
                    shared.stop.store(true, Ordering::Relaxed);
                    failure.get_or_insert(e.context("producing"));
                }
            }
        }
        let mut per_partition = [0u64; PARTITIONS];
        let mut last = start;
        for c in consumers {
            match c.join().map_err(|_| anyhow!("consumer thread panicked"))? {
                Ok(r) => {
                    for (total, n) in per_partition.iter_mut().zip(r.per_partition) {
                        *total += n;
                    }
                    last = last.max(r.last.unwrap_or(start));
                }
                Err(e) => {
                    failure.get_or_insert(e.context("consuming"));
                }
            }
        }
        let broker_cpu = window.finish(env.probe).broker_cpu;
        if let Some(e) = failure {
            return Err(e);
        }
        check_delivery(env, topic, &per_partition, records)?;

        let consume_elapsed = last - start;
        let produce_elapsed = produced_at - start;
        let mut sample = Sample::new(
            records,
            records * payload_len as u64,
            Measured {
                elapsed: consume_elapsed,
                broker_cpu,
            },
        );
        sample.producer_elapsed_secs = Some(produce_elapsed.as_secs_f64());
        sample.note = Some(format!(
            "producers {:.0} records/s ({:.1} MB/s), consumers {:.0} records/s; group joined in {join_secs:.2} s",
            records as f64 / produce_elapsed.as_secs_f64(),
            (records * payload_len as u64) as f64 / 1e6 / produce_elapsed.as_secs_f64(),
            records as f64 / consume_elapsed.as_secs_f64(),
        ));
        Ok(sample)
    })
}

/// Waits until the group has formed (every member holds partitions and all are held), or
/// sets `stop` at the deadline; returns the seconds waited.
fn wait_for_group(shared: &Shared, deadline: Instant) -> f64 {
    let joined = Instant::now();
    loop {
        let held: Vec<usize> = shared
            .assigned
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .collect();
        if held.iter().all(|&n| n > 0) && held.iter().sum::<usize>() == PARTITIONS {
            break;
        }
        if shared.stop.load(Ordering::Relaxed) || Instant::now() > deadline {
            shared.stop.store(true, Ordering::Relaxed);
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    joined.elapsed().as_secs_f64()
}

/// Every partition's consumed count must be its high watermark (nothing lost, nothing
/// read twice), and together the records produced.
fn check_delivery(
    env: &Env<'_>,
    topic: &str,
    read: &[u64; PARTITIONS],
    records: u64,
) -> Result<()> {
    let probe: BaseConsumer = consumer_config(env.bootstrap)
        .create()
        .context("creating the watermark consumer")?;
    for (partition, &n) in read.iter().enumerate() {
        let (low, high) = probe
            .fetch_watermarks(topic, i32::try_from(partition)?, Duration::from_secs(10))
            .with_context(|| format!("offsets of {topic}-{partition}"))?;
        let stored = u64::try_from(high - low).unwrap_or(0);
        if n != stored {
            bail!("partition {partition}: {n} records consumed, {stored} stored");
        }
    }
    let total: u64 = read.iter().sum();
    if total != records {
        bail!("{total} records consumed, {records} produced");
    }
    Ok(())
}

fn connect(
    bootstrap: &str,
    topic: &str,
    timeout: Duration,
) -> Result<BaseProducer<DeliveryErrors>> {
    let producer: BaseProducer<DeliveryErrors> = throughput_config(bootstrap, Acks::All, timeout)
        .create_with_context(DeliveryErrors::default())
        .context("creating producer")?;
    producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .context("producer metadata")?;
    Ok(producer)
}

/// Sends `count` keyless records (librdkafka's default partitioner spreads them, sticking to
/// one partition per batch) and returns when all are acknowledged.
fn produce(
    producer: &BaseProducer<DeliveryErrors>,
    topic: &str,
    payload_len: usize,
    count: u64,
    deadline: Instant,
) -> Result<Instant> {
    let value = payload(payload_len);
    for i in 0..count {
        let record = BaseRecord::<(), [u8]>::to(topic).payload(&value);
        if !enqueue(producer, record, Some(deadline))? {
            bail!("timed out with {i} of {count} records queued");
        }
        if i % 4096 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(deadline.saturating_duration_since(Instant::now()))
        .with_context(|| {
            format!(
                "flush timed out ({} unacknowledged)",
                producer.in_flight_count()
            )
        })?;
    producer.context().check()?;
    Ok(Instant::now())
}

/// One group member: subscribes, reports its assignment while the group forms, and reads
/// until the consumers together have read `records`.
fn consume(
    bootstrap: &str,
    topic: &str,
    group: &str,
    me: usize,
    shared: &Shared,
    records: u64,
    deadline: Instant,
) -> Result<ConsumerResult> {
    let consumer: BaseConsumer = consumer_config(bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "true")
        .set("fetch.max.bytes", "52428800")
        .set("receive.message.max.bytes", "53477376")
        .create()
        .context("creating consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let mut result = ConsumerResult {
        per_partition: [0; PARTITIONS],
        last: None,
    };
    let mut mine = 0u64;
    let mut formed = false;
    loop {
        match consumer.poll(Duration::from_millis(20)) {
            Some(Ok(m)) => {
                let p = usize::try_from(m.partition())
                    .ok()
                    .filter(|&p| p < PARTITIONS)
                    .ok_or_else(|| anyhow!("record from partition {}", m.partition()))?;
                result.per_partition[p] += 1;
                mine += 1;
                shared.read[me].store(mine, Ordering::Relaxed);
                result.last = Some(Instant::now());
                if !mine.is_multiple_of(1024) {
                    continue;
                }
            }
            Some(Err(e)) => return Err(e).context("consuming"),
            None => {}
        }
        if !formed {
            let held = consumer.assignment().map_or(0, |a| a.count());
            shared.assigned[me].store(held, Ordering::Relaxed);
            formed = mine > 0;
        }
        if shared.total_read() >= records || shared.stop.load(Ordering::Relaxed) {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "timed out with {} of {records} records read",
                shared.total_read()
            );
        }
    }
    Ok(result)
}
