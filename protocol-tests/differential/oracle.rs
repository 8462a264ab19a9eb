//! A real Apache Kafka broker: one KRaft combined-mode node (`process.roles=broker,controller`)
//! on free loopback ports, with a small heap and a temporary log directory, formatted as a fresh
//! Kafka 4.1 cluster is (`kafka-storage format --standalone`), with share groups on
//! (`--feature share.version=1`). Its class path is the one
//! `protocol-tests/run-all` resolves with Maven (`protocol-tests/differential/kafka/pom.xml`)
//! into `target/kafka/kafka.classpath`. Killed when dropped (its data is thrown away).

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Kafka may take to listen (it takes 2-5 s on an idle machine).
const START_TIMEOUT: Duration = Duration::from_secs(120);

pub struct Kafka {
    dir: tempfile::TempDir,
    child: Child,
    pub addr: SocketAddr,
}

/// The node id Kafka runs with: Klamm's default `node.id`, so ids in answers compare equal.
pub const NODE_ID: i32 = 0;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("binding a free port: {e}"))
}

pub fn classpath_file() -> PathBuf {
    match std::env::var_os("KLAMM_KAFKA_CLASSPATH") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("target/kafka/kafka.classpath"),
    }
}

impl Kafka {
    /// Formats and starts the broker; returns once its client listener accepts connections.
    pub fn start(broker_settings: &[(&str, &str)]) -> Kafka {
        let cp_file = classpath_file();
        let cp = std::fs::read_to_string(&cp_file).unwrap_or_else(|e| {
            panic!(
                "Apache Kafka's class path {} is missing ({e}): run `protocol-tests/run-all \
                 --install-only` first, which resolves Kafka with Maven",
                cp_file.display()
            )
        });
        let cp = cp.trim().to_string();
        let dir = tempfile::Builder::new()
            .prefix("klamm-oracle-kafka-")
            .tempdir()
            .expect("temp dir");
        let (port, cport) = (free_port(), free_port());
        let logs = dir.path().join("logs");
        let data = dir.path().join("data");
        std::fs::create_dir_all(&logs).expect("logs dir");
        let mut props = format!(
            "process.roles=broker,controller\n\
             node.id={NODE_ID}\n\
             controller.quorum.bootstrap.servers=127.0.0.1:{cport}\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{cport}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             controller.listener.names=CONTROLLER\n\
             inter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             log.dirs={}\n",
            data.display()
        );
        for (k, v) in broker_settings {
            props.push_str(&format!("{k}={v}\n"));
        }
        let props_path = dir.path().join("server.properties");
        std::fs::write(&props_path, props).expect("server.properties");
        let log4j = dir.path().join("log4j2.properties");
        std::fs::write(
            &log4j,
            format!(
                "rootLogger.level = INFO\n\
                 rootLogger.appenderRef.f.ref = F\n\
                 appender.f.type = File\n\
                 appender.f.name = F\n\
                 appender.f.fileName = {}/server.log\n\
                 appender.f.layout.type = PatternLayout\n\
                 appender.f.layout.pattern = [%d] %p %m (%c)%n\n",
                logs.display()
            ),
        )
        .expect("log4j2.properties");

        let java = |main: &str| {
            let mut c = Command::new("java");
            c.args([
                "-Xms128m",
                "-Xmx512m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
            ])
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg(format!("-Dkafka.logs.dir={}", logs.display()))
            .arg("-cp")
            .arg(&cp)
            .arg(main);
            c
        };
        let out = java("kafka.tools.StorageTool")
            .args([
                "format",
                "--standalone",
                "-t",
                "MkU3OEVBNTcwNTJENDM2Qg",
                // Share groups (KIP-932) are off in a fresh 4.1 cluster (share.version 0);
                // Klamm serves them, so the oracle is formatted with them on.
                "--feature",
                "share.version=1",
                "-c",
            ])
            .arg(&props_path)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("running java (kafka-storage format): {e}"));
        assert!(
            out.status.success(),
            "kafka-storage format failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = File::create(dir.path().join("kafka.stdout")).expect("stdout file");
        let stderr = stdout.try_clone().expect("stderr file");
        let child = java("kafka.Kafka")
            .arg(&props_path)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("starting java (kafka.Kafka): {e}"));
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
        let mut k = Kafka { dir, child, addr };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if let Ok(Some(status)) = k.child.try_wait() {
                panic!("Kafka exited with {status} at start-up:\n{}", k.log_tail());
            }
            assert!(
                Instant::now() < deadline,
                "Kafka did not listen on {addr} within {START_TIMEOUT:?}:\n{}",
                k.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        k
    }

    /// The last lines of Kafka's server.log and stdout.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for f in ["logs/server.log", "kafka.stdout"] {
            let text = std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- {f} (last 40 lines)\n"));
            for l in &lines[lines.len().saturating_sub(40)..] {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

impl Drop for Kafka {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
