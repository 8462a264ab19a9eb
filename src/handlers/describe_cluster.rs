//! DescribeCluster (key 60), v0-2: this broker is the whole cluster.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::{BrokerId, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::ResponseError;

use super::authz::{self, AclOperation, ResourceType};
use super::{authorized_operations, sb, RequestContext};

/// `EndpointType.BROKER` and `EndpointType.CONTROLLER`; any other id is `UNKNOWN`.
const ENDPOINT_BROKER: i8 = 1;
const ENDPOINT_CONTROLLER: i8 = 2;

pub fn handle(ctx: &RequestContext, req: DescribeClusterRequest) -> DescribeClusterResponse {
    let b = &ctx.broker;
    let mut resp = DescribeClusterResponse::default();
    if ctx.version >= 1 {
        resp.endpoint_type = ENDPOINT_BROKER;
        // `AuthHelper.computeDescribeClusterResponse` (KIP-919): an unknown endpoint type, or a
        // controller-endpoint request sent to a broker listener, gets only the error (no
        // cluster id, no brokers).
        let error = match req.endpoint_type {
            ENDPOINT_BROKER => None,
            ENDPOINT_CONTROLLER => Some((
                ResponseError::MismatchedEndpointType,
                "The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER".to_string(),
            )),
            other => Some((
                ResponseError::UnsupportedEndpointType,
                format!("Unsupported endpoint type {other}"),
            )),
        };
        if let Some((code, message)) = error {
            resp.error_code = code.code();
            resp.error_message = Some(sb(&message));
            return resp;
        }
    }
    resp.cluster_id = sb(&b.meta.cluster_id);
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
