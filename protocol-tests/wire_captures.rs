//! Replays the request frames real clients sent (`../shared/wire-captures/java/` from the Java
//! clients, `../shared/wire-captures/other/` from librdkafka, sarama, franz-go, kafka-go,
//! aiokafka...; each `.hex` file is one frame with its size prefix, `INDEX.md` says where it
//! comes from).
//!
//! Every frame of an API the broker advertises is mandatory: the frame is decoded to learn what
//! it names, a fresh broker is prepared so that the request is meaningful (its topics exist,
//! fetched offsets hold records, topics named by id exist with that id), the frame is sent
//! byte for byte, and the response is decoded at the frame's version and checked: no error code
//! anywhere except where Kafka's correct answer is an error, plus API-specific content.
//!
//! Frames of APIs the broker does not advertise yet (group coordinator, configs, ACLs, SASL,
//! transactions...) are future issues' work: they are sent to a broker that must survive them,
//! and counted as pending. [`COVERED`] lists the APIs whose frames this file knows how to prepare
//! and check; an advertised API missing from it fails the test, so advertising a new API makes
//! its captured frames mandatory.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, RequestHeader, RequestKind, ResponseHeader, ResponseKind,
};
use kafka_protocol::protocol::Decodable;
use kafka_protocol::ResponseError;
use uuid::Uuid;

use crate::support::*;

/// The APIs whose captured frames are replayed and checked. Add an API here together with its
/// preparation ([`prepare`]), its expected errors ([`expected_errors`]) and its content checks
/// ([`check_content`]) when the broker starts advertising it.
const COVERED: &[ApiKey] = &[
    ApiKey::Produce,
    ApiKey::Fetch,
    ApiKey::ListOffsets,
    ApiKey::Metadata,
    ApiKey::OffsetCommit,
    ApiKey::OffsetFetch,
    ApiKey::FindCoordinator,
    ApiKey::JoinGroup,
    ApiKey::Heartbeat,
    ApiKey::LeaveGroup,
    ApiKey::SyncGroup,
    ApiKey::DescribeGroups,
    ApiKey::ListGroups,
    ApiKey::ApiVersions,
    ApiKey::CreateTopics,
    ApiKey::DeleteTopics,
    ApiKey::InitProducerId,
    ApiKey::OffsetForLeaderEpoch,
    ApiKey::DeleteGroups,
    ApiKey::OffsetDelete,
    ApiKey::DescribeUserScramCredentials,
    ApiKey::AlterUserScramCredentials,
    ApiKey::DescribeCluster,
    ApiKey::DeleteRecords,
    ApiKey::DescribeConfigs,
    ApiKey::AlterConfigs,
    ApiKey::DescribeLogDirs,
    ApiKey::CreatePartitions,
    ApiKey::ElectLeaders,
    ApiKey::IncrementalAlterConfigs,
    ApiKey::ListPartitionReassignments,
    ApiKey::DescribeProducers,
    ApiKey::DescribeTopicPartitions,
    ApiKey::AddPartitionsToTxn,
    ApiKey::AddOffsetsToTxn,
    ApiKey::EndTxn,
    ApiKey::TxnOffsetCommit,
    ApiKey::DescribeTransactions,
    ApiKey::ListTransactions,
];

/// `ConfigResource.Type` ids.
const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

/// APIs answered on a PLAINTEXT listener exactly as a Kafka broker's PLAINTEXT listener without
/// an authorizer does, with the error every result
/// must carry: ILLEGAL_SASL_STATE (`KafkaApis.handleSaslHandshakeRequest`/
/// `handleSaslAuthenticateRequest`) and SECURITY_DISABLED (`AclApis`).
const ANSWERED_AS_PLAINTEXT: &[(ApiKey, i16)] = &[
    (ApiKey::SaslHandshake, 34),
    (ApiKey::SaslAuthenticate, 34),
    (ApiKey::DescribeAcls, 54),
    (ApiKey::CreateAcls, 54),
    (ApiKey::DeleteAcls, 54),
];

/// `ScramMechanism` type ids (KIP-554) and the iteration bounds of Kafka's
/// `ScramControlManager` (`ScramMechanism.minIterations`, `MAX_ITERATIONS`).
const SCRAM_MECHANISMS: [i8; 2] = [1, 2];
const SCRAM_MIN_ITERATIONS: i32 = 4096;
const SCRAM_MAX_ITERATIONS: i32 = 16384;

/// Records produced into each partition a ListOffsets frame names.
const LIST_OFFSETS_RECORDS: i64 = 3;

/// Records produced into each partition an OffsetForLeaderEpoch frame names.
const EPOCH_RECORDS: i64 = 3;

/// Group coordinator settings of the replay brokers: a first JoinGroup completes at once
/// instead of after `group.initial.rebalance.delay.ms` (3 s by default).
const GROUP_ARGS: &[&str] = &["--override", "group.initial.rebalance.delay.ms=0"];

struct Capture {
    file: String,
    frame: Vec<u8>,
    api_key: i16,
    version: i16,
    correlation_id: i32,
}

fn captures_dir(dir: &str) -> PathBuf {
    shared_dir().join("wire-captures").join(dir)
}

fn load(dir: &str) -> Vec<Capture> {
    let path = captures_dir(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hex"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let frame = hex_decode(&std::fs::read_to_string(&p).expect("read capture"));
            let size = i32::from_be_bytes(frame[0..4].try_into().expect("size"));
            let file = p.file_name().expect("name").to_string_lossy().to_string();
            assert_eq!(size as usize, frame.len() - 4, "{file}: size prefix");
            Capture {
                api_key: i16::from_be_bytes([frame[4], frame[5]]),
                version: i16::from_be_bytes([frame[6], frame[7]]),
                correlation_id: i32::from_be_bytes(frame[8..12].try_into().expect("id")),
                file,
                frame,
            }
        })
        .collect()
}

#[test]
fn java_client_frames() {
    replay_all("java");
}

#[test]
fn other_client_frames() {
    replay_all("other");
}

