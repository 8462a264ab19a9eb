//! A full disk, on a real (small) file system: the data directory is an 8 MiB tmpfs mounted for
//! the test. Writes that do not fit answer KAFKA_STORAGE_ERROR and leave the log as it was;
//! reads go on; the broker starts again on the full disk (after a crash and after SIGTERM);
//! writes are accepted again as soon as space returns, without a restart; DeleteTopics works
//! on the full disk and frees the topic's space; `/health` says so throughout.
//!
//! Mounting needs root (or CAP_SYS_ADMIN): without it the test fails, loudly, rather than
//! being skipped.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::DeleteTopicsRequest;

use crate::support::*;

const KAFKA_STORAGE_ERROR: i16 = 56;

/// A tmpfs mounted on a directory for the life of the value.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Tmpfs {
                dir: dir.to_path_buf(),
            },
            other => panic!(
                "the full-disk test mounts a {size} tmpfs on {} and could not (it needs root or \
                 CAP_SYS_ADMIN; it is not skipped): {other:?}",
                dir.display()
            ),
        }
    }

    /// Grows (or shrinks) the file system in place: space returns without touching a file.
    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.dir)
            .status()
            .expect("run mount");
        assert!(status.success(), "remount {} to {size}", self.dir.display());
    }

    fn available(&self) -> u64 {
        let s = rustix::fs::statvfs(&self.dir).expect("statvfs");
        s.f_bavail * s.f_frsize
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

/// `GET /health`: status and body.
fn health(addr: SocketAddr) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect to the HTTP endpoint");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read /health");
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

fn assert_full_in_health(broker: &Broker, full: bool) {
    let (status, body) = health(broker.http_addr.expect("http address"));
    assert_eq!(status, 200, "reads are served: {body}");
    assert_eq!(body.contains("out of space"), full, "/health: {body}");
}

/// One batch of `n` records of `size` bytes, values `prefix-i`-tagged.
fn big_batch(prefix: &str, n: usize, size: usize) -> Vec<Rec> {
    (0..n)
        .map(|i| {
            let mut v = format!("{prefix}-{i}-").into_bytes();
            v.resize(size, b'x');
            Rec {
                key: Some(Bytes::from(format!("k{i}"))),
                value: Some(Bytes::from(v)),
                headers: Vec::new(),
                timestamp: now_ms(),
            }
        })
        .collect()
}

/// Produces batches of shrinking size to `topic` until even small ones fail: the disk is then
/// full to its last pages. Returns the batches acknowledged, with their base offsets.
fn fill(c: &mut Client, t: &TopicRef) -> Vec<(i64, Vec<Rec>)> {
    let mut acked = Vec::new();
    for (n, size) in [(10, 10_000), (4, 1_000), (1, 200)] {
        let mut refused = false;
        for round in 0..2_000 {
            let records = big_batch(&format!("fill-{size}-{round}"), n, size);
            let p = produce(c, t, 0, batch(&records), 9);
            match p.error_code {
                code::NONE => acked.push((p.base_offset, records)),
                KAFKA_STORAGE_ERROR => {
                    refused = true;
                    break;
                }
                other => panic!("produce while filling: error {other} {:?}", p.error_message),
            }
        }
        assert!(refused, "{n} x {size} B batches never hit the full disk");
    }
    assert!(!acked.is_empty());
    acked
}

/// Fetches one batch's worth at `offset` and checks it holds `records` from there.
fn assert_batch_at(c: &mut Client, t: &TopicRef, offset: i64, records: &[Rec]) {
    let d = fetch(c, t, 0, offset, 12);
    assert_eq!(d.error_code, code::NONE, "fetch {} at {offset}", t.name);
    let fetched = decode_records(&d.records.expect("records"));
    let from: Vec<_> = fetched
        .into_iter()
        .filter(|r| r.offset >= offset)
        .take(records.len())
        .collect();
    assert_records(&from, records, offset);
}

fn log_end(c: &mut Client, topic: &str) -> i64 {
    list_offset(c, topic, 0, -1, 7).offset
}

fn delete_topic(c: &mut Client, topic: &str) -> i16 {
    let req = DeleteTopicsRequest::default()
        .with_timeout_ms(30_000)
        .with_topics(vec![
            DeleteTopicState::default().with_name(Some(name(topic)))
        ]);
    c.send(&req, 6).responses[0].error_code
}

