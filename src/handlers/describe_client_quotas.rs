//! DescribeClientQuotas (key 48), v0-1: the stored quotas matching the request's filter
//! (`ClientQuotasImage.describe`); a malformed filter answers its error at the top level with
//! no entries, as `KafkaApis.handleDescribeClientQuotasRequest` does.

use kafka_protocol::messages::describe_client_quotas_response::{EntityData, EntryData, ValueData};
use kafka_protocol::messages::{DescribeClientQuotasRequest, DescribeClientQuotasResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::quota::store::Component;

pub fn handle(
    ctx: &RequestContext,
    req: DescribeClientQuotasRequest,
) -> DescribeClientQuotasResponse {
    // `KafkaApis.handleDescribeClientQuotasRequest`: DESCRIBE_CONFIGS on the cluster.
    if !authz::cluster(ctx, AclOperation::DescribeConfigs) {
        return DescribeClientQuotasResponse::default()
            .with_error_code(crate::error::Error::ClusterAuthorizationFailed.code())
            .with_error_message(Some(sb("Cluster authorization failed.")))
            .with_entries(None);
    }
    let components: Vec<Component> = req
        .components
        .iter()
        .map(|c| Component {
            entity_type: c.entity_type.as_str().to_string(),
            match_type: c.match_type,
            matched: c._match.as_ref().map(|m| m.as_str().to_string()),
        })
        .collect();
    match ctx.broker.quotas.store.describe(&components, req.strict) {
        Err(e) => DescribeClientQuotasResponse::default()
            .with_error_code(e.error.code())
            .with_error_message(Some(sb(&e.message)))
            .with_entries(None),
        Ok(found) => {
            let entries = found
                .into_iter()
                .map(|(entity, values)| {
                    EntryData::default()
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
                        .with_values(
                            values
                                .iter()
                                .map(|(k, v)| ValueData::default().with_key(sb(k)).with_value(*v))
                                .collect(),
                        )
                })
                .collect();
            DescribeClientQuotasResponse::default()
                .with_error_code(0)
                .with_error_message(None)
                .with_entries(Some(entries))
        }
    }
}
