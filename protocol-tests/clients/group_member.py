"""One consumer-group member in its own process, for the consumer-group tests.

    python group_member.py '<json spec>'

spec: {"client": "confluent" | "kafka-python", "bootstrap", "group", "topics": [...],
       "session_timeout_ms", "heartbeat_ms", "rebalance_timeout_ms", "strategy": "range" |
       "roundrobin" | "cooperative-sticky", "instance_id": null, "client_id",
       "protocol": "classic" | "consumer" (confluent only: KIP-848 group.protocol=consumer)}

Prints one JSON document per line on stdout:
  {"event": "assignment", "partitions": [[topic, p], ...]}   the full current assignment, after each change
  {"event": "record", "topic", "partition", "offset", "value"}
  {"event": "committed", "offsets": [[topic, p, offset], ...]}
  {"event": "error", "error": "..."}
  {"event": "closed"}
Reads commands (JSON lines) on stdin:
  {"cmd": "commit", "offsets": [[topic, p, offset], ...]}   synchronous commit of these offsets
  {"cmd": "commit"}                                          synchronous commit of the current positions
  {"cmd": "close"}                                           leave the group (close) and exit 0
Running as a separate process lets a test kill a member outright (no LeaveGroup, no heartbeats).
"""

import faulthandler
import json
import queue
import signal
import sys
import threading
import time


def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()


def stdin_commands() -> "queue.Queue":
    q: "queue.Queue" = queue.Queue()

    def pump():
        for line in sys.stdin:
            line = line.strip()
            if line:
                q.put(json.loads(line))
        q.put({"cmd": "close"})

    threading.Thread(target=pump, daemon=True).start()
    return q


def run_confluent(spec, commands):
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    assignment: set = set()
    conf = {
        "bootstrap.servers": spec["bootstrap"],
        "group.id": spec["group"],
        "client.id": spec.get("client_id", "klamm-group-test"),
        "session.timeout.ms": spec["session_timeout_ms"],
        "heartbeat.interval.ms": spec["heartbeat_ms"],
        "max.poll.interval.ms": spec["rebalance_timeout_ms"],
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": spec.get("strategy", "range"),
        "fetch.wait.max.ms": 100,
        "topic.metadata.refresh.interval.ms": 1000,
    }
    if spec.get("instance_id"):
        conf["group.instance.id"] = spec["instance_id"]
    cooperative = spec.get("strategy") == "cooperative-sticky"
    if spec.get("protocol") == "consumer":
        # KIP-848: the broker assigns; the session and heartbeat come from the broker, and the
        # client-side assignment settings are not allowed. Assignments are incremental.
        for k in ("session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"):
            del conf[k]
        conf["group.protocol"] = "consumer"
        if spec.get("remote_assignor"):
            conf["group.remote.assignor"] = spec["remote_assignor"]
        cooperative = True

    def on_assign(consumer, partitions):
        if cooperative:
            consumer.incremental_assign(partitions)
            assignment.update((p.topic, p.partition) for p in partitions)
        else:
            consumer.assign(partitions)
            assignment.clear()
            assignment.update((p.topic, p.partition) for p in partitions)
        emit(event="assignment", partitions=sorted(assignment))

    def on_revoke(consumer, partitions):
        if cooperative:
            consumer.incremental_unassign(partitions)
            for p in partitions:
                assignment.discard((p.topic, p.partition))
        else:
            consumer.unassign()
            assignment.clear()
        emit(event="assignment", partitions=sorted(assignment))

    c = Consumer(conf)
    c.subscribe(spec["topics"], on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)
    while True:
        try:
            cmd = commands.get_nowait()
        except queue.Empty:
            cmd = None
        if cmd is not None:
            if cmd["cmd"] == "close":
                c.close()
                emit(event="closed")
                return
            if cmd["cmd"] == "commit":
                try:
                    if cmd.get("offsets") is not None:
                        tps = [TopicPartition(t, p, o) for t, p, o in cmd["offsets"]]
                        done = c.commit(offsets=tps, asynchronous=False)
                    else:
                        done = c.commit(asynchronous=False)
                    errs = [str(tp.error) for tp in done if tp.error]
                    if errs:
                        emit(event="error", error=f"commit: {errs}")
                    else:
                        emit(event="committed", offsets=sorted([tp.topic, tp.partition, tp.offset] for tp in done))
                except Exception as e:  # noqa: BLE001 - reported to the test
                    emit(event="error", error=f"commit: {e!r}")
        msg = c.poll(0.05)
        if msg is None:
            continue
        if msg.error():
            if msg.error().code() != KafkaError._PARTITION_EOF:
                emit(event="error", error=str(msg.error()))
            continue
        emit(event="record", topic=msg.topic(), partition=msg.partition(), offset=msg.offset(),
             value=(msg.value() or b"").decode("utf-8", "replace"))


