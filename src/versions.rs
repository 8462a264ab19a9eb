//! THE table of APIs Klamm serves and their version ranges. ApiVersions is built from it, the
//! connection layer rejects anything outside it, and only fully implemented APIs appear here.
//! [`SERVED`] holds Kafka 4.1's ranges; by default ([`Compat::Wide`]) Klamm also serves the
//! versions Kafka 4.0 removed that [`REMOVED_IN_KAFKA_4`] lists (`klamm.compat.kafka.version`).

use std::sync::OnceLock;

use kafka_protocol::messages::api_versions_response::{
    ApiVersion, FinalizedFeatureKey, SupportedFeatureKey,
};
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};
use kafka_protocol::protocol::StrBytes;

/// One served API.
#[derive(Clone, Copy, Debug)]
pub struct ApiRange {
    pub key: ApiKey,
    pub min: i16,
    pub max: i16,
}

const fn api(key: ApiKey, min: i16, max: i16) -> ApiRange {
    ApiRange { key, min, max }
}

/// Produce versions below this are advertised (Kafka 4 keeps advertising v0 because librdkafka
/// disables compression otherwise, KAFKA-18659) but answered with UNSUPPORTED_VERSION.
pub const PRODUCE_MIN_ACCEPTED: i16 = 3;

/// Served APIs in API-key order, with Kafka 4.1's version ranges.
pub static SERVED: &[ApiRange] = &[
    api(ApiKey::Produce, 0, 13),
    api(ApiKey::Fetch, 4, 18),
    api(ApiKey::ListOffsets, 1, 10),
    api(ApiKey::Metadata, 0, 13),
    api(ApiKey::OffsetCommit, 2, 9),
    api(ApiKey::OffsetFetch, 1, 9),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::JoinGroup, 0, 9),
    api(ApiKey::Heartbeat, 0, 4),
    api(ApiKey::LeaveGroup, 0, 5),
    api(ApiKey::SyncGroup, 0, 5),
    api(ApiKey::DescribeGroups, 0, 6),
    api(ApiKey::ListGroups, 0, 5),
    api(ApiKey::SaslHandshake, 0, 1),
    api(ApiKey::ApiVersions, 0, 4),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::DeleteRecords, 0, 2),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::OffsetForLeaderEpoch, 2, 4),
    api(ApiKey::AddPartitionsToTxn, 0, 3),
    api(ApiKey::AddOffsetsToTxn, 0, 4),
    api(ApiKey::EndTxn, 0, 4),
    api(ApiKey::WriteTxnMarkers, 1, 1),
    api(ApiKey::TxnOffsetCommit, 0, 4),
    // Advertised with or without an authorizer, as Kafka does (without one they answer
    // SECURITY_DISABLED).
    api(ApiKey::DescribeAcls, 1, 3),
    api(ApiKey::CreateAcls, 1, 3),
    api(ApiKey::DeleteAcls, 1, 3),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::AlterConfigs, 0, 2),
    api(ApiKey::DescribeLogDirs, 1, 4),
    api(ApiKey::SaslAuthenticate, 0, 2),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::DeleteGroups, 0, 2),
    api(ApiKey::ElectLeaders, 0, 2),
    api(ApiKey::IncrementalAlterConfigs, 0, 1),
    api(ApiKey::ListPartitionReassignments, 0, 0),
    api(ApiKey::OffsetDelete, 0, 0),
    api(ApiKey::DescribeClientQuotas, 0, 1),
    api(ApiKey::AlterClientQuotas, 0, 1),
    api(ApiKey::DescribeUserScramCredentials, 0, 0),
    api(ApiKey::AlterUserScramCredentials, 0, 0),
    api(ApiKey::DescribeCluster, 0, 2),
    api(ApiKey::DescribeProducers, 0, 0),
    api(ApiKey::DescribeTransactions, 0, 0),
    api(ApiKey::ListTransactions, 0, 1),
    api(ApiKey::ConsumerGroupHeartbeat, 0, 1),
    api(ApiKey::ConsumerGroupDescribe, 0, 1),
    api(ApiKey::DescribeTopicPartitions, 0, 0),
    // KIP-932 share groups, Kafka 4.1's stable v1 (left out with `group.share.enable=false`).
    api(ApiKey::ShareGroupHeartbeat, 1, 1),
    api(ApiKey::ShareGroupDescribe, 1, 1),
    api(ApiKey::ShareFetch, 1, 1),
    api(ApiKey::ShareAcknowledge, 1, 1),
    api(ApiKey::DescribeShareGroupOffsets, 0, 0),
    api(ApiKey::AlterShareGroupOffsets, 0, 0),
    api(ApiKey::DeleteShareGroupOffsets, 0, 0),
];

