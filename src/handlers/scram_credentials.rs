//! AlterUserScramCredentials (key 51) and DescribeUserScramCredentials (key 50), v0
//! (KIP-554), over [`crate::security::scram::ScramStore`].

use kafka_protocol::messages::alter_user_scram_credentials_response::AlterUserScramCredentialsResult;
use kafka_protocol::messages::describe_user_scram_credentials_response::{
    CredentialInfo, DescribeUserScramCredentialsResult,
};
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::ResponseError;

use super::authz::{self, AclOperation};
use super::{sb, RequestContext};
use crate::security::scram::{Alteration, ScramError};

fn code_and_message(e: &ScramError) -> (i16, String) {
    let (code, msg) = match e {
        ScramError::DuplicateResource(m) => (ResponseError::DuplicateResource, m),
        ScramError::UnacceptableCredential(m) => (ResponseError::UnacceptableCredential, m),
        ScramError::UnsupportedMechanism(m) => (ResponseError::UnsupportedSaslMechanism, m),
        ScramError::ResourceNotFound(m) => (ResponseError::ResourceNotFound, m),
        ScramError::Storage(m) => (ResponseError::UnknownServerError, m),
    };
    (code.code(), msg.clone())
}

pub fn alter(
    ctx: &RequestContext,
    req: AlterUserScramCredentialsRequest,
) -> AlterUserScramCredentialsResponse {
    let mut changes: Vec<Alteration> = req
        .deletions
        .into_iter()
        .map(|d| Alteration::Delete {
            user: d.name.to_string(),
            mechanism: d.mechanism,
        })
        .collect();
    changes.extend(req.upsertions.into_iter().map(|u| Alteration::Upsert {
        user: u.name.to_string(),
        mechanism: u.mechanism,
        iterations: u.iterations,
        salt: u.salt.to_vec(),
        salted_password: u.salted_password.to_vec(),
    }));
    // ALTER on the cluster, else every user fails (`ControllerApis`).
    if !authz::cluster(ctx, AclOperation::Alter) {
        let e = crate::error::Error::ClusterAuthorizationFailed;
        // Each user once, in request order (a set for the check: a request may name many).
        let mut users: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in &changes {
            let u = match c {
                Alteration::Delete { user, .. } | Alteration::Upsert { user, .. } => user,
            };
            if seen.insert(u.as_str()) {
                users.push(u.clone());
            }
        }
        let results = users
            .iter()
            .map(|u| {
                AlterUserScramCredentialsResult::default()
                    .with_user(sb(u))
                    .with_error_code(e.code())
                    .with_error_message(Some(sb(&e.message())))
            })
            .collect();
        return AlterUserScramCredentialsResponse::default().with_results(results);
    }
    let results = ctx
        .broker
        .scram
        .alter(changes)
        .into_iter()
        .map(|(user, r)| {
            let mut out = AlterUserScramCredentialsResult::default()
                .with_user(sb(&user))
                .with_error_message(None);
            if let Err(e) = r {
                let (code, msg) = code_and_message(&e);
                out.error_code = code;
                out.error_message = Some(sb(&msg));
            }
            out
        })
        .collect();
    AlterUserScramCredentialsResponse::default().with_results(results)
}

pub fn describe(
    ctx: &RequestContext,
    req: DescribeUserScramCredentialsRequest,
) -> DescribeUserScramCredentialsResponse {
    // DESCRIBE on the cluster (`KafkaApis.handleDescribeUserScramCredentialsRequest`).
    if !authz::cluster(ctx, AclOperation::Describe) {
        let e = crate::error::Error::ClusterAuthorizationFailed;
        return DescribeUserScramCredentialsResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(sb(&e.message())));
    }
    let users = req
        .users
        .map(|u| u.into_iter().map(|n| n.name.to_string()).collect());
    let results = ctx
        .broker
        .scram
        .describe(users)
        .into_iter()
        .map(|(user, r)| {
            let mut out = DescribeUserScramCredentialsResult::default().with_user(sb(&user));
            match r {
                Ok(infos) => {
                    out.credential_infos = infos
                        .into_iter()
                        .map(|(m, i)| {
                            CredentialInfo::default()
                                .with_mechanism(m)
                                .with_iterations(i)
                        })
                        .collect();
                }
                Err(e) => {
                    let (code, msg) = code_and_message(&e);
                    out.error_code = code;
                    out.error_message = Some(sb(&msg));
                }
            }
            out
        })
        .collect();
    DescribeUserScramCredentialsResponse::default().with_results(results)
}
