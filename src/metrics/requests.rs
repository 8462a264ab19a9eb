//! Per-request metrics (Kafka's `RequestMetrics`): counts by API and version, error codes by
//! API, and the latency of each phase of a request's life on its connection.
//!
//! Handles are registered once per API (and version, and error code) and cached in sharded
//! maps, so recording costs a map read and a few atomic operations per request.

use std::sync::Arc;
use std::time::Instant;

use ::metrics::{counter, histogram, Counter, Histogram};
use dashmap::DashMap;
use kafka_protocol::messages::{ApiKey, FetchResponse, ResponseKind};

use super::names::*;
use crate::error_names;

/// When each phase of a request ended, as seen by its connection.
#[derive(Clone, Copy, Debug)]
pub struct RequestTiming {
    /// The whole frame had been read from the socket.
    pub received: Instant,
    /// Processing started (it had waited behind earlier requests on the connection).
    pub started: Instant,
    /// The handler returned and the response was encoded.
    pub processed: Instant,
    /// The response was written to the socket (= `processed` when there is none).
    pub sent: Instant,
}

/// Error codes found in one response, with how often each occurs (reused per connection).
#[derive(Default, Debug)]
pub struct ErrorTally(Vec<(i16, u32)>);

impl ErrorTally {
    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn add(&mut self, code: i16) {
        match self.0.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => *n += 1,
            None => self.0.push((code, 1)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (i16, u32)> + '_ {
        self.0.iter().copied()
    }
}

/// The cached handles for `key`, registering them on first use. Hits take only the shard's
/// read lock.
fn cached<K, V, F>(map: &DashMap<K, Arc<V>>, key: K, make: F) -> Arc<V>
where
    K: std::hash::Hash + Eq + Clone,
    F: FnOnce() -> V,
{
    if let Some(v) = map.get(&key) {
        return v.clone();
    }
    map.entry(key).or_insert_with(|| Arc::new(make())).clone()
}

struct VersionHandles {
    klamm: Counter,
    kafka: Counter,
}

struct ApiTimers {
    queue: Histogram,
    local: Histogram,
    send: Histogram,
    total: Histogram,
}

struct ErrorHandles {
    klamm: Counter,
    kafka: Counter,
}

/// Cached request-metric handles.
pub struct RequestMetrics {
    enabled: bool,
    versions: DashMap<(i16, i16), Arc<VersionHandles>>,
    timers: DashMap<i16, Arc<ApiTimers>>,
    errors: DashMap<(i16, i16), Arc<ErrorHandles>>,
}

/// Kafka's name of an API (`ApiKeys.name`), used as the `request` label.
pub fn api_name(api: ApiKey) -> String {
    format!("{api:?}")
}

impl RequestMetrics {
    pub(super) fn new(enabled: bool) -> RequestMetrics {
        RequestMetrics {
            enabled,
            versions: DashMap::new(),
            timers: DashMap::new(),
            errors: DashMap::new(),
        }
    }

    /// Records one answered (or deliberately unanswered) request.
    pub fn record(&self, api: ApiKey, version: i16, timing: &RequestTiming, errors: &ErrorTally) {
        if !self.enabled {
            return;
        }
        let key = api as i16;
        let v = cached(&self.versions, (key, version), || {
            let name = api_name(api);
            let version = version.to_string();
            VersionHandles {
                klamm: counter!(REQUESTS, "api" => name.clone(), "version" => version.clone()),
                kafka: counter!(KAFKA_REQUESTS, "request" => name, "version" => version),
            }
        });
        v.klamm.increment(1);
        v.kafka.increment(1);
        let t = cached(&self.timers, key, || {
            let name = api_name(api);
            ApiTimers {
                queue: histogram!(REQUEST_QUEUE_TIME, "api" => name.clone()),
                local: histogram!(REQUEST_LOCAL_TIME, "api" => name.clone()),
                send: histogram!(RESPONSE_SEND_TIME, "api" => name.clone()),
                total: histogram!(REQUEST_TOTAL_TIME, "api" => name),
            }
        });
        let secs = |a: Instant, b: Instant| b.saturating_duration_since(a).as_secs_f64();
        t.queue.record(secs(timing.received, timing.started));
        t.local.record(secs(timing.started, timing.processed));
        t.send.record(secs(timing.processed, timing.sent));
        t.total.record(secs(timing.received, timing.sent));
        for (code, n) in errors.iter() {
            let e = cached(&self.errors, (key, code), || {
                let name = api_name(api);
                let error = error_names::name(code).into_owned();
                ErrorHandles {
                    klamm: counter!(REQUEST_ERRORS, "api" => name.clone(), "error" => error.clone()),
                    kafka: counter!(KAFKA_ERRORS, "request" => name, "error" => error),
                }
            });
            e.klamm.increment(n as u64);
            e.kafka.increment(n as u64);
        }
    }

