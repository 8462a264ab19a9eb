package gotier

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestFranzCodecs produces keyed records with headers through franz-go's idempotent producer
// (its default) with every codec, and reads them back: exact offsets, keys, values, headers,
// the codec of the batch as stored, and the producer id of the idempotent producer.
func TestFranzCodecs(t *testing.T) {
	codecs := []struct {
		name  string
		codec kgo.CompressionCodec
		attr  uint8 // Kafka's batch attribute compression bits
	}{
		{"none", kgo.NoCompression(), 0},
		{"gzip", kgo.GzipCompression(), 1},
		{"snappy", kgo.SnappyCompression(), 2},
		{"lz4", kgo.Lz4Compression(), 3},
		{"zstd", kgo.ZstdCompression(), 4},
	}
	// franz-go negotiates the newest versions both sides know; capped at Kafka 2.8 and 1.1 it
	// sends the older Produce/Fetch/ListOffsets/Metadata versions (Fetch without topic ids and
	// sessions' newer fields, Produce v5-v9), which Klamm still serves.
	versions := []struct {
		name string
		max  *kversion.Versions
	}{
		{"newest", nil},
		{"v2.8", kversion.V2_8_0()},
		{"v1.1", kversion.V1_1_0()},
	}
	adm := newAdmin(t)
	for _, v := range versions {
		for _, c := range codecs {
			if v.name == "v1.1" && c.name == "zstd" {
				continue // zstd needs Produce v7 (Kafka 2.1, KIP-110); 1.1 has no zstd
			}
			v, c := v, c
			t.Run(v.name+"-"+c.name, func(t *testing.T) {
				t.Parallel()
				topic := topicName(t)
				createTopic(t, adm, topic, 1, nil)
				const n = 50
				var capOpt []kgo.Opt
				if v.max != nil {
					capOpt = []kgo.Opt{kgo.MaxVersions(v.max)}
				}
				p := newClient(t, append(capOpt, kgo.ProducerBatchCompression(c.codec), kgo.DefaultProduceTopic(topic),
					kgo.ProducerLinger(50*time.Millisecond))...)
				ctx := ctxFor(t, 15*time.Second)
				var recs []*kgo.Record
				for i := 0; i < n; i++ {
					recs = append(recs, &kgo.Record{
						Key: []byte(fmt.Sprintf("key-%03d", i)),
						// Repetitive so every codec really shrinks the batch.
						Value: bytes.Repeat([]byte(fmt.Sprintf("%s value %03d ", c.name, i)), 20),
						Headers: []kgo.RecordHeader{
							{Key: "codec", Value: []byte(c.name)},
							{Key: "i", Value: []byte(fmt.Sprint(i))},
						},
					})
				}
				// One ProduceSync of many records: franz-go batches them.
				res := p.ProduceSync(ctx, recs...)
				if err := res.FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
				for i, r := range res {
					if r.Record.Offset != int64(i) || r.Record.Partition != 0 {
						t.Fatalf("record %d acknowledged at %d/%d, want 0/%d", i, r.Record.Partition, r.Record.Offset, i)
					}
				}
				c2 := newClient(t, append(capOpt, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
				got := consumeN(t, c2, n, 15*time.Second)
				for i, r := range got {
					if r.Offset != int64(i) {
						t.Fatalf("record %d at offset %d", i, r.Offset)
					}
					if want := fmt.Sprintf("key-%03d", i); string(r.Key) != want {
						t.Fatalf("offset %d key %q want %q", i, r.Key, want)
					}
					if !bytes.Equal(r.Value, recs[i].Value) {
						t.Fatalf("offset %d value %q want %q", i, r.Value, recs[i].Value)
					}
					if hs, want := headersString(r.Headers), fmt.Sprintf("codec=%s,i=%d", c.name, i); hs != want {
						t.Fatalf("offset %d headers %q want %q", i, hs, want)
					}
					if got := r.Attrs.CompressionType(); got != c.attr {
						t.Fatalf("offset %d stored with compression %d, want %d (%s)", i, got, c.attr, c.name)
					}
					// franz-go's default producer is idempotent: a producer id, epoch 0, and
					// sequence numbers counting the records from 0.
					if r.ProducerID < 0 || r.ProducerEpoch != 0 {
						t.Fatalf("offset %d producer id %d epoch %d: not from an idempotent producer", i, r.ProducerID, r.ProducerEpoch)
					}
					if r.ProducerID != got[0].ProducerID {
						t.Fatalf("offset %d producer id %d, first record had %d", i, r.ProducerID, got[0].ProducerID)
					}
					if r.Timestamp.IsZero() || time.Since(r.Timestamp) > time.Minute {
						t.Fatalf("offset %d timestamp %v", i, r.Timestamp)
					}
				}
				// Nothing more than what was produced.
				if e := endOffsets(t, topic); fmt.Sprint(e) != fmt.Sprintf("map[0:%d]", n) {
					t.Fatalf("end offsets %v, want %d", e, n)
				}
			})
		}
	}
}
