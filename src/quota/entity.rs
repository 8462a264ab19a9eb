//! Kafka's client quota vocabulary: entities (`user`, `client-id`, `ip`, each with a name or the
//! default) and the quota keys each entity kind accepts (`QuotaConfig`).

use std::collections::BTreeMap;
use std::fmt;

/// `ClientQuotaEntity.USER`
pub const USER: &str = "user";
/// `ClientQuotaEntity.CLIENT_ID`
pub const CLIENT_ID: &str = "client-id";
/// `ClientQuotaEntity.IP`
pub const IP: &str = "ip";

/// Kafka's `ClientQuotaEntity`: entity type → name, `None` naming the default entity. Ordered
/// by type name, which is also the order Kafka's `HashMap` prints `client-id` and `user` in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientQuotaEntity {
    pub entries: BTreeMap<String, Option<String>>,
}

impl ClientQuotaEntity {
    /// Builds the entity the way `AlterClientQuotasRequest.entries` does: a later entry of the
    /// same type replaces an earlier one.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) -> Self {
        let entries = pairs
            .into_iter()
            .map(|(t, n)| (t.to_string(), n.map(str::to_string)))
            .collect();
        ClientQuotaEntity { entries }
    }

    pub fn get(&self, entity_type: &str) -> Option<&Option<String>> {
        self.entries.get(entity_type)
    }
}

/// `ClientQuotaEntity.toString` (a Java map: `{client-id=app, user=null}`).
impl fmt::Display for ClientQuotaEntity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientQuotaEntity(entries={")?;
        for (i, (t, n)) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{t}={}", n.as_deref().unwrap_or("null"))?;
        }
        f.write_str("})")
    }
}

/// The type a quota key is declared with in `QuotaConfig` (it decides which values are valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    Long,
    Int,
    Double,
}

/// `QuotaConfig.PRODUCER_BYTE_RATE_OVERRIDE_CONFIG`
pub const PRODUCER_BYTE_RATE: &str = "producer_byte_rate";
/// `QuotaConfig.CONSUMER_BYTE_RATE_OVERRIDE_CONFIG`
pub const CONSUMER_BYTE_RATE: &str = "consumer_byte_rate";
/// `QuotaConfig.REQUEST_PERCENTAGE_OVERRIDE_CONFIG`
pub const REQUEST_PERCENTAGE: &str = "request_percentage";
/// `QuotaConfig.CONTROLLER_MUTATION_RATE_OVERRIDE_CONFIG`
pub const CONTROLLER_MUTATION_RATE: &str = "controller_mutation_rate";
/// `QuotaConfig.IP_CONNECTION_RATE_OVERRIDE_CONFIG`
pub const CONNECTION_CREATION_RATE: &str = "connection_creation_rate";

/// `QuotaConfig.userAndClientQuotaConfigs`
pub const USER_AND_CLIENT_KEYS: &[(&str, KeyType)] = &[
    (PRODUCER_BYTE_RATE, KeyType::Long),
    (CONSUMER_BYTE_RATE, KeyType::Long),
    (REQUEST_PERCENTAGE, KeyType::Double),
    (CONTROLLER_MUTATION_RATE, KeyType::Double),
];

/// `QuotaConfig.ipConfigs`
pub const IP_KEYS: &[(&str, KeyType)] = &[(CONNECTION_CREATION_RATE, KeyType::Int)];

/// The client quota types the broker enforces (`QuotaType`), each with its key and the label
/// used in metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuotaType {
    Produce,
    Fetch,
    Request,
    ControllerMutation,
}

impl QuotaType {
    pub const ALL: [QuotaType; 4] = [
        QuotaType::Produce,
        QuotaType::Fetch,
        QuotaType::Request,
        QuotaType::ControllerMutation,
    ];

    /// The quota key that configures this type.
    pub fn key(self) -> &'static str {
        match self {
            QuotaType::Produce => PRODUCER_BYTE_RATE,
            QuotaType::Fetch => CONSUMER_BYTE_RATE,
            QuotaType::Request => REQUEST_PERCENTAGE,
            QuotaType::ControllerMutation => CONTROLLER_MUTATION_RATE,
        }
    }

    /// The `quota_type` metric label.
    pub fn label(self) -> &'static str {
        match self {
            QuotaType::Produce => "produce",
            QuotaType::Fetch => "fetch",
            QuotaType::Request => "request",
            QuotaType::ControllerMutation => "controller_mutation",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_kafka_prints_it() {
        let e = ClientQuotaEntity::from_pairs([(USER, None), (CLIENT_ID, Some("app"))]);
        assert_eq!(
            e.to_string(),
            "ClientQuotaEntity(entries={client-id=app, user=null})"
        );
    }
}