fn replay_all(dir: &str) {
    let captures = load(dir);
    assert!(!captures.is_empty(), "no captures in {dir}");
    // One broker answers ApiVersions and takes the frames of APIs it does not serve yet.
    let mut pending_broker = Broker::start();
    let advertised = advertised_ranges(&pending_broker);
    let mut replayed = 0usize;
    let mut pending: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures: Vec<String> = Vec::new();
    for cap in &captures {
        let api = ApiKey::try_from(cap.api_key).ok();
        let label = api.map_or(format!("key {}", cap.api_key), |a| format!("{a:?}"));
        if let Some((api, code)) = ANSWERED_AS_PLAINTEXT
            .iter()
            .copied()
            .find(|(a, _)| *a as i16 == cap.api_key)
        {
            // All four are served and advertised now: the SASL APIs (answered ILLEGAL_SASL_STATE
            // on this PLAINTEXT listener) and the ACL APIs (SECURITY_DISABLED without an
            // authorizer), as a Kafka broker's PLAINTEXT listener answers them.
            assert!(advertised.contains_key(&cap.api_key), "{api:?}: advertised");
            match check_plaintext_answer(&mut pending_broker, cap, api, code) {
                Ok(()) => replayed += 1,
                Err(e) => failures.push(format!("{} ({api:?} v{}): {e}", cap.file, cap.version)),
            }
            continue;
        }
        let Some(range) = advertised.get(&cap.api_key).copied() else {
            *pending.entry(label).or_default() += 1;
            send_unserved(&mut pending_broker, cap);
            continue;
        };
        let api = api.expect("an advertised API is a known API");
        if !COVERED.contains(&api) {
            failures.push(format!(
                "{}: {api:?} is advertised, but wire_captures.rs cannot replay it yet: add it to COVERED \
                 with its preparation, expected errors and content checks",
                cap.file
            ));
            continue;
        }
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            replay(cap, api, range, &advertised)
        }));
        match outcome {
            Ok(()) => replayed += 1,
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("{} ({api:?} v{}): {msg}", cap.file, cap.version));
            }
        }
    }
    let pending_total: usize = pending.values().sum();
    eprintln!(
        "wire captures {dir}: {} frames, replayed {replayed}, failed {}, pending {pending_total} by API: {pending:?}",
        captures.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} captured {dir} frames were not answered correctly:\n{}",
        failures.len(),
        captures.len(),
        failures.join("\n")
    );
}

/// The advertised `api_key -> (min, max)` as the broker reports it.
fn advertised_ranges(broker: &Broker) -> HashMap<i16, (i16, i16)> {
    let req = ApiVersionsRequest::default()
        .with_client_software_name(s("wire-captures"))
        .with_client_software_version(s("1"));
    let resp = broker.client().send(&req, 3);
    assert_eq!(resp.error_code, code::NONE);
    resp.api_keys
        .iter()
        .map(|a| (a.api_key, (a.min_version, a.max_version)))
        .collect()
}

/// Sends a SASL or ACL frame and checks Kafka's PLAINTEXT/no-authorizer answer: every error code
/// in the response is `code`, and there is at least one.
fn check_plaintext_answer(
    broker: &mut Broker,
    cap: &Capture,
    api: ApiKey,
    code: i16,
) -> Result<(), String> {
    let mut c = broker.client();
    let mut resp = c
        .send_frame(&cap.frame)
        .ok_or_else(|| "the broker closed the connection".to_string())?;
    let header = ResponseHeader::decode(&mut resp, api.response_header_version(cap.version))
        .map_err(|e| format!("response header: {e}"))?;
    if header.correlation_id != cap.correlation_id {
        return Err(format!("correlation id {}", header.correlation_id));
    }
    let decoded = ResponseKind::decode(api, &mut resp, cap.version)
        .map_err(|e| format!("response body: {e}"))?;
    let codes = error_codes(&format!("{decoded:?}"));
    if codes.is_empty() || codes.iter().any(|c| *c != code) {
        return Err(format!("error codes {codes:?}, expected all {code}"));
    }
    Ok(())
}

/// A frame of an API the broker does not serve: whatever it does (Kafka closes the connection
/// for requests it cannot parse), the broker keeps serving.
fn send_unserved(broker: &mut Broker, cap: &Capture) {
    let mut c = broker.client();
    let _ = c.send_frame(&cap.frame);
    assert!(broker.is_running(), "{}: the broker exited", cap.file);
    let resp = broker.client().send(&ApiVersionsRequest::default(), 0);
    assert_eq!(
        resp.error_code,
        code::NONE,
        "{}: broker still serving",
        cap.file
    );
}

/// Topics a frame names, by name or by id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum TopicKey {
    Name(String),
    Id(Uuid),
}

/// What a fresh broker needs before a frame makes sense: topics with at least so many
/// partitions, and at least so many records in some partitions.
#[derive(Default, Debug)]
struct Prep {
    partitions: BTreeMap<TopicKey, i32>,
    records: BTreeMap<(TopicKey, i32), i64>,
    /// SCRAM credentials (user, mechanism) that must exist (the frame deletes them).
    credentials: Vec<(String, i8)>,
}

impl Prep {
    fn topic(&mut self, t: TopicKey, partition: i32) {
        let n = self.partitions.entry(t).or_insert(1);
        *n = (*n).max(partition + 1);
    }

    fn records(&mut self, t: TopicKey, partition: i32, count: i64) {
        self.topic(t.clone(), partition);
        let n = self.records.entry((t, partition)).or_insert(0);
        *n = (*n).max(count);
    }
}

fn key_of(name: &str, id: Uuid, by_id: bool) -> TopicKey {
    if by_id {
        TopicKey::Id(id)
    } else {
        TopicKey::Name(name.to_string())
    }
}

