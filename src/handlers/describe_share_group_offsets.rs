//! DescribeShareGroupOffsets (key 90), v0 (KIP-932): the share-partition start offset of each
//! partition a share group reads (what `kafka-share-groups --describe --offsets` shows). As in
//! Kafka the group's existence is not checked: a partition without state answers -1.

use kafka_protocol::messages::describe_share_group_offsets_response::{
    DescribeShareGroupOffsetsResponseGroup, DescribeShareGroupOffsetsResponsePartition,
    DescribeShareGroupOffsetsResponseTopic,
};
use kafka_protocol::messages::{
    DescribeShareGroupOffsetsRequest, DescribeShareGroupOffsetsResponse, TopicName,
};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::error::Error;

pub fn handle(
    ctx: &RequestContext,
    req: DescribeShareGroupOffsetsRequest,
) -> DescribeShareGroupOffsetsResponse {
    let groups = req.groups.into_iter().map(|g| {
        let out =
            DescribeShareGroupOffsetsResponseGroup::default().with_group_id(g.group_id.clone());
        let fail = |e: Error| {
            DescribeShareGroupOffsetsResponseGroup::default()
                .with_group_id(g.group_id.clone())
                .with_error_code(e.code())
                .with_error_message(Some(sb(&e.message())))
        };
        if !ctx.broker.groups.config().share.enabled {
            return fail(Error::UnsupportedVersion(
                "Share groups are disabled (group.share.enable).".into(),
            ));
        }
        // DESCRIBE on the group, then on each topic (`KafkaApis.handleDescribeShareGroupOffsetsRequest`).
        if !authz::group(ctx, AclOperation::Describe, g.group_id.as_str()) {
            return fail(Error::GroupAuthorizationFailed);
        }
        if let Err(e) = ctx.broker.groups.share_group_status(g.group_id.as_str()) {
            return fail(e);
        }
        let asked: Option<Vec<(String, Vec<i32>)>> = g.topics.map(|ts| {
            ts.into_iter()
                .map(|t| (t.topic_name.to_string(), t.partitions))
                .collect()
        });
        let described = ctx
            .broker
            .share
            .describe_offsets(g.group_id.as_str(), asked.as_deref());
        out.with_topics(
            described
                .into_iter()
                .map(|t| {
                    let denied = !authz::topic(ctx, AclOperation::Describe, &t.name);
                    DescribeShareGroupOffsetsResponseTopic::default()
                        .with_topic_name(TopicName(sb(&t.name)))
                        .with_topic_id(t.topic_id)
                        .with_partitions(
                            t.partitions
                                .into_iter()
                                .map(|(p, start, epoch)| {
                                    let r = DescribeShareGroupOffsetsResponsePartition::default()
                                        .with_partition_index(p);
                                    if denied {
                                        let e = Error::topic_denied();
                                        r.with_start_offset(-1)
                                            .with_leader_epoch(-1)
                                            .with_error_code(e.code())
                                            .with_error_message(Some(sb(&e.message())))
                                    } else {
                                        r.with_start_offset(start).with_leader_epoch(epoch)
                                    }
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
    });
    DescribeShareGroupOffsetsResponse::default().with_groups(groups.collect())
}
