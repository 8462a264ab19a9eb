package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kafka 4.4.0's admin tools against Klamm: kafka-get-offsets (GetOffsetShell), kafka-delete-records,
 * kafka-log-dirs, kafka-leader-election and kafka-features, each output checked line by line.
 */
class AdminToolsTest {
    static final String GET_OFFSETS = "org.apache.kafka.tools.GetOffsetShell";
    static final String DELETE_RECORDS = "org.apache.kafka.tools.DeleteRecordsCommand";
    static final String LOG_DIRS = "org.apache.kafka.tools.LogDirsCommand";
    static final String ELECT = "org.apache.kafka.tools.LeaderElectionCommand";
    static final String FEATURES = "org.apache.kafka.tools.FeatureCommand";

    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start();
        admin = klamm.admin();
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) {
            admin.close();
        }
        if (klamm != null) {
            klamm.close();
        }
    }

    static Tools.Result tool(String main, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = klamm.bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        return Tools.run(main, all);
    }

    /** Creates {@code topic} and writes {@code timestamps[p]} (0: now) as records into partition p. */
    static void produce(String topic, long[][] timestamps) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, timestamps.length, (short) 1))).all().get(10, TimeUnit.SECONDS);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int part = 0; part < timestamps.length; part++) {
                for (int i = 0; i < timestamps[part].length; i++) {
                    Long ts = timestamps[part][i] == 0 ? null : timestamps[part][i];
                    producer.send(new ProducerRecord<>(topic, part, ts, "k" + i, "v" + i)).get(10,
                            TimeUnit.SECONDS);
                }
            }
        }
    }

    /**
     * --time -1/-2/-3/-4/-5 and a timestamp, by topic and by --topic-partitions: Kafka's ListOffsets
     * answers (max-timestamp is the first record with the largest timestamp, a timestamp past every
     * record and latest-tiered without tiered storage answer offset -1, which the tool leaves out).
     */
    @Test
    void getOffsets() throws Exception {
        long now = System.currentTimeMillis();
        produce("go", new long[][] {{now - 10_000, now - 5_000, now - 8_000, now - 5_000}, {now - 9_000}});
        assertEquals("go:0:4\ngo:1:1\n", tool(GET_OFFSETS, "--topic", "go", "--time", "-1").ok().out());
        assertEquals("go:0:4\ngo:1:1\n", tool(GET_OFFSETS, "--topic", "go", "--time", "latest").ok().out());
        assertEquals("go:0:0\ngo:1:0\n", tool(GET_OFFSETS, "--topic", "go", "--time", "-2").ok().out());
        assertEquals("go:0:1\ngo:1:0\n", tool(GET_OFFSETS, "--topic", "go", "--time", "-3").ok().out());
        assertEquals("go:0:0\ngo:1:0\n", tool(GET_OFFSETS, "--topic", "go", "--time", "-4").ok().out());
        assertEquals("", tool(GET_OFFSETS, "--topic", "go", "--time", "-5").ok().out());
        assertEquals("go:0:1\n", tool(GET_OFFSETS, "--topic", "go", "--time", String.valueOf(now - 7_000)).ok().out());
        assertEquals("go:0:0\ngo:1:0\n",
                tool(GET_OFFSETS, "--topic", "go", "--time", String.valueOf(now - 60_000)).ok().out());
        assertEquals("go:1:1\n", tool(GET_OFFSETS, "--topic-partitions", "go:1", "--time", "-1").ok().out());
        assertEquals("go:0:4\n", tool(GET_OFFSETS, "--topic-partitions", "go:0", "--time", "-1").ok().out());
        // Without a topic: every partition of every topic (only "go" exists in this broker's
        // non-internal topics so far, plus the others this class creates).
        assertTrue(tool(GET_OFFSETS, "--time", "-1").ok().out().contains("go:0:4\ngo:1:1\n"));
    }

    @Test
    void deleteRecordsMovesTheLowWatermark() throws Exception {
        produce("dr", new long[][] {{0, 0, 0, 0, 0}, {0, 0}});
        Path json = Files.createTempFile(klamm.dataDir().getParent(), "delete-records", ".json");
        Files.writeString(json, "{\"partitions\":[{\"topic\":\"dr\",\"partition\":0,\"offset\":3},"
                + "{\"topic\":\"dr\",\"partition\":1,\"offset\":-1}],\"version\":1}");
        Tools.Result r = tool(DELETE_RECORDS, "--offset-json-file", json.toString()).ok();
        String[] lines = r.out().split("\n");
        assertEquals("Executing records delete operation", lines[0]);
        assertEquals("Records delete operation completed:", lines[1]);
        // offset -1 deletes up to the high watermark.
        assertEquals(List.of("partition: dr-0\tlow_watermark: 3", "partition: dr-1\tlow_watermark: 2"),
                Stream.of(lines).skip(2).sorted().toList());
        assertEquals("dr:0:3\ndr:1:2\n", tool(GET_OFFSETS, "--topic", "dr", "--time", "-2").ok().out());
        assertEquals("dr:0:5\ndr:1:2\n", tool(GET_OFFSETS, "--topic", "dr", "--time", "-1").ok().out());

        // Past the high watermark: OFFSET_OUT_OF_RANGE, reported per partition (DeleteRecords
        // responses carry no message, so the client prints the error's default one).
        Files.writeString(json, "{\"partitions\":[{\"topic\":\"dr\",\"partition\":0,\"offset\":99}],\"version\":1}");
        Tools.Result past = tool(DELETE_RECORDS, "--offset-json-file", json.toString()).ok();
        assertEquals("Executing records delete operation\nRecords delete operation completed:\n"
                + "partition: dr-0\terror: org.apache.kafka.common.errors.OffsetOutOfRangeException: The requested "
                + "offset is not within the range of offsets maintained by the server.\n", past.out());
        assertEquals("dr:0:3\ndr:1:2\n", tool(GET_OFFSETS, "--topic", "dr", "--time", "-2").ok().out());
    }

    /** The sum of a partition directory's segment files, which is Kafka's partition size. */
    static long segmentBytes(String topic, int partition) throws Exception {
        try (Stream<Path> files = Files.list(klamm.dataDir().resolve(topic + "-" + partition))) {
            long total = 0;
            for (Path f : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                total += Files.size(f);
            }
            return total;
        }
    }

    @Test
    void logDirs() throws Exception {
        produce("ld", new long[][] {{0, 0, 0}, {0}, {}});
        Tools.Result r = tool(LOG_DIRS, "--describe", "--topic-list", "ld").ok();
        String[] lines = r.out().split("\n");
        assertEquals(3, lines.length, r.out());
        assertEquals("Querying brokers for log directories information", lines[0]);
        assertEquals("Received log directory information from brokers 0", lines[1]);
        JsonNode root = new ObjectMapper().readTree(lines[2]);
        assertEquals(1, root.get("version").asInt());
        assertEquals(1, root.get("brokers").size());
        JsonNode broker = root.get("brokers").get(0);
        assertEquals(0, broker.get("broker").asInt());
        assertEquals(1, broker.get("logDirs").size());
        JsonNode dir = broker.get("logDirs").get(0);
        assertEquals(klamm.dataDir().toString(), dir.get("logDir").asText());
        assertTrue(dir.get("error").isNull());
        Map<String, Long> sizes = new TreeMap<>();
        for (JsonNode p : dir.get("partitions")) {
            assertEquals(0, p.get("offsetLag").asLong(), p.toString());
            assertEquals(false, p.get("isFuture").asBoolean(), p.toString());
            sizes.put(p.get("partition").asText(), p.get("size").asLong());
        }
        assertEquals(Map.of("ld-0", segmentBytes("ld", 0), "ld-1", segmentBytes("ld", 1), "ld-2", 0L), sizes);
        assertTrue(sizes.get("ld-0") > sizes.get("ld-1") && sizes.get("ld-1") > 0, sizes.toString());
    }

    /**
     * One broker leads every partition it hosts, so Kafka's controller answers ElectLeaders with
     * ELECTION_NOT_NEEDED: left out of an all-partitions answer (nothing printed), "Valid replica
     * already elected" for named partitions; unknown topics and partitions fail with Kafka's text.
     */
    @Test
    void leaderElection() throws Exception {
        produce("le", new long[][] {{0}, {0}});
        for (String type : List.of("preferred", "unclean")) {
            Tools.Result all = tool(ELECT, "--election-type", type, "--all-topic-partitions").ok();
            assertEquals("", all.out());
            assertEquals("", all.err());
            assertEquals("Valid replica already elected for partitions le-1\n",
                    tool(ELECT, "--election-type", type, "--topic", "le", "--partition", "1").ok().out());
        }
        Path json = Files.createTempFile(klamm.dataDir().getParent(), "elect", ".json");
        Files.writeString(json, "{\"partitions\":[{\"topic\":\"le\",\"partition\":0},{\"topic\":\"le\",\"partition\":1}]}");
        String both = tool(ELECT, "--election-type", "preferred", "--path-to-json-file", json.toString()).ok().out();
        assertTrue(both.equals("Valid replica already elected for partitions le-0, le-1\n")
                || both.equals("Valid replica already elected for partitions le-1, le-0\n"), both);

        Tools.Result unknown = tool(ELECT, "--election-type", "preferred", "--topic", "le-absent", "--partition", "0");
        assertEquals(1, unknown.exitCode());
        assertEquals("Error completing leader election (PREFERRED) for partition: le-absent-0: "
                + "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such topic as le-absent\n",
                unknown.out());
        assertTrue(unknown.err().startsWith("1 replica(s) could not be elected\n"), unknown.err());
        Tools.Result noPartition = tool(ELECT, "--election-type", "preferred", "--topic", "le", "--partition", "7");
        assertEquals(1, noPartition.exitCode());
        assertEquals("Error completing leader election (PREFERRED) for partition: le-7: "
                + "org.apache.kafka.common.errors.UnknownTopicOrPartitionException: No such partition as le-7\n",
                noPartition.out());
    }

    /**
     * kafka-features describe: the features and finalized levels of a fresh Kafka 4.1 cluster,
     * except transaction.version 1 (Klamm does not serve KIP-890 part 2; see versions::features),
     * sorted by name, with the finalized-features epoch ApiVersions answers. UpdateFeatures is not
     * served (Klamm's levels are fixed by what it implements), so upgrade, downgrade and disable
     * fail per feature with the client's UnsupportedVersionException, as against any broker
     * without the API.
     */
    @Test
    void features() throws Exception {
        long epoch = admin.describeFeatures().featureMetadata().get(10, TimeUnit.SECONDS).finalizedFeaturesEpoch()
                .orElseThrow();
        // FeatureCommand's own layout: "Feature: %-40s  SupportedMinVersion: %-15s  ...".
        String expected = Stream.of(
                        new String[] {"eligible.leader.replicas.version", "0", "1", "1"},
                        new String[] {"group.version", "0", "1", "1"},
                        new String[] {"kraft.version", "0", "1", "1"},
                        new String[] {"metadata.version", "3.3-IV3", "4.1-IV1", "4.1-IV1"},
                        new String[] {"share.version", "0", "1", "1"},
                        new String[] {"transaction.version", "0", "1", "1"})
                .map(f -> String.format("Feature: %-40s  SupportedMinVersion: %-15s  SupportedMaxVersion: %-15s  "
                        + "FinalizedVersionLevel: %-15s  Epoch: %s%n", f[0], f[1], f[2], f[3], epoch))
                .reduce("", String::concat);
        assertEquals(expected,
                tool(FEATURES, "describe").ok().out());

        Tools.Result up = tool(FEATURES, "upgrade", "--feature", "transaction.version=2");
        assertEquals(1, up.exitCode());
        assertEquals("Could not upgrade transaction.version to 2. The node does not support UPDATE_FEATURES\n", up.out());
        assertEquals("1 out of 1 operation(s) failed.\n", up.err());
        Tools.Result down = tool(FEATURES, "downgrade", "--feature", "group.version=0");
        assertEquals(1, down.exitCode());
        assertEquals("Could not downgrade group.version to 0. The node does not support UPDATE_FEATURES\n", down.out());
        Tools.Result disable = tool(FEATURES, "disable", "--feature", "eligible.leader.replicas.version");
        assertEquals(1, disable.exitCode());
        assertEquals("Could not disable eligible.leader.replicas.version. The node does not support UPDATE_FEATURES\n",
                disable.out());
    }
}
