//! DescribeAcls, CreateAcls and DeleteAcls v0 (Kafka 3.9's `DescribeAclsRequest.json`,
//! `CreateAclsRequest.json`, `DeleteAclsRequest.json`, removed in 4.0 by KIP-896): v1's layouts
//! without the pattern type fields. Before KIP-290 every pattern was LITERAL, so a v0 request
//! carries the spec's default, LITERAL (3), and matches only literal bindings (Kafka's
//! `DescribeAclsRequest.normalizeAndValidate` turns ANY into LITERAL the same way); a v0
//! response leaves the pattern type out, and holds only literal bindings, which is all a
//! LITERAL filter matches.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
    DescribeAclsRequest, DescribeAclsResponse,
};

use super::wire::{ReadError, Reader, Writer};

/// `PatternType.LITERAL`.
pub const LITERAL: i8 = 3;

pub fn decode_describe_request(r: &mut Reader) -> Result<DescribeAclsRequest, ReadError> {
    Ok(DescribeAclsRequest::default()
        .with_resource_type_filter(r.i8()?)
        .with_resource_name_filter(r.nullable_string()?)
        .with_pattern_type_filter(LITERAL)
        .with_principal_filter(r.nullable_string()?)
        .with_host_filter(r.nullable_string()?)
        .with_operation(r.i8()?)
        .with_permission_type(r.i8()?))
}

pub fn encode_describe_response(w: &mut Writer, resp: &DescribeAclsResponse) -> anyhow::Result<()> {
    w.i32(resp.throttle_time_ms);
    w.i16(resp.error_code);
    w.nullable_string(resp.error_message.as_deref())?;
    w.array(&resp.resources, |w, res| {
        w.i8(res.resource_type);
        w.string(&res.resource_name)?;
        w.array(&res.acls, |w, a| {
            w.string(&a.principal)?;
            w.string(&a.host)?;
            w.i8(a.operation);
            w.i8(a.permission_type);
            Ok(())
        })
    })
}

pub fn decode_create_request(r: &mut Reader) -> Result<CreateAclsRequest, ReadError> {
    let creations = r.array(|r| {
        Ok(AclCreation::default()
            .with_resource_type(r.i8()?)
            .with_resource_name(r.string()?)
            .with_resource_pattern_type(LITERAL)
            .with_principal(r.string()?)
            .with_host(r.string()?)
            .with_operation(r.i8()?)
            .with_permission_type(r.i8()?))
    })?;
    Ok(CreateAclsRequest::default().with_creations(creations))
}

pub fn encode_create_response(w: &mut Writer, resp: &CreateAclsResponse) -> anyhow::Result<()> {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, r| {
        w.i16(r.error_code);
        w.nullable_string(r.error_message.as_deref())
    })
}

pub fn decode_delete_request(r: &mut Reader) -> Result<DeleteAclsRequest, ReadError> {
    let filters = r.array(|r| {
        Ok(DeleteAclsFilter::default()
            .with_resource_type_filter(r.i8()?)
            .with_resource_name_filter(r.nullable_string()?)
            .with_pattern_type_filter(LITERAL)
            .with_principal_filter(r.nullable_string()?)
            .with_host_filter(r.nullable_string()?)
            .with_operation(r.i8()?)
            .with_permission_type(r.i8()?))
    })?;
    Ok(DeleteAclsRequest::default().with_filters(filters))
}

pub fn encode_delete_response(w: &mut Writer, resp: &DeleteAclsResponse) -> anyhow::Result<()> {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.filter_results, |w, f| {
        w.i16(f.error_code);
        w.nullable_string(f.error_message.as_deref())?;
        w.array(&f.matching_acls, |w, a| {
            w.i16(a.error_code);
            w.nullable_string(a.error_message.as_deref())?;
            w.i8(a.resource_type);
            w.string(&a.resource_name)?;
            w.string(&a.principal)?;
            w.string(&a.host)?;
            w.i8(a.operation);
            w.i8(a.permission_type);
            Ok(())
        })
    })
}
