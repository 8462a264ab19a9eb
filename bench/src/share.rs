//! Share groups (KIP-932): consume throughput of 1, 3 and 8 share consumers on one partition
//! against a plain consumer, and end-to-end latency through a share consumer.
//!
//! The bundled librdkafka (2.12) has no share consumer, so these scenarios drive Kafka's Java
//! client: `java/ShareBench.java`, run as a single-file source program on the classpath Maven
//! resolves for `protocol-tests/java/pom.xml` (its pinned kafka-clients). The plain consumer they
//! are compared with is that client's `KafkaConsumer`, so the ratio is of one client family.
//! The JVM is started per run, outside the window: it prints `READY` when the window opens (just
//! before its consumers are created and join their group) and `DONE_AT` the moment the last
//! record arrived, and this side reads the broker's CPU time at those two lines.
//!
//! Share scenarios are opt-in (`--scenario`): each starts JVMs, and a default run stays short.

use std::io::{BufRead as _, BufReader, Read as _, Seek as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};

use crate::client::unique_name;
use crate::consume::check_stored;
use crate::produce::{produce, Acks, ProduceJob};
use crate::scenario::{default_records, Env, LatencyMs, Measured, Sample, Scenario};

/// The bench crate's directory, where `java/` and the repository's `protocol-tests/` are found.
const CRATE_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// Producer `batch.size` of the pre-fill: the Java producer's default (16 KiB), what the log of
/// a typical producer holds. Share partitions acquire whole batches (KIP-932; Kafka's
/// `SharePartition.acquire`), so 1 MB batches (10,000 records of 100 B) would hand one
/// consumer each batch's records up to `group.share.partition.max.record.locks` at a time.
pub const PREFILL_BATCH_BYTES: usize = 16_384;

/// `max.poll.records` of the Java consumers, the client's default. A share consumer sends it
/// as `ShareFetch` `MaxRecords` and `BatchSize` (Kafka's `ShareSessionHandler`), so it bounds the
/// records a share consumer acquires per fetch; the plain consumer gets the same.
const MAX_POLL_RECORDS: u32 = 500;

/// The Java side: `java` and the classpath, resolved once per bench run.
struct Java {
    classpath: String,
    source: PathBuf,
}

/// Resolves the classpath with Maven (offline first: `target/m2` normally holds it already).
fn java() -> Result<&'static Java> {
    static JAVA: OnceLock<std::result::Result<Java, String>> = OnceLock::new();
    JAVA.get_or_init(|| resolve_java().map_err(|e| format!("{e:#}")))
        .as_ref()
        .map_err(|e| anyhow!("setting up the Java client: {e}"))
}

fn resolve_java() -> Result<Java> {
    let root = PathBuf::from(CRATE_DIR).join("..");
    let m2 = std::env::var_os("KLAMM_M2").map_or_else(|| root.join("target/m2"), PathBuf::from);
    let out = tempfile::NamedTempFile::new()?;
    let pom = root.join("protocol-tests/java/pom.xml");
    let maven = |offline: bool| {
        let mut cmd = Command::new("mvn");
        cmd.args(["-B", "-ntp", "-q"]);
        if offline {
            cmd.arg("-o");
        }
        cmd.arg(format!("-Dmaven.repo.local={}", m2.display()))
            .arg("-f")
            .arg(&pom)
            .args(["dependency:build-classpath", "-Dmdep.includeScope=runtime"])
            .arg(format!("-Dmdep.outputFile={}", out.path().display()))
            .stdout(Stdio::null())
            .status()
    };
    let ok =
        maven(true).is_ok_and(|s| s.success()) || maven(false).context("running mvn")?.success();
    if !ok {
        bail!(
            "mvn dependency:build-classpath failed for {}",
            pom.display()
        );
    }
    let classpath = std::fs::read_to_string(out.path())?.trim().to_owned();
    let source = PathBuf::from(CRATE_DIR).join("java/ShareBench.java");
    if !source.is_file() {
        bail!("{} is missing", source.display());
    }
    Ok(Java { classpath, source })
}

/// What `ShareBench` reported for one run: the window and its `DONE` figures.
struct JavaRun {
    measured: Measured,
    figures: Vec<(String, String)>,
}

