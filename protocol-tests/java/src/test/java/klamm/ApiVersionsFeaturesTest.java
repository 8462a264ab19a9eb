package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ApiVersions' KIP-584 features as the Java client reads them (Admin.describeFeatures): the ranges
 * a Kafka 4.1 broker supports and the levels a fresh 4.1 cluster finalizes, except
 * transaction.version, which stops at 1 because Klamm does not serve KIP-890 part 2 (the Java
 * producer bumps the epoch per transaction only when transaction.version >= 2 is finalized).
 */
class ApiVersionsFeaturesTest {
    static Klamm klamm;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start();
    }

    @AfterAll
    static void stop() throws Exception {
        klamm.close();
    }

    static Map<String, String> supported(FeatureMetadata fm) {
        Map<String, String> m = new TreeMap<>();
        fm.supportedFeatures().forEach((k, v) -> m.put(k, v.minVersion() + "-" + v.maxVersion()));
        return m;
    }

    static Map<String, String> finalized(FeatureMetadata fm) {
        Map<String, String> m = new TreeMap<>();
        fm.finalizedFeatures().forEach((k, v) -> m.put(k, v.minVersionLevel() + "-" + v.maxVersionLevel()));
        return m;
    }

    @Test
    void describeFeaturesMatchesKafka41WithoutTransactionsV2() throws Exception {
        try (Admin admin = klamm.admin()) {
            FeatureMetadata fm = admin.describeFeatures().featureMetadata().get();
            assertEquals(Map.of(
                    "metadata.version", "7-27",
                    "kraft.version", "0-1",
                    "transaction.version", "0-1",
                    "group.version", "0-1",
                    "eligible.leader.replicas.version", "0-1",
                    "share.version", "0-1"), supported(fm));
            assertEquals(Map.of(
                    "metadata.version", "27-27",
                    "kraft.version", "1-1",
                    "transaction.version", "1-1",
                    "group.version", "1-1",
                    "eligible.leader.replicas.version", "1-1",
                    // Share groups (KIP-932) are on by default in Klamm (group.share.enable).
                    "share.version", "1-1"), finalized(fm));
            assertTrue(fm.finalizedFeaturesEpoch().isPresent(), "epoch present");
            long epoch = fm.finalizedFeaturesEpoch().get();
            assertTrue(epoch > 0, "epoch " + epoch);
            // The same epoch on a second connection of the same broker run.
            try (Admin again = klamm.admin()) {
                assertEquals(epoch, again.describeFeatures().featureMetadata().get().finalizedFeaturesEpoch().get());
            }
        }
    }

    /**
     * With transaction.version 1 the 4.4 producer keeps its epoch across transactions (TV2 would
     * bump it at every commit): DescribeTransactions shows the epoch InitProducerId gave.
     */
    @Test
    void transactionalProducerKeepsItsEpochAcrossTransactions() throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", klamm.bootstrap());
        p.put("transactional.id", "features-tv1");
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (Admin admin = klamm.admin();
                KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("features-txn", 1, (short) 1)))
                    .all().get();
            producer.initTransactions();
            TransactionDescription first = null;
            for (int i = 0; i < 3; i++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>("features-txn", "k", "v" + i)).get();
                producer.commitTransaction();
                TransactionDescription d = admin.describeTransactions(List.of("features-tv1"))
                        .description("features-tv1").get();
                assertEquals(org.apache.kafka.clients.admin.TransactionState.COMPLETE_COMMIT, d.state());
                if (first == null) {
                    first = d;
                }
                assertEquals(first.producerId(), d.producerId(), "producer id after commit " + i);
                assertEquals(0, d.producerEpoch(), "epoch after commit " + i);
            }
        }
    }
}
