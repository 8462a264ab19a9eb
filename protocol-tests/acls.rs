//! ACLs as Kafka's StandardAuthorizer: CreateAcls (30), DescribeAcls (29) and DeleteAcls (31)
//! v1-3 with filters and Kafka's validation, durability across kill -9, and the per-API checks
//! (`KafkaApis`) with their exact error codes. Every client here is `User:ANONYMOUS` from
//! 127.0.0.1; the matrix uses `allow.everyone.if.no.acl.found=true` plus DENY ACLs.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateTopicsRequest, DeleteAclsRequest, DeleteTopicsRequest,
    DescribeAclsRequest, DescribeConfigsRequest, FindCoordinatorRequest, GroupId,
    InitProducerIdRequest, OffsetCommitRequest, TransactionalId,
};

use crate::support::*;

const STANDARD: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const TOPIC_AUTHORIZATION_FAILED: i16 = 29;
const GROUP_AUTHORIZATION_FAILED: i16 = 30;
const CLUSTER_AUTHORIZATION_FAILED: i16 = 31;
const TRANSACTIONAL_ID_AUTHORIZATION_FAILED: i16 = 53;
const SECURITY_DISABLED: i16 = 54;

// ResourceType, PatternType, AclOperation, AclPermissionType codes.
const ANY: i8 = 1;
const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const TXN_ID: i8 = 5;
const MATCH: i8 = 2;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
const ALL: i8 = 2;
const READ: i8 = 3;
const WRITE: i8 = 4;
const CREATE: i8 = 5;
const ALTER: i8 = 7;
const DESCRIBE: i8 = 8;
const CLUSTER_ACTION: i8 = 9;
const DENY: i8 = 2;
const ALLOW: i8 = 3;

const ANON: &str = "User:ANONYMOUS";

fn creation(rt: i8, name: &str, pt: i8, principal: &str, op: i8, perm: i8) -> AclCreation {
    AclCreation::default()
        .with_resource_type(rt)
        .with_resource_name(s(name))
        .with_resource_pattern_type(pt)
        .with_principal(s(principal))
        .with_host(s("*"))
        .with_operation(op)
        .with_permission_type(perm)
}

