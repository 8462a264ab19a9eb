package gotier

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func strp(s string) *string { return &s }

// findConfig returns the named entry of a described resource.
func findConfig(t *testing.T, rc kadm.ResourceConfig, key string) kadm.Config {
	t.Helper()
	for _, c := range rc.Configs {
		if c.Key == key {
			return c
		}
	}
	t.Fatalf("%s: config %s not described", rc.Name, key)
	return kadm.Config{}
}

func configValue(c kadm.Config) string {
	if c.Value == nil {
		return "<nil>"
	}
	return *c.Value
}

// TestFranzAdminTopics: kadm creates (also validate-only and a duplicate), lists, describes,
// grows and deletes topics, and reads and alters their configs.
func TestFranzAdminTopics(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 30*time.Second)
	topic := topicName(t)

	// Validate only: success, nothing created.
	vr, err := adm.ValidateCreateTopics(ctx, 3, 1, nil, topic)
	if err != nil || vr[topic].Err != nil || vr[topic].NumPartitions != 3 {
		t.Fatalf("validate create: %v %+v", err, vr[topic])
	}
	// A second admin client: kgo caches topic metadata it fetched (up to MetadataMinAge), so
	// asking on adm would hide the topic created next from adm's ListTopics.
	if lt, err := newAdmin(t).ListTopics(ctx, topic); err != nil || !errors.Is(lt[topic].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("validate-only create made the topic: %v %+v", err, lt[topic])
	}
	createTopic(t, adm, topic, 3, map[string]*string{"retention.ms": strp("3600000"), "cleanup.policy": strp("compact")})
	dup, err := adm.CreateTopic(ctx, 1, 1, nil, topic)
	// kadm's one-topic calls return the topic's error as err too.
	if !errors.Is(err, kerr.TopicAlreadyExists) || !errors.Is(dup.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("creating %s again: %v / %v, want TOPIC_ALREADY_EXISTS", topic, err, dup.Err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 3, nil, topic+"-rf3"); err == nil {
		t.Fatalf("replication factor 3 on one broker: no error")
	} else if !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3 on one broker: %v, want INVALID_REPLICATION_FACTOR", err)
	}

	lt, err := adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	td := lt[topic]
	if td.Err != nil || td.IsInternal || len(td.Partitions) != 3 || td.ID == (kadm.TopicID{}) {
		t.Fatalf("listed %s: %+v, want 3 partitions, a topic id, not internal", topic, td)
	}
	for p, pd := range td.Partitions {
		if pd.Leader != 0 || fmt.Sprint(pd.Replicas) != "[0]" || fmt.Sprint(pd.ISR) != "[0]" || len(pd.OfflineReplicas) != 0 || pd.Err != nil {
			t.Fatalf("partition %d: %+v, want leader 0, replicas [0], isr [0]", p, pd)
		}
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil || len(brokers) != 1 || brokers[0].NodeID != 0 || fmt.Sprintf("%s:%d", brokers[0].Host, brokers[0].Port) != broker.addr {
		t.Fatalf("list brokers: %v %+v, want node 0 at %s", err, brokers, broker.addr)
	}

	// Configs: the two set at creation are dynamic topic configs, the rest defaults.
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil || len(rcs) != 1 || rcs[0].Err != nil {
		t.Fatalf("describe configs: %v %+v", err, rcs)
	}
	for key, want := range map[string]string{"retention.ms": "3600000", "cleanup.policy": "compact"} {
		c := findConfig(t, rcs[0], key)
		if configValue(c) != want || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
			t.Fatalf("%s = %s (source %v), want %s from DYNAMIC_TOPIC_CONFIG", key, configValue(c), c.Source, want)
		}
	}
	if c := findConfig(t, rcs[0], "max.message.bytes"); configValue(c) != "1048588" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("max.message.bytes = %s (source %v), want Kafka's default 1048588", configValue(c), c.Source)
	}
	// Incremental alter: set one, delete one, append to a list.
	alters := []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: strp("7200000")},
		{Op: kadm.DeleteConfig, Name: "cleanup.policy"},
		{Op: kadm.SetConfig, Name: "segment.bytes", Value: strp("1048576")},
	}
	ar, err := adm.AlterTopicConfigs(ctx, alters, topic)
	if err != nil || len(ar) != 1 || ar[0].Err != nil {
		t.Fatalf("alter configs: %v %+v", err, ar)
	}
	bad, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "no.such.config", Value: strp("1")}}, topic)
	if err != nil || len(bad) != 1 || !errors.Is(bad[0].Err, kerr.InvalidConfig) {
		t.Fatalf("alter an unknown config: %v %+v, want INVALID_CONFIG", err, bad)
	}
	rcs, err = adm.DescribeTopicConfigs(ctx, topic)
	if err != nil || len(rcs) != 1 {
		t.Fatalf("describe configs: %v", err)
	}
	if c := findConfig(t, rcs[0], "retention.ms"); configValue(c) != "7200000" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms after alter: %s (%v)", configValue(c), c.Source)
	}
	if c := findConfig(t, rcs[0], "cleanup.policy"); configValue(c) != "delete" || c.Source != kmsg.ConfigSourceDefaultConfig {
		t.Fatalf("cleanup.policy after delete: %s (%v), want the default delete", configValue(c), c.Source)
	}
	if c := findConfig(t, rcs[0], "segment.bytes"); configValue(c) != "1048576" || c.Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("segment.bytes after alter: %s (%v)", configValue(c), c.Source)
	}
	// Broker configs: node 0, Kafka's names.
	bc, err := adm.DescribeBrokerConfigs(ctx, 0)
	if err != nil || len(bc) != 1 || bc[0].Err != nil {
		t.Fatalf("describe broker configs: %v %+v", err, bc)
	}
	if c := findConfig(t, bc[0], "num.partitions"); configValue(c) != "1" {
		t.Fatalf("broker num.partitions = %s, want 1 (the test broker's override)", configValue(c))
	}

	// Grow to 5 partitions; shrinking is refused.
	cp, err := adm.UpdatePartitions(ctx, 5, topic)
	if err != nil || cp[topic].Err != nil {
		t.Fatalf("update partitions: %v %+v", err, cp[topic])
	}
	lt, err = adm.ListTopics(ctx, topic)
	if err != nil || len(lt[topic].Partitions) != 5 {
		t.Fatalf("after growing: %v %d partitions, want 5", err, len(lt[topic].Partitions))
	}
	cp, err = adm.UpdatePartitions(ctx, 2, topic)
	if err != nil || !errors.Is(cp[topic].Err, kerr.InvalidPartitions) {
		t.Fatalf("shrinking: %v %+v, want INVALID_PARTITIONS", err, cp[topic])
	}

	// Delete, then it is gone (and a second delete says so).
	dr, err := adm.DeleteTopic(ctx, topic)
	if err != nil || dr.Err != nil {
		t.Fatalf("delete topic: %v %+v", err, dr)
	}
	waitFor(t, 10*time.Second, "the deleted topic to leave metadata", func() bool {
		lt, err := adm.ListTopics(ctx)
		return err == nil && !lt.Has(topic)
	})
	dr, err = adm.DeleteTopic(ctx, topic)
	if !errors.Is(err, kerr.UnknownTopicOrPartition) || !errors.Is(dr.Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("deleting again: %v %+v, want UNKNOWN_TOPIC_OR_PARTITION", err, dr)
	}
}

