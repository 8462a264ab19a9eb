//! The request versions Kafka 4.0 removed (KIP-896) that Klamm serves by default, with Kafka
//! 3.9's semantics: ListOffsets v0, OffsetCommit v0-1, OffsetFetch v0, CreateTopics v0-1,
//! DeleteTopics v0, OffsetForLeaderEpoch v0-1, DescribeAcls/CreateAcls/DeleteAcls v0,
//! DescribeConfigs v0 and DescribeLogDirs v0. The protocol crate has no codec for them, so the
//! frames are built by hand after Kafka 3.9's JSON specs and the responses read field by field,
//! every byte accounted for. Malformed old frames close only their connection; with
//! `klamm.compat.kafka.version=4.1` the same frames are refused as Kafka 4.1 refuses them.

use std::time::Duration;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, OffsetFetchRequest};

use crate::support::groups::{self, gid};
use crate::support::*;

const STANDARD: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";
const SECURITY_DISABLED: i16 = 54;
const UNKNOWN_SERVER_ERROR: i16 = -1;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;

// ResourceType, PatternType, AclOperation, AclPermissionType codes.
const ANY: i8 = 1;
const TOPIC: i8 = 2;
const PREFIXED: i8 = 4;
const READ: i8 = 3;
const ALLOW: i8 = 3;

/// A hand-built request frame: size prefix, header v1 (every removed version is
/// non-flexible), then the body written with the `int16`-string / `int32`-count encoding.
struct Frame(Vec<u8>);

