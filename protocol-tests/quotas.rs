//! DescribeClientQuotas (key 48) and AlterClientQuotas (key 49), v0-1, and their enforcement:
//! Kafka's validation messages (`ClientQuotaControlManager`) and filter semantics
//! (`ClientQuotasImage.describe`), quotas surviving kill -9, and throttling as KIP-219 does it
//! (the response carries `throttle_time_ms` at once, then the connection is muted that long),
//! including the controller mutation quota's THROTTLING_QUOTA_EXCEEDED (KIP-599).

use std::time::{Duration, Instant};

use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
use kafka_protocol::messages::{
    AlterClientQuotasRequest, ApiVersionsRequest, CreateTopicsRequest, DescribeClientQuotasRequest,
    DescribeClientQuotasResponse,
};
use kafka_protocol::ResponseError;

use crate::support::client::CLIENT_ID;
use crate::support::*;

const EXACT: i8 = 0;
const DEFAULT: i8 = 1;
const SPECIFIED: i8 = 2;

fn entity(pairs: &[(&str, Option<&str>)]) -> Vec<EntityData> {
    pairs
        .iter()
        .map(|(t, n)| {
            EntityData::default()
                .with_entity_type(s(t))
                .with_entity_name(n.map(s))
        })
        .collect()
}

fn set(key: &str, value: f64) -> OpData {
    OpData::default().with_key(s(key)).with_value(value)
}

fn remove(key: &str) -> OpData {
    OpData::default().with_key(s(key)).with_remove(true)
}

fn entry(pairs: &[(&str, Option<&str>)], ops: Vec<OpData>) -> EntryData {
    EntryData::default()
        .with_entity(entity(pairs))
        .with_ops(ops)
}

/// An entity as `(type, name)` pairs.
type Entity = Vec<(String, Option<String>)>;

