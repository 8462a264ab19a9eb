//! Configs: DescribeConfigs of a topic with overrides, of the broker and of a group (KIP-848's
//! GROUP resource, type 32), and IncrementalAlterConfigs/AlterConfigs with valid and invalid
//! input, at every version both brokers serve.

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::s;

pub const SCENARIOS: &[Scenario] = &[
    ("admin/describe_configs_topic", describe_configs_topic),
    ("admin/describe_configs_broker", describe_configs_broker),
    ("admin/incremental_alter_topic", incremental_alter_topic),
    ("admin/incremental_alter_broker", incremental_alter_broker),
    ("admin/alter_configs_legacy", alter_configs_legacy),
    ("admin/group_configs", group_configs),
];

/// Waits until both brokers have applied every config change made so far. Kafka's controller
/// commits an alter before answering, but the broker applies the record asynchronously; it
/// applies the metadata log in order, so once a topic created afterwards has a leader on the
/// broker, the change before it is visible to DescribeConfigs.
fn barrier(ctx: &mut Ctx) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    super::create_topic(ctx, &format!("dt-cfg-barrier-{n}"), 1, &[]);
}

/// Kafka's `ConfigResource.Type` codes.
const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const GROUP: i8 = 32;

/// `AlterConfigOp.OpType` codes.
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn describe(
    resources: &[(i8, &str, Option<&[&str]>)],
    synonyms: bool,
    docs: bool,
) -> DescribeConfigsRequest {
    DescribeConfigsRequest::default()
        .with_resources(
            resources
                .iter()
                .map(|(t, n, keys)| {
                    describe_configs_request::DescribeConfigsResource::default()
                        .with_resource_type(*t)
                        .with_resource_name(s(n))
                        .with_configuration_keys(keys.map(|ks| ks.iter().map(|k| s(k)).collect()))
                })
                .collect(),
        )
        .with_include_synonyms(synonyms)
        .with_include_documentation(docs)
}

