package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Consume-transform-produce with sendOffsetsToTransaction(offsets, consumer.groupMetadata()): the
 * downstream read_committed view holds each input's transform exactly once, an aborted round
 * leaves no trace (neither output nor committed offsets), and a second producer with the same
 * transactional.id fences the first.
 */
class ExactlyOnceTest {
    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        admin = klamm.admin();
        admin.createTopics(List.of(new NewTopic("eos-in", 2, (short) 1), new NewTopic("eos-out", 2, (short) 1))).all().get();
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        klamm.close();
    }

    static KafkaProducer<String, String> txnProducer(String tid) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("transactional.id", tid);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(String group, String isolation) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        if (group != null) {
            p.put("group.id", group);
        }
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        p.put("isolation.level", isolation);
        return new KafkaConsumer<>(p);
    }

    static void produceInput(int from, int to) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = from; i < to; i++) {
                producer.send(new ProducerRecord<>("eos-in", i % 2, "k" + i, "in-" + i));
            }
        }
    }

    /** Polls the group member until {@code n} records arrived. */
    static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (got.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(100)).forEach(got::add);
        }
        assertEquals(n, got.size(), "input records");
        return got;
    }

    /** One transaction: the transforms of {@code in} and the consumed positions, then commit or abort. */
    static void transform(KafkaProducer<String, String> producer, KafkaConsumer<String, String> c,
            List<ConsumerRecord<String, String>> in, boolean commit) {
        producer.beginTransaction();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (ConsumerRecord<String, String> r : in) {
            producer.send(new ProducerRecord<>("eos-out", r.partition(), r.key(), r.value().replace("in-", "out-")));
            offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
        }
        producer.sendOffsetsToTransaction(offsets, c.groupMetadata());
        if (commit) {
            producer.commitTransaction();
        } else {
            producer.abortTransaction();
        }
    }

    static List<String> committedOutput(int n) {
        try (KafkaConsumer<String, String> c = consumer(null, "read_committed")) {
            List<TopicPartition> tps = List.of(new TopicPartition("eos-out", 0), new TopicPartition("eos-out", 1));
            c.assign(tps);
            c.seekToBeginning(tps);
            List<String> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            // Read until both partitions are at their end (the stable end under read_committed).
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (System.nanoTime() < deadline && (c.position(tps.get(0)) < end.get(tps.get(0)) || c.position(tps.get(1)) < end.get(tps.get(1)))) {
                c.poll(Duration.ofMillis(100)).forEach(r -> out.add(r.partition() + ":" + r.value()));
            }
            out.sort(null);
            assertEquals(n, out.size(), "committed output " + out);
            return out;
        }
    }

    static List<String> expected(int from, int to) {
        List<String> l = new ArrayList<>();
        for (int i = from; i < to; i++) {
            l.add((i % 2) + ":out-" + i);
        }
        l.sort(null);
        return l;
    }

    @Test
    void consumeTransformProduceExactlyOnce() throws Exception {
        produceInput(0, 10);
        try (KafkaConsumer<String, String> c = consumer("eos-app", "read_committed")) {
            c.subscribe(List.of("eos-in"));
            KafkaProducer<String, String> producer = txnProducer("eos-app-tid");
            producer.initTransactions();
            transform(producer, c, poll(c, 10), true);
            assertEquals(expected(0, 10), committedOutput(10));
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets("eos-app")
                    .partitionsToOffsetAndMetadata().get();
            assertEquals(5, committed.get(new TopicPartition("eos-in", 0)).offset());
            assertEquals(5, committed.get(new TopicPartition("eos-in", 1)).offset());

            // An aborted round: no output, the offsets stay; the consumer rewinds and redoes it.
            produceInput(10, 14);
            List<ConsumerRecord<String, String>> round = poll(c, 4);
            transform(producer, c, round, false);
            assertEquals(expected(0, 10), committedOutput(10));
            committed = admin.listConsumerGroupOffsets("eos-app").partitionsToOffsetAndMetadata().get();
            assertEquals(5, committed.get(new TopicPartition("eos-in", 0)).offset());
            assertEquals(5, committed.get(new TopicPartition("eos-in", 1)).offset());
            for (TopicPartition tp : c.assignment()) {
                c.seek(tp, committed.get(tp).offset());
            }
            transform(producer, c, poll(c, 4), true);
            assertEquals(expected(0, 14), committedOutput(14));

            // A "crash": a new producer with the same transactional.id fences the old one, whose
            // open transaction is aborted.
            produceInput(14, 16);
            List<ConsumerRecord<String, String>> last = poll(c, 2);
            producer.beginTransaction();
            producer.send(new ProducerRecord<>("eos-out", 0, "zombie", "zombie")).get();
            KafkaProducer<String, String> successor = txnProducer("eos-app-tid");
            successor.initTransactions();
            assertThrows(ProducerFencedException.class, producer::commitTransaction);
            producer.close(Duration.ZERO);
            transform(successor, c, last, true);
            successor.close();
            assertEquals(expected(0, 16), committedOutput(16));
            committed = admin.listConsumerGroupOffsets("eos-app").partitionsToOffsetAndMetadata().get();
            assertEquals(8, committed.get(new TopicPartition("eos-in", 0)).offset());
            assertEquals(8, committed.get(new TopicPartition("eos-in", 1)).offset());
        }
    }
}