/// The topics and records the request needs to be meaningful.
fn prepare(body: &RequestKind, v: i16) -> Prep {
    let mut p = Prep::default();
    match body {
        RequestKind::Produce(r) => {
            for t in &r.topic_data {
                for d in &t.partition_data {
                    p.topic(key_of(&t.name, t.topic_id, v >= 13), d.index);
                }
            }
        }
        RequestKind::Fetch(r) => {
            for t in &r.topics {
                for f in &t.partitions {
                    // Records up to and including the fetched offset.
                    p.records(
                        key_of(&t.topic, t.topic_id, v >= 13),
                        f.partition,
                        f.fetch_offset.max(0) + 1,
                    );
                }
            }
        }
        RequestKind::ListOffsets(r) => {
            for t in &r.topics {
                for part in &t.partitions {
                    p.records(
                        TopicKey::Name(t.name.to_string()),
                        part.partition_index,
                        LIST_OFFSETS_RECORDS,
                    );
                }
            }
        }
        RequestKind::Metadata(r) => {
            for t in r.topics.iter().flatten() {
                match &t.name {
                    Some(n) if v < 12 || t.topic_id.is_nil() => {
                        p.topic(TopicKey::Name(n.to_string()), 0)
                    }
                    _ => p.topic(TopicKey::Id(t.topic_id), 0),
                }
            }
        }
        RequestKind::DeleteTopics(r) => {
            for n in &r.topic_names {
                p.topic(TopicKey::Name(n.to_string()), 0);
            }
            for t in &r.topics {
                match &t.name {
                    Some(n) => p.topic(TopicKey::Name(n.to_string()), 0),
                    None => p.topic(TopicKey::Id(t.topic_id), 0),
                }
            }
        }
        RequestKind::OffsetCommit(r) => {
            for t in &r.topics {
                for part in &t.partitions {
                    p.topic(TopicKey::Name(t.name.to_string()), part.partition_index);
                }
            }
        }
        RequestKind::OffsetDelete(r) => {
            for t in &r.topics {
                for part in &t.partitions {
                    p.topic(TopicKey::Name(t.name.to_string()), part.partition_index);
                }
            }
        }
        RequestKind::OffsetForLeaderEpoch(r) => {
            for t in &r.topics {
                for part in &t.partitions {
                    p.records(
                        TopicKey::Name(t.topic.to_string()),
                        part.partition,
                        EPOCH_RECORDS,
                    );
                }
            }
        }
        RequestKind::AlterUserScramCredentials(r) => {
            for d in &r.deletions {
                if !d.name.is_empty() && SCRAM_MECHANISMS.contains(&d.mechanism) {
                    p.credentials.push((d.name.to_string(), d.mechanism));
                }
            }
        }
        RequestKind::DescribeConfigs(r) => {
            for res in &r.resources {
                if res.resource_type == RESOURCE_TOPIC && !res.resource_name.is_empty() {
                    p.topic(TopicKey::Name(res.resource_name.to_string()), 0);
                }
            }
        }
        RequestKind::DescribeLogDirs(r) => {
            for t in r.topics.iter().flatten() {
                for part in &t.partitions {
                    p.records(TopicKey::Name(t.topic.to_string()), *part, 2);
                }
            }
        }
        RequestKind::DescribeTopicPartitions(r) => {
            for t in &r.topics {
                p.topic(TopicKey::Name(t.name.to_string()), 0);
            }
        }
        RequestKind::ListPartitionReassignments(r) => {
            for t in r.topics.iter().flatten() {
                for part in &t.partition_indexes {
                    p.topic(TopicKey::Name(t.name.to_string()), *part);
                }
            }
        }
        // CreateTopics creates; the others name no topics.
        _ => {}
    }
    p
}

/// The name a topic gets when the frame names it only by id.
fn name_for_id(id: Uuid) -> String {
    format!("captured-{}", id.simple())
}

