package gotier

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

// saramaMember is one sarama ConsumerGroup member consuming in the background: it keeps the
// partitions it currently consumes (a ConsumeClaim running for each: with the cooperative
// strategy a session outlives a rebalance and only some claims end) and every message it
// consumed, marking each.
type saramaMember struct {
	name   string
	cg     sarama.ConsumerGroup
	mu     sync.Mutex
	claims map[int32]bool
	msgs   []*sarama.ConsumerMessage
	errs   []error
	cancel context.CancelFunc
	done   chan struct{}
}

func (m *saramaMember) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (m *saramaMember) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *saramaMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	m.mu.Lock()
	m.claims[c.Partition()] = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.claims, c.Partition())
		m.mu.Unlock()
	}()
	for msg := range c.Messages() {
		m.mu.Lock()
		m.msgs = append(m.msgs, msg)
		m.mu.Unlock()
		s.MarkMessage(msg, "")
	}
	return nil
}

func (m *saramaMember) claimed() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.claims {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func (m *saramaMember) owned() string { return fmt.Sprint(m.claimed()) }

func (m *saramaMember) consumed() []*sarama.ConsumerMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*sarama.ConsumerMessage(nil), m.msgs...)
}

func startSaramaMember(t *testing.T, name, group, topic string, v sarama.KafkaVersion, strategy sarama.BalanceStrategy) *saramaMember {
	t.Helper()
	cfg := saramaConfig(v)
	cfg.ClientID = name
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{strategy}
	// A member learns of a rebalance at its next heartbeat (sarama's default 3 s); 300 ms keeps
	// the joins short. Commits every 100 ms instead of 1 s for the same reason.
	cfg.Consumer.Group.Heartbeat.Interval = 300 * time.Millisecond
	cfg.Consumer.Offsets.AutoCommit.Interval = 100 * time.Millisecond
	cg, err := sarama.NewConsumerGroup([]string{broker.addr}, group, cfg)
	if err != nil {
		t.Fatalf("NewConsumerGroup: %v", err)
	}
	m := &saramaMember{name: name, cg: cg, claims: map[int32]bool{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		for e := range cg.Errors() {
			m.mu.Lock()
			m.errs = append(m.errs, e)
			m.mu.Unlock()
		}
	}()
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, []string{topic}, m); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				m.mu.Lock()
				m.errs = append(m.errs, err)
				m.mu.Unlock()
				return
			}
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *saramaMember) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	_ = m.cg.Close()
	m.cancel = nil
}

