"""Consumer groups with confluent-kafka (librdkafka): rebalancing on join, leave and session
timeout, committed offsets resumed by a new member, cooperative rebalancing, static membership,
and the group admin APIs.

Members run as subprocesses (group_member.py) so one can be killed without a LeaveGroup.
The broker runs with group.initial.rebalance.delay.ms=0 and short session timeouts allowed.
"""

import pytest
from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from groupstest import GROUP_OVERRIDES, Member, wait_assignment, wait_records
from klammtest import TIMEOUT, cf_create_topic, cf_produce, Rec, unique_topic, wait_until

KLAMM_OVERRIDES = GROUP_OVERRIDES

PARTITIONS = 6


def produce_values(bootstrap, topic, per_partition, partitions=PARTITIONS, start=0):
    recs = [Rec(p, f"k{i}".encode(), f"{topic}-{p}-{i}".encode()) for i in range(start, start + per_partition)
            for p in range(partitions)]
    res = cf_produce(bootstrap, topic, recs, acks="all")
    assert all(e is None for _, _, e in res), res


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def committed_offsets(bootstrap, group, topic, partitions=PARTITIONS) -> dict:
    from confluent_kafka import ConsumerGroupTopicPartitions

    a = admin(bootstrap)  # the client must outlive its futures
    fut = a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(partitions)])],
        request_timeout=TIMEOUT,
    )[group]
    return {tp.partition: tp.offset for tp in fut.result(timeout=TIMEOUT).topic_partitions}


def describe(bootstrap, group):
    a = admin(bootstrap)
    return a.describe_consumer_groups([group], request_timeout=TIMEOUT)[group].result(timeout=TIMEOUT)


def test_three_members_share_six_partitions_and_rebalance(bootstrap, members):
    topic = unique_topic("grp")
    group = unique_topic("g3")
    cf_create_topic(bootstrap, topic, PARTITIONS)
    everything = {(topic, p) for p in range(PARTITIONS)}

    for i in range(3):
        members.append(Member("confluent", bootstrap, group, [topic], name=f"m{i}"))
    got = wait_assignment(members, everything, what="3 members covering 6 partitions")
    assert sorted(len(s) for s in got.values()) == [2, 2, 2], got

    # The broker's view agrees: Stable, three members, their assignments cover the topic.
    d = wait_until(lambda: (lambda g: g if g.state == ConsumerGroupState.STABLE and len(g.members) == 3 else None)(
        describe(bootstrap, group)), what="group Stable with 3 members")
    assert d.partition_assignor == "range" and not d.is_simple_consumer_group
    assigned = [(tp.topic, tp.partition) for m in d.members for tp in m.assignment.topic_partitions]
    assert sorted(assigned) == sorted(everything)

    # Records flow to the owners.
    produce_values(bootstrap, topic, 3)
    for m in members:
        for t, p in got[m.name]:
            wait_records(m, t, p, 3)

    # A member that leaves (LeaveGroup on close) has its partitions moved to the others.
    leaving = members.pop(0)
    leaving.close()
    got = wait_assignment(members, everything, what="2 members after a leave")
    assert sorted(len(s) for s in got.values()) == [3, 3], got

    # A member that dies is removed after its session timeout and the others take over.
    dead = members.pop(0)
    dead.kill()
    got = wait_assignment(members, everything, what="1 member after a session timeout")
    assert len(got[members[0].name]) == PARTITIONS


def test_committed_offsets_are_resumed_by_a_new_member(bootstrap, members):
    topic = unique_topic("grp-resume")
    group = unique_topic("g-resume")
    cf_create_topic(bootstrap, topic, PARTITIONS)
    produce_values(bootstrap, topic, 10)

    first = Member("confluent", bootstrap, group, [topic], name="first")
    members.append(first)
    wait_assignment([first], {(topic, p) for p in range(PARTITIONS)})
    for p in range(PARTITIONS):
        wait_records(first, topic, p, 10)
    commit = [[topic, p, 3 + p] for p in range(PARTITIONS)]
    assert sorted(map(tuple, first.commit(commit))) == sorted(map(tuple, commit))
    assert committed_offsets(bootstrap, group, topic) == {p: 3 + p for p in range(PARTITIONS)}
    first.close()

    second = Member("confluent", bootstrap, group, [topic], name="second")
    members.append(second)
    wait_assignment([second], {(topic, p) for p in range(PARTITIONS)})
    for p in range(PARTITIONS):
        wait_records(second, topic, p, 10 - (3 + p))
        offsets = [r[2] for r in second.records_of(topic, p)]
        assert offsets == list(range(3 + p, 10)), (p, offsets)


