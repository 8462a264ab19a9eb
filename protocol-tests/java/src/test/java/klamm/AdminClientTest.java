package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.quota.ClientQuotaAlteration;
import org.apache.kafka.common.quota.ClientQuotaEntity;
import org.apache.kafka.common.quota.ClientQuotaFilter;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Admin (Kafka 4.4.0) against Klamm: every call Klamm serves, each result's content checked. The
 * broker runs Kafka's StandardAuthorizer with allow.everyone.if.no.acl.found=true, so the ACL
 * calls are served while resources without ACLs stay open to this test's anonymous principal.
 */
class AdminClientTest {
    static Klamm klamm;
    static Admin admin;
    static final long BASE_TS = 1_700_000_000_000L;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=true", "group.initial.rebalance.delay.ms=0");
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
        p.put("group.protocol", "classic");
        p.put("heartbeat.interval.ms", "300");
        p.put("session.timeout.ms", "6000");
        return p;
    }

    static Throwable cause(KafkaFuture<?> f) {
        ExecutionException e = assertThrows(ExecutionException.class, f::get);
        return e.getCause();
    }

    @Test
    void topicsCreateDescribeByNameAndIdGrowDelete() throws Exception {
        CreateTopicsResult cr = admin.createTopics(List.of(
                new NewTopic("adm-topic", 3, (short) 1).configs(Map.of("retention.ms", "3600000"))));
        cr.all().get();
        assertEquals(3, cr.numPartitions("adm-topic").get());
        assertEquals(1, cr.replicationFactor("adm-topic").get());
        Uuid id = cr.topicId("adm-topic").get();
        assertNotEquals(Uuid.ZERO_UUID, id);
        assertEquals("3600000", cr.config("adm-topic").get().get("retention.ms").value());
        assertTrue(admin.listTopics().names().get().contains("adm-topic"));
        // Internal topics are listed only when asked for.
        assertFalse(admin.listTopics().names().get().stream().anyMatch(n -> n.startsWith("__")));

        TopicDescription byName = admin.describeTopics(List.of("adm-topic")).allTopicNames().get().get("adm-topic");
        assertEquals("adm-topic", byName.name());
        assertEquals(id, byName.topicId());
        assertFalse(byName.isInternal());
        assertEquals(3, byName.partitions().size());
        for (int p = 0; p < 3; p++) {
            TopicPartitionInfo pi = byName.partitions().get(p);
            assertEquals(p, pi.partition());
            assertEquals(0, pi.leader().id());
            assertEquals(List.of(0), pi.replicas().stream().map(n -> n.id()).toList());
            assertEquals(List.of(0), pi.isr().stream().map(n -> n.id()).toList());
        }
        TopicDescription byId = admin.describeTopics(TopicCollection.ofTopicIds(List.of(id))).allTopicIds().get().get(id);
        assertEquals("adm-topic", byId.name());
        assertEquals(3, byId.partitions().size());

        assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(new NewTopic("adm-topic", 1, (short) 1))).all().get());
        admin.createPartitions(Map.of("adm-topic", NewPartitions.increaseTo(5))).all().get();
        assertEquals(5, admin.describeTopics(List.of("adm-topic")).allTopicNames().get().get("adm-topic").partitions().size());
        assertInstanceOf(org.apache.kafka.common.errors.InvalidPartitionsException.class,
                cause(admin.createPartitions(Map.of("adm-topic", NewPartitions.increaseTo(2))).all()));

        admin.deleteTopics(TopicCollection.ofTopicIds(List.of(id))).all().get();
        Klamm.waitUntil(Duration.ofSeconds(10), "adm-topic gone", () -> {
            try {
                return !admin.listTopics().names().get().contains("adm-topic");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertInstanceOf(org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                cause(admin.describeTopics(List.of("adm-topic")).allTopicNames()));
    }

    @Test
    void describeAndIncrementallyAlterConfigs() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-cfg", 1, (short) 1).configs(Map.of("retention.ms", "3600000")))).all().get();
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "adm-cfg");
        Config c = admin.describeConfigs(List.of(topic)).all().get().get(topic);
        assertEquals("3600000", c.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms").source());
        assertEquals("delete", c.get("cleanup.policy").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, c.get("cleanup.policy").source());

        admin.incrementalAlterConfigs(Map.of(topic, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.SET),
                new AlterConfigOp(new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE)))).all().get();
        c = admin.describeConfigs(List.of(topic)).all().get().get(topic);
        assertEquals("compact", c.get("cleanup.policy").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("cleanup.policy").source());
        assertEquals("604800000", c.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, c.get("retention.ms").source());
        admin.incrementalAlterConfigs(Map.of(topic, List.of(
                new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.APPEND)))).all().get();
        assertEquals("compact,delete", admin.describeConfigs(List.of(topic)).all().get().get(topic).get("cleanup.policy").value());
        assertInstanceOf(org.apache.kafka.common.errors.InvalidConfigurationException.class, cause(
                admin.incrementalAlterConfigs(Map.of(topic, List.of(new AlterConfigOp(
                        new ConfigEntry("retention.ms", "soon"), AlterConfigOp.OpType.SET)))).all()));

        ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Config b = admin.describeConfigs(List.of(broker)).all().get().get(broker);
        assertEquals("1", b.get("num.partitions").value());
        assertEquals("true", b.get("allow.everyone.if.no.acl.found").value());
    }

    @Test
    void describeClusterAndLogDirs() throws Exception {
        DescribeClusterResult dc = admin.describeCluster();
        Properties meta = new Properties();
        try (var r = Files.newBufferedReader(klamm.dataDir().resolve("meta.properties"))) {
            meta.load(r);
        }
        assertEquals(meta.getProperty("cluster.id"), dc.clusterId().get());
        Collection<org.apache.kafka.common.Node> nodes = dc.nodes().get();
        assertEquals(1, nodes.size());
        var node = nodes.iterator().next();
        assertEquals(0, node.id());
        assertEquals(klamm.bootstrap(), node.host() + ":" + node.port());
        assertEquals(0, dc.controller().get().id());

        admin.createTopics(List.of(new NewTopic("adm-logdirs", 2, (short) 1))).all().get();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            p.send(new ProducerRecord<>("adm-logdirs", 1, "k", "v".repeat(100))).get();
        }
        Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
        assertEquals(Set.of(klamm.dataDir().toString()), dirs.keySet());
        LogDirDescription d = dirs.get(klamm.dataDir().toString());
        assertEquals(null, d.error());
        assertTrue(d.totalBytes().isPresent() && d.usableBytes().isPresent());
        ReplicaInfo p0 = d.replicaInfos().get(new TopicPartition("adm-logdirs", 0));
        ReplicaInfo p1 = d.replicaInfos().get(new TopicPartition("adm-logdirs", 1));
        assertEquals(0, p0.size());
        assertTrue(p1.size() > 100, "size " + p1.size());
        assertEquals(0, p1.offsetLag());
        assertFalse(p1.isFuture());
    }

    @Test
    void listOffsetsEverySpecAndDeleteRecords() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-offsets", 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition("adm-offsets", 0);
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < 10; i++) {
                // The newest timestamp is on offset 6.
                long ts = i == 6 ? BASE_TS + 100 : BASE_TS + i;
                p.send(new ProducerRecord<>("adm-offsets", 0, ts, "k", "v" + i)).get();
            }
        }
        Map<OffsetSpec, Long> expected = new HashMap<>();
        expected.put(OffsetSpec.earliest(), 0L);
        expected.put(OffsetSpec.latest(), 10L);
        expected.put(OffsetSpec.maxTimestamp(), 6L);
        expected.put(OffsetSpec.forTimestamp(BASE_TS + 3), 3L);
        expected.put(OffsetSpec.forTimestamp(BASE_TS + 50), 6L);
        expected.put(OffsetSpec.forTimestamp(BASE_TS + 101), -1L);
        expected.put(OffsetSpec.earliestLocal(), 0L);
        expected.put(OffsetSpec.latestTiered(), -1L);
        for (var e : expected.entrySet()) {
            ListOffsetsResult.ListOffsetsResultInfo info = admin.listOffsets(Map.of(tp, e.getKey())).partitionResult(tp).get();
            assertEquals(e.getValue(), info.offset(), e.getKey().toString());
        }
        // KIP-1023's earliest pending upload needs ListOffsets v11, which Kafka 4.1 does not
        // serve either (4.1 stops at v10): the 4.4 Admin refuses it before sending.
        assertInstanceOf(org.apache.kafka.common.errors.UnsupportedVersionException.class,
                cause(admin.listOffsets(Map.of(tp, OffsetSpec.earliestPendingUpload())).partitionResult(tp)));
        assertEquals(BASE_TS + 100, admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).partitionResult(tp).get().timestamp());
        assertEquals(BASE_TS + 3, admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(BASE_TS + 3))).partitionResult(tp).get().timestamp());

        DeletedRecords del = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(tp).get();
        assertEquals(4, del.lowWatermark());
        assertEquals(4, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset());
        assertEquals(4, admin.listOffsets(Map.of(tp, OffsetSpec.earliestLocal())).partitionResult(tp).get().offset());
        assertEquals(10, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset());
        assertInstanceOf(org.apache.kafka.common.errors.OffsetOutOfRangeException.class,
                cause(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(11))).lowWatermarks().get(tp)));
    }

    static void pollUntilAssigned(KafkaConsumer<String, String> c, int partitions) throws InterruptedException {
        Klamm.waitUntil(Duration.ofSeconds(20), "assignment of " + partitions, () -> {
            c.poll(Duration.ofMillis(50));
            return c.assignment().size() == partitions;
        });
    }

    @Test
    void consumerGroupsListDescribeOffsetsDelete() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-grp", 2, (short) 1))).all().get();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < 6; i++) {
                p.send(new ProducerRecord<>("adm-grp", i % 2, "k", "v" + i)).get();
            }
        }
        TopicPartition p0 = new TopicPartition("adm-grp", 0);
        TopicPartition p1 = new TopicPartition("adm-grp", 1);
        Properties cp = consumerProps("adm-g");
        cp.put("client.id", "adm-client");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of("adm-grp"));
            int[] n = {0};
            Klamm.waitUntil(Duration.ofSeconds(20), "6 records", () -> {
                n[0] += c.poll(Duration.ofMillis(50)).count();
                return n[0] == 6;
            });
            c.commitSync();
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("adm-g")).describedGroups().get("adm-g").get();
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals(GroupType.CLASSIC, d.type());
            assertEquals("range", d.partitionAssignor());
            assertEquals(1, d.members().size());
            MemberDescription m = d.members().iterator().next();
            assertEquals("adm-client", m.clientId());
            assertEquals(Set.of(p0, p1), m.assignment().topicPartitions());
            assertEquals(0, d.coordinator().id());

            Collection<GroupListing> groups = admin.listGroups().all().get();
            GroupListing gl = groups.stream().filter(g -> g.groupId().equals("adm-g")).findFirst().orElseThrow();
            assertEquals(Optional.of(GroupType.CLASSIC), gl.type());
            assertEquals("consumer", gl.protocol());
            assertEquals(Optional.of(GroupState.STABLE), gl.groupState());
            assertTrue(admin.listGroups(ListGroupsOptions.forConsumerGroups().inGroupStates(Set.of(GroupState.STABLE)))
                    .all().get().stream().anyMatch(g -> g.groupId().equals("adm-g")));
            assertFalse(admin.listGroups(ListGroupsOptions.forConsumerGroups().inGroupStates(Set.of(GroupState.EMPTY)))
                    .all().get().stream().anyMatch(g -> g.groupId().equals("adm-g")));
            @SuppressWarnings("deprecation")
            ConsumerGroupListing cgl = admin.listConsumerGroups().all().get().stream()
                    .filter(g -> g.groupId().equals("adm-g")).findFirst().orElseThrow();
            assertFalse(cgl.isSimpleConsumerGroup());
            assertEquals(Optional.of(GroupState.STABLE), cgl.groupState());
            assertEquals(Optional.of(GroupType.CLASSIC), cgl.type());
            ClassicGroupDescription classic = admin.describeClassicGroups(List.of("adm-g")).all().get().get("adm-g");
            assertEquals("consumer", classic.protocol());
            assertEquals("range", classic.protocolData());
            assertEquals(org.apache.kafka.common.ClassicGroupState.STABLE, classic.state());
            assertEquals(1, classic.members().size());
            assertEquals("adm-client", classic.members().iterator().next().clientId());
            // An active group's offsets cannot be altered.
            assertInstanceOf(org.apache.kafka.common.errors.UnknownMemberIdException.class,
                    cause(admin.alterConsumerGroupOffsets("adm-g", Map.of(p0, new OffsetAndMetadata(1))).all()));
        }
        assertEquals(GroupState.EMPTY, admin.describeConsumerGroups(List.of("adm-g")).describedGroups().get("adm-g").get().groupState());
        Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("adm-g").partitionsToOffsetAndMetadata().get();
        assertEquals(Map.of(p0, 3L, p1, 3L), offsets.entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset())));

        admin.alterConsumerGroupOffsets("adm-g", Map.of(p0, new OffsetAndMetadata(1, "meta"))).all().get();
        offsets = admin.listConsumerGroupOffsets("adm-g").partitionsToOffsetAndMetadata().get();
        assertEquals(1, offsets.get(p0).offset());
        assertEquals("meta", offsets.get(p0).metadata());
        admin.deleteConsumerGroupOffsets("adm-g", Set.of(p1)).all().get();
        offsets = admin.listConsumerGroupOffsets("adm-g").partitionsToOffsetAndMetadata().get();
        assertEquals(Set.of(p0), offsets.keySet());

        admin.deleteConsumerGroups(List.of("adm-g")).all().get();
        assertFalse(admin.listGroups().all().get().stream().anyMatch(g -> g.groupId().equals("adm-g")));
        assertInstanceOf(org.apache.kafka.common.errors.GroupIdNotFoundException.class,
                cause(admin.deleteConsumerGroups(List.of("adm-g")).all()));
    }

    /** A KIP-848 group as ConsumerGroupDescribe shows it: type, assignor, epochs, assignments. */
    @Test
    void describeConsumerProtocolGroup() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-848", 3, (short) 1))).all().get();
        Properties cp = consumerProps("adm-848-g");
        cp.put("group.protocol", "consumer");
        cp.remove("heartbeat.interval.ms");
        cp.remove("session.timeout.ms");
        cp.put("client.id", "adm-848-client");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of("adm-848"));
            pollUntilAssigned(c, 3);
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("adm-848-g")).describedGroups().get("adm-848-g").get();
            assertEquals(GroupType.CONSUMER, d.type());
            assertEquals(GroupState.STABLE, d.groupState());
            assertEquals("uniform", d.partitionAssignor());
            assertFalse(d.isSimpleConsumerGroup());
            assertTrue(d.groupEpoch().orElseThrow() >= 1);
            assertEquals(d.groupEpoch(), d.targetAssignmentEpoch());
            MemberDescription m = d.members().iterator().next();
            assertEquals("adm-848-client", m.clientId());
            Set<TopicPartition> all = Set.of(new TopicPartition("adm-848", 0), new TopicPartition("adm-848", 1),
                    new TopicPartition("adm-848", 2));
            assertEquals(all, m.assignment().topicPartitions());
            assertEquals(all, m.targetAssignment().orElseThrow().topicPartitions());
            assertEquals(d.groupEpoch(), m.memberEpoch());
            // KIP-1099: a member that speaks the consumer protocol counts as upgraded.
            assertEquals(Optional.of(true), m.upgraded());
            GroupListing gl = admin.listGroups(ListGroupsOptions.forConsumerGroups()).all().get().stream()
                    .filter(g -> g.groupId().equals("adm-848-g")).findFirst().orElseThrow();
            assertEquals(Optional.of(GroupType.CONSUMER), gl.type());
            assertEquals(Optional.of(GroupState.STABLE), gl.groupState());
        }
    }

    @Test
    void removeMembersFromConsumerGroup() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-static", 1, (short) 1))).all().get();
        Properties cp = consumerProps("adm-static-g");
        cp.put("group.instance.id", "instance-1");
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of("adm-static"));
            pollUntilAssigned(c, 1);
            ConsumerGroupDescription d = admin.describeConsumerGroups(List.of("adm-static-g")).describedGroups().get("adm-static-g").get();
            assertEquals(Optional.of("instance-1"), d.members().iterator().next().groupInstanceId());
            RemoveMembersFromConsumerGroupResult r = admin.removeMembersFromConsumerGroup("adm-static-g",
                    new RemoveMembersFromConsumerGroupOptions(List.of(new MemberToRemove("instance-1"))));
            r.all().get();
            d = admin.describeConsumerGroups(List.of("adm-static-g")).describedGroups().get("adm-static-g").get();
            assertEquals(List.of(), List.copyOf(d.members()));
            assertInstanceOf(org.apache.kafka.common.errors.UnknownMemberIdException.class,
                    cause(admin.removeMembersFromConsumerGroup("adm-static-g",
                            new RemoveMembersFromConsumerGroupOptions(List.of(new MemberToRemove("nobody")))).all()));
        }
    }

    @Test
    void producersTransactionsAndFencing() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-txn", 1, (short) 1))).all().get();
        TopicPartition tp = new TopicPartition("adm-txn", 0);
        Properties pp = producerProps();
        pp.put("transactional.id", "adm-tid");
        KafkaProducer<String, String> producer = new KafkaProducer<>(pp);
        try {
            producer.initTransactions();
            producer.beginTransaction();
            RecordMetadata first = producer.send(new ProducerRecord<>("adm-txn", 0, "k", "a")).get();
            producer.send(new ProducerRecord<>("adm-txn", 0, "k", "b")).get();
            assertEquals(0, first.offset());

            List<ProducerState> states = admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers();
            assertEquals(1, states.size());
            ProducerState st = states.get(0);
            assertEquals(0, st.producerEpoch());
            assertEquals(1, st.lastSequence());
            assertEquals(java.util.OptionalLong.of(0), st.currentTransactionStartOffset());
            long pid = st.producerId();

            TransactionListing tl = admin.listTransactions().all().get().stream()
                    .filter(t -> t.transactionalId().equals("adm-tid")).findFirst().orElseThrow();
            assertEquals(pid, tl.producerId());
            assertEquals(TransactionState.ONGOING, tl.state());
            assertTrue(admin.listTransactions(new ListTransactionsOptions().filterStates(Set.of(TransactionState.ONGOING)))
                    .all().get().stream().anyMatch(t -> t.transactionalId().equals("adm-tid")));
            assertTrue(admin.listTransactions(new ListTransactionsOptions().filterStates(Set.of(TransactionState.COMPLETE_COMMIT)))
                    .all().get().stream().noneMatch(t -> t.transactionalId().equals("adm-tid")));

            TransactionDescription td = admin.describeTransactions(List.of("adm-tid")).description("adm-tid").get();
            assertEquals(TransactionState.ONGOING, td.state());
            assertEquals(pid, td.producerId());
            assertEquals(0, td.producerEpoch());
            assertEquals(60000, td.transactionTimeoutMs());
            assertEquals(Set.of(tp), td.topicPartitions());
            assertEquals(0, td.coordinatorId());
            assertTrue(td.transactionStartTimeMs().isPresent());

            // Fencing (InitProducerId without the producer's id and epoch) aborts the open
            // transaction with a bumped epoch and answers CONCURRENT_TRANSACTIONS; the Admin's
            // retry bumps the epoch again and finds the transactional id Empty, as with Kafka.
            admin.fenceProducers(List.of("adm-tid")).all().get();
            td = admin.describeTransactions(List.of("adm-tid")).description("adm-tid").get();
            assertEquals(TransactionState.EMPTY, td.state());
            assertEquals(pid, td.producerId());
            assertEquals(2, td.producerEpoch());
            assertEquals(Set.of(), td.topicPartitions());
            assertThrows(ProducerFencedException.class, producer::commitTransaction);
            assertEquals(java.util.OptionalLong.empty(),
                    admin.describeProducers(List.of(tp)).partitionResult(tp).get().activeProducers().get(0).currentTransactionStartOffset());
            // The abort marker follows the two records: the log ends at 3.
            assertEquals(3, admin.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset());
        } finally {
            producer.close(Duration.ZERO);
        }
        assertInstanceOf(org.apache.kafka.common.errors.TransactionalIdNotFoundException.class,
                cause(admin.describeTransactions(List.of("no-such-tid")).description("no-such-tid")));
    }

    @Test
    void aclsCreateDescribeDelete() throws Exception {
        AclBinding alice = new AclBinding(new ResourcePattern(ResourceType.TOPIC, "acl-topic", PatternType.LITERAL),
                new AccessControlEntry("User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW));
        AclBinding bob = new AclBinding(new ResourcePattern(ResourceType.GROUP, "app-", PatternType.PREFIXED),
                new AccessControlEntry("User:bob", "10.0.0.1", AclOperation.ALL, AclPermissionType.DENY));
        admin.createAcls(List.of(alice, bob)).all().get();
        assertEquals(Set.of(alice, bob), new HashSet<>(admin.describeAcls(AclBindingFilter.ANY).values().get()));
        AclBindingFilter topicsOnly = new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.TOPIC, null, PatternType.ANY), AccessControlEntryFilter.ANY);
        assertEquals(List.of(alice), List.copyOf(admin.describeAcls(topicsOnly).values().get()));
        // A prefixed ACL matches groups under the prefix.
        AclBindingFilter matching = new AclBindingFilter(
                new ResourcePatternFilter(ResourceType.GROUP, "app-billing", PatternType.MATCH), AccessControlEntryFilter.ANY);
        assertEquals(List.of(bob), List.copyOf(admin.describeAcls(matching).values().get()));

        DeleteAclsResult del = admin.deleteAcls(List.of(alice.toFilter()));
        Collection<AclBinding> deleted = del.all().get();
        assertEquals(List.of(alice), List.copyOf(deleted));
        assertEquals(List.of(bob), List.copyOf(admin.describeAcls(AclBindingFilter.ANY).values().get()));
        admin.deleteAcls(List.of(AclBindingFilter.ANY)).all().get();
        assertEquals(List.of(), List.copyOf(admin.describeAcls(AclBindingFilter.ANY).values().get()));
    }

    @Test
    void scramCredentials() throws Exception {
        // One alteration per user and request, as Kafka requires.
        assertInstanceOf(org.apache.kafka.common.errors.DuplicateResourceException.class, cause(admin.alterUserScramCredentials(List.of(
                new UserScramCredentialUpsertion("dave", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), "x"),
                new UserScramCredentialUpsertion("dave", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192), "x")))
                .values().get("dave")));
        admin.alterUserScramCredentials(List.of(
                new UserScramCredentialUpsertion("alice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_256, 8192), "alice-secret"),
                new UserScramCredentialUpsertion("carol", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "carol-secret")))
                .all().get();
        admin.alterUserScramCredentials(List.of(
                new UserScramCredentialUpsertion("alice", new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 4096), "alice-secret")))
                .all().get();
        Map<String, UserScramCredentialsDescription> all = admin.describeUserScramCredentials().all().get();
        assertEquals(Set.of("alice", "carol"), all.keySet());
        assertEquals(Set.of("SCRAM_SHA_256/8192", "SCRAM_SHA_512/4096"), infos(all.get("alice")));
        assertEquals(Set.of("SCRAM_SHA_512/4096"), infos(all.get("carol")));

        admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("alice", ScramMechanism.SCRAM_SHA_256))).all().get();
        assertEquals(Set.of("SCRAM_SHA_512/4096"), infos(admin.describeUserScramCredentials(List.of("alice")).description("alice").get()));
        assertInstanceOf(org.apache.kafka.common.errors.ResourceNotFoundException.class,
                cause(admin.describeUserScramCredentials(List.of("nobody")).description("nobody")));
        admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion("alice", ScramMechanism.SCRAM_SHA_512),
                new UserScramCredentialDeletion("carol", ScramMechanism.SCRAM_SHA_512))).all().get();
        assertEquals(Map.of(), admin.describeUserScramCredentials().all().get());
    }

    static Set<String> infos(UserScramCredentialsDescription d) {
        return d.credentialInfos().stream().map(i -> i.mechanism() + "/" + i.iterations()).collect(Collectors.toSet());
    }

    @Test
    void clientQuotas() throws Exception {
        ClientQuotaEntity user = new ClientQuotaEntity(Map.of(ClientQuotaEntity.USER, "alice"));
        ClientQuotaEntity client = new ClientQuotaEntity(Map.of(ClientQuotaEntity.CLIENT_ID, "app"));
        admin.alterClientQuotas(List.of(
                new ClientQuotaAlteration(user, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", 1024.0),
                        new ClientQuotaAlteration.Op("request_percentage", 50.0))),
                new ClientQuotaAlteration(client, List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", 2048.0)))))
                .all().get();
        Map<ClientQuotaEntity, Map<String, Double>> q = admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get();
        assertEquals(Map.of(user, Map.of("producer_byte_rate", 1024.0, "request_percentage", 50.0),
                client, Map.of("consumer_byte_rate", 2048.0)), q);
        admin.alterClientQuotas(List.of(new ClientQuotaAlteration(user,
                List.of(new ClientQuotaAlteration.Op("request_percentage", null))))).all().get();
        assertEquals(Map.of(user, Map.of("producer_byte_rate", 1024.0)), admin.describeClientQuotas(ClientQuotaFilter.containsOnly(
                List.of(org.apache.kafka.common.quota.ClientQuotaFilterComponent.ofEntity(ClientQuotaEntity.USER, "alice"))))
                .entities().get());
        admin.alterClientQuotas(List.of(
                new ClientQuotaAlteration(user, List.of(new ClientQuotaAlteration.Op("producer_byte_rate", null))),
                new ClientQuotaAlteration(client, List.of(new ClientQuotaAlteration.Op("consumer_byte_rate", null)))))
                .all().get();
        assertEquals(Map.of(), admin.describeClientQuotas(ClientQuotaFilter.all()).entities().get());
    }

    @Test
    void electLeadersIsNeverNeededOnOneBroker() throws Exception {
        admin.createTopics(List.of(new NewTopic("adm-elect", 2, (short) 1))).all().get();
        TopicPartition p0 = new TopicPartition("adm-elect", 0);
        for (ElectionType type : ElectionType.values()) {
            Map<TopicPartition, Optional<Throwable>> r = admin.electLeaders(type, Set.of(p0)).partitions().get();
            assertEquals(Set.of(p0), r.keySet());
            assertInstanceOf(ElectionNotNeededException.class, r.get(p0).orElseThrow(), type.toString());
        }
        // With no partitions named, partitions whose election was not needed are left out.
        assertEquals(Map.of(), admin.electLeaders(ElectionType.PREFERRED, null).partitions().get());
        TopicPartition unknown = new TopicPartition("adm-elect", 9);
        assertInstanceOf(org.apache.kafka.common.errors.UnknownTopicOrPartitionException.class,
                admin.electLeaders(ElectionType.PREFERRED, Set.of(unknown)).partitions().get().get(unknown).orElseThrow());
    }

    @Test
    void describeFeatures() throws Exception {
        FeatureMetadata fm = admin.describeFeatures().featureMetadata().get();
        assertEquals(27, fm.finalizedFeatures().get("metadata.version").maxVersionLevel());
        assertEquals(1, fm.finalizedFeatures().get("transaction.version").maxVersionLevel());
    }
}
