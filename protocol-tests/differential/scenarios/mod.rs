//! The scenarios, one module per area. Each is a `fn(&mut Ctx)` that sends real requests to
//! both brokers through the [`Ctx`] and compares the answers; topic and group names are unique
//! per scenario, since both brokers live for the whole run.

use std::time::{Duration, Instant};

use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::*;

use super::support::client::Client;
use super::support::requests::{creatable, name, s};
use super::{Ctx, Env, SIDES};

mod api_versions;
mod topics;
// admin (configs, group configs, DeleteRecords, DescribeCluster, framing)
mod admin;
mod configs;
mod framing;
// data (produce, fetch, list_offsets, transactions, producers)
mod data_support;
mod fetch;
mod list_offsets;
mod produce;
mod transactions;
// groups (classic, offsets, consumer, share, coordinators)
mod groups_classic;
mod groups_consumer;
mod groups_coordinator;
mod groups_offsets;
mod groups_share;
mod groups_support;

pub type Scenario = (&'static str, fn(&mut Ctx));

/// Every scenario, in the order they run.
pub fn all() -> Vec<Scenario> {
    let mut v: Vec<Scenario> = Vec::new();
    v.extend_from_slice(api_versions::SCENARIOS);
    v.extend_from_slice(topics::SCENARIOS);
    // admin
    v.extend_from_slice(configs::SCENARIOS);
    v.extend_from_slice(admin::SCENARIOS);
    v.extend_from_slice(framing::SCENARIOS);
    // data
    v.extend_from_slice(produce::SCENARIOS);
    v.extend_from_slice(fetch::SCENARIOS);
    v.extend_from_slice(list_offsets::SCENARIOS);
    v.extend_from_slice(transactions::SCENARIOS);
    // groups
    v.extend_from_slice(groups_coordinator::SCENARIOS);
    v.extend_from_slice(groups_classic::SCENARIOS);
    v.extend_from_slice(groups_offsets::SCENARIOS);
    v.extend_from_slice(groups_consumer::SCENARIOS);
    v.extend_from_slice(groups_share::SCENARIOS);
    v
}

/// Brings both brokers to the state every scenario may assume: Kafka's group and transaction
/// coordinators loaded (its `__consumer_offsets` and `__transaction_state` topics are created on
/// first use, answering COORDINATOR_NOT_AVAILABLE meanwhile).
pub fn warm_up(env: &Env) {
    for (i, addr) in env.addrs.iter().enumerate() {
        let mut c = Client::connect(*addr);
        for key_type in [0i8, 1] {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let r = c.send(
                    &FindCoordinatorRequest::default()
                        .with_key_type(key_type)
                        .with_coordinator_keys(vec![s("klamm-differential-warm-up")]),
                    4,
                );
                if r.coordinators.first().is_some_and(|c| c.error_code == 0) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{}: no coordinator of key type {key_type} within 60 s: {r:?}",
                    SIDES[i]
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Creates `topic` on both brokers (CreateTopics v7, compared) and waits until both have a
/// leader for every partition.
pub fn create_topic(ctx: &mut Ctx, topic: &str, partitions: i32, configs: &[(&str, &str)]) {
    let req = CreateTopicsRequest::default()
        .with_topics(vec![creatable(topic, partitions, configs)])
        .with_timeout_ms(30_000);
    let [k, l] = ctx.send_each(&req, 7);
    for (i, r) in [k, l].iter().enumerate() {
        assert_eq!(
            r.topics[0].error_code, 0,
            "{}: creating {topic} on {}: {r:?}",
            ctx.scenario, SIDES[i]
        );
    }
    wait_for_leaders(ctx, topic, partitions);
}

/// Waits until both brokers' Metadata names a leader for each of `partitions` of `topic`.
pub fn wait_for_leaders(ctx: &mut Ctx, topic: &str, partitions: i32) {
    let t = topic.to_string();
    ctx.wait_until(&format!("leaders of {topic}"), move |c: &mut Client| {
        let r = c.send(
            &MetadataRequest::default()
                .with_topics(Some(vec![metadata_request::MetadataRequestTopic::default(
                )
                .with_name(Some(name(&t)))]))
                .with_allow_auto_topic_creation(false),
            12,
        );
        r.topics.first().is_some_and(|t| {
            t.error_code == 0
                && t.partitions.len() == partitions as usize
                && t.partitions
                    .iter()
                    .all(|p| p.error_code == 0 && p.leader_id.0 >= 0)
        })
    });
}