impl JavaRun {
    fn get(&self, key: &str) -> Result<u64> {
        self.figures
            .iter()
            .find(|(k, _)| k == key)
            .ok_or_else(|| anyhow!("ShareBench reported no {key}"))?
            .1
            .parse()
            .with_context(|| format!("ShareBench's {key}"))
    }

    fn text(&self, key: &str) -> &str {
        self.figures
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Runs `ShareBench` with `args`, opening the broker CPU window at its `READY` line and closing
/// it at `DONE_AT` (or at `DONE`, for modes without one). The window's wall time is the JVM's
/// own `elapsed_ns` (the pipe adds nothing to it).
fn run_java(env: &Env<'_>, args: &[String]) -> Result<JavaRun> {
    let java = java()?;
    let mut stderr = tempfile::tempfile()?;
    let mut child = Command::new("java")
        .args(["-Xmx2g", "-XX:+UseParallelGC"])
        .arg("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn")
        .arg("-cp")
        .arg(&java.classpath)
        .arg(&java.source)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr.try_clone()?)
        .spawn()
        .context("starting java")?;
    let stdout = child.stdout.take().context("java's stdout")?;
    let mut window = None;
    let mut measured = None;
    let mut figures = None;
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line == "READY" {
            window = Some(env.start_window());
        } else if line == "DONE_AT" {
            measured = window.map(|w| w.finish(env.probe));
        } else if let Some(rest) = line.strip_prefix("DONE ") {
            if measured.is_none() {
                measured = window.map(|w| w.finish(env.probe));
            }
            figures = Some(
                rest.split_whitespace()
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect::<Vec<_>>(),
            );
        }
    }
    let status = child.wait()?;
    let (Some(measured), Some(figures), true) = (measured, figures, status.success()) else {
        let mut text = String::new();
        stderr.rewind()?;
        stderr.read_to_string(&mut text)?;
        let tail: Vec<_> = text.lines().rev().take(15).collect();
        let tail: Vec<_> = tail.into_iter().rev().collect();
        bail!("ShareBench failed ({status}):\n{}", tail.join("\n"));
    };
    let mut run = JavaRun { measured, figures };
    let elapsed = Duration::from_nanos(run.get("elapsed_ns")?);
    run.measured.elapsed = elapsed;
    Ok(run)
}

/// Which consumers read the topic.
#[derive(Debug, Clone, Copy)]
pub enum Consumers {
    /// One `KafkaConsumer` in a consumer group (KIP-848 protocol), from the earliest offset.
    Plain,
    /// This many `KafkaShareConsumer`s of one share group, implicit acknowledgement.
    Share(u32),
}

/// Consume throughput of a pre-filled one-partition topic, every record read once.
pub struct ShareConsume {
    name: &'static str,
    payload_len: usize,
    consumers: Consumers,
    filled: Option<(String, u64)>,
}

impl ShareConsume {
    /// A scenario reading `payload_len`-byte records with `consumers`.
    pub fn new(name: &'static str, payload_len: usize, consumers: Consumers) -> Self {
        Self {
            name,
            payload_len,
            consumers,
            filled: None,
        }
    }
}

