//! ApiVersions: the advertised ranges and features (KIP-511 client software fields, KIP-584
//! features, KIP-896's removed versions under `klamm.compat.kafka.version=4.1`).

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::s;

pub const SCENARIOS: &[Scenario] = &[
    ("api_versions/every_version", every_version),
    ("api_versions/unsupported_version", unsupported_version),
];

/// Every ApiVersions version: ranges of every API, supported and finalized features.
fn every_version(ctx: &mut Ctx) {
    ctx.each_version("request", |v| {
        let r = ApiVersionsRequest::default();
        if v >= 3 {
            r.with_client_software_name(s("klamm-differential"))
                .with_client_software_version(s("1.0"))
        } else {
            r
        }
    });
}

/// An ApiVersions request at a version neither serves gets v0's answer with
/// UNSUPPORTED_VERSION and the ranges (KIP-511).
fn unsupported_version(ctx: &mut Ctx) {
    let frame = super::super::frame(&ApiVersionsRequest::default(), 3, 7);
    let mut f = frame.clone();
    // request_api_version (after the 4-byte size and the 2-byte api key) = 99.
    f[6..8].copy_from_slice(&99i16.to_be_bytes());
    let out = ctx.raw("v99", &f, std::time::Duration::from_secs(5));
    let decoded = out.map(|o| match o {
        crate::Outcome::Frame(b) => Some(crate::decode::<ApiVersionsRequest>(b, 0)),
        _ => None,
    });
    ctx.compare("v99-answer", &decoded[0], &decoded[1]);
}
