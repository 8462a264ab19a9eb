//! The broker under test: either one this program starts (and so can measure
//! and stop) or an external one reached by address.
//!
//! Resource figures come straight from `/proc`, which is what an operator
//! would look at too: CPU time is `utime + stime` of the whole process (all
//! threads), memory is `VmRSS` (now) and `VmHWM` (peak).

use std::fs::{self, File};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{sysconf, Pid, SysconfVar};
use tempfile::TempDir;

/// How long a started broker may take to print its listening line.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between the listening line and the idle RSS reading, so lazily
/// initialised state of an idle broker is counted but no client traffic is.
const IDLE_SETTLE: Duration = Duration::from_millis(500);
/// How long a broker gets to exit after SIGTERM before it is killed.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(15);
/// What the broker prints on stdout once it accepts connections.
const LISTENING_MARKER: &str = "listening on ";

/// The listener the bench's clients connect to (`--security`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// Klamm as it starts by default: no authentication, no authorizer.
    Plaintext,
    /// `--dev-security` plus a `SASL_PLAINTEXT` listener: SCRAM-SHA-512, ACLs on, no TLS.
    SaslPlaintext,
    /// `--dev-security`'s `SASL_SSL` listener (SCRAM-SHA-512 over TLS).
    SaslSsl,
    /// `--dev-security`'s SSL listener (TLS with a client certificate).
    Ssl,
}

impl Security {
    /// The broker listener name clients connect to.
    fn listener(self) -> &'static str {
        match self {
            Security::Plaintext => "PLAINTEXT",
            Security::SaslPlaintext => "SASL_PLAINTEXT",
            Security::SaslSsl => "SASL_SSL",
            Security::Ssl => "SSL",
        }
    }

    /// Extra broker arguments.
    fn broker_args(self) -> Vec<String> {
        let mut args = Vec::new();
        if self != Security::Plaintext {
            args.push("--dev-security".to_string());
        }
        if self == Security::SaslPlaintext {
            args.push("--override".into());
            args.push(
                "listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,\
                 SASL_SSL://127.0.0.1:0,SSL://127.0.0.1:0"
                    .into(),
            );
        }
        args
    }

    /// The client properties `--dev-security` wrote for alice, without bootstrap.servers.
    pub fn client_properties(self, data_dir: &Path) -> Result<Vec<(String, String)>> {
        let file = match self {
            Security::Plaintext => return Ok(Vec::new()),
            Security::SaslPlaintext | Security::SaslSsl => "alice-librdkafka.properties",
            Security::Ssl => "alice-mtls-librdkafka.properties",
        };
        let path = data_dir.join("dev-security").join(file);
        let text = fs::read_to_string(&path).with_context(|| {
            format!("reading the dev-security client config {}", path.display())
        })?;
        let mut props: Vec<(String, String)> = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| *k != "bootstrap.servers")
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if self == Security::SaslPlaintext {
            props.retain(|(k, _)| !k.starts_with("ssl."));
            for (k, v) in &mut props {
                if k == "security.protocol" {
                    *v = "SASL_PLAINTEXT".into();
                }
            }
        }
        Ok(props)
    }
}

/// Reads CPU time and memory of one process from `/proc`.
#[derive(Debug, Clone, Copy)]
pub struct ProcessProbe {
    pid: u32,
    ticks_per_sec: f64,
}

impl ProcessProbe {
    /// Creates a probe for `pid`, failing early if `/proc` cannot be read.
    pub fn new(pid: u32) -> Result<Self> {
        let ticks = sysconf(SysconfVar::CLK_TCK)
            .context("sysconf(CLK_TCK)")?
            .ok_or_else(|| anyhow!("CLK_TCK is not defined"))?;
        let probe = Self {
            pid,
            ticks_per_sec: ticks as f64,
        };
        probe
            .cpu_time()
            .with_context(|| format!("cannot read /proc/{pid}; is the broker PID right?"))?;
        Ok(probe)
    }

    /// User plus system CPU time consumed so far by all threads of the process.
    pub fn cpu_time(&self) -> Result<Duration> {
        let stat = fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // The command name (field 2) is in parentheses and may contain spaces,
        // so fields are counted from the last ')'; field 3 (state) comes first.
        let rest = stat
            .rfind(')')
            .map(|i| &stat[i + 1..])
            .ok_or_else(|| anyhow!("malformed /proc/{}/stat", self.pid))?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| -> Result<u64> {
            fields
                .get(n - 3)
                .ok_or_else(|| anyhow!("short /proc/{}/stat", self.pid))?
                .parse::<u64>()
                .context("parsing /proc/PID/stat")
        };
        let ticks = field(14)? + field(15)?; // utime + stime
        Ok(Duration::from_secs_f64(ticks as f64 / self.ticks_per_sec))
    }

