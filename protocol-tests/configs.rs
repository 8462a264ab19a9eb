//! DescribeConfigs (v1-4), AlterConfigs (v0-2) and IncrementalAlterConfigs (v0-1) on TOPIC and
//! BROKER resources, and topic configs taking effect on the next request and surviving a restart.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResult;
use kafka_protocol::messages::{
    alter_configs_request, incremental_alter_configs_request, AlterConfigsRequest, ApiKey,
    DescribeConfigsRequest, IncrementalAlterConfigsRequest,
};

use crate::support::*;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const BROKER_LOGGER: i8 = 8;

/// `ConfigSource` ids.
const DYNAMIC_TOPIC: i8 = 1;
const DYNAMIC_BROKER: i8 = 2;
const DYNAMIC_DEFAULT_BROKER: i8 = 3;
const STATIC_BROKER: i8 = 4;
const DEFAULT: i8 = 5;

fn describe_req(kind: i8, name: &str, keys: Option<&[&str]>, v: i16) -> DescribeConfigsRequest {
    DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(kind)
            .with_resource_name(s(name))
            .with_configuration_keys(
                keys.map(|k| k.iter().map(|x| s(x)).collect()),
            )])
        .with_include_synonyms(true)
        .with_include_documentation(v >= 3)
}

fn describe(c: &mut Client, kind: i8, name: &str, v: i16) -> DescribeConfigsResult {
    let resp = c.send(&describe_req(kind, name, None, v), v);
    assert_eq!(resp.results.len(), 1);
    resp.results.into_iter().next().expect("result")
}

/// name -> (value, source)
fn values(r: &DescribeConfigsResult) -> BTreeMap<String, (Option<String>, i8)> {
    r.configs
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                (c.value.as_ref().map(|v| v.to_string()), c.config_source),
            )
        })
        .collect()
}

fn value(c: &mut Client, topic: &str, key: &str) -> (Option<String>, i8) {
    values(&describe(c, TOPIC, topic, 4))[key].clone()
}

