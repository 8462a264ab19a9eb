"""Shared helpers for Klamm's third-party-client tests.

- `Broker`: starts `klamm serve` on a fresh data dir and a free loopback port, parses the
  ready line, keeps stderr in a log file, and stops it with SIGTERM / SIGKILL.
- `Rec` / `gen_records`: deterministic test records (keys, null keys, null and empty values,
  binary bytes, headers incl. repeated names, empty and null header values, timestamps).
- `assert_same_records`: compares what a client read back with what was produced:
  per partition, in order, offsets consecutive from a base, keys, values, headers, timestamps.
- confluent-kafka helpers (`cf_*`) used by several test modules as the reference client.

Every wait is bounded (TIMEOUT seconds at most) and polls with short intervals.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

REPO_ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = float(os.environ.get("KLAMM_TEST_TIMEOUT", "30"))
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
READY_RE = re.compile(r"klamm listening on (\S+) \(advertised as (\S+)\)")
HTTP_RE = re.compile(r"klamm http on (\S+)")


# Kafka's retriable coordinator errors (RetriableException subclasses): NOT_COORDINATOR,
# COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE. librdkafka's KafkaError.retriable() is
# false for them when a synchronous call (commit, committed) gives up.
COORDINATOR_RETRIABLE = {16, 14, 15}


def coordinator_retriable(err) -> bool:
    return err.retriable() or err.code() in COORDINATOR_RETRIABLE


def klamm_bin() -> Path:
    return Path(os.environ.get("KLAMM_BIN", REPO_ROOT / "target" / "release" / "klamm"))


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(pred, timeout: float = TIMEOUT, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------------------
# Broker process
# --------------------------------------------------------------------------------------

# Brokers whose stderr tail is attached to a failing test's report (see conftest.py).
LIVE_BROKERS: list["Broker"] = []


class _BrokerProcess:
    """What Broker (Klamm) and KafkaBroker share: a child process with a stderr log and a
    temporary root directory (`proc`, `stderr_path`, `root`)."""

    def _mark(self, what: str) -> None:
        with open(self.stderr_path, "ab") as err:
            err.write(f"===== test harness: {what} -> pid {self.proc.pid}\n".encode())

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self) -> None:
        if self.running():
            self.proc.kill()
            self.proc.wait(10)
        if self in LIVE_BROKERS:
            LIVE_BROKERS.remove(self)
        if not os.environ.get("KLAMM_KEEP_TMP"):
            shutil.rmtree(self.root, ignore_errors=True)


class Broker(_BrokerProcess):
    """One `klamm serve` process (restartable on the same data dir)."""

    kind = "klamm"
    # What SIGTERM must end with: exit code 0 (Klamm's shutdown flushes and exits 0).
    CLEAN_EXIT_CODES = (0,)

    def __init__(self, overrides: Iterable[str] = (), name: str = "klamm", args: Iterable[str] = ()):
        self.overrides = list(overrides)
        self.args = list(args)  # extra `klamm serve` flags, e.g. --dev-security
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.data_dir = self.root / "data"
        self.data_dir.mkdir()
        self.stderr_path = self.root / "klamm.stderr.log"
        self.stdout_path = self.root / "klamm.stdout.log"
        self.proc: Optional[subprocess.Popen] = None
        self.bootstrap: Optional[str] = None
        self.http: Optional[str] = None  # HOST:PORT of /metrics and /health
        self.advertised: Optional[str] = None
        self.starts = 0
        self.exit_codes: list[int] = []
        LIVE_BROKERS.append(self)

    def listener(self, name: str) -> str:
        """HOST:PORT of the listener NAME, from its `klamm listener NAME (...) on ADDR` line of
        the latest start."""
        text = self.stdout_path.read_text(errors="replace")
        found = re.findall(rf"klamm listener {re.escape(name)} \(\w+\) on (\S+)", text)
        assert found, f"no listener {name} in the broker's output:\n{text[-2000:]}"
        return found[-1]

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> "Broker":
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        binary = klamm_bin()
        if not binary.is_file():
            raise AssertionError(
                f"klamm binary not found at {binary} (build it with `cargo build --release` "
                f"or point KLAMM_BIN at it)"
            )
        cmd = [str(binary), "serve", "--data-dir", str(self.data_dir),
               "--listen", f"127.0.0.1:{getattr(self, 'listen_port', 0)}"]
        # The HTTP endpoint (/metrics, /health) defaults to a fixed port (9644); an ephemeral one
        # lets several brokers run side by side. KLAMM_TEST_HTTP_LISTEN="" leaves the default.
        http = os.environ.get("KLAMM_TEST_HTTP_LISTEN", "127.0.0.1:0")
        if http:
            cmd += ["--http-listen", http]
        for o in self.overrides:
            cmd += ["--override", o]
        cmd += self.args
        self.starts += 1
        with open(self.stderr_path, "ab") as err:
            err.write(f"\n===== start #{self.starts}: {' '.join(cmd)}\n".encode())
            err.flush()
            # Hermetic: the broker reads KLAMM_* variables as settings, so none of the caller's
            # (KLAMM_BIN, KLAMM_TEST_TIMEOUT, ...) leak in; only the command line configures it.
            env = {k: v for k, v in os.environ.items() if not k.startswith("KLAMM_")}
            env.setdefault("RUST_BACKTRACE", "1")
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err, env=env
            )
        ready = threading.Event()
        # The HTTP endpoint (/metrics, /health) is up before log recovery, so before `ready`.
        http_seen = threading.Event()
        self.http_seen = http_seen
        found: dict = {}
        self.found = found
        proc = self.proc
        stdout_path = self.stdout_path

        def pump():
            # Reads stdout for the whole life of the process so it can never block on a full pipe.
            with open(stdout_path, "ab") as out:
                for raw in iter(proc.stdout.readline, b""):
                    out.write(raw)
                    out.flush()
                    if not ready.is_set():
                        h = HTTP_RE.search(raw.decode("utf-8", "replace"))
                        if h:
                            found["http"] = h.group(1)
                            http_seen.set()
                        m = READY_RE.search(raw.decode("utf-8", "replace"))
                        if m:
                            found["listen"], found["advertised"] = m.group(1), m.group(2)
                            ready.set()
            ready.set()

        threading.Thread(target=pump, name=f"klamm-stdout-{proc.pid}", daemon=True).start()
        if not ready.wait(TIMEOUT) or "listen" not in found:
            rc = proc.poll()
            if rc is None:
                proc.kill()
                proc.wait(10)
            raise AssertionError(
                f"klamm did not print its ready line within {TIMEOUT}s (exit code {proc.poll()}).\n"
                f"stdout:\n{self._tail(self.stdout_path)}\nstderr:\n{self.stderr_tail()}"
            )
        self.bootstrap = found["listen"]
        self.advertised = found["advertised"]
        self.http = found.get("http")
        return self

    def stop(self, timeout: float = TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (SIGKILLs and raises if it does not exit)."""
        p = self.proc
        if p is None or p.poll() is not None:
            return p.returncode if p is not None else 0
        self._mark("SIGTERM")
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            raise AssertionError(f"klamm did not exit within {timeout}s of SIGTERM")
        self.exit_codes.append(rc)
        return rc

    def kill9(self) -> None:
        p = self.proc
        assert p is not None and p.poll() is None, "broker not running"
        self._mark("SIGKILL (kill -9)")
        p.send_signal(signal.SIGKILL)
        p.wait(TIMEOUT)
        self.exit_codes.append(p.returncode)

    def restart(self, kill: bool = False, same_port: bool = False) -> "Broker":
        """Stops (SIGTERM, or kill -9) and starts again on the same data dir; with `same_port`
        the listener binds the port it had, so running clients reconnect by themselves."""
        port = self.port if same_port else 0
        if kill:
            self.kill9()
        else:
            rc = self.stop()
            assert rc == 0, f"klamm exited with code {rc} on SIGTERM (expected 0)"
        self.listen_port = port
        try:
            return self.start()
        finally:
            self.listen_port = 0

    # -- logs ----------------------------------------------------------------------------
    @staticmethod
    def _tail(path: Path, lines: int = 80) -> str:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return "(no file)"
        text = ANSI_RE.sub("", data[-64 * 1024 :].decode("utf-8", "replace"))
        return "\n".join(text.splitlines()[-lines:])

    def stderr_tail(self, lines: int = 80) -> str:
        return self._tail(self.stderr_path, lines)

    @property
    def host(self) -> str:
        return self.bootstrap.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------

