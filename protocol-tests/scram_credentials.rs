//! DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51), v0 (KIP-554):
//! upserting, describing and deleting SCRAM credentials, Kafka's validation errors
//! (`ScramControlManager`), and credentials surviving restarts and kill -9.

use bytes::Bytes;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, ApiKey, DescribeUserScramCredentialsRequest,
};
use kafka_protocol::ResponseError;

use crate::support::*;

const SHA_256: i8 = 1;
const SHA_512: i8 = 2;

fn upsertion(user: &str, mechanism: i8, iterations: i32) -> ScramCredentialUpsertion {
    let len = if mechanism == SHA_512 { 64 } else { 32 };
    ScramCredentialUpsertion::default()
        .with_name(s(user))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(Bytes::from_static(b"0123456789abcdef"))
        .with_salted_password(Bytes::from(vec![0x5a; len]))
}

fn deletion(user: &str, mechanism: i8) -> ScramCredentialDeletion {
    ScramCredentialDeletion::default()
        .with_name(s(user))
        .with_mechanism(mechanism)
}

/// Sends one AlterUserScramCredentials request; returns `user -> error code`, sorted.
fn alter(
    c: &mut Client,
    deletions: Vec<ScramCredentialDeletion>,
    upsertions: Vec<ScramCredentialUpsertion>,
) -> Vec<(String, i16)> {
    let req = AlterUserScramCredentialsRequest::default()
        .with_deletions(deletions)
        .with_upsertions(upsertions);
    let resp = c.send(&req, 0);
    assert_eq!(resp.throttle_time_ms, 0);
    let mut out: Vec<(String, i16)> = resp
        .results
        .iter()
        .map(|r| {
            if r.error_code != code::NONE {
                assert!(
                    r.error_message.is_some(),
                    "a message for error {}",
                    r.error_code
                );
            }
            (r.user.to_string(), r.error_code)
        })
        .collect();
    out.sort();
    out
}

/// A described user: its `(mechanism, iterations)` pairs, or its error code.
type Described = (String, Result<Vec<(i8, i32)>, i16>);

/// Describes users (`None`: all), sorted by user.
fn describe(c: &mut Client, users: Option<&[&str]>) -> Vec<Described> {
    let req = DescribeUserScramCredentialsRequest::default().with_users(users.map(|us| {
        us.iter()
            .map(|u| UserName::default().with_name(s(u)))
            .collect()
    }));
    let resp = c.send(&req, 0);
    assert_eq!(
        resp.error_code,
        code::NONE,
        "top-level error: {:?}",
        resp.error_message
    );
    let mut out: Vec<Described> = resp
        .results
        .iter()
        .map(|r| {
            let value = if r.error_code == code::NONE {
                let mut infos: Vec<(i8, i32)> = r
                    .credential_infos
                    .iter()
                    .map(|i| (i.mechanism, i.iterations))
                    .collect();
                infos.sort();
                Ok(infos)
            } else {
                assert!(r.credential_infos.is_empty());
                Err(r.error_code)
            };
            (r.user.to_string(), value)
        })
        .collect();
    out.sort();
    out
}

fn ok(user: &str) -> (String, i16) {
    (user.to_string(), code::NONE)
}

fn err(user: &str, e: ResponseError) -> (String, i16) {
    (user.to_string(), e.code())
}

#[test]
fn upsert_describe_and_delete() {
    assert_eq!(versions(ApiKey::AlterUserScramCredentials), 0..=0);
    assert_eq!(versions(ApiKey::DescribeUserScramCredentials), 0..=0);
    let broker = Broker::start();
    let mut c = broker.client();
    assert!(
        describe(&mut c, None).is_empty(),
        "no credentials on a fresh broker"
    );

    assert_eq!(
        alter(
            &mut c,
            vec![],
            vec![
                upsertion("alice", SHA_256, 8192),
                upsertion("bob", SHA_512, 4096)
            ]
        ),
        vec![ok("alice"), ok("bob")]
    );
    assert_eq!(
        alter(&mut c, vec![], vec![upsertion("alice", SHA_512, 16384)]),
        vec![ok("alice")]
    );
    assert_eq!(
        describe(&mut c, None),
        vec![
            (
                "alice".to_string(),
                Ok(vec![(SHA_256, 8192), (SHA_512, 16384)])
            ),
            ("bob".to_string(), Ok(vec![(SHA_512, 4096)])),
        ]
    );
    assert_eq!(
        describe(&mut c, Some(&["bob", "nobody"])),
        vec![
            ("bob".to_string(), Ok(vec![(SHA_512, 4096)])),
            (
                "nobody".to_string(),
                Err(ResponseError::ResourceNotFound.code())
            ),
        ]
    );
    // An empty user list describes every user, like a null one (`ScramImage.describe`).
    assert_eq!(describe(&mut c, Some(&[])), describe(&mut c, None));
    // Re-upserting replaces the credential.
    assert_eq!(
        alter(&mut c, vec![], vec![upsertion("bob", SHA_512, 10000)]),
        vec![ok("bob")]
    );
    assert_eq!(
        describe(&mut c, Some(&["bob"])),
        vec![("bob".to_string(), Ok(vec![(SHA_512, 10000)]))]
    );

    // Deleting one mechanism keeps the other; deleting the last one removes the user.
    assert_eq!(
        alter(&mut c, vec![deletion("alice", SHA_256)], vec![]),
        vec![ok("alice")]
    );
    assert_eq!(
        describe(&mut c, Some(&["alice"])),
        vec![("alice".to_string(), Ok(vec![(SHA_512, 16384)]))]
    );
    assert_eq!(
        alter(&mut c, vec![deletion("bob", SHA_512)], vec![]),
        vec![ok("bob")]
    );
    assert_eq!(
        describe(&mut c, Some(&["bob"])),
        vec![(
            "bob".to_string(),
            Err(ResponseError::ResourceNotFound.code())
        )]
    );
    assert_eq!(describe(&mut c, None).len(), 1);
}

