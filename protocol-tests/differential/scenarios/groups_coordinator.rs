//! FindCoordinator: group and transaction keys at every version (one key up to v3, batched
//! `coordinator_keys` from v4, KIP-699), and key types the broker does not know.

use kafka_protocol::messages::*;

use super::super::Ctx;
use super::Scenario;
use crate::support::requests::s;

pub const SCENARIOS: &[Scenario] = &[
    ("groups/find_coordinator_keys", find_coordinator_keys),
    ("groups/find_coordinator_invalid", find_coordinator_invalid),
];

fn request(v: i16, key_type: i8, keys: &[&str]) -> FindCoordinatorRequest {
    let r = FindCoordinatorRequest::default();
    let r = if v >= 1 { r.with_key_type(key_type) } else { r };
    if v >= 4 {
        r.with_coordinator_keys(keys.iter().map(|k| s(k)).collect())
    } else {
        r.with_key(s(keys[0]))
    }
}

/// A group key at every version, a transactional key from v1, several keys at once from v4.
fn find_coordinator_keys(ctx: &mut Ctx) {
    ctx.each_version("group", |v| request(v, 0, &["dg-fc-group"]));
    for v in ctx.versions(ApiKey::FindCoordinator) {
        if v >= 1 {
            ctx.send("transaction", &request(v, 1, &["dg-fc-txn"]), v);
        }
        if v >= 4 {
            ctx.send(
                "batched",
                &request(v, 0, &["dg-fc-a", "dg-fc-b", "dg-fc-c"]),
                v,
            );
            ctx.send("batched-txn", &request(v, 1, &["dg-fc-t1", "dg-fc-t2"]), v);
        }
    }
}

/// Key types that do not exist, an empty key, and (v4+) an empty key list.
fn find_coordinator_invalid(ctx: &mut Ctx) {
    for v in ctx.versions(ApiKey::FindCoordinator) {
        ctx.send("empty-group-key", &request(v, 0, &[""]), v);
        if v >= 1 {
            ctx.send("empty-txn-key", &request(v, 1, &[""]), v);
            ctx.send("key-type-7", &request(v, 7, &["dg-fc-bad"]), v);
            ctx.send("key-type-negative", &request(v, -1, &["dg-fc-bad"]), v);
        }
        if v >= 4 {
            ctx.send("no-keys", &request(v, 0, &[]), v);
        }
    }
}
