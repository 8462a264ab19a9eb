//! A member of a classic group (Kafka's `ClassicGroupMember`), and the answers parked JoinGroup
//! and SyncGroup requests wait for.

use bytes::Bytes;
use tokio::sync::oneshot;

use crate::error::Error;

/// One protocol a member supports (JoinGroup `protocols`), in the member's order of preference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol {
    pub name: String,
    pub metadata: Bytes,
}

/// A member as listed to the leader in its JoinGroup response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JoinMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub metadata: Bytes,
}

/// The answer to a JoinGroup request (Kafka's `JoinGroupResponseData`).
#[derive(Clone, Debug)]
pub struct JoinResult {
    pub error: Option<Error>,
    pub generation_id: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    pub skip_assignment: bool,
    pub member_id: String,
    pub members: Vec<JoinMember>,
}

impl JoinResult {
    /// An error answer: generation -1, no leader, no protocol.
    pub fn error(member_id: &str, error: Error) -> JoinResult {
        JoinResult {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            member_id: member_id.to_string(),
            members: Vec::new(),
        }
    }
}

/// The answer to a SyncGroup request (Kafka's `SyncGroupResponseData`).
#[derive(Clone, Debug, Default)]
pub struct SyncResult {
    pub error: Option<Error>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    pub fn error(error: Error) -> SyncResult {
        SyncResult {
            error: Some(error),
            ..SyncResult::default()
        }
    }
}

/// A classic group member.
#[derive(Debug)]
pub struct ClassicMember {
    pub member_id: String,
    /// `group.instance.id` of a static member (KIP-345).
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    pub protocol_type: String,
    pub supported_protocols: Vec<Protocol>,
    pub assignment: Bytes,
    /// A member that joined during the current rebalance and has not received its first
    /// JoinGroup answer: it can time out even while its JoinGroup is parked.
    pub is_new: bool,
    pub(crate) awaiting_join: Option<oneshot::Sender<JoinResult>>,
    pub(crate) awaiting_sync: Option<oneshot::Sender<SyncResult>>,
}

impl ClassicMember {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        member_id: String,
        group_instance_id: Option<String>,
        client_id: String,
        client_host: String,
        rebalance_timeout_ms: i32,
        session_timeout_ms: i32,
        protocol_type: String,
        supported_protocols: Vec<Protocol>,
    ) -> ClassicMember {
        ClassicMember {
            member_id,
            group_instance_id,
            client_id,
            client_host,
            rebalance_timeout_ms,
            session_timeout_ms,
            protocol_type,
            supported_protocols,
            assignment: Bytes::new(),
            is_new: false,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    pub fn is_static(&self) -> bool {
        self.group_instance_id.is_some()
    }

    pub fn is_awaiting_join(&self) -> bool {
        self.awaiting_join.is_some()
    }

    pub fn is_awaiting_sync(&self) -> bool {
        self.awaiting_sync.is_some()
    }

    /// Kafka's `hasSatisfiedHeartbeat`: a parked JoinGroup or SyncGroup counts as a heartbeat,
    /// except for a new member, which must complete its first join in time.
    pub fn has_satisfied_heartbeat(&self) -> bool {
        !self.is_new && (self.is_awaiting_join() || self.is_awaiting_sync())
    }

    /// Same protocols, same metadata, same order.
    pub fn matches(&self, protocols: &[Protocol]) -> bool {
        self.supported_protocols == protocols
    }

    /// The member's first preference among `candidates` (Kafka's `vote`).
    pub fn vote<'a>(&'a self, candidates: &[&str]) -> Option<&'a str> {
        self.supported_protocols
            .iter()
            .map(|p| p.name.as_str())
            .find(|name| candidates.contains(name))
    }

    /// The member's metadata for `protocol` (its subscription, for consumers).
    pub fn metadata(&self, protocol: &str) -> Bytes {
        self.supported_protocols
            .iter()
            .find(|p| p.name == protocol)
            .map(|p| p.metadata.clone())
            .unwrap_or_default()
    }
}
