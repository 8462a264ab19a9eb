//! DeleteShareGroupOffsets (key 92), v0 (KIP-932): removes an empty share group's state for whole
//! topics (`kafka-share-groups --delete-offsets`); the next fetch starts those partitions again at
//! `share.auto.offset.reset`. A topic the group has no state for is UNKNOWN_TOPIC_OR_PARTITION.

use kafka_protocol::messages::delete_share_group_offsets_response::DeleteShareGroupOffsetsResponseTopic;
use kafka_protocol::messages::{DeleteShareGroupOffsetsRequest, DeleteShareGroupOffsetsResponse};

use super::alter_share_group_offsets::{check_empty_share_group, readable_topic};
use super::authz::AclOperation;
use super::{sb, RequestContext};

pub async fn handle(
    ctx: &RequestContext,
    req: DeleteShareGroupOffsetsRequest,
) -> DeleteShareGroupOffsetsResponse {
    let group = req.group_id.to_string();
    if let Err(e) = check_empty_share_group(ctx, &group, AclOperation::Delete) {
        return DeleteShareGroupOffsetsResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(sb(&e.message())));
    }
    let mut out = Vec::new();
    for t in req.topics {
        let topic = readable_topic(ctx, t.topic_name.as_str());
        let mut r = DeleteShareGroupOffsetsResponseTopic::default().with_topic_name(t.topic_name);
        let e = match topic {
            Err(e) => Some(e),
            Ok(topic) => {
                let e = ctx
                    .broker
                    .share
                    .delete_offsets(&group, &[topic.id])
                    .await
                    .into_iter()
                    .next()
                    .flatten();
                // Kafka answers a topic without share state with the zero topic id.
                if e.is_none() {
                    r.topic_id = topic.id;
                }
                e
            }
        };
        if let Some(e) = e {
            r = r
                .with_error_code(e.code())
                .with_error_message(Some(sb(&e.message())));
        }
        out.push(r);
    }
    DeleteShareGroupOffsetsResponse::default().with_responses(out)
}
