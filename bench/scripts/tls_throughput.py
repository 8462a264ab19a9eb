"""Produce and consume 1 KiB messages through a PLAINTEXT and an SSL listener of one broker with
confluent-kafka (librdkafka) and print MB/s for each. Usage:

    KLAMM_BIN=target/release/klamm target/test-venv/bin/python bench/scripts/tls_throughput.py [N]

Certificates are made with openssl in a temporary directory. Loopback only; bounded by N.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "protocol-tests" / "clients"))
from confluent_kafka import Consumer, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from klammtest import Broker  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
SIZE = 1024
pki = Path(tempfile.mkdtemp(prefix="klamm-bench-pki-"))


def ossl(*a):
    subprocess.run(["openssl", *a], check=True, capture_output=True, cwd=pki)


ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
     "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA")
(pki / "ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "s.key", "-out",
     "s.csr", "-subj", "/CN=localhost")
ossl("x509", "-req", "-in", "s.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "s.pem",
     "-days", "2", "-extfile", "ext")
(pki / "ks.pem").write_text((pki / "s.key").read_text() + (pki / "s.pem").read_text())

b = Broker([
    "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
    f"listener.name.ssl.ssl.keystore.location={pki / 'ks.pem'}",
]).start()
ssl_addr = None
for line in b.stdout_path.read_text().splitlines():
    if line.startswith("klamm listener SSL "):
        ssl_addr = line.split(" on ")[1].split(" ")[0]
assert ssl_addr, "no SSL listener line"

payload = bytes(range(256)) * (SIZE // 256)
try:
    for name, conf in [
        ("PLAINTEXT", {"bootstrap.servers": b.bootstrap}),
        ("SSL", {"bootstrap.servers": ssl_addr, "security.protocol": "SSL", "ssl.ca.location": str(pki / "ca.pem")}),
    ]:
        topic = f"bench-{name.lower()}"
        admin = AdminClient(conf)
        for f in admin.create_topics([NewTopic(topic, 1, 1)]).values():
            f.result(30)
        p = Producer({**conf, "linger.ms": 5, "batch.size": 1_000_000, "queue.buffering.max.messages": 1_000_000,
                      "compression.type": "none", "acks": "all"})
        t0 = time.perf_counter()
        for i in range(N):
            while True:
                try:
                    p.produce(topic, payload, partition=0)
                    break
                except BufferError:
                    p.poll(0.01)
        assert p.flush(120) == 0
        produce_s = time.perf_counter() - t0
        c = Consumer({**conf, "group.id": "bench", "enable.auto.commit": False, "fetch.max.bytes": 52428800,
                      "max.partition.fetch.bytes": 10485760})
        c.assign([TopicPartition(topic, 0, 0)])
        got = 0
        t0 = time.perf_counter()
        while got < N:
            msgs = c.consume(10000, 30)
            assert msgs, f"consume stalled at {got}"
            for m in msgs:
                assert m.error() is None and len(m.value()) == SIZE
            got += len(msgs)
        consume_s = time.perf_counter() - t0
        c.close()
        mb = N * SIZE / 1e6
        print(f"{name:9} produce {mb / produce_s:8.1f} MB/s   consume {mb / consume_s:8.1f} MB/s   ({N} x {SIZE} B)")
finally:
    b.stop()
    b.cleanup()