impl Frame {
    fn new(key: ApiKey, version: i16, correlation_id: i32) -> Frame {
        let mut f = Frame(vec![0; 4]);
        f.i16(key as i16).i16(version).i32(correlation_id);
        f.str("klamm-old-client");
        f
    }
    fn i8(&mut self, v: i8) -> &mut Frame {
        self.0.push(v as u8);
        self
    }
    fn i16(&mut self, v: i16) -> &mut Frame {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i32(&mut self, v: i32) -> &mut Frame {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn i64(&mut self, v: i64) -> &mut Frame {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn str(&mut self, v: &str) -> &mut Frame {
        self.i16(v.len() as i16);
        self.0.extend_from_slice(v.as_bytes());
        self
    }
    fn null(&mut self) -> &mut Frame {
        self.i16(-1)
    }
    fn done(&mut self) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.0);
        let len = (out.len() - 4) as i32;
        out[0..4].copy_from_slice(&len.to_be_bytes());
        out
    }
}

/// Reads a response body field by field; [`Resp::end`] insists every byte was read.
struct Resp(Bytes);

impl Resp {
    fn i8(&mut self) -> i8 {
        assert!(self.0.remaining() >= 1, "truncated response");
        self.0.get_i8()
    }
    fn bool(&mut self) -> bool {
        match self.i8() {
            0 => false,
            1 => true,
            b => panic!("bool byte {b}"),
        }
    }
    fn i16(&mut self) -> i16 {
        assert!(self.0.remaining() >= 2, "truncated response");
        self.0.get_i16()
    }
    fn i32(&mut self) -> i32 {
        assert!(self.0.remaining() >= 4, "truncated response");
        self.0.get_i32()
    }
    fn i64(&mut self) -> i64 {
        assert!(self.0.remaining() >= 8, "truncated response");
        self.0.get_i64()
    }
    fn nullable_str(&mut self) -> Option<String> {
        let len = self.i16();
        if len < 0 {
            return None;
        }
        assert!(self.0.remaining() >= len as usize, "truncated string");
        let raw = self.0.split_to(len as usize);
        Some(String::from_utf8(raw.to_vec()).expect("UTF-8"))
    }
    fn str(&mut self) -> String {
        self.nullable_str().expect("non-null string")
    }
    fn count(&mut self) -> usize {
        let n = self.i32();
        assert!(n >= 0, "array count {n}");
        n as usize
    }
    fn end(&self) {
        assert_eq!(self.0.remaining(), 0, "bytes left after the response body");
    }
}

/// Sends `frame` and returns the response body after checking the v0 response header.
fn call(c: &mut Client, frame: &[u8]) -> Resp {
    let correlation_id = i32::from_be_bytes([frame[8], frame[9], frame[10], frame[11]]);
    let mut body = c.send_frame(frame).expect("the old version is answered");
    assert_eq!(
        body.get_i32(),
        correlation_id,
        "correlation id (response header v0)"
    );
    Resp(body)
}

/// The connection is closed without an answer, and the broker keeps serving.
fn refused(broker: &mut Broker, frame: &[u8], what: &str) {
    let mut c = broker.client();
    let _ = c.try_write_raw(frame);
    assert!(
        c.closed_within(Duration::from_secs(10)),
        "{what}: connection not closed"
    );
    assert!(broker.is_running(), "{what}: the broker exited");
    let req = ApiVersionsRequest::default()
        .with_client_software_name(s("old-versions"))
        .with_client_software_version(s("1"));
    assert_eq!(broker.client().send(&req, 3).error_code, code::NONE);
}

// ---- OffsetCommit v0-1 / OffsetFetch v0 ------------------------------------------------------

fn offset_commit(
    version: i16,
    group: &str,
    generation_member: Option<(i32, &str)>,
    topic: &str,
    parts: &[(i32, i64, &str)],
) -> Vec<u8> {
    let mut f = Frame::new(ApiKey::OffsetCommit, version, 100 + i32::from(version));
    f.str(group);
    if version >= 1 {
        let (generation, member) = generation_member.unwrap_or((-1, ""));
        f.i32(generation).str(member);
    }
    f.i32(1).str(topic).i32(parts.len() as i32);
    for (p, offset, metadata) in parts {
        f.i32(*p).i64(*offset);
        if version >= 1 {
            f.i64(1_600_000_000_000); // commit_timestamp
        }
        f.str(metadata);
    }
    f.done()
}

/// An OffsetCommit v0-1 response: `[topic [partition error_code]]`, no throttle time.
fn commit_result(mut r: Resp) -> Vec<(String, i32, i16)> {
    let mut out = Vec::new();
    for _ in 0..r.count() {
        let t = r.str();
        for _ in 0..r.count() {
            out.push((t.clone(), r.i32(), r.i16()));
        }
    }
    r.end();
    out
}

/// OffsetFetch v0 of `partitions`: (partition, offset, metadata, error).
fn offset_fetch_v0(
    c: &mut Client,
    group: &str,
    topic: &str,
    partitions: &[i32],
) -> Vec<(i32, i64, Option<String>, i16)> {
    let mut f = Frame::new(ApiKey::OffsetFetch, 0, 90);
    f.str(group).i32(1).str(topic).i32(partitions.len() as i32);
    for p in partitions {
        f.i32(*p);
    }
    let mut r = call(c, &f.done());
    let mut out = Vec::new();
    assert_eq!(r.count(), 1);
    assert_eq!(r.str(), topic);
    for _ in 0..r.count() {
        out.push((r.i32(), r.i64(), r.nullable_str(), r.i16()));
    }
    r.end();
    out
}

/// OffsetFetch v9 (KIP-848 layout) of one partition: (offset, metadata, error).
fn offset_fetch_v9(c: &mut Client, group: &str, topic: &str, partition: i32) -> (i64, String, i16) {
    let req = OffsetFetchRequest::default().with_groups(vec![OffsetFetchRequestGroup::default()
        .with_group_id(gid(group))
        .with_member_id(None)
        .with_member_epoch(-1)
        .with_topics(Some(vec![OffsetFetchRequestTopics::default()
            .with_name(name(topic))
            .with_partition_indexes(vec![partition])]))]);
    let resp = c.send(&req, 9);
    assert_eq!(resp.groups.len(), 1);
    assert_eq!(resp.groups[0].error_code, code::NONE);
    let p = &resp.groups[0].topics[0].partitions[0];
    (
        p.committed_offset,
        p.metadata.as_deref().unwrap_or_default().to_string(),
        p.error_code,
    )
}

#[test]
fn offset_commit_v0_and_v1_are_read_back_with_offset_fetch_v0_and_v9() {
    let broker = groups::broker();
    let mut c = broker.client();
    create_topic(&mut c, "old-commits", 2);

    // v0: a simple commit (no generation, no member).
    let r = call(
        &mut c,
        &offset_commit(
            0,
            "old-group",
            None,
            "old-commits",
            &[(0, 5, "m0"), (1, 9, "m1")],
        ),
    );
    assert_eq!(
        commit_result(r),
        vec![
            ("old-commits".to_string(), 0, code::NONE),
            ("old-commits".to_string(), 1, code::NONE)
        ]
    );
    assert_eq!(
        offset_fetch_v0(&mut c, "old-group", "old-commits", &[0, 1, 7]),
        vec![
            (0, 5, Some("m0".to_string()), code::NONE),
            (1, 9, Some("m1".to_string()), code::NONE),
            // A partition the topic does not have: no offset, as v1 answers it.
            (7, -1, Some(String::new()), code::NONE),
        ]
    );
    assert_eq!(
        offset_fetch_v9(&mut c, "old-group", "old-commits", 0),
        (5, "m0".to_string(), code::NONE)
    );

    // v1 without a generation (-1, empty member): a simple commit too; its commit timestamp is
    // accepted.
    let r = call(
        &mut c,
        &offset_commit(
            1,
            "old-group",
            Some((-1, "")),
            "old-commits",
            &[(0, 7, "v1")],
        ),
    );
    assert_eq!(
        commit_result(r),
        vec![("old-commits".to_string(), 0, code::NONE)]
    );
    assert_eq!(
        offset_fetch_v0(&mut c, "old-group", "old-commits", &[0])[0],
        (0, 7, Some("v1".to_string()), code::NONE)
    );
    assert_eq!(
        offset_fetch_v9(&mut c, "old-group", "old-commits", 0),
        (7, "v1".to_string(), code::NONE)
    );

    // v1 with a real member of a classic group, and with a stale generation.
    let (member, generation) = groups::form_group(&mut c, "old-members", &["old-commits"]);
    let r = call(
        &mut c,
        &offset_commit(
            1,
            "old-members",
            Some((generation, &member)),
            "old-commits",
            &[(1, 42, "gen")],
        ),
    );
    assert_eq!(
        commit_result(r),
        vec![("old-commits".to_string(), 1, code::NONE)]
    );
    assert_eq!(
        offset_fetch_v9(&mut c, "old-members", "old-commits", 1),
        (42, "gen".to_string(), code::NONE)
    );
    let r = call(
        &mut c,
        &offset_commit(
            1,
            "old-members",
            Some((generation + 5, &member)),
            "old-commits",
            &[(1, 43, "")],
        ),
    );
    assert_eq!(
        commit_result(r),
        vec![("old-commits".to_string(), 1, code::ILLEGAL_GENERATION)]
    );
    // v0 to a group with members: no generation or member, accepted only while the group is
    // empty (Kafka's `ClassicGroup.validateOffsetCommit`): UNKNOWN_MEMBER_ID.
    let r = call(
        &mut c,
        &offset_commit(0, "old-members", None, "old-commits", &[(1, 44, "")]),
    );
    assert_eq!(
        commit_result(r),
        vec![("old-commits".to_string(), 1, code::UNKNOWN_MEMBER_ID)]
    );
    assert_eq!(
        offset_fetch_v0(&mut c, "old-members", "old-commits", &[1])[0].1,
        42
    );

    // Unknown topics answer UNKNOWN_TOPIC_OR_PARTITION per partition.
    let r = call(
        &mut c,
        &offset_commit(0, "old-group", None, "no-such-topic", &[(0, 1, "")]),
    );
    assert_eq!(
        commit_result(r),
        vec![(
            "no-such-topic".to_string(),
            0,
            code::UNKNOWN_TOPIC_OR_PARTITION
        )]
    );
}

// ---- ListOffsets v0 ------------------------------------------------------------------------

/// ListOffsets v0 of one partition: (error, old_style_offsets).
fn list_offsets_v0(
    c: &mut Client,
    topic: &str,
    partition: i32,
    timestamp: i64,
    max: i32,
) -> (i16, Vec<i64>) {
    let mut f = Frame::new(ApiKey::ListOffsets, 0, 20);
    f.i32(-1)
        .i32(1)
        .str(topic)
        .i32(1)
        .i32(partition)
        .i64(timestamp)
        .i32(max);
    let mut r = call(c, &f.done());
    assert_eq!(r.count(), 1);
    assert_eq!(r.str(), topic);
    assert_eq!(r.count(), 1);
    assert_eq!(r.i32(), partition);
    let error = r.i16();
    let offsets = (0..r.count()).map(|_| r.i64()).collect();
    r.end();
    (error, offsets)
}

#[test]
fn list_offsets_v0_answers_old_style_offsets() {
    let broker = Broker::start();
    let mut c = broker.client();
    let t = create_topic(&mut c, "old-offsets", 1);
    // Before any record: one empty segment, so no log-end entry; LATEST and EARLIEST are 0.
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, LATEST, 1),
        (code::NONE, vec![0])
    );
    produce_ok(&mut c, &t, 0, &recs("a", 3));
    produce_ok(&mut c, &t, 0, &recs("b", 2));
    // One segment (base 0) plus the log end offset (5) at the current time, newest first.
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, LATEST, 1),
        (code::NONE, vec![5])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, LATEST, 10),
        (code::NONE, vec![5, 0])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, EARLIEST, 1),
        (code::NONE, vec![0])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, EARLIEST, 10),
        (code::NONE, vec![0])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, LATEST, 0),
        (code::NONE, vec![])
    );
    // A timestamp: entries modified at or before it. Long ago: none; far ahead: all.
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, 1, 10),
        (code::NONE, vec![])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, i64::MAX, 10),
        (code::NONE, vec![5, 0])
    );
    // Negative timestamps other than LATEST and EARLIEST are v1+ features.
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, -3, 1),
        (code::UNSUPPORTED_VERSION, vec![])
    );
    // Kafka 3.9 fails a negative max_num_offsets with UNKNOWN_SERVER_ERROR.
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 0, LATEST, -1),
        (UNKNOWN_SERVER_ERROR, vec![])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "old-offsets", 3, LATEST, 1),
        (code::UNKNOWN_TOPIC_OR_PARTITION, vec![])
    );
    assert_eq!(
        list_offsets_v0(&mut c, "nope", 0, LATEST, 1),
        (code::UNKNOWN_TOPIC_OR_PARTITION, vec![])
    );
    // The v1 answer agrees with v0's LATEST.
    assert_eq!(list_offset(&mut c, "old-offsets", 0, LATEST, 1).offset, 5);
}

