package sarama122

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Shopify/sarama"
)

// config for sarama 1.22 at `version`. V1_0_0_0 produces record batches (message format v2,
// Produce v3+; below 0.11 sarama would send Produce v2 with message format v1, which Kafka 4 and
// Klamm refuse), while its offset manager still commits with OffsetCommit v1 (Retention 0) and
// fetches with OffsetFetch v1, and its ClusterAdmin describes configs with DescribeConfigs v0.
func config(version sarama.KafkaVersion) *sarama.Config {
	c := sarama.NewConfig()
	c.Version = version
	c.ClientID = "sarama-1.22"
	c.Producer.Return.Successes = true
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Consumer.Return.Errors = true
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Admin.Timeout = 10 * time.Second
	return c
}

func admin(t *testing.T, version sarama.KafkaVersion) sarama.ClusterAdmin {
	t.Helper()
	a, err := sarama.NewClusterAdmin([]string{broker.addr}, config(version))
	if err != nil {
		t.Fatalf("cluster admin: %v", err)
	}
	t.Cleanup(func() { _ = a.Close() })
	return a
}

func createTopic(t *testing.T, a sarama.ClusterAdmin, topic string, partitions int32, configs map[string]*string) {
	t.Helper()
	err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: partitions, ReplicationFactor: 1, ConfigEntries: configs}, false)
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

func produce(t *testing.T, topic string, n int) {
	t.Helper()
	p, err := sarama.NewSyncProducer([]string{broker.addr}, config(sarama.V1_0_0_0))
	if err != nil {
		t.Fatalf("producer: %v", err)
	}
	defer p.Close()
	for i := 0; i < n; i++ {
		part, off, err := p.SendMessage(&sarama.ProducerMessage{
			Topic: topic,
			Key:   sarama.StringEncoder(fmt.Sprintf("k%d", i)),
			Value: sarama.StringEncoder(fmt.Sprintf("v%d", i)),
		})
		if err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		if part != 0 || off != int64(i) {
			t.Fatalf("produce %d: partition %d offset %d", i, part, off)
		}
	}
}

// handler consumes until it has `want` messages, marking each, then signals done.
type handler struct {
	want  int
	mu    sync.Mutex
	got   []*sarama.ConsumerMessage
	done  chan struct{}
	close sync.Once
}

func (h *handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *handler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		if len(h.got) < h.want {
			h.got = append(h.got, m)
			// Mark the next offset to read, as a consumer does after processing m.
			s.MarkMessage(m, "sarama-1.22")
		}
		n := len(h.got)
		h.mu.Unlock()
		if n >= h.want {
			h.close.Do(func() { close(h.done) })
		}
	}
	return nil
}