def run_kafka_python(spec, commands):
    from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    from kafka.structs import OffsetAndMetadata

    assignment: set = set()
    strategy = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}[spec.get("strategy", "range")]
    kwargs = dict(
        bootstrap_servers=spec["bootstrap"],
        group_id=spec["group"],
        client_id=spec.get("client_id", "klamm-group-test"),
        session_timeout_ms=spec["session_timeout_ms"],
        heartbeat_interval_ms=spec["heartbeat_ms"],
        max_poll_interval_ms=spec["rebalance_timeout_ms"],
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        partition_assignment_strategy=[strategy],
        fetch_max_wait_ms=100,
        metadata_max_age_ms=1000,
    )
    if spec.get("instance_id"):
        kwargs["group_instance_id"] = spec["instance_id"]
    c = KafkaConsumer(**kwargs)

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            assignment.clear()
            emit(event="assignment", partitions=[])

        def on_partitions_assigned(self, assigned):
            assignment.clear()
            assignment.update((tp.topic, tp.partition) for tp in assigned)
            emit(event="assignment", partitions=sorted(assignment))

    # kafka-python 3.0.12 wedges a group leader whose rejoin was started by a metadata change
    # (its coordinator's assignment snapshot differing from its metadata snapshot): the join task
    # records the new snapshot as soon as the JoinGroup answer arrives, so if poll() gave up
    # waiting just before that, the next poll() finds nothing to rejoin, never applies the
    # SyncGroup answer and never heartbeats again (a client bug, the same against any broker;
    # reproduced with a CreatePartitions while the leader's main thread is between polls).
    # A member that joins before its first metadata update with the subscription computes its
    # first assignment against an empty snapshot and so always makes that rejoin: wait until the
    # coordinator's snapshot covers the subscribed topics before the first poll() joins.
    c.subscribe(spec["topics"], listener=Listener())
    c._cluster.request_update()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not all(c._coordinator._metadata_snapshot.get(t) for t in spec["topics"]):
        time.sleep(0.02)
    while True:
        try:
            cmd = commands.get_nowait()
        except queue.Empty:
            cmd = None
        if cmd is not None:
            if cmd["cmd"] == "close":
                c.close()
                emit(event="closed")
                return
            if cmd["cmd"] == "commit":
                try:
                    if cmd.get("offsets") is not None:
                        offsets = {TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for t, p, o in cmd["offsets"]}
                        c.commit(offsets)
                        emit(event="committed", offsets=sorted([t, p, o] for t, p, o in cmd["offsets"]))
                    else:
                        positions = {tp: c.position(tp) for tp in c.assignment()}
                        c.commit()
                        emit(event="committed", offsets=sorted([tp.topic, tp.partition, o] for tp, o in positions.items()))
                except Exception as e:  # noqa: BLE001 - reported to the test
                    emit(event="error", error=f"commit: {e!r}")
        batches = c.poll(timeout_ms=300)
        for tp, records in batches.items():
            for r in records:
                emit(event="record", topic=tp.topic, partition=tp.partition, offset=r.offset,
                     value=(r.value or b"").decode("utf-8", "replace"))


def main():
    spec = json.loads(sys.argv[1])
    # A test that gives up waiting on this member sends SIGUSR1 for every thread's stack.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    if spec.get("debug"):
        import logging

        logging.basicConfig(level=logging.DEBUG, filename=spec["debug"],
                            format="%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    commands = stdin_commands()
    try:
        {"confluent": run_confluent, "kafka-python": run_kafka_python}[spec["client"]](spec, commands)
    except Exception as e:  # noqa: BLE001 - reported to the test
        emit(event="error", error=f"fatal: {e!r}")
        time.sleep(0.1)
        sys.exit(1)


if __name__ == "__main__":
    main()