fn incremental(
    kind: i8,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
) -> IncrementalAlterConfigsRequest {
    IncrementalAlterConfigsRequest::default().with_resources(vec![
        incremental_alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(kind)
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

fn legacy(kind: i8, name: &str, configs: &[(&str, Option<&str>)]) -> AlterConfigsRequest {
    AlterConfigsRequest::default().with_resources(vec![
        alter_configs_request::AlterConfigsResource::default()
            .with_resource_type(kind)
            .with_resource_name(s(name))
            .with_configs(
                configs
                    .iter()
                    .map(|(n, v)| {
                        alter_configs_request::AlterableConfig::default()
                            .with_name(s(n))
                            .with_value(v.map(s))
                    })
                    .collect(),
            ),
    ])
}

#[test]
fn describe_configs_every_version() {
    let broker = Broker::with_overrides(&[("log.retention.hours", "5")]);
    let mut c = broker.client();
    let topic = unique_topic("cfg-describe");
    create_topic_with(
        &mut c,
        &topic,
        1,
        &[("cleanup.policy", "compact"), ("retention.ms", "1234")],
    );
    for v in versions(ApiKey::DescribeConfigs) {
        let r = describe(&mut c, TOPIC, &topic, v);
        assert_eq!(r.error_code, code::NONE, "v{v}");
        assert_eq!(
            (r.resource_type, r.resource_name.as_str()),
            (TOPIC, topic.as_str())
        );
        let by_name: BTreeMap<&str, _> = r.configs.iter().map(|c| (c.name.as_str(), c)).collect();
        let cp = by_name["cleanup.policy"];
        assert_eq!(cp.value.as_ref().map(|s| s.as_str()), Some("compact"));
        assert_eq!(cp.config_source, DYNAMIC_TOPIC);
        assert!(!cp.read_only && !cp.is_sensitive);
        let syn: Vec<(&str, i8)> = cp
            .synonyms
            .iter()
            .map(|s| (s.name.as_str(), s.source))
            .collect();
        assert_eq!(
            syn,
            vec![
                ("cleanup.policy", DYNAMIC_TOPIC),
                ("log.cleanup.policy", DEFAULT)
            ],
            "v{v}"
        );
        let seg = by_name["segment.bytes"];
        assert_eq!(seg.value.as_ref().map(|s| s.as_str()), Some("1073741824"));
        assert_eq!(seg.config_source, DEFAULT);
        let ratio = by_name["min.cleanable.dirty.ratio"];
        assert_eq!(ratio.value.as_ref().map(|s| s.as_str()), Some("0.5"));
        if v >= 3 {
            assert_eq!(seg.config_type, 3, "INT");
            assert_eq!(by_name["retention.ms"].config_type, 5, "LONG");
            assert_eq!(ratio.config_type, 6, "DOUBLE");
            assert_eq!(cp.config_type, 7, "LIST");
            assert!(seg.documentation.as_ref().is_some_and(|d| !d.is_empty()));
        }
        assert_eq!(by_name.len(), 33, "every Kafka 4.1 topic config");

        // A static broker setting shows up as the topic default with its source.
        let b = describe(&mut c, BROKER, "0", v);
        assert_eq!(b.error_code, code::NONE);
        let bv = values(&b);
        assert_eq!(bv["log.retention.hours"], (Some("5".into()), STATIC_BROKER));
        assert_eq!(
            bv["log.cleaner.backoff.ms"],
            (Some("15000".into()), DEFAULT)
        );
        assert_eq!(bv["log.retention.ms"], (None, DEFAULT));
        let listen = b
            .configs
            .iter()
            .find(|c| c.name.as_str() == "listen")
            .expect("listen");
        assert!(listen.read_only);
        let retention = b
            .configs
            .iter()
            .find(|c| c.name.as_str() == "log.retention.ms")
            .expect("log.retention.ms");
        assert!(!retention.read_only);

        // Only the named keys; unknown ones are left out.
        let resp = c.send(
            &describe_req(TOPIC, &topic, Some(&["retention.ms", "bogus"]), v),
            v,
        );
        let only = values(&resp.results[0]);
        assert_eq!(only.len(), 1);
        assert_eq!(only["retention.ms"], (Some("1234".into()), DYNAMIC_TOPIC));

        // Errors per resource.
        assert_eq!(
            describe(&mut c, TOPIC, "no-such-topic", v).error_code,
            code::UNKNOWN_TOPIC_OR_PARTITION
        );
        assert_eq!(
            describe(&mut c, TOPIC, "bad topic!", v).error_code,
            code::INVALID_TOPIC_EXCEPTION
        );
        assert_eq!(
            describe(&mut c, BROKER, "7", v).error_code,
            code::INVALID_REQUEST
        );
        assert_eq!(
            describe(&mut c, BROKER, "x", v).error_code,
            code::INVALID_REQUEST
        );
        assert_eq!(
            describe(&mut c, BROKER_LOGGER, "0", v).error_code,
            code::INVALID_REQUEST
        );
        let cluster = describe(&mut c, BROKER, "", v);
        assert_eq!(cluster.error_code, code::NONE);
        assert!(
            cluster.configs.is_empty(),
            "no dynamic cluster defaults set"
        );
    }
}

#[test]
fn incremental_alter_configs_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::IncrementalAlterConfigs) {
        let topic = unique_topic("cfg-incr");
        create_topic_with(&mut c, &topic, 1, &[("retention.ms", "99999")]);
        let resp = c.send(
            &incremental(
                TOPIC,
                &topic,
                &[
                    ("cleanup.policy", 2, Some("compact")),
                    ("retention.ms", 1, None),
                    ("segment.ms", 0, Some("60000")),
                ],
            ),
            v,
        );
        assert_eq!(
            resp.responses[0].error_code,
            code::NONE,
            "v{v}: {:?}",
            resp.responses[0].error_message
        );
        assert_eq!(resp.responses[0].resource_name.as_str(), topic);
        assert_eq!(
            value(&mut c, &topic, "cleanup.policy"),
            (Some("delete,compact".into()), DYNAMIC_TOPIC)
        );
        assert_eq!(
            value(&mut c, &topic, "retention.ms"),
            (Some("604800000".into()), DEFAULT)
        );
        assert_eq!(
            value(&mut c, &topic, "segment.ms"),
            (Some("60000".into()), DYNAMIC_TOPIC)
        );
        let resp = c.send(
            &incremental(TOPIC, &topic, &[("cleanup.policy", 3, Some("delete"))]),
            v,
        );
        assert_eq!(resp.responses[0].error_code, code::NONE);
        assert_eq!(
            value(&mut c, &topic, "cleanup.policy").0.as_deref(),
            Some("compact")
        );

        // validate_only changes nothing.
        let req =
            incremental(TOPIC, &topic, &[("segment.ms", 0, Some("1"))]).with_validate_only(true);
        assert_eq!(c.send(&req, v).responses[0].error_code, code::NONE);
        assert_eq!(
            value(&mut c, &topic, "segment.ms").0.as_deref(),
            Some("60000")
        );

        // Kafka's error codes.
        let cases: Vec<(IncrementalAlterConfigsRequest, i16, &str)> = vec![
            (
                incremental(TOPIC, &topic, &[("segment.bytes", 0, Some("5"))]),
                code::INVALID_CONFIG,
                "segment.bytes",
            ),
            (
                incremental(TOPIC, &topic, &[("no.such", 0, Some("5"))]),
                code::INVALID_CONFIG,
                "no.such",
            ),
            (
                incremental(TOPIC, &topic, &[("segment.ms", 2, Some("5"))]),
                code::INVALID_CONFIG,
                "segment.ms",
            ),
            (
                incremental(TOPIC, &topic, &[("segment.ms", 0, None)]),
                code::INVALID_REQUEST,
                "segment.ms",
            ),
            (
                incremental(
                    TOPIC,
                    &topic,
                    &[("segment.ms", 0, Some("5")), ("segment.ms", 1, None)],
                ),
                code::INVALID_REQUEST,
                "duplicate",
            ),
            (
                incremental(TOPIC, &topic, &[("segment.ms", 9, Some("5"))]),
                code::INVALID_REQUEST,
                "operation",
            ),
            (
                incremental(TOPIC, "missing-topic", &[("segment.ms", 0, Some("5"))]),
                code::UNKNOWN_TOPIC_OR_PARTITION,
                "",
            ),
            (
                incremental(
                    TOPIC,
                    &topic,
                    &[
                        ("min.compaction.lag.ms", 0, Some("10")),
                        ("max.compaction.lag.ms", 0, Some("5")),
                    ],
                ),
                code::INVALID_CONFIG,
                "max.compaction.lag.ms",
            ),
            (
                incremental(BROKER, "0", &[("listen", 0, Some("0.0.0.0:1"))]),
                code::INVALID_REQUEST,
                "listen",
            ),
            (
                incremental(BROKER, "3", &[("log.retention.ms", 0, Some("1"))]),
                code::INVALID_REQUEST,
                "",
            ),
        ];
        for (req, want, mention) in cases {
            let r = &c.send(&req, v).responses[0];
            assert_eq!(r.error_code, want, "v{v}: {:?}", r.error_message);
            let msg = r
                .error_message
                .as_ref()
                .map(|m| m.to_string())
                .unwrap_or_default();
            assert!(
                msg.to_lowercase().contains(mention),
                "v{v}: {msg:?} should mention {mention}"
            );
        }
        // The same resource twice: both entries fail.
        let mut twice = incremental(TOPIC, &topic, &[("segment.ms", 0, Some("5000"))]);
        twice.resources.push(twice.resources[0].clone());
        let r = c.send(&twice, v);
        assert!(r
            .responses
            .iter()
            .all(|x| x.error_code == code::INVALID_REQUEST));
        assert_eq!(
            value(&mut c, &topic, "segment.ms").0.as_deref(),
            Some("60000")
        );
    }
}

#[test]
fn legacy_alter_configs_every_version_replaces_the_set() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::AlterConfigs) {
        let topic = unique_topic("cfg-legacy");
        create_topic_with(
            &mut c,
            &topic,
            1,
            &[("retention.ms", "99999"), ("segment.ms", "77777")],
        );
        let r = c.send(
            &legacy(TOPIC, &topic, &[("retention.bytes", Some("4096"))]),
            v,
        );
        assert_eq!(r.responses[0].error_code, code::NONE, "v{v}");
        assert_eq!(
            value(&mut c, &topic, "retention.bytes"),
            (Some("4096".into()), DYNAMIC_TOPIC)
        );
        assert_eq!(
            value(&mut c, &topic, "retention.ms").1,
            DEFAULT,
            "left out: back to the default"
        );
        assert_eq!(value(&mut c, &topic, "segment.ms").1, DEFAULT);
        let r = c.send(&legacy(TOPIC, &topic, &[("retention.bytes", None)]), v);
        assert_eq!(
            r.responses[0].error_code,
            code::INVALID_REQUEST,
            "null value"
        );
        let r = c.send(&legacy(TOPIC, &topic, &[("retention.ms", Some("-7"))]), v);
        assert_eq!(r.responses[0].error_code, code::INVALID_CONFIG);
        let r = c.send(
            &legacy(TOPIC, &topic, &[("retention.ms", Some("5"))]).with_validate_only(true),
            v,
        );
        assert_eq!(r.responses[0].error_code, code::NONE);
        assert_eq!(value(&mut c, &topic, "retention.ms").1, DEFAULT);
        let r = c.send(&legacy(TOPIC, "not-there", &[]), v);
        assert_eq!(r.responses[0].error_code, code::UNKNOWN_TOPIC_OR_PARTITION);
    }
}

