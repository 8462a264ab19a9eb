//! A real `klamm serve` process with its own temporary data directory, listening on an
//! ephemeral port. Stopped with SIGTERM (a clean shutdown) when dropped; `kill9` simulates a
//! crash. The broker's stderr goes to a file whose tail is printed when a test fails.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::client::Client;

/// How long a broker may take to print its ready line.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a SIGTERM'd broker may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Broker {
    root: tempfile::TempDir,
    extra_args: Vec<String>,
    child: Option<Child>,
    /// The address the listener is bound to (a new port after every restart).
    pub addr: SocketAddr,
    /// The advertised host and port, as printed in the ready line.
    pub advertised_host: String,
    pub advertised_port: i32,
    /// The HTTP endpoint's address (`/health`, `/metrics`), as printed before the ready line.
    pub http_addr: Option<SocketAddr>,
    /// Every listener by (upper-case) name, from the `klamm listener ...` lines.
    pub listeners: BTreeMap<String, ListenerAddr>,
}

/// One listener as the broker printed it at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerAddr {
    pub protocol: String,
    pub bound: SocketAddr,
    pub advertised_host: String,
    pub advertised_port: i32,
}

impl Broker {
    /// A broker with default settings.
    pub fn start() -> Broker {
        Broker::start_with(&[])
    }

    /// A broker with `--override KEY=VALUE` for each pair.
    pub fn with_overrides(overrides: &[(&str, &str)]) -> Broker {
        let args: Vec<String> = overrides
            .iter()
            .flat_map(|(k, v)| ["--override".to_string(), format!("{k}={v}")])
            .collect();
        Broker::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// A broker with extra `klamm serve` arguments.
    pub fn start_with(extra_args: &[&str]) -> Broker {
        Broker::start_seeded(extra_args, |_| {})
    }

    /// A broker whose data directory `seed` fills before the first start (e.g. with partition
    /// directories in Kafka's layout).
    pub fn start_seeded(extra_args: &[&str], seed: impl FnOnce(&Path)) -> Broker {
        let root = tempfile::Builder::new()
            .prefix("klamm-protocol-test-")
            .tempdir()
            .expect("temp dir");
        let mut b = Broker {
            root,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
            addr: "127.0.0.1:0".parse().expect("addr"),
            advertised_host: String::new(),
            advertised_port: 0,
            http_addr: None,
            listeners: BTreeMap::new(),
        };
        std::fs::create_dir_all(b.data_dir()).expect("data dir");
        seed(&b.data_dir());
        b.spawn();
        b
    }

    /// The broker's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn stderr_path(&self) -> PathBuf {
        self.root.path().join("broker.stderr")
    }

    /// A new connection to the broker.
    pub fn client(&self) -> Client {
        Client::connect(self.addr)
    }

    /// The listener named `name` (upper case, as the broker prints it).
    pub fn listener(&self, name: &str) -> &ListenerAddr {
        self.listeners.get(name).unwrap_or_else(|| {
            panic!(
                "no listener {name}; the broker printed {:?}",
                self.listeners.keys().collect::<Vec<_>>()
            )
        })
    }

    /// A new plaintext connection to the listener named `name`.
    pub fn client_of(&self, name: &str) -> Client {
        Client::connect(self.listener(name).bound)
    }

