//! Differential tests: Apache Kafka is the oracle.
//!
//! One real Kafka 4.1 broker ([`oracle::Kafka`]) and one Klamm broker (with
//! `klamm.compat.kafka.version=4.1`, so both serve the same version ranges) get the same
//! scenarios: sequences of real requests, most of them at every version both brokers serve. Each
//! pair of answers is decoded, normalised (`normalise`: ports, generated ids, timestamps,
//! throttle times) and compared field by field (`tree`). A difference fails the run unless
//! `allowed-differences.txt` lists it with its reason; an entry of that file that no difference
//! matches fails the run too.
//!
//! Run with `cargo test --release --test differential` after `protocol-tests/run-all
//! --install-only` (which resolves Kafka with Maven); `-- <substring>` runs the scenarios whose
//! name contains it. `protocol-tests/run-all` runs it.

#[path = "../support/mod.rs"]
mod support;

mod allowed;
mod normalise;
mod oracle;
mod scenarios;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest};
use kafka_protocol::protocol::Request;

use normalise::Renamer;
use support::client::{decode_response, encode_request};
use support::{Broker, Client};

/// Broker settings both brokers run with (beyond their defaults): what a single Kafka node needs
/// (internal topics with one replica) and no initial rebalance delay, so group scenarios do not
/// wait 3 s per join. Klamm gets the same values, so its answers describe the same settings.
pub const SHARED_SETTINGS: &[(&str, &str)] = &[("group.initial.rebalance.delay.ms", "0")];

/// Kafka-only settings: its internal topics with one replica, as a single node needs (Klamm's
/// internal topics are single-replica by construction and it has no such settings).
const KAFKA_ONLY_SETTINGS: &[(&str, &str)] = &[
    ("offsets.topic.replication.factor", "1"),
    ("transaction.state.log.replication.factor", "1"),
    ("transaction.state.log.min.isr", "1"),
    ("share.coordinator.state.topic.replication.factor", "1"),
    ("share.coordinator.state.topic.min.isr", "1"),
];

/// Klamm-only settings: serve exactly Kafka 4.1's request versions.
const KLAMM_ONLY_SETTINGS: &[(&str, &str)] = &[("klamm.compat.kafka.version", "4.1")];

/// Which broker: index 0 is Kafka, 1 is Klamm, in every pair below.
pub const KAFKA: usize = 0;
pub const KLAMM: usize = 1;
pub const SIDES: [&str; 2] = ["kafka", "klamm"];

/// One field that differs.
#[derive(Debug)]
pub struct Diff {
    pub step: String,
    pub path: String,
    pub kafka: Option<String>,
    pub klamm: Option<String>,
}

/// What a raw frame got back.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The broker closed the connection without answering.
    Closed,
    /// A response frame (size prefix removed).
    Frame(Bytes),
    /// Nothing within the wait, connection still open.
    Silent,
}

/// The shared state of a run: the brokers' addresses and the versions both serve.
pub struct Env {
    pub addrs: [SocketAddr; 2],
    /// Per API key, the versions both brokers advertise.
    pub common: BTreeMap<i16, (i16, i16)>,
}

/// One scenario's view: a connection to each broker and what it has found.
pub struct Ctx<'a> {
    pub scenario: &'static str,
    pub env: &'a Env,
    pub conns: [Client; 2],
    renamers: [Renamer; 2],
    pub diffs: Vec<Diff>,
    pub requests: usize,
}