    /// Current resident set size.
    pub fn rss_bytes(&self) -> Result<u64> {
        self.status_kib("VmRSS:").map(|k| k * 1024)
    }

    /// Peak resident set size since the process started.
    pub fn peak_rss_bytes(&self) -> Result<u64> {
        self.status_kib("VmHWM:").map(|k| k * 1024)
    }

    fn status_kib(&self, key: &str) -> Result<u64> {
        let status = fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .ok_or_else(|| anyhow!("no {key} in /proc/{}/status", self.pid))?;
        line[key.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .with_context(|| format!("parsing {key} in /proc/{}/status", self.pid))
    }
}

/// How to start a broker.
#[derive(Debug)]
pub struct SpawnOptions {
    /// Broker executable.
    pub bin: PathBuf,
    /// Extra arguments appended after the standard ones.
    pub args: Vec<String>,
    /// Where to keep the broker's output; `None` means inside its temp dir.
    pub log: Option<PathBuf>,
    /// Which listener the clients use.
    pub security: Security,
}

/// Finds the broker binary: absolute paths are used as given; relative ones
/// are tried against the current directory and then the bench crate's
/// directory, so `../target/release/klamm` works from `bench/` and from the
/// repository root alike.
pub fn resolve_bin(bin: &Path) -> Result<PathBuf> {
    let candidates = if bin.is_absolute() {
        vec![bin.to_path_buf()]
    } else {
        vec![
            bin.to_path_buf(),
            Path::new(env!("CARGO_MANIFEST_DIR")).join(bin),
        ]
    };
    candidates
        .iter()
        .find(|p| p.is_file())
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .ok_or_else(|| {
            anyhow!(
                "broker binary {} not found (build it with `cargo build --release` in the \
                 repository root, or pass --broker-bin or --bootstrap)",
                bin.display()
            )
        })
}

/// A broker process started by the benchmark, with its scratch directory.
#[derive(Debug)]
pub(crate) struct Managed {
    pub(crate) child: Child,
    pub(crate) log_path: PathBuf,
    /// Holds the data directory (and by default the log) until the broker is gone.
    pub(crate) dir: Option<TempDir>,
}

impl Managed {
    /// Sends SIGTERM, waits for a clean exit and kills the broker if it does
    /// not come. Idempotent.
    pub(crate) fn stop(&mut self) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.child.try_wait()? {
            return Ok(Some(status));
        }
        let pid = Pid::from_raw(i32::try_from(self.child.id())?);
        kill(pid, Signal::SIGTERM).context("sending SIGTERM to the broker")?;
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                return Ok(Some(status));
            }
            thread::sleep(Duration::from_millis(20));
        }
        log::warn!("broker ignored SIGTERM for {SHUTDOWN_TIMEOUT:?}; killing it");
        self.child.kill()?;
        self.child.wait()?;
        Ok(None)
    }
}

impl Drop for Managed {
    fn drop(&mut self) {
        // Never leave a broker behind, whatever path got us here.
        if let Err(e) = self.stop() {
            log::warn!("stopping the broker: {e:#}");
        }
    }
}

/// The broker under test.
#[derive(Debug)]
pub struct Target {
    bootstrap: String,
    probe: Option<ProcessProbe>,
    idle_rss_bytes: Option<u64>,
    /// From spawning the process until its listener answered `ApiVersions`.
    startup: Option<Duration>,
    managed: Option<Managed>,
}

impl Target {
    /// A broker someone else runs. With its PID, CPU and memory are measured
    /// too; "idle" RSS is then simply its RSS before the first scenario.
    pub fn external(bootstrap: &str, pid: Option<u32>) -> Result<Self> {
        let probe = pid.map(ProcessProbe::new).transpose()?;
        let idle_rss_bytes = probe.map(|p| p.rss_bytes()).transpose()?;
        Ok(Self {
            bootstrap: bootstrap.to_owned(),
            probe,
            idle_rss_bytes,
            startup: None,
            managed: None,
        })
    }

