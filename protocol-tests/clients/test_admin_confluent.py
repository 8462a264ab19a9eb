"""Topic administration through confluent-kafka's AdminClient (librdkafka): create with configs,
describe, alter (incremental and legacy), add partitions, delete records, delete topics, broker
configs, elect leaders; every change is read back, and survives a restart."""

import pytest
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewPartitions,
    NewTopic,
    OffsetSpec,
    ResourceType,
)

from klammtest import (
    TIMEOUT,
    cf_consume,
    cf_produce,
    cf_wait_partitions,
    gen_records,
    unique_topic,
    wait_until,
)


def admin(bootstrap):
    return AdminClient({"bootstrap.servers": bootstrap})


def result(futures):
    """Resolves a dict of futures; returns {key: value or exception}."""
    out = {}
    for k, f in futures.items():
        try:
            out[k] = f.result(timeout=TIMEOUT)
        except KafkaException as e:
            out[k] = e.args[0]
    return out


def topic_configs(a, topic):
    res = ConfigResource(ResourceType.TOPIC, topic)
    return result(a.describe_configs([res]))[res]


def broker_configs(a, name="0"):
    res = ConfigResource(ResourceType.BROKER, name)
    return result(a.describe_configs([res]))[res]


def settled(read, key, value):
    """The configs `read()` returns once KEY has VALUE (bounded wait). Kafka answers
    DescribeConfigs from the broker's metadata image, which applies a committed alter shortly
    after the AlterConfigs answer; Klamm's describe sees it at once. The assertions that follow
    check every value as before."""
    def ok():
        got = read()
        return got if key in got and got[key].value == value else None

    return wait_until(ok, what=f"{key}={value} described")


def test_create_with_configs_describe_and_restart(make_broker):
    b = make_broker()
    a = admin(b.bootstrap)
    topic = unique_topic("adm-create")
    configs = {"cleanup.policy": "compact", "retention.ms": "123456", "min.cleanable.dirty.ratio": "0.25"}
    r = result(a.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1, config=configs)]))
    assert r[topic] is None
    cf_wait_partitions(b.bootstrap, topic, 2)
    got = topic_configs(a, topic)
    assert got["cleanup.policy"].value == "compact"
    assert got["cleanup.policy"].source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value
    assert got["retention.ms"].value == "123456"
    assert got["min.cleanable.dirty.ratio"].value == "0.25"
    # Not overridden: Kafka's defaults, reported as defaults.
    assert got["segment.bytes"].value == "1073741824"
    assert got["segment.bytes"].source == ConfigSource.DEFAULT_CONFIG.value
    assert got["max.message.bytes"].value == "1048588"
    assert got["message.timestamp.after.max.ms"].value == "3600000"
    assert got["compression.type"].value == "producer"
    assert not got["retention.ms"].is_read_only

    b.restart()
    a = admin(b.bootstrap)
    got = topic_configs(a, topic)
    assert got["cleanup.policy"].value == "compact"
    assert got["retention.ms"].value == "123456"
    md = a.list_topics(topic, timeout=TIMEOUT)
    assert len(md.topics[topic].partitions) == 2


def test_create_errors_name_the_key(broker):
    a = admin(broker.bootstrap)
    bad = unique_topic("adm-bad")
    r = result(a.create_topics([NewTopic(bad, 1, 1, config={"segment.bytes": "1000"})]))
    assert r[bad].code() == 40, r  # INVALID_CONFIG
    assert "segment.bytes" in r[bad].str()
    r = result(a.create_topics([NewTopic(bad, 1, 1, config={"no.such.config": "1"})]))
    assert r[bad].code() == 40 and "no.such.config" in r[bad].str()
    r = result(a.create_topics([NewTopic(bad, 1, 3)]))
    assert r[bad].code() == 38  # INVALID_REPLICATION_FACTOR
    # validate_only creates nothing.
    r = result(a.create_topics([NewTopic(bad, 4, 1)], validate_only=True))
    assert r[bad] is None
    assert bad not in a.list_topics(timeout=TIMEOUT).topics
    ok = unique_topic("adm-dup")
    assert result(a.create_topics([NewTopic(ok, 1, 1)]))[ok] is None
    assert result(a.create_topics([NewTopic(ok, 1, 1)]))[ok].code() == 36  # TOPIC_ALREADY_EXISTS


