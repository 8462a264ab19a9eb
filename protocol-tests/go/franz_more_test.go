package gotier

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestFranzConsumeOffsets: direct partition consumption from an exact offset, from a time, from
// the end minus two, and with fetch limits below one batch (Kafka still returns the first batch
// whole, so the consumer progresses).
func TestFranzConsumeOffsets(t *testing.T) {
	adm := newAdmin(t)
	topic := topicName(t)
	createTopic(t, adm, topic, 1, nil)
	base := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	p := newClient(t, kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(0))
	for i := 0; i < 20; i++ {
		// One batch per record: 20 batches of ~1 KiB.
		r := &kgo.Record{Value: bytes.Repeat([]byte{byte('a' + i)}, 1000), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := p.ProduceSync(ctxFor(t, 10*time.Second), r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	cases := []struct {
		name  string
		at    kgo.Offset
		first int64
	}{
		{"at-5", kgo.NewOffset().At(5), 5},
		{"after-time", kgo.NewOffset().AfterMilli(base.Add(12500 * time.Millisecond).UnixMilli()), 13},
		{"end-minus-2", kgo.NewOffset().AtEnd().Relative(-2), 18},
		{"start", kgo.NewOffset().AtStart(), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := newClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: c.at}}),
				// Limits below one batch: Kafka returns the first batch anyway (KIP-74).
				kgo.FetchMaxBytes(100), kgo.FetchMaxPartitionBytes(100))
			got := consumeN(t, cl, int(20-c.first), 15*time.Second)
			for i, r := range got {
				off := c.first + int64(i)
				if r.Offset != off || r.Value[0] != byte('a'+off) || len(r.Value) != 1000 || !r.Timestamp.Equal(base.Add(time.Duration(off)*time.Second)) {
					t.Fatalf("record %d: offset %d value %c x%d ts %v, want offset %d", i, r.Offset, r.Value[0], len(r.Value), r.Timestamp, off)
				}
			}
		})
	}
}

// TestFranzProduceErrors: acks=0 and acks=1 writes land; a record above max.message.bytes gets
// MESSAGE_TOO_LARGE; a record for an unknown topic is auto-created (auto.create.topics.enable,
// Kafka's default) with num.partitions partitions.
func TestFranzProduceErrors(t *testing.T) {
	adm := newAdmin(t)
	topic := topicName(t)
	createTopic(t, adm, topic, 1, map[string]*string{"max.message.bytes": strp("2000")})
	for _, acks := range []struct {
		name string
		acks kgo.Acks
	}{{"acks-0", kgo.NoAck()}, {"acks-1", kgo.LeaderAck()}} {
		p := newClient(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(acks.acks), kgo.DisableIdempotentWrite())
		if err := p.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Value: []byte(acks.name)}).FirstErr(); err != nil {
			t.Fatalf("%s: %v", acks.name, err)
		}
		if err := p.Flush(ctxFor(t, 10*time.Second)); err != nil {
			t.Fatalf("%s flush: %v", acks.name, err)
		}
	}
	waitFor(t, 5*time.Second, "the acks=0 record", func() bool { return endOffsets(t, topic)[0] == 2 })
	c := newClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, c, 2, 10*time.Second)
	if string(got[0].Value) != "acks-0" || string(got[1].Value) != "acks-1" {
		t.Fatalf("read %q, %q", got[0].Value, got[1].Value)
	}

	// Uncompressed (franz-go compresses by default), so the batch really exceeds 2000 bytes.
	p := newClient(t, kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(kgo.NoCompression()))
	err := p.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Value: bytes.Repeat([]byte("x"), 5000)}).FirstErr()
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("5000-byte record on a topic with max.message.bytes 2000: %v, want MESSAGE_TOO_LARGE", err)
	}

	auto := topicName(t) + "-auto"
	ap := newClient(t, kgo.DefaultProduceTopic(auto), kgo.AllowAutoTopicCreation())
	res := ap.ProduceSync(ctxFor(t, 15*time.Second), &kgo.Record{Value: []byte("auto")})
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce to an auto-created topic: %v", err)
	}
	if r := res[0].Record; r.Partition != 0 || r.Offset != 0 {
		t.Fatalf("auto-created topic: record at %d/%d", r.Partition, r.Offset)
	}
	lt, err := newAdmin(t).ListTopics(ctxFor(t, 10*time.Second), auto)
	if err != nil || lt[auto].Err != nil || len(lt[auto].Partitions) != 1 {
		t.Fatalf("auto-created topic: %v %+v, want num.partitions=1 partition", err, lt[auto])
	}
}

