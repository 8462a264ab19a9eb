package gotier

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupMember is one franz-go group consumer polling in the background; it keeps what it was
// assigned (from the rebalance callbacks) and every record it consumed.
type groupMember struct {
	name   string
	cl     *kgo.Client
	mu     sync.Mutex
	owned  map[int32]bool
	recs   []*kgo.Record
	errs   []error
	cancel context.CancelFunc
	done   chan struct{}
}

func (m *groupMember) assigned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.owned {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

func (m *groupMember) records() []*kgo.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*kgo.Record(nil), m.recs...)
}

// startMember joins group on topic with the given options and polls until stop.
func startMember(t *testing.T, name, group, topic string, opts ...kgo.Opt) *groupMember {
	t.Helper()
	m := &groupMember{name: name, owned: map[int32]bool{}, done: make(chan struct{})}
	track := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, tps map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range tps[topic] {
				if add {
					m.owned[p] = true
				} else {
					delete(m.owned, p)
				}
			}
		}
	}
	base := []kgo.Opt{
		kgo.ClientID(name),
		kgo.ConsumerGroup(group),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(track(true)),
		kgo.OnPartitionsRevoked(track(false)),
		kgo.OnPartitionsLost(track(false)),
	}
	if topic != "" { // "" when opts subscribe (a regex)
		base = append(base, kgo.ConsumeTopics(topic))
	}
	m.cl = newClient(t, append(base, opts...)...)
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			fs := m.cl.PollFetches(ctx)
			m.mu.Lock()
			fs.EachError(func(tp string, p int32, err error) {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
					m.errs = append(m.errs, fmt.Errorf("%s[%d]: %w", tp, p, err))
				}
			})
			m.recs = append(m.recs, fs.Records()...)
			m.mu.Unlock()
		}
	}()
	t.Cleanup(m.stop)
	return m
}

// stop ends polling and closes the client (which leaves the group).
func (m *groupMember) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	<-m.done
	m.cl.Close()
	m.cancel = nil
}

func partitionsString(ps []int32) string { return fmt.Sprint(ps) }

