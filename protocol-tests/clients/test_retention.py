"""Retention: segments past retention.ms (by their largest timestamp) or beyond retention.bytes
are deleted by the background task, the log start offset moves forward, and consumers from
earliest start at it. Intervals are shortened with --override, never by changing defaults."""

from pathlib import Path

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, OffsetSpec

from klammtest import (
    TIMEOUT,
    Rec,
    cf_consume,
    cf_produce,
    cf_wait_partitions,
    cf_watermarks,
    now_ms,
    unique_topic,
    wait_until,
)

KLAMM_OVERRIDES = ["log.retention.check.interval.ms=200"]


def create(bootstrap, topic, configs):
    a = AdminClient({"bootstrap.servers": bootstrap})
    a.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic].result(timeout=TIMEOUT)
    cf_wait_partitions(bootstrap, topic, 1)
    return a


def earliest(a, topic):
    r = a.list_offsets({TopicPartition(topic, 0): OffsetSpec.earliest()})
    return list(r.values())[0].result(timeout=TIMEOUT).offset


def segment_files(data_dir, topic):
    return sorted(p.name for p in (Path(data_dir) / f"{topic}-0").glob("*.log"))


def test_retention_ms_deletes_old_segments(broker):
    topic = unique_topic("ret-ms")
    a = create(broker.bootstrap, topic, {"retention.ms": "60000", "segment.ms": "100", "file.delete.delay.ms": "0"})
    old = now_ms() - 10 * 60_000
    old_recs = [Rec(0, f"k{i}".encode(), f"old-{i}".encode(), (), old + i) for i in range(30)]
    cf_produce(broker.bootstrap, topic, old_recs)
    new_recs = [Rec(0, f"k{i}".encode(), f"new-{i}".encode(), (), None) for i in range(10)]
    cf_produce(broker.bootstrap, topic, new_recs)
    # The 10-minute-old segment is past 60 s retention: gone within a few check intervals.
    wait_until(lambda: earliest(a, topic) == 30, what="log start offset 30")
    assert cf_watermarks(broker.bootstrap, topic, 0) == (30, 40)
    got = cf_consume(broker.bootstrap, topic, [0], expected={0: 10})
    assert [g.offset for g in got[0]] == list(range(30, 40))
    assert [g.value for g in got[0]] == [r.value for r in new_recs]
    wait_until(lambda: "00000000000000000000.log" not in segment_files(broker.data_dir, topic), what="old segment file removed")


def test_retention_bytes_keeps_the_newest_data(broker):
    topic = unique_topic("ret-bytes")
    mib = 1024 * 1024
    a = create(broker.bootstrap, topic, {"segment.bytes": str(mib), "retention.bytes": str(mib), "file.delete.delay.ms": "0"})
    value = b"x" * 100_000
    recs = [Rec(0, f"k{i}".encode(), value, (), None) for i in range(40)]  # ~4 MiB: 4 segments
    cf_produce(broker.bootstrap, topic, recs, **{"compression.type": "none"})
    pdir = Path(broker.data_dir) / f"{topic}-0"

    def log_size():
        return sum(p.stat().st_size for p in pdir.glob("*.log"))

    def settled():
        # Kafka's rule (UnifiedLog.deleteRetentionSizeBreachedSegments): drop the oldest segment
        # while what stays is still at least retention.bytes. A pass may run while the producer
        # is still appending, so wait for the fixpoint: the oldest segment is needed.
        try:
            sizes = [p.stat().st_size for p in sorted(pdir.glob("*.log"))]
        except FileNotFoundError:  # renamed to .deleted between the listing and the stat
            return False
        return len(sizes) <= 1 or sum(sizes) - sizes[0] < mib

    # A pass runs every 200 ms and leaves the newest segments that hold at least 1 MiB.
    wait_until(lambda: earliest(a, topic) > 0 and settled() and log_size() <= 3 * mib, what="old segments deleted")
    start = earliest(a, topic)
    assert 10 <= start <= 30, start
    assert log_size() >= mib
    got = cf_consume(broker.bootstrap, topic, [0], expected={0: 40 - start})
    assert [g.offset for g in got[0]] == list(range(start, 40))


def test_log_start_offset_survives_restart(make_broker):
    b = make_broker(overrides=KLAMM_OVERRIDES)
    topic = unique_topic("ret-restart")
    a = create(b.bootstrap, topic, {"retention.ms": "60000", "segment.ms": "100"})
    old = now_ms() - 10 * 60_000
    cf_produce(b.bootstrap, topic, [Rec(0, b"k", b"old", (), old + i) for i in range(5)])
    cf_produce(b.bootstrap, topic, [Rec(0, b"k", b"new", (), None) for _ in range(3)])
    wait_until(lambda: earliest(a, topic) == 5, what="log start offset 5")
    b.kill9()
    b.start()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    assert earliest(a, topic) == 5
    got = cf_consume(b.bootstrap, topic, [0], expected={0: 3})
    assert [g.offset for g in got[0]] == [5, 6, 7]
