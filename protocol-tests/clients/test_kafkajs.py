"""kafkajs (node) against Klamm, driven through node/kafkajs_driver.js.

kafkajs' Consumer always joins a consumer group (Klamm has none yet), so reading back uses plain
Fetch requests sent through kafkajs' own cluster/broker/decoding code (see the driver), and every
round trip is also read back with confluent-kafka to prove kafkajs wrote standard batches.
kafkajs cannot encode null header values (it reads them fine), so records it produces use empty
header values only. Codecs: gzip (built in), snappy (kafkajs-snappy/snappyjs), lz4 (lz4js), zstd (zstd-codec, WASM):
all pure JS/WASM, no native build.
"""

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from klammtest import (
    TIMEOUT,
    Got,
    Rec,
    assert_same_records,
    cf_consume,
    cf_consumer,
    cf_create_topic,
    cf_produce,
    cf_assert_delivered,
    gen_records,
    large_records,
    now_ms,
    unique_topic,
)

NODE_DIR = Path(__file__).resolve().parent / "node"
DRIVER = NODE_DIR / "kafkajs_driver.js"
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


@pytest.fixture(scope="module", autouse=True)
def node_ready():
    if not shutil.which("node"):
        pytest.fail("node is not installed")
    if not (NODE_DIR / "node_modules" / "kafkajs").is_dir():
        pytest.fail(f"kafkajs is not installed in {NODE_DIR} (run protocol-tests/run-all, which runs npm ci)")


def b64(v):
    return None if v is None else base64.b64encode(v).decode()


def unb64(v):
    return None if v is None else base64.b64decode(v)


def kjs(command: str, spec: dict, expect_ok: bool = True) -> dict:
    proc = subprocess.run(
        ["node", str(DRIVER), command],
        input=json.dumps(spec).encode(),
        capture_output=True,
        cwd=NODE_DIR,
        timeout=TIMEOUT * 3,
    )
    out = proc.stdout.decode("utf-8", "replace").strip().splitlines()
    try:
        result = json.loads(out[-1]) if out else {}
    except json.JSONDecodeError:
        result = {"error": f"unparseable driver output: {out[-1][:500]!r}"}
    if expect_ok and (proc.returncode != 0 or "error" in result):
        raise AssertionError(
            f"kafkajs {command} failed (exit {proc.returncode}): {result.get('error')}\n"
            f"kafkajs stderr:\n{proc.stderr.decode('utf-8', 'replace')[-4000:]}"
        )
    return result


def msg_spec(r: Rec) -> dict:
    return {
        "partition": r.partition,
        "key": b64(r.key),
        "value": b64(r.value),
        "headers": [[k, b64(v)] for k, v in r.headers],
        "timestamp": r.timestamp,
    }


def kjs_produce(bootstrap, topic, batches, compression="none", acks=-1, idempotent=False):
    res = kjs(
        "produce",
        {
            "brokers": [bootstrap],
            "topic": topic,
            "compression": compression,
            "acks": acks,
            "idempotent": idempotent,
            "batches": [[msg_spec(r) for r in batch] for batch in batches],
        },
    )
    return res["results"]


def check_base_offsets(batches, results):
    """Each send() result lists per partition the baseOffset; they must follow each other."""
    nxt = {}
    for batch, res in zip(batches, results):
        by_p = {r["partition"]: r for r in res}
        for p in sorted({r.partition for r in batch}):
            assert p in by_p, f"no produce result for partition {p}: {res}"
            assert by_p[p]["errorCode"] == 0, by_p[p]
            assert int(by_p[p]["baseOffset"]) == nxt.get(p, 0), f"partition {p}: baseOffset {by_p[p]} expected {nxt.get(p, 0)}"
            nxt[p] = nxt.get(p, 0) + sum(1 for r in batch if r.partition == p)