// TestFranzGroups runs two franz-go members in one group on a 4-partition topic, with the
// classic protocol (cooperative-sticky and range balancers) and with KIP-848's consumer protocol
// (the server-side uniform and range assignors): the members split the partitions 2+2, each
// consumes exactly its partitions' records, commits, and when one leaves the other takes over
// from the committed offsets (not from the start).
func TestFranzGroups(t *testing.T) {
	cases := []struct {
		name      string
		opts      []kgo.Opt
		kip848    bool
		protocol  string // classic: the chosen protocol; KIP-848: the server assignor
		groupType string
	}{
		{"classic-cooperative-sticky", []kgo.Opt{kgo.Balancers(kgo.CooperativeStickyBalancer())}, false, "cooperative-sticky", "classic"},
		{"classic-range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer())}, false, "range", "classic"},
		{"consumer-uniform", []kgo.Opt{kgo.Balancers(kgo.StickyBalancer()), kgo.ServerSideBalancer()}, true, "uniform", "consumer"},
		{"consumer-range", []kgo.Opt{kgo.Balancers(kgo.RangeBalancer()), kgo.ServerSideBalancer()}, true, "range", "consumer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			adm := newAdmin(t)
			topic := topicName(t)
			group := "g-" + topic
			createTopic(t, adm, topic, 4, nil)
			// A classic member learns of a rebalance at its next heartbeat (franz-go's default
			// 3 s); 300 ms keeps the joins short. KIP-848 heartbeats follow the broker's interval.
			opts := append([]kgo.Opt{kgo.HeartbeatInterval(300 * time.Millisecond)}, c.opts...)
			a := startMember(t, "member-a", group, topic, opts...)
			waitFor(t, 15*time.Second, "member a to own all 4 partitions", func() bool {
				return partitionsString(a.assigned()) == "[0 1 2 3]"
			})
			b := startMember(t, "member-b", group, topic, opts...)
			waitFor(t, 20*time.Second, "the two members to split the partitions 2+2", func() bool {
				pa, pb := a.assigned(), b.assigned()
				if len(pa) != 2 || len(pb) != 2 {
					return false
				}
				all := map[int32]bool{}
				for _, p := range append(pa, pb...) {
					all[p] = true
				}
				return len(all) == 4
			})
			pa, pb := a.assigned(), b.assigned()
			if c.protocol == "range" {
				// Range hands each member a contiguous run of partitions.
				if !(partitionsString(pa) == "[0 1]" && partitionsString(pb) == "[2 3]") &&
					!(partitionsString(pa) == "[2 3]" && partitionsString(pb) == "[0 1]") {
					t.Fatalf("range assignment a=%v b=%v", pa, pb)
				}
			}
			checkGroupDescribed(t, adm, group, topic, c.kip848, c.protocol, c.groupType,
				map[string][]int32{"member-a": pa, "member-b": pb})

			// 10 records per partition, produced once both members own their share.
			p := newClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			var recs []*kgo.Record
			for i := 0; i < 40; i++ {
				recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % 4),
					Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i))})
			}
			if err := p.ProduceSync(ctxFor(t, 10*time.Second), recs...).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			waitFor(t, 15*time.Second, "40 records consumed", func() bool {
				return len(a.records())+len(b.records()) >= 40
			})
			time.Sleep(300 * time.Millisecond) // any duplicate would arrive now
			seen := map[string]bool{}
			for _, m := range []*groupMember{a, b} {
				owned := map[int32]bool{}
				for _, p := range m.assigned() {
					owned[p] = true
				}
				for _, r := range m.records() {
					if !owned[r.Partition] {
						t.Errorf("%s consumed partition %d it does not own", m.name, r.Partition)
					}
					v := string(r.Value)
					if seen[v] {
						t.Errorf("record %s consumed twice", v)
					}
					seen[v] = true
					// Partition p holds records p, p+4, ... at offsets 0, 1, ...
					if want := fmt.Sprintf("v%d", int64(r.Partition)+4*r.Offset); v != want || string(r.Key) != "k"+want[1:] {
						t.Errorf("%s[%d]@%d = %s/%s, want %s", topic, r.Partition, r.Offset, r.Key, v, want)
					}
				}
			}
			if len(seen) != 40 {
				t.Fatalf("consumed %d distinct records, want 40", len(seen))
			}
			for _, m := range []*groupMember{a, b} {
				if err := m.cl.CommitUncommittedOffsets(ctxFor(t, 10*time.Second)); err != nil {
					t.Fatalf("%s commit: %v", m.name, err)
				}
			}
			offs, err := adm.FetchOffsets(ctxFor(t, 10*time.Second), group)
			if err != nil {
				t.Fatalf("fetch offsets: %v", err)
			}
			for part := int32(0); part < 4; part++ {
				o, ok := offs.Lookup(topic, part)
				if !ok || o.Err != nil || o.At != 10 {
					t.Fatalf("committed offset of partition %d: %+v (found %v), want 10", part, o, ok)
				}
			}
			lags, err := adm.Lag(ctxFor(t, 10*time.Second), group)
			if err != nil {
				t.Fatalf("lag: %v", err)
			}
			gl := lags[group]
			if c.kip848 {
				// kadm.Lag describes the group with DescribeGroups, which only knows classic
				// groups: from v6 Kafka answers GROUP_ID_NOT_FOUND for a consumer-protocol group
				// (KIP-1043), and so does Klamm. The lag is then end offset minus commit.
				if !errors.Is(gl.DescribeErr, kerr.GroupIDNotFound) {
					t.Fatalf("kadm.Lag of a KIP-848 group: describe error %v, want GROUP_ID_NOT_FOUND", gl.DescribeErr)
				}
				ends, err := adm.ListEndOffsets(ctxFor(t, 10*time.Second), topic)
				if err != nil {
					t.Fatalf("list end offsets: %v", err)
				}
				for part := int32(0); part < 4; part++ {
					e, ok := ends.Lookup(topic, part)
					o, _ := offs.Lookup(topic, part)
					if !ok || e.Err != nil || e.Offset-o.At != 0 {
						t.Fatalf("partition %d: end %+v, committed %d: want lag 0", part, e, o.At)
					}
				}
			} else {
				if gl.Error() != nil {
					t.Fatalf("lag of %s: %v", group, gl.Error())
				}
				if total := gl.Lag.Total(); total != 0 || len(gl.Lag[topic]) != 4 {
					t.Fatalf("lag total %d after committing everything, want 0 over 4 partitions: %+v", total, gl.Lag)
				}
				for part, l := range gl.Lag[topic] {
					if l.Commit.At != 10 || l.End.Offset != 10 || l.Lag != 0 || l.Member == nil {
						t.Fatalf("lag of partition %d: %+v, want commit 10, end 10, lag 0, with its member", part, l)
					}
				}
			}

			// b leaves: a takes its partitions over and resumes from b's commits.
			b.stop()
			waitFor(t, 20*time.Second, "member a to own all 4 partitions again", func() bool {
				return partitionsString(a.assigned()) == "[0 1 2 3]"
			})
			before := len(a.records())
			var more []*kgo.Record
			for part := int32(0); part < 4; part++ {
				more = append(more, &kgo.Record{Topic: topic, Partition: part, Value: []byte(fmt.Sprintf("after-%d", part))})
			}
			if err := p.ProduceSync(ctxFor(t, 10*time.Second), more...).FirstErr(); err != nil {
				t.Fatalf("produce: %v", err)
			}
			waitFor(t, 15*time.Second, "4 more records on member a", func() bool { return len(a.records())-before >= 4 })
			time.Sleep(300 * time.Millisecond)
			got := map[string]int64{}
			for _, r := range a.records()[before:] {
				got[fmt.Sprintf("%d:%s", r.Partition, r.Value)] = r.Offset
			}
			if len(got) != 4 || len(a.records())-before != 4 {
				t.Fatalf("after b left, a consumed %v: want exactly after-0..3 at offset 10", got)
			}
			for part := int32(0); part < 4; part++ {
				if off, ok := got[fmt.Sprintf("%d:after-%d", part, part)]; !ok || off != 10 {
					t.Fatalf("after b left, a consumed %v: want %d:after-%d at offset 10", got, part, part)
				}
			}
			for _, m := range []*groupMember{a, b} {
				m.mu.Lock()
				for _, e := range m.errs {
					t.Errorf("%s: %v", m.name, e)
				}
				m.mu.Unlock()
			}
			a.stop()
			listed, err := adm.ListGroups(ctxFor(t, 10*time.Second))
			if err != nil {
				t.Fatalf("list groups: %v", err)
			}
			lg, ok := listed[group]
			if !ok || lg.State != "Empty" || lg.GroupType != c.groupType || lg.ProtocolType != "consumer" {
				t.Fatalf("listed group after both left: %+v (found %v), want Empty %s consumer", lg, ok, c.groupType)
			}
		})
	}
}

