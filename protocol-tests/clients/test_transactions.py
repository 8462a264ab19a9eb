"""Exactly-once with confluent-kafka (librdkafka's transactional producer): commit and abort
across partitions, read_committed vs read_uncommitted, a consume-transform-produce loop with
send_offsets_to_transaction across a forced abort and a kill -9 of the broker mid-transaction,
zombie fencing, and the abort of an abandoned transaction after its timeout.
"""

import time
import uuid

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition

from klammtest import TIMEOUT, Rec, cf_consume, cf_consumer, cf_create_topic, cf_produce, cf_producer, unique_topic, wait_until

# The timeout-abort task runs every 200 ms instead of Kafka's 10 s.
KLAMM_OVERRIDES = ["transaction.abort.timed.out.transaction.cleanup.interval.ms=200"]


def txn_producer(bootstrap, tid=None, **conf):
    p = cf_producer(bootstrap, **{"transactional.id": tid or f"tx-{uuid.uuid4().hex[:8]}", **conf})
    p.init_transactions(TIMEOUT)
    return p


def values(got: dict) -> dict:
    return {p: [m.value.decode() for m in msgs] for p, msgs in got.items()}


def test_commit_and_abort_across_partitions(broker):
    topic = unique_topic("txn")
    cf_create_topic(broker.bootstrap, topic, 3)
    p = txn_producer(broker.bootstrap)
    p.begin_transaction()
    for i in range(30):
        p.produce(topic, value=f"c1-{i}".encode(), partition=i % 3)
    p.commit_transaction(TIMEOUT)
    p.begin_transaction()
    for i in range(30):
        p.produce(topic, value=f"a-{i}".encode(), partition=i % 3)
    p.flush(TIMEOUT)
    p.abort_transaction(TIMEOUT)
    p.begin_transaction()
    for i in range(6):
        p.produce(topic, value=f"c2-{i}".encode(), partition=i % 3)
    p.commit_transaction(TIMEOUT)

    committed = {q: [f"c1-{i}" for i in range(q, 30, 3)] + [f"c2-{i}" for i in range(q, 6, 3)] for q in range(3)}
    aborted = {q: [f"a-{i}" for i in range(q, 30, 3)] for q in range(3)}
    got = values(cf_consume(broker.bootstrap, topic, range(3), **{"isolation.level": "read_committed"}))
    assert got == committed
    got = values(cf_consume(broker.bootstrap, topic, range(3), **{"isolation.level": "read_uncommitted"}))
    # Markers take offsets but are never delivered as records.
    assert got == {q: committed[q][:10] + aborted[q] + committed[q][10:] for q in range(3)}


def test_open_transaction_holds_back_read_committed(broker):
    topic = unique_topic("txn-lso")
    cf_create_topic(broker.bootstrap, topic, 1)
    p = txn_producer(broker.bootstrap)
    p.begin_transaction()
    p.produce(topic, value=b"pending", partition=0)
    p.flush(TIMEOUT)
    # A plain record after the open transaction: visible to read_uncommitted only.
    cf_produce(broker.bootstrap, topic, [Rec(0, None, b"plain")])
    assert values(cf_consume(broker.bootstrap, topic, [0], **{"isolation.level": "read_committed"})) == {0: []}
    assert values(cf_consume(broker.bootstrap, topic, [0], **{"isolation.level": "read_uncommitted"})) == {
        0: ["pending", "plain"]
    }
    p.commit_transaction(TIMEOUT)
    got = values(cf_consume(broker.bootstrap, topic, [0], **{"isolation.level": "read_committed"}))
    assert got == {0: ["pending", "plain"]}


def test_zombie_is_fenced(broker):
    topic = unique_topic("txn-zombie")
    cf_create_topic(broker.bootstrap, topic, 1)
    tid = f"zombie-{uuid.uuid4().hex[:8]}"
    old = txn_producer(broker.bootstrap, tid)
    old.begin_transaction()
    old.produce(topic, value=b"zombie", partition=0)
    old.flush(TIMEOUT)
    new = txn_producer(broker.bootstrap, tid)  # aborts the zombie's open transaction
    new.begin_transaction()
    new.produce(topic, value=b"successor", partition=0)
    new.commit_transaction(TIMEOUT)
    with pytest.raises(KafkaException) as e:
        old.produce(topic, value=b"zombie-2", partition=0)
        old.commit_transaction(TIMEOUT)
    err = e.value.args[0]
    assert err.fatal() or err.code() in (KafkaError._FENCED, KafkaError.PRODUCER_FENCED, KafkaError.INVALID_PRODUCER_EPOCH), err
    got = values(cf_consume(broker.bootstrap, topic, [0], **{"isolation.level": "read_committed"}))
    assert got == {0: ["successor"]}