def kjs_consume(bootstrap, topic, expected: dict):
    res = kjs(
        "consume",
        {
            "brokers": [bootstrap],
            "topic": topic,
            "partitions": sorted(expected),
            "expected": {str(p): n for p, n in expected.items()},
            "timeoutMs": int(TIMEOUT * 1000),
        },
    )
    return [
        Got(
            partition=m["partition"],
            offset=m["offset"],
            key=unb64(m["key"]),
            value=unb64(m["value"]),
            headers=tuple((k, unb64(v)) for k, v in m["headers"]),
            timestamp=m["timestamp"],
        )
        for m in res["messages"]
    ]


def kjs_create_topic(bootstrap, topic, partitions=3):
    res = kjs("admin", {"brokers": [bootstrap], "op": "createTopics", "topics": [{"topic": topic, "numPartitions": partitions}]})
    assert res["created"] is True, res


def high_watermarks(bootstrap, topic):
    res = kjs("admin", {"brokers": [bootstrap], "op": "fetchTopicOffsets", "topic": topic})
    return {o["partition"]: (int(o["low"]), int(o["high"])) for o in res["offsets"]}


def test_admin_create_and_metadata(bootstrap):
    topic = unique_topic("kjs-admin")
    kjs_create_topic(bootstrap, topic, 3)
    topics = kjs("admin", {"brokers": [bootstrap], "op": "listTopics"})["topics"]
    assert topic in topics
    md = kjs("admin", {"brokers": [bootstrap], "op": "fetchTopicMetadata", "topics": [topic]})
    (t,) = md["topics"]
    assert t["name"] == topic
    assert sorted(p["partitionId"] for p in t["partitions"]) == [0, 1, 2]
    assert all(p["partitionErrorCode"] == 0 for p in t["partitions"]), t
    assert high_watermarks(bootstrap, topic) == {0: (0, 0), 1: (0, 0), 2: (0, 0)}


@pytest.mark.parametrize("codec", CODECS)
def test_roundtrip_compression(bootstrap, codec):
    topic = unique_topic(f"kjs-{codec}")
    kjs_create_topic(bootstrap, topic, 3)
    recs = gen_records(30, partitions=3, seed=40 + CODECS.index(codec), null_header_values=False)
    batches = [recs[:45], recs[45:]]
    check_base_offsets(batches, kjs_produce(bootstrap, topic, batches, compression=codec))
    assert high_watermarks(bootstrap, topic) == {p: (0, 30) for p in range(3)}
    expected = {p: 30 for p in range(3)}
    assert_same_records(recs, kjs_consume(bootstrap, topic, expected), client=f"kafkajs {codec}")
    assert_same_records(recs, cf_consume(bootstrap, topic, range(3), expected=expected),
                        client=f"confluent-kafka reading kafkajs {codec}")


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_reads_librdkafka_batches(bootstrap, codec):
    topic = unique_topic(f"kjs-read-{codec}")
    cf_create_topic(bootstrap, topic, 3)
    recs = gen_records(25, partitions=3, seed=60 + CODECS.index(codec))
    cf_assert_delivered(cf_produce(bootstrap, topic, recs, **{"compression.type": codec, "acks": "all"}), recs)
    assert_same_records(recs, kjs_consume(bootstrap, topic, {p: 25 for p in range(3)}),
                        client=f"kafkajs reading confluent-kafka {codec}")


@pytest.mark.parametrize("acks", [0, 1, -1])
def test_acks(bootstrap, acks):
    topic = unique_topic(f"kjs-acks{str(acks).replace('-', 'm')}")
    kjs_create_topic(bootstrap, topic, 3)
    recs = gen_records(10, partitions=3, seed=7, null_header_values=False)
    batches = [recs[:15], recs[15:]]
    results = kjs_produce(bootstrap, topic, batches, acks=acks)
    if acks != 0:
        check_base_offsets(batches, results)
    assert_same_records(recs, kjs_consume(bootstrap, topic, {p: 10 for p in range(3)}), client=f"kafkajs acks={acks}")


def test_idempotent_producer(bootstrap):
    topic = unique_topic("kjs-idem")
    kjs_create_topic(bootstrap, topic, 3)
    recs = gen_records(20, partitions=3, seed=13, null_header_values=False)
    batches = [recs[:30], recs[30:]]
    check_base_offsets(batches, kjs_produce(bootstrap, topic, batches, idempotent=True, compression="gzip"))
    expected = {p: 20 for p in range(3)}
    assert_same_records(recs, kjs_consume(bootstrap, topic, expected), client="kafkajs idempotent")
    assert_same_records(recs, cf_consume(bootstrap, topic, range(3), expected=expected),
                        client="confluent-kafka reading kafkajs idempotent")


