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

from klammtest import TIMEOUT, Rec, coordinator_retriable, cf_assert_delivered, cf_consume, cf_produce, klamm_bin, unique_topic

KLAMM_OVERRIDES = ["num.partitions=2"]


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
