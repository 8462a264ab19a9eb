"""Helpers for the consumer-group tests: group members as subprocesses (confluent-kafka,
kafka-python via group_member.py; kafkajs via node/kafkajs_group_member.js), and checks of
assignments and committed offsets.

Members print their current assignment and every record they receive; the test reads those
events from a background thread. Every wait is bounded by klammtest.TIMEOUT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Optional

from klammtest import TIMEOUT, wait_until

HERE = Path(__file__).resolve().parent
MEMBER_PY = HERE / "group_member.py"
MEMBER_JS = HERE / "node" / "kafkajs_group_member.js"

# Broker overrides that make group timing test-friendly: no initial rebalance delay and short
# sessions allowed.
GROUP_OVERRIDES = [
    "group.initial.rebalance.delay.ms=0",
    "group.min.session.timeout.ms=500",
]

# Client timing: short sessions so a killed member is noticed within ~2 s.
SESSION_MS = 2000
HEARTBEAT_MS = 250
REBALANCE_MS = 10000


class Member:
    """A consumer-group member process."""

    def __init__(self, client: str, bootstrap: str, group: str, topics: list, *, strategy: str = "range",
                 instance_id: Optional[str] = None, name: str = "member", session_ms: int = SESSION_MS,
                 protocol: str = "classic"):
        self.client = client
        self.name = name
        spec = {
            "client": client,
            "bootstrap": bootstrap,
            "group": group,
            "topics": topics,
            "session_timeout_ms": session_ms,
            "heartbeat_ms": HEARTBEAT_MS,
            "rebalance_timeout_ms": max(REBALANCE_MS, session_ms),
            "strategy": strategy,
            "instance_id": instance_id,
            "protocol": protocol,
            "client_id": f"klamm-{name}",
            # A directory for the member's client debug log (diagnosing a client's behaviour).
            "debug": (os.path.join(os.environ["KLAMM_GROUP_MEMBER_LOGDIR"], f"{name}-{os.getpid()}-{time.monotonic_ns()}.log")
                      if os.environ.get("KLAMM_GROUP_MEMBER_LOGDIR") else None),
        }
        if client == "kafkajs":
            cmd = ["node", str(MEMBER_JS), json.dumps(spec)]
            cwd = MEMBER_JS.parent
        else:
            cmd = [sys.executable, str(MEMBER_PY), json.dumps(spec)]
            cwd = HERE
        self.proc = subprocess.Popen(
            cmd, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.lock = threading.Lock()
        self.assignment: list = []
        self.assignments_seen = 0
        self.history: list = []  # every assignment reported, in order
        self.records: list = []
        self.committed: list = []
        self.errors: list = []
        self.closed = False
        self.stderr: list = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read(self):
        for raw in iter(self.proc.stdout.readline, b""):
            try:
                ev = json.loads(raw)
            except json.JSONDecodeError:
                continue
            with self.lock:
                kind = ev.get("event")
                if kind == "assignment":
                    self.assignment = [tuple(p) for p in ev["partitions"]]
                    self.assignments_seen += 1
                    self.history.append(list(self.assignment))
                elif kind == "record":
                    self.records.append((ev["topic"], ev["partition"], ev["offset"], ev.get("value")))
                elif kind == "committed":
                    self.committed.append([tuple(o) for o in ev["offsets"]])
                elif kind == "error":
                    self.errors.append(ev["error"])
                elif kind == "closed":
                    self.closed = True

    def _read_err(self):
        for raw in iter(self.proc.stderr.readline, b""):
            with self.lock:
                self.stderr.append(raw.decode("utf-8", "replace").rstrip())
                del self.stderr[:-200]

    def describe(self) -> str:
        """The member's state for a failure message; a Python member still running is first
        asked (SIGUSR1) to print every thread's stack, so a client stuck inside its library shows
        where."""
        tail = 15
        if self.client != "kafkajs" and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(0.5)  # the stack dump arrives on stderr, read by _read_err
            tail = 80
        with self.lock:
            return (f"{self.name} ({self.client}): assignment={self.assignment} records={len(self.records)} "
                    f"errors={self.errors[-5:]} stderr tail:\n  " + "\n  ".join(self.stderr[-tail:]))

    def assignment_history(self) -> list:
        with self.lock:
            return [list(a) for a in self.history]

    def current(self) -> list:
        with self.lock:
            return list(self.assignment)

    def records_of(self, topic: str, partition: int) -> list:
        with self.lock:
            return [r for r in self.records if r[0] == topic and r[1] == partition]

    def send(self, cmd: dict):
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        self.proc.stdin.flush()

    def commit(self, offsets: Optional[list] = None) -> list:
        with self.lock:
            n = len(self.committed)
            e = len(self.errors)
        self.send({"cmd": "commit", "offsets": offsets} if offsets is not None else {"cmd": "commit"})

        def done():
            with self.lock:
                if len(self.errors) > e:
                    raise AssertionError(f"{self.name} commit failed: {self.errors[e:]}")
                return self.committed[n] if len(self.committed) > n else None

        return wait_until(done, what=f"{self.name} commit")

    def commit_when_ready(self, offsets: list) -> list:
        """Commits, retrying while the client is still (re)discovering its coordinator."""
        last: list = []

        def attempt():
            try:
                return self.commit(offsets)
            except AssertionError as e:
                last[:] = [str(e)]
                return None

        try:
            return wait_until(attempt, what=f"{self.name} commit once the coordinator is back")
        except AssertionError as e:
            raise AssertionError(f"{e}: {last}") from None

    def close(self, timeout: float = TIMEOUT) -> None:
        """Leaves the group gracefully (the client sends LeaveGroup) and waits for exit."""
        if self.proc.poll() is None:
            try:
                self.send({"cmd": "close"})
            except BrokenPipeError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
                raise AssertionError(f"{self.name} did not close within {timeout}s\n{self.describe()}")

    def kill(self) -> None:
        """Kills the process: no LeaveGroup, no more heartbeats."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def cleanup(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


def wait_assignment(members: list, expected: set, *, what: str = "assignment", timeout: float = TIMEOUT) -> dict:
    """Waits until the members' current assignments are disjoint, each non-empty, and together
    exactly `expected`; returns {member name: set}."""

    def ok():
        cur = {m.name: set(m.current()) for m in members}
        union = set().union(*cur.values()) if cur else set()
        total = sum(len(s) for s in cur.values())
        if union == expected and total == len(expected) and all(cur.values()):
            return cur
        return None

    try:
        return wait_until(ok, timeout=timeout, what=what)
    except AssertionError as e:
        raise AssertionError(f"{e}\n" + "\n".join(m.describe() for m in members)) from None


def wait_records(member: Member, topic: str, partition: int, count: int):
    wait_until(lambda: len(member.records_of(topic, partition)) >= count,
               what=f"{member.name} receiving {count} records of {topic}-{partition}")


def settle(seconds: float = 0.3):
    """A short pause so an assignment snapshot is not taken mid-rebalance; never a timing
    assumption of the test itself."""
    time.sleep(seconds)
