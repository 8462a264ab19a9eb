"""kcat (Debian's kcat 1.7.1 on librdkafka 2.0.x) against Klamm.

The module's broker runs with num.partitions=3, so kcat's topics auto-create with 3 partitions.
kcat produces line-wise ("key:value" with -K:), one kcat call per partition and header set
(-H applies to every message of a call); -Z turns empty keys/values into nulls. Consumption is
kcat's simple (group-less) consumer: -C -p N -o beginning -e, with -J for JSON output.
"""

import json
import random
import subprocess

import pytest

from klammtest import TIMEOUT, Got, Rec, assert_same_records, cf_consume, now_ms, unique_topic

KLAMM_OVERRIDES = ["num.partitions=3"]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]

# One kcat call per (partition, group). Each group: (extra kcat args, headers, use -Z).
GROUPS = [
    ([], (), False),
    (["-H", "trace-id=abc", "-H", "dup=first", "-H", "dup=second"], (("trace-id", b"abc"), ("dup", b"first"), ("dup", b"second")), False),
    (["-H", "empty=", "-H", "nullh"], (("empty", b""), ("nullh", None)), True),
]


def kcat(kcat_bin, bootstrap, *args, input=None, check=True, timeout=TIMEOUT + 30):
    cmd = [kcat_bin, "-b", bootstrap, "-X", "socket.timeout.ms=10000", *args]
    proc = subprocess.run(cmd, input=input, capture_output=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstderr:\n{proc.stderr.decode('utf-8', 'replace')[-3000:]}"
        )
    return proc


def group_records(p: int, g: int, n: int):
    """Lines for kcat and the records they must become."""
    _, headers, nulls = GROUPS[g]
    lines, recs = [], []
    for i in range(n):
        if nulls:
            kind = i % 4
            key = None if kind in (0, 2) else f"k{p}-{g}-{i}".encode()
            value = None if kind in (1, 2) else f"v{p}-{g}-{i}-".encode() + b"z" * i
            line = (key or b"") + b":" + (value or b"")
            if kind == 2:
                line = b":"  # null key and null value
        else:
            if i % 6 == 5:
                key, value, line = None, f"nokey-{p}-{g}-{i}".encode(), f"nokey-{p}-{g}-{i}".encode()
            elif i % 6 == 4:
                key, value = f"k{p}-{g}-{i}".encode(), b""
                line = key + b":"
            else:
                key = f"k{p}-{g}-{i}".encode()
                value = (f"value-{p}-{g}-{i}-" + "abcdef" * (i % 30)).encode()
                line = key + b":" + value
        lines.append(line)
        recs.append(Rec(p, key, value, headers, None))
    return lines, recs


def produce_all(kcat_bin, bootstrap, topic, codec, per_group=12, acks=None, extra=()):
    expected = []
    for p in range(3):
        for g, (hargs, _, nulls) in enumerate(GROUPS):
            lines, recs = group_records(p, g, per_group)
            args = ["-P", "-t", topic, "-p", str(p), "-K", ":", "-z", codec, *hargs, *extra]
            if nulls:
                args.append("-Z")
            if acks is not None:
                args += ["-X", f"acks={acks}"]
            kcat(kcat_bin, bootstrap, *args, input=b"\n".join(lines) + b"\n")
            expected += recs
    return expected


def consume_partition(kcat_bin, bootstrap, topic, p):
    proc = kcat(kcat_bin, bootstrap, "-C", "-t", topic, "-p", str(p), "-o", "beginning", "-e", "-J", "-q")
    out = []
    for line in proc.stdout.decode("utf-8").splitlines():
        if not line.strip():
            continue
        m = json.loads(line)
        h = m.get("headers") or []
        out.append(
            Got(
                partition=m["partition"],
                offset=m["offset"],
                key=None if m["key"] is None else m["key"].encode(),
                value=None if m["payload"] is None else m["payload"].encode(),
                headers=tuple((h[i], None if h[i + 1] is None else h[i + 1].encode()) for i in range(0, len(h), 2)),
                timestamp=m.get("ts"),
                timestamp_type=m.get("tstype"),
            )
        )
    return out


def consume_all(kcat_bin, bootstrap, topic):
    got = []
    for p in range(3):
        got += consume_partition(kcat_bin, bootstrap, topic, p)
    return got


