//! What idle, slow or lying clients cost: a declared frame size is not memory until its bytes
//! arrive, and idle HTTP clients cannot delay `/health`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiVersionsRequest;

use crate::support::*;

/// `VmSize` and `VmRSS` of a process, in KiB, from `/proc/<pid>/status`.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/{pid}/status"))
    };
    (field("VmSize:"), field("VmRSS:"))
}

fn assert_serves(broker: &Broker) {
    let mut c = broker.client();
    let req = ApiVersionsRequest::default()
        .with_client_software_name(s("connections-test"))
        .with_client_software_version(s("1"));
    assert_eq!(c.send(&req, 3).error_code, code::NONE);
}

/// 1,000 connections each declaring a 100 MiB frame (the `socket.request.max.bytes` default)
/// and sending four bytes of it: Kafka's answer to a declared size is to wait for the bytes,
/// and the broker must not reserve 100 MiB per connection meanwhile (that is 100 GB here).
#[test]
fn declared_frame_sizes_cost_nothing_until_their_bytes_arrive() {
    let broker = Broker::start();
    assert_serves(&broker);
    let pid = broker.pid();
    let (size_before, rss_before) = memory_kib(pid);
    let declared: i32 = 100 * 1024 * 1024;
    let mut open = Vec::new();
    for _ in 0..1000 {
        let mut c = TcpStream::connect(broker.addr).expect("connect");
        c.write_all(&declared.to_be_bytes()).expect("size");
        c.write_all(&[0, 18, 0, 3]).expect("first bytes");
        open.push(c);
    }
    // Time for the broker to read every prefix (it does so within milliseconds).
    std::thread::sleep(Duration::from_millis(500));
    assert_serves(&broker);
    let (size_after, rss_after) = memory_kib(pid);
    let grown_virtual = size_after.saturating_sub(size_before);
    let grown_rss = rss_after.saturating_sub(rss_before);
    // About 4 KiB of buffer and a task per connection; the declared sizes would be 100 GiB.
    assert!(
        grown_virtual < 256 * 1024,
        "address space grew by {grown_virtual} KiB for 1,000 connections"
    );
    assert!(
        grown_rss < 64 * 1024,
        "resident memory grew by {grown_rss} KiB for 1,000 connections"
    );
    // Those connections are still open and waiting; the broker serves others meanwhile.
    let mut first = open.swap_remove(0);
    first
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let mut b = [0u8; 1];
    assert!(
        matches!(first.read(&mut b), Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock
            || e.kind() == std::io::ErrorKind::TimedOut),
        "an incomplete frame is waited for, not answered or closed"
    );
    drop(open);
    assert_serves(&broker);
}

/// `GET /health` over a fresh connection: the status line and how long it took.
fn health(http: std::net::SocketAddr) -> (String, Duration) {
    let t = Instant::now();
    let mut c = TcpStream::connect(http).expect("connect http");
    c.set_read_timeout(Some(Duration::from_secs(15)))
        .expect("timeout");
    c.write_all(b"GET /health HTTP/1.1\r\nHost: klamm\r\n\r\n")
        .expect("request");
    let mut out = String::new();
    c.read_to_string(&mut out).expect("response");
    (out, t.elapsed())
}

/// 64 idle HTTP connections used to delay `/health` by ~10 s (a 64-connection pool held by
/// clients that never sent a request); a readiness probe must answer in milliseconds whatever
/// other HTTP clients do.
#[test]
fn idle_http_connections_do_not_delay_health() {
    let broker = Broker::start();
    let http = broker
        .http_addr
        .expect("the broker printed its HTTP address");
    let idle: Vec<TcpStream> = (0..200)
        .map(|_| TcpStream::connect(http).expect("idle connect"))
        .collect();
    // Some send half a request head and stop.
    for mut c in idle.iter().take(50) {
        c.write_all(b"GET /metr").expect("partial head");
    }
    std::thread::sleep(Duration::from_millis(100));
    let (answer, took) = health(http);
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.ends_with("\r\n\r\nok\n"), "{answer}");
    assert!(
        took < Duration::from_millis(500),
        "/health took {took:?} with 200 idle HTTP connections"
    );
    drop(idle);
    assert_serves(&broker);
}
