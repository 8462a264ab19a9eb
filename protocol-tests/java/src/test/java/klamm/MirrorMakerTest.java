package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * MirrorMaker 2 (the dedicated {@code org.apache.kafka.connect.mirror.MirrorMaker} process of
 * connect-mirror 4.3.1) replicating from one Klamm ("src") to another ("dst"): the path a user takes
 * from Klamm to a Kafka cluster. With DefaultReplicationPolicy topic {@code T} arrives as
 * {@code src.T}, with its records (keys, values, headers, timestamps, per-partition order and
 * offsets), partition count and non-default topic configs; a consumer group's committed offsets are
 * translated onto the target (MirrorCheckpointConnector, sync.group.offsets.enabled), so a consumer
 * there resumes where it left off. A second target ("eos") takes the same topics with exactly-once
 * source support (KIP-618: transactional producers, zombie fencing through Admin.fenceProducers),
 * read back read_committed. MM2 follows topics, partitions and config changes made while it runs,
 * and survives a kill -9: nothing lost, and nothing duplicated on the exactly-once target. One MM2
 * process with both herders runs for the class (restarted once, by the last test); its intervals
 * are set to one second (Kafka's defaults of 60 s and 600 s would only make the test wait).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MirrorMakerTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final long BASE_TS = System.currentTimeMillis() - 3_600_000L;

    static Klamm src;
    static Klamm dst;
    static Klamm eos;
    static Path dir;
    static Path props;
    static ConnectJvm mm2;
    /** What was produced to src "orders", per partition, in offset order. */
    static final Map<Integer, List<Sent>> ORDERS = new HashMap<>();

    /**
     * The groups whose offsets MM2 translates, by group.protocol: a classic group and a KIP-848
     * consumer group. On the target MM2 writes the offsets of an empty group with the Admin API
     * (AlterConsumerGroupOffsets); the resuming consumer then joins it with the same protocol.
     */
    static final Map<String, String> GROUPS = new LinkedHashMap<>();

    static {
        GROUPS.put("billing", "classic");
        GROUPS.put("audit", "consumer");
    }

    /** One produced record: the expected content at its offset. */
    record Sent(String key, String value, long timestamp, List<Header> headers) {}

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay (Kafka's 3 s): MM2's worker group and the test's consumer group
        // would only wait for members that never come. On the targets, MM2's workers may use a
        // 2 s session (Kafka's minimum is 6 s), so that after the kill in the restart test the
        // new worker's group does not wait 10 s for the dead one.
        src = Klamm.start("group.initial.rebalance.delay.ms=0");
        dst = Klamm.start("group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=1000");
        // eos looks for timed-out transactions every 500 ms (Kafka's default: 10 s); see
        // eos.producer.transaction.timeout.ms below.
        eos = Klamm.start("group.initial.rebalance.delay.ms=0", "group.min.session.timeout.ms=1000",
                "transaction.abort.timed.out.transaction.cleanup.interval.ms=500");
        dir = Files.createTempDirectory("klamm-mm2-");
        try (Admin admin = admin(src)) {
            admin.createTopics(List.of(
                    new NewTopic("orders", 3, (short) 1).configs(Map.of("retention.ms", "172800000",
                            "max.message.bytes", "2000000")),
                    new NewTopic("payments", 2, (short) 1),
                    new NewTopic("ledger", 2, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> p = producer(src)) {
            for (int partition = 0; partition < 3; partition++) {
                List<Sent> sent = new ArrayList<>();
                for (int i = 0; i < 4 + partition; i++) {
                    String key = (partition == 1 && i == 2) ? null : "k" + partition + "-" + i;
                    String value = (partition == 2 && i == 3) ? null : "order " + partition + "/" + i + " \u00fc\u20ac";
                    List<Header> headers = new ArrayList<>(List.of(
                            new RecordHeader("trace", ("t" + partition + "-" + i).getBytes(StandardCharsets.UTF_8)),
                            new RecordHeader("dup", "a".getBytes(StandardCharsets.UTF_8)),
                            new RecordHeader("dup", "b".getBytes(StandardCharsets.UTF_8))));
                    if (i == 0) {
                        headers.add(new RecordHeader("nullvalue", null));
                    }
                    long ts = BASE_TS + partition * 1000L + i;
                    p.send(new ProducerRecord<>("orders", partition, ts, key, value, headers)).get();
                    sent.add(new Sent(key, value, ts, headers));
                }
                ORDERS.put(partition, sent);
            }
        }
        props = dir.resolve("mm2.properties");
        Files.writeString(props, String.join("\n",
                "clusters = src, dst, eos",
                "src.bootstrap.servers = " + src.bootstrap(),
                "dst.bootstrap.servers = " + dst.bootstrap(),
                "eos.bootstrap.servers = " + eos.bootstrap(),
                "src->dst.enabled = true",
                "src->dst.topics = orders|payments|events|ledger",
                "src->eos.enabled = true",
                "src->eos.topics = orders|payments|ledger",
                // No herder for the flows between the two targets (not even for heartbeats).
                "dst->eos.enabled = false",
                "dst->eos.emit.heartbeats.enabled = false",
                "eos->dst.enabled = false",
                "eos->dst.emit.heartbeats.enabled = false",
                // KIP-618 for the herder that writes to eos; in dedicated mode it needs the internal
                // REST server (KIP-710), here on an ephemeral port.
                "eos.exactly.once.source.support = enabled",
                "dedicated.mode.enable.internal.rest = true",
                "listeners = http://127.0.0.1:0",
                // A single broker on each side: every topic MM2 creates has one replica.
                "replication.factor = 1",
                "offset-syncs.topic.replication.factor = 1",
                "heartbeats.topic.replication.factor = 1",
                "checkpoints.topic.replication.factor = 1",
                "config.storage.replication.factor = 1",
                "offset.storage.replication.factor = 1",
                "status.storage.replication.factor = 1",
                // The offset syncs live on the target: MM2 writes nothing to the source (Klamm).
                "offset-syncs.topic.location = target",
                "sync.group.offsets.enabled = true",
                // Kafka's defaults (60 s, 600 s) would only make the test wait.
                "sync.group.offsets.interval.seconds = 1",
                "emit.checkpoints.interval.seconds = 1",
                "emit.heartbeats.interval.seconds = 1",
                "refresh.topics.interval.seconds = 1",
                "refresh.groups.interval.seconds = 1",
                "sync.topic.configs.interval.seconds = 1",
                // An offset sync for every record, so translated offsets are exact.
                "offset.lag.max = 0",
                // service_load skips Connect's classpath scan (seconds at start-up): once for the
                // MirrorMaker process, and for the worker of each herder, which reads its settings
                // with the target's prefix.
                "plugin.discovery = service_load",
                "dst.plugin.discovery = service_load",
                "eos.plugin.discovery = service_load",
                // The workers' group session (Connect's default: 10 s, heartbeats every 3 s).
                "dst.session.timeout.ms = 2000",
                "dst.heartbeat.interval.ms = 500",
                "eos.session.timeout.ms = 2000",
                "eos.heartbeat.interval.ms = 500",
                // A killed task leaves its transaction (records and source offsets) open, and the
                // restarted worker reads its offsets topic read_committed up to the high watermark:
                // it waits until the coordinator aborts that transaction on timeout (Kafka's
                // TransactionCoordinator.abortTimedOutTransactions). 3 s instead of the 60 s default.
                "eos.producer.transaction.timeout.ms = 3000",
                ""), StandardCharsets.UTF_8);
        startMirrorMaker();
    }

    static void startMirrorMaker() throws Exception {
        // --clusters: run only the flows into the targets, as Kafka's docs advise (MM2 near the target).
        mm2 = ConnectJvm.start(dir, "org.apache.kafka.connect.mirror.MirrorMaker", props.toString(),
                "--clusters", "dst", "eos");
    }

    @AfterAll
    static void stop() throws Exception {
        if (mm2 != null) {
            mm2.kill();
        }
        if (src != null) {
            src.close();
        }
        if (dst != null) {
            dst.close();
        }
        if (eos != null) {
            eos.close();
        }
    }

    @Test
    void replicatesRecordsWithKeysHeadersTimestampsAndOffsets() throws Exception {
        for (int partition = 0; partition < 3; partition++) {
            TopicPartition tp = new TopicPartition("src.orders", partition);
            List<Sent> expected = ORDERS.get(partition);
            List<ConsumerRecord<String, String>> got = readPartition(dst, tp, expected.size());
            for (int i = 0; i < expected.size(); i++) {
                Sent e = expected.get(i);
                ConsumerRecord<String, String> r = got.get(i);
                String at = tp + "@" + i;
                assertEquals(i, r.offset(), at);
                assertEquals(e.key(), r.key(), at);
                assertEquals(e.value(), r.value(), at);
                assertEquals(e.timestamp(), r.timestamp(), at);
                assertEquals(TimestampType.CREATE_TIME, r.timestampType(), at);
                assertEquals(headerList(e.headers()), headerList(r.headers()), at);
            }
        }
        try (Admin admin = admin(dst)) {
            Map<TopicPartition, Long> end = endOffsets(admin, "src.orders", 3);
            assertEquals(Map.of(new TopicPartition("src.orders", 0), 4L, new TopicPartition("src.orders", 1), 5L,
                    new TopicPartition("src.orders", 2), 6L), end, "no record twice");
        }
    }

    @Test
    void exactlyOnceFlowReplicatesInCommittedTransactions() throws Exception {
        try (Admin admin = admin(eos)) {
            for (int partition = 0; partition < 3; partition++) {
                TopicPartition tp = new TopicPartition("src.orders", partition);
                List<Sent> expected = ORDERS.get(partition);
                List<ConsumerRecord<String, String>> got = readPartition(eos, tp, expected.size());
                long previous = -1;
                for (int i = 0; i < expected.size(); i++) {
                    Sent e = expected.get(i);
                    ConsumerRecord<String, String> r = got.get(i);
                    String at = tp + " record " + i;
                    assertTrue(r.offset() > previous, at);
                    previous = r.offset();
                    assertEquals(e.key(), r.key(), at);
                    assertEquals(e.value(), r.value(), at);
                    assertEquals(e.timestamp(), r.timestamp(), at);
                    assertEquals(headerList(e.headers()), headerList(r.headers()), at);
                }
                // Every transaction ends with a commit marker, which takes an offset of its own.
                long end = endOffsets(admin, "src.orders", 3).get(tp);
                assertTrue(end > previous + 1, tp + ": end " + end + ", last record " + previous);
            }
            // The source task's transactional producer ("<group>-<connector>-<task>", KIP-618).
            Set<String> txns = admin.listTransactions().all().get().stream()
                    .map(TransactionListing::transactionalId)
                    .collect(Collectors.toCollection(TreeSet::new));
            assertTrue(txns.contains("src-mm2-MirrorSourceConnector-0"), txns::toString);
        }
    }

    @Test
    void replicatesPartitionCountAndTopicConfigs() throws Exception {
        try (Admin admin = admin(dst)) {
            Klamm.waitUntil(WAIT, "src.orders on dst", () -> topics(admin).contains("src.orders"));
            TopicDescription d = admin.describeTopics(List.of("src.orders")).allTopicNames().get().get("src.orders");
            assertEquals(3, d.partitions().size());
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "src.orders");
            // MM2 creates the topic with the source's non-default configs (DefaultConfigPropertyFilter).
            Config c = admin.describeConfigs(List.of(res)).all().get().get(res);
            assertEquals("172800000", c.get("retention.ms").value(), () -> c.toString() + "\n" + mm2.logTail());
            assertEquals("2000000", c.get("max.message.bytes").value());
            assertEquals("delete", c.get("cleanup.policy").value());
            // Connect's own topics are compacted (it refuses to start on a topic that is not).
            for (String internal : List.of("mm2-configs.src.internal", "mm2-offsets.src.internal",
                    "mm2-status.src.internal")) {
                ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, internal);
                assertEquals("compact", admin.describeConfigs(List.of(r)).all().get().get(r).get("cleanup.policy")
                        .value(), internal);
            }
        }
        try (Admin admin = admin(src)) {
            // offset-syncs.topic.location=target and only flows into dst and eos: MM2 creates nothing
            // on the source ("events" is the topic followsNewTopicsPartitionsAndConfigChanges makes).
            Set<String> created = topics(admin);
            created.removeAll(Set.of("orders", "payments", "ledger", "events"));
            assertEquals(Set.of(), created);
        }
    }

    @Test
    void translatesCommittedGroupOffsets() throws Exception {
        // Phase 1 on the source: 3 and 5 records; each group consumes them and commits. MM2 runs
        // already: it translates an offset through the latest offset sync at or below it, and
        // of a burst of records (several replicated per poll) it may sync only the last one, so
        // phase 1 must be replicated before phase 2 arrives (the groups take a second here).
        try (KafkaProducer<String, String> p = producer(src)) {
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>("payments", 0, "p0-" + i, "pay 0/" + i)).get();
            }
            for (int i = 0; i < 5; i++) {
                p.send(new ProducerRecord<>("payments", 1, "p1-" + i, "pay 1/" + i)).get();
            }
        }
        for (String group : GROUPS.keySet()) {
            try (KafkaConsumer<String, String> c = consumer(src, group)) {
                c.subscribe(List.of("payments"));
                int n = 0;
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (n < 8 && System.nanoTime() < deadline) {
                    n += c.poll(Duration.ofMillis(200)).count();
                }
                assertEquals(8, n, group);
                c.commitSync();
            }
        }
        // Phase 2: two more records each, which the group has not consumed.
        try (KafkaProducer<String, String> p = producer(src)) {
            for (int i = 3; i < 5; i++) {
                p.send(new ProducerRecord<>("payments", 0, "p0-" + i, "pay 0/" + i)).get();
            }
            for (int i = 5; i < 7; i++) {
                p.send(new ProducerRecord<>("payments", 1, "p1-" + i, "pay 1/" + i)).get();
            }
        }
        TopicPartition t0 = new TopicPartition("src.payments", 0);
        TopicPartition t1 = new TopicPartition("src.payments", 1);
        // dst: no transactions, so the target's offsets are the source's and so are the translated ones.
        for (String group : GROUPS.keySet()) {
            awaitCommitted(dst, group, Map.of(t0, 3L, t1, 5L));
            // A consumer of the same group on the target resumes exactly after what it consumed.
            assertEquals(List.of("0@3 p0-3=pay 0/3", "0@4 p0-4=pay 0/4", "1@5 p1-5=pay 1/5", "1@6 p1-6=pay 1/6"),
                    resume(dst, group, 4).stream().map(r -> r.partition() + "@" + r.offset() + " " + r.key() + "="
                            + r.value()).toList(), group);
        }
        // eos: commit markers shift the target's offsets. A translated offset lies after the last
        // record the group consumed and at most at the first one it did not (MM2 maps the next
        // offset to read either through the last consumed record's sync, plus one, or through the
        // sync of the next record once that is replicated; both resume at the same record).
        List<ConsumerRecord<String, String>> p0 = readPartition(eos, t0, 5);
        List<ConsumerRecord<String, String>> p1 = readPartition(eos, t1, 7);
        assertEquals("pay 0/2", p0.get(2).value());
        assertEquals("pay 1/4", p1.get(4).value());
        Map<TopicPartition, long[]> range = Map.of(
                t0, new long[] {p0.get(2).offset() + 1, p0.get(3).offset()},
                t1, new long[] {p1.get(4).offset() + 1, p1.get(5).offset()});
        for (String group : GROUPS.keySet()) {
            awaitCommitted(eos, group, got -> got.keySet().equals(range.keySet())
                    && range.entrySet().stream().allMatch(e -> got.get(e.getKey()) >= e.getValue()[0]
                            && got.get(e.getKey()) <= e.getValue()[1]));
            List<ConsumerRecord<String, String>> resumed = resume(eos, group, 4);
            assertEquals(List.of(p0.get(3).offset(), p0.get(4).offset(), p1.get(5).offset(), p1.get(6).offset()),
                    resumed.stream().map(ConsumerRecord::offset).toList(), group);
            assertEquals(List.of("0 p0-3=pay 0/3", "0 p0-4=pay 0/4", "1 p1-5=pay 1/5", "1 p1-6=pay 1/6"),
                    resumed.stream().map(r -> r.partition() + " " + r.key() + "=" + r.value()).toList(), group);
        }
    }

    static void awaitCommitted(Klamm target, String group, Map<TopicPartition, Long> want) throws Exception {
        awaitCommitted(target, group, want::equals);
    }

    /**
     * MM2 is killed (SIGKILL) while records stream in, and started again. On the exactly-once
     * target every record is there once, in order: Klamm aborts the killed task's open transaction
     * when it times out (or when the new task's producer fences it), and the new task resumes
     * from the offsets committed in the same transactions as the data. On the at-least-once target nothing is lost and order is kept;
     * the records after the last offset flush before the kill come again, once (a replayed
     * suffix). Runs last: a restarted MM2 may replay the other topics onto dst as well.
     */
    @Test
    @Order(Integer.MAX_VALUE)
    void restartAfterKillLosesNothingAndExactlyOnceDuplicatesNothing() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        int[] sent = new int[2];
        Throwable[] failed = {null};
        Thread producing = new Thread(() -> {
            try (KafkaProducer<String, String> p = producer(src)) {
                while (!stop.get()) {
                    for (int partition = 0; partition < 2; partition++) {
                        p.send(new ProducerRecord<>("ledger", partition, "l" + partition,
                                "L" + partition + "-" + sent[partition])).get();
                        sent[partition]++;
                    }
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                failed[0] = t;
            }
        }, "ledger-producer");
        producing.start();
        try {
            TopicPartition l0 = new TopicPartition("src.ledger", 0);
            // Replication is under way on both targets, then MM2 dies mid-stream.
            readUntil(eos, l0, "L0-19");
            readUntil(dst, l0, "L0-19");
            mm2.kill();
            Thread.sleep(300);
        } finally {
            stop.set(true);
            producing.join(30_000);
        }
        assertEquals(null, failed[0]);
        startMirrorMaker();
        for (int partition = 0; partition < 2; partition++) {
            TopicPartition tp = new TopicPartition("src.ledger", partition);
            List<String> want = new ArrayList<>();
            for (int i = 0; i < sent[partition]; i++) {
                want.add("L" + partition + "-" + i);
            }
            List<String> once = readPartition(eos, tp, want.size()).stream().map(ConsumerRecord::value).toList();
            assertEquals(want, once, tp + " on eos");
            List<String> atLeastOnce = readUntil(dst, tp, want.get(want.size() - 1));
            assertReplayedSuffixOnly(want, atLeastOnce, tp + " on dst");
        }
        // And nothing after the last record on eos: its end is the last record plus its marker.
        try (KafkaConsumer<String, String> c = consumer(eos, null)) {
            for (int partition = 0; partition < 2; partition++) {
                TopicPartition tp = new TopicPartition("src.ledger", partition);
                c.assign(List.of(tp));
                c.seekToEnd(List.of(tp));
                long end = c.position(tp);
                List<ConsumerRecord<String, String>> all = readPartition(eos, tp, sent[partition]);
                c.seek(tp, all.get(all.size() - 1).offset() + 1);
                assertEquals(0, c.poll(Duration.ofMillis(300)).count(), tp + ": nothing past the last record");
                assertTrue(end > all.get(all.size() - 1).offset(), tp + ": end " + end);
            }
        }
    }

    /** {@code got} is {@code want}, or a prefix of it followed by a replay from an earlier record to the end. */
    static void assertReplayedSuffixOnly(List<String> want, List<String> got, String what) {
        int i = 0;
        while (i < got.size() && i < want.size() && got.get(i).equals(want.get(i))) {
            i++;
        }
        if (i == got.size() && i == want.size()) {
            return;
        }
        int j = want.indexOf(got.get(i));
        assertTrue(j >= 0 && j < i, what + ": at " + i + " " + got.get(i) + " is neither next nor a replay");
        assertEquals(want.subList(j, want.size()), got.subList(i, got.size()), what + ": replay from " + j);
    }

    /**
     * Reads one partition from the beginning until a record with value {@code last} arrives, and
     * returns the values up to that record (a later replay of it would follow in a later poll).
     */
    static List<String> readUntil(Klamm k, TopicPartition tp, String last) throws Exception {
        try (KafkaConsumer<String, String> c = consumer(k, null)) {
            List<String> got = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!got.contains(last) && System.nanoTime() < deadline) {
                if (c.assignment().isEmpty()) {
                    try (Admin admin = admin(k)) {
                        if (!topics(admin).contains(tp.topic())) {
                            Thread.sleep(200);
                            continue;
                        }
                    }
                    c.assign(List.of(tp));
                    c.seekToBeginning(List.of(tp));
                }
                c.poll(Duration.ofMillis(200)).forEach(r -> got.add(r.value()));
            }
            int end = got.lastIndexOf(last);
            assertTrue(end >= 0, () -> tp + " never got " + last + ": " + got);
            return got.subList(0, end + 1);
        }
    }

    /** Waits until {@code group}'s committed offsets on {@code target} satisfy {@code ok}. */
    static void awaitCommitted(Klamm target, String group,
            Predicate<Map<TopicPartition, Long>> ok) throws Exception {
        try (Admin admin = admin(target)) {
            Map<TopicPartition, Long>[] last = new Map[] {Map.of()};
            try {
                Klamm.waitUntil(WAIT, group + "'s offsets translated onto " + target.bootstrap(), () -> {
                    last[0] = committed(admin, group);
                    return ok.test(last[0]);
                });
            } catch (AssertionError e) {
                throw new AssertionError("last seen " + last[0] + "\n" + mm2.logTail(), e);
            }
        }
    }

    /**
     * Joins {@code group} on {@code target} (auto.offset.reset=none: it must start from the
     * translated offsets) and reads {@code n} records of src.payments, then polls once more to see
     * that nothing else comes; sorted by partition and offset.
     */
    static List<ConsumerRecord<String, String>> resume(Klamm target, String group, int n) {
        try (KafkaConsumer<String, String> c = consumer(target, group)) {
            c.subscribe(List.of("src.payments"));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < n && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(got::add);
            }
            c.poll(Duration.ofMillis(300)).forEach(got::add);
            got.sort(Comparator.comparingInt((ConsumerRecord<String, String> r) -> r.partition())
                    .thenComparingLong(ConsumerRecord::offset));
            return got;
        }
    }

    @Test
    void followsNewTopicsPartitionsAndConfigChanges() throws Exception {
        // A topic created while MM2 runs (refresh.topics), then grown and reconfigured on the source.
        try (Admin admin = admin(src)) {
            admin.createTopics(List.of(new NewTopic("events", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> p = producer(src)) {
            p.send(new ProducerRecord<>("events", 0, "e0", "event 0/0")).get();
        }
        assertEquals(List.of("e0=event 0/0"), values(readPartition(dst, new TopicPartition("src.events", 0), 1)));
        try (Admin admin = admin(src)) {
            admin.createPartitions(Map.of("events", NewPartitions.increaseTo(2)))
                    .all().get();
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "events");
            admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                    new ConfigEntry("retention.ms", "3600000"),
                    AlterConfigOp.OpType.SET)))).all().get();
        }
        try (KafkaProducer<String, String> p = producer(src)) {
            p.send(new ProducerRecord<>("events", 1, "e1", "event 1/0")).get();
            p.send(new ProducerRecord<>("events", 0, "e0", "event 0/1")).get();
        }
        assertEquals(List.of("e1=event 1/0"), values(readPartition(dst, new TopicPartition("src.events", 1), 1)));
        assertEquals(List.of("e0=event 0/0", "e0=event 0/1"),
                values(readPartition(dst, new TopicPartition("src.events", 0), 2)));
        try (Admin admin = admin(dst)) {
            // MirrorSourceConnector.syncTopicConfigs (sync.topic.configs.interval.seconds) applies the
            // change with IncrementalAlterConfigs.
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "src.events");
            String[] seen = {null};
            try {
                Klamm.waitUntil(WAIT, "retention.ms of src.events", () -> {
                    try {
                        seen[0] = admin.describeConfigs(List.of(res)).all().get().get(res).get("retention.ms").value();
                    } catch (Exception e) {
                        return false;
                    }
                    return "3600000".equals(seen[0]);
                });
            } catch (AssertionError e) {
                throw new AssertionError("retention.ms " + seen[0] + "\n" + mm2.logTail(), e);
            }
            assertEquals(2, admin.describeTopics(List.of("src.events")).allTopicNames().get().get("src.events")
                    .partitions().size());
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    static Admin admin(Klamm k) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrap()));
    }

    static KafkaProducer<String, String> producer(Klamm k) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrap());
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(Klamm k, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, k.bootstrap());
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, GROUPS.get(group));
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // "none": on a target the group must resume from translated offsets, never a reset.
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, k == src ? "earliest" : "none");
        }
        // Only committed transactions (the eos target); the same as read_uncommitted elsewhere.
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    static Set<String> topics(Admin admin) {
        try {
            return new TreeSet<>(admin.listTopics(new ListTopicsOptions().listInternal(false)).names().get());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static Map<TopicPartition, Long> committed(Admin admin, String group) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            return m.entrySet().stream().filter(e -> e.getValue() != null)
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        } catch (Exception e) {
            return Map.of();
        }
    }

    static Map<TopicPartition, Long> endOffsets(Admin admin, String topic, int partitions) throws Exception {
        Map<TopicPartition, OffsetSpec> q = new HashMap<>();
        for (int i = 0; i < partitions; i++) {
            q.put(new TopicPartition(topic, i), OffsetSpec.latest());
        }
        return admin.listOffsets(q).all().get().entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /** Reads {@code n} records of one partition from the beginning, waiting for them to arrive. */
    static List<ConsumerRecord<String, String>> readPartition(Klamm k, TopicPartition tp, int n) throws Exception {
        try (KafkaConsumer<String, String> c = consumer(k, null)) {
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < n && System.nanoTime() < deadline) {
                try (Admin admin = admin(k)) {
                    if (!topics(admin).contains(tp.topic())) {
                        Thread.sleep(200);
                        continue;
                    }
                }
                if (c.assignment().isEmpty()) {
                    c.assign(List.of(tp));
                    c.seekToBeginning(List.of(tp));
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r);
                }
            }
            assertEquals(n, got.size(), () -> tp + ": " + got + "\n" + mm2.logTail());
            return got;
        }
    }

    static List<String> values(List<ConsumerRecord<String, String>> records) {
        return records.stream().map(r -> r.key() + "=" + r.value()).toList();
    }

    static List<String> headerList(Iterable<Header> headers) {
        List<String> out = new ArrayList<>();
        for (Header h : headers) {
            out.add(h.key() + "=" + (h.value() == null ? "<null>" : new String(h.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
