"""ACLs with confluent-kafka (librdkafka): AdminClient create_acls / describe_acls / delete_acls
round trip with exact bindings, and a producer and consumer refused with
TOPIC_AUTHORIZATION_FAILED / GROUP_AUTHORIZATION_FAILED by DENY ACLs for User:ANONYMOUS.
"""

from __future__ import annotations

import time

from confluent_kafka import KafkaError
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

import klammtest
from klammtest import Rec

STANDARD = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
KLAMM_OVERRIDES = [
    f"authorizer.class.name={STANDARD}",
    "allow.everyone.if.no.acl.found=true",
]
TIMEOUT = klammtest.TIMEOUT


def key(b: AclBinding):
    return (
        b.restype,
        b.name,
        b.resource_pattern_type,
        b.principal,
        b.host,
        b.operation,
        b.permission_type,
    )


def everything() -> AclBindingFilter:
    return AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        None,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )


def test_create_describe_delete_round_trip(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    bindings = [
        AclBinding(ResourceType.TOPIC, "acl-rt-orders", ResourcePatternType.LITERAL,
                   "User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW),
        AclBinding(ResourceType.TOPIC, "acl-rt-", ResourcePatternType.PREFIXED,
                   "User:bob", "127.0.0.1", AclOperation.WRITE, AclPermissionType.DENY),
        AclBinding(ResourceType.GROUP, "acl-rt-group", ResourcePatternType.LITERAL,
                   "User:*", "*", AclOperation.ALL, AclPermissionType.ALLOW),
    ]
    for b, fut in admin.create_acls(bindings, request_timeout=TIMEOUT).items():
        assert fut.result(timeout=TIMEOUT) is None, b

    got = admin.describe_acls(everything(), request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert sorted(map(key, got)) == sorted(map(key, bindings))

    # MATCH: the bindings that apply to topic acl-rt-orders (literal and prefix).
    match = AclBindingFilter(ResourceType.TOPIC, "acl-rt-orders", ResourcePatternType.MATCH,
                             None, None, AclOperation.ANY, AclPermissionType.ANY)
    got = admin.describe_acls(match, request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert sorted(map(key, got)) == sorted(map(key, bindings[:2]))

    only_bob = AclBindingFilter(ResourceType.ANY, None, ResourcePatternType.ANY,
                                "User:bob", None, AclOperation.ANY, AclPermissionType.ANY)
    deleted = admin.delete_acls([only_bob], request_timeout=TIMEOUT)[only_bob].result(timeout=TIMEOUT)
    assert [key(b) for b in deleted] == [key(bindings[1])]
    got = admin.describe_acls(everything(), request_timeout=TIMEOUT).result(timeout=TIMEOUT)
    assert sorted(map(key, got)) == sorted(map(key, [bindings[0], bindings[2]]))
    deleted = admin.delete_acls([everything()], request_timeout=TIMEOUT)[everything()]
    assert len(deleted.result(timeout=TIMEOUT)) == 2
    assert admin.describe_acls(everything(), request_timeout=TIMEOUT).result(timeout=TIMEOUT) == []


def test_denied_producer_and_consumer(bootstrap):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    klammtest.cf_create_topic(bootstrap, "acl-denied-topic", 1)
    klammtest.cf_create_topic(bootstrap, "acl-open-topic", 1)
    denies = [
        AclBinding(ResourceType.TOPIC, "acl-denied-topic", ResourcePatternType.LITERAL,
                   "User:ANONYMOUS", "*", AclOperation.WRITE, AclPermissionType.DENY),
        AclBinding(ResourceType.GROUP, "acl-denied-group", ResourcePatternType.LITERAL,
                   "User:ANONYMOUS", "*", AclOperation.READ, AclPermissionType.DENY),
    ]
    for fut in admin.create_acls(denies, request_timeout=TIMEOUT).values():
        fut.result(timeout=TIMEOUT)

    ok = klammtest.cf_produce(bootstrap, "acl-open-topic", [Rec(0, b"k", b"v")])
    assert ok[0][2] is None
    results = klammtest.cf_produce(bootstrap, "acl-denied-topic", [Rec(0, b"k", b"v")])
    err = results[0][2]
    assert err is not None and err.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, err

    consumer = klammtest.cf_consumer(bootstrap, **{"group.id": "acl-denied-group"})
    try:
        consumer.subscribe(["acl-open-topic"])
        deadline = time.monotonic() + TIMEOUT
        seen = None
        while time.monotonic() < deadline and seen is None:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is not None:
                if msg.error().code() == KafkaError.GROUP_AUTHORIZATION_FAILED:
                    seen = msg.error()
        assert seen is not None, "no GROUP_AUTHORIZATION_FAILED"
    finally:
        consumer.close()
