//! One dispatch match on the API key (Kafka's `KafkaApis.handle`), one module per API.
//! Handlers translate wire structs to calls on the log manager and coordinators and back; the
//! logic lives in those domain modules, and errors become codes through [`crate::error`].

pub mod acls;
pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod alter_client_quotas;
pub mod alter_configs;
pub mod alter_share_group_offsets;
pub mod api_versions;
pub mod authz;
pub mod commit_partitions;
pub mod consumer_group_describe;
pub mod consumer_group_heartbeat;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_share_group_offsets;
pub mod delete_topics;
pub mod describe_client_quotas;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod describe_log_dirs;
pub mod describe_producers;
pub mod describe_share_group_offsets;
pub mod describe_topic_partitions;
pub mod describe_transactions;
pub mod elect_leaders;
pub mod end_txn;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod incremental_alter_configs;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod list_partition_reassignments;
pub mod list_transactions;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod sasl;
pub mod scram_credentials;
pub mod share_acknowledge;
pub mod share_fetch;
pub mod share_group_describe;
pub mod share_group_heartbeat;
pub mod sync_group;
pub mod txn_offset_commit;
pub mod unsupported_security;
pub mod write_txn_markers;

use std::net::SocketAddr;
use std::sync::Arc;

use kafka_protocol::messages::{ApiKey, FetchResponse, RequestKind, ResponseKind, TopicName};
use kafka_protocol::protocol::StrBytes;
use tracing::warn;

use crate::broker::Broker;
use crate::send::FileSlice;

/// Who sent a request, and which API/version it is.
pub struct RequestContext {
    pub broker: Arc<Broker>,
    pub peer: SocketAddr,
    /// The connection's listener and principal.
    pub session: Arc<crate::security::Session>,
    pub client_id: Option<String>,
    pub api_key: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
}

/// What the connection does after a handler ran.
pub enum Outcome {
    Respond(Box<ResponseKind>),
    /// A Fetch response whose records (one entry per partition, in order) are file regions.
    RespondFetch(Box<FetchResponse>, Vec<Option<FileSlice>>),
    /// acks=0 produce: no response.
    NoResponse,
    /// Kafka closes the connection (e.g. an acks=0 produce that failed, so the client notices).
    Close,
}