Header = tuple  # (str, Optional[bytes])


@dataclass(frozen=True)
class Rec:
    partition: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: tuple = ()
    timestamp: Optional[int] = None  # ms; None = let the client pick "now"


@dataclass
class Got:
    partition: int
    offset: int
    key: Optional[bytes]
    value: Optional[bytes]
    headers: tuple = ()
    timestamp: Optional[int] = None
    timestamp_type: Optional[str] = None  # "create" | "append" | None
    extra: dict = field(default_factory=dict)


def now_ms() -> int:
    return int(time.time() * 1000)


def gen_records(
    per_partition: int,
    partitions: int = 3,
    *,
    seed: int = 1,
    ascii_only: bool = False,
    null_header_values: bool = True,
    with_timestamps: bool = True,
    headers: bool = True,
    both_null: bool = True,
) -> list[Rec]:
    """Records interleaved round-robin over the partitions, in produce order.

    Per partition index i: every 5th record has a null key, i % 7 == 3 a null value (both null
    at i = 10, 45, ... unless both_null=False, which gives those records a key),
    i % 11 == 4 an empty (non-null) value; headers cycle through none / one / repeated
    names + binary / empty + null values. Header names are never numeric and repeated
    names are adjacent (kafkajs carries headers as an object).
    """
    rnd = random.Random(seed)
    base_ts = now_ms() - 60_000
    out = []
    for i in range(per_partition):
        for p in range(partitions):
            if i % 5 == 0:
                key = None
            elif ascii_only:
                key = f"key-{p}-{i}".encode()
            else:
                key = b"k\x00" + bytes([p, i % 256]) + f"-{i}".encode() + b"\xff"
            if i % 7 == 3:
                value = None
            elif i % 11 == 4:
                value = b""
            elif ascii_only:
                value = (f"value-{p}-{i}-" + "abc" * (i % 40)).encode()
            else:
                n = rnd.randrange(1, 400)
                value = bytes(rnd.randrange(256) for _ in range(n // 3)) + b"repetitive " * (n // 20) + b"\x00\xff"
            hdrs: tuple = ()
            if headers:
                kind = i % 4
                if kind == 1:
                    hdrs = (("trace-id", f"t-{p}-{i}".encode()),)
                elif kind == 2:
                    hdrs = (("dup", b"first"), ("dup", b"second"), ("bin", b"\x00\x01\xfe\xff" if not ascii_only else b"bin"))
                elif kind == 3:
                    hdrs = (("empty", b""),) + ((("nullh", None),) if null_header_values else ())
            if key is None and value is None and not both_null:
                key = f"key-{p}-{i}".encode()
            ts = base_ts + i * 3 + p if with_timestamps else None
            out.append(Rec(p, key, value, hdrs, ts))
    return out


def large_records(partitions: int = 3, size: int = 900_000, seed: int = 7) -> list[Rec]:
    rnd = random.Random(seed)
    recs = []
    for p in range(partitions):
        for i in range(2):
            recs.append(
                Rec(p, f"large-{p}-{i}".encode(), rnd.randbytes(size), (("size", str(size).encode()),), now_ms())
            )
    return recs


def _short(v) -> str:
    if v is None:
        return "None"
    if isinstance(v, (bytes, bytearray)):
        return repr(bytes(v[:40])) + (f"...({len(v)} bytes)" if len(v) > 40 else "")
    return repr(v)


def group_by_partition(items) -> dict:
    out: dict = {}
    for it in items:
        out.setdefault(it.partition, []).append(it)
    return out


def assert_same_records(
    expected: list[Rec],
    got: dict | list,
    *,
    base_offsets: Optional[dict] = None,
    check_timestamps: bool = True,
    ts_window: Optional[tuple] = None,
    check_headers: bool = True,
    client: str = "",
):
    """`got` is {partition: [Got...]} or a flat list of Got (in the order the client returned them).

    Asserts, per partition: same count; offsets consecutive from base (0 by default); for each
    record the same key, value, headers and, when the record has an explicit timestamp, the same
    CreateTime. Records with timestamp None must have a timestamp inside `ts_window` if given.
    """
    if isinstance(got, list):
        got = group_by_partition(got)
    exp_by_p = group_by_partition(expected)
    problems = []
    extra_parts = set(got) - set(exp_by_p)
    for p in extra_parts:
        if got[p]:
            problems.append(f"partition {p}: {len(got[p])} unexpected records")
    for p, exp in sorted(exp_by_p.items()):
        g = got.get(p, [])
        base = (base_offsets or {}).get(p, 0)
        if len(g) != len(exp):
            problems.append(f"partition {p}: expected {len(exp)} records, got {len(g)}")
        for i, (e, r) in enumerate(zip(exp, g)):
            diffs = []
            if r.offset != base + i:
                diffs.append(f"offset {r.offset} != {base + i}")
            if r.key != e.key:
                diffs.append(f"key {_short(r.key)} != {_short(e.key)}")
            if r.value != e.value:
                diffs.append(f"value {_short(r.value)} != {_short(e.value)}")
            if check_headers and tuple(tuple(h) for h in r.headers) != tuple(e.headers):
                diffs.append(f"headers {r.headers!r} != {e.headers!r}")
            if check_timestamps:
                if e.timestamp is not None:
                    if r.timestamp != e.timestamp:
                        diffs.append(f"timestamp {r.timestamp} != {e.timestamp}")
                    if r.timestamp_type not in (None, "create"):
                        diffs.append(f"timestamp type {r.timestamp_type} != create")
                elif ts_window is not None:
                    lo, hi = ts_window
                    if r.timestamp is None or not (lo <= r.timestamp <= hi):
                        diffs.append(f"timestamp {r.timestamp} outside [{lo}, {hi}]")
            if diffs:
                problems.append(f"partition {p} record #{i}: " + "; ".join(diffs))
            if len(problems) > 15:
                break
    if problems:
        head = f"[{client}] " if client else ""
        raise AssertionError(head + "records read back differ from records produced:\n  " + "\n  ".join(problems[:20]))


# --------------------------------------------------------------------------------------
# confluent-kafka (librdkafka) helpers — the reference client
# --------------------------------------------------------------------------------------


def cf_create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    futs = admin.create_topics(
        [NewTopic(topic, num_partitions=partitions, replication_factor=1)],
        operation_timeout=10,
        request_timeout=TIMEOUT,
    )
    futs[topic].result(timeout=TIMEOUT)
    cf_wait_partitions(bootstrap, topic, partitions)


def cf_wait_partitions(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})

    def ok():
        md = admin.list_topics(topic, timeout=5)
        t = md.topics.get(topic)
        return t is not None and t.error is None and len(t.partitions) == partitions

    wait_until(ok, what=f"metadata for {topic} with {partitions} partitions")


def cf_producer(bootstrap: str, **conf):
    from confluent_kafka import Producer

    base = {
        "bootstrap.servers": bootstrap,
        "linger.ms": 5,
        "message.timeout.ms": int(TIMEOUT * 1000),
        "socket.timeout.ms": 10000,
    }
    base.update(conf)
    return Producer(base)


def cf_produce(bootstrap: str, topic: str, recs: list[Rec], **conf) -> list:
    """Produces `recs` (explicit partitions) and returns [(partition, offset, error)] per record."""
    producer = cf_producer(bootstrap, **conf)
    results: list = [None] * len(recs)

    def cb_for(idx):
        def cb(err, msg):
            results[idx] = (msg.partition(), msg.offset(), err)

        return cb

    for idx, r in enumerate(recs):
        kwargs = dict(value=r.value, key=r.key, partition=r.partition, on_delivery=cb_for(idx))
        if r.headers:
            kwargs["headers"] = list(r.headers)
        if r.timestamp is not None:
            kwargs["timestamp"] = r.timestamp
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                producer.produce(topic, **kwargs)
                break
            except BufferError:
                if time.monotonic() > deadline:
                    raise
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(TIMEOUT)
    assert remaining == 0, f"{remaining} messages still undelivered after {TIMEOUT}s"
    missing = [i for i, x in enumerate(results) if x is None]
    assert not missing, f"no delivery report for records {missing[:10]}"
    return results


def cf_assert_delivered(results: list, recs: list[Rec], *, offsets_known: bool = True, base: Optional[dict] = None):
    errors = [(i, e) for i, (_, _, e) in enumerate(results) if e is not None]
    assert not errors, f"delivery errors: {errors[:5]}"
    if offsets_known:
        nxt = dict(base or {})
        for r, (p, off, _) in zip(recs, results):
            assert p == r.partition
            exp = nxt.get(p, 0)
            assert off == exp, f"delivery report offset {off} on partition {p}, expected {exp}"
            nxt[p] = exp + 1


def cf_consumer(bootstrap: str, **conf):
    from confluent_kafka import Consumer

    base = {
        "bootstrap.servers": bootstrap,
        # Consumer groups are a later issue: a dummy group.id satisfies the client, and only
        # assign() is used, with no commits.
        "group.id": "klamm-test-unused-group",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
        "socket.timeout.ms": 10000,
    }
    base.update(conf)
    return Consumer(base)


def cf_consume(bootstrap: str, topic: str, partitions: Iterable[int], expected: Optional[dict] = None, **conf) -> dict:
    """Reads partitions from the beginning until EOF (and at least `expected[p]` records).

    Returns {partition: [Got]} in the order the client delivered them.
    """
    from confluent_kafka import OFFSET_BEGINNING, TIMESTAMP_CREATE_TIME, TIMESTAMP_LOG_APPEND_TIME, KafkaError, TopicPartition

    partitions = list(partitions)
    consumer = cf_consumer(bootstrap, **conf)
    got: dict = {p: [] for p in partitions}
    at_eof: set = set()
    errors: list = []
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + TIMEOUT

        def done(p):
            return p in at_eof and (expected is None or len(got[p]) >= expected.get(p, 0))

        while not all(done(p) for p in partitions):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"confluent-kafka consume of {topic} timed out: got "
                    f"{ {p: len(v) for p, v in got.items()} }, expected {expected}, eof {sorted(at_eof)}, "
                    f"errors {errors[-5:]}"
                )
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    at_eof.add(msg.partition())
                    continue
                if err.fatal():
                    raise AssertionError(f"fatal consumer error: {err}")
                errors.append(str(err))
                continue
            at_eof.discard(msg.partition())
            ts_type, ts = msg.timestamp()
            got[msg.partition()].append(
                Got(
                    partition=msg.partition(),
                    offset=msg.offset(),
                    key=msg.key(),
                    value=msg.value(),
                    headers=tuple(msg.headers() or ()),
                    timestamp=ts,
                    timestamp_type={TIMESTAMP_CREATE_TIME: "create", TIMESTAMP_LOG_APPEND_TIME: "append"}.get(ts_type),
                )
            )
    finally:
        consumer.close()
    return got


