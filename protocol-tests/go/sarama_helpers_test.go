package gotier

import (
	"fmt"
	"log"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
)

// saramaVersions are the two protocol levels sarama runs at: the newest it knows (it clamps each
// request to the versions Klamm's ApiVersions advertises) and its default, Kafka 2.8.
var saramaVersions = []struct {
	name    string
	version sarama.KafkaVersion
}{
	{"newest", sarama.MaxVersion},
	{"default", sarama.DefaultVersion},
}

// saramaLog collects what sarama logs (its one global logger). sarama reports protocol trouble
// as errors to the caller, but also logs some of it, e.g. "Error while sending ApiVersionsRequest"
// or a response it could not decode: those lines fail the test that was running.
var saramaLog = &lineLog{}

type lineLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.lines = append(l.lines, line)
	}
	return len(p), nil
}

func (l *lineLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *lineLog) since(i int) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines[i:]...)
}

func init() {
	sarama.Logger = log.New(saramaLog, "[sarama] ", log.Lmicroseconds)
}

// saramaComplaint are sarama log lines that mean Klamm sent something sarama did not accept.
var saramaComplaint = regexp.MustCompile(`(?i)decod|malformed|insufficient data|invalid length|unknown (api|error)|unsupported version|Error while sending ApiVersions|packet|unexpected`)

// watchSarama fails t for every complaint sarama logged while t ran; with -v the whole log of
// the test is printed when it failed.
func watchSarama(t *testing.T) {
	start := saramaLog.mark()
	t.Cleanup(func() {
		lines := saramaLog.since(start)
		for _, l := range lines {
			if saramaComplaint.MatchString(l) {
				t.Errorf("sarama complained: %s", l)
			}
		}
		if t.Failed() || testing.Verbose() && os.Getenv("SARAMA_LOG") != "" {
			t.Logf("sarama log:\n%s", strings.Join(lines, "\n"))
		}
	})
}

// saramaConfig is sarama's configuration for the tests at version v.
func saramaConfig(v sarama.KafkaVersion) *sarama.Config {
	c := sarama.NewConfig()
	c.Version = v
	c.ClientID = "klamm-go-sarama"
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 10 * time.Second
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Producer.Return.Successes = true
	c.Producer.Return.Errors = true
	c.Consumer.Return.Errors = true
	c.Consumer.MaxWaitTime = 200 * time.Millisecond
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	return c
}

func saramaAdmin(t *testing.T, v sarama.KafkaVersion) sarama.ClusterAdmin {
	t.Helper()
	adm, err := sarama.NewClusterAdmin([]string{broker.addr}, saramaConfig(v))
	if err != nil {
		t.Fatalf("sarama.NewClusterAdmin: %v", err)
	}
	t.Cleanup(func() { _ = adm.Close() })
	return adm
}

// saramaConsume reads n messages of topic/partition from offset with sarama's consumer (the
// caller checks the end offset to know there are no more).
func saramaConsume(t *testing.T, cfg *sarama.Config, topic string, partition int32, offset int64, n int) []*sarama.ConsumerMessage {
	t.Helper()
	c, err := sarama.NewConsumer([]string{broker.addr}, cfg)
	if err != nil {
		t.Fatalf("sarama.NewConsumer: %v", err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, partition, offset)
	if err != nil {
		t.Fatalf("ConsumePartition %s[%d]@%d: %v", topic, partition, offset, err)
	}
	defer pc.Close()
	var out []*sarama.ConsumerMessage
	timeout := time.After(15 * time.Second)
	for len(out) < n {
		select {
		case m := <-pc.Messages():
			out = append(out, m)
		case e := <-pc.Errors():
			t.Fatalf("consume %s[%d]: %v", topic, partition, e)
		case <-timeout:
			t.Fatalf("consumed %d of %d messages from %s[%d]", len(out), n, topic, partition)
		}
	}
	return out
}

func saramaHeaders(hs []*sarama.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = fmt.Sprintf("%s=%s", h.Key, h.Value)
	}
	return strings.Join(parts, ",")
}

// endOffsets lists the log end offset of each partition of topic.
func endOffsets(t *testing.T, topic string) map[int32]int64 {
	t.Helper()
	lo, err := newAdmin(t).ListEndOffsets(ctxFor(t, 10*time.Second), topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s[%d]: %v", topic, o.Partition, o.Err)
		}
		out[o.Partition] = o.Offset
	})
	return out
}
