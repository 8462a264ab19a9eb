"""kafka-python (pure Python) against Klamm.

Consumption uses KafkaConsumer(group_id=None) + assign() (no consumer groups yet).
kafka-python cannot send null header values nor a record whose key and value are both null
("Need at least one: key or value"), so its records leave those two cases out. It also checks
topic names itself, so producing to "bad topic!" fails in the client; CreateTopics with that
name is what reaches the broker.
"""

import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerrors
from kafka.admin import KafkaAdminClient

from klammtest import (
    TIMEOUT,
    Got,
    assert_same_records,
    cf_consume,
    gen_records,
    large_records,
    now_ms,
    unique_topic,
)

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
MS = int(TIMEOUT * 1000)


def admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=MS, client_id="klamm-kp-admin")


def create_topic(bootstrap, topic, partitions=3):
    a = admin(bootstrap)
    try:
        a.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1}}, timeout_ms=10000)
    finally:
        a.close()


def producer(bootstrap, **kw):
    conf = dict(
        bootstrap_servers=bootstrap,
        linger_ms=5,
        request_timeout_ms=MS,
        max_block_ms=MS,
        delivery_timeout_ms=MS + 5000,
        client_id="klamm-kp-producer",
    )
    conf.update(kw)
    return KafkaProducer(**conf)


def produce(bootstrap, topic, recs, **kw):
    """Returns [RecordMetadata] per record."""
    p = producer(bootstrap, **kw)
    try:
        futs = [
            p.send(
                topic,
                value=r.value,
                key=r.key,
                headers=list(r.headers),
                partition=r.partition,
                timestamp_ms=r.timestamp,
            )
            for r in recs
        ]
        p.flush(timeout=TIMEOUT)
        return [f.get(timeout=TIMEOUT) for f in futs]
    finally:
        p.close(timeout=TIMEOUT)


def consume(bootstrap, topic, expected: dict, **kw):
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        request_timeout_ms=MS,
        client_id="klamm-kp-consumer",
        **kw,
    )
    try:
        tps = [TopicPartition(topic, p) for p in expected]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        got = {p: [] for p in expected}
        deadline = time.monotonic() + TIMEOUT
        while any(len(got[p]) < n for p, n in expected.items()):
            if time.monotonic() > deadline:
                raise AssertionError(f"kafka-python consume timed out: got { {p: len(v) for p, v in got.items()} } of {expected}")
            for tp, msgs in c.poll(timeout_ms=200).items():
                for m in msgs:
                    got[tp.partition].append(
                        Got(
                            partition=m.partition,
                            offset=m.offset,
                            key=m.key,
                            value=m.value,
                            headers=tuple((k, v) for k, v in (m.headers or [])),
                            timestamp=m.timestamp,
                            timestamp_type={0: "create", 1: "append"}.get(m.timestamp_type),
                        )
                    )
        # Nothing beyond what was produced.
        ends = c.end_offsets(tps)
        assert {tp.partition: off for tp, off in ends.items()} == expected, f"end offsets {ends} != {expected}"
        return got
    finally:
        c.close()


def check_metadata(recs, metas, base=None):
    nxt = dict(base or {})
    for r, m in zip(recs, metas):
        assert m.partition == r.partition
        exp = nxt.get(r.partition, 0)
        assert m.offset == exp, f"RecordMetadata offset {m.offset} on partition {r.partition}, expected {exp}"
        nxt[r.partition] = exp + 1


def test_admin_create_and_describe(bootstrap):
    topic = unique_topic("kp-admin")
    create_topic(bootstrap, topic, 3)
    a = admin(bootstrap)
    try:
        assert topic in a.list_topics()
        desc = a.describe_topics([topic])
        assert len(desc) == 1, desc
        t = desc[0]
        assert t.get("name", t.get("topic")) == topic, t
        assert t.get("error_code", 0) == 0, t
        assert sorted(p.get("partition_index", p.get("partition")) for p in t["partitions"]) == [0, 1, 2], t
    finally:
        a.close()


