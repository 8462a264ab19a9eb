//! The consumer-group settings (the `group.consumer.*` part of Kafka's `GroupCoordinatorConfig`)
//! and their cross-checks, which Kafka makes when the broker starts.

use crate::groups::modern::assignor;
use crate::settings::Settings;

/// `group.consumer.migration.policy` (Kafka's `ConsumerGroupMigrationPolicy`): which online
/// conversions between a classic and a consumer group are allowed for non-empty groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrationPolicy {
    Disabled,
    Upgrade,
    Downgrade,
    Bidirectional,
}

impl MigrationPolicy {
    pub fn parse(s: &str) -> MigrationPolicy {
        match s.trim().to_ascii_lowercase().as_str() {
            "disabled" => MigrationPolicy::Disabled,
            "upgrade" => MigrationPolicy::Upgrade,
            "downgrade" => MigrationPolicy::Downgrade,
            _ => MigrationPolicy::Bidirectional,
        }
    }

    pub fn upgrade_enabled(self) -> bool {
        matches!(
            self,
            MigrationPolicy::Upgrade | MigrationPolicy::Bidirectional
        )
    }

    pub fn downgrade_enabled(self) -> bool {
        matches!(
            self,
            MigrationPolicy::Downgrade | MigrationPolicy::Bidirectional
        )
    }
}

/// KIP-848 consumer-group settings, read once at start-up.
#[derive(Clone, Debug)]
pub struct ConsumerGroupConfig {
    /// `group.coordinator.rebalance.protocols` contains `consumer`: ConsumerGroupHeartbeat and
    /// ConsumerGroupDescribe are served (and advertised).
    pub enabled: bool,
    pub session_timeout_ms: i32,
    pub heartbeat_interval_ms: i32,
    pub max_size: usize,
    /// Assignor names, the default first (`group.consumer.assignors`).
    pub assignors: Vec<&'static str>,
    pub migration_policy: MigrationPolicy,
}

impl Default for ConsumerGroupConfig {
    fn default() -> Self {
        ConsumerGroupConfig::from_settings(&Settings::defaults())
    }
}

/// Maps a `group.consumer.assignors` entry (a built-in name or Kafka's class name) to the
/// assignor's name.
fn assignor_name(entry: &str) -> Option<&'static str> {
    match entry.trim() {
        assignor::UNIFORM | "org.apache.kafka.coordinator.group.assignor.UniformAssignor" => {
            Some(assignor::UNIFORM)
        }
        assignor::RANGE | "org.apache.kafka.coordinator.group.assignor.RangeAssignor" => {
            Some(assignor::RANGE)
        }
        _ => None,
    }
}

impl ConsumerGroupConfig {
    pub fn from_settings(s: &Settings) -> ConsumerGroupConfig {
        let protocols = s.get("group.coordinator.rebalance.protocols").value.clone();
        let enabled = protocols
            .as_list()
            .is_some_and(|l| l.iter().any(|p| p.eq_ignore_ascii_case("consumer")));
        let mut assignors: Vec<&'static str> = Vec::new();
        if let Some(list) = s.get("group.consumer.assignors").value.as_list() {
            for name in list.iter().filter_map(|e| assignor_name(e)) {
                if !assignors.contains(&name) {
                    assignors.push(name);
                }
            }
        }
        if assignors.is_empty() {
            assignors = vec![assignor::UNIFORM, assignor::RANGE];
        }
        ConsumerGroupConfig {
            enabled,
            session_timeout_ms: s.i32("group.consumer.session.timeout.ms").max(1),
            heartbeat_interval_ms: s.i32("group.consumer.heartbeat.interval.ms").max(1),
            max_size: s.i32("group.consumer.max.size").max(1) as usize,
            assignors,
            migration_policy: MigrationPolicy::parse(&s.string("group.consumer.migration.policy")),
        }
    }

