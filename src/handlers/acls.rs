//! CreateAcls (key 30), DescribeAcls (key 29) and DeleteAcls (key 31), v1-3, as Kafka's
//! `AclApis`: without an authorizer they answer SECURITY_DISABLED; DescribeAcls needs DESCRIBE
//! on the cluster and the other two ALTER (CLUSTER_AUTHORIZATION_FAILED). A creation or filter
//! with an UNKNOWN element (code 0 or a code Kafka does not define) fails request parsing in
//! Kafka (`CreateAclsRequest.validate`, `DescribeAclsRequest`/`DeleteAclsRequest
//! .normalizeAndValidate`), which closes the connection; Klamm does the same.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_acls_response::{
    DeleteAclsFilterResult, DeleteAclsMatchingAcl,
};
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse, ResponseKind,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use tracing::{debug, warn};

use super::{sb, unsupported_security, Outcome, RequestContext};
use crate::security::acl::binding::validate_new_acl;
use crate::security::acl::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
};

/// `Errors.CLUSTER_AUTHORIZATION_FAILED.message()`.
const CLUSTER_DENIED: &str = "Cluster authorization failed.";

fn respond(r: ResponseKind) -> Outcome {
    Outcome::Respond(Box::new(r))
}

fn close(ctx: &RequestContext, what: &str) -> Outcome {
    warn!(peer = %ctx.peer, api = ?ctx.api_key, "{what} contain UNKNOWN elements; closing the connection");
    Outcome::Close
}

fn binding(c: &AclCreation) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::from_code(c.resource_type),
        resource_name: c.resource_name.to_string(),
        pattern_type: PatternType::from_code(c.resource_pattern_type),
        principal: c.principal.to_string(),
        host: c.host.to_string(),
        operation: AclOperation::from_code(c.operation),
        permission_type: AclPermissionType::from_code(c.permission_type),
    }
}

#[allow(clippy::too_many_arguments)]
fn filter(
    resource_type: i8,
    name: &Option<StrBytes>,
    pattern_type: i8,
    principal: &Option<StrBytes>,
    host: &Option<StrBytes>,
    operation: i8,
    permission_type: i8,
) -> AclBindingFilter {
    AclBindingFilter {
        resource_type: ResourceType::from_code(resource_type),
        resource_name: name.as_ref().map(|s| s.to_string()),
        pattern_type: PatternType::from_code(pattern_type),
        principal: principal.as_ref().map(|s| s.to_string()),
        host: host.as_ref().map(|s| s.to_string()),
        operation: AclOperation::from_code(operation),
        permission_type: AclPermissionType::from_code(permission_type),
    }
}

fn delete_filter(f: &DeleteAclsFilter) -> AclBindingFilter {
    filter(
        f.resource_type_filter,
        &f.resource_name_filter,
        f.pattern_type_filter,
        &f.principal_filter,
        &f.host_filter,
        f.operation,
        f.permission_type,
    )
}

pub fn describe(ctx: &RequestContext, req: DescribeAclsRequest) -> Outcome {
    let f = filter(
        req.resource_type_filter,
        &req.resource_name_filter,
        req.pattern_type_filter,
        &req.principal_filter,
        &req.host_filter,
        req.operation,
        req.permission_type,
    );
    if f.is_unknown() {
        return close(ctx, "DescribeAclsRequest filters");
    }
    let auth = &ctx.broker.authorizer;
    if !auth.authorize_cluster(&ctx.session, AclOperation::Describe) {
        return respond(ResponseKind::DescribeAcls(
            DescribeAclsResponse::default()
                .with_error_code(ResponseError::ClusterAuthorizationFailed.code())
                .with_error_message(Some(sb(CLUSTER_DENIED))),
        ));
    }
    if !auth.is_enabled() {
        return respond(ResponseKind::DescribeAcls(
            unsupported_security::describe_acls(),
        ));
    }
    // `DescribeAclsResponse.aclsResources`: one entry per resource pattern; the bindings come
    // sorted by pattern, so equal patterns are adjacent.
    let mut resources: Vec<DescribeAclsResource> = Vec::new();
    for b in auth.acls(&f) {
        let description = AclDescription::default()
            .with_principal(sb(&b.principal))
            .with_host(sb(&b.host))
            .with_operation(b.operation.code())
            .with_permission_type(b.permission_type.code());
        match resources.last_mut() {
            Some(r)
                if r.resource_type == b.resource_type.code()
                    && r.pattern_type == b.pattern_type.code()
                    && *r.resource_name == *b.resource_name =>
            {
                r.acls.push(description)
            }
            _ => resources.push(
                DescribeAclsResource::default()
                    .with_resource_type(b.resource_type.code())
                    .with_resource_name(sb(&b.resource_name))
                    .with_pattern_type(b.pattern_type.code())
                    .with_acls(vec![description]),
            ),
        }
    }
    respond(ResponseKind::DescribeAcls(
        DescribeAclsResponse::default().with_resources(resources),
    ))
}

