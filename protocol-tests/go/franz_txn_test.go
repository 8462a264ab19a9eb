package gotier

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestFranzTransactions is franz-go's exactly-once consume-transform-produce: a
// GroupTransactSession reads an input topic in a group, writes each record upper-cased to an
// output topic and commits the consumed offsets in the same transaction. Its first transaction
// is aborted on purpose, so those records are consumed again. The input also holds a
// transaction another producer aborted. Read with read_committed, the output is every committed
// input record exactly once; read_uncommitted also shows the aborted copies. kadm then
// describes the transactional id, lists transactions and describes the producers.
//
// It runs at the newest versions and capped at Kafka 2.8 (TxnOffsetCommit v3, EndTxn v2,
// AddPartitionsToTxn v2, Fetch v12).
func TestFranzTransactions(t *testing.T) {
	for _, v := range []struct {
		name string
		max  *kversion.Versions
	}{{"newest", nil}, {"v2.8", kversion.V2_8_0()}} {
		v := v
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			var capOpt []kgo.Opt
			if v.max != nil {
				capOpt = []kgo.Opt{kgo.MaxVersions(v.max)}
			}
			franzTransactions(t, capOpt)
		})
	}
}

func franzTransactions(t *testing.T, capOpt []kgo.Opt) {
	adm := newAdmin(t)
	in, out := topicName(t)+"-in", topicName(t)+"-out"
	createTopic(t, adm, in, 2, nil)
	createTopic(t, adm, out, 2, nil)
	group, txnID := "g-"+in, "txn-"+in
	ctx := ctxFor(t, 40*time.Second)

	// Input: 10 plain records, an aborted transaction of 3, 10 more plain records.
	plain := newClient(t, kgo.DefaultProduceTopic(in), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var want []string
	produce := func(from, to int) {
		var rs []*kgo.Record
		for i := from; i < to; i++ {
			v := fmt.Sprintf("rec-%02d", i)
			want = append(want, strings.ToUpper(v))
			rs = append(rs, &kgo.Record{Partition: int32(i % 2), Key: []byte(v), Value: []byte(v)})
		}
		if err := plain.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce input: %v", err)
		}
	}
	produce(0, 10)
	aborter := newClient(t, append(capOpt, kgo.DefaultProduceTopic(in), kgo.TransactionalID("aborter-"+in),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err := aborter.BeginTransaction(); err != nil {
		t.Fatalf("begin: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := aborter.ProduceSync(ctx, &kgo.Record{Partition: int32(i % 2), Value: []byte(fmt.Sprintf("aborted-%d", i))}).FirstErr(); err != nil {
			t.Fatalf("produce aborted: %v", err)
		}
	}
	if err := aborter.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatalf("abort: %v", err)
	}
	produce(10, 20)

	sess, err := kgo.NewGroupTransactSession(append(capOpt,
		kgo.SeedBrokers(broker.addr),
		kgo.WithLogger(franzLogger(t)),
		franzHooks(t),
		kgo.TransactionalID(txnID),
		kgo.TransactionTimeout(20*time.Second),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.HeartbeatInterval(300*time.Millisecond),
		kgo.FetchMaxWait(200*time.Millisecond),
	)...)
	if err != nil {
		t.Fatalf("NewGroupTransactSession: %v", err)
	}
	defer sess.Close()

	consumed, aborts, abortedOut := 0, 0, 0
	for consumed < len(want) {
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d input records before the deadline", consumed, len(want))
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := sess.PollFetches(pctx)
		cancel()
		fs.EachError(func(tp string, p int32, err error) {
			if pctx.Err() == nil {
				t.Fatalf("fetch %s[%d]: %v", tp, p, err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		for _, r := range recs {
			if strings.HasPrefix(string(r.Value), "aborted") {
				t.Fatalf("read_committed consumer saw aborted record %s at %s[%d]@%d", r.Value, r.Topic, r.Partition, r.Offset)
			}
			o := &kgo.Record{Topic: out, Partition: r.Partition, Key: r.Key, Value: []byte(strings.ToUpper(string(r.Value))),
				Headers: []kgo.RecordHeader{{Key: "src-offset", Value: []byte(fmt.Sprint(r.Offset))}}}
			if err := sess.ProduceSync(ctx, o).FirstErr(); err != nil {
				t.Fatalf("produce output: %v", err)
			}
		}
		try := kgo.TryCommit
		if aborts == 0 {
			try = kgo.TryAbort // the first transaction's output and offsets must vanish
		}
		committed, err := sess.End(ctx, try)
		if err != nil {
			t.Fatalf("end transaction: %v", err)
		}
		if try == kgo.TryAbort {
			aborts++
			abortedOut = len(recs)
			if committed {
				t.Fatalf("End(TryAbort) reported a commit")
			}
			continue
		}
		if !committed {
			t.Fatalf("End(TryCommit) did not commit (no rebalance was going on)")
		}
		consumed += len(recs)
	}
	if consumed != len(want) {
		t.Fatalf("the session committed %d input records, want %d", consumed, len(want))
	}

	readOut := func(iso kgo.IsolationLevel, n int) []string {
		cl := newClient(t, append(capOpt, kgo.ConsumeTopics(out), kgo.FetchIsolationLevel(iso),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
		var vs []string
		for _, r := range consumeN(t, cl, n, 10*time.Second) {
			vs = append(vs, string(r.Value))
		}
		// Nothing beyond n.
		if extra := cl.PollRecords(ctxFor(t, 500*time.Millisecond), 10).Records(); len(extra) != 0 {
			t.Fatalf("%d records beyond the %d expected in %s", len(extra), n, out)
		}
		sort.Strings(vs)
		return vs
	}
	sort.Strings(want)
	if got := readOut(kgo.ReadCommitted(), len(want)); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("read_committed output:\n%v\nwant each input once:\n%v", got, want)
	}
	// read_uncommitted also returns the aborted first transaction's records (duplicates).
	// read_uncommitted also returns the aborted first transaction's output: each of those
	// input records twice.
	uncommitted := readOut(kgo.ReadUncommitted(), len(want)+abortedOut)
	dups := 0
	for i := 1; i < len(uncommitted); i++ {
		if uncommitted[i] == uncommitted[i-1] {
			dups++
		}
	}
	if abortedOut == 0 || dups != abortedOut {
		t.Fatalf("read_uncommitted: %d duplicates, want the %d records of the aborted transaction", dups, abortedOut)
	}

	// The group's committed offsets are the input's log end offsets (the records, the aborted
	// transaction and its markers): everything was consumed.
	ends, err := adm.ListEndOffsets(ctx, in)
	if err != nil {
		t.Fatalf("list end offsets: %v", err)
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	for p := int32(0); p < 2; p++ {
		e, _ := ends.Lookup(in, p)
		o, ok := offs.Lookup(in, p)
		if !ok || o.Err != nil || o.At != e.Offset {
			t.Fatalf("%s[%d]: committed %+v, log end %d: want the whole partition consumed", in, p, o, e.Offset)
		}
	}

	// kadm: the transactional id is complete, nothing is open on the output.
	dt, err := adm.DescribeTransactions(ctx, txnID)
	if err != nil {
		t.Fatalf("describe transactions: %v", err)
	}
	d := dt[txnID]
	if d.Err != nil || d.State != "CompleteCommit" || d.ProducerID < 0 || d.TimeoutMillis != 20000 || len(d.Topics) != 0 {
		t.Fatalf("described transaction: %+v, want CompleteCommit, timeout 20000, no open partitions", d)
	}
	lt, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatalf("list transactions: %v", err)
	}
	if l, ok := lt[txnID]; !ok || l.State != "CompleteCommit" || l.ProducerID != d.ProducerID {
		t.Fatalf("listed transaction %s: %+v (found %v), want CompleteCommit with producer %d", txnID, l, ok, d.ProducerID)
	}
	if l, ok := lt["aborter-"+in]; !ok || l.State != "CompleteAbort" {
		t.Fatalf("listed transaction aborter: %+v (found %v), want CompleteAbort", l, ok)
	}
	dp, err := adm.DescribeProducers(ctx, kadm.TopicsSet{out: {0: {}, 1: {}}})
	if err != nil {
		t.Fatalf("describe producers: %v", err)
	}
	for p := int32(0); p < 2; p++ {
		part, ok := dp[out].Partitions[p]
		if !ok || part.Err != nil {
			t.Fatalf("describe producers %s[%d]: %+v (found %v)", out, p, part, ok)
		}
		if len(part.ActiveProducers) != 1 {
			t.Fatalf("describe producers %s[%d]: %+v, want the one transactional producer", out, p, part.ActiveProducers)
		}
		ap, ok := part.ActiveProducers[d.ProducerID] // keyed by producer id
		if !ok {
			t.Fatalf("describe producers %s[%d]: %+v, want producer %d", out, p, part.ActiveProducers, d.ProducerID)
		}
		if ap.ProducerID != d.ProducerID || ap.ProducerEpoch != d.ProducerEpoch || ap.CurrentTxnStartOffset != -1 || ap.LastSequence < 0 {
			t.Fatalf("producer on %s[%d]: %+v, want id %d epoch %d, no open transaction (-1)", out, p, ap, d.ProducerID, d.ProducerEpoch)
		}
	}
}