/// Kafka's string form of a uuid: URL-safe base64 without padding.
fn kafka_uuid_string(id: Uuid) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = id.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | ((*b as u32) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Topics named only by id cannot be created through the protocol (CreateTopics assigns ids),
/// so they are laid out on disk in Kafka's format before the broker starts: `<topic>-<p>/` with
/// a `partition.metadata` carrying the topic id, as a Kafka data directory has them.
fn seed_topic_ids(dir: &Path, prep: &Prep) {
    for (key, n) in &prep.partitions {
        if let TopicKey::Id(id) = key {
            for p in 0..*n {
                let d = dir.join(format!("{}-{p}", name_for_id(*id)));
                std::fs::create_dir_all(&d).expect("partition dir");
                std::fs::write(
                    d.join("partition.metadata"),
                    format!("version: 0\ntopic_id: {}\n", kafka_uuid_string(*id)),
                )
                .expect("partition.metadata");
            }
        }
    }
}

fn topic_ref(key: &TopicKey, ids: &HashMap<String, Uuid>) -> TopicRef {
    match key {
        TopicKey::Name(n) => TopicRef {
            name: n.clone(),
            id: ids.get(n).copied().unwrap_or_default(),
        },
        TopicKey::Id(id) => TopicRef {
            name: name_for_id(*id),
            id: *id,
        },
    }
}

fn replay(
    cap: &Capture,
    api: ApiKey,
    (min, max): (i16, i16),
    advertised: &HashMap<i16, (i16, i16)>,
) {
    let v = cap.version;
    if v < min || v > max {
        // An advertised API at a version the broker does not serve.
        let broker = Broker::start();
        let mut c = broker.client();
        if api == ApiKey::ApiVersions {
            let mut resp = c.send_frame(&cap.frame).expect("KIP-511: answered");
            assert_eq!(resp.get_i32(), cap.correlation_id);
            let body = kafka_protocol::messages::ApiVersionsResponse::decode(&mut resp, 0)
                .expect("v0 body");
            assert_eq!(body.error_code, code::UNSUPPORTED_VERSION);
        } else {
            let _ = c.try_write_raw(&cap.frame);
            assert!(
                c.closed_within(Duration::from_secs(10)),
                "v{v} is not served: connection closed"
            );
        }
        return;
    }
    if api == ApiKey::Produce && v < 3 {
        return replay_legacy_produce(cap);
    }

    let mut frame = Bytes::copy_from_slice(&cap.frame[4..]);
    let _header =
        RequestHeader::decode(&mut frame, api.request_header_version(v)).expect("request header");
    let body = RequestKind::decode(api, &mut frame, v).expect("request body");
    assert!(!frame.has_remaining(), "the capture decodes completely");

    let prep = prepare(&body, v);
    let broker = Broker::start_seeded(GROUP_ARGS, |dir| seed_topic_ids(dir, &prep));
    let mut c = broker.client();
    let mut ids: HashMap<String, Uuid> = HashMap::new();
    for (key, n) in &prep.partitions {
        if let TopicKey::Name(name) = key {
            ids.insert(name.clone(), create_topic(&mut c, name, *n).id);
        }
    }
    for (user, mechanism) in &prep.credentials {
        upsert_credential(&mut c, user, *mechanism);
    }
    for ((key, partition), count) in &prep.records {
        let t = topic_ref(key, &ids);
        let records: Vec<Rec> = (0..*count).map(|i| rec("", &i.to_string())).collect();
        produce_ok(&mut c, &t, *partition, &records);
    }

    let acks_zero = matches!(&body, RequestKind::Produce(r) if r.acks == 0);
    let response = if acks_zero {
        // No response; the next request on the connection gets the next frame.
        c.write_raw(&cap.frame);
        let resp = c.send(&ApiVersionsRequest::default(), 0);
        assert_eq!(
            resp.error_code,
            code::NONE,
            "the connection goes on after acks=0"
        );
        None
    } else {
        let mut resp = c
            .send_frame(&cap.frame)
            .expect("the broker answers the captured frame");
        let header = ResponseHeader::decode(&mut resp, api.response_header_version(v))
            .expect("response header");
        assert_eq!(header.correlation_id, cap.correlation_id, "correlation id");
        let decoded = ResponseKind::decode(api, &mut resp, v).expect("response body");
        assert!(
            !resp.has_remaining(),
            "{} bytes left after the response",
            resp.remaining()
        );
        Some(decoded)
    };

    if let Some(resp) = &response {
        let debug = format!("{resp:?}");
        let mut got: Vec<i16> = error_codes(&debug)
            .into_iter()
            .filter(|c| *c != 0)
            .collect();
        got.sort();
        let mut want = expected_errors(&body, v);
        want.sort();
        assert_eq!(
            got, want,
            "error codes in the response (expected only Kafka's errors): {debug:.2000}"
        );
    }
    check_content(
        &mut c,
        &body,
        response.as_ref(),
        v,
        &ids,
        &prep,
        advertised,
        &broker,
    );
}

/// Every `error_code` field anywhere in a decoded response (via its Debug form, so nested and
/// future fields are covered too).
fn error_codes(debug: &str) -> Vec<i16> {
    debug
        .match_indices("error_code: ")
        .map(|(i, m)| {
            let rest = &debug[i + m.len()..];
            let n: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '-')
                .collect();
            n.parse().unwrap_or_else(|_| panic!("error code {n:?}"))
        })
        .collect()
}

/// The non-zero error codes Kafka answers this request with on a fresh single broker.
fn expected_errors(body: &RequestKind, v: i16) -> Vec<i16> {
    match body {
        // An incremental fetch (epoch > 0) continues a session created on the broker the client
        // was talking to when the frame was captured; this broker has no such session, so
        // Kafka's `FetchManager.newContext` answers FETCH_SESSION_ID_NOT_FOUND at the top level.
        RequestKind::Fetch(r) if v >= 7 && r.session_epoch > 0 => {
            vec![code::FETCH_SESSION_ID_NOT_FOUND]
        }
        // A replication factor above 1 cannot be met by a single broker.
        RequestKind::CreateTopics(r) => r
            .topics
            .iter()
            .filter(|t| t.assignments.is_empty() && t.replication_factor > 1)
            .map(|_| code::INVALID_REPLICATION_FACTOR)
            .collect(),
        RequestKind::AlterUserScramCredentials(r) => expected_scram_alter_errors(r),
        // A broker resource naming another broker id (or not a number) is INVALID_REQUEST, as
        // in Kafka's `ConfigHelper`; so are resource types Klamm does not keep configs for.
        RequestKind::DescribeConfigs(r) => r
            .resources
            .iter()
            .filter(|res| match res.resource_type {
                RESOURCE_TOPIC => false,
                RESOURCE_BROKER => {
                    !(res.resource_name.is_empty() || res.resource_name.as_str() == "0")
                }
                _ => true,
            })
            .map(|_| code::INVALID_REQUEST)
            .collect(),
        // A fresh broker knows no groups: the member-bound requests are UNKNOWN_MEMBER_ID (the
        // coordinator's answer for an unknown group), a new member of v4+ gets
        // MEMBER_ID_REQUIRED (KIP-394).
        RequestKind::JoinGroup(r) => {
            if r.group_id.is_empty() {
                vec![code::INVALID_GROUP_ID]
            } else if !(6000..=1_800_000).contains(&r.session_timeout_ms) {
                vec![code::INVALID_SESSION_TIMEOUT]
            } else if !r.member_id.is_empty() {
                vec![code::UNKNOWN_MEMBER_ID]
            } else if v >= 4 && r.group_instance_id.is_none() {
                vec![code::MEMBER_ID_REQUIRED]
            } else {
                vec![]
            }
        }
        RequestKind::SyncGroup(r)
            if v >= 5 && (r.protocol_type.is_none() || r.protocol_name.is_none()) =>
        {
            vec![code::INCONSISTENT_GROUP_PROTOCOL]
        }
        RequestKind::SyncGroup(r) if r.group_id.is_empty() => vec![code::INVALID_GROUP_ID],
        RequestKind::SyncGroup(_) => vec![code::UNKNOWN_MEMBER_ID],
        RequestKind::Heartbeat(r) if r.group_id.is_empty() => vec![code::INVALID_GROUP_ID],
        RequestKind::Heartbeat(_) => vec![code::UNKNOWN_MEMBER_ID],
        RequestKind::LeaveGroup(r) if v >= 3 => vec![code::UNKNOWN_MEMBER_ID; r.members.len()],
        RequestKind::LeaveGroup(_) => vec![code::UNKNOWN_MEMBER_ID],
        // A commit with a generation names a group that does not exist: ILLEGAL_GENERATION, and
        // GROUP_ID_NOT_FOUND from v9; without one it creates a simple group.
        RequestKind::OffsetCommit(r) if r.generation_id_or_member_epoch >= 0 => {
            let e = if v >= 9 {
                code::GROUP_ID_NOT_FOUND
            } else {
                code::ILLEGAL_GENERATION
            };
            vec![e; r.topics.iter().map(|t| t.partitions.len()).sum()]
        }
        RequestKind::DescribeGroups(r) if v >= 6 => vec![code::GROUP_ID_NOT_FOUND; r.groups.len()],
        RequestKind::DeleteGroups(r) => {
            let mut names: Vec<&str> = r.groups_names.iter().map(|g| g.as_str()).collect();
            names.sort();
            names.dedup();
            vec![code::GROUP_ID_NOT_FOUND; names.len()]
        }
        RequestKind::OffsetDelete(_) => vec![code::GROUP_ID_NOT_FOUND],
        RequestKind::OffsetForLeaderEpoch(r) => r
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .filter_map(|p| match p.current_leader_epoch {
                -1 | 0 => None,
                e if e > 0 => Some(code::UNKNOWN_LEADER_EPOCH),
                _ => Some(code::FENCED_LEADER_EPOCH),
            })
            .collect(),
        RequestKind::DescribeUserScramCredentials(r) => {
            // Nothing exists on a fresh broker: every named user is RESOURCE_NOT_FOUND, and a
            // user named twice is DUPLICATE_RESOURCE (one result per user).
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for u in r.users.iter().flatten() {
                *counts.entry(u.name.to_string()).or_default() += 1;
            }
            counts
                .values()
                .map(|n| {
                    if *n > 1 {
                        ResponseError::DuplicateResource
                    } else {
                        ResponseError::ResourceNotFound
                    }
                    .code()
                })
                .collect()
        }
        _ => vec![],
    }
}

