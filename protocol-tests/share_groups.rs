//! KIP-932 share groups on the wire: ShareGroupHeartbeat (76), ShareGroupDescribe (77),
//! ShareFetch (78) and ShareAcknowledge (79), all v1, with Kafka 4.1's validation and error
//! codes for bad input and protocol edge cases:
//!
//! - ApiVersions advertises the four APIs at 1..1 and the `share.version` feature;
//! - heartbeat validation (blank ids, epoch 0 without topics, epoch < -1 are INVALID_REQUEST),
//!   UNKNOWN_MEMBER_ID / FENCED_MEMBER_EPOCH / GROUP_ID_NOT_FOUND, joining and leaving;
//! - share sessions (`ShareSessionCache`): epoch 0 opens, -1 closes, a wrong epoch is
//!   INVALID_SHARE_SESSION_EPOCH, no session is SHARE_SESSION_NOT_FOUND;
//! - acquisition: records handed to one member at a time with a delivery count, RELEASE
//!   redelivers with the count raised, REJECT never redelivers, a closed session releases its
//!   records without raising the count;
//! - acknowledgement validation (`KafkaApis.validateAcknowledgementBatches`: INVALID_REQUEST)
//!   and state checks (`SharePartition.acknowledge`: INVALID_RECORD_STATE), each failure
//!   leaving the records as they were;
//! - the share-partition state in `__share_group_state` surviving kill -9.
//!
//! Member ids are Kafka UUID strings (URL-safe base64 of 16 bytes, as `Uuid.toString`), since
//! Kafka's ShareFetch parses them with `Uuid.fromString`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use bytes::Bytes;
use kafka_protocol::messages::incremental_alter_configs_request as iac;
use kafka_protocol::messages::share_acknowledge_request as saq;
use kafka_protocol::messages::share_fetch_request as sfq;
use kafka_protocol::messages::*;
use uuid::Uuid;

use crate::support::consumer_groups::Member as ConsumerMember;
use crate::support::groups::gid;
use crate::support::*;

/// `Errors` codes of KIP-932.
const UNKNOWN_SERVER_ERROR: i16 = -1;
const INVALID_RECORD_STATE: i16 = 121;
const SHARE_SESSION_NOT_FOUND: i16 = 122;
const INVALID_SHARE_SESSION_EPOCH: i16 = 123;

/// `AcknowledgeType` ids.
const ACCEPT: i8 = 1;
const RELEASE: i8 = 2;
const REJECT: i8 = 3;

/// The only share-group API version Kafka 4.1 serves.
const V: i16 = 1;

/// Heartbeats every 500 ms (Kafka's 5 s lower bound lowered), as in the Python share tests.
const SHARE_OVERRIDES: &[(&str, &str)] = &[
    ("group.share.min.heartbeat.interval.ms", "100"),
    ("group.share.heartbeat.interval.ms", "500"),
];

fn broker() -> Broker {
    Broker::with_overrides(SHARE_OVERRIDES)
}

/// A fresh member id in Kafka's `Uuid.toString` form (22 characters, URL-safe base64).
fn member_id() -> String {
    URL_SAFE_NO_PAD.encode(Uuid::new_v4().as_bytes())
}

type Assignment = BTreeMap<Uuid, BTreeSet<i32>>;

fn all(topic: &TopicRef, n: i32) -> Assignment {
    [(topic.id, (0..n).collect())].into()
}

fn heartbeat(
    c: &mut Client,
    group: &str,
    member: &str,
    epoch: i32,
    topics: Option<&[&str]>,
) -> ShareGroupHeartbeatResponse {
    c.send(
        &ShareGroupHeartbeatRequest::default()
            .with_group_id(gid(group))
            .with_member_id(s(member))
            .with_member_epoch(epoch)
            .with_subscribed_topic_names(topics.map(|ts| ts.iter().map(|t| name(t)).collect())),
        V,
    )
}

fn assignment_of(r: &ShareGroupHeartbeatResponse) -> Option<Assignment> {
    r.assignment.as_ref().map(|a| {
        a.topic_partitions
            .iter()
            .filter(|tp| !tp.partitions.is_empty())
            .map(|tp| (tp.topic_id, tp.partitions.iter().copied().collect()))
            .collect()
    })
}

/// A share-group member as the tests drive it.
struct Member {
    group: String,
    id: String,
    epoch: i32,
    assignment: Assignment,
}

