//! AlterShareGroupOffsets (key 91), v0 (KIP-932): sets the share-partition start offset of an
//! empty share group's partitions (`kafka-share-groups --reset-offsets --execute`). Kafka's checks:
//! INVALID_GROUP_ID for an empty id, GROUP_ID_NOT_FOUND for a group that is not a share group,
//! NON_EMPTY_GROUP while it has members, UNKNOWN_TOPIC_OR_PARTITION per unknown partition.

use kafka_protocol::messages::alter_share_group_offsets_response::{
    AlterShareGroupOffsetsResponsePartition, AlterShareGroupOffsetsResponseTopic,
};
use kafka_protocol::messages::{AlterShareGroupOffsetsRequest, AlterShareGroupOffsetsResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;

pub async fn handle(
    ctx: &RequestContext,
    req: AlterShareGroupOffsetsRequest,
) -> AlterShareGroupOffsetsResponse {
    let group = req.group_id.to_string();
    if let Err(e) = check_empty_share_group(ctx, &group, AclOperation::Read) {
        return AlterShareGroupOffsetsResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(sb(&e.message())));
    }
    let mut topics = Vec::new();
    for t in req.topics {
        let topic = readable_topic(ctx, t.topic_name.as_str());
        let mut resp = AlterShareGroupOffsetsResponseTopic::default().with_topic_name(t.topic_name);
        let mut partitions = Vec::new();
        match topic {
            Err(e) => {
                for p in &t.partitions {
                    partitions.push(part(p.partition_index, Some(e.clone())));
                }
            }
            Ok(topic) => {
                resp.topic_id = topic.id;
                let valid: Vec<(uuid::Uuid, i32, i64)> = t
                    .partitions
                    .iter()
                    .filter(|p| topic.partition(p.partition_index).is_some())
                    .map(|p| (topic.id, p.partition_index, p.start_offset))
                    .collect();
                let mut results = ctx
                    .broker
                    .share
                    .alter_offsets(&group, &valid)
                    .await
                    .into_iter();
                for p in &t.partitions {
                    let e = if topic.partition(p.partition_index).is_some() {
                        results.next().flatten()
                    } else {
                        Some(Error::UnknownTopicOrPartition)
                    };
                    partitions.push(part(p.partition_index, e));
                }
            }
        }
        topics.push(resp.with_partitions(partitions));
    }
    AlterShareGroupOffsetsResponse::default().with_responses(topics)
}

fn part(index: i32, e: Option<Error>) -> AlterShareGroupOffsetsResponsePartition {
    let p = AlterShareGroupOffsetsResponsePartition::default().with_partition_index(index);
    match e {
        Some(e) => p
            .with_error_code(e.code())
            .with_error_message(Some(sb(&e.message()))),
        None => p,
    }
}

/// A topic the share-group offset APIs name: READ on it (TOPIC_AUTHORIZATION_FAILED, checked
/// first so an unauthorized client learns nothing), and it must exist.
pub fn readable_topic(
    ctx: &RequestContext,
    name: &str,
) -> Result<std::sync::Arc<crate::log::Topic>, Error> {
    if !authz::topic(ctx, AclOperation::Read, name) {
        return Err(Error::topic_denied());
    }
    ctx.broker
        .logs
        .topic(name)
        .ok_or(Error::UnknownTopicOrPartition)
}

/// What AlterShareGroupOffsets and DeleteShareGroupOffsets check first: share groups enabled,
/// `op` on the group, a non-empty id, an existing share group without members.
pub fn check_empty_share_group(
    ctx: &RequestContext,
    group: &str,
    op: AclOperation,
) -> Result<(), Error> {
    if !ctx.broker.groups.config().share.enabled {
        return Err(Error::UnsupportedVersion(
            "Share groups are disabled (group.share.enable).".into(),
        ));
    }
    if !authz::group(ctx, op, group) {
        return Err(Error::GroupAuthorizationFailed);
    }
    if group.is_empty() {
        return Err(Error::InvalidGroupId);
    }
    match ctx.broker.groups.share_group_status(group)? {
        None => Err(Error::GroupIdNotFound(format!("Group {group} not found."))),
        Some(true) => Err(Error::NonEmptyGroup),
        Some(false) => Ok(()),
    }
}
