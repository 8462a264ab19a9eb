package klamm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The harness itself: a Klamm starts, and kafka-topics and the console tools reach it. */
class SmokeTest {
    static Klamm klamm;

    @BeforeAll
    static void start() throws Exception {
        klamm = Klamm.start();
    }

    @AfterAll
    static void stop() throws Exception {
        klamm.close();
    }

    @Test
    void consoleProducerThenConsumer() {
        String b = klamm.bootstrap();
        Tools.run("org.apache.kafka.tools.TopicCommand", "--bootstrap-server", b, "--create", "--topic", "smoke",
                "--partitions", "1").ok();
        Tools.runWithInput("org.apache.kafka.tools.ConsoleProducer", "a\nb\nc\n", "--bootstrap-server", b,
                "--topic", "smoke").ok();
        Tools.Result r = Tools.run("org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", b,
                "--topic", "smoke", "--from-beginning", "--max-messages", "3").ok();
        assertEquals("a\nb\nc\n", r.out());
    }
}
