"""pytest fixtures for Klamm's third-party-client tests.

Fixtures
  broker        one `klamm serve` per test module (fresh temp data dir, 127.0.0.1:0). A module can
                set KLAMM_OVERRIDES = ["key=value", ...] to pass `--override`s. Teardown stops it
                with SIGTERM and requires exit code 0.
  bootstrap     "127.0.0.1:PORT" of the module broker.
  data_dir      the module broker's data dir.
  make_broker   factory for per-test brokers: make_broker(overrides=[...]) -> started Broker
                (Broker has .bootstrap, .data_dir, .restart(), .kill9(), .stop(), .start()).

The binary is $KLAMM_BIN or <repo>/target/release/klamm. On a test failure the tail of the
stderr log of every broker in use is attached to the report.

`--broker=kafka` (or KLAMM_TEST_BROKER=kafka) makes the same fixtures start a real Apache Kafka
4.1 KRaft node instead (klammtest.KafkaBroker), so a test that fails against Kafka too points at
the test or the client, not at Klamm. Tests marked `klamm_only(reason)` (module `pytestmark` or
per test) check Klamm's own surface and are deselected there; the reasons are listed at the end.
"""

from __future__ import annotations

import shutil

import pytest

import klammtest


def pytest_addoption(parser):
    parser.addoption(
        "--broker",
        choices=("klamm", "kafka"),
        default=klammtest.BROKER_KIND,
        help="broker the fixtures start: klamm (default, `klamm serve`) or kafka (Apache Kafka "
        "4.1 from target/kafka/kafka.classpath); default $KLAMM_TEST_BROKER or klamm",
    )


def pytest_configure(config):
    klammtest.BROKER_KIND = config.getoption("--broker")


def klamm_only_reason(item):
    mark = item.get_closest_marker("klamm_only")
    if mark is None:
        return None
    return mark.args[0] if mark.args else mark.kwargs.get("reason", "Klamm-only")


DESELECTED_KLAMM_ONLY: list = []


def pytest_collection_modifyitems(config, items):
    if klammtest.BROKER_KIND != "kafka":
        return
    keep, drop = [], []
    for item in items:
        reason = klamm_only_reason(item)
        if reason is None:
            keep.append(item)
        else:
            drop.append(item)
            DESELECTED_KLAMM_ONLY.append((item.nodeid, reason))
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config):
    if klammtest.BROKER_KIND == "kafka":
        return f"broker under test: Apache Kafka ({klammtest.kafka_classpath_file()})"
    return f"broker under test: klamm ({klammtest.klamm_bin()})"


def pytest_terminal_summary(terminalreporter):
    if not DESELECTED_KLAMM_ONLY:
        return
    terminalreporter.section(f"klamm_only: {len(DESELECTED_KLAMM_ONLY)} deselected under --broker=kafka")
    by_reason: dict = {}
    for nodeid, reason in DESELECTED_KLAMM_ONLY:
        by_reason.setdefault(reason, []).append(nodeid)
    for reason, ids in by_reason.items():
        terminalreporter.write_line(f"{reason}:")
        for i in ids:
            terminalreporter.write_line(f"    {i}")


@pytest.fixture(scope="module")
def broker(request):
    overrides = getattr(request.module, "KLAMM_OVERRIDES", [])
    b = klammtest.new_broker(overrides, name=f"klamm-{request.module.__name__}")
    try:
        b.start()
        yield b
        rc = b.stop()
        assert rc == 0, f"{b.kind} exited with code {rc} on SIGTERM (expected 0)\n{b.stderr_tail()}"
    finally:
        b.cleanup()


@pytest.fixture(scope="module")
def bootstrap(broker) -> str:
    return broker.bootstrap


@pytest.fixture(scope="module")
def data_dir(broker):
    return broker.data_dir


@pytest.fixture
def make_broker(request):
    made: list = []

    def make(overrides=(), start=True):
        b = klammtest.new_broker(overrides, name=f"klamm-{request.node.name[:40]}")
        made.append(b)
        if start:
            b.start()
        return b

    yield make
    try:
        for b in made:
            if b.running():
                rc = b.stop()
                assert rc == 0, f"{b.kind} exited with code {rc} on SIGTERM (expected 0)\n{b.stderr_tail()}"
    finally:
        for b in made:
            b.cleanup()


@pytest.fixture(scope="session")
def kcat_bin():
    path = shutil.which("kcat") or shutil.which("kafkacat")
    if not path:
        pytest.fail("kcat is not installed (protocol-tests/run-all installs it with apt-get)")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for b in list(klammtest.LIVE_BROKERS):
            rep.sections.append(
                (f"{b.kind} stderr tail ({b.stderr_path})", b.stderr_tail(60))
            )


@pytest.fixture
def members():
    """The consumer-group members (groupstest.Member) a test starts; any still running at its end
    are killed."""
    made: list = []
    yield made
    for m in made:
        m.cleanup()
