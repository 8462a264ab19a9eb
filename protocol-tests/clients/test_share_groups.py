"""Share groups (KIP-932, queues for Kafka) with confluent-kafka's ShareConsumer (librdkafka 2.16,
ShareGroupHeartbeat / ShareFetch / ShareAcknowledge): records of one partition handed out to
several members, each record to one member at a time, under an acquisition lock.

- share.auto.offset.reset: `latest` (the default) starts the share partition at the end when it
  is first fetched, `earliest` at the log start;
- one member reads every record once (delivery count 1); with implicit acknowledgement they are
  accepted, and a member joining later gets none of them;
- three members on one partition get disjoint records whose union is everything;
- explicit acknowledgement: RELEASE redelivers with the delivery count raised, REJECT never
  redelivers, ACCEPT is final; a record released again and again is archived after
  group.share.delivery.count.limit deliveries;
- a member that holds records without acknowledging them and stops polling (or is frozen with
  SIGSTOP, its connection open) loses them when share.record.lock.duration.ms expires: another
  member gets them with delivery count 2; one that closes without acknowledging, or is killed
  (its connection closes), releases them at once, long before the lock expires, with the
  delivery count not raised (another member gets them with delivery count 1);
- share.isolation.level=read_committed skips aborted transactional records;
- the consumer-group admin APIs (ListGroups, DescribeGroups / ConsumerGroupDescribe) do not show
  a share group as a consumer group.

Group settings are set with IncrementalAlterConfigs on the GROUP resource. Against Apache Kafka
(`--broker=kafka`) the harness formats the node with `share.version=1` (klammtest.KAFKA_FORMAT_FEATURES).
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from confluent_kafka import AcknowledgeType, ConsumerGroupState, ShareConsumer
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from klammtest import TIMEOUT, cf_create_topic, cf_producer, unique_topic, wait_until

# Kafka's lower bounds lowered so that members heartbeat (and so get their assignment) every half
# second, as share-group heartbeats are 5 s by default and at least 5 s; the record lock's lower
# bound (group.share.min.record.lock.duration.ms, 15 s by default) lowered to 1 s so that a
# group can set share.record.lock.duration.ms=1000. Kafka's names; Klamm takes the same.
KLAMM_OVERRIDES = [
    "group.share.min.record.lock.duration.ms=1000",
    "group.share.min.heartbeat.interval.ms=100",
    "group.share.heartbeat.interval.ms=500",
    "group.share.min.session.timeout.ms=1000",
    "group.share.session.timeout.ms=3000",
]

LOCK_MS = 1000

# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------

_MEMBER_RE = re.compile(r'updating member id "\(not-set\)" -> "([^"]+)"')
# Kafka reads a share member's id with Uuid.fromString, URL-safe base64 ('-', '_'); librdkafka
# 2.16 makes its ids with the standard alphabet ('+', '/'), and Kafka answers every ShareFetch of
# such a member with UNKNOWN_SERVER_ERROR (IllegalArgumentException "Illegal base64 character").
# About half the ids have one of the two, so a consumer whose id has one is replaced before use.
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_consumers = [0]


class _MemberId(logging.Handler):
    def __init__(self):
        super().__init__()
        self.member = None

    def emit(self, record):
        m = _MEMBER_RE.search(record.getMessage())
        if m:
            self.member = m.group(1)


def share_consumer(bootstrap: str, group: str, topics: list, **conf) -> ShareConsumer:
    """A subscribed ShareConsumer (conf keys with '_' for '.') whose member id Kafka can read."""
    settings = {k.replace("_", "."): v for k, v in conf.items()}
    for _ in range(30):
        _consumers[0] += 1
        handler = _MemberId()
        log = logging.getLogger(f"share-consumer-{os.getpid()}-{_consumers[0]}")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False
        # `cgrp` debug logs the member id librdkafka picked (its logs reach `logger` from poll).
        c = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group, "logger": log,
                           "debug": "cgrp", "socket.timeout.ms": 10000, **settings})
        c.subscribe(topics)
        first = c.poll(0)  # serves the log queue; no assignment can have arrived yet
        assert len(first) == 0, "records before the first heartbeat"
        assert handler.member, "librdkafka logged no member id"
        if _URL_SAFE_ID.fullmatch(handler.member):
            return c
        c.close()
    raise AssertionError("librdkafka gave no URL-safe member id in 30 tries")


def set_group_config(bootstrap: str, group: str, **cfg) -> None:
    """IncrementalAlterConfigs SET on the GROUP resource (keys with '_' for '.')."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    res = ConfigResource(ResourceType.GROUP, group, incremental_configs=[
        ConfigEntry(k.replace("_", "."), str(v), incremental_operation=AlterConfigOpType.SET)
        for k, v in cfg.items()])
    admin.incremental_alter_configs([res])[res].result(TIMEOUT)


