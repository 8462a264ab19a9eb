//! Per-group configs (KIP-848's GROUP config resource, type 32): DescribeConfigs,
//! IncrementalAlterConfigs and AlterConfigs with Kafka's names, defaults (from the broker's
//! `group.consumer.*` settings), validation (INVALID_CONFIG with Kafka's messages) and sources
//! (GROUP_CONFIG when set, DEFAULT_CONFIG otherwise); persistence across a restart; a consumer
//! group's heartbeat interval and session timeout following its configs; DeleteGroups removing
//! them.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResult;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest, ApiKey,
    DeleteGroupsRequest, DescribeConfigsRequest, IncrementalAlterConfigsRequest,
};

use crate::support::consumer_groups::*;
use crate::support::groups::gid;
use crate::support::*;

const GROUP: i8 = 32;
/// `ConfigSource` ids: DEFAULT_CONFIG and GROUP_CONFIG.
const DEFAULT: i8 = 5;
const GROUP_CONFIG: i8 = 8;
/// `ConfigType` ids.
const STRING: i8 = 2;
const INT: i8 = 3;
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;

fn describe(c: &mut Client, name: &str, v: i16) -> DescribeConfigsResult {
    let resp = c.send(
        &DescribeConfigsRequest::default()
            .with_resources(vec![DescribeConfigsResource::default()
                .with_resource_type(GROUP)
                .with_resource_name(s(name))])
            .with_include_synonyms(true)
            .with_include_documentation(v >= 3),
        v,
    );
    assert_eq!(resp.results.len(), 1);
    resp.results.into_iter().next().expect("result")
}

/// name -> (value, source)
fn values(r: &DescribeConfigsResult) -> BTreeMap<String, (String, i8)> {
    r.configs
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                (
                    c.value.as_ref().map(|v| v.to_string()).unwrap_or_default(),
                    c.config_source,
                ),
            )
        })
        .collect()
}

fn expected(set: &[(&str, &str)]) -> BTreeMap<String, (String, i8)> {
    let mut m: BTreeMap<String, (String, i8)> = [
        ("consumer.session.timeout.ms", "1500"),
        ("consumer.heartbeat.interval.ms", "200"),
        ("share.session.timeout.ms", "45000"),
        ("share.heartbeat.interval.ms", "5000"),
        ("share.record.lock.duration.ms", "30000"),
        ("share.auto.offset.reset", "latest"),
        ("share.isolation.level", "read_uncommitted"),
        // Beyond Kafka 4.1: the share-group dead-letter topic (after KIP-1191).
        ("errors.deadletterqueue.topic.name", ""),
        ("errors.deadletterqueue.copy.record.enable", "true"),
        ("streams.session.timeout.ms", "45000"),
        ("streams.heartbeat.interval.ms", "5000"),
        ("streams.num.standby.replicas", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), (v.to_string(), DEFAULT)))
    .collect();
    for (k, v) in set {
        m.insert(k.to_string(), (v.to_string(), GROUP_CONFIG));
    }
    m
}