// consumeInGroup joins `group`, consumes `want` messages of `topic`, and leaves (committing the
// marked offsets with OffsetCommit v1 on close).
func consumeInGroup(t *testing.T, group, topic string, want int) []*sarama.ConsumerMessage {
	t.Helper()
	cfg := config(sarama.V1_0_0_0)
	cfg.Consumer.Offsets.CommitInterval = 200 * time.Millisecond
	g, err := sarama.NewConsumerGroup([]string{broker.addr}, group, cfg)
	if err != nil {
		t.Fatalf("consumer group: %v", err)
	}
	h := &handler{want: want, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil {
				errs <- err
				return
			}
		}
	}()
	select {
	case <-h.done:
	case err := <-errs:
		cancel()
		t.Fatalf("consume: %v", err)
	case err := <-g.Errors():
		cancel()
		t.Fatalf("consumer group error: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("consumed %d of %d messages in 60s", len(h.got), want)
	}
	// Let the auto-commit tick send the marks, then close (which commits again).
	time.Sleep(500 * time.Millisecond)
	cancel()
	if err := g.Close(); err != nil {
		t.Fatalf("close consumer group: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got
}

// committed reads the group's committed offset of partition 0 with ClusterAdmin
// ListConsumerGroupOffsets (OffsetFetch v1 in sarama 1.22).
func committed(t *testing.T, group, topic string) (int64, string) {
	t.Helper()
	resp, err := admin(t, sarama.V1_0_0_0).ListConsumerGroupOffsets(group, map[string][]int32{topic: {0}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	b := resp.GetBlock(topic, 0)
	if b == nil || b.Err != sarama.ErrNoError {
		t.Fatalf("offset fetch block: %+v", b)
	}
	return b.Offset, b.Metadata
}

// Produce, consume in a consumer group, commit (OffsetCommit v1), and resume from the committed
// offset in a second run of the group.
func TestSarama122GroupCommitsAndResumes(t *testing.T) {
	topic := topicName(t)
	group := topic + "-group"
	createTopic(t, admin(t, sarama.V1_0_0_0), topic, 1, nil)
	produce(t, topic, 10)

	first := consumeInGroup(t, group, topic, 4)
	for i, m := range first {
		if m.Offset != int64(i) || string(m.Key) != fmt.Sprintf("k%d", i) || string(m.Value) != fmt.Sprintf("v%d", i) {
			t.Fatalf("first run message %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
		}
	}
	if off, meta := committed(t, group, topic); off != 4 || meta != "sarama-1.22" {
		t.Fatalf("committed after the first run: %d %q, want 4 \"sarama-1.22\"", off, meta)
	}

	second := consumeInGroup(t, group, topic, 6)
	for i, m := range second {
		want := int64(4 + i)
		if m.Offset != want || string(m.Value) != fmt.Sprintf("v%d", want) {
			t.Fatalf("second run message %d: offset %d value %q, want offset %d", i, m.Offset, m.Value, want)
		}
	}
	if off, _ := committed(t, group, topic); off != 10 {
		t.Fatalf("committed after the second run: %d, want 10", off)
	}
}

// The removed versions sarama 1.22 can be made to send directly through its Broker: OffsetCommit
// v0 and v1 read back with OffsetFetch v0 and v1, and ListOffsets v0's old-style offsets.
func TestSarama122OldVersionsThroughTheBroker(t *testing.T) {
	topic := topicName(t)
	group := topic + "-simple"
	createTopic(t, admin(t, sarama.V1_0_0_0), topic, 1, nil)
	produce(t, topic, 3)
	client, err := sarama.NewClient([]string{broker.addr}, config(sarama.V1_0_0_0))
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	defer client.Close()
	b, err := client.Leader(topic, 0)
	if err != nil {
		t.Fatalf("leader: %v", err)
	}
	for _, v := range []int16{0, 1} {
		commit := &sarama.OffsetCommitRequest{Version: v, ConsumerGroup: group, ConsumerGroupGeneration: -1}
		commit.AddBlock(topic, 0, int64(2+v), sarama.ReceiveTime, fmt.Sprintf("v%d", v))
		resp, err := b.CommitOffset(commit)
		if err != nil {
			t.Fatalf("OffsetCommit v%d: %v", v, err)
		}
		if e := resp.Errors[topic][0]; e != sarama.ErrNoError {
			t.Fatalf("OffsetCommit v%d: %v", v, e)
		}
		for _, fv := range []int16{0, 1} {
			fetch := &sarama.OffsetFetchRequest{Version: fv, ConsumerGroup: group}
			fetch.AddPartition(topic, 0)
			fr, err := b.FetchOffset(fetch)
			if err != nil {
				t.Fatalf("OffsetFetch v%d: %v", fv, err)
			}
			blk := fr.GetBlock(topic, 0)
			if blk == nil || blk.Err != sarama.ErrNoError || blk.Offset != int64(2+v) || blk.Metadata != fmt.Sprintf("v%d", v) {
				t.Fatalf("OffsetFetch v%d after OffsetCommit v%d: %+v", fv, v, blk)
			}
		}
	}
	req := &sarama.OffsetRequest{Version: 0}
	req.AddBlock(topic, 0, sarama.OffsetNewest, 10)
	resp, err := b.GetAvailableOffsets(req)
	if err != nil {
		t.Fatalf("ListOffsets v0: %v", err)
	}
	blk := resp.GetBlock(topic, 0)
	if blk == nil || blk.Err != sarama.ErrNoError || fmt.Sprint(blk.Offsets) != "[3 0]" {
		t.Fatalf("ListOffsets v0 latest: %+v", blk)
	}
	// The client's own GetOffset (ListOffsets v1 at this Version) agrees.
	if off, err := client.GetOffset(topic, 0, sarama.OffsetNewest); err != nil || off != 3 {
		t.Fatalf("GetOffset: %d %v", off, err)
	}
}

// ClusterAdmin.DescribeConfig sends DescribeConfigs v0: values, and is_default telling overrides
// from defaults.
func TestSarama122DescribeConfig(t *testing.T) {
	topic := topicName(t)
	a := admin(t, sarama.V1_0_0_0)
	retention := "3600000"
	createTopic(t, a, topic, 1, map[string]*string{"retention.ms": &retention})
	entries, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err != nil {
		t.Fatalf("describe config: %v", err)
	}
	byName := map[string]sarama.ConfigEntry{}
	for _, e := range entries {
		byName[e.Name] = e
	}
	r, ok := byName["retention.ms"]
	if !ok || r.Value != retention || r.Default || r.ReadOnly || r.Sensitive {
		t.Fatalf("retention.ms: %+v", r)
	}
	s, ok := byName["segment.bytes"]
	if !ok || s.Value != "1073741824" || !s.Default || s.ReadOnly {
		t.Fatalf("segment.bytes: %+v", s)
	}
	c, ok := byName["cleanup.policy"]
	if !ok || c.Value != "delete" || !c.Default {
		t.Fatalf("cleanup.policy: %+v", c)
	}
	// Only the requested names.
	some, err := a.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"retention.ms"}})
	if err != nil || len(some) != 1 || some[0].Value != retention {
		t.Fatalf("describe one config: %+v %v", some, err)
	}
}

// ClusterAdmin.CreateTopic below 0.11 sends CreateTopics v0, at 0.11 v1 (validate_only), at 1.0
// v2; each creates the topic with its partitions and configs, and a duplicate is refused.
func TestSarama122CreateTopic(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version sarama.KafkaVersion
	}{{"v0", sarama.V0_10_2_0}, {"v1", sarama.V0_11_0_0}, {"v2", sarama.V1_0_0_0}} {
		t.Run(tc.name, func(t *testing.T) {
			topic := topicName(t)
			a := admin(t, tc.version)
			segment := "10485760"
			createTopic(t, a, topic, 3, map[string]*string{"segment.bytes": &segment})
			md, err := a.DescribeTopics([]string{topic})
			if err != nil || len(md) != 1 || md[0].Err != sarama.ErrNoError || len(md[0].Partitions) != 3 {
				t.Fatalf("describe %s: %+v %v", topic, md, err)
			}
			entries, err := admin(t, sarama.V1_0_0_0).DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic, ConfigNames: []string{"segment.bytes"}})
			if err != nil || len(entries) != 1 || entries[0].Value != segment || entries[0].Default {
				t.Fatalf("segment.bytes of %s: %+v %v", topic, entries, err)
			}
			err = a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false)
			if err == nil {
				t.Fatalf("second create of %s succeeded", topic)
			}
			if te, ok := err.(*sarama.TopicError); !ok || te.Err != sarama.ErrTopicAlreadyExists {
				t.Fatalf("second create of %s: %v", topic, err)
			}
		})
	}
	// validate_only (v1+): checked, not created.
	topic := topicName(t)
	a := admin(t, sarama.V0_11_0_0)
	if err := a.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, true); err != nil {
		t.Fatalf("validate only: %v", err)
	}
	md, err := a.DescribeTopics([]string{topic})
	if err != nil || len(md) != 1 || md[0].Err != sarama.ErrUnknownTopicOrPartition {
		t.Fatalf("after validate only: %+v %v", md, err)
	}
}
