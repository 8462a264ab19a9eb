//! The transaction state machine (KIP-98) at transaction.version 1 (Klamm finalizes TV1; Kafka
//! 4.1's fresh cluster finalizes TV2, so its feature is downgraded first, see `kafka_tv1`):
//! InitProducerId with and without transactional ids, epochs and timeouts; AddPartitionsToTxn,
//! AddOffsetsToTxn, TxnOffsetCommit, EndTxn in and out of order; read_committed Fetch and
//! ListOffsets around open and aborted transactions; DescribeProducers, DescribeTransactions,
//! ListTransactions.

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::*;

use super::super::support::batches::{recs, transactional_batch, ProducerFields};
use super::super::support::client::Client;
use super::super::support::requests::{fetch_request, name, produce_request, s};
use super::super::{Ctx, KAFKA, KLAMM};
use super::data_support::*;
use super::list_offsets::list_request;
use super::Scenario;

pub const SCENARIOS: &[Scenario] = &[
    ("data/txn_init_producer_id", init_producer_id),
    ("data/txn_state_machine", state_machine),
    ("data/txn_read_committed", read_committed),
    ("data/txn_describe_and_list", describe_and_list),
];

/// Kafka 4.1 formats a new cluster with transaction.version 2 (KIP-890 part 2); Klamm serves
/// TV1 only. Downgrading Kafka's feature (UpdateFeatures, SAFE_DOWNGRADE) makes both answer
/// by TV1's rules (Produce v12+ does not add partitions implicitly). Idempotent.
pub fn kafka_tv1(ctx: &mut Ctx) {
    let r = ctx.conns[KAFKA].send(
        &UpdateFeaturesRequest::default()
            .with_timeout_ms(30_000)
            .with_feature_updates(vec![FeatureUpdateKey::default()
                .with_feature(s("transaction.version"))
                .with_max_version_level(1)
                .with_upgrade_type(2)]),
        1,
    );
    assert_eq!(
        r.error_code, 0,
        "downgrading Kafka to transaction.version 1: {r:?}"
    );
    ctx.wait_until("transaction.version 1", |c: &mut Client| {
        let r = c.send(&ApiVersionsRequest::default(), 3);
        r.finalized_features
            .iter()
            .find(|f| f.name.as_str() == "transaction.version")
            .is_none_or(|f| f.max_version_level <= 1)
    });
}

fn init(txn: Option<&str>, timeout: i32, pid: i64, epoch: i16) -> InitProducerIdRequest {
    InitProducerIdRequest::default()
        .with_transactional_id(txn.map(|t| TransactionalId(s(t))))
        .with_transaction_timeout_ms(timeout)
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
}

/// InitProducerId at every version: idempotent, transactional (new id, again: the epoch
/// bumps and fences the old one), timeouts above transaction.max.timeout.ms and not positive,
/// and (v3+, KIP-360) with the current or a wrong producer id and epoch.
fn init_producer_id(ctx: &mut Ctx) {
    kafka_tv1(ctx);
    for v in ctx.versions(ApiKey::InitProducerId) {
        let id = format!("dt-txn-init-v{v}");
        each(ctx, "idempotent", v, |_| init(None, 60_000, -1, -1));
        each(ctx, "timeout_too_large", v, |_| {
            init(Some(&id), 900_001, -1, -1)
        });
        each(ctx, "timeout_zero", v, |_| init(Some(&id), 0, -1, -1));
        each(ctx, "timeout_negative", v, |_| init(Some(&id), -5, -1, -1));
        let first = each(ctx, "new", v, |_| init(Some(&id), 60_000, -1, -1));
        let pid = first.map(|r| (r.producer_id.0, r.producer_epoch));
        let second = each(ctx, "again", v, |_| init(Some(&id), 60_000, -1, -1));
        let pid2 = second.map(|r| (r.producer_id.0, r.producer_epoch));
        if v >= 3 {
            each(ctx, "current_epoch", v, |s| {
                init(Some(&id), 60_000, pid2[s].0, pid2[s].1)
            });
            each(ctx, "stale_epoch", v, |s| {
                init(Some(&id), 60_000, pid[s].0, pid[s].1)
            });
            each(ctx, "wrong_producer_id", v, |s| {
                init(Some(&id), 60_000, pid2[s].0 + 1000, pid2[s].1 + 1)
            });
            each(ctx, "producer_id_without_epoch", v, |s| {
                init(Some(&id), 60_000, pid2[s].0, -1)
            });
        }
        each(ctx, "empty_transactional_id", v, |_| {
            init(Some(""), 60_000, -1, -1)
        });
    }
}

/// One transactional producer on each broker.
struct Producer {
    id: String,
    pid: [(i64, i16); 2],
}