// TestFranzAdminOffsets: offsets for times, max timestamp, delete records and the start offset
// after it, on records with explicit timestamps.
func TestFranzAdminOffsets(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 30*time.Second)
	topic := topicName(t)
	createTopic(t, adm, topic, 1, nil)
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	p := newClient(t, kgo.DefaultProduceTopic(topic))
	var rs []*kgo.Record
	for i := 0; i < 10; i++ {
		// Timestamps 0, 1, ..., 9 s after base, except offset 7 which is the newest (+100 s).
		ts := base.Add(time.Duration(i) * time.Second)
		if i == 7 {
			ts = base.Add(100 * time.Second)
		}
		rs = append(rs, &kgo.Record{Value: []byte(fmt.Sprint(i)), Timestamp: ts})
	}
	if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	check := func(what string, lo kadm.ListedOffsets, err error, offset, ts int64) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		o, ok := lo.Lookup(topic, 0)
		if !ok || o.Err != nil || o.Offset != offset || (ts != 0 && o.Timestamp != ts) {
			t.Fatalf("%s: %+v, want offset %d timestamp %d", what, o, offset, ts)
		}
	}
	lo, err := adm.ListOffsetsAfterMilli(ctx, base.Add(2500*time.Millisecond).UnixMilli(), topic)
	check("offset for time base+2.5s", lo, err, 3, base.Add(3*time.Second).UnixMilli())
	lo, err = adm.ListOffsetsAfterMilli(ctx, base.Add(9*time.Second).UnixMilli(), topic)
	check("offset for time base+9s (offset 7 is newer)", lo, err, 7, base.Add(100*time.Second).UnixMilli())
	lo, err = adm.ListOffsetsAfterMilli(ctx, base.Add(time.Hour).UnixMilli(), topic)
	check("offset for a time after every record", lo, err, 10, 0)
	lo, err = adm.ListMaxTimestampOffsets(ctx, topic)
	check("max timestamp", lo, err, 7, base.Add(100*time.Second).UnixMilli())
	lo, err = adm.ListEndOffsets(ctx, topic)
	check("end", lo, err, 10, 0)

	// Delete records below offset 4.
	del := kadm.Offsets{}
	del.AddOffset(topic, 0, 4, -1)
	dres, err := adm.DeleteRecords(ctx, del)
	if err != nil {
		t.Fatalf("delete records: %v", err)
	}
	if d, ok := dres.Lookup(topic, 0); !ok || d.Err != nil || d.LowWatermark != 4 {
		t.Fatalf("delete records: %+v, want low watermark 4", d)
	}
	lo, err = adm.ListStartOffsets(ctx, topic)
	check("start after delete records", lo, err, 4, 0)
	beyond := kadm.Offsets{}
	beyond.AddOffset(topic, 0, 11, -1)
	dres, err = adm.DeleteRecords(ctx, beyond)
	if d, _ := dres.Lookup(topic, 0); err != nil || !errors.Is(d.Err, kerr.OffsetOutOfRange) {
		t.Fatalf("delete records beyond the end: %v %+v, want OFFSET_OUT_OF_RANGE", err, d)
	}
	c := newClient(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, c, 6, 10*time.Second)
	if got[0].Offset != 4 || string(got[0].Value) != "4" || got[5].Offset != 9 {
		t.Fatalf("consuming after delete records: first %d/%s last %d, want 4/4 .. 9", got[0].Offset, got[0].Value, got[5].Offset)
	}
	// Fetching at 1, below the log start: OFFSET_OUT_OF_RANGE, and the consumer resets to the
	// start (its reset policy) without complaint.
	c = newClient(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(1)}}),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got = consumeN(t, c, 6, 10*time.Second)
	if got[0].Offset != 4 || got[5].Offset != 9 {
		t.Fatalf("consuming from 1 after delete records: first %d last %d, want 4 .. 9", got[0].Offset, got[5].Offset)
	}
}

