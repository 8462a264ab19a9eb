"""confluent-kafka (Python, bundled librdkafka) against Klamm.

Consumption uses Consumer.assign() with a dummy group.id and no commits (no consumer groups yet).
"""

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from klammtest import (
    TIMEOUT,
    assert_same_records,
    cf_assert_delivered,
    cf_consume,
    cf_create_topic,
    cf_produce,
    cf_watermarks,
    gen_records,
    large_records,
    now_ms,
    unique_topic,
)

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def test_admin_create_topic_and_metadata(broker, bootstrap):
    topic = unique_topic("cf-admin")
    cf_create_topic(bootstrap, topic, 3)
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=TIMEOUT)
    brokers = {(b.host, b.port) for b in md.brokers.values()}
    host, port = broker.advertised.rsplit(":", 1)
    assert (host, int(port)) in brokers, f"advertised {broker.advertised} not in metadata brokers {brokers}"
    t = md.topics[topic]
    assert t.error is None
    assert sorted(t.partitions) == [0, 1, 2]
    for p in t.partitions.values():
        assert p.leader in md.brokers, f"partition {p.id} leader {p.leader} is not a listed broker"


def test_create_existing_topic_fails(bootstrap):
    topic = unique_topic("cf-dup")
    cf_create_topic(bootstrap, topic, 3)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)], request_timeout=TIMEOUT)[topic]
    with pytest.raises(KafkaException) as ei:
        fut.result(timeout=TIMEOUT)
    assert ei.value.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS, ei.value


@pytest.mark.parametrize("codec", CODECS)
def test_roundtrip_compression(bootstrap, codec):
    topic = unique_topic(f"cf-{codec}")
    cf_create_topic(bootstrap, topic, 3)
    recs = gen_records(40, partitions=3, seed=CODECS.index(codec) + 1)
    first, second = recs[:75], recs[75:]
    # Two produce rounds: the second batches must continue the offsets of the first.
    res1 = cf_produce(bootstrap, topic, first, **{"compression.type": codec, "acks": "all"})
    cf_assert_delivered(res1, first)
    base = {p: sum(1 for r in first if r.partition == p) for p in range(3)}
    res2 = cf_produce(bootstrap, topic, second, **{"compression.type": codec, "acks": "all", "linger.ms": 50})
    cf_assert_delivered(res2, second, base=base)
    got = cf_consume(bootstrap, topic, range(3), expected={p: 40 for p in range(3)})
    assert_same_records(recs, got, client=f"confluent-kafka {codec}")
    for p in range(3):
        assert cf_watermarks(bootstrap, topic, p) == (0, 40)


@pytest.mark.parametrize("acks", ["0", "1", "all", "-1"])
def test_acks(bootstrap, acks):
    topic = unique_topic(f"cf-acks{acks.replace('-', 'm')}")
    cf_create_topic(bootstrap, topic, 3)
    recs = gen_records(15, partitions=3, seed=5)
    res = cf_produce(bootstrap, topic, recs, acks=acks)
    # acks=0: the broker sends no response, so delivery reports carry no offsets.
    cf_assert_delivered(res, recs, offsets_known=acks != "0")
    got = cf_consume(bootstrap, topic, range(3), expected={p: 15 for p in range(3)})
    assert_same_records(recs, got, client=f"confluent-kafka acks={acks}")


@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_idempotent_producer(bootstrap, codec):
    topic = unique_topic("cf-idem")
    cf_create_topic(bootstrap, topic, 3)
    recs = gen_records(50, partitions=3, seed=11)
    res = cf_produce(
        bootstrap,
        topic,
        recs,
        **{"enable.idempotence": True, "acks": "all", "compression.type": codec, "max.in.flight.requests.per.connection": 5},
    )
    cf_assert_delivered(res, recs)
    got = cf_consume(bootstrap, topic, range(3), expected={p: 50 for p in range(3)})
    assert_same_records(recs, got, client="confluent-kafka idempotent")


@pytest.mark.parametrize("codec", ["none", "gzip"])
def test_large_records(bootstrap, codec):
    topic = unique_topic("cf-large")
    cf_create_topic(bootstrap, topic, 3)
    recs = large_records(3)
    res = cf_produce(bootstrap, topic, recs, **{"acks": "all", "compression.type": codec})
    cf_assert_delivered(res, recs)
    got = cf_consume(bootstrap, topic, range(3), expected={p: 2 for p in range(3)})
    assert_same_records(recs, got, client="confluent-kafka large")


def test_auto_created_topic_default_partitions(bootstrap):
    topic = unique_topic("cf-auto")
    t0 = now_ms()
    recs = gen_records(10, partitions=1, seed=3, with_timestamps=False)
    res = cf_produce(bootstrap, topic, recs, acks="all")
    cf_assert_delivered(res, recs)
    md = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=TIMEOUT)
    assert len(md.topics[topic].partitions) == 1, "auto-created topic should have num.partitions=1 partition"
    got = cf_consume(bootstrap, topic, [0], expected={0: 10})
    assert_same_records(recs, got, ts_window=(t0 - 1000, now_ms() + 1000), client="confluent-kafka auto-create")


def test_invalid_topic_name_admin(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    fut = admin.create_topics([NewTopic("bad topic!", num_partitions=1, replication_factor=1)], request_timeout=TIMEOUT)[
        "bad topic!"
    ]
    with pytest.raises(KafkaException) as ei:
        fut.result(timeout=TIMEOUT)
    assert ei.value.args[0].code() == KafkaError.TOPIC_EXCEPTION, f"expected INVALID_TOPIC_EXCEPTION (17), got {ei.value}"


def test_invalid_topic_name_produce(bootstrap):
    from klammtest import Rec

    res = cf_produce(
        bootstrap,
        "bad topic!",
        [Rec(0, b"k", b"v")],
        **{"message.timeout.ms": 10000},
    )
    _, _, err = res[0]
    assert err is not None, "producing to 'bad topic!' should fail"
    assert err.code() == KafkaError.TOPIC_EXCEPTION, f"expected INVALID_TOPIC_EXCEPTION (17), got {err}"
