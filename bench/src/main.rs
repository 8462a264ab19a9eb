//! `klamm-bench`: drives a Kafka-protocol broker (normally Klamm) with a real
//! client library, librdkafka, and reports throughput, end-to-end latency and
//! the broker's CPU and memory cost.
//!
//! A real client is the point: it batches, pipelines and retries the way
//! production clients do, so the figures reflect what users will see rather
//! than what a hand-written protocol loop can squeeze out.

mod broker;
mod client;
mod compaction;
mod compare;
mod consume;
mod groups;
mod kafka;
mod latency;
mod member_leave;
mod multi;
mod produce;
mod report;
mod scenario;
mod share;
mod transactions;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use clap::Parser;

use crate::broker::{SpawnOptions, Target};
use crate::client::Admin;
use crate::report::{BrokerInfo, Report, ScenarioReport};
use crate::scenario::{Env, Scenario, Settings};

/// Command line of `klamm-bench`.
#[derive(Debug, Parser)]
#[command(
    name = "klamm-bench",
    version,
    about = "Throughput and latency benchmark for Klamm (or any Kafka broker), driven by librdkafka",
    after_help = "Every figure is the median over --runs runs. MB = 10^6 bytes of record payload."
)]
struct Cli {
    /// Benchmark an already-running broker at HOST:PORT instead of starting one.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["broker_arg", "broker_log"])]
    bootstrap: Option<String>,

    /// With --bootstrap: PID of that broker, so its CPU time and RSS can be read from /proc.
    #[arg(long, value_name = "PID", requires = "bootstrap")]
    broker_pid: Option<u32>,

    /// Broker binary to start as `PATH serve --data-dir <tempdir> --listen 127.0.0.1:0
    /// --http-listen 127.0.0.1:0` (the last pair is left out if a --broker-arg sets it).
    /// A relative path is tried against the current directory, then against the
    /// bench crate's directory (so the default works from the repository root too).
    #[arg(long, value_name = "PATH", default_value = "../target/release/klamm")]
    broker_bin: PathBuf,

    /// Broker(s) to start and measure: Klamm, Apache Kafka 4.1 (`KRaft`, from
    /// --kafka-classpath), or both one after the other with a side-by-side table.
    #[arg(
        long,
        value_enum,
        default_value = "klamm",
        conflicts_with = "bootstrap"
    )]
    target: TargetKind,

    /// File holding Apache Kafka's Java class path, as `protocol-tests/run-all
    /// --install-only` writes it (relative paths as for --broker-bin).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "../target/kafka/kafka.classpath"
    )]
    kafka_classpath: PathBuf,

    /// Extra argument for the started broker (repeatable), e.g.
    /// `--broker-arg=--override --broker-arg=log.flush.before.ack=true`.
    #[arg(long = "broker-arg", value_name = "ARG", allow_hyphen_values = true)]
    broker_args: Vec<String>,

    /// Keep the started broker's stdout/stderr in this file (default: a file in
    /// its temporary directory, deleted at exit).
    #[arg(long, value_name = "PATH")]
    broker_log: Option<PathBuf>,

    /// Scenario to run (repeatable; default: all). See --list.
    #[arg(long = "scenario", value_name = "NAME")]
    scenarios: Vec<String>,

    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,

    /// Measured runs per scenario; every reported figure is the median over them.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,

    /// Records per produce/consume run (default: 2,000,000 for 100 B records,
    /// 1,000,000 for 1 KiB records).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    records: Option<u64>,

    /// Measured length of each e2e-latency run, after the warm-up.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    duration_secs: u64,

    /// Unmeasured warm-up at the start of each e2e-latency run.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    warmup_secs: u64,

    /// Send rate of the e2e-latency producer, in records per second.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    rate: u64,

    /// Producer instances (each on its own thread) in the produce scenarios and
    /// the consume pre-fill, for when one librdkafka producer is the bottleneck.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=64))]
    producers: u64,

    /// Producer `batch.size` of the share scenarios' pre-fill, in bytes (default: the Java
    /// producer's 16 KiB; the other consume scenarios fill with 1 MB batches).
    #[arg(long, value_name = "BYTES", default_value_t = share::PREFILL_BATCH_BYTES, value_parser = parse_batch_bytes)]
    share_batch_bytes: usize,

    /// Give up on a single run after this long (a stuck broker must not hang the bench).
    #[arg(long, value_name = "SECS", default_value_t = 180, value_parser = clap::value_parser!(u64).range(1..))]
    timeout_secs: u64,

    /// Print the results as JSON on stdout; the table then goes to stderr.
    #[arg(long)]
    json: bool,

    /// Listener the clients use. Anything but plaintext starts the broker with
    /// `--dev-security` and connects as its user `alice` (SCRAM-SHA-512 over SASL, or
    /// alice's client certificate over SSL), with the ACLs the switch sets.
    #[arg(
        long,
        value_enum,
        default_value = "plaintext",
        conflicts_with = "bootstrap"
    )]
    security: broker::Security,
}

