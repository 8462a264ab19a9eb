//! AlterConfigs (key 33), v0-2: the legacy API that replaces a resource's whole set of explicit
//! configs (Kafka's `ConfigAdminManager.preprocess` and `legacyAlterConfigResource`). TOPIC
//! resources change the topic's overrides; BROKER resources the dynamic broker configs.

use std::collections::BTreeMap;

use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::configs::alter::{alter_resource, check_ops, duplicate_resources, AlterTarget};
use crate::error::Error;

pub fn handle(ctx: &RequestContext, req: AlterConfigsRequest) -> AlterConfigsResponse {
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
                let ops: Vec<(String, Option<i8>, Option<String>)> = r
                    .configs
                    .iter()
                    .map(|c| {
                        (
                            c.name.to_string(),
                            Some(0),
                            c.value.as_ref().map(|v| v.to_string()),
                        )
                    })
                    .collect();
                check_ops(&ops).and_then(|()| {
                    let configs: BTreeMap<String, String> = ops
                        .into_iter()
                        .map(|(n, _, v)| (n, v.unwrap_or_default()))
                        .collect();
                    alter_resource(
                        &ctx.broker.logs,
                        ctx.broker.node_id,
                        r.resource_type,
                        r.resource_name.as_str(),
                        AlterTarget::Replace(configs),
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
    AlterConfigsResponse::default().with_responses(responses)
}
