package gotier

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
)

func saramaConfigEntry(t *testing.T, entries []sarama.ConfigEntry, name string) sarama.ConfigEntry {
	t.Helper()
	for _, e := range entries {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("config %s not described", name)
	return sarama.ConfigEntry{}
}

// TestSaramaAdmin: sarama's ClusterAdmin at its newest and default versions creates, describes,
// grows and deletes topics, reads and alters topic configs (AlterConfigs and
// IncrementalAlterConfigs), deletes records, describes the cluster and log dirs, and manages
// ACLs.
func TestSaramaAdmin(t *testing.T) {
	for _, v := range saramaVersions {
		v := v
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			watchSarama(t)
			adm := saramaAdmin(t, v.version)
			topic := topicName(t)
			retention := "3600000"
			if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1, ConfigEntries: map[string]*string{"retention.ms": &retention}}, true); err != nil {
				t.Fatalf("validate-only create: %v", err)
			}
			if tm, err := adm.DescribeTopics([]string{topic}); err != nil || len(tm) != 1 || !errors.Is(tm[0].Err, sarama.ErrUnknownTopicOrPartition) {
				t.Fatalf("after validate-only create: %v %+v, want UNKNOWN_TOPIC_OR_PARTITION", err, tm)
			}
			if err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 3, ReplicationFactor: 1, ConfigEntries: map[string]*string{"retention.ms": &retention}}, false); err != nil {
				t.Fatalf("create: %v", err)
			}
			err := adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false)
			var te *sarama.TopicError
			if !errors.As(err, &te) || te.Err != sarama.ErrTopicAlreadyExists {
				t.Fatalf("create again: %v, want TOPIC_ALREADY_EXISTS", err)
			}
			tm, err := adm.DescribeTopics([]string{topic})
			if err != nil || len(tm) != 1 || tm[0].Err != sarama.ErrNoError || len(tm[0].Partitions) != 3 || tm[0].IsInternal {
				t.Fatalf("describe topics: %v %+v", err, tm)
			}
			for _, p := range tm[0].Partitions {
				if p.Err != sarama.ErrNoError || p.Leader != 0 || fmt.Sprint(p.Replicas) != "[0]" || fmt.Sprint(p.Isr) != "[0]" {
					t.Fatalf("partition %d: %+v, want leader 0, replicas [0], isr [0]", p.ID, p)
				}
			}
			lt, err := adm.ListTopics()
			if err != nil {
				t.Fatalf("list topics: %v", err)
			}
			if d, ok := lt[topic]; !ok || d.NumPartitions != 3 || d.ReplicationFactor != 1 || d.ConfigEntries["retention.ms"] == nil || *d.ConfigEntries["retention.ms"] != "3600000" {
				t.Fatalf("listed %s: %+v (found %v), want 3 partitions, rf 1, retention.ms 3600000", topic, d, ok)
			}

			res := sarama.ConfigResource{Type: sarama.TopicResource, Name: topic}
			entries, err := adm.DescribeConfig(res)
			if err != nil {
				t.Fatalf("describe config: %v", err)
			}
			if e := saramaConfigEntry(t, entries, "retention.ms"); e.Value != "3600000" || e.Source != sarama.SourceTopic || e.Default {
				t.Fatalf("retention.ms: %+v, want 3600000 from the topic", e)
			}
			if e := saramaConfigEntry(t, entries, "cleanup.policy"); e.Value != "delete" || e.Source != sarama.SourceDefault {
				t.Fatalf("cleanup.policy: %+v, want the default delete", e)
			}
			// Incremental: set segment.bytes, delete retention.ms.
			seg := "1048576"
			if err := adm.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
				"segment.bytes": {Operation: sarama.IncrementalAlterConfigsOperationSet, Value: &seg},
				"retention.ms":  {Operation: sarama.IncrementalAlterConfigsOperationDelete},
			}, false); err != nil {
				t.Fatalf("incremental alter config: %v", err)
			}
			entries, err = adm.DescribeConfig(res)
			if err != nil {
				t.Fatalf("describe config: %v", err)
			}
			if e := saramaConfigEntry(t, entries, "segment.bytes"); e.Value != "1048576" || e.Source != sarama.SourceTopic {
				t.Fatalf("segment.bytes after incremental alter: %+v", e)
			}
			if e := saramaConfigEntry(t, entries, "retention.ms"); e.Value != "604800000" || e.Source != sarama.SourceDefault {
				t.Fatalf("retention.ms after delete: %+v, want the default 604800000", e)
			}
			// Legacy AlterConfigs replaces the whole set: only max.message.bytes remains.
			mmb := "500000"
			if err := adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"max.message.bytes": &mmb}, false); err != nil {
				t.Fatalf("alter config: %v", err)
			}
			entries, err = adm.DescribeConfig(res)
			if err != nil {
				t.Fatalf("describe config: %v", err)
			}
			if e := saramaConfigEntry(t, entries, "max.message.bytes"); e.Value != "500000" || e.Source != sarama.SourceTopic {
				t.Fatalf("max.message.bytes after alter: %+v", e)
			}
			if e := saramaConfigEntry(t, entries, "segment.bytes"); e.Source != sarama.SourceDefault {
				t.Fatalf("segment.bytes after a non-incremental alter: %+v, want back to the default", e)
			}
			badVal := "1"
			err = adm.AlterConfig(sarama.TopicResource, topic, map[string]*string{"no.such.config": &badVal}, false)
			if !errors.Is(err, sarama.ErrInvalidConfig) {
				t.Fatalf("alter an unknown config: %v, want INVALID_CONFIG", err)
			}

			// Records, delete records below 3 on partition 1.
			p := newClient(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
			for i := 0; i < 5; i++ {
				if err := p.ProduceSync(ctxFor(t, 10*time.Second), &kgo.Record{Topic: topic, Partition: 1, Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
			}
			if err := adm.DeleteRecords(topic, map[int32]int64{1: 3}); err != nil {
				t.Fatalf("delete records: %v", err)
			}
			msgs := saramaConsume(t, saramaConfig(v.version), topic, 1, sarama.OffsetOldest, 2)
			if msgs[0].Offset != 3 || string(msgs[0].Value) != "3" || msgs[1].Offset != 4 {
				t.Fatalf("after delete records: %d/%s, %d; want 3/3, 4", msgs[0].Offset, msgs[0].Value, msgs[1].Offset)
			}

			if err := adm.CreatePartitions(topic, 4, nil, false); err != nil {
				t.Fatalf("create partitions: %v", err)
			}
			if tm, err := adm.DescribeTopics([]string{topic}); err != nil || len(tm[0].Partitions) != 4 {
				t.Fatalf("after create partitions: %v %d partitions", err, len(tm[0].Partitions))
			}
			if err := adm.CreatePartitions(topic, 2, nil, false); !errors.Is(err, sarama.ErrInvalidPartitions) {
				t.Fatalf("shrinking: %v, want INVALID_PARTITIONS", err)
			}

			brokers, controller, err := adm.DescribeCluster()
			if err != nil || len(brokers) != 1 || brokers[0].ID() != 0 || brokers[0].Addr() != broker.addr || controller != 0 {
				t.Fatalf("describe cluster: %v, %d brokers, controller %d", err, len(brokers), controller)
			}
			dirs, err := adm.DescribeLogDirs([]int32{0})
			if err != nil || len(dirs[0]) != 1 || dirs[0][0].ErrorCode != sarama.ErrNoError {
				t.Fatalf("describe log dirs: %v %+v, want the one data directory", err, dirs)
			}
			found := 0
			for _, td := range dirs[0][0].Topics {
				if td.Topic == topic {
					found = len(td.Partitions)
					for _, pd := range td.Partitions {
						if pd.PartitionID == 1 && pd.Size <= 0 {
							t.Fatalf("log dir: partition 1 size %d, want the records' bytes", pd.Size)
						}
					}
				}
			}
			if found != 4 {
				t.Fatalf("log dir holds %d partitions of %s, want 4", found, topic)
			}

			// ACLs (the test broker runs StandardAuthorizer).
			r := sarama.Resource{ResourceType: sarama.AclResourceTopic, ResourceName: topic, ResourcePatternType: sarama.AclPatternLiteral}
			if err := adm.CreateACL(r, sarama.Acl{Principal: "User:bob", Host: "*", Operation: sarama.AclOperationWrite, PermissionType: sarama.AclPermissionAllow}); err != nil {
				t.Fatalf("create acl: %v", err)
			}
			name := topic
			filter := sarama.AclFilter{ResourceType: sarama.AclResourceTopic, ResourceName: &name,
				ResourcePatternTypeFilter: sarama.AclPatternLiteral, Operation: sarama.AclOperationAny, PermissionType: sarama.AclPermissionAny}
			acls, err := adm.ListAcls(filter)
			if err != nil || len(acls) != 1 || len(acls[0].Acls) != 1 {
				t.Fatalf("list acls: %v %+v", err, acls)
			}
			if a := acls[0].Acls[0]; a.Principal != "User:bob" || a.Host != "*" || a.Operation != sarama.AclOperationWrite || a.PermissionType != sarama.AclPermissionAllow || acls[0].ResourceName != topic {
				t.Fatalf("listed acl: %+v on %+v", a, acls[0].Resource)
			}
			matched, err := adm.DeleteACL(filter, false)
			if err != nil || len(matched) != 1 || matched[0].Principal != "User:bob" || matched[0].Err != sarama.ErrNoError {
				t.Fatalf("delete acl: %v %+v", err, matched)
			}
			if acls, err := adm.ListAcls(filter); err != nil || len(acls) != 0 {
				t.Fatalf("after delete: %v %+v", err, acls)
			}

			if err := adm.DeleteTopic(topic); err != nil {
				t.Fatalf("delete topic: %v", err)
			}
			waitFor(t, 10*time.Second, "the deleted topic to go", func() bool {
				lt, err := adm.ListTopics()
				_, ok := lt[topic]
				return err == nil && !ok
			})
			if err := adm.DeleteTopic(topic); !errors.Is(err, sarama.ErrUnknownTopicOrPartition) {
				t.Fatalf("delete again: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
			}
		})
	}
}
