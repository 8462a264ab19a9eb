//! Apache Kafka as a bench target (`--target kafka|both`): one `KRaft` combined-mode node
//! (`process.roles=broker,controller`) started from the class path Maven resolved for
//! Kafka 4.1 (`protocol-tests/run-all --install-only` writes it to
//! `target/kafka/kafka.classpath`), so the same scenarios and the same librdkafka clients
//! measure Klamm and the broker whose behaviour is its spec.
//!
//! The set-up is the production one of Kafka's own scripts, not a test one: the heap
//! `kafka-server-start.sh` gives (`-Xmx1G -Xms1G`) and the G1 flags of
//! `kafka-run-class.sh`, full JIT, one partition per topic by default, and the internal
//! topics at replication factor 1 as a single node needs (`offsets.topic.replication.factor`,
//! `transaction.state.log.replication.factor`, `transaction.state.log.min.isr`). The settings
//! the bench gives Klamm are given to Kafka too (`group.initial.rebalance.delay.ms`, the
//! KIP-848 heartbeat interval), so both brokers run the same workload under the same rules.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};

use crate::broker::{wait_api_versions, Managed, Target};

/// How long Kafka may take to serve clients (a few seconds on an idle machine; the JVM
/// warms up slowly on a busy 2-core one).
const STARTUP_TIMEOUT: Duration = Duration::from_mins(2);

/// Kafka's default `group.initial.rebalance.delay.ms`, which Klamm shares.
pub const DEFAULT_REBALANCE_DELAY_MS: &str = "3000";

/// JVM options of `kafka-server-start.sh` (`KAFKA_HEAP_OPTS`) and `kafka-run-class.sh`
/// (`KAFKA_JVM_PERFORMANCE_OPTS`) in Kafka 4.1.
const JVM_OPTS: &[&str] = &[
    "-Xmx1G",
    "-Xms1G",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
];

/// A fixed cluster id: every run formats a fresh log directory anyway.
const CLUSTER_ID: &str = "a2xhbW0tYmVuY2gta2Fma2E";

/// How to start Kafka.
#[derive(Debug)]
pub struct KafkaOptions {
    /// File holding the Java class path (one line, `:`-separated).
    pub classpath_file: PathBuf,
    /// `group.initial.rebalance.delay.ms`, the value Klamm runs with.
    pub rebalance_delay_ms: String,
    /// Where to keep Kafka's console output; `None` means inside its temp dir.
    pub log: Option<PathBuf>,
}