// TestFranzAdminGroups: offsets committed through kadm for a group without members, then
// listed, described, lag computed, offsets deleted and the group deleted.
func TestFranzAdminGroups(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 30*time.Second)
	topic := topicName(t)
	group := "g-" + topic
	createTopic(t, adm, topic, 2, nil)
	p := newClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i := 0; i < 6; i++ {
		if err := p.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: int32(i % 2), Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	os := kadm.Offsets{}
	os.AddOffset(topic, 0, 1, -1)
	os.AddOffset(topic, 1, 3, -1)
	if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
		t.Fatalf("commit offsets: %v", err)
	}
	fo, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	for part, want := range map[int32]int64{0: 1, 1: 3} {
		if o, ok := fo.Lookup(topic, part); !ok || o.Err != nil || o.At != want {
			t.Fatalf("committed offset of %d: %+v, want %d", part, o, want)
		}
	}
	lg, err := adm.ListGroups(ctx)
	if err != nil {
		t.Fatalf("list groups: %v", err)
	}
	if g, ok := lg[group]; !ok || g.State != "Empty" || g.Coordinator != 0 {
		t.Fatalf("listed group: %+v (found %v), want Empty on coordinator 0", g, ok)
	}
	dg, err := adm.DescribeGroups(ctx, group)
	if err != nil || dg[group].State != "Empty" || len(dg[group].Members) != 0 {
		t.Fatalf("describe group: %v %+v", err, dg[group])
	}
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		t.Fatalf("lag: %v", err)
	}
	l := lags[group]
	if l.Error() != nil || l.Lag.Total() != 2+0 {
		t.Fatalf("lag: %+v, want 2 (partition 0: end 3, commit 1; partition 1: end 3, commit 3)", l)
	}
	if ml, _ := l.Lag.Lookup(topic, 0); ml.Lag != 2 || ml.End.Offset != 3 || ml.Commit.At != 1 {
		t.Fatalf("lag of partition 0: %+v", ml)
	}
	// Delete the offsets of the topic, then the group.
	dor, err := adm.DeleteOffsets(ctx, group, kadm.TopicsSet{topic: {0: {}}})
	if err != nil || dor.Error() != nil {
		t.Fatalf("delete offsets: %v %v", err, dor.Error())
	}
	fo, err = adm.FetchOffsets(ctx, group)
	if err != nil {
		t.Fatalf("fetch offsets: %v", err)
	}
	if o, ok := fo.Lookup(topic, 0); ok && o.At != -1 {
		t.Fatalf("partition 0 still committed at %d after delete offsets", o.At)
	}
	if o, ok := fo.Lookup(topic, 1); !ok || o.At != 3 {
		t.Fatalf("partition 1: %+v, want its commit 3 kept", o)
	}
	dgr, err := adm.DeleteGroup(ctx, group)
	if err != nil || dgr.Err != nil {
		t.Fatalf("delete group: %v %+v", err, dgr)
	}
	dgr, err = adm.DeleteGroup(ctx, group)
	if !errors.Is(err, kerr.GroupIDNotFound) || !errors.Is(dgr.Err, kerr.GroupIDNotFound) {
		t.Fatalf("deleting the group again: %v %+v, want GROUP_ID_NOT_FOUND", err, dgr)
	}
}

