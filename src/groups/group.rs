//! A group of any type (Kafka's `Group` interface). Only classic groups exist today; KIP-848
//! consumer groups (ConsumerGroupHeartbeat) become another variant, and the offset and admin
//! paths already go through these type-independent checks.

use crate::error::Error;
use crate::groups::classic::{ClassicGroup, ExpirationBase, GroupState};

/// `Group.GroupType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupType {
    Classic,
}

impl GroupType {
    /// The name ListGroups v5 reports and filters on.
    pub fn name(self) -> &'static str {
        match self {
            GroupType::Classic => "classic",
        }
    }
}

/// A group on this coordinator.
#[derive(Debug)]
pub enum Group {
    Classic(ClassicGroup),
}

impl Group {
    pub fn group_type(&self) -> GroupType {
        match self {
            Group::Classic(_) => GroupType::Classic,
        }
    }

    pub fn group_id(&self) -> &str {
        match self {
            Group::Classic(g) => &g.group_id,
        }
    }

    /// The state name (DescribeGroups, ListGroups).
    pub fn state_name(&self) -> &'static str {
        match self {
            Group::Classic(g) => g.state().name(),
        }
    }

    pub fn protocol_type(&self) -> &str {
        match self {
            Group::Classic(g) => g.protocol_type().unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Group::Classic(g) => g.is_empty(),
        }
    }

    pub fn is_dead(&self) -> bool {
        match self {
            Group::Classic(g) => g.is_in(GroupState::Dead),
        }
    }

    pub fn classic(&self) -> Option<&ClassicGroup> {
        match self {
            Group::Classic(g) => Some(g),
        }
    }

    pub fn classic_mut(&mut self) -> Option<&mut ClassicGroup> {
        match self {
            Group::Classic(g) => Some(g),
        }
    }

    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
        transactional: bool,
    ) -> Result<(), Error> {
        match self {
            Group::Classic(g) => {
                g.validate_offset_commit(member_id, instance_id, generation_id, transactional)
            }
        }
    }

    /// `validateOffsetFetch`: a dead group has no offsets to show.
    pub fn validate_offset_fetch(&self) -> Result<(), Error> {
        if self.is_dead() {
            return Err(Error::GroupIdNotFound(format!(
                "Group {} is in dead state.",
                self.group_id()
            )));
        }
        Ok(())
    }

    pub fn validate_offset_delete(&self) -> Result<(), Error> {
        match self {
            Group::Classic(g) => g.validate_offset_delete(),
        }
    }

    pub fn validate_delete_group(&self) -> Result<(), Error> {
        match self {
            Group::Classic(g) => g.validate_delete_group(),
        }
    }

    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match self {
            Group::Classic(g) => g.is_subscribed_to_topic(topic),
        }
    }

    pub fn offset_expiration(&self) -> Option<ExpirationBase> {
        match self {
            Group::Classic(g) => g.offset_expiration(),
        }
    }
}
