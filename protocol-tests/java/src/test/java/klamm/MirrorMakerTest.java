package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
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
import org.junit.jupiter.api.Test;

/**
 * MirrorMaker 2 (the dedicated {@code org.apache.kafka.connect.mirror.MirrorMaker} process of
 * connect-mirror 4.3.1) replicating from one Klamm ("src") to another ("dst"): the path a user takes
 * from Klamm to a Kafka cluster. With DefaultReplicationPolicy topic {@code T} arrives as
 * {@code src.T}, with its records (keys, values, headers, timestamps, per-partition order and
 * offsets), partition count and non-default topic configs; a consumer group's committed offsets are
 * translated onto the target (MirrorCheckpointConnector, sync.group.offsets.enabled), so a consumer
 * there resumes where it left off. The MM2 process runs once for the class; its intervals are set to
 * one second (Kafka's defaults of 60 s and 600 s would only make the test wait).
 */
class MirrorMakerTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final long BASE_TS = System.currentTimeMillis() - 3_600_000L;

    static Klamm src;
    static Klamm dst;
    static Path dir;
    static ConnectJvm mm2;
    /** What was produced to src "orders", per partition, in offset order. */
    static final Map<Integer, List<Sent>> ORDERS = new HashMap<>();

    /** One produced record: the expected content at its offset. */
    record Sent(String key, String value, long timestamp, List<Header> headers) {}

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay (Kafka's 3 s): MM2's worker group and the test's consumer group
        // would only wait for members that never come.
        src = Klamm.start("group.initial.rebalance.delay.ms=0");
        dst = Klamm.start("group.initial.rebalance.delay.ms=0");
        dir = Files.createTempDirectory("klamm-mm2-");
        try (Admin admin = admin(src)) {
            admin.createTopics(List.of(
                    new NewTopic("orders", 3, (short) 1).configs(Map.of("retention.ms", "172800000",
                            "max.message.bytes", "2000000")),
                    new NewTopic("payments", 2, (short) 1))).all().get();
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
        Path props = dir.resolve("mm2.properties");
        Files.writeString(props, String.join("\n",
                "clusters = src, dst",
                "src.bootstrap.servers = " + src.bootstrap(),
                "dst.bootstrap.servers = " + dst.bootstrap(),
                "src->dst.enabled = true",
                "src->dst.topics = orders|payments",
                "dst->src.enabled = false",
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
                // The worker of the dst herder reads its settings with the "dst." prefix; service_load
                // skips Connect's classpath scan (seconds at start-up).
                "dst.plugin.discovery = service_load",
                ""), StandardCharsets.UTF_8);
        // --clusters dst: run only the flows into dst, as Kafka's docs advise (MM2 near the target).
        mm2 = ConnectJvm.start(dir, "org.apache.kafka.connect.mirror.MirrorMaker", props.toString(),
                "--clusters", "dst");
    }

    @AfterAll
    static void stop() throws Exception {
        if (mm2 != null) {
            mm2.close();
        }
        if (src != null) {
            src.close();
        }
        if (dst != null) {
            dst.close();
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
        }
        try (Admin admin = admin(src)) {
            // offset-syncs.topic.location=target and only the src->dst flow: Klamm stays read-only.
            assertEquals(Set.of("orders", "payments"), topics(admin));
        }
    }

    @Test
    void translatesCommittedGroupOffsets() throws Exception {
        // Phase 1 on the source: 3 and 5 records; the group "billing" consumes them and commits.
        try (KafkaProducer<String, String> p = producer(src)) {
            for (int i = 0; i < 3; i++) {
                p.send(new ProducerRecord<>("payments", 0, "p0-" + i, "pay 0/" + i)).get();
            }
            for (int i = 0; i < 5; i++) {
                p.send(new ProducerRecord<>("payments", 1, "p1-" + i, "pay 1/" + i)).get();
            }
        }
        try (KafkaConsumer<String, String> c = consumer(src, "billing")) {
            c.subscribe(List.of("payments"));
            int n = 0;
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (n < 8 && System.nanoTime() < deadline) {
                n += c.poll(Duration.ofMillis(200)).count();
            }
            assertEquals(8, n);
            c.commitSync();
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
        Map<TopicPartition, Long> want = Map.of(t0, 3L, t1, 5L);
        try (Admin admin = admin(dst)) {
            Map<TopicPartition, Long>[] last = new Map[] {Map.of()};
            try {
                Klamm.waitUntil(WAIT, "billing's offsets translated onto dst", () -> {
                    last[0] = committed(admin, "billing");
                    return want.equals(last[0]);
                });
            } catch (AssertionError e) {
                throw new AssertionError("last seen " + last[0] + "\n" + mm2.logTail(), e);
            }
        }
        // A consumer of the same group on the target resumes exactly after what it consumed.
        try (KafkaConsumer<String, String> c = consumer(dst, "billing")) {
            c.subscribe(List.of("src.payments"));
            List<String> got = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < 4 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r.partition() + "@" + r.offset() + " " + r.key() + "=" + r.value());
                }
            }
            // One more poll: nothing from before the committed offsets is delivered again.
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(300))) {
                got.add(r.partition() + "@" + r.offset() + " " + r.key() + "=" + r.value());
            }
            got.sort(null);
            assertEquals(List.of("0@3 p0-3=pay 0/3", "0@4 p0-4=pay 0/4", "1@5 p1-5=pay 1/5", "1@6 p1-6=pay 1/6"), got);
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
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            // "none": on the target the group must resume from translated offsets, never a reset.
            p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, k == dst ? "none" : "earliest");
        }
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
        Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> q = new HashMap<>();
        for (int i = 0; i < partitions; i++) {
            q.put(new TopicPartition(topic, i), org.apache.kafka.clients.admin.OffsetSpec.latest());
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

    static List<String> headerList(Iterable<Header> headers) {
        List<String> out = new ArrayList<>();
        for (Header h : headers) {
            out.add(h.key() + "=" + (h.value() == null ? "<null>" : new String(h.value(), StandardCharsets.UTF_8)));
        }
        return out;
    }
}
