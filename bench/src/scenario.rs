//! The scenario abstraction and the catalogue of named scenarios.
//!
//! A new scenario is a type implementing [`Scenario`] (usually in the module
//! of its family) plus one line in [`catalogue`].

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;

use crate::broker::ProcessProbe;
use crate::client::Admin;
use crate::compaction::{CleanThroughput, ProduceWhileCleaning};
use crate::consume::Consume;
use crate::groups::{OffsetCommits, Rebalance};
use crate::latency::E2eLatency;
use crate::member_leave::{MemberLeave, Protocol};
use crate::multi::Multi;
use crate::produce::{Acks, Produce};
use crate::share::{Consumers, ShareConsume, ShareLatency};
use crate::transactions::TxnProduce;

/// Payload size of the "100b" scenarios.
pub const SMALL: usize = 100;
/// Payload size of the "1k" scenarios (1 KiB).
pub const ONE_KIB: usize = 1024;

/// Every known scenario, in the order they run by default.
pub fn catalogue() -> Vec<Box<dyn Scenario>> {
    vec![
        Box::new(Produce::new("produce-100b-acks1", SMALL, Acks::One, 1)),
        Box::new(Produce::new("produce-100b-acksall", SMALL, Acks::All, 1)),
        Box::new(Produce::new("produce-100b-acks1-lz4", SMALL, Acks::One, 1).compressed("lz4")),
        Box::new(Produce::new("produce-1k-acks1", ONE_KIB, Acks::One, 1)),
        Box::new(Produce::new("produce-1k-acks1-lz4", ONE_KIB, Acks::One, 1).compressed("lz4")),
        Box::new(Produce::new("produce-1k-acksall", ONE_KIB, Acks::All, 1)),
        Box::new(Produce::new("produce-1k-acksall-p3", ONE_KIB, Acks::All, 3)),
        Box::new(TxnProduce::new("produce-100b-txn100", SMALL, 100)),
        Box::new(TxnProduce::new("produce-100b-txn1000", SMALL, 1000)),
        Box::new(Consume::new("consume-100b", SMALL, 1)),
        Box::new(Consume::new("consume-1k", ONE_KIB, 1)),
        Box::new(Consume::new("consume-1k-p3", ONE_KIB, 3)),
        Box::new(E2eLatency::new("e2e-latency", SMALL)),
        Box::new(Multi::new("multi-4x4-100b", SMALL)),
        Box::new(Multi::new("multi-4x4-1k", ONE_KIB)),
        Box::new(OffsetCommits::new()),
        Box::new(Rebalance::new("rebalance-10", 10)),
        Box::new(MemberLeave::new(
            "leave-cooperative-sticky",
            Protocol::ClassicCooperative,
        )),
        Box::new(MemberLeave::new("leave-kip848", Protocol::Consumer)),
        Box::new(CleanThroughput::new("clean-1k")),
        Box::new(ProduceWhileCleaning::new("produce-1k-while-cleaning")),
        Box::new(ShareConsume::new(
            "share-plain-100b",
            SMALL,
            Consumers::Plain,
        )),
        Box::new(ShareConsume::new(
            "share-1-100b",
            SMALL,
            Consumers::Share(1),
        )),
        Box::new(ShareConsume::new(
            "share-3-100b",
            SMALL,
            Consumers::Share(3),
        )),
        Box::new(ShareConsume::new(
            "share-8-100b",
            SMALL,
            Consumers::Share(8),
        )),
        Box::new(ShareLatency::new("share-e2e-latency-plain", SMALL, false)),
        Box::new(ShareLatency::new("share-e2e-latency", SMALL, true)),
    ]
}

/// Default record count of a produce or consume run: 200 MB of 100 B records
/// or 1 GB of 1 KiB records. That is a few seconds per run on a 2-core
/// machine, long enough that start-up costs and the 10 ms granularity of
/// `/proc` CPU times vanish, and for 1 KiB more than a small page cache
/// absorbs without writeback.
pub fn default_records(payload_len: usize) -> u64 {
    if payload_len <= SMALL {
        2_000_000
    } else {
        1_000_000
    }
}

/// Knobs from the command line that scenarios read.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Overrides the per-scenario record count of produce/consume runs.
    pub records: Option<u64>,
    /// Producer instances for produce runs and pre-fills.
    pub producers: usize,
    /// Measured length of a latency run.
    pub duration: Duration,
    /// Unmeasured warm-up before it.
    pub warmup: Duration,
    /// Records per second sent by the latency producer.
    pub rate: u64,
    /// Limit on one run.
    pub run_timeout: Duration,
    /// Producer `batch.size` of the share scenarios' pre-fill.
    pub share_batch_bytes: usize,
}