// ---- DescribeConfigs v0 ----------------------------------------------------------------------

/// DescribeConfigs v0 of one resource: (error, [(name, value, read_only, is_default, sensitive)]).
type ConfigV0 = (String, Option<String>, bool, bool, bool);

fn describe_configs_v0(
    c: &mut Client,
    resource_type: i8,
    name: &str,
    keys: Option<&[&str]>,
) -> (i16, Vec<ConfigV0>) {
    let mut f = Frame::new(ApiKey::DescribeConfigs, 0, 32);
    f.i32(1).i8(resource_type).str(name);
    match keys {
        None => {
            f.i32(-1);
        }
        Some(keys) => {
            f.i32(keys.len() as i32);
            for k in keys {
                f.str(k);
            }
        }
    }
    let mut r = call(c, &f.done());
    assert_eq!(r.i32(), 0, "throttle time");
    assert_eq!(r.count(), 1);
    let error = r.i16();
    let _message = r.nullable_str();
    assert_eq!(r.i8(), resource_type);
    assert_eq!(r.str(), name);
    let configs = (0..r.count())
        .map(|_| (r.str(), r.nullable_str(), r.bool(), r.bool(), r.bool()))
        .collect();
    r.end();
    (error, configs)
}

#[test]
fn describe_configs_v0_answers_is_default_and_read_only() {
    let broker = Broker::with_overrides(&[("num.partitions", "3")]);
    let mut c = broker.client();
    create_topic_with(&mut c, "old-configs", 1, &[("retention.ms", "1000")]);
    let (error, configs) = describe_configs_v0(&mut c, 2, "old-configs", None);
    assert_eq!(error, code::NONE);
    let find = |name: &str| {
        configs
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("{name} in {configs:?}"))
            .clone()
    };
    // A topic override is not a default; topic configs are not read-only.
    assert_eq!(
        find("retention.ms"),
        (
            "retention.ms".into(),
            Some("1000".into()),
            false,
            false,
            false
        )
    );
    // An unset topic config is a default.
    assert_eq!(
        find("segment.bytes"),
        (
            "segment.bytes".into(),
            Some("1073741824".into()),
            false,
            true,
            false
        )
    );
    // Named keys only.
    let (error, only) = describe_configs_v0(&mut c, 2, "old-configs", Some(&["cleanup.policy"]));
    assert_eq!(error, code::NONE);
    assert_eq!(
        only,
        vec![(
            "cleanup.policy".into(),
            Some("delete".into()),
            false,
            true,
            false
        )]
    );

    // Broker configs: a static override is not a default; read_only unless dynamic.
    let (error, broker_configs) = describe_configs_v0(
        &mut c,
        4,
        "0",
        Some(&["num.partitions", "log.segment.bytes"]),
    );
    assert_eq!(error, code::NONE);
    let mut broker_configs = broker_configs;
    broker_configs.sort();
    assert_eq!(
        broker_configs,
        vec![
            (
                "log.segment.bytes".into(),
                Some("1073741824".into()),
                false,
                true,
                false
            ),
            (
                "num.partitions".into(),
                Some("3".into()),
                true,
                false,
                false
            ),
        ]
    );
    let (error, _) = describe_configs_v0(&mut c, 2, "no-such-topic", None);
    assert_eq!(error, code::UNKNOWN_TOPIC_OR_PARTITION);
}

