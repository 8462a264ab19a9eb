package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.record.internal.CompressionType;
import org.apache.kafka.common.record.internal.FileRecords;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.record.internal.RecordBatch;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-console-producer and kafka-console-consumer (Kafka 4.4.0's tools) against Klamm, checked
 * against what Klamm stored (read with Kafka's own FileRecords from the data directory), against
 * kcat in both directions, and against the group offsets the consumer committed.
 */
class ConsoleToolsTest {
    static final String PRODUCER = "org.apache.kafka.tools.ConsoleProducer";
    static final String CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
    static final String GROUPS = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    static final String TRANSACTIONS = "org.apache.kafka.tools.TransactionsCommand";
    /** What ConsoleConsumer prints on stderr when it stops after --max-messages N. */
    static final String PROCESSED = "Processed a total of %d messages";
    /** Printed by 4.x tools for the deprecated --property option (on stdout). */
    static final String PROPERTY_DEPRECATED_CONSUMER =
            "Option --property is deprecated and will be removed in a future version. Use --formatter-property instead.\n";
    static final String PROPERTY_DEPRECATED_PRODUCER =
            "Warning: --property is deprecated and will be removed in a future version. Use --reader-property instead.\n";

    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // Kafka's 3 s initial rebalance delay only waits for more members to join; one console
        // consumer at a time joins each group here.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
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

    static void createTopic(String name, int partitions) throws Exception {
        admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(10, TimeUnit.SECONDS);
    }

    static Tools.Result produce(String topic, String input, String... extra) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", klamm.bootstrap(), "--topic", topic));
        args.addAll(Arrays.asList(extra));
        return Tools.runWithInput(PRODUCER, input, args.toArray(String[]::new)).ok();
    }

    /** Runs the console consumer; --timeout-ms bounds a run that would otherwise wait for records. */
    static Tools.Result consume(String topic, String... extra) {
        List<String> args = new ArrayList<>(List.of("--bootstrap-server", klamm.bootstrap(), "--topic", topic,
                "--timeout-ms", "15000"));
        args.addAll(Arrays.asList(extra));
        return Tools.run(CONSUMER, args.toArray(String[]::new)).ok();
    }

    /** The batches of partition {@code topic-partition}'s first segment, read with Kafka's FileRecords. */
    static List<RecordBatch> storedBatches(String topic, int partition) throws Exception {
        File log = klamm.dataDir().resolve(topic + "-" + partition).resolve("00000000000000000000.log").toFile();
        List<RecordBatch> out = new ArrayList<>();
        try (FileRecords records = FileRecords.open(log, false)) {
            for (RecordBatch b : records.batches()) {
                b.ensureValid();
                out.add(b);
            }
        }
        return out;
    }

    static String str(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] bytes = new byte[b.remaining()];
        b.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static List<Record> records(RecordBatch batch) {
        List<Record> out = new ArrayList<>();
        batch.forEach(out::add);
        return out;
    }

    static String headers(Record r) {
        return Arrays.stream(r.headers()).map(h -> h.key() + "=" + new String(h.value(), StandardCharsets.UTF_8))
                .collect(Collectors.joining(","));
    }

    static String sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "kcat did not finish");
        assertEquals(0, p.exitValue(), "kcat failed: " + String.join(" ", cmd));
        return out;
    }

    /**
     * The console producer's defaults (Kafka 4.4: enable.idempotence=true, acks=-1, linger.ms from
     * --timeout, 1000 ms, flushed by close at end of input): each run is one idempotent producer, so
     * each run's lines are one batch with a producer id, epoch 0 and sequences from 0. Keys and
     * headers use Kafka 3.2+'s LineMessageReader syntax; --compression-codec compresses the batch.
     */
    @Test
    void producerDefaultsKeysHeadersAndCompression() throws Exception {
        String topic = "console-produce";
        createTopic(topic, 1);
        produce(topic, "a\nb\nc\n");
        Tools.Result keyed = produce(topic, "h1:v1,h2:v2\tk1:value1\nh3:v3\tk2:value2\n",
                "--property", "parse.key=true", "--property", "key.separator=:", "--property", "parse.headers=true");
        assertEquals(PROPERTY_DEPRECATED_PRODUCER, keyed.out());
        produce(topic, "z1\nz2\n", "--compression-codec", "gzip");
        produce(topic, "-\ts1\nks\ts2\n-\ts3\n", "--compression-codec", "zstd", "--reader-property", "null.marker=-",
                "--reader-property", "parse.key=true");

        List<RecordBatch> batches = storedBatches(topic, 0);
        assertEquals(4, batches.size(), "one batch per console-producer run");
        long[][] offsets = {{0, 2}, {3, 4}, {5, 6}, {7, 9}};
        CompressionType[] codecs = {CompressionType.NONE, CompressionType.NONE, CompressionType.GZIP,
                CompressionType.ZSTD};
        HashSet<Long> producerIds = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            RecordBatch b = batches.get(i);
            assertEquals(offsets[i][0], b.baseOffset(), "batch " + i);
            assertEquals(offsets[i][1], b.lastOffset(), "batch " + i);
            assertTrue(b.hasProducerId() && b.producerId() >= 0, "idempotent producer id, batch " + i);
            assertEquals(0, b.producerEpoch());
            assertEquals(0, b.baseSequence());
            assertEquals(offsets[i][1] - offsets[i][0], b.lastSequence());
            assertEquals(codecs[i], b.compressionType());
            assertFalse(b.isTransactional());
            assertEquals(TimestampType.CREATE_TIME, b.timestampType());
            producerIds.add(b.producerId());
        }
        assertEquals(4, producerIds.size(), "each run is its own producer");

        List<String> stored = new ArrayList<>();
        for (RecordBatch b : batches) {
            for (Record r : records(b)) {
                stored.add(r.offset() + "|" + str(r.key()) + "|" + str(r.value()) + "|" + headers(r));
            }
        }
        // null.marker "-" turns the key "-" into a null key (LineMessageReader; key.separator
        // defaults to a tab).
        assertEquals(List.of("0|null|a|", "1|null|b|", "2|null|c|", "3|k1|value1|h1=v1,h2=v2", "4|k2|value2|h3=v3",
                "5|null|z1|", "6|null|z2|", "7|null|s1|", "8|ks|s2|", "9|null|s3|"), stored);

        // kafka-transactions describe-producers: one idempotent producer per run, its last
        // sequence and last timestamp as stored.
        Tools.Result producers = Tools.run(TRANSACTIONS, "--bootstrap-server", klamm.bootstrap(),
                "describe-producers", "--topic", topic, "--partition", "0").ok();
        String[] lines = producers.out().split("\n");
        assertEquals("ProducerId\tProducerEpoch\tLatestCoordinatorEpoch\tLastSequence\tLastTimestamp\t"
                + "CurrentTransactionStartOffset\t", lines[0]);
        List<String> rows = Arrays.stream(lines).skip(1).map(l -> String.join(" ", l.trim().split("\\s+")))
                .sorted().collect(Collectors.toList());
        List<String> expected = batches.stream()
                .map(b -> b.producerId() + " 0 -1 " + b.lastSequence() + " " + b.maxTimestamp() + " None")
                .sorted().collect(Collectors.toList());
        assertEquals(expected, rows);
    }

    /**
     * acks=all is the console producer's default (--request-required-acks -1): on a topic with
     * min.insync.replicas=2 a single broker answers NOT_ENOUGH_REPLICAS without an error message, as
     * Kafka's ReplicaManager does (only record validation errors carry one), so the client prints
     * the exception's default text; the
     * producer retries (--message-send-max-retries 3) and gives up, and nothing is stored. With
     * --request-required-acks 1 the record is appended, by a producer that is no longer idempotent.
     */
    @Test
    void producerDefaultsToAcksAll() throws Exception {
        String topic = "console-acks";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1).configs(Map.of("min.insync.replicas", "2"))))
                .all().get(10, TimeUnit.SECONDS);
        Tools.Result refused = produce(topic, "lost\n");
        assertTrue(refused.err().contains("Error when sending message to topic " + topic + " with key: null, value: 4 bytes"
                + " with error:\norg.apache.kafka.common.errors.NotEnoughReplicasException: Messages are rejected since"
                + " there are fewer in-sync replicas than required.\n"),
                refused.err());
        TopicPartition tp = new TopicPartition(topic, 0);
        assertEquals(0L, admin.listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest())).partitionResult(tp)
                .get(10, TimeUnit.SECONDS).offset());

        produce(topic, "kept\n", "--request-required-acks", "1");
        List<RecordBatch> batches = storedBatches(topic, 0);
        assertEquals(1, batches.size());
        assertEquals(0, batches.get(0).baseOffset());
        assertEquals(RecordBatch.NO_PRODUCER_ID, batches.get(0).producerId());
        assertEquals(List.of("kept"), records(batches.get(0)).stream().map(r -> str(r.value())).toList());
    }

    /** Kafka's default partitioner for a keyed record (murmur2, BuiltInPartitioner.partitionForKey). */
    static int partitionFor(String key, int partitions) {
        return org.apache.kafka.common.utils.Utils.toPositive(
                org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /**
     * Every print.* property of DefaultMessageFormatter over two partitions: each line is exactly
     * timestamp type and value, partition, offset, headers, key and value as stored; then
     * --partition/--offset reads one partition from an offset on.
     */
    @Test
    void consumerPrintsEveryFieldAndReadsFromPartitionOffset() throws Exception {
        String topic = "console-consume";
        createTopic(topic, 2);
        String[] keys = {"k1", "k2", "k3", "k4", "k5", "k6"};
        StringBuilder input = new StringBuilder();
        for (int i = 0; i < keys.length; i++) {
            input.append(i % 2 == 0 ? "h" + i + ":x" + i + ",hh:y" : "NULL").append('\t').append(keys[i])
                    .append(':').append("value-").append(i).append('\n');
        }
        // null.marker: a headers field equal to it means no headers (LineMessageReader).
        produce(topic, input.toString(), "--reader-property", "parse.key=true", "--reader-property",
                "key.separator=:", "--reader-property", "parse.headers=true", "--reader-property", "null.marker=NULL");

        // Expected lines from the input and the partitioner, timestamps from what Klamm stored.
        List<String> expected = new ArrayList<>();
        Map<Integer, List<String>> valuesByPartition = new java.util.TreeMap<>();
        for (int p = 0; p < 2; p++) {
            List<Record> stored = new ArrayList<>();
            storedBatches(topic, p).forEach(b -> stored.addAll(records(b)));
            List<Integer> mine = new ArrayList<>();
            for (int i = 0; i < keys.length; i++) {
                if (partitionFor(keys[i], 2) == p) {
                    mine.add(i);
                }
            }
            assertEquals(mine.size(), stored.size(), "records in partition " + p);
            for (int n = 0; n < mine.size(); n++) {
                int i = mine.get(n);
                String hdrs = i % 2 == 0 ? "h" + i + ":x" + i + ",hh:y" : "NO_HEADERS";
                expected.add("CreateTime:" + stored.get(n).timestamp() + "\tPartition:" + p + "\tOffset:" + n + "\t"
                        + hdrs + "\t" + keys[i] + "\tvalue-" + i);
                valuesByPartition.computeIfAbsent(p, x -> new ArrayList<>()).add("value-" + i);
            }
        }
        Tools.Result all = consume(topic, "--from-beginning", "--max-messages", "6",
                "--formatter-property", "print.key=true", "--formatter-property", "print.headers=true",
                "--formatter-property", "print.offset=true", "--formatter-property", "print.partition=true",
                "--formatter-property", "print.timestamp=true");
        List<String> lines = Arrays.stream(all.out().split("\n")).sorted().collect(Collectors.toList());
        assertEquals(expected.stream().sorted().collect(Collectors.toList()), lines);
        assertTrue(all.err().contains(String.format(PROCESSED, 6)), all.err());

        // The deprecated --property spelling still works (and says it is deprecated).
        int p = valuesByPartition.get(0).size() >= 2 ? 0 : 1;
        List<String> values = valuesByPartition.get(p);
        assertTrue(values.size() >= 2, "keys spread over both partitions: " + valuesByPartition);
        Tools.Result fromOffset = consume(topic, "--partition", String.valueOf(p), "--offset", "1",
                "--max-messages", String.valueOf(values.size() - 1), "--property", "print.offset=true");
        StringBuilder want = new StringBuilder(PROPERTY_DEPRECATED_CONSUMER);
        for (int o = 1; o < values.size(); o++) {
            want.append("Offset:").append(o).append('\t').append(values.get(o)).append('\n');
        }
        assertEquals(want.toString(), fromOffset.out());
    }

    static Map<TopicPartition, Long> committed(String group) throws Exception {
        return admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS)
                .entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    }

    /** The group's row in kafka-consumer-groups --describe, columns joined by one space. */
    static String describeGroupRow(String group) {
        Tools.Result r = Tools.run(GROUPS, "--bootstrap-server", klamm.bootstrap(), "--describe", "--group", group).ok();
        String[] lines = r.out().trim().split("\n");
        assertEquals("GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID",
                String.join(" ", lines[0].trim().split("\\s+")));
        assertEquals(2, lines.length, r.out());
        assertEquals("Consumer group '" + group + "' has no active members.", r.err().trim());
        return String.join(" ", lines[1].trim().split("\\s+"));
    }

    /**
     * --group commits what it printed (ConsoleConsumer seeks back over records it fetched but did
     * not print before closing), and a second run resumes from the committed offset.
     */
    @Test
    void consumerGroupCommitsWhatItPrinted() throws Exception {
        String topic = "console-group";
        createTopic(topic, 1);
        produce(topic, "m0\nm1\nm2\nm3\nm4\nm5\n");
        TopicPartition tp = new TopicPartition(topic, 0);

        Tools.Result first = consume(topic, "--group", "console-g", "--from-beginning", "--max-messages", "2");
        assertEquals("m0\nm1\n", first.out());
        assertEquals(Map.of(tp, 2L), committed("console-g"));
        assertEquals("console-g console-group 0 2 6 4 - - -", describeGroupRow("console-g"));

        Tools.Result second = consume(topic, "--group", "console-g", "--max-messages", "3");
        assertEquals("m2\nm3\nm4\n", second.out());
        assertEquals(Map.of(tp, 5L), committed("console-g"));
        assertEquals("console-g console-group 0 5 6 1 - - -", describeGroupRow("console-g"));
    }

    /**
     * --isolation-level: read_committed skips the aborted transaction's record (and every
     * marker); read_uncommitted shows it. Offsets are the stored ones, markers' gaps included.
     */
    @Test
    void consumerIsolationLevels() throws Exception {
        String topic = "console-txn";
        createTopic(topic, 1);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "console-txn-producer");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "c0"));
            producer.send(new ProducerRecord<>(topic, "c1"));
            producer.commitTransaction(); // c0 @0, c1 @1, marker @2
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "x3"));
            producer.flush();
            producer.abortTransaction(); // x3 @3, marker @4
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "c5"));
            producer.commitTransaction(); // c5 @5, marker @6
        }
        Tools.Result committed = consume(topic, "--from-beginning", "--max-messages", "3", "--isolation-level",
                "read_committed", "--formatter-property", "print.offset=true");
        assertEquals("Offset:0\tc0\nOffset:1\tc1\nOffset:5\tc5\n", committed.out());
        Tools.Result uncommitted = consume(topic, "--from-beginning", "--max-messages", "4", "--isolation-level",
                "read_uncommitted", "--formatter-property", "print.offset=true");
        assertEquals("Offset:0\tc0\nOffset:1\tc1\nOffset:3\tx3\nOffset:5\tc5\n", uncommitted.out());
    }

    /**
     * kcat (librdkafka) reads what the console producer wrote (keys, headers, offsets), and the
     * console consumer reads what kcat wrote with snappy (keys and headers).
     */
    @Test
    void kcatBothWays() throws Exception {
        String topic = "console-to-kcat";
        createTopic(topic, 1);
        produce(topic, "h1:v1,h2:v2\tk1:one\nNULL\tk2:two\nh3:v3\tk3:three\n", "--reader-property", "parse.key=true",
                "--reader-property", "key.separator=:", "--reader-property", "parse.headers=true",
                "--reader-property", "null.marker=NULL");
        String read = sh("kcat", "-C", "-b", klamm.bootstrap(), "-t", topic, "-e", "-q", "-f", "%k|%s|%h|%o\\n");
        assertEquals("k1|one|h1=v1,h2=v2|0\nk2|two||1\nk3|three|h3=v3|2\n", read);

        String back = "kcat-to-console";
        createTopic(back, 1);
        Process kcat = new ProcessBuilder("kcat", "-P", "-b", klamm.bootstrap(), "-t", back, "-K:", "-z", "snappy",
                "-H", "hx=1", "-H", "hy=two").redirectErrorStream(true).start();
        kcat.getOutputStream().write("kk1:vv1\nkk2:vv2\nkk3:vv3\n".getBytes(StandardCharsets.UTF_8));
        kcat.getOutputStream().close();
        String kcatOut = new String(kcat.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kcat.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, kcat.exitValue(), kcatOut);
        assertEquals(CompressionType.SNAPPY, storedBatches(back, 0).get(0).compressionType());
        Tools.Result r = consume(back, "--from-beginning", "--max-messages", "3", "--formatter-property",
                "print.key=true", "--formatter-property", "print.headers=true", "--formatter-property",
                "print.offset=true");
        assertEquals("Offset:0\thx:1,hy:two\tkk1\tvv1\nOffset:1\thx:1,hy:two\tkk2\tvv2\nOffset:2\thx:1,hy:two\tkk3\tvv3\n",
                r.out());
    }
}