/// `--target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TargetKind {
    /// Klamm (`--broker-bin`).
    Klamm,
    /// Apache Kafka 4.1 in `KRaft` combined mode (`--kafka-classpath`).
    Kafka,
    /// Klamm, then Kafka, each running every selected scenario; never both at once.
    Both,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("klamm-bench: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the selected scenarios and prints the report. Returns whether every
/// scenario succeeded.
fn run(cli: &Cli) -> Result<bool> {
    let catalogue = scenario::catalogue();
    if cli.list {
        for s in &catalogue {
            let opt_in = if s.opt_in() { " (opt-in)" } else { "" };
            println!("{:<26} {}{opt_in}", s.name(), s.description());
        }
        return Ok(true);
    }
    select(catalogue, &cli.scenarios)?;
    if cli.target != TargetKind::Klamm && cli.security != broker::Security::Plaintext {
        bail!("--security other than plaintext is only set up for --target klamm");
    }

    let settings = Settings {
        records: cli.records,
        producers: usize::try_from(cli.producers).context("--producers")?,
        duration: Duration::from_secs(cli.duration_secs),
        warmup: Duration::from_secs(cli.warmup_secs),
        rate: cli.rate,
        run_timeout: Duration::from_secs(cli.timeout_secs),
        share_batch_bytes: cli.share_batch_bytes,
    };
    let kinds: &[&'static str] = match (&cli.bootstrap, cli.target) {
        (Some(_), _) => &["external"],
        (None, TargetKind::Klamm) => &["klamm"],
        (None, TargetKind::Kafka) => &["kafka"],
        (None, TargetKind::Both) => &["klamm", "kafka"],
    };
    // One broker at a time: each is stopped before the next starts, so neither competes
    // with the other for the CPUs.
    let mut reports = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        let scenarios = select(scenario::catalogue(), &cli.scenarios)?;
        reports.push(run_target(cli, kind, scenarios, &settings)?);
    }
    let ok = reports
        .iter()
        .all(|r| r.scenarios.iter().all(|s| s.error.is_none()));

    let comparison = match reports.as_slice() {
        [klamm, kafka] => Some(compare::rows(klamm, kafka)),
        _ => None,
    };
    let print = |w: &mut dyn std::io::Write| -> Result<()> {
        let mut w = w;
        for r in &reports {
            r.print_table(&mut w)?;
        }
        if let Some(rows) = &comparison {
            compare::print(rows, &mut w)?;
        }
        Ok(())
    };
    if cli.json {
        print(&mut std::io::stderr().lock())?;
        let mut out = std::io::stdout().lock();
        match (reports.as_slice(), &comparison) {
            ([klamm, kafka], Some(rows)) => serde_json::to_writer_pretty(
                &mut out,
                &serde_json::json!({ "klamm": klamm, "kafka": kafka, "comparison": rows }),
            )?,
            _ => serde_json::to_writer_pretty(&mut out, &reports[0])?,
        }
        writeln!(out)?;
    } else {
        print(&mut std::io::stdout().lock())?;
    }
    Ok(ok)
}

