//! DescribeCluster (key 60), v0-2: this broker is the whole cluster.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ResponseError;

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, sb, RequestContext};

/// `DescribeClusterRequest.EndpointType.BROKER`
const ENDPOINT_BROKER: i8 = 1;

pub fn handle(ctx: &RequestContext, req: DescribeClusterRequest) -> DescribeClusterResponse {
    let b = &ctx.broker;
    let mut resp = DescribeClusterResponse::default().with_cluster_id(sb(&b.meta.cluster_id));
    if ctx.version >= 1 {
        resp.endpoint_type = ENDPOINT_BROKER;
        if req.endpoint_type != ENDPOINT_BROKER {
            // A controller-endpoint request sent to a broker listener (KIP-919).
            resp.error_code = ResponseError::MismatchedEndpointType.code();
            resp.error_message = Some(sb(
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER",
            ));
            return resp;
        }
    }
    resp.controller_id = BrokerId(b.node_id);
    resp.brokers = vec![DescribeClusterBroker::default()
        .with_broker_id(BrokerId(b.node_id))
        .with_host(sb(&ctx.session.listener.advertised_host))
        .with_port(ctx.session.listener.advertised_port)
        .with_rack(None)
        .with_is_fenced(false)];
    // `KafkaApis.handleDescribeCluster`: the operations only with DESCRIBE on the cluster.
    resp.cluster_authorized_operations = if req.include_cluster_authorized_operations {
        if authz::cluster(ctx, AclOperation::Describe) {
            authz::operations(ctx, true, ResourceType::Cluster, authz::CLUSTER_NAME)
        } else {
            0
        }
    } else {
        authorized_operations::OMITTED
    };
    resp
}
