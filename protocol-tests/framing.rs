//! Framing and bad input: whatever arrives, the broker answers correctly or closes the
//! connection, never crashes, and keeps serving other connections. Also pipelining.

use std::time::Duration;

use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest, ProduceRequest};

use crate::support::client::encode_request;
use crate::support::*;

const CLOSE_WITHIN: Duration = Duration::from_secs(10);

/// The broker is alive and serves a new connection.
fn assert_alive(broker: &mut Broker) {
    assert!(broker.is_running(), "the broker process exited");
    let mut c = broker.client();
    let req = ApiVersionsRequest::default()
        .with_client_software_name(s("framing-test"))
        .with_client_software_version(s("1"));
    assert_eq!(c.send(&req, 3).error_code, code::NONE);
    let md = c.send(&metadata_request(Some(&[]), false), 12);
    assert_eq!(md.brokers.len(), 1);
}

/// Sends `bytes` on a fresh connection and expects the broker to close it without answering.
fn expect_closed(broker: &mut Broker, bytes: &[u8], what: &str) {
    let mut c = broker.client();
    let _ = c.try_write_raw(bytes);
    assert!(
        c.closed_within(CLOSE_WITHIN),
        "{what}: connection not closed"
    );
    assert_alive(broker);
}

/// Deterministic pseudo-random bytes (xorshift).
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut f = (body.len() as i32).to_be_bytes().to_vec();
    f.extend_from_slice(body);
    f
}

#[test]
fn random_bytes() {
    let mut broker = Broker::start();
    for seed in 1..=8u64 {
        let junk = noise(seed, 64);
        // As they come (the first four bytes are some size prefix) ...
        let mut c = broker.client();
        let _ = c.try_write_raw(&junk);
        // ... the broker either waits for the rest of a huge frame or closes; either way a
        // client giving up must not hurt it.
        drop(c);
        // ... and as a whole frame of garbage.
        expect_closed(&mut broker, &framed(&junk), &format!("framed noise {seed}"));
    }
    // A known API with a garbage body.
    let mut body = vec![0, 3, 0, 12, 0, 0, 0, 9, 0, 0];
    body.extend(noise(99, 40));
    expect_closed(
        &mut broker,
        &framed(&body),
        "Metadata v12 with a garbage body",
    );
    // A frame too short for a request header.
    expect_closed(&mut broker, &framed(&[0, 18]), "a 2-byte frame");
    expect_closed(&mut broker, &framed(&[]), "an empty frame");
}

#[test]
fn huge_and_negative_size_prefixes() {
    let mut broker = Broker::start();
    expect_closed(&mut broker, &i32::MAX.to_be_bytes(), "a 2 GiB size prefix");
    expect_closed(&mut broker, &[0x80, 0, 0, 0], "a negative size prefix");
    expect_closed(&mut broker, &(-1i32).to_be_bytes(), "size -1");
    expect_closed(
        &mut broker,
        &(200 * 1024 * 1024i32).to_be_bytes(),
        "200 MiB > socket.request.max.bytes",
    );
}

#[test]
fn truncated_frame_then_close() {
    let mut broker = Broker::start();
    let frame = encode_request(&metadata_request(None, false), 12, 1);
    for cut in [1, 3, 4, 10, frame.len() - 1] {
        let mut c = broker.client();
        c.write_raw(&frame[..cut]);
        drop(c);
        assert_alive(&mut broker);
    }
}

#[test]
fn unknown_api_key_and_version() {
    let mut broker = Broker::start();
    let mut unknown = encode_request(&ApiVersionsRequest::default(), 0, 5);
    unknown[4..6].copy_from_slice(&9999i16.to_be_bytes());
    expect_closed(&mut broker, &unknown, "API key 9999");
    let mut negative = unknown.clone();
    negative[4..6].copy_from_slice(&(-3i16).to_be_bytes());
    expect_closed(&mut broker, &negative, "API key -3");

    // Metadata v99: Kafka cannot parse it and closes the connection.
    let mut v99 = encode_request(&MetadataRequest::default().with_topics(None), 12, 6);
    v99[6..8].copy_from_slice(&99i16.to_be_bytes());
    expect_closed(&mut broker, &v99, "Metadata v99");
    // Fetch v3 (removed in Kafka 4) likewise.
    let mut fetch_v3 = encode_request(
        &fetch_request(
            &TopicRef {
                name: "t".into(),
                id: uuid::Uuid::nil(),
            },
            0,
            0,
        ),
        4,
        7,
    );
    fetch_v3[6..8].copy_from_slice(&3i16.to_be_bytes());
    expect_closed(&mut broker, &fetch_v3, "Fetch v3");
    // An API Kafka has but this broker does not advertise (UpdateFeatures, key 57).
    let mut unserved = encode_request(&ApiVersionsRequest::default(), 0, 8);
    unserved[4..6].copy_from_slice(&57i16.to_be_bytes());
    expect_closed(&mut broker, &unserved, "an API that is not advertised");
}

