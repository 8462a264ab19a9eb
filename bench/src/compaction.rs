//! Log compaction: how fast the broker's log cleaner compacts a topic, and how much producers
//! slow down while it does.
//!
//! Both scenarios fill a topic with keyed 1 KiB records (10 versions of each of 25,600 keys,
//! ~256 MiB in 16 MiB segments) under `cleanup.policy=delete`, then switch it to `compact`
//! with `AlterConfigs`, which the broker applies at once, and watch the partition's segment files
//! in the broker's data directory until the cleaner is done (no `.cleaned`/`.swap` files, the
//! log shrunk and stable). They need a broker the bench started (for the data directory) and set
//! the dynamic broker config `log.cleaner.backoff.ms=100` so an idle cleaner notices quickly.

use std::fs;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use rdkafka::admin::ResourceSpecifier;
use rdkafka::producer::{BaseProducer, BaseRecord, Producer as _};

use crate::client::{enqueue, payload, unique_name, DeliveryErrors};
use crate::produce::{produce, throughput_config, Acks, ProduceJob};
use crate::scenario::{Env, Measured, Sample, Scenario, ONE_KIB};

/// Records written to the topic that gets compacted.
const FILL_RECORDS: u64 = 262_144;
/// Distinct keys among them (each written `FILL_RECORDS / KEYS` times).
const KEYS: u64 = 25_600;
const SEGMENT_BYTES: &str = "16777216";
/// Records produced in each window of the produce-while-cleaning comparison (by default).
const PRODUCE_RECORDS: u64 = 150_000;
/// How long the log must stay unchanged to count as cleaned.
const SETTLED: Duration = Duration::from_millis(300);

fn compact_configs() -> [(&'static str, &'static str); 3] {
    [
        ("cleanup.policy", "compact"),
        ("segment.bytes", SEGMENT_BYTES),
        ("min.cleanable.dirty.ratio", "0.01"),
    ]
}

fn data_dir<'a>(env: &Env<'a>) -> Result<&'a Path> {
    env.data_dir
        .ok_or_else(|| anyhow!("needs a broker started by the bench (to watch its data directory)"))
}

/// Makes an idle cleaner look for work every 100 ms (a dynamic broker config; the cleaner
/// picks up the change within a second).
fn fast_cleaner_backoff(env: &Env<'_>) -> Result<()> {
    env.admin.alter_configs(
        ResourceSpecifier::Broker(0),
        &[("log.cleaner.backoff.ms", "100")],
    )?;
    thread::sleep(Duration::from_millis(1200));
    Ok(())
}

/// Creates the topic and fills it with keyed records (untimed). Returns the partition directory.
fn fill_topic(env: &Env<'_>, topic: &str) -> Result<PathBuf> {
    env.admin.create_topic_with(
        topic,
        1,
        &[
            ("cleanup.policy", "delete"),
            ("segment.bytes", SEGMENT_BYTES),
        ],
    )?;
    let producer: BaseProducer<DeliveryErrors> =
        throughput_config(env.bootstrap, Acks::One, env.settings.run_timeout)
            .create_with_context(DeliveryErrors::default())
            .context("creating the fill producer")?;
    let deadline = Instant::now() + env.settings.run_timeout;
    let value = payload(ONE_KIB);
    for i in 0..FILL_RECORDS {
        let key = format!("key-{:08}", i % KEYS);
        let record = BaseRecord::<[u8], [u8]>::to(topic)
            .key(key.as_bytes())
            .payload(&value);
        if !enqueue(&producer, record, Some(deadline))? {
            bail!("filling {topic} timed out");
        }
        if i % 4096 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    producer
        .flush(deadline.saturating_duration_since(Instant::now()))
        .context("flushing the fill producer")?;
    producer.context().check()?;
    Ok(data_dir(env)?.join(format!("{topic}-0")))
}

/// Sizes of the partition's segment files, oldest first, and whether a cleaning is under way.
fn segments(dir: &Path) -> Result<(Vec<u64>, bool)> {
    let mut logs = Vec::new();
    let mut busy = false;
    for e in fs::read_dir(dir).with_context(|| dir.display().to_string())? {
        let Ok(e) = e else {
            busy = true;
            continue;
        };
        let name = e.file_name().to_string_lossy().to_string();
        let ext = Path::new(&name)
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("");
        if ext == "cleaned" || ext == "swap" {
            busy = true;
        } else if ext == "log" {
            // The cleaner renames files as it swaps segments: one may be gone already.
            match e.metadata() {
                Ok(m) => logs.push((name, m.len())),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => busy = true,
                Err(err) => return Err(err.into()),
            }
        }
    }
    logs.sort();
    Ok((logs.into_iter().map(|(_, s)| s).collect(), busy))
}

/// Waits until the cleaner has compacted the partition; returns when the log last changed.
fn wait_until_cleaned(dir: &Path, dirty_bytes: u64, timeout: Duration) -> Result<Instant> {
    let deadline = Instant::now() + timeout;
    let mut last = segments(dir)?;
    let mut last_change = Instant::now();
    loop {
        thread::sleep(Duration::from_millis(5));
        let now = segments(dir)?;
        if now != last {
            last = now;
            last_change = Instant::now();
            continue;
        }
        let total: u64 = last.0.iter().sum();
        if !last.1 && total < dirty_bytes / 2 && last_change.elapsed() >= SETTLED {
            return Ok(last_change);
        }
        if Instant::now() > deadline {
            bail!("log not compacted after {timeout:?} ({total} of {dirty_bytes} bytes left)");
        }
    }
}

/// Cleaner throughput: log bytes (all segments but the active one) compacted per second.
pub struct CleanThroughput {
    name: &'static str,
}

impl CleanThroughput {
    pub fn new(name: &'static str) -> Self {
        Self { name }
    }
}

impl Scenario for CleanThroughput {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "log cleaner: compact {FILL_RECORDS} keyed 1 KiB records ({KEYS} keys) in 16 MiB segments; MB/s and records/s are of log cleaned (batches as stored, not payload)"
        )
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        data_dir(env)?;
        fast_cleaner_backoff(env)
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        let result = (|| {
            let dir = fill_topic(env, &topic)?;
            let (sizes, _) = segments(&dir)?;
            let dirty: u64 = sizes[..sizes.len().saturating_sub(1)].iter().sum();
            let window = env.start_window();
            let start = Instant::now();
            env.admin
                .alter_configs(ResourceSpecifier::Topic(&topic), &compact_configs())?;
            let end = wait_until_cleaned(&dir, dirty, env.settings.run_timeout)?;
            let cpu = window.finish(env.probe).broker_cpu;
            let cleaned_records = FILL_RECORDS * dirty / (sizes.iter().sum::<u64>().max(1));
            Ok(Sample::new(
                cleaned_records,
                dirty,
                Measured {
                    elapsed: end - start,
                    broker_cpu: cpu,
                },
            ))
        })();
        env.admin.delete_topic(&topic);
        result
    }
}

