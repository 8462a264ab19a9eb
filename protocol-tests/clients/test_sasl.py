"""SASL on a SASL_PLAINTEXT listener with confluent-kafka (librdkafka) and kafka-python: PLAIN
(JAAS users), SCRAM-SHA-256/512 (users created with AlterUserScramCredentials through
confluent-kafka's AdminClient), OAUTHBEARER with librdkafka's unsecured JWTs, bad credentials
reported by the client, and KIP-368 re-authentication while producing.

The SASL listener is listed first, so the broker's ready line (what the fixture reads) is its
address."""

import time

import pytest
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import (AdminClient, ScramCredentialInfo, ScramMechanism,
                                   UserScramCredentialUpsertion)

from klammtest import TIMEOUT, unique_topic

PLAIN_JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
              'user_admin="admin-secret" user_alice="alice-secret";')


def sasl_broker(make_broker, *extra):
    return make_broker([
        "listeners=SASL_PLAINTEXT://127.0.0.1:0,PLAINTEXT://127.0.0.1:0",
        f"listener.name.sasl_plaintext.plain.sasl.jaas.config={PLAIN_JAAS}",
        *extra,
    ])


def conf(b, mechanism, user=None, password=None, **extra):
    c = {"bootstrap.servers": b.bootstrap, "security.protocol": "SASL_PLAINTEXT",
         "sasl.mechanism": mechanism}
    if user is not None:
        c.update({"sasl.username": user, "sasl.password": password})
    c.update(extra)
    return c


def produce(c, topic, n=5, **extra):
    p = Producer({**c, "message.timeout.ms": int(TIMEOUT * 1000), **extra})
    delivered = []
    for i in range(n):
        p.produce(topic, value=f"v{i}".encode(),
                  on_delivery=lambda err, msg: delivered.append((err, msg.offset() if msg else None)))
    assert p.flush(TIMEOUT) == 0
    assert [e for e, _ in delivered] == [None] * n, delivered
    return [o for _, o in delivered]


def auth_fails(c):
    errors = []
    p = Producer({**c, "error_cb": lambda e: errors.append(e)})
    deadline = time.monotonic() + TIMEOUT
    while not any(e.code() == -169 for e in errors) and time.monotonic() < deadline:  # _AUTHENTICATION
        p.poll(0.1)
    assert any(e.code() == -169 for e in errors), errors
    return " ".join(e.str() for e in errors)


def test_confluent_kafka_plain_scram_oauthbearer(make_broker):
    b = sasl_broker(make_broker, "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER")
    topic = unique_topic("sasl")
    assert produce(conf(b, "PLAIN", "alice", "alice-secret"), topic) == [0, 1, 2, 3, 4]
    admin = AdminClient(conf(b, "PLAIN", "admin", "admin-secret"))
    futures = admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("alice", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), b"alice-256"),
        UserScramCredentialUpsertion("bob", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"bob-512"),
    ])
    for f in futures.values():
        f.result(TIMEOUT)
    assert produce(conf(b, "SCRAM-SHA-256", "alice", "alice-256"), topic) == [5, 6, 7, 8, 9]
    assert produce(conf(b, "SCRAM-SHA-512", "bob", "bob-512"), topic) == [10, 11, 12, 13, 14]
    oauth = conf(b, "OAUTHBEARER", **{"enable.sasl.oauthbearer.unsecure.jwt": True,
                                     "sasl.oauthbearer.config": "principal=carol"})
    assert produce(oauth, topic) == [15, 16, 17, 18, 19]
    msg = auth_fails(conf(b, "PLAIN", "alice", "wrong"))
    assert "Invalid username or password" in msg, msg
    msg = auth_fails(conf(b, "SCRAM-SHA-256", "alice", "wrong"))
    assert "invalid credentials with SASL mechanism SCRAM-SHA-256" in msg, msg


def test_kafka_python_plain_and_scram(make_broker):
    from kafka import KafkaProducer
    b = sasl_broker(make_broker)
    admin = AdminClient(conf(b, "PLAIN", "admin", "admin-secret"))
    for f in admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion("alice", ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), b"alice-512"),
    ]).values():
        f.result(TIMEOUT)
    topic = unique_topic("sasl-kp")
    for mech, pw in [("PLAIN", "alice-secret"), ("SCRAM-SHA-512", "alice-512")]:
        p = KafkaProducer(bootstrap_servers=b.bootstrap, security_protocol="SASL_PLAINTEXT",
                          sasl_mechanism=mech, sasl_plain_username="alice", sasl_plain_password=pw)
        md = p.send(topic, b"x").get(timeout=TIMEOUT)
        assert md.offset >= 0
        p.close()


@pytest.mark.klamm_only("reads Klamm's own log lines (\"re-authentication\") to see that librdkafka re-authenticated")
def test_confluent_kafka_reauthenticates_while_producing(make_broker):
    b = sasl_broker(make_broker, "connections.max.reauth.ms=2000")
    c = conf(b, "PLAIN", "alice", "alice-secret")
    topic = unique_topic("reauth")
    p = Producer({**c, "message.timeout.ms": int(TIMEOUT * 1000)})
    errors = []
    offsets = []
    for i in range(12):
        p.produce(topic, value=f"{i}".encode(),
                  on_delivery=lambda err, msg: (errors.append(err) if err else offsets.append(msg.offset())))
        p.flush(TIMEOUT)
        time.sleep(0.5)
    assert errors == []
    assert offsets == list(range(12))
    # librdkafka re-authenticated on its connection (the broker logs each completed exchange).
    log = b.stderr_path.read_text(errors="replace")
    assert "re-authentication" in log and "SASL authentication succeeded" in log, log[-3000:]
