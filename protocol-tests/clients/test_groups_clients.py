"""Consumer groups with kafka-python and kafkajs, and groups that change client library: each
library spreads partitions over its members, moves them on leave and session timeout, resumes
from committed offsets, and a group started by one library continues with another from the
offsets the first committed.
"""

import pytest
import shutil

from groupstest import GROUP_OVERRIDES, Member, wait_assignment, wait_records
from klammtest import Rec, cf_create_topic, cf_produce, unique_topic

KLAMM_OVERRIDES = GROUP_OVERRIDES

PARTITIONS = 6
CLIENTS = ["kafka-python", "kafkajs"]


@pytest.fixture(scope="module", autouse=True)
def node_ready():
    if not shutil.which("node"):
        pytest.fail("node is not installed")


def produce_values(bootstrap, topic, per_partition, partitions=PARTITIONS):
    recs = [Rec(p, f"k{i}".encode(), f"{topic}-{p}-{i}".encode()) for i in range(per_partition) for p in range(partitions)]
    res = cf_produce(bootstrap, topic, recs, acks="all")
    assert all(e is None for _, _, e in res), res


@pytest.mark.parametrize("client", CLIENTS)
def test_members_share_partitions_and_rebalance(bootstrap, members, client):
    topic = unique_topic(f"grp-{client}")
    group = unique_topic(f"g-{client}")
    cf_create_topic(bootstrap, topic, PARTITIONS)
    everything = {(topic, p) for p in range(PARTITIONS)}
    for i in range(3):
        members.append(Member(client, bootstrap, group, [topic], name=f"{client}-{i}"))
    got = wait_assignment(members, everything, what=f"3 {client} members")
    assert sorted(len(s) for s in got.values()) == [2, 2, 2], got

    produce_values(bootstrap, topic, 2)
    for m in members:
        for t, p in got[m.name]:
            wait_records(m, t, p, 2)

    leaving = members.pop(0)
    leaving.close()
    got = wait_assignment(members, everything, what=f"{client}: 2 members after a leave")
    assert sorted(len(s) for s in got.values()) == [3, 3], got

    members.pop(0).kill()
    got = wait_assignment(members, everything, what=f"{client}: 1 member after a session timeout")


@pytest.mark.parametrize("client", CLIENTS)
def test_committed_offsets_are_resumed(bootstrap, members, client):
    topic = unique_topic(f"grp-resume-{client}")
    group = unique_topic(f"g-resume-{client}")
    cf_create_topic(bootstrap, topic, 3)
    produce_values(bootstrap, topic, 8, partitions=3)
    first = Member(client, bootstrap, group, [topic], name=f"{client}-first")
    members.append(first)
    wait_assignment([first], {(topic, p) for p in range(3)})
    for p in range(3):
        wait_records(first, topic, p, 8)
    first.commit([[topic, p, 2 * p + 1] for p in range(3)])
    first.close()

    second = Member(client, bootstrap, group, [topic], name=f"{client}-second")
    members.append(second)
    wait_assignment([second], {(topic, p) for p in range(3)})
    for p in range(3):
        wait_records(second, topic, p, 8 - (2 * p + 1))
        assert [r[2] for r in second.records_of(topic, p)] == list(range(2 * p + 1, 8))


@pytest.mark.parametrize(
    "chain",
    [["confluent", "kafka-python", "kafkajs"], ["kafkajs", "kafka-python", "confluent"]],
    ids=lambda c: "-then-".join(c),
)
def test_group_continues_with_another_library(bootstrap, members, chain):
    """Each library in turn consumes a few more records per partition, commits, and leaves; the
    next one starts exactly at the committed offsets."""
    topic = unique_topic("grp-cross")
    group = unique_topic("g-cross")
    cf_create_topic(bootstrap, topic, 3)
    produce_values(bootstrap, topic, 12, partitions=3)
    committed = {p: 0 for p in range(3)}
    for step, client in enumerate(chain):
        m = Member(client, bootstrap, group, [topic], name=f"{client}-{step}")
        members.append(m)
        wait_assignment([m], {(topic, p) for p in range(3)}, what=f"{client} assignment")
        for p in range(3):
            wait_records(m, topic, p, 12 - committed[p])
            offsets = [r[2] for r in m.records_of(topic, p)]
            assert offsets == list(range(committed[p], 12)), (client, p, offsets)
        committed = {p: committed[p] + 3 + p for p in range(3)}
        m.commit([[topic, p, o] for p, o in committed.items()])
        m.close()


def test_kcat_balanced_consumer_commits(bootstrap, kcat_bin):
    """kcat -G: a balanced consumer reads every partition to the end and, on exit, commits what
    it consumed (auto commit); a second run of the same group reads nothing new."""
    import json
    import subprocess

    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    from klammtest import TIMEOUT

    topic = unique_topic("grp-kcat")
    group = unique_topic("g-kcat")
    cf_create_topic(bootstrap, topic, 3)
    produce_values(bootstrap, topic, 4, partitions=3)

    def run():
        proc = subprocess.run(
            [kcat_bin, "-b", bootstrap, "-G", group, "-X", "auto.offset.reset=earliest", "-e", "-J", "-q",
             "-X", "session.timeout.ms=6000", topic],
            capture_output=True, timeout=TIMEOUT + 30,
        )
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]

    got = run()
    assert sorted((m["partition"], m["offset"]) for m in got) == [(p, o) for p in range(3) for o in range(4)]
    a = AdminClient({"bootstrap.servers": bootstrap})
    res = a.list_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in range(3)])]
    )[group].result(timeout=TIMEOUT)
    assert {tp.partition: tp.offset for tp in res.topic_partitions} == {0: 4, 1: 4, 2: 4}
    assert run() == []