/// What a scenario gets to work with.
pub struct Env<'a> {
    /// `bootstrap.servers` for clients.
    pub bootstrap: &'a str,
    /// Shared admin client.
    pub admin: &'a Admin,
    /// Broker CPU/memory probe, when the broker's PID is known.
    pub probe: Option<&'a ProcessProbe>,
    /// The broker's data directory, when the bench started the broker (the compaction
    /// scenarios watch segment files shrink there).
    pub data_dir: Option<&'a std::path::Path>,
    /// Command-line knobs.
    pub settings: &'a Settings,
}

impl Env<'_> {
    /// Starts a measurement window: wall clock plus broker CPU time.
    pub fn start_window(&self) -> Window {
        Window {
            cpu_start: self.probe.and_then(|p| p.cpu_time().ok()),
            start: Instant::now(),
        }
    }
}

/// An open measurement window; see [`Env::start_window`].
#[derive(Debug, Clone, Copy)]
pub struct Window {
    start: Instant,
    cpu_start: Option<Duration>,
}

impl Window {
    /// Closes the window: elapsed wall time and the broker CPU time spent in it.
    pub fn finish(self, probe: Option<&ProcessProbe>) -> Measured {
        let elapsed = self.start.elapsed();
        let cpu_end = probe.and_then(|p| p.cpu_time().ok());
        Measured {
            elapsed,
            broker_cpu: self
                .cpu_start
                .zip(cpu_end)
                .map(|(a, b)| b.saturating_sub(a)),
        }
    }
}

/// A closed measurement window.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// Wall time.
    pub elapsed: Duration,
    /// Broker user+system CPU time, if measurable.
    pub broker_cpu: Option<Duration>,
}

/// End-to-end latency percentiles of one run, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatencyMs {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Worst record.
    pub max: f64,
}

/// The outcome of one measured run.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    /// Records moved inside the window.
    pub records: u64,
    /// Their payload bytes.
    pub payload_bytes: u64,
    /// Window length, seconds.
    pub elapsed_secs: f64,
    /// Broker CPU seconds inside the window.
    pub broker_cpu_secs: Option<f64>,
    /// Latency percentiles, for latency scenarios.
    pub latency_ms: Option<LatencyMs>,
    /// A scenario's own figures, for the progress line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Scenarios with producers and consumers at once (`multi-*`): the producers' window,
    /// from the first send to the last acknowledgement (`elapsed_secs` is the consumers').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producer_elapsed_secs: Option<f64>,
}

impl Sample {
    /// A throughput sample from a window.
    pub fn new(records: u64, payload_bytes: u64, measured: Measured) -> Self {
        Self {
            records,
            payload_bytes,
            elapsed_secs: measured.elapsed.as_secs_f64(),
            broker_cpu_secs: measured.broker_cpu.map(|d| d.as_secs_f64()),
            latency_ms: None,
            note: None,
            producer_elapsed_secs: None,
        }
    }

    /// Records per second.
    pub fn records_per_sec(&self) -> f64 {
        self.records as f64 / self.elapsed_secs
    }

    /// Payload megabytes (10^6 bytes) per second.
    pub fn mb_per_sec(&self) -> f64 {
        self.payload_bytes as f64 / 1e6 / self.elapsed_secs
    }

    /// Broker CPU microseconds per record.
    pub fn cpu_us_per_record(&self) -> Option<f64> {
        self.broker_cpu_secs
            .filter(|_| self.records > 0)
            .map(|s| s * 1e6 / self.records as f64)
    }

    /// Progress line for stderr.
    pub fn one_line(&self) -> String {
        let mut line = format!(
            "{:.0} records/s, {:.1} MB/s",
            self.records_per_sec(),
            self.mb_per_sec()
        );
        if let Some(cpu) = self.cpu_us_per_record() {
            let _ = write!(line, ", broker {cpu:.2} µs/record");
        }
        if let Some(l) = &self.latency_ms {
            let _ = write!(
                line,
                ", latency p50 {:.3} ms, p99 {:.3} ms, p99.9 {:.3} ms, max {:.3} ms",
                l.p50, l.p99, l.p999, l.max
            );
        }
        if let Some(n) = &self.note {
            let _ = write!(line, "; {n}");
        }
        line
    }
}

/// A named, reproducible benchmark scenario.
pub trait Scenario {
    /// Stable name, used on the command line and in reports.
    fn name(&self) -> &'static str;

    /// One line saying what is measured and how.
    fn description(&self) -> String;

    /// Whether the scenario runs only when named with `--scenario` (it is long, or needs more
    /// than librdkafka, like the share scenarios' JVM).
    fn opt_in(&self) -> bool {
        false
    }

    /// Untimed set-up shared by all runs (e.g. pre-filling a topic).
    fn prepare(&mut self, _env: &Env<'_>) -> Result<()> {
        Ok(())
    }

    /// One measured run.
    fn run(&mut self, env: &Env<'_>) -> Result<Sample>;

    /// Releases what `prepare` made; called even after a failure.
    fn cleanup(&mut self, _env: &Env<'_>) {}
}
