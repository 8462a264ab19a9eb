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
"""

from __future__ import annotations

import shutil

import pytest

import klammtest
from klammtest import Broker


@pytest.fixture(scope="module")
def broker(request):
    overrides = getattr(request.module, "KLAMM_OVERRIDES", [])
    b = Broker(overrides, name=f"klamm-{request.module.__name__}")
    try:
        b.start()
        yield b
        rc = b.stop()
        assert rc == 0, f"klamm exited with code {rc} on SIGTERM (expected 0)\n{b.stderr_tail()}"
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
    made: list[Broker] = []

    def make(overrides=(), start=True) -> Broker:
        b = Broker(overrides, name=f"klamm-{request.node.name[:40]}")
        made.append(b)
        if start:
            b.start()
        return b

    yield make
    try:
        for b in made:
            if b.running():
                rc = b.stop()
                assert rc == 0, f"klamm exited with code {rc} on SIGTERM (expected 0)\n{b.stderr_tail()}"
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
                (f"klamm stderr tail ({b.stderr_path})", b.stderr_tail(60))
            )


@pytest.fixture
def members():
    """The consumer-group members (groupstest.Member) a test starts; any still running at its end
    are killed."""
    made: list = []
    yield made
    for m in made:
        m.cleanup()
