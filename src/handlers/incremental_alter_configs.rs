//! IncrementalAlterConfigs (key 44), v0-1: SET, DELETE, APPEND and SUBTRACT on TOPIC and BROKER
//! resources, with `validate_only` (Kafka's `ConfigAdminManager` and
//! `ConfigurationControlManager.incrementalAlterConfigs`).

use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::configs::alter::{
    alter_resource, check_ops, duplicate_resources, AlterOp, AlterTarget, OpType,
};
use crate::error::Error;

pub fn handle(
    ctx: &RequestContext,
    req: IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let dups = duplicate_resources(
        req.resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    let responses = req
        .resources
        .iter()
        .map(|r| {
            let result = if dups.contains(&(r.resource_type, r.resource_name.to_string())) {
                Err(Error::InvalidRequest(
                    "Each resource must appear at most once.".into(),
                ))
            } else if let Err(e) = authz::config_resource(
                ctx,
                AclOperation::AlterConfigs,
                r.resource_type,
                r.resource_name.as_str(),
            ) {
                Err(e)
            } else {
                let raw: Vec<(String, Option<i8>, Option<String>)> = r
                    .configs
                    .iter()
                    .map(|c| {
                        (
                            c.name.to_string(),
                            Some(c.config_operation),
                            c.value.as_ref().map(|v| v.to_string()),
                        )
                    })
                    .collect();
                check_ops(&raw).and_then(|()| {
                    let ops = r
                        .configs
                        .iter()
                        .map(|c| {
                            let op = OpType::from_id(c.config_operation).ok_or_else(|| {
                                Error::InvalidRequest(format!(
                                    "Unknown operations type {}",
                                    c.config_operation
                                ))
                            })?;
                            Ok(AlterOp {
                                name: c.name.to_string(),
                                op,
                                value: c.value.as_ref().map(|v| v.to_string()),
                            })
                        })
                        .collect::<Result<Vec<_>, Error>>()?;
                    alter_resource(
                        &ctx.broker.logs,
                        ctx.broker.node_id,
                        r.resource_type,
                        r.resource_name.as_str(),
                        AlterTarget::Incremental(ops),
                        req.validate_only,
                    )
                })
            };
            let mut out = AlterConfigsResourceResponse::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            match result {
                // Kafka's `ApiError.NONE` has a null message.
                Ok(()) => {
                    out.error_code = 0;
                    out.error_message = None;
                }
                Err(e) => {
                    out.error_code = e.code();
                    out.error_message = Some(sb(&e.message()));
                }
            }
            out
        })
        .collect();
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}