/// Producer throughput (1 KiB, acks=1) while the cleaner compacts another topic, next to the
/// same produce without cleaning in the same run.
pub struct ProduceWhileCleaning {
    name: &'static str,
}

impl ProduceWhileCleaning {
    pub fn new(name: &'static str) -> Self {
        Self { name }
    }
}

impl Scenario for ProduceWhileCleaning {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        "produce 1 KiB records, acks=1, while the cleaner compacts a ~256 MiB topic; the progress line compares with the same produce alone in the same run".into()
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        data_dir(env)?;
        fast_cleaner_backoff(env)
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let records = env.settings.records.unwrap_or(PRODUCE_RECORDS);
        let compacted = unique_name("compacted");
        let alone = unique_name(self.name);
        let during = unique_name(self.name);
        let result = (|| {
            let dir = fill_topic(env, &compacted)?;
            let produce_into = |topic: &str| -> Result<Measured> {
                env.admin.create_topic(topic, 1)?;
                let job = ProduceJob {
                    topic,
                    records,
                    payload_len: ONE_KIB,
                    acks: Acks::One,
                    producers: env.settings.producers,
                    timeout: env.settings.run_timeout,
                    compression: "none",
                    batch_size: crate::produce::BATCH_BYTES,
                };
                produce(env, &job)
            };
            let solo = produce_into(&alone)?;
            let (sizes, _) = segments(&dir)?;
            let dirty: u64 = sizes[..sizes.len().saturating_sub(1)].iter().sum();
            env.admin
                .alter_configs(ResourceSpecifier::Topic(&compacted), &compact_configs())?;
            // Give the cleaner (polling every 100 ms) time to pick the topic up, then produce.
            let started = Instant::now();
            thread::sleep(Duration::from_millis(150));
            let concurrent = produce_into(&during)?;
            let (sizes_after, busy) = segments(&dir)?;
            let still_cleaning = busy || sizes_after.iter().sum::<u64>() > dirty / 2;
            let done = wait_until_cleaned(&dir, dirty, env.settings.run_timeout)?;
            let a = Sample::new(records, records * ONE_KIB as u64, solo);
            let b = Sample::new(records, records * ONE_KIB as u64, concurrent);
            eprintln!(
                "  {}: produce alone {:.1} MB/s, while cleaning {:.1} MB/s = {:.0}% of alone{}; cleaning took {:.2} s",
                self.name,
                a.mb_per_sec(),
                b.mb_per_sec(),
                100.0 * b.mb_per_sec() / a.mb_per_sec(),
                if still_cleaning { "" } else { " (the cleaner finished before the produce did)" },
                (done - started).as_secs_f64(),
            );
            Ok(b)
        })();
        for t in [&compacted, &alone, &during] {
            env.admin.delete_topic(t);
        }
        result
    }
}
