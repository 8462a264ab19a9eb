package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.ShareMemberDescription;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Share groups (KIP-932) with Kafka 4.4.0's KafkaShareConsumer against Klamm: the records of one
 * partition handed out to several members, each record to one member at a time under an
 * acquisition lock; implicit and explicit acknowledgement (ACCEPT, RELEASE, REJECT, commitSync);
 * the delivery count on each record; group.share.delivery.count.limit (5) archiving a record
 * released again and again; a member that closes releasing what it holds; the group's
 * share.record.lock.duration.ms and share.auto.offset.reset set with IncrementalAlterConfigs on
 * the GROUP resource; Admin.listGroups (type SHARE) and Admin.describeShareGroups.
 *
 * <p>The Java twin of protocol-tests/clients/test_share_groups.py, with the same broker settings.
 */
class ShareConsumerTest {
    /**
     * Kafka's lower bounds lowered (Kafka's names; Klamm takes the same, see KLAMM_OVERRIDES in
     * test_share_groups.py): members heartbeat, and so get their assignment, every half second
     * instead of every 5 s, and a group may set a 1 s record lock (Kafka's minimum is 15 s).
     */
    static final String[] OVERRIDES = {
        "group.share.min.record.lock.duration.ms=1000",
        "group.share.min.heartbeat.interval.ms=100",
        "group.share.heartbeat.interval.ms=500",
        "group.share.min.session.timeout.ms=1000",
        "group.share.session.timeout.ms=3000",
    };
    static final int LOCK_MS = 1000;
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    static Klamm klamm;
    static String bootstrap;
    static Admin admin;
    static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        bootstrap = oracleBootstrap();
        if (bootstrap == null) {
            klamm = Klamm.start(OVERRIDES);
            bootstrap = klamm.bootstrap();
        }
        admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
    }

    /**
     * -Dshare.oracle.bootstrap=HOST:PORT runs the class against a broker already running there
     * instead of a Klamm it starts: the Apache Kafka 4.1 oracle (target/kafka/kafka.classpath,
     * formatted with --feature share.version=1 and started with {@link #OVERRIDES}), to compare.
     */
    static String oracleBootstrap() {
        String b = System.getProperty("share.oracle.bootstrap", "");
        return b.isEmpty() ? null : b;
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

    /** (offset, value, delivery count) of one delivered record. */
    record Rec(long offset, String value, int deliveryCount) {
        static Rec of(ConsumerRecord<String, String> r) {
            Optional<Short> dc = r.deliveryCount();
            assertTrue(dc.isPresent(), "a share consumer's record has a delivery count: " + r);
            return new Rec(r.offset(), r.value(), dc.get());
        }
    }

    static String unique(String prefix) {
        return prefix + "-" + SEQ.incrementAndGet() + "-" + System.nanoTime() % 1_000_000;
    }

    static void createTopic(String topic) throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    }

    /** IncrementalAlterConfigs SET on the GROUP resource (config resource type 32). */
    static void setGroupConfig(String group, String... kv) throws Exception {
        List<AlterConfigOp> ops = new ArrayList<>();
        for (int i = 0; i < kv.length; i += 2) {
            ops.add(new AlterConfigOp(new ConfigEntry(kv[i], kv[i + 1]), AlterConfigOp.OpType.SET));
        }
        admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, group), ops)).all().get();
    }

    /** Produces values to partition 0 with acks=all; with oneBatchEach every record is its own batch. */
    static void produce(String topic, List<String> values, boolean oneBatchEach) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        p.put("acks", "all");
        p.put("linger.ms", oneBatchEach ? "0" : "50");
        try (KafkaProducer<String, String> pr = new KafkaProducer<>(p)) {
            List<java.util.concurrent.Future<?>> fs = new ArrayList<>();
            for (String v : values) {
                java.util.concurrent.Future<?> f = pr.send(new ProducerRecord<>(topic, 0, null, v));
                if (oneBatchEach) {
                    f.get();
                } else {
                    fs.add(f);
                }
            }
            for (java.util.concurrent.Future<?> f : fs) {
                f.get();
            }
        }
    }

    static List<String> values(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(prefix + "-" + i);
        }
        return out;
    }

    static KafkaShareConsumer<String, String> consumer(String group, String topic, String... extra) {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("client.id", unique("share-client"));
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        for (int i = 0; i < extra.length; i += 2) {
            p.put(extra[i], extra[i + 1]);
        }
        KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(p);
        c.subscribe(List.of(topic));
        return c;
    }

    interface Ack {
        void on(int consumer, KafkaShareConsumer<String, String> c, List<ConsumerRecord<String, String>> polled);
    }

    /**
     * Polls each consumer in turn (100 ms each), returning what each got. Stops when {@code until}
     * holds (failing if it never does within {@code within}), or after {@code within} when
     * {@code until} is null. {@code ack} sees every non-empty poll (explicit mode acknowledges there).
     */
    static List<List<Rec>> poll(List<KafkaShareConsumer<String, String>> cs, Predicate<List<List<Rec>>> until,
            Duration within, Ack ack) {
        List<List<Rec>> out = new ArrayList<>();
        cs.forEach(c -> out.add(new ArrayList<>()));
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            for (int i = 0; i < cs.size(); i++) {
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                cs.get(i).poll(Duration.ofMillis(100)).forEach(got::add);
                for (ConsumerRecord<String, String> r : got) {
                    assertEquals(0, r.partition());
                    out.get(i).add(Rec.of(r));
                }
                if (!got.isEmpty() && ack != null) {
                    ack.on(i, cs.get(i), got);
                }
            }
            if (until != null && until.test(out)) {
                return out;
            }
        }
        if (until != null) {
            throw new AssertionError("timed out after " + within + ": got " + out);
        }
        return out;
    }

    static Predicate<List<List<Rec>>> total(int n) {
        return out -> out.stream().mapToInt(List::size).sum() >= n;
    }

    static List<Rec> firstDeliveries(String prefix, int n) {
        List<Rec> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new Rec(i, prefix + "-" + i, 1));
        }
        return out;
    }

    /** commitSync sends the acknowledgements; every partition must report no error. */
    static void commit(KafkaShareConsumer<String, String> c) {
        Map<TopicIdPartition, Optional<KafkaException>> r = c.commitSync(TIMEOUT);
        assertFalse(r.isEmpty(), "commitSync had acknowledgements to send");
        r.forEach((tp, e) -> assertTrue(e.isEmpty(), tp + ": " + e));
    }

    static void closeAll(Collection<KafkaShareConsumer<String, String>> cs) {
        for (KafkaShareConsumer<String, String> c : cs) {
            c.close(Duration.ofSeconds(10));
        }
    }

    @Test
    void latestIsTheDefaultAutoOffsetReset() throws Exception {
        String topic = unique("sc-latest");
        String group = unique("sc-latest-g");
        createTopic(topic);
        produce(topic, values("before", 3), false);
        KafkaShareConsumer<String, String> c = consumer(group, topic);
        try {
            // share.auto.offset.reset=latest: the share partition starts at the log end when first fetched.
            assertEquals(List.of(List.of()), poll(List.of(c), null, Duration.ofSeconds(4), null));
            produce(topic, values("after", 3), false);
            assertEquals(List.of(List.of(new Rec(3, "after-0", 1), new Rec(4, "after-1", 1), new Rec(5, "after-2", 1))),
                    poll(List.of(c), total(3), TIMEOUT, null));
        } finally {
            c.close();
        }
    }

    @Test
    void implicitModeAcceptsEverythingOnceAndALaterMemberGetsNothing() throws Exception {
        String topic = unique("sc-once");
        String group = unique("sc-once-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        int n = 50;
        produce(topic, values("v", n), false);
        KafkaShareConsumer<String, String> a = consumer(group, topic);
        KafkaShareConsumer<String, String> b = null;
        try {
            assertEquals(List.of(firstDeliveries("v", n)), poll(List.of(a), total(n), TIMEOUT, null));
            // Implicit acknowledgement: the next poll accepts the previous poll's records.
            assertEquals(List.of(List.of()), poll(List.of(a), null, Duration.ofSeconds(1), null));
            b = consumer(group, topic);
            assertEquals(List.of(List.of(), List.of()), poll(List.of(a, b), null, Duration.ofSeconds(3), null));
            produce(topic, List.of("late"), false);
            List<List<Rec>> late = poll(List.of(a, b), total(1), TIMEOUT, null);
            List<Rec> all = new ArrayList<>(late.get(0));
            all.addAll(late.get(1));
            assertEquals(List.of(new Rec(n, "late", 1)), all);
        } finally {
            a.close();
            if (b != null) {
                b.close();
            }
        }
    }

    @Test
    void threeMembersOnOnePartitionGetDisjointRecordsCoveringAll() throws Exception {
        String topic = unique("sc-three");
        String group = unique("sc-three-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        List<KafkaShareConsumer<String, String>> cs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            cs.add(consumer(group, topic, "max.poll.records", "5"));
        }
        try {
            // All three become members with partition 0 before any record exists.
            assertEquals(List.of(List.of(), List.of(), List.of()), poll(cs, null, Duration.ofSeconds(3), null));
            int n = 60;
            // One batch per record: Kafka acquires whole batches, max.poll.records splits between them.
            produce(topic, values("v", n), true);
            List<List<Rec>> got = poll(cs, total(n), TIMEOUT, null);
            List<Long> flat = new ArrayList<>();
            for (List<Rec> g : got) {
                for (Rec r : g) {
                    flat.add(r.offset());
                    assertEquals(new Rec(r.offset(), "v-" + r.offset(), 1), r);
                }
            }
            assertEquals(n, new TreeSet<>(flat).size(), "a record went to two members: " + got);
            assertEquals(firstDeliveries("v", n).stream().map(Rec::offset).collect(Collectors.toList()),
                    new ArrayList<>(new TreeSet<>(flat)));
            assertEquals(n, flat.size(), "a record went to two members: " + got);
            for (List<Rec> g : got) {
                assertFalse(g.isEmpty(), "a member got nothing: " + got);
            }
            // All accepted (implicitly, by the next polls): nothing comes back after the lock would expire.
            assertEquals(List.of(List.of(), List.of(), List.of()), poll(cs, null, Duration.ofSeconds(2), null));
        } finally {
            closeAll(cs);
        }
    }

    @Test
    void explicitReleaseRedeliversWithTheDeliveryCountRaisedAndRejectDoesNot() throws Exception {
        String topic = unique("sc-ack");
        String group = unique("sc-ack-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        produce(topic, List.of("accept", "reject", "release"), false);
        KafkaShareConsumer<String, String> c = consumer(group, topic, "share.acknowledgement.mode", "explicit");
        List<List<Rec>> polls = new ArrayList<>();
        Ack ack = (i, consumer, got) -> {
            polls.add(got.stream().map(Rec::of).collect(Collectors.toList()));
            for (ConsumerRecord<String, String> r : got) {
                AcknowledgeType t = switch (r.value()) {
                    case "accept" -> AcknowledgeType.ACCEPT;
                    case "reject" -> AcknowledgeType.REJECT;
                    default -> r.deliveryCount().get() < 3 ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT;
                };
                consumer.acknowledge(r, t);
            }
            commit(consumer);
        };
        try {
            poll(List.of(c), total(5), TIMEOUT, ack);
            assertEquals(List.of(
                    List.of(new Rec(0, "accept", 1), new Rec(1, "reject", 1), new Rec(2, "release", 1)),
                    // Only the released record comes back, its delivery count one higher each time.
                    List.of(new Rec(2, "release", 2)),
                    List.of(new Rec(2, "release", 3))), polls);
            // Accepted at its third delivery, the rejected one archived: nothing more.
            assertEquals(List.of(List.of()), poll(List.of(c), null, Duration.ofSeconds(2), ack));
        } finally {
            c.close();
        }
    }

    @Test
    void deliveryCountLimitArchivesARecordReleasedFiveTimes() throws Exception {
        String topic = unique("sc-limit");
        String group = unique("sc-limit-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        produce(topic, List.of("poison", "good"), false);
        KafkaShareConsumer<String, String> c = consumer(group, topic, "share.acknowledgement.mode", "explicit");
        Ack ack = (i, consumer, got) -> {
            for (ConsumerRecord<String, String> r : got) {
                consumer.acknowledge(r, r.value().equals("poison") ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT);
            }
            commit(consumer);
        };
        try {
            List<Rec> got = poll(List.of(c), total(6), TIMEOUT, ack).get(0);
            // group.share.delivery.count.limit = 5 (Kafka's default): delivered five times, then archived.
            List<Rec> want = new ArrayList<>(List.of(new Rec(0, "poison", 1), new Rec(1, "good", 1)));
            for (int d = 2; d <= 5; d++) {
                want.add(new Rec(0, "poison", d));
            }
            assertEquals(want, got);
            assertEquals(List.of(List.of()), poll(List.of(c), null, Duration.ofSeconds(2), ack));
            produce(topic, List.of("next"), false);
            assertEquals(List.of(List.of(new Rec(2, "next", 1))), poll(List.of(c), total(1), TIMEOUT, ack));
        } finally {
            c.close();
        }
    }

    @Test
    void consumerClosedWhileHoldingRecordsReleasesThemToAnother() throws Exception {
        // The lock (30 s, Kafka's default) does not run out here: closing the share session
        // releases what the member held (SharePartition.releaseAcquiredRecords), the delivery
        // count going back down as the member never finished with them.
        String topic = unique("sc-close");
        String group = unique("sc-close-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        int n = 4;
        produce(topic, values("v", n), false);
        KafkaShareConsumer<String, String> a = consumer(group, topic, "share.acknowledgement.mode", "explicit");
        assertEquals(List.of(firstDeliveries("v", n)), poll(List.of(a), total(n), TIMEOUT, null));
        a.close();
        long closed = System.nanoTime();
        KafkaShareConsumer<String, String> b = consumer(group, topic);
        try {
            assertEquals(List.of(firstDeliveries("v", n)), poll(List.of(b), total(n), Duration.ofSeconds(10), null));
            assertTrue(System.nanoTime() - closed < Duration.ofSeconds(10).toNanos());
            assertEquals(List.of(List.of()), poll(List.of(b), null, Duration.ofSeconds(1), null));
        } finally {
            b.close();
        }
    }

    @Test
    void groupLockDurationHandsUnacknowledgedRecordsToAnotherMember() throws Exception {
        String topic = unique("sc-lock");
        String group = unique("sc-lock-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest", "share.record.lock.duration.ms",
                Integer.toString(LOCK_MS));
        int n = 5;
        produce(topic, values("v", n), false);
        KafkaShareConsumer<String, String> a = consumer(group, topic, "share.acknowledgement.mode", "explicit");
        KafkaShareConsumer<String, String> b = null;
        try {
            assertEquals(List.of(firstDeliveries("v", n)), poll(List.of(a), total(n), TIMEOUT, null));
            long acquired = System.nanoTime();
            // ShareFetch's AcquisitionLockTimeoutMs is the group's share.record.lock.duration.ms.
            assertEquals(Optional.of(LOCK_MS), a.acquisitionLockTimeoutMs());
            // a stops polling and never acknowledges (its heartbeats go on): its lock expires.
            b = consumer(group, topic);
            List<Rec> want = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                want.add(new Rec(i, "v-" + i, 2));
            }
            assertEquals(List.of(want), poll(List.of(b), total(n), TIMEOUT, null));
            assertTrue(System.nanoTime() - acquired >= Duration.ofMillis(LOCK_MS * 9 / 10).toNanos());
        } finally {
            a.close();
            if (b != null) {
                b.close();
            }
        }
    }

    @Test
    void groupConfigsAreDescribedOnTheGroupResource() throws Exception {
        String group = unique("sc-cfg-g");
        setGroupConfig(group, "share.auto.offset.reset", "earliest", "share.record.lock.duration.ms", "20000");
        ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, group);
        Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
        ConfigEntry reset = cfg.get("share.auto.offset.reset");
        assertEquals("earliest", reset.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG, reset.source());
        ConfigEntry lock = cfg.get("share.record.lock.duration.ms");
        assertEquals("20000", lock.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG, lock.source());
        // Below group.share.min.record.lock.duration.ms (1000 here): INVALID_CONFIG.
        java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class,
                () -> setGroupConfig(group, "share.record.lock.duration.ms", "999"));
        assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.InvalidConfigurationException, e.toString());
        assertEquals("20000", admin.describeConfigs(List.of(res)).all().get().get(res)
                .get("share.record.lock.duration.ms").value());
    }

    @Test
    void adminListsAndDescribesTheShareGroup() throws Exception {
        String topic = unique("sc-admin");
        String group = unique("sc-admin-g");
        createTopic(topic);
        setGroupConfig(group, "share.auto.offset.reset", "earliest");
        produce(topic, List.of("x"), false);
        KafkaShareConsumer<String, String> c = consumer(group, topic, "client.id", "sc-admin-client");
        try {
            assertEquals(List.of(List.of(new Rec(0, "x", 1))), poll(List.of(c), total(1), TIMEOUT, null));

            // ListGroups with TypesFilter ["share"]: the group, type SHARE, Stable, protocol "share".
            Collection<GroupListing> shares = admin.listGroups(ListGroupsOptions.forShareGroups()).all().get();
            GroupListing l = shares.stream().filter(g -> g.groupId().equals(group)).findFirst()
                    .orElseThrow(() -> new AssertionError(group + " not in " + shares));
            assertEquals(Optional.of(GroupType.SHARE), l.type());
            assertEquals(Optional.of(GroupState.STABLE), l.groupState());
            assertEquals("share", l.protocol());
            assertTrue(shares.stream().allMatch(g -> g.type().equals(Optional.of(GroupType.SHARE))), shares.toString());
            // Not a consumer group.
            assertTrue(admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get().stream()
                    .noneMatch(g -> g.groupId().equals(group)));
            // The Stable filter keeps it, Empty drops it.
            assertTrue(admin.listGroups(ListGroupsOptions.forShareGroups().inGroupStates(Set.of(GroupState.STABLE)))
                    .all().get().stream().anyMatch(g -> g.groupId().equals(group)));
            assertTrue(admin.listGroups(ListGroupsOptions.forShareGroups().inGroupStates(Set.of(GroupState.EMPTY)))
                    .all().get().stream().noneMatch(g -> g.groupId().equals(group)));

            ShareGroupDescription d = admin.describeShareGroups(List.of(group)).all().get().get(group);
            assertEquals(group, d.groupId());
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals(0, d.coordinator().id());
            assertEquals(1, d.members().size(), d.toString());
            ShareMemberDescription m = d.members().iterator().next();
            assertEquals("sc-admin-client", m.clientId());
            assertEquals("/127.0.0.1", m.host());
            assertEquals(22, m.consumerId().length(), m.consumerId());
            assertEquals(Set.of(new TopicPartition(topic, 0)), m.assignment().topicPartitions());
            assertTrue(m.memberEpoch() >= 1, d.toString());
            assertTrue(d.groupEpoch() >= 1 && d.targetAssignmentEpoch() == d.groupEpoch(), d.toString());
        } finally {
            c.close();
        }
        // Once its only member has left, the group is Empty, with no members.
        Klamm.waitUntil(TIMEOUT, "the share group to be Empty", () -> {
            try {
                ShareGroupDescription d = admin.describeShareGroups(List.of(group)).all().get().get(group);
                return d.groupState() == GroupState.EMPTY && d.members().isEmpty();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(admin.listGroups(ListGroupsOptions.forShareGroups().inGroupStates(Set.of(GroupState.EMPTY)))
                .all().get().stream().anyMatch(g -> g.groupId().equals(group)));
    }
}