/// Creates ACLs; returns each result's (code, message).
fn create(c: &mut Client, creations: Vec<AclCreation>, v: i16) -> Vec<(i16, Option<String>)> {
    let resp = c.send(&CreateAclsRequest::default().with_creations(creations), v);
    resp.results
        .iter()
        .map(|r| {
            (
                r.error_code,
                r.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect()
}

/// Success leaves the message at the schema default, "" (as Kafka's `AclApis`, which sets it
/// only on errors).
fn create_ok(c: &mut Client, creations: Vec<AclCreation>) {
    let n = creations.len();
    assert_eq!(
        create(c, creations, 3),
        vec![(code::NONE, Some(String::new())); n]
    );
}

/// The crate defaults nullable strings to ""; a null filter field matches anything.
fn any_filter() -> DescribeAclsRequest {
    DescribeAclsRequest::default()
        .with_resource_name_filter(None)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_resource_type_filter(ANY)
        .with_pattern_type_filter(ANY)
        .with_operation(ANY)
        .with_permission_type(ANY)
}

/// DescribeAcls as `(type, name, pattern, principal, host, op, perm)` rows.
fn describe(
    c: &mut Client,
    f: DescribeAclsRequest,
    v: i16,
) -> Vec<(i8, String, i8, String, String, i8, i8)> {
    let resp = c.send(&f, v);
    assert_eq!(resp.error_code, code::NONE, "{:?}", resp.error_message);
    let mut out = Vec::new();
    for r in &resp.resources {
        assert!(!r.acls.is_empty(), "a resource entry without ACLs");
        for a in &r.acls {
            out.push((
                r.resource_type,
                r.resource_name.to_string(),
                r.pattern_type,
                a.principal.to_string(),
                a.host.to_string(),
                a.operation,
                a.permission_type,
            ));
        }
    }
    out
}

fn row(
    rt: i8,
    name: &str,
    pt: i8,
    principal: &str,
    op: i8,
    perm: i8,
) -> (i8, String, i8, String, String, i8, i8) {
    (rt, name.into(), pt, principal.into(), "*".into(), op, perm)
}

fn super_user_broker() -> Broker {
    Broker::with_overrides(&[("authorizer.class.name", STANDARD), ("super.users", ANON)])
}

#[test]
fn without_an_authorizer_the_acl_apis_answer_security_disabled() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::DescribeAcls) {
        let resp = c.send(&any_filter(), v);
        assert_eq!(resp.error_code, SECURITY_DISABLED);
        let r = create(
            &mut c,
            vec![creation(TOPIC, "t", LITERAL, ANON, READ, ALLOW)],
            v,
        );
        assert_eq!(
            r,
            vec![(
                SECURITY_DISABLED,
                Some("No Authorizer is configured.".into())
            )]
        );
    }
}

#[test]
fn acls_are_created_described_with_filters_and_deleted() {
    let broker = super_user_broker();
    let mut c = broker.client();
    assert!(describe(&mut c, any_filter(), 3).is_empty());
    create_ok(
        &mut c,
        vec![
            creation(TOPIC, "orders-1", LITERAL, "User:alice", READ, ALLOW),
            creation(TOPIC, "orders-", PREFIXED, "User:bob", WRITE, ALLOW),
            creation(TOPIC, "*", LITERAL, "User:*", DESCRIBE, DENY),
            creation(GROUP, "g1", LITERAL, "User:alice", ALL, ALLOW),
            creation(CLUSTER, "kafka-cluster", LITERAL, "User:ops", ALTER, ALLOW),
        ],
    );
    // Creating an existing binding again succeeds and adds nothing.
    create_ok(
        &mut c,
        vec![creation(GROUP, "g1", LITERAL, "User:alice", ALL, ALLOW)],
    );
    for v in versions(ApiKey::DescribeAcls) {
        assert_eq!(describe(&mut c, any_filter(), v).len(), 5, "v{v}");
    }
    // MATCH on a name: the literal name, the wildcard and every matching prefix.
    let f = any_filter()
        .with_resource_type_filter(TOPIC)
        .with_resource_name_filter(Some(s("orders-1")))
        .with_pattern_type_filter(MATCH);
    let mut got = describe(&mut c, f, 3);
    got.sort();
    assert_eq!(
        got,
        vec![
            row(TOPIC, "*", LITERAL, "User:*", DESCRIBE, DENY),
            row(TOPIC, "orders-", PREFIXED, "User:bob", WRITE, ALLOW),
            row(TOPIC, "orders-1", LITERAL, "User:alice", READ, ALLOW),
        ]
    );
    // Principal and operation filters.
    let f = any_filter().with_principal_filter(Some(s("User:alice")));
    let mut got = describe(&mut c, f, 2);
    got.sort();
    assert_eq!(
        got,
        vec![
            row(TOPIC, "orders-1", LITERAL, "User:alice", READ, ALLOW),
            row(GROUP, "g1", LITERAL, "User:alice", ALL, ALLOW),
        ]
    );
    let f = any_filter()
        .with_operation(ALTER)
        .with_resource_type_filter(CLUSTER);
    assert_eq!(
        describe(&mut c, f, 1),
        vec![row(
            CLUSTER,
            "kafka-cluster",
            LITERAL,
            "User:ops",
            ALTER,
            ALLOW
        )]
    );

    // DeleteAcls: each filter reports what it matched; a binding two filters match is in both.
    let by_principal = DeleteAclsFilter::default()
        .with_resource_name_filter(None)
        .with_host_filter(None)
        .with_resource_type_filter(ANY)
        .with_pattern_type_filter(ANY)
        .with_principal_filter(Some(s("User:alice")))
        .with_operation(ANY)
        .with_permission_type(ANY);
    let by_group = DeleteAclsFilter::default()
        .with_resource_name_filter(None)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_resource_type_filter(GROUP)
        .with_pattern_type_filter(LITERAL)
        .with_operation(ANY)
        .with_permission_type(ANY);
    let nothing = by_group.clone().with_resource_name_filter(Some(s("nope")));
    let resp = c.send(
        &DeleteAclsRequest::default().with_filters(vec![by_principal, by_group, nothing]),
        3,
    );
    let results: Vec<Vec<(i8, String, String, i8)>> = resp
        .filter_results
        .iter()
        .map(|f| {
            assert_eq!(f.error_code, code::NONE);
            let mut m: Vec<_> = f
                .matching_acls
                .iter()
                .map(|a| {
                    assert_eq!(a.error_code, code::NONE);
                    (
                        a.resource_type,
                        a.resource_name.to_string(),
                        a.principal.to_string(),
                        a.operation,
                    )
                })
                .collect();
            m.sort();
            m
        })
        .collect();
    assert_eq!(
        results,
        vec![
            vec![
                (TOPIC, "orders-1".into(), "User:alice".into(), READ),
                (GROUP, "g1".into(), "User:alice".into(), ALL),
            ],
            vec![(GROUP, "g1".into(), "User:alice".into(), ALL)],
            vec![],
        ]
    );
    let mut left = describe(&mut c, any_filter(), 3);
    left.sort();
    assert_eq!(
        left,
        vec![
            row(TOPIC, "*", LITERAL, "User:*", DESCRIBE, DENY),
            row(TOPIC, "orders-", PREFIXED, "User:bob", WRITE, ALLOW),
            row(CLUSTER, "kafka-cluster", LITERAL, "User:ops", ALTER, ALLOW),
        ]
    );
}

#[test]
fn invalid_acls_are_refused_with_kafkas_messages() {
    let broker = super_user_broker();
    let mut c = broker.client();
    let r = create(
        &mut c,
        vec![
            creation(CLUSTER, "other", LITERAL, ANON, ALTER, ALLOW),
            creation(TOPIC, "", LITERAL, ANON, READ, ALLOW),
            creation(ANY, "t", LITERAL, ANON, READ, ALLOW),
            creation(TOPIC, "t", MATCH, ANON, READ, ALLOW),
            creation(TOPIC, "t", LITERAL, ANON, ANY, ALLOW),
            creation(TOPIC, "t", LITERAL, ANON, READ, ANY),
            creation(TOPIC, "t", LITERAL, "alice", READ, ALLOW),
            creation(TOPIC, "ok", LITERAL, ANON, READ, ALLOW),
        ],
        3,
    );
    let inv = code::INVALID_REQUEST;
    assert_eq!(
        r,
        vec![
            (inv, Some("The only valid name for the CLUSTER resource is kafka-cluster".into())),
            (inv, Some("Invalid empty resource name".into())),
            (inv, Some("Invalid resourceType ANY".into())),
            (inv, Some("Invalid patternType MATCH".into())),
            (inv, Some("Invalid operation ANY".into())),
            (inv, Some("Invalid permissionType ANY".into())),
            (inv, Some("Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)".into())),
            (code::NONE, Some(String::new())),
        ]
    );
    assert_eq!(
        describe(&mut c, any_filter(), 3),
        vec![row(TOPIC, "ok", LITERAL, ANON, READ, ALLOW)]
    );
    // An UNKNOWN element fails request parsing in Kafka, which closes the connection.
    let mut bad = broker.client();
    let req = CreateAclsRequest::default()
        .with_creations(vec![creation(99, "t", LITERAL, ANON, READ, ALLOW)]);
    let frame = crate::support::client::encode_request(&req, 3, 7);
    assert!(bad.send_frame(&frame).is_none(), "connection closed");
    let mut bad = broker.client();
    let frame = crate::support::client::encode_request(&any_filter().with_operation(0), 3, 8);
    assert!(bad.send_frame(&frame).is_none(), "connection closed");
    assert!(broker.client().send(&any_filter(), 3).error_code == code::NONE);
}

#[test]
fn acls_survive_kill9_and_take_effect_at_once() {
    let mut broker = Broker::with_overrides(&[
        ("authorizer.class.name", STANDARD),
        ("allow.everyone.if.no.acl.found", "true"),
    ]);
    let mut c = broker.client();
    let t = create_topic(&mut c, "kept", 1);
    produce_ok(&mut c, &t, 0, &[rec("k", "v")]);
    // A second connection sees the new ACL on its next request.
    let mut other = broker.client();
    // Once a topic has ACLs, allow.everyone.if.no.acl.found no longer applies to it: ALLOW
    // everything for everyone, then DENY WRITE (DENY wins).
    create_ok(
        &mut c,
        vec![
            creation(TOPIC, "kept", LITERAL, "User:*", ALL, ALLOW),
            creation(TOPIC, "kept", LITERAL, ANON, WRITE, DENY),
        ],
    );
    let p = produce(&mut other, &t, 0, batch(&[rec("k", "v")]), 9);
    assert_eq!(p.error_code, TOPIC_AUTHORIZATION_FAILED);
    broker.kill9_and_restart();
    let mut c = broker.client();
    let mut kept = describe(&mut c, any_filter(), 3);
    kept.sort();
    assert_eq!(
        kept,
        vec![
            row(TOPIC, "kept", LITERAL, "User:*", ALL, ALLOW),
            row(TOPIC, "kept", LITERAL, ANON, WRITE, DENY),
        ]
    );
    let t = TopicRef {
        id: describe_topic(&mut c, "kept").topic_id,
        ..t
    };
    let p = produce(&mut c, &t, 0, batch(&[rec("k", "v")]), 9);
    assert_eq!(p.error_code, TOPIC_AUTHORIZATION_FAILED);
    // Fetch (READ) is still allowed: the DENY names WRITE only.
    let f = fetch(&mut c, &t, 0, 0, 12);
    assert_eq!(f.error_code, code::NONE);
}

#[test]
fn an_unsupported_authorizer_is_a_start_up_error() {
    for (class, msg) in [
        (
            "kafka.security.authorizer.AclAuthorizer",
            "removed in Kafka 4.0",
        ),
        (
            "com.example.Mine",
            "the supported value is org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_klamm"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--http-listen",
                "127.0.0.1:0",
            ])
            .arg("--data-dir")
            .arg(tempfile::tempdir().expect("dir").path())
            .args(["--override", &format!("authorizer.class.name={class}")])
            .output()
            .expect("run klamm");
        assert!(!out.status.success(), "{class}");
        let text = String::from_utf8_lossy(&out.stderr).to_string()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(msg), "{class}: {text}");
    }
}