def test_metadata_list(kcat_bin, broker, bootstrap):
    topic = unique_topic("kcat-md")
    kcat(kcat_bin, bootstrap, "-P", "-t", topic, "-p", "0", input=b"hello\n")
    proc = kcat(kcat_bin, bootstrap, "-L")
    text = proc.stdout.decode()
    assert " 1 brokers:" in text, text
    host, port = broker.advertised.rsplit(":", 1)
    assert f"at {host}:{port}" in text, text
    assert f'topic "{topic}" with 3 partitions:' in text, text

    md = json.loads(kcat(kcat_bin, bootstrap, "-L", "-J").stdout)
    assert len(md["brokers"]) == 1 and md["brokers"][0]["name"] == broker.advertised, md["brokers"]
    bid = md["brokers"][0]["id"]
    (t,) = [t for t in md["topics"] if t["topic"] == topic]
    assert "error" not in t, t
    assert [p["partition"] for p in sorted(t["partitions"], key=lambda p: p["partition"])] == [0, 1, 2]
    for p in t["partitions"]:
        assert p["leader"] == bid and "error" not in p, p
        assert [r["id"] for r in p["replicas"]] == [bid] and [r["id"] for r in p["isrs"]] == [bid], p

    # -L -t for one topic only
    md1 = json.loads(kcat(kcat_bin, bootstrap, "-L", "-J", "-t", topic).stdout)
    assert [t["topic"] for t in md1["topics"]] == [topic]


@pytest.mark.parametrize("codec", CODECS)
def test_roundtrip_compression(kcat_bin, bootstrap, codec):
    topic = unique_topic(f"kcat-{codec}")
    t0 = now_ms()
    expected = produce_all(kcat_bin, bootstrap, topic, codec)
    t1 = now_ms()
    got = consume_all(kcat_bin, bootstrap, topic)
    assert_same_records(expected, got, ts_window=(t0 - 1000, t1 + 1000), client=f"kcat {codec}")
    assert all(g.timestamp_type == "create" for g in got), {g.timestamp_type for g in got}
    # Cross-check with librdkafka 2.x (confluent-kafka).
    cf = cf_consume(bootstrap, topic, range(3), expected={p: 3 * 12 for p in range(3)})
    assert_same_records(expected, cf, ts_window=(t0 - 1000, t1 + 1000), client=f"confluent-kafka reading kcat {codec}")


@pytest.mark.parametrize("acks", ["0", "1", "all", "-1"])
def test_acks(kcat_bin, bootstrap, acks):
    topic = unique_topic(f"kcat-acks{acks.replace('-', 'm')}")
    expected = produce_all(kcat_bin, bootstrap, topic, "none", per_group=5, acks=acks)
    got = consume_all(kcat_bin, bootstrap, topic)
    assert_same_records(expected, got, check_timestamps=False, client=f"kcat acks={acks}")


def test_idempotent_producer(kcat_bin, bootstrap):
    topic = unique_topic("kcat-idem")
    expected = produce_all(kcat_bin, bootstrap, topic, "snappy", per_group=8, extra=["-X", "enable.idempotence=true"])
    got = consume_all(kcat_bin, bootstrap, topic)
    assert_same_records(expected, got, check_timestamps=False, client="kcat idempotent")


def test_large_record(kcat_bin, bootstrap, tmp_path):
    topic = unique_topic("kcat-large")
    rnd = random.Random(5)
    alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    table = bytes(alphabet[i % len(alphabet)] for i in range(256))  # random bytes -> printable
    expected = []
    for p in range(3):
        for i in range(2):
            value = rnd.randbytes(900_000).translate(table)
            f = tmp_path / f"v{p}{i}"
            f.write_bytes(value)
            key = f"large-{p}-{i}".encode()
            # File mode: each file is one message; -k sets the key.
            kcat(kcat_bin, bootstrap, "-P", "-t", topic, "-p", str(p), "-k", key.decode(), "-z", "lz4" if i else "none", str(f))
            expected.append(Rec(p, key, value, (), None))
    got = consume_all(kcat_bin, bootstrap, topic)
    assert_same_records(expected, got, check_timestamps=False, client="kcat large")


def test_invalid_topic_name(kcat_bin, bootstrap):
    proc = kcat(
        kcat_bin, bootstrap, "-P", "-t", "bad topic!", "-X", "message.timeout.ms=10000", input=b"x\n", check=False
    )
    assert proc.returncode != 0, f"kcat produced to 'bad topic!' without error: {proc.stderr.decode()}"
    assert b"Broker: Invalid topic" in proc.stderr, proc.stderr.decode()
    md = json.loads(kcat(kcat_bin, bootstrap, "-L", "-J").stdout)
    assert "bad topic!" not in [t["topic"] for t in md["topics"]], "invalid topic was created"

