//! ListPartitionReassignments (key 46), v0: a single broker never reassigns replicas, so the
//! answer is always "no ongoing reassignments", for all topics or the ones named (Kafka's
//! `ReplicationControlManager.listPartitionReassignments` lists only reassigning partitions).

use kafka_protocol::messages::{
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};

use super::authz::{self, AclOperation};
use super::RequestContext;

pub fn handle(
    ctx: &RequestContext,
    _req: ListPartitionReassignmentsRequest,
) -> ListPartitionReassignmentsResponse {
    // DESCRIBE on the cluster (`ControllerApis.handleListPartitionReassignments`).
    if !authz::cluster(ctx, AclOperation::Describe) {
        let e = crate::error::Error::ClusterAuthorizationFailed;
        return ListPartitionReassignmentsResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(super::sb(&e.message())));
    }
    ListPartitionReassignmentsResponse::default()
        .with_error_code(0)
        .with_error_message(None)
        .with_topics(Vec::new())
}
