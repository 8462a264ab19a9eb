//! State read from the live broker when `/metrics` is scraped: per-topic and per-partition
//! offsets, sizes and segment counts, under Klamm's names and the Kafka exporters' names.
//!
//! A fresh recorder is filled for each scrape and rendered, so series of deleted topics vanish
//! at once and nothing here costs anything between scrapes. Per-partition series can be turned
//! off (`metrics.partition.series.enable=false`) so a broker with many partitions keeps the
//! scrape small; per-topic series stay.

use std::sync::Arc;

use ::metrics::{describe_gauge, gauge, with_local_recorder, Unit};
use metrics_exporter_prometheus::PrometheusBuilder;

use super::groups::GroupSnapshot;
use crate::broker::Broker;

pub mod names {
    pub const BROKER_INFO: &str = "klamm_broker_info";
    pub const TOPICS: &str = "klamm_topics";
    pub const TOPIC_PARTITIONS: &str = "klamm_topic_partitions";
    pub const TOPIC_SIZE: &str = "klamm_topic_log_size_bytes";
    pub const TOPIC_RECORDS: &str = "klamm_topic_log_end_offset_sum";
    pub const PARTITION_LOG_END: &str = "klamm_partition_log_end_offset";
    pub const PARTITION_LOG_START: &str = "klamm_partition_log_start_offset";
    pub const PARTITION_HW: &str = "klamm_partition_high_watermark";
    pub const PARTITION_SIZE: &str = "klamm_partition_log_size_bytes";
    pub const PARTITION_SEGMENTS: &str = "klamm_partition_segments";
    pub const KAFKA_LOG_SIZE: &str = "kafka_log_log_size";
    pub const KAFKA_LOG_END: &str = "kafka_log_log_logendoffset";
    pub const KAFKA_LOG_START: &str = "kafka_log_log_logstartoffset";
    pub const KAFKA_LOG_SEGMENTS: &str = "kafka_log_log_numlogsegments";
    pub const KAFKA_BROKERS: &str = "kafka_brokers";
    pub const KAFKA_TOPIC_PARTITIONS: &str = "kafka_topic_partitions";
    pub const KAFKA_PARTITION_CURRENT: &str = "kafka_topic_partition_current_offset";
    pub const KAFKA_PARTITION_OLDEST: &str = "kafka_topic_partition_oldest_offset";
    pub const KAFKA_PARTITION_LEADER: &str = "kafka_topic_partition_leader";
    pub const KAFKA_PARTITION_REPLICAS: &str = "kafka_topic_partition_replicas";
    pub const KAFKA_PARTITION_ISR: &str = "kafka_topic_partition_in_sync_replica";
    pub const KAFKA_PARTITION_UNDER_REPLICATED: &str =
        "kafka_topic_partition_under_replicated_partition";
}
use names::*;

/// Renders the broker-state families (and the group families when the coordinator gave
/// `groups`).
pub fn render(
    broker: &Arc<Broker>,
    groups: Option<&[GroupSnapshot]>,
    partition_series: bool,
) -> String {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    with_local_recorder(&recorder, || {
        describe();
        let node = broker.node_id.to_string();
        gauge!(BROKER_INFO,
            "version" => env!("CARGO_PKG_VERSION"),
            "cluster_id" => broker.meta.cluster_id.clone(),
            "node_id" => node.clone())
        .set(1.0);
        gauge!(KAFKA_BROKERS).set(1.0);
        let topics = broker.logs.topics();
        gauge!(TOPICS).set(topics.len() as f64);
        for t in &topics {
            let name = t.name.to_string();
            let n = t.partitions.len() as f64;
            gauge!(TOPIC_PARTITIONS, "topic" => name.clone()).set(n);
            gauge!(KAFKA_TOPIC_PARTITIONS, "topic" => name.clone()).set(n);
            let mut size = 0u64;
            let mut end_sum = 0i64;
            for p in &t.partitions {
                let bytes = p.size_bytes();
                size += bytes;
                end_sum += p.log_end_offset();
                if !partition_series {
                    continue;
                }
                let labels = [("topic", name.clone()), ("partition", p.index.to_string())];
                let end = p.log_end_offset() as f64;
                let start = p.log_start_offset() as f64;
                let segments = p.segment_count() as f64;
                gauge!(PARTITION_LOG_END, &labels).set(end);
                gauge!(PARTITION_LOG_START, &labels).set(start);
                gauge!(PARTITION_HW, &labels).set(p.high_watermark() as f64);
                gauge!(PARTITION_SIZE, &labels).set(bytes as f64);
                gauge!(PARTITION_SEGMENTS, &labels).set(segments);
                gauge!(KAFKA_LOG_SIZE, &labels).set(bytes as f64);
                gauge!(KAFKA_LOG_END, &labels).set(end);
                gauge!(KAFKA_LOG_START, &labels).set(start);
                gauge!(KAFKA_LOG_SEGMENTS, &labels).set(segments);
                gauge!(KAFKA_PARTITION_CURRENT, &labels).set(end);
                gauge!(KAFKA_PARTITION_OLDEST, &labels).set(start);
                gauge!(KAFKA_PARTITION_LEADER, &labels).set(broker.node_id as f64);
                gauge!(KAFKA_PARTITION_REPLICAS, &labels).set(1.0);
                gauge!(KAFKA_PARTITION_ISR, &labels).set(1.0);
                gauge!(KAFKA_PARTITION_UNDER_REPLICATED, &labels).set(0.0);
            }
            gauge!(TOPIC_SIZE, "topic" => name.clone()).set(size as f64);
            gauge!(TOPIC_RECORDS, "topic" => name).set(end_sum as f64);
        }
        if broker.groups.config().share.enabled {
            super::share::describe();
            super::share::record(broker, partition_series);
        }
        if let Some(groups) = groups {
            super::groups::describe();
            super::groups::record(
                groups,
                |t, p| broker.logs.partition(t, p).map(|lp| lp.log_end_offset()),
                partition_series,
            );
        }
    });
    handle.render()
}