/// Kafka's `ScramControlManager.alterCredentials` on a broker where every deleted credential
/// exists (the preparation created them): a user altered twice in one request (two
/// upsertions, or a deletion and an upsertion) is DUPLICATE_RESOURCE; an empty name or too few
/// or too many iterations UNACCEPTABLE_CREDENTIAL; an unknown mechanism
/// UNSUPPORTED_SASL_MECHANISM. One error per user.
fn expected_scram_alter_errors(
    r: &kafka_protocol::messages::AlterUserScramCredentialsRequest,
) -> Vec<i16> {
    let mut errors: BTreeMap<String, ResponseError> = BTreeMap::new();
    let mut altered: std::collections::HashSet<String> = std::collections::HashSet::new();
    let validate = |name: &str, mechanism: i8| {
        if name.is_empty() {
            Some(ResponseError::UnacceptableCredential)
        } else if !SCRAM_MECHANISMS.contains(&mechanism) {
            Some(ResponseError::UnsupportedSaslMechanism)
        } else {
            None
        }
    };
    let deletions = r
        .deletions
        .iter()
        .map(|d| (d.name.to_string(), d.mechanism, None));
    let upsertions = r
        .upsertions
        .iter()
        .map(|u| (u.name.to_string(), u.mechanism, Some(u.iterations)));
    for (name, mechanism, iterations) in deletions.chain(upsertions) {
        if errors.contains_key(&name) {
            continue;
        }
        if altered.remove(&name) {
            errors.insert(name, ResponseError::DuplicateResource);
            continue;
        }
        let error = validate(&name, mechanism).or_else(|| {
            iterations
                .filter(|i| !(SCRAM_MIN_ITERATIONS..=SCRAM_MAX_ITERATIONS).contains(i))
                .map(|_| ResponseError::UnacceptableCredential)
        });
        match error {
            Some(e) => {
                errors.insert(name, e);
            }
            None => {
                altered.insert(name);
            }
        }
    }
    errors.values().map(|e| e.code()).collect()
}

/// Creates a SCRAM credential (AlterUserScramCredentials v0).
fn upsert_credential(c: &mut Client, user: &str, mechanism: i8) {
    use kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion;
    let len = if mechanism == 1 { 32 } else { 64 };
    let req = kafka_protocol::messages::AlterUserScramCredentialsRequest::default()
        .with_upsertions(vec![ScramCredentialUpsertion::default()
            .with_name(s(user))
            .with_mechanism(mechanism)
            .with_iterations(SCRAM_MIN_ITERATIONS)
            .with_salt(Bytes::from_static(b"wire-capture-salt"))
            .with_salted_password(Bytes::from(vec![7u8; len]))]);
    let resp = c.send(&req, 0);
    assert_eq!(resp.results.len(), 1);
    assert_eq!(
        resp.results[0].error_code,
        code::NONE,
        "creating the credential of {user}"
    );
}