fn new_producer(ctx: &mut Ctx, id: &str) -> Producer {
    let r = each(ctx, &format!("init_{id}"), 4, |_| {
        init(Some(id), 60_000, -1, -1)
    });
    Producer {
        id: id.to_string(),
        pid: r.map(|r| (r.producer_id.0, r.producer_epoch)),
    }
}

fn add_partitions(
    p: &Producer,
    side: usize,
    epoch_delta: i16,
    topics: &[(&str, &[i32])],
) -> AddPartitionsToTxnRequest {
    AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(s(&p.id)))
        .with_v3_and_below_producer_id(ProducerId(p.pid[side].0))
        .with_v3_and_below_producer_epoch(p.pid[side].1 + epoch_delta)
        .with_v3_and_below_topics(
            topics
                .iter()
                .map(|(t, ps)| {
                    AddPartitionsToTxnTopic::default()
                        .with_name(name(t))
                        .with_partitions(ps.to_vec())
                })
                .collect(),
        )
}

fn end_txn(p: &Producer, side: usize, epoch_delta: i16, committed: bool) -> EndTxnRequest {
    EndTxnRequest::default()
        .with_transactional_id(TransactionalId(s(&p.id)))
        .with_producer_id(ProducerId(p.pid[side].0))
        .with_producer_epoch(p.pid[side].1 + epoch_delta)
        .with_committed(committed)
}

fn add_offsets(p: &Producer, side: usize, epoch_delta: i16, group: &str) -> AddOffsetsToTxnRequest {
    AddOffsetsToTxnRequest::default()
        .with_transactional_id(TransactionalId(s(&p.id)))
        .with_producer_id(ProducerId(p.pid[side].0))
        .with_producer_epoch(p.pid[side].1 + epoch_delta)
        .with_group_id(GroupId(s(group)))
}

fn txn_offset_commit(
    p: &Producer,
    side: usize,
    group: &str,
    topic: &str,
) -> TxnOffsetCommitRequest {
    TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(s(&p.id)))
        .with_group_id(GroupId(s(group)))
        .with_producer_id(ProducerId(p.pid[side].0))
        .with_producer_epoch(p.pid[side].1)
        .with_generation_id(-1)
        .with_member_id(s(""))
        .with_topics(vec![TxnOffsetCommitRequestTopic::default()
            .with_name(name(topic))
            .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                .with_partition_index(0)
                .with_committed_offset(1)
                .with_committed_leader_epoch(-1)
                .with_committed_metadata(Some(s("m")))])])
}

/// A transactional batch of `n` records at `seq` for producer `p` on `side`.
fn txn_batch(p: &Producer, side: usize, tag: &str, seq: i32, n: usize) -> Bytes {
    transactional_batch(
        &recs(tag, n),
        ProducerFields {
            producer_id: p.pid[side].0,
            producer_epoch: p.pid[side].1,
            base_sequence: seq,
        },
    )
}

fn txn_produce(
    t: &Topic,
    p: &Producer,
    side: usize,
    partition: i32,
    records: Bytes,
) -> ProduceRequest {
    produce_request(&t.at(side), partition, records, -1)
        .with_transactional_id(Some(TransactionalId(s(&p.id))))
}

/// Waits until DescribeTransactions shows `state` for `p` on both brokers (EndTxn completes
/// when the markers are written, asynchronously in Kafka).
fn wait_state(ctx: &mut Ctx, p: &Producer, state: &str) {
    let id = p.id.clone();
    ctx.wait_until(&format!("{id} in {state}"), |c: &mut Client| {
        let r = c.send(
            &DescribeTransactionsRequest::default()
                .with_transactional_ids(vec![TransactionalId(s(&id))]),
            0,
        );
        r.transaction_states
            .first()
            .is_some_and(|t| t.transaction_state.as_str() == state)
    });
}

