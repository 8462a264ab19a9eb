package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka Streams 4.4.0 word count (flatMapValues, groupBy through a repartition topic, count into a
 * state store with a changelog) with exactly_once_v2 against Klamm: counts read with
 * read_committed, a restart with a wiped state directory restores from the changelog, and two
 * instances share the tasks.
 */
class StreamsWordCountTest {
    static Klamm klamm;
    static Admin admin;
    static final String APP = "wc";

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        admin = klamm.admin();
        admin.createTopics(List.of(new NewTopic("wc-in", 2, (short) 1), new NewTopic("wc-out", 2, (short) 1))).all().get();
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        klamm.close();
    }

    static final AtomicLong restored = new AtomicLong();

    static KafkaStreams app(Path stateDir) {
        StreamsBuilder b = new StreamsBuilder();
        b.<String, String>stream("wc-in")
                .flatMapValues(v -> Arrays.asList(v.toLowerCase().split("\\W+")))
                .groupBy((k, word) -> word)
                .count(Materialized.as("counts"))
                .toStream()
                .to("wc-out", Produced.with(Serdes.String(), Serdes.Long()));
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, APP);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        // Every instance counts as caught up, so a second instance gets active tasks at once
        // instead of warm-up tasks and a probing rebalance 10 minutes later.
        p.put(StreamsConfig.ACCEPTABLE_RECOVERY_LAG_CONFIG, Long.MAX_VALUE);
        // Shorter than Streams' defaults, which would only wait here.
        p.put(StreamsConfig.consumerPrefix("session.timeout.ms"), 6000);
        p.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 300);
        KafkaStreams s = new KafkaStreams(b.build(), p);
        s.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition tp, String store, long start, long end) {}

            @Override
            public void onBatchRestored(TopicPartition tp, String store, long batchEnd, long n) {
                restored.addAndGet(n);
            }

            @Override
            public void onRestoreEnd(TopicPartition tp, String store, long total) {}
        });
        return s;
    }

    static void startAndWait(KafkaStreams... apps) throws InterruptedException {
        for (KafkaStreams s : apps) {
            s.start();
        }
        Klamm.waitUntil(Duration.ofSeconds(30), "streams RUNNING", () -> Arrays.stream(apps)
                .allMatch(s -> s.state() == KafkaStreams.State.RUNNING));
    }

    static void close(KafkaStreams s) {
        s.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(20)));
    }

    static void lines(String... lines) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            int i = 0;
            for (String l : lines) {
                producer.send(new ProducerRecord<>("wc-in", "line" + (i++), l));
            }
        }
    }

    /** The newest count per word in wc-out, read_committed, once it equals {@code expected}. */
    static void awaitCounts(Map<String, Long> expected) throws InterruptedException {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", LongDeserializer.class.getName());
        p.put("isolation.level", "read_committed");
        Map<String, Long> latest = new TreeMap<>();
        try (KafkaConsumer<String, Long> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = List.of(new TopicPartition("wc-out", 0), new TopicPartition("wc-out", 1));
            c.assign(tps);
            c.seekToBeginning(tps);
            try {
                Klamm.waitUntil(Duration.ofSeconds(30), "counts " + expected, () -> {
                    c.poll(Duration.ofMillis(100)).forEach(r -> latest.put(r.key(), r.value()));
                    return latest.equals(expected);
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + " (read " + latest + ")");
            }
        }
    }

    static void deleteTree(Path dir) throws Exception {
        if (Files.exists(dir)) {
            try (var w = Files.walk(dir)) {
                for (Path x : w.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(x);
                }
            }
        }
    }

    @Test
    void wordCountRestoreAndTwoInstances() throws Exception {
        Path stateA = Files.createTempDirectory("klamm-streams-a-");
        Path stateB = Files.createTempDirectory("klamm-streams-b-");
        Map<String, Long> counts = new TreeMap<>();
        KafkaStreams a = app(stateA);
        try {
            startAndWait(a);
            lines("the quick brown fox", "the lazy dog", "the fox");
            counts.putAll(Map.of("the", 3L, "quick", 1L, "brown", 1L, "fox", 2L, "lazy", 1L, "dog", 1L));
            awaitCounts(counts);
        } finally {
            close(a);
        }

        // Internal topics exist with the configs Streams asks for.
        Set<String> topics = admin.listTopics().names().get();
        String changelog = APP + "-counts-changelog";
        String repartition = APP + "-counts-repartition";
        assertTrue(topics.contains(changelog), topics.toString());
        assertTrue(topics.contains(repartition), topics.toString());
        ConfigResource cl = new ConfigResource(ConfigResource.Type.TOPIC, changelog);
        ConfigResource rp = new ConfigResource(ConfigResource.Type.TOPIC, repartition);
        Map<ConfigResource, Config> cfg = admin.describeConfigs(List.of(cl, rp)).all().get();
        assertEquals("compact", cfg.get(cl).get("cleanup.policy").value());
        assertEquals("delete", cfg.get(rp).get("cleanup.policy").value());
        assertEquals("-1", cfg.get(rp).get("retention.ms").value());
        assertEquals("52428800", cfg.get(rp).get("segment.bytes").value());
        assertEquals(2, admin.describeTopics(List.of(changelog, repartition)).allTopicNames().get()
                .get(changelog).partitions().size());

        // Restart with the local state wiped: the store is restored from the changelog.
        deleteTree(stateA);
        Files.createDirectories(stateA);
        restored.set(0);
        a = app(stateA);
        KafkaStreams b = null;
        try {
            startAndWait(a);
            // Nine updates were logged (no record cache): the x3, fox x2, quick, brown, lazy, dog.
            assertEquals(9, restored.get(), "records restored from the changelog");
            lines("fox dog the");
            counts.putAll(Map.of("the", 4L, "fox", 3L, "dog", 2L));
            awaitCounts(counts);

            // A second instance of the application: both get active tasks.
            b = app(stateB);
            KafkaStreams bb = b;
            KafkaStreams aa = a;
            b.start();
            Klamm.waitUntil(Duration.ofSeconds(40), "both instances running with active tasks", () ->
                    aa.state() == KafkaStreams.State.RUNNING && bb.state() == KafkaStreams.State.RUNNING
                            && activeTasks(aa) > 0 && activeTasks(bb) > 0);
            assertEquals(4, activeTasks(a) + activeTasks(b), "2 input + 2 repartition tasks in all");
            lines("quick quick dog", "brown cow", "the end");
            counts.putAll(Map.of("quick", 3L, "dog", 3L, "brown", 2L, "cow", 1L, "the", 5L, "end", 1L));
            awaitCounts(counts);
        } finally {
            close(a);
            if (b != null) {
                close(b);
            }
            deleteTree(stateA);
            deleteTree(stateB);
        }
    }

    static int activeTasks(KafkaStreams s) {
        return s.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }
}