    /// Starts `bin serve --data-dir <tempdir> --listen 127.0.0.1:0
    /// --http-listen 127.0.0.1:0 [args]` and waits for it to announce its
    /// address on stdout.
    pub fn spawn(opts: &SpawnOptions) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("klamm-bench-")
            .tempdir()
            .context("creating the broker's temp dir")?;
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir)?;
        let log_path = opts
            .log
            .clone()
            .unwrap_or_else(|| dir.path().join("broker.log"));
        let log = File::create(&log_path)
            .with_context(|| format!("creating broker log {}", log_path.display()))?;

        let mut command = Command::new(&opts.bin);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--listen")
            .arg("127.0.0.1:0");
        // Klamm's HTTP listener defaults to a fixed port; an ephemeral one
        // lets the bench run beside another broker (unless told otherwise).
        if !opts.args.iter().any(|a| a.starts_with("--http-listen")) {
            command.arg("--http-listen").arg("127.0.0.1:0");
        }
        // KIP-848 members get the heartbeat interval the classic members of the
        // member-leave scenarios use, so both protocols learn of a leave equally
        // fast (Kafka's broker default is 5 s, its classic client default 3 s).
        let hb = crate::member_leave::HEARTBEAT_MS;
        command
            .arg("--override")
            .arg(format!("group.consumer.min.heartbeat.interval.ms={hb}"))
            .arg("--override")
            .arg(format!("group.consumer.heartbeat.interval.ms={hb}"));
        let listener = opts.security.listener();
        let listener_marker = format!("klamm listener {listener} (");
        let spawned = Instant::now();
        let mut child = command
            .args(opts.security.broker_args())
            .args(&opts.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log.try_clone()?))
            .spawn()
            .with_context(|| format!("starting {}", opts.bin.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut managed = Managed {
            child,
            log_path,
            dir: Some(dir),
        };

        // The broker's stdout is drained for its whole life (into the log) so
        // it can never block on a full pipe; the first listening line is
        // handed back here.
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name("broker-stdout".into())
            .spawn(move || {
                let mut log = log;
                let mut tx = Some(tx);
                // `klamm listener NAME (PROTOCOL) on ADDR ...` lines come first, one per
                // listener; the bench's listener wins over the first `listening on` line.
                let mut chosen: Option<String> = None;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(log, "{line}");
                    if let Some(rest) = line.strip_prefix(&listener_marker) {
                        if let Some((_, r)) = rest.split_once(") on ") {
                            chosen = r.split_whitespace().next().map(str::to_owned);
                        }
                    }
                    if let Some(addr) = line.split_once(LISTENING_MARKER).map(|(_, r)| r) {
                        if let Some(tx) = tx.take() {
                            let first = addr.split_whitespace().next().unwrap_or("").to_owned();
                            let _ = tx.send(chosen.clone().unwrap_or(first));
                        }
                    }
                }
            })?;

        let addr = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(addr) => addr,
            Err(e) => {
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        format!("did not print `{LISTENING_MARKER}ADDR` within {STARTUP_TIMEOUT:?}")
                    }
                    mpsc::RecvTimeoutError::Disconnected => "closed stdout before listening".into(),
                };
                let status = managed.stop().ok().flatten();
                bail!(
                    "broker {why} ({}); its output:\n{}",
                    status.map_or_else(|| "killed".into(), |s| s.to_string()),
                    log_tail(&managed.log_path)
                );
            }
        };
        let sock = addr
            .parse::<SocketAddr>()
            .with_context(|| format!("broker announced an unparsable address {addr:?}"))?;
        if opts.security == Security::Plaintext {
            wait_api_versions(&mut managed, sock, spawned + STARTUP_TIMEOUT)?;
        }
        Self::started(managed, addr, spawned.elapsed())
    }

    /// A broker this program spawned, answering on `bootstrap` after `startup`: takes
    /// its idle RSS after [`IDLE_SETTLE`].
    pub(crate) fn started(managed: Managed, bootstrap: String, startup: Duration) -> Result<Self> {
        let probe = ProcessProbe::new(managed.child.id())?;
        thread::sleep(IDLE_SETTLE);
        let idle_rss_bytes = Some(probe.rss_bytes()?);
        Ok(Self {
            bootstrap,
            probe: Some(probe),
            idle_rss_bytes,
            startup: Some(startup),
            managed: Some(managed),
        })
    }

    /// Time from spawning the broker until its listener answered an `ApiVersions` request
    /// (`None` for an external broker, or a non-plaintext listener).
    pub fn startup(&self) -> Option<Duration> {
        self.startup
    }

    /// The `bootstrap.servers` value for clients.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The broker's data directory, when the bench started the broker.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.managed
            .as_ref()
            .and_then(|m| m.dir.as_ref())
            .map(|d| d.path().join("data"))
    }

    /// The CPU/memory probe, if the broker's PID is known.
    pub fn probe(&self) -> Option<&ProcessProbe> {
        self.probe.as_ref()
    }

    /// RSS of the broker before any client traffic.
    pub fn idle_rss_bytes(&self) -> Option<u64> {
        self.idle_rss_bytes
    }

    /// Whether this program started the broker.
    pub fn is_managed(&self) -> bool {
        self.managed.is_some()
    }

    /// Fails if a broker we started has died, quoting its last output.
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(m) = &mut self.managed {
            if let Some(status) = m.child.try_wait()? {
                bail!(
                    "the broker exited unexpectedly ({status}); its output:\n{}",
                    log_tail(&m.log_path)
                );
            }
        }
        Ok(())
    }

    /// Stops a broker we started (SIGTERM, then wait) and removes its data.
    pub fn shutdown(mut self) -> Result<()> {
        if let Some(mut m) = self.managed.take() {
            match m.stop()? {
                // A JVM (Kafka) exits with 128 + SIGTERM on a clean shutdown.
                Some(status) if !status.success() && status.code() != Some(143) => {
                    log::warn!("broker exited with {status} after SIGTERM");
                }
                Some(_) => {}
                None => log::warn!("broker had to be killed"),
            }
            if let Some(dir) = m.dir.take() {
                dir.close().context("removing the broker's temp dir")?;
            }
        }
        Ok(())
    }
}