// TestFranzRegexAndStatic: a KIP-848 member subscribed by regex (the broker resolves it, Kafka
// 4.0's SubscribedTopicRegex) gets the partitions of every matching topic, also of one created
// after it joined; a classic static member (KIP-345) is described with its instance id.
func TestFranzRegexAndStatic(t *testing.T) {
	adm := newAdmin(t)
	prefix := topicName(t)
	t1, t2, t3 := prefix+"-r1", prefix+"-r2", prefix+"-r3"
	createTopic(t, adm, t1, 1, nil)
	createTopic(t, adm, t2, 2, nil)
	createTopic(t, adm, prefix+"-other", 1, nil)
	group := "g-" + prefix
	m := startMember(t, "regex-member", group, "", kgo.ConsumeRegex(), kgo.ConsumeTopics("^"+prefix+"-r[0-9]$"),
		kgo.Balancers(kgo.StickyBalancer()), kgo.ServerSideBalancer())
	assigned := func() string {
		ds, err := adm.DescribeConsumerGroups(ctxFor(t, 5*time.Second), group)
		if err != nil || len(ds[group].Members) != 1 {
			return ""
		}
		var tps []string
		ds[group].Members[0].Assignment.Each(func(tp string, p int32) { tps = append(tps, fmt.Sprintf("%s/%d", tp, p)) })
		sort.Strings(tps)
		return strings.Join(tps, " ")
	}
	want := fmt.Sprintf("%s/0 %s/0 %s/1", t1, t2, t2)
	waitFor(t, 15*time.Second, "the regex member to be assigned "+want, func() bool { return assigned() == want })
	ds, err := adm.DescribeConsumerGroups(ctxFor(t, 5*time.Second), group)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	// franz-go sends its regexes wrapped, as .*(?:(?:RE)).*; Klamm describes what was sent.
	if mem := ds[group].Members[0]; deref(mem.SubscribedTopicRegex) != ".*(?:(?:^"+prefix+"-r[0-9]$)).*" {
		t.Fatalf("member regex: %v", deref(mem.SubscribedTopicRegex))
	}
	createTopic(t, adm, t3, 1, nil)
	want = fmt.Sprintf("%s/0 %s/0 %s/1 %s/0", t1, t2, t2, t3)
	waitFor(t, 20*time.Second, "the new matching topic to be assigned", func() bool { return assigned() == want })
	pr := newClient(t)
	for _, tp := range []string{t1, t2, t3, prefix + "-other"} {
		if err := pr.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Topic: tp, Value: []byte(tp)}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	waitFor(t, 15*time.Second, "3 records from the matching topics", func() bool { return len(m.records()) >= 3 })
	time.Sleep(200 * time.Millisecond)
	var vals []string
	for _, r := range m.records() {
		if string(r.Value) != r.Topic {
			t.Fatalf("record %q from %s", r.Value, r.Topic)
		}
		vals = append(vals, r.Topic)
	}
	sort.Strings(vals)
	if strings.Join(vals, " ") != strings.Join([]string{t1, t2, t3}, " ") {
		t.Fatalf("regex member consumed %v, want one record from each of %s %s %s", vals, t1, t2, t3)
	}
	m.stop()

	// Static classic member.
	st := topicName(t)
	createTopic(t, adm, st, 1, nil)
	sg := "g-" + st
	sm := startMember(t, "static-member", sg, st, kgo.InstanceID("static-1"), kgo.Balancers(kgo.RangeBalancer()))
	waitFor(t, 15*time.Second, "the static member's assignment", func() bool { return partitionsString(sm.assigned()) == "[0]" })
	dg, err := adm.DescribeGroups(ctxFor(t, 5*time.Second), sg)
	if err != nil || len(dg[sg].Members) != 1 {
		t.Fatalf("describe static group: %v %+v", err, dg[sg])
	}
	if id := dg[sg].Members[0].InstanceID; id == nil || *id != "static-1" {
		t.Fatalf("static member instance id %v, want static-1", id)
	}
}

