package klamm;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A KafkaConsumer that joins a group (classic or KIP-848 consumer protocol) on its own thread,
 * commits the given offsets once it holds its whole assignment, and keeps polling (so it stays
 * a live member) until closed. KafkaConsumer is single-threaded: every call on it is made on
 * that thread, which also reads the member id the coordinator gave it.
 */
final class GroupMember implements AutoCloseable {
    private final Thread thread;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final CompletableFuture<String> memberId = new CompletableFuture<>();

    GroupMember(String bootstrap, String group, String protocol, String clientId, String topic, int partitions,
            Map<TopicPartition, OffsetAndMetadata> commit) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        thread = new Thread(() -> {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
                c.subscribe(List.of(topic));
                boolean committed = false;
                while (!stop.get()) {
                    c.poll(Duration.ofMillis(50));
                    if (!committed && c.assignment().size() == partitions) {
                        c.commitSync(commit);
                        committed = true;
                        memberId.complete(c.groupMetadata().memberId());
                    }
                }
            } catch (Throwable t) {
                memberId.completeExceptionally(t);
            }
        }, "group-member-" + clientId);
        thread.setDaemon(true);
        thread.start();
    }

    /** The member id, once the member holds its assignment and committed. */
    String awaitMemberId() throws Exception {
        return memberId.get(30, TimeUnit.SECONDS);
    }

    /** Leaves the group (KafkaConsumer.close sends LeaveGroup / a leave heartbeat). */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join(30_000);
    }
}
