//! DescribeConfigs (key 32), v1-4: TOPIC, BROKER and GROUP resources with sources, synonyms (when
//! asked), documentation (v3+, when asked), types (v3+), and read-only and sensitive flags
//! (Kafka's `ConfigHelper.describeConfigs`).

use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::configs::{self, resource_type, ConfigEntry};
use crate::error::Error;
use crate::log::manager::validate_topic_name;

pub fn handle(ctx: &RequestContext, req: DescribeConfigsRequest) -> DescribeConfigsResponse {
    let v = ctx.version;
    let results = req
        .resources
        .into_iter()
        .map(|r| {
            let keys: Option<Vec<String>> = r
                .configuration_keys
                .as_ref()
                .filter(|k| !k.is_empty())
                .map(|k| k.iter().map(|s| s.to_string()).collect());
            let mut out = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            let described = authz::config_resource(
                ctx,
                AclOperation::DescribeConfigs,
                r.resource_type,
                r.resource_name.as_str(),
            )
            .and_then(|()| describe(ctx, r.resource_type, r.resource_name.as_str()));
            match described {
                Ok(entries) => {
                    out.error_code = 0;
                    out.configs = entries
                        .into_iter()
                        .filter(|e| keys.as_ref().is_none_or(|k| k.contains(&e.name)))
                        .map(|e| entry(&e, v, req.include_synonyms, req.include_documentation))
                        .collect();
                }
                Err(e) => {
                    out.error_code = e.code();
                    out.error_message = Some(sb(&e.message()));
                }
            }
            out
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn describe(ctx: &RequestContext, kind: i8, name: &str) -> Result<Vec<ConfigEntry>, Error> {
    let logs = &ctx.broker.logs;
    match kind {
        resource_type::TOPIC => {
            validate_topic_name(name)?;
            // Kafka 4.1's `ConfigHelper.describeConfigs` answers an unknown topic with an empty
            // message.
            let topic = logs
                .topic(name)
                .ok_or_else(|| Error::UnknownTopicWithMessage(String::new()))?;
            Ok(configs::describe_topic(
                &logs.config_view(),
                &topic.overrides,
            ))
        }
        resource_type::BROKER => {
            if name.is_empty() {
                return Ok(configs::describe_broker(&logs.config_view(), false));
            }
            let id: i32 = name.parse().map_err(|_| {
                Error::InvalidRequest(format!("Broker id must be an integer, but it is: {name}"))
            })?;
            if id != ctx.broker.node_id {
                return Err(Error::InvalidRequest(format!(
                    "Unexpected broker id, expected {} or empty string, but received {name}",
                    ctx.broker.node_id
                )));
            }
            Ok(configs::describe_broker(&logs.config_view(), true))
        }
        resource_type::GROUP => {
            // Kafka's `ConfigHelper.describeConfigs`: any group id, existing or not, is
            // described (unset configs at their defaults); only the empty name is refused.
            if name.is_empty() {
                return Err(Error::InvalidRequest("Group name must not be empty".into()));
            }
            Ok(configs::group::describe(
                &logs.settings(),
                &logs.group_configs().get(name),
            ))
        }
        other => Err(Error::InvalidRequest(format!(
            "Unsupported resource type: {}",
            resource_type_name(other)
        ))),
    }
}

/// `ConfigResource.Type` names, as Kafka's messages print them.
pub fn resource_type_name(id: i8) -> String {
    match id {
        resource_type::BROKER_LOGGER => "BROKER_LOGGER".into(),
        16 => "CLIENT_METRICS".into(),
        32 => "GROUP".into(),
        _ => "UNKNOWN".into(),
    }
}

fn entry(e: &ConfigEntry, v: i16, synonyms: bool, docs: bool) -> DescribeConfigsResourceResult {
    let mut r = DescribeConfigsResourceResult::default()
        .with_name(sb(&e.name))
        .with_value(e.value.as_deref().map(sb))
        .with_read_only(e.read_only)
        .with_config_source(e.source as i8)
        .with_is_sensitive(e.sensitive);
    if synonyms {
        r.synonyms = e
            .synonyms
            .iter()
            .map(|s| {
                DescribeConfigsSynonym::default()
                    .with_name(sb(&s.name))
                    .with_value(s.value.as_deref().map(sb))
                    .with_source(s.source as i8)
            })
            .collect();
    }
    if v >= 3 {
        r.config_type = e.type_code();
        r.documentation = if docs { e.doc.map(sb) } else { None };
    }
    r
}
