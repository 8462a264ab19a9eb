//! The side-by-side table of `--target both`: for every scenario both brokers ran, Klamm's
//! figure, Kafka's, their ratio (Klamm / Kafka) and, where issue 16 sets one, the goal and
//! whether it is met: throughput at least 1.5x Kafka's, broker CPU per message at most a
//! third of Kafka's, memory at most a twentieth, e2e p99 at most half.

use std::io::{self, Write};

use serde::Serialize;

use crate::report::{dash, fmt_opt, megabytes, thousands, Report, Summary};

/// A goal on the ratio Klamm / Kafka.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// The ratio must be at least this (throughput).
    AtLeast(f64),
    /// The ratio must be at most this (costs, latency).
    AtMost(f64),
}

impl Goal {
    fn met(self, ratio: f64) -> bool {
        match self {
            Goal::AtLeast(g) => ratio >= g,
            Goal::AtMost(g) => ratio <= g,
        }
    }

    fn label(self) -> String {
        match self {
            Goal::AtLeast(g) => format!(">= {g}x"),
            Goal::AtMost(g) if (g - 1.0 / 3.0).abs() < 1e-9 => "<= 1/3".into(),
            Goal::AtMost(g) => format!("<= 1/{:.0}", 1.0 / g),
        }
    }
}

/// One line of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Scenario name, or `broker` for whole-run figures.
    pub scenario: String,
    /// What is compared.
    pub figure: &'static str,
    /// Klamm's value (in the figure's unit).
    pub klamm: Option<f64>,
    /// Kafka's value.
    pub kafka: Option<f64>,
    /// Klamm / Kafka.
    pub ratio: Option<f64>,
    /// The goal on the ratio, if it sets one for this figure.
    pub goal: Option<Goal>,
    /// Whether the goal is met.
    pub met: Option<bool>,
    /// Both values as the table shows them.
    #[serde(skip)]
    shown: (String, String),
}

impl Row {
    fn new(
        scenario: &str,
        figure: &'static str,
        klamm: Option<f64>,
        kafka: Option<f64>,
        goal: Option<Goal>,
        show: fn(f64) -> String,
    ) -> Self {
        let ratio = klamm
            .zip(kafka)
            .filter(|(_, b)| *b > 0.0)
            .map(|(a, b)| a / b);
        Self {
            scenario: scenario.to_string(),
            figure,
            klamm,
            kafka,
            ratio,
            goal,
            met: goal.zip(ratio).map(|(g, r)| g.met(r)),
            shown: (klamm.map_or_else(dash, show), kafka.map_or_else(dash, show)),
        }
    }
}

/// Throughput goal: at least 1.5x Kafka's records/s.
const THROUGHPUT: Goal = Goal::AtLeast(1.5);
/// Broker CPU goal: at most a third of Kafka's per message.
const CPU: Goal = Goal::AtMost(1.0 / 3.0);
/// Memory goal: at most a twentieth of Kafka's RSS.
const MEMORY: Goal = Goal::AtMost(1.0 / 20.0);
/// Latency goal: e2e p99 at most half of Kafka's.
const P99: Goal = Goal::AtMost(0.5);

fn rate(v: f64) -> String {
    format!("{}/s", thousands(v.round()))
}

fn mbps(v: f64) -> String {
    format!("{v:.1} MB/s")
}

fn ns(v: f64) -> String {
    format!("{v:.0} ns")
}

fn ns_byte(v: f64) -> String {
    format!("{v:.2} ns")
}

fn ms(v: f64) -> String {
    format!("{v:.3} ms")
}