// ---- CreateTopics v0-1 / DeleteTopics v0 -----------------------------------------------------

fn create_topics(version: i16, topics: &[(&str, i32, i16)], validate_only: bool) -> Vec<u8> {
    let mut f = Frame::new(ApiKey::CreateTopics, version, 19);
    f.i32(topics.len() as i32);
    for (name, partitions, rf) in topics {
        f.str(name).i32(*partitions).i16(*rf).i32(0); // no assignments
        f.i32(1).str("retention.ms").str("60000");
    }
    f.i32(30_000);
    if version >= 1 {
        f.i8(i8::from(validate_only));
    }
    f.done()
}

/// A CreateTopics v0-1 response: `[name error_code (v1: error_message)]`, no throttle time.
fn created(version: i16, mut r: Resp) -> Vec<(String, i16, Option<String>)> {
    let out = (0..r.count())
        .map(|_| {
            let name = r.str();
            let code = r.i16();
            let message = if version >= 1 { r.nullable_str() } else { None };
            (name, code, message)
        })
        .collect();
    r.end();
    out
}

fn topic_exists(c: &mut Client, topic: &str) -> bool {
    let md = c.send(&metadata_request(Some(&[topic]), false), 12);
    md.topics[0].error_code == code::NONE
}

#[test]
fn create_topics_v0_v1_and_delete_topics_v0() {
    let broker = Broker::start();
    let mut c = broker.client();
    let r = call(
        &mut c,
        &create_topics(0, &[("old-a", 2, 1), ("old-bad-rf", 1, 3)], false),
    );
    let got = created(0, r);
    assert_eq!(got[0], ("old-a".to_string(), code::NONE, None));
    assert_eq!(
        (got[1].0.as_str(), got[1].1),
        ("old-bad-rf", INVALID_REPLICATION_FACTOR)
    );
    assert!(topic_exists(&mut c, "old-a"));
    assert_eq!(describe_topic(&mut c, "old-a").partitions.len(), 2);
    let (_, configs) = describe_configs_v0(&mut c, 2, "old-a", Some(&["retention.ms"]));
    assert_eq!(configs[0].1.as_deref(), Some("60000"));

    // v0 again: TOPIC_ALREADY_EXISTS, no message in v0.
    let got = created(
        0,
        call(&mut c, &create_topics(0, &[("old-a", 2, 1)], false)),
    );
    assert_eq!(
        got,
        vec![("old-a".to_string(), code::TOPIC_ALREADY_EXISTS, None)]
    );
    // v1 carries the message; success has a null one.
    let got = created(
        1,
        call(
            &mut c,
            &create_topics(1, &[("old-a", 2, 1), ("old-b", 1, 1)], false),
        ),
    );
    assert_eq!(
        (got[0].0.as_str(), got[0].1),
        ("old-a", code::TOPIC_ALREADY_EXISTS)
    );
    assert!(
        got[0]
            .2
            .as_deref()
            .is_some_and(|m| m.contains("already exists")),
        "{got:?}"
    );
    assert_eq!(got[1], ("old-b".to_string(), code::NONE, None));
    // v1 validate_only: checked, not created.
    let got = created(1, call(&mut c, &create_topics(1, &[("old-c", 1, 1)], true)));
    assert_eq!(got, vec![("old-c".to_string(), code::NONE, None)]);
    assert!(!topic_exists(&mut c, "old-c"));

    // DeleteTopics v0: `[name error_code]`, no throttle time.
    let mut f = Frame::new(ApiKey::DeleteTopics, 0, 20);
    f.i32(2).str("old-a").str("old-nope").i32(30_000);
    let mut r = call(&mut c, &f.done());
    assert_eq!(r.count(), 2);
    let mut got = vec![(r.str(), r.i16()), (r.str(), r.i16())];
    r.end();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("old-a".to_string(), code::NONE),
            ("old-nope".to_string(), code::UNKNOWN_TOPIC_OR_PARTITION)
        ]
    );
    assert!(!topic_exists(&mut c, "old-a"));
}