/// Joins (epoch 0) and heartbeats until the assignment is `expected`: Kafka assigns only
/// initialised share partitions, so the first heartbeat of a new group gets an empty
/// assignment and a later one (after InitializeShareGroupState) the partitions.
fn join(c: &mut Client, group: &str, topics: &[&str], expected: &Assignment) -> Member {
    let id = member_id();
    let r = heartbeat(c, group, &id, 0, Some(topics));
    assert_eq!(r.error_code, code::NONE, "join: {:?}", r.error_message);
    assert_eq!(r.member_id.as_deref(), Some(id.as_str()), "the client's id");
    assert!(r.member_epoch >= 1, "join epoch {}", r.member_epoch);
    assert_eq!(r.heartbeat_interval_ms, 500);
    let mut m = Member {
        group: group.to_string(),
        id,
        epoch: r.member_epoch,
        assignment: assignment_of(&r).expect("a join (epoch 0) gets its assignment"),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while &m.assignment != expected {
        assert!(
            Instant::now() < deadline,
            "no assignment {expected:?}; last {:?}",
            m.assignment
        );
        std::thread::sleep(Duration::from_millis(100));
        let r = heartbeat(c, group, &m.id, m.epoch, None);
        assert_eq!(r.error_code, code::NONE, "heartbeat: {:?}", r.error_message);
        assert!(r.member_epoch >= m.epoch);
        m.epoch = r.member_epoch;
        if let Some(a) = assignment_of(&r) {
            m.assignment = a;
        }
    }
    m
}

/// Sets group configs (IncrementalAlterConfigs, resource GROUP = 32, SET).
fn set_group_configs(c: &mut Client, group: &str, configs: &[(&str, &str)]) {
    let r = c.send(
        &IncrementalAlterConfigsRequest::default().with_resources(vec![
            iac::AlterConfigsResource::default()
                .with_resource_type(32)
                .with_resource_name(s(group))
                .with_configs(
                    configs
                        .iter()
                        .map(|(k, v)| {
                            iac::AlterableConfig::default()
                                .with_name(s(k))
                                .with_config_operation(0)
                                .with_value(Some(s(v)))
                        })
                        .collect(),
                ),
        ]),
        1,
    );
    assert_eq!(r.responses.len(), 1);
    assert_eq!(
        r.responses[0].error_code,
        code::NONE,
        "{:?}",
        r.responses[0].error_message
    );
}

/// A new group reading from the log start: `share.auto.offset.reset=earliest` must be set
/// before the share partition is first initialised (its start offset is fixed then).
fn earliest(c: &mut Client, group: &str) {
    set_group_configs(c, group, &[("share.auto.offset.reset", "earliest")]);
}

/// One acknowledgement batch: first, last, types (one type: the whole range).
type Ack = (i64, i64, Vec<i8>);

fn fetch_topic(topic: Uuid, partitions: &[(i32, &[Ack])]) -> sfq::FetchTopic {
    sfq::FetchTopic::default()
        .with_topic_id(topic)
        .with_partitions(
            partitions
                .iter()
                .map(|(p, acks)| {
                    sfq::FetchPartition::default()
                        .with_partition_index(*p)
                        .with_acknowledgement_batches(
                            acks.iter()
                                .map(|(f, l, t)| {
                                    sfq::AcknowledgementBatch::default()
                                        .with_first_offset(*f)
                                        .with_last_offset(*l)
                                        .with_acknowledge_types(t.clone())
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

fn ack_topic(topic: Uuid, partitions: &[(i32, &[Ack])]) -> saq::AcknowledgeTopic {
    saq::AcknowledgeTopic::default()
        .with_topic_id(topic)
        .with_partitions(
            partitions
                .iter()
                .map(|(p, acks)| {
                    saq::AcknowledgePartition::default()
                        .with_partition_index(*p)
                        .with_acknowledgement_batches(
                            acks.iter()
                                .map(|(f, l, t)| {
                                    saq::AcknowledgementBatch::default()
                                        .with_first_offset(*f)
                                        .with_last_offset(*l)
                                        .with_acknowledge_types(t.clone())
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

fn fetch_request(
    group: &str,
    member: &str,
    epoch: i32,
    max_wait_ms: i32,
    topics: Vec<sfq::FetchTopic>,
) -> ShareFetchRequest {
    ShareFetchRequest::default()
        .with_group_id(Some(gid(group)))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(10 * 1024 * 1024)
        .with_max_records(500)
        .with_batch_size(500)
        .with_topics(topics)
}

fn ack_request(
    group: &str,
    member: &str,
    epoch: i32,
    topics: Vec<saq::AcknowledgeTopic>,
) -> ShareAcknowledgeRequest {
    ShareAcknowledgeRequest::default()
        .with_group_id(Some(gid(group)))
        .with_member_id(Some(s(member)))
        .with_share_session_epoch(epoch)
        .with_topics(topics)
}

/// One record a member acquired.
#[derive(Clone, Debug, PartialEq)]
struct Got {
    offset: i64,
    delivery_count: i16,
    key: Option<Bytes>,
    value: Option<Bytes>,
}

fn partition(
    r: &ShareFetchResponse,
    topic: Uuid,
    p: i32,
) -> Option<&share_fetch_response::PartitionData> {
    r.responses
        .iter()
        .filter(|t| t.topic_id == topic)
        .flat_map(|t| t.partitions.iter())
        .find(|x| x.partition_index == p)
}

/// The records a response hands out on (topic, p): every offset of every AcquiredRecords range,
/// each found in the returned batches (which may hold more: whole log batches are sent).
fn acquired(r: &ShareFetchResponse, topic: Uuid, p: i32) -> Vec<Got> {
    let Some(x) = partition(r, topic, p) else {
        return Vec::new();
    };
    assert_eq!(
        x.error_code,
        code::NONE,
        "fetch error: {:?}",
        x.error_message
    );
    let records = match &x.records {
        Some(b) if !b.is_empty() => decode_records(b),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for a in &x.acquired_records {
        assert!(a.first_offset <= a.last_offset, "{a:?}");
        for o in a.first_offset..=a.last_offset {
            let rec = records
                .iter()
                .find(|r| r.offset == o)
                .unwrap_or_else(|| panic!("acquired offset {o} is not in the returned batches"));
            out.push(Got {
                offset: o,
                delivery_count: a.delivery_count,
                key: rec.key.clone(),
                value: rec.value.clone(),
            });
        }
    }
    out
}

/// A share session of one member on one partition, its epoch kept the way a client keeps it:
/// every successful request with epoch >= 0 (fetch or acknowledge) consumes one epoch.
struct Session {
    group: String,
    member: String,
    epoch: i32,
    topic: Uuid,
    partition: i32,
}

impl Session {
    fn new(m: &Member, topic: &TopicRef, partition: i32) -> Session {
        Session {
            group: m.group.clone(),
            member: m.id.clone(),
            epoch: 0,
            topic: topic.id,
            partition,
        }
    }

    fn bump(&mut self, top_level: i16) {
        if top_level == code::NONE && self.epoch >= 0 {
            self.epoch = if self.epoch == i32::MAX {
                1
            } else {
                self.epoch + 1
            };
        }
    }

    /// A ShareFetch of the session's partition carrying `acks`.
    fn fetch(&mut self, c: &mut Client, acks: &[Ack], max_wait_ms: i32) -> ShareFetchResponse {
        let r = c.send(
            &fetch_request(
                &self.group,
                &self.member,
                self.epoch,
                max_wait_ms,
                vec![fetch_topic(self.topic, &[(self.partition, acks)])],
            ),
            V,
        );
        self.bump(r.error_code);
        r
    }

    /// A ShareAcknowledge of the session's partition; returns (top-level, partition) codes.
    fn ack(&mut self, c: &mut Client, acks: &[Ack]) -> (i16, i16) {
        let r = c.send(
            &ack_request(
                &self.group,
                &self.member,
                self.epoch,
                vec![ack_topic(self.topic, &[(self.partition, acks)])],
            ),
            V,
        );
        self.bump(r.error_code);
        if r.error_code != code::NONE {
            assert!(
                r.responses.is_empty(),
                "a top-level error has no partitions"
            );
            return (r.error_code, code::NONE);
        }
        assert_eq!(r.responses.len(), 1, "every requested topic is answered");
        assert_eq!(r.responses[0].topic_id, self.topic);
        assert_eq!(r.responses[0].partitions.len(), 1);
        let p = &r.responses[0].partitions[0];
        assert_eq!(p.partition_index, self.partition);
        (r.error_code, p.error_code)
    }

    /// Fetches until `want` records were acquired (or 15 s pass); returns them and every record
    /// of the returned batches that was acquired.
    fn poll(&mut self, c: &mut Client, want: usize) -> Vec<Got> {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut got = Vec::new();
        while got.len() < want && Instant::now() < deadline {
            let r = self.fetch(c, &[], 300);
            assert_eq!(r.error_code, code::NONE, "fetch: {:?}", r.error_message);
            got.extend(acquired(&r, self.topic, self.partition));
        }
        got
    }

    /// Fetches for about `for_ms` and asserts that nothing is acquired.
    fn poll_nothing(&mut self, c: &mut Client, for_ms: u64) {
        let until = Instant::now() + Duration::from_millis(for_ms);
        while Instant::now() < until {
            let r = self.fetch(c, &[], 200);
            assert_eq!(r.error_code, code::NONE, "fetch: {:?}", r.error_message);
            let got = acquired(&r, self.topic, self.partition);
            assert!(got.is_empty(), "unexpected records: {got:?}");
        }
    }
}

fn offsets(got: &[Got]) -> Vec<i64> {
    got.iter().map(|g| g.offset).collect()
}

fn counts(got: &[Got]) -> Vec<(i64, i16)> {
    got.iter().map(|g| (g.offset, g.delivery_count)).collect()
}

/// Asserts the acquired records are `expected` (keys and values), from `first`, each with
/// delivery count `count`.
fn assert_got(got: &[Got], expected: &[Rec], first: i64, count: i16) {
    let want: Vec<(i64, i16, Option<Bytes>, Option<Bytes>)> = expected
        .iter()
        .enumerate()
        .map(|(i, r)| (first + i as i64, count, r.key.clone(), r.value.clone()))
        .collect();
    let have: Vec<(i64, i16, Option<Bytes>, Option<Bytes>)> = got
        .iter()
        .map(|g| (g.offset, g.delivery_count, g.key.clone(), g.value.clone()))
        .collect();
    assert_eq!(have, want);
}

// ---- ApiVersions ---------------------------------------------------------------------------

/// Kafka 4.1 advertises ShareGroupHeartbeat, ShareGroupDescribe, ShareFetch and ShareAcknowledge
/// at 1..1 (v0 was removed in 4.1) and the `share.version` feature 0..1, finalized at 1 when
/// share groups are on (a cluster formatted with `share.version=1`; Klamm's default).
#[test]
fn api_versions_advertise_share_apis_and_feature() {
    let b = broker();
    let r = b.client().send(
        &ApiVersionsRequest::default()
            .with_client_software_name(s("klamm-tests"))
            .with_client_software_version(s("1")),
        4,
    );
    assert_eq!(r.error_code, code::NONE);
    for key in [
        ApiKey::ShareGroupHeartbeat,
        ApiKey::ShareGroupDescribe,
        ApiKey::ShareFetch,
        ApiKey::ShareAcknowledge,
    ] {
        let k = key as i16;
        let a = r
            .api_keys
            .iter()
            .find(|a| a.api_key == k)
            .unwrap_or_else(|| panic!("{key:?} ({k}) not advertised"));
        assert_eq!((a.min_version, a.max_version), (1, 1), "{key:?}");
    }
    let sup = r
        .supported_features
        .iter()
        .find(|f| f.name.as_str() == "share.version")
        .expect("share.version supported");
    assert_eq!((sup.min_version, sup.max_version), (0, 1));
    let fin = r
        .finalized_features
        .iter()
        .find(|f| f.name.as_str() == "share.version")
        .expect("share.version finalized");
    assert_eq!((fin.min_version_level, fin.max_version_level), (1, 1));
}

// ---- ShareGroupHeartbeat -------------------------------------------------------------------

/// `GroupCoordinatorService.throwIfShareGroupHeartbeatRequestIsInvalid` (INVALID_REQUEST) and
/// `GroupMetadataManager.shareGroupHeartbeat`'s group/member/epoch checks.
#[test]
fn heartbeat_validation_and_fencing() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-hb", 2);
    let topics: &[&str] = &["sg-hb"];

    let r = heartbeat(&mut c, "", &member_id(), 0, Some(topics));
    assert_eq!(r.error_code, code::INVALID_REQUEST, "empty group id");
    assert!(r.error_message.is_some());
    let r = heartbeat(&mut c, "sg-hb-g", "", 0, Some(topics));
    assert_eq!(r.error_code, code::INVALID_REQUEST, "empty member id");
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), 0, None);
    assert_eq!(
        r.error_code,
        code::INVALID_REQUEST,
        "epoch 0 without topics"
    );
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), 0, Some(&[]));
    assert_eq!(r.error_code, code::INVALID_REQUEST, "epoch 0, empty topics");
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), -2, Some(topics));
    assert_eq!(r.error_code, code::INVALID_REQUEST, "epoch -2");
    let r = c.send(
        &ShareGroupHeartbeatRequest::default()
            .with_group_id(gid("sg-hb-g"))
            .with_member_id(s(&member_id()))
            .with_member_epoch(0)
            .with_rack_id(Some(s("")))
            .with_subscribed_topic_names(Some(vec![name("sg-hb")])),
        V,
    );
    assert_eq!(r.error_code, code::INVALID_REQUEST, "empty rack id");

    // No group yet: any epoch but 0 is GROUP_ID_NOT_FOUND (only epoch 0 creates it).
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), 5, None);
    assert_eq!(r.error_code, code::GROUP_ID_NOT_FOUND, "no such group");
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), -1, None);
    assert_eq!(r.error_code, code::GROUP_ID_NOT_FOUND, "leave of no group");

    let mut m = join(&mut c, "sg-hb-g", topics, &all(&t, 2));
    // An unknown member of an existing group.
    let r = heartbeat(&mut c, "sg-hb-g", &member_id(), 5, None);
    assert_eq!(r.error_code, code::UNKNOWN_MEMBER_ID, "unknown member");
    // An epoch ahead of the member's: fenced.
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, m.epoch + 1, None);
    assert_eq!(r.error_code, code::FENCED_MEMBER_EPOCH, "epoch ahead");
    assert!(r.error_message.is_some());
    // Still a member at its epoch: a steady heartbeat does not resend the assignment.
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, m.epoch, None);
    assert_eq!(r.error_code, code::NONE);
    assert_eq!(r.member_epoch, m.epoch);
    assert_eq!(r.heartbeat_interval_ms, 500);
    assert!(r.assignment.is_none(), "unchanged assignment resent");
    // A full heartbeat (subscription set) gets the assignment again.
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, m.epoch, Some(topics));
    assert_eq!(r.error_code, code::NONE);
    assert_eq!(assignment_of(&r), Some(all(&t, 2)));
    m.epoch = r.member_epoch;

    // A KIP-848 consumer group's id is not a share group's.
    let _cm = ConsumerMember::join(&mut c, "sg-hb-consumer", topics, 1);
    let r = heartbeat(&mut c, "sg-hb-consumer", &member_id(), 0, Some(topics));
    assert_eq!(r.error_code, code::GROUP_ID_NOT_FOUND, "consumer group id");
    assert!(r.error_message.is_some());
    let r = c.send(
        &ShareGroupDescribeRequest::default().with_group_ids(vec![gid("sg-hb-consumer")]),
        V,
    );
    assert_eq!(r.groups[0].error_code, code::GROUP_ID_NOT_FOUND);

    // Leave: epoch -1 answers epoch -1 and the member's id; then it is unknown.
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, -1, None);
    assert_eq!(r.error_code, code::NONE, "leave: {:?}", r.error_message);
    assert_eq!(r.member_epoch, -1);
    assert_eq!(r.member_id.as_deref(), Some(m.id.as_str()));
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, m.epoch, None);
    assert_eq!(
        r.error_code,
        code::UNKNOWN_MEMBER_ID,
        "heartbeat after leave"
    );
    let r = heartbeat(&mut c, "sg-hb-g", &m.id, -1, None);
    assert_eq!(r.error_code, code::UNKNOWN_MEMBER_ID, "second leave");
}

