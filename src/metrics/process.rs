//! The process's own figures under the standard Prometheus client names (`process_*`, as the
//! Go, Java and Python clients export them), read from `/proc/self` at scrape time.
//!
//! CPU times in `/proc/self/stat` are in USER_HZ ticks, which Linux fixes at 100 for user
//! space on every architecture Klamm targets (`sysconf(_SC_CLK_TCK)`), so no libc call (and no
//! `unsafe`) is needed.

use std::fmt::Write;
use std::fs;
use std::sync::OnceLock;
use std::time::SystemTime;

const USER_HZ: f64 = 100.0;

/// Figures read from `/proc/self`; a field is `None` where the file could not be read.
#[derive(Debug, Default, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: Option<f64>,
    pub resident_bytes: Option<u64>,
    pub virtual_bytes: Option<u64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub threads: Option<u64>,
}

/// Reads the current figures.
pub fn read() -> ProcessStats {
    let mut s = ProcessStats::default();
    if let Ok(stat) = fs::read_to_string("/proc/self/stat") {
        parse_stat(&stat, &mut s);
    }
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        s.resident_bytes = status_kb(&status, "VmRSS:").map(|kb| kb * 1024);
        s.virtual_bytes = status_kb(&status, "VmSize:").map(|kb| kb * 1024);
        s.threads = status_kb(&status, "Threads:");
    }
    s.open_fds = fs::read_dir("/proc/self/fd").ok().map(|d| d.count() as u64);
    if let Ok(limits) = fs::read_to_string("/proc/self/limits") {
        s.max_fds = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse().ok());
    }
    s
}

/// `utime` and `stime` are fields 14 and 15; the command name (field 2) may contain spaces
/// and parentheses, so fields are counted after its closing parenthesis.
fn parse_stat(stat: &str, s: &mut ProcessStats) {
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state).
    let ticks = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    if let (Some(u), Some(k)) = (ticks(14), ticks(15)) {
        s.cpu_seconds = Some((u + k) as f64 / USER_HZ);
    }
}

fn status_kb(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn start_time() -> f64 {
    static START: OnceLock<f64> = OnceLock::new();
    *START.get_or_init(|| {
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    })
}

/// Records the start time (call once at start-up; the first scrape would be too late).
pub fn mark_start() {
    start_time();
}

/// Appends the `process_*` families in the Prometheus text format.
pub fn render(out: &mut String) {
    let s = read();
    let mut family = |name: &str, kind: &str, help: &str, value: Option<f64>| {
        if let Some(v) = value {
            let _ = write!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}\n\n"
            );
        }
    };
    family(
        "process_cpu_seconds_total",
        "counter",
        "Total user and system CPU time spent in seconds.",
        s.cpu_seconds,
    );
    family(
        "process_resident_memory_bytes",
        "gauge",
        "Resident memory size in bytes.",
        s.resident_bytes.map(|v| v as f64),
    );
    family(
        "process_virtual_memory_bytes",
        "gauge",
        "Virtual memory size in bytes.",
        s.virtual_bytes.map(|v| v as f64),
    );
    family(
        "process_open_fds",
        "gauge",
        "Number of open file descriptors.",
        s.open_fds.map(|v| v as f64),
    );
    family(
        "process_max_fds",
        "gauge",
        "Maximum number of open file descriptors.",
        s.max_fds.map(|v| v as f64),
    );
    family(
        "process_threads",
        "gauge",
        "Number of OS threads in the process.",
        s.threads.map(|v| v as f64),
    );
    family(
        "process_start_time_seconds",
        "gauge",
        "Start time of the process since unix epoch in seconds.",
        Some(start_time()),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_spaces_in_the_name() {
        let stat = "1234 (klamm (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1000 12345 678";
        let mut s = ProcessStats::default();
        parse_stat(stat, &mut s);
        assert_eq!(s.cpu_seconds, Some(3.0));
    }

    #[test]
    fn reads_this_process() {
        let s = read();
        assert!(s.resident_bytes.unwrap() > 0);
        assert!(s.open_fds.unwrap() > 0);
        assert!(s.cpu_seconds.is_some());
        assert!(s.max_fds.unwrap() > 0);
    }
}