// ---- OffsetForLeaderEpoch v0-1 ---------------------------------------------------------------

#[test]
fn offset_for_leader_epoch_v0_and_v1() {
    let broker = Broker::start();
    let mut c = broker.client();
    let t = create_topic(&mut c, "old-epochs", 1);
    produce_ok(&mut c, &t, 0, &recs("e", 3));
    for v in 0..=1 {
        let mut f = Frame::new(ApiKey::OffsetForLeaderEpoch, v, 23);
        f.i32(2).str("old-epochs").i32(1).i32(0).i32(0);
        f.str("old-nope").i32(1).i32(0).i32(0);
        let mut r = call(&mut c, &f.done());
        assert_eq!(r.count(), 2);
        assert_eq!(r.str(), "old-epochs");
        assert_eq!(r.count(), 1);
        assert_eq!(r.i16(), code::NONE, "v{v}");
        assert_eq!(r.i32(), 0, "partition");
        if v >= 1 {
            assert_eq!(r.i32(), 0, "leader epoch");
        }
        assert_eq!(r.i64(), 3, "end offset of epoch 0");
        assert_eq!(r.str(), "old-nope");
        assert_eq!(r.count(), 1);
        assert_eq!(r.i16(), code::UNKNOWN_TOPIC_OR_PARTITION);
        assert_eq!(r.i32(), 0);
        if v >= 1 {
            assert_eq!(r.i32(), -1);
        }
        assert_eq!(r.i64(), -1);
        r.end();
    }
}