/// The KIP-932 share-group APIs Klamm serves: advertised only with `group.share.enable` (on by
/// default), together with the `share.version` feature at level 1.
pub const SHARE_GROUP_APIS: &[ApiKey] = &[
    ApiKey::ShareGroupHeartbeat,
    ApiKey::ShareGroupDescribe,
    ApiKey::ShareFetch,
    ApiKey::ShareAcknowledge,
    ApiKey::DescribeShareGroupOffsets,
    ApiKey::AlterShareGroupOffsets,
    ApiKey::DeleteShareGroupOffsets,
];

/// `klamm.compat.kafka.version`: which request versions Klamm advertises and accepts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compat {
    /// `""` (the default): Kafka 4.1's ranges plus [`REMOVED_IN_KAFKA_4`].
    #[default]
    Wide,
    /// `4.1`: exactly Kafka 4.1's ranges ([`SERVED`]); the removed versions are refused as
    /// Kafka 4.1 refuses them.
    Kafka41,
}

impl Compat {
    /// The setting's value; the validator admits only `""` and `4.1`.
    pub fn from_setting(value: &str) -> Compat {
        match value.trim() {
            "4.1" => Compat::Kafka41,
            _ => Compat::Wide,
        }
    }
}

/// The request versions Kafka 4.0 removed (KIP-896) that Klamm serves under [`Compat::Wide`],
/// with the semantics Kafka 3.9 gave them ([`crate::protocol::legacy`]): every removed version of
/// an API whose records are message format v2 (Kafka 3.9's minimum to 4.x's minimum - 1).
/// Produce v0-2 and Fetch v0-3 carry message format v0/v1 and stay refused; WriteTxnMarkers v0
/// is broker-to-broker.
pub static REMOVED_IN_KAFKA_4: &[ApiRange] = &[
    api(ApiKey::ListOffsets, 0, 0),
    api(ApiKey::OffsetCommit, 0, 1),
    api(ApiKey::OffsetFetch, 0, 0),
    api(ApiKey::CreateTopics, 0, 1),
    api(ApiKey::DeleteTopics, 0, 0),
    api(ApiKey::OffsetForLeaderEpoch, 0, 1),
    api(ApiKey::DescribeAcls, 0, 0),
    api(ApiKey::CreateAcls, 0, 0),
    api(ApiKey::DeleteAcls, 0, 0),
    api(ApiKey::DescribeConfigs, 0, 0),
    api(ApiKey::DescribeLogDirs, 0, 0),
];

/// The KIP-848 APIs: left out of ApiVersions when `group.coordinator.rebalance.protocols`
/// does not include `consumer` (Kafka advertises them only when the protocol is enabled).
pub const CONSUMER_PROTOCOL_APIS: &[ApiKey] = &[
    ApiKey::ConsumerGroupHeartbeat,
    ApiKey::ConsumerGroupDescribe,
];

/// APIs answered the way Kafka answers them but not advertised. None today: SaslHandshake and
/// SaslAuthenticate are served (ILLEGAL_SASL_STATE on PLAINTEXT and SSL listeners, as Kafka's),
/// and the ACL APIs are served (SECURITY_DISABLED without an authorizer, as Kafka's).
pub static ANSWERED_NOT_ADVERTISED: &[ApiRange] = &[];

/// Kafka 4.1's advertised range of `key`, if Klamm advertises it.
pub fn range(key: ApiKey) -> Option<ApiRange> {
    SERVED.iter().copied().find(|r| r.key == key)
}

