//! `throttle_time_ms` of every response that has it (Kafka sets it on all of them through
//! `sendResponseMaybeThrottle`; versions without the field simply do not encode it).

use kafka_protocol::messages::ResponseKind;

macro_rules! with_throttle_field {
    ($resp:expr, $r:ident => $body:expr, $none:expr) => {
        match $resp {
            ResponseKind::Produce($r) => $body,
            ResponseKind::Fetch($r) => $body,
            ResponseKind::ListOffsets($r) => $body,
            ResponseKind::Metadata($r) => $body,
            ResponseKind::OffsetCommit($r) => $body,
            ResponseKind::OffsetFetch($r) => $body,
            ResponseKind::FindCoordinator($r) => $body,
            ResponseKind::JoinGroup($r) => $body,
            ResponseKind::Heartbeat($r) => $body,
            ResponseKind::LeaveGroup($r) => $body,
            ResponseKind::SyncGroup($r) => $body,
            ResponseKind::DescribeGroups($r) => $body,
            ResponseKind::ListGroups($r) => $body,
            ResponseKind::ApiVersions($r) => $body,
            ResponseKind::CreateTopics($r) => $body,
            ResponseKind::DeleteTopics($r) => $body,
            ResponseKind::DeleteRecords($r) => $body,
            ResponseKind::InitProducerId($r) => $body,
            ResponseKind::OffsetForLeaderEpoch($r) => $body,
            ResponseKind::AddPartitionsToTxn($r) => $body,
            ResponseKind::AddOffsetsToTxn($r) => $body,
            ResponseKind::EndTxn($r) => $body,
            ResponseKind::TxnOffsetCommit($r) => $body,
            ResponseKind::DescribeAcls($r) => $body,
            ResponseKind::CreateAcls($r) => $body,
            ResponseKind::DeleteAcls($r) => $body,
            ResponseKind::DescribeConfigs($r) => $body,
            ResponseKind::AlterConfigs($r) => $body,
            ResponseKind::DescribeLogDirs($r) => $body,
            ResponseKind::CreatePartitions($r) => $body,
            ResponseKind::DeleteGroups($r) => $body,
            ResponseKind::ElectLeaders($r) => $body,
            ResponseKind::IncrementalAlterConfigs($r) => $body,
            ResponseKind::ListPartitionReassignments($r) => $body,
            ResponseKind::OffsetDelete($r) => $body,
            ResponseKind::DescribeClientQuotas($r) => $body,
            ResponseKind::AlterClientQuotas($r) => $body,
            ResponseKind::DescribeUserScramCredentials($r) => $body,
            ResponseKind::AlterUserScramCredentials($r) => $body,
            ResponseKind::DescribeCluster($r) => $body,
            ResponseKind::DescribeProducers($r) => $body,
            ResponseKind::DescribeTransactions($r) => $body,
            ResponseKind::ListTransactions($r) => $body,
            ResponseKind::ConsumerGroupHeartbeat($r) => $body,
            ResponseKind::ConsumerGroupDescribe($r) => $body,
            ResponseKind::DescribeTopicPartitions($r) => $body,
            _ => $none,
        }
    };
}

/// The response's `throttle_time_ms`, where it has one.
pub fn throttle_time_ms(resp: &ResponseKind) -> Option<i32> {
    with_throttle_field!(resp, r => Some(r.throttle_time_ms), None)
}

/// Sets the response's `throttle_time_ms`, where it has one.
pub fn set_throttle_time_ms(resp: &mut ResponseKind, ms: i32) {
    with_throttle_field!(resp, r => r.throttle_time_ms = ms, ())
}