/// AddPartitionsToTxn (v0-3), AddOffsetsToTxn, TxnOffsetCommit and EndTxn in order and out of
/// order: before InitProducerId, with a stale epoch, for unknown topics, EndTxn with nothing
/// ongoing, commit, a retried commit, abort after commit.
fn state_machine(ctx: &mut Ctx) {
    kafka_tv1(ctx);
    let t = create(ctx, "dt-txn-states", 2, &[]);
    let group = "dt-txn-states-group";
    for v in ctx.versions(ApiKey::AddPartitionsToTxn) {
        let id = format!("dt-txn-states-v{v}");
        let ghost = Producer {
            id: id.clone(),
            pid: [(4242, 0); 2],
        };
        each(ctx, "add_before_init", v, |s| {
            add_partitions(&ghost, s, 0, &[(&t.name, &[0])])
        });
        let ev = ctx.versions(ApiKey::EndTxn).last().copied().unwrap_or(0);
        each(ctx, "end_before_init", ev, |s| end_txn(&ghost, s, 0, true));
        let p = new_producer(ctx, &id);
        each(ctx, "end_nothing_ongoing", ev, |s| end_txn(&p, s, 0, true));
        each(ctx, "add_stale_epoch", v, |s| {
            add_partitions(&p, s, -1, &[(&t.name, &[0])])
        });
        each(ctx, "add_future_epoch", v, |s| {
            add_partitions(&p, s, 1, &[(&t.name, &[0])])
        });
        each(ctx, "add_unknown", v, |s| {
            add_partitions(
                &p,
                s,
                0,
                &[(&t.name, &[0, 9]), ("dt-txn-no-such-topic", &[0])],
            )
        });
        each(ctx, "add", v, |s| {
            add_partitions(&p, s, 0, &[(&t.name, &[0])])
        });
        each(ctx, "add_again", v, |s| {
            add_partitions(&p, s, 0, &[(&t.name, &[0])])
        });
        let b = [KAFKA, KLAMM].map(|side| txn_batch(&p, side, &id, 0, 2));
        each(ctx, "produce_added", 9, |s| {
            txn_produce(&t, &p, s, 0, b[s].clone())
        });
        let b1 = [KAFKA, KLAMM].map(|side| txn_batch(&p, side, &id, 0, 1));
        for pv in produce_versions(ctx) {
            each(ctx, "produce_not_added", pv, |s| {
                txn_produce(&t, &p, s, 1, b1[s].clone())
            });
        }
        for ov in ctx.versions(ApiKey::AddOffsetsToTxn) {
            each(ctx, "add_offsets_stale_epoch", ov, |s| {
                add_offsets(&p, s, -1, group)
            });
            each(ctx, "add_offsets", ov, |s| add_offsets(&p, s, 0, group));
        }
        for cv in ctx.versions(ApiKey::TxnOffsetCommit) {
            each(ctx, "txn_offset_commit", cv, |s| {
                txn_offset_commit(&p, s, group, &t.name)
            });
            each(ctx, "txn_offset_commit_unknown_topic", cv, |s| {
                txn_offset_commit(&p, s, group, "dt-txn-no-such-topic")
            });
        }
        each(ctx, "end_stale_epoch", ev, |s| end_txn(&p, s, -1, true));
        each(ctx, "commit", ev, |s| end_txn(&p, s, 0, true));
        wait_state(ctx, &p, "CompleteCommit");
        each(ctx, "commit_again", ev, |s| end_txn(&p, s, 0, true));
        each(ctx, "abort_after_commit", ev, |s| end_txn(&p, s, 0, false));
        // A second InitProducerId fences this epoch.
        let p2 = new_producer(ctx, &id);
        each(ctx, "add_fenced", v, |s| {
            add_partitions(&p, s, 0, &[(&t.name, &[0])])
        });
        each(ctx, "end_fenced", ev, |s| end_txn(&p, s, 0, false));
        each(ctx, "add_new_epoch", v, |s| {
            add_partitions(&p2, s, 0, &[(&t.name, &[1])])
        });
        each(ctx, "abort", ev, |s| end_txn(&p2, s, 0, false));
        wait_state(ctx, &p2, "CompleteAbort");
    }
    for ev in ctx.versions(ApiKey::EndTxn) {
        let p = new_producer(ctx, &format!("dt-txn-end-v{ev}"));
        each(ctx, "end_empty", ev, |s| end_txn(&p, s, 0, false));
        each(ctx, "add", 3, |s| {
            add_partitions(&p, s, 0, &[(&t.name, &[0])])
        });
        each(ctx, "commit_empty", ev, |s| end_txn(&p, s, 0, true));
        wait_state(ctx, &p, "CompleteCommit");
    }
}