#[test]
fn broker_configs_dynamic_layers_persist() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("cfg-broker");
    create_topic_with(&mut c, &topic, 1, &[]);
    let r = c.send(
        &incremental(BROKER, "", &[("log.retention.ms", 0, Some("1000"))]),
        1,
    );
    assert_eq!(r.responses[0].error_code, code::NONE);
    assert_eq!(
        value(&mut c, &topic, "retention.ms"),
        (Some("1000".into()), DYNAMIC_DEFAULT_BROKER)
    );
    let r = c.send(
        &legacy(BROKER, "0", &[("log.retention.ms", Some("2000"))]),
        2,
    );
    assert_eq!(r.responses[0].error_code, code::NONE);
    assert_eq!(
        value(&mut c, &topic, "retention.ms"),
        (Some("2000".into()), DYNAMIC_BROKER)
    );
    let b = describe(&mut c, BROKER, "0", 4);
    let e = b
        .configs
        .iter()
        .find(|x| x.name.as_str() == "log.retention.ms")
        .expect("entry");
    let syn: Vec<i8> = e.synonyms.iter().map(|s| s.source).collect();
    assert_eq!(syn, vec![DYNAMIC_BROKER, DYNAMIC_DEFAULT_BROKER, DEFAULT]);
    let cluster = values(&describe(&mut c, BROKER, "", 4));
    assert_eq!(
        cluster,
        BTreeMap::from([(
            "log.retention.ms".to_string(),
            (Some("1000".to_string()), DYNAMIC_DEFAULT_BROKER)
        )])
    );

    broker.restart();
    let mut c = broker.client();
    assert_eq!(
        value(&mut c, &topic, "retention.ms"),
        (Some("2000".into()), DYNAMIC_BROKER)
    );
    let r = c.send(
        &incremental(BROKER, "0", &[("log.retention.ms", 1, None)]),
        1,
    );
    assert_eq!(r.responses[0].error_code, code::NONE);
    assert_eq!(
        value(&mut c, &topic, "retention.ms"),
        (Some("1000".into()), DYNAMIC_DEFAULT_BROKER)
    );
}

