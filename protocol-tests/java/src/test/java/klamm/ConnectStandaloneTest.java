package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
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
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka Connect standalone ({@code org.apache.kafka.connect.cli.ConnectStandalone}, connect-runtime
 * 4.3.1) against Klamm, with connect-file's FileStreamSourceConnector (file lines to a topic that
 * Connect creates, KIP-158) and FileStreamSinkConnector (a topic to file lines, through a consumer
 * group {@code connect-<name>} that commits its offsets on Klamm). One worker for the class.
 */
class ConnectStandaloneTest {
    static final Duration WAIT = Duration.ofSeconds(60);
    static final List<String> SOURCE_BEFORE = List.of("first line", "zweite Zeile \u00e4\u00f6\u00fc", "3 \u20ac {json:true}");
    static final List<String> SOURCE_AFTER = List.of("appended while running", "last");
    static final List<String> SINK_LINES = List.of("alpha", "beta \u00df", "", "gamma\ttab", "delta");

    static Klamm klamm;
    static Path dir;
    static Path sourceFile;
    static Path sinkFile;
    static ConnectJvm connect;
    static String rest;

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay (Kafka's 3 s): the sink's group has one member.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        dir = Files.createTempDirectory("klamm-connect-");
        sourceFile = dir.resolve("source.txt");
        sinkFile = dir.resolve("sink.txt");
        Files.writeString(sourceFile, String.join("\n", SOURCE_BEFORE) + "\n", StandardCharsets.UTF_8);
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("connect-sink", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> p = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap()),
                new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < SINK_LINES.size(); i++) {
                p.send(new ProducerRecord<>("connect-sink", "key" + i, SINK_LINES.get(i))).get();
            }
        }
        Path worker = dir.resolve("worker.properties");
        Files.writeString(worker, String.join("\n",
                "bootstrap.servers=" + klamm.bootstrap(),
                "key.converter=org.apache.kafka.connect.storage.StringConverter",
                "value.converter=org.apache.kafka.connect.storage.StringConverter",
                "offset.storage.file.filename=" + dir.resolve("connect.offsets"),
                // Commit source offsets and sink group offsets every 500 ms (Kafka's default: 60 s).
                "offset.flush.interval.ms=500",
                // An ephemeral port: the test reads it from the log line "REST server listening at".
                "listeners=http://127.0.0.1:0",
                // connect-file is on the classpath; service_load skips the classpath scan.
                "plugin.discovery=service_load",
                ""), StandardCharsets.UTF_8);
        Path source = dir.resolve("file-source.properties");
        Files.writeString(source, String.join("\n",
                "name=file-source",
                "connector.class=org.apache.kafka.connect.file.FileStreamSourceConnector",
                "tasks.max=1",
                "file=" + sourceFile,
                "topic=connect-lines",
                // KIP-158: Connect creates the topic through the Admin API.
                "topic.creation.default.partitions=1",
                "topic.creation.default.replication.factor=1",
                "topic.creation.default.cleanup.policy=delete",
                ""), StandardCharsets.UTF_8);
        Path sink = dir.resolve("file-sink.properties");
        Files.writeString(sink, String.join("\n",
                "name=file-sink",
                "connector.class=org.apache.kafka.connect.file.FileStreamSinkConnector",
                "tasks.max=1",
                "file=" + sinkFile,
                "topics=connect-sink",
                ""), StandardCharsets.UTF_8);
        connect = ConnectJvm.start(dir, "org.apache.kafka.connect.cli.ConnectStandalone", worker.toString(),
                source.toString(), sink.toString());
        rest = connect.waitForLog(WAIT, Pattern.compile("REST server listening at (http://[^/\\s]+)/"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (connect != null) {
            connect.kill();
        }
        if (klamm != null) {
            klamm.close();
        }
    }

    @Test
    void fileSourceWritesEveryLineInOrder() throws Exception {
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(
                Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap()),
                new StringDeserializer(), new StringDeserializer());
                Admin admin = admin()) {
            Klamm.waitUntil(WAIT, "topic connect-lines", () -> {
                try {
                    return admin.listTopics().names().get().contains("connect-lines");
                } catch (Exception e) {
                    return false;
                }
            });
            TopicDescription d = admin.describeTopics(List.of("connect-lines")).allTopicNames().get()
                    .get("connect-lines");
            assertEquals(1, d.partitions().size());
            TopicPartition tp = new TopicPartition("connect-lines", 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            List<String> got = new ArrayList<>();
            List<String> want = new ArrayList<>(SOURCE_BEFORE);
            pollInto(c, got, SOURCE_BEFORE.size());
            assertEquals(want, got, connect::logTail);
            // The connector tails the file: lines appended later follow.
            Files.writeString(sourceFile, String.join("\n", SOURCE_AFTER) + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.APPEND);
            want.addAll(SOURCE_AFTER);
            pollInto(c, got, want.size());
            assertEquals(want, got, connect::logTail);
        }
        assertRunning("file-source");
    }

    @Test
    void fileSinkWritesEveryRecordInOrderAndCommitsItsGroup() throws Exception {
        List<String> want = SINK_LINES;
        List<String>[] last = new List[] {List.of()};
        try {
            Klamm.waitUntil(WAIT, "sink file", () -> {
                try {
                    last[0] = Files.exists(sinkFile) ? Files.readAllLines(sinkFile, StandardCharsets.UTF_8) : List.of();
                } catch (Exception e) {
                    return false;
                }
                return last[0].size() >= want.size();
            });
        } catch (AssertionError e) {
            throw new AssertionError("sink file has " + last[0] + "\n" + connect.logTail(), e);
        }
        assertEquals(want, last[0]);
        // The sink task's consumer group commits the next offset to read (5) on Klamm.
        TopicPartition tp = new TopicPartition("connect-sink", 0);
        try (Admin admin = admin()) {
            long[] committed = {-1};
            try {
                Klamm.waitUntil(WAIT, "connect-file-sink's committed offset", () -> {
                    try {
                        OffsetAndMetadata om = admin.listConsumerGroupOffsets("connect-file-sink")
                                .partitionsToOffsetAndMetadata().get().get(tp);
                        committed[0] = om == null ? -1 : om.offset();
                    } catch (Exception e) {
                        return false;
                    }
                    return committed[0] == SINK_LINES.size();
                });
            } catch (AssertionError e) {
                throw new AssertionError("committed " + committed[0] + "\n" + connect.logTail(), e);
            }
        }
        assertRunning("file-sink");
    }

    // --- helpers ---------------------------------------------------------------------------------

    static Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap()));
    }

    static void pollInto(KafkaConsumer<String, String> c, List<String> got, int n) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                assertEquals(got.size(), r.offset(), "offsets are dense from 0");
                assertEquals(null, r.key(), "FileStreamSource records have no key");
                got.add(r.value());
            }
        }
    }

    /** GET /connectors/NAME/status: the connector and its one task are RUNNING. */
    static void assertRunning(String name) throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(rest + "/connectors/" + name + "/status"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        String body = r.body().replaceAll("\\s", "");
        assertEquals(true, body.startsWith("{\"name\":\"" + name + "\",\"connector\":{\"state\":\"RUNNING\""), body);
        assertEquals(true, body.contains("\"tasks\":[{\"id\":0,\"state\":\"RUNNING\""), body);
    }
}
