//! Malformed frames: what closes the connection and what gets an answer, on both brokers. An
//! unknown API key, versions outside the served range, a truncated body, a size prefix above
//! `socket.request.max.bytes`, a negative size, a bad client id length, garbage after a valid
//! body. After each, a fresh connection must still be answered.

use std::time::Duration;

use kafka_protocol::messages::*;

use super::super::{decode, frame, Ctx, Outcome};
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[
    ("admin/framing", framing),
    ("admin/framing_versions", framing_versions),
];

const WAIT: Duration = Duration::from_secs(3);

/// A request header v1 (api key, version, correlation id, client id) followed by `body`,
/// size prefix included.
fn raw_frame(key: i16, version: i16, corr: i32, client_id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&key.to_be_bytes());
    f.extend_from_slice(&version.to_be_bytes());
    f.extend_from_slice(&corr.to_be_bytes());
    f.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    f.extend_from_slice(client_id);
    f.extend_from_slice(body);
    let mut out = (f.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&f);
    out
}

/// Rewrites the size prefix after the frame was changed.
fn resize(mut f: Vec<u8>) -> Vec<u8> {
    let n = (f.len() - 4) as i32;
    f[0..4].copy_from_slice(&n.to_be_bytes());
    f
}

fn metadata_v12() -> Vec<u8> {
    frame(
        &MetadataRequest::default()
            .with_topics(Some(vec![]))
            .with_allow_auto_topic_creation(false),
        12,
        11,
    )
}

/// The decoded answers when both answered (else the outcomes were compared already).
fn compare_answers<R: kafka_protocol::protocol::Request>(
    ctx: &mut Ctx,
    step: &str,
    out: [Outcome; 2],
    version: i16,
) where
    R::Response: std::fmt::Debug,
{
    let decoded = out.map(|o| match o {
        Outcome::Frame(b) => Some(decode::<R>(b, version)),
        _ => None,
    });
    ctx.compare(&format!("{step}-answer"), &decoded[0], &decoded[1]);
}

/// A fresh connection is still answered (the error code of an ApiVersions v0; its ranges are
/// api_versions' scenarios).
fn still_served(ctx: &mut Ctx, step: &str) {
    ctx.reconnect();
    let [k, l] = ctx.send_each(&ApiVersionsRequest::default(), 0);
    ctx.compare(&format!("{step}/after"), &k.error_code, &l.error_code);
}

fn framing(ctx: &mut Ctx) {
    ctx.raw("unknown_api_key", &raw_frame(999, 0, 1, b"c", &[]), WAIT);
    still_served(ctx, "unknown_api_key");
    ctx.raw("negative_api_key", &raw_frame(-3, 0, 1, b"c", &[]), WAIT);
    still_served(ctx, "negative_api_key");

    // A Metadata v12 frame cut short (the size prefix says what is sent).
    let mut f = metadata_v12();
    f.truncate(f.len() - 3);
    ctx.raw("truncated_body", &resize(f), WAIT);
    still_served(ctx, "truncated_body");

    // Only a header, no body at all.
    ctx.raw("header_only", &raw_frame(3, 1, 1, b"c", &[]), WAIT);
    still_served(ctx, "header_only");

    // Garbage after a valid body.
    let mut f = metadata_v12();
    f.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let out = ctx.raw("garbage_after_body", &resize(f), WAIT);
    compare_answers::<MetadataRequest>(ctx, "garbage_after_body", out, 12);
    still_served(ctx, "garbage_after_body");

    // A Metadata v1 (header v1) with trailing bytes after the topics array.
    let body = (-1i32).to_be_bytes();
    let mut b = body.to_vec();
    b.extend_from_slice(&[1, 2, 3]);
    let out = ctx.raw("garbage_after_body_v1", &raw_frame(3, 1, 5, b"c", &b), WAIT);
    compare_answers::<MetadataRequest>(ctx, "garbage_after_body_v1", out, 1);
    still_served(ctx, "garbage_after_body_v1");

    // A size prefix above socket.request.max.bytes (104857600), with a few bytes following.
    let mut f = (104_857_601i32).to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 18, 0, 0]);
    ctx.raw("size_above_max", &f, WAIT);
    still_served(ctx, "size_above_max");

    // A negative size.
    let mut f = (-5i32).to_be_bytes().to_vec();
    f.extend_from_slice(&[0, 18, 0, 0]);
    ctx.raw("negative_size", &f, WAIT);
    still_served(ctx, "negative_size");

    // A zero size.
    ctx.raw("zero_size", &0i32.to_be_bytes(), WAIT);
    still_served(ctx, "zero_size");

    // A client id length longer than the frame.
    let mut f = raw_frame(18, 0, 3, b"c", &[]);
    f[12..14].copy_from_slice(&500i16.to_be_bytes());
    ctx.raw("client_id_too_long", &f, WAIT);
    still_served(ctx, "client_id_too_long");

    // A client id length below -1.
    let mut f = raw_frame(18, 0, 3, b"c", &[]);
    f[12..14].copy_from_slice(&(-7i16).to_be_bytes());
    ctx.raw("client_id_negative", &f, WAIT);
    still_served(ctx, "client_id_negative");

    // A null client id (-1) is fine.
    let mut f = raw_frame(18, 0, 3, b"", &[]);
    f[12..14].copy_from_slice(&(-1i16).to_be_bytes());
    let out = ctx.raw("client_id_null", &f, WAIT);
    let decoded = out.map(|o| match o {
        Outcome::Frame(b) => Some(decode::<ApiVersionsRequest>(b, 0).error_code),
        _ => None,
    });
    ctx.compare("client_id_null-answer", &decoded[0], &decoded[1]);

    // A frame shorter than a request header.
    ctx.raw("shorter_than_header", &[0, 0, 0, 3, 0, 18, 0], WAIT);
    still_served(ctx, "shorter_than_header");
}

/// Versions outside the served range, of several APIs (ApiVersions' KIP-511 answer is in
/// api_versions/unsupported_version).
fn framing_versions(ctx: &mut Ctx) {
    let cases: &[(&str, i16, i16)] = &[
        ("metadata_v99", 3, 99),
        ("fetch_v0", 1, 0),
        ("fetch_v99", 1, 99),
        ("create_topics_v1", 19, 1),
        ("offset_commit_v0", 8, 0),
        ("list_offsets_v0", 2, 0),
        ("describe_configs_v0", 32, 0),
        ("negative_version", 3, -1),
    ];
    for (step, key, version) in cases {
        // A header v1 with an empty body: the version check comes before the body is read.
        let f = raw_frame(*key, *version, 21, b"c", &[0, 0, 0, 0]);
        ctx.raw(step, &f, WAIT);
        still_served(ctx, step);
    }
}