def test_incremental_and_legacy_alter(make_broker):
    b = make_broker()
    a = admin(b.bootstrap)
    topic = unique_topic("adm-alter")
    result(a.create_topics([NewTopic(topic, 1, 1, config={"retention.ms": "1000000"})]))
    res = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[
            ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.APPEND),
            ConfigEntry("retention.ms", None, incremental_operation=AlterConfigOpType.DELETE),
            ConfigEntry("segment.ms", "600000", incremental_operation=AlterConfigOpType.SET),
        ],
    )
    assert result(a.incremental_alter_configs([res]))[res] is None
    got = settled(lambda: topic_configs(a, topic), "segment.ms", "600000")
    assert got["cleanup.policy"].value == "delete,compact"
    assert got["retention.ms"].value == "604800000"
    assert got["retention.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert got["segment.ms"].value == "600000"

    sub = ConfigResource(
        ResourceType.TOPIC,
        topic,
        incremental_configs=[ConfigEntry("cleanup.policy", "delete", incremental_operation=AlterConfigOpType.SUBTRACT)],
    )
    assert result(a.incremental_alter_configs([sub]))[sub] is None
    assert settled(lambda: topic_configs(a, topic), "cleanup.policy", "compact")["cleanup.policy"].value == "compact"

    # validate_only changes nothing; an invalid value is INVALID_CONFIG naming the key.
    vo = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[ConfigEntry("segment.ms", "5", incremental_operation=AlterConfigOpType.SET)])
    assert result(a.incremental_alter_configs([vo], validate_only=True))[vo] is None
    assert topic_configs(a, topic)["segment.ms"].value == "600000"
    bad = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[ConfigEntry("min.cleanable.dirty.ratio", "2", incremental_operation=AlterConfigOpType.SET)])
    err = result(a.incremental_alter_configs([bad]))[bad]
    assert err.code() == 40 and "min.cleanable.dirty.ratio" in err.str()
    app = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[ConfigEntry("segment.ms", "1", incremental_operation=AlterConfigOpType.APPEND)])
    assert result(a.incremental_alter_configs([app]))[app].code() == 40

    # Legacy AlterConfigs replaces the whole set.
    legacy = ConfigResource(ResourceType.TOPIC, topic, set_config={"retention.bytes": "2097152"})
    assert result(a.alter_configs([legacy]))[legacy] is None
    got = settled(lambda: topic_configs(a, topic), "retention.bytes", "2097152")
    assert got["retention.bytes"].value == "2097152"
    assert got["segment.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert got["cleanup.policy"].value == "delete"

    missing = ConfigResource(ResourceType.TOPIC, unique_topic("nope"), set_config={"retention.ms": "1"})
    assert result(a.alter_configs([missing]))[missing].code() == 3  # UNKNOWN_TOPIC_OR_PARTITION

    b.restart()
    got = topic_configs(admin(b.bootstrap), topic)
    assert got["retention.bytes"].value == "2097152"


def test_broker_configs_static_dynamic_and_read_only(make_broker):
    b = make_broker(overrides=["log.retention.hours=2"])
    a = admin(b.bootstrap)
    got = broker_configs(a)
    assert got["log.retention.hours"].value == "2"
    assert got["log.retention.hours"].source == ConfigSource.STATIC_BROKER_CONFIG.value
    assert got["log.cleaner.backoff.ms"].value == "15000"
    assert got["log.cleaner.backoff.ms"].source == ConfigSource.DEFAULT_CONFIG.value
    assert got["node.id"].is_read_only
    assert not got["log.retention.ms"].is_read_only

    topic = unique_topic("adm-dyn")
    result(a.create_topics([NewTopic(topic, 1, 1)]))
    assert topic_configs(a, topic)["retention.ms"].value == str(2 * 3600 * 1000)
    dyn = ConfigResource(ResourceType.BROKER, "0", incremental_configs=[ConfigEntry("log.retention.ms", "5000", incremental_operation=AlterConfigOpType.SET)])
    assert result(a.incremental_alter_configs([dyn]))[dyn] is None
    t = settled(lambda: topic_configs(a, topic), "retention.ms", "5000")["retention.ms"]
    assert t.value == "5000" and t.source == ConfigSource.DYNAMIC_BROKER_CONFIG.value
    ro = ConfigResource(ResourceType.BROKER, "0", incremental_configs=[ConfigEntry("node.id", "7", incremental_operation=AlterConfigOpType.SET)])
    err = result(a.incremental_alter_configs([ro]))[ro]
    assert err.code() == 42 and "node.id" in err.str()  # INVALID_REQUEST: cannot update dynamically
    # (librdkafka cannot address the cluster-default resource, the empty name; the protocol
    # tests cover it.)
    legacy = ConfigResource(ResourceType.BROKER, "0", set_config={"log.cleaner.backoff.ms": "100", "log.retention.ms": "5000"})
    assert result(a.alter_configs([legacy]))[legacy] is None
    got = settled(lambda: broker_configs(a), "log.cleaner.backoff.ms", "100")
    assert got["log.cleaner.backoff.ms"].value == "100"
    assert got["log.cleaner.backoff.ms"].source == ConfigSource.DYNAMIC_BROKER_CONFIG.value

    b.restart()
    a = admin(b.bootstrap)
    assert topic_configs(a, topic)["retention.ms"].value == "5000"
    assert broker_configs(a)["log.cleaner.backoff.ms"].value == "100"


def test_create_partitions(broker):
    a = admin(broker.bootstrap)
    topic = unique_topic("adm-parts")
    result(a.create_topics([NewTopic(topic, 1, 1)]))
    r = result(a.create_partitions([NewPartitions(topic, 4)], validate_only=True))
    assert r[topic] is None
    assert len(a.list_topics(topic, timeout=TIMEOUT).topics[topic].partitions) == 1
    assert result(a.create_partitions([NewPartitions(topic, 3)]))[topic] is None
    cf_wait_partitions(broker.bootstrap, topic, 3)
    assert result(a.create_partitions([NewPartitions(topic, 2)]))[topic].code() == 37  # INVALID_PARTITIONS
    assert result(a.create_partitions([NewPartitions(topic, 3)]))[topic].code() == 37
    recs = gen_records(5, partitions=3, seed=3)
    cf_produce(broker.bootstrap, topic, recs)
    got = cf_consume(broker.bootstrap, topic, [0, 1, 2], expected={0: 5, 1: 5, 2: 5})
    assert all(len(v) == 5 for v in got.values())


def test_delete_records_and_topics(broker):
    a = admin(broker.bootstrap)
    topic = unique_topic("adm-delrec")
    result(a.create_topics([NewTopic(topic, 1, 1)]))
    cf_wait_partitions(broker.bootstrap, topic, 1)
    recs = gen_records(20, partitions=1, seed=5)
    cf_produce(broker.bootstrap, topic, recs)
    r = result(a.delete_records([TopicPartition(topic, 0, 12)]))
    low = list(r.values())[0]
    assert low.low_watermark == 12
    offs = result(a.list_offsets({TopicPartition(topic, 0): OffsetSpec.earliest()}))
    assert list(offs.values())[0].offset == 12
    got = cf_consume(broker.bootstrap, topic, [0], expected={0: 8})
    assert [g.offset for g in got[0]] == list(range(12, 20))
    assert [g.value for g in got[0]] == [r.value for r in recs[12:]]
    # Past the high watermark: OFFSET_OUT_OF_RANGE.
    r = result(a.delete_records([TopicPartition(topic, 0, 21)]))
    assert list(r.values())[0].code() == 1

    assert result(a.delete_topics([topic]))[topic] is None
    wait_until(lambda: topic not in a.list_topics(timeout=TIMEOUT).topics, what="topic gone")
    assert result(a.delete_topics([topic]))[topic].code() == 3


def test_elect_leaders_and_describe_cluster(broker):
    from confluent_kafka import ElectionType

    a = admin(broker.bootstrap)
    topic = unique_topic("adm-elect")
    result(a.create_topics([NewTopic(topic, 2, 1)]))
    cf_wait_partitions(broker.bootstrap, topic, 2)
    fut = a.elect_leaders(ElectionType.PREFERRED, [TopicPartition(topic, 0), TopicPartition(topic, 5)])
    res = fut.result(timeout=TIMEOUT)
    by_part = {tp.partition: err for tp, err in res.items()}
    assert by_part[0] is not None and by_part[0].code() == 84  # ELECTION_NOT_NEEDED
    assert by_part[5].code() == 3
    desc = a.describe_cluster().result(timeout=TIMEOUT)
    assert len(desc.nodes) == 1 and desc.controller.id == 0