impl Scenario for ShareConsume {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        let who = match self.consumers {
            Consumers::Plain => "one Java KafkaConsumer (group.protocol=consumer)".to_owned(),
            Consumers::Share(n) => format!(
                "{n} Java KafkaShareConsumer{} of one share group (implicit acks, \
                 share.auto.offset.reset=earliest)",
                if n == 1 { "" } else { "s" }
            ),
        };
        format!(
            "{who} read a pre-filled 1-partition topic of {} B records (16 KiB producer \
             batches), max.poll.records={MAX_POLL_RECORDS}",
            self.payload_len
        )
    }

    fn opt_in(&self) -> bool {
        true
    }

    fn prepare(&mut self, env: &Env<'_>) -> Result<()> {
        java()?;
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, 1)?;
        let records = env
            .settings
            .records
            .unwrap_or_else(|| default_records(self.payload_len));
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
                batch_size: env.settings.share_batch_bytes,
            },
        )
        .context("pre-filling the topic")?;
        eprintln!(
            "[{}] pre-filled {records} records in {:.1} s",
            self.name,
            fill.elapsed.as_secs_f64()
        );
        check_stored(env.bootstrap, &topic, 1, records)
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let Some((topic, records)) = &self.filled else {
            bail!("scenario not prepared");
        };
        let (mode, n) = match self.consumers {
            Consumers::Plain => ("plain", 1),
            Consumers::Share(n) => ("share", n),
        };
        let run = run_java(
            env,
            &[
                "consume".to_owned(),
                env.bootstrap.to_owned(),
                topic.clone(),
                records.to_string(),
                mode.to_owned(),
                n.to_string(),
                unique_name(self.name),
                MAX_POLL_RECORDS.to_string(),
                env.settings.run_timeout.as_millis().to_string(),
            ],
        )?;
        let distinct = run.get("records")?;
        if distinct != *records {
            bail!("{distinct} of {records} offsets delivered");
        }
        let delivered = run.get("delivered")?;
        let polls = run.get("polls")?.max(1);
        let mut sample = Sample::new(distinct, distinct * self.payload_len as u64, run.measured);
        let duplicates = run.get("duplicates")?;
        let first_duplicate = if duplicates == 0 {
            String::new()
        } else {
            format!(
                " (the first after {} ms; {} of them after every offset had been delivered)",
                run.text("first_duplicate_ns").parse::<i64>().unwrap_or(-1) / 1_000_000,
                run.get("late_duplicates")?
            )
        };
        sample.note = Some(format!(
            "first record after {:.0} ms, {:.0} records per non-empty poll, {duplicates} \
             redelivered{first_duplicate}, per consumer {}",
            run.get("first_ns")? as f64 / 1e6,
            delivered as f64 / polls as f64,
            run.text("per_consumer")
        ));
        Ok(sample)
    }

    fn cleanup(&mut self, env: &Env<'_>) {
        if let Some((topic, _)) = self.filled.take() {
            env.admin.delete_topic(&topic);
        }
    }
}

/// End-to-end latency through one Java consumer: a Java producer (acks=all, idempotent,
/// linger.ms=0) at `--rate`, the consumer in the same JVM, both stamping `System.nanoTime`.
pub struct ShareLatency {
    name: &'static str,
    payload_len: usize,
    share: bool,
}

impl ShareLatency {
    /// Through a share consumer (`share`) or a plain one.
    pub fn new(name: &'static str, payload_len: usize, share: bool) -> Self {
        Self {
            name,
            payload_len,
            share,
        }
    }
}

impl Scenario for ShareLatency {
    fn name(&self) -> &'static str {
        self.name
    }

    fn description(&self) -> String {
        format!(
            "end-to-end latency of {} B records at a fixed rate through one Java {} \
             (fetch.max.wait.ms=500); Java producer acks=all, idempotent, linger.ms=0",
            self.payload_len,
            if self.share {
                "KafkaShareConsumer (implicit acks)"
            } else {
                "KafkaConsumer (group.protocol=consumer)"
            }
        )
    }

    fn opt_in(&self) -> bool {
        true
    }

    fn prepare(&mut self, _env: &Env<'_>) -> Result<()> {
        java().map(|_| ())
    }

    fn run(&mut self, env: &Env<'_>) -> Result<Sample> {
        let topic = unique_name(self.name);
        env.admin.create_topic(&topic, 1)?;
        let s = env.settings;
        let result = run_java(
            env,
            &[
                "latency".to_owned(),
                env.bootstrap.to_owned(),
                topic.clone(),
                if self.share { "share" } else { "plain" }.to_owned(),
                unique_name(self.name),
                s.rate.to_string(),
                s.warmup.as_millis().to_string(),
                s.duration.as_millis().to_string(),
                self.payload_len.to_string(),
                s.run_timeout.as_millis().to_string(),
            ],
        );
        env.admin.delete_topic(&topic);
        let run = result?;
        let ms = |key: &str| run.get(key).map(|ns| ns as f64 / 1e6);
        let mut sample = Sample::new(run.get("records")?, run.get("bytes")?, run.measured);
        sample.latency_ms = Some(LatencyMs {
            p50: ms("p50_ns")?,
            p99: ms("p99_ns")?,
            p999: ms("p999_ns")?,
            max: ms("max_ns")?,
        });
        let duplicates = run.get("duplicates")?;
        if duplicates > 0 {
            sample.note = Some(format!("{duplicates} records delivered twice"));
        }
        Ok(sample)
    }
}
