//! Consumer-group series, read from the group coordinator at scrape time: groups by state,
//! rebalances, and per group the committed offsets and lag under kafka_exporter's names
//! (`kafka_consumergroup_current_offset`, `kafka_consumergroup_lag`,
//! `kafka_consumergroup_lag_sum`, `kafka_consumergroup_members`, label `consumergroup`). Lag is
//! the partition's log end offset minus the committed offset, never negative, as kafka_exporter
//! computes it.
//!
//! The coordinator is reached through [`GroupSource`], registered once at start-up with
//! [`super::Metrics::set_group_source`], so these series need nothing on the hot path.

use std::collections::BTreeMap;

use ::metrics::{describe_gauge, gauge};

pub const GROUPS: &str = "klamm_groups";
pub const REBALANCES: &str = "klamm_group_rebalances_total";
pub const GROUP_LAG: &str = "klamm_group_lag";
pub const GROUP_LAG_SUM: &str = "klamm_group_lag_sum";
pub const KAFKA_CURRENT: &str = "kafka_consumergroup_current_offset";
pub const KAFKA_CURRENT_SUM: &str = "kafka_consumergroup_current_offset_sum";
pub const KAFKA_LAG: &str = "kafka_consumergroup_lag";
pub const KAFKA_LAG_SUM: &str = "kafka_consumergroup_lag_sum";
pub const KAFKA_MEMBERS: &str = "kafka_consumergroup_members";

/// Kafka's classic group states (`ClassicGroupState`) and the KIP-848 consumer group states
/// (`ConsumerGroupState`: Empty, Assigning, Reconciling, Stable, Dead): each gets a series, zero
/// or not.
const STATES: &[&str] = &[
    "Empty",
    "PreparingRebalance",
    "CompletingRebalance",
    "Assigning",
    "Reconciling",
    "Stable",
    "Dead",
];

/// One consumer group as the metrics see it.
#[derive(Clone, Debug, Default)]
pub struct GroupSnapshot {
    pub group_id: String,
    pub state: String,
    pub members: usize,
    /// Committed offsets: (topic, partition, offset).
    pub offsets: Vec<(String, i32, i64)>,
}

/// Where the group series come from: the group coordinator.
pub trait GroupSource: Send + Sync {
    /// Every group, or `None` while the coordinator is loading `__consumer_offsets`.
    fn snapshot(&self) -> Option<Vec<GroupSnapshot>>;
}