def test_large_records(bootstrap):
    topic = unique_topic("kjs-large")
    kjs_create_topic(bootstrap, topic, 3)
    recs = large_records(3, seed=9)
    batches = [[r] for r in recs]
    check_base_offsets(batches, kjs_produce(bootstrap, topic, batches))
    assert_same_records(recs, kjs_consume(bootstrap, topic, {p: 2 for p in range(3)}), client="kafkajs large")


def test_default_timestamps(bootstrap):
    topic = unique_topic("kjs-ts")
    kjs_create_topic(bootstrap, topic, 1)
    t0 = now_ms()
    recs = gen_records(5, partitions=1, seed=14, with_timestamps=False, null_header_values=False)
    check_base_offsets([recs], kjs_produce(bootstrap, topic, [recs]))
    got = kjs_consume(bootstrap, topic, {0: 5})
    assert_same_records(recs, got, ts_window=(t0 - 1000, now_ms() + 1000), client="kafkajs default timestamps")


def test_invalid_topic_name_produce(bootstrap):
    res = kjs("produce-invalid", {"brokers": [bootstrap], "topic": "bad topic!"}, expect_ok=False)
    assert not res.get("produced"), f"producing to 'bad topic!' succeeded: {res}"
    # INVALID_TOPIC_EXCEPTION (17) from the broker's Metadata answer; kafkajs does not retry it.
    assert res.get("errorName") == "KafkaJSNonRetriableError", res
    assert "invalid topic" in res.get("errorMessage", ""), res


def test_invalid_topic_name_admin(bootstrap):
    res = kjs(
        "admin",
        {"brokers": [bootstrap], "op": "createTopics", "topics": [{"topic": "bad topic!", "numPartitions": 1}], "retries": 0},
        expect_ok=False,
    )
    assert "error" in res, f"creating 'bad topic!' succeeded: {res}"
    assert [e["type"] for e in res.get("errors", [])] == ["INVALID_TOPIC_EXCEPTION"], res


def test_transactions_commit_and_abort(bootstrap):
    """kafkajs' transactional producer: one committed transaction with sendOffsets, one aborted,
    across 3 partitions; read_committed (librdkafka) sees exactly the committed records and the
    group's offsets come from the committed transaction only."""
    from confluent_kafka import TopicPartition

    topic = unique_topic("kjs-txn")
    kjs_create_topic(bootstrap, topic, 3)
    group = unique_topic("kjs-txn-group")

    def msgs(prefix):
        return [{"partition": i % 3, "value": b64(f"{prefix}-{i}".encode())} for i in range(9)]

    kjs(
        "transactions",
        {
            "brokers": [bootstrap],
            "topic": topic,
            "transactionalId": unique_topic("kjs-tid"),
            "transactions": [
                {"commit": True, "messages": msgs("c"),
                 "offsets": {"group": group, "partitions": [{"partition": 0, "offset": 7}]}},
                {"commit": False, "messages": msgs("a"),
                 "offsets": {"group": group, "partitions": [{"partition": 0, "offset": 99}]}},
            ],
        },
    )
    got = cf_consume(bootstrap, topic, range(3), **{"isolation.level": "read_committed"})
    assert {p: [m.value.decode() for m in v] for p, v in got.items()} == {
        p: [f"c-{i}" for i in range(p, 9, 3)] for p in range(3)
    }
    raw = cf_consume(bootstrap, topic, range(3), **{"isolation.level": "read_uncommitted"})
    assert sum(len(v) for v in raw.values()) == 18
    consumer = cf_consumer(bootstrap, **{"group.id": group})
    try:
        committed = consumer.committed([TopicPartition(topic, 0)], timeout=TIMEOUT)
    finally:
        consumer.close()
    assert committed[0].offset == 7
