//! Hostile input at the wire: the frames that used to abort the broker, and a seeded mutation
//! run of real client frames. Whatever arrives, the broker closes that one connection or
//! answers, keeps serving every other connection, and never exits.

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kafka_protocol::messages::ApiVersionsRequest;

use crate::support::*;

/// Request frames (size prefix included) from shared/: `hostile` is `hostile-frames/`, the
/// others are `wire-captures/<dir>/` (third-party bytes, kept out of the repository). A missing
/// directory fails the test.
fn frames(dir: &str) -> Vec<(String, Vec<u8>)> {
    let path: PathBuf = match dir {
        "hostile" => shared_dir().join("hostile-frames"),
        other => shared_dir().join("wire-captures").join(other),
    };
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{path:?}: {e}"))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("frame file");
            (
                p.file_name().expect("name").to_string_lossy().into_owned(),
                hex_decode(&text),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no frames in {path:?}");
    out
}

/// The broker is alive, and `bystander` (a connection opened before the attack) and a fresh
/// connection are both served.
fn assert_serving(broker: &mut Broker, bystander: &mut Client) {
    assert!(
        broker.is_running(),
        "the broker exited:\n{}",
        broker.stderr_tail()
    );
    let req = ApiVersionsRequest::default()
        .with_client_software_name(s("hostile-test"))
        .with_client_software_version(s("1"));
    assert_eq!(bystander.send(&req, 3).error_code, code::NONE);
    let mut fresh = broker.client();
    assert_eq!(fresh.send(&req, 3).error_code, code::NONE);
    let md = fresh.send(&metadata_request(Some(&[]), false), 12);
    assert_eq!(md.brokers.len(), 1);
}

#[test]
fn frames_that_aborted_the_broker_close_only_their_connection() {
    let mut broker = Broker::start();
    let mut bystander = broker.client();
    let hostile = frames("hostile");
    assert_eq!(hostile.len(), 8);
    for (name, frame) in &hostile {
        let mut c = broker.client();
        let _ = c.try_write_raw(frame);
        assert!(
            c.closed_within(Duration::from_secs(10)),
            "{name}: connection not closed"
        );
        assert_serving(&mut broker, &mut bystander);
    }
    // Each refusal is logged as a warning naming the client id and the reason.
    let log = broker.stderr_tail();
    let refused = log
        .lines()
        .filter(|l| l.contains("rejected request, closing connection"))
        .count();
    assert!(
        refused >= hostile.len(),
        "{refused} refusals logged:\n{log}"
    );
    assert!(log.contains("collection_size"), "{log}");
}

/// A small deterministic generator (xorshift64*): a failure reproduces from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of a framed request, as the fuzzer that found the aborts made them: a length
/// or count replaced by a large or negative value, a bit flipped, a range repeated or cut.
/// The size prefix is kept right, so the broker always reads the whole mutated frame.
fn mutate(rng: &mut Rng, frame: &[u8]) -> Vec<u8> {
    let mut body = frame[4..].to_vec();
    for _ in 0..1 + rng.below(2) {
        if body.len() < 9 {
            break;
        }
        // Keep the API key and version (so every API and version is reached as sent).
        let at = 4 + rng.below(body.len() - 4);
        match rng.below(5) {
            0 => body[at] ^= 1 << rng.below(8),
            1 => {
                let v = match rng.below(3) {
                    0 => i32::MAX,
                    1 => -2,
                    _ => rng.next() as i32,
                };
                for (i, b) in v.to_be_bytes().iter().enumerate() {
                    if let Some(x) = body.get_mut(at + i) {
                        *x = *b;
                    }
                }
            }
            2 => {
                for (i, b) in [0xff, 0xff, 0xff, 0xff, 0x0f].iter().enumerate() {
                    if let Some(x) = body.get_mut(at + i) {
                        *x = *b;
                    }
                }
            }
            3 => body.truncate(at),
            _ => {
                let end = (at + 1 + rng.below(24)).min(body.len());
                let piece = body[at..end].to_vec();
                body.splice(at..at, piece);
            }
        }
    }
    let mut out = (body.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&body);
    out
}

/// At least 10,000 mutated frames of every captured API and version, each on its own
/// connection; after every 500 the broker must still serve an old and a new connection.
#[test]
fn ten_thousand_mutated_frames_never_take_the_broker_down() {
    // Mutated admin requests are served like any other: keep them from filling the disk with
    // auto-created topics, which is not what this test is about.
    let mut broker = Broker::with_overrides(&[("auto.create.topics.enable", "false")]);
    let mut bystander = broker.client();
    let mut seeds = frames("java");
    seeds.extend(frames("other"));
    seeds.extend(frames("hostile"));
    let mut rng = Rng(0x6b6c_616d_6d21_0011);
    let started = Instant::now();
    let total = 10_000;
    for i in 0..total {
        let (_, seed) = &seeds[rng.below(seeds.len())];
        let frame = mutate(&mut rng, seed);
        let mut s = TcpStream::connect(broker.addr).expect("connect");
        let _ = s.write_all(&frame);
        let _ = s.shutdown(Shutdown::Write);
        drop(s);
        if (i + 1) % 500 == 0 {
            assert_serving(&mut broker, &mut bystander);
            assert!(
                started.elapsed() < Duration::from_secs(240),
                "{} frames in {:?}",
                i + 1,
                started.elapsed()
            );
        }
    }
    assert_serving(&mut broker, &mut bystander);
}