    /// The assignor used when no member names one.
    pub fn default_assignor(&self) -> &'static str {
        self.assignors[0]
    }

    pub fn supports_assignor(&self, name: &str) -> bool {
        self.assignors.contains(&name)
    }

    /// Kafka's start-up requirements on these settings (`GroupCoordinatorConfig`'s `require`
    /// calls), with its messages.
    pub fn validate(s: &Settings) -> Result<(), String> {
        let get = |k: &str| s.i32(k);
        let (session, min_session, max_session) = (
            get("group.consumer.session.timeout.ms"),
            get("group.consumer.min.session.timeout.ms"),
            get("group.consumer.max.session.timeout.ms"),
        );
        let (hb, min_hb, max_hb) = (
            get("group.consumer.heartbeat.interval.ms"),
            get("group.consumer.min.heartbeat.interval.ms"),
            get("group.consumer.max.heartbeat.interval.ms"),
        );
        let checks = [
            (max_hb >= min_hb, "group.consumer.max.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms"),
            (hb >= min_hb, "group.consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms"),
            (hb <= max_hb, "group.consumer.heartbeat.interval.ms must be less than or equal to group.consumer.max.heartbeat.interval.ms"),
            (max_session >= min_session, "group.consumer.max.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms"),
            (session >= min_session, "group.consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms"),
            (session <= max_session, "group.consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms"),
            (hb < session, "group.consumer.heartbeat.interval.ms must be less than group.consumer.session.timeout.ms"),
        ];
        if let Some((_, msg)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(msg.to_string());
        }
        let protocols = s.get("group.coordinator.rebalance.protocols").value.clone();
        if !protocols
            .as_list()
            .is_some_and(|l| l.iter().any(|p| p.eq_ignore_ascii_case("classic")))
        {
            return Err("Disabling the 'classic' protocol is not supported.".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Overrides;

    fn with(overrides: &[(&str, &str)]) -> Settings {
        Settings::load(&Overrides {
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Overrides::default()
        })
        .unwrap()
    }

    #[test]
    fn defaults_match_kafka() {
        let c = ConsumerGroupConfig::default();
        assert!(c.enabled);
        assert_eq!(c.session_timeout_ms, 45000);
        assert_eq!(c.heartbeat_interval_ms, 5000);
        assert_eq!(c.assignors, vec!["uniform", "range"]);
        assert_eq!(c.migration_policy, MigrationPolicy::Bidirectional);
        assert!(ConsumerGroupConfig::validate(&Settings::defaults()).is_ok());
    }

    #[test]
    fn cross_checks_and_names() {
        let s = with(&[("group.consumer.heartbeat.interval.ms", "50000")]);
        assert!(ConsumerGroupConfig::validate(&s)
            .unwrap_err()
            .contains("less than or equal to group.consumer.max.heartbeat.interval.ms"));
        let s = with(&[
            ("group.consumer.min.session.timeout.ms", "100"),
            ("group.consumer.session.timeout.ms", "1000"),
            ("group.consumer.min.heartbeat.interval.ms", "10"),
            ("group.consumer.heartbeat.interval.ms", "100"),
            (
                "group.consumer.assignors",
                "org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform",
            ),
            ("group.consumer.migration.policy", "DISABLED"),
        ]);
        assert!(ConsumerGroupConfig::validate(&s).is_ok());
        let c = ConsumerGroupConfig::from_settings(&s);
        assert_eq!(c.assignors, vec!["range", "uniform"]);
        assert_eq!(c.default_assignor(), "range");
        assert_eq!(c.migration_policy, MigrationPolicy::Disabled);
        let s = with(&[("group.coordinator.rebalance.protocols", "classic")]);
        assert!(!ConsumerGroupConfig::from_settings(&s).enabled);
        assert!(Settings::load(&Overrides {
            overrides: vec![(
                "group.coordinator.rebalance.protocols".into(),
                "consumer".into()
            )],
            ..Overrides::default()
        })
        .is_ok_and(|s| ConsumerGroupConfig::validate(&s).is_err()));
    }
}
