//! ListGroups, DescribeGroups, DeleteGroups and the periodic expiration of offsets and empty
//! groups on a shard (Kafka's `GroupMetadataManager.listGroups/describeGroups`,
//! `GroupCoordinatorShard.deleteGroups/cleanupGroupMetadata`).

use bytes::Bytes;
use tracing::info;

use crate::error::Error;
use crate::groups::classic::GroupState;
use crate::groups::group::Group;
use crate::groups::records::CoordinatorRecord;
use crate::groups::shard::ShardState;

/// A ListGroups entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedGroup {
    pub group_id: String,
    pub protocol_type: String,
    pub state: String,
    pub group_type: String,
    /// Members (classic or consumer), for the metrics.
    pub members: usize,
}

/// A DescribeGroups member.
#[derive(Clone, Debug)]
pub struct DescribedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

/// A DescribeGroups entry. `error` is set (with state Dead) for an unknown group.
#[derive(Clone, Debug)]
pub struct DescribedGroup {
    pub group_id: String,
    pub error: Option<Error>,
    pub state: String,
    pub protocol_type: String,
    pub protocol_data: String,
    pub members: Vec<DescribedMember>,
}

impl ShardState {
    /// The records that delete a group (Kafka's `Group.createGroupTombstoneRecords`): the
    /// `GroupMetadata` tombstone of a classic group, every record key of a consumer group.
    pub fn group_tombstones(&self, group_id: &str) -> Vec<CoordinatorRecord> {
        match self.groups.get(group_id) {
            Some(Group::Consumer(g)) => g
                .tombstones()
                .into_iter()
                .map(CoordinatorRecord::Consumer)
                .collect(),
            Some(Group::Share(g)) => g
                .tombstones()
                .into_iter()
                .map(CoordinatorRecord::Share)
                .collect(),
            _ => vec![CoordinatorRecord::group_tombstone(group_id)],
        }
    }

    /// Groups matching the filters; an empty filter matches everything. States compare
    /// case-insensitively, as Kafka does; an unknown type matches nothing.
    pub fn list_groups(&self, states: &[String], types: &[String]) -> Vec<ListedGroup> {
        let states: Vec<String> = states.iter().map(|s| s.trim().to_lowercase()).collect();
        let types: Vec<String> = types.iter().map(|s| s.trim().to_lowercase()).collect();
        let mut out: Vec<ListedGroup> = self
            .groups
            .values()
            .filter(|g| states.is_empty() || states.contains(&g.state_name().to_lowercase()))
            .filter(|g| types.is_empty() || types.iter().any(|t| t == g.group_type().name()))
            .map(|g| ListedGroup {
                group_id: g.group_id().to_string(),
                protocol_type: g.protocol_type().to_string(),
                state: g.state_name().to_string(),
                group_type: g.group_type().name().to_string(),
                members: g.num_members(),
            })
            .collect();
        out.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        out
    }

    /// DescribeGroups of one group: members with their subscription only while Stable.
    pub fn describe_group(&self, group_id: &str) -> DescribedGroup {
        let Some(Group::Classic(g)) = self.groups.get(group_id) else {
            // Kafka's `classicGroup()`: a consumer group is not described by DescribeGroups.
            let message = if self.groups.contains_key(group_id) {
                format!("Group {group_id} is not a classic group.")
            } else {
                format!("Group {group_id} not found.")
            };
            return DescribedGroup {
                group_id: group_id.to_string(),
                error: Some(Error::GroupIdNotFound(message)),
                state: GroupState::Dead.name().to_string(),
                protocol_type: String::new(),
                protocol_data: String::new(),
                members: Vec::new(),
            };
        };
        let stable = g.is_in(GroupState::Stable);
        let protocol = g.protocol_name().unwrap_or_default();
        DescribedGroup {
            group_id: group_id.to_string(),
            error: None,
            state: g.state().name().to_string(),
            protocol_type: g.protocol_type().unwrap_or_default().to_string(),
            protocol_data: if stable {
                protocol.to_string()
            } else {
                String::new()
            },
            members: g
                .members()
                .map(|m| DescribedMember {
                    member_id: m.member_id.clone(),
                    group_instance_id: m.group_instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    metadata: if stable {
                        m.metadata(protocol)
                    } else {
                        Bytes::new()
                    },
                    assignment: m.assignment.clone(),
                })
                .collect(),
        }
    }

    /// DeleteGroups of the groups of this shard: only empty groups go; their offsets and
    /// metadata are tombstoned in one batch.
    pub fn delete_groups(&mut self, group_ids: &[String]) -> Vec<(String, Option<Error>)> {
        let mut records = Vec::new();
        let mut results = Vec::with_capacity(group_ids.len());
        for id in group_ids {
            let check = match self.groups.get(id) {
                None => Err(Error::GroupIdNotFound(format!("Group {id} not found."))),
                Some(g) => g.validate_delete_group(),
            };
            match check {
                Err(e) => results.push((id.clone(), Some(e))),
                Ok(()) => {
                    for (topic, partition) in self.offsets.partitions_to_delete(id) {
                        records.push(CoordinatorRecord::offset_tombstone(id, &topic, partition));
                    }
                    records.extend(self.group_tombstones(id));
                    results.push((id.clone(), None));
                }
            }
        }
        if !records.is_empty() {
            let deleted: Vec<&String> = results
                .iter()
                .filter(|(_, e)| e.is_none())
                .map(|(g, _)| g)
                .collect();
            info!(groups = ?deleted, records = records.len(), "deleting groups");
            self.core.write(records, true, None);
        }
        results
    }

    /// Expires offsets per `offsets.retention.minutes` and removes empty groups left without
    /// offsets (Kafka's `cleanupGroupMetadata`).
    pub fn cleanup_group_metadata(&mut self) {
        let now = self.core.now;
        let retention = self.core.config.offsets_retention_ms;
        let mut records = Vec::new();
        let mut ids: Vec<String> = self.groups.keys().cloned().collect();
        ids.sort();
        for id in ids {
            let group = &self.groups[&id];
            let mut all_expired = true;
            if let Some(topics) = self.offsets.group(&id) {
                match group.offset_expiration() {
                    None => all_expired = false,
                    Some(base) => {
                        let mut names: Vec<&String> = topics.keys().collect();
                        names.sort();
                        for topic in names {
                            if group.is_subscribed_to_topic(topic) {
                                all_expired = false;
                                continue;
                            }
                            let mut parts: Vec<(&i32, _)> = topics[topic].iter().collect();
                            parts.sort_by_key(|(p, _)| **p);
                            for (p, offset) in parts {
                                if base.is_expired(offset, now, retention)
                                    && !self.offsets.has_pending(&id, topic, *p)
                                {
                                    records
                                        .push(CoordinatorRecord::offset_tombstone(&id, topic, *p));
                                } else {
                                    all_expired = false;
                                }
                            }
                        }
                    }
                }
                all_expired &= !self.offsets.has_open_transactions(&id);
            }
            if all_expired && group.is_empty() {
                records.extend(self.group_tombstones(&id));
            }
        }
        if !records.is_empty() {
            info!(
                shard = self.index,
                tombstones = records.len(),
                "expired offsets and empty groups"
            );
            self.core.write(records, true, None);
        }
    }
}
