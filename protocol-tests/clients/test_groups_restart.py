"""Committed offsets and group metadata survive a broker restart (SIGTERM and kill -9), because
they are records in __consumer_offsets, replayed at start-up; and that topic is internal,
refuses client writes, and reads back with Kafka's own record layout.
"""

import struct

import pytest
from confluent_kafka import ConsumerGroupState, ConsumerGroupTopicPartitions, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

from groupstest import GROUP_OVERRIDES, Member, wait_assignment, wait_records
from klammtest import TIMEOUT, Rec, cf_consumer, coordinator_retriable, cf_create_topic, cf_produce, unique_topic, wait_until


def java_partition(group: str, n: int) -> int:
    """Kafka's Utils.abs(group.hashCode()) % n, with Java's String.hashCode over UTF-16 units."""
    b = group.encode("utf-16-be")
    h = 0
    for (u,) in struct.iter_unpack(">H", b):
        h = (31 * h + u) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    return 0 if h == -(1 << 31) else abs(h) % n


def offsets(bootstrap, group, topic, partitions) -> dict:
    a = AdminClient({"bootstrap.servers": bootstrap})
    fut = a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])],
        request_timeout=TIMEOUT,
    )[group]
    return {tp.partition: tp.offset for tp in fut.result(timeout=TIMEOUT).topic_partitions}


def describe(bootstrap, group):
    a = AdminClient({"bootstrap.servers": bootstrap})
    return a.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)


def listed(bootstrap) -> dict:
    a = AdminClient({"bootstrap.servers": bootstrap})
    return {g.group_id: g for g in a.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT).valid}


def coordinator_loaded(bootstrap, group, topic) -> None:
    """Waits until GROUP's offsets can be fetched. librdkafka's AdminClient crashes the process
    (SIGSEGV in rd_kafka_handle_OffsetFetch, which hands the retry to a consumer group the admin
    client does not have) on a retriable OffsetFetch error such as COORDINATOR_LOAD_IN_PROGRESS,
    which Kafka answers while it loads __consumer_offsets after a restart (Klamm loads it before
    it listens). A consumer's committed() sends the same OffsetFetch and retries such errors."""
    from confluent_kafka import KafkaException

    c = cf_consumer(bootstrap, **{"group.id": group})
    try:
        def ok():
            try:
                c.committed([TopicPartition(topic, 0)], timeout=5)
                return True
            except KafkaException as e:
                if not coordinator_retriable(e.args[0]):
                    raise
                return False

        wait_until(ok, interval=0.2, what=f"the coordinator of {group} loaded")
    finally:
        c.close()


@pytest.mark.parametrize("kill", [False, True], ids=["sigterm", "kill-9"])
def test_offsets_and_groups_survive_restart(make_broker, members, kill):
    b = make_broker(GROUP_OVERRIDES)
    topic = unique_topic("grp-restart")
    left, simple, live = unique_topic("g-left"), unique_topic("g-simple"), unique_topic("g-live")
    cf_create_topic(b.bootstrap, topic, 3)
    cf_produce(b.bootstrap, topic, [Rec(p, None, f"v{i}".encode()) for i in range(6) for p in range(3)], acks="all")

    # A group whose member committed and left (Empty, protocol "consumer").
    m = Member("confluent", b.bootstrap, left, [topic], name="left")
    members.append(m)
    wait_assignment([m], {(topic, p) for p in range(3)})
    m.commit([[topic, p, p + 1] for p in range(3)])
    m.close()
    # A simple group (offsets only).
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(simple, [TopicPartition(topic, 0, 4), TopicPartition(topic, 2, 5)])]
    )[simple].result(timeout=TIMEOUT)
    del a
    # A group with a live member at the time of the restart. (The restarted broker listens on a
    # new port, so the member cannot follow it; what matters is what the broker loaded.) Its
    # session outlasts the checks below.
    alive = Member("confluent", b.bootstrap, live, [topic], name="live", session_ms=15000)
    members.append(alive)
    wait_assignment([alive], {(topic, p) for p in range(3)})
    alive.commit([[topic, 0, 6]])
    before = describe(b.bootstrap, live)
    assert before.state == ConsumerGroupState.STABLE

    b.restart(kill=kill)
    for g in (left, simple, live):
        coordinator_loaded(b.bootstrap, g, topic)

    assert offsets(b.bootstrap, left, topic, 3) == {0: 1, 1: 2, 2: 3}
    assert offsets(b.bootstrap, simple, topic, 3) == {0: 4, 1: -1001, 2: 5}
    assert offsets(b.bootstrap, live, topic, 3) == {0: 6, 1: -1001, 2: -1001}
    groups = listed(b.bootstrap)
    assert groups[left].state == ConsumerGroupState.EMPTY and not groups[left].is_simple_consumer_group
    assert groups[simple].is_simple_consumer_group
    # The live group is back as it was: Stable, same member id, same assignment and protocol.
    after = describe(b.bootstrap, live)
    assert after.state == ConsumerGroupState.STABLE and after.partition_assignor == "range"
    assert [(x.member_id, x.client_id, x.host) for x in after.members] == [
        (x.member_id, x.client_id, x.host) for x in before.members
    ]
    assert sorted(tp.partition for tp in after.members[0].assignment.topic_partitions) == [0, 1, 2]
    alive.kill()

    # A new member of the group that left resumes where it committed.
    again = Member("confluent", b.bootstrap, left, [topic], name="again")
    members.append(again)
    wait_assignment([again], {(topic, p) for p in range(3)})
    for p in range(3):
        wait_records(again, topic, p, 6 - (p + 1))
        assert [r[2] for r in again.records_of(topic, p)] == list(range(p + 1, 6))