// ---- DescribeLogDirs v0 ------------------------------------------------------------------------

#[test]
fn describe_log_dirs_v0() {
    let broker = Broker::start();
    let mut c = broker.client();
    let t = create_topic(&mut c, "old-dirs", 1);
    produce_ok(&mut c, &t, 0, &recs("d", 4));
    let mut f = Frame::new(ApiKey::DescribeLogDirs, 0, 35);
    f.i32(1).str("old-dirs").i32(1).i32(0);
    let mut r = call(&mut c, &f.done());
    assert_eq!(r.i32(), 0, "throttle time");
    assert_eq!(r.count(), 1);
    assert_eq!(r.i16(), code::NONE);
    let dir = r.str();
    assert!(dir.ends_with("data"), "{dir}");
    assert_eq!(r.count(), 1);
    assert_eq!(r.str(), "old-dirs");
    assert_eq!(r.count(), 1);
    assert_eq!(r.i32(), 0);
    assert!(r.i64() > 0, "partition size");
    assert_eq!(r.i64(), 0, "offset lag");
    assert!(!r.bool(), "is_future_key");
    r.end();
}

// ---- ACLs v0 ---------------------------------------------------------------------------------

fn create_acls_v0(c: &mut Client, resource: &str, principal: &str) -> Vec<(i16, Option<String>)> {
    let mut f = Frame::new(ApiKey::CreateAcls, 0, 30);
    f.i32(1)
        .i8(TOPIC)
        .str(resource)
        .str(principal)
        .str("*")
        .i8(READ)
        .i8(ALLOW);
    let mut r = call(c, &f.done());
    assert_eq!(r.i32(), 0, "throttle time");
    let out = (0..r.count())
        .map(|_| (r.i16(), r.nullable_str()))
        .collect();
    r.end();
    out
}

/// DescribeAcls v0 with a TOPIC filter: (error, [(resource type, name, [(principal, host, op, perm)])]).
type AclsV0 = Vec<(i8, String, Vec<(String, String, i8, i8)>)>;

fn describe_acls_v0(c: &mut Client, resource_type: i8) -> (i16, AclsV0) {
    let mut f = Frame::new(ApiKey::DescribeAcls, 0, 29);
    f.i8(resource_type).null().null().null().i8(ANY).i8(ANY);
    let mut r = call(c, &f.done());
    assert_eq!(r.i32(), 0, "throttle time");
    let error = r.i16();
    let _message = r.nullable_str();
    let resources = (0..r.count())
        .map(|_| {
            let rt = r.i8();
            let name = r.str();
            let acls = (0..r.count())
                .map(|_| (r.str(), r.str(), r.i8(), r.i8()))
                .collect();
            (rt, name, acls)
        })
        .collect();
    r.end();
    (error, resources)
}

#[test]
fn acls_v0_without_an_authorizer_are_security_disabled() {
    let broker = Broker::start();
    let mut c = broker.client();
    assert_eq!(
        create_acls_v0(&mut c, "t", "User:alice")[0].0,
        SECURITY_DISABLED
    );
    assert_eq!(describe_acls_v0(&mut c, TOPIC).0, SECURITY_DISABLED);
}