// checkGroupDescribed compares Klamm's description of the group with what the members were
// assigned: DescribeGroups for classic groups, ConsumerGroupDescribe for KIP-848 ones.
func checkGroupDescribed(t *testing.T, adm *kadm.Client, group, topic string, kip848 bool, protocol, groupType string, want map[string][]int32) {
	t.Helper()
	ctx := ctxFor(t, 10*time.Second)
	listed, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	if lg := listed[group]; lg.State != "Stable" || lg.GroupType != groupType || lg.ProtocolType != "consumer" {
		t.Fatalf("listed group: %+v, want Stable, type %s, protocol type consumer", lg, groupType)
	}
	got := map[string][]int32{}
	if kip848 {
		ds, err := adm.DescribeConsumerGroups(ctx, group)
		if err != nil {
			t.Fatalf("describe consumer groups: %v", err)
		}
		d := ds[group]
		if d.Err != nil || d.State != "Stable" || d.AssignorName != protocol || len(d.Members) != 2 {
			t.Fatalf("described consumer group: %+v, want Stable, assignor %s, 2 members", d, protocol)
		}
		if d.Epoch < 2 || d.AssignmentEpoch != d.Epoch {
			t.Fatalf("group epoch %d assignment epoch %d: want equal and >= 2 (two joins)", d.Epoch, d.AssignmentEpoch)
		}
		for _, m := range d.Members {
			if m.MemberType != 1 || len(m.SubscribedTopics) != 1 || m.SubscribedTopics[0] != topic || m.MemberEpoch != d.Epoch {
				t.Fatalf("member %+v: want type 1 (consumer), subscribed to %s, epoch %d", m, topic, d.Epoch)
			}
			var ps []int32
			m.Assignment.Each(func(tp string, p int32) {
				if tp == topic {
					ps = append(ps, p)
				}
			})
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			got[m.ClientID] = ps
		}
	} else {
		ds, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			t.Fatalf("describe groups: %v", err)
		}
		d := ds[group]
		if d.Err != nil || d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != protocol || len(d.Members) != 2 {
			t.Fatalf("described group: %+v, want Stable consumer/%s with 2 members", d, protocol)
		}
		for _, m := range d.Members {
			meta, ok := m.Join.AsConsumer()
			if !ok || len(meta.Topics) != 1 || meta.Topics[0] != topic {
				t.Fatalf("member %s join metadata %+v: want a consumer subscribed to %s", m.ClientID, meta, topic)
			}
			as, ok := m.Assigned.AsConsumer()
			if !ok {
				t.Fatalf("member %s assignment is not a consumer assignment", m.ClientID)
			}
			var ps []int32
			for _, tp := range as.Topics {
				if tp.Topic == topic {
					ps = append(ps, tp.Partitions...)
				}
			}
			sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
			got[m.ClientID] = ps
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("broker says the assignment is %v, the members say %v", got, want)
	}
}
