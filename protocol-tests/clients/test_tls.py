"""Real clients over an SSL listener: confluent-kafka (librdkafka), kafka-python, kafkajs and kcat
produce and consume exact content with the server verified against the test CA, with and without
a client certificate (the listener has ssl.client.auth=requested), and a client that trusts
another CA fails. The certificates are made with openssl at import time (test data only; the
broker reads them as PEM).
"""

import json
import subprocess
import tempfile
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from klammtest import TIMEOUT, unique_topic
from test_kafkajs import kjs

PKI = Path(tempfile.mkdtemp(prefix="klamm-tls-pki-"))


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=PKI)


def _ca(name):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}")


def _issue(name, subj, ext):
    (PKI / f"{name}.ext").write_text(ext)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext")


_ca("ca")
_ca("other-ca")
# clientAuth too: Kafka checks at start-up that its keystore can also act as the client of its
# own (inter-broker) listener.
_issue("server", "/CN=localhost",
       "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n")
_issue("client", "/C=DE/O=Example/OU=eng/CN=client", "extendedKeyUsage=clientAuth\n")
(PKI / "keystore.pem").write_text(
    (PKI / "server.key").read_text() + (PKI / "server.pem").read_text() + (PKI / "ca.pem").read_text()
)
CA = str(PKI / "ca.pem")
OTHER_CA = str(PKI / "other-ca.pem")
CERT = str(PKI / "client.pem")
KEY = str(PKI / "client.key")

KLAMM_OVERRIDES = [
    "listeners=SSL://127.0.0.1:0",
    f"ssl.keystore.location={PKI / 'keystore.pem'}",
    f"ssl.truststore.location={CA}",
    "ssl.client.auth=requested",
    "num.partitions=1",
]

MESSAGES = [(f"key-{i}".encode(), f"value-{i}-".encode() * (i % 50 + 1)) for i in range(300)]


def ssl_conf(bootstrap, cert=False, ca=CA):
    conf = {"bootstrap.servers": bootstrap, "security.protocol": "SSL", "ssl.ca.location": ca}
    if cert:
        conf.update({"ssl.certificate.location": CERT, "ssl.key.location": KEY})
    return conf


def create(bootstrap, topic):
    admin = AdminClient(ssl_conf(bootstrap))
    for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        f.result(TIMEOUT)


def confluent_produce(conf, topic):
    p = Producer(conf)
    for k, v in MESSAGES:
        p.produce(topic, key=k, value=v, partition=0)
    assert p.flush(TIMEOUT) == 0


def confluent_consume(conf, topic, n=len(MESSAGES)):
    c = Consumer({**conf, "group.id": unique_topic("g"), "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    try:
        while len(got) < n:
            m = c.poll(TIMEOUT)
            assert m is not None, f"timed out after {len(got)} messages"
            assert m.error() is None, m.error()
            got.append((m.offset(), m.key(), m.value()))
    finally:
        c.close()
    return got


def expected_with_offsets():
    return [(i, k, v) for i, (k, v) in enumerate(MESSAGES)]


@pytest.mark.parametrize("cert", [False, True], ids=["server-auth", "mtls"])
def test_confluent_kafka_over_ssl(bootstrap, cert):
    topic = unique_topic("tls-confluent")
    create(bootstrap, topic)
    confluent_produce(ssl_conf(bootstrap, cert), topic)
    assert confluent_consume(ssl_conf(bootstrap, cert), topic) == expected_with_offsets()


def test_kafka_python_over_ssl(bootstrap):
    from kafka import KafkaConsumer, KafkaProducer
    from kafka import TopicPartition as KTP

    topic = unique_topic("tls-kpy")
    create(bootstrap, topic)
    common = dict(bootstrap_servers=bootstrap, security_protocol="SSL", ssl_cafile=CA,
                  ssl_certfile=CERT, ssl_keyfile=KEY)
    p = KafkaProducer(**common)
    for k, v in MESSAGES:
        p.send(topic, key=k, value=v, partition=0)
    p.flush(TIMEOUT)
    p.close()
    c = KafkaConsumer(**common, enable_auto_commit=False, consumer_timeout_ms=int(TIMEOUT * 1000))
    c.assign([KTP(topic, 0)])
    c.seek_to_beginning()
    got = []
    for m in c:
        got.append((m.offset, m.key, m.value))
        if len(got) == len(MESSAGES):
            break
    c.close()
    assert got == expected_with_offsets()


def test_kcat_over_ssl(bootstrap, kcat_bin):
    topic = unique_topic("tls-kcat")
    create(bootstrap, topic)
    ssl = ["-X", "security.protocol=SSL", "-X", f"ssl.ca.location={CA}"]
    lines = b"\n".join(k + b":" + v for k, v in MESSAGES) + b"\n"
    subprocess.run([kcat_bin, "-b", bootstrap, *ssl, "-P", "-t", topic, "-p", "0", "-K:"],
                   input=lines, check=True, capture_output=True, timeout=TIMEOUT * 2)
    out = subprocess.run([kcat_bin, "-b", bootstrap, *ssl, "-C", "-t", topic, "-p", "0", "-o", "beginning",
                          "-e", "-J", "-q"], check=True, capture_output=True, timeout=TIMEOUT * 2)
    got = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
    assert [(m["offset"], m["key"].encode(), m["payload"].encode()) for m in got] == expected_with_offsets()
    # Produced by kcat, read back byte for byte by librdkafka too.
    assert confluent_consume(ssl_conf(bootstrap), topic) == expected_with_offsets()


def test_kafkajs_over_ssl(bootstrap):
    import base64

    topic = unique_topic("tls-kjs")
    create(bootstrap, topic)
    ssl = {"ca": CA, "cert": CERT, "key": KEY}
    msgs = [{"partition": 0, "key": base64.b64encode(k).decode(), "value": base64.b64encode(v).decode(),
             "headers": []} for k, v in MESSAGES[:50]]
    kjs("produce", {"brokers": [bootstrap], "ssl": ssl, "topic": topic, "compression": "none",
                    "acks": -1, "idempotent": False, "batches": [msgs]})
    res = kjs("consume", {"brokers": [bootstrap], "ssl": ssl, "topic": topic, "partitions": [0],
                          "expected": {"0": 50}, "timeoutMs": int(TIMEOUT * 1000)})
    got = [(int(m["offset"]), base64.b64decode(m["key"]), base64.b64decode(m["value"])) for m in res["messages"]]
    assert got == expected_with_offsets()[:50]
    assert confluent_consume(ssl_conf(bootstrap), topic, 50) == expected_with_offsets()[:50]


def test_a_client_trusting_another_ca_fails(bootstrap, kcat_bin):
    admin = AdminClient({**ssl_conf(bootstrap, ca=OTHER_CA), "socket.timeout.ms": 3000})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=5)
    proc = subprocess.run([kcat_bin, "-b", bootstrap, "-X", "security.protocol=SSL",
                           "-X", f"ssl.ca.location={OTHER_CA}", "-L", "-m", "5"],
                          capture_output=True, timeout=TIMEOUT)
    assert proc.returncode != 0
    assert b"certificate verify failed" in proc.stderr, proc.stderr[-2000:]
