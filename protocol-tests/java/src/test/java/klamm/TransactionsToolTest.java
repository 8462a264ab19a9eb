package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
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
 * kafka-transactions (TransactionsCommand of Kafka 4.4.0) against Klamm, with Java
 * KafkaProducers making the transactions: list, describe, describe-producers, find-hanging, and
 * abort of a hanging transaction (a producer that began and wrote but neither commits nor
 * aborts), after which a read_committed consumer reads past it. Producer ids, epochs, sequences
 * and timestamps the tool prints are compared with the batch headers in Klamm's log files.
 */
class TransactionsToolTest {
    static final String TC = "org.apache.kafka.tools.TransactionsCommand";
    static final String TOPIC = "tx-t";
    /** The hanging producer's records carry this timestamp (DescribeProducers' LastTimestamp). */
    static final long HANG_TS = 1_750_000_000_000L;

    static Klamm klamm;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start();
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        try (Admin admin = Admin.create(ap)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        klamm.close();
    }

    static KafkaProducer<String, String> producer(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        // Long enough that the coordinator never times the hanging transaction out here.
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "600000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        return new KafkaProducer<>(p);
    }

    static Tools.Result tx(String... args) {
        List<String> a = new ArrayList<>(List.of("--bootstrap-server", klamm.bootstrap()));
        a.addAll(Arrays.asList(args));
        return Tools.run(TC, a.toArray(String[]::new));
    }