@pytest.mark.parametrize("codec", CODECS)
def test_roundtrip_compression(bootstrap, codec):
    topic = unique_topic(f"kp-{codec}")
    create_topic(bootstrap, topic, 3)
    recs = gen_records(30, partitions=3, seed=20 + CODECS.index(codec), null_header_values=False, both_null=False)
    first, second = recs[:45], recs[45:]
    ct = None if codec == "none" else codec
    check_metadata(first, produce(bootstrap, topic, first, compression_type=ct))
    base = {p: sum(1 for r in first if r.partition == p) for p in range(3)}
    check_metadata(second, produce(bootstrap, topic, second, compression_type=ct, linger_ms=50), base=base)
    got = consume(bootstrap, topic, {p: 30 for p in range(3)})
    assert_same_records(recs, got, client=f"kafka-python {codec}")
    # And librdkafka reads what kafka-python wrote.
    assert_same_records(recs, cf_consume(bootstrap, topic, range(3), expected={p: 30 for p in range(3)}),
                        client=f"confluent-kafka reading kafka-python {codec}")


@pytest.mark.parametrize("acks", [0, 1, "all", -1])
def test_acks(bootstrap, acks):
    topic = unique_topic(f"kp-acks{str(acks).replace('-', 'm')}")
    create_topic(bootstrap, topic, 3)
    recs = gen_records(15, partitions=3, seed=6, null_header_values=False, both_null=False)
    metas = produce(bootstrap, topic, recs, acks=acks, enable_idempotence=False)
    if acks != 0:
        check_metadata(recs, metas)
    got = consume(bootstrap, topic, {p: 15 for p in range(3)})
    assert_same_records(recs, got, client=f"kafka-python acks={acks}")


def test_idempotent_producer(bootstrap):
    topic = unique_topic("kp-idem")
    create_topic(bootstrap, topic, 3)
    recs = gen_records(40, partitions=3, seed=12, null_header_values=False, both_null=False)
    metas = produce(bootstrap, topic, recs, acks="all", enable_idempotence=True, compression_type="lz4")
    check_metadata(recs, metas)
    got = consume(bootstrap, topic, {p: 40 for p in range(3)})
    assert_same_records(recs, got, client="kafka-python idempotent")


def test_large_records(bootstrap):
    topic = unique_topic("kp-large")
    create_topic(bootstrap, topic, 3)
    recs = large_records(3, seed=8)
    check_metadata(recs, produce(bootstrap, topic, recs, acks="all"))
    got = consume(bootstrap, topic, {p: 2 for p in range(3)})
    assert_same_records(recs, got, client="kafka-python large")


def test_client_timestamps_default(bootstrap):
    topic = unique_topic("kp-ts")
    t0 = now_ms()
    recs = gen_records(5, partitions=1, seed=4, with_timestamps=False, null_header_values=False, both_null=False)
    check_metadata(recs, produce(bootstrap, topic, recs))
    got = consume(bootstrap, topic, {0: 5})
    assert_same_records(recs, got, ts_window=(t0 - 1000, now_ms() + 1000), client="kafka-python default timestamps")


def test_invalid_topic_name_admin(bootstrap):
    a = admin(bootstrap)
    try:
        with pytest.raises(kerrors.InvalidTopicError):
            a.create_topics({"bad topic!": {"num_partitions": 1, "replication_factor": 1}}, timeout_ms=10000)
    finally:
        a.close()


def test_invalid_topic_name_produce(bootstrap):
    p = producer(bootstrap, max_block_ms=10000, enable_idempotence=False)
    try:
        # kafka-python rejects the name itself (ValueError) before asking the broker.
        with pytest.raises((ValueError, kerrors.KafkaError)):
            p.send("bad topic!", value=b"v").get(timeout=TIMEOUT)
    finally:
        p.close(timeout=TIMEOUT)