    /// The process id of the running broker.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("broker running").id()
    }

    /// Starts the broker (again, after [`Broker::stop`] or [`Broker::kill9`]).
    pub fn spawn(&mut self) {
        assert!(self.child.is_none(), "broker already running");
        self.listeners.clear();
        let stderr = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.stderr_path())
            .expect("stderr file");
        let data_dir = self.data_dir();
        let mut child = Command::new(env!("CARGO_BIN_EXE_klamm"))
            .arg("serve")
            .arg("--data-dir")
            .arg(&data_dir)
            .args(["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"])
            .args(&self.extra_args)
            .env_remove("KLAMM_CONFIG")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(stderr))
            .spawn()
            .expect("spawn klamm");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            // Forward lines until the ready line, then keep draining so the pipe never fills.
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some((name, l)) = parse_listener_line(&line) {
                        self.listeners.insert(name, l);
                    }
                    if let Some(http) = parse_http_line(&line) {
                        self.http_addr = Some(http);
                    }
                    if let Some((addr, host, port)) = parse_ready_line(&line) {
                        self.addr = addr;
                        self.advertised_host = host;
                        self.advertised_port = port;
                        break;
                    }
                }
                Err(_) => {
                    let status = child.try_wait().ok().flatten();
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "broker did not print its ready line (exit status {status:?}); stderr:\n{}",
                        self.stderr_tail()
                    );
                }
            }
        }
        self.child = Some(child);
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    let _ = child.kill();
                    let status = child.wait().ok();
                    eprintln!("broker did not exit within {STOP_TIMEOUT:?} of SIGTERM; killed");
                    return status;
                }
            }
        }
    }

    /// Clean shutdown (SIGTERM), then start again on the same data directory. The broker gets
    /// a new port: reconnect with [`Broker::client`].
    pub fn restart(&mut self) {
        let status = self.stop();
        assert!(
            status.is_some_and(|s| s.success()),
            "broker exited with {status:?} after SIGTERM; stderr:\n{}",
            self.stderr_tail()
        );
        self.spawn();
    }

    /// Sends SIGHUP (TLS certificate reload).
    pub fn sighup(&self) {
        let status = Command::new("kill")
            .args(["-HUP", &self.pid().to_string()])
            .status()
            .expect("kill -HUP");
        assert!(status.success(), "kill -HUP failed");
    }

    /// The body of `GET /metrics` (Prometheus text).
    pub fn metrics_text(&self) -> String {
        use std::io::Write;
        let http = self.http_addr.expect("the broker printed its HTTP address");
        let mut s = std::net::TcpStream::connect(http).expect("connect to /metrics");
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("request /metrics");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read /metrics");
        out
    }

    /// Crash: SIGKILL, no chance to flush or checkpoint.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Crash (SIGKILL) and start again on the same data directory.
    pub fn kill9_and_restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Whether the broker process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The last lines of the broker's stderr.
    /// Everything the broker wrote to stderr so far (its log).
    pub fn stderr_text(&self) -> String {
        std::fs::read_to_string(self.stderr_path()).unwrap_or_default()
    }

    pub fn stderr_tail(&self) -> String {
        tail(&self.stderr_path(), 8 * 1024)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let panicking = std::thread::panicking();
        self.stop();
        if panicking {
            eprintln!(
                "---- broker stderr (tail) ----\n{}\n---- end of broker stderr ----",
                self.stderr_tail()
            );
        }
    }
}

/// Parses `klamm listening on 127.0.0.1:PORT (advertised as HOST:PORT)`.
fn parse_ready_line(line: &str) -> Option<(SocketAddr, String, i32)> {
    let rest = line.strip_prefix("klamm listening on ")?;
    let (addr, adv) = rest.split_once(" (advertised as ")?;
    let adv = adv.strip_suffix(')')?;
    let (host, port) = adv.rsplit_once(':')?;
    Some((addr.parse().ok()?, host.to_string(), port.parse().ok()?))
}

/// Parses `klamm listener NAME (PROTOCOL) on BOUND (advertised as HOST:PORT)`.
fn parse_listener_line(line: &str) -> Option<(String, ListenerAddr)> {
    let rest = line.strip_prefix("klamm listener ")?;
    let (name, rest) = rest.split_once(" (")?;
    let (protocol, rest) = rest.split_once(") on ")?;
    let (bound, adv) = rest.split_once(" (advertised as ")?;
    let (host, port) = adv.strip_suffix(')')?.rsplit_once(':')?;
    Some((
        name.to_string(),
        ListenerAddr {
            protocol: protocol.to_string(),
            bound: bound.parse().ok()?,
            advertised_host: host.to_string(),
            advertised_port: port.parse().ok()?,
        },
    ))
}

/// `klamm http on ADDR (/metrics, /health)`.
fn parse_http_line(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("klamm http on ")?;
    rest.split(' ').next()?.parse().ok()
}

fn tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::from("(no stderr file)");
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}