def new_topic_group(bootstrap: str, prefix: str, **group_cfg) -> tuple:
    topic, group = unique_topic(prefix), unique_topic(f"{prefix}-g")
    cf_create_topic(bootstrap, topic, 1)
    if group_cfg:
        set_group_config(bootstrap, group, **group_cfg)
    return topic, group


def produce_values(bootstrap: str, topic: str, values: list, *, one_batch_each: bool = False) -> None:
    """Produces `values` to partition 0 (acks=all); with one_batch_each every record is its own
    batch (Kafka acquires whole batches, so max.poll.records only splits between batches)."""
    p = cf_producer(bootstrap, acks="all", **({"linger.ms": 0} if one_batch_each else {}))
    errors = []
    for v in values:
        p.produce(topic, value=v, partition=0, on_delivery=lambda e, m: e and errors.append(e))
        if one_batch_each:
            assert p.flush(TIMEOUT) == 0
    assert p.flush(TIMEOUT) == 0
    assert not errors, errors


def rec(m) -> tuple:
    return (m.offset(), m.value(), m.delivery_count())


def poll_records(consumers: list, *, until=None, seconds: float = TIMEOUT, ack=None) -> list:
    """Polls each consumer in turn; returns [[(offset, value, delivery_count)...] per consumer].
    Stops when until(result) is true or after `seconds`. `ack(i, consumer, messages)` is called
    with each non-empty poll (explicit mode: it must acknowledge them)."""
    out: list = [[] for _ in consumers]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            ms = c.poll(0.1)
            good = []
            for m in ms:
                assert m.error() is None, f"consumer {i}: {m.error()}"
                assert m.topic() is not None and m.partition() == 0
                good.append(m)
            out[i].extend(rec(m) for m in good)
            if good and ack is not None:
                ack(i, c, good)
        if until is not None and until(out):
            return out
    if until is not None:
        raise AssertionError(f"timed out after {seconds}s: got {out}")
    return out


def total(n):
    return lambda out: sum(len(o) for o in out) >= n


def close_all(*consumers) -> None:
    for c in consumers:
        c.close()


# --------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------


