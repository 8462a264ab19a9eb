"""Durability: kill -9 with log.flush.before.ack=true, torn segment tails, clean SIGTERM restarts."""

import struct
import time

import pytest
from confluent_kafka import KafkaError

from klammtest import (
    TIMEOUT,
    Rec,
    assert_same_records,
    cf_assert_delivered,
    cf_consume,
    cf_create_topic,
    cf_produce,
    cf_producer,
    cf_watermarks,
    gen_records,
    unique_topic,
)


def crash_rec(seq: int, partitions: int = 3) -> Rec:
    return Rec(
        seq % partitions,
        f"crash-key-{seq}".encode(),
        f"crash-value-{seq}-".encode() + bytes([seq % 251]) * (seq % 97),
        (("seq", str(seq).encode()),),
        None,
    )


@pytest.mark.klamm_only("log.flush.before.ack is Klamm's setting (Kafka acknowledges before an fsync and relies on replicas)")
def test_kill9_keeps_every_acknowledged_record(make_broker):
    b = make_broker(["log.flush.before.ack=true"])
    topic = unique_topic("crash")
    cf_create_topic(b.bootstrap, topic, 3)

    sent: dict = {}  # key -> Rec
    acked: dict = {}  # (partition, offset) -> Rec

    # Phase 1: 300 records, all acknowledged.
    phase1 = [crash_rec(i) for i in range(300)]
    res = cf_produce(b.bootstrap, topic, phase1, acks="all", **{"linger.ms": 2})
    cf_assert_delivered(res, phase1)
    for r, (p, off, _) in zip(phase1, res):
        sent[r.key] = r
        acked[(p, off)] = r

    # Phase 2: keep producing and kill -9 the broker mid-stream.
    producer = cf_producer(b.bootstrap, acks="all", **{"linger.ms": 0, "batch.num.messages": 20, "message.timeout.ms": 10000})
    phase2_acked = []

    def on_delivery(rec):
        def cb(err, msg):
            if err is None:
                acked[(msg.partition(), msg.offset())] = rec
                phase2_acked.append(rec)

        return cb

    deadline = time.monotonic() + TIMEOUT
    seq = 300
    while len(phase2_acked) < 200 and time.monotonic() < deadline:
        if seq < 5000:
            r = crash_rec(seq)
            seq += 1
            sent[r.key] = r
            try:
                producer.produce(topic, key=r.key, value=r.value, partition=r.partition, headers=list(r.headers), on_delivery=on_delivery(r))
            except BufferError:
                pass
            producer.poll(0)
        else:
            producer.poll(0.05)
    assert len(phase2_acked) >= 200, f"only {len(phase2_acked)} acknowledgements in {TIMEOUT}s"
    b.kill9()
    print(f"kill -9 after sending {seq - 300} phase-2 records, {len(phase2_acked)} acknowledged")
    # Collect acknowledgements that had already arrived, then drop the rest.
    producer.poll(0.5)
    producer.purge(in_queue=True, in_flight=True)
    producer.flush(5)
    del producer

    b.start()  # same data dir, new port
    max_acked = {}
    for (p, off) in acked:
        max_acked[p] = max(max_acked.get(p, -1), off)
    got = cf_consume(b.bootstrap, topic, range(3), expected={p: max_acked[p] + 1 for p in range(3)})
    problems = []
    for p in range(3):
        offsets = [g.offset for g in got[p]]
        if offsets != list(range(len(offsets))):
            problems.append(f"partition {p}: offsets not consecutive from 0: {offsets[:10]}...")
        for g in got[p]:
            want = acked.get((p, g.offset))
            if want is not None and (g.key, g.value, g.headers) != (want.key, want.value, want.headers):
                problems.append(f"partition {p} offset {g.offset}: {g.key!r} instead of acknowledged {want.key!r}")
            if g.key not in sent or sent[g.key].value != g.value or sent[g.key].partition != p:
                problems.append(f"partition {p} offset {g.offset}: record {g.key!r} was never sent like this")
    present = {(g.partition, g.offset) for p in got for g in got[p]}
    lost = sorted(k for k in acked if k not in present)
    if lost:
        problems.append(f"{len(lost)} acknowledged records lost, e.g. {lost[:10]}")
    assert not problems, "\n".join(problems[:20])

    # The partition keeps working: the next produce continues after what is there.
    lens = {p: len(got[p]) for p in range(3)}
    more = [Rec(p, b"after-crash", b"v", (), None) for p in range(3)]
    res = cf_produce(b.bootstrap, topic, more, acks="all")
    cf_assert_delivered(res, more, base=lens)