fn describe() {
    describe_gauge!(
        BROKER_INFO,
        "Constant 1, labelled with the version, cluster id and node id."
    );
    describe_gauge!(TOPICS, "Topics on this broker.");
    describe_gauge!(TOPIC_PARTITIONS, "Partitions of each topic.");
    describe_gauge!(
        TOPIC_SIZE,
        Unit::Bytes,
        "Bytes of all segments of each topic."
    );
    describe_gauge!(
        TOPIC_RECORDS,
        "Sum of the log end offsets of a topic's partitions."
    );
    describe_gauge!(
        PARTITION_LOG_END,
        "Log end offset: the offset the next record gets."
    );
    describe_gauge!(
        PARTITION_LOG_START,
        "Log start offset: the first offset still readable."
    );
    describe_gauge!(
        PARTITION_HW,
        "High watermark (= log end offset on a single broker)."
    );
    describe_gauge!(
        PARTITION_SIZE,
        Unit::Bytes,
        "Bytes of all segments of the partition."
    );
    describe_gauge!(PARTITION_SEGMENTS, "Segments of the partition.");
    describe_gauge!(
        KAFKA_LOG_SIZE,
        "Kafka JMX name (kafka.log:type=Log,name=Size): partition size in bytes."
    );
    describe_gauge!(
        KAFKA_LOG_END,
        "Kafka JMX name (kafka.log:type=Log,name=LogEndOffset)."
    );
    describe_gauge!(
        KAFKA_LOG_START,
        "Kafka JMX name (kafka.log:type=Log,name=LogStartOffset)."
    );
    describe_gauge!(
        KAFKA_LOG_SEGMENTS,
        "Kafka JMX name (kafka.log:type=Log,name=NumLogSegments)."
    );
    describe_gauge!(
        KAFKA_BROKERS,
        "kafka_exporter name: brokers in the cluster."
    );
    describe_gauge!(
        KAFKA_TOPIC_PARTITIONS,
        "kafka_exporter name: partitions of each topic."
    );
    describe_gauge!(
        KAFKA_PARTITION_CURRENT,
        "kafka_exporter name: log end offset of each partition."
    );
    describe_gauge!(
        KAFKA_PARTITION_OLDEST,
        "kafka_exporter name: log start offset of each partition."
    );
    describe_gauge!(
        KAFKA_PARTITION_LEADER,
        "kafka_exporter name: leader broker id of each partition."
    );
    describe_gauge!(
        KAFKA_PARTITION_REPLICAS,
        "kafka_exporter name: replicas of each partition."
    );
    describe_gauge!(
        KAFKA_PARTITION_ISR,
        "kafka_exporter name: in-sync replicas of each partition."
    );
    describe_gauge!(
        KAFKA_PARTITION_UNDER_REPLICATED,
        "kafka_exporter name: 1 if the partition is under-replicated."
    );
}
