package klamm.v28;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import klamm.Klamm;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The 2.8.x Java client line (kafka-clients 2.8.2, still in service behind Kafka 4's KIP-896
 * floor of 2.1) against Klamm: produce, consume in a group, commit and resume, describe configs.
 */
class Clients28Test {
    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // No initial rebalance delay: Kafka's 3 s would only wait for members that never come.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        admin = klamm.admin();
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
        p.put("acks", "all");
        return p;
    }

    static Properties consumerProps(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("group.id", group);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        return p;
    }

    static List<ConsumerRecord<String, String>> read(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(100)).forEach(out::add);
        }
        assertEquals(n, out.size(), "records read");
        return out;
    }

    static void createTopic(String topic, int partitions, Map<String, String> configs) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs))).all().get();
    }

    @Test
    void produceConsumeInAGroupCommitAndResume() throws Exception {
        String topic = "java28-group";
        String group = "java28-group-g";
        createTopic(topic, 1, Map.of());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < 10; i++) {
                RecordMetadata md = p.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
                assertEquals(i, md.offset());
                assertEquals(0, md.partition());
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> first = read(c, 10);
            for (int i = 0; i < 10; i++) {
                assertEquals(i, first.get(i).offset());
                assertEquals("k" + i, first.get(i).key());
                assertEquals("v" + i, first.get(i).value());
            }
            // Commit only the first four (offset 4 is the next to read).
            c.commitSync(Map.of(tp, new OffsetAndMetadata(4, "java-2.8")));
            OffsetAndMetadata committed = c.committed(Set.of(tp)).get(tp);
            assertNotNull(committed);
            assertEquals(4, committed.offset());
            assertEquals("java-2.8", committed.metadata());
        }
        // A new member of the group resumes at the committed offset.
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> rest = read(c, 6);
            for (int i = 0; i < 6; i++) {
                assertEquals(4 + i, rest.get(i).offset());
                assertEquals("v" + (4 + i), rest.get(i).value());
            }
            c.commitSync();
        }
        Map<TopicPartition, OffsetAndMetadata> offsets =
                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
        assertEquals(10, offsets.get(tp).offset());
    }

    @Test
    void describeConfigsTellsOverridesFromDefaults() throws Exception {
        String topic = "java28-configs";
        createTopic(topic, 2, Map.of("retention.ms", "3600000"));
        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        Config config = admin.describeConfigs(List.of(res)).all().get().get(res);
        ConfigEntry retention = config.get("retention.ms");
        assertEquals("3600000", retention.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, retention.source());
        assertFalse(retention.isDefault());
        assertFalse(retention.isReadOnly());
        ConfigEntry segment = config.get("segment.bytes");
        assertEquals("1073741824", segment.value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, segment.source());
        assertTrue(segment.isDefault());
        TopicDescription d = admin.describeTopics(List.of(topic)).all().get().get(topic);
        assertEquals(2, d.partitions().size());
        // A second create is refused with TOPIC_ALREADY_EXISTS.
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> createTopic(topic, 1, Map.of()));
        assertTrue(e.getCause() instanceof TopicExistsException, e.toString());

        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Config bc = admin.describeConfigs(List.of(broker)).all().get().get(broker);
        ConfigEntry partitions = bc.get("num.partitions");
        assertEquals("1", partitions.value());
        assertTrue(partitions.isReadOnly());
        assertTrue(partitions.isDefault());
    }
}