// TestFranzAdminCluster: ApiVersions, cluster metadata, log dirs and features through kadm.
func TestFranzAdminCluster(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 20*time.Second)
	av, err := adm.ApiVersions(ctx)
	if err != nil {
		t.Fatalf("api versions: %v", err)
	}
	v, ok := av[0]
	if !ok || v.Err != nil {
		t.Fatalf("api versions of node 0: %+v", v)
	}
	for _, key := range []int16{0, 1, 3, 8, 9, 10, 11, 22, 24, 25, 26, 68} {
		if _, max, ok := v.KeyVersions(key); !ok || max < 0 {
			t.Fatalf("api key %d (%s) not advertised", key, kmsg.NameForKey(key))
		}
	}
	md, err := adm.BrokerMetadata(ctx)
	if err != nil || md.Controller != 0 || md.Cluster == "" || len(md.Brokers) != 1 {
		t.Fatalf("metadata: %v %+v", err, md)
	}
	topic := topicName(t)
	createTopic(t, adm, topic, 2, nil)
	logdirs, err := adm.DescribeAllLogDirs(ctx, kadm.TopicsSet{topic: {0: {}, 1: {}}})
	if err != nil {
		t.Fatalf("describe log dirs: %v", err)
	}
	var dirs []string
	logdirs.Each(func(d kadm.DescribedLogDir) {
		if d.Err == nil {
			dirs = append(dirs, d.Dir)
			if len(d.Topics[topic]) != 2 {
				t.Fatalf("log dir %s holds %d partitions of %s, want 2", d.Dir, len(d.Topics[topic]), topic)
			}
		}
	})
	sort.Strings(dirs)
	if len(dirs) != 1 {
		t.Fatalf("log dirs %v, want the one data directory", dirs)
	}
}

