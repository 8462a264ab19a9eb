//! ApiVersions (key 18), v0-4: the advertised API list, client software validation (KIP-511)
//! and the answer to a version newer than the broker knows.

use bytes::{Buf, Bytes};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::Decodable;

use crate::support::client::encode_request;
use crate::support::*;

fn request(version: i16) -> ApiVersionsRequest {
    let mut req = ApiVersionsRequest::default();
    if version >= 3 {
        req.client_software_name = s("klamm-protocol-tests");
        req.client_software_version = s("1.0.0");
    }
    req
}

fn api_list(resp: &ApiVersionsResponse) -> Vec<(i16, i16, i16)> {
    resp.api_keys
        .iter()
        .map(|a| (a.api_key, a.min_version, a.max_version))
        .collect()
}

fn expected_list() -> Vec<(i16, i16, i16)> {
    ADVERTISED
        .iter()
        .map(|(k, min, max)| (*k as i16, *min, *max))
        .collect()
}

#[test]
fn every_version_lists_exactly_the_served_apis() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in versions(ApiKey::ApiVersions) {
        let resp = c.send(&request(v), v);
        assert_eq!(resp.error_code, code::NONE, "ApiVersions v{v}");
        let mut got = api_list(&resp);
        got.sort();
        assert_eq!(got, expected_list(), "ApiVersions v{v} api list");
        assert_eq!(resp.throttle_time_ms, 0, "ApiVersions v{v} throttle");
    }
}

#[test]
fn invalid_client_software_name_is_an_invalid_request() {
    let broker = Broker::start();
    let mut c = broker.client();
    for v in 3..=4 {
        for (name, version) in [
            ("-starts-with-dash", "1.0"),
            ("has space", "1.0"),
            ("", "1.0"),
            ("ok", "1.0!"),
        ] {
            let req = ApiVersionsRequest::default()
                .with_client_software_name(s(name))
                .with_client_software_version(s(version));
            let resp = c.send(&req, v);
            assert_eq!(
                resp.error_code,
                code::INVALID_REQUEST,
                "ApiVersions v{v} with software {name:?} {version:?}"
            );
        }
        // The connection stays usable after the error.
        let resp = c.send(&request(v), v);
        assert_eq!(resp.error_code, code::NONE);
    }
}

/// KIP-511: a client newer than the broker sends ApiVersions at a version the broker does not
/// know; the broker answers with a v0 response carrying UNSUPPORTED_VERSION and its ranges, so
/// the client can retry at a version both sides support.
#[test]
fn unknown_version_gets_a_v0_answer_with_the_api_list() {
    let broker = Broker::start();
    let mut c = broker.client();
    // An ApiVersions v4 frame (header v2) relabelled as v99, as a future client would send.
    let mut frame = encode_request(&request(4), 4, 4242);
    frame[6..8].copy_from_slice(&99i16.to_be_bytes());
    let resp = c
        .send_frame(&frame)
        .expect("an ApiVersions v99 request is answered");
    let mut body: Bytes = resp;
    assert_eq!(body.get_i32(), 4242, "correlation id (response header v0)");
    let decoded = ApiVersionsResponse::decode(&mut body, 0).expect("a v0 ApiVersions response");
    assert!(!body.has_remaining(), "the whole v0 response is consumed");
    assert_eq!(decoded.error_code, code::UNSUPPORTED_VERSION);
    let mut got = api_list(&decoded);
    got.sort();
    assert_eq!(got, expected_list());

    // The client then retries at a supported version on the same connection.
    let resp = c.send(&request(3), 3);
    assert_eq!(resp.error_code, code::NONE);
    let mut got = api_list(&resp);
    got.sort();
    assert_eq!(got, expected_list());
}