#[test]
fn acls_v0_are_literal_patterns_only() {
    let broker = Broker::with_overrides(&[
        ("authorizer.class.name", STANDARD),
        ("super.users", "User:ANONYMOUS"),
    ]);
    let mut c = broker.client();
    // Kafka's `new AclCreationResult()` keeps the generated default message, "".
    assert_eq!(
        create_acls_v0(&mut c, "old-acl", "User:alice"),
        vec![(code::NONE, Some(String::new()))]
    );
    // A PREFIXED binding (v1+) is invisible to v0, which matches LITERAL patterns only.
    use kafka_protocol::messages::create_acls_request::AclCreation;
    use kafka_protocol::messages::CreateAclsRequest;
    let prefixed = CreateAclsRequest::default().with_creations(vec![AclCreation::default()
        .with_resource_type(TOPIC)
        .with_resource_name(s("old-"))
        .with_resource_pattern_type(PREFIXED)
        .with_principal(s("User:bob"))
        .with_host(s("*"))
        .with_operation(READ)
        .with_permission_type(ALLOW)]);
    assert_eq!(c.send(&prefixed, 1).results[0].error_code, code::NONE);
    let (error, resources) = describe_acls_v0(&mut c, TOPIC);
    assert_eq!(error, code::NONE);
    assert_eq!(
        resources,
        vec![(
            TOPIC,
            "old-acl".to_string(),
            vec![("User:alice".to_string(), "*".to_string(), READ, ALLOW)]
        )]
    );

    // DeleteAcls v0 with an all-topics filter deletes the literal binding only.
    let mut f = Frame::new(ApiKey::DeleteAcls, 0, 31);
    f.i32(1).i8(TOPIC).null().null().null().i8(ANY).i8(ANY);
    let mut r = call(&mut c, &f.done());
    assert_eq!(r.i32(), 0, "throttle time");
    assert_eq!(r.count(), 1);
    assert_eq!(r.i16(), code::NONE);
    assert_eq!(r.nullable_str(), None);
    assert_eq!(r.count(), 1);
    assert_eq!(r.i16(), code::NONE);
    assert_eq!(r.nullable_str(), None);
    assert_eq!(r.i8(), TOPIC);
    assert_eq!(r.str(), "old-acl");
    assert_eq!(r.str(), "User:alice");
    assert_eq!(r.str(), "*");
    assert_eq!(r.i8(), READ);
    assert_eq!(r.i8(), ALLOW);
    r.end();
    assert_eq!(describe_acls_v0(&mut c, TOPIC).1, vec![]);
    // The prefixed binding is still there for v1.
    use kafka_protocol::messages::DescribeAclsRequest;
    let all = DescribeAclsRequest::default()
        .with_resource_type_filter(TOPIC)
        .with_resource_name_filter(None)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_pattern_type_filter(ANY)
        .with_operation(ANY)
        .with_permission_type(ANY);
    let resp = c.send(&all, 1);
    assert_eq!(resp.resources.len(), 1);
    assert_eq!(resp.resources[0].pattern_type, PREFIXED);
}

// ---- Malformed old frames and compat 4.1 -------------------------------------------------------

#[test]
fn malformed_old_frames_close_only_their_connection() {
    let mut broker = Broker::start();
    let mut bystander = broker.client();
    let t = create_topic(&mut bystander, "old-bad", 1);
    // Truncated: an OffsetCommit v1 cut inside its partition.
    let whole = offset_commit(1, "g", Some((-1, "")), "old-bad", &[(0, 1, "meta")]);
    let mut cut = whole[..whole.len() - 6].to_vec();
    let len = (cut.len() - 4) as i32;
    cut[0..4].copy_from_slice(&len.to_be_bytes());
    refused(&mut broker, &cut, "truncated OffsetCommit v1");
    // Huge counts: topics, partitions, and a DescribeConfigs key list.
    let mut f = Frame::new(ApiKey::ListOffsets, 0, 1);
    f.i32(-1).i32(i32::MAX);
    refused(&mut broker, &f.done(), "ListOffsets v0 with 2^31-1 topics");
    let mut f = Frame::new(ApiKey::OffsetCommit, 0, 2);
    f.str("g").i32(1).str("old-bad").i32(1_000_000_000).i32(0);
    refused(
        &mut broker,
        &f.done(),
        "OffsetCommit v0 with 10^9 partitions",
    );
    let mut f = Frame::new(ApiKey::DescribeConfigs, 0, 3);
    f.i32(1).i8(2).str("old-bad").i32(i32::MAX - 1);
    refused(
        &mut broker,
        &f.done(),
        "DescribeConfigs v0 with 2^31-2 keys",
    );
    let mut f = Frame::new(ApiKey::CreateAcls, 0, 4);
    f.i32(1).i8(TOPIC).i16(500).str("x");
    refused(
        &mut broker,
        &f.done(),
        "CreateAcls v0 with a string longer than the frame",
    );
    // A null where v0 has no nullable field (OffsetFetch v0 topics).
    let mut f = Frame::new(ApiKey::OffsetFetch, 0, 5);
    f.str("g").i32(-1);
    refused(&mut broker, &f.done(), "OffsetFetch v0 with null topics");
    // The bystander connection and the data are fine.
    produce_ok(&mut bystander, &t, 0, &recs("ok", 1));
    assert_eq!(
        list_offsets_v0(&mut bystander, "old-bad", 0, LATEST, 1),
        (code::NONE, vec![1])
    );
}

