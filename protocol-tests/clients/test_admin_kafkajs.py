"""Topic administration through kafkajs' admin client (node/kafkajs_admin.js): create with configs,
describe configs, legacy alterConfigs, add partitions, delete records, delete topics, each checked
by reading the state back (through kafkajs and confluent-kafka)."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from klammtest import TIMEOUT, cf_consume, cf_produce, gen_records, unique_topic

NODE_DIR = Path(__file__).resolve().parent / "node"
DRIVER = NODE_DIR / "kafkajs_admin.js"


@pytest.fixture(scope="module", autouse=True)
def node_ready():
    if not shutil.which("node"):
        pytest.fail("node is not installed")
    if not (NODE_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.fail(f"kafkajs is not installed in {NODE_DIR} (run protocol-tests/run-all, which runs npm ci)")


def run(bootstrap, *ops):
    proc = subprocess.run(
        ["node", str(DRIVER)],
        input=json.dumps({"brokers": [bootstrap], "ops": list(ops)}).encode(),
        capture_output=True,
        cwd=NODE_DIR,
        timeout=TIMEOUT * 3,
    )
    out = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    doc = json.loads(out[-1]) if out else {}
    assert proc.returncode == 0 and "results" in doc, f"driver failed: {doc} {proc.stderr.decode()[-3000:]}"
    return doc["results"]


def ok(r):
    assert "ok" in r, r
    return r["ok"]


def configs_of(described):
    (res,) = described["resources"]
    assert res["errorCode"] == 0, res
    return {c["configName"]: c for c in res["configEntries"]}


def describe(bootstrap, topic, names=None):
    resource = {"type": "TOPIC", "name": topic}
    if names is not None:
        resource["configNames"] = names
    return configs_of(ok(run(bootstrap, {"op": "describeConfigs", "resources": [resource], "includeSynonyms": True})[0]))


def test_create_describe_alter(broker):
    bs = broker.bootstrap
    topic = unique_topic("kjs-adm")
    r = run(
        bs,
        {"op": "createTopics", "topics": [{"topic": topic, "numPartitions": 2, "replicationFactor": 1,
                                             "configEntries": [{"name": "retention.ms", "value": "86400000"},
                                                               {"name": "cleanup.policy", "value": "compact,delete"}]}]},
    )
    assert ok(r[0]) is True
    got = describe(bs, topic)
    assert got["retention.ms"]["configValue"] == "86400000"
    assert got["retention.ms"]["isDefault"] is False
    assert got["cleanup.policy"]["configValue"] == "compact,delete"
    assert got["segment.bytes"]["configValue"] == "1073741824"
    assert got["segment.bytes"]["isDefault"] is True
    syn = got["cleanup.policy"]["configSynonyms"]
    assert [s["configName"] for s in syn] == ["cleanup.policy", "log.cleanup.policy"]
    only = describe(bs, topic, ["retention.ms"])
    assert list(only) == ["retention.ms"]

    # Legacy AlterConfigs replaces the overrides.
    r = run(bs, {"op": "alterConfigs", "resources": [{"type": "TOPIC", "name": topic, "configEntries": [{"name": "segment.ms", "value": "3600000"}]}]})
    assert ok(r[0])["resources"][0]["errorCode"] == 0
    got = describe(bs, topic)
    assert got["segment.ms"]["configValue"] == "3600000"
    assert got["retention.ms"]["configValue"] == "604800000"
    assert got["cleanup.policy"]["configValue"] == "delete"

    # Invalid values: INVALID_CONFIG; validateOnly changes nothing.
    r = run(bs, {"op": "alterConfigs", "resources": [{"type": "TOPIC", "name": topic, "configEntries": [{"name": "segment.bytes", "value": "10"}]}]})
    assert r[0]["error"]["type"] == "INVALID_CONFIG", r
    r = run(bs, {"op": "alterConfigs", "validateOnly": True, "resources": [{"type": "TOPIC", "name": topic, "configEntries": [{"name": "segment.ms", "value": "5"}]}]})
    assert ok(r[0])["resources"][0]["errorCode"] == 0
    assert describe(bs, topic)["segment.ms"]["configValue"] == "3600000"

    # Broker configs, too.
    r = run(bs, {"op": "describeConfigs", "resources": [{"type": "BROKER", "name": "0", "configNames": ["log.retention.hours", "node.id"]}]})
    got = configs_of(ok(r[0]))
    assert got["log.retention.hours"]["configValue"] == "168"
    assert got["node.id"]["readOnly"] is True


def test_partitions_records_and_delete(broker):
    bs = broker.bootstrap
    topic = unique_topic("kjs-parts")
    ok(run(bs, {"op": "createTopics", "topics": [{"topic": topic, "numPartitions": 1, "replicationFactor": 1}]})[0])
    r = run(
        bs,
        {"op": "createPartitions", "topicPartitions": [{"topic": topic, "count": 3}]},
        {"op": "fetchTopicMetadata", "topics": [topic]},
        {"op": "createPartitions", "topicPartitions": [{"topic": topic, "count": 2}]},
    )
    assert ok(r[0]) in (None, True)
    assert len(ok(r[1])["topics"][0]["partitions"]) == 3
    assert r[2]["error"]["type"] == "INVALID_PARTITIONS", r[2]

    recs = gen_records(10, partitions=3, seed=11)
    cf_produce(bs, topic, recs)
    r = run(
        bs,
        {"op": "deleteTopicRecords", "topic": topic, "partitions": [{"partition": 1, "offset": "4"}, {"partition": 2, "offset": "-1"}]},
        {"op": "fetchTopicOffsets", "topic": topic},
    )
    ok(r[0])
    offsets = {o["partition"]: o for o in ok(r[1])}
    assert (offsets[0]["low"], offsets[1]["low"], offsets[2]["low"]) == ("0", "4", "10")
    got = cf_consume(bs, topic, [0, 1, 2], expected={0: 10, 1: 6, 2: 0})
    assert [g.offset for g in got[1]] == list(range(4, 10))
    assert got[2] == []

    r = run(bs, {"op": "deleteTopics", "topics": [topic]}, {"op": "listTopics"})
    ok(r[0])
    assert topic not in ok(r[1])
