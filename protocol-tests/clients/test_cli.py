"""The admin CLI (`klamm topic|group|produce|consume|cluster|health`) against a running Klamm.

Every subcommand runs as a separate process with `--json`; the tests assert on that output and
on the broker's state as confluent-kafka and kafka-python see it. Commands whose Kafka API the
broker does not advertise (e.g. IncrementalAlterConfigs before the admin APIs land) must fail
with a non-zero exit and say which API is missing; where the API is advertised the full
behaviour is asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import test_share_groups as share
from klammtest import TIMEOUT, Rec, coordinator_retriable, cf_assert_delivered, cf_consume, cf_produce, klamm_bin, unique_topic, wait_until

# The share-group settings of test_share_groups.py (members heartbeat every half second, so
# they get their assignment at once); they touch only share groups.
KLAMM_OVERRIDES = ["num.partitions=2", *share.KLAMM_OVERRIDES]


def cli_bin() -> Path:
    """The CLI binary: $KLAMM_CLI_BIN, else the broker binary (lets the CLI be tested against
    another broker build)."""
    return Path(os.environ.get("KLAMM_CLI_BIN") or klamm_bin())


def klamm(bootstrap, *args, input=None, check=True, json_out=True):
    cmd = [str(cli_bin()), *args, "--bootstrap-server", bootstrap]
    if json_out:
        cmd.append("--json")
    p = subprocess.run(cmd, input=input, capture_output=True, timeout=TIMEOUT + 30)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}\n{p.stderr.decode()}")
    return p


def out_json(p):
    return json.loads(p.stdout)


def advertised(bootstrap) -> set:
    info = out_json(klamm(bootstrap, "cluster", "info"))
    return {a["api"] for a in info["apis"]}


def test_cluster_info(broker, data_dir):
    info = out_json(klamm(broker.bootstrap, "cluster", "info"))
    props = dict(
        line.split("=", 1) for line in (data_dir / "meta.properties").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert info["cluster_id"] == props["cluster.id"]
    assert info["controller_id"] == 0
    assert info["brokers"] == [{"id": 0, "host": broker.host, "port": broker.port, "rack": None}]
    apis = {a["api"]: (a["min_version"], a["max_version"]) for a in info["apis"]}
    assert apis["Produce"][1] >= 12 and apis["Fetch"][0] == 4 and "ApiVersions" in apis
    table = klamm(broker.bootstrap, "cluster", "info", json_out=False).stdout.decode()
    assert f"Cluster id: {props['cluster.id']}" in table and "BROKER  HOST" in table


@pytest.mark.klamm_only("`klamm health` probes Klamm's /health HTTP endpoint, which Kafka does not have")
def test_health(broker):
    ok = subprocess.run([str(cli_bin()), "health", "--http", broker.http], capture_output=True, timeout=TIMEOUT)
    assert ok.returncode == 0
    bad = subprocess.run([str(cli_bin()), "health", "--http", "127.0.0.1:1"], capture_output=True, timeout=TIMEOUT)
    assert bad.returncode == 1 and b"cannot connect" in bad.stderr


def test_unreachable_bootstrap_fails():
    p = klamm("127.0.0.1:1", "topic", "list", check=False)
    assert p.returncode == 1 and b"cannot connect to 127.0.0.1:1" in p.stderr


def test_topic_lifecycle(broker):
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    topic = unique_topic("cli")
    created = out_json(klamm(broker.bootstrap, "topic", "create", topic, "--partitions", "3"))
    assert created["topic"] == topic and created["created"] is True
    assert created["partitions"] == 3 and created["replication_factor"] == 1
    md = admin.list_topics(timeout=TIMEOUT)
    assert len(md.topics[topic].partitions) == 3

    again = klamm(broker.bootstrap, "topic", "create", topic, check=False)
    assert again.returncode == 1
    assert f"creating topic {topic}: TOPIC_ALREADY_EXISTS (36): Topic with this name already exists." in again.stderr.decode()
    same = out_json(klamm(broker.bootstrap, "topic", "create", topic, "--if-not-exists"))
    assert same["created"] is False and same["partitions"] == 3 and same["topic_id"] == created["topic_id"]

    listed = out_json(klamm(broker.bootstrap, "topic", "list"))
    assert {"topic": topic, "partitions": 3, "internal": False} in listed
    assert [t["topic"] for t in listed] == sorted(t["topic"] for t in listed)

    recs = [Rec(i % 3, None, b"x") for i in range(7)]
    cf_assert_delivered(cf_produce(broker.bootstrap, topic, recs), recs)
    (desc,) = out_json(klamm(broker.bootstrap, "topic", "describe", topic))
    assert desc["topic"] == topic and desc["topic_id"] == created["topic_id"]
    assert [(p["partition"], p["leader"], p["replicas"], p["isr"], p["log_start_offset"], p["log_end_offset"])
            for p in desc["partitions"]] == [(0, 0, [0], [0], 0, 3), (1, 0, [0], [0], 0, 2), (2, 0, [0], [0], 0, 2)]
    table = klamm(broker.bootstrap, "topic", "describe", topic, json_out=False).stdout.decode()
    assert f"Topic: {topic}\tTopicId: {created['topic_id']}\tPartitionCount: 3" in table

    missing = klamm(broker.bootstrap, "topic", "describe", "no-such-topic-here", check=False)
    assert missing.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION (3)" in missing.stderr

    deleted = out_json(klamm(broker.bootstrap, "topic", "delete", topic))
    assert deleted == [{"topic": topic, "deleted": True}]
    assert topic not in admin.list_topics(timeout=TIMEOUT).topics
    gone = klamm(broker.bootstrap, "topic", "delete", topic, check=False)
    assert gone.returncode == 1 and b"UNKNOWN_TOPIC_OR_PARTITION (3)" in gone.stderr
    assert out_json(klamm(broker.bootstrap, "topic", "delete", topic, "--if-exists")) == [{"topic": topic, "deleted": False}]


def test_produce_keyed_lines_and_consume(broker):
    from kafka.partitioner.default import murmur2

    topic = unique_topic("cli-produce")
    klamm(broker.bootstrap, "topic", "create", topic, "--partitions", "3")
    lines = [(f"key-{i}", f"value {i}\twith tab") for i in range(50)]
    stdin = "".join(f"{k}\t{v}\n" for k, v in lines).encode()
    res = out_json(klamm(broker.bootstrap, "produce", topic, "--keyed", "--header", "src=cli", "--batch-size", "20", input=stdin))
    assert res["records"] == 50

    # Keys land where Kafka's (murmur2) partitioner puts them.
    expected: dict = {}
    for k, v in lines:
        p = (murmur2(k.encode()) & 0x7FFFFFFF) % 3
        expected.setdefault(p, []).append((k, v))
    assert {p["partition"]: p["records"] for p in res["partitions"]} == {p: len(v) for p, v in expected.items()}
    got = cf_consume(broker.bootstrap, topic, range(3), expected={p: len(v) for p, v in expected.items()})
    for p, msgs in expected.items():
        assert [(g.key.decode(), g.value.decode(), g.headers) for g in got[p]] == [
            (k, v, (("src", b"cli"),)) for k, v in msgs]

    # klamm consume reads the same, in order per partition.
    c = klamm(broker.bootstrap, "consume", topic, "--from-beginning", "--exit-at-end")
    rows = [json.loads(line) for line in c.stdout.decode().splitlines()]
    assert len(rows) == 50 and b"Processed a total of 50 messages" in c.stderr
    for p, msgs in expected.items():
        mine = [r for r in rows if r["partition"] == p]
        assert [(r["offset"], r["key"], r["value"], r["headers"]) for r in mine] == [
            (i, k, v, [["src", "cli"]]) for i, (k, v) in enumerate(msgs)]

    # --format, --partition/--offset and --count.
    p0 = sorted(expected)[0]
    fmt = klamm(broker.bootstrap, "consume", topic, "--partition", str(p0), "--offset", "1", "--count", "2",
                "--format", "%p|%o|%k|%v|%h", json_out=False)
    assert fmt.stdout.decode().splitlines() == [
        f"{p0}|{i}|{k}|{v}|src=cli" for i, (k, v) in list(enumerate(expected[p0]))[1:3]]

    # Unkeyed lines to one partition, acks=1.
    plain = out_json(klamm(broker.bootstrap, "produce", topic, "--partition", "1", "--acks", "1", input=b"a\nb\n"))
    assert plain["partitions"] == [{"partition": 1, "base_offset": len(expected.get(1, [])), "records": 2}]


def test_alter_config_and_add_partitions(broker):
    topic = unique_topic("cli-admin")
    klamm(broker.bootstrap, "topic", "create", topic, "--partitions", "1", "--config", "retention.ms=3600000")
    apis = advertised(broker.bootstrap)

    alter = klamm(broker.bootstrap, "topic", "alter-config", topic, "--set", "retention.ms=1000",
                  "--set", "cleanup.policy=compact", check=False)
    if "IncrementalAlterConfigs" in apis:
        assert alter.returncode == 0, alter.stderr
        assert out_json(alter) == {"topic": topic, "set": {"retention.ms": "1000", "cleanup.policy": "compact"}, "deleted": []}
        (desc,) = out_json(klamm(broker.bootstrap, "topic", "describe", topic))
        assert desc["configs"]["retention.ms"] == "1000" and desc["configs"]["cleanup.policy"] == "compact"
        klamm(broker.bootstrap, "topic", "alter-config", topic, "--delete", "cleanup.policy")
        (desc,) = out_json(klamm(broker.bootstrap, "topic", "describe", topic))
        assert "cleanup.policy" not in desc["configs"]
    else:
        assert alter.returncode == 1
        assert b"IncrementalAlterConfigs is not supported by the broker" in alter.stderr

    grow = klamm(broker.bootstrap, "topic", "add-partitions", topic, "--total", "4", check=False)
    if "CreatePartitions" in apis:
        assert grow.returncode == 0, grow.stderr
        assert out_json(grow) == {"topic": topic, "partitions": 4}
        (desc,) = out_json(klamm(broker.bootstrap, "topic", "describe", topic))
        assert [p["partition"] for p in desc["partitions"]] == [0, 1, 2, 3]
        shrink = klamm(broker.bootstrap, "topic", "add-partitions", topic, "--total", "2", check=False)
        assert shrink.returncode == 1 and b"INVALID_PARTITIONS (37)" in shrink.stderr
    else:
        assert grow.returncode == 1
        assert b"CreatePartitions is not supported by the broker" in grow.stderr


def test_groups(broker):
    apis = advertised(broker.bootstrap)
    if not {"ListGroups", "DescribeGroups", "OffsetFetch", "OffsetCommit", "FindCoordinator"} <= apis:
        p = klamm(broker.bootstrap, "group", "list", check=False)
        assert p.returncode == 1 and b"ListGroups is not supported by the broker" in p.stderr
        return
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    topic = unique_topic("cli-group")
    group = unique_topic("g")
    klamm(broker.bootstrap, "topic", "create", topic, "--partitions", "2")
    recs = [Rec(i % 2, None, f"v{i}".encode()) for i in range(20)]
    cf_assert_delivered(cf_produce(broker.bootstrap, topic, recs), recs)
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    # A retriable error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS while Kafka creates and
    # loads __consumer_offsets on a group's first use) is retried, as Kafka's own clients do.
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            c.commit(offsets=[TopicPartition(topic, 0, 4), TopicPartition(topic, 1, 7)], asynchronous=False)
            break
        except KafkaException as e:
            if not coordinator_retriable(e.args[0]) or time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    c.close()

    assert {"group": group, "state": "Empty", "protocol_type": "consumer"} in out_json(
        klamm(broker.bootstrap, "group", "list")) or any(
        g["group"] == group for g in out_json(klamm(broker.bootstrap, "group", "list")))
    (d,) = out_json(klamm(broker.bootstrap, "group", "describe", group))
    assert d["state"] == "Empty"
    assert [(o["topic"], o["partition"], o["committed_offset"], o["log_end_offset"], o["lag"]) for o in d["offsets"]] == [
        (topic, 0, 4, 10, 6), (topic, 1, 7, 10, 3)]

    dry = out_json(klamm(broker.bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-earliest"))
    assert dry["executed"] is False and [o["new_offset"] for o in dry["offsets"]] == [0, 0]
    (d,) = out_json(klamm(broker.bootstrap, "group", "describe", group))
    assert [o["committed_offset"] for o in d["offsets"]] == [4, 7]
    done = out_json(klamm(broker.bootstrap, "group", "reset-offsets", group, "--topic", f"{topic}:1", "--to-offset", "2", "--execute"))
    assert done["executed"] is True and done["offsets"] == [{"group": group, "topic": topic, "partition": 1, "new_offset": 2}]
    (d,) = out_json(klamm(broker.bootstrap, "group", "describe", group))
    assert [(o["committed_offset"], o["lag"]) for o in d["offsets"]] == [(4, 6), (2, 8)]
    out_json(klamm(broker.bootstrap, "group", "reset-offsets", group, "--all-topics", "--to-latest", "--execute"))
    (d,) = out_json(klamm(broker.bootstrap, "group", "describe", group))
    assert [o["lag"] for o in d["offsets"]] == [0, 0]

    # consume --group starts at the committed offsets and commits its position.
    out_json(klamm(broker.bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-offset", "8", "--execute"))
    got = klamm(broker.bootstrap, "consume", topic, "--group", group, "--exit-at-end")
    assert len(got.stdout.decode().splitlines()) == 4
    (d,) = out_json(klamm(broker.bootstrap, "group", "describe", group))
    assert [o["committed_offset"] for o in d["offsets"]] == [10, 10]

    assert out_json(klamm(broker.bootstrap, "group", "delete", group)) == [{"group": group, "deleted": True}]
    missing = klamm(broker.bootstrap, "group", "delete", group, check=False)
    assert missing.returncode == 1 and b"GROUP_ID_NOT_FOUND (69)" in missing.stderr


# --------------------------------------------------------------------------------------
# share groups (KIP-932): ShareGroupDescribe, DescribeShareGroupOffsets,
# AlterShareGroupOffsets, DeleteShareGroupOffsets
# --------------------------------------------------------------------------------------


def cli_share_consumer(bootstrap: str, group: str, topics: list, **conf):
    """test_share_groups.share_consumer, except that records may come with the first poll (a
    member joining a group whose share partitions already have records can be handed them
    before that poll runs). Returns (consumer, [(partition, offset, value)] of that poll)."""
    import logging

    from confluent_kafka import ShareConsumer

    settings = {k.replace("_", "."): v for k, v in conf.items()}
    for _ in range(30):
        share._consumers[0] += 1
        handler = share._MemberId()
        log = logging.getLogger(f"cli-share-consumer-{os.getpid()}-{share._consumers[0]}")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        log.propagate = False
        c = ShareConsumer({"bootstrap.servers": bootstrap, "group.id": group, "logger": log,
                           "debug": "cgrp", "socket.timeout.ms": 10000, **settings})
        c.subscribe(topics)
        first = c.poll(0)
        assert handler.member, "librdkafka logged no member id"
        if share._URL_SAFE_ID.fullmatch(handler.member):
            return c, [(m.partition(), m.offset(), m.value()) for m in first]
        assert len(first) == 0, "records for a member id Kafka cannot read"
        c.close()
    raise AssertionError("librdkafka gave no URL-safe member id in 30 tries")


def share_poll(consumer, want: int, settle: float = 1.5, got=None) -> list:
    """Polls until `want` records arrived, then `settle` seconds more (the next poll
    acknowledges the previous one's records, implicit mode); returns sorted
    [(partition, offset, value)] and fails on any extra record."""
    got = list(got or [])
    deadline = time.monotonic() + TIMEOUT
    while len(got) < want and time.monotonic() < deadline:
        for m in consumer.poll(0.2):
            assert m.error() is None, m.error()
            got.append((m.partition(), m.offset(), m.value()))
    end = time.monotonic() + settle
    while time.monotonic() < end:
        for m in consumer.poll(0.2):
            assert m.error() is None, m.error()
            got.append((m.partition(), m.offset(), m.value()))
    return sorted(got)


def share_offsets(d) -> list:
    return [(o["partition"], o["start_offset"], o["log_end_offset"], o["lag"]) for o in d["offsets"]]


def describe_when(bootstrap, group, pred, what):
    """`klamm group describe` (JSON) once pred(doc) holds (share-partition state is written by
    the partition leader after the acknowledgements, a moment after the poll)."""
    last = []

    def once():
        (d,) = out_json(klamm(bootstrap, "group", "describe", group))
        last[:] = [d]
        return d if pred(d) else None

    try:
        return wait_until(once, interval=0.3, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}; last describe: {last}") from None


def new_share_topic_group(bootstrap, prefix, on_p1=3):
    """A 2-partition topic (5 records on partition 0, `on_p1` on 1; record i stamped base + i s)
    and a share group reading it from the earliest offset."""
    topic, group = unique_topic(prefix), unique_topic(f"{prefix}-g")
    klamm(bootstrap, "topic", "create", topic, "--partitions", "2")
    share.set_group_config(bootstrap, group, share_auto_offset_reset="earliest")
    base = (int(time.time()) - 100) * 1000  # recent, so that retention keeps the records
    recs = [Rec(0, None, b"p0-%d" % i, timestamp=base + i * 1000) for i in range(5)] + [
        Rec(1, None, b"p1-%d" % i, timestamp=base + i * 1000) for i in range(on_p1)]
    cf_assert_delivered(cf_produce(bootstrap, topic, recs), recs)
    return topic, group, base


ALL_EIGHT = [(0, i, b"p0-%d" % i) for i in range(5)] + [(1, i, b"p1-%d" % i) for i in range(3)]


def test_share_group_list_describe_delete_offsets_and_delete(broker):
    bootstrap = broker.bootstrap
    # Records on partition 0 only: they come in one poll, which explicit mode needs (the next
    # poll refuses to run before they are acknowledged).
    topic, group, _ = new_share_topic_group(bootstrap, "cli-share", on_p1=0)
    p0_five = ALL_EIGHT[:5]

    # A member holds every record (explicit mode, never acknowledged). Nothing was written to
    # the share-group state yet (Kafka writes it with the first acknowledgement or release),
    # so DescribeShareGroupOffsets has no start offset (-1) for the assigned partitions.
    c = share.share_consumer(bootstrap, group, [topic], client_id="cli-share-member",
                             share_acknowledgement_mode="explicit")
    try:
        assert share_poll(c, 5, settle=0) == p0_five

        # list: ListGroups v5's group type, in JSON and in the TYPE column.
        listed = [g for g in out_json(klamm(bootstrap, "group", "list")) if g["group"] == group]
        assert listed == [{"group": group, "state": "Stable", "protocol_type": "share", "type": "share"}]
        lines = klamm(bootstrap, "group", "list", json_out=False).stdout.decode().splitlines()
        assert lines[0].split() == ["GROUP", "TYPE", "STATE", "PROTOCOL-TYPE"]
        assert [ln.split() for ln in lines if ln.split()[0] == group] == [[group, "share", "Stable", "share"]]

        # describe: the member and its assignment (ShareGroupDescribe), the start offsets
        # (DescribeShareGroupOffsets), the log end offsets and the lag.
        (d,) = out_json(klamm(bootstrap, "group", "describe", group))
        assert (d["type"], d["state"], d["assignor"]) == ("share", "Stable", "simple")
        assert d["group_epoch"] >= 1 and d["assignment_epoch"] == d["group_epoch"]
        (m,) = d["members"]
        assert (m["client_id"], m["subscribed_topics"], m["assignment"], m["member_epoch"], m["rack_id"]) == (
            "cli-share-member", [topic], [{"topic": topic, "partitions": [0, 1]}], d["group_epoch"], None)
        assert m["host"].endswith("127.0.0.1") and m["member_id"]
        assert d["offsets"] == [
            {"topic": topic, "partition": 0, "start_offset": None, "leader_epoch": None, "log_end_offset": 5,
             "lag": None, "member_ids": [m["member_id"]]},
            {"topic": topic, "partition": 1, "start_offset": None, "leader_epoch": None, "log_end_offset": 0,
             "lag": None, "member_ids": [m["member_id"]]}]
        text = klamm(bootstrap, "group", "describe", group, json_out=False).stdout.decode()
        assert f"Share group {group}: state Stable, group epoch {d['group_epoch']}, " \
               f"assignment epoch {d['group_epoch']}, assignor simple, 1 member(s)" in text
        rows = [ln.split() for ln in text.splitlines() if ln.split()[:1] == [group]]
        assert rows == [[group, topic, "0", "-", "5", "-", "1"], [group, topic, "1", "-", "0", "-", "1"]]
        assert [ln.split() for ln in text.splitlines() if ln.startswith(m["member_id"])] == [
            [m["member_id"], "cli-share-member", m["host"], str(m["member_epoch"]), f"{topic}:0,1"]]

        # A group with a member: a dry-run reset prints its plan (and says the group is not
        # empty); deleting its offsets or the group is refused (NON_EMPTY_GROUP).
        dry = klamm(bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-latest")
        assert out_json(dry) == {"executed": False, "offsets": [
            {"group": group, "topic": topic, "partition": 0, "new_offset": 5},
            {"group": group, "topic": topic, "partition": 1, "new_offset": 0}]}
        assert f"share group {group} is Stable with 1 member(s)" in dry.stderr.decode()
        refused = klamm(bootstrap, "group", "delete-offsets", group, "--topic", topic, check=False)
        assert refused.returncode == 1
        assert f"deleting the offsets of share group {group}: NON_EMPTY_GROUP (68)" in refused.stderr.decode()
        refused = klamm(bootstrap, "group", "delete", group, check=False)
        assert refused.returncode == 1
        assert f"deleting group {group}: NON_EMPTY_GROUP (68)" in refused.stderr.decode()
        assert [(g["group"], g["deleted"], g["error"]["code"], g["error"]["name"]) for g in out_json(refused)] == [
            (group, False, 68, "NON_EMPTY_GROUP")]
    finally:
        # Closing without acknowledging releases the records: the start offsets stay 0.
        c.close()
    d = describe_when(bootstrap, group, lambda d: d["state"] == "Empty", "the group to be empty")
    # Partition 0's release was written with its start offset, 0; partition 1 had nothing to write.
    assert d["members"] == [] and share_offsets(d) == [(0, 0, 5, 5), (1, None, 0, None)]
    assert [o["member_ids"] for o in d["offsets"]] == [[], []]

    # delete-offsets forgets the topic's share-partition state; a second time the topic has none.
    assert out_json(klamm(bootstrap, "group", "delete-offsets", group, "--topic", topic)) == {
        "group": group, "topics": [{"topic": topic, "deleted": True}]}
    assert out_json(klamm(bootstrap, "group", "describe", group))[0]["offsets"] == []
    again = klamm(bootstrap, "group", "delete-offsets", group, "--topic", topic, check=False)
    assert again.returncode == 1
    assert f"deleting the offsets of share group {group} for topic {topic}: UNKNOWN_TOPIC_OR_PARTITION (3)" \
        in again.stderr.decode()
    assert [(t["topic"], t["deleted"], t["error"]["code"]) for t in out_json(again)["topics"]] == [(topic, False, 3)]
    other = klamm(bootstrap, "group", "delete-offsets", unique_topic("no-such-group"), "--topic", topic, check=False)
    assert other.returncode == 1 and b"GROUP_ID_NOT_FOUND (69)" in other.stderr

    # The next member starts the topic afresh (share.auto.offset.reset=earliest): every record
    # again, first delivery.
    c, first = cli_share_consumer(bootstrap, group, [topic], share_acknowledgement_mode="explicit")
    try:
        assert share_poll(c, 5, settle=0, got=first) == p0_five
    finally:
        c.close()
    describe_when(bootstrap, group, lambda d: d["state"] == "Empty", "the group to be empty")

    # delete: DeleteGroups removes the empty share group.
    assert out_json(klamm(bootstrap, "group", "delete", group)) == [{"group": group, "deleted": True}]
    assert group not in [g["group"] for g in out_json(klamm(bootstrap, "group", "list"))]
    gone = klamm(bootstrap, "group", "delete", group, check=False)
    assert gone.returncode == 1 and b"GROUP_ID_NOT_FOUND (69)" in gone.stderr


@pytest.mark.klamm_only(
    "Kafka 4.1.2 alters no share-group offset: KafkaApis.handleAlterShareGroupOffsetsRequest copies the "
    "request's topics into a new collection with add(), which refuses an element already in a collection, "
    "so it answers every AlterShareGroupOffsets with an empty, error-free response (no NON_EMPTY_GROUP either)")
def test_share_group_reset_offsets(broker):
    bootstrap = broker.bootstrap
    topic, group, base = new_share_topic_group(bootstrap, "cli-share-reset")
    c = share.share_consumer(bootstrap, group, [topic])
    try:
        assert share_poll(c, 8) == ALL_EIGHT
        # Kafka refuses to alter the offsets of a group with members (NON_EMPTY_GROUP).
        refused = klamm(bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-latest",
                        "--execute", check=False)
        assert refused.returncode == 1
        assert f"altering the offsets of share group {group}: NON_EMPTY_GROUP (68)" in refused.stderr.decode()
    finally:
        c.close()
    describe_when(bootstrap, group, lambda d: d["state"] == "Empty", "the group to be empty")
    more = [Rec(0, None, b"p0-%d" % i, timestamp=base + i * 1000) for i in (5, 6)]
    cf_assert_delivered(cf_produce(bootstrap, topic, more), more, base={0: 5})

    # --execute sets the start offsets (AlterShareGroupOffsets); a dry run changes nothing.
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--execute"))
    assert done == {"executed": True, "offsets": [
        {"group": group, "topic": topic, "partition": 0, "new_offset": 0},
        {"group": group, "topic": topic, "partition": 1, "new_offset": 0}]}
    assert share_offsets(out_json(klamm(bootstrap, "group", "describe", group))[0]) == [(0, 0, 7, 7), (1, 0, 3, 3)]
    dry = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-latest"))
    assert dry == {"executed": False, "offsets": [
        {"group": group, "topic": topic, "partition": 0, "new_offset": 7},
        {"group": group, "topic": topic, "partition": 1, "new_offset": 3}]}
    assert share_offsets(out_json(klamm(bootstrap, "group", "describe", group))[0]) == [(0, 0, 7, 7), (1, 0, 3, 3)]
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", f"{topic}:1", "--to-offset", "1",
                          "--execute"))
    assert done == {"executed": True, "offsets": [{"group": group, "topic": topic, "partition": 1, "new_offset": 1}]}
    assert share_offsets(out_json(klamm(bootstrap, "group", "describe", group))[0]) == [(0, 0, 7, 7), (1, 1, 3, 2)]
    # The first record at or after base + 2 s is offset 2.
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base // 1000 + 2))
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", f"{topic}:0",
                          "--to-datetime", when, "--execute"))
    assert [o["new_offset"] for o in done["offsets"]] == [2]
    assert share_offsets(out_json(klamm(bootstrap, "group", "describe", group))[0]) == [(0, 2, 7, 5), (1, 1, 3, 2)]
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--all-topics", "--to-latest", "--execute"))
    assert [(o["partition"], o["new_offset"]) for o in done["offsets"]] == [(0, 7), (1, 3)]
    assert share_offsets(out_json(klamm(bootstrap, "group", "describe", group))[0]) == [(0, 7, 7, 0), (1, 3, 3, 0)]
    # An offset past the log end is clamped to it; then back to base + 5 s (offset 5).
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", topic, "--to-offset", "99",
                          "--execute"))
    assert [o["new_offset"] for o in done["offsets"]] == [7, 3]
    done = out_json(klamm(bootstrap, "group", "reset-offsets", group, "--topic", f"{topic}:0",
                          "--to-timestamp", str(base + 5000), "--execute"))
    assert [o["new_offset"] for o in done["offsets"]] == [5]
    (d,) = out_json(klamm(bootstrap, "group", "describe", group))
    assert d["offsets"] == [
        {"topic": topic, "partition": 0, "start_offset": 5, "leader_epoch": d["offsets"][0]["leader_epoch"],
         "log_end_offset": 7, "lag": 2, "member_ids": []},
        {"topic": topic, "partition": 1, "start_offset": 3, "leader_epoch": d["offsets"][1]["leader_epoch"],
         "log_end_offset": 3, "lag": 0, "member_ids": []}]

    # A member joining now is handed exactly the records from the new start offsets.
    c, first = cli_share_consumer(bootstrap, group, [topic])
    try:
        assert share_poll(c, 2, got=first) == [(0, 5, b"p0-5"), (0, 6, b"p0-6")]
    finally:
        c.close()
    assert out_json(klamm(bootstrap, "group", "delete", group)) == [{"group": group, "deleted": True}]
