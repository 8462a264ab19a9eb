//! Request builders and one-call helpers for the requests most tests need (create a topic,
//! produce one batch, fetch one partition, list one offset).

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::ListOffsetsPartitionResponse;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::PartitionProduceResponse;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::client::Client;
use super::code;

pub fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

pub fn name(v: &str) -> TopicName {
    TopicName(s(v))
}

/// A topic as tests address it: by name (Produce v3-12, Fetch v4-12) or id (v13+).
#[derive(Clone, Debug)]
pub struct TopicRef {
    pub name: String,
    pub id: Uuid,
}

// ---- CreateTopics -------------------------------------------------------------------------

pub fn creatable(topic: &str, partitions: i32, configs: &[(&str, &str)]) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(topic))
        .with_num_partitions(partitions)
        .with_replication_factor(1)
        .with_configs(
            configs
                .iter()
                .map(|(k, v)| {
                    CreatableTopicConfig::default()
                        .with_name(s(k))
                        .with_value(Some(s(v)))
                })
                .collect(),
        )
}

/// Creates a topic with CreateTopics v7; panics unless it succeeds. Returns name and id.
pub fn create_topic(c: &mut Client, topic: &str, partitions: i32) -> TopicRef {
    create_topic_with(c, topic, partitions, &[])
}

/// Creates a topic with config overrides (CreateTopics v7).
pub fn create_topic_with(
    c: &mut Client,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> TopicRef {
    let req = CreateTopicsRequest::default()
        .with_topics(vec![creatable(topic, partitions, configs)])
        .with_timeout_ms(30_000);
    let resp = c.send(&req, 7);
    assert_eq!(resp.topics.len(), 1);
    let t = &resp.topics[0];
    assert_eq!(
        t.error_code,
        code::NONE,
        "creating {topic}: {:?}",
        t.error_message
    );
    assert!(!t.topic_id.is_nil(), "CreateTopics v7 returns the topic id");
    TopicRef {
        name: topic.to_string(),
        id: t.topic_id,
    }
}

// ---- Produce ------------------------------------------------------------------------------

/// A Produce request for one partition (by name below v13, by id from v13).
pub fn produce_request(
    topic: &TopicRef,
    partition: i32,
    records: Bytes,
    acks: i16,
) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(name(&topic.name))
            .with_topic_id(topic.id)
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records))])])
}

/// Produces one batch with acks=-1 and returns the single partition response.
pub fn produce(
    c: &mut Client,
    topic: &TopicRef,
    partition: i32,
    records: Bytes,
    version: i16,
) -> PartitionProduceResponse {
    let resp = c.send(&produce_request(topic, partition, records, -1), version);
    single_produce_response(resp, topic, version)
}

/// The only partition response of a one-partition Produce, checking the topic echoed back.
pub fn single_produce_response(
    resp: ProduceResponse,
    topic: &TopicRef,
    version: i16,
) -> PartitionProduceResponse {
    assert_eq!(resp.responses.len(), 1, "one topic in the produce response");
    let t = resp.responses.into_iter().next().expect("topic");
    if version >= 13 {
        assert_eq!(
            t.topic_id, topic.id,
            "Produce v{version} echoes the topic id"
        );
    } else {
        assert_eq!(
            t.name.as_str(),
            topic.name,
            "Produce v{version} echoes the topic name"
        );
    }
    assert_eq!(
        t.partition_responses.len(),
        1,
        "one partition in the produce response"
    );
    t.partition_responses.into_iter().next().expect("partition")
}

/// Produces one batch (Produce v9, acks=-1) and asserts success; returns the base offset.
pub fn produce_ok(c: &mut Client, topic: &TopicRef, partition: i32, records: &[super::Rec]) -> i64 {
    let p = produce(c, topic, partition, super::batch(records), 9);
    assert_eq!(
        p.error_code,
        code::NONE,
        "produce to {}: {:?}",
        topic.name,
        p.error_message
    );
    p.base_offset
}

// ---- Fetch --------------------------------------------------------------------------------

/// A consumer Fetch request for one partition with no waiting.
pub fn fetch_request(topic: &TopicRef, partition: i32, offset: i64) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(0)
        .with_min_bytes(0)
        .with_max_bytes(50 * 1024 * 1024)
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default()
            .with_topic(name(&topic.name))
            .with_topic_id(topic.id)
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1024 * 1024)])])
}

/// Fetches one partition and returns its data, checking the topic echoed back.
pub fn fetch(
    c: &mut Client,
    topic: &TopicRef,
    partition: i32,
    offset: i64,
    version: i16,
) -> PartitionData {
    let resp = c.send(&fetch_request(topic, partition, offset), version);
    single_fetch_partition(resp, topic, version)
}

pub fn single_fetch_partition(
    resp: FetchResponse,
    topic: &TopicRef,
    version: i16,
) -> PartitionData {
    assert_eq!(resp.error_code, code::NONE, "top-level fetch error");
    assert_eq!(resp.responses.len(), 1, "one topic in the fetch response");
    let t = resp.responses.into_iter().next().expect("topic");
    if version >= 13 {
        assert_eq!(t.topic_id, topic.id, "Fetch v{version} echoes the topic id");
    } else {
        assert_eq!(
            t.topic.as_str(),
            topic.name,
            "Fetch v{version} echoes the topic name"
        );
    }
    assert_eq!(t.partitions.len(), 1, "one partition in the fetch response");
    t.partitions.into_iter().next().expect("partition")
}