def cf_watermarks(bootstrap: str, topic: str, partition: int) -> tuple:
    from confluent_kafka import TopicPartition

    consumer = cf_consumer(bootstrap)
    try:
        return consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=TIMEOUT)
    finally:
        consumer.close()


def cf_roundtrip_smoke(bootstrap: str, n: int = 20) -> None:
    """Creates a fresh 1-partition topic, produces n records acks=all and reads them back."""
    topic = unique_topic("smoke")
    recs = gen_records(n, partitions=1, seed=99)
    res = cf_produce(bootstrap, topic, recs, acks="all")
    cf_assert_delivered(res, recs)
    got = cf_consume(bootstrap, topic, [0], expected={0: n})
    assert_same_records(recs, got, client="confluent-kafka smoke")


# --------------------------------------------------------------------------------------
# Apache Kafka as the broker under test (`pytest --broker=kafka`, KLAMM_TEST_BROKER=kafka)
# --------------------------------------------------------------------------------------

# Which broker the fixtures start: "klamm" (default) or "kafka". conftest.py sets it from
# --broker; the environment variable is the default of that option.
BROKER_KIND = os.environ.get("KLAMM_TEST_BROKER", "klamm")

# Settings the tests pass that only Klamm has (Kafka has no such name): a test that needs one
# asserts Klamm behaviour and is marked `klamm_only`; KafkaBroker refuses them rather than let
# Kafka start without the setting the test relies on.
KLAMM_ONLY_SETTINGS = {
    "log.flush.before.ack",
    "metrics.enable",
    "metrics.partition.series.enable",
}