// ---- ShareGroupDescribe --------------------------------------------------------------------

/// Two members of one partition both get it (the simple assignor shares partitions); describe
/// shows them with their epochs, client, subscription and assignment; leaving empties it.
#[test]
fn describe_members_assignor_and_states() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-desc", 1);
    let a = join(&mut c, "sg-desc-g", &["sg-desc"], &all(&t, 1));
    let mut m2 = join(&mut c, "sg-desc-g", &["sg-desc"], &all(&t, 1));
    // The first member catches up with the group epoch.
    let mut a_epoch = a.epoch;
    assert!(eventually(Duration::from_secs(10), || {
        let r = heartbeat(&mut c, "sg-desc-g", &a.id, a_epoch, None);
        assert_eq!(r.error_code, code::NONE);
        a_epoch = r.member_epoch;
        a_epoch == m2.epoch
    }));
    let r = heartbeat(&mut c, "sg-desc-g", &m2.id, m2.epoch, None);
    assert_eq!(r.error_code, code::NONE);
    m2.epoch = r.member_epoch;

    let r = c.send(
        &ShareGroupDescribeRequest::default()
            .with_group_ids(vec![gid("sg-desc-g"), gid("sg-desc-nope")])
            .with_include_authorized_operations(true),
        V,
    );
    assert_eq!(r.groups.len(), 2);
    let d = &r.groups[0];
    assert_eq!(d.error_code, code::NONE, "{:?}", d.error_message);
    assert_eq!(d.group_id.as_str(), "sg-desc-g");
    assert_eq!(d.group_state.as_str(), "Stable");
    assert_eq!(d.assignor_name.as_str(), "simple");
    assert_eq!(d.group_epoch, m2.epoch);
    assert_eq!(d.assignment_epoch, d.group_epoch);
    let mut ids: Vec<(String, i32)> = d
        .members
        .iter()
        .map(|m| (m.member_id.to_string(), m.member_epoch))
        .collect();
    ids.sort();
    let mut want = vec![(a.id.clone(), a_epoch), (m2.id.clone(), m2.epoch)];
    want.sort();
    assert_eq!(ids, want);
    for m in &d.members {
        assert_eq!(m.client_id.as_str(), client::CLIENT_ID);
        assert_eq!(m.client_host.as_str(), "/127.0.0.1");
        assert_eq!(m.rack_id, None);
        let subs: Vec<&str> = m
            .subscribed_topic_names
            .iter()
            .map(|n| n.as_str())
            .collect();
        assert_eq!(subs, ["sg-desc"]);
        assert_eq!(m.assignment.topic_partitions.len(), 1);
        let tp = &m.assignment.topic_partitions[0];
        assert_eq!(
            (tp.topic_id, tp.topic_name.as_str(), tp.partitions.clone()),
            (t.id, "sg-desc", vec![0])
        );
    }
    let nope = &r.groups[1];
    assert_eq!(nope.group_id.as_str(), "sg-desc-nope");
    assert_eq!(nope.error_code, code::GROUP_ID_NOT_FOUND);
    assert!(nope.error_message.is_some());

    // Both leave: the group stays, Empty, with no members.
    for (id, _) in &want {
        let r = heartbeat(&mut c, "sg-desc-g", id, -1, None);
        assert_eq!((r.error_code, r.member_epoch), (code::NONE, -1));
    }
    let r = c.send(
        &ShareGroupDescribeRequest::default().with_group_ids(vec![gid("sg-desc-g")]),
        V,
    );
    assert_eq!(r.groups[0].error_code, code::NONE);
    assert_eq!(r.groups[0].group_state.as_str(), "Empty");
    assert!(r.groups[0].members.is_empty());
}

