"""Client quotas against real clients: a confluent-kafka producer held to producer_byte_rate and
a confluent-kafka consumer held to consumer_byte_rate, both set with AlterClientQuotas (neither
confluent-kafka nor kafka-python has that API, so the request is written by hand here, v0).

Kafka's rate is measured over `quota.window.num` samples and lets a client burst through the
samples it has not used yet, so the rate settles in periods of `quota.window.num` windows. The
broker runs with 3 one-second samples and each test measures whole periods after the first
burst: within 10% of the quota.
"""

from __future__ import annotations

import socket
import struct
import threading
import time

from klammtest import cf_consumer, cf_create_topic, cf_producer, unique_topic

KLAMM_OVERRIDES = ["quota.window.num=3"]

RATE = 1024 * 1024  # 1 MiB/s


def _str(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def _nullable(s) -> bytes:
    return struct.pack(">h", -1) if s is None else _str(s)


def alter_client_quotas(bootstrap: str, entity: list, ops: list) -> int:
    """AlterClientQuotas v0 with one entry; returns its error code."""
    body = struct.pack(">i", 1)
    body += struct.pack(">i", len(entity))
    for etype, name in entity:
        body += _str(etype) + _nullable(name)
    body += struct.pack(">i", len(ops))
    for key, value in ops:
        body += _str(key) + struct.pack(">d", float(value)) + b"\x00"
    body += b"\x00"  # validate_only
    header = struct.pack(">hhi", 49, 0, 7) + _str("quota-admin")
    frame = header + body
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", _read(s, 4))[0]
        resp = _read(s, size)
    corr, throttle, n = struct.unpack(">iii", resp[:12])
    assert corr == 7 and n == 1, (corr, n)
    (code,) = struct.unpack(">h", resp[12:14])
    return code


def _read(s: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        assert chunk, "connection closed"
        out += chunk
    return out


def rate_between(events: list, start: float, end: float) -> float:
    """Bytes per second of the (time, bytes) events in [start, end)."""
    total = sum(n for t, n in events if start <= t < end)
    return total / (end - start)


def test_producer_is_held_to_producer_byte_rate(bootstrap):
    topic = unique_topic("quota-produce")
    cf_create_topic(bootstrap, topic, partitions=1)
    assert alter_client_quotas(bootstrap, [("client-id", "quota-producer")], [("producer_byte_rate", RATE)]) == 0

    p = cf_producer(bootstrap, **{"client.id": "quota-producer", "batch.size": 65536, "linger.ms": 5})
    value = b"p" * 16384
    delivered: list = []
    lock = threading.Lock()

    errors: list = []
    stopping = threading.Event()

    def cb(err, msg):
        if err is not None:
            # Purging what is still queued at the end reports those messages as purged.
            if not stopping.is_set():
                errors.append(err)
            return
        with lock:
            delivered.append((time.monotonic(), len(msg.value())))

    # The first period is the burst; then two whole periods (3 s each) are measured.
    deadline = time.monotonic() + 11
    first = None
    while time.monotonic() < deadline:
        if len(p) < 256:
            p.produce(topic, value, partition=0, on_delivery=cb)
        p.poll(0.001 if len(p) >= 256 else 0)
        if first is None and delivered:
            first = delivered[0][0]
        if first is not None and time.monotonic() > first + 9.2:
            break
    stopping.set()
    p.purge()
    p.flush(5)
    assert not errors, errors
    assert first is not None, "nothing delivered"
    rate = rate_between(delivered, first + 3, first + 9)
    assert abs(rate - RATE) / RATE < 0.10, f"produced {rate / 1024:.0f} KiB/s against a quota of {RATE / 1024:.0f} KiB/s"


def test_consumer_is_held_to_consumer_byte_rate(bootstrap):
    topic = unique_topic("quota-fetch")
    cf_create_topic(bootstrap, topic, partitions=1)
    # Enough data for 13 s at the quota, produced without a quota.
    p = cf_producer(bootstrap, **{"client.id": "quota-loader", "batch.size": 65536})
    value = b"c" * 16384
    for _ in range(13 * RATE // len(value)):
        while True:
            try:
                p.produce(topic, value, partition=0)
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    assert p.flush(30) == 0
    assert alter_client_quotas(bootstrap, [("client-id", "quota-consumer")], [("consumer_byte_rate", RATE)]) == 0

    from confluent_kafka import TopicPartition

    c = cf_consumer(
        bootstrap,
        **{"client.id": "quota-consumer", "max.partition.fetch.bytes": 65536, "enable.partition.eof": False},
    )
    c.assign([TopicPartition(topic, 0, 0)])
    consumed: list = []
    first = None
    try:
        deadline = time.monotonic() + 14
        while time.monotonic() < deadline:
            msg = c.poll(0.05)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            now = time.monotonic()
            consumed.append((now, len(msg.value())))
            if first is None:
                first = now
            if now > first + 12.2:
                break
    finally:
        c.close()
    assert first is not None, "nothing consumed"
    rate = rate_between(consumed, first + 6, first + 12)
    assert abs(rate - RATE) / RATE < 0.10, f"consumed {rate / 1024:.0f} KiB/s against a quota of {RATE / 1024:.0f} KiB/s"