/// The range Klamm advertises for `key` under `compat`: Kafka 4.1's, its minimum lowered to the
/// removed versions Klamm serves under [`Compat::Wide`].
pub fn range_for(compat: Compat, key: ApiKey) -> Option<ApiRange> {
    let r = range(key)?;
    if compat == Compat::Kafka41 {
        return Some(r);
    }
    Some(
        REMOVED_IN_KAFKA_4
            .iter()
            .find(|old| old.key == key && old.max + 1 == r.min)
            .map_or(r, |old| api(key, old.min, r.max)),
    )
}

/// The range Klamm answers for `key` under `compat`: advertised, or answered as Kafka's
/// PLAINTEXT listener.
pub fn answered_range(compat: Compat, key: ApiKey) -> Option<ApiRange> {
    range_for(compat, key).or_else(|| {
        ANSWERED_NOT_ADVERTISED
            .iter()
            .copied()
            .find(|r| r.key == key)
    })
}

/// True when `version` of `key` is in the range advertised under `compat`.
pub fn is_served(compat: Compat, key: ApiKey, version: i16) -> bool {
    range_for(compat, key).is_some_and(|r| version >= r.min && version <= r.max)
}

/// One feature flag (KIP-584) as Klamm advertises it in ApiVersions v3+: the range this broker
/// supports and the level finalized in the "cluster" (0 = not finalized, left out of the
/// finalized list as Kafka leaves level-0 features out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeatureLevel {
    pub name: &'static str,
    pub min: i16,
    pub max: i16,
    pub finalized: i16,
}

/// `metadata.version` 4.1-IV1 (feature level 27), Kafka 4.1's `MetadataVersion.LATEST_PRODUCTION`:
/// the protocol Klamm speaks. A fresh 4.1 cluster finalizes it; brokers support
/// `MetadataVersion.MINIMUM_VERSION` (3.3-IV3, level 7) up to it.
pub const METADATA_VERSION_4_1_IV1: i16 = 27;

/// The features a Kafka 4.1 broker lists (`BrokerFeatures.defaultSupportedFeatures`:
/// metadata.version and every production feature whose `latestProduction` is above 0) with what
/// a fresh 4.1 cluster finalizes (`Feature.defaultLevel(LATEST_PRODUCTION)`, formatted with
/// `--standalone`), except where Klamm does not do what the level means. The Java client takes
/// code paths from these (`transaction.version` >= 2 turns on KIP-890 part 2 in the producer), so
/// nothing is finalized that Klamm does not implement:
/// - `transaction.version` 1, not 2: TV1 is the flexible `TransactionLogValue` (v1), which Klamm
///   writes; TV2 (an epoch bump per transaction, EndTxn v5, AddPartitionsToTxn implied by
///   Produce) is not served, so the supported range ends at 1 as well.
/// - `group.version` 1 (the KIP-848 consumer protocol) only while
///   `group.coordinator.rebalance.protocols` includes `consumer`, as Kafka's coordinator needs
///   group.version 1 to serve it.
/// - `share.version` 0-1, finalized at 1 while `group.share.enable` is on (Klamm's default; a
///   fresh Kafka 4.1 cluster finalizes 0 unless formatted with `--feature share.version=1`).
/// - `streams.version` (KIP-1071) is not listed by Kafka 4.1 (`latestProduction` 0) nor served.
/// - `kraft.version` 1 and `eligible.leader.replicas.version` 1 as a fresh 4.1 cluster: a single
///   node has no voters to change and no replicas to leave the ISR (DescribeTopicPartitions answers
///   the empty ELR lists ELR 1 gives).
pub fn features(consumer_protocol: bool, share: bool) -> [FeatureLevel; 6] {
    let f = |name, min, max, finalized| FeatureLevel {
        name,
        min,
        max,
        finalized,
    };
    [
        f(
            "metadata.version",
            7,
            METADATA_VERSION_4_1_IV1,
            METADATA_VERSION_4_1_IV1,
        ),
        f("kraft.version", 0, 1, 1),
        f("transaction.version", 0, 1, 1),
        f("group.version", 0, 1, i16::from(consumer_protocol)),
        f("eligible.leader.replicas.version", 0, 1, 1),
        f("share.version", 0, 1, i16::from(share)),
    ]
}