def test_auto_offset_reset_latest_is_the_default(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-latest")
    produce_values(bootstrap, topic, [b"before-%d" % i for i in range(3)])
    c = share_consumer(bootstrap, group, [topic])
    try:
        # The share partition starts at the end when the first member fetches it.
        assert poll_records([c], seconds=4) == [[]]
        produce_values(bootstrap, topic, [b"after-%d" % i for i in range(3)])
        got = poll_records([c], until=total(3))
        assert got == [[(3, b"after-0", 1), (4, b"after-1", 1), (5, b"after-2", 1)]]
        assert poll_records([c], seconds=2) == [[]]
    finally:
        c.close()


def test_auto_offset_reset_earliest(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-earliest", share_auto_offset_reset="earliest")
    produce_values(bootstrap, topic, [b"before-%d" % i for i in range(3)])
    c = share_consumer(bootstrap, group, [topic])
    try:
        got = poll_records([c], until=total(3))
        produce_values(bootstrap, topic, [b"after-0"])
        got2 = poll_records([c], until=total(1))
        assert got[0] + got2[0] == [(0, b"before-0", 1), (1, b"before-1", 1), (2, b"before-2", 1),
                                    (3, b"after-0", 1)]
    finally:
        c.close()


def test_one_member_reads_everything_once_and_a_later_member_gets_nothing(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-once", share_auto_offset_reset="earliest")
    n = 50
    produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)])
    a = share_consumer(bootstrap, group, [topic])
    b = None
    try:
        got = poll_records([a], until=total(n))
        assert got == [[(i, b"v-%d" % i, 1) for i in range(n)]]
        # Implicit acknowledgement: the next poll accepts the previous poll's records (their
        # acknowledgements ride on that ShareFetch).
        assert poll_records([a], seconds=1) == [[]]
        b = share_consumer(bootstrap, group, [topic])
        # b joins after the records were accepted (and well after their lock would have expired).
        assert poll_records([a, b], seconds=3 + LOCK_MS / 1000) == [[], []]
        produce_values(bootstrap, topic, [b"late"])
        late = poll_records([a, b], until=total(1))
        assert sorted(late[0] + late[1]) == [(n, b"late", 1)]
    finally:
        close_all(a, *([b] if b else []))


def test_three_members_share_one_partition(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-three", share_auto_offset_reset="earliest")
    cs = [share_consumer(bootstrap, group, [topic], max_poll_records=5) for _ in range(3)]
    try:
        # All three are members with partition 0 (heartbeats every 0.5 s) before records exist.
        assert poll_records(cs, seconds=3) == [[], [], []]
        n = 60
        produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)], one_batch_each=True)
        got = poll_records(cs, until=total(n))
        offsets = [[o for o, _, _ in g] for g in got]
        flat = [o for g in offsets for o in g]
        assert len(flat) == len(set(flat)), f"a record went to two members: {offsets}"
        assert sorted(flat) == list(range(n)), offsets
        assert all(g for g in offsets), f"a member got nothing: {offsets}"
        assert all(dc == 1 and v == b"v-%d" % o for g in got for o, v, dc in g)
        assert poll_records(cs, seconds=1 + LOCK_MS / 1000) == [[], [], []]
    finally:
        close_all(*cs)


