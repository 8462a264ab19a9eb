//! The one place where Klamm's domain errors become Kafka error codes.
//!
//! Storage, coordinators and handlers return [`Error`]; the wire layer asks each error for its
//! [`Error::code`]. This mirrors Kafka's `org.apache.kafka.common.protocol.Errors`: an exception
//! type maps to exactly one error code, so the same failure reads the same in every API.

use kafka_protocol::ResponseError;

/// A failure that a client should see as a Kafka error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("This server does not host this topic-partition.")]
    UnknownTopicOrPartition,
    #[error("This server does not host this topic ID.")]
    UnknownTopicId,
    /// UNKNOWN_TOPIC_OR_PARTITION with the message Kafka's code path for the API gives instead
    /// of the default (the config APIs: `ControllerConfigurationValidator`, `ConfigHelper`).
    #[error("{0}")]
    UnknownTopicWithMessage(String),
    #[error("{0}")]
    InvalidTopic(String),
    #[error("Topic '{0}' already exists.")]
    TopicAlreadyExists(String),
    #[error("{0}")]
    InvalidPartitions(String),
    #[error("{0}")]
    InvalidReplicationFactor(String),
    #[error("{0}")]
    InvalidReplicaAssignment(String),
    #[error("{0}")]
    InvalidConfig(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("The throttling quota has been exceeded.")]
    ThrottlingQuotaExceeded,
    #[error("{0}")]
    CorruptMessage(String),
    #[error("{0}")]
    InvalidRecord(String),
    #[error("{0}")]
    MessageTooLarge(String),
    #[error("{0}")]
    InvalidTimestamp(String),
    /// KIP-890: a transaction error a Produce v11+ client answers by aborting.
    #[error("The server encountered an error with the transaction. The client can abort the transaction to continue using this transactional ID.")]
    TransactionAbortable,
    /// KIP-467: records of a batch refused one by one (Kafka's `RecordValidationException`).
    #[error("{}", .0.summary())]
    RecordErrors(RecordErrors),
    #[error("{0}")]
    UnsupportedCompressionType(String),
    #[error("{0}")]
    UnsupportedForMessageFormat(String),
    #[error("Offset {offset} is out of range [{log_start_offset}, {high_watermark}].")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        high_watermark: i64,
    },
    #[error("{0}")]
    OutOfOrderSequence(String),
    #[error("{0}")]
    InvalidProducerEpoch(String),
    #[error("{0}")]
    ProducerFenced(String),
    /// A transaction marker from a coordinator epoch older than the partition last saw
    /// (`ProducerAppendInfo.checkCoordinatorEpoch`).
    #[error("{0}")]
    TransactionCoordinatorFenced(String),
    #[error("This producer id is not known to the broker.")]
    UnknownProducerId,
    #[error("This broker is not the leader or a follower of this partition.")]
    NotLeaderOrFollower,
    #[error("The leader epoch in the request is older than the broker's.")]
    FencedLeaderEpoch,
    #[error("The leader epoch in the request is newer than the broker's.")]
    UnknownLeaderEpoch,
    #[error("Topic deletion is disabled.")]
    TopicDeletionDisabled,
    #[error("Produce request specified an invalid value for required acks.")]
    InvalidRequiredAcks,
    #[error("{0}")]
    PolicyViolation(String),
    #[error("{0}")]
    NotEnoughReplicas(String),
    #[error("{0}")]
    TopicAuthorizationFailed(String),
    // --- Authorization (the authorizer denied the request; `Errors` default messages) ---
    #[error("Group authorization failed.")]
    GroupAuthorizationFailed,
    #[error("Cluster authorization failed.")]
    ClusterAuthorizationFailed,
    #[error("Transactional Id authorization failed.")]
    TransactionalIdAuthorizationFailed,
    #[error("{0}")]
    InvalidTransactionTimeout(String),
    // --- Transaction coordinator (Kafka's TransactionCoordinator) ---
    #[error("The producer attempted a transactional operation in an invalid state.")]
    InvalidTxnState,
    #[error("The producer attempted to use a producer id which is not currently assigned to its transactional id.")]
    InvalidProducerIdMapping,
    #[error("The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing.")]
    ConcurrentTransactions,
    #[error("The transactionalId could not be found")]
    TransactionalIdNotFound,
    #[error("The broker did not attempt to execute this operation.")]
    OperationNotAttempted,
    #[error("Disk error: {0}")]
    KafkaStorage(String),
    #[error("The request timed out.")]
    RequestTimedOut,
    // --- Group coordinator (Kafka's GroupCoordinator and OffsetMetadataManager) ---
    #[error("The coordinator is not available.")]
    CoordinatorNotAvailable,
    #[error("This is not the correct coordinator.")]
    NotCoordinator,
    #[error("The coordinator is loading and hence can't process requests.")]
    CoordinatorLoadInProgress,
    #[error("The configured groupId is invalid.")]
    InvalidGroupId,
    #[error("The coordinator is not aware of this member.")]
    UnknownMemberId,
    /// UNKNOWN_MEMBER_ID with Kafka's message naming the member (KIP-848 paths).
    #[error("{0}")]
    UnknownMember(String),
    #[error("Specified group generation id is not valid.")]
    IllegalGeneration,
    #[error("The group is rebalancing, so a rejoin is needed.")]
    RebalanceInProgress,
    #[error("The group member needs to have a valid member id before actually entering a consumer group.")]
    MemberIdRequired,
    #[error("The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.")]
    FencedInstanceId,
    /// FENCED_INSTANCE_ID with Kafka's message naming both members (KIP-848 paths:
    /// `GroupMetadataManager.throwIfInstanceIdIsFenced`).
    #[error("{0}")]
    FencedStaticMember(String),
    #[error("The group member's supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.")]
    InconsistentGroupProtocol,
    #[error("The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).")]
    InvalidSessionTimeout,
    #[error("The consumer group has reached its max size.")]
    GroupMaxSizeReached,
    #[error("{0}")]
    GroupIdNotFound(String),
    #[error("The group is not empty.")]
    NonEmptyGroup,
    #[error("Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it.")]
    GroupSubscribedToTopic,
    #[error("The metadata field of the offset request was too large.")]
    OffsetMetadataTooLarge,
    #[error("There are unstable offsets that need to be cleared.")]
    UnstableOffsetCommit,
    // --- KIP-848 consumer groups (GroupMetadataManager's ConsumerGroupHeartbeat path) ---
    #[error("{0}")]
    FencedMemberEpoch(String),
    #[error("{0}")]
    StaleMemberEpoch(String),
    #[error("{0}")]
    UnreleasedInstanceId(String),
    #[error("{0}")]
    UnsupportedAssignor(String),
    #[error("{0}")]
    InvalidRegularExpression(String),
    #[error("{0}")]
    UnsupportedVersion(String),
    // --- KIP-932 share groups ---
    #[error("{0}")]
    InvalidRecordState(String),
    #[error("The share session was not found.")]
    ShareSessionNotFound,
    #[error("The share session epoch is invalid.")]
    InvalidShareSessionEpoch,
    #[error("The limit of share sessions has been reached.")]
    ShareSessionLimitReached,
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The Kafka error code a client receives for this error.
    pub fn response_error(&self) -> ResponseError {
        use ResponseError as E;
        match self {
            Error::UnknownTopicOrPartition | Error::UnknownTopicWithMessage(_) => {
                E::UnknownTopicOrPartition
            }
            Error::UnknownTopicId => E::UnknownTopicId,
            Error::InvalidTopic(_) => E::InvalidTopicException,
            Error::TopicAlreadyExists(_) => E::TopicAlreadyExists,
            Error::InvalidPartitions(_) => E::InvalidPartitions,
            Error::InvalidReplicationFactor(_) => E::InvalidReplicationFactor,
            Error::InvalidReplicaAssignment(_) => E::InvalidReplicaAssignment,
            Error::InvalidConfig(_) => E::InvalidConfig,
            Error::InvalidRequest(_) => E::InvalidRequest,
            Error::ThrottlingQuotaExceeded => E::ThrottlingQuotaExceeded,
            Error::CorruptMessage(_) => E::CorruptMessage,
            Error::InvalidRecord(_) => E::InvalidRecord,
            Error::MessageTooLarge(_) => E::MessageTooLarge,
            Error::InvalidTimestamp(_) => E::InvalidTimestamp,
            Error::TransactionAbortable => E::TransactionAbortable,
            Error::RecordErrors(r) if r.invalid_timestamp => E::InvalidTimestamp,
            Error::RecordErrors(_) => E::InvalidRecord,
            Error::UnsupportedCompressionType(_) => E::UnsupportedCompressionType,
            Error::UnsupportedForMessageFormat(_) => E::UnsupportedForMessageFormat,
            Error::OffsetOutOfRange { .. } => E::OffsetOutOfRange,
            Error::OutOfOrderSequence(_) => E::OutOfOrderSequenceNumber,
            Error::InvalidProducerEpoch(_) => E::InvalidProducerEpoch,
            Error::ProducerFenced(_) => E::ProducerFenced,
            Error::TransactionCoordinatorFenced(_) => E::TransactionCoordinatorFenced,
            Error::UnknownProducerId => E::UnknownProducerId,
            Error::NotLeaderOrFollower => E::NotLeaderOrFollower,
            Error::FencedLeaderEpoch => E::FencedLeaderEpoch,
            Error::UnknownLeaderEpoch => E::UnknownLeaderEpoch,
            Error::TopicDeletionDisabled => E::TopicDeletionDisabled,
            Error::InvalidRequiredAcks => E::InvalidRequiredAcks,
            Error::PolicyViolation(_) => E::PolicyViolation,
            Error::NotEnoughReplicas(_) => E::NotEnoughReplicas,
            Error::TopicAuthorizationFailed(_) => E::TopicAuthorizationFailed,
            Error::GroupAuthorizationFailed => E::GroupAuthorizationFailed,
            Error::ClusterAuthorizationFailed => E::ClusterAuthorizationFailed,
            Error::TransactionalIdAuthorizationFailed => E::TransactionalIdAuthorizationFailed,
            Error::InvalidTransactionTimeout(_) => E::InvalidTransactionTimeout,
            Error::InvalidTxnState => E::InvalidTxnState,
            Error::InvalidProducerIdMapping => E::InvalidProducerIdMapping,
            Error::ConcurrentTransactions => E::ConcurrentTransactions,
            Error::TransactionalIdNotFound => E::TransactionalIdNotFound,
            Error::OperationNotAttempted => E::OperationNotAttempted,
            Error::KafkaStorage(_) => E::KafkaStorageError,
            Error::RequestTimedOut => E::RequestTimedOut,
            Error::CoordinatorNotAvailable => E::CoordinatorNotAvailable,
            Error::NotCoordinator => E::NotCoordinator,
            Error::CoordinatorLoadInProgress => E::CoordinatorLoadInProgress,
            Error::InvalidGroupId => E::InvalidGroupId,
            Error::UnknownMemberId | Error::UnknownMember(_) => E::UnknownMemberId,
            Error::IllegalGeneration => E::IllegalGeneration,
            Error::RebalanceInProgress => E::RebalanceInProgress,
            Error::MemberIdRequired => E::MemberIdRequired,
            Error::FencedInstanceId | Error::FencedStaticMember(_) => E::FencedInstanceId,
            Error::InconsistentGroupProtocol => E::InconsistentGroupProtocol,
            Error::InvalidSessionTimeout => E::InvalidSessionTimeout,
            Error::GroupMaxSizeReached => E::GroupMaxSizeReached,
            Error::GroupIdNotFound(_) => E::GroupIdNotFound,
            Error::NonEmptyGroup => E::NonEmptyGroup,
            Error::GroupSubscribedToTopic => E::GroupSubscribedToTopic,
            Error::OffsetMetadataTooLarge => E::OffsetMetadataTooLarge,
            Error::UnstableOffsetCommit => E::UnstableOffsetCommit,
            Error::FencedMemberEpoch(_) => E::FencedMemberEpoch,
            Error::StaleMemberEpoch(_) => E::StaleMemberEpoch,
            Error::UnreleasedInstanceId(_) => E::UnreleasedInstanceId,
            Error::UnsupportedAssignor(_) => E::UnsupportedAssignor,
            Error::InvalidRegularExpression(_) => E::InvalidRegularExpression,
            Error::UnsupportedVersion(_) => E::UnsupportedVersion,
            Error::InvalidRecordState(_) => E::InvalidRecordState,
            Error::ShareSessionNotFound => E::ShareSessionNotFound,
            Error::InvalidShareSessionEpoch => E::InvalidShareSessionEpoch,
            Error::ShareSessionLimitReached => E::ShareSessionLimitReached,
            Error::Internal(_) => E::UnknownServerError,
        }
    }

    /// The numeric Kafka error code.
    pub fn code(&self) -> i16 {
        self.response_error().code()
    }

    /// The message to put in a response's `error_message` field, where the API has one.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// The records of one batch that `LogValidator` refused (KIP-467): Produce v8+ answers each
