package klamm;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads the record-batch headers of a partition straight from Klamm's data directory (Kafka's
 * on-disk format, v2 batches), so tests can compare what a tool reports (producer ids, epochs,
 * sequences, timestamps) with what is actually in the log, independently of the broker's APIs.
 */
final class LogBatches {
    /** One batch header (DefaultRecordBatch's fields). */
    record Batch(long baseOffset, long lastOffset, short attributes, long maxTimestamp, long producerId,
            short producerEpoch, int baseSequence, int recordCount) {
        boolean isControl() {
            return (attributes & 0x20) != 0;
        }

        boolean isTransactional() {
            return (attributes & 0x10) != 0;
        }

        int lastSequence() {
            return baseSequence + (int) (lastOffset - baseOffset);
        }
    }

    private LogBatches() {}

    /** Every batch of {@code topic-partition}, in offset order, across its segments. */
    static List<Batch> read(Path dataDir, String topic, int partition) throws IOException {
        Path dir = dataDir.resolve(topic + "-" + partition);
        List<Path> segments;
        try (Stream<Path> s = Files.list(dir)) {
            segments = s.filter(p -> p.getFileName().toString().endsWith(".log")).sorted().toList();
        }
        List<Batch> out = new ArrayList<>();
        for (Path seg : segments) {
            ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(seg));
            while (b.remaining() >= 61) {
                int start = b.position();
                long baseOffset = b.getLong(start);
                int length = b.getInt(start + 8);
                if (length <= 0 || start + 12 + length > b.limit()) {
                    break; // preallocated or torn tail
                }
                short attributes = b.getShort(start + 21);
                int lastOffsetDelta = b.getInt(start + 23);
                long maxTimestamp = b.getLong(start + 35);
                long producerId = b.getLong(start + 43);
                short producerEpoch = b.getShort(start + 51);
                int baseSequence = b.getInt(start + 53);
                int count = b.getInt(start + 57);
                out.add(new Batch(baseOffset, baseOffset + lastOffsetDelta, attributes, maxTimestamp, producerId,
                        producerEpoch, baseSequence, count));
                b.position(start + 12 + length);
            }
        }
        return out;
    }
}