/// An open transaction holds the last stable offset back: read_committed Fetch and ListOffsets
/// stop there; after an abort, read_committed fetches list the aborted transaction.
fn read_committed(ctx: &mut Ctx) {
    kafka_tv1(ctx);
    let t = create(ctx, "dt-txn-read-committed", 1, &[]);
    super::fetch::fill(ctx, &t, 1, 1, 2);
    let p = new_producer(ctx, "dt-txn-rc");
    each(ctx, "add", 3, |s| {
        add_partitions(&p, s, 0, &[(&t.name, &[0])])
    });
    let b = [KAFKA, KLAMM].map(|side| txn_batch(&p, side, "rc", 0, 3));
    each(ctx, "produce", 9, |s| {
        txn_produce(&t, &p, s, 0, b[s].clone())
    });
    super::fetch::fill(ctx, &t, 1, 1, 1);
    let fetch_all = |ctx: &mut Ctx, what: &str| {
        for v in ctx.versions(ApiKey::Fetch) {
            for iso in [0i8, 1] {
                fetch_each(ctx, &format!("{what}_isolation_{iso}"), v, |s| {
                    fetch_request(&t.at(s), 0, 0).with_isolation_level(iso)
                });
            }
        }
        for v in ctx
            .versions(ApiKey::ListOffsets)
            .into_iter()
            .filter(|v| *v >= 2)
        {
            for iso in [0i8, 1] {
                for ts in [-1i64, -2, -3] {
                    ctx.send(
                        &format!("{what}_list_isolation_{iso}_ts_{ts}"),
                        &list_request(&t.name, &[(0, ts)], iso),
                        v,
                    );
                }
            }
        }
    };
    fetch_all(ctx, "open");
    describe(ctx, &t, &p, "open");
    each(ctx, "abort", 4, |s| end_txn(&p, s, 0, false));
    wait_state(ctx, &p, "CompleteAbort");
    fetch_all(ctx, "aborted");
    describe(ctx, &t, &p, "aborted");
}

/// DescribeProducers, DescribeTransactions and ListTransactions for producer `p`.
fn describe(ctx: &mut Ctx, t: &Topic, p: &Producer, what: &str) {
    for v in ctx.versions(ApiKey::DescribeProducers) {
        ctx.send(
            &format!("{what}_describe_producers"),
            &DescribeProducersRequest::default().with_topics(vec![
                describe_producers_request::TopicRequest::default()
                    .with_name(name(&t.name))
                    .with_partition_indexes(vec![0, 7]),
                describe_producers_request::TopicRequest::default()
                    .with_name(name("dt-txn-no-such-topic"))
                    .with_partition_indexes(vec![0]),
            ]),
            v,
        );
    }
    for v in ctx.versions(ApiKey::DescribeTransactions) {
        ctx.send(
            &format!("{what}_describe_transactions"),
            &DescribeTransactionsRequest::default().with_transactional_ids(vec![
                TransactionalId(s(&p.id)),
                TransactionalId(s("dt-txn-never-used")),
            ]),
            v,
        );
    }
    for v in ctx.versions(ApiKey::ListTransactions) {
        for (f, states) in [
            ("any", vec![]),
            ("ongoing", vec!["Ongoing"]),
            ("complete", vec!["CompleteAbort", "CompleteCommit"]),
            ("bad_state", vec!["NoSuchState"]),
        ] {
            each(ctx, &format!("{what}_list_{f}"), v, |side| {
                let r = ListTransactionsRequest::default()
                    .with_state_filters(states.iter().map(|x| s(x)).collect())
                    .with_producer_id_filters(vec![ProducerId(p.pid[side].0)]);
                if v >= 1 {
                    r.with_duration_filter(-1)
                } else {
                    r
                }
            });
        }
        if v >= 1 {
            for d in [0i64, 86_400_000] {
                each(ctx, &format!("{what}_list_duration_{d}"), v, |side| {
                    ListTransactionsRequest::default()
                        .with_producer_id_filters(vec![ProducerId(p.pid[side].0)])
                        .with_duration_filter(d)
                });
            }
        }
    }
}

/// DescribeProducers for idempotent and transactional producers, DescribeTransactions for an
/// ongoing transaction with two topics and for ids never used, ListTransactions by filter.
fn describe_and_list(ctx: &mut Ctx) {
    kafka_tv1(ctx);
    let t = create(ctx, "dt-txn-describe", 1, &[]);
    let pids = idempotent_producer(ctx, "idempotent");
    let b = [KAFKA, KLAMM].map(|side| {
        super::super::support::batches::idempotent_batch(
            &recs("dp", 2),
            ProducerFields {
                producer_id: pids[side].0,
                producer_epoch: pids[side].1,
                base_sequence: 0,
            },
        )
    });
    each(ctx, "produce_idempotent", 9, |s| {
        produce_request(&t.at(s), 0, b[s].clone(), -1)
    });
    let p = new_producer(ctx, "dt-txn-describe");
    describe(ctx, &t, &p, "empty");
    each(ctx, "add", 3, |s| {
        add_partitions(&p, s, 0, &[(&t.name, &[0])])
    });
    describe(ctx, &t, &p, "added");
    let b = [KAFKA, KLAMM].map(|side| txn_batch(&p, side, "dtx", 0, 1));
    each(ctx, "produce", 9, |s| {
        txn_produce(&t, &p, s, 0, b[s].clone())
    });
    describe(ctx, &t, &p, "ongoing");
    each(ctx, "commit", 4, |s| end_txn(&p, s, 0, true));
    wait_state(ctx, &p, "CompleteCommit");
    describe(ctx, &t, &p, "committed");
}