/// Sends an AlterClientQuotas; returns `(entity, error code, message)` per entry.
fn alter(
    c: &mut Client,
    entries: Vec<EntryData>,
    validate_only: bool,
    v: i16,
) -> Vec<(Entity, i16, Option<String>)> {
    let req = AlterClientQuotasRequest::default()
        .with_entries(entries)
        .with_validate_only(validate_only);
    let resp = c.send(&req, v);
    assert_eq!(resp.throttle_time_ms, 0);
    resp.entries
        .iter()
        .map(|e| {
            (
                e.entity
                    .iter()
                    .map(|d| {
                        (
                            d.entity_type.to_string(),
                            d.entity_name.as_ref().map(|n| n.to_string()),
                        )
                    })
                    .collect(),
                e.error_code,
                e.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect()
}

fn component(t: &str, match_type: i8, m: Option<&str>) -> ComponentData {
    ComponentData::default()
        .with_entity_type(s(t))
        .with_match_type(match_type)
        .with_match(m.map(s))
}

fn describe_raw(
    c: &mut Client,
    components: Vec<ComponentData>,
    strict: bool,
    v: i16,
) -> DescribeClientQuotasResponse {
    let req = DescribeClientQuotasRequest::default()
        .with_components(components)
        .with_strict(strict);
    c.send(&req, v)
}

type Described = Vec<(Entity, Vec<(String, f64)>)>;

/// The entries a DescribeClientQuotas returns, sorted.
fn describe(c: &mut Client, components: Vec<ComponentData>, strict: bool, v: i16) -> Described {
    let resp = describe_raw(c, components, strict, v);
    assert_eq!(resp.error_code, code::NONE, "{:?}", resp.error_message);
    let mut out: Described = resp
        .entries
        .expect("entries")
        .iter()
        .map(|e| {
            let mut ent: Vec<(String, Option<String>)> = e
                .entity
                .iter()
                .map(|d| {
                    (
                        d.entity_type.to_string(),
                        d.entity_name.as_ref().map(|n| n.to_string()),
                    )
                })
                .collect();
            ent.sort();
            let mut vals: Vec<(String, f64)> = e
                .values
                .iter()
                .map(|v| (v.key.to_string(), v.value))
                .collect();
            vals.sort_by(|a, b| a.0.cmp(&b.0));
            (ent, vals)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn ent(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    let mut v: Vec<_> = pairs
        .iter()
        .map(|(t, n)| (t.to_string(), n.map(str::to_string)))
        .collect();
    v.sort();
    v
}

fn vals(pairs: &[(&str, f64)]) -> Vec<(String, f64)> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

const ALICE: &[(&str, Option<&str>)] = &[("user", Some("alice"))];
const ALICE_APP: &[(&str, Option<&str>)] = &[("user", Some("alice")), ("client-id", Some("app"))];
const DEFAULT_CLIENT: &[(&str, Option<&str>)] = &[("client-id", None)];
const DEFAULT_USER: &[(&str, Option<&str>)] = &[("user", None)];

#[test]
fn alter_and_describe_round_trip_with_filters() {
    let b = Broker::start();
    let mut c = b.client();
    for v in 0..=1 {
        // validate_only answers but stores nothing.
        let r = alter(
            &mut c,
            vec![entry(ALICE, vec![set("producer_byte_rate", 1024.0)])],
            true,
            v,
        );
        assert_eq!(r, vec![(ent(ALICE), code::NONE, None)]);
        assert_eq!(describe(&mut c, vec![], false, v), vec![]);
    }
    let r = alter(
        &mut c,
        vec![
            entry(
                ALICE,
                vec![
                    set("producer_byte_rate", 1024.0),
                    set("request_percentage", 12.5),
                ],
            ),
            entry(ALICE_APP, vec![set("consumer_byte_rate", 2048.0)]),
            entry(DEFAULT_CLIENT, vec![set("controller_mutation_rate", 3.0)]),
            entry(DEFAULT_USER, vec![set("producer_byte_rate", 4096.0)]),
            entry(
                &[("ip", Some("10.0.0.1"))],
                vec![set("connection_creation_rate", 5.0)],
            ),
        ],
        false,
        1,
    );
    assert!(
        r.iter()
            .all(|(_, code, msg)| *code == code::NONE && msg.is_none()),
        "{r:?}"
    );
    assert_eq!(r.len(), 5);

    let alice = (
        ent(ALICE),
        vals(&[("producer_byte_rate", 1024.0), ("request_percentage", 12.5)]),
    );
    let alice_app = (ent(ALICE_APP), vals(&[("consumer_byte_rate", 2048.0)]));
    let default_client = (
        ent(DEFAULT_CLIENT),
        vals(&[("controller_mutation_rate", 3.0)]),
    );
    let default_user = (ent(DEFAULT_USER), vals(&[("producer_byte_rate", 4096.0)]));
    let ip = (
        ent(&[("ip", Some("10.0.0.1"))]),
        vals(&[("connection_creation_rate", 5.0)]),
    );
    for v in 0..=1 {
        let mut all = vec![
            alice_app.clone(),
            alice.clone(),
            default_client.clone(),
            default_user.clone(),
            ip.clone(),
        ];
        all.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(describe(&mut c, vec![], false, v), all);
        // Strict with no components: only entities with no types, i.e. none.
        assert_eq!(describe(&mut c, vec![], true, v), vec![]);
        // EXACT user: non-strict also returns the (user, client-id) entity.
        assert_eq!(
            describe(
                &mut c,
                vec![component("user", EXACT, Some("alice"))],
                false,
                v
            ),
            vec![alice_app.clone(), alice.clone()]
        );
        assert_eq!(
            describe(
                &mut c,
                vec![component("user", EXACT, Some("alice"))],
                true,
                v
            ),
            vec![alice.clone()]
        );
        assert_eq!(
            describe(&mut c, vec![component("user", DEFAULT, None)], false, v),
            vec![default_user.clone()]
        );
        assert_eq!(
            describe(
                &mut c,
                vec![component("client-id", SPECIFIED, None)],
                false,
                v
            ),
            vec![default_client.clone(), alice_app.clone()]
        );
        assert_eq!(
            describe(
                &mut c,
                vec![
                    component("user", SPECIFIED, None),
                    component("client-id", EXACT, Some("app"))
                ],
                true,
                v
            ),
            vec![alice_app.clone()]
        );
        assert_eq!(
            describe(&mut c, vec![component("ip", SPECIFIED, None)], true, v),
            vec![ip.clone()]
        );
        assert_eq!(
            describe(
                &mut c,
                vec![component("user", EXACT, Some("bob"))],
                false,
                v
            ),
            vec![]
        );
    }
    // Removing a key keeps the others; removing the last one removes the entity.
    let r = alter(
        &mut c,
        vec![
            entry(ALICE, vec![remove("request_percentage")]),
            entry(ALICE_APP, vec![remove("consumer_byte_rate")]),
        ],
        false,
        0,
    );
    assert!(r.iter().all(|(_, code, _)| *code == code::NONE));
    assert_eq!(
        describe(
            &mut c,
            vec![component("user", EXACT, Some("alice"))],
            false,
            1
        ),
        vec![(ent(ALICE), vals(&[("producer_byte_rate", 1024.0)]))]
    );
}

#[test]
fn alterations_are_validated_like_kafkas_controller() {
    let b = Broker::start();
    let mut c = b.client();
    let invalid = ResponseError::InvalidRequest.code();
    let cases: Vec<(EntryData, &str)> = vec![
        (entry(ALICE, vec![set("no_such_quota", 1.0)]), "Invalid configuration key no_such_quota"),
        (entry(&[("user", Some("bob"))], vec![set("producer_byte_rate", -5.0)]), "Quota producer_byte_rate must be greater than 0"),
        (entry(&[("user", Some("carol"))], vec![set("consumer_byte_rate", 0.0)]), "Quota consumer_byte_rate must be greater than 0"),
        (entry(&[("user", Some("dave"))], vec![set("producer_byte_rate", 10.5)]), "producer_byte_rate cannot be a fractional value."),
        (entry(&[("user", Some("erin"))], vec![set("connection_creation_rate", 10.0)]), "Invalid configuration key connection_creation_rate"),
        (entry(&[("ip", Some("10.0.0.2"))], vec![set("producer_byte_rate", 10.0)]), "Invalid configuration key producer_byte_rate"),
        (entry(&[("ip", Some("not an ip"))], vec![set("connection_creation_rate", 10.0)]), "not an ip is not a valid IP or resolvable host."),
        (entry(&[("ip", None), ("user", Some("frank"))], vec![set("connection_creation_rate", 1.0)]), "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId"),
        (entry(&[("group", Some("g"))], vec![set("producer_byte_rate", 1.0)]), "Unhandled client quota entity type: group"),
        (entry(&[("client-id", Some(""))], vec![set("producer_byte_rate", 1.0)]), "Empty client-id not supported"),
        (entry(&[], vec![set("producer_byte_rate", 1.0)]), "Invalid empty client quota entity"),
        (
            entry(&[("user", Some("gina"))], vec![set("producer_byte_rate", 1.0), set("producer_byte_rate", 2.0)]),
            "Ignoring duplicate entity ClientQuotaEntity(entries={user=gina})",
        ),
    ];
    let (entries, messages): (Vec<EntryData>, Vec<&str>) = cases.into_iter().unzip();
    let r = alter(&mut c, entries, false, 1);
    assert_eq!(r.len(), messages.len());
    for ((_, code, msg), expected) in r.iter().zip(&messages) {
        assert_eq!(*code, invalid, "{expected}");
        assert_eq!(msg.as_deref(), Some(*expected));
    }
    // Nothing was stored.
    assert_eq!(describe(&mut c, vec![], false, 1), vec![]);

    // Filter errors come back at the top level, without entries.
    let bad: Vec<(Vec<ComponentData>, i16, &str)> = vec![
        (vec![component("user", EXACT, None)], invalid, "Request specified MATCH_TYPE_EXACT, but set match string to null."),
        (vec![component("user", DEFAULT, Some("x"))], invalid, "Request specified MATCH_TYPE_DEFAULT, but also specified a match string."),
        (vec![component("user", SPECIFIED, Some("x"))], invalid, "Request specified MATCH_TYPE_SPECIFIED, but also specified a match string."),
        (vec![component("user", 7, None)], invalid, "Unknown match type 7"),
        (vec![component("", EXACT, Some("x"))], invalid, "Invalid empty entity type."),
        (vec![component("user", SPECIFIED, None), component("user", DEFAULT, None)], invalid, "Entity type user cannot appear more than once in the filter."),
        (vec![component("group", SPECIFIED, None)], ResponseError::UnsupportedVersion.code(), "Unsupported entity type group"),
        (
            vec![component("ip", SPECIFIED, None), component("user", SPECIFIED, None)],
            invalid,
            "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
        ),
    ];
    for (components, code, message) in bad {
        let resp = describe_raw(&mut c, components, false, 1);
        assert_eq!(resp.error_code, code, "{message}");
        assert_eq!(resp.error_message.as_deref(), Some(message));
        assert!(resp.entries.is_none());
    }
}

#[test]
fn quotas_survive_kill_9() {
    let mut b = Broker::start();
    let mut c = b.client();
    let r = alter(
        &mut c,
        vec![entry(
            ALICE_APP,
            vec![set("producer_byte_rate", 1_048_576.0)],
        )],
        false,
        1,
    );
    assert_eq!(r[0].1, code::NONE);
    drop(c);
    b.kill9_and_restart();
    let mut c = b.client();
    assert_eq!(
        describe(&mut c, vec![], false, 0),
        vec![(ent(ALICE_APP), vals(&[("producer_byte_rate", 1_048_576.0)]))]
    );
}

/// A produce over `producer_byte_rate` is answered at once with `throttle_time_ms`, and the
/// request pipelined behind it is held back for about that long (the connection is muted).
#[test]
fn produce_over_the_rate_is_throttled_and_the_connection_muted() {
    // Two samples of one second: the rate is measured over at least one second.
    let b = Broker::with_overrides(&[("quota.window.num", "2")]);
    let mut c = b.client();
    let topic = create_topic(&mut c, "quota-produce", 1);
    let r = alter(
        &mut c,
        vec![entry(
            &[("client-id", Some(CLIENT_ID))],
            vec![set("producer_byte_rate", 10_240.0)],
        )],
        false,
        1,
    );
    assert_eq!(r[0].1, code::NONE);
    // ~15 KiB in one request against 10 KiB/s over 1 s: throttled for ~(15-10)/10 s.
    let value = "x".repeat(15 * 1024);
    let records = batch(&[rec("k", &value)]);
    let id = c.write_request(&produce_request(&topic, 0, records, -1), 9);
    let id2 = c.write_request(&ApiVersionsRequest::default(), 0);
    let resp = c.read_response::<kafka_protocol::messages::ProduceRequest>(9, id);
    let first = Instant::now();
    let p = single_produce_response(resp.clone(), &topic, 9);
    assert_eq!(p.error_code, code::NONE);
    let throttle = resp.throttle_time_ms;
    assert!(
        (300..=800).contains(&throttle),
        "throttle_time_ms {throttle}"
    );
    let _ = c.read_response::<ApiVersionsRequest>(0, id2);
    let held = first.elapsed();
    assert!(
        held >= Duration::from_millis(throttle as u64 - 30),
        "the pipelined request was answered after {held:?}, throttle {throttle} ms"
    );
    assert!(
        held < Duration::from_millis(throttle as u64 + 2000),
        "{held:?}"
    );
    // The bytes were appended: the throttle does not drop the request.
    let data = fetch(&mut c, &topic, 0, 0, 12);
    assert_eq!(data.high_watermark, 1);
}

/// A fetch over `consumer_byte_rate` gets an empty throttled response; once the throttle has
/// passed the same fetch returns the data (the throttled bytes were not counted). `max_bytes`
/// is bounded by what the quota window holds.
#[test]
fn fetch_over_the_rate_is_answered_empty_and_throttled() {
    let b = Broker::with_overrides(&[("quota.window.num", "2")]);
    let mut c = b.client();
    let topic = create_topic(&mut c, "quota-fetch", 1);
    let value = "y".repeat(6 * 1024);
    for _ in 0..3 {
        let p = produce(&mut c, &topic, 0, batch(&[rec("k", &value)]), 9);
        assert_eq!(p.error_code, code::NONE);
    }
    let r = alter(
        &mut c,
        vec![entry(
            &[("user", Some("ANONYMOUS"))],
            vec![set("consumer_byte_rate", 16_384.0)],
        )],
        false,
        1,
    );
    assert_eq!(r[0].1, code::NONE);
    // The window holds 16 KiB × (2-1) × 1 s, so the 50 MiB max_bytes is bounded to 16 KiB: two
    // of the three 6 KiB batches, under the rate.
    let resp = c.send(&fetch_request(&topic, 0, 0), 12);
    assert_eq!(resp.throttle_time_ms, 0);
    let data = single_fetch_partition(resp, &topic, 12);
    let first = decode_records(&data.records.expect("records")).len() as i64;
    assert_eq!(first, 2, "bounded by the quota window");
    // The third batch takes the rate over 16 KiB/s: an empty, throttled answer.
    let resp = c.send(&fetch_request(&topic, 0, first), 12);
    let throttle = resp.throttle_time_ms;
    assert!(
        (50..=1000).contains(&throttle),
        "throttle_time_ms {throttle}"
    );
    assert!(resp.responses.is_empty(), "a throttled fetch is empty");
    std::thread::sleep(Duration::from_millis(throttle as u64 + 300));
    let resp = c.send(&fetch_request(&topic, 0, first), 12);
    assert_eq!(resp.throttle_time_ms, 0);
    let data = single_fetch_partition(resp, &topic, 12);
    let fetched = decode_records(&data.records.expect("records"));
    assert_eq!(fetched.len(), 1);
}

/// KIP-599: partitions created count against `controller_mutation_rate`; from CreateTopics v6
/// a topic asked for while the bucket is empty fails with THROTTLING_QUOTA_EXCEEDED, older
/// versions are created and throttled.
#[test]
fn controller_mutation_rate_refuses_with_throttling_quota_exceeded() {
    let b = Broker::start();
    let mut c = b.client();
    let r = alter(
        &mut c,
        vec![entry(
            &[("user", None), ("client-id", None)],
            vec![set("controller_mutation_rate", 1.0)],
        )],
        false,
        1,
    );
    assert_eq!(r[0].1, code::NONE);
    let create = |c: &mut Client, topic: &str, partitions: i32, v: i16| {
        let req = CreateTopicsRequest::default()
            .with_topics(vec![creatable(topic, partitions, &[])])
            .with_timeout_ms(30_000);
        c.send(&req, v)
    };
    // The bucket holds 11 windows × 1/s = 11 tokens: 12 partitions pass and overdraw it.
    let resp = create(&mut c, "mutations-a", 12, 7);
    assert_eq!(resp.topics[0].error_code, code::NONE);
    assert_eq!(resp.throttle_time_ms, 0);
    let started = Instant::now();
    let resp = create(&mut c, "mutations-b", 1, 7);
    let t = &resp.topics[0];
    assert_eq!(t.error_code, ResponseError::ThrottlingQuotaExceeded.code());
    assert_eq!(
        t.error_message.as_deref(),
        Some("The throttling quota has been exceeded.")
    );
    assert!(
        (500..=1000).contains(&resp.throttle_time_ms),
        "{}",
        resp.throttle_time_ms
    );
    assert!(describe_topic_missing(&mut c, "mutations-b"));
    assert!(started.elapsed() >= Duration::from_millis(resp.throttle_time_ms as u64 - 30));
    // v5 is permissive: the topic is created and the client throttled. Wait for the bucket to
    // be positive again (1 token/s), then overdraw it.
    std::thread::sleep(Duration::from_millis(1200));
    let resp = create(&mut c, "mutations-c", 3, 5);
    assert_eq!(resp.topics[0].error_code, code::NONE);
    assert!(resp.throttle_time_ms > 1000, "{}", resp.throttle_time_ms);
}

fn describe_topic_missing(c: &mut Client, topic: &str) -> bool {
    let resp = c.send(&metadata_request(Some(&[topic]), false), 12);
    resp.topics[0].error_code == code::UNKNOWN_TOPIC_OR_PARTITION
}