/// Under `klamm.compat.kafka.version=4.1` every removed version is refused as Kafka 4.1 refuses
/// an unsupported request version (the connection is closed, nothing answered), while the
/// lowest 4.1 versions keep working.
#[test]
fn compat_4_1_refuses_the_removed_versions() {
    let mut broker = Broker::with_overrides(&[("klamm.compat.kafka.version", "4.1")]);
    let mut c = broker.client();
    create_topic(&mut c, "old-compat", 1);
    let frames: Vec<(&str, Vec<u8>)> = vec![
        ("ListOffsets v0", {
            let mut f = Frame::new(ApiKey::ListOffsets, 0, 1);
            f.i32(-1)
                .i32(1)
                .str("old-compat")
                .i32(1)
                .i32(0)
                .i64(LATEST)
                .i32(1);
            f.done()
        }),
        (
            "OffsetCommit v0",
            offset_commit(0, "g", None, "old-compat", &[(0, 1, "")]),
        ),
        (
            "OffsetCommit v1",
            offset_commit(1, "g", Some((-1, "")), "old-compat", &[(0, 1, "")]),
        ),
        ("OffsetFetch v0", {
            let mut f = Frame::new(ApiKey::OffsetFetch, 0, 1);
            f.str("g").i32(1).str("old-compat").i32(1).i32(0);
            f.done()
        }),
        (
            "CreateTopics v0",
            create_topics(0, &[("old-x", 1, 1)], false),
        ),
        (
            "CreateTopics v1",
            create_topics(1, &[("old-x", 1, 1)], false),
        ),
        ("DeleteTopics v0", {
            let mut f = Frame::new(ApiKey::DeleteTopics, 0, 1);
            f.i32(1).str("old-compat").i32(1000);
            f.done()
        }),
        ("OffsetForLeaderEpoch v0", {
            let mut f = Frame::new(ApiKey::OffsetForLeaderEpoch, 0, 1);
            f.i32(1).str("old-compat").i32(1).i32(0).i32(0);
            f.done()
        }),
        ("OffsetForLeaderEpoch v1", {
            let mut f = Frame::new(ApiKey::OffsetForLeaderEpoch, 1, 1);
            f.i32(1).str("old-compat").i32(1).i32(0).i32(0);
            f.done()
        }),
        ("DescribeAcls v0", {
            let mut f = Frame::new(ApiKey::DescribeAcls, 0, 1);
            f.i8(TOPIC).null().null().null().i8(ANY).i8(ANY);
            f.done()
        }),
        ("CreateAcls v0", {
            let mut f = Frame::new(ApiKey::CreateAcls, 0, 1);
            f.i32(1)
                .i8(TOPIC)
                .str("x")
                .str("User:a")
                .str("*")
                .i8(READ)
                .i8(ALLOW);
            f.done()
        }),
        ("DeleteAcls v0", {
            let mut f = Frame::new(ApiKey::DeleteAcls, 0, 1);
            f.i32(1).i8(TOPIC).null().null().null().i8(ANY).i8(ANY);
            f.done()
        }),
        ("DescribeConfigs v0", {
            let mut f = Frame::new(ApiKey::DescribeConfigs, 0, 1);
            f.i32(1).i8(2).str("old-compat").i32(-1);
            f.done()
        }),
        ("DescribeLogDirs v0", {
            let mut f = Frame::new(ApiKey::DescribeLogDirs, 0, 1);
            f.i32(-1);
            f.done()
        }),
    ];
    assert_eq!(frames.len(), 14, "every removed version");
    for (what, frame) in &frames {
        refused(&mut broker, frame, what);
    }
    assert!(
        topic_exists(&mut c, "old-compat"),
        "DeleteTopics v0 did nothing"
    );
    assert!(
        !topic_exists(&mut c, "old-x"),
        "CreateTopics v0-1 did nothing"
    );
    // The 4.1 minimums still work.
    assert_eq!(list_offset(&mut c, "old-compat", 0, LATEST, 1).offset, 0);
}

/// The same frames under the default are served: one check per API that the answer decodes
/// (the detailed content is asserted above), so the wide table and the decoders agree.
#[test]
fn default_serves_every_removed_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    create_topic(&mut c, "old-all", 1);
    let mut f = Frame::new(ApiKey::DescribeLogDirs, 0, 1);
    f.i32(-1);
    let mut r = call(&mut c, &f.done());
    assert_eq!(r.i32(), 0);
    assert_eq!(r.count(), 1);
    assert_eq!(r.i16(), code::NONE);
    let _dir = r.str();
    let topics = r.count();
    assert!(topics >= 1);
    for _ in 0..topics {
        let _name = r.str();
        for _ in 0..r.count() {
            r.i32();
            r.i64();
            r.i64();
            r.bool();
        }
    }
    r.end();
    for (key, min, max) in REMOVED_IN_KAFKA_4 {
        assert!(*min == 0 && *max < *versions(*key).start(), "{key:?}");
    }
}
