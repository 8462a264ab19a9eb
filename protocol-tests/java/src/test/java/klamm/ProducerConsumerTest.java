package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** KafkaProducer and KafkaConsumer (Kafka 4.4.0) against Klamm: codecs, transactions, groups, seeks. */
class ProducerConsumerTest {
    static Klamm klamm;
    static Admin admin;
    static final long BASE_TS = 1_700_000_000_000L;

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay (Kafka's 3 s would only wait); KIP-848 heartbeats every 500 ms
        // instead of 5 s so a member's assignment changes within the test's time.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0", "group.consumer.min.heartbeat.interval.ms=100",
                "group.consumer.heartbeat.interval.ms=500");
        admin = klamm.admin();
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        klamm.close();
    }

    static void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get();
    }

    static Properties producerProps() {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        return p;
    }

    static Properties consumerProps(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        if (group != null) {
            p.put("group.id", group);
        }
        return p;
    }

    static List<ConsumerRecord<String, String>> readAll(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        assertEquals(n, out.size(), "records read");
        return out;
    }

    static String header(ConsumerRecord<String, String> r, String key) {
        var h = r.headers().lastHeader(key);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"none", "gzip", "snappy", "lz4", "zstd"})
    void idempotentProducerWithEveryCodec(String codec) throws Exception {
        String topic = "codec-" + codec;
        createTopic(topic, 1);
        Properties p = producerProps();
        p.put("compression.type", codec);
        p.put("linger.ms", "20");
        List<RecordMetadata> acks = new ArrayList<>();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            List<java.util.concurrent.Future<RecordMetadata>> fs = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                RecordHeaders h = new RecordHeaders();
                h.add("i", Integer.toString(i).getBytes(StandardCharsets.UTF_8));
                h.add("codec", codec.getBytes(StandardCharsets.UTF_8));
                // Compressible values so the codec really shrinks them.
                String value = codec + "-" + i + "-" + "x".repeat(200);
                fs.add(producer.send(new ProducerRecord<>(topic, 0, BASE_TS + i, i % 3 == 0 ? null : "k" + i, value, h)));
            }
            for (var f : fs) {
                acks.add(f.get());
            }
        }
        for (int i = 0; i < 30; i++) {
            assertEquals(i, acks.get(i).offset());
            assertEquals(BASE_TS + i, acks.get(i).timestamp());
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null))) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<ConsumerRecord<String, String>> got = readAll(c, 30);
            for (int i = 0; i < 30; i++) {
                ConsumerRecord<String, String> r = got.get(i);
                assertEquals(i, r.offset());
                assertEquals(i % 3 == 0 ? null : "k" + i, r.key());
                assertEquals(codec + "-" + i + "-" + "x".repeat(200), r.value());
                assertEquals(BASE_TS + i, r.timestamp());
                assertEquals(org.apache.kafka.common.record.TimestampType.CREATE_TIME, r.timestampType());
                assertEquals(Integer.toString(i), header(r, "i"));
                assertEquals(codec, header(r, "codec"));
                assertEquals(2, r.headers().toArray().length);
            }
            // beginningOffsets / endOffsets / offsetsForTimes / seek.
            assertEquals(Map.of(tp, 0L), c.beginningOffsets(List.of(tp)));
            assertEquals(Map.of(tp, 30L), c.endOffsets(List.of(tp)));
            Map<TopicPartition, OffsetAndTimestamp> t = c.offsetsForTimes(Map.of(tp, BASE_TS + 17));
            assertEquals(17, t.get(tp).offset());
            assertEquals(BASE_TS + 17, t.get(tp).timestamp());
            assertNull(c.offsetsForTimes(Map.of(tp, BASE_TS + 30)).get(tp), "no record at or after the last");
            c.seek(tp, 25);
            List<ConsumerRecord<String, String>> tail = readAll(c, 5);
            assertEquals(25, tail.get(0).offset());
            assertEquals(codec + "-25-" + "x".repeat(200), tail.get(0).value());
            assertEquals(30, c.position(tp));
        }
    }

    @Test
    void transactionsCommitAndAbortSeenByBothIsolationLevels() throws Exception {
        String topic = "txn-iso";
        createTopic(topic, 1);
        Properties p = producerProps();
        p.put("transactional.id", "pc-txn");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            producer.initTransactions();
            producer.beginTransaction();
            for (String v : List.of("a0", "a1", "a2")) {
                producer.send(new ProducerRecord<>(topic, 0, "ka", v));
            }
            producer.commitTransaction(); // offsets 0-2, commit marker 3
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "kb", "b0"));
            producer.send(new ProducerRecord<>(topic, 0, "kb", "b1"));
            producer.flush();
            producer.abortTransaction(); // offsets 4-5, abort marker 6
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, "kc", "c0"));
            producer.commitTransaction(); // offset 7, commit marker 8
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        Map<String, List<String>> seen = new HashMap<>();
        for (String iso : List.of("read_committed", "read_uncommitted")) {
            Properties cp = consumerProps(null);
            cp.put("isolation.level", iso);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                int n = iso.equals("read_committed") ? 4 : 6;
                List<String> got = new ArrayList<>();
                for (ConsumerRecord<String, String> r : readAll(c, n)) {
                    got.add(r.offset() + ":" + r.key() + "=" + r.value());
                }
                seen.put(iso, got);
                assertEquals(Map.of(tp, 9L), c.endOffsets(List.of(tp)), iso + " end offset");
                Klamm.waitUntil(Duration.ofSeconds(10), "position past the last marker", () -> {
                    c.poll(Duration.ofMillis(50));
                    return c.position(tp) == 9;
                });
            }
        }
        assertEquals(List.of("0:ka=a0", "1:ka=a1", "2:ka=a2", "7:kc=c0"), seen.get("read_committed"));
        assertEquals(List.of("0:ka=a0", "1:ka=a1", "2:ka=a2", "4:kb=b0", "5:kb=b1", "7:kc=c0"),
                seen.get("read_uncommitted"));
    }

    /** Produces {@code perPartition} records to each partition of {@code topic}, values tagged by {@code phase}. */
    static void produce(String topic, int partitions, int perPartition, String phase) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps())) {
            for (int p = 0; p < partitions; p++) {
                for (int i = 0; i < perPartition; i++) {
                    producer.send(new ProducerRecord<>(topic, p, "p" + p, phase + "-" + p + "-" + i));
                }
            }
            producer.flush();
        }
    }

    static Set<Integer> partitionsOf(KafkaConsumer<String, String> c) {
        Set<Integer> s = new TreeSet<>();
        c.assignment().forEach(tp -> s.add(tp.partition()));
        return s;
    }

    /** Polls both members (one thread: each must keep polling for a rebalance to finish). */
    static void pollUntil(List<KafkaConsumer<String, String>> cs, Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> into,
            String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + ": "
                        + cs.stream().map(c -> partitionsOf(c).toString()).toList());
            }
            for (KafkaConsumer<String, String> c : cs) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(50))) {
                    into.computeIfAbsent(c, k -> new ArrayList<>()).add(r);
                }
                try {
                    c.commitSync();
                } catch (org.apache.kafka.common.errors.RebalanceInProgressException e) {
                    // The positions are committed by the revocation listener before the rebalance.
                }
            }
        }
    }

    /** Commits what was consumed before partitions are taken away, as a group member must. */
    static org.apache.kafka.clients.consumer.ConsumerRebalanceListener commitOnRevoke(KafkaConsumer<String, String> c) {
        return new org.apache.kafka.clients.consumer.ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(java.util.Collection<TopicPartition> partitions) {
                c.commitSync();
            }

            @Override
            public void onPartitionsAssigned(java.util.Collection<TopicPartition> partitions) {}
        };
    }

    /**
     * Two members of one group share four partitions, the leaver's partitions go back to the one
     * left, every record is consumed exactly once and the committed offsets are the log ends.
     */
    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void twoMembersShareAndRebalance(String protocol) throws Exception {
        String topic = "grp-" + protocol;
        String group = "g-" + protocol;
        createTopic(topic, 4);
        Properties cp = consumerProps(group);
        cp.put("group.protocol", protocol);
        if (protocol.equals("classic")) {
            cp.put("heartbeat.interval.ms", "300");
            cp.put("session.timeout.ms", "6000");
        }
        produce(topic, 4, 5, "one");
        KafkaConsumer<String, String> c1 = new KafkaConsumer<>(cp);
        KafkaConsumer<String, String> c2 = new KafkaConsumer<>(cp);
        Map<KafkaConsumer<String, String>, List<ConsumerRecord<String, String>>> got = new HashMap<>();
        try {
            c1.subscribe(List.of(topic), commitOnRevoke(c1));
            pollUntil(List.of(c1), got, "c1 reads phase one",
                    () -> got.getOrDefault(c1, List.of()).size() == 20 && partitionsOf(c1).size() == 4);
            c2.subscribe(List.of(topic), commitOnRevoke(c2));
            pollUntil(List.of(c1, c2), got, "two members with two partitions each",
                    () -> partitionsOf(c1).size() == 2 && partitionsOf(c2).size() == 2);
            Set<Integer> all = new TreeSet<>(partitionsOf(c1));
            all.addAll(partitionsOf(c2));
            assertEquals(Set.of(0, 1, 2, 3), all);
            produce(topic, 4, 5, "two");
            pollUntil(List.of(c1, c2), got, "phase two read by both",
                    () -> got.values().stream().mapToInt(List::size).sum() == 40);
            // Each member read phase two only from its own partitions.
            for (KafkaConsumer<String, String> c : List.of(c1, c2)) {
                Set<Integer> mine = partitionsOf(c);
                List<ConsumerRecord<String, String>> two = got.getOrDefault(c, List.of()).stream()
                        .filter(r -> r.value().startsWith("two-")).toList();
                assertEquals(10, two.size(), "phase two records of one member");
                two.forEach(r -> assertTrue(mine.contains(r.partition()), r + " outside " + mine));
            }
            c2.close();
            pollUntil(List.of(c1), got, "c1 has all four again", () -> partitionsOf(c1).size() == 4);
            produce(topic, 4, 2, "three");
            pollUntil(List.of(c1), got, "phase three read by c1",
                    () -> got.values().stream().mapToInt(List::size).sum() == 48);
            // Exactly once: every (partition, offset) seen once, each partition 0..11.
            Map<Integer, List<Long>> offsets = new TreeMap<>();
            got.values().forEach(l -> l.forEach(r -> offsets.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r.offset())));
            for (int p = 0; p < 4; p++) {
                List<Long> os = new ArrayList<>(offsets.get(p));
                os.sort(Long::compare);
                assertEquals(java.util.stream.LongStream.range(0, 12).boxed().toList(), os, "partition " + p);
            }
            c1.commitSync();
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            for (int p = 0; p < 4; p++) {
                assertEquals(12, committed.get(new TopicPartition(topic, p)).offset(), "committed " + p);
            }
            assertEquals(4, committed.size());
            var desc = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get();
            assertEquals(1, desc.members().size());
            assertEquals(protocol.equals("classic") ? org.apache.kafka.common.GroupType.CLASSIC
                    : org.apache.kafka.common.GroupType.CONSUMER, desc.type());
        } finally {
            c1.close();
            c2.close();
        }
    }
}