/// Finds the class path file like `--broker-bin`: as given, then against the bench
/// crate's directory.
pub fn resolve_classpath(file: &Path) -> Result<PathBuf> {
    let candidates = if file.is_absolute() {
        vec![file.to_path_buf()]
    } else {
        vec![
            file.to_path_buf(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join(file),
        ]
    };
    candidates.into_iter().find(|p| p.is_file()).ok_or_else(|| {
        anyhow!(
            "Apache Kafka's class path {} not found: run `protocol-tests/run-all \
                 --install-only` at the repository root (it resolves Kafka 4.1 with Maven), \
                 or pass --kafka-classpath",
            file.display()
        )
    })
}

/// The value a Klamm `--override KEY=VALUE` among `args` gives `key`, if any (the last wins,
/// as on Klamm's command line).
pub fn override_value(args: &[String], key: &str) -> Option<String> {
    let prefix = format!("{key}=");
    args.iter()
        .rev()
        .find_map(|a| a.split_once(&prefix).map(|(_, v)| v.to_string()))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Formats a fresh log directory and starts Kafka; returns once its client listener
/// answers `ApiVersions`. The start-up time runs from spawning `kafka.Kafka` (the storage
/// format before it is a separate, untimed JVM).
pub fn spawn(opts: &KafkaOptions) -> Result<Target> {
    let cp_file = resolve_classpath(&opts.classpath_file)?;
    let cp = fs::read_to_string(&cp_file)
        .with_context(|| format!("reading {}", cp_file.display()))?
        .trim()
        .to_string();
    let dir = tempfile::Builder::new()
        .prefix("klamm-bench-kafka-")
        .tempdir()
        .context("creating Kafka's temp dir")?;
    let data = dir.path().join("data");
    let logs = dir.path().join("logs");
    fs::create_dir_all(&logs)?;
    let (port, controller_port) = (free_port()?, free_port()?);
    let hb = crate::member_leave::HEARTBEAT_MS;
    let props = format!(
        "process.roles=broker,controller\n\
         node.id=1\n\
         controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}\n\
         listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n\
         advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
         controller.listener.names=CONTROLLER\n\
         inter.broker.listener.name=PLAINTEXT\n\
         listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
         log.dirs={data}\n\
         num.partitions=1\n\
         offsets.topic.replication.factor=1\n\
         transaction.state.log.replication.factor=1\n\
         transaction.state.log.min.isr=1\n\
         group.initial.rebalance.delay.ms={delay}\n\
         group.consumer.min.heartbeat.interval.ms={hb}\n\
         group.consumer.heartbeat.interval.ms={hb}\n",
        data = data.display(),
        delay = opts.rebalance_delay_ms,
    );
    let props_path = dir.path().join("server.properties");
    fs::write(&props_path, props)?;
    // INFO, as Kafka's own `config/log4j2.yaml`, to the console, which goes to the log file
    // below: one file holds everything, start-up errors included.
    let log4j = dir.path().join("log4j2.properties");
    fs::write(
        &log4j,
        "rootLogger.level = INFO\n\
         rootLogger.appenderRef.out.ref = OUT\n\
         appender.out.type = Console\n\
         appender.out.name = OUT\n\
         appender.out.layout.type = PatternLayout\n\
         appender.out.layout.pattern = [%d] %p %m (%c)%n\n",
    )?;
    let java = |main: &str| {
        let mut c = Command::new("java");
        c.args(JVM_OPTS)
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg(format!("-Dkafka.logs.dir={}", logs.display()))
            .arg("-cp")
            .arg(&cp)
            .arg(main);
        c
    };

    let out = java("kafka.tools.StorageTool")
        .args(["format", "--standalone", "-t", CLUSTER_ID])
        // Share groups (KIP-932) are off in a fresh 4.1 cluster; the opt-in share scenarios need them.
        .args(["--feature", "share.version=1", "-c"])
        .arg(&props_path)
        .stdin(Stdio::null())
        .output()
        .context("running java kafka.tools.StorageTool (is java on the PATH?)")?;
    if !out.status.success() {
        bail!(
            "kafka-storage format failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let log_path = opts
        .log
        .clone()
        .unwrap_or_else(|| dir.path().join("kafka.stdout"));
    let stdout = File::create(&log_path)
        .with_context(|| format!("creating Kafka's log {}", log_path.display()))?;
    let stderr = stdout.try_clone()?;
    let spawned = Instant::now();
    let child = java("kafka.Kafka")
        .arg(&props_path)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .context("starting java kafka.Kafka")?;
    let mut managed = Managed {
        child,
        log_path,
        dir: Some(dir),
    };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    wait_api_versions(&mut managed, addr, spawned + STARTUP_TIMEOUT)?;
    let startup = spawned.elapsed();
    Target::started(managed, addr.to_string(), startup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_value_takes_the_last() {
        let args: Vec<String> = [
            "--override",
            "group.initial.rebalance.delay.ms=0",
            "--override=group.initial.rebalance.delay.ms=10",
            "--override",
            "log.flush.before.ack=true",
        ]
        .iter()
        .map(ToString::to_string)
        .collect();
        assert_eq!(
            override_value(&args, "group.initial.rebalance.delay.ms").as_deref(),
            Some("10")
        );
        assert_eq!(override_value(&args, "num.partitions"), None);
    }
}
