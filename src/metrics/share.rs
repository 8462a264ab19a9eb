//! Share-group series (KIP-932), read from the group coordinator and the share-partition manager
//! at scrape time, beside the consumer-group lag series: share groups by state, members, and per
//! share partition its start offset, records in flight and acquired, the share lag (records
//! between the share-partition start offset and the log end not yet acknowledged or archived,
//! as KIP-1226 defines it), and the lock expiries, redeliveries and archived records since the
//! share partition was loaded.

use std::collections::BTreeMap;

use ::metrics::{describe_gauge, gauge};

use crate::broker::Broker;

pub const SHARE_GROUPS: &str = "klamm_share_groups";
pub const SHARE_MEMBERS: &str = "klamm_share_group_members";
pub const SHARE_SESSIONS: &str = "klamm_share_sessions";
pub const SHARE_START: &str = "klamm_share_partition_start_offset";
pub const SHARE_IN_FLIGHT: &str = "klamm_share_partition_in_flight_records";
pub const SHARE_ACQUIRED: &str = "klamm_share_partition_acquired_records";
pub const SHARE_LAG: &str = "klamm_share_group_lag";
pub const SHARE_LAG_SUM: &str = "klamm_share_group_lag_sum";
pub const SHARE_LOCK_EXPIRIES: &str = "klamm_share_lock_expiries_total";
pub const SHARE_REDELIVERIES: &str = "klamm_share_redeliveries_total";
pub const SHARE_ARCHIVED: &str = "klamm_share_archived_records_total";
pub const SHARE_DEAD_LETTERED: &str = "klamm_share_dead_letter_records_total";

pub fn describe() {
    describe_gauge!(
        SHARE_DEAD_LETTERED,
        "Archived records copied to the group's dead-letter topic, since the share partition was loaded."
    );
    describe_gauge!(SHARE_GROUPS, "Share groups by state (Empty, Stable).");
    describe_gauge!(SHARE_MEMBERS, "Members of each share group.");
    describe_gauge!(SHARE_SESSIONS, "Share sessions open on the broker.");
    describe_gauge!(
        SHARE_START,
        "Share-partition start offset (SPSO) per group and partition."
    );
    describe_gauge!(
        SHARE_IN_FLIGHT,
        "Records between the share-partition start and end offsets, per group and partition."
    );
    describe_gauge!(
        SHARE_ACQUIRED,
        "Records acquired by members (locked), per group and partition."
    );
    describe_gauge!(
        SHARE_LAG,
        "Share lag (KIP-1226): records from the share-partition start offset to the log end not yet acknowledged or archived."
    );
    describe_gauge!(
        SHARE_LAG_SUM,
        "Share lag summed over a group's partitions of a topic."
    );
    describe_gauge!(
        SHARE_LOCK_EXPIRIES,
        "Acquisition locks that expired before the records were acknowledged, since the share partition was loaded."
    );
    describe_gauge!(
        SHARE_REDELIVERIES,
        "Records delivered again (delivery count above 1), since the share partition was loaded."
    );
    describe_gauge!(
        SHARE_ARCHIVED,
        "Records archived (rejected, or at the delivery limit), since the share partition was loaded."
    );
}

/// Records the share families (into the scrape's recorder).
pub fn record(broker: &Broker, partition_series: bool) {
    let groups = broker
        .groups
        .list_groups(&[], &["share".to_string()])
        .unwrap_or_default();
    let mut by_state: BTreeMap<&str, u64> = [("Empty", 0), ("Stable", 0)].into_iter().collect();
    for g in &groups {
        *by_state.entry(g.state.as_str()).or_insert(0) += 1;
        gauge!(SHARE_MEMBERS, "group" => g.group_id.clone()).set(g.members as f64);
    }
    for (state, n) in by_state {
        gauge!(SHARE_GROUPS, "state" => state.to_string()).set(n as f64);
    }
    gauge!(SHARE_SESSIONS).set(broker.share.session_count() as f64);
    let mut sums: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in broker.share.snapshot_metrics() {
        *sums.entry((p.group.clone(), p.topic.clone())).or_insert(0) += p.lag;
        if !partition_series {
            continue;
        }
        let labels = [
            ("group", p.group.clone()),
            ("topic", p.topic.clone()),
            ("partition", p.partition.to_string()),
        ];
        gauge!(SHARE_START, &labels).set(p.start_offset as f64);
        gauge!(SHARE_IN_FLIGHT, &labels).set(p.in_flight as f64);
        gauge!(SHARE_ACQUIRED, &labels).set(p.acquired as f64);
        gauge!(SHARE_LAG, &labels).set(p.lag as f64);
        gauge!(SHARE_LOCK_EXPIRIES, &labels).set(p.events.lock_expiries as f64);
        gauge!(SHARE_REDELIVERIES, &labels).set(p.events.redeliveries as f64);
        gauge!(SHARE_ARCHIVED, &labels).set(p.events.archived as f64);
        gauge!(SHARE_DEAD_LETTERED, &labels).set(p.events.dead_lettered as f64);
    }
    for ((group, topic), lag) in sums {
        gauge!(SHARE_LAG_SUM, "group" => group, "topic" => topic).set(lag as f64);
    }
}
