//! AlterClientQuotas (key 49), v0-1: validated and applied per entity as Kafka's
//! `ClientQuotaControlManager` does (with `validate_only`), written durably before the answer,
//! and in force for the next request.

use kafka_protocol::messages::alter_client_quotas_response::{EntityData, EntryData};
use kafka_protocol::messages::{AlterClientQuotasRequest, AlterClientQuotasResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::quota::entity::ClientQuotaEntity;
use crate::quota::store::{Alteration, QuotaError};

pub fn handle(ctx: &RequestContext, req: AlterClientQuotasRequest) -> AlterClientQuotasResponse {
    // `KafkaApis.handleAlterClientQuotasRequest`: ALTER_CONFIGS on the cluster, else every entry
    // fails with CLUSTER_AUTHORIZATION_FAILED and nothing is changed.
    let denied = !authz::cluster(ctx, AclOperation::AlterConfigs);
    let alterations: Vec<Alteration> = req
        .entries
        .iter()
        .map(|e| Alteration {
            entity: ClientQuotaEntity::from_pairs(e.entity.iter().map(|d| {
                (
                    d.entity_type.as_str(),
                    d.entity_name.as_ref().map(|n| n.as_str()),
                )
            })),
            // `AlterClientQuotasRequest.entries`: a removal has a null value.
            ops: e
                .ops
                .iter()
                .map(|o| (o.key.as_str().to_string(), (!o.remove).then_some(o.value)))
                .collect(),
        })
        .collect();
    let results: Vec<_> = if denied {
        alterations
            .into_iter()
            .map(|a| {
                let error = QuotaError {
                    error: kafka_protocol::ResponseError::ClusterAuthorizationFailed,
                    message: "Cluster authorization failed.".into(),
                };
                (a.entity, Err(error))
            })
            .collect()
    } else {
        ctx.broker.quotas.alter(alterations, req.validate_only)
    };
    let entries = results
        .into_iter()
        .map(|(entity, result)| {
            let (code, message) = match result {
                Ok(()) => (0, None),
                Err(e) => (e.error.code(), Some(sb(&e.message))),
            };
            EntryData::default()
                .with_error_code(code)
                .with_error_message(message)
                .with_entity(
                    entity
                        .entries
                        .iter()
                        .map(|(t, n)| {
                            EntityData::default()
                                .with_entity_type(sb(t))
                                .with_entity_name(n.as_deref().map(sb))
                        })
                        .collect(),
                )
        })
        .collect();
    AlterClientQuotasResponse::default().with_entries(entries)
}
