package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.ShareMemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-share-groups (ShareGroupCommand of Kafka 4.4.0) against Klamm: --list (with --state),
 * --describe --members (with --verbose) and --describe --state (with --verbose) of a share
 * group with a KafkaShareConsumer member and after it left, --describe of an unknown group;
 * --describe --offsets (DescribeShareGroupOffsets, API 90), --reset-offsets --dry-run/--execute
 * (AlterShareGroupOffsets, 91), --delete-offsets (DeleteShareGroupOffsets, 92) and --delete
 * (DeleteGroups) of an Empty group. Output is checked column by column.
 *
 * <p>Like ConsumerGroupsToolTest, with ShareConsumerTest's broker settings (members heartbeat
 * every half second). -Dshare.oracle.bootstrap=HOST:PORT runs it against a running broker.
 */
class ShareGroupsToolTest {
    static final String SGC = "org.apache.kafka.tools.consumer.group.ShareGroupCommand";
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    static Klamm klamm;
    static String bootstrap;
    static Admin admin;
    static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        bootstrap = ShareConsumerTest.oracleBootstrap();
        if (bootstrap == null) {
            klamm = Klamm.start(ShareConsumerTest.OVERRIDES);
            bootstrap = klamm.bootstrap();
        }
        admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
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

    static String unique(String prefix) {
        return prefix + "-" + SEQ.incrementAndGet() + "-" + System.nanoTime() % 1_000_000;
    }

    /** ShareGroupCommand prints its errors ("Error: ...") to stdout and still exits 0. */
    static Tools.Result sg(String... args) {
        List<String> a = new ArrayList<>(List.of("--bootstrap-server", bootstrap));
        a.addAll(Arrays.asList(args));
        return Tools.run(SGC, a.toArray(String[]::new)).ok();
    }

