//! WriteTxnMarkers (key 27), v1: appends COMMIT or ABORT markers to partitions this broker
//! leads (Kafka's `KafkaApis.handleWriteTxnMarkersRequest`). Kafka's transaction coordinators
//! send it to the partition leaders; Klamm's own coordinator writes its markers in-process, so
//! here the sender is `Admin.abortTransaction` (KIP-664, `kafka-transactions abort`), which
//! ends a hanging transaction by writing an ABORT marker with the producer id and epoch from
//! DescribeProducers. Needs CLUSTER_ACTION on the cluster (CLUSTER_AUTHORIZATION_FAILED for
//! every partition otherwise). Each marker is checked against the partition's producer state
//! as Kafka's `ProducerAppendInfo.appendEndTxnMarker` does: an older producer epoch is
//! INVALID_PRODUCER_EPOCH, an older coordinator epoch TRANSACTION_COORDINATOR_FENCED.

use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};

use super::authz::{self, AclOperation};
use super::RequestContext;
use crate::error::Error;

pub async fn handle(ctx: &RequestContext, req: WriteTxnMarkersRequest) -> WriteTxnMarkersResponse {
    let authorized = authz::cluster(ctx, AclOperation::ClusterAction);
    let mut markers = Vec::with_capacity(req.markers.len());
    for marker in req.markers {
        let mut topics = Vec::with_capacity(marker.topics.len());
        for topic in marker.topics {
            let mut partitions = Vec::with_capacity(topic.partition_indexes.len());
            for index in topic.partition_indexes {
                let result = if authorized {
                    ctx.broker
                        .txn
                        .write_marker(
                            topic.name.as_str(),
                            index,
                            marker.producer_id.0,
                            marker.producer_epoch,
                            marker.coordinator_epoch,
                            marker.transaction_result,
                        )
                        .await
                } else {
                    Err(Error::ClusterAuthorizationFailed)
                };
                partitions.push(
                    WritableTxnMarkerPartitionResult::default()
                        .with_partition_index(index)
                        .with_error_code(match result {
                            Ok(()) => 0,
                            Err(e) => e.code(),
                        }),
                );
            }
            topics.push(
                WritableTxnMarkerTopicResult::default()
                    .with_name(topic.name)
                    .with_partitions(partitions),
            );
        }
        markers.push(
            WritableTxnMarkerResult::default()
                .with_producer_id(marker.producer_id)
                .with_topics(topics),
        );
    }
    WriteTxnMarkersResponse::default().with_markers(markers)
}
