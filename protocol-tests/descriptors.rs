//! Running out of file descriptors: the broker's open-file limit is lowered from outside
//! (`prlimit --pid`, util-linux) to a few above what it holds. A CreateTopics that cannot open
//! its partitions fails with KAFKA_STORAGE_ERROR and leaves nothing behind; connections past the
//! limit are refused with a warning, without spinning; open connections keep being served, and
//! once descriptors are back everything works again without a restart.

use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use kafka_protocol::messages::CreateTopicsRequest;

use crate::support::*;

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("/proc fd dir")
        .count()
}

fn set_nofile(pid: u32, limit: &str) {
    let out = Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--nofile={limit}")])
        .output()
        .expect("run prlimit (util-linux)");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn nofile(pid: u32) -> String {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("open files line");
    let mut it = line.split_whitespace().skip(3);
    format!("{}:{}", it.next().expect("soft"), it.next().expect("hard"))
}

/// CPU time (user + system, in clock ticks) the process has used.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("comm")
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn running_out_of_descriptors_fails_cleanly_and_recovers() {
    let mut broker = Broker::start();
    let pid = broker.pid();
    let mut c = broker.client();
    create_topic(&mut c, "fd-before", 1);
    let original = nofile(pid);
    let held = open_fds(pid);
    set_nofile(pid, &format!("{}:", held + 16));

    // 200 partitions cannot all be opened: the creation fails and is rolled back.
    let req = CreateTopicsRequest::default()
        .with_topics(vec![creatable("fd-starved", 200, &[])])
        .with_timeout_ms(30_000);
    let resp = c.send(&req, 7);
    assert_eq!(resp.topics[0].error_code, 56, "{:?}", resp.topics[0]);
    let left: Vec<String> = std::fs::read_dir(broker.data_dir())
        .expect("data dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fd-starved-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    assert_eq!(
        describe_topic(&mut c, "fd-starved").error_code,
        code::UNKNOWN_TOPIC_OR_PARTITION
    );

    // Connections past the limit wait unserved in the backlog; the broker says why and backs
    // off instead of spinning on the failing accept.
    let waiting: Vec<TcpStream> = (0..40)
        .filter_map(|_| TcpStream::connect(broker.addr).ok())
        .collect();
    assert!(!waiting.is_empty());
    let ticks = cpu_ticks(pid);
    std::thread::sleep(Duration::from_secs(2));
    let spent = cpu_ticks(pid) - ticks;
    assert!(
        spent < 100,
        "{spent} ticks of CPU in 2 s while accepts fail"
    );
    assert!(
        eventually(Duration::from_secs(10), || broker
            .stderr_tail()
            .contains("accept failed, connection refused")),
        "{}",
        broker.stderr_tail()
    );
    // The connection opened before is still served.
    assert_eq!(describe_topic(&mut c, "fd-before").error_code, code::NONE);
    assert!(broker.is_running());

    // Descriptors back: the waiting connections are accepted and everything works again.
    drop(waiting);
    set_nofile(pid, &original);
    let started = Instant::now();
    let mut fresh = broker.client();
    create_topic(&mut fresh, "fd-starved", 200);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(
        describe_topic(&mut fresh, "fd-starved").partitions.len(),
        200
    );
}