def test_explicit_release_redelivers_and_reject_does_not(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-ack", share_auto_offset_reset="earliest")
    produce_values(bootstrap, topic, [b"accept", b"reject", b"release"])
    c = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    polls: list = []

    def ack(_i, consumer, ms):
        polls.append([rec(m) for m in ms])
        for m in ms:
            kind = {b"accept": AcknowledgeType.ACCEPT, b"reject": AcknowledgeType.REJECT}.get(
                m.value(), AcknowledgeType.RELEASE if m.delivery_count() < 3 else AcknowledgeType.ACCEPT)
            consumer.acknowledge(m, kind)
        result = consumer.commit_sync(TIMEOUT)
        assert all(e is None for e in result.values()), result

    try:
        poll_records([c], until=total(5), ack=ack)
        assert polls[0] == [(0, b"accept", 1), (1, b"reject", 1), (2, b"release", 1)]
        # Only the released record comes back, its delivery count one higher each time.
        assert polls[1:] == [[(2, b"release", 2)], [(2, b"release", 3)]]
        # Accepted at the third delivery; nothing more.
        assert poll_records([c], seconds=1 + LOCK_MS / 1000, ack=ack) == [[]]
    finally:
        c.close()


def test_acknowledge_offset_and_implicit_mode_refuses_explicit_acks(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-ackoff", share_auto_offset_reset="earliest")
    produce_values(bootstrap, topic, [b"a", b"b"])
    c = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    seen: list = []

    def ack(_i, consumer, ms):
        seen.extend(rec(m) for m in ms)
        for m in ms:
            kind = AcknowledgeType.RELEASE if m.offset() == 1 and m.delivery_count() == 1 else AcknowledgeType.ACCEPT
            consumer.acknowledge_offset(topic, 0, m.offset(), kind)
        consumer.commit_sync(TIMEOUT)

    try:
        poll_records([c], until=total(3), ack=ack)
        assert seen == [(0, b"a", 1), (1, b"b", 1), (1, b"b", 2)]
    finally:
        c.close()


def test_delivery_count_limit_archives_a_released_record(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-limit", share_auto_offset_reset="earliest")
    produce_values(bootstrap, topic, [b"poison", b"good"])
    c = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")

    def ack(_i, consumer, ms):
        for m in ms:
            consumer.acknowledge(m, AcknowledgeType.RELEASE if m.value() == b"poison" else AcknowledgeType.ACCEPT)
        consumer.commit_sync(TIMEOUT)

    try:
        got = poll_records([c], until=total(6), ack=ack)[0]
        # group.share.delivery.count.limit = 5 (Kafka's default): five deliveries, then archived.
        assert got == [(0, b"poison", 1), (1, b"good", 1)] + [(0, b"poison", d) for d in range(2, 6)]
        assert poll_records([c], seconds=1 + LOCK_MS / 1000, ack=ack) == [[]]
        produce_values(bootstrap, topic, [b"next"])
        assert poll_records([c], until=total(1), ack=ack) == [[(2, b"next", 1)]]
    finally:
        c.close()


def test_lock_expiry_hands_unacknowledged_records_to_another_member(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-lock", share_auto_offset_reset="earliest",
                                   share_record_lock_duration_ms=LOCK_MS)
    n = 5
    produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)])
    a = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    b = None
    try:
        assert poll_records([a], until=total(n)) == [[(i, b"v-%d" % i, 1) for i in range(n)]]
        acquired = time.monotonic()
        # a stops polling and never acknowledges; its lock expires.
        b = share_consumer(bootstrap, group, [topic])
        got = poll_records([b], until=total(n))
        assert got == [[(i, b"v-%d" % i, 2) for i in range(n)]]
        assert time.monotonic() - acquired >= LOCK_MS / 1000 * 0.9
    finally:
        close_all(a, *([b] if b else []))


def test_member_closed_without_acknowledging_releases_its_records(bootstrap):
    # The lock (30 s, Kafka's default) does not run out here: closing (ShareAcknowledge with
    # share session epoch -1) releases what the member held, and as the member never finished
    # with them, the delivery count goes back to what it was.
    topic, group = new_topic_group(bootstrap, "share-close", share_auto_offset_reset="earliest")
    n = 4
    produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)])
    a = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    assert poll_records([a], until=total(n)) == [[(i, b"v-%d" % i, 1) for i in range(n)]]
    a.close()
    closed = time.monotonic()
    b = share_consumer(bootstrap, group, [topic])
    try:
        got = poll_records([b], until=total(n), seconds=10)
        assert time.monotonic() - closed < 10
        assert got == [[(i, b"v-%d" % i, 1) for i in range(n)]]
        assert poll_records([b], seconds=1) == [[]]
    finally:
        b.close()


