package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-topics (Kafka 4.4.0's TopicCommand) against Klamm: every line it prints, and the error
 * text it prints for Kafka's error codes. Each test names its own topics (or a regex over them),
 * so the tests do not depend on each other.
 */
class TopicsToolTest {
    static final String TOPICS = "org.apache.kafka.tools.TopicCommand";
    static final String ERROR = "Error while executing topic command : ";

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

    static Tools.Result topics(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = klamm.bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        return Tools.run(TOPICS, all);
    }

    static String topicId(String topic) throws Exception {
        return admin.describeTopics(List.of(topic)).allTopicNames().get(10, TimeUnit.SECONDS).get(topic).topicId()
                .toString();
    }

    /** The partition line of --describe on a single broker (node 0 leads, replicates, is the ISR). */
    static String partitionLine(String topic, int p) {
        return "\tTopic: " + topic + "\tPartition: " + p + "\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n";
    }

    static void assertFails(String message, Tools.Result r) {
        assertEquals(1, r.exitCode(), r.out() + r.err());
        assertEquals(ERROR + message + "\n", r.out());
    }

    @Test
    void createDescribeAndOverrides() throws Exception {
        Tools.Result created = topics("--create", "--topic", "orders", "--partitions", "3", "--replication-factor", "1",
                "--config", "retention.ms=86400000", "--config", "cleanup.policy=compact").ok();
        assertEquals("Created topic orders.\n", created.out());
        String id = topicId("orders");
        String header = "Topic: orders\tTopicId: " + id + "\tPartitionCount: 3\tReplicationFactor: 1\t"
                + "Configs: cleanup.policy=compact,retention.ms=86400000\n";
        assertEquals(header + partitionLine("orders", 0) + partitionLine("orders", 1) + partitionLine("orders", 2),
                topics("--describe", "--topic", "orders").ok().out());

        // --topics-with-overrides prints only the topic line, and only for topics with overrides.
        topics("--create", "--topic", "orders-plain", "--partitions", "1").ok();
        assertEquals(header, topics("--describe", "--topics-with-overrides", "--topic", "orders.*").ok().out());
        assertEquals("Topic: orders-plain\tTopicId: " + topicId("orders-plain")
                        + "\tPartitionCount: 1\tReplicationFactor: 1\tConfigs: \n" + partitionLine("orders-plain", 0),
                topics("--describe", "--topic", "orders-plain").ok().out());
        assertEquals("orders\norders-plain\n", topics("--list", "--topic", "orders.*").ok().out());
    }

    /** The messages of Kafka's controller (and of the tool's own checks) for refused creations. */
    @Test
    void createRefusals() throws Exception {
        topics("--create", "--topic", "taken", "--partitions", "1").ok();
        assertFails("Topic 'taken' already exists.", topics("--create", "--topic", "taken", "--partitions", "1"));
        // --if-not-exists turns TOPIC_ALREADY_EXISTS into success, printing nothing.
        assertEquals("", topics("--create", "--topic", "taken", "--if-not-exists").ok().out());
        assertFails("Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be "
                + "reached because only 1 broker(s) are registered.",
                topics("--create", "--topic", "rf3", "--partitions", "1", "--replication-factor", "3"));
        assertFails("Tiered Storage functionality is disabled in the broker. Topic cannot be configured with "
                + "remote log storage.", topics("--create", "--topic", "tiered", "--config", "remote.storage.enable=true"));
        assertFails("Excessively large number of partitions per request.",
                topics("--create", "--topic", "huge", "--partitions", "10001"));
        // Answered by the broker with Kafka 4.1's Topic.validate text (the differential tests
        // compare it with Kafka's own answer).
        assertFails("Topic name is invalid: 'bad/name' contains one or more characters other than ASCII "
                + "alphanumerics, '.', '_' and '-'", topics("--create", "--topic", "bad/name"));
        assertFails("Invalid value abc for configuration retention.ms: Not a number of type LONG",
                topics("--create", "--topic", "badcfg", "--config", "retention.ms=abc"));
        // Nothing refused was created.
        assertEquals(List.of(), admin.listTopics().names().get(10, TimeUnit.SECONDS).stream()
                .filter(t -> List.of("rf3", "tiered", "huge", "bad/name", "badcfg").contains(t)).toList());
    }

    @Test
    void alterPartitions() throws Exception {
        topics("--create", "--topic", "grow", "--partitions", "1").ok();
        assertEquals("", topics("--alter", "--topic", "grow", "--partitions", "4").ok().out());
        assertEquals("Topic: grow\tTopicId: " + topicId("grow") + "\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: \n"
                        + partitionLine("grow", 0) + partitionLine("grow", 1) + partitionLine("grow", 2)
                        + partitionLine("grow", 3),
                topics("--describe", "--topic", "grow").ok().out());
        assertFails("The topic grow currently has 4 partition(s); 2 would not be an increase.",
                topics("--alter", "--topic", "grow", "--partitions", "2"));
        assertFails("Topic already has 4 partition(s).", topics("--alter", "--topic", "grow", "--partitions", "4"));
        assertFails("Topic 'absent' does not exist as expected", topics("--alter", "--topic", "absent", "--partitions", "2"));
    }

    @Test
    void delete() throws Exception {
        topics("--create", "--topic", "doomed", "--partitions", "2").ok();
        assertEquals("doomed\n", topics("--list", "--topic", "doomed").ok().out());
        assertEquals("", topics("--delete", "--topic", "doomed").ok().out());
        // --list prints its names joined by newlines, so no name is one empty line.
        assertEquals("\n", topics("--list", "--topic", "doomed").ok().out());
        assertFails("Topic 'doomed' does not exist as expected", topics("--describe", "--topic", "doomed"));
        assertFails("Topic 'doomed' does not exist as expected", topics("--delete", "--topic", "doomed"));
        assertEquals("", topics("--delete", "--topic", "doomed", "--if-exists").ok().out());
    }

    /**
     * The health filters of --describe: on one healthy broker nothing is under-replicated or
     * unavailable; with min.insync.replicas 1 every partition is at its minimum ISR, with 2 under it.
     */
    @Test
    void describeHealthFilters() throws Exception {
        topics("--create", "--topic", "health-a", "--partitions", "2").ok();
        topics("--create", "--topic", "health-b", "--partitions", "1", "--config", "min.insync.replicas=2").ok();
        assertEquals("", topics("--describe", "--under-replicated-partitions").ok().out());
        assertEquals("", topics("--describe", "--unavailable-partitions").ok().out());
        assertEquals(partitionLine("health-a", 0) + partitionLine("health-a", 1),
                topics("--describe", "--at-min-isr-partitions", "--topic", "health-.*").ok().out());
        assertEquals(partitionLine("health-b", 0),
                topics("--describe", "--under-min-isr-partitions", "--topic", "health-.*").ok().out());
    }
}