/// A broker config name Klamm does not know (here Kafka's `num.io.threads`) is stored by
/// IncrementalAlterConfigs, as Kafka's `DynamicBrokerConfig` keeps unknown names, and
/// DescribeConfigs lists it: Kafka describes `KafkaConfig.originals`, which hold every dynamic
/// name, and treats a name of unknown type as sensitive (`KafkaConfig.maybeSensitive`): null
/// value, `is_sensitive`, read-only, type UNKNOWN, synonyms with null values.
#[test]
fn unknown_dynamic_broker_names_are_described_as_sensitive() {
    let broker = Broker::start();
    let mut c = broker.client();
    for (name, value) in [("", "8"), ("0", "4")] {
        let r = c.send(
            &incremental(BROKER, name, &[("num.io.threads", 0, Some(value))]),
            1,
        );
        assert_eq!(r.responses[0].error_code, code::NONE);
    }
    for v in 1..=4 {
        let b = describe(&mut c, BROKER, "0", v);
        assert_eq!(b.error_code, code::NONE);
        let e = b
            .configs
            .iter()
            .find(|x| x.name.as_str() == "num.io.threads")
            .expect("the stored unknown name is described");
        assert_eq!(e.value, None, "v{v}");
        assert!(e.is_sensitive && e.read_only, "v{v}");
        assert_eq!(e.config_source, DYNAMIC_BROKER, "v{v}");
        if v >= 3 {
            assert_eq!(e.config_type, 0, "UNKNOWN");
        }
        let syn: Vec<(i8, Option<String>)> = e
            .synonyms
            .iter()
            .map(|s| (s.source, s.value.as_ref().map(|x| x.to_string())))
            .collect();
        assert_eq!(
            syn,
            vec![(DYNAMIC_BROKER, None), (DYNAMIC_DEFAULT_BROKER, None)]
        );
        let names: Vec<&str> = b.configs.iter().map(|x| x.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "entries in name order");
    }
    assert_eq!(
        values(&describe(&mut c, BROKER, "", 4)),
        BTreeMap::from([("num.io.threads".to_string(), (None, DYNAMIC_DEFAULT_BROKER))])
    );
    // Deleting it removes it from the description again.
    let r = c.send(&incremental(BROKER, "0", &[("num.io.threads", 1, None)]), 1);
    assert_eq!(r.responses[0].error_code, code::NONE);
    let b = describe(&mut c, BROKER, "0", 4);
    let e = b
        .configs
        .iter()
        .find(|x| x.name.as_str() == "num.io.threads")
        .expect("still set as a cluster default");
    assert_eq!(e.config_source, DYNAMIC_DEFAULT_BROKER);
}

