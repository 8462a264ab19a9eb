//! InitProducerId (key 22), v0-5, for idempotent producers: fresh producer ids with epoch 0
//! that never repeat, not even after a crash.

use std::collections::HashSet;

use kafka_protocol::messages::{ApiKey, InitProducerIdRequest, ProducerId};

use crate::support::*;

fn request(v: i16) -> InitProducerIdRequest {
    let mut req = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000);
    if v >= 3 {
        req.producer_id = ProducerId(-1);
        req.producer_epoch = -1;
    }
    req
}

/// Asks for `n` producer ids at every version and checks them; returns them all.
fn ids(c: &mut Client, n: usize) -> Vec<i64> {
    let mut out = Vec::new();
    for v in versions(ApiKey::InitProducerId) {
        for _ in 0..n {
            let resp = c.send(&request(v), v);
            assert_eq!(resp.error_code, code::NONE, "InitProducerId v{v}");
            assert!(
                resp.producer_id.0 >= 0,
                "InitProducerId v{v} id {}",
                resp.producer_id.0
            );
            assert_eq!(resp.producer_epoch, 0, "InitProducerId v{v} epoch");
            assert_eq!(resp.throttle_time_ms, 0);
            out.push(resp.producer_id.0);
        }
    }
    out
}

fn assert_distinct(all: &[i64]) {
    let set: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(set.len(), all.len(), "producer ids repeat: {all:?}");
}

#[test]
fn every_version_hands_out_distinct_ids() {
    let broker = Broker::start();
    let mut c = broker.client();
    let all = ids(&mut c, 3);
    assert_distinct(&all);
    // From several connections at once, too.
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let addr = broker.addr;
            std::thread::spawn(move || ids(&mut Client::connect(addr), 5))
        })
        .collect();
    let mut all = all;
    for h in handles {
        all.extend(h.join().expect("thread"));
    }
    assert_distinct(&all);
}

#[test]
fn ids_never_repeat_after_restart_or_kill_9() {
    let mut broker = Broker::start();
    let mut all = ids(&mut broker.client(), 2);
    broker.restart();
    all.extend(ids(&mut broker.client(), 2));
    assert_distinct(&all);
    broker.kill9_and_restart();
    all.extend(ids(&mut broker.client(), 2));
    assert_distinct(&all);
    broker.kill9_and_restart();
    all.extend(ids(&mut broker.client(), 2));
    assert_distinct(&all);
}