/// The group coordinator as the metrics' group source.
impl GroupSource for crate::groups::GroupCoordinator {
    fn snapshot(&self) -> Option<Vec<GroupSnapshot>> {
        let listed = self.list_groups(&[], &[]).ok()?;
        let snapshots = listed
            .into_iter()
            .map(|g| {
                let offsets = self
                    .fetch_offsets(&g.group_id, None, false)
                    .map(|topics| {
                        topics
                            .into_iter()
                            .flat_map(|(topic, parts)| {
                                parts
                                    .into_iter()
                                    .filter(|p| p.error.is_none() && p.offset >= 0)
                                    .map(move |p| (topic.clone(), p.partition, p.offset))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                GroupSnapshot {
                    group_id: g.group_id,
                    state: g.state,
                    members: g.members,
                    offsets,
                }
            })
            .collect();
        Some(snapshots)
    }
}

pub fn describe() {
    describe_gauge!(GROUPS, "Consumer groups by state.");
    describe_gauge!(
        GROUP_LAG,
        "Log end offset minus committed offset, per group and partition."
    );
    describe_gauge!(
        GROUP_LAG_SUM,
        "Lag summed over a group's partitions of a topic."
    );
    describe_gauge!(
        KAFKA_CURRENT,
        "kafka_exporter name: committed offset per group and partition."
    );
    describe_gauge!(
        KAFKA_CURRENT_SUM,
        "kafka_exporter name: committed offsets summed per group and topic."
    );
    describe_gauge!(
        KAFKA_LAG,
        "kafka_exporter name: lag per group and partition."
    );
    describe_gauge!(
        KAFKA_LAG_SUM,
        "kafka_exporter name: lag summed per group and topic."
    );
    describe_gauge!(KAFKA_MEMBERS, "kafka_exporter name: members of each group.");
}

/// Records the group families (into the scrape's recorder). `log_end_offset` looks up a
/// partition's log end offset (`None` for a partition that no longer exists).
pub fn record(
    groups: &[GroupSnapshot],
    log_end_offset: impl Fn(&str, i32) -> Option<i64>,
    partition_series: bool,
) {
    let mut by_state: BTreeMap<&str, u64> = STATES.iter().map(|s| (*s, 0)).collect();
    for g in groups {
        *by_state.entry(g.state.as_str()).or_insert(0) += 1;
    }
    for (state, n) in by_state {
        gauge!(GROUPS, "state" => state.to_string()).set(n as f64);
    }
    for g in groups {
        gauge!(KAFKA_MEMBERS, "consumergroup" => g.group_id.clone()).set(g.members as f64);
        // topic -> (lag sum, committed sum)
        let mut sums: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
        for (topic, partition, offset) in g.offsets.iter().filter(|o| o.2 >= 0) {
            let lag = log_end_offset(topic, *partition).map(|end| (end - offset).max(0));
            let s = sums.entry(topic).or_default();
            s.0 += lag.unwrap_or(0);
            s.1 += offset;
            if partition_series {
                let labels = [
                    ("consumergroup", g.group_id.clone()),
                    ("topic", topic.clone()),
                    ("partition", partition.to_string()),
                ];
                gauge!(KAFKA_CURRENT, &labels).set(*offset as f64);
                if let Some(lag) = lag {
                    gauge!(KAFKA_LAG, &labels).set(lag as f64);
                    gauge!(GROUP_LAG, &labels).set(lag as f64);
                }
            }
        }
        for (topic, (lag, current)) in sums {
            let labels = [
                ("consumergroup", g.group_id.clone()),
                ("topic", topic.to_string()),
            ];
            gauge!(KAFKA_LAG_SUM, &labels).set(lag as f64);
            gauge!(GROUP_LAG_SUM, &labels).set(lag as f64);
            gauge!(KAFKA_CURRENT_SUM, &labels).set(current as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_exporter_prometheus::PrometheusBuilder;

    #[test]
    fn lag_is_log_end_minus_committed() {
        let groups = vec![GroupSnapshot {
            group_id: "g \"1\"".into(),
            state: "Stable".into(),
            members: 2,
            offsets: vec![
                ("t".into(), 0, 3),
                ("t".into(), 1, 12),
                ("t".into(), 2, -1),
                ("gone".into(), 0, 5),
            ],
        }];
        let recorder = PrometheusBuilder::new().build_recorder();
        ::metrics::with_local_recorder(&recorder, || {
            record(&groups, |t, p| (t == "t").then_some(10 + p as i64), true)
        });
        let text = recorder.handle().render();
        let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        has(r#"kafka_consumergroup_lag{consumergroup="g \"1\"",topic="t",partition="0"} 7"#);
        // Committed past the log end (e.g. after truncation): lag 0, never negative.
        has(r#"kafka_consumergroup_lag{consumergroup="g \"1\"",topic="t",partition="1"} 0"#);
        has(
            r#"kafka_consumergroup_current_offset{consumergroup="g \"1\"",topic="t",partition="1"} 12"#,
        );
        has(r#"kafka_consumergroup_lag_sum{consumergroup="g \"1\"",topic="t"} 7"#);
        has(r#"kafka_consumergroup_members{consumergroup="g \"1\""} 2"#);
        has(r#"klamm_groups{state="Stable"} 1"#);
        has(r#"klamm_groups{state="Empty"} 0"#);
        // No committed offset: no series; a deleted topic: current offset but no lag.
        assert!(!text.contains(r#"partition="2""#));
        assert!(!text.contains(r#"kafka_consumergroup_lag{consumergroup="g \"1\"",topic="gone""#));
        has(
            r#"kafka_consumergroup_current_offset{consumergroup="g \"1\"",topic="gone",partition="0"} 5"#,
        );
    }
}