/// Kafka answers a successful alteration with a null error message
/// (`ScramControlManager.alterCredentials`: `setErrorMessage(null)`).
#[test]
fn success_has_a_null_error_message() {
    let broker = Broker::start();
    let mut c = broker.client();
    let req = AlterUserScramCredentialsRequest::default()
        .with_upsertions(vec![upsertion("gina", SHA_256, 8192)]);
    let resp = c.send(&req, 0);
    assert_eq!(resp.results.len(), 1);
    assert_eq!(resp.results[0].error_code, code::NONE);
    assert_eq!(
        resp.results[0].error_message, None,
        "error message of a success"
    );
}

#[test]
fn alteration_errors() {
    let broker = Broker::start();
    let mut c = broker.client();
    alter(&mut c, vec![], vec![upsertion("carol", SHA_256, 4096)]);
    let results = alter(
        &mut c,
        vec![deletion("ghost", SHA_256), deletion("carol", 9)],
        vec![
            upsertion("few", SHA_256, 4095),
            upsertion("many", SHA_512, 16385),
            upsertion("", SHA_256, 8192),
            upsertion("mech", 7, 8192),
            upsertion("twice", SHA_256, 8192),
            upsertion("twice", SHA_512, 8192),
            upsertion("fine", SHA_256, 8192),
        ],
    );
    assert_eq!(
        results,
        vec![
            err("", ResponseError::UnacceptableCredential),
            err("carol", ResponseError::UnsupportedSaslMechanism),
            err("few", ResponseError::UnacceptableCredential),
            ok("fine"),
            err("ghost", ResponseError::ResourceNotFound),
            err("many", ResponseError::UnacceptableCredential),
            err("mech", ResponseError::UnsupportedSaslMechanism),
            err("twice", ResponseError::DuplicateResource),
        ]
    );
    // A deletion and an upsertion of the same user in one request are a duplicate too.
    assert_eq!(
        alter(
            &mut c,
            vec![deletion("carol", SHA_256)],
            vec![upsertion("carol", SHA_512, 8192)]
        ),
        vec![err("carol", ResponseError::DuplicateResource)]
    );
    // Only "fine" was created; carol is unchanged.
    assert_eq!(
        describe(&mut c, None),
        vec![
            ("carol".to_string(), Ok(vec![(SHA_256, 4096)])),
            ("fine".to_string(), Ok(vec![(SHA_256, 8192)])),
        ]
    );
    // Describing a user twice.
    assert_eq!(
        describe(&mut c, Some(&["fine", "fine"])),
        vec![(
            "fine".to_string(),
            Err(ResponseError::DuplicateResource.code())
        )]
    );
}

#[test]
fn credentials_survive_restart_and_kill_9() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    alter(
        &mut c,
        vec![],
        vec![
            upsertion("dave", SHA_256, 8192),
            upsertion("erin", SHA_512, 4096),
        ],
    );
    broker.restart();
    let mut c = broker.client();
    assert_eq!(
        describe(&mut c, None),
        vec![
            ("dave".to_string(), Ok(vec![(SHA_256, 8192)])),
            ("erin".to_string(), Ok(vec![(SHA_512, 4096)])),
        ]
    );
    // An acknowledged alteration survives a crash.
    assert_eq!(
        alter(
            &mut c,
            vec![deletion("dave", SHA_256)],
            vec![upsertion("frank", SHA_256, 5000)]
        ),
        vec![ok("dave"), ok("frank")]
    );
    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(
        describe(&mut c, None),
        vec![
            ("erin".to_string(), Ok(vec![(SHA_512, 4096)])),
            ("frank".to_string(), Ok(vec![(SHA_256, 5000)])),
        ]
    );
}