/// The matrix: DENY ACLs for ANONYMOUS on `denied*` resources, everything else allowed by
/// `allow.everyone.if.no.acl.found`.
#[test]
fn denied_requests_get_kafkas_authorization_errors() {
    let broker = Broker::with_overrides(&[
        ("authorizer.class.name", STANDARD),
        ("allow.everyone.if.no.acl.found", "true"),
    ]);
    let mut c = broker.client();
    let open = create_topic(&mut c, "open", 1);
    let denied = create_topic(&mut c, "denied", 1);
    let readonly = create_topic(&mut c, "readonly", 1);
    produce_ok(&mut c, &denied, 0, &[rec("k", "v")]);
    create_ok(
        &mut c,
        vec![
            creation(TOPIC, "denied", PREFIXED, ANON, ALL, DENY),
            creation(TOPIC, "readonly", LITERAL, "User:*", ALL, ALLOW),
            creation(TOPIC, "readonly", LITERAL, ANON, WRITE, DENY),
            creation(GROUP, "denied", PREFIXED, ANON, ALL, DENY),
            creation(TXN_ID, "denied", PREFIXED, ANON, ALL, DENY),
            // CREATE on the cluster would allow creating any topic: deny it, allow the rest.
            creation(CLUSTER, "kafka-cluster", LITERAL, "User:*", ALL, ALLOW),
            creation(CLUSTER, "kafka-cluster", LITERAL, ANON, CREATE, DENY),
        ],
    );

    // Produce (WRITE) and Fetch (READ).
    assert_eq!(
        produce(&mut c, &open, 0, batch(&[rec("a", "b")]), 9).error_code,
        code::NONE
    );
    assert_eq!(
        produce(&mut c, &denied, 0, batch(&[rec("a", "b")]), 9).error_code,
        TOPIC_AUTHORIZATION_FAILED
    );
    assert_eq!(
        produce(&mut c, &readonly, 0, batch(&[rec("a", "b")]), 9).error_code,
        TOPIC_AUTHORIZATION_FAILED
    );
    assert_eq!(
        fetch(&mut c, &denied, 0, 0, 12).error_code,
        TOPIC_AUTHORIZATION_FAILED
    );
    assert_eq!(fetch(&mut c, &readonly, 0, 0, 12).error_code, code::NONE);
    assert_eq!(
        list_offset(&mut c, "denied", 0, -1, 7).error_code,
        TOPIC_AUTHORIZATION_FAILED
    );
    assert_eq!(list_offset(&mut c, "open", 0, -1, 7).error_code, code::NONE);

    // Metadata: all topics leaves `denied` out; naming it answers TOPIC_AUTHORIZATION_FAILED;
    // auto-creating `denied-new` needs CREATE, which the prefixed DENY ALL takes away.
    let md = c.send(
        &metadata_request(None, false).with_include_topic_authorized_operations(true),
        12,
    );
    let mut names: Vec<(String, i32)> = md
        .topics
        .iter()
        .map(|t| {
            (
                t.name.as_ref().expect("name").to_string(),
                t.topic_authorized_operations,
            )
        })
        .collect();
    names.sort();
    let all_topic_ops =
        (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
    assert_eq!(
        names,
        vec![
            ("open".into(), all_topic_ops),
            ("readonly".into(), all_topic_ops & !(1 << 4))
        ]
    );
    let md = c.send(
        &metadata_request(Some(&["denied", "denied-new", "open"]), true),
        12,
    );
    let codes: Vec<(String, i16)> = md
        .topics
        .iter()
        .map(|t| (t.name.as_ref().expect("name").to_string(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("denied".into(), TOPIC_AUTHORIZATION_FAILED),
            ("denied-new".into(), TOPIC_AUTHORIZATION_FAILED),
            ("open".into(), code::NONE),
        ]
    );

    // CreateTopics / DeleteTopics.
    let resp = c.send(
        &CreateTopicsRequest::default()
            .with_topics(vec![
                creatable("denied-2", 1, &[]),
                creatable("open-2", 1, &[]),
            ])
            .with_timeout_ms(5000),
        7,
    );
    let got: Vec<(String, i16, Option<String>)> = resp
        .topics
        .iter()
        .map(|t| {
            (
                t.name.to_string(),
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "denied-2".into(),
                TOPIC_AUTHORIZATION_FAILED,
                Some("Authorization failed.".into())
            ),
            ("open-2".into(), code::NONE, None),
        ]
    );
    let resp = c.send(
        &DeleteTopicsRequest::default()
            .with_topic_names(vec![name("denied"), name("denied-unknown")])
            .with_timeout_ms(5000),
        5,
    );
    let mut got: Vec<(String, i16)> = resp
        .responses
        .iter()
        .map(|r| (r.name.as_ref().expect("name").to_string(), r.error_code))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("denied".into(), TOPIC_AUTHORIZATION_FAILED),
            ("denied-unknown".into(), TOPIC_AUTHORIZATION_FAILED)
        ]
    );

    // DescribeConfigs: DESCRIBE_CONFIGS on the topic.
    let resp = c.send(
        &DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("denied")),
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(s("open")),
        ]),
        4,
    );
    let codes: Vec<i16> = resp.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![TOPIC_AUTHORIZATION_FAILED, code::NONE]);
    assert!(resp.results[0].configs.is_empty());

    // DescribeConfigs on a GROUP resource: DESCRIBE_CONFIGS on the group.
    let resp = c.send(
        &DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(32)
                .with_resource_name(s("denied-group")),
            DescribeConfigsResource::default()
                .with_resource_type(32)
                .with_resource_name(s("open-group")),
        ]),
        4,
    );
    let codes: Vec<i16> = resp.results.iter().map(|r| r.error_code).collect();
    assert_eq!(codes, vec![GROUP_AUTHORIZATION_FAILED, code::NONE]);
    assert!(resp.results[0].configs.is_empty());
    // Kafka's 10 group configs and Klamm's two dead-letter ones (beyond Kafka 4.1).
    assert_eq!(resp.results[1].configs.len(), 12);

    // Groups: OffsetCommit needs READ on the group, FindCoordinator DESCRIBE.
    let commit = |group: &str, topic: &str| {
        OffsetCommitRequest::default()
            .with_group_id(GroupId(s(group)))
            .with_generation_id_or_member_epoch(-1)
            .with_member_id(s(""))
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(name(topic))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(1)])])
    };
    let code_of =
        |r: kafka_protocol::messages::OffsetCommitResponse| r.topics[0].partitions[0].error_code;
    assert_eq!(
        code_of(c.send(&commit("denied-group", "open"), 8)),
        GROUP_AUTHORIZATION_FAILED
    );
    assert_eq!(
        code_of(c.send(&commit("open-group", "denied"), 8)),
        TOPIC_AUTHORIZATION_FAILED
    );
    assert_eq!(
        code_of(c.send(&commit("open-group", "open"), 8)),
        code::NONE
    );
    let fc = |key: &str, key_type: i8| {
        FindCoordinatorRequest::default()
            .with_key_type(key_type)
            .with_coordinator_keys(vec![s(key)])
    };
    let resp = c.send(&fc("denied-group", 0), 4);
    assert_eq!(resp.coordinators[0].error_code, GROUP_AUTHORIZATION_FAILED);
    let resp = c.send(&fc("open-group", 0), 4);
    assert_eq!(resp.coordinators[0].error_code, code::NONE);
    let resp = c.send(&fc("denied-txn", 1), 4);
    assert_eq!(
        resp.coordinators[0].error_code,
        TRANSACTIONAL_ID_AUTHORIZATION_FAILED
    );

    // InitProducerId: WRITE on the transactional id.
    let resp = c.send(
        &InitProducerIdRequest::default()
            .with_transactional_id(Some(TransactionalId(s("denied-txn"))))
            .with_transaction_timeout_ms(60000),
        4,
    );
    assert_eq!(resp.error_code, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    assert_eq!(resp.producer_id.0, -1);

    // WriteTxnMarkers needs CLUSTER_ACTION on the cluster (`handleWriteTxnMarkersRequest`):
    // denied, every partition of the request answers CLUSTER_AUTHORIZATION_FAILED.
    create_ok(
        &mut c,
        vec![creation(
            CLUSTER,
            "kafka-cluster",
            LITERAL,
            ANON,
            CLUSTER_ACTION,
            DENY,
        )],
    );
    use kafka_protocol::messages::write_txn_markers_request::{
        WritableTxnMarker, WritableTxnMarkerTopic,
    };
    let resp = c.send(
        &kafka_protocol::messages::WriteTxnMarkersRequest::default().with_markers(vec![
            WritableTxnMarker::default()
                .with_producer_id(kafka_protocol::messages::ProducerId(1))
                .with_producer_epoch(0)
                .with_topics(vec![WritableTxnMarkerTopic::default()
                    .with_name(name("open"))
                    .with_partition_indexes(vec![0])]),
        ]),
        1,
    );
    assert_eq!(
        resp.markers[0].topics[0].partitions[0].error_code,
        CLUSTER_AUTHORIZATION_FAILED
    );

    // The ACL APIs themselves: DENY ALTER on the cluster stops CreateAcls, not DescribeAcls.
    create_ok(
        &mut c,
        vec![creation(
            CLUSTER,
            "kafka-cluster",
            LITERAL,
            ANON,
            ALTER,
            DENY,
        )],
    );
    let r = create(
        &mut c,
        vec![creation(TOPIC, "x", LITERAL, ANON, READ, ALLOW)],
        3,
    );
    assert_eq!(
        r,
        vec![(
            CLUSTER_AUTHORIZATION_FAILED,
            Some("Cluster authorization failed.".into())
        )]
    );
    assert_eq!(describe(&mut c, any_filter(), 3).len(), 9);
}