/// Dispatches a decoded request to its handler.
pub async fn handle(ctx: &RequestContext, body: RequestKind) -> Outcome {
    #[allow(non_snake_case)]
    fn Respond(r: ResponseKind) -> Outcome {
        Outcome::Respond(Box::new(r))
    }
    match body {
        RequestKind::Produce(r) => produce::handle(ctx, r).await,
        RequestKind::Fetch(r) => fetch::handle(ctx, r).await,
        RequestKind::ListOffsets(r) => Respond(ResponseKind::ListOffsets(
            list_offsets::handle(ctx, r).await,
        )),
        RequestKind::Metadata(r) => Respond(ResponseKind::Metadata(metadata::handle(ctx, r))),
        RequestKind::ApiVersions(r) => {
            Respond(ResponseKind::ApiVersions(api_versions::handle(ctx, r)))
        }
        RequestKind::CreateTopics(r) => {
            Respond(ResponseKind::CreateTopics(create_topics::handle(ctx, r)))
        }
        RequestKind::DeleteTopics(r) => {
            Respond(ResponseKind::DeleteTopics(delete_topics::handle(ctx, r)))
        }
        RequestKind::OffsetCommit(r) => Respond(ResponseKind::OffsetCommit(
            offset_commit::handle(ctx, r).await,
        )),
        RequestKind::OffsetFetch(r) => {
            Respond(ResponseKind::OffsetFetch(offset_fetch::handle(ctx, r)))
        }
        RequestKind::FindCoordinator(r) => Respond(ResponseKind::FindCoordinator(
            find_coordinator::handle(ctx, r),
        )),
        RequestKind::JoinGroup(r) => {
            Respond(ResponseKind::JoinGroup(join_group::handle(ctx, r).await))
        }
        RequestKind::Heartbeat(r) => {
            Respond(ResponseKind::Heartbeat(heartbeat::handle(ctx, r).await))
        }
        RequestKind::LeaveGroup(r) => {
            Respond(ResponseKind::LeaveGroup(leave_group::handle(ctx, r).await))
        }
        RequestKind::SyncGroup(r) => {
            Respond(ResponseKind::SyncGroup(sync_group::handle(ctx, r).await))
        }
        RequestKind::DescribeGroups(r) => Respond(ResponseKind::DescribeGroups(
            describe_groups::handle(ctx, r),
        )),
        RequestKind::ListGroups(r) => {
            Respond(ResponseKind::ListGroups(list_groups::handle(ctx, r)))
        }
        RequestKind::OffsetForLeaderEpoch(r) => Respond(ResponseKind::OffsetForLeaderEpoch(
            offset_for_leader_epoch::handle(ctx, r),
        )),
        RequestKind::DeleteGroups(r) => Respond(ResponseKind::DeleteGroups(
            delete_groups::handle(ctx, r).await,
        )),
        RequestKind::OffsetDelete(r) => Respond(ResponseKind::OffsetDelete(
            offset_delete::handle(ctx, r).await,
        )),
        RequestKind::InitProducerId(r) => Respond(ResponseKind::InitProducerId(
            init_producer_id::handle(ctx, r).await,
        )),
        RequestKind::DescribeClientQuotas(r) => Respond(ResponseKind::DescribeClientQuotas(
            describe_client_quotas::handle(ctx, r),
        )),
        RequestKind::AlterClientQuotas(r) => Respond(ResponseKind::AlterClientQuotas(
            alter_client_quotas::handle(ctx, r),
        )),
        RequestKind::DescribeCluster(r) => Respond(ResponseKind::DescribeCluster(
            describe_cluster::handle(ctx, r),
        )),
        RequestKind::AlterUserScramCredentials(r) => Respond(
            ResponseKind::AlterUserScramCredentials(scram_credentials::alter(ctx, r)),
        ),
        RequestKind::DescribeUserScramCredentials(r) => Respond(
            ResponseKind::DescribeUserScramCredentials(scram_credentials::describe(ctx, r)),
        ),
        RequestKind::SaslHandshake(_) => {
            Respond(ResponseKind::SaslHandshake(sasl::illegal_state_handshake()))
        }
        RequestKind::SaslAuthenticate(_) => Respond(ResponseKind::SaslAuthenticate(
            sasl::illegal_state_authenticate(),
        )),
        RequestKind::DescribeAcls(r) => acls::describe(ctx, r),
        RequestKind::CreateAcls(r) => acls::create(ctx, r),
        RequestKind::DeleteAcls(r) => acls::delete(ctx, r),
        RequestKind::DeleteRecords(r) => Respond(ResponseKind::DeleteRecords(
            delete_records::handle(ctx, r).await,
        )),
        RequestKind::DescribeConfigs(r) => Respond(ResponseKind::DescribeConfigs(
            describe_configs::handle(ctx, r),
        )),
        RequestKind::AlterConfigs(r) => {
            Respond(ResponseKind::AlterConfigs(alter_configs::handle(ctx, r)))
        }
        RequestKind::DescribeLogDirs(r) => Respond(ResponseKind::DescribeLogDirs(
            describe_log_dirs::handle(ctx, r),
        )),
        RequestKind::CreatePartitions(r) => Respond(ResponseKind::CreatePartitions(
            create_partitions::handle(ctx, r),
        )),
        RequestKind::ElectLeaders(r) => {
            Respond(ResponseKind::ElectLeaders(elect_leaders::handle(ctx, r)))
        }
        RequestKind::IncrementalAlterConfigs(r) => Respond(ResponseKind::IncrementalAlterConfigs(
            incremental_alter_configs::handle(ctx, r),
        )),
        RequestKind::ListPartitionReassignments(r) => Respond(
            ResponseKind::ListPartitionReassignments(list_partition_reassignments::handle(ctx, r)),
        ),
        RequestKind::DescribeProducers(r) => Respond(ResponseKind::DescribeProducers(
            describe_producers::handle(ctx, r),
        )),
        RequestKind::DescribeTopicPartitions(r) => Respond(ResponseKind::DescribeTopicPartitions(
            describe_topic_partitions::handle(ctx, r),
        )),
        RequestKind::ShareGroupHeartbeat(r) => Respond(ResponseKind::ShareGroupHeartbeat(
            share_group_heartbeat::handle(ctx, r).await,
        )),
        RequestKind::ShareGroupDescribe(r) => Respond(ResponseKind::ShareGroupDescribe(
            share_group_describe::handle(ctx, r),
        )),
        RequestKind::ShareFetch(r) => {
            Respond(ResponseKind::ShareFetch(share_fetch::handle(ctx, r).await))
        }
        RequestKind::ShareAcknowledge(r) => Respond(ResponseKind::ShareAcknowledge(
            share_acknowledge::handle(ctx, r).await,
        )),
        RequestKind::DescribeShareGroupOffsets(r) => Respond(
            ResponseKind::DescribeShareGroupOffsets(describe_share_group_offsets::handle(ctx, r)),
        ),
        RequestKind::AlterShareGroupOffsets(r) => Respond(ResponseKind::AlterShareGroupOffsets(
            alter_share_group_offsets::handle(ctx, r).await,
        )),
        RequestKind::DeleteShareGroupOffsets(r) => Respond(ResponseKind::DeleteShareGroupOffsets(
            delete_share_group_offsets::handle(ctx, r).await,
        )),
        RequestKind::ConsumerGroupHeartbeat(r) => Respond(ResponseKind::ConsumerGroupHeartbeat(
            consumer_group_heartbeat::handle(ctx, r).await,
        )),
        RequestKind::ConsumerGroupDescribe(r) => Respond(ResponseKind::ConsumerGroupDescribe(
            consumer_group_describe::handle(ctx, r),
        )),
        RequestKind::AddPartitionsToTxn(r) => Respond(ResponseKind::AddPartitionsToTxn(
            add_partitions_to_txn::handle(ctx, r).await,
        )),
        RequestKind::AddOffsetsToTxn(r) => Respond(ResponseKind::AddOffsetsToTxn(
            add_offsets_to_txn::handle(ctx, r).await,
        )),
        RequestKind::EndTxn(r) => Respond(ResponseKind::EndTxn(end_txn::handle(ctx, r).await)),
        RequestKind::TxnOffsetCommit(r) => Respond(ResponseKind::TxnOffsetCommit(
            txn_offset_commit::handle(ctx, r).await,
        )),
        RequestKind::DescribeTransactions(r) => Respond(ResponseKind::DescribeTransactions(
            describe_transactions::handle(ctx, r).await,
        )),
        RequestKind::ListTransactions(r) => Respond(ResponseKind::ListTransactions(
            list_transactions::handle(ctx, r).await,
        )),
        RequestKind::WriteTxnMarkers(r) => Respond(ResponseKind::WriteTxnMarkers(
            write_txn_markers::handle(ctx, r).await,
        )),
        other => {
            // Unreachable: decoding admits only the APIs in the versions table.
            warn!(peer = %ctx.peer, api = ?ctx.api_key, "no handler for {:?}", std::mem::discriminant(&other));
            Outcome::Close
        }
    }
}

/// A `StrBytes` from a `&str`.
pub fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

pub fn topic_name(s: &str) -> TopicName {
    TopicName(sb(s))
}

/// The client's address as Kafka reports it (`InetAddress.toString()`: "/127.0.0.1").
pub fn client_host(ctx: &RequestContext) -> String {
    format!("/{}", ctx.peer.ip())
}

/// Authorized-operations fields: the per-resource-type sets are `ResourceType::supported_operations`.
pub mod authorized_operations {
    /// Kafka's "not requested" marker (`Integer.MIN_VALUE`).
    pub const OMITTED: i32 = i32::MIN;
}
