//! A group of any type (Kafka's `Group` interface): a classic group (JoinGroup/SyncGroup) or a
//! KIP-848 consumer group (ConsumerGroupHeartbeat). The offset and admin paths go through these
//! type-independent checks.

use crate::error::Error;
use crate::groups::classic::{ClassicGroup, ExpirationBase, GroupState};
use crate::groups::consumer_protocol::PROTOCOL_TYPE;
use crate::groups::modern::group::ConsumerGroup;
use crate::groups::share::ShareGroup;

/// `Group.GroupType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupType {
    Classic,
    Consumer,
    Share,
}

impl GroupType {
    /// The name ListGroups v5 reports and filters on.
    pub fn name(self) -> &'static str {
        match self {
            GroupType::Classic => "classic",
            GroupType::Consumer => "consumer",
            GroupType::Share => "share",
        }
    }
}

/// A group on this coordinator.
#[derive(Debug)]
pub enum Group {
    Classic(ClassicGroup),
    Consumer(ConsumerGroup),
    Share(ShareGroup),
}

impl Group {
    pub fn group_type(&self) -> GroupType {
        match self {
            Group::Classic(_) => GroupType::Classic,
            Group::Consumer(_) => GroupType::Consumer,
            Group::Share(_) => GroupType::Share,
        }
    }

    pub fn group_id(&self) -> &str {
        match self {
            Group::Classic(g) => &g.group_id,
            Group::Consumer(g) => &g.group_id,
            Group::Share(g) => &g.group_id,
        }
    }

    /// The state name (DescribeGroups, ListGroups).
    pub fn state_name(&self) -> &'static str {
        match self {
            Group::Classic(g) => g.state().name(),
            Group::Consumer(g) => g.state().name(),
            Group::Share(g) => g.state().name(),
        }
    }

    pub fn protocol_type(&self) -> &str {
        match self {
            Group::Classic(g) => g.protocol_type().unwrap_or_default(),
            Group::Consumer(_) => PROTOCOL_TYPE,
            Group::Share(_) => "share",
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Group::Classic(g) => g.is_empty(),
            Group::Consumer(g) => g.is_empty(),
            Group::Share(g) => g.members.is_empty(),
        }
    }

    pub fn is_dead(&self) -> bool {
        match self {
            Group::Classic(g) => g.is_in(GroupState::Dead),
            Group::Consumer(_) | Group::Share(_) => false,
        }
    }

    /// Number of members (classic or consumer).
    pub fn num_members(&self) -> usize {
        match self {
            Group::Classic(g) => g.num_members(),
            Group::Consumer(g) => g.num_members(),
            Group::Share(g) => g.members.len(),
        }
    }

    pub fn classic(&self) -> Option<&ClassicGroup> {
        match self {
            Group::Classic(g) => Some(g),
            Group::Consumer(_) | Group::Share(_) => None,
        }
    }

    pub fn classic_mut(&mut self) -> Option<&mut ClassicGroup> {
        match self {
            Group::Classic(g) => Some(g),
            Group::Consumer(_) | Group::Share(_) => None,
        }
    }

    pub fn consumer(&self) -> Option<&ConsumerGroup> {
        match self {
            Group::Consumer(g) => Some(g),
            Group::Classic(_) | Group::Share(_) => None,
        }
    }

    pub fn consumer_mut(&mut self) -> Option<&mut ConsumerGroup> {
        match self {
            Group::Consumer(g) => Some(g),
            Group::Classic(_) | Group::Share(_) => None,
        }
    }

    /// `validateOffsetCommit`; `generation_id` is the member epoch for consumer groups.
    pub fn validate_offset_commit(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
        transactional: bool,
    ) -> Result<(), Error> {
        self.validate_offset_commit_at(
            member_id,
            instance_id,
            generation_id,
            transactional,
            i16::MAX,
        )
    }

    /// `validateOffsetCommit` for an OffsetCommit of `api_version`: KIP-848 members must commit
    /// with v9+ (their member epoch), and a stale epoch from an older version reads as
    /// UNSUPPORTED_VERSION (Kafka's `OffsetMetadataManager.validateOffsetCommit`).
    pub fn validate_offset_commit_at(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
        generation_id: i32,
        transactional: bool,
        api_version: i16,
    ) -> Result<(), Error> {
        match self {
            Group::Classic(g) => {
                g.validate_offset_commit(member_id, instance_id, generation_id, transactional)
            }
            Group::Consumer(g) => {
                match g.validate_offset_commit(member_id, generation_id, transactional, api_version)
                {
                    Err(Error::StaleMemberEpoch(_)) if api_version < 9 => Err(
                        Error::UnsupportedVersion("The version of API is not supported.".into()),
                    ),
                    other => other,
                }
            }
            // Share groups have no committed offsets (`shareGroup` is not a consumer group).
            Group::Share(g) => Err(Error::GroupIdNotFound(format!(
                "Group {} is not a consumer group.",
                g.group_id
            ))),
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
            Group::Consumer(_) => Ok(()),
            Group::Share(g) => Err(Error::GroupIdNotFound(format!(
                "Group {} is not a consumer group.",
                g.group_id
            ))),
        }
    }

    pub fn validate_delete_group(&self) -> Result<(), Error> {
        match self {
            Group::Classic(g) => g.validate_delete_group(),
            Group::Consumer(g) => g.validate_delete_group(),
            Group::Share(g) if g.members.is_empty() => Ok(()),
            Group::Share(_) => Err(Error::NonEmptyGroup),
        }
    }

    pub fn is_subscribed_to_topic(&self, topic: &str) -> bool {
        match self {
            Group::Classic(g) => g.is_subscribed_to_topic(topic),
            Group::Consumer(g) => g.is_subscribed_to_topic(topic),
            Group::Share(g) => g.is_subscribed_to_topic(topic),
        }
    }

    /// `offsetExpirationCondition`: consumer groups expire offsets by commit time.
    pub fn offset_expiration(&self) -> Option<ExpirationBase> {
        match self {
            Group::Classic(g) => g.offset_expiration(),
            Group::Consumer(_) => Some(ExpirationBase::CommitTimestamp),
            // Share groups keep no offsets here, and an empty one is not expired (Kafka
            // deletes share groups only by DeleteGroups).
            Group::Share(_) => None,
        }
    }
}