/// one's index in the batch and message in `record_errors`, and `summary` as `error_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordErrors {
    /// Some record's timestamp is out of range: the batch is INVALID_TIMESTAMP, else
    /// INVALID_RECORD (`LogValidator.processRecordErrors`).
    pub invalid_timestamp: bool,
    /// `(batch index, message)` of every refused record, in batch order.
    pub errors: Vec<(i32, String)>,
}

impl RecordErrors {
    /// `LogValidator.processRecordErrors`' message: a fixed sentence for timestamps, else the
    /// count and the first three errors as Java's `RecordError.toString` writes them.
    pub fn summary(&self) -> String {
        if self.invalid_timestamp {
            return "One or more records have been rejected due to invalid timestamp".to_string();
        }
        let shown: Vec<String> = self
            .errors
            .iter()
            .take(3)
            .map(|(i, m)| format!("RecordError(batchIndex={i}, message='{m}')"))
            .collect();
        format!(
            "One or more records have been rejected due to {} record errors in total, and only showing the first three errors at most: [{}]",
            self.errors.len(),
            shown.join(", ")
        )
    }
}

impl Error {
    /// FENCED_INSTANCE_ID for a KIP-848 static member whose instance id `owner` now holds,
    /// worded as Kafka's `throwIfInstanceIdIsFenced`.
    pub fn static_member_fenced(member_id: &str, instance_id: &str, owner: &str) -> Error {
        Error::FencedStaticMember(format!(
            "Static member {member_id} with instance id {instance_id} was fenced by member {owner}."
        ))
    }

    /// TOPIC_AUTHORIZATION_FAILED with `Errors`' default message.
    pub fn topic_denied() -> Error {
        Error::TopicAuthorizationFailed("Topic authorization failed.".into())
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::KafkaStorage(e.to_string())
    }
}

/// Shorthand used across the broker.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Error code 0: no error.
pub const NONE: i16 = 0;