_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import test_share_groups as t
boot, group, topic, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
c = t.share_consumer(boot, group, [topic])
got = t.poll_records([c], until=t.total(n))[0]
print(json.dumps(got, default=lambda b: b.decode()), flush=True)
time.sleep(600)  # stopped or killed here, holding the records (implicit mode: no next poll, no ack)
"""


def _child_holding_records(bootstrap, group, topic, n):
    here = str(Path(__file__).resolve().parent)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, here, bootstrap, group, topic, str(n)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=here)
    try:
        line = wait_until(lambda: child.stdout.readline(), what="the child's records")
        assert json.loads(line) == [[i, "v-%d" % i, 1] for i in range(n)]
    except BaseException:
        child.kill()
        child.wait(10)
        raise
    return child


def test_killed_member_releases_its_records_when_its_connection_closes(bootstrap):
    # kill -9: the connection closes, Kafka drops the member's share session and releases its
    # records at once (well inside the 30 s lock), delivery count not raised.
    topic, group = new_topic_group(bootstrap, "share-kill", share_auto_offset_reset="earliest")
    n = 6
    produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)])
    child = _child_holding_records(bootstrap, group, topic, n)
    b = None
    try:
        child.send_signal(signal.SIGKILL)
        child.wait(TIMEOUT)
        killed = time.monotonic()
        b = share_consumer(bootstrap, group, [topic])
        got = poll_records([b], until=total(n), seconds=10)
        assert time.monotonic() - killed < 10
        assert got == [[(i, b"v-%d" % i, 1) for i in range(n)]]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
        if b:
            b.close()


def test_frozen_member_loses_its_records_after_the_lock_duration(bootstrap):
    # SIGSTOP: the connection stays open, nothing is acknowledged; the 1 s lock expires and
    # another member gets the records with delivery count 2.
    topic, group = new_topic_group(bootstrap, "share-stop", share_auto_offset_reset="earliest",
                                   share_record_lock_duration_ms=LOCK_MS)
    n = 6
    produce_values(bootstrap, topic, [b"v-%d" % i for i in range(n)])
    child = _child_holding_records(bootstrap, group, topic, n)
    b = None
    try:
        child.send_signal(signal.SIGSTOP)
        b = share_consumer(bootstrap, group, [topic])
        got = poll_records([b], until=total(n))
        assert got == [[(i, b"v-%d" % i, 2) for i in range(n)]]
    finally:
        child.kill()
        child.wait(10)
        if b:
            b.close()


def test_read_committed_skips_aborted_records(bootstrap):
    from confluent_kafka import Producer

    topic, committed = new_topic_group(bootstrap, "share-txn", share_auto_offset_reset="earliest",
                                       share_isolation_level="read_committed")
    uncommitted = unique_topic("share-txn-ru")
    set_group_config(bootstrap, uncommitted, share_auto_offset_reset="earliest")
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": unique_topic("share-tx")})
    p.init_transactions(TIMEOUT)
    for tag, commit in (("c1", True), ("a1", False), ("c2", True)):
        p.begin_transaction()
        for i in range(3):
            p.produce(topic, value=f"{tag}-{i}".encode(), partition=0)
        assert p.flush(TIMEOUT) == 0
        (p.commit_transaction if commit else p.abort_transaction)(TIMEOUT)
    # Offsets: c1 0-2, marker 3, a1 4-6, marker 7, c2 8-10, marker 11.
    rc = share_consumer(bootstrap, committed, [topic])
    ru = share_consumer(bootstrap, uncommitted, [topic])
    try:
        got = poll_records([rc], until=total(6))[0]
        assert got == [(o, v.encode(), 1) for o, v in
                       [(0, "c1-0"), (1, "c1-1"), (2, "c1-2"), (8, "c2-0"), (9, "c2-1"), (10, "c2-2")]]
        got = poll_records([ru], until=total(9))[0]
        assert [o for o, _, _ in got] == [0, 1, 2, 4, 5, 6, 8, 9, 10]
        assert poll_records([rc, ru], seconds=1 + LOCK_MS / 1000) == [[], []]
    finally:
        close_all(rc, ru)


def test_consumer_group_admin_apis_do_not_show_a_share_group(bootstrap):
    topic, group = new_topic_group(bootstrap, "share-admin", share_auto_offset_reset="earliest")
    produce_values(bootstrap, topic, [b"x"])
    c = share_consumer(bootstrap, group, [topic])
    admin = AdminClient({"bootstrap.servers": bootstrap})
    try:
        assert poll_records([c], until=total(1)) == [[(0, b"x", 1)]]
        # ListGroups v5 as librdkafka sends it (its types are CONSUMER and CLASSIC only).
        listed = admin.list_consumer_groups(request_timeout=TIMEOUT).result(TIMEOUT)
        assert group not in [g.group_id for g in listed.valid], [g.group_id for g in listed.valid]
        # The group exists (the legacy ListGroups lists it, with no protocol type), but
        # DescribeGroups does not describe it: Dead, no members.
        legacy = {g.id: g for g in admin.list_groups(timeout=TIMEOUT)}
        assert group in legacy, sorted(legacy)
        assert legacy[group].protocol_type == "" and legacy[group].members == []
        desc = admin.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(TIMEOUT)
        assert desc.state == ConsumerGroupState.DEAD and desc.members == [], vars(desc)
    finally:
        c.close()


def test_broker_kill9_keeps_acknowledgements_and_redelivers_the_rest(make_broker):
    # The share-partition state is in __share_group_state: after kill -9 of the broker, the
    # accepted records are never handed out again and every one not acknowledged is.
    b = make_broker(KLAMM_OVERRIDES)
    topic, group = new_topic_group(b.bootstrap, "share-crash", share_auto_offset_reset="earliest")
    n = 10
    produce_values(b.bootstrap, topic, [b"v-%d" % i for i in range(n)], one_batch_each=True)
    a = share_consumer(b.bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    seen: list = []

    def ack(_i, consumer, ms):
        for m in ms:
            seen.append(rec(m))
            # Accept the first six; the rest stay acquired, unacknowledged.
            if m.offset() < 6:
                consumer.acknowledge(m, AcknowledgeType.ACCEPT)
        if any(m.offset() < 6 for m in ms):
            result = consumer.commit_sync(TIMEOUT)
            assert all(e is None for e in result.values()), result

    try:
        poll_records([a], until=lambda _: len(seen) >= n, ack=ack)
        assert sorted(seen) == [(i, b"v-%d" % i, 1) for i in range(n)]
        b.restart(kill=True)
    finally:
        a.close()
    c = share_consumer(b.bootstrap, group, [topic])
    try:
        got = poll_records([c], until=total(n - 6))[0]
        assert sorted(o for o, _, _ in got) == list(range(6, n)), got
        assert all(v == b"v-%d" % o for o, v, _ in got)
        # Nothing else comes, and new records still flow.
        assert poll_records([c], seconds=2) == [[]]
        produce_values(b.bootstrap, topic, [b"after"])
        assert poll_records([c], until=total(1)) == [[(n, b"after", 1)]]
    finally:
        c.close()


@pytest.mark.klamm_only("share-group dead-letter topics are beyond Kafka 4.1 (KIP-1191 adds them in Kafka 4.4)")
def test_dead_letter_topic_gets_rejected_and_delivery_limit_records(bootstrap):
    from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

    topic = unique_topic("share-dlq")
    group = unique_topic("share-dlq-g")
    dlq = "dlq." + topic
    cf_create_topic(bootstrap, topic, 1)
    # A dead-letter topic must start with errors.deadletterqueue.topic.name.prefix ("dlq.").
    with pytest.raises(KafkaException) as refused:
        set_group_config(bootstrap, group, errors_deadletterqueue_topic_name="not-dlq")
    assert "INVALID_CONFIG" in str(refused.value) or "InvalidConfig" in str(refused.value), refused.value
    set_group_config(bootstrap, group, share_auto_offset_reset="earliest",
                     errors_deadletterqueue_topic_name=dlq)
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for v in (b"ok", b"bad", b"poison"):
        p.produce(topic, key=b"k-" + v, value=v, partition=0, headers=[("h", b"1")])
        assert p.flush(TIMEOUT) == 0
    c = share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")

    def ack(_i, consumer, ms):
        for m in ms:
            kind = {b"ok": AcknowledgeType.ACCEPT, b"bad": AcknowledgeType.REJECT}.get(
                m.value(), AcknowledgeType.RELEASE)
            consumer.acknowledge(m, kind)
        consumer.commit_sync(TIMEOUT)

    try:
        # ok once, bad once, poison five times (then archived at the delivery limit).
        got = poll_records([c], until=total(7), ack=ack)[0]
        assert sorted(got) == sorted([(0, b"ok", 1), (1, b"bad", 1)] + [(2, b"poison", d) for d in range(1, 6)])
    finally:
        c.close()
    dl = Consumer({"bootstrap.servers": bootstrap, "group.id": unique_topic("dlq-reader"),
                   "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        dl.assign([TopicPartition(dlq, 0, 0)])
        copies = []
        deadline = time.monotonic() + TIMEOUT
        while len(copies) < 2 and time.monotonic() < deadline:
            m = dl.poll(0.2)
            if m is not None and m.error() is None:
                copies.append(m)
        assert len(copies) == 2, copies
        as_dict = [(m.key(), m.value(), dict((k, v) for k, v in m.headers())) for m in copies]
        assert as_dict[0] == (b"k-bad", b"bad", {
            "h": b"1", "__dlq.errors.topic": topic.encode(), "__dlq.errors.partition": b"0",
            "__dlq.errors.offset": b"1", "__dlq.errors.group.id": group.encode(),
            "__dlq.errors.delivery.count": b"1", "__dlq.errors.reason": b"REJECTED"})
        assert as_dict[1] == (b"k-poison", b"poison", {
            "h": b"1", "__dlq.errors.topic": topic.encode(), "__dlq.errors.partition": b"0",
            "__dlq.errors.offset": b"2", "__dlq.errors.group.id": group.encode(),
            "__dlq.errors.delivery.count": b"5", "__dlq.errors.reason": b"DELIVERY_COUNT_LIMIT"})
    finally:
        dl.close()


@pytest.mark.klamm_only("Klamm's /metrics endpoint (Kafka has JMX)")
def test_share_metrics_show_members_in_flight_and_lag(broker):
    import urllib.request

    topic, group = new_topic_group(broker.bootstrap, "share-metrics", share_auto_offset_reset="earliest",
                                   share_record_lock_duration_ms=LOCK_MS)
    produce_values(broker.bootstrap, topic, [b"v-%d" % i for i in range(5)])
    sample = re.compile(r'^(klamm_share_[a-z_]+)(?:\{(.*)\})? (\S+)$')

    def scrape(name, **want):
        with urllib.request.urlopen(f"http://{broker.http}/metrics", timeout=TIMEOUT) as r:
            text = r.read().decode()
        for line in text.splitlines():
            m = sample.match(line)
            if not m or m.group(1) != name:
                continue
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            if all(labels.get(k) == str(v) for k, v in want.items()):
                return float(m.group(3))
        raise AssertionError(f"no {name} {want} in:\n" + "\n".join(
            l for l in text.splitlines() if l.startswith("klamm_share")))

    part = {"group": group, "topic": topic, "partition": 0}
    a = share_consumer(broker.bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    b = None
    try:
        assert len(poll_records([a], until=total(5))[0]) == 5
        # a holds the five records, unacknowledged.
        assert scrape("klamm_share_group_members", group=group) == 1
        assert scrape("klamm_share_partition_acquired_records", **part) == 5
        assert scrape("klamm_share_partition_in_flight_records", **part) == 5
        assert scrape("klamm_share_group_lag", **part) == 5
        assert scrape("klamm_share_group_lag_sum", group=group, topic=topic) == 5
        assert scrape("klamm_share_groups", state="Stable") >= 1
        # Their locks expire; b gets them again (delivery count 2) and accepts them.
        b = share_consumer(broker.bootstrap, group, [topic])
        got = poll_records([b], until=total(5))[0]
        assert all(dc == 2 for _, _, dc in got), got
        assert poll_records([b], seconds=1) == [[]]  # the next poll accepts them
        assert scrape("klamm_share_lock_expiries_total", **part) == 5
        assert scrape("klamm_share_redeliveries_total", **part) == 5
        assert scrape("klamm_share_group_lag", **part) == 0
        assert scrape("klamm_share_partition_start_offset", **part) == 5
        assert scrape("klamm_share_group_members", group=group) == 2
    finally:
        close_all(a, *([b] if b else []))
