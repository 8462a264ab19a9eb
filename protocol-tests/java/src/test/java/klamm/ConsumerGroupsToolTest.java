package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-consumer-groups (ConsumerGroupCommand of Kafka 4.4.0) against Klamm: --list with
 * --state/--type, --describe (offsets and lag, --members --verbose, --state) of classic groups
 * with and without an active member and of a KIP-848 consumer-protocol group, every
 * --reset-offsets scenario with --dry-run and --execute, --delete and --delete-offsets. Output is
 * checked column by column against the values the group must have.
 */
class ConsumerGroupsToolTest {
    static final String CGC = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    /** 2024-01-01T00:00:00Z: record i of each partition is stamped T0 + i seconds. */
    static final long T0 = 1_704_067_200_000L;
    static final String TOPIC = "cg-t";
    static final String OTHER = "cg-u";
    static final long[] LOG_END = {10, 5};

    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // Kafka's 3 s group.initial.rebalance.delay.ms only delays the first join.
        klamm = Klamm.start("group.initial.rebalance.delay.ms=0");
        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        admin = Admin.create(ap);
        admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1), new NewTopic(OTHER, 1, (short) 1))).all().get();
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.bootstrap());
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
            for (int part = 0; part < 2; part++) {
                for (int i = 0; i < LOG_END[part]; i++) {
                    p.send(new ProducerRecord<>(TOPIC, part, T0 + i * 1000L, "k" + i, "v" + i)).get();
                }
            }
            p.send(new ProducerRecord<>(OTHER, 0, "k", "v")).get();
        }
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close();
        klamm.close();
    }

    static Tools.Result cg(String... args) {
        List<String> a = new ArrayList<>(List.of("--bootstrap-server", klamm.bootstrap()));
        a.addAll(Arrays.asList(args));
        return Tools.run(CGC, a.toArray(String[]::new)).ok();
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

    static Map<TopicPartition, OffsetAndMetadata> offsets(long p0, long p1) {
        return Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(p0), new TopicPartition(TOPIC, 1),
                new OffsetAndMetadata(p1));
    }

    /** The group's committed offsets as partition -> offset, read with Admin. */
    static Map<String, Long> committed(String group) throws Exception {
        Map<String, Long> m = new TreeMap<>();
        admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get()
                .forEach((tp, om) -> m.put(tp.toString(), om.offset()));
        return m;
    }

    static Map<String, Long> expect(long p0, long p1) {
        return new TreeMap<>(Map.of(TOPIC + "-0", p0, TOPIC + "-1", p1));
    }

    /** Commits offsets for a group without joining it (Admin.alterConsumerGroupOffsets): an Empty group. */
    static void commitWithoutJoining(String group, Map<TopicPartition, OffsetAndMetadata> o) throws Exception {
        admin.alterConsumerGroupOffsets(group, o).all().get();
    }

    static final List<String> OFFSETS_HEADER = List.of("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
            "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID");

    @Test
    void describeAndResetOffsetsOfAnInactiveGroup() throws Exception {
        String g = "cg-reset";
        commitWithoutJoining(g, offsets(3, 1));

        Tools.Result r = cg("--describe", "--group", g);
        assertTrue(r.err().contains("\nConsumer group '" + g + "' has no active members.\n"), r.err());
        assertEquals(List.of(OFFSETS_HEADER,
                List.of(g, TOPIC, "0", "3", "10", "7", "-", "-", "-"),
                List.of(g, TOPIC, "1", "1", "5", "4", "-", "-", "-")), table(r.out()));

        List<List<String>> st = table(cg("--describe", "--group", g, "--state").out());
        assertEquals(List.of("GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"), st.get(0));
        assertEquals(List.of(g, klamm.bootstrap(), "(0)", "-", "Empty", "0"), st.get(1));

        // Each scenario: --dry-run prints the new offsets and changes nothing; --execute commits them.
        long[] before = {3, 1};
        String[][] scenarios = {
            {"--to-earliest"}, {"0", "0"},
            {"--to-latest"}, {"10", "5"},
            // T0 + 2 s: the first record at or after it is offset 2 in both partitions.
            {"--to-datetime", "2024-01-01T00:00:02.000"}, {"2", "2"},
            // 2 + 3 on both; partition 1 ends at 5.
            {"--shift-by", "3"}, {"5", "5"},
            {"--to-offset", "4"}, {"4", "4"},
            // Past the log end: clamped to it (Kafka's checkOffsetRange).
            {"--shift-by", "7"}, {"10", "5"},
        };
        for (int i = 0; i < scenarios.length; i += 2) {
            String[] how = scenarios[i];
            long n0 = Long.parseLong(scenarios[i + 1][0]);
            long n1 = Long.parseLong(scenarios[i + 1][1]);
            for (String mode : new String[] {"--dry-run", "--execute"}) {
                List<String> a = new ArrayList<>(List.of("--reset-offsets", "--group", g, "--topic", TOPIC));
                a.addAll(Arrays.asList(how));
                a.add(mode);
                List<List<String>> rows = table(cg(a.toArray(String[]::new)).out());
                rows.subList(1, rows.size()).sort((x, y) -> x.get(2).compareTo(y.get(2)));
                String what = String.join(" ", how) + " " + mode;
                assertEquals(List.of(List.of("GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"),
                        List.of(g, TOPIC, "0", String.valueOf(n0)),
                        List.of(g, TOPIC, "1", String.valueOf(n1))), rows, what);
                if (mode.equals("--dry-run")) {
                    assertEquals(expect(before[0], before[1]), committed(g), what + " changed nothing");
                } else {
                    assertEquals(expect(n0, n1), committed(g), what);
                }
            }
            before = new long[] {n0, n1};
        }

        // One partition only (TOPIC:0): partition 1 keeps its offset.
        cg("--reset-offsets", "--group", g, "--topic", TOPIC + ":0", "--to-offset", "1", "--execute");
        assertEquals(expect(1, 5), committed(g));
    }

    @Test
    void classicGroupWithAnActiveMember() throws Exception {
        String g = "cg-active";
        String member;
        try (GroupMember m = new GroupMember(klamm.bootstrap(), g, "classic", "cg-client", TOPIC, 2, offsets(4, 2))) {
            member = m.awaitMemberId();
            assertTrue(member.startsWith("cg-client-"), member);

            Tools.Result r = cg("--describe", "--group", g);
            assertEquals(List.of(OFFSETS_HEADER,
                    List.of(g, TOPIC, "0", "4", "10", "6", member, "/127.0.0.1", "cg-client"),
                    List.of(g, TOPIC, "1", "2", "5", "3", member, "/127.0.0.1", "cg-client")), table(r.out()));

            // Classic groups carry no member epochs: Kafka prints "-" for them.
            assertEquals(List.of(
                    List.of("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "CURRENT-EPOCH",
                            "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT"),
                    List.of(g, member, "/127.0.0.1", "cg-client", "2", "-", TOPIC + ":0,1", "-", "-")),
                    table(cg("--describe", "--group", g, "--members", "--verbose").out()));
            assertEquals(List.of(
                    List.of("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"),
                    List.of(g, member, "/127.0.0.1", "cg-client", "2")),
                    table(cg("--describe", "--group", g, "--members").out()));
            // The Java consumer's first assignor is range (RangeAssignor, CooperativeStickyAssignor).
            assertEquals(List.of(g, klamm.bootstrap(), "(0)", "range", "Stable", "1"),
                    table(cg("--describe", "--group", g, "--state").out()).get(1));

            assertTrue(table(cg("--list", "--state", "Stable").out()).contains(List.of(g, "Stable")));
            assertTrue(table(cg("--list", "--type", "classic").out()).contains(List.of(g, "Classic")));
            assertTrue(table(cg("--list", "--state", "Empty").out()).stream().noneMatch(row -> row.get(0).equals(g)));

            // A live group can neither be deleted nor reset (exact tool text).
            assertEquals("\nError: Deletion of some consumer groups failed:\n* Group '" + g
                    + "' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: "
                    + "The group is not empty.\n", cg("--delete", "--group", g).out());
            // The tool then prints the (empty) table of offsets it reset: its header only.
            List<String> lines = cg("--reset-offsets", "--group", g, "--topic", TOPIC, "--to-earliest", "--execute")
                    .out().lines().filter(l -> !l.isBlank()).map(String::strip).toList();
            assertEquals(List.of("Error: Assignments can only be reset if the group '" + g
                    + "' is inactive, but the current state is Stable.",
                    "GROUP           TOPIC           PARTITION  NEW-OFFSET"), lines);
            assertEquals(expect(4, 2), committed(g));
        }
        // Closed: the member left, the group is Empty with its offsets, and can be deleted.
        Klamm.waitUntil(java.time.Duration.ofSeconds(10), "the member to leave",
                () -> cg("--describe", "--group", g, "--state").out().contains("Empty"));
        Tools.Result r = cg("--describe", "--group", g);
        assertEquals(List.of(OFFSETS_HEADER,
                List.of(g, TOPIC, "0", "4", "10", "6", "-", "-", "-"),
                List.of(g, TOPIC, "1", "2", "5", "3", "-", "-", "-")), table(r.out()));
        assertEquals("Deletion of requested consumer groups ('" + g + "') was successful.\n",
                cg("--delete", "--group", g).out());
        assertTrue(table(cg("--list").out()).stream().noneMatch(row -> row.get(0).equals(g)));
        assertEquals(Map.of(), committed(g));
        // A deleted group does not exist: DescribeGroups v6 answers GROUP_ID_NOT_FOUND (KIP-1043),
        // which the 4.x tool prints as the failure of the command.
        assertEquals("\nError: Executing consumer group command failed due to "
                + "org.apache.kafka.common.errors.GroupIdNotFoundException: Group " + g + " not found.\n",
                cg("--describe", "--group", g).out());
    }

    @Test
    void deleteOffsetsOfOneTopic() throws Exception {
        String g = "cg-delete-offsets";
        commitWithoutJoining(g, Map.of(new TopicPartition(TOPIC, 0), new OffsetAndMetadata(6),
                new TopicPartition(OTHER, 0), new OffsetAndMetadata(1)));
        Tools.Result r = cg("--delete-offsets", "--group", g, "--topic", OTHER);
        assertEquals("Request succeeded for deleting offsets from group " + g + ".", r.out().lines().findFirst().orElse(""));
        assertEquals(List.of(List.of("Request", "succeeded", "for", "deleting", "offsets", "from", "group", g + "."),
                List.of("TOPIC", "PARTITION", "STATUS"), List.of(OTHER, "0", "Successful")), table(r.out()));
        assertEquals(Map.of(TOPIC + "-0", 6L), committed(g));
    }

    @Test
    void consumerProtocolGroup() throws Exception {
        String g = "cg-848";
        try (GroupMember m = new GroupMember(klamm.bootstrap(), g, "consumer", "cg848", TOPIC, 2, offsets(7, 3))) {
            String member = m.awaitMemberId();
            // KIP-848 member ids are generated by the client: a base64 UUID (22 characters).
            assertTrue(member.matches("[A-Za-z0-9_-]{22}"), member);

            assertEquals(List.of(OFFSETS_HEADER,
                    List.of(g, TOPIC, "0", "7", "10", "3", member, "/127.0.0.1", "cg848"),
                    List.of(g, TOPIC, "1", "3", "5", "2", member, "/127.0.0.1", "cg848")),
                    table(cg("--describe", "--group", g).out()));

            // One member joined a new group: group epoch 1, target assignment epoch 1, and the
            // member reconciled to it (current = target, epoch 1). uniform is Kafka's default
            // server-side assignor (group.consumer.assignors).
            Klamm.waitUntil(java.time.Duration.ofSeconds(15), "the group to be Stable",
                    () -> cg("--describe", "--group", g, "--state").out().contains("Stable"));
            assertEquals(List.of(
                    List.of("GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "GROUP-EPOCH",
                            "TARGET-ASSIGNMENT-EPOCH", "#MEMBERS"),
                    List.of(g, klamm.bootstrap(), "(0)", "uniform", "Stable", "1", "1", "1")),
                    table(cg("--describe", "--group", g, "--state", "--verbose").out()));
            assertEquals(List.of(
                    List.of("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "CURRENT-EPOCH",
                            "CURRENT-ASSIGNMENT", "TARGET-EPOCH", "TARGET-ASSIGNMENT"),
                    List.of(g, member, "/127.0.0.1", "cg848", "2", "1", TOPIC + ":0,1", "1", TOPIC + ":0,1")),
                    table(cg("--describe", "--group", g, "--members", "--verbose").out()));

            List<List<String>> listed = table(cg("--list", "--type", "consumer", "--state").out());
            assertEquals(List.of("GROUP", "TYPE", "STATE"), listed.get(0));
            assertEquals(List.of(List.of(g, "Consumer", "Stable")), listed.subList(1, listed.size()));
        }
        Klamm.waitUntil(java.time.Duration.ofSeconds(10), "the member to leave",
                () -> cg("--describe", "--group", g, "--state").out().contains("Empty"));
        assertEquals(List.of(g, klamm.bootstrap(), "(0)", "uniform", "Empty", "0"),
                table(cg("--describe", "--group", g, "--state").out()).get(1));
    }
}