def test_commit_of_current_positions(bootstrap, members):
    topic = unique_topic("grp-pos")
    group = unique_topic("g-pos")
    cf_create_topic(bootstrap, topic, 2)
    produce_values(bootstrap, topic, 5, partitions=2)
    m = Member("confluent", bootstrap, group, [topic], name="pos")
    members.append(m)
    wait_assignment([m], {(topic, 0), (topic, 1)})
    wait_records(m, topic, 0, 5)
    wait_records(m, topic, 1, 5)
    assert sorted(m.commit()) == [(topic, 0, 5), (topic, 1, 5)]
    assert committed_offsets(bootstrap, group, topic, 2) == {0: 5, 1: 5}


def test_cooperative_sticky_rebalancing(bootstrap, members):
    topic = unique_topic("grp-coop")
    group = unique_topic("g-coop")
    cf_create_topic(bootstrap, topic, PARTITIONS)
    everything = {(topic, p) for p in range(PARTITIONS)}
    a = Member("confluent", bootstrap, group, [topic], strategy="cooperative-sticky", name="a")
    members.append(a)
    wait_assignment([a], everything)
    b = Member("confluent", bootstrap, group, [topic], strategy="cooperative-sticky", name="b")
    members.append(b)
    got = wait_assignment([a, b], everything, what="cooperative split")
    assert sorted(len(s) for s in got.values()) == [3, 3]
    # Sticky: everything b got was a's before; a kept the rest without losing it in between.
    assert got["a"] < everything
    b.close()
    wait_assignment([a], everything, what="cooperative takeover")


def test_static_member_restart_does_not_rebalance(bootstrap, members):
    topic = unique_topic("grp-static")
    group = unique_topic("g-static")
    cf_create_topic(bootstrap, topic, 4)
    everything = {(topic, p) for p in range(4)}
    a = Member("confluent", bootstrap, group, [topic], instance_id="inst-a", name="a")
    b = Member("confluent", bootstrap, group, [topic], instance_id="inst-b", name="b")
    members.extend([a, b])
    before = wait_assignment([a, b], everything, what="static members")
    gen_members = {m.member_id: m.group_instance_id for m in describe(bootstrap, group).members}
    assert sorted(gen_members.values()) == ["inst-a", "inst-b"]

    # Kill b and start it again with the same group.instance.id within the session timeout:
    # it gets its old partitions back and a keeps its own without a rebalance.
    a_seen = a.assignments_seen
    b.kill()
    b2 = Member("confluent", bootstrap, group, [topic], instance_id="inst-b", name="b")
    members.append(b2)
    wait_until(lambda: set(b2.current()) == before["b"], what="static member regains its partitions")
    assert set(a.current()) == before["a"]
    assert a.assignments_seen == a_seen, "the static restart made the other member rebalance"
    d = describe(bootstrap, group)
    assert d.state == ConsumerGroupState.STABLE
    assert sorted(m.group_instance_id for m in d.members) == ["inst-a", "inst-b"]


