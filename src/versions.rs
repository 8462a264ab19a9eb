//! THE table of APIs Klamm serves and their version ranges. ApiVersions is built from it, the
//! connection layer rejects anything outside it, and only fully implemented APIs appear here.

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

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

/// The advertised range of `key`, if Klamm advertises it.
pub fn range(key: ApiKey) -> Option<ApiRange> {
    SERVED.iter().copied().find(|r| r.key == key)
}

/// The range Klamm answers for `key`: advertised, or answered as Kafka's PLAINTEXT listener.
pub fn answered_range(key: ApiKey) -> Option<ApiRange> {
    range(key).or_else(|| {
        ANSWERED_NOT_ADVERTISED
            .iter()
            .copied()
            .find(|r| r.key == key)
    })
}

/// True when `version` of `key` is in the advertised range.
pub fn is_served(key: ApiKey, version: i16) -> bool {
    range(key).is_some_and(|r| version >= r.min && version <= r.max)
}

/// The served API ranges with no error. Without the `consumer` rebalance protocol
/// (`group.coordinator.rebalance.protocols`) the KIP-848 APIs are left out, in this answer and
/// in the KIP-511 fallback alike, as Kafka advertises them only when the protocol is enabled.
pub fn supported(consumer_protocol: bool) -> ApiVersionsResponse {
    let api_keys = SERVED
        .iter()
        .filter(|r| consumer_protocol || !CONSUMER_PROTOCOL_APIS.contains(&r.key))
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

    #[test]
    fn table_is_sorted_and_unique() {
        let keys: Vec<i16> = SERVED.iter().map(|r| r.key as i16).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(keys, sorted);
    }
}