fn incremental(
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> IncrementalAlterConfigsRequest {
    IncrementalAlterConfigsRequest::default()
        .with_validate_only(validate_only)
        .with_resources(vec![
            incremental_alter_configs_request::AlterConfigsResource::default()
                .with_resource_type(GROUP)
                .with_resource_name(s(name))
                .with_configs(
                    ops.iter()
                        .map(|(n, op, v)| {
                            incremental_alter_configs_request::AlterableConfig::default()
                                .with_name(s(n))
                                .with_config_operation(*op)
                                .with_value(v.map(s))
                        })
                        .collect(),
                ),
        ])
}

/// (error code, message) of an IncrementalAlterConfigs on one group.
fn alter(
    c: &mut Client,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    v: i16,
) -> (i16, Option<String>) {
    let r = c.send(&incremental(name, ops, false), v);
    let x = &r.responses[0];
    assert_eq!((x.resource_type, x.resource_name.as_str()), (GROUP, name));
    (
        x.error_code,
        x.error_message.as_ref().map(|m| m.to_string()),
    )
}

#[test]
fn group_configs_describe_alter_validate_and_persist() {
    let mut b = broker();
    let mut c = b.client();
    // Any group id is described, existing or not: every config at the broker's default.
    for v in versions(ApiKey::DescribeConfigs) {
        let r = describe(&mut c, "no-such-group", v);
        assert_eq!(r.error_code, code::NONE, "v{v}");
        assert_eq!(values(&r), expected(&[]), "v{v}");
        for e in &r.configs {
            // Kafka lists the default as the one synonym, under the config's own name.
            let syn: Vec<(&str, Option<&str>, i8)> = e
                .synonyms
                .iter()
                .map(|s| (s.name.as_str(), s.value.as_deref(), s.source))
                .collect();
            assert_eq!(
                syn,
                vec![(e.name.as_str(), e.value.as_deref(), DEFAULT)],
                "v{v}: {}",
                e.name.as_str()
            );
            assert!(!e.read_only && !e.is_sensitive);
            if v >= 3 {
                let t = match e.name.as_str() {
                    "share.auto.offset.reset"
                    | "share.isolation.level"
                    | "errors.deadletterqueue.topic.name" => STRING,
                    // ConfigResource BOOLEAN type id (DescribeConfigs v3+).
                    "errors.deadletterqueue.copy.record.enable" => 1,
                    _ => INT,
                };
                assert_eq!(e.config_type, t, "v{v}: {}", e.name.as_str());
                assert!(e.documentation.is_some());
            }
        }
    }
    let r = describe(&mut c, "", 4);
    assert_eq!(r.error_code, code::INVALID_REQUEST);

    for v in versions(ApiKey::IncrementalAlterConfigs) {
        let g = format!("cfg-{v}");
        assert_eq!(
            alter(
                &mut c,
                &g,
                &[("consumer.heartbeat.interval.ms", SET, Some("300"))],
                v
            ),
            (code::NONE, None)
        );
        let r = describe(&mut c, &g, 4);
        assert_eq!(
            values(&r),
            expected(&[("consumer.heartbeat.interval.ms", "300")])
        );
        let hb = r
            .configs
            .iter()
            .find(|e| e.name.as_str() == "consumer.heartbeat.interval.ms")
            .expect("entry");
        let syn: Vec<(String, Option<String>, i8)> = hb
            .synonyms
            .iter()
            .map(|s| {
                (
                    s.name.to_string(),
                    s.value.as_ref().map(|v| v.to_string()),
                    s.source,
                )
            })
            .collect();
        assert_eq!(
            syn,
            vec![(
                "consumer.heartbeat.interval.ms".into(),
                Some("300".into()),
                GROUP_CONFIG
            )]
        );

        // Kafka's `GroupConfig.validate`: bounds from the broker's settings, INVALID_CONFIG.
        let bad: &[(&str, &str, &str)] = &[
            ("consumer.session.timeout.ms", "100", "consumer.session.timeout.ms must be greater than or equal to group.consumer.min.session.timeout.ms"),
            ("consumer.session.timeout.ms", "70000", "consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms"),
            ("consumer.heartbeat.interval.ms", "50", "consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms"),
            ("consumer.heartbeat.interval.ms", "1500", "consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms"),
            ("consumer.session.timeout.ms", "abc", "Invalid value abc for configuration consumer.session.timeout.ms: Not a number of type INT"),
            ("share.record.lock.duration.ms", "1000", "share.record.lock.duration.ms must be greater than or equal to group.share.min.record.lock.duration.ms"),
            ("share.auto.offset.reset", "none", "Invalid value none for configuration share.auto.offset.reset: Invalid value `none` for configuration share.auto.offset.reset. The value must be either 'earliest', 'latest' or of the format 'by_duration:<PnDTnHnMn.nS>'."),
            ("no.such.config", "1", "Unknown group config name: no.such.config"),
        ];
        for (name, value, msg) in bad {
            assert_eq!(
                alter(&mut c, &g, &[(name, SET, Some(value))], v),
                (code::INVALID_CONFIG, Some(msg.to_string())),
                "v{v}: {name}={value}"
            );
        }
        let (code_, msg) = alter(
            &mut c,
            &g,
            &[("consumer.session.timeout.ms", APPEND, Some("1"))],
            v,
        );
        assert_eq!(code_, code::INVALID_CONFIG);
        assert_eq!(
            msg.as_deref(),
            Some("Can't APPEND to key consumer.session.timeout.ms because its type is not LIST.")
        );
        // Nothing above changed the group's configs.
        assert_eq!(
            values(&describe(&mut c, &g, 4)),
            expected(&[("consumer.heartbeat.interval.ms", "300")])
        );

        // validate_only checks but does not store.
        let r = c.send(
            &incremental(
                &g,
                &[("share.auto.offset.reset", SET, Some("earliest"))],
                true,
            ),
            v,
        );
        assert_eq!(r.responses[0].error_code, code::NONE);
        assert_eq!(
            values(&describe(&mut c, &g, 4)),
            expected(&[("consumer.heartbeat.interval.ms", "300")])
        );

        assert_eq!(
            alter(
                &mut c,
                &g,
                &[
                    ("share.auto.offset.reset", SET, Some("earliest")),
                    ("consumer.heartbeat.interval.ms", DELETE, None)
                ],
                v
            ),
            (code::NONE, None)
        );
        assert_eq!(
            values(&describe(&mut c, &g, 4)),
            expected(&[("share.auto.offset.reset", "earliest")])
        );
    }
    assert_eq!(
        alter(
            &mut c,
            "",
            &[("consumer.heartbeat.interval.ms", SET, Some("300"))],
            1
        )
        .0,
        code::INVALID_REQUEST
    );

    // AlterConfigs replaces the whole set.
    for v in versions(ApiKey::AlterConfigs) {
        let r = c.send(
            &AlterConfigsRequest::default().with_resources(vec![
                alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(GROUP)
                    .with_resource_name(s("cfg-1"))
                    .with_configs(vec![alter_configs_request::AlterableConfig::default()
                        .with_name(s("consumer.session.timeout.ms"))
                        .with_value(Some(s("2000")))]),
            ]),
            v,
        );
        assert_eq!(r.responses[0].error_code, code::NONE, "v{v}");
        assert_eq!(
            values(&describe(&mut c, "cfg-1", 4)),
            expected(&[("consumer.session.timeout.ms", "2000")])
        );
    }

    // Stored in the data directory: a restart keeps them.
    b.restart();
    let mut c = b.client();
    assert_eq!(
        values(&describe(&mut c, "cfg-1", 4)),
        expected(&[("consumer.session.timeout.ms", "2000")])
    );
    assert_eq!(
        values(&describe(&mut c, "cfg-0", 4)),
        expected(&[("share.auto.offset.reset", "earliest")])
    );
}

/// Kafka's `GroupMetadataManager` takes a consumer group's heartbeat interval and session
/// timeout from its group configs: the heartbeat response carries the group's interval and a
/// silent member is fenced at the group's timeout, not the broker's (1.5 s here).
#[test]
fn group_configs_set_heartbeat_interval_and_session_timeout() {
    let b = broker();
    let mut c = b.client();
    create_topic(&mut c, "gcfg-effect", 1);
    let mut fast = Member::join(&mut c, "fast", &["gcfg-effect"], 1);
    let mut slow = Member::join(&mut c, "slow", &["gcfg-effect"], 1);
    // The group's configs apply from its members' next heartbeat, as in Kafka.
    assert_eq!(
        alter(
            &mut c,
            "fast",
            &[
                ("consumer.heartbeat.interval.ms", SET, Some("150")),
                ("consumer.session.timeout.ms", SET, Some("600"))
            ],
            1
        ),
        (code::NONE, None)
    );
    for (m, interval) in [(&mut fast, 150), (&mut slow, 200)] {
        let r = m.heartbeat(&mut c, 1);
        assert_eq!(
            (r.error_code, r.heartbeat_interval_ms),
            (code::NONE, interval),
            "{}: {:?}",
            m.group,
            r.error_message
        );
    }
    // Both go silent for 1 s: past the group's 600 ms, within the broker's 1500 ms.
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(describe_group(&mut c, "fast", 1).members.len(), 0);
    assert_eq!(describe_group(&mut c, "slow", 1).members.len(), 1);
    assert_eq!(
        fast.heartbeat(&mut c, 1).error_code,
        code::UNKNOWN_MEMBER_ID
    );
    assert_eq!(slow.heartbeat(&mut c, 1).error_code, code::NONE);

    // Deleting the (now empty) group removes its configs.
    let r = c.send(
        &DeleteGroupsRequest::default().with_groups_names(vec![gid("fast")]),
        2,
    );
    assert_eq!(r.results[0].error_code, code::NONE);
    assert_eq!(values(&describe(&mut c, "fast", 4)), expected(&[]));
}