def test_admin_list_describe_and_delete_groups(bootstrap, members):
    topic = unique_topic("grp-admin")
    live, idle = unique_topic("g-live"), unique_topic("g-idle")
    cf_create_topic(bootstrap, topic, 2)
    m = Member("confluent", bootstrap, live, [topic], name="live")
    members.append(m)
    wait_assignment([m], {(topic, 0), (topic, 1)})
    # A "simple" group: offsets committed without membership.
    from confluent_kafka import ConsumerGroupTopicPartitions

    a = admin(bootstrap)
    fut = a.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(idle, [TopicPartition(topic, 0, 7), TopicPartition(topic, 1, 9)])]
    )[idle]
    res = fut.result(timeout=TIMEOUT)
    assert [(tp.partition, tp.offset, tp.error) for tp in res.topic_partitions] == [(0, 7, None), (1, 9, None)]

    listed = a.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    by_id = {g.group_id: g for g in listed.valid}
    assert by_id[live].state == ConsumerGroupState.STABLE and not by_id[live].is_simple_consumer_group
    assert by_id[idle].state == ConsumerGroupState.EMPTY and by_id[idle].is_simple_consumer_group
    stable_only = a.list_consumer_groups(states={ConsumerGroupState.STABLE}, request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert live in {g.group_id for g in stable_only.valid} and idle not in {g.group_id for g in stable_only.valid}

    d = describe(bootstrap, live)
    assert d.state == ConsumerGroupState.STABLE and len(d.members) == 1
    assert d.members[0].client_id == "klamm-live" and d.members[0].host.startswith("/127.0.0.1")
    assert sorted(tp.partition for tp in d.members[0].assignment.topic_partitions) == [0, 1]
    assert d.coordinator is not None

    assert committed_offsets(bootstrap, idle, topic, 2) == {0: 7, 1: 9}

    # Deleting a group with members is refused; an empty one goes with its offsets.
    res = a.delete_consumer_groups([live, idle], request_timeout=TIMEOUT)
    with pytest.raises(KafkaException) as ei:
        res[live].result(timeout=TIMEOUT)
    assert ei.value.args[0].code() == KafkaError.NON_EMPTY_GROUP
    res[idle].result(timeout=TIMEOUT)
    listed = a.list_consumer_groups(request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert idle not in {g.group_id for g in listed.valid}
    assert committed_offsets(bootstrap, idle, topic, 2) == {0: -1001, 1: -1001}
    res = a.delete_consumer_groups([idle], request_timeout=TIMEOUT)
    with pytest.raises(KafkaException) as ei:
        res[idle].result(timeout=TIMEOUT)
    assert ei.value.args[0].code() == KafkaError.GROUP_ID_NOT_FOUND

    # Once the member leaves, the group is Empty and can be deleted.
    m.close()
    wait_until(lambda: describe(bootstrap, live).state == ConsumerGroupState.EMPTY, what="group empty after leave")
    a.delete_consumer_groups([live], request_timeout=TIMEOUT)[live].result(timeout=TIMEOUT)


def test_delete_group_offsets(bootstrap, members):
    """OffsetDelete through kafka-python's admin client (confluent-kafka's Python AdminClient has
    no delete-offsets call): refused for a subscribed topic of a live group, allowed otherwise."""
    from kafka.admin import KafkaAdminClient
    from kafka.structs import TopicPartition as KTP
    from confluent_kafka import ConsumerGroupTopicPartitions

    sub, other = unique_topic("grp-sub"), unique_topic("grp-other")
    group = unique_topic("g-deloff")
    cf_create_topic(bootstrap, sub, 1)
    cf_create_topic(bootstrap, other, 1)
    m = Member("confluent", bootstrap, group, [sub], name="deloff")
    members.append(m)
    wait_assignment([m], {(sub, 0)})
    m.commit([[sub, 0, 1], [other, 0, 2]])
    ka = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        res = ka.delete_group_offsets(group, [KTP(sub, 0), KTP(other, 0)])
        errs = {tp.topic: err for tp, err in res.items()}
        assert errs[other] is None or errs[other].errno == 0, errs
        assert errs[sub] is not None and errs[sub].errno == 86, errs  # GROUP_SUBSCRIBED_TO_TOPIC
    finally:
        ka.close()
    a = admin(bootstrap)
    fut = a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(sub, 0), TopicPartition(other, 0)])]
    )[group]
    got = {tp.topic: tp.offset for tp in fut.result(timeout=TIMEOUT).topic_partitions}
    assert got == {sub: 1, other: -1001}
