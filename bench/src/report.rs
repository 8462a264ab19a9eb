//! Aggregation (medians, percentiles) and presentation (table, JSON).
//!
//! Each figure is the median over runs, taken per figure: the median
//! records/s and the median p99 may come from different runs. Medians shrug
//! off one run disturbed by the shared 2-core machine, which a mean does not.

use std::io::{self, Write};

use serde::Serialize;

use crate::scenario::{LatencyMs, Sample};

/// Median of `values`; the mean of the middle two for an even count. NaNs are
/// ignored.
pub fn median(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        f64::midpoint(v[mid - 1], v[mid])
    })
}

/// Nearest-rank percentile of an ascending slice: the smallest value with at
/// least `q` of all values at or below it (`q` in 0..=1).
pub fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let len = sorted.len();
    let rank = (q.clamp(0.0, 1.0) * len as f64).ceil();
    // `rank` is in 0..=len, so the conversion is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = rank as usize;
    Some(sorted[rank.clamp(1, len) - 1])
}

/// Medians over the runs of one scenario.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Summary {
    /// Records per second.
    pub records_per_sec: Option<f64>,
    /// Payload MB (10^6 bytes) per second.
    pub mb_per_sec: Option<f64>,
    /// Broker CPU microseconds per record.
    pub broker_cpu_us_per_record: Option<f64>,
    /// Broker CPU nanoseconds per payload byte.
    pub broker_cpu_ns_per_byte: Option<f64>,
    /// Producer-side records per second, for scenarios that produce and consume at once.
    pub producer_records_per_sec: Option<f64>,
    /// Producer-side payload MB per second, for those scenarios.
    pub producer_mb_per_sec: Option<f64>,
    /// Latency median, ms.
    pub latency_p50_ms: Option<f64>,
    /// Latency 99th percentile, ms.
    pub latency_p99_ms: Option<f64>,
    /// Latency 99.9th percentile, ms.
    pub latency_p999_ms: Option<f64>,
}

impl Summary {
    fn of(samples: &[Sample]) -> Self {
        let lat = |f: fn(&LatencyMs) -> f64| {
            median(samples.iter().filter_map(|s| s.latency_ms.as_ref().map(f)))
        };
        Self {
            records_per_sec: median(samples.iter().map(Sample::records_per_sec)),
            mb_per_sec: median(samples.iter().map(Sample::mb_per_sec)),
            broker_cpu_us_per_record: median(samples.iter().filter_map(Sample::cpu_us_per_record)),
            broker_cpu_ns_per_byte: median(samples.iter().filter_map(|s| {
                s.broker_cpu_secs
                    .filter(|_| s.payload_bytes > 0)
                    .map(|c| c * 1e9 / s.payload_bytes as f64)
            })),
            producer_records_per_sec: median(
                samples
                    .iter()
                    .filter_map(|s| s.producer_elapsed_secs.map(|e| s.records as f64 / e)),
            ),
            producer_mb_per_sec: median(samples.iter().filter_map(|s| {
                s.producer_elapsed_secs
                    .map(|e| s.payload_bytes as f64 / 1e6 / e)
            })),
            latency_p50_ms: lat(|l| l.p50),
            latency_p99_ms: lat(|l| l.p99),
            latency_p999_ms: lat(|l| l.p999),
        }
    }
}

/// Results of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub name: &'static str,
    /// What it measures.
    pub description: String,
    /// Medians over the runs.
    pub median: Summary,
    /// Broker peak RSS (`VmHWM`) when the scenario ended; monotonic over the
    /// benchmark, so a jump shows which scenario grew the broker.
    pub peak_rss_bytes_after: Option<u64>,
    /// Every completed run.
    pub runs: Vec<Sample>,
    /// Why the scenario stopped early, if it did.
    pub error: Option<String>,
}

impl ScenarioReport {
    /// Summarises the completed runs of a scenario.
    pub fn new(
        name: &'static str,
        description: String,
        runs: Vec<Sample>,
        peak_rss_bytes_after: Option<u64>,
        error: Option<String>,
    ) -> Self {
        Self {
            name,
            description,
            median: Summary::of(&runs),
            peak_rss_bytes_after,
            runs,
            error,
        }
    }
}