/// The finalized-features epoch. Kafka sends the offset of the metadata log it has applied, which
/// only grows; a client adopts the finalized levels of the highest epoch it has seen
/// (`ApiVersions.update` in the Java client) and keeps that across reconnects. Klamm's levels
/// change only between runs (a new binary or `group.coordinator.rebalance.protocols`), so the
/// process start time in milliseconds is used: each start answers a higher epoch than the last,
/// and clients that outlive a restart adopt the new levels.
pub fn finalized_features_epoch() -> i64 {
    static EPOCH: OnceLock<i64> = OnceLock::new();
    *EPOCH.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(1)
            .max(1)
    })
}

/// ApiVersions for request `version`, with the served ranges and the features. Below v4
/// supported features whose minimum is 0 are left out, as Kafka does (KAFKA-17011: clients
/// before 3.9 refuse a range starting at 0; `ApiVersionsResponse.setAlterFeatureLevel0`).
pub fn supported_for(
    compat: Compat,
    consumer_protocol: bool,
    share: bool,
    version: i16,
) -> ApiVersionsResponse {
    let feats = features(consumer_protocol, share);
    let supported_keys = feats
        .iter()
        .filter(|f| version >= 4 || f.min > 0)
        .map(|f| {
            SupportedFeatureKey::default()
                .with_name(StrBytes::from_static_str(f.name))
                .with_min_version(f.min)
                .with_max_version(f.max)
        })
        .collect();
    let finalized = feats
        .iter()
        .filter(|f| f.finalized > 0)
        .map(|f| {
            FinalizedFeatureKey::default()
                .with_name(StrBytes::from_static_str(f.name))
                .with_min_version_level(f.finalized)
                .with_max_version_level(f.finalized)
        })
        .collect();
    supported(compat, consumer_protocol, share)
        .with_supported_features(supported_keys)
        .with_finalized_features(finalized)
        .with_finalized_features_epoch(finalized_features_epoch())
}