// TestFranzAdminACLs: create, describe and delete ACLs through kadm (the test broker runs
// Kafka's StandardAuthorizer with the anonymous user as super user, see overrides).
func TestFranzAdminACLs(t *testing.T) {
	adm := newAdmin(t)
	ctx := ctxFor(t, 20*time.Second)
	topic := topicName(t)
	b := kadm.NewACLs().Allow("User:alice").AllowHosts("*").Topics(topic).
		Operations(kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	cr, err := adm.CreateACLs(ctx, b)
	if err != nil {
		t.Fatalf("create acls: %v", err)
	}
	if len(cr) != 2 {
		t.Fatalf("create acls: %d results, want 2", len(cr))
	}
	for _, r := range cr {
		if r.Err != nil {
			t.Fatalf("create acl %+v", r)
		}
	}
	deny := kadm.NewACLs().Deny("User:mallory").DenyHosts("10.0.0.1").Groups("g-" + topic).
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternPrefixed)
	if cr, err := adm.CreateACLs(ctx, deny); err != nil || len(cr) != 1 || cr[0].Err != nil {
		t.Fatalf("create deny acl: %v %+v", err, cr)
	}
	desc := func(b *kadm.ACLBuilder) []string {
		t.Helper()
		res, err := adm.DescribeACLs(ctx, b)
		if err != nil {
			t.Fatalf("describe acls: %v", err)
		}
		var out []string
		for _, r := range res {
			if r.Err != nil {
				t.Fatalf("describe acls: %v", r.Err)
			}
			for _, d := range r.Described {
				out = append(out, fmt.Sprintf("%s@%s %s %s:%s(%s) %s", d.Principal, d.Host, d.Permission, d.Type, d.Name, d.Pattern, d.Operation))
			}
		}
		sort.Strings(out)
		return out
	}
	got := desc(kadm.NewACLs().AnyResource(topic, "g-"+topic).ResourcePatternType(kadm.ACLPatternMatch).
		Operations(kadm.OpAny).Allow().AllowHosts().Deny().DenyHosts())
	want := []string{
		fmt.Sprintf("User:alice@* ALLOW TOPIC:%s(LITERAL) DESCRIBE", topic),
		fmt.Sprintf("User:alice@* ALLOW TOPIC:%s(LITERAL) READ", topic),
		fmt.Sprintf("User:mallory@10.0.0.1 DENY GROUP:g-%s(PREFIXED) READ", topic),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("described acls:\n%v\nwant\n%v", got, want)
	}
	delRes, err := adm.DeleteACLs(ctx, kadm.NewACLs().Topics(topic).Allow("User:alice").AllowHosts().
		Operations(kadm.OpRead).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(delRes) != 1 || delRes[0].Err != nil || len(delRes[0].Deleted) != 1 ||
		delRes[0].Deleted[0].Operation != kadm.OpRead || delRes[0].Deleted[0].Principal != "User:alice" {
		t.Fatalf("delete acls: %v %+v", err, delRes)
	}
	got = desc(kadm.NewACLs().AnyResource(topic, "g-"+topic).ResourcePatternType(kadm.ACLPatternMatch).
		Operations(kadm.OpAny).Allow().AllowHosts().Deny().DenyHosts())
	if fmt.Sprint(got) != fmt.Sprint([]string{want[0], want[2]}) {
		t.Fatalf("after deleting alice's READ: %v, want DESCRIBE and mallory's deny", got)
	}
}