// TestFranzAdminMore: SCRAM credentials, client quotas, leader election, OffsetForLeaderEpoch
// and partition reassignments through kadm, and ConsumerGroupDescribe of a classic group.
func TestFranzAdminMore(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 20*time.Second)
	topic := topicName(t)
	createTopic(t, adm, topic, 2, nil)
	user := "user-" + topic

	// SCRAM.
	// Kafka refuses one user twice in one request (DUPLICATE_RESOURCE, "A user credential
	// cannot be altered twice in the same request"), so one mechanism per request.
	alt, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{
		{User: user, Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "pw1"},
		{User: user, Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "pw2"},
	})
	if err != nil || !errors.Is(alt[user].Err, kerr.DuplicateResource) {
		t.Fatalf("upsert one user twice: %v %+v, want DUPLICATE_RESOURCE", err, alt)
	}
	for _, u := range []kadm.UpsertSCRAM{
		{User: user, Mechanism: kadm.ScramSha256, Iterations: 4096, Password: "pw1"},
		{User: user, Mechanism: kadm.ScramSha512, Iterations: 8192, Password: "pw2"},
	} {
		alt, err := adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{u})
		if err != nil || alt[user].Err != nil {
			t.Fatalf("upsert scram %v: %v %+v", u.Mechanism, err, alt)
		}
	}
	ds, err := adm.DescribeUserSCRAMs(ctx, user)
	if err != nil || ds[user].Err != nil {
		t.Fatalf("describe scram: %v %+v", err, ds)
	}
	var creds []string
	for _, c := range ds[user].CredInfos {
		creds = append(creds, c.String())
	}
	sort.Strings(creds)
	if strings.Join(creds, " ") != "SCRAM-SHA-256=iterations=4096 SCRAM-SHA-512=iterations=8192" {
		t.Fatalf("described credentials %v", creds)
	}
	if alt, err := adm.AlterUserSCRAMs(ctx, []kadm.DeleteSCRAM{{User: user, Mechanism: kadm.ScramSha256}}, nil); err != nil || alt[user].Err != nil {
		t.Fatalf("delete scram: %v %+v", err, alt)
	}
	ds, err = adm.DescribeUserSCRAMs(ctx, user)
	if err != nil || len(ds[user].CredInfos) != 1 || ds[user].CredInfos[0].Mechanism != kadm.ScramSha512 {
		t.Fatalf("after deleting SHA-256: %v %+v", err, ds[user])
	}
	ds, err = adm.DescribeUserSCRAMs(ctx, "nobody-"+topic)
	if !errors.Is(ds["nobody-"+topic].Err, kerr.ResourceNotFound) {
		t.Fatalf("describe an unknown user: %v %+v, want RESOURCE_NOT_FOUND", err, ds)
	}

	// Client quotas.
	entity := kadm.ClientQuotaEntity{{Type: "client-id", Name: strp("cid-" + topic)}}
	aq, err := adm.AlterClientQuotas(ctx, []kadm.AlterClientQuotaEntry{{Entity: entity, Ops: []kadm.AlterClientQuotaOp{
		{Key: "producer_byte_rate", Value: 1048576}, {Key: "consumer_byte_rate", Value: 2097152},
	}}})
	if err != nil || len(aq) != 1 || aq[0].Err != nil {
		t.Fatalf("alter quotas: %v %+v", err, aq)
	}
	dq, err := adm.DescribeClientQuotas(ctx, true, []kadm.DescribeClientQuotaComponent{{Type: "client-id", MatchName: strp("cid-" + topic), MatchType: 0}})
	if err != nil || len(dq) != 1 {
		t.Fatalf("describe quotas: %v %+v", err, dq)
	}
	var qs []string
	for _, v := range dq[0].Values {
		qs = append(qs, fmt.Sprintf("%s=%v", v.Key, v.Value))
	}
	sort.Strings(qs)
	if dq[0].Entity.String() != "{client-id=cid-"+topic+"}" || strings.Join(qs, " ") != "consumer_byte_rate=2.097152e+06 producer_byte_rate=1.048576e+06" {
		t.Fatalf("described quota %s: %v", dq[0].Entity, qs)
	}

	// Leader election on a single broker: the preferred leader already leads.
	el, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, kadm.TopicsSet{topic: {0: {}, 1: {}}})
	if err != nil {
		t.Fatalf("elect leaders: %v", err)
	}
	for p := int32(0); p < 2; p++ {
		if r := el[topic][p]; !errors.Is(r.Err, kerr.ElectionNotNeeded) {
			t.Fatalf("elect preferred leader of %d: %+v, want ELECTION_NOT_NEEDED", p, r)
		}
	}

	// OffsetForLeaderEpoch: epoch 0 ends at the log end.
	pr := newClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < 3; i++ {
		if err := pr.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: 1, Value: []byte("e")}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	var req kadm.OffsetForLeaderEpochRequest
	req.Add(topic, 1, 0)
	oe, err := adm.OffsetForLeaderEpoch(ctx, req)
	if err != nil {
		t.Fatalf("offset for leader epoch: %v", err)
	}
	if o := oe[topic][1]; o.Err != nil || o.LeaderEpoch != 0 || o.EndOffset != 3 {
		t.Fatalf("offset for leader epoch 0: %+v, want epoch 0 ending at 3", o)
	}

	// No reassignments on one broker.
	lr, err := adm.ListPartitionReassignments(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil || len(lr) != 0 {
		t.Fatalf("list partition reassignments: %v %+v, want none", err, lr)
	}

	// A classic group is not a KIP-848 consumer group: ConsumerGroupDescribe says
	// GROUP_ID_NOT_FOUND, as Kafka does.
	os := kadm.Offsets{}
	os.AddOffset(topic, 0, 0, -1)
	if err := adm.CommitAllOffsets(ctx, "classic-"+topic, os); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cg, err := adm.DescribeConsumerGroups(ctx, "classic-"+topic)
	if !errors.Is(cg["classic-"+topic].Err, kerr.GroupIDNotFound) {
		t.Fatalf("describe a classic group as a consumer group: %v %+v, want GROUP_ID_NOT_FOUND", err, cg)
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}
