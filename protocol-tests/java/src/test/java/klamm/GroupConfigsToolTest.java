package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * kafka-configs --entity-type groups (Kafka 4.4.0's ConfigCommand) against Klamm: KIP-848
 * per-group configs described, altered and deleted, with Kafka's sources and validation.
 */
class GroupConfigsToolTest {
    static final String CONFIGS = "org.apache.kafka.tools.ConfigCommand";

    static Klamm klamm;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start();
    }

    @AfterAll
    static void stop() throws Exception {
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

    static String entry(String name, String value, String synonyms) {
        return "  " + name + "=" + value + " sensitive=false synonyms={" + synonyms + "}\n";
    }

    static String unset(String name, String value) {
        return entry(name, value, "DEFAULT_CONFIG:" + name + "=" + value);
    }

    @Test
    void describeAlterDeleteGroupConfigs() {
        String[] gc = {"--entity-type", "groups", "--entity-name", "gc"};
        // Any group id, existing or not: nothing set yet.
        assertEquals("Dynamic configs for group gc are:\n", configs(concat(gc, "--describe")).ok().out());
        assertEquals("Completed updating config for group gc.\n",
                configs(concat(gc, "--alter", "--add-config", "consumer.heartbeat.interval.ms=6000")).ok().out());
        String set = entry("consumer.heartbeat.interval.ms", "6000",
                "DYNAMIC_GROUP_CONFIG:consumer.heartbeat.interval.ms=6000");
        assertEquals("Dynamic configs for group gc are:\n" + set, configs(concat(gc, "--describe")).ok().out());
        // --all: the unset ones at the broker's group.consumer.* settings and Kafka's share and
        // streams defaults, each with its default as its one synonym (as Kafka lists them).
        assertEquals("All configs for group gc are:\n" + set
                        + unset("consumer.session.timeout.ms", "45000")
                        // Beyond Kafka 4.1: the share-group dead-letter configs (after KIP-1191).
                        + unset("errors.deadletterqueue.copy.record.enable", "true")
                        + unset("errors.deadletterqueue.topic.name", "")
                        + unset("share.auto.offset.reset", "latest")
                        + unset("share.heartbeat.interval.ms", "5000")
                        + unset("share.isolation.level", "read_uncommitted")
                        + unset("share.record.lock.duration.ms", "30000")
                        + unset("share.session.timeout.ms", "45000")
                        + unset("streams.heartbeat.interval.ms", "5000")
                        + unset("streams.num.standby.replicas", "0")
                        + unset("streams.session.timeout.ms", "45000"),
                configs(concat(gc, "--describe", "--all")).ok().out());
        // Below group.consumer.min.session.timeout.ms (45000): Kafka's INVALID_CONFIG message.
        Tools.Result bad = configs(concat(gc, "--alter", "--add-config", "consumer.session.timeout.ms=1000"));
        assertEquals(1, bad.exitCode());
        assertTrue(bad.err().contains("org.apache.kafka.common.errors.InvalidConfigurationException: "
                + "consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms"),
                bad.err());
        assertEquals("Completed updating config for group gc.\n",
                configs(concat(gc, "--alter", "--delete-config", "consumer.heartbeat.interval.ms")).ok().out());
        assertEquals("Dynamic configs for group gc are:\n", configs(concat(gc, "--describe")).ok().out());
    }

    static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