// ---- ShareFetch ----------------------------------------------------------------------------

/// Epoch 0 opens a session and acquires records (delivery count 1, the produced batches); a
/// second member gets only records the first does not hold; acknowledged records are gone.
#[test]
fn fetch_acquires_records_and_members_get_disjoint_ones() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-fetch", 1);
    earliest(&mut c, "sg-fetch-g");
    let first = recs("a", 3);
    let second = recs("b", 2);
    assert_eq!(produce_ok(&mut c, &t, 0, &first), 0);
    assert_eq!(produce_ok(&mut c, &t, 0, &second), 3);
    let a = join(&mut c, "sg-fetch-g", &["sg-fetch"], &all(&t, 1));
    let m2 = join(&mut c, "sg-fetch-g", &["sg-fetch"], &all(&t, 1));

    let mut sa = Session::new(&a, &t, 0);
    // The opening fetch answers the requested partition (initial context) with the lock time.
    let r = sa.fetch(&mut c, &[], 2_000);
    assert_eq!(r.error_code, code::NONE, "{:?}", r.error_message);
    assert_eq!(r.acquisition_lock_timeout_ms, 30_000);
    let p = partition(&r, t.id, 0).expect("the requested partition is answered");
    assert_eq!(p.error_code, code::NONE);
    assert_eq!(p.acknowledge_error_code, code::NONE);
    let mut got = acquired(&r, t.id, 0);
    let mut fetched = Vec::new();
    if let Some(b) = &p.records {
        fetched.extend(decode_records(b));
    }
    while got.len() < 5 {
        let r = sa.fetch(&mut c, &[], 300);
        assert_eq!(r.error_code, code::NONE);
        got.extend(acquired(&r, t.id, 0));
        if let Some(b) = partition(&r, t.id, 0).and_then(|p| p.records.as_ref()) {
            fetched.extend(decode_records(b));
        }
        assert!(sa.epoch < 60, "records never acquired");
    }
    let all_recs: Vec<Rec> = first.iter().chain(&second).cloned().collect();
    assert_got(&got, &all_recs, 0, 1);
    // The returned bytes are the produced batches (whole log batches).
    assert_records(&fetched, &all_recs, 0);

    // The second member gets nothing while A holds everything, then only the new records.
    let mut sb = Session::new(&m2, &t, 0);
    sb.poll_nothing(&mut c, 600);
    let third = recs("c", 3);
    assert_eq!(produce_ok(&mut c, &t, 0, &third), 5);
    let got_b = sb.poll(&mut c, 3);
    assert_got(&got_b, &third, 5, 1);
    sa.poll_nothing(&mut c, 400);

    // Acknowledge: A with ShareAcknowledge, B piggy-backed on a ShareFetch.
    assert_eq!(
        sa.ack(&mut c, &[(0, 4, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    let r = sb.fetch(&mut c, &[(5, 7, vec![ACCEPT])], 100);
    assert_eq!(r.error_code, code::NONE);
    let p = partition(&r, t.id, 0).expect("the acknowledged partition is answered");
    assert_eq!(p.acknowledge_error_code, code::NONE);
    assert!(acquired(&r, t.id, 0).is_empty());

    // A new member gets nothing: every record was accepted once.
    let m3 = join(&mut c, "sg-fetch-g", &["sg-fetch"], &all(&t, 1));
    Session::new(&m3, &t, 0).poll_nothing(&mut c, 600);
}

/// `ShareSessionCache` rules for ShareFetch and ShareAcknowledge, and per-partition errors for
/// topics and partitions that do not exist.
#[test]
fn share_session_errors() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-sess", 1);
    earliest(&mut c, "sg-sess-g");
    let a = join(&mut c, "sg-sess-g", &["sg-sess"], &all(&t, 1));
    let g = "sg-sess-g";
    let topics = || vec![fetch_topic(t.id, &[(0, &[])])];

    // No session yet.
    for epoch in [3, -1] {
        let r = c.send(&fetch_request(g, &a.id, epoch, 0, topics()), V);
        assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "fetch epoch {epoch}");
        assert!(r.responses.is_empty());
    }
    let r = c.send(&ack_request(g, &a.id, 1, vec![]), V);
    assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "ack epoch 1");
    let r = c.send(&ack_request(g, &a.id, -1, vec![]), V);
    assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "ack epoch -1");
    // ShareAcknowledge never opens a session.
    let r = c.send(&ack_request(g, &a.id, 0, vec![]), V);
    assert_eq!(r.error_code, INVALID_SHARE_SESSION_EPOCH, "ack epoch 0");
    // Acknowledgements in an opening fetch.
    let r = c.send(
        &fetch_request(
            g,
            &a.id,
            0,
            0,
            vec![fetch_topic(t.id, &[(0, &[(0, 0, vec![ACCEPT])])])],
        ),
        V,
    );
    assert_eq!(r.error_code, code::INVALID_REQUEST, "epoch 0 with acks");
    assert!(r.responses.is_empty());
    assert_eq!(r.acquisition_lock_timeout_ms, 0);
    // A member id that is not a UUID: Kafka's Uuid.fromString throws (UNKNOWN_SERVER_ERROR).
    let r = c.send(&fetch_request(g, "not a uuid!", 0, 0, topics()), V);
    assert_eq!(r.error_code, UNKNOWN_SERVER_ERROR, "bad member id");

    // Open; then only the session's epoch is accepted, by both APIs.
    let mut s = Session::new(&a, &t, 0);
    let r = s.fetch(&mut c, &[], 0);
    assert_eq!(r.error_code, code::NONE);
    assert_eq!(s.epoch, 1);
    let r = c.send(&fetch_request(g, &a.id, 5, 0, topics()), V);
    assert_eq!(r.error_code, INVALID_SHARE_SESSION_EPOCH, "fetch epoch 5");
    assert!(r.responses.is_empty());
    let r = c.send(&ack_request(g, &a.id, 5, vec![]), V);
    assert_eq!(r.error_code, INVALID_SHARE_SESSION_EPOCH, "ack epoch 5");
    // Epoch 1: a fetch consumes it, so 1 is stale next.
    let r = s.fetch(&mut c, &[], 0);
    assert_eq!(r.error_code, code::NONE);
    let r = c.send(&ack_request(g, &a.id, 1, vec![]), V);
    assert_eq!(r.error_code, INVALID_SHARE_SESSION_EPOCH, "stale ack epoch");
    // Epoch 2 by ShareAcknowledge (no topics), then 3 by ShareFetch.
    let r = c.send(&ack_request(g, &a.id, 2, vec![]), V);
    assert_eq!(r.error_code, code::NONE, "ack epoch 2");
    s.epoch = 3;
    let r = s.fetch(&mut c, &[], 0);
    assert_eq!(r.error_code, code::NONE, "fetch epoch 3");
    let r = c.send(&fetch_request(g, &a.id, 3, 0, topics()), V);
    assert_eq!(
        r.error_code, INVALID_SHARE_SESSION_EPOCH,
        "fetch epoch 3 again"
    );

    // Unknown topic id and unknown partition: partition errors, the rest served.
    let ghost = Uuid::new_v4();
    let r = c.send(
        &fetch_request(
            g,
            &member_id(),
            0,
            0,
            vec![
                fetch_topic(t.id, &[(0, &[]), (7, &[])]),
                fetch_topic(ghost, &[(0, &[])]),
            ],
        ),
        V,
    );
    assert_eq!(r.error_code, code::NONE);
    assert_eq!(
        partition(&r, ghost, 0)
            .expect("unknown topic answered")
            .error_code,
        code::UNKNOWN_TOPIC_ID
    );
    assert_eq!(
        partition(&r, t.id, 7)
            .expect("unknown partition answered")
            .error_code,
        code::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(
        partition(&r, t.id, 0)
            .expect("partition 0 answered")
            .error_code,
        code::NONE
    );

    // The broker still serves the session: new records are acquired.
    let rs = recs("s", 2);
    produce_ok(&mut c, &t, 0, &rs);
    let got = s.poll(&mut c, 2);
    assert_got(&got, &rs, 0, 1);
}

