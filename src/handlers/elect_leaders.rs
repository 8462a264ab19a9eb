//! ElectLeaders (key 43), v0-2: this broker leads every partition and is every partition's
//! preferred replica, so a preferred or unclean election is never needed (Kafka's
//! `ReplicationControlManager.electLeaders`): named partitions answer ELECTION_NOT_NEEDED, unknown
//! ones UNKNOWN_TOPIC_OR_PARTITION; with no partitions named, Kafka omits partitions whose election
//! was not needed, which here is all of them.

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};
use kafka_protocol::ResponseError;

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};

pub fn handle(ctx: &RequestContext, req: ElectLeadersRequest) -> ElectLeadersResponse {
    let v = ctx.version;
    let logs = &ctx.broker.logs;
    let mut resp = ElectLeadersResponse::default();
    if v >= 1 && !(0..=1).contains(&req.election_type) {
        resp.error_code = ResponseError::InvalidRequest.code();
        return resp;
    }
    resp.replica_election_results = match &req.topic_partitions {
        None => logs
            .topics()
            .iter()
            .map(|t| ReplicaElectionResult::default().with_topic(super::topic_name(&t.name)))
            .collect(),
        Some(list) => list
            .iter()
            .map(|tp| {
                let topic = logs.topic(tp.topic.as_str());
                let results = tp
                    .partitions
                    .iter()
                    .map(|p| {
                        let exists = topic.as_ref().is_some_and(|t| t.partition(*p).is_some());
                        let (code, msg) = if exists {
                            (ResponseError::ElectionNotNeeded.code(), None)
                        } else if topic.is_none() {
                            (
                                ResponseError::UnknownTopicOrPartition.code(),
                                Some(format!("No such topic as {}", tp.topic.as_str())),
                            )
                        } else {
                            (
                                ResponseError::UnknownTopicOrPartition.code(),
                                Some(format!("No such partition as {}-{p}", tp.topic.as_str())),
                            )
                        };
                        PartitionResult::default()
                            .with_partition_id(*p)
                            .with_error_code(code)
                            .with_error_message(msg.map(|m| sb(&m)))
                    })
                    .collect();
                ReplicaElectionResult::default()
                    .with_topic(tp.topic.clone())
                    .with_partition_result(results)
            })
            .collect(),
    };
    // ALTER on the cluster (`KafkaApis.handleElectLeaders`): every partition, and from v1 the
    // request, carry CLUSTER_AUTHORIZATION_FAILED.
    if !authz::cluster(ctx, AclOperation::Alter) {
        let e = crate::error::Error::ClusterAuthorizationFailed;
        if v >= 1 {
            resp.error_code = e.code();
        }
        for r in &mut resp.replica_election_results {
            for p in &mut r.partition_result {
                p.error_code = e.code();
                p.error_message = Some(sb(&e.message()));
            }
        }
    }
    resp
}