/// The broker's side of the report.
#[derive(Debug, Clone, Serialize)]
pub struct BrokerInfo {
    /// Address benchmarked.
    pub bootstrap: String,
    /// Whether the bench started (and measured from birth) the broker.
    pub started_by_bench: bool,
    /// RSS before any client traffic.
    pub idle_rss_bytes: Option<u64>,
    /// Peak RSS (`VmHWM`) at the end.
    pub peak_rss_bytes: Option<u64>,
    /// RSS (`VmRSS`) at the end, after the last scenario.
    pub end_rss_bytes: Option<u64>,
    /// Seconds from spawning the broker until it answered `ApiVersions`.
    pub startup_secs: Option<f64>,
}

/// The whole benchmark result.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Which broker: `klamm`, `kafka`, or `external` (`--bootstrap`).
    pub target: &'static str,
    /// Broker facts.
    pub broker: BrokerInfo,
    /// Runs per scenario.
    pub runs: u32,
    /// Producer instances per produce run.
    pub producers: usize,
    /// Per-scenario results.
    pub scenarios: Vec<ScenarioReport>,
}

impl Report {
    /// Writes the human-readable table.
    pub fn print_table(&self, w: &mut impl Write) -> io::Result<()> {
        writeln!(w)?;
        writeln!(
            w,
            "{:<24} {:>12} {:>9} {:>8} {:>8} {:>9} {:>10} {:>10}",
            "scenario", "records/s", "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "µs/rec", "peak RSS"
        )?;
        writeln!(w, "{}", "-".repeat(24 + 12 + 9 + 8 + 8 + 9 + 10 + 10 + 7))?;
        for s in &self.scenarios {
            let m = &s.median;
            writeln!(
                w,
                "{:<24} {:>12} {:>9} {:>8} {:>8} {:>9} {:>10} {:>10}",
                s.name,
                m.records_per_sec
                    .map_or_else(dash, |v| thousands(v.round())),
                fmt_opt(m.mb_per_sec, 1),
                fmt_opt(m.latency_p50_ms, 3),
                fmt_opt(m.latency_p99_ms, 3),
                fmt_opt(m.latency_p999_ms, 3),
                fmt_opt(m.broker_cpu_us_per_record, 2),
                s.peak_rss_bytes_after.map_or_else(dash, megabytes),
            )?;
            if let (Some(r), Some(mb)) = (m.producer_records_per_sec, m.producer_mb_per_sec) {
                writeln!(
                    w,
                    "  (records/s, MB/s above: consumers; producers {} records/s, {mb:.1} MB/s)",
                    thousands(r.round())
                )?;
            }
            if let Some(e) = &s.error {
                writeln!(w, "  FAILED after {} run(s): {e}", s.runs.len())?;
            }
        }
        writeln!(w)?;
        let b = &self.broker;
        writeln!(
            w,
            "broker {} {}{}: start-up {}, idle RSS {}, peak RSS {}, RSS at end {}",
            self.target,
            b.bootstrap,
            if b.started_by_bench {
                " (started by klamm-bench)"
            } else {
                ""
            },
            b.startup_secs.map_or_else(dash, |s| format!("{s:.2} s")),
            b.idle_rss_bytes.map_or_else(dash, megabytes),
            b.peak_rss_bytes.map_or_else(dash, megabytes),
            b.end_rss_bytes.map_or_else(dash, megabytes),
        )?;
        writeln!(
            w,
            "medians of {} run(s); MB = 10^6 bytes of record payload; µs/rec = broker CPU \
             (user+system) per record; peak RSS = broker VmHWM after the scenario; \
             {} producer instance(s)",
            self.runs, self.producers
        )?;
        Ok(())
    }
}

pub(crate) fn dash() -> String {
    "-".into()
}

pub(crate) fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(dash, |v| format!("{v:.decimals$}"))
}

pub(crate) fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Formats a non-negative whole number with thousands separators.
pub(crate) fn thousands(v: f64) -> String {
    let digits = format!("{v:.0}");
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_empty() {
        assert_eq!(median([3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median([4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median([f64::NAN, 5.0]), Some(5.0));
        assert_eq!(median([]), None);
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=1000).collect();
        assert_eq!(percentile(&v, 0.5), Some(500));
        assert_eq!(percentile(&v, 0.99), Some(990));
        assert_eq!(percentile(&v, 0.999), Some(999));
        assert_eq!(percentile(&v, 1.0), Some(1000));
        assert_eq!(percentile(&v, 0.0), Some(1));
        assert_eq!(percentile(&[7], 0.999), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
    }
}
