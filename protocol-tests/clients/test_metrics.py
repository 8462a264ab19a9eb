"""/metrics and /health on the HTTP endpoint (--http-listen).

Scrapes during a confluent-kafka produce/consume run and checks that the counters move by
exactly what was sent: records in = records produced, bytes in = the bytes the log grew by
(batches are stored byte-for-byte as the producer sent them), bytes out = the bytes a full
read-back fetched; the Kafka JMX-exporter and kafka_exporter names carry the same values; the
page parses with prometheus_client's own parser. /health is 200 while serving and 503 while
the logs are being recovered.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from klammtest import (
    TIMEOUT,
    Broker,
    Rec,
    cf_assert_delivered,
    cf_consume,
    cf_create_topic,
    cf_produce,
    klamm_bin,
    unique_topic,
    wait_until,
)

pytestmark = pytest.mark.klamm_only("Klamm's /metrics and /health HTTP endpoint (Kafka has JMX, no HTTP endpoint)")


def get(http: str, path: str, method: str = "GET") -> tuple[int, str, dict]:
    req = urllib.request.Request(f"http://{http}{path}", method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def scrape(http: str) -> dict:
    """{(name, frozenset(labels.items())): value} for every sample, via prometheus_client."""
    status, body, headers = get(http, "/metrics")
    assert status == 200, body
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(body):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """Sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_counters_move_by_exactly_what_was_sent(broker):
    topic = unique_topic("metrics")
    cf_create_topic(broker.bootstrap, topic, 3)
    before = scrape(broker.http)
    assert value(before, "klamm_topic_records_in_total", topic=topic) == 0

    recs = [Rec(i % 3, f"k{i}".encode(), b"v" * (i % 50), ((("h", b"x"),) if i % 4 == 0 else ())) for i in range(600)]
    cf_assert_delivered(cf_produce(broker.bootstrap, topic, recs), recs)
    mid = scrape(broker.http)

    records_in = value(mid, "klamm_topic_records_in_total", topic=topic)
    bytes_in = value(mid, "klamm_topic_bytes_in_total", topic=topic)
    assert records_in == len(recs)
    # Batches are appended byte-for-byte: the log grew by exactly the bytes counted in.
    log_size = total(mid, "klamm_partition_log_size_bytes", topic=topic)
    assert log_size > 0 and bytes_in == log_size
    assert value(mid, "klamm_topic_log_size_bytes", topic=topic) == log_size
    # Kafka's names carry the same numbers.
    assert value(mid, "kafka_server_brokertopicmetrics_messagesin_total", topic=topic) == records_in
    assert value(mid, "kafka_server_brokertopicmetrics_bytesin_total", topic=topic) == bytes_in
    assert total(mid, "kafka_log_log_size", topic=topic) == log_size
    for p in range(3):
        n = sum(1 for r in recs if r.partition == p)
        for name in ("klamm_partition_log_end_offset", "klamm_partition_high_watermark",
                     "kafka_topic_partition_current_offset", "kafka_log_log_logendoffset"):
            assert value(mid, name, topic=topic, partition=str(p)) == n, name
        assert value(mid, "kafka_topic_partition_oldest_offset", topic=topic, partition=str(p)) == 0
        assert value(mid, "klamm_partition_segments", topic=topic, partition=str(p)) == 1
    assert value(mid, "kafka_topic_partitions", topic=topic) == 3
    # The batch-size histogram saw every appended batch, and its sum is the bytes in.
    d_batches = value(mid, "klamm_produce_batch_size_bytes_sum") - value(before, "klamm_produce_batch_size_bytes_sum")
    assert d_batches == bytes_in
    produce_requests = total(mid, "klamm_requests_total", api="Produce") - total(before, "klamm_requests_total", api="Produce")
    assert produce_requests >= 1
    assert total(mid, "kafka_network_requestmetrics_requests_total", request="Produce") == total(
        mid, "klamm_requests_total", api="Produce")
    assert value(mid, "klamm_request_errors_total", api="Produce", error="NONE") >= produce_requests
    assert value(mid, "klamm_request_local_time_seconds_count", api="Produce") == total(
        mid, "klamm_requests_total", api="Produce")

    # Read everything back once: bytes out = the log's bytes.
    got = cf_consume(broker.bootstrap, topic, range(3), expected={p: sum(1 for r in recs if r.partition == p) for p in range(3)})
    assert sum(len(v) for v in got.values()) == len(recs)
    after = scrape(broker.http)
    assert value(after, "klamm_topic_bytes_out_total", topic=topic) == log_size
    assert value(after, "kafka_server_brokertopicmetrics_bytesout_total", topic=topic) == log_size
    # Producing nothing more: the in-counters did not move.
    assert value(after, "klamm_topic_records_in_total", topic=topic) == records_in