#[test]
fn topic_configs_take_effect_at_once_and_survive_restart() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("cfg-effect");
    let t = create_topic_with(&mut c, &topic, 1, &[]);
    produce_ok(&mut c, &t, 0, &[rec("k", &"x".repeat(500))]);

    let r = c.send(
        &incremental(
            TOPIC,
            &topic,
            &[
                ("max.message.bytes", 0, Some("200")),
                ("message.timestamp.type", 0, Some("LogAppendTime")),
            ],
        ),
        1,
    );
    assert_eq!(r.responses[0].error_code, code::NONE);
    let p = produce(&mut c, &t, 0, batch(&[rec("k", &"x".repeat(500))]), 9);
    assert_eq!(p.error_code, code::MESSAGE_TOO_LARGE);
    let before = now_ms();
    let p = produce(&mut c, &t, 0, batch(&[rec("k", "small").at(1000)]), 9);
    assert_eq!(p.error_code, code::NONE);
    assert!(
        p.log_append_time_ms >= before,
        "LogAppendTime stamped: {}",
        p.log_append_time_ms
    );

    broker.restart();
    let mut c = broker.client();
    let p = produce(&mut c, &t, 0, batch(&[rec("k", &"x".repeat(500))]), 9);
    assert_eq!(
        p.error_code,
        code::MESSAGE_TOO_LARGE,
        "config survives restart"
    );
    assert_eq!(
        value(&mut c, &topic, "message.timestamp.type").0.as_deref(),
        Some("LogAppendTime")
    );
}

#[test]
fn compression_type_recompresses_on_append() {
    // kafka-protocol's decoder is built without codecs (no C builds): read the stored batch with
    // the broker's own record walker instead.
    use klamm::log::batch::{BatchHeader, Compression};
    use klamm::log::records::{records_section, RecordIter};

    let broker = Broker::start();
    let mut c = broker.client();
    for (codec, want) in [
        ("gzip", Compression::Gzip),
        ("snappy", Compression::Snappy),
        ("lz4", Compression::Lz4),
        ("zstd", Compression::Zstd),
        ("uncompressed", Compression::None),
    ] {
        let topic = unique_topic(&format!("cfg-codec-{codec}"));
        let t = create_topic_with(&mut c, &topic, 1, &[("compression.type", codec)]);
        let records: Vec<Rec> = (0..20)
            .map(|i| {
                rec(&format!("key-{i}"), &"compressible value ".repeat(20))
                    .header("h1", Some("1"))
                    .header("h2", Some("2"))
            })
            .collect();
        assert_eq!(produce_ok(&mut c, &t, 0, &records), 0);
        let d = fetch(&mut c, &t, 0, 0, 12);
        let data = d.records.clone().expect("records");
        let batches = raw_batches(&data);
        assert_eq!(batches.len(), 1);
        let h = BatchHeader::new(&batches[0]).expect("header");
        assert_eq!(h.compression(), Some(want), "{codec}");
        assert_eq!((h.record_count(), h.last_offset_delta()), (20, 19));
        let section = records_section(&batches[0]).expect("decompress");
        let got: Vec<_> = RecordIter::new(&section, 20)
            .map(|r| r.expect("record"))
            .collect();
        for (i, (g, want)) in got.iter().zip(&records).enumerate() {
            assert_eq!(g.offset_delta, i as i32);
            assert_eq!(g.key, want.key.as_deref());
            assert_eq!(g.value, want.value.as_deref());
            assert_eq!(g.header_count, 2, "headers kept");
        }
        if want == Compression::None {
            assert_records(&decode_records(&data), &records, 0);
        }
    }
}

#[test]
fn min_insync_replicas_above_one_refuses_acks_all() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = unique_topic("cfg-minisr");
    let t = create_topic_with(&mut c, &topic, 1, &[("min.insync.replicas", "2")]);
    let p = produce(&mut c, &t, 0, batch(&[rec("k", "v")]), 9);
    assert_eq!(p.error_code, 19, "NOT_ENOUGH_REPLICAS");
    let resp = c.send(&produce_request(&t, 0, batch(&[rec("k", "v")]), 1), 9);
    assert_eq!(
        single_produce_response(resp, &t, 9).error_code,
        code::NONE,
        "acks=1 is fine"
    );
}
