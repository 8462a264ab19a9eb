//! OffsetFetch (key 9), v1-9: one group (v1-7) or several (v8+, KIP-709), named partitions or
//! all of them (null topics, v2+). `require_stable` (v7+, KIP-447) reports partitions with an
//! open transactional commit as UNSTABLE_OFFSET_COMMIT. Before v2 a group error is repeated in
//! every partition. v9 (KIP-848) carries the member id and epoch, checked against a consumer
//! group's member. Authorization as `KafkaApis.handleOffsetFetchRequest`: DESCRIBE on the group
//! (else GROUP_AUTHORIZATION_FAILED), and DESCRIBE on each topic: a named topic without it
//! answers TOPIC_AUTHORIZATION_FAILED per partition, an all-topics fetch leaves it out.

use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{GroupId, OffsetFetchRequest, OffsetFetchResponse};

use super::authz::{self, AclOperation, ResourceType};
use super::{sb, topic_name, RequestContext};
use crate::error::Error;
use crate::groups::offset_manager::FetchedOffset;

type Fetched = Result<Vec<(String, Vec<FetchedOffset>)>, Error>;

pub fn handle(ctx: &RequestContext, req: OffsetFetchRequest) -> OffsetFetchResponse {
    let v = ctx.version;
    let groups = &ctx.broker.groups;
    let require_stable = v >= 7 && req.require_stable;
    if v >= 8 {
        let out = req
            .groups
            .into_iter()
            .map(|g| {
                let topics: Option<Vec<(String, Vec<i32>)>> = g.topics.map(|ts| {
                    ts.into_iter()
                        .map(|t| (t.name.to_string(), t.partition_indexes))
                        .collect()
                });
                let (member_id, member_epoch) = if v >= 9 {
                    (g.member_id.as_ref().map(|m| m.to_string()), g.member_epoch)
                } else {
                    (None, -1)
                };
                let r = if authz::group(ctx, AclOperation::Describe, g.group_id.as_str()) {
                    let r = groups.fetch_offsets_as(
                        g.group_id.as_str(),
                        topics.as_deref(),
                        require_stable,
                        member_id.as_deref(),
                        member_epoch,
                    );
                    authorized_topics(ctx, topics.is_some(), r)
                } else {
                    Err(Error::GroupAuthorizationFailed)
                };
                group_response(g.group_id, r)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(out);
    }
    let topics: Option<Vec<(String, Vec<i32>)>> = req.topics.map(|ts| {
        ts.into_iter()
            .map(|t| (t.name.to_string(), t.partition_indexes))
            .collect()
    });
    let r = if authz::group(ctx, AclOperation::Describe, req.group_id.as_str()) {
        let r = groups.fetch_offsets(req.group_id.as_str(), topics.as_deref(), require_stable);
        authorized_topics(ctx, topics.is_some(), r)
    } else {
        Err(Error::GroupAuthorizationFailed)
    };
    let mut resp = OffsetFetchResponse::default();
    match r {
        Ok(fetched) => {
            resp.topics = fetched
                .into_iter()
                .map(|(t, parts)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(topic_name(&t))
                        .with_partitions(parts.into_iter().map(|p| partition(v, p)).collect())
                })
                .collect();
        }
        Err(e) if v >= 2 => resp.error_code = e.code(),
        Err(e) => {
            // v1 has no group-level error: every requested partition carries it.
            resp.topics = topics
                .unwrap_or_default()
                .into_iter()
                .map(|(t, ps)| {
                    OffsetFetchResponseTopic::default()
                        .with_name(topic_name(&t))
                        .with_partitions(
                            ps.into_iter()
                                .map(|p| {
                                    OffsetFetchResponsePartition::default()
                                        .with_partition_index(p)
                                        .with_committed_offset(-1)
                                        .with_metadata(Some(sb("")))
                                        .with_error_code(e.code())
                                })
                                .collect(),
                        )
                })
                .collect();
        }
    }
    resp
}

/// Applies DESCRIBE on topics to a fetched answer: named topics without it become
/// `OffsetFetchResponse.UNAUTHORIZED_PARTITION`s, an all-topics answer drops them.
fn authorized_topics(ctx: &RequestContext, named: bool, r: Fetched) -> Fetched {
    let fetched = r?;
    let allowed = |t: &str| {
        if named {
            authz::topic(ctx, AclOperation::Describe, t)
        } else {
            authz::quietly(ctx, AclOperation::Describe, ResourceType::Topic, t)
        }
    };
    Ok(fetched
        .into_iter()
        .filter_map(|(t, parts)| {
            if allowed(&t) {
                Some((t, parts))
            } else if named {
                let parts = parts
                    .into_iter()
                    .map(|p| FetchedOffset {
                        partition: p.partition,
                        offset: -1,
                        leader_epoch: -1,
                        metadata: String::new(),
                        error: Some(Error::topic_denied()),
                    })
                    .collect();
                Some((t, parts))
            } else {
                None
            }
        })
        .collect())
}

fn partition(v: i16, p: FetchedOffset) -> OffsetFetchResponsePartition {
    let mut r = OffsetFetchResponsePartition::default()
        .with_partition_index(p.partition)
        .with_committed_offset(p.offset)
        .with_metadata(Some(sb(&p.metadata)))
        .with_error_code(p.error.as_ref().map_or(0, Error::code));
    if v >= 5 {
        r.committed_leader_epoch = p.leader_epoch;
    }
    r
}

fn group_response(group_id: GroupId, r: Fetched) -> OffsetFetchResponseGroup {
    match r {
        Err(e) => OffsetFetchResponseGroup::default()
            .with_group_id(group_id)
            .with_error_code(e.code()),
        Ok(fetched) => OffsetFetchResponseGroup::default()
            .with_group_id(group_id)
            .with_topics(
                fetched
                    .into_iter()
                    .map(|(t, parts)| {
                        OffsetFetchResponseTopics::default()
                            .with_name(topic_name(&t))
                            .with_partitions(
                                parts
                                    .into_iter()
                                    .map(|p| {
                                        OffsetFetchResponsePartitions::default()
                                            .with_partition_index(p.partition)
                                            .with_committed_offset(p.offset)
                                            .with_committed_leader_epoch(p.leader_epoch)
                                            .with_metadata(Some(sb(&p.metadata)))
                                            .with_error_code(
                                                p.error.as_ref().map_or(0, Error::code),
                                            )
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            ),
    }
}
