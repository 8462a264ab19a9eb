package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-configs (Kafka 4.4.0's ConfigCommand) against Klamm: topic configs with their sources and
 * synonyms, broker configs (per broker, cluster default, read-only refusals), SCRAM credentials
 * that then log in over a SASL_PLAINTEXT listener, and client quotas.
 */
class ConfigsToolTest {
    static final String CONFIGS = "org.apache.kafka.tools.ConfigCommand";

    static Klamm klamm;
    static Admin admin;

    @BeforeAll
    static void start() throws Exception {
        // PLAINTEXT first: its address is the ready line's, which the tools use; SCRAM logins go to
        // the SASL_PLAINTEXT listener (SCRAM users come only from AlterUserScramCredentials).
        klamm = Klamm.start("listeners=PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0");
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

    static Tools.Result configs(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--bootstrap-server";
        all[1] = klamm.bootstrap();
        System.arraycopy(args, 0, all, 2, args.length);
        return Tools.run(CONFIGS, all);
    }

    /** The line ConfigCommand prints for one config entry. */
    static String entry(String name, String value, String synonyms) {
        return "  " + name + "=" + value + " sensitive=false synonyms={" + synonyms + "}\n";
    }

    @Test
    void topicConfigs() throws Exception {
        admin.createTopics(List.of(new NewTopic("cfg-topic", 1, (short) 1))).all().get(10, TimeUnit.SECONDS);
        String[] topic = {"--entity-type", "topics", "--entity-name", "cfg-topic"};
        assertEquals("Dynamic configs for topic cfg-topic are:\n", configs(concat(topic, "--describe")).ok().out());

        assertEquals("Completed updating config for topic cfg-topic.\n",
                configs(concat(topic, "--alter", "--add-config", "retention.ms=3600000,cleanup.policy=[compact,delete]"))
                        .ok().out());
        assertEquals("Dynamic configs for topic cfg-topic are:\n"
                        + entry("cleanup.policy", "compact,delete",
                                "DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete")
                        + entry("retention.ms", "3600000", "DYNAMIC_TOPIC_CONFIG:retention.ms=3600000"),
                configs(concat(topic, "--describe")).ok().out());

        // --all: every topic config, overrides and defaults, with the broker synonym each default
        // comes from (Kafka's ConfigHelper: synonyms from the topic's primary broker name on).
        String all = configs(concat(topic, "--describe", "--all")).ok().out();
        assertTrue(all.startsWith("All configs for topic cfg-topic are:\n"), all);
        Set<String> lines = Set.of(all.split("\n"));
        for (String want : List.of(
                entry("retention.ms", "3600000", "DYNAMIC_TOPIC_CONFIG:retention.ms=3600000"),
                entry("max.message.bytes", "1048588", "DEFAULT_CONFIG:message.max.bytes=1048588"),
                entry("segment.bytes", "1073741824", "DEFAULT_CONFIG:log.segment.bytes=1073741824"),
                entry("segment.ms", "604800000", ""),
                entry("min.insync.replicas", "1", "DEFAULT_CONFIG:min.insync.replicas=1"),
                entry("compression.type", "producer", "DEFAULT_CONFIG:compression.type=producer"))) {
            assertTrue(lines.contains(want.stripTrailing()), "missing " + want + " in\n" + all);
        }

        assertEquals("Completed updating config for topic cfg-topic.\n",
                configs(concat(topic, "--alter", "--delete-config", "retention.ms")).ok().out());
        assertEquals("Dynamic configs for topic cfg-topic are:\n"
                        + entry("cleanup.policy", "compact,delete",
                                "DYNAMIC_TOPIC_CONFIG:cleanup.policy=compact,delete, DEFAULT_CONFIG:log.cleanup.policy=delete"),
                configs(concat(topic, "--describe")).ok().out());

        // Refusals name Kafka's exception and message (INVALID_CONFIG from the broker).
        Tools.Result bad = configs(concat(topic, "--alter", "--add-config", "retention.ms=abc"));
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("Caused by: org.apache.kafka.common.errors.InvalidConfigurationException: "
                + "Invalid value abc for configuration retention.ms: Not a number of type LONG\n"), bad.err());
        Tools.Result unknown = configs(concat(topic, "--alter", "--add-config", "no.such.config=1"));
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains("Caused by: org.apache.kafka.common.errors.InvalidConfigurationException: "
                + "Unknown topic config name: no.such.config\n"), unknown.err());
        assertEquals("The topic 'cfg-absent' doesn't exist and doesn't have dynamic config.\n",
                configs("--entity-type", "topics", "--entity-name", "cfg-absent", "--describe").ok().out());
    }

    @Test
    void brokerConfigs() {
        String[] broker = {"--entity-type", "brokers", "--entity-name", "0"};
        String[] defaults = {"--entity-type", "brokers", "--entity-default"};
        assertEquals("Dynamic configs for broker 0 are:\n", configs(concat(broker, "--describe")).ok().out());

        // log.cleaner.threads is dynamic per broker in Kafka and in Klamm.
        assertEquals("Completed updating config for broker 0.\n",
                configs(concat(broker, "--alter", "--add-config", "log.cleaner.threads=2")).ok().out());
        assertEquals("Completed updating default config for brokers in the cluster.\n",
                configs(concat(defaults, "--alter", "--add-config", "log.retention.ms=7200000")).ok().out());
        // "Dynamic configs for broker 0" lists the DYNAMIC_BROKER_CONFIG entries only; the cluster
        // default shows under --entity-default (with dynamic-default synonyms only, as Kafka's
        // ConfigHelper.createBrokerConfigEntry) and in --all.
        assertEquals("Dynamic configs for broker 0 are:\n"
                        + entry("log.cleaner.threads", "2",
                                "DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, DEFAULT_CONFIG:log.cleaner.threads=1"),
                configs(concat(broker, "--describe")).ok().out());
        assertEquals("Default configs for brokers in the cluster are:\n"
                        + entry("log.retention.ms", "7200000", "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000"),
                configs(concat(defaults, "--describe")).ok().out());

        // --all: the dynamic value with its whole synonym chain, static flags, defaults.
        String all = configs(concat(broker, "--describe", "--all")).ok().out();
        assertTrue(all.startsWith("All configs for broker 0 are:\n"), all);
        Set<String> lines = Set.of(all.split("\n"));
        for (String want : List.of(
                entry("log.cleaner.threads", "2",
                        "DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, DEFAULT_CONFIG:log.cleaner.threads=1"),
                entry("data.dir", klamm.dataDir().toString(),
                        "STATIC_BROKER_CONFIG:data.dir=" + klamm.dataDir() + ", DEFAULT_CONFIG:data.dir=klamm-data"),
                entry("log.retention.ms", "7200000",
                        "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000, DEFAULT_CONFIG:log.retention.hours=168"),
                entry("log.retention.hours", "168", "DEFAULT_CONFIG:log.retention.hours=168"),
                entry("node.id", "0", "DEFAULT_CONFIG:node.id=0"),
                entry("num.partitions", "1", "DEFAULT_CONFIG:num.partitions=1"))) {
            assertTrue(lines.contains(want.stripTrailing()), "missing " + want + " in\n" + all);
        }

        // A read-only setting is refused with Kafka's message (INVALID_REQUEST).
        Tools.Result readOnly = configs(concat(broker, "--alter", "--add-config", "auto.create.topics.enable=false"));
        assertEquals(1, readOnly.exitCode());
        assertTrue(readOnly.err().contains("Caused by: org.apache.kafka.common.errors.InvalidRequestException: "
                + "Cannot update these configs dynamically: Set(auto.create.topics.enable)\n"), readOnly.err());

        // A name Klamm does not know (Kafka's num.io.threads) is stored, as Kafka stores unknown
        // dynamic names, and described as Kafka describes a name of unknown type: sensitive.
        assertEquals("Completed updating config for broker 0.\n",
                configs(concat(broker, "--alter", "--add-config", "num.io.threads=3")).ok().out());
        assertEquals("Dynamic configs for broker 0 are:\n"
                        + entry("log.cleaner.threads", "2",
                                "DYNAMIC_BROKER_CONFIG:log.cleaner.threads=2, DEFAULT_CONFIG:log.cleaner.threads=1")
                        + "  num.io.threads=null sensitive=true synonyms={DYNAMIC_BROKER_CONFIG:num.io.threads=null}\n",
                configs(concat(broker, "--describe")).ok().out());

        assertEquals("Completed updating config for broker 0.\n",
                configs(concat(broker, "--alter", "--delete-config", "log.cleaner.threads,num.io.threads")).ok().out());
        assertEquals("Completed updating default config for brokers in the cluster.\n",
                configs(concat(defaults, "--alter", "--delete-config", "log.retention.ms")).ok().out());
        assertEquals("Dynamic configs for broker 0 are:\n", configs(concat(broker, "--describe")).ok().out());
        assertEquals("Default configs for brokers in the cluster are:\n", configs(concat(defaults, "--describe")).ok().out());
    }

    static Properties scram(String user, String password) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, klamm.listener("SASL_PLAINTEXT"));
        p.put(CommonClientConfigs.SECURITY_PROTOCOL_CONFIG, "SASL_PLAINTEXT");
        p.put(SaslConfigs.SASL_MECHANISM, "SCRAM-SHA-256");
        p.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required "
                + "username=\"" + user + "\" password=\"" + password + "\";");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        return p;
    }

    /** Lists the cluster's nodes over SCRAM-SHA-256 as {@code user}: succeeds or throws. */
    static String scramLogin(String user, String password) throws Exception {
        try (Admin a = Admin.create(scram(user, password))) {
            return a.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
        }
    }

    static void assertLoginRefused(String user, String password) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> scramLogin(user, password));
        assertInstanceOf(SaslAuthenticationException.class, e.getCause(), e.toString());
        assertEquals("Authentication failed during authentication due to invalid credentials with SASL mechanism "
                + "SCRAM-SHA-256", e.getCause().getMessage());
    }

    @Test
    void scramCredentialsLogInOverSasl() throws Exception {
        String[] bob = {"--entity-type", "users", "--entity-name", "bob"};
        assertEquals("Completed updating config for user bob.\n",
                configs(concat(bob, "--alter", "--add-config", "SCRAM-SHA-256=[iterations=8192,password=bob-secret]"))
                        .ok().out());
        assertEquals("SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-256=iterations=8192\n",
                configs(concat(bob, "--describe")).ok().out());
        assertEquals("Completed updating config for user bob.\n",
                configs(concat(bob, "--alter", "--add-config", "SCRAM-SHA-512=[password=bob-512]")).ok().out());
        // Default iterations are 4096 (ConfigCommand's DEFAULT_SCRAM_ITERATIONS).
        assertEquals("SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-256=iterations=8192, "
                + "SCRAM-SHA-512=iterations=4096\n", configs(concat(bob, "--describe")).ok().out());

        String clusterId = admin.describeCluster().clusterId().get(10, TimeUnit.SECONDS);
        assertEquals(clusterId, scramLogin("bob", "bob-secret"));
        assertLoginRefused("bob", "wrong");

        assertEquals("Completed updating config for user bob.\n",
                configs(concat(bob, "--alter", "--delete-config", "SCRAM-SHA-256")).ok().out());
        assertEquals("SCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n",
                configs(concat(bob, "--describe")).ok().out());
        assertLoginRefused("bob", "bob-secret");
        assertEquals("Completed updating config for user bob.\n",
                configs(concat(bob, "--alter", "--delete-config", "SCRAM-SHA-512")).ok().out());
        // No credential left: describing the user prints nothing (RESOURCE_NOT_FOUND is "no user").
        assertEquals("", configs(concat(bob, "--describe")).ok().out());
    }

    @Test
    void clientQuotas() {
        String[] userClient = {"--entity-type", "users", "--entity-name", "quota-user", "--entity-type", "clients",
                "--entity-name", "quota-app"};
        // ConfigCommand names only the first entity in its confirmation.
        assertEquals("Completed updating config for user quota-user.\n",
                configs(concat(userClient, "--alter", "--add-config",
                        "producer_byte_rate=1048576,consumer_byte_rate=2097152")).ok().out());
        assertEquals("Quota configs for user-principal 'quota-user', client-id 'quota-app' are "
                + "consumer_byte_rate=2097152.0, producer_byte_rate=1048576.0\n",
                configs(concat(userClient, "--describe")).ok().out());

        String[] client = {"--entity-type", "clients", "--entity-name", "quota-solo"};
        assertEquals("Completed updating config for client quota-solo.\n",
                configs(concat(client, "--alter", "--add-config", "request_percentage=50")).ok().out());
        String[] clientDefault = {"--entity-type", "clients", "--entity-default"};
        assertEquals("Completed updating default config for clients in the cluster.\n",
                configs(concat(clientDefault, "--alter", "--add-config", "producer_byte_rate=4096")).ok().out());
        assertEquals("Quota configs for the default client-id are producer_byte_rate=4096.0\n",
                configs(concat(clientDefault, "--describe")).ok().out());
        // All client-id entities (without a user): the default and the named one.
        assertEquals(Set.of("Quota configs for the default client-id are producer_byte_rate=4096.0",
                        "Quota configs for client-id 'quota-solo' are request_percentage=50.0"),
                Arrays.stream(configs("--entity-type", "clients", "--describe").ok().out().split("\n"))
                        .collect(Collectors.toSet()));

        Tools.Result bad = configs(concat(client, "--alter", "--add-config", "producer_byte_rate=-5"));
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("Caused by: org.apache.kafka.common.errors.InvalidRequestException: "
                + "Quota producer_byte_rate must be greater than 0\n"), bad.err());

        assertEquals("Completed updating config for user quota-user.\n",
                configs(concat(userClient, "--alter", "--delete-config", "producer_byte_rate")).ok().out());
        assertEquals("Quota configs for user-principal 'quota-user', client-id 'quota-app' are "
                + "consumer_byte_rate=2097152.0\n", configs(concat(userClient, "--describe")).ok().out());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