/// Waits until the broker at `addr` answers an `ApiVersions` v0 request, the first
/// request every Kafka client sends (KIP-35), so "started" means "serves clients", not
/// just "the port accepts connections" (Kafka binds its socket before it handles
/// requests). Fails if the broker exits or `deadline` passes first.
pub(crate) fn wait_api_versions(
    managed: &mut Managed,
    addr: SocketAddr,
    deadline: Instant,
) -> Result<()> {
    loop {
        if let Some(status) = managed.child.try_wait()? {
            bail!(
                "the broker exited at start-up ({status}); its output:\n{}",
                log_tail(&managed.log_path)
            );
        }
        if api_versions_answered(addr, deadline) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let _ = managed.stop();
            bail!(
                "the broker did not answer ApiVersions on {addr} in time; its output:\n{}",
                log_tail(&managed.log_path)
            );
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// One `ApiVersions` v0 round trip (request header v1, client id `klamm-bench`): whether a
/// response with our correlation id and error code 0 came back before `deadline`.
fn api_versions_answered(addr: SocketAddr, deadline: Instant) -> bool {
    const CORRELATION_ID: i32 = 0x6b6c_616d;
    const CLIENT_ID: &[u8] = b"klamm-bench";
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else {
        return false;
    };
    let wait = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    if stream.set_read_timeout(Some(wait)).is_err() {
        return false;
    }
    let mut request = Vec::with_capacity(4 + 10 + CLIENT_ID.len());
    let body_len = 2 + 2 + 4 + 2 + CLIENT_ID.len();
    request.extend_from_slice(&i32::try_from(body_len).unwrap_or(0).to_be_bytes());
    request.extend_from_slice(&18i16.to_be_bytes()); // ApiVersions
    request.extend_from_slice(&0i16.to_be_bytes()); // v0
    request.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    request.extend_from_slice(&i16::try_from(CLIENT_ID.len()).unwrap_or(0).to_be_bytes());
    request.extend_from_slice(CLIENT_ID);
    if stream.write_all(&request).is_err() {
        return false;
    }
    let mut head = [0u8; 10]; // size, correlation id, error code
    if stream.read_exact(&mut head).is_err() {
        return false;
    }
    head[4..8] == CORRELATION_ID.to_be_bytes() && head[8..10] == [0, 0]
}

/// The last lines of the broker's log, for error messages.
pub(crate) fn log_tail(path: &Path) -> String {
    const LINES: usize = 30;
    match fs::read_to_string(path) {
        Ok(text) => {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(LINES)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