pub fn incremental(
    resources: &[(i8, &str, &[(&str, i8, Option<&str>)])],
    validate_only: bool,
) -> IncrementalAlterConfigsRequest {
    IncrementalAlterConfigsRequest::default()
        .with_resources(
            resources
                .iter()
                .map(|(t, n, ops)| {
                    incremental_alter_configs_request::AlterConfigsResource::default()
                        .with_resource_type(*t)
                        .with_resource_name(s(n))
                        .with_configs(
                            ops.iter()
                                .map(|(k, op, v)| {
                                    incremental_alter_configs_request::AlterableConfig::default()
                                        .with_name(s(k))
                                        .with_config_operation(*op)
                                        .with_value(v.map(s))
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
        .with_validate_only(validate_only)
}

fn legacy(resources: &[(i8, &str, &[(&str, &str)])], validate_only: bool) -> AlterConfigsRequest {
    AlterConfigsRequest::default()
        .with_resources(
            resources
                .iter()
                .map(|(t, n, cfgs)| {
                    alter_configs_request::AlterConfigsResource::default()
                        .with_resource_type(*t)
                        .with_resource_name(s(n))
                        .with_configs(
                            cfgs.iter()
                                .map(|(k, v)| {
                                    alter_configs_request::AlterableConfig::default()
                                        .with_name(s(k))
                                        .with_value(Some(s(v)))
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
        .with_validate_only(validate_only)
}

/// A topic with overrides (a list config among them): every config, then named keys, with and
/// without synonyms and documentation; an unknown topic; an unknown key.
fn describe_configs_topic(ctx: &mut Ctx) {
    super::create_topic(
        ctx,
        "dt-cfg-topic",
        1,
        &[
            ("retention.ms", "3600000"),
            ("cleanup.policy", "compact,delete"),
            ("min.insync.replicas", "1"),
            ("max.message.bytes", "200000"),
        ],
    );
    ctx.each_version("all", |v| {
        describe(&[(TOPIC, "dt-cfg-topic", None)], false, v >= 3)
    });
    ctx.each_version("synonyms", |_| {
        describe(&[(TOPIC, "dt-cfg-topic", None)], true, false)
    });
    ctx.each_version("keys", |_| {
        describe(
            &[(
                TOPIC,
                "dt-cfg-topic",
                Some(&[
                    "retention.ms",
                    "segment.bytes",
                    "cleanup.policy",
                    "no.such.config",
                ]),
            )],
            true,
            false,
        )
    });
    ctx.each_version("unknown_topic", |_| {
        describe(
            &[
                (TOPIC, "dt-cfg-no-such-topic", None),
                (TOPIC, "", Some(&["retention.ms"])),
            ],
            false,
            false,
        )
    });
}

/// The broker resource ("0"), the cluster-default resource ("") and another broker's id.
fn describe_configs_broker(ctx: &mut Ctx) {
    ctx.each_version("all", |v| describe(&[(BROKER, "0", None)], false, v >= 3));
    ctx.each_version("synonyms", |_| {
        describe(&[(BROKER, "0", None)], true, false)
    });
    ctx.each_version("defaults", |_| {
        describe(&[(BROKER, "", None)], false, false)
    });
    ctx.each_version("other_broker", |_| {
        describe(&[(BROKER, "7", None), (BROKER, "x", None)], false, false)
    });
}

/// IncrementalAlterConfigs on a topic: SET, DELETE, APPEND and SUBTRACT (on a list config and
/// a non-list one), invalid values, unknown configs, validate_only, an unknown topic and the
/// same resource twice; DescribeConfigs after each round shows what stuck.
fn incremental_alter_topic(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::IncrementalAlterConfigs) {
        let t = format!("dt-iac-v{v}");
        super::create_topic(ctx, &t, 1, &[("retention.ms", "100000")]);
        let rounds: &[(&str, &[(&str, i8, Option<&str>)], bool)] = &[
            (
                "set",
                &[
                    ("retention.ms", SET, Some("200000")),
                    ("cleanup.policy", SET, Some("compact")),
                ],
                false,
            ),
            (
                "append",
                &[("cleanup.policy", APPEND, Some("delete"))],
                false,
            ),
            (
                "append_again",
                &[("cleanup.policy", APPEND, Some("delete"))],
                false,
            ),
            (
                "subtract",
                &[("cleanup.policy", SUBTRACT, Some("compact"))],
                false,
            ),
            (
                "subtract_absent",
                &[("cleanup.policy", SUBTRACT, Some("compact"))],
                false,
            ),
            (
                "append_non_list",
                &[("retention.ms", APPEND, Some("5"))],
                false,
            ),
            ("delete", &[("retention.ms", DELETE, None)], false),
            ("delete_unset", &[("segment.ms", DELETE, None)], false),
            (
                "invalid_value",
                &[("retention.ms", SET, Some("soon"))],
                false,
            ),
            (
                "invalid_choice",
                &[("cleanup.policy", SET, Some("forever"))],
                false,
            ),
            (
                "unknown_config",
                &[("no.such.config", SET, Some("1"))],
                false,
            ),
            ("null_value_set", &[("retention.ms", SET, None)], false),
            ("bad_op", &[("retention.ms", 9, Some("1"))], false),
            (
                "same_config_twice",
                &[
                    ("retention.ms", SET, Some("1")),
                    ("retention.ms", SET, Some("2")),
                ],
                false,
            ),
            (
                "validate_only",
                &[("retention.ms", SET, Some("300000"))],
                true,
            ),
        ];
        for (step, ops, vo) in rounds {
            ctx.send(step, &incremental(&[(TOPIC, &t, ops)], *vo), v);
            barrier(ctx);
            ctx.send(
                &format!("{step}/describe"),
                &describe(
                    &[(
                        TOPIC,
                        &t,
                        Some(&["retention.ms", "cleanup.policy", "segment.ms"]),
                    )],
                    false,
                    false,
                ),
                4,
            );
        }
        ctx.send(
            "unknown_topic",
            &incremental(
                &[(
                    TOPIC,
                    "dt-iac-no-such-topic",
                    &[("retention.ms", SET, Some("1"))],
                )],
                false,
            ),
            v,
        );
        ctx.send(
            "duplicate_resource",
            &incremental(
                &[
                    (TOPIC, &t, &[("retention.ms", SET, Some("1"))]),
                    (TOPIC, &t, &[("retention.ms", SET, Some("2"))]),
                ],
                false,
            ),
            v,
        );
        ctx.send(
            "bad_resource_type",
            &incremental(&[(99, &t, &[("retention.ms", SET, Some("1"))])], false),
            v,
        );
    }
}

/// IncrementalAlterConfigs on the broker: a dynamic config, a read-only one, an unknown one,
/// the cluster-default resource (""), another broker, validate_only.
fn incremental_alter_broker(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::IncrementalAlterConfigs) {
        let rounds: &[(&str, &str, &[(&str, i8, Option<&str>)], bool)] = &[
            (
                "read_only",
                "0",
                &[("log.dirs", SET, Some("/tmp/x"))],
                false,
            ),
            ("unknown", "0", &[("no.such.config", SET, Some("1"))], false),
            (
                "dynamic_validate_only",
                "0",
                &[("log.cleaner.threads", SET, Some("2"))],
                true,
            ),
            (
                "dynamic_invalid",
                "0",
                &[("log.retention.ms", SET, Some("soon"))],
                false,
            ),
            (
                "default_resource_validate_only",
                "",
                &[("log.retention.ms", SET, Some("600000"))],
                true,
            ),
            (
                "other_broker",
                "7",
                &[("log.retention.ms", SET, Some("600000"))],
                true,
            ),
            (
                "bad_broker_name",
                "x",
                &[("log.retention.ms", SET, Some("600000"))],
                true,
            ),
        ];
        for (step, resource, ops, vo) in rounds {
            ctx.send(step, &incremental(&[(BROKER, resource, ops)], *vo), v);
        }
    }
}

/// The legacy AlterConfigs (replaces the whole set): valid, invalid, unknown topic,
/// validate_only, the broker's read-only configs.
fn alter_configs_legacy(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::AlterConfigs) {
        let t = format!("dt-ac-v{v}");
        super::create_topic(ctx, &t, 1, &[("retention.ms", "100000")]);
        let describe_t = describe(
            &[(
                TOPIC,
                &t,
                Some(&["retention.ms", "cleanup.policy", "segment.ms"]),
            )],
            false,
            false,
        );
        ctx.send(
            "replace",
            &legacy(&[(TOPIC, &t, &[("segment.ms", "7200000")])], false),
            v,
        );
        barrier(ctx);
        ctx.send("replace/describe", &describe_t, 4);
        ctx.send(
            "invalid",
            &legacy(&[(TOPIC, &t, &[("segment.ms", "later")])], false),
            v,
        );
        ctx.send(
            "unknown_config",
            &legacy(&[(TOPIC, &t, &[("no.such.config", "1")])], false),
            v,
        );
        ctx.send(
            "validate_only",
            &legacy(&[(TOPIC, &t, &[("retention.ms", "5")])], true),
            v,
        );
        barrier(ctx);
        ctx.send("validate_only/describe", &describe_t, 4);
        ctx.send(
            "unknown_topic",
            &legacy(
                &[(TOPIC, "dt-ac-no-such-topic", &[("retention.ms", "5")])],
                false,
            ),
            v,
        );
        ctx.send(
            "broker_read_only",
            &legacy(&[(BROKER, "0", &[("log.dirs", "/tmp/x")])], true),
            v,
        );
    }
}

/// The GROUP resource (Kafka 4's KIP-848 group configs): describe defaults, set the consumer
/// timeouts and share settings, invalid values and unknown names, describe again, delete.
fn group_configs(ctx: &mut Ctx) {
    let g = "dt-group-cfg";
    ctx.each_version("describe_defaults", |v| {
        describe(&[(GROUP, g, None)], true, v >= 3)
    });
    let iac = ctx
        .versions(ApiKey::IncrementalAlterConfigs)
        .last()
        .copied()
        .expect("IncrementalAlterConfigs served");
    let rounds: &[(&str, &[(&str, i8, Option<&str>)], bool)] = &[
        (
            "set",
            &[
                ("consumer.session.timeout.ms", SET, Some("50000")),
                ("consumer.heartbeat.interval.ms", SET, Some("6000")),
                ("share.record.lock.duration.ms", SET, Some("20000")),
                ("share.auto.offset.reset", SET, Some("earliest")),
            ],
            false,
        ),
        (
            "session_below_min",
            &[("consumer.session.timeout.ms", SET, Some("1000"))],
            false,
        ),
        (
            "heartbeat_above_max",
            &[("consumer.heartbeat.interval.ms", SET, Some("999999"))],
            false,
        ),
        (
            "not_a_number",
            &[("consumer.session.timeout.ms", SET, Some("soon"))],
            false,
        ),
        (
            "bad_choice",
            &[("share.auto.offset.reset", SET, Some("sometimes"))],
            false,
        ),
        ("unknown", &[("no.such.config", SET, Some("1"))], false),
        (
            "append_non_list",
            &[("consumer.session.timeout.ms", APPEND, Some("1"))],
            false,
        ),
        (
            "validate_only",
            &[("consumer.session.timeout.ms", SET, Some("60000"))],
            true,
        ),
        (
            "delete",
            &[("consumer.heartbeat.interval.ms", DELETE, None)],
            false,
        ),
    ];
    for (step, ops, vo) in rounds {
        ctx.send(step, &incremental(&[(GROUP, g, ops)], *vo), iac);
        barrier(ctx);
        ctx.send(
            &format!("{step}/describe"),
            &describe(&[(GROUP, g, None)], *step == "set", false),
            4,
        );
    }
    ctx.send(
        "empty_group_name",
        &incremental(
            &[(
                GROUP,
                "",
                &[("consumer.session.timeout.ms", SET, Some("50000"))],
            )],
            false,
        ),
        iac,
    );
    ctx.send(
        "legacy_alter_configs",
        &legacy(
            &[(GROUP, g, &[("consumer.session.timeout.ms", "50000")])],
            false,
        ),
        ctx.versions(ApiKey::AlterConfigs)
            .last()
            .copied()
            .expect("AlterConfigs served"),
    );
}