// ---- Acknowledgements ----------------------------------------------------------------------

/// Bad batches are INVALID_REQUEST (`KafkaApis.validateAcknowledgementBatches`), acks of
/// records not acquired by the member are INVALID_RECORD_STATE (`SharePartition.acknowledge`);
/// a failed ack changes nothing (all batches of the partition rolled back), so every record is
/// still accepted exactly once in the end.
#[test]
fn acknowledgement_errors_change_nothing() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-ack", 1);
    earliest(&mut c, "sg-ack-g");
    let six = recs("x", 6);
    assert_eq!(produce_ok(&mut c, &t, 0, &six), 0);
    let a = join(&mut c, "sg-ack-g", &["sg-ack"], &all(&t, 1));
    let m2 = join(&mut c, "sg-ack-g", &["sg-ack"], &all(&t, 1));
    let mut sa = Session::new(&a, &t, 0);
    assert_got(&sa.poll(&mut c, 6), &six, 0, 1);
    let mut sb = Session::new(&m2, &t, 0);
    sb.poll_nothing(&mut c, 300);

    let bad: Vec<(&str, Vec<Ack>)> = vec![
        ("first > last", vec![(3, 1, vec![ACCEPT])]),
        ("types length", vec![(0, 2, vec![ACCEPT, ACCEPT])]),
        ("type 7", vec![(0, 0, vec![7])]),
        ("type -1", vec![(0, 0, vec![-1])]),
        ("no types", vec![(0, 0, vec![])]),
        (
            "descending",
            vec![(3, 3, vec![ACCEPT]), (0, 0, vec![ACCEPT])],
        ),
        // A valid batch first: the whole partition is refused, nothing applied.
        (
            "valid then bad",
            vec![(0, 0, vec![ACCEPT]), (2, 1, vec![ACCEPT])],
        ),
    ];
    for (what, acks) in &bad {
        assert_eq!(
            sa.ack(&mut c, acks),
            (code::NONE, code::INVALID_REQUEST),
            "ShareAcknowledge, {what}"
        );
        let r = sa.fetch(&mut c, acks, 0);
        assert_eq!(r.error_code, code::NONE, "ShareFetch, {what}");
        let p = partition(&r, t.id, 0).expect("acked partition answered");
        assert_eq!(
            p.acknowledge_error_code,
            code::INVALID_REQUEST,
            "ShareFetch, {what}"
        );
        assert!(acquired(&r, t.id, 0).is_empty());
    }
    // Another member's records.
    assert_eq!(
        sb.ack(&mut c, &[(0, 1, vec![ACCEPT])]),
        (code::NONE, INVALID_RECORD_STATE),
        "B acks A's records"
    );
    let r = sb.fetch(&mut c, &[(2, 2, vec![REJECT])], 0);
    assert_eq!(
        partition(&r, t.id, 0)
            .expect("answered")
            .acknowledge_error_code,
        INVALID_RECORD_STATE,
        "B rejects A's record in a ShareFetch"
    );
    // Acking twice (offset 0 still acquired, so the start offset stays at 0).
    assert_eq!(
        sa.ack(&mut c, &[(1, 2, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    assert_eq!(
        sa.ack(&mut c, &[(1, 2, vec![ACCEPT])]),
        (code::NONE, INVALID_RECORD_STATE),
        "second ack"
    );
    // Partly acked already: refused and rolled back, offset 0 stays acquired by A.
    assert_eq!(
        sa.ack(&mut c, &[(0, 2, vec![ACCEPT])]),
        (code::NONE, INVALID_RECORD_STATE),
        "range with acked offsets"
    );
    assert_eq!(
        sa.ack(&mut c, &[(0, 0, vec![ACCEPT]), (3, 5, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    // Everything accepted: the share-partition start moves to 6 and its cache is empty, so an
    // ack of offsets never delivered is not found (INVALID_RECORD_STATE).
    assert_eq!(
        sa.ack(&mut c, &[(6, 7, vec![ACCEPT])]),
        (code::NONE, INVALID_RECORD_STATE),
        "never delivered"
    );

    // The broker still serves: new records go out once, old ones never again.
    let more = recs("y", 2);
    assert_eq!(produce_ok(&mut c, &t, 0, &more), 6);
    let got = sb.poll(&mut c, 2);
    assert_got(&got, &more, 6, 1);
    assert_eq!(
        sb.ack(&mut c, &[(6, 7, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    sa.poll_nothing(&mut c, 400);
    let m3 = join(&mut c, "sg-ack-g", &["sg-ack"], &all(&t, 1));
    Session::new(&m3, &t, 0).poll_nothing(&mut c, 400);
}

/// RELEASE makes a record available again (redelivered with delivery count 2); REJECT
/// archives it (never redelivered); per-offset types in one batch.
#[test]
fn release_redelivers_and_reject_does_not() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-rel", 1);
    earliest(&mut c, "sg-rel-g");
    let four = recs("r", 4);
    produce_ok(&mut c, &t, 0, &four);
    let a = join(&mut c, "sg-rel-g", &["sg-rel"], &all(&t, 1));
    let mut sa = Session::new(&a, &t, 0);
    assert_got(&sa.poll(&mut c, 4), &four, 0, 1);
    assert_eq!(
        sa.ack(&mut c, &[(0, 3, vec![RELEASE, REJECT, ACCEPT, RELEASE])]),
        (code::NONE, code::NONE)
    );
    let got = sa.poll(&mut c, 2);
    assert_eq!(counts(&got), [(0, 2), (3, 2)]);
    assert_eq!(got[0].value, four[0].value);
    assert_eq!(got[1].value, four[3].value);
    // Released again by a fetch's ack: delivery count 3 next time.
    let r = sa.fetch(&mut c, &[(0, 0, vec![RELEASE]), (3, 3, vec![ACCEPT])], 0);
    assert_eq!(
        partition(&r, t.id, 0)
            .expect("answered")
            .acknowledge_error_code,
        code::NONE
    );
    let mut got = acquired(&r, t.id, 0);
    if got.is_empty() {
        got = sa.poll(&mut c, 1);
    }
    assert_eq!(counts(&got), [(0, 3)]);
    assert_eq!(
        sa.ack(&mut c, &[(0, 0, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    sa.poll_nothing(&mut c, 400);
    let m2 = join(&mut c, "sg-rel-g", &["sg-rel"], &all(&t, 1));
    Session::new(&m2, &t, 0).poll_nothing(&mut c, 400);
}

/// A final-epoch (-1) request processes its acks, then closes the session and releases the
/// member's acquired records without counting a delivery (`releaseAcquiredRecords`: another
/// member gets them with the same delivery count); the session is gone afterwards.
#[test]
fn final_epoch_releases_records_and_closes_the_session() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-final", 1);
    earliest(&mut c, "sg-final-g");
    let three = recs("f", 3);
    produce_ok(&mut c, &t, 0, &three);
    let a = join(&mut c, "sg-final-g", &["sg-final"], &all(&t, 1));
    let m2 = join(&mut c, "sg-final-g", &["sg-final"], &all(&t, 1));
    let mut sa = Session::new(&a, &t, 0);
    assert_got(&sa.poll(&mut c, 3), &three, 0, 1);

    // ShareAcknowledge -1: accepts 0, releases 1..2.
    let open_epoch = sa.epoch;
    sa.epoch = -1;
    assert_eq!(
        sa.ack(&mut c, &[(0, 0, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    let r = c.send(
        &fetch_request(
            "sg-final-g",
            &a.id,
            open_epoch,
            0,
            vec![fetch_topic(t.id, &[(0, &[])])],
        ),
        V,
    );
    assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "session closed");
    let r = c.send(&ack_request("sg-final-g", &a.id, -1, vec![]), V);
    assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "closed twice");

    // B gets 1..2 with delivery count 1 (not raised); then ShareFetch -1 with an ack of 1:
    // nothing fetched, the ack applied, 2 released.
    let mut sb = Session::new(&m2, &t, 0);
    let got = sb.poll(&mut c, 2);
    assert_got(&got, &three[1..], 1, 1);
    let b_epoch = sb.epoch;
    sb.epoch = -1;
    let r = sb.fetch(&mut c, &[(1, 1, vec![ACCEPT])], 0);
    assert_eq!(r.error_code, code::NONE, "{:?}", r.error_message);
    let p = partition(&r, t.id, 0).expect("the acked partition is answered");
    assert_eq!(p.acknowledge_error_code, code::NONE);
    assert!(
        p.acquired_records.is_empty(),
        "a final fetch fetches nothing"
    );
    let r = c.send(
        &fetch_request(
            "sg-final-g",
            &m2.id,
            b_epoch,
            0,
            vec![fetch_topic(t.id, &[(0, &[])])],
        ),
        V,
    );
    assert_eq!(r.error_code, SHARE_SESSION_NOT_FOUND, "B's session closed");

    // A new session of A gets offset 2, still at delivery count 1.
    let mut sa2 = Session::new(&a, &t, 0);
    let got = sa2.poll(&mut c, 1);
    assert_got(&got, &three[2..], 2, 1);
    assert_eq!(
        sa2.ack(&mut c, &[(2, 2, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    sa2.poll_nothing(&mut c, 400);
}

/// `SharePartition.acknowledge`'s offset-range rules (Kafka 4.1.2): a batch reaching past the
/// last in-flight record is INVALID_REQUEST ("Batch record not found. The first/last offset in
/// request is past acquired records."), one wholly below the share-partition start offset is
/// skipped (NONE: those records are already acknowledged or archived), one straddling the start
/// offset is applied from the start offset, and with no record in flight an ack is
/// INVALID_RECORD_STATE ("The request batch offsets are not found in the cache.").
#[test]
fn acknowledgement_offset_range_rules() {
    let b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-range", 1);
    earliest(&mut c, "sg-range-g");
    let six = recs("x", 6);
    assert_eq!(produce_ok(&mut c, &t, 0, &six), 0);
    let a = join(&mut c, "sg-range-g", &["sg-range"], &all(&t, 1));
    let mut sa = Session::new(&a, &t, 0);
    assert_got(&sa.poll(&mut c, 6), &six, 0, 1);

    assert_eq!(
        sa.ack(&mut c, &[(10, 12, vec![ACCEPT])]),
        (code::NONE, code::INVALID_REQUEST),
        "starts past the acquired records"
    );
    assert_eq!(
        sa.ack(&mut c, &[(4, 8, vec![ACCEPT])]),
        (code::NONE, code::INVALID_REQUEST),
        "ends past the acquired records"
    );
    // Nothing was applied: all six are still A's to accept.
    assert_eq!(
        sa.ack(&mut c, &[(0, 5, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    // Start offset 6, nothing in flight.
    assert_eq!(
        sa.ack(&mut c, &[(0, 5, vec![ACCEPT])]),
        (code::NONE, code::NONE),
        "wholly below the start offset"
    );
    assert_eq!(
        sa.ack(&mut c, &[(6, 7, vec![ACCEPT])]),
        (code::NONE, INVALID_RECORD_STATE),
        "nothing in flight"
    );
    // Straddling the start offset: offsets 6..7 accepted, 4..5 ignored.
    let two = recs("y", 2);
    assert_eq!(produce_ok(&mut c, &t, 0, &two), 6);
    assert_got(&sa.poll(&mut c, 2), &two, 6, 1);
    assert_eq!(
        sa.ack(&mut c, &[(4, 7, vec![ACCEPT])]),
        (code::NONE, code::NONE),
        "straddling the start offset"
    );
    sa.poll_nothing(&mut c, 400);
    let m2 = join(&mut c, "sg-range-g", &["sg-range"], &all(&t, 1));
    Session::new(&m2, &t, 0).poll_nothing(&mut c, 400);
}

// ---- Durability ----------------------------------------------------------------------------

/// Accepted records stay accepted across kill -9 and released ones keep their delivery count
/// (the acknowledgement was written to `__share_group_state` before the answer); records that
/// were acquired but never acknowledged come back as new (acquisition is not persisted).
#[test]
fn share_state_survives_kill9() {
    let mut b = broker();
    let mut c = b.client();
    let t = create_topic(&mut c, "sg-dur", 1);
    earliest(&mut c, "sg-dur-g");
    let six = recs("d", 6);
    produce_ok(&mut c, &t, 0, &six);
    let a = join(&mut c, "sg-dur-g", &["sg-dur"], &all(&t, 1));
    let mut sa = Session::new(&a, &t, 0);
    assert_got(&sa.poll(&mut c, 6), &six, 0, 1);
    assert_eq!(
        sa.ack(&mut c, &[(0, 1, vec![ACCEPT]), (2, 3, vec![RELEASE])]),
        (code::NONE, code::NONE)
    );

    b.kill9_and_restart();
    let mut c = b.client();
    let m = join(&mut c, "sg-dur-g", &["sg-dur"], &all(&t, 1));
    let mut s = Session::new(&m, &t, 0);
    let mut got = s.poll(&mut c, 4);
    got.sort_by_key(|g| g.offset);
    assert!(
        offsets(&got).iter().all(|o| *o >= 2),
        "accepted records redelivered"
    );
    assert_eq!(
        offsets(&got),
        [2, 3, 4, 5],
        "the unacknowledged records come back"
    );
    for g in &got {
        assert_eq!(g.value, six[g.offset as usize].value);
    }
    let after_restart = counts(&got);
    let more = recs("e", 2);
    assert_eq!(produce_ok(&mut c, &t, 0, &more), 6);
    let got = s.poll(&mut c, 2);
    assert_got(&got, &more, 6, 1);
    assert_eq!(
        s.ack(&mut c, &[(2, 7, vec![ACCEPT])]),
        (code::NONE, code::NONE)
    );
    s.poll_nothing(&mut c, 400);
    // Released once: persisted AVAILABLE with delivery count 1, so acquired with 2; acquired
    // but never acknowledged: not in the persisted state (Kafka writes state only on
    // acknowledgement, release and lock timeout), so new records with delivery count 1.
    assert_eq!(
        after_restart,
        [(2, 2), (3, 2), (4, 1), (5, 1)],
        "delivery counts"
    );
}