# What a single Kafka KRaft node needs beyond its defaults (its internal topics with one replica,
# as Klamm's are by construction) and no initial rebalance delay (as the differential oracle,
# protocol-tests/differential/oracle.rs, runs it). A test's overrides come after and win.
KAFKA_BASE_SETTINGS = {
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
}

# Features `kafka-storage format` turns on beyond the release's defaults: share groups (KIP-932,
# a preview in 4.1 that is off unless formatted with share.version=1), which Klamm serves.
KAFKA_FORMAT_FEATURES = ["share.version=1"]

# Klamm's documented default for SASL listeners (config/klamm.toml): Kafka's default is GSSAPI,
# which Klamm does not serve, so a SASL test that does not name its mechanisms gets Klamm's set.
KLAMM_SASL_MECHANISMS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"

# The node id Kafka runs with: Klamm's default `node.id`.
KAFKA_NODE_ID = 0


def kafka_classpath_file() -> Path:
    return Path(os.environ.get("KLAMM_KAFKA_CLASSPATH", REPO_ROOT / "target" / "kafka" / "kafka.classpath"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KafkaBroker(_BrokerProcess):
    """One Apache Kafka 4.1 KRaft combined-mode node (`process.roles=broker,controller`) with the
    same interface as `Broker`: free loopback ports (kept across restarts), a data dir
    (`log.dirs`) formatted once with `kafka-storage format --standalone`, a small heap, log4j2
    writing to a file. The class path is the one protocol-tests/run-all resolves with Maven into
    target/kafka/kafka.classpath (as for the differential tests)."""

    kind = "kafka"
    # Kafka's JVM ends on SIGTERM through its shutdown hook with the JVM's status for a
    # terminating signal, 128 + 15, after a clean controlled shutdown.
    CLEAN_EXIT_CODES = (0, 143)

    def __init__(self, overrides: Iterable[str] = (), name: str = "kafka", args: Iterable[str] = ()):
        if list(args):
            raise AssertionError(f"`klamm serve` flags {list(args)} have no Kafka equivalent (mark the test klamm_only)")
        self.overrides = list(overrides)
        self.root = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.data_dir = self.root / "data"
        self.logs_dir = self.root / "logs"
        self.logs_dir.mkdir()
        self.server_log = self.logs_dir / "server.log"
        # The JVM's stdout+stderr and the harness marks; stderr_tail() adds server.log.
        self.stderr_path = self.root / "kafka.stdout.log"
        self.stdout_path = self.stderr_path
        self.proc: Optional[subprocess.Popen] = None
        self.http: Optional[str] = None  # Kafka has no /metrics or /health endpoint
        self.starts = 0
        self.exit_codes: list[int] = []
        self.cluster_id = _kafka_uuid()
        self.controller_port = free_port()
        self.listeners = self._listeners()  # [(name, protocol, port)]
        name0, _, port0 = self.listeners[0]
        self.bootstrap = f"127.0.0.1:{port0}"
        self.advertised = self.bootstrap
        self.props_path = self.root / "server.properties"
        self.props_path.write_text(self._properties())
        self.log4j_path = self.root / "log4j2.properties"
        self.log4j_path.write_text(
            "rootLogger.level = INFO\n"
            "rootLogger.appenderRef.f.ref = F\n"
            "appender.f.type = File\n"
            "appender.f.name = F\n"
            f"appender.f.fileName = {self.server_log}\n"
            "appender.f.layout.type = PatternLayout\n"
            "appender.f.layout.pattern = [%d] %p %m (%c)%n\n"
        )
        self.formatted = False
        LIVE_BROKERS.append(self)

    # -- configuration -------------------------------------------------------------------
    def _settings(self) -> dict:
        out = {}
        for o in self.overrides:
            k, sep, v = o.partition("=")
            assert sep, f"override {o!r} is not key=value"
            if k in KLAMM_ONLY_SETTINGS:
                raise AssertionError(f"{k} is a Klamm-only setting (mark the test klamm_only)")
            out[k] = v
        return out

    def _listeners(self) -> list:
        spec = self._settings().get("listeners", "PLAINTEXT://127.0.0.1:0")
        out = []
        for item in spec.split(","):
            m = re.fullmatch(r"\s*([A-Za-z0-9_]+)://([^:]*):(\d+)\s*", item)
            assert m, f"cannot read listener {item!r}"
            name, port = m.group(1).upper(), int(m.group(3))
            out.append((name, name, port or free_port()))
        return out

    def _properties(self) -> str:
        settings = dict(KAFKA_BASE_SETTINGS)
        user = self._settings()
        user.pop("listeners", None)
        user.pop("advertised.listeners", None)
        protocols = {n: p for n, p, _ in self.listeners}
        listeners = ",".join(f"{n}://127.0.0.1:{port}" for n, _, port in self.listeners)
        pmap = ",".join(f"{n}:{p}" for n, p in protocols.items())
        settings.update({
            "process.roles": "broker,controller",
            "node.id": str(KAFKA_NODE_ID),
            "controller.quorum.bootstrap.servers": f"127.0.0.1:{self.controller_port}",
            "listeners": f"{listeners},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": listeners,
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": self.listeners[0][0],
            "listener.security.protocol.map": f"{pmap},CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.data_dir),
        })
        # Between Kafka's own listeners (inter-broker) a SASL listener would need client
        # credentials of its own; a plaintext one, when there is one, is used instead.
        for n, p, _ in self.listeners:
            if p == "PLAINTEXT":
                settings["inter.broker.listener.name"] = n
                break
        sasl = [n for n, p, _ in self.listeners if p.startswith("SASL_")]
        if sasl:
            mechs = user.get("sasl.enabled.mechanisms", KLAMM_SASL_MECHANISMS)
            settings["sasl.enabled.mechanisms"] = mechs
            for n in sasl:
                low = n.lower()
                for mech in mechs.split(","):
                    mech = mech.strip().lower()
                    jaas = {
                        "scram-sha-256": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                        "scram-sha-512": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                        "oauthbearer": "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;",
                    }.get(mech)
                    if jaas:
                        settings.setdefault(f"listener.name.{low}.{mech}.sasl.jaas.config", jaas)
        for k, v in user.items():
            settings[k] = v
        # Klamm reads PEM files by their content; Kafka is told the store type.
        for store in ("keystore", "truststore"):
            loc = settings.get(f"ssl.{store}.location", "")
            if loc.endswith(".pem"):
                settings.setdefault(f"ssl.{store}.type", "PEM")
        return "".join(f"{k}={v}\n" for k, v in settings.items())

    def listener(self, name: str) -> str:
        for n, _, port in self.listeners:
            if n == name.upper():
                return f"127.0.0.1:{port}"
        raise AssertionError(f"no listener {name} (listeners: {self.listeners})")

    # -- lifecycle ---------------------------------------------------------------------
    def _java(self, main: str) -> list:
        cp_file = kafka_classpath_file()
        if not cp_file.is_file():
            raise AssertionError(
                f"Apache Kafka's class path {cp_file} is missing: run `protocol-tests/run-all "
                f"--install-only` first, which resolves Kafka with Maven"
            )
        return ["java", "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={self.log4j_path}",
                f"-Dkafka.logs.dir={self.logs_dir}", "-cp", cp_file.read_text().strip(), main]

    def start(self) -> "KafkaBroker":
        assert self.proc is None or self.proc.poll() is not None, "broker already running"
        if not self.formatted:
            out = subprocess.run(
                self._java("kafka.tools.StorageTool")
                + ["format", "--standalone", "-t", self.cluster_id, "-c", str(self.props_path)]
                + [a for f in KAFKA_FORMAT_FEATURES for a in ("--feature", f)],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
            )
            assert out.returncode == 0, (
                f"kafka-storage format failed ({out.returncode}):\n{out.stdout.decode(errors='replace')}\n"
                f"{out.stderr.decode(errors='replace')}"
            )
            self.formatted = True
        self.starts += 1
        with open(self.stderr_path, "ab") as err:
            err.write(f"\n===== start #{self.starts}: kafka.Kafka {self.props_path}\n".encode())
            err.flush()
            self.proc = subprocess.Popen(
                self._java("kafka.Kafka") + [str(self.props_path)],
                stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
            )
        import socket

        deadline = time.monotonic() + max(TIMEOUT, 120)
        pending = [port for _, _, port in self.listeners]
        while pending:
            try:
                with socket.create_connection(("127.0.0.1", pending[0]), timeout=0.2):
                    pending.pop(0)
                    continue
            except OSError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError(f"Kafka exited with {self.proc.returncode} at start-up:\n{self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"Kafka did not listen on {pending} in time:\n{self.stderr_tail()}")
            time.sleep(0.1)
        return self

    def stop(self, timeout: float = TIMEOUT) -> int:
        """SIGTERM (Kafka's controlled shutdown) and wait; returns 0 for a clean shutdown
        (exit code in CLEAN_EXIT_CODES), else the exit code."""
        p = self.proc
        if p is None or p.poll() is not None:
            return p.returncode if p is not None else 0
        self._mark("SIGTERM")
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(max(timeout, 60))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
            raise AssertionError(f"Kafka did not exit within {timeout}s of SIGTERM")
        self.exit_codes.append(rc)
        return 0 if rc in self.CLEAN_EXIT_CODES else rc

    def kill9(self) -> None:
        p = self.proc
        assert p is not None and p.poll() is None, "broker not running"
        self._mark("SIGKILL (kill -9)")
        p.send_signal(signal.SIGKILL)
        p.wait(TIMEOUT)
        self.exit_codes.append(p.returncode)

    def restart(self, kill: bool = False, same_port: bool = False) -> "KafkaBroker":
        """Stops (SIGTERM, or kill -9) and starts the same configuration on the same data dir. As
        `Broker.restart`: with `same_port` the client listeners keep their ports (running clients
        reconnect by themselves), without it they move to fresh ones (a test may rely on running
        clients not following); the controller listener always keeps its port (the KRaft voter
        set names it)."""
        if kill:
            self.kill9()
        else:
            rc = self.stop()
            assert rc == 0, f"Kafka exited with code {rc} on SIGTERM\n{self.stderr_tail()}"
        if not same_port:
            self.listeners = [(n, p, free_port()) for n, p, _ in self.listeners]
            self.bootstrap = self.advertised = f"127.0.0.1:{self.listeners[0][2]}"
            self.props_path.write_text(self._properties())
        return self.start()

    def stderr_tail(self, lines: int = 80) -> str:
        return (f"--- {self.server_log}\n{Broker._tail(self.server_log, lines)}\n"
                f"--- {self.stderr_path}\n{Broker._tail(self.stderr_path, 20)}")

    @property
    def host(self) -> str:
        return self.bootstrap.rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bootstrap.rsplit(":", 1)[1])


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies, so a crashed pytest (a
    client library's segfault skips every teardown) leaves no 512 MB JVM behind (Linux
    PR_SET_PDEATHSIG; elsewhere nothing)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1
    except OSError:
        pass


def _kafka_uuid() -> str:
    import base64

    # As Kafka's Uuid.randomUuid: never one starting with "-" (a command line would read it as
    # an option).
    while True:
        u = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not u.startswith("-"):
            return u


def new_broker(overrides: Iterable[str] = (), name: str = "klamm", args: Iterable[str] = ()):
    """A `Broker` (klamm serve) or, under --broker=kafka, a `KafkaBroker`."""
    if BROKER_KIND == "kafka":
        return KafkaBroker(overrides, name=name.replace("klamm", "kafka", 1), args=args)
    return Broker(overrides, name=name, args=args)
