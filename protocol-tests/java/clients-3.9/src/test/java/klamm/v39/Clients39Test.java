package klamm.v39;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import klamm.Klamm;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The 3.9.x Java client line (kafka-clients 3.9.2) against Klamm: producers, groups, Admin. */
class Clients39Test {
    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay and 500 ms KIP-848 heartbeats: Kafka's defaults would only wait.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0", "group.consumer.min.heartbeat.interval.ms=100",
                "group.consumer.heartbeat.interval.ms=500");
        admin = Admin.create(Map.of("bootstrap.servers", klamm.bootstrap()));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        klamm.close();
    }

    static Properties producerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        return p;
    }

    static Properties consumerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        return p;
    }

    static List<ConsumerRecord<String, String>> read(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        assertEquals(n, out.size(), "records read");
        return out;
    }

    @Test
    void adminBasicsAndFeatures() throws Exception {
        var cr = admin.createTopics(List.of(new NewTopic("v39-admin", 3, (short) 1)));
        cr.all().get();
        Uuid id = cr.topicId("v39-admin").get();
        assertNotEquals(Uuid.ZERO_UUID, id);
        TopicDescription d = admin.describeTopics(List.of("v39-admin")).allTopicNames().get().get("v39-admin");
        assertEquals(id, d.topicId());
        assertEquals(3, d.partitions().size());
        assertEquals(0, d.partitions().get(2).leader().id());
        assertTrue(admin.listTopics().names().get().contains("v39-admin"));
        var cluster = admin.describeCluster();
        assertEquals(1, cluster.nodes().get().size());
        assertEquals(0, cluster.controller().get().id());

        FeatureMetadata fm = admin.describeFeatures().featureMetadata().get();
        Map<String, String> fin = new TreeMap<>();
        fm.finalizedFeatures().forEach((k, v) -> fin.put(k, v.minVersionLevel() + "-" + v.maxVersionLevel()));
        assertEquals(Map.of("metadata.version", "27-27", "kraft.version", "1-1", "transaction.version", "1-1",
                "group.version", "1-1", "eligible.leader.replicas.version", "1-1", "share.version", "1-1"), fin);
        assertEquals(7, fm.supportedFeatures().get("metadata.version").minVersion());
        assertEquals(27, fm.supportedFeatures().get("metadata.version").maxVersion());
        assertTrue(fm.finalizedFeaturesEpoch().orElse(-1L) > 0);

        admin.deleteTopics(List.of("v39-admin")).all().get();
    }

    @Test
    void idempotentProducerWithKeysHeadersTimestamps() throws Exception {
        admin.createTopics(List.of(new NewTopic("v39-idem", 1, (short) 1))).all().get();
        long ts = 1_700_000_000_000L;
        Properties pp = producerProps();
        pp.put("compression.type", "zstd");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
            for (int i = 0; i < 10; i++) {
                RecordHeaders h = new RecordHeaders();
                h.add("n", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                RecordMetadata m = p.send(new ProducerRecord<>("v39-idem", 0, ts + i, "k" + i, "v" + i, h)).get();
                assertEquals(i, m.offset());
            }
        }
        TopicPartition tp = new TopicPartition("v39-idem", 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps())) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> got = read(c, 10);
            for (int i = 0; i < 10; i++) {
                ConsumerRecord<String, String> r = got.get(i);
                assertEquals(i, r.offset());
                assertEquals("k" + i, r.key());
                assertEquals("v" + i, r.value());
                assertEquals(ts + i, r.timestamp());
                assertEquals(Integer.toString(i), new String(r.headers().lastHeader("n").value(), StandardCharsets.UTF_8));
            }
            assertEquals(4, c.offsetsForTimes(Map.of(tp, ts + 4)).get(tp).offset());
        }
    }

    @Test
    void transactionalProducerCommitAndAbort() throws Exception {
        admin.createTopics(List.of(new NewTopic("v39-txn", 1, (short) 1))).all().get();
        Properties pp = producerProps();
        pp.put("transactional.id", "v39-tid");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("v39-txn", 0, "k", "c0"));
            p.send(new ProducerRecord<>("v39-txn", 0, "k", "c1"));
            p.commitTransaction(); // 0, 1, marker 2
            p.beginTransaction();
            p.send(new ProducerRecord<>("v39-txn", 0, "k", "aborted"));
            p.flush();
            p.abortTransaction(); // 3, marker 4
            p.beginTransaction();
            p.send(new ProducerRecord<>("v39-txn", 0, "k", "c2"));
            p.commitTransaction(); // 5, marker 6
        }
        TopicPartition tp = new TopicPartition("v39-txn", 0);
        for (String iso : List.of("read_committed", "read_uncommitted")) {
            Properties cp = consumerProps();
            cp.put("isolation.level", iso);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                List<String> got = read(c, iso.equals("read_committed") ? 3 : 4).stream()
                        .map(r -> r.offset() + ":" + r.value()).toList();
                assertEquals(iso.equals("read_committed") ? List.of("0:c0", "1:c1", "5:c2")
                        : List.of("0:c0", "1:c1", "3:aborted", "5:c2"), got);
                assertEquals(7L, c.endOffsets(List.of(tp)).get(tp));
            }
        }
    }

    /** A group of two members on four partitions; with classic and with 3.9's early-access KIP-848 protocol. */
    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void consumerGroup(String protocol) throws Exception {
        String topic = "v39-grp-" + protocol;
        String group = "v39-g-" + protocol;
        admin.createTopics(List.of(new NewTopic(topic, 4, (short) 1))).all().get();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < 8; i++) {
                p.send(new ProducerRecord<>(topic, i % 4, "k", "v" + i));
            }
        }
        Properties cp = consumerProps();
        cp.put("group.id", group);
        cp.put("group.protocol", protocol);
        if (protocol.equals("classic")) {
            cp.put("heartbeat.interval.ms", "300");
        }
        try (KafkaConsumer<String, String> c1 = new KafkaConsumer<>(cp);
                KafkaConsumer<String, String> c2 = new KafkaConsumer<>(cp)) {
            c1.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = new ArrayList<>(read(c1, 8));
            c1.commitSync();
            c2.subscribe(List.of(topic));
            Klamm.waitUntil(Duration.ofSeconds(30), "two partitions each", () -> {
                for (KafkaConsumer<String, String> c : List.of(c1, c2)) {
                    c.poll(Duration.ofMillis(50)).forEach(got::add);
                }
                return c1.assignment().size() == 2 && c2.assignment().size() == 2;
            });
            assertEquals(8, got.size(), "nothing read twice");
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            for (int i = 0; i < 4; i++) {
                assertEquals(2, committed.get(new TopicPartition(topic, i)).offset());
            }
            var desc = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            assertEquals(2, desc.members().size());
        }
    }
}
