package gotier

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// strictLogger is franz-go's logger for these tests. franz-go checks the protocol strictly and
// says so at warning or error level (a response it cannot decode, a field it did not expect, an
// error code where none belongs); every such line fails the test, because each is a Klamm bug.
// Only lines listed in expectedFranzLog pass: they are about connections the test itself closes
// or a state the test creates on purpose, never about what Klamm sent.
type strictLogger struct {
	t *testing.T
	c *complaints
}

// expectedFranzLog are warning-level lines that say nothing about Klamm's protocol.
var expectedFranzLog = []*regexp.Regexp{}

func (l *strictLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (l *strictLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", level, msg)
	for i := 0; i+1 < len(keyvals); i += 2 {
		fmt.Fprintf(&b, " %v=%v", keyvals[i], keyvals[i+1])
	}
	line := b.String()
	for _, re := range expectedFranzLog {
		if re.MatchString(line) {
			return
		}
	}
	l.c.add(line)
}

// franzLogger returns a logger that fails t (at its end) for every unexpected warning or error
// franz-go logs.
func franzLogger(t *testing.T) kgo.Logger {
	t.Helper()
	l := &strictLogger{t: t, c: &complaints{}}
	t.Cleanup(func() {
		for _, line := range l.c.all() {
			t.Errorf("franz-go complained: %s", line)
		}
	})
	return l
}

// strictHooks records what franz-go does not always log at warning level: a response it could
// not read or decode (a short or malformed frame; the client's own closing aside) and a
// throttle Klamm should not impose (the test broker has no quotas).
type strictHooks struct{ c *complaints }

func (h *strictHooks) OnBrokerRead(meta kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil || errors.Is(err, net.ErrClosed) || errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return
	}
	h.c.add(fmt.Sprintf("reading the %s response from node %d: %v", kmsg.NameForKey(key), meta.NodeID, err))
}

func (h *strictHooks) OnBrokerThrottle(meta kgo.BrokerMetadata, throttleInterval time.Duration, _ bool) {
	h.c.add(fmt.Sprintf("node %d throttled a response by %v", meta.NodeID, throttleInterval))
}

func franzHooks(t *testing.T) kgo.Opt {
	h := &strictHooks{c: &complaints{}}
	t.Cleanup(func() {
		for _, line := range h.c.all() {
			t.Errorf("franz-go hook: %s", line)
		}
	})
	return kgo.WithHooks(h)
}

// newClient is a kgo client on the test broker with the strict logger; extra options follow.
func newClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	base := []kgo.Opt{
		kgo.SeedBrokers(broker.addr),
		kgo.WithLogger(franzLogger(t)),
		franzHooks(t),
		kgo.RetryTimeout(10 * time.Second),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatalf("kgo.NewClient: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// newAdmin is a kadm client over its own strict kgo client.
func newAdmin(t *testing.T) *kadm.Client {
	t.Helper()
	return kadm.NewClient(newClient(t))
}

// createTopic creates a topic with kadm and fails the test unless Klamm reports success.
func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(ctxFor(t, 10*time.Second), partitions, 1, configs, topic)
	if err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	if resp.Err != nil {
		t.Fatalf("create topic %s: %v", topic, resp.Err)
	}
	if resp.NumPartitions != partitions || resp.ReplicationFactor != 1 {
		t.Fatalf("create topic %s: got %d partitions rf %d", topic, resp.NumPartitions, resp.ReplicationFactor)
	}
}

// consumeN polls cl until n records arrived (or the deadline), failing on fetch errors.
func consumeN(t *testing.T, cl *kgo.Client, n int, d time.Duration) []*kgo.Record {
	t.Helper()
	ctx := ctxFor(t, d)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records before the deadline", len(out), n)
		}
		for _, e := range fs.Errors() {
			t.Fatalf("fetch %s[%d]: %v", e.Topic, e.Partition, e.Err)
		}
		out = append(out, fs.Records()...)
	}
	if len(out) != n {
		t.Fatalf("consumed %d records, want exactly %d", len(out), n)
	}
	return out
}

// headersString renders headers as k=v pairs in order, for exact comparisons.
func headersString(hs []kgo.RecordHeader) string {
	parts := make([]string, len(hs))
	for i, h := range hs {
		parts[i] = h.Key + "=" + string(h.Value)
	}
	return strings.Join(parts, ",")
}