// ---- ListOffsets --------------------------------------------------------------------------

pub fn list_offsets_request(topic: &str, partition: i32, timestamp: i64) -> ListOffsetsRequest {
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![ListOffsetsPartition::default()
                .with_partition_index(partition)
                .with_timestamp(timestamp)])])
}

pub fn list_offset(
    c: &mut Client,
    topic: &str,
    partition: i32,
    timestamp: i64,
    version: i16,
) -> ListOffsetsPartitionResponse {
    let resp = c.send(&list_offsets_request(topic, partition, timestamp), version);
    assert_eq!(resp.topics.len(), 1);
    assert_eq!(resp.topics[0].name.as_str(), topic);
    assert_eq!(resp.topics[0].partitions.len(), 1);
    resp.topics[0].partitions[0].clone()
}

// ---- Metadata -----------------------------------------------------------------------------

/// A Metadata request for topics by name (`None`: all topics).
pub fn metadata_request(topics: Option<&[&str]>, auto_create: bool) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(topics.map(|ts| {
            ts.iter()
                .map(|t| MetadataRequestTopic::default().with_name(Some(name(t))))
                .collect()
        }))
        .with_allow_auto_topic_creation(auto_create)
}

/// Metadata v12 for one topic (no auto-creation); returns the topic entry.
pub fn describe_topic(c: &mut Client, topic: &str) -> metadata_response::MetadataResponseTopic {
    let resp = c.send(&metadata_request(Some(&[topic]), false), 12);
    assert_eq!(resp.topics.len(), 1);
    resp.topics.into_iter().next().expect("topic")
}

// ---- InitProducerId -----------------------------------------------------------------------

/// An idempotent producer id (InitProducerId v4, no transactional id).
pub fn init_producer_id(c: &mut Client) -> (i64, i16) {
    let req = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(-1)
        .with_producer_id(ProducerId(-1))
        .with_producer_epoch(-1);
    let resp = c.send(&req, 4);
    assert_eq!(resp.error_code, code::NONE, "InitProducerId");
    (resp.producer_id.0, resp.producer_epoch)
}

// ---- Produce v0-2 (removed in Kafka 4; kafka-protocol no longer encodes them) ---------------

/// A Produce v0-2 request frame (with size prefix): header v1, acks, timeout, one topic with
/// one partition carrying `records`.
pub fn legacy_produce_frame(
    version: i16,
    correlation_id: i32,
    acks: i16,
    topic: &str,
    records: &[u8],
) -> Vec<u8> {
    let mut b: Vec<u8> = Vec::new();
    b.extend(0i16.to_be_bytes());
    b.extend(version.to_be_bytes());
    b.extend(correlation_id.to_be_bytes());
    let client = b"legacy-client";
    b.extend((client.len() as i16).to_be_bytes());
    b.extend(client);
    b.extend(acks.to_be_bytes());
    b.extend(30_000i32.to_be_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend((topic.len() as i16).to_be_bytes());
    b.extend(topic.as_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend(0i32.to_be_bytes());
    b.extend((records.len() as i32).to_be_bytes());
    b.extend(records);
    let mut frame = (b.len() as i32).to_be_bytes().to_vec();
    frame.extend(b);
    frame
}

/// One partition of a Produce v0-2 response.
#[derive(Debug, PartialEq)]
pub struct LegacyPartitionResponse {
    pub topic: String,
    pub partition: i32,
    pub error_code: i16,
    pub base_offset: i64,
    /// v2 only.
    pub log_append_time: Option<i64>,
}

/// Parses a Produce v0-2 response frame (size prefix removed): correlation id and partitions.
/// Panics unless the frame is exactly one such response.
pub fn parse_legacy_produce_response(
    frame: Bytes,
    version: i16,
) -> (i32, Vec<LegacyPartitionResponse>) {
    use bytes::Buf;
    let mut r = frame;
    let need =
        |r: &Bytes, n: usize| assert!(r.remaining() >= n, "Produce v{version} response truncated");
    need(&r, 8);
    let correlation_id = r.get_i32();
    let topics = r.get_i32();
    let mut out = Vec::new();
    for _ in 0..topics {
        need(&r, 2);
        let len = r.get_i16().max(0) as usize;
        need(&r, len + 4);
        let topic = String::from_utf8_lossy(&r[..len]).to_string();
        r.advance(len);
        let partitions = r.get_i32();
        for _ in 0..partitions {
            need(&r, 14);
            let partition = r.get_i32();
            let error_code = r.get_i16();
            let base_offset = r.get_i64();
            let log_append_time = if version >= 2 {
                need(&r, 8);
                Some(r.get_i64())
            } else {
                None
            };
            out.push(LegacyPartitionResponse {
                topic: topic.clone(),
                partition,
                error_code,
                base_offset,
                log_append_time,
            });
        }
    }
    if version >= 1 {
        need(&r, 4);
        assert_eq!(r.get_i32(), 0, "throttle time");
    }
    assert!(
        !r.has_remaining(),
        "Produce v{version} response: {} bytes left",
        r.remaining()
    );
    (correlation_id, out)
}