/// API-specific checks of what the broker did.
#[allow(clippy::too_many_arguments)]
fn check_content(
    c: &mut Client,
    body: &RequestKind,
    response: Option<&ResponseKind>,
    v: i16,
    ids: &HashMap<String, Uuid>,
    prep: &Prep,
    advertised: &HashMap<i16, (i16, i16)>,
    broker: &Broker,
) {
    match (body, response) {
        (RequestKind::Produce(req), resp) => {
            if let Some(ResponseKind::Produce(resp)) = resp {
                for t in &resp.responses {
                    for p in &t.partition_responses {
                        assert_eq!(p.base_offset, 0, "first batch of a fresh partition");
                        assert_eq!(p.log_append_time_ms, -1);
                    }
                }
            }
            // The batch is stored exactly as sent, only the base offset and leader epoch set.
            for t in &req.topic_data {
                let topic = topic_ref(&key_of(&t.name, t.topic_id, v >= 13), ids);
                for d in &t.partition_data {
                    let sent = d.records.clone().unwrap_or_default();
                    let f = fetch(c, &topic, d.index, 0, 12);
                    assert_eq!(f.error_code, code::NONE);
                    let stored = f.records.unwrap_or_default();
                    assert_eq!(stored.len(), sent.len(), "stored batch size");
                    assert_eq!(&stored[0..8], &0i64.to_be_bytes(), "base offset 0");
                    assert_eq!(
                        &stored[12..16],
                        &0i32.to_be_bytes(),
                        "partition leader epoch 0"
                    );
                    assert_eq!(&stored[8..12], &sent[8..12], "batch length");
                    assert_eq!(&stored[16..], &sent[16..], "batch stored as sent");
                    let count = batch_infos(&sent)
                        .iter()
                        .map(|b| b.record_count as i64)
                        .sum::<i64>();
                    assert_eq!(f.high_watermark, count, "high watermark after the batch");
                }
            }
        }
        (RequestKind::Fetch(req), Some(ResponseKind::Fetch(resp))) => {
            if resp.error_code != code::NONE {
                assert!(resp.responses.is_empty());
                return;
            }
            let requested: usize = req.topics.iter().map(|t| t.partitions.len()).sum();
            let answered: usize = resp.responses.iter().map(|t| t.partitions.len()).sum();
            assert_eq!(answered, requested, "every requested partition is answered");
            for t in &req.topics {
                let key = key_of(&t.topic, t.topic_id, v >= 13);
                let rt = resp
                    .responses
                    .iter()
                    .find(|r| {
                        if v >= 13 {
                            r.topic_id == t.topic_id
                        } else {
                            r.topic == t.topic
                        }
                    })
                    .expect("topic answered");
                for fp in &t.partitions {
                    let pd = rt
                        .partitions
                        .iter()
                        .find(|p| p.partition_index == fp.partition)
                        .expect("partition answered");
                    let count = prep.records[&(key.clone(), fp.partition)];
                    assert_eq!(pd.high_watermark, count, "high watermark");
                    let data = pd.records.clone().unwrap_or_default();
                    let infos = batch_infos(&data);
                    assert!(!infos.is_empty(), "records at offset {}", fp.fetch_offset);
                    let first = &infos[0];
                    assert!(
                        first.min_offset <= fp.fetch_offset
                            && fp.fetch_offset < first.min_offset + first.record_count as i64,
                        "the first batch holds offset {}",
                        fp.fetch_offset
                    );
                }
            }
        }
        (RequestKind::ListOffsets(req), Some(ResponseKind::ListOffsets(resp))) => {
            for t in &req.topics {
                let rt = resp
                    .topics
                    .iter()
                    .find(|r| r.name == t.name)
                    .expect("topic answered");
                for p in &t.partitions {
                    let rp = rt
                        .partitions
                        .iter()
                        .find(|r| r.partition_index == p.partition_index)
                        .expect("partition answered");
                    match p.timestamp {
                        -1 => assert_eq!(rp.offset, LIST_OFFSETS_RECORDS, "LATEST"),
                        -2 => assert_eq!(rp.offset, 0, "EARLIEST"),
                        _ => assert!(rp.offset >= -1),
                    }
                }
            }
        }
        (RequestKind::Metadata(req), Some(ResponseKind::Metadata(resp))) => {
            assert_eq!(resp.brokers.len(), 1);
            assert_eq!(resp.brokers[0].port, broker.advertised_port);
            for t in req.topics.iter().flatten() {
                let found = resp
                    .topics
                    .iter()
                    .find(|r| match &t.name {
                        Some(n) => r.name.as_ref() == Some(n),
                        None => r.topic_id == t.topic_id,
                    })
                    .expect("requested topic answered");
                assert!(
                    !found.partitions.is_empty(),
                    "partitions of {:?}",
                    found.name
                );
            }
        }
        (RequestKind::ApiVersions(_), Some(ResponseKind::ApiVersions(resp))) => {
            let got: HashMap<i16, (i16, i16)> = resp
                .api_keys
                .iter()
                .map(|a| (a.api_key, (a.min_version, a.max_version)))
                .collect();
            assert_eq!(&got, advertised, "the advertised APIs");
        }
        (RequestKind::CreateTopics(req), Some(ResponseKind::CreateTopics(resp))) => {
            for t in &req.topics {
                let r = resp
                    .topics
                    .iter()
                    .find(|r| r.name == t.name)
                    .expect("topic answered");
                let md = describe_topic(c, &t.name);
                if r.error_code == code::NONE {
                    assert_eq!(md.error_code, code::NONE, "{} created", t.name.as_str());
                    if t.num_partitions > 0 {
                        assert_eq!(md.partitions.len(), t.num_partitions as usize);
                    }
                    if v >= 7 {
                        assert_eq!(r.topic_id, md.topic_id);
                    }
                } else {
                    assert_eq!(
                        md.error_code,
                        code::UNKNOWN_TOPIC_OR_PARTITION,
                        "{} not created",
                        t.name.as_str()
                    );
                }
            }
        }
        (RequestKind::DeleteTopics(_), Some(ResponseKind::DeleteTopics(_))) => {
            for key in prep.partitions.keys() {
                let name = topic_ref(key, ids).name;
                assert_eq!(
                    describe_topic(c, &name).error_code,
                    code::UNKNOWN_TOPIC_OR_PARTITION,
                    "{name} deleted"
                );
            }
        }
        (RequestKind::InitProducerId(_), Some(ResponseKind::InitProducerId(resp))) => {
            assert!(resp.producer_id.0 >= 0);
            assert_eq!(resp.producer_epoch, 0);
        }
        (
            RequestKind::AlterUserScramCredentials(req),
            Some(ResponseKind::AlterUserScramCredentials(resp)),
        ) => {
            // One result per user named.
            let mut users: Vec<String> = req
                .deletions
                .iter()
                .map(|d| d.name.to_string())
                .chain(req.upsertions.iter().map(|u| u.name.to_string()))
                .collect();
            users.sort();
            users.dedup();
            let mut answered: Vec<String> =
                resp.results.iter().map(|r| r.user.to_string()).collect();
            answered.sort();
            assert_eq!(answered, users, "one result per user");
            for r in &resp.results {
                if r.error_code != code::NONE {
                    assert!(
                        r.error_message.is_some(),
                        "an error message for {}",
                        r.user.as_str()
                    );
                }
            }
        }
        (
            RequestKind::DescribeUserScramCredentials(_),
            Some(ResponseKind::DescribeUserScramCredentials(resp)),
        ) => {
            assert_eq!(resp.error_code, code::NONE);
        }
        (RequestKind::DescribeConfigs(req), Some(ResponseKind::DescribeConfigs(resp))) => {
            assert_eq!(
                resp.results.len(),
                req.resources.len(),
                "one result per resource"
            );
            for (res, r) in req.resources.iter().zip(&resp.results) {
                assert_eq!(
                    (r.resource_type, r.resource_name.as_str()),
                    (res.resource_type, res.resource_name.as_str())
                );
                if r.error_code != code::NONE {
                    assert!(r.error_message.is_some());
                    continue;
                }
                let names: Vec<&str> = r.configs.iter().map(|c| c.name.as_str()).collect();
                match &res.configuration_keys {
                    Some(keys) if !keys.is_empty() => {
                        assert!(
                            names.iter().all(|n| keys.iter().any(|k| k.as_str() == *n)),
                            "only the named keys: {names:?}"
                        );
                    }
                    _ if res.resource_type == RESOURCE_TOPIC => {
                        assert!(
                            names.contains(&"cleanup.policy") && names.contains(&"retention.ms"),
                            "{names:?}"
                        );
                        let seg = r
                            .configs
                            .iter()
                            .find(|c| c.name.as_str() == "segment.bytes")
                            .expect("segment.bytes");
                        assert_eq!(seg.value.as_ref().map(|v| v.as_str()), Some("1073741824"));
                    }
                    _ if res.resource_name.is_empty() => {
                        assert!(names.is_empty(), "no dynamic cluster defaults")
                    }
                    _ => assert!(
                        names.contains(&"log.retention.hours") && names.contains(&"num.partitions"),
                        "{names:?}"
                    ),
                }
            }
        }
        (RequestKind::DescribeLogDirs(req), Some(ResponseKind::DescribeLogDirs(resp))) => {
            assert_eq!(resp.results.len(), 1, "one log dir");
            let dir = &resp.results[0];
            let data_dir = std::fs::canonicalize(broker.data_dir()).expect("data dir");
            assert_eq!(dir.log_dir.as_str(), data_dir.to_string_lossy());
            if v >= 4 {
                assert!(dir.total_bytes > 0 && dir.usable_bytes > 0);
            }
            for t in req.topics.iter().flatten() {
                let got = dir
                    .topics
                    .iter()
                    .find(|x| x.name.as_str() == t.topic.as_str())
                    .expect("requested topic listed");
                for p in &t.partitions {
                    let part = got
                        .partitions
                        .iter()
                        .find(|x| x.partition_index == *p)
                        .expect("requested partition listed");
                    assert!(part.partition_size > 0, "two records are stored");
                }
            }
            if req.topics.is_none() {
                assert_eq!(dir.topics.len(), prep.partitions.len());
            }
        }
        (
            RequestKind::DescribeTopicPartitions(req),
            Some(ResponseKind::DescribeTopicPartitions(resp)),
        ) => {
            let mut want: Vec<String> = req.topics.iter().map(|t| t.name.to_string()).collect();
            want.sort();
            let got: Vec<String> = resp
                .topics
                .iter()
                .map(|t| t.name.as_ref().map(|n| n.to_string()).unwrap_or_default())
                .collect();
            assert_eq!(got, want, "every named topic, in name order");
            for t in &resp.topics {
                let id = ids
                    .get(t.name.as_ref().map(|n| n.as_str()).unwrap_or_default())
                    .copied()
                    .unwrap_or_default();
                assert_eq!(t.topic_id, id);
                assert_eq!(t.partitions.len(), 1);
                assert_eq!(t.partitions[0].leader_id.0, 0);
            }
            assert!(resp.next_cursor.is_none());
        }
        (RequestKind::ListTransactions(req), Some(ResponseKind::ListTransactions(resp))) => {
            assert_eq!(resp.error_code, code::NONE);
            // Every filter the Java admin sent names a real state.
            assert!(resp.unknown_state_filters.is_empty());
            for t in &resp.transaction_states {
                assert!(!t.transactional_id.is_empty());
                assert!(
                    req.state_filters.is_empty()
                        || req.state_filters.contains(&t.transaction_state)
                );
            }
        }
        (
            RequestKind::ListPartitionReassignments(_),
            Some(ResponseKind::ListPartitionReassignments(resp)),
        ) => {
            assert_eq!(resp.error_code, code::NONE);
            assert!(resp.topics.is_empty(), "a single broker never reassigns");
        }
        (RequestKind::FindCoordinator(req), Some(ResponseKind::FindCoordinator(resp))) => {
            let node = (0, broker.advertised_host.as_str(), broker.advertised_port);
            if v >= 4 {
                let keys: Vec<&str> = resp.coordinators.iter().map(|c| c.key.as_str()).collect();
                let asked: Vec<&str> = req.coordinator_keys.iter().map(|k| k.as_str()).collect();
                assert_eq!(keys, asked, "one coordinator per key");
                for co in &resp.coordinators {
                    assert_eq!((co.node_id.0, co.host.as_str(), co.port), node);
                }
            } else {
                assert_eq!((resp.node_id.0, resp.host.as_str(), resp.port), node);
            }
        }
        (RequestKind::JoinGroup(req), Some(ResponseKind::JoinGroup(resp))) => {
            match resp.error_code {
                code::MEMBER_ID_REQUIRED => {
                    assert!(!resp.member_id.is_empty(), "a member id to join with");
                    assert_eq!(resp.generation_id, -1);
                }
                code::NONE => {
                    // The only member of a new group leads generation 1 with its first protocol.
                    assert_eq!(resp.generation_id, 1);
                    assert_eq!(resp.leader, resp.member_id);
                    assert_eq!(resp.members.len(), 1);
                    assert_eq!(resp.members[0].metadata, req.protocols[0].metadata);
                    assert_eq!(
                        resp.protocol_name.as_deref(),
                        Some(req.protocols[0].name.as_str())
                    );
                }
                _ => assert!(resp.members.is_empty()),
            }
        }
        (RequestKind::SyncGroup(_), Some(ResponseKind::SyncGroup(resp))) => {
            assert!(resp.assignment.is_empty());
        }
        (RequestKind::Heartbeat(_), Some(ResponseKind::Heartbeat(_))) => {}
        (RequestKind::LeaveGroup(req), Some(ResponseKind::LeaveGroup(resp))) => {
            if v >= 3 {
                let asked: Vec<&str> = req.members.iter().map(|m| m.member_id.as_str()).collect();
                let answered: Vec<&str> =
                    resp.members.iter().map(|m| m.member_id.as_str()).collect();
                assert_eq!(answered, asked, "one answer per member");
            }
        }
        (RequestKind::OffsetCommit(req), Some(ResponseKind::OffsetCommit(resp))) => {
            let asked: Vec<(String, i32)> = req
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions
                        .iter()
                        .map(move |p| (t.name.to_string(), p.partition_index))
                })
                .collect();
            let answered: Vec<(String, i32)> = resp
                .topics
                .iter()
                .flat_map(|t| {
                    t.partitions
                        .iter()
                        .map(move |p| (t.name.to_string(), p.partition_index))
                })
                .collect();
            assert_eq!(answered, asked, "every partition answered");
        }
        (RequestKind::OffsetFetch(req), Some(ResponseKind::OffsetFetch(resp))) => {
            // Nothing was committed on a fresh broker: -1 and no metadata everywhere.
            let offsets: Vec<(i64, String)> = if v >= 8 {
                assert_eq!(resp.groups.len(), req.groups.len());
                resp.groups
                    .iter()
                    .flat_map(|g| &g.topics)
                    .flat_map(|t| &t.partitions)
                    .map(|p| {
                        (
                            p.committed_offset,
                            p.metadata.as_deref().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            } else {
                let asked: usize = req
                    .topics
                    .iter()
                    .flatten()
                    .map(|t| t.partition_indexes.len())
                    .sum();
                let answered: usize = resp.topics.iter().map(|t| t.partitions.len()).sum();
                assert_eq!(answered, asked, "every partition answered");
                resp.topics
                    .iter()
                    .flat_map(|t| &t.partitions)
                    .map(|p| {
                        (
                            p.committed_offset,
                            p.metadata.as_deref().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            };
            assert!(
                offsets.iter().all(|(o, m)| *o == -1 && m.is_empty()),
                "{offsets:?}"
            );
        }
        (RequestKind::DescribeGroups(req), Some(ResponseKind::DescribeGroups(resp))) => {
            assert_eq!(resp.groups.len(), req.groups.len());
            assert!(resp.groups.iter().all(|g| g.group_state.as_str() == "Dead"));
        }
        (RequestKind::ListGroups(_), Some(ResponseKind::ListGroups(resp))) => {
            assert!(resp.groups.is_empty(), "a fresh broker has no groups");
        }
        (RequestKind::DeleteGroups(_), Some(ResponseKind::DeleteGroups(_))) => {}
        (RequestKind::OffsetDelete(_), Some(ResponseKind::OffsetDelete(resp))) => {
            assert!(resp.topics.is_empty());
        }
        (
            RequestKind::OffsetForLeaderEpoch(req),
            Some(ResponseKind::OffsetForLeaderEpoch(resp)),
        ) => {
            for (t, rt) in req.topics.iter().zip(&resp.topics) {
                assert_eq!(rt.topic, t.topic);
                for (p, rp) in t.partitions.iter().zip(&rt.partitions) {
                    assert_eq!(rp.partition, p.partition);
                    if rp.error_code == code::NONE && p.leader_epoch == 0 {
                        assert_eq!(
                            (rp.leader_epoch, rp.end_offset),
                            (0, EPOCH_RECORDS),
                            "epoch 0 ends at the log end"
                        );
                    }
                }
            }
        }
        (RequestKind::DescribeCluster(_), Some(ResponseKind::DescribeCluster(resp))) => {
            assert_eq!(resp.brokers.len(), 1);
            assert_eq!(resp.brokers[0].host.as_str(), broker.advertised_host);
            assert_eq!(resp.brokers[0].port, broker.advertised_port);
        }
        (body, resp) => panic!(
            "no content check for {:?} / {:?}",
            std::mem::discriminant(body),
            resp.map(std::mem::discriminant)
        ),
    }
}

/// Produce v0-2 (sarama's v0 among the captures): Kafka 4 removed them but still advertises
/// v0 (KAFKA-18659), answering UNSUPPORTED_VERSION for every partition in the old format.
fn replay_legacy_produce(cap: &Capture) {
    // acks is the first field after the v1 header (api key, version, correlation id, client id).
    let client_id_len = i16::from_be_bytes([cap.frame[12], cap.frame[13]]).max(0) as usize;
    let at = 14 + client_id_len;
    let acks = i16::from_be_bytes([cap.frame[at], cap.frame[at + 1]]);
    let broker = Broker::start();
    let mut c = broker.client();
    if acks == 0 {
        c.write_raw(&cap.frame);
        assert_eq!(
            c.send(&ApiVersionsRequest::default(), 0).error_code,
            code::NONE
        );
        return;
    }
    let resp = c.send_frame(&cap.frame).expect("Produce v0-2 is answered");
    let (id, parts) = parse_legacy_produce_response(resp, cap.version);
    assert_eq!(id, cap.correlation_id);
    assert!(!parts.is_empty());
    for p in &parts {
        assert_eq!(p.error_code, code::UNSUPPORTED_VERSION, "{p:?}");
    }
}
