"""Malformed and hostile input on raw TCP sockets.

Every case: the broker either answers correctly or closes the connection; it never hangs (reads
have a 10 s timeout, which counts as a failure) and afterwards it still serves a normal
confluent-kafka producer and consumer.
"""

import random
import socket
import struct
import time

import pytest

from klammtest import cf_roundtrip_smoke

READ_TIMEOUT = 10.0

API_PRODUCE, API_FETCH, API_LIST_OFFSETS, API_METADATA, API_API_VERSIONS, API_CREATE_TOPICS = 0, 1, 2, 3, 18, 19
UNSUPPORTED_VERSION = 35


def connect(bootstrap) -> socket.socket:
    host, port = bootstrap.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=READ_TIMEOUT)
    s.settimeout(READ_TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def kstring(s: str) -> bytes:
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def uvarint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def compact_string(s: str) -> bytes:
    b = s.encode()
    return uvarint(len(b) + 1) + b


def header_v1(api_key, version, corr, client_id="klamm-raw-test") -> bytes:
    return struct.pack(">hhi", api_key, version, corr) + kstring(client_id)


def header_v2(api_key, version, corr, client_id="klamm-raw-test") -> bytes:
    return header_v1(api_key, version, corr, client_id) + b"\x00"  # empty tagged fields


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def read_response(s):
    """('frame', bytes) for one complete response, ('closed', None) if the broker closed.

    A read timeout (the broker neither answered nor closed) fails the test.
    """
    try:
        size_b = recv_exact(s, 4)
        if size_b is None:
            return "closed", None
        (size,) = struct.unpack(">i", size_b)
        assert 4 <= size <= 64 * 1024 * 1024, f"implausible response size {size}"
        body = recv_exact(s, size)
        if body is None:
            return "closed", None
        return "frame", body
    except (ConnectionResetError, BrokenPipeError):
        return "closed", None
    except socket.timeout:
        pytest.fail(f"broker neither answered nor closed the connection within {READ_TIMEOUT}s (hang)")


def send_all(s, data):
    try:
        s.sendall(data)
    except (ConnectionResetError, BrokenPipeError):
        pass  # the broker may already have closed on us: that is an accepted outcome


def parse_api_versions_v0(body: bytes, corr: int):
    (rcorr, err, n) = struct.unpack(">ihi", body[:10])
    assert rcorr == corr, f"correlation id {rcorr} != {corr}"
    assert n >= 0
    assert len(body) == 10 + 6 * n, f"ApiVersions v0 response is {len(body)} bytes, expected {10 + 6 * n} for {n} api keys"
    keys = {}
    for i in range(n):
        k, lo, hi = struct.unpack(">hhh", body[10 + 6 * i : 16 + 6 * i])
        keys[k] = (lo, hi)
    return err, keys


def api_versions_v0(s, corr=1):
    send_all(s, frame(header_v1(API_API_VERSIONS, 0, corr)))
    kind, body = read_response(s)
    assert kind == "frame", "broker closed the connection on a valid ApiVersions v0 request"
    return parse_api_versions_v0(body, corr)


def assert_healthy(broker):
    assert broker.running(), f"broker died (exit code {broker.proc.returncode})"
    with connect(broker.bootstrap) as s:
        err, keys = api_versions_v0(s, corr=4242)
        assert err == 0
    cf_roundtrip_smoke(broker.bootstrap)


def answered_or_closed(s, corr=None):
    kind, body = read_response(s)
    if kind == "frame" and corr is not None:
        (rcorr,) = struct.unpack(">i", body[:4])
        assert rcorr == corr, f"answer has correlation id {rcorr}, request had {corr}"
    return kind


# ---------------------------------------------------------------------------------------------


def test_api_versions_v0_sanity(broker):
    with connect(broker.bootstrap) as s:
        err, keys = api_versions_v0(s, corr=7)
    assert err == 0
    for k in (API_PRODUCE, API_FETCH, API_LIST_OFFSETS, API_METADATA, API_API_VERSIONS):
        assert k in keys, f"api key {k} missing from ApiVersions: {sorted(keys)}"
        lo, hi = keys[k]
        assert 0 <= lo <= hi, (k, lo, hi)
    assert keys[API_API_VERSIONS][1] >= 3


def test_api_versions_too_new_gets_v0_unsupported_version(broker):
    corr = 99
    body = header_v2(API_API_VERSIONS, 99, corr) + compact_string("klamm-raw") + compact_string("1.0") + b"\x00"
    with connect(broker.bootstrap) as s:
        send_all(s, frame(body))
        kind, resp = read_response(s)
        assert kind == "frame", "broker closed instead of answering ApiVersions v99 with UNSUPPORTED_VERSION"
        err, keys = parse_api_versions_v0(resp, corr)
        assert err == UNSUPPORTED_VERSION, f"error code {err}, expected 35 UNSUPPORTED_VERSION"
        # Kafka's ApiVersionsRequest.getErrorResponse lists ApiVersions' own range only.
        assert list(keys) == [API_API_VERSIONS], sorted(keys)
        # A client then retries with a version the broker listed, on the same connection.
        err, keys2 = api_versions_v0(s, corr=100)
        assert err == 0 and keys2[API_API_VERSIONS] == keys[API_API_VERSIONS] and len(keys2) > 1
    assert_healthy(broker)


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_random_body_in_a_valid_frame(broker, seed):
    rnd = random.Random(seed)
    body = rnd.randbytes(rnd.choice([0, 1, 3, 7, 8, 12, 50, 300]))
    with connect(broker.bootstrap) as s:
        send_all(s, frame(body))
        corr = struct.unpack(">i", body[4:8])[0] if len(body) >= 8 else None
        answered_or_closed(s, corr)
    assert_healthy(broker)


@pytest.mark.parametrize(
    "blob",
    [
        b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        b"\xff" + random.Random(9).randbytes(999),  # negative size prefix
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + random.Random(10).randbytes(200),  # a TLS ClientHello start
    ],
    ids=["http", "negative-size", "tls-hello"],
)
def test_random_bytes(broker, blob):
    with connect(broker.bootstrap) as s:
        send_all(s, blob)
        answered_or_closed(s)
    assert_healthy(broker)


@pytest.mark.parametrize("prefix", [0x7FFFFFFF, 0x80000000, 0], ids=["2GiB-1", "int32-min", "zero"])
def test_absurd_size_prefix(broker, prefix):
    with connect(broker.bootstrap) as s:
        send_all(s, struct.pack(">I", prefix) + header_v1(API_METADATA, 0, 5))
        kind = answered_or_closed(s)
        assert kind == "closed", "a frame with a size prefix of 2 GiB / negative / zero must be refused"
    assert_healthy(broker)


def test_truncated_frame_then_close(broker):
    full = frame(header_v1(API_METADATA, 1, 11) + struct.pack(">i", -1))
    with connect(broker.bootstrap) as s:
        send_all(s, full[: len(full) // 2])
        s.shutdown(socket.SHUT_WR)
        assert answered_or_closed(s) == "closed"
    # And a frame whose size prefix promises more than ever arrives, then the client closes.
    with connect(broker.bootstrap) as s:
        send_all(s, struct.pack(">i", 1000) + header_v1(API_METADATA, 1, 12))
        time.sleep(0.05)
    assert_healthy(broker)


def test_unknown_api_key(broker):
    with connect(broker.bootstrap) as s:
        send_all(s, frame(header_v1(9999, 0, 21) + b"\x00" * 16))
        answered_or_closed(s, 21)
    assert_healthy(broker)


def test_too_new_metadata_version(broker):
    with connect(broker.bootstrap) as s:
        send_all(s, frame(header_v2(API_METADATA, 99, 31) + b"\x01\x00\x00\x00"))
        answered_or_closed(s, 31)
    assert_healthy(broker)


def test_request_split_into_single_bytes(broker):
    with connect(broker.bootstrap) as s:
        data = frame(header_v1(API_API_VERSIONS, 0, 41))
        for i in range(len(data)):
            s.sendall(data[i : i + 1])
            time.sleep(0.002)
        kind, body = read_response(s)
        assert kind == "frame"
        err, keys = parse_api_versions_v0(body, 41)
        assert err == 0 and keys


def test_pipelined_requests_answered_in_order(broker):
    with connect(broker.bootstrap) as s:
        s.sendall(b"".join(frame(header_v1(API_API_VERSIONS, 0, c)) for c in (51, 52, 53)))
        for c in (51, 52, 53):
            kind, body = read_response(s)
            assert kind == "frame"
            err, _ = parse_api_versions_v0(body, c)
            assert err == 0