def first_batch(data: bytes) -> bytes:
    assert len(data) >= 61, "segment too small to hold a record batch"
    (batch_len,) = struct.unpack(">i", data[8:12])
    return data[: 12 + batch_len]


def torn_tail(variant: str, data: bytes, next_offset: int) -> bytes:
    if variant == "garbage":
        return b"\x00\x13\x37garbage!"
    if variant == "half-batch":
        batch = bytearray(first_batch(data))
        batch[0:8] = struct.pack(">q", next_offset)
        return bytes(batch[: len(batch) // 2])
    if variant == "header-only":
        return struct.pack(">qi", next_offset, 1_000_000) + b"\x00\x00\x00\x00\x02" + b"\xab" * 15
    if variant == "zeros":
        return b"\x00" * 4096
    raise ValueError(variant)


@pytest.mark.klamm_only(
    "a torn tail after a clean SIGTERM: Klamm checks every segment tail at start; Kafka trusts its "
    "clean-shutdown marker and recovers only after an unclean shutdown (the torn bytes stay in its "
    "log, and on the zeros it refuses to start)"
)
@pytest.mark.parametrize("variant", ["garbage", "half-batch", "header-only", "zeros"])
def test_torn_tail_is_truncated_on_restart(make_broker, variant):
    b = make_broker()
    topic = unique_topic("torn")
    recs = gen_records(60, partitions=1, seed=31)
    cf_assert_delivered(cf_produce(b.bootstrap, topic, recs, acks="all"), recs)
    rc = b.stop()
    assert rc == 0, f"klamm exited with {rc} on SIGTERM"

    seg_dir = b.data_dir / f"{topic}-0"
    assert seg_dir.is_dir(), f"no partition directory {seg_dir}; data dir has {sorted(p.name for p in b.data_dir.iterdir())}"
    logs = sorted(seg_dir.glob("*.log"))
    assert logs, f"no *.log segment in {seg_dir}: {sorted(p.name for p in seg_dir.iterdir())}"
    newest = logs[-1]
    data = logs[0].read_bytes()
    with open(newest, "ab") as f:
        f.write(torn_tail(variant, data, len(recs)))

    b.start()
    got = cf_consume(b.bootstrap, topic, [0], expected={0: len(recs)})
    assert_same_records(recs, got, client=f"after torn tail ({variant})")
    assert cf_watermarks(b.bootstrap, topic, 0) == (0, len(recs))

    more = gen_records(10, partitions=1, seed=32)
    res = cf_produce(b.bootstrap, topic, more, acks="all")
    cf_assert_delivered(res, more, base={0: len(recs)})
    got = cf_consume(b.bootstrap, topic, [0], expected={0: len(recs) + len(more)})
    assert_same_records(recs + more, got, client=f"after torn tail ({variant}) + new records")

    # And once more across a clean restart.
    b.restart()
    got = cf_consume(b.bootstrap, topic, [0], expected={0: len(recs) + len(more)})
    assert_same_records(recs + more, got, client=f"after torn tail ({variant}) + restart")


def test_sigterm_exits_zero_and_data_survives_restarts(make_broker):
    b = make_broker()
    topic = unique_topic("restart")
    cf_create_topic(b.bootstrap, topic, 3)
    recs = gen_records(20, partitions=3, seed=33)
    cf_assert_delivered(cf_produce(b.bootstrap, topic, recs, acks="all", **{"compression.type": "zstd"}), recs)
    for _ in range(2):
        b.restart()  # asserts a clean exit on SIGTERM
        got = cf_consume(b.bootstrap, topic, range(3), expected={p: 20 for p in range(3)})
        assert_same_records(recs, got, client="after restart")
    # Klamm exits 0; Kafka's JVM 143 (128 + SIGTERM) after its controlled shutdown.
    assert all(rc in b.CLEAN_EXIT_CODES for rc in b.exit_codes), b.exit_codes