#[test]
fn frames_above_socket_request_max_bytes_close_the_connection() {
    let mut broker = Broker::with_overrides(&[("socket.request.max.bytes", "1024")]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "framing-max", 1);
    // Find value lengths whose Produce frame body is exactly 1024 and 1025 bytes.
    let frame_for = |len: usize| {
        let req = produce_request(
            &topic,
            0,
            batch(&[rec("k", &"v".repeat(len)).at(now_ms())]),
            -1,
        );
        encode_request(&req, 9, 77)
    };
    let sized = |want: usize| {
        (700..1100)
            .map(frame_for)
            .find(|f| f.len() - 4 == want)
            .unwrap_or_else(|| panic!("no produce frame of exactly {want} bytes"))
    };
    let at_limit = sized(1024);
    let resp = c
        .send_frame(&at_limit)
        .expect("a 1024-byte request is served");
    let (id, body) = client::decode_response::<ProduceRequest>(resp, 9);
    assert_eq!(id, 77);
    assert_eq!(
        body.responses[0].partition_responses[0].error_code,
        code::NONE
    );

    expect_closed(
        &mut broker,
        &sized(1025),
        "a 1025-byte request with socket.request.max.bytes=1024",
    );
    // Only the size prefix matters: the broker does not wait for (or allocate) the body.
    expect_closed(
        &mut broker,
        &1025i32.to_be_bytes(),
        "a 1025-byte size prefix alone",
    );
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "framing-pipeline", 1);
    for v in [3, 9, 13] {
        let hw = fetch(&mut c, &topic, 0, 0, 12).high_watermark;
        let ids: Vec<i32> = (0..5)
            .map(|i| {
                c.write_request(
                    &produce_request(&topic, 0, batch(&recs(&format!("p{i}"), 2)), -1),
                    v,
                )
            })
            .collect();
        for (i, id) in ids.iter().enumerate() {
            let p = single_produce_response(c.read_response::<ProduceRequest>(v, *id), &topic, v);
            assert_eq!(p.error_code, code::NONE);
            assert_eq!(
                p.base_offset,
                hw + 2 * i as i64,
                "Produce v{v}: pipelined request {i}"
            );
        }
    }
    // Different APIs pipelined on one connection.
    let a = c.write_request(&metadata_request(Some(&[&topic.name]), false), 12);
    let b = c.write_request(&list_offsets_request(&topic.name, 0, -1), 7);
    let d = c.write_request(&fetch_request(&topic, 0, 0), 12);
    assert_eq!(
        c.read_response::<MetadataRequest>(12, a).topics[0].topic_id,
        topic.id
    );
    assert_eq!(
        c.read_response::<kafka_protocol::messages::ListOffsetsRequest>(7, b)
            .topics[0]
            .partitions[0]
            .offset,
        30
    );
    assert_eq!(
        c.read_response::<kafka_protocol::messages::FetchRequest>(12, d)
            .responses[0]
            .partitions[0]
            .high_watermark,
        30
    );
}

#[test]
fn many_connections_at_once() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "framing-many", 1);
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let addr = broker.addr;
            let topic = topic.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(addr);
                for j in 0..5 {
                    produce_ok(&mut c, &topic, 0, &recs(&format!("c{i}-{j}"), 1));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("producer thread");
    }
    let p = fetch(&mut c, &topic, 0, 0, 12);
    let got = decode_records(&p.records.expect("records"));
    assert_eq!(got.len(), 80);
    assert!(got.iter().enumerate().all(|(i, r)| r.offset == i as i64));
}