impl<'a> Ctx<'a> {
    fn new(scenario: &'static str, env: &'a Env) -> Ctx<'a> {
        Ctx {
            scenario,
            env,
            conns: [Client::connect(env.addrs[0]), Client::connect(env.addrs[1])],
            renamers: Default::default(),
            diffs: Vec::new(),
            requests: 0,
        }
    }

    /// New connections to both brokers (e.g. after a frame that closes them).
    pub fn reconnect(&mut self) {
        self.conns = [
            Client::connect(self.env.addrs[0]),
            Client::connect(self.env.addrs[1]),
        ];
    }

    /// The versions of `key` both brokers serve (none when one does not serve it).
    pub fn versions(&self, key: ApiKey) -> Vec<i16> {
        match self.env.common.get(&(key as i16)) {
            Some(&(lo, hi)) => (lo..=hi).collect(),
            None => Vec::new(),
        }
    }

    /// Sends `req` at `version` to both brokers and compares the answers; returns them
    /// (un-normalised) as `[kafka, klamm]`.
    pub fn send<R>(&mut self, step: &str, req: &R, version: i16) -> [R::Response; 2]
    where
        R: Request,
        R::Response: Debug,
    {
        self.requests += 1;
        let kafka = self.conns[KAFKA].send(req, version);
        let klamm = self.conns[KLAMM].send(req, version);
        self.compare(&format!("{step}@v{version}"), &kafka, &klamm);
        [kafka, klamm]
    }

    /// Sends the request `make(version)` builds at every version both brokers serve.
    pub fn each_version<R>(&mut self, step: &str, make: impl Fn(i16) -> R) -> Vec<[R::Response; 2]>
    where
        R: Request,
        R::Response: Debug,
    {
        let key = ApiKey::try_from(R::KEY).expect("known api key");
        let vs = self.versions(key);
        assert!(!vs.is_empty(), "{key:?} is not served by both brokers");
        vs.into_iter()
            .map(|v| self.send(step, &make(v), v))
            .collect()
    }

    /// Sends `req` to each broker without comparing (set-up steps whose answers are checked
    /// later, or that the scenario compares itself).
    pub fn send_each<R: Request>(&mut self, req: &R, version: i16) -> [R::Response; 2] {
        self.requests += 1;
        [
            self.conns[KAFKA].send(req, version),
            self.conns[KLAMM].send(req, version),
        ]
    }

    /// Compares two values (answers, or anything derived from them) under `step`.
    pub fn compare<T: Debug>(&mut self, step: &str, kafka: &T, klamm: &T) {
        let step = format!("{}/{step}", self.scenario);
        let parsed = [format!("{kafka:?}"), format!("{klamm:?}")].map(|s| {
            tree::parse(&s).unwrap_or_else(|e| panic!("{step}: cannot read back {s}: {e}"))
        });
        let [mut a, mut b] = parsed;
        normalise::normalise(&mut a, &mut self.renamers[KAFKA]);
        normalise::normalise(&mut b, &mut self.renamers[KLAMM]);
        let (fa, fb) = (tree::flatten(&a), tree::flatten(&b));
        let paths: BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
        // An element one side lacks is reported once, not once per field below it.
        let mut lone: Option<String> = None;
        for p in paths {
            if lone
                .as_ref()
                .is_some_and(|l| p.starts_with(l.as_str()) && p[l.len()..].starts_with(['.', '[']))
            {
                continue;
            }
            let (x, y) = (fa.get(p), fb.get(p));
            if (x.is_none() || y.is_none()) && x.or(y).is_some_and(|v| v == tree::ELEMENT) {
                lone = Some(p.clone());
            }
            if x != y {
                self.diffs.push(Diff {
                    step: step.clone(),
                    path: p.clone(),
                    kafka: x.cloned(),
                    klamm: y.cloned(),
                });
            }
        }
    }

    /// Writes `frame` (size prefix included) to both brokers and compares what each did:
    /// closed the connection, answered (the frames are returned for the scenario to decode), or
    /// stayed silent for `wait`. Connections that were closed are reopened.
    pub fn raw(&mut self, step: &str, frame: &[u8], wait: Duration) -> [Outcome; 2] {
        self.requests += 1;
        let outcomes = [KAFKA, KLAMM].map(|i| {
            let c = &mut self.conns[i];
            if c.try_write_raw(frame).is_err() {
                return Outcome::Closed;
            }
            c.set_read_timeout(wait);
            let o = match c.read_frame() {
                Ok(Some(f)) => Outcome::Frame(f),
                Ok(None) => Outcome::Closed,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    Outcome::Silent
                }
                Err(_) => Outcome::Closed,
            };
            c.set_read_timeout(support::client::READ_TIMEOUT);
            o
        });
        let kind = |o: &Outcome| match o {
            Outcome::Closed => "closed",
            Outcome::Frame(_) => "answered",
            Outcome::Silent => "silent",
        };
        self.compare(step, &kind(&outcomes[0]), &kind(&outcomes[1]));
        for (i, o) in outcomes.iter().enumerate() {
            if !matches!(o, Outcome::Frame(_)) {
                self.conns[i] = Client::connect(self.env.addrs[i]);
            }
        }
        outcomes
    }

    /// Polls `probe` on both brokers until it holds on both (Kafka applies metadata changes
    /// asynchronously: a topic it just created may have no leader for a few milliseconds).
    pub fn wait_until(&mut self, what: &str, mut probe: impl FnMut(&mut Client) -> bool) {
        for i in [KAFKA, KLAMM] {
            let deadline = Instant::now() + Duration::from_secs(30);
            while !probe(&mut self.conns[i]) {
                assert!(
                    Instant::now() < deadline,
                    "{}: {what} did not happen on {} within 30 s",
                    self.scenario,
                    SIDES[i]
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// A frame for `req` at `version` (for scenarios that then corrupt it).
pub fn frame<R: Request>(req: &R, version: i16, correlation_id: i32) -> Vec<u8> {
    encode_request(req, version, correlation_id)
}

/// Decodes a response frame of `R`.
pub fn decode<R: Request>(frame: Bytes, version: i16) -> R::Response {
    decode_response::<R>(frame, version).1
}

/// The message of the last scenario panic (printed after the scenario's line).
static PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

fn api_versions(c: &mut Client) -> BTreeMap<i16, (i16, i16)> {
    let r = c.send(
        &ApiVersionsRequest::default()
            .with_client_software_name(support::requests::s("klamm-differential"))
            .with_client_software_version(support::requests::s("1.0")),
        3,
    );
    assert_eq!(r.error_code, 0, "ApiVersions error");
    r.api_keys
        .iter()
        .map(|k| (k.api_key, (k.min_version, k.max_version)))
        .collect()
}

fn main() {
    // A scenario's panic is reported in one line (its message and place) and the run goes on.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let at = info.location().map(|l| l.to_string()).unwrap_or_default();
        if let Ok(mut p) = PANIC.lock() {
            *p = Some(format!("{msg} (at {at})"));
        }
    }));
    tree::self_check();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let filter = args.first().cloned();
    let all = scenarios::all();
    let chosen: Vec<_> = all
        .iter()
        .filter(|(n, _)| filter.as_ref().is_none_or(|f| n.contains(f.as_str())))
        .collect();
    // A filter that names no scenario would report a green run that compared nothing.
    if chosen.is_empty() {
        println!("differential: no scenario name contains {filter:?}");
        std::process::exit(1);
    }
    let allowed_path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("protocol-tests/differential/allowed-differences.txt");
    let mut allowed = allowed::load(&allowed_path).unwrap_or_else(|e| panic!("{e}"));

    let t0 = Instant::now();
    let kafka_settings: Vec<(&str, &str)> = SHARED_SETTINGS
        .iter()
        .chain(KAFKA_ONLY_SETTINGS)
        .copied()
        .collect();
    let kafka = oracle::Kafka::start(&kafka_settings);
    let klamm_settings: Vec<(&str, &str)> = SHARED_SETTINGS
        .iter()
        .chain(KLAMM_ONLY_SETTINGS)
        .copied()
        .collect();
    let klamm = Broker::with_overrides(&klamm_settings);
    println!(
        "differential: Kafka on {} and Klamm on {} ready in {:.1?}",
        kafka.addr,
        klamm.addr,
        t0.elapsed()
    );
    let addrs = [kafka.addr, klamm.addr];
    let versions = addrs.map(|a| api_versions(&mut Client::connect(a)));
    let common = versions[KAFKA]
        .iter()
        .filter_map(|(k, &(lo, hi))| {
            let &(lo2, hi2) = versions[KLAMM].get(k)?;
            (lo.max(lo2) <= hi.min(hi2)).then_some((*k, (lo.max(lo2), hi.min(hi2))))
        })
        .collect();
    let env = Env { addrs, common };
    scenarios::warm_up(&env);
    println!("differential: brokers warmed up after {:.1?}", t0.elapsed());

    let (mut passed, mut failed) = (0usize, 0usize);
    let (mut requests, mut total_diffs, mut listed) = (0usize, 0usize, 0usize);
    for (name, run) in chosen {
        let started = Instant::now();
        let mut ctx = Ctx::new(name, &env);
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| run(&mut ctx)));
        requests += ctx.requests;
        let mut unlisted = Vec::new();
        for d in ctx.diffs.drain(..) {
            total_diffs += 1;
            match allowed
                .iter_mut()
                .find(|e| allowed::glob(&e.step, &d.step) && allowed::glob(&e.path, &d.path))
            {
                Some(e) => {
                    e.used += 1;
                    listed += 1;
                }
                None => unlisted.push(d),
            }
        }
        let ok = result.is_ok() && unlisted.is_empty();
        println!(
            "scenario {name} ... {} ({} requests, {:.1?})",
            if ok { "ok" } else { "FAILED" },
            ctx.requests,
            started.elapsed()
        );
        for d in &unlisted {
            println!(
                "  DIFF {} {}\n       kafka: {}\n       klamm: {}",
                d.step,
                d.path,
                d.kafka.as_deref().unwrap_or("(absent)"),
                d.klamm.as_deref().unwrap_or("(absent)")
            );
        }
        if result.is_err() {
            let msg = PANIC
                .lock()
                .ok()
                .and_then(|mut p| p.take())
                .unwrap_or_default();
            println!("  PANIC {msg}");
        }
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    let mut stale = 0;
    if filter.is_none() {
        for e in allowed.iter().filter(|e| e.used == 0) {
            stale += 1;
            println!(
                "STALE allowed-differences.txt:{}: `{} {}` matches no difference",
                e.line, e.step, e.path
            );
        }
    }
    if stale > 0 {
        failed += 1;
    }
    println!(
        "\ndifferential: {} scenarios, {requests} requests compared, {total_diffs} differences \
         ({listed} listed in allowed-differences.txt, {} unlisted), {stale} stale entries, {:.1?}",
        passed + failed - usize::from(stale > 0),
        total_diffs - listed,
        t0.elapsed()
    );
    drop(klamm);
    drop(kafka);
    // The summary line in libtest's format, which protocol-tests/run-all counts.
    println!(
        "test result: {}. {passed} passed; {failed} failed; 0 ignored; 0 measured; 0 filtered out",
        if failed == 0 { "ok" } else { "FAILED" }
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
