//! OffsetCommit, OffsetFetch and OffsetDelete on a shard (Kafka's `OffsetMetadataManager`):
//! commits are checked against the group (generation, member), written as `OffsetCommit`
//! records and applied once appended; fetches read the committed store.

use crate::error::Error;
use crate::groups::classic::GroupState;
use crate::groups::group::Group;
use crate::groups::records::{CoordinatorRecord, OffsetCommitValue};
use crate::groups::shard::ShardState;
use crate::groups::timer::{TimerKey, TimerTask};

/// One partition of an OffsetCommit.
#[derive(Clone, Debug)]
pub struct CommitPartition {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
}

/// An OffsetCommit request (partitions of unknown topics already answered by the handler).
#[derive(Clone, Debug)]
pub struct CommitRequest {
    pub group_id: String,
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub generation_id: i32,
    /// OffsetCommit v2-4 `retention_time_ms`; -1 is the broker default.
    pub retention_time_ms: i64,
    pub api_version: i16,
    pub partitions: Vec<CommitPartition>,
}

/// Per topic, per partition: the error of an OffsetDelete, if any.
pub type TopicErrors = Vec<(String, Vec<(i32, Option<Error>)>)>;

/// One partition of an OffsetFetch answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchedOffset {
    pub partition: i32,
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: String,
    pub error: Option<Error>,
}

impl FetchedOffset {
    fn none(partition: i32) -> FetchedOffset {
        FetchedOffset {
            partition,
            offset: -1,
            leader_epoch: -1,
            metadata: String::new(),
            error: None,
        }
    }
}