// TestSaramaGroups runs two sarama ConsumerGroup members on a 4-partition topic with the range,
// sticky and cooperative-sticky strategies, at sarama's newest and default versions: they split the partitions 2+2,
// consume exactly their partitions' records, commit them (read back with ClusterAdmin), and
// when one leaves the other resumes from its commits.
func TestSaramaGroups(t *testing.T) {
	for _, v := range saramaVersions {
		for _, s := range []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange(), sarama.NewBalanceStrategySticky(), sarama.NewBalanceStrategyCooperativeSticky()} {
			v, s := v, s
			t.Run(v.name+"-"+s.Name(), func(t *testing.T) {
				t.Parallel()
				watchSarama(t)
				adm := newAdmin(t)
				topic := topicName(t)
				group := "g-" + topic
				createTopic(t, adm, topic, 4, nil)
				a := startSaramaMember(t, "member-a", group, topic, v.version, s)
				waitFor(t, 15*time.Second, "member a to claim all 4 partitions", func() bool { return a.owned() == "[0 1 2 3]" })
				b := startSaramaMember(t, "member-b", group, topic, v.version, s)
				waitFor(t, 20*time.Second, "the members to split the partitions 2+2", func() bool {
					pa, pb := a.claimed(), b.claimed()
					all := map[int32]bool{}
					for _, p := range append(pa, pb...) {
						all[p] = true
					}
					return len(pa) == 2 && len(pb) == 2 && len(all) == 4
				})
				if s.Name() == "range" {
					// Range hands out contiguous runs.
					if pa, pb := a.owned(), b.owned(); !(pa == "[0 1]" && pb == "[2 3]") && !(pa == "[2 3]" && pb == "[0 1]") {
						t.Fatalf("range assignment a=%s b=%s", pa, pb)
					}
				}
				sadm := saramaAdmin(t, v.version)
				gd, err := sadm.DescribeConsumerGroups([]string{group})
				if err != nil || len(gd) != 1 {
					t.Fatalf("describe consumer groups: %v %+v", err, gd)
				}
				if d := gd[0]; d.Err != sarama.ErrNoError || d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != s.Name() || len(d.Members) != 2 {
					t.Fatalf("described group: %+v, want Stable consumer/%s with 2 members", d, s.Name())
				}
				for _, md := range gd[0].Members {
					as, err := md.GetMemberAssignment()
					if err != nil {
						t.Fatalf("member %s assignment: %v", md.ClientId, err)
					}
					ps := append([]int32(nil), as.Topics[topic]...)
					sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
					want := a.owned()
					if md.ClientId == "member-b" {
						want = b.owned()
					}
					if fmt.Sprint(ps) != want {
						t.Fatalf("broker says %s has %v, it claims %s", md.ClientId, ps, want)
					}
				}
				groups, err := sadm.ListConsumerGroups()
				if err != nil || groups[group] != "consumer" {
					t.Fatalf("list consumer groups: %v, %s = %q", err, group, groups[group])
				}

				p := newClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
				var recs []*kgo.Record
				for i := 0; i < 40; i++ {
					recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 4), Value: []byte(fmt.Sprintf("v%d", i))})
				}
				if err := p.ProduceSync(ctxFor(t, 10*time.Second), recs...).FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
				waitFor(t, 15*time.Second, "40 messages consumed", func() bool { return len(a.consumed())+len(b.consumed()) >= 40 })
				seen := map[string]bool{}
				for _, m := range []*saramaMember{a, b} {
					for _, msg := range m.consumed() {
						v := string(msg.Value)
						if seen[v] {
							t.Fatalf("%s consumed %s twice", m.name, v)
						}
						seen[v] = true
						if want := fmt.Sprintf("v%d", int64(msg.Partition)+4*msg.Offset); v != want {
							t.Fatalf("%s[%d]@%d = %s, want %s", topic, msg.Partition, msg.Offset, v, want)
						}
					}
				}
				// Commits: sarama's autocommit sends the marked offsets; ClusterAdmin reads them.
				waitFor(t, 10*time.Second, "the committed offsets to reach 10", func() bool {
					r, err := sadm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2, 3}})
					if err != nil || r.Err != sarama.ErrNoError {
						return false
					}
					for part := int32(0); part < 4; part++ {
						if b := r.GetBlock(topic, part); b == nil || b.Err != sarama.ErrNoError || b.Offset != 10 {
							return false
						}
					}
					return true
				})

				b.stop()
				waitFor(t, 20*time.Second, "member a to claim all 4 partitions again", func() bool { return a.owned() == "[0 1 2 3]" })
				before := len(a.consumed())
				var more []*kgo.Record
				for part := int32(0); part < 4; part++ {
					more = append(more, &kgo.Record{Topic: topic, Partition: part, Value: []byte(fmt.Sprintf("after-%d", part))})
				}
				if err := p.ProduceSync(ctxFor(t, 10*time.Second), more...).FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
				waitFor(t, 15*time.Second, "4 more messages on member a", func() bool { return len(a.consumed())-before >= 4 })
				time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
				after := a.consumed()[before:]
				if len(after) != 4 {
					t.Fatalf("after b left, a consumed %d messages, want the 4 new ones", len(after))
				}
				for _, msg := range after {
					if msg.Offset != 10 || string(msg.Value) != fmt.Sprintf("after-%d", msg.Partition) {
						t.Fatalf("after b left, a consumed %s[%d]@%d %s, want after-N at offset 10", topic, msg.Partition, msg.Offset, msg.Value)
					}
				}
				a.stop()
				for _, m := range []*saramaMember{a, b} {
					for _, e := range m.errs {
						t.Errorf("%s: %v", m.name, e)
					}
				}
				gd, err = sadm.DescribeConsumerGroups([]string{group})
				if err != nil || len(gd) != 1 || gd[0].State != "Empty" || len(gd[0].Members) != 0 {
					t.Fatalf("after both left: %v %+v, want Empty", err, gd)
				}
				if err := sadm.DeleteConsumerGroupOffset(group, topic, 0); err != nil {
					t.Fatalf("delete group offset: %v", err)
				}
				if err := sadm.DeleteConsumerGroup(group); err != nil {
					t.Fatalf("delete group: %v", err)
				}
				if groups, err := sadm.ListConsumerGroups(); err != nil || groups[group] != "" {
					t.Fatalf("after delete: %v, %s still listed", err, group)
				}
			})
		}
	}
}