/// Starts (or reaches) one broker, runs the scenarios against it and stops it.
fn run_target(
    cli: &Cli,
    kind: &'static str,
    mut selected: Vec<Box<dyn Scenario>>,
    settings: &Settings,
) -> Result<Report> {
    let mut target = match (&cli.bootstrap, kind) {
        (Some(bootstrap), _) => Target::external(bootstrap, cli.broker_pid)?,
        (None, "kafka") => kafka::spawn(&kafka::KafkaOptions {
            classpath_file: cli.kafka_classpath.clone(),
            rebalance_delay_ms: kafka::override_value(
                &cli.broker_args,
                "group.initial.rebalance.delay.ms",
            )
            .unwrap_or_else(|| kafka::DEFAULT_REBALANCE_DELAY_MS.into()),
            // With both targets, Kafka's output goes beside Klamm's: `broker.log` -> `broker.kafka.log`.
            log: cli.broker_log.as_ref().map(|p| {
                if cli.target == TargetKind::Both {
                    p.with_extension("kafka.log")
                } else {
                    p.clone()
                }
            }),
        })?,
        (None, _) => Target::spawn(&SpawnOptions {
            bin: broker::resolve_bin(&cli.broker_bin)?,
            args: cli.broker_args.clone(),
            log: cli.broker_log.clone(),
            security: cli.security,
        })?,
    };
    if kind == "klamm" {
        if let Some(dir) = target.data_dir() {
            client::set_extra_properties(cli.security.client_properties(&dir)?);
        }
    }
    eprintln!(
        "klamm-bench: {kind} broker at {}{}",
        target.bootstrap(),
        target.startup().map_or_else(String::new, |d| format!(
            ", serving after {:.2} s",
            d.as_secs_f64()
        ))
    );

    let admin = Admin::connect(target.bootstrap())?;
    if target.is_managed() {
        client::warm_up(target.bootstrap(), &admin).context("warming the broker up")?;
    }
    let data_dir = target.data_dir();
    let mut reports = Vec::with_capacity(selected.len());
    for scenario in &mut selected {
        target.check_alive()?;
        let env = Env {
            bootstrap: target.bootstrap(),
            admin: &admin,
            probe: target.probe(),
            data_dir: data_dir.as_deref(),
            settings,
        };
        reports.push(run_scenario(scenario.as_mut(), &env, cli.runs));
    }
    drop(admin);

    let peak_rss_bytes = target.probe().and_then(|p| p.peak_rss_bytes().ok());
    let end_rss_bytes = target.probe().and_then(|p| p.rss_bytes().ok());
    let broker = BrokerInfo {
        bootstrap: target.bootstrap().to_owned(),
        started_by_bench: target.is_managed(),
        idle_rss_bytes: target.idle_rss_bytes(),
        peak_rss_bytes,
        end_rss_bytes,
        startup_secs: target.startup().map(|d| d.as_secs_f64()),
    };
    target.shutdown()?;

    Ok(Report {
        target: kind,
        broker,
        runs: cli.runs,
        producers: settings.producers,
        scenarios: reports,
    })
}

/// `--share-batch-bytes`: librdkafka accepts `batch.size` from 1 to 2,147,483,647.
fn parse_batch_bytes(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=2_147_483_647).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a batch size from 1 to 2147483647")),
    }
}

/// Picks the scenarios named on the command line, in catalogue order, or all
/// but the opt-in ones when none is named.
fn select(catalogue: Vec<Box<dyn Scenario>>, names: &[String]) -> Result<Vec<Box<dyn Scenario>>> {
    if names.is_empty() {
        return Ok(catalogue.into_iter().filter(|s| !s.opt_in()).collect());
    }
    for name in names {
        if !catalogue.iter().any(|s| s.name() == name) {
            let known: Vec<_> = catalogue.iter().map(|s| s.name()).collect();
            bail!("unknown scenario {name:?}; known: {}", known.join(", "));
        }
    }
    Ok(catalogue
        .into_iter()
        .filter(|s| names.iter().any(|n| n == s.name()))
        .collect())
}

/// Prepares a scenario, runs it `runs` times and cleans up. A failure ends the
/// scenario (its error goes into the report) but not the benchmark.
fn run_scenario(scenario: &mut dyn Scenario, env: &Env<'_>, runs: u32) -> ScenarioReport {
    let name = scenario.name();
    eprintln!("[{name}] {}", scenario.description());
    let mut samples = Vec::new();
    let result = (|| -> Result<()> {
        scenario.prepare(env).context("preparing")?;
        for run in 1..=runs {
            let sample = scenario
                .run(env)
                .with_context(|| format!("run {run}/{runs}"))?;
            eprintln!("[{name}] run {run}/{runs}: {}", sample.one_line());
            samples.push(sample);
        }
        Ok(())
    })();
    scenario.cleanup(env);
    let peak_rss_bytes = env.probe.and_then(|p| p.peak_rss_bytes().ok());
    let error = result.err().map(|e| format!("{e:#}"));
    if let Some(e) = &error {
        eprintln!("[{name}] FAILED: {e}");
    }
    ScenarioReport::new(name, scenario.description(), samples, peak_rss_bytes, error)
}