def test_offsets_topic_is_internal_and_readable(broker, members):
    bootstrap = broker.bootstrap
    topic = unique_topic("grp-internal")
    group = unique_topic("g-internal")
    cf_create_topic(bootstrap, topic, 1)
    a = AdminClient({"bootstrap.servers": bootstrap})
    a.alter_consumer_group_offsets([ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 42)])])[group].result(
        timeout=TIMEOUT
    )

    # Metadata lists it as internal, with offsets.topic.num.partitions partitions.
    from kafka.admin import KafkaAdminClient

    ka = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        (md,) = ka.describe_topics(["__consumer_offsets"])
        assert md["is_internal"] is True and len(md["partitions"]) == 50
    finally:
        ka.close()
    # It cannot be deleted.
    from confluent_kafka import KafkaException

    with pytest.raises(KafkaException) as ei:
        a.delete_topics(["__consumer_offsets"], request_timeout=TIMEOUT)["__consumer_offsets"].result(timeout=TIMEOUT)
    assert ei.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED

    # Clients cannot write to it.
    from klammtest import cf_producer

    errors = []
    p = cf_producer(bootstrap, acks="all", retries=0)
    p.produce("__consumer_offsets", b"x", partition=0, on_delivery=lambda err, msg: errors.append(err))
    p.flush(TIMEOUT)
    assert len(errors) == 1 and errors[0] is not None and errors[0].code() == KafkaError.TOPIC_EXCEPTION, errors

    # It reads back like Kafka's: OffsetCommitKey v1 (group, topic, partition) and
    # OffsetCommitValue v3 (offset, leader epoch, metadata, commit timestamp) in the group's partition.
    part = java_partition(group, 50)
    c = cf_consumer(bootstrap)
    try:
        c.assign([TopicPartition("__consumer_offsets", part, 0)])
        found = None

        def poll():
            nonlocal found
            msg = c.poll(0.2)
            if msg is not None and not msg.error() and msg.key()[:2] == b"\x00\x01":
                found = msg
            return found

        wait_until(poll, what="the offset commit record in __consumer_offsets")
    finally:
        c.close()
    key, value = found.key(), found.value()
    g = group.encode()
    t = topic.encode()
    assert key == b"\x00\x01" + struct.pack(">h", len(g)) + g + struct.pack(">h", len(t)) + t + struct.pack(">i", 0)
    version, offset, epoch, mlen = struct.unpack(">hqih", value[:16])
    assert (version, offset, epoch, mlen) == (3, 42, -1, 0)
    (commit_ts,) = struct.unpack(">q", value[16:24])
    assert len(value) == 24 and commit_ts > 0