#[test]
fn full_disk_refuses_writes_serves_reads_restarts_and_recovers() {
    let mut mount = None;
    let mut broker = Broker::start_seeded(&[], |dir| mount = Some(Tmpfs::mount(dir, "8m")));
    let fs = mount.as_ref().expect("mounted");
    let mut c = broker.client();
    let keep = create_topic(&mut c, "keep", 1);
    let filler = create_topic(&mut c, "filler", 1);
    let kept = recs("kept", 5);
    produce_ok(&mut c, &keep, 0, &kept);
    assert_full_in_health(&broker, false);

    let acked = fill(&mut c, &filler);
    assert!(fs.available() < 64 * 1024, "{} bytes left", fs.available());
    let filler_end = log_end(&mut c, "filler");
    let (last_base, last_records) = acked.last().expect("acked").clone();
    assert_eq!(filler_end, last_base + last_records.len() as i64);
    assert_full_in_health(&broker, true);
    // 8 KiB needs pages the disk no longer has, whichever partition it goes to; a refused
    // write leaves the log as it was.
    let big = big_batch("big", 1, 8_192);
    for t in [&keep, &filler] {
        let p = produce(&mut c, t, 0, batch(&big), 9);
        assert_eq!(
            p.error_code, KAFKA_STORAGE_ERROR,
            "{}: {:?}",
            t.name, p.error_message
        );
    }
    assert_eq!(log_end(&mut c, "keep"), 5);
    assert_eq!(log_end(&mut c, "filler"), filler_end);
    // Reads go on.
    assert_batch_at(&mut c, &keep, 0, &kept);
    assert_batch_at(&mut c, &filler, acked[0].0, &acked[0].1);
    assert_batch_at(&mut c, &filler, last_base, &last_records);

    // A crash on the full disk, then a graceful stop (which cannot write everything it
    // wants to): the broker starts both times, with every acknowledged record.
    broker.kill9_and_restart();
    broker.stop();
    broker.spawn();
    let mut c = broker.client();
    assert_full_in_health(&broker, true);
    assert_eq!(log_end(&mut c, "keep"), 5);
    assert_eq!(log_end(&mut c, "filler"), filler_end);
    assert_batch_at(&mut c, &keep, 0, &kept);
    assert_batch_at(&mut c, &filler, last_base, &last_records);
    let p = produce(&mut c, &keep, 0, batch(&big), 9);
    assert_eq!(p.error_code, KAFKA_STORAGE_ERROR);

    // Space returns: both partitions, refused before, accept writes with no restart.
    fs.resize("16m");
    for (t, end) in [(&keep, 5), (&filler, filler_end)] {
        let p = produce(&mut c, t, 0, batch(&big), 9);
        assert_eq!(
            p.error_code,
            code::NONE,
            "{}: {:?}",
            t.name,
            p.error_message
        );
        assert_eq!(
            p.base_offset, end,
            "{}: the refused writes left no trace",
            t.name
        );
        assert_batch_at(&mut c, t, end, &big);
    }
    assert_full_in_health(&broker, false);

    // Full again; DeleteTopics is how an operator gets out, and it frees the space now.
    let more = fill(&mut c, &filler);
    assert!(!more.is_empty());
    assert_full_in_health(&broker, true);
    let before = fs.available();
    assert_eq!(delete_topic(&mut c, "filler"), code::NONE);
    assert!(
        fs.available() > before + 10 * 1024 * 1024,
        "deleting the topic freed its space: {before} -> {} bytes available",
        fs.available()
    );
    assert_full_in_health(&broker, false);
    let p = produce(&mut c, &keep, 0, batch(&big), 9);
    assert_eq!(p.error_code, code::NONE, "{:?}", p.error_message);
    assert_eq!(p.base_offset, 6);

    // The deletion holds across a crash.
    broker.kill9_and_restart();
    let mut c = broker.client();
    let t = describe_topic(&mut c, "filler");
    assert_eq!(t.error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
    assert_eq!(log_end(&mut c, "keep"), 7);
    assert_batch_at(&mut c, &keep, 0, &kept);
    drop(c);
    drop(broker);
}
