//! ApiVersions (key 18), v0-4, built from [`crate::versions::SERVED`] and, unless
//! `klamm.compat.kafka.version` is `4.1`, [`crate::versions::REMOVED_IN_KAFKA_4`].

use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::ResponseError;

use super::RequestContext;
use crate::versions;

/// v3+ requests must name the client software with Kafka's pattern
/// `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?` (`ApiVersionsRequest.isValid`).
fn valid_software_field(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'.')
}

pub fn handle(ctx: &RequestContext, req: ApiVersionsRequest) -> ApiVersionsResponse {
    if ctx.version >= 3
        && !(valid_software_field(req.client_software_name.as_str())
            && valid_software_field(req.client_software_version.as_str()))
    {
        return ApiVersionsResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code())
            .with_finalized_features_epoch(-1);
    }
    versions::supported_for(
        ctx.broker.compat,
        ctx.broker.groups.config().consumer.enabled,
        ctx.broker.groups.config().share.enabled,
        ctx.version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn software_names_follow_kafka_pattern() {
        assert!(valid_software_field("apache-kafka-java"));
        assert!(valid_software_field("3.9.0"));
        assert!(valid_software_field("librdkafka"));
        assert!(!valid_software_field(""));
        assert!(!valid_software_field("-bad"));
        assert!(!valid_software_field("has space"));
    }
}
