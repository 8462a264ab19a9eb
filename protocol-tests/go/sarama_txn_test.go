package gotier

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// TestSaramaTransactions: sarama's transactional producer commits one transaction and aborts
// another on an input topic; then consume-transform-produce: a transaction writes each
// committed input record upper-cased to an output topic and adds the consumed offsets to the
// transaction for a group (AddMessageToTxn); an aborted attempt leaves neither output nor
// offsets. read_committed consumers see exactly the committed records; the group's offset is the
// committed one.
//
// It runs at sarama's newest and default (Kafka 2.8) versions.
func TestSaramaTransactions(t *testing.T) {
	for _, v := range saramaVersions {
		v := v
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			saramaTransactions(t, v.version)
		})
	}
}

func saramaTransactions(t *testing.T, version sarama.KafkaVersion) {
	watchSarama(t)
	adm := newAdmin(t)
	in, out := topicName(t)+"-in", topicName(t)+"-out"
	createTopic(t, adm, in, 1, nil)
	createTopic(t, adm, out, 1, nil)
	group := "g-" + in
	txnConfig := func(id string) *sarama.Config {
		c := saramaConfig(version)
		c.Producer.Idempotent = true
		c.Producer.RequiredAcks = sarama.WaitForAll
		c.Net.MaxOpenRequests = 1
		c.Producer.Transaction.ID = id
		c.Producer.Transaction.Timeout = 20 * time.Second
		return c
	}
	p, err := sarama.NewSyncProducer([]string{broker.addr}, txnConfig("sarama-"+in))
	if err != nil {
		t.Fatalf("NewSyncProducer: %v", err)
	}
	defer p.Close()
	send := func(topic string, vals ...string) {
		t.Helper()
		for _, v := range vals {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("k-" + v), Value: sarama.StringEncoder(v)}); err != nil {
				t.Fatalf("send %s: %v", v, err)
			}
		}
	}
	txn := func(commit bool, topic string, vals ...string) {
		t.Helper()
		if err := p.BeginTxn(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		send(topic, vals...)
		if commit {
			err = p.CommitTxn()
		} else {
			err = p.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
		if p.TxnStatus()&sarama.ProducerTxnFlagReady == 0 {
			t.Fatalf("producer not ready after the transaction: status %v", p.TxnStatus())
		}
	}
	txn(true, in, "a", "b", "c")
	txn(false, in, "x", "y")
	txn(true, in, "d")
	// Offsets: a b c at 0-2, marker 3, x y at 4-5, marker 6, d at 7, marker 8.
	if e := endOffsets(t, in); e[0] != 9 {
		t.Fatalf("input end offset %v, want 9 (4 records, 2 aborted, 3 markers)", e)
	}
	committed := saramaConfig(version)
	committed.Consumer.IsolationLevel = sarama.ReadCommitted
	var vals, offs []string
	for _, m := range saramaConsume(t, committed, in, 0, sarama.OffsetOldest, 4) {
		vals = append(vals, string(m.Value))
		offs = append(offs, fmt.Sprint(m.Offset))
	}
	if strings.Join(vals, " ") != "a b c d" || strings.Join(offs, " ") != "0 1 2 7" {
		t.Fatalf("read_committed: %v at %v, want a b c d at 0 1 2 7", vals, offs)
	}
	uncommitted := saramaConfig(version)
	vals = nil
	for _, m := range saramaConsume(t, uncommitted, in, 0, sarama.OffsetOldest, 6) {
		vals = append(vals, string(m.Value))
	}
	if strings.Join(vals, " ") != "a b c x y d" {
		t.Fatalf("read_uncommitted: %v, want a b c x y d", vals)
	}

	// Consume-transform-produce with the offsets in the transaction.
	inMsgs := saramaConsume(t, committed, in, 0, sarama.OffsetOldest, 4)
	ctp := func(commit bool) {
		t.Helper()
		if err := p.BeginTxn(); err != nil {
			t.Fatalf("begin: %v", err)
		}
		for _, m := range inMsgs {
			send(out, strings.ToUpper(string(m.Value)))
			if err := p.AddMessageToTxn(m, group, nil); err != nil {
				t.Fatalf("add message to txn: %v", err)
			}
		}
		if commit {
			err = p.CommitTxn()
		} else {
			err = p.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end transaction (commit %v): %v", commit, err)
		}
	}
	sadm := saramaAdmin(t, version)
	groupOffset := func() int64 {
		r, err := sadm.ListConsumerGroupOffsets(group, map[string][]int32{in: {0}})
		if err != nil {
			t.Fatalf("list group offsets: %v", err)
		}
		b := r.GetBlock(in, 0)
		if b == nil || b.Err != sarama.ErrNoError {
			t.Fatalf("group offset block: %+v", b)
		}
		return b.Offset
	}
	ctp(false)
	if o := groupOffset(); o != -1 {
		t.Fatalf("group offset %d after an aborted transaction, want none (-1)", o)
	}
	ctp(true)
	// AddMessageToTxn commits the offset after the message: d at 7 -> 8.
	if o := groupOffset(); o != 8 {
		t.Fatalf("group offset %d after the committed transaction, want 8", o)
	}
	vals = nil
	for _, m := range saramaConsume(t, committed, out, 0, sarama.OffsetOldest, 4) {
		vals = append(vals, string(m.Value))
	}
	sort.Strings(vals)
	if strings.Join(vals, " ") != "A B C D" {
		t.Fatalf("output read_committed: %v, want A B C D", vals)
	}
	// The output log: 4 aborted, marker, 4 committed, marker.
	if e := endOffsets(t, out); e[0] != 10 {
		t.Fatalf("output end offset %v, want 10", e)
	}
	vals = nil
	for _, m := range saramaConsume(t, uncommitted, out, 0, sarama.OffsetOldest, 8) {
		vals = append(vals, string(m.Value))
	}
	if strings.Join(vals, " ") != "A B C D A B C D" {
		t.Fatalf("output read_uncommitted: %v, want the aborted and the committed copy", vals)
	}
}