def test_error_codes_and_connections_are_counted(broker):
    from confluent_kafka.admin import AdminClient

    before = scrape(broker.http)
    # A Metadata request for a name that cannot be a topic answers INVALID_TOPIC_EXCEPTION.
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    md = admin.list_topics(topic="bad name!", timeout=TIMEOUT)
    assert md.topics["bad name!"].error is not None
    after = scrape(broker.http)
    d = value(after, "klamm_request_errors_total", api="Metadata", error="INVALID_TOPIC_EXCEPTION") - value(
        before, "klamm_request_errors_total", api="Metadata", error="INVALID_TOPIC_EXCEPTION")
    assert d >= 1
    assert value(after, "kafka_network_requestmetrics_errors_total", request="Metadata",
                 error="INVALID_TOPIC_EXCEPTION") == value(
        after, "klamm_request_errors_total", api="Metadata", error="INVALID_TOPIC_EXCEPTION")
    opened = value(after, "klamm_connections_opened_total")
    closed = value(after, "klamm_connections_closed_total")
    assert opened >= 1 and value(after, "klamm_connections_active") == opened - closed

    # A connection that sends garbage is closed and counted as rejected.
    with socket.create_connection((broker.host, broker.port), timeout=TIMEOUT) as s:
        s.sendall(b"\x7f\xff\xff\xff")  # a 2 GiB size prefix
        s.settimeout(TIMEOUT)
        assert s.recv(16) == b""
    rejected = wait_until(
        lambda: value(scrape(broker.http), "klamm_requests_rejected_total", reason="frame_size"),
        what="the rejected-request counter")
    assert rejected >= 1


def test_output_parses_and_has_types_and_process_stats(broker):
    status, body, _ = get(broker.http, "/metrics")
    assert status == 200
    families = {f.name: f for f in text_string_to_metric_families(body)}
    # prometheus_client strips _total from counter family names.
    assert families["klamm_requests"].type == "counter"
    assert families["kafka_server_brokertopicmetrics_bytesin"].type == "counter"
    assert families["klamm_request_total_time_seconds"].type == "histogram"
    assert families["klamm_connections_active"].type == "gauge"
    assert families["kafka_topic_partition_current_offset"].type == "gauge"
    for name in ("process_resident_memory_bytes", "process_open_fds", "process_max_fds",
                 "process_start_time_seconds"):
        assert families[name].type == "gauge"
        assert families[name].samples[0].value > 0, name
    assert families["process_cpu_seconds"].type == "counter"
    info = families["klamm_broker_info"].samples[0]
    assert info.value == 1 and info.labels["node_id"] == "0" and info.labels["cluster_id"]
    # Every histogram has its +Inf bucket equal to its count.
    for f in families.values():
        if f.type != "histogram":
            continue
        by_labels: dict = {}
        for s in f.samples:
            key = frozenset((k, v) for k, v in s.labels.items() if k != "le")
            if s.name.endswith("_bucket") and s.labels["le"] == "+Inf":
                by_labels.setdefault(key, {})["inf"] = s.value
            elif s.name.endswith("_count"):
                by_labels.setdefault(key, {})["count"] = s.value
        for key, v in by_labels.items():
            assert v.get("inf") == v.get("count"), (f.name, key, v)


