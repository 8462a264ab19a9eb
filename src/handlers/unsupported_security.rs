//! Answers for security APIs that Klamm does not offer (it has a PLAINTEXT listener and no
//! authorizer): the exact responses Apache Kafka gives in that configuration, so Java clients
//! and tools that send these requests get Kafka's answer. These APIs are not advertised in
//! ApiVersions because Klamm does not implement the features behind them.
//!
//! - DescribeAcls / CreateAcls / DeleteAcls without an authorizer: SECURITY_DISABLED
//!   (`AclApis`: "No Authorizer is configured.").

use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_response::DeleteAclsFilterResult;
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsResponse,
};
use kafka_protocol::ResponseError;

use super::sb;

const NO_AUTHORIZER: &str = "No Authorizer is configured.";

pub fn describe_acls() -> DescribeAclsResponse {
    DescribeAclsResponse::default()
        .with_error_code(ResponseError::SecurityDisabled.code())
        .with_error_message(Some(sb(NO_AUTHORIZER)))
}

pub fn create_acls(req: CreateAclsRequest) -> CreateAclsResponse {
    let results = req
        .creations
        .iter()
        .map(|_| {
            AclCreationResult::default()
                .with_error_code(ResponseError::SecurityDisabled.code())
                .with_error_message(Some(sb(NO_AUTHORIZER)))
        })
        .collect();
    CreateAclsResponse::default().with_results(results)
}

pub fn delete_acls(req: DeleteAclsRequest) -> DeleteAclsResponse {
    let results = req
        .filters
        .iter()
        .map(|_| {
            DeleteAclsFilterResult::default()
                .with_error_code(ResponseError::SecurityDisabled.code())
                .with_error_message(Some(sb(NO_AUTHORIZER)))
        })
        .collect();
    DeleteAclsResponse::default().with_filter_results(results)
}