    /** ToolsUtils.prettyPrintTable output: tab-separated, padded cells. */
    static List<List<String>> table(String out) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                rows.add(Arrays.stream(line.split("\t", -1)).map(String::strip).toList());
            }
        }
        return rows;
    }

    /** Values a read_committed consumer reads from offset 0 until its position reaches {@code end}. */
    static List<String> readCommitted(long end) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> values = new ArrayList<>();
        TopicPartition tp = new TopicPartition(TOPIC, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (c.position(tp) < end && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    values.add(r.value());
                }
            }
            values.add("position=" + c.position(tp));
        }
        return values;
    }

    @Test
    void listDescribeAbortAHangingTransaction() throws Exception {
        // A committed transaction: offsets 0-1, its COMMIT marker at 2.
        try (KafkaProducer<String, String> done = producer("tx-done")) {
            done.initTransactions();
            done.beginTransaction();
            done.send(new ProducerRecord<>(TOPIC, 0, "k0", "done-0")).get();
            done.send(new ProducerRecord<>(TOPIC, 0, "k1", "done-1")).get();
            done.commitTransaction();
        }
        // A hanging one: offsets 3-5, never committed nor aborted.
        KafkaProducer<String, String> hang = producer("tx-hang");
        try {
            hang.initTransactions();
            long beforeBegin = System.currentTimeMillis();
            hang.beginTransaction();
            for (int i = 0; i < 3; i++) {
                hang.send(new ProducerRecord<>(TOPIC, 0, HANG_TS, "h" + i, "hang-" + i)).get();
            }
            long afterSend = System.currentTimeMillis();

            List<LogBatches.Batch> log = LogBatches.read(klamm.dataDir(), TOPIC, 0);
            LogBatches.Batch doneLast = log.get(1);
            LogBatches.Batch commitMarker = log.get(2);
            LogBatches.Batch hangLast = log.get(log.size() - 1);
            assertTrue(commitMarker.isControl() && commitMarker.baseOffset() == 2, commitMarker.toString());
            assertEquals(5, hangLast.lastOffset());
            long donePid = doneLast.producerId();
            long hangPid = hangLast.producerId();
            assertEquals(List.of(1, 2), List.of(doneLast.lastSequence(), hangLast.lastSequence()));

            // list: both ids with their producer ids and states.
            List<List<String>> list = table(tx("list").ok().out());
            assertEquals(List.of("TransactionalId", "Coordinator", "ProducerId", "TransactionState", ""), list.get(0));
            List<List<String>> rows = new ArrayList<>(list.subList(1, list.size()));
            rows.sort((a, b) -> a.get(0).compareTo(b.get(0)));
            assertEquals(List.of(
                    List.of("tx-done", "0", String.valueOf(donePid), "CompleteCommit", ""),
                    List.of("tx-hang", "0", String.valueOf(hangPid), "Ongoing", "")), rows);

            // describe: state, partitions, producer id/epoch, timeout, start time and duration.
            long beforeTool = System.currentTimeMillis();
            List<List<String>> d = table(tx("describe", "--transactional-id", "tx-hang").ok().out());
            long afterTool = System.currentTimeMillis();
            assertEquals(List.of("CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
                    "TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions",
                    ""), d.get(0));
            List<String> row = d.get(1);
            assertEquals(List.of("0", "tx-hang", String.valueOf(hangPid), "0", "Ongoing", "600000"), row.subList(0, 6));
            long start = Long.parseLong(row.get(6));
            assertTrue(beforeBegin <= start && start <= afterSend, "start " + start + " in [" + beforeBegin + ", " + afterSend + "]");
            long duration = Long.parseLong(row.get(7));
            assertTrue(beforeTool - start <= duration && duration <= afterTool - start, "duration " + duration);
            assertEquals(List.of(TOPIC + "-0", ""), row.subList(8, 10));
            // A completed transaction keeps its last start time (Kafka's prepareComplete) and no partitions.
            List<String> doneRow = table(tx("describe", "--transactional-id", "tx-done").ok().out()).get(1);
            assertEquals(List.of("0", "tx-done", String.valueOf(donePid), "0", "CompleteCommit", "600000"),
                    doneRow.subList(0, 6));
            assertEquals(List.of("", ""), doneRow.subList(8, 10));

            // describe-producers: ids, epochs, coordinator epoch (0 after a marker, -1 before
            // any), last sequence and timestamp (the last batch's, the marker's for tx-done),
            // and the open transaction's first offset.
            List<List<String>> producers = table(tx("describe-producers", "--topic", TOPIC, "--partition", "0").ok().out());
            assertEquals(List.of("ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp",
                    "CurrentTransactionStartOffset", ""), producers.get(0));
            List<List<String>> prow = new ArrayList<>(producers.subList(1, producers.size()));
            prow.sort((a, b) -> Long.compare(Long.parseLong(a.get(0)), Long.parseLong(b.get(0))));
            List<List<String>> expected = new ArrayList<>(List.of(
                    List.of(String.valueOf(donePid), "0", "0", "1", String.valueOf(commitMarker.maxTimestamp()), "None", ""),
                    List.of(String.valueOf(hangPid), "0", "-1", "2", String.valueOf(HANG_TS), "3", "")));
            expected.sort((a, b) -> Long.compare(Long.parseLong(a.get(0)), Long.parseLong(b.get(0))));
            assertEquals(expected, prow);

            // find-hanging: the coordinator still lists tx-t-0 for tx-hang, so even with a 0-minute
            // bound (every open transaction is a candidate) it is not hanging.
            assertEquals(List.of(List.of("Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch",
                    "StartOffset", "LastTimestamp", "Duration(min)", "")),
                    table(tx("find-hanging", "--broker-id", "0", "--max-transaction-timeout", "0").ok().out()));

            // read_committed stops at the open transaction (LSO 3).
            assertEquals(List.of("done-0", "done-1", "position=3"), readCommitted(3));

            // abort by start offset: a wrong offset is refused with the tool's message.
            Tools.Result wrong = tx("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "4");
            assertEquals(1, wrong.exitCode());
            assertTrue(wrong.err().contains("Could not find any open transactions starting at offset 4 on partition "
                    + TOPIC + "-0"), wrong.err());
            tx("abort", "--topic", TOPIC, "--partition", "0", "--start-offset", "3").ok();

            // The ABORT marker is at 6, for the hanging producer at its epoch, coordinator epoch 0.
            List<LogBatches.Batch> after = LogBatches.read(klamm.dataDir(), TOPIC, 0);
            LogBatches.Batch abortMarker = after.get(after.size() - 1);
            assertEquals(List.of(6L, hangPid, (long) 0), List.of(abortMarker.baseOffset(), abortMarker.producerId(),
                    (long) abortMarker.producerEpoch()));
            assertTrue(abortMarker.isControl());
            List<List<String>> p2 = table(tx("describe-producers", "--topic", TOPIC, "--partition", "0").ok().out());
            assertTrue(p2.contains(List.of(String.valueOf(hangPid), "0", "0", "2",
                    String.valueOf(abortMarker.maxTimestamp()), "None", "")), p2.toString());
        } finally {
            // Force-close: a graceful close would abort the transaction itself.
            hang.close(Duration.ZERO);
        }

        // read_committed now reads past the aborted records, to a later committed transaction.
        try (KafkaProducer<String, String> later = producer("tx-later")) {
            later.initTransactions();
            later.beginTransaction();
            later.send(new ProducerRecord<>(TOPIC, 0, "k", "later-0")).get();
            later.commitTransaction();
        }
        assertEquals(List.of("done-0", "done-1", "later-0", "position=9"), readCommitted(9));
    }
}