def test_health_and_http_errors(broker):
    status, body, headers = get(broker.http, "/health")
    assert (status, body) == (200, "ok\n")
    assert headers["Connection"] == "close"
    assert int(headers["Content-Length"]) == len(body)
    assert get(broker.http, "/nope")[0] == 404
    status, _, headers = get(broker.http, "/health", method="POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"
    # An oversized request head gets 431, a malformed request line 400.
    host, port = broker.http.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 431")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(b"NONSENSE\r\n\r\n")
        assert s.recv(64).startswith(b"HTTP/1.1 400")
    # The image's HEALTHCHECK command.
    ok = subprocess.run([str(klamm_bin()), "health", "--http", broker.http], capture_output=True, timeout=TIMEOUT)
    assert ok.returncode == 0 and ok.stdout == b"ok\n"


def test_health_is_503_while_the_logs_recover(make_broker):
    """Many partitions after a kill -9 make recovery take a while; /health (up before recovery)
    must answer 503 until the Kafka listener is ready, then 200."""
    b: Broker = make_broker(["num.recovery.threads.per.data.dir=1", "log.index.interval.bytes=1"])
    topic = unique_topic("recover")
    cf_create_topic(b.bootstrap, topic, 400)
    recs = [Rec(i % 400, None, b"x" * 100) for i in range(4000)]
    cf_assert_delivered(cf_produce(b.bootstrap, topic, recs), recs)
    b.kill9()
    # A fixed port, known before the broker prints anything, so polling starts at once.
    http_port = _free_port()
    statuses: list = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            try:
                statuses.append(get(f"127.0.0.1:{http_port}", "/health")[0])
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.001)

    t = threading.Thread(target=poll, daemon=True)
    os.environ["KLAMM_TEST_HTTP_LISTEN"] = f"127.0.0.1:{http_port}"
    try:
        t.start()
        b.start()
        wait_until(lambda: 200 in statuses, what="/health 200 after start")
    finally:
        stop.set()
        t.join(TIMEOUT)
        del os.environ["KLAMM_TEST_HTTP_LISTEN"]
    print(f"health polls: {statuses.count(503)} x 503 before {statuses.count(200)} x 200")
    assert 503 in statuses, f"never saw 503 during recovery: {statuses[:20]}"
    # 503 until ready, then 200 for good.
    first_ok = statuses.index(200)
    assert all(c == 503 for c in statuses[:first_ok]), statuses
    assert all(c == 200 for c in statuses[first_ok:]), statuses


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_partition_series_can_be_turned_off_and_metrics_disabled(make_broker):
    b = make_broker(["metrics.partition.series.enable=false"])
    topic = unique_topic("nopart")
    cf_create_topic(b.bootstrap, topic, 2)
    recs = [Rec(i % 2, None, b"abc") for i in range(10)]
    cf_assert_delivered(cf_produce(b.bootstrap, topic, recs), recs)
    s = scrape(b.http)
    assert not any(n in ("kafka_log_log_size", "klamm_partition_log_end_offset") for n, _ in s)
    assert value(s, "klamm_topic_log_size_bytes", topic=topic) > 0
    assert value(s, "klamm_topic_records_in_total", topic=topic) == 10

    off = make_broker(["metrics.enable=false"])
    status, body, _ = get(off.http, "/metrics")
    assert status == 404 and "metrics.enable" in body
    assert get(off.http, "/health")[0] == 200


def test_consumer_group_lag(broker):
    """kafka_exporter's group series: lag = log end offset - committed offset, per partition and
    summed per topic. Before the broker has consumer groups (no OffsetCommit advertised) there
    must be no group series at all."""
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    topic = unique_topic("lag")
    group = unique_topic("lag-group")
    cf_create_topic(broker.bootstrap, topic, 3)
    recs = [Rec(i % 3, None, b"r") for i in range(30)]
    cf_assert_delivered(cf_produce(broker.bootstrap, topic, recs), recs)
    if not _advertises(broker.bootstrap, "OffsetCommit"):
        s = scrape(broker.http)
        assert not any(n.startswith(("kafka_consumergroup_", "klamm_group_lag", "klamm_groups")) for n, _ in s)
        assert value(s, "klamm_group_rebalances_total") == 0
        return
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False})
    committed = {0: 3, 1: 10, 2: 0}
    c.commit(offsets=[TopicPartition(topic, p, o) for p, o in committed.items()], asynchronous=False)
    c.close()
    s = scrape(broker.http)
    for p, o in committed.items():
        labels = dict(consumergroup=group, topic=topic, partition=str(p))
        assert value(s, "kafka_consumergroup_current_offset", **labels) == o
        assert value(s, "kafka_consumergroup_lag", **labels) == 10 - o
        assert value(s, "klamm_group_lag", **labels) == 10 - o
    assert value(s, "kafka_consumergroup_lag_sum", consumergroup=group, topic=topic) == sum(10 - o for o in committed.values())
    assert value(s, "kafka_consumergroup_members", consumergroup=group) == 0
    assert value(s, "klamm_groups", state="Empty") >= 1

    # A subscribing consumer makes the group rebalance; its lag follows its commits.
    before = value(s, "klamm_group_rebalances_total")
    c = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": group, "enable.auto.commit": False,
                  "auto.offset.reset": "earliest"})
    try:
        c.subscribe([topic])
        wait_until(lambda: c.poll(0.2) is not None and c.assignment(), what="an assignment")
        c.commit(offsets=[TopicPartition(topic, p, 10) for p in range(3)], asynchronous=False)
        s = scrape(broker.http)
        assert value(s, "klamm_group_rebalances_total") > before
        assert value(s, "klamm_groups", state="Stable") >= 1
        assert value(s, "kafka_consumergroup_members", consumergroup=group) == 1
        assert value(s, "kafka_consumergroup_lag_sum", consumergroup=group, topic=topic) == 0
    finally:
        c.close()


def _advertises(bootstrap: str, api: str) -> bool:
    out = subprocess.run([str(klamm_bin()), "cluster", "info", "--json", "--bootstrap-server", bootstrap],
                         capture_output=True, timeout=TIMEOUT, check=True).stdout
    import json
    return any(a["api"] == api for a in json.loads(out)["apis"])