/// Java's `String.length()`: UTF-16 code units, what `offset.metadata.max.bytes` counts.
fn java_length(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

impl ShardState {
    /// TxnOffsetCommit (Kafka's `OffsetMetadataManager.commitTransactionalOffset`): a group
    /// that does not exist is created as a simple group when the generation is -1; otherwise
    /// the member and generation are checked as for a transactional commit.
    pub fn txn_commit_offsets(
        &mut self,
        req: CommitRequest,
        producer: crate::log::batch_builder::Producer,
    ) -> Result<Vec<Option<Error>>, Error> {
        if !self.groups.contains_key(&req.group_id) {
            if req.generation_id < 0 {
                self.get_or_create_classic(&req.group_id)?;
            } else {
                return Err(Error::IllegalGeneration);
            }
        }
        self.groups[&req.group_id].validate_offset_commit(
            &req.member_id,
            req.group_instance_id.as_deref(),
            req.generation_id,
            true,
        )?;
        let (errors, records) = self.offset_commit_records(&req.group_id, req.partitions, -1);
        if !records.is_empty() {
            self.core.write_transactional(records, producer);
        }
        Ok(errors)
    }

    /// The OffsetCommit records of `partitions` and each partition's error: metadata longer than
    /// `offset.metadata.max.bytes` is OFFSET_METADATA_TOO_LARGE and not written, as in Kafka's
    /// `OffsetMetadataManager.commitOffset`. Shared by plain and transactional commits.
    fn offset_commit_records(
        &self,
        group_id: &str,
        partitions: Vec<CommitPartition>,
        expire_timestamp: i64,
    ) -> (Vec<Option<Error>>, Vec<CoordinatorRecord>) {
        let now = self.core.now;
        let max = self.core.config.offset_metadata_max_bytes;
        let mut errors = Vec::with_capacity(partitions.len());
        let mut records = Vec::with_capacity(partitions.len());
        for p in partitions {
            if p.metadata.as_deref().is_some_and(|m| java_length(m) > max) {
                errors.push(Some(Error::OffsetMetadataTooLarge));
                continue;
            }
            errors.push(None);
            records.push(CoordinatorRecord::offset_commit(
                group_id,
                &p.topic,
                p.partition,
                OffsetCommitValue {
                    offset: p.offset,
                    leader_epoch: p.leader_epoch,
                    metadata: p.metadata.unwrap_or_default(),
                    commit_timestamp: now,
                    expire_timestamp,
                },
            ));
        }
        (errors, records)
    }

    /// OffsetCommit: per-partition errors, or a request-level error.
    pub fn commit_offsets(&mut self, req: CommitRequest) -> Result<Vec<Option<Error>>, Error> {
        if !self.groups.contains_key(&req.group_id) {
            if req.generation_id < 0 {
                // A consumer that does not use group management: a "simple" group.
                self.get_or_create_classic(&req.group_id)?;
            } else if req.api_version >= 9 {
                return Err(Error::GroupIdNotFound(format!(
                    "Group {} not found.",
                    req.group_id
                )));
            } else {
                return Err(Error::IllegalGeneration);
            }
        }
        let group = &self.groups[&req.group_id];
        group.validate_offset_commit_at(
            &req.member_id,
            req.group_instance_id.as_deref(),
            req.generation_id,
            false,
            req.api_version,
        )?;
        // A classic member's commit also keeps its session alive.
        if let Some((g, c)) = self.classic(&req.group_id) {
            if g.is_in(GroupState::Stable) || g.is_in(GroupState::PreparingRebalance) {
                if let Some(m) = g.member(&req.member_id) {
                    let t = m.session_timeout_ms as i64;
                    c.schedule(
                        TimerKey::Heartbeat {
                            group: req.group_id.clone(),
                            member: req.member_id.clone(),
                        },
                        t,
                        TimerTask::HeartbeatExpired {
                            group: req.group_id.clone(),
                            member: req.member_id.clone(),
                        },
                    );
                }
            }
        }
        let now = self.core.now;
        let expire_timestamp = if req.retention_time_ms == -1 {
            -1
        } else {
            now.saturating_add(req.retention_time_ms)
        };
        let (errors, records) =
            self.offset_commit_records(&req.group_id, req.partitions, expire_timestamp);
        if !records.is_empty() {
            self.core.write(records, true, None);
        }
        Ok(errors)
    }

    /// OffsetFetch of the given partitions. An unknown group has no offsets (-1 everywhere);
    /// with `require_stable`, a partition with a pending transactional commit answers
    /// UNSTABLE_OFFSET_COMMIT.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: &[(String, Vec<i32>)],
        require_stable: bool,
    ) -> Vec<(String, Vec<FetchedOffset>)> {
        let known = self
            .groups
            .get(group_id)
            .is_some_and(|g| g.validate_offset_fetch().is_ok());
        topics
            .iter()
            .map(|(topic, partitions)| {
                let fetched = partitions
                    .iter()
                    .map(|&p| {
                        if require_stable && self.offsets.has_pending(group_id, topic, p) {
                            return FetchedOffset {
                                error: Some(Error::UnstableOffsetCommit),
                                ..FetchedOffset::none(p)
                            };
                        }
                        match known
                            .then(|| self.offsets.get(group_id, topic, p))
                            .flatten()
                        {
                            Some(o) => FetchedOffset {
                                partition: p,
                                offset: o.committed_offset,
                                leader_epoch: o.leader_epoch,
                                metadata: o.metadata.clone(),
                                error: None,
                            },
                            None => FetchedOffset::none(p),
                        }
                    })
                    .collect();
                (topic.clone(), fetched)
            })
            .collect()
    }

    /// OffsetFetch of every committed partition of the group, by topic name and partition.
    pub fn fetch_all_offsets(
        &self,
        group_id: &str,
        require_stable: bool,
    ) -> Vec<(String, Vec<FetchedOffset>)> {
        if self
            .groups
            .get(group_id)
            .is_none_or(|g| g.validate_offset_fetch().is_err())
        {
            return Vec::new();
        }
        let Some(topics) = self.offsets.group(group_id) else {
            return Vec::new();
        };
        let mut names: Vec<&String> = topics.keys().collect();
        names.sort();
        names
            .into_iter()
            .map(|t| {
                let mut parts: Vec<i32> = topics[t].keys().copied().collect();
                parts.sort_unstable();
                (t.clone(), parts)
            })
            .map(|(t, parts)| {
                let fetched = self.fetch_offsets(group_id, &[(t.clone(), parts)], require_stable);
                (t, fetched.into_iter().flat_map(|(_, f)| f).collect())
            })
            .collect()
    }

    /// OffsetDelete: per topic and partition errors, or a group-level error. Partitions of a
    /// topic the group is subscribed to are refused with GROUP_SUBSCRIBED_TO_TOPIC.
    pub fn delete_offsets(
        &mut self,
        group_id: &str,
        topics: &[(String, Vec<i32>)],
    ) -> Result<TopicErrors, Error> {
        let group = self
            .groups
            .get(group_id)
            .ok_or_else(|| Error::GroupIdNotFound(format!("Group {group_id} not found.")))?;
        group.validate_offset_delete()?;
        let mut records = Vec::new();
        let mut out = Vec::with_capacity(topics.len());
        for (topic, partitions) in topics {
            let subscribed = group.is_subscribed_to_topic(topic);
            let mut results = Vec::with_capacity(partitions.len());
            for &p in partitions {
                if subscribed {
                    results.push((p, Some(Error::GroupSubscribedToTopic)));
                    continue;
                }
                results.push((p, None));
                if self.offsets.has_committed(group_id, topic, p)
                    || self.offsets.has_pending(group_id, topic, p)
                {
                    records.push(CoordinatorRecord::offset_tombstone(group_id, topic, p));
                }
            }
            out.push((topic.clone(), results));
        }
        if !records.is_empty() {
            self.core.write(records, true, None);
        }
        Ok(out)
    }

    /// Offsets of deleted topics go away (Kafka's `onPartitionsDeleted`).
    pub fn on_topic_deleted(&mut self, topic: &str) {
        let mut records = Vec::new();
        let groups: Vec<String> = self.offsets.groups().cloned().collect();
        for g in groups {
            if let Some(parts) = self.offsets.group(&g).and_then(|t| t.get(topic)) {
                let mut ps: Vec<i32> = parts.keys().copied().collect();
                ps.sort_unstable();
                records.extend(
                    ps.into_iter()
                        .map(|p| CoordinatorRecord::offset_tombstone(&g, topic, p)),
                );
            }
        }
        if !records.is_empty() {
            self.core.write(records, true, None);
        }
    }

    /// Whether the group exists here (any type).
    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }
}

#[cfg(test)]
mod tests {
    use super::java_length;

    #[test]
    fn metadata_length_counts_utf16_units() {
        assert_eq!(java_length("abc"), 3);
        assert_eq!(java_length("é"), 1);
        assert_eq!(java_length("😀"), 2);
    }
}
