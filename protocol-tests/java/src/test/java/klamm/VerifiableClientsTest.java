package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * kafka-verifiable-producer and kafka-verifiable-consumer (Kafka's system-test clients, 4.4.0),
 * each in its own JVM (they loop and end through System.exit and shutdown hooks), against Klamm.
 * Their JSON events are the evidence: producer_send_success gives each acknowledged record's
 * partition, offset and value; the consumer (--verbose) prints record_data for every record it
 * hands to the application and offsets_committed for every synchronous commit.
 */
class VerifiableClientsTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Klamm klamm;
    static Path producerConfig;

    @BeforeAll
    static void start() throws Exception {
        // Kafka's 3 s group.initial.rebalance.delay.ms only delays the consumer's first join.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        producerConfig = Files.createTempFile("verifiable-producer", ".properties");
        // acks=all and the idempotent producer. VerifiableProducer sets retries=0 (its
        // system-test default), which the idempotent producer refuses: the config file,
        // applied after it, restores Kafka's default.
        Files.writeString(producerConfig, "acks=all\nenable.idempotence=true\nretries=2147483647\n"
                + "max.in.flight.requests.per.connection=5\nlinger.ms=5\n");
    }

    @AfterAll
    static void stop() throws Exception {
        klamm.close();
        Files.deleteIfExists(producerConfig);
    }

    static void createTopic(String topic, int partitions) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        try (Admin a = Admin.create(p)) {
            a.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** A tool's main in a child JVM on this JVM's classpath, its stdout JSON events collected. */
    static final class Child implements AutoCloseable {
        final Process process;
        final List<JsonNode> events = new ArrayList<>();
        final Path stderr;
        private final Thread pump;

        Child(String mainClass, String... args) throws IOException {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), mainClass));
            cmd.addAll(List.of(args));
            stderr = Files.createTempFile("verifiable-", ".stderr");
            process = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
            pump = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        if (line.startsWith("{")) {
                            JsonNode n = JSON.readTree(line);
                            synchronized (events) {
                                events.add(n);
                            }
                        }
                    }
                } catch (IOException e) {
                    // the process ended
                }
            }, "pump-" + mainClass);
            pump.setDaemon(true);
            pump.start();
        }

        List<JsonNode> events(String name) {
            synchronized (events) {
                return events.stream().filter(e -> e.path("name").asText().equals(name)).toList();
            }
        }

        int awaitExit(Duration timeout) throws Exception {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("child did not exit; stderr:\n" + tail());
            }
            pump.join(10_000);
            return process.exitValue();
        }

        String tail() {
            try {
                String s = Files.readString(stderr);
                return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
            } catch (IOException e) {
                return e.toString();
            }
        }

        /** SIGTERM: both tools close their client in a shutdown hook. */
        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(20, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            }
            pump.join(10_000);
            Files.deleteIfExists(stderr);
        }
    }

    static Child producer(String topic, int maxMessages, int throughput) throws IOException {
        return new Child("org.apache.kafka.tools.VerifiableProducer", "--bootstrap-server", klamm.bootstrap(),
                "--topic", topic, "--max-messages", String.valueOf(maxMessages), "--throughput",
                String.valueOf(throughput), "--acks", "-1", "--producer.config", producerConfig.toString());
    }

    static Child consumer(String topic, String group, String protocol) throws IOException {
        // Synchronous commits after each poll (auto-commit off, the tool's default).
        return new Child("org.apache.kafka.tools.VerifiableConsumer", "--bootstrap-server", klamm.bootstrap(),
                "--topic", topic, "--group-id", group, "--group-protocol", protocol, "--reset-policy", "earliest",
                "--verbose");
    }

    /** partition/offset -> value of every producer_send_success. */
    static Map<String, String> acked(Child p) {
        Map<String, String> m = new TreeMap<>();
        for (JsonNode e : p.events("producer_send_success")) {
            String prev = m.put(e.get("partition").asInt() + "/" + e.get("offset").asLong(), e.get("value").asText());
            assertEquals(null, prev, "two acknowledgements for one offset: " + e);
        }
        return m;
    }

    /** partition/offset -> how often the consumer handed it to the application (record_data). */
    static Map<String, Integer> consumedCounts(Child c, Map<String, String> valueCheck) {
        Map<String, Integer> m = new HashMap<>();
        for (JsonNode e : c.events("record_data")) {
            String at = e.get("partition").asInt() + "/" + e.get("offset").asLong();
            m.merge(at, 1, Integer::sum);
            String expected = valueCheck.get(at);
            if (expected != null) {
                assertEquals(expected, e.get("value").asText(), "value at " + at);
            }
        }
        return m;
    }

    /** Everything in the topic, partition/offset -> value, read from the start by a fresh consumer. */
    static Map<String, String> readAll(String topic, int partitions, long expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Map<String, String> m = new TreeMap<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (tps.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    m.put(r.partition() + "/" + r.offset(), r.value());
                }
            }
            assertTrue(m.size() >= expected, "read " + m.size() + " of at least " + expected);
        }
        return m;
    }

    /** Every value appears at most once in the log: the idempotent producer wrote no duplicate. */
    static void assertNoDuplicateValues(Map<String, String> log) {
        Map<String, String> seen = new HashMap<>();
        for (Map.Entry<String, String> e : log.entrySet()) {
            String prev = seen.put(e.getValue(), e.getKey());
            assertEquals(null, prev, "value " + e.getValue() + " written twice, at " + prev + " and " + e.getKey());
        }
    }

    /** The last successful commit per partition, from offsets_committed events. */
    static Map<Integer, Long> lastCommits(Child c) {
        Map<Integer, Long> m = new TreeMap<>();
        for (JsonNode e : c.events("offsets_committed")) {
            if (e.get("success").asBoolean()) {
                for (JsonNode o : e.get("offsets")) {
                    m.merge(o.get("partition").asInt(), o.get("offset").asLong(), Math::max);
                }
            }
        }
        return m;
    }

    /** With the classic group protocol and with KIP-848's consumer protocol. */
    @ParameterizedTest
    @ValueSource(strings = {"classic", "consumer"})
    void everyAcknowledgedRecordIsConsumedExactlyOnce(String protocol) throws Exception {
        String topic = "verifiable-" + protocol;
        createTopic(topic, 3);
        int n = 3000;
        try (Child consumer = consumer(topic, "verifiable-group-" + protocol, protocol)) {
            Klamm.waitUntil(Duration.ofSeconds(30), "the consumer's assignment",
                    () -> consumer.events("partitions_assigned").stream().mapToInt(e -> e.get("partitions").size())
                            .sum() == 3);
            Map<String, String> acked;
            try (Child producer = producer(topic, n, -1)) {
                assertEquals(0, producer.awaitExit(Duration.ofSeconds(60)), producer.tail());
                assertEquals(List.of(), producer.events("producer_send_error"));
                acked = acked(producer);
                JsonNode tool = producer.events("tool_data").get(0);
                assertEquals(List.of((long) n, (long) n), List.of(tool.get("sent").asLong(), tool.get("acked").asLong()));
            }
            assertEquals(n, acked.size());
            // The values are 0..n-1, each acknowledged once.
            assertEquals(n, acked.values().stream().distinct().count());
            Klamm.waitUntil(Duration.ofSeconds(30), "the consumer to read every acknowledged record",
                    () -> consumer.events("record_data").size() >= n);
            Map<String, Integer> consumed = consumedCounts(consumer, acked);
            assertEquals(acked.keySet(), new java.util.TreeSet<>(consumed.keySet()));
            assertTrue(consumed.values().stream().allMatch(k -> k == 1), "a record was consumed twice");

            // Its commits end at each partition's log end offset (the records acknowledged there).
            Map<Integer, Long> logEnd = new TreeMap<>();
            acked.keySet().forEach(k -> logEnd.merge(Integer.parseInt(k.split("/")[0]),
                    Long.parseLong(k.split("/")[1]) + 1, Math::max));
            Klamm.waitUntil(Duration.ofSeconds(10), "the final commits", () -> lastCommits(consumer).equals(logEnd));
        }
        assertNoDuplicateValues(readAll(topic, 3, n));
    }

    /**
     * The same across a kill -9 of Klamm while the producer sends (2,000 records/s) and the
     * consumer reads, then a restart on the same port and data dir. What is asserted, and why:
     * <ul>
     * <li>every acknowledged record is in the log at its acknowledged offset with its value
     *     (Klamm acknowledges acks=all once the batch is in its log; a killed process loses
     *     nothing the kernel already has);</li>
     * <li>no value is in the log twice: sends in flight at the crash are retried by the
     *     idempotent producer with their sequence numbers, and the restarted broker, having
     *     rebuilt its producer state from the log, answers a retry of a batch it already has
     *     with the original offsets (Kafka's duplicate check). Only sends that failed
     *     (producer_send_error, none expected) may be missing;</li>
     * <li>the consumer reads every acknowledged record; it may read a record twice (at-least-once
     *     delivery), but only one at or after the last offset it had committed successfully
     *     for that partition when it read it again: a successful commit is never lost.</li>
     * </ul>
     */
    @Test
    void noAcknowledgedRecordIsLostAcrossKill9() throws Exception {
        String topic = "verifiable-kill9";
        createTopic(topic, 2);
        int n = 6000;
        Map<String, String> acked;
        int[] redeliveries = {0};
        try (Child consumer = consumer(topic, "verifiable-kill9-group", "classic")) {
            Klamm.waitUntil(Duration.ofSeconds(30), "the consumer's assignment",
                    () -> consumer.events("partitions_assigned").stream().mapToInt(e -> e.get("partitions").size())
                            .sum() == 2);
            try (Child producer = producer(topic, n, 2000)) {
                Klamm.waitUntil(Duration.ofSeconds(30), "1,000 acknowledgements",
                        () -> producer.events("producer_send_success").size() >= 1000);
                klamm.kill9();
                int ackedAtKill = producer.events("producer_send_success").size();
                assertTrue(ackedAtKill < n, "the producer was still sending when Klamm was killed");
                Thread.sleep(300);
                klamm.launch();
                assertEquals(0, producer.awaitExit(Duration.ofSeconds(90)), producer.tail());
                assertEquals(List.of(), producer.events("producer_send_error"));
                acked = acked(producer);
            }
            assertEquals(n, acked.size(), "every send was acknowledged after the restart");
            Klamm.waitUntil(Duration.ofSeconds(60), "the consumer to read every acknowledged record",
                    () -> consumedCounts(consumer, Map.of()).keySet().containsAll(acked.keySet()));
            consumedCounts(consumer, acked); // the values match where the producer put them

            // Redeliveries only at or after the last successful commit at the time.
            Map<Integer, Long> committed = new HashMap<>();
            Map<String, Integer> seen = new HashMap<>();
            int redelivered = 0;
            List<JsonNode> events;
            synchronized (consumer.events) {
                events = new ArrayList<>(consumer.events);
            }
            for (JsonNode e : events) {
                String name = e.path("name").asText();
                if (name.equals("offsets_committed") && e.get("success").asBoolean()) {
                    for (JsonNode o : e.get("offsets")) {
                        committed.merge(o.get("partition").asInt(), o.get("offset").asLong(), Math::max);
                    }
                } else if (name.equals("record_data")) {
                    int part = e.get("partition").asInt();
                    long off = e.get("offset").asLong();
                    if (seen.merge(part + "/" + off, 1, Integer::sum) > 1) {
                        long c = committed.getOrDefault(part, 0L);
                        assertTrue(off >= c, "record " + part + "/" + off + " redelivered below the committed offset " + c);
                        redelivered++;
                    }
                }
            }
            redeliveries[0] = redelivered;
        }
        System.out.println("kill -9: " + n + " records acknowledged, consumer redeliveries " + redeliveries[0]);
        Map<String, String> log = readAll(topic, 2, n);
        for (Map.Entry<String, String> a : acked.entrySet()) {
            assertEquals(a.getValue(), log.get(a.getKey()), "acknowledged record at " + a.getKey());
        }
        assertNoDuplicateValues(log);
    }
}
