//! ApiVersions (key 18), v0-4: the advertised API list, client software validation (KIP-511)
//! and the answer to a version newer than the broker knows; by default the list includes the
//! versions Kafka 4.0 removed (KIP-896), and with `klamm.compat.kafka.version=4.1` it is
//! exactly Kafka 4.1's.

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

/// The default (wide) list: Kafka 4.1's ranges plus the versions Kafka 4.0 removed.
fn expected_list() -> Vec<(i16, i16, i16)> {
    advertised_wide()
        .iter()
        .map(|(k, min, max)| (*k as i16, *min, *max))
        .collect()
}

/// Kafka 4.1's list, advertised under `klamm.compat.kafka.version=4.1`.
fn kafka_4_1_list() -> Vec<(i16, i16, i16)> {
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

/// `klamm.compat.kafka.version=4.1`: exactly Kafka 4.1's ranges, in every ApiVersions version;
/// the KIP-511 fallback lists ApiVersions' own range only, as in the default mode.
#[test]
fn compat_4_1_lists_exactly_kafka_4_1s_ranges() {
    let broker = Broker::with_overrides(&[("klamm.compat.kafka.version", "4.1")]);
    let mut c = broker.client();
    for v in versions(ApiKey::ApiVersions) {
        let resp = c.send(&request(v), v);
        assert_eq!(resp.error_code, code::NONE, "ApiVersions v{v}");
        let mut got = api_list(&resp);
        got.sort();
        assert_eq!(got, kafka_4_1_list(), "ApiVersions v{v} api list under 4.1");
    }
    let mut frame = encode_request(&request(4), 4, 77);
    frame[6..8].copy_from_slice(&99i16.to_be_bytes());
    let mut body = c.send_frame(&frame).expect("KIP-511 answer");
    assert_eq!(body.get_i32(), 77);
    let decoded = ApiVersionsResponse::decode(&mut body, 0).expect("a v0 ApiVersions response");
    assert_eq!(decoded.error_code, code::UNSUPPORTED_VERSION);
    let api_versions: Vec<_> = kafka_4_1_list()
        .into_iter()
        .filter(|(k, _, _)| *k == ApiKey::ApiVersions as i16)
        .collect();
    assert_eq!(api_versions.len(), 1);
    assert_eq!(api_list(&decoded), api_versions);
}

/// Settings validation: only the empty string and `4.1` are accepted.
#[test]
fn compat_setting_rejects_other_versions() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_klamm"))
        .args(["serve", "--override", "klamm.compat.kafka.version=3.9"])
        .output()
        .expect("run klamm");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Invalid value 3.9 for configuration klamm.compat.kafka.version"),
        "{stderr}"
    );
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
/// know; the broker answers with a v0 response carrying UNSUPPORTED_VERSION and ApiVersions' own
/// range only (Kafka's `ApiVersionsRequest.getErrorResponse`), so the client can retry at a
/// version both sides support and learn the other ranges then.
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
    let api_versions = expected_list()
        .into_iter()
        .filter(|(k, _, _)| *k == ApiKey::ApiVersions as i16)
        .collect::<Vec<_>>();
    assert_eq!(api_versions.len(), 1);
    assert_eq!(api_list(&decoded), api_versions);

    // The client then retries at a supported version on the same connection.
    let resp = c.send(&request(3), 3);
    assert_eq!(resp.error_code, code::NONE);
    let mut got = api_list(&resp);
    got.sort();
    assert_eq!(got, expected_list());
}

/// Features as (name, min, max): version ranges when supported, levels when finalized.
type FeatureRanges = Vec<(String, i16, i16)>;

fn features(resp: &ApiVersionsResponse) -> (FeatureRanges, FeatureRanges) {
    let sup = resp
        .supported_features
        .iter()
        .map(|f| (f.name.to_string(), f.min_version, f.max_version))
        .collect();
    let fin = resp
        .finalized_features
        .iter()
        .map(|f| (f.name.to_string(), f.min_version_level, f.max_version_level))
        .collect();
    (sup, fin)
}

fn named(v: &[(&str, i16, i16)]) -> Vec<(String, i16, i16)> {
    v.iter().map(|(n, a, b)| (n.to_string(), *a, *b)).collect()
}

/// KIP-584 features as a fresh Kafka 4.1 cluster sends them (`BrokerFeatures` ranges,
/// `Feature.defaultLevel(LATEST_PRODUCTION)` levels), minus what Klamm does not implement:
/// transaction.version stops at 1 (no KIP-890 part 2, which the Java producer would take with 2),
/// share.version 0-1 is finalized at 1 (share groups are on by default). v3 leaves out ranges that start at 0 (KAFKA-17011); the epoch
/// is positive (the Java client ignores finalized features at epoch -1) and the same on every
/// connection of one broker run.
#[test]
fn features_are_kafka_4_1s_without_transactions_v2() {
    let broker = Broker::start();
    let mut c = broker.client();
    let v4 = c.send(&request(4), 4);
    let (sup, fin) = features(&v4);
    assert_eq!(
        sup,
        named(&[
            ("metadata.version", 7, 27),
            ("kraft.version", 0, 1),
            ("transaction.version", 0, 1),
            ("group.version", 0, 1),
            ("eligible.leader.replicas.version", 0, 1),
            ("share.version", 0, 1),
        ])
    );
    assert_eq!(
        fin,
        named(&[
            ("metadata.version", 27, 27),
            ("kraft.version", 1, 1),
            ("transaction.version", 1, 1),
            ("group.version", 1, 1),
            ("eligible.leader.replicas.version", 1, 1),
            ("share.version", 1, 1),
        ])
    );
    assert!(
        v4.finalized_features_epoch > 0,
        "{}",
        v4.finalized_features_epoch
    );
    let v3 = broker.client().send(&request(3), 3);
    let (sup3, fin3) = features(&v3);
    assert_eq!(sup3, named(&[("metadata.version", 7, 27)]));
    assert_eq!(fin3, fin);
    assert_eq!(v3.finalized_features_epoch, v4.finalized_features_epoch);

    // Without the KIP-848 protocol group.version is not finalized (Kafka's coordinator serves
    // the consumer protocol only at group.version 1).
    let classic = Broker::with_overrides(&[("group.coordinator.rebalance.protocols", "classic")]);
    let (_, fin) = features(&classic.client().send(&request(4), 4));
    assert!(!fin.iter().any(|(n, _, _)| n == "group.version"), "{fin:?}");
    assert!(fin
        .iter()
        .any(|(n, l, _)| n == "transaction.version" && *l == 1));

    // Without share groups (group.share.enable=false) share.version is not finalized and the
    // share APIs are not advertised.
    let off = Broker::with_overrides(&[("group.share.enable", "false")]);
    let resp = off.client().send(&request(4), 4);
    let (_, fin) = features(&resp);
    assert!(!fin.iter().any(|(n, _, _)| n == "share.version"), "{fin:?}");
    assert!(!resp
        .api_keys
        .iter()
        .any(|k| (76..=79).contains(&k.api_key) || (90..=92).contains(&k.api_key)));
}
