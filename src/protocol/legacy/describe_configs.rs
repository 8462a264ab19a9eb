//! DescribeConfigs v0 (Kafka 3.9's `DescribeConfigsRequest.json`, removed in 4.0 by KIP-896):
//! no `include_synonyms` (false) and no `include_documentation` (false); each config in the
//! response carries `is_default` where v1+ carry `config_source`, and no synonyms.
//!
//! `is_default` is answered as the field's spec says ("true if the configuration is not set")
//! and as Kafka up to 2.x computed it: true exactly when the source is DEFAULT_CONFIG. (Kafka
//! 3.9's broker, since DescribeConfigs moved to the generated message classes, no longer set the
//! field and sent false for every config; clients read it to tell defaults from overrides, so
//! Klamm answers it right.)

use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use super::wire::{ReadError, Reader, Writer};

/// `DescribeConfigsResponse.ConfigSource.DEFAULT_CONFIG`.
const DEFAULT_CONFIG: i8 = 5;

pub fn decode_request(r: &mut Reader) -> Result<DescribeConfigsRequest, ReadError> {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    let resources = r.array(|r| {
        let resource_type = r.i8()?;
        let resource_name = r.string()?;
        let configuration_keys = r.nullable_array(|r| r.string())?;
        Ok(DescribeConfigsResource::default()
            .with_resource_type(resource_type)
            .with_resource_name(resource_name)
            .with_configuration_keys(configuration_keys))
    })?;
    Ok(DescribeConfigsRequest::default()
        .with_resources(resources)
        .with_include_synonyms(false)
        .with_include_documentation(false))
}

pub fn encode_response(w: &mut Writer, resp: &DescribeConfigsResponse) -> anyhow::Result<()> {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, res| {
        w.i16(res.error_code);
        w.nullable_string(res.error_message.as_deref())?;
        w.i8(res.resource_type);
        w.string(&res.resource_name)?;
        w.array(&res.configs, |w, c| {
            w.string(&c.name)?;
            w.nullable_string(c.value.as_deref())?;
            w.bool(c.read_only);
            w.bool(c.config_source == DEFAULT_CONFIG);
            w.bool(c.is_sensitive);
            Ok(())
        })
    })
}
