"""Log compaction: after cleaning, a consumer from earliest sees exactly the latest record of
every key at the offset it was written (offsets increase with gaps), tombstones until
delete.retention.ms has passed and a later cleaning ran, and nothing acknowledged is lost when the
broker is killed with -9 in the middle of a cleaning."""

import time
from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from klammtest import (
    TIMEOUT,
    Rec,
    cf_consume,
    cf_produce,
    cf_wait_partitions,
    unique_topic,
    wait_until,
)

KLAMM_OVERRIDES = ["log.cleaner.backoff.ms=100"]


def create(bootstrap, topic, configs):
    a = AdminClient({"bootstrap.servers": bootstrap})
    a.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic].result(timeout=TIMEOUT)
    cf_wait_partitions(bootstrap, topic, 1)


def produce_rounds(bootstrap, topic, keys, rounds, tombstone_keys=(), value_size=20):
    """Writes `rounds` values for every key, then tombstones; returns {key: (offset, value)} of the
    latest record per key, from the delivery reports."""
    recs = []
    for r in range(rounds):
        for k in keys:
            recs.append(Rec(0, k, (f"{k.decode()}-round{r}-".encode() + b"v" * value_size), (("round", str(r).encode()),), None))
    for k in tombstone_keys:
        recs.append(Rec(0, k, None, (), None))
    res = cf_produce(bootstrap, topic, recs)
    latest = {}
    for rec, (_, off, err) in zip(recs, res):
        assert err is None
        latest[rec.key] = (off, rec.value)
    return latest


def read_all(bootstrap, topic):
    got = cf_consume(bootstrap, topic, [0])
    return got[0]


def roll(bootstrap, topic, key=b"roller"):
    """The active segment is never cleaned: wait past segment.ms and append, so it rolls."""
    time.sleep(0.15)
    return produce_rounds(bootstrap, topic, [key], 1)


def is_compacted(records, expected):
    seen = {}
    for g in records:
        if g.key in seen:
            return False
        seen[g.key] = (g.offset, g.value)
    return all(seen.get(k) == v for k, v in expected.items())


def test_latest_value_per_key_then_tombstones_go(broker):
    topic = unique_topic("compact")
    create(broker.bootstrap, topic, {
        "cleanup.policy": "compact",
        "segment.ms": "100",
        "min.cleanable.dirty.ratio": "0.01",
        "delete.retention.ms": "3000",
        "file.delete.delay.ms": "0",
    })
    keys = [f"key-{i}".encode() for i in range(20)]
    latest = produce_rounds(broker.bootstrap, topic, keys, rounds=5, tombstone_keys=keys[:5])
    latest.update(roll(broker.bootstrap, topic))
    total_written = 20 * 5 + 5 + 1

    # Cleaned: one record per key, at its original offset; k0..k4 are tombstones (null value).
    expected = {k: v for k, v in latest.items() if k != b"roller"}

    def compacted():
        recs = read_all(broker.bootstrap, topic)
        return recs if is_compacted(recs, expected) else None

    recs = wait_until(compacted, what="compaction")
    offsets = [g.offset for g in recs]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert offsets[-1] < total_written and len(recs) < total_written
    assert [g.key for g in recs if g.value is None] == keys[:5]
    for g in recs:
        if g.value is not None and g.key != b"roller":
            assert g.value.startswith(g.key + b"-round4-")
            assert g.headers == (("round", b"4"),)

    # After delete.retention.ms, the next cleaning drops the tombstones.
    time.sleep(3.1)
    latest_roll = roll(broker.bootstrap, topic, key=b"roller2")
    expected_after = {k: v for k, v in expected.items() if v[1] is not None}

    def tombstones_gone():
        recs = read_all(broker.bootstrap, topic)
        if any(g.value is None for g in recs):
            return None
        return recs if is_compacted(recs, expected_after) else None

    recs = wait_until(tombstones_gone, what="tombstone removal")
    assert {g.key for g in recs} >= set(keys[5:])
    assert not {g.key for g in recs} & set(keys[:5])
    assert recs[-1].offset == latest_roll[b"roller2"][0]


def test_keyless_records_are_refused_on_compacted_topics(broker):
    from confluent_kafka import KafkaException

    topic = unique_topic("compact-nokey")
    create(broker.bootstrap, topic, {"cleanup.policy": "compact"})
    res = cf_produce(broker.bootstrap, topic, [Rec(0, None, b"v", (), None)], **{"message.send.max.retries": 0})
    err = res[0][2]
    assert err is not None and err.code() == 87, err  # INVALID_RECORD


def test_kill9_during_cleaning_loses_nothing(make_broker):
    # A slow cleaner (I/O bound by log.cleaner.io.max.bytes.per.second) so the kill lands mid-clean.
    b = make_broker(overrides=["log.cleaner.backoff.ms=100", "log.cleaner.io.max.bytes.per.second=1000000"])
    topic = unique_topic("compact-kill")
    create(b.bootstrap, topic, {"cleanup.policy": "compact", "segment.ms": "100", "min.cleanable.dirty.ratio": "0.01"})
    keys = [f"key-{i}".encode() for i in range(100)]
    latest = produce_rounds(b.bootstrap, topic, keys, rounds=4, value_size=5000)
    latest.update(roll(b.bootstrap, topic))
    pdir = Path(b.data_dir) / f"{topic}-0"
    wait_until(lambda: list(pdir.glob("*.cleaned")), interval=0.01, what="a cleaning in progress")
    b.kill9()
    b.start()
    # Everything acknowledged is there (the latest record of every key, at its offset) ...
    recs = read_all(b.bootstrap, topic)
    by_offset = {g.offset: (g.key, g.value) for g in recs}
    for k, (off, value) in latest.items():
        assert by_offset.get(off) == (k, value), f"{k!r} at {off} lost"
    # ... and the cleaner finishes the job (unthrottled now, so a loaded machine cannot stretch it).
    b.overrides = ["log.cleaner.backoff.ms=100"]
    b.restart()
    wait_until(lambda: is_compacted(read_all(b.bootstrap, topic), latest), timeout=2 * TIMEOUT, what="compaction after restart")