    /** Non-blank lines of a table split on runs of blanks (no value here contains one). */
    static List<List<String>> table(String out) {
        List<List<String>> rows = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank()) {
                rows.add(List.of(line.trim().split("\\s+")));
            }
        }
        return rows;
    }

    /** The header row, then the other rows sorted (the tool prints partitions in hash order). */
    static List<List<String>> sortedTable(String out) {
        List<List<String>> rows = table(out);
        if (rows.size() > 1) {
            rows.subList(1, rows.size()).sort((x, y) -> String.join(" ", x).compareTo(String.join(" ", y)));
        }
        return rows;
    }

    /** A topic with `counts[p]` records in partition p, each produced as its own batch. */
    static String topicWith(String prefix, int... counts) throws Exception {
        String topic = unique(prefix);
        admin.createTopics(List.of(new NewTopic(topic, counts.length, (short) 1))).all().get();
        produce(topic, counts);
        return topic;
    }

    static void produce(String topic, int... counts) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        try (KafkaProducer<String, String> pr = new KafkaProducer<>(p)) {
            for (int part = 0; part < counts.length; part++) {
                for (int i = 0; i < counts[part]; i++) {
                    pr.send(new ProducerRecord<>(topic, part, null, "p" + part + "-" + i)).get();
                }
            }
        }
    }

    /** n records to partition 0 in one batch (linger.ms: sent together, flushed at close). */
    static void produceOneBatch(String topic, int first, int n) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        p.put("linger.ms", "60000");
        try (KafkaProducer<String, String> pr = new KafkaProducer<>(p)) {
            for (int i = first; i < first + n; i++) {
                pr.send(new ProducerRecord<>(topic, 0, null, "p0-" + i));
            }
        }
    }

    static String earliestGroup(String prefix) throws Exception {
        String group = unique(prefix);
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group),
                List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                        AlterConfigOp.OpType.SET)))).all().get();
        return group;
    }

    static KafkaShareConsumer<String, String> member(String group, String topic, String clientId) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("client.id", clientId);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(p);
        c.subscribe(List.of(topic));
        return c;
    }

    /** Polls until n records have come (implicit mode: each poll accepts the previous poll's). */
    static List<ConsumerRecord<String, String>> pollUntil(KafkaShareConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (got.size() < n) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("got only " + got);
            }
            c.poll(Duration.ofMillis(100)).forEach(got::add);
        }
        return got;
    }

    /** Polls for a while more: the acknowledgements of the last records ride on these fetches. */
    static void pollNothing(KafkaShareConsumer<String, String> c, Duration d) {
        long deadline = System.nanoTime() + d.toNanos();
        while (System.nanoTime() < deadline) {
            int n = c.poll(Duration.ofMillis(100)).count();
            assertEquals(0, n, "no more records");
        }
    }

    static ShareGroupDescription describe(String group) throws Exception {
        return admin.describeShareGroups(List.of(group)).all().get().get(group);
    }

    static void waitEmpty(String group) throws InterruptedException {
        Klamm.waitUntil(TIMEOUT, group + " to be Empty", () -> {
            try {
                ShareGroupDescription d = describe(group);
                return d.groupState() == GroupState.EMPTY && d.members().isEmpty();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    static List<String> stateRow(String group, String state) {
        return List.of(group, bootstrap, "(0)", state);
    }

    @Test
    void listAndDescribeMembersAndStateOfAShareGroup() throws Exception {
        String topic = topicWith("sg-active", 3, 2);
        String group = earliestGroup("sg-active-g");
        KafkaShareConsumer<String, String> c = member(group, topic, "sg-member");
        try {
            assertEquals(5, pollUntil(c, 5).size());
            Klamm.waitUntil(TIMEOUT, "the member's assignment of both partitions", () -> {
                try {
                    ShareGroupDescription d = describe(group);
                    return d.members().size() == 1
                            && d.members().iterator().next().assignment().topicPartitions().size() == 2;
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            ShareGroupDescription d = describe(group);
            ShareMemberDescription m = d.members().iterator().next();

            assertTrue(sg("--list").out().lines().anyMatch(group::equals));
            List<List<String>> listed = table(sg("--list", "--state").out());
            assertEquals(List.of("GROUP", "STATE"), listed.get(0));
            assertTrue(listed.contains(List.of(group, "Stable")), listed.toString());

            assertEquals(List.of(
                    List.of("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"),
                    List.of(group, m.consumerId(), "/127.0.0.1", "sg-member", "2", topic + ":0,1")),
                    table(sg("--describe", "--group", group, "--members").out()));
            assertEquals(List.of(
                    List.of("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "MEMBER-EPOCH", "ASSIGNMENT"),
                    List.of(group, m.consumerId(), "/127.0.0.1", "sg-member", "2", Integer.toString(m.memberEpoch()),
                            topic + ":0,1")),
                    table(sg("--describe", "--group", group, "--members", "--verbose").out()));

            List<String> stable = new ArrayList<>(stateRow(group, "Stable"));
            stable.add("1");
            assertEquals(List.of(List.of("GROUP", "COORDINATOR", "(ID)", "STATE", "#MEMBERS"), stable),
                    table(sg("--describe", "--group", group, "--state").out()));
            List<String> verbose = new ArrayList<>(stateRow(group, "Stable"));
            verbose.addAll(List.of(Integer.toString(d.groupEpoch()), Integer.toString(d.targetAssignmentEpoch()), "1"));
            assertEquals(List.of(List.of("GROUP", "COORDINATOR", "(ID)", "STATE", "GROUP-EPOCH", "ASSIGNMENT-EPOCH",
                    "#MEMBERS"), verbose), table(sg("--describe", "--group", group, "--state", "--verbose").out()));
        } finally {
            c.close();
        }

        // The member has left: Empty, no members.
        waitEmpty(group);
        Tools.Result st = sg("--describe", "--group", group, "--state");
        List<String> empty = new ArrayList<>(stateRow(group, "Empty"));
        empty.add("0");
        assertEquals(List.of(List.of("GROUP", "COORDINATOR", "(ID)", "STATE", "#MEMBERS"), empty), table(st.out()));
        assertTrue(st.err().contains("Share group '" + group + "' has no active members."), st.err());
        Tools.Result mem = sg("--describe", "--group", group, "--members");
        assertEquals(List.of(), table(mem.out()));
        assertTrue(mem.err().contains("Share group '" + group + "' has no active members."), mem.err());
        assertTrue(table(sg("--list", "--state").out()).contains(List.of(group, "Empty")));
    }

    @Test
    void describeOfAnUnknownGroup() {
        String group = unique("sg-none");
        for (String[] how : new String[][] {{"--state"}, {"--members"}, {"--offsets"}}) {
            List<String> a = new ArrayList<>(List.of("--describe", "--group", group));
            a.addAll(Arrays.asList(how));
            Tools.Result r = sg(a.toArray(String[]::new));
            // ShareGroupDescribe answers GROUP_ID_NOT_FOUND (69) for the group.
            assertEquals("\nError: Executing share group command failed due to "
                    + "org.apache.kafka.common.errors.GroupIdNotFoundException: Group " + group + " not found.\n",
                    r.out(), String.join(" ", a));
        }
    }

    /**
     * --describe --offsets: DescribeShareGroupOffsets (API 90), each partition's share-partition
     * start offset as the share coordinator holds it. Kafka writes the start offset with each
     * state write, at its value before that write's acknowledgements move it (SharePartition
     * writes startOffset() before maybeUpdateCachedStateAndOffsets): after 3 records accepted,
     * then 2 more, the coordinator holds 3, not 5. Each round is one batch, so one ShareFetch
     * acquires it and one write acknowledges it. LAG is "-": 4.1's response (v0) has no lag.
     */
    @Test
    void describeOffsetsOfAGroupThatConsumed() throws Exception {
        String topic = topicWith("sg-off", 0);
        produceOneBatch(topic, 0, 3);
        String group = earliestGroup("sg-off-g");
        KafkaShareConsumer<String, String> c = member(group, topic, "sg-off-member");
        try {
            assertEquals(3, pollUntil(c, 3).size());
            pollNothing(c, Duration.ofSeconds(1));
            produceOneBatch(topic, 3, 2);
            assertEquals(List.of(3L, 4L), pollUntil(c, 2).stream().map(ConsumerRecord::offset).toList());
            pollNothing(c, Duration.ofSeconds(1));
            assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "START-OFFSET", "LAG"),
                    List.of(group, topic, "0", "3", "-")), table(sg("--describe", "--group", group).out()));
        } finally {
            c.close();
        }
        waitEmpty(group);
        assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "START-OFFSET", "LAG"),
                List.of(group, topic, "0", "3", "-")), table(sg("--describe", "--group", group, "--offsets").out()));
        assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "LEADER-EPOCH", "START-OFFSET", "LAG"),
                List.of(group, topic, "0", "0", "3", "-")),
                table(sg("--describe", "--group", group, "--offsets", "--verbose").out()));
    }

    /**
     * --reset-offsets on an Empty group: the tool computes the new offsets itself (ListOffsets)
     * and --execute sends them with AlterShareGroupOffsets (API 91); the group's share partitions
     * then start there (the share coordinator's InitializeShareGroupState writes a fresh
     * snapshot), so a new member gets the records from there on with delivery count 1.
     *
     * <p>Apache Kafka 4.1.2 fails this one: its KafkaApis.handleAlterShareGroupOffsetsRequest
     * adds each request topic to a second ImplicitLinkedHashCollection while it is still in the
     * request's, which add() refuses, so no topic reaches the group coordinator and the answer is
     * an empty success (ErrorCode 0, no Responses): the offsets stay where they were.
     */
    @Test
    void resetOffsetsOfAnEmptyGroup() throws Exception {
        String topic = topicWith("sg-reset", 4, 3);
        String group = earliestGroup("sg-reset-g");
        KafkaShareConsumer<String, String> c = member(group, topic, "sg-reset-member");
        try {
            assertEquals(7, pollUntil(c, 7).size());
            pollNothing(c, Duration.ofSeconds(1));
        } finally {
            c.close();
        }
        waitEmpty(group);
        List<String> header = List.of("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET");

        for (String mode : new String[] {"--dry-run", "--execute"}) {
            assertEquals(List.of(header, List.of(group, topic, "0", "0"), List.of(group, topic, "1", "0")),
                    sortedTable(sg("--reset-offsets", "--group", group, "--topic", topic, "--to-earliest", mode).out()),
                    mode);
        }
        assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "START-OFFSET", "LAG"),
                List.of(group, topic, "0", "0", "-"), List.of(group, topic, "1", "0", "-")),
                sortedTable(sg("--describe", "--group", group, "--offsets").out()));

        assertEquals(List.of(header, List.of(group, topic, "0", "2")),
                sortedTable(sg("--reset-offsets", "--group", group, "--topic", topic + ":0", "--to-offset", "2",
                        "--execute").out()));
        assertEquals(List.of(header, List.of(group, topic, "1", "3")),
                sortedTable(sg("--reset-offsets", "--group", group, "--topic", topic + ":1", "--to-latest",
                        "--execute").out()));
        assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "START-OFFSET", "LAG"),
                List.of(group, topic, "0", "2", "-"), List.of(group, topic, "1", "3", "-")),
                sortedTable(sg("--describe", "--group", group, "--offsets").out()));

        // A new member gets partition 0 from offset 2, delivery count 1, and nothing of partition 1.
        KafkaShareConsumer<String, String> d = member(group, topic, "sg-reset-after");
        try {
            List<String> got = pollUntil(d, 2).stream()
                    .map(r -> r.partition() + ":" + r.offset() + ":" + r.value() + ":" + r.deliveryCount().get())
                    .sorted().toList();
            assertEquals(List.of("0:2:p0-2:1", "0:3:p0-3:1"), got);
            pollNothing(d, Duration.ofSeconds(1));
        } finally {
            d.close();
        }
    }

    /** --reset-offsets of a group with a member is refused. */
    @Test
    void resetOffsetsOfAnActiveGroupIsRefused() throws Exception {
        String topic = topicWith("sg-busy", 2);
        String group = earliestGroup("sg-busy-g");
        KafkaShareConsumer<String, String> c = member(group, topic, "sg-busy-member");
        try {
            assertEquals(2, pollUntil(c, 2).size());
            // The tool checks the group's state (ShareGroupDescribe) itself and exits 1.
            Tools.Result r = Tools.run(SGC, "--bootstrap-server", bootstrap, "--reset-offsets", "--group", group,
                    "--topic", topic, "--to-earliest", "--execute");
            assertEquals(1, r.exitCode(), r.out() + r.err());
            assertEquals("\nError: Executing share group command failed due to Share group '" + group
                    + "' is not empty.\n", r.out());
        } finally {
            c.close();
        }
    }

    /**
     * --delete-offsets (DeleteShareGroupOffsets, API 92) on an Empty group removes the topic's
     * share-partition state; a second time there is none (UNKNOWN_TOPIC_OR_PARTITION per
     * topic); --delete (DeleteGroups) then removes the group, and a second --delete fails with
     * GROUP_ID_NOT_FOUND.
     */
    @Test
    void deleteOffsetsAndDeleteAnEmptyGroup() throws Exception {
        String topic = topicWith("sg-del", 2);
        String group = earliestGroup("sg-del-g");
        KafkaShareConsumer<String, String> c = member(group, topic, "sg-del-member");
        try {
            assertEquals(2, pollUntil(c, 2).size());
            pollNothing(c, Duration.ofSeconds(1));
        } finally {
            c.close();
        }
        waitEmpty(group);

        assertEquals(List.of(List.of("TOPIC", "STATUS"), List.of(topic, "Successful")),
                table(sg("--delete-offsets", "--group", group, "--topic", topic).out()));
        Tools.Result none = sg("--describe", "--group", group, "--offsets");
        assertEquals("\nShare group '" + group + "' has no offset information.\n", none.out());
        assertEquals(List.of(List.of("TOPIC", "STATUS"),
                List.of(topic, "Error:", "There", "is", "no", "offset", "information", "to", "delete.")),
                table(sg("--delete-offsets", "--group", group, "--topic", topic).out()));

        assertEquals("Deletion of requested share groups ('" + group + "') was successful.\n",
                sg("--delete", "--group", group).out());
        assertFalse(sg("--list").out().lines().anyMatch(group::equals));
        assertEquals("\nError: Deletion of some share groups failed:\n* Group '" + group
                        + "' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: "
                        + "Group '" + group + "' is not a share group.\n",
                sg("--delete", "--group", group).out());
    }
}