fn secs(v: f64) -> String {
    format!("{v:.2} s")
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn mb(v: f64) -> String {
    megabytes(v as u64)
}

/// The rows for every scenario present in both reports, then the broker-wide figures.
pub fn rows(klamm: &Report, kafka: &Report) -> Vec<Row> {
    let mut rows = Vec::new();
    for k in &klamm.scenarios {
        let Some(j) = kafka.scenarios.iter().find(|s| s.name == k.name) else {
            continue;
        };
        scenario_rows(k.name, &k.median, &j.median, &mut rows);
    }
    let (a, b) = (&klamm.broker, &kafka.broker);
    let f = |v: Option<u64>| v.map(|x| x as f64);
    rows.push(Row::new(
        "broker",
        "start-up",
        a.startup_secs,
        b.startup_secs,
        None,
        secs,
    ));
    rows.push(Row::new(
        "broker",
        "idle RSS",
        f(a.idle_rss_bytes),
        f(b.idle_rss_bytes),
        Some(MEMORY),
        mb,
    ));
    rows.push(Row::new(
        "broker",
        "peak RSS",
        f(a.peak_rss_bytes),
        f(b.peak_rss_bytes),
        Some(MEMORY),
        mb,
    ));
    rows.push(Row::new(
        "broker",
        "RSS at end",
        f(a.end_rss_bytes),
        f(b.end_rss_bytes),
        Some(MEMORY),
        mb,
    ));
    rows
}

/// The rows of one scenario.
fn scenario_rows(name: &str, a: &Summary, b: &Summary, rows: &mut Vec<Row>) {
    let latency = a.latency_p99_ms.is_some() || b.latency_p99_ms.is_some();
    // A fixed-rate latency run's throughput only confirms the rate: no goal on it.
    let tput = (!latency).then_some(THROUGHPUT);
    let multi = a.producer_records_per_sec.is_some();
    let label = if multi {
        "consumer records/s"
    } else {
        "records/s"
    };
    rows.push(Row::new(
        name,
        label,
        a.records_per_sec,
        b.records_per_sec,
        tput,
        rate,
    ));
    rows.push(Row::new(
        name,
        if multi { "consumer MB/s" } else { "MB/s" },
        a.mb_per_sec,
        b.mb_per_sec,
        None,
        mbps,
    ));
    if multi {
        rows.push(Row::new(
            name,
            "producer records/s",
            a.producer_records_per_sec,
            b.producer_records_per_sec,
            tput,
            rate,
        ));
        rows.push(Row::new(
            name,
            "producer MB/s",
            a.producer_mb_per_sec,
            b.producer_mb_per_sec,
            None,
            mbps,
        ));
    }
    let per_msg = |s: &Summary| s.broker_cpu_us_per_record.map(|u| u * 1000.0);
    rows.push(Row::new(
        name,
        "broker CPU/msg",
        per_msg(a),
        per_msg(b),
        Some(CPU),
        ns,
    ));
    rows.push(Row::new(
        name,
        "broker CPU/byte",
        a.broker_cpu_ns_per_byte,
        b.broker_cpu_ns_per_byte,
        None,
        ns_byte,
    ));
    if latency {
        rows.push(Row::new(
            name,
            "e2e p50",
            a.latency_p50_ms,
            b.latency_p50_ms,
            None,
            ms,
        ));
        rows.push(Row::new(
            name,
            "e2e p99",
            a.latency_p99_ms,
            b.latency_p99_ms,
            Some(P99),
            ms,
        ));
        rows.push(Row::new(
            name,
            "e2e p99.9",
            a.latency_p999_ms,
            b.latency_p999_ms,
            None,
            ms,
        ));
    }
}

/// Writes the side-by-side table.
pub fn print(rows: &[Row], w: &mut impl Write) -> io::Result<()> {
    writeln!(w)?;
    writeln!(
        w,
        "{:<22} {:<20} {:>15} {:>15} {:>9} {:>8} {:>8}",
        "scenario", "figure", "Klamm", "Kafka", "ratio", "goal", ""
    )?;
    writeln!(w, "{}", "-".repeat(22 + 20 + 15 + 15 + 9 + 8 + 8 + 6))?;
    let mut last = "";
    for r in rows {
        let scenario = if r.scenario == last { "" } else { &r.scenario };
        last = &r.scenario;
        writeln!(
            w,
            "{:<22} {:<20} {:>15} {:>15} {:>9} {:>8} {:>8}",
            scenario,
            r.figure,
            r.shown.0,
            r.shown.1,
            r.ratio
                .map_or_else(dash, |x| format!("{}x", fmt_opt(Some(x), 2))),
            r.goal.map_or_else(String::new, Goal::label),
            match r.met {
                Some(true) => "met",
                Some(false) => "NOT MET",
                None => "",
            },
        )?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "ratio = Klamm / Kafka (medians); goals from issue 16. The throughput goal is meant where \
         the broker, not the client, is the limit: a broker CPU/msg far below the client's time \
         per record means the client is, and a ratio near 1x then says nothing about the broker."
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_and_ratios() {
        let r = Row::new(
            "s",
            "records/s",
            Some(3.0),
            Some(2.0),
            Some(THROUGHPUT),
            rate,
        );
        assert_eq!(r.ratio, Some(1.5));
        assert_eq!(r.met, Some(true));
        let r = Row::new(
            "s",
            "broker CPU/msg",
            Some(40.0),
            Some(100.0),
            Some(CPU),
            ns,
        );
        assert_eq!(r.met, Some(false));
        let r = Row::new("s", "peak RSS", Some(1.0), None, Some(MEMORY), mb);
        assert_eq!((r.ratio, r.met), (None, None));
        assert_eq!(CPU.label(), "<= 1/3");
        assert_eq!(MEMORY.label(), "<= 1/20");
        assert_eq!(P99.label(), "<= 1/2");
    }
}