pub fn create(ctx: &RequestContext, req: CreateAclsRequest) -> Outcome {
    let bindings: Vec<AclBinding> = req.creations.iter().map(binding).collect();
    if bindings.iter().any(AclBinding::is_unknown) {
        return close(ctx, "CreateAclsRequest creations");
    }
    let auth = &ctx.broker.authorizer;
    let error = |code: ResponseError, msg: &str| {
        AclCreationResult::default()
            .with_error_code(code.code())
            .with_error_message(Some(sb(msg)))
    };
    if !auth.authorize_cluster(&ctx.session, AclOperation::Alter) {
        let results = bindings
            .iter()
            .map(|_| error(ResponseError::ClusterAuthorizationFailed, CLUSTER_DENIED))
            .collect();
        return respond(ResponseKind::CreateAcls(
            CreateAclsResponse::default().with_results(results),
        ));
    }
    if !auth.is_enabled() {
        return respond(ResponseKind::CreateAcls(unsupported_security::create_acls(
            req,
        )));
    }
    let checked: Vec<Result<&AclBinding, String>> = bindings
        .iter()
        .map(|b| validate_new_acl(b).map(|_| b))
        .collect();
    let valid: Vec<AclBinding> = checked
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|b| (*b).clone()))
        .collect();
    let stored = auth.create_acls(&valid);
    let results = checked
        .iter()
        .map(|r| match (r, &stored) {
            (Err(msg), _) => error(ResponseError::InvalidRequest, msg),
            (Ok(_), Err(e)) => error(ResponseError::UnknownServerError, &e.to_string()),
            (Ok(b), Ok(())) => {
                debug!(principal = %ctx.session.principal, acl = %b, "ACL created");
                AclCreationResult::default()
            }
        })
        .collect();
    respond(ResponseKind::CreateAcls(
        CreateAclsResponse::default().with_results(results),
    ))
}

pub fn delete(ctx: &RequestContext, req: DeleteAclsRequest) -> Outcome {
    let filters: Vec<AclBindingFilter> = req.filters.iter().map(delete_filter).collect();
    if filters.iter().any(AclBindingFilter::is_unknown) {
        return close(ctx, "DeleteAclsRequest filters");
    }
    let auth = &ctx.broker.authorizer;
    let error = |code: ResponseError, msg: &str| {
        DeleteAclsFilterResult::default()
            .with_error_code(code.code())
            .with_error_message(Some(sb(msg)))
    };
    if !auth.authorize_cluster(&ctx.session, AclOperation::Alter) {
        let results = filters
            .iter()
            .map(|_| error(ResponseError::ClusterAuthorizationFailed, CLUSTER_DENIED))
            .collect();
        return respond(ResponseKind::DeleteAcls(
            DeleteAclsResponse::default().with_filter_results(results),
        ));
    }
    if !auth.is_enabled() {
        return respond(ResponseKind::DeleteAcls(unsupported_security::delete_acls(
            req,
        )));
    }
    let results = match auth.delete_acls(&filters) {
        Ok(matched) => matched
            .into_iter()
            .map(|acls| {
                // Kafka's `DeleteAclsResponse.filterResult` sets `ApiError.NONE.message()`, a
                // null, on success (the crate's default is "").
                DeleteAclsFilterResult::default()
                    .with_error_message(None)
                    .with_matching_acls(
                        acls.iter()
                            .map(|b| {
                                DeleteAclsMatchingAcl::default()
                                    .with_error_message(None)
                                    .with_resource_type(b.resource_type.code())
                                    .with_resource_name(sb(&b.resource_name))
                                    .with_pattern_type(b.pattern_type.code())
                                    .with_principal(sb(&b.principal))
                                    .with_host(sb(&b.host))
                                    .with_operation(b.operation.code())
                                    .with_permission_type(b.permission_type.code())
                            })
                            .collect(),
                    )
            })
            .collect(),
        Err(e) => filters
            .iter()
            .map(|_| error(ResponseError::UnknownServerError, &e.to_string()))
            .collect(),
    };
    respond(ResponseKind::DeleteAcls(
        DeleteAclsResponse::default().with_filter_results(results),
    ))
}