    /// A request that closed its connection instead of being answered.
    pub fn rejected(&self, reason: &'static str) {
        if self.enabled {
            counter!(REQUESTS_REJECTED, "reason" => reason).increment(1);
        }
    }

    /// A request whose handler panicked; its connection was closed.
    pub fn panicked(&self, api: ApiKey) {
        if self.enabled {
            counter!(REQUEST_PANICS, "api" => api_name(api)).increment(1);
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }
}

/// Collects the error codes of a response the way Kafka's `AbstractResponse.errorCounts` does:
/// one per partition, topic, group or resource result, or the top-level code where the API has
/// only that. Responses of APIs not listed here add nothing.
pub fn tally_errors(resp: &ResponseKind, t: &mut ErrorTally) {
    match resp {
        ResponseKind::Produce(r) => {
            for tr in &r.responses {
                for p in &tr.partition_responses {
                    t.add(p.error_code);
                }
            }
        }
        ResponseKind::Fetch(r) => tally_fetch_errors(r, t),
        ResponseKind::ListOffsets(r) => {
            for tr in &r.topics {
                for p in &tr.partitions {
                    t.add(p.error_code);
                }
            }
        }
        ResponseKind::Metadata(r) => {
            t.add(r.error_code);
            for tr in &r.topics {
                if tr.error_code != 0 {
                    t.add(tr.error_code);
                }
            }
        }
        ResponseKind::ApiVersions(r) => t.add(r.error_code),
        ResponseKind::CreateTopics(r) => r.topics.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::DeleteTopics(r) => r.responses.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::CreatePartitions(r) => r.results.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::DeleteRecords(r) => {
            for tr in &r.topics {
                for p in &tr.partitions {
                    t.add(p.error_code);
                }
            }
        }
        ResponseKind::InitProducerId(r) => t.add(r.error_code),
        ResponseKind::DescribeCluster(r) => t.add(r.error_code),
        ResponseKind::FindCoordinator(r) => {
            if r.coordinators.is_empty() {
                t.add(r.error_code);
            }
            r.coordinators.iter().for_each(|x| t.add(x.error_code));
        }
        ResponseKind::JoinGroup(r) => t.add(r.error_code),
        ResponseKind::SyncGroup(r) => t.add(r.error_code),
        ResponseKind::Heartbeat(r) => t.add(r.error_code),
        ResponseKind::LeaveGroup(r) => t.add(r.error_code),
        ResponseKind::ListGroups(r) => t.add(r.error_code),
        ResponseKind::DescribeGroups(r) => r.groups.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::DeleteGroups(r) => r.results.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::OffsetCommit(r) => {
            for tr in &r.topics {
                for p in &tr.partitions {
                    t.add(p.error_code);
                }
            }
        }
        ResponseKind::OffsetFetch(r) => {
            if r.groups.is_empty() {
                t.add(r.error_code);
                for tr in &r.topics {
                    for p in &tr.partitions {
                        if p.error_code != 0 {
                            t.add(p.error_code);
                        }
                    }
                }
            }
            r.groups.iter().for_each(|g| t.add(g.error_code));
        }
        ResponseKind::OffsetDelete(r) => t.add(r.error_code),
        ResponseKind::DescribeConfigs(r) => r.results.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::AlterConfigs(r) => r.responses.iter().for_each(|x| t.add(x.error_code)),
        ResponseKind::IncrementalAlterConfigs(r) => {
            r.responses.iter().for_each(|x| t.add(x.error_code))
        }
        ResponseKind::SaslHandshake(r) => t.add(r.error_code),
        ResponseKind::SaslAuthenticate(r) => t.add(r.error_code),
        _ => {}
    }
}

/// Fetch responses travel outside [`ResponseKind`] (their records are file regions).
pub fn tally_fetch_errors(r: &FetchResponse, t: &mut ErrorTally) {
    if r.error_code != 0 || r.responses.is_empty() {
        t.add(r.error_code);
    }
    for tr in &r.responses {
        for p in &tr.partitions {
            t.add(p.error_code);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::produce_response::{
        PartitionProduceResponse, TopicProduceResponse,
    };
    use kafka_protocol::messages::ProduceResponse;

    #[test]
    fn tallies_partition_errors() {
        let resp = ResponseKind::Produce(ProduceResponse::default().with_responses(vec![
            TopicProduceResponse::default().with_partition_responses(vec![
                PartitionProduceResponse::default().with_error_code(0),
                PartitionProduceResponse::default().with_error_code(3),
                PartitionProduceResponse::default().with_error_code(0),
            ]),
        ]));
        let mut t = ErrorTally::default();
        tally_errors(&resp, &mut t);
        let mut got: Vec<_> = t.iter().collect();
        got.sort();
        assert_eq!(got, vec![(0, 2), (3, 1)]);
    }

    #[test]
    fn api_names_are_kafkas() {
        assert_eq!(api_name(ApiKey::Produce), "Produce");
        assert_eq!(api_name(ApiKey::ListOffsets), "ListOffsets");
    }
}
