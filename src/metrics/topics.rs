//! Per-topic throughput (Kafka's `BrokerTopicMetrics`), produce batch sizes, flush latency,
//! fetch long-poll waits and connection counts.
//!
//! A topic's handles are registered on its first produce or fetch and cached by name; the
//! produce and fetch paths then do one sharded-map read and a few atomic adds per partition
//! (not per record).

use std::sync::Arc;
use std::time::Duration;

use ::metrics::{counter, gauge, histogram, Counter, Gauge, Histogram};
use dashmap::DashMap;

use super::names::*;

/// One topic's counters, under Klamm's names and Kafka's JMX-exporter names.
pub struct TopicHandles {
    bytes_in: Counter,
    records_in: Counter,
    bytes_out: Counter,
    kafka_messages_in: Counter,
    kafka_bytes_in: Counter,
    kafka_bytes_out: Counter,
}

impl TopicHandles {
    fn new(topic: &str) -> TopicHandles {
        let t = topic.to_string();
        TopicHandles {
            bytes_in: counter!(TOPIC_BYTES_IN, "topic" => t.clone()),
            records_in: counter!(TOPIC_RECORDS_IN, "topic" => t.clone()),
            bytes_out: counter!(TOPIC_BYTES_OUT, "topic" => t.clone()),
            kafka_messages_in: counter!(KAFKA_MESSAGES_IN, "topic" => t.clone()),
            kafka_bytes_in: counter!(KAFKA_BYTES_IN, "topic" => t.clone()),
            kafka_bytes_out: counter!(KAFKA_BYTES_OUT, "topic" => t),
        }
    }
}

/// Cached per-topic handles and the broker-wide data-path instruments.
pub struct TopicMetrics {
    enabled: bool,
    topics: DashMap<Arc<str>, Arc<TopicHandles>>,
    batch_size: Histogram,
    flush_time: Histogram,
    long_poll_waits: Counter,
    long_poll_time: Histogram,
    connections_active: Gauge,
    connections_opened: Counter,
    connections_closed: Counter,
}

impl TopicMetrics {
    pub(super) fn new(enabled: bool) -> TopicMetrics {
        TopicMetrics {
            enabled,
            topics: DashMap::new(),
            batch_size: histogram!(PRODUCE_BATCH_SIZE),
            flush_time: histogram!(LOG_FLUSH_TIME),
            long_poll_waits: counter!(FETCH_LONG_POLL_WAITS),
            long_poll_time: histogram!(FETCH_LONG_POLL_TIME),
            connections_active: gauge!(CONNECTIONS_ACTIVE),
            connections_opened: counter!(CONNECTIONS_OPENED),
            connections_closed: counter!(CONNECTIONS_CLOSED),
        }
    }

    fn handles(&self, topic: &Arc<str>) -> Arc<TopicHandles> {
        if let Some(h) = self.topics.get(topic) {
            return h.clone();
        }
        self.topics
            .entry(topic.clone())
            .or_insert_with(|| Arc::new(TopicHandles::new(topic)))
            .clone()
    }

    /// A batch of `records` records, `bytes` long, was appended for a producer (Kafka marks
    /// BytesIn/MessagesIn after a successful append in `ReplicaManager.appendToLocalLog`).
    pub fn produced(&self, topic: &Arc<str>, bytes: usize, records: i32) {
        if !self.enabled {
            return;
        }
        let h = self.handles(topic);
        h.bytes_in.increment(bytes as u64);
        h.kafka_bytes_in.increment(bytes as u64);
        h.records_in.increment(records.max(0) as u64);
        h.kafka_messages_in.increment(records.max(0) as u64);
        self.batch_size.record(bytes as f64);
    }

    /// `bytes` of stored batches were returned to a fetcher. They go out as file regions
    /// (sendfile), so the records in them are not counted: that would mean reading their
    /// headers back from disk (Kafka has no MessagesOut either).
    pub fn fetched(&self, topic: &Arc<str>, bytes: usize) {
        if !self.enabled || bytes == 0 {
            return;
        }
        let h = self.handles(topic);
        h.bytes_out.increment(bytes as u64);
        h.kafka_bytes_out.increment(bytes as u64);
    }

    /// Forgets a deleted topic's handles (its series stay until restart, with final values).
    pub fn topic_deleted(&self, topic: &str) {
        self.topics.remove(topic);
    }

    /// One partition fsync took `elapsed`.
    pub fn flushed(&self, elapsed: Duration) {
        if self.enabled {
            self.flush_time.record(elapsed.as_secs_f64());
        }
    }

    /// A fetch parked waiting for data; call [`TopicMetrics::long_poll_done`] when it resumes.
    pub fn long_poll_started(&self) {
        if self.enabled {
            self.long_poll_waits.increment(1);
        }
    }

    pub fn long_poll_done(&self, waited: Duration) {
        if self.enabled {
            self.long_poll_time.record(waited.as_secs_f64());
        }
    }

    pub fn connection_opened(&self) {
        if self.enabled {
            self.connections_opened.increment(1);
            self.connections_active.increment(1.0);
        }
    }

    /// A connection refused before it was served (`reason` is a fixed label value).
    pub fn connection_refused(&self, reason: &'static str) {
        if self.enabled {
            ::metrics::counter!(super::names::CONNECTIONS_REFUSED, "reason" => reason).increment(1);
        }
    }

    pub fn connection_closed(&self) {
        if self.enabled {
            self.connections_closed.increment(1);
            self.connections_active.decrement(1.0);
        }
    }
}