def test_abandoned_transaction_is_aborted_after_timeout(broker):
    topic = unique_topic("txn-timeout")
    cf_create_topic(broker.bootstrap, topic, 1)
    abandoned = txn_producer(
        broker.bootstrap, **{"transaction.timeout.ms": 1000, "socket.timeout.ms": 1000, "message.timeout.ms": 1000}
    )
    abandoned.begin_transaction()
    abandoned.produce(topic, value=b"abandoned", partition=0)
    abandoned.flush(TIMEOUT)
    other = txn_producer(broker.bootstrap)
    other.begin_transaction()
    other.produce(topic, value=b"after", partition=0)
    other.commit_transaction(TIMEOUT)
    started = time.monotonic()
    got = values(cf_consume(broker.bootstrap, topic, [0], expected={0: 1}, **{"isolation.level": "read_committed"}))
    assert got == {0: ["after"]}
    assert time.monotonic() - started < 10
    # The abandoned producer was fenced by the abort.
    with pytest.raises(KafkaException):
        abandoned.commit_transaction(TIMEOUT)


def consume_batch(consumer, n, deadline):
    out = []
    while len(out) < n and time.monotonic() < deadline:
        m = consumer.poll(0.2)
        if m is None or m.error():
            continue
        out.append(m)
    return out


def test_consume_transform_produce_exactly_once(make_broker):
    b = make_broker(["group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=500"])
    src, dst = unique_topic("eos-in"), unique_topic("eos-out")
    cf_create_topic(b.bootstrap, src, 3)
    cf_create_topic(b.bootstrap, dst, 3)
    n = 150
    cf_produce(b.bootstrap, src, [Rec(i % 3, None, f"{i}".encode()) for i in range(n)])
    group, tid = unique_topic("eos-group"), f"eos-{uuid.uuid4().hex[:8]}"

    def clients():
        c = cf_consumer(
            b.bootstrap,
            **{"group.id": group, "isolation.level": "read_committed", "enable.partition.eof": False,
               "session.timeout.ms": 6000},
        )
        c.subscribe([src])
        return c, txn_producer(b.bootstrap, tid)

    consumer, producer = clients()
    deadline = time.monotonic() + 4 * TIMEOUT
    batch_no = 0
    produced = 0
    while time.monotonic() < deadline:
        msgs = consume_batch(consumer, 10, time.monotonic() + 2)
        if not msgs:
            if produced >= n:
                break
            continue
        batch_no += 1
        producer.begin_transaction()
        for m in msgs:
            producer.produce(dst, value=b"out-" + m.value(), partition=m.partition())
        producer.flush(TIMEOUT)
        if batch_no == 3:
            # Forced abort: the output is dropped and the input re-read from the committed offsets.
            producer.abort_transaction(TIMEOUT)
            committed = consumer.committed([TopicPartition(src, q) for q in range(3)], timeout=TIMEOUT)
            for tp in committed:
                if tp.offset >= 0:
                    consumer.seek(tp)
                else:
                    consumer.seek(TopicPartition(src, tp.partition, 0))
            continue
        if batch_no == 6:
            # kill -9 mid-transaction; the restarted broker keeps the data dir. New clients (the
            # port changes) resume from the committed offsets and fence the old transaction.
            b.kill9()
            b.start()
            consumer, producer = clients()
            continue
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()), consumer.consumer_group_metadata(), TIMEOUT
        )
        producer.commit_transaction(TIMEOUT)
        produced += len(msgs)
    consumer.close()

    got = cf_consume(b.bootstrap, dst, range(3), **{"isolation.level": "read_committed"})
    out = sorted(int(m.value.decode()[4:]) for msgs in got.values() for m in msgs)
    assert out == list(range(n)), f"duplicates or losses: {len(out)} records"
    # read_uncommitted also sees the aborted and fenced batches.
    raw = cf_consume(b.bootstrap, dst, range(3), **{"isolation.level": "read_uncommitted"})
    assert sum(len(v) for v in raw.values()) > n
