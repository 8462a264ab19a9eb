package gotier

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSaramaProduce sends keyed records with headers through sarama's SyncProducer (idempotent
// at the newest version) and AsyncProducer with every codec, at sarama's newest and default
// versions, and reads them back with sarama's consumer (exact offsets, keys, values, headers)
// and with franz-go, which also shows the codec each batch is stored with and the producer id.
func TestSaramaProduce(t *testing.T) {
	codecs := []struct {
		name  string
		codec sarama.CompressionCodec
	}{
		{"none", sarama.CompressionNone},
		{"gzip", sarama.CompressionGZIP},
		{"snappy", sarama.CompressionSnappy},
		{"lz4", sarama.CompressionLZ4},
		{"zstd", sarama.CompressionZSTD},
	}
	adm := newAdmin(t)
	for _, v := range saramaVersions {
		for _, c := range codecs {
			for _, async := range []bool{false, true} {
				v, c, async := v, c, async
				kind := "sync"
				if async {
					kind = "async"
				}
				t.Run(fmt.Sprintf("%s-%s-%s", v.name, c.name, kind), func(t *testing.T) {
					t.Parallel()
					watchSarama(t)
					topic := topicName(t)
					createTopic(t, adm, topic, 1, nil)
					cfg := saramaConfig(v.version)
					cfg.Producer.Compression = c.codec
					cfg.Producer.Flush.Messages = 10 // batches of several records
					cfg.Producer.Flush.Frequency = 20 * time.Millisecond
					idempotent := v.version == sarama.MaxVersion
					if idempotent {
						cfg.Producer.Idempotent = true
						cfg.Producer.RequiredAcks = sarama.WaitForAll
						cfg.Net.MaxOpenRequests = 1
					}
					const n = 30
					var msgs []*sarama.ProducerMessage
					for i := 0; i < n; i++ {
						msgs = append(msgs, &sarama.ProducerMessage{
							Topic: topic,
							Key:   sarama.StringEncoder(fmt.Sprintf("key-%02d", i)),
							Value: sarama.ByteEncoder(bytes.Repeat([]byte(fmt.Sprintf("sarama %s %02d ", c.name, i)), 20)),
							Headers: []sarama.RecordHeader{
								{Key: []byte("codec"), Value: []byte(c.name)},
								{Key: []byte("i"), Value: []byte(fmt.Sprint(i))},
							},
						})
					}
					if async {
						p, err := sarama.NewAsyncProducer([]string{broker.addr}, cfg)
						if err != nil {
							t.Fatalf("NewAsyncProducer: %v", err)
						}
						for _, m := range msgs {
							p.Input() <- m
						}
						timeout := time.After(15 * time.Second)
						for i := 0; i < n; i++ {
							select {
							case <-p.Successes():
							case e := <-p.Errors():
								t.Fatalf("async produce: %v", e)
							case <-timeout:
								t.Fatalf("%d of %d acknowledged", i, n)
							}
						}
						if err := p.Close(); err != nil {
							t.Fatalf("close async producer: %v", err)
						}
					} else {
						p, err := sarama.NewSyncProducer([]string{broker.addr}, cfg)
						if err != nil {
							t.Fatalf("NewSyncProducer: %v", err)
						}
						if err := p.SendMessages(msgs); err != nil {
							t.Fatalf("send messages: %v", err)
						}
						if err := p.Close(); err != nil {
							t.Fatalf("close sync producer: %v", err)
						}
					}
					// Acknowledged offsets: the partition's offsets 0..n-1, in send order (one
					// partition, ordered by sarama's per-partition queue).
					for i, m := range msgs {
						if m.Partition != 0 || m.Offset != int64(i) {
							t.Fatalf("message %d acknowledged at %d/%d, want 0/%d", i, m.Partition, m.Offset, i)
						}
					}
					if e := endOffsets(t, topic); fmt.Sprint(e) != fmt.Sprintf("map[0:%d]", n) {
						t.Fatalf("end offsets %v, want %d", e, n)
					}
					got := saramaConsume(t, saramaConfig(v.version), topic, 0, sarama.OffsetOldest, n)
					for i, m := range got {
						want, _ := msgs[i].Value.Encode()
						if m.Offset != int64(i) || string(m.Key) != fmt.Sprintf("key-%02d", i) || !bytes.Equal(m.Value, want) {
							t.Fatalf("message %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
						}
						if hs, wh := saramaHeaders(m.Headers), fmt.Sprintf("codec=%s,i=%d", c.name, i); hs != wh {
							t.Fatalf("message %d headers %q, want %q", i, hs, wh)
						}
						if m.Timestamp.IsZero() || time.Since(m.Timestamp) > time.Minute {
							t.Fatalf("message %d timestamp %v", i, m.Timestamp)
						}
					}
					// franz-go reads the same records and shows how they are stored.
					kc := newClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
					for i, r := range consumeN(t, kc, n, 10*time.Second) {
						if got := r.Attrs.CompressionType(); got != uint8(c.codec) {
							t.Fatalf("offset %d stored with codec %d, want %d (%s)", i, got, c.codec, c.name)
						}
						if idempotent && (r.ProducerID < 0 || r.ProducerEpoch != 0) {
							t.Fatalf("offset %d: producer id %d epoch %d, want an idempotent producer's", i, r.ProducerID, r.ProducerEpoch)
						}
						if !idempotent && r.ProducerID != -1 {
							t.Fatalf("offset %d: producer id %d from a non-idempotent producer", i, r.ProducerID)
						}
					}
				})
			}
		}
	}
}