/// The served API ranges with no error. Without the `consumer` rebalance protocol
/// (`group.coordinator.rebalance.protocols`) the KIP-848 APIs are left out, as Kafka advertises
/// them only when the protocol is enabled. `compat` chooses Kafka 4.1's ranges or the wide ones.
pub fn supported(compat: Compat, consumer_protocol: bool, share: bool) -> ApiVersionsResponse {
    let api_keys = SERVED
        .iter()
        .filter(|r| consumer_protocol || !CONSUMER_PROTOCOL_APIS.contains(&r.key))
        .filter(|r| share || !SHARE_GROUP_APIS.contains(&r.key))
        .filter_map(|r| range_for(compat, r.key))
        .map(|r| {
            ApiVersion::default()
                .with_api_key(r.key as i16)
                .with_min_version(r.min)
                .with_max_version(r.max)
        })
        .collect();
    ApiVersionsResponse::default()
        .with_error_code(0)
        .with_api_keys(api_keys)
        .with_finalized_features_epoch(-1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::*;
    use kafka_protocol::protocol::Message;

    /// Every advertised version must be decodable by the protocol crate (Produce v0-2 aside,
    /// which is answered without decoding).
    #[test]
    fn served_versions_are_within_the_codec() {
        for r in SERVED {
            let codec = r.key.valid_versions();
            let min = if r.key == ApiKey::Produce {
                PRODUCE_MIN_ACCEPTED
            } else {
                r.min
            };
            assert!(
                codec.min <= min && r.max <= codec.max,
                "{:?} {}..{} vs {}",
                r.key,
                r.min,
                r.max,
                codec
            );
        }
        assert_eq!(ProduceRequest::VERSIONS.min, 3);
    }

    #[test]
    fn answered_versions_are_within_the_codec() {
        for r in ANSWERED_NOT_ADVERTISED {
            let codec = r.key.valid_versions();
            assert!(codec.min <= r.min && r.max <= codec.max, "{:?}", r.key);
            assert!(range(r.key).is_none());
        }
    }

    /// Each removed range ends just below Kafka 4.1's minimum (so the wide range is contiguous),
    /// starts at Kafka 3.9's minimum (0 for all of them), and is below the crate's codec, which
    /// is why [`crate::protocol::legacy`] decodes it.
    #[test]
    fn removed_versions_extend_served_ranges() {
        for old in REMOVED_IN_KAFKA_4 {
            let r = range(old.key).unwrap_or_else(|| panic!("{:?} not served", old.key));
            assert_eq!(old.max + 1, r.min, "{:?}", old.key);
            assert_eq!(old.min, 0, "{:?}", old.key);
            assert!(old.max < old.key.valid_versions().min, "{:?}", old.key);
            let wide = range_for(Compat::Wide, old.key).unwrap();
            assert_eq!((wide.min, wide.max), (0, r.max));
            let narrow = range_for(Compat::Kafka41, old.key).unwrap();
            assert_eq!((narrow.min, narrow.max), (r.min, r.max));
        }
        assert!(!REMOVED_IN_KAFKA_4.iter().any(|r| matches!(
            r.key,
            ApiKey::Produce | ApiKey::Fetch | ApiKey::WriteTxnMarkers
        )));
        // Under 4.1 the answer is exactly SERVED.
        let narrow = supported(Compat::Kafka41, true, true);
        assert_eq!(narrow.api_keys.len(), SERVED.len());
        for (a, r) in narrow.api_keys.iter().zip(SERVED) {
            assert_eq!(
                (a.api_key, a.min_version, a.max_version),
                (r.key as i16, r.min, r.max)
            );
        }
        assert_eq!(Compat::from_setting("4.1"), Compat::Kafka41);
        assert_eq!(Compat::from_setting(""), Compat::Wide);
    }

    #[test]
    fn table_is_sorted_and_unique() {
        let keys: Vec<i16> = SERVED.iter().map(|r| r.key as i16).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted);
    }

    /// Kafka 4.1's supported ranges and a fresh cluster's levels, minus what Klamm does not do.
    #[test]
    fn features_are_kafka_4_1s_without_tv2() {
        let r = supported_for(Compat::Wide, true, true, 4);
        let sup: Vec<(String, i16, i16)> = r
            .supported_features
            .iter()
            .map(|f| (f.name.to_string(), f.min_version, f.max_version))
            .collect();
        assert_eq!(
            sup,
            vec![
                ("metadata.version".to_string(), 7, 27),
                ("kraft.version".to_string(), 0, 1),
                ("transaction.version".to_string(), 0, 1),
                ("group.version".to_string(), 0, 1),
                ("eligible.leader.replicas.version".to_string(), 0, 1),
                ("share.version".to_string(), 0, 1),
            ]
        );
        let fin: Vec<(String, i16, i16)> = r
            .finalized_features
            .iter()
            .map(|f| (f.name.to_string(), f.min_version_level, f.max_version_level))
            .collect();
        assert_eq!(
            fin,
            vec![
                ("metadata.version".to_string(), 27, 27),
                ("kraft.version".to_string(), 1, 1),
                ("transaction.version".to_string(), 1, 1),
                ("group.version".to_string(), 1, 1),
                ("eligible.leader.replicas.version".to_string(), 1, 1),
                ("share.version".to_string(), 1, 1),
            ]
        );
        assert!(r.finalized_features_epoch > 0);
        // v3: ranges starting at 0 are left out; without the consumer protocol group.version
        // is not finalized.
        let v3 = supported_for(Compat::Wide, false, true, 3);
        assert_eq!(v3.supported_features.len(), 1);
        assert_eq!(v3.supported_features[0].name.as_str(), "metadata.version");
        assert!(!v3
            .finalized_features
            .iter()
            .any(|f| f.name.as_str() == "group.version"));
        assert_eq!(v3.finalized_features_epoch, r.finalized_features_epoch);
    }
}
