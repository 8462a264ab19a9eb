// The JVM half of klamm-bench's share-group scenarios (src/share.rs). The librdkafka that
// rust-rdkafka bundles (2.12) has no share consumer, so share
// consumers are Kafka's own Java KafkaShareConsumer, and the plain consumer they are compared with
// is the same client family's KafkaConsumer: a comparison within one client, so the ratio shows
// the broker's share path, not a difference between clients.
//
// Launched by klamm-bench as a single-file source program (`java -cp <kafka-clients classpath>
// ShareBench.java MODE ...`). It talks to klamm-bench over stdout, one line each:
//   READY                      the measured window opens now (consumers are created after it)
//   DONE_AT                    (consume) the last offset arrived: the window closed
//   DONE k=v ...               figures of the run (latency mode: the window closes here)
// Anything else on stdout is ignored; diagnostics go to stderr.
//
// Modes:
//   consume BOOTSTRAP TOPIC RECORDS share|plain CONSUMERS GROUP MAX_POLL_RECORDS TIMEOUT_MS
//     Reads all RECORDS records of partition 0 of TOPIC (offsets 0..RECORDS-1). share: CONSUMERS
//     KafkaShareConsumers (one thread each) in share group GROUP, implicit acknowledgement (the
//     default share.acknowledgement.mode), after share.auto.offset.reset=earliest was set on GROUP
//     with IncrementalAlterConfigs (KIP-932: the default `latest` would skip the pre-filled log).
//     plain: one KafkaConsumer of group GROUP (group.protocol=consumer, auto.offset.reset=earliest,
//     no commits). The window ends when every offset has been delivered at least once; redeliveries
//     (an offset delivered twice) are counted, not hidden.
//   latency BOOTSTRAP TOPIC share|plain GROUP RATE WARMUP_MS DURATION_MS PAYLOAD TIMEOUT_MS
//     A KafkaProducer (acks=all, idempotent, linger.ms=0) sends PAYLOAD-byte records at RATE/s,
//     paced against absolute deadlines; one consumer (fetch.max.wait.ms=500) in the same JVM
//     stamps each arrival against the same System.nanoTime clock the payload carries.
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class ShareBench {
    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "consume" -> consume(args);
            case "latency" -> latency(args);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    /** One poll loop's view of the records it got. */
    interface Poller extends AutoCloseable {
        ConsumerRecords<byte[], byte[]> poll(Duration timeout);

        @Override
        void close();
    }

    static Properties consumerProps(String bootstrap, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "klamm-bench-java");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    /** The same fetch sizing klamm-bench's librdkafka consumer uses (consume.rs). */
    static void throughputFetch(Properties p) {
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, "52428800");
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "10485760");
        p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, "1048576");
    }

    static Poller shareConsumer(Properties p, String topic) {
        KafkaShareConsumer<byte[], byte[]> c = new KafkaShareConsumer<>(p);
        c.subscribe(List.of(topic));
        return new Poller() {
            public ConsumerRecords<byte[], byte[]> poll(Duration t) { return c.poll(t); }
            public void close() {
                // In implicit mode close() does not accept the records of the last poll: it
                // "releases any acquired records without acknowledgement" (KafkaShareConsumer's
                // javadoc; its ShareAcknowledge with epoch -1 carries no batches), so the broker
                // makes them available again and the members still polling get them a second
                // time. The poll loop has processed them, so they are accepted first, as an
                // application does with commitSync() (which accepts every delivered record).
                c.commitSync(Duration.ofSeconds(5));
                c.close(Duration.ofSeconds(5));
            }
        };
    }

    static Poller plainConsumer(Properties p, String topic) {
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p);
        c.subscribe(List.of(topic));
        return new Poller() {
            public ConsumerRecords<byte[], byte[]> poll(Duration t) { return c.poll(t); }
            public void close() { c.close(); }
        };
    }

    /** share.auto.offset.reset=earliest on GROUP, before any member joins (KIP-932 group config). */
    static void earliest(String bootstrap, String group) throws ExecutionException, InterruptedException {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, group);
            AlterConfigOp op = new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                AlterConfigOp.OpType.SET);
            admin.incrementalAlterConfigs(Map.of(res, List.of(op))).all().get();
        }
    }

    static void consume(String[] a) throws Exception {
        String bootstrap = a[1], topic = a[2];
        int records = Integer.parseInt(a[3]);
        boolean share = a[4].equals("share");
        int consumers = Integer.parseInt(a[5]);
        String group = a[6];
        String maxPoll = a[7];
        long timeoutNs = Long.parseLong(a[8]) * 1_000_000L;
        if (share) {
            earliest(bootstrap, group);
        } else if (consumers != 1) {
            throw new IllegalArgumentException("plain mode runs one consumer");
        }

        BitSet seen = new BitSet(records);
        AtomicLong distinct = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicLong firstRecordNs = new AtomicLong(-1);
        AtomicLong firstDuplicateNs = new AtomicLong(-1);
        AtomicLong lateDuplicates = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long[] perConsumer = new long[consumers];
        long[] polls = new long[consumers];
        // Every consumer is created and subscribes (joins its group) on its own thread, inside
        // the window: joining is part of what a share consumer costs, and the plain consumer
        // pays its own join the same way.
        System.out.println("READY");
        System.out.flush();
        long start = System.nanoTime();
        Thread[] threads = new Thread[consumers];
        for (int i = 0; i < consumers; i++) {
            final int id = i;
            threads[i] = new Thread(() -> {
                Poller poller = null;
                try {
                    Properties p = consumerProps(bootstrap, group);
                    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "klamm-bench-java-" + id);
                    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, maxPoll);
                    throughputFetch(p);
                    poller = share ? shareConsumer(p, topic) : plainConsumer(p, topic);
                    while (!stop.get()) {
                        ConsumerRecords<byte[], byte[]> got = poller.poll(Duration.ofMillis(100));
                        if (got.isEmpty()) continue;
                        polls[id]++;
                        long n = 0, dup = 0, b = 0;
                        for (ConsumerRecord<byte[], byte[]> r : got) {
                            n++;
                            b += r.value() == null ? 0 : r.value().length;
                            int off = (int) r.offset();
                            synchronized (seen) {
                                if (seen.get(off)) dup++; else seen.set(off);
                            }
                        }
                        firstRecordNs.compareAndSet(-1, System.nanoTime());
                        perConsumer[id] += n;
                        bytes.addAndGet(b);
                        duplicates.addAndGet(dup);
                        if (dup > 0) firstDuplicateNs.compareAndSet(-1, System.nanoTime());
                        // Redeliveries that came after every offset had been seen once.
                        if (dup > 0 && stop.get()) lateDuplicates.addAndGet(dup);
                        if (distinct.addAndGet(n - dup) >= records) stop.set(true);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                    stop.set(true);
                } finally {
                    if (poller != null) {
                        try {
                            poller.close(); // outside the window: `end` was taken when the last offset arrived
                        } catch (Throwable t) {
                            failure.compareAndSet(null, t);
                        }
                    }
                }
            }, "consumer-" + i);
        }
        // Closing happens after the window: `end` is taken when the last offset arrives.
        for (Thread t : threads) t.start();
        long end;
        while (true) {
            if (stop.get()) { end = System.nanoTime(); break; }
            if (System.nanoTime() - start > timeoutNs) {
                stop.set(true);
                System.err.printf("timed out: %d of %d offsets delivered%n", distinct.get(), records);
                for (Thread t : threads) t.join(10_000);
                System.exit(2);
            }
            LockSupport.parkNanos(100_000);
        }
        // The consumer that saw the last offset set `stop`; `end` is within 0.1 ms of it.
        System.out.println("DONE_AT");
        System.out.flush();
        for (Thread t : threads) t.join(30_000);
        if (failure.get() != null) {
            failure.get().printStackTrace();
            System.exit(3);
        }
        long totalPolls = Arrays.stream(polls).sum();
        long delivered = Arrays.stream(perConsumer).sum();
        System.out.printf("DONE records=%d delivered=%d duplicates=%d late_duplicates=%d bytes=%d elapsed_ns=%d first_ns=%d first_duplicate_ns=%d polls=%d per_consumer=%s%n",
            distinct.get(), delivered, duplicates.get(), lateDuplicates.get(), bytes.get(), end - start,
            firstRecordNs.get() - start,
            firstDuplicateNs.get() < 0 ? -1 : firstDuplicateNs.get() - start, totalPolls,
            String.join(",", Arrays.stream(perConsumer).mapToObj(Long::toString).toList()));
        System.out.flush();
    }

    static void latency(String[] a) throws Exception {
        String bootstrap = a[1], topic = a[2];
        boolean share = a[3].equals("share");
        String group = a[4];
        long rate = Long.parseLong(a[5]);
        long warmupMs = Long.parseLong(a[6]), durationMs = Long.parseLong(a[7]);
        int payloadLen = Math.max(16, Integer.parseInt(a[8]));
        long timeoutMs = Long.parseLong(a[9]);
        if (share) earliest(bootstrap, group);

        long warmup = rate * warmupMs / 1000, measured = Math.max(1, rate * durationMs / 1000);
        long total = warmup + measured;
        long[] latencies = new long[(int) measured];
        AtomicLong received = new AtomicLong();
        AtomicLong got = new AtomicLong();
        AtomicLong duplicates = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();

        Properties cp = consumerProps(bootstrap, group);
        cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "500");
        cp.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.ACKS_CONFIG, "all");
        pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "none");
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        BitSet seen = new BitSet((int) total + 1);
        Thread consumer = new Thread(() -> {
            try (Poller c = share ? shareConsumer(cp, topic) : plainConsumer(cp, topic)) {
                while (!stop.get()) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
                        long now = System.nanoTime();
                        ByteBuffer v = ByteBuffer.wrap(r.value());
                        long sent = v.getLong(0), seq = v.getLong(8);
                        got.incrementAndGet();
                        // seq 0 is the probe sent before the warm-up; later ones are timed.
                        if (seq <= 0) continue;
                        if (seen.get((int) seq)) {
                            duplicates.incrementAndGet();
                            continue;
                        }
                        seen.set((int) seq);
                        if (seq > warmup) latencies[(int) (seq - warmup - 1)] = now - sent;
                        if (received.incrementAndGet() >= total) stop.set(true);
                    }
                }
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
                stop.set(true);
            }
        }, "consumer");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
            consumer.start();
            // A probe record, repeated until the consumer gets one, so its join (and for share
            // groups the share partition's initialisation) is over before the warm-up starts.
            long probeDeadline = System.nanoTime() + timeoutMs * 1_000_000L;
            while (got.get() == 0) {
                byte[] probe = new byte[payloadLen];
                producer.send(new ProducerRecord<>(topic, 0, null, probe)).get();
                long until = System.nanoTime() + 200_000_000L;
                while (got.get() == 0 && System.nanoTime() < until && failure.get() == null) LockSupport.parkNanos(1_000_000);
                if (failure.get() != null || System.nanoTime() > probeDeadline) break;
            }
            if (failure.get() != null) { failure.get().printStackTrace(); System.exit(3); }
            if (got.get() == 0) { System.err.println("the consumer never got the probe record"); System.exit(2); }
            long epoch = System.nanoTime();
            long interval = 1_000_000_000L / rate;
            AtomicReference<Exception> sendError = new AtomicReference<>();
            long windowStart = 0;
            for (long seq = 1; seq <= total; seq++) {
                long due = epoch + (seq - 1) * interval;
                long wait = due - System.nanoTime();
                if (wait > 0) LockSupport.parkNanos(wait);
                if (seq == warmup + 1) {
                    windowStart = System.nanoTime();
                    System.out.println("READY");
                    System.out.flush();
                }
                byte[] payload = new byte[payloadLen];
                ByteBuffer.wrap(payload).putLong(0, System.nanoTime()).putLong(8, seq);
                producer.send(new ProducerRecord<>(topic, 0, null, payload), (md, e) -> {
                    if (e != null) sendError.compareAndSet(null, e);
                });
            }
            producer.flush();
            if (sendError.get() != null) throw sendError.get();
            long drainDeadline = System.nanoTime() + 10_000_000_000L;
            while (!stop.get() && System.nanoTime() < drainDeadline) LockSupport.parkNanos(1_000_000);
            long end = System.nanoTime();
            stop.set(true);
            consumer.join(30_000);
            if (failure.get() != null) { failure.get().printStackTrace(); System.exit(3); }
            if (received.get() < total) {
                System.err.printf("received %d of %d records%n", received.get(), total);
                System.exit(2);
            }
            long[] sorted = latencies.clone();
            Arrays.sort(sorted);
            System.out.printf("DONE records=%d bytes=%d elapsed_ns=%d p50_ns=%d p99_ns=%d p999_ns=%d max_ns=%d duplicates=%d%n",
                measured, measured * payloadLen, end - windowStart, rank(sorted, 0.50), rank(sorted, 0.99),
                rank(sorted, 0.999), sorted[sorted.length - 1], duplicates.get());
            System.out.flush();
        }
    }

    /** Nearest-rank percentile, as klamm-bench's report.rs computes it. */
    static long rank(long[] sorted, double q) {
        int idx = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }
}
