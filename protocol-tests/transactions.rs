//! Transactions (KIP-98) at every advertised version: InitProducerId with a transactional id,
//! AddPartitionsToTxn v0-3, AddOffsetsToTxn v0-4, TxnOffsetCommit v0-4, EndTxn v0-4,
//! DescribeTransactions v0, ListTransactions v0-1; the last stable offset in Fetch and
//! ListOffsets, read_committed fetches with their aborted transactions, pending transactional
//! offsets; fencing and Kafka's error codes; the timeout abort and a kill -9 mid-transaction.

use std::time::{Duration, Instant};

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::*;

use crate::support::*;

const OFFSETS_TOPIC: &str = "__consumer_offsets";
const UNSTABLE_OFFSET_COMMIT: i16 = 88;

fn tid(v: &str) -> TransactionalId {
    TransactionalId(s(v))
}

fn v_of(key: ApiKey, round: i16) -> i16 {
    let r = versions(key);
    round.clamp(*r.start(), *r.end())
}

fn init(c: &mut Client, id: &str, timeout_ms: i32, v: i16) -> InitProducerIdResponse {
    let mut req = InitProducerIdRequest::default()
        .with_transactional_id(Some(tid(id)))
        .with_transaction_timeout_ms(timeout_ms);
    if v >= 3 {
        req.producer_id = ProducerId(-1);
        req.producer_epoch = -1;
    }
    c.send(&req, v)
}

fn init_ok(c: &mut Client, id: &str, timeout_ms: i32) -> (i64, i16) {
    let r = init(c, id, timeout_ms, 4);
    assert_eq!(r.error_code, code::NONE, "InitProducerId {id}");
    (r.producer_id.0, r.producer_epoch)
}

fn add_partitions(
    c: &mut Client,
    id: &str,
    (pid, epoch): (i64, i16),
    topic: &str,
    partitions: &[i32],
    v: i16,
) -> Vec<(i32, i16)> {
    let req = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(tid(id))
        .with_v3_and_below_producer_id(ProducerId(pid))
        .with_v3_and_below_producer_epoch(epoch)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(name(topic))
            .with_partitions(partitions.to_vec())]);
    let resp = c.send(&req, v);
    assert_eq!(resp.results_by_topic_v3_and_below.len(), 1);
    let t = &resp.results_by_topic_v3_and_below[0];
    assert_eq!(t.name.as_str(), topic);
    t.results_by_partition
        .iter()
        .map(|p| (p.partition_index, p.partition_error_code))
        .collect()
}

fn end_txn(c: &mut Client, id: &str, (pid, epoch): (i64, i16), commit: bool, v: i16) -> i16 {
    let req = EndTxnRequest::default()
        .with_transactional_id(tid(id))
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_committed(commit);
    c.send(&req, v).error_code
}

fn describe(c: &mut Client, id: &str) -> describe_transactions_response::TransactionState {
    let resp = c.send(
        &DescribeTransactionsRequest::default().with_transactional_ids(vec![tid(id)]),
        0,
    );
    assert_eq!(resp.transaction_states.len(), 1);
    let st = resp.transaction_states.into_iter().next().expect("state");
    assert_eq!(st.transactional_id.as_str(), id);
    st
}

/// Produces a transactional batch for `id` (Produce v9; Kafka refuses transactional records
/// in a request without the transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
fn txn_produce(
    c: &mut Client,
    id: &str,
    topic: &TopicRef,
    partition: i32,
    (pid, epoch): (i64, i16),
    seq: i32,
    recs: &[Rec],
) -> i16 {
    let b = transactional_batch(
        recs,
        ProducerFields {
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
        },
    );
    let req = produce_request(topic, partition, b, -1).with_transactional_id(Some(tid(id)));
    single_produce_response(c.send(&req, 9), topic, 9).error_code
}

fn fetch_isolated(
    c: &mut Client,
    topic: &TopicRef,
    partition: i32,
    offset: i64,
    committed: bool,
    v: i16,
) -> fetch_response::PartitionData {
    let req = fetch_request(topic, partition, offset).with_isolation_level(committed as i8);
    single_fetch_partition(c.send(&req, v), topic, v)
}

/// ListOffsets' "max timestamp" query (v7+).
const MAX_TIMESTAMP: i64 = -3;

fn latest(c: &mut Client, topic: &str, partition: i32, committed: bool) -> i64 {
    list_offset_isolated(c, topic, partition, -1, committed)
}

/// ListOffsets v7 for one partition and timestamp (-1 latest, -3 max timestamp, or a time).
fn list_offset_isolated(
    c: &mut Client,
    topic: &str,
    partition: i32,
    timestamp: i64,
    committed: bool,
) -> i64 {
    let req =
        list_offsets_request(topic, partition, timestamp).with_isolation_level(committed as i8);
    let resp = c.send(&req, 7);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, code::NONE);
    p.offset
}

/// Committed offset and error of one partition (OffsetFetch v8, optionally require_stable).
fn committed_offset(
    c: &mut Client,
    group: &str,
    topic: &str,
    partition: i32,
    require_stable: bool,
) -> (i64, i16) {
    let req = OffsetFetchRequest::default()
        .with_require_stable(require_stable)
        .with_groups(vec![OffsetFetchRequestGroup::default()
            .with_group_id(GroupId(s(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopics::default()
                .with_name(name(topic))
                .with_partition_indexes(vec![partition])]))]);
    let resp = c.send(&req, 8);
    let g = &resp.groups[0];
    if g.error_code != code::NONE {
        return (-1, g.error_code);
    }
    let p = &g.topics[0].partitions[0];
    (p.committed_offset, p.error_code)
}

#[test]
fn transactions_at_every_version() {
    let broker = Broker::start();
    let mut c = broker.client();
    for round in 0..=5i16 {
        let commit = round % 2 == 0;
        let id = format!("tx-round-{round}");
        let group = format!("txg-{round}");
        let topic = create_topic(&mut c, &format!("txn-{round}"), 2);

        let r = init(&mut c, &id, 60_000, v_of(ApiKey::InitProducerId, round));
        assert_eq!(r.error_code, code::NONE, "InitProducerId v{round}");
        assert!(r.producer_id.0 >= 0);
        assert_eq!(r.producer_epoch, 0);
        let producer = (r.producer_id.0, r.producer_epoch);

        let v = v_of(ApiKey::AddPartitionsToTxn, round);
        assert_eq!(
            add_partitions(&mut c, &id, producer, &topic.name, &[0, 1], v),
            vec![(0, code::NONE), (1, code::NONE)],
            "AddPartitionsToTxn v{v}"
        );
        assert_eq!(
            txn_produce(&mut c, &id, &topic, 0, producer, 0, &recs("t", 3)),
            code::NONE
        );

        // Undecided: read_committed sees nothing, the LSO is the transaction's first offset.
        for fv in [4i16, 12, 18] {
            let d = fetch_isolated(&mut c, &topic, 0, 0, true, fv);
            assert_eq!(d.error_code, code::NONE);
            assert_eq!(d.high_watermark, 3);
            assert_eq!(d.last_stable_offset, 0, "Fetch v{fv} LSO");
            assert!(d.records.as_ref().is_none_or(|r| r.is_empty()));
            let d = fetch_isolated(&mut c, &topic, 0, 0, false, fv);
            assert_eq!(
                decode_records(d.records.as_ref().expect("records")).len(),
                3
            );
            assert_eq!(d.last_stable_offset, 0);
        }
        assert_eq!(latest(&mut c, &topic.name, 0, true), 0);
        assert_eq!(latest(&mut c, &topic.name, 0, false), 3);
        // A timestamp lookup finds nothing at or past the LSO under read_committed (Kafka's
        // last fetchable offset), and the undecided records under read_uncommitted.
        for ts in [0, MAX_TIMESTAMP] {
            assert_eq!(list_offset_isolated(&mut c, &topic.name, 0, ts, true), -1);
            let o = list_offset_isolated(&mut c, &topic.name, 0, ts, false);
            assert!((0..3).contains(&o), "ts {ts}: offset {o}");
        }

        let v = v_of(ApiKey::AddOffsetsToTxn, round);
        let resp = c.send(
            &AddOffsetsToTxnRequest::default()
                .with_transactional_id(tid(&id))
                .with_producer_id(ProducerId(producer.0))
                .with_producer_epoch(producer.1)
                .with_group_id(GroupId(s(&group))),
            v,
        );
        assert_eq!(resp.error_code, code::NONE, "AddOffsetsToTxn v{v}");

        let v = v_of(ApiKey::TxnOffsetCommit, round);
        let mut req = TxnOffsetCommitRequest::default()
            .with_transactional_id(tid(&id))
            .with_group_id(GroupId(s(&group)))
            .with_producer_id(ProducerId(producer.0))
            .with_producer_epoch(producer.1)
            .with_topics(vec![
                TxnOffsetCommitRequestTopic::default()
                    .with_name(name(&topic.name))
                    .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(3)
                        .with_committed_metadata(Some(s("m")))]),
                TxnOffsetCommitRequestTopic::default()
                    .with_name(name("no-such-topic"))
                    .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1)]),
            ]);
        if v >= 3 {
            req.generation_id = -1;
            req.member_id = s("");
        }
        let resp = c.send(&req, v);
        let codes: Vec<i16> = resp
            .topics
            .iter()
            .map(|t| t.partitions[0].error_code)
            .collect();
        assert_eq!(
            codes,
            vec![code::NONE, code::UNKNOWN_TOPIC_OR_PARTITION],
            "TxnOffsetCommit v{v}"
        );
        // Pending: invisible, and UNSTABLE_OFFSET_COMMIT for require_stable.
        assert_eq!(
            committed_offset(&mut c, &group, &topic.name, 0, false),
            (-1, code::NONE)
        );
        assert_eq!(
            committed_offset(&mut c, &group, &topic.name, 0, true).1,
            UNSTABLE_OFFSET_COMMIT
        );

        let d = describe(&mut c, &id);
        assert_eq!(d.error_code, code::NONE);
        assert_eq!(d.transaction_state.as_str(), "Ongoing");
        assert_eq!((d.producer_id.0, d.producer_epoch), producer);
        assert_eq!(d.transaction_timeout_ms, 60_000);
        assert!(d.transaction_start_time_ms > 0);
        let mut topics: Vec<(String, Vec<i32>)> = d
            .topics
            .iter()
            .map(|t| (t.topic.to_string(), t.partitions.clone()))
            .collect();
        topics.sort();
        assert_eq!(topics.len(), 2);
        assert_eq!(topics[0].0, OFFSETS_TOPIC);
        assert_eq!(topics[1], (topic.name.clone(), vec![0, 1]));

        let lv = v_of(ApiKey::ListTransactions, round);
        let resp = c.send(
            &ListTransactionsRequest::default()
                .with_state_filters(vec![s("Ongoing"), s("NoSuchState")])
                .with_duration_filter(-1),
            lv,
        );
        assert_eq!(resp.error_code, code::NONE);
        assert_eq!(resp.unknown_state_filters, vec![s("NoSuchState")]);
        let listed: Vec<String> = resp
            .transaction_states
            .iter()
            .map(|t| t.transactional_id.to_string())
            .collect();
        assert_eq!(
            listed,
            vec![id.clone()],
            "only this round's transaction is open"
        );
        assert_eq!(resp.transaction_states[0].producer_id.0, producer.0);

        let v = v_of(ApiKey::EndTxn, round);
        assert_eq!(
            end_txn(&mut c, &id, producer, commit, v),
            code::NONE,
            "EndTxn v{v}"
        );
        // A retry of the same end succeeds; the opposite one is an invalid transition.
        assert_eq!(end_txn(&mut c, &id, producer, commit, v), code::NONE);
        assert_eq!(
            end_txn(&mut c, &id, producer, !commit, v),
            code::INVALID_TXN_STATE
        );
        assert_eq!(
            describe(&mut c, &id).transaction_state.as_str(),
            if commit {
                "CompleteCommit"
            } else {
                "CompleteAbort"
            }
        );

        // The marker took offset 3 of partition 0 (and offset 0 of the untouched partition 1).
        let d = fetch_isolated(&mut c, &topic, 0, 0, true, 12);
        assert_eq!((d.high_watermark, d.last_stable_offset), (4, 4));
        let infos = batch_infos(d.records.as_ref().expect("records"));
        assert_eq!(infos.len(), 2, "the data batch and the marker");
        let aborted: Vec<(i64, i64)> = d
            .aborted_transactions
            .unwrap_or_default()
            .iter()
            .map(|a| (a.producer_id.0, a.first_offset))
            .collect();
        if commit {
            assert!(aborted.is_empty());
            assert_eq!(
                committed_offset(&mut c, &group, &topic.name, 0, true),
                (3, code::NONE)
            );
        } else {
            assert_eq!(
                aborted,
                vec![(producer.0, 0)],
                "read_committed gets the aborted transaction"
            );
            assert_eq!(
                committed_offset(&mut c, &group, &topic.name, 0, true),
                (-1, code::NONE)
            );
        }
        assert_eq!(latest(&mut c, &topic.name, 1, true), 1);
        // Decided (either way), the records are below the LSO: read_committed finds them by time.
        assert_eq!(list_offset_isolated(&mut c, &topic.name, 0, 0, true), 0);
        // Past the aborted range the list is empty.
        let d = fetch_isolated(&mut c, &topic, 0, 4, true, 12);
        assert!(d.aborted_transactions.unwrap_or_default().is_empty());
    }
}

#[test]
fn fencing_and_error_codes() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "txn-fence", 1);
    for v in versions(ApiKey::InitProducerId) {
        assert_eq!(
            init(&mut c, "x", 900_001, v).error_code,
            code::INVALID_TRANSACTION_TIMEOUT
        );
        assert_eq!(
            init(&mut c, "x", 0, v).error_code,
            code::INVALID_TRANSACTION_TIMEOUT
        );
        assert_eq!(init(&mut c, "", 1000, v).error_code, code::INVALID_REQUEST);
    }
    let first = init_ok(&mut c, "fence", 60_000);
    let second = init_ok(&mut c, "fence", 60_000);
    assert_eq!(second, (first.0, first.1 + 1), "same id, epoch bumped");

    for v in versions(ApiKey::AddPartitionsToTxn) {
        let fenced = if v < 2 {
            code::INVALID_PRODUCER_EPOCH
        } else {
            code::PRODUCER_FENCED
        };
        assert_eq!(
            add_partitions(&mut c, "fence", first, &topic.name, &[0], v),
            vec![(0, fenced)]
        );
        assert_eq!(
            add_partitions(&mut c, "fence", (first.0 + 1000, 1), &topic.name, &[0], v),
            vec![(0, code::INVALID_PRODUCER_ID_MAPPING)]
        );
        assert_eq!(
            add_partitions(&mut c, "never-initialized", first, &topic.name, &[0], v),
            vec![(0, code::INVALID_PRODUCER_ID_MAPPING)]
        );
        let req = AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(tid("fence"))
            .with_v3_and_below_producer_id(ProducerId(second.0))
            .with_v3_and_below_producer_epoch(second.1)
            .with_v3_and_below_topics(vec![
                AddPartitionsToTxnTopic::default()
                    .with_name(name(&topic.name))
                    .with_partitions(vec![0]),
                AddPartitionsToTxnTopic::default()
                    .with_name(name("missing"))
                    .with_partitions(vec![0]),
            ]);
        let resp = c.send(&req, v);
        let codes: Vec<i16> = resp
            .results_by_topic_v3_and_below
            .iter()
            .map(|t| t.results_by_partition[0].partition_error_code)
            .collect();
        assert_eq!(
            codes,
            vec![
                code::OPERATION_NOT_ATTEMPTED,
                code::UNKNOWN_TOPIC_OR_PARTITION
            ]
        );
    }
    for v in versions(ApiKey::EndTxn) {
        // Nothing is open.
        assert_eq!(
            end_txn(&mut c, "fence", second, true, v),
            code::INVALID_TXN_STATE
        );
        let fenced = if v < 2 {
            code::INVALID_PRODUCER_EPOCH
        } else {
            code::PRODUCER_FENCED
        };
        assert_eq!(end_txn(&mut c, "fence", first, true, v), fenced);
        assert_eq!(
            end_txn(&mut c, "unknown", first, true, v),
            code::INVALID_PRODUCER_ID_MAPPING
        );
    }
    for v in versions(ApiKey::AddOffsetsToTxn) {
        let fenced = if v < 2 {
            code::INVALID_PRODUCER_EPOCH
        } else {
            code::PRODUCER_FENCED
        };
        let resp = c.send(
            &AddOffsetsToTxnRequest::default()
                .with_transactional_id(tid("fence"))
                .with_producer_id(ProducerId(first.0))
                .with_producer_epoch(first.1)
                .with_group_id(GroupId(s("g"))),
            v,
        );
        assert_eq!(resp.error_code, fenced);
    }

    // An open transaction: a new instance aborts it (CONCURRENT_TRANSACTIONS, then success with
    // the epoch bumped twice), and the zombie's writes are refused.
    assert_eq!(
        add_partitions(&mut c, "fence", second, &topic.name, &[0], 3),
        vec![(0, code::NONE)]
    );
    assert_eq!(
        txn_produce(&mut c, "fence", &topic, 0, second, 0, &recs("z", 2)),
        code::NONE
    );
    assert_eq!(
        init(&mut c, "fence", 60_000, 4).error_code,
        code::CONCURRENT_TRANSACTIONS
    );
    let third = init_ok(&mut c, "fence", 60_000);
    assert_eq!(third, (second.0, second.1 + 2));
    assert_eq!(
        txn_produce(&mut c, "fence", &topic, 0, second, 2, &recs("z", 1)),
        code::INVALID_PRODUCER_EPOCH
    );
    let d = fetch_isolated(&mut c, &topic, 0, 0, true, 12);
    assert_eq!(
        (d.high_watermark, d.last_stable_offset),
        (3, 3),
        "the zombie's data was aborted"
    );
    assert_eq!(
        d.aborted_transactions
            .unwrap_or_default()
            .iter()
            .map(|a| a.first_offset)
            .collect::<Vec<_>>(),
        vec![0]
    );

    // KIP-360: re-initialising with the current id and epoch bumps; a stale id is fenced.
    for v in 3..=*versions(ApiKey::InitProducerId).end() {
        let cur = init_ok(&mut c, "fence", 60_000);
        let req = InitProducerIdRequest::default()
            .with_transactional_id(Some(tid("fence")))
            .with_transaction_timeout_ms(60_000)
            .with_producer_id(ProducerId(cur.0))
            .with_producer_epoch(cur.1);
        let r = c.send(&req, v);
        assert_eq!(
            (r.error_code, r.producer_id.0, r.producer_epoch),
            (code::NONE, cur.0, cur.1 + 1)
        );
        let stale = req.with_producer_id(ProducerId(cur.0 + 77));
        let fenced = if v < 4 {
            code::INVALID_PRODUCER_EPOCH
        } else {
            code::PRODUCER_FENCED
        };
        assert_eq!(c.send(&stale, v).error_code, fenced);
    }

    let d = describe(&mut c, "nobody");
    assert_eq!(d.error_code, code::TRANSACTIONAL_ID_NOT_FOUND);
    // ListTransactions v1's duration filter: the ids above have no open transaction.
    let resp = c.send(
        &ListTransactionsRequest::default()
            .with_state_filters(vec![s("Ongoing")])
            .with_duration_filter(0),
        1,
    );
    assert!(resp.transaction_states.is_empty());
    let resp = c.send(
        &ListTransactionsRequest::default().with_producer_id_filters(vec![ProducerId(third.0)]),
        0,
    );
    assert_eq!(resp.transaction_states.len(), 1);
    assert_eq!(
        resp.transaction_states[0].transactional_id.as_str(),
        "fence"
    );
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn timeout_abort_and_kill_9_mid_transaction() {
    let mut broker = Broker::with_overrides(&[(
        "transaction.abort.timed.out.transaction.cleanup.interval.ms",
        "100",
    )]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "txn-timeout", 1);

    // Abandoned after 300 ms: aborted with a bumped epoch, and the LSO moves on.
    let p = init_ok(&mut c, "abandoned", 300);
    add_partitions(&mut c, "abandoned", p, &topic.name, &[0], 3);
    assert_eq!(
        txn_produce(&mut c, "abandoned", &topic, 0, p, 0, &recs("a", 2)),
        code::NONE
    );
    assert_eq!(latest(&mut c, &topic.name, 0, true), 0);
    wait_for("the timeout abort", || {
        describe(&mut c, "abandoned").transaction_state.as_str() == "CompleteAbort"
    });
    assert_eq!(describe(&mut c, "abandoned").producer_epoch, p.1 + 1);
    assert_eq!(latest(&mut c, &topic.name, 0, true), 3);
    assert_eq!(
        end_txn(&mut c, "abandoned", p, true, 3),
        code::PRODUCER_FENCED
    );

    // Open transactions (one with pending offsets) survive kill -9 and still commit.
    let q = init_ok(&mut c, "survivor", 60_000);
    add_partitions(&mut c, "survivor", q, &topic.name, &[0], 3);
    assert_eq!(
        txn_produce(&mut c, "survivor", &topic, 0, q, 0, &recs("s", 2)),
        code::NONE
    );
    let resp = c.send(
        &AddOffsetsToTxnRequest::default()
            .with_transactional_id(tid("survivor"))
            .with_producer_id(ProducerId(q.0))
            .with_producer_epoch(q.1)
            .with_group_id(GroupId(s("sg"))),
        3,
    );
    assert_eq!(resp.error_code, code::NONE);
    let resp = c.send(
        &TxnOffsetCommitRequest::default()
            .with_transactional_id(tid("survivor"))
            .with_group_id(GroupId(s("sg")))
            .with_producer_id(ProducerId(q.0))
            .with_producer_epoch(q.1)
            .with_topics(vec![TxnOffsetCommitRequestTopic::default()
                .with_name(name(&topic.name))
                .with_partitions(vec![TxnOffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(5)])]),
        2,
    );
    assert_eq!(resp.topics[0].partitions[0].error_code, code::NONE);
    broker.kill9_and_restart();
    let mut c = broker.client();
    assert_eq!(
        describe(&mut c, "survivor").transaction_state.as_str(),
        "Ongoing"
    );
    assert_eq!(
        latest(&mut c, &topic.name, 0, true),
        3,
        "still held by the open transaction"
    );
    assert_eq!(
        committed_offset(&mut c, "sg", &topic.name, 0, true).1,
        UNSTABLE_OFFSET_COMMIT
    );
    assert_eq!(end_txn(&mut c, "survivor", q, true, 3), code::NONE);
    assert_eq!(latest(&mut c, &topic.name, 0, true), 6);
    assert_eq!(
        committed_offset(&mut c, "sg", &topic.name, 0, true),
        (5, code::NONE)
    );
    // After a clean restart the state is the same.
    broker.restart();
    let mut c = broker.client();
    assert_eq!(
        describe(&mut c, "survivor").transaction_state.as_str(),
        "CompleteCommit"
    );
    assert_eq!(latest(&mut c, &topic.name, 0, true), 6);
    assert_eq!(
        committed_offset(&mut c, "sg", &topic.name, 0, true),
        (5, code::NONE)
    );
    let d = fetch_isolated(&mut c, &topic, 0, 0, true, 18);
    let aborted: Vec<i64> = d
        .aborted_transactions
        .unwrap_or_default()
        .iter()
        .map(|a| a.producer_id.0)
        .collect();
    assert_eq!(aborted, vec![p.0]);
}

#[test]
fn expired_transactional_ids_are_removed() {
    let mut broker = Broker::with_overrides(&[
        ("transactional.id.expiration.ms", "1000"),
        (
            "transaction.remove.expired.transaction.cleanup.interval.ms",
            "100",
        ),
    ]);
    let mut c = broker.client();
    let topic = create_topic(&mut c, "txn-expiry", 1);

    // One id commits a transaction and goes idle; another keeps its transaction open.
    let idle = init_ok(&mut c, "idle", 60_000);
    add_partitions(&mut c, "idle", idle, &topic.name, &[0], 3);
    assert_eq!(
        txn_produce(&mut c, "idle", &topic, 0, idle, 0, &recs("i", 1)),
        code::NONE
    );
    assert_eq!(end_txn(&mut c, "idle", idle, true, 3), code::NONE);
    let open = init_ok(&mut c, "open", 60_000);
    add_partitions(&mut c, "open", open, &topic.name, &[0], 3);

    wait_for("the idle transactional id to expire", || {
        describe(&mut c, "idle").error_code == code::TRANSACTIONAL_ID_NOT_FOUND
    });
    // An open transaction never expires, however old its last update.
    std::thread::sleep(Duration::from_millis(300));
    let d = describe(&mut c, "open");
    assert_eq!(
        (d.error_code, d.transaction_state.as_str()),
        (code::NONE, "Ongoing")
    );
    // The forgotten id's producer is no longer known to the coordinator.
    assert_eq!(
        end_txn(&mut c, "idle", idle, true, 3),
        code::INVALID_PRODUCER_ID_MAPPING
    );

    // The tombstone in __transaction_state keeps it gone across a restart.
    broker.restart();
    let mut c = broker.client();
    assert_eq!(
        describe(&mut c, "idle").error_code,
        code::TRANSACTIONAL_ID_NOT_FOUND
    );
    assert_eq!(
        describe(&mut c, "open").transaction_state.as_str(),
        "Ongoing"
    );
    // Its next InitProducerId starts afresh: a new producer id at epoch 0.
    let again = init_ok(&mut c, "idle", 60_000);
    assert_ne!(again.0, idle.0);
    assert_eq!(again.1, 0);
}

/// `__transaction_state` values are written as `TransactionLogValue` v1 (flexible), what Kafka
/// writes under the transaction.version 1 that Klamm finalizes
/// (`TransactionVersion.transactionLogValueVersion`): version, producer id, epoch, timeout,
/// status, then a compact (here null: Empty) partition array, two timestamps and a tagged-field
/// section. The state survives a restart read back from those records.
#[test]
fn transaction_log_values_are_written_as_v1() {
    let mut broker = Broker::start();
    let mut c = broker.client();
    let (pid, epoch) = init_ok(&mut c, "tv1-record", 45000);
    let mut values = Vec::new();
    for dir in std::fs::read_dir(broker.data_dir())
        .expect("data dir")
        .flatten()
    {
        if !dir
            .file_name()
            .to_string_lossy()
            .starts_with("__transaction_state-")
        {
            continue;
        }
        for f in std::fs::read_dir(dir.path())
            .expect("partition dir")
            .flatten()
        {
            if f.path().extension().is_some_and(|e| e == "log") {
                let data = bytes::Bytes::from(std::fs::read(f.path()).expect("segment"));
                for r in decode_records(&data) {
                    let key = r.key.expect("key");
                    // Key v0: version i16, then the transactional id as a string.
                    if key.len() > 4 && &key[4..] == b"tv1-record" {
                        values.push(r.value.expect("value"));
                    }
                }
            }
        }
    }
    let v = values.last().expect("a record for tv1-record");
    let mut expected = Vec::new();
    expected.extend_from_slice(&1i16.to_be_bytes());
    expected.extend_from_slice(&pid.to_be_bytes());
    expected.extend_from_slice(&epoch.to_be_bytes());
    expected.extend_from_slice(&45000i32.to_be_bytes());
    expected.push(0); // Empty
    expected.push(0); // null partitions (compact)
    assert_eq!(&v[..expected.len()], &expected[..], "{v:?}");
    // Two timestamps and an empty tagged-field section end the value.
    assert_eq!(v.len(), expected.len() + 8 + 8 + 1, "{v:?}");
    assert_eq!(v[v.len() - 1], 0);

    broker.restart();
    let mut c = broker.client();
    let d = describe(&mut c, "tv1-record");
    assert_eq!(d.error_code, code::NONE);
    assert_eq!(d.producer_id.0, pid);
    assert_eq!(d.producer_epoch, epoch);
    assert_eq!(d.transaction_timeout_ms, 45000);
    assert_eq!(d.transaction_state.as_str(), "Empty");
}

#[test]
fn compaction_removes_markers_of_transactions_without_data() {
    let broker = Broker::with_overrides(&[("log.cleaner.backoff.ms", "50")]);
    let mut c = broker.client();
    let topic = create_topic_with(
        &mut c,
        "txn-compacted",
        1,
        &[
            ("cleanup.policy", "compact"),
            ("segment.ms", "100"),
            ("min.cleanable.dirty.ratio", "0.01"),
            ("delete.retention.ms", "0"),
        ],
    );
    let p = init_ok(&mut c, "compacted-txns", 60_000);
    // k=a1 committed (0, marker 1), k=a2 committed (2, marker 3), j=x aborted (4, marker 5),
    // j=y committed (6, marker 7).
    for (seq, (key, value, commit)) in [
        ("k", "a1", true),
        ("k", "a2", true),
        ("j", "x", false),
        ("j", "y", true),
    ]
    .into_iter()
    .enumerate()
    {
        add_partitions(&mut c, "compacted-txns", p, &topic.name, &[0], 3);
        assert_eq!(
            txn_produce(
                &mut c,
                "compacted-txns",
                &topic,
                0,
                p,
                seq as i32,
                &[rec(key, value)]
            ),
            code::NONE
        );
        assert_eq!(end_txn(&mut c, "compacted-txns", p, commit, 3), code::NONE);
    }
    // (control batch offsets, committed data as (offset, key, value), aborted list) as a
    // read_committed consumer sees them.
    let view = |c: &mut Client| {
        let d = fetch_isolated(c, &topic, 0, 0, true, 12);
        assert_eq!(d.error_code, code::NONE);
        let bytes = d.records.clone().unwrap_or_default();
        let markers: Vec<i64> = batch_infos(&bytes)
            .iter()
            .filter(|b| b.control)
            .map(|b| b.min_offset)
            .collect();
        let data: Vec<(i64, String, String)> = decode_records(&bytes)
            .into_iter()
            .filter(|r| !r.control && r.key.as_deref() != Some(b"roll".as_slice()))
            .map(|r| {
                let text = |b: Option<bytes::Bytes>| {
                    String::from_utf8(b.unwrap_or_default().to_vec()).unwrap_or_default()
                };
                (r.offset, text(r.key), text(r.value))
            })
            .collect();
        let aborted = d.aborted_transactions.unwrap_or_default().len();
        (markers, data, aborted)
    };
    let (markers, _, aborted) = view(&mut c);
    assert_eq!((markers, aborted), (vec![1, 3, 5, 7], 1));

    // Every clean needs new dirty data: keep rolling segments until the markers of the
    // transactions whose batches are gone (1: shadowed by k=a2, 5: aborted) are removed.
    let mut rolls = 0;
    let done = eventually(Duration::from_secs(30), || {
        produce_ok(&mut c, &topic, 0, &[rec("roll", &rolls.to_string())]);
        rolls += 1;
        std::thread::sleep(Duration::from_millis(150));
        view(&mut c).0 == vec![3, 7]
    });
    let (markers, data, aborted) = view(&mut c);
    assert!(done, "markers left: {markers:?}");
    assert_eq!(
        data,
        vec![
            (2, "k".to_string(), "a2".to_string()),
            (6, "j".to_string(), "y".to_string())
        ],
        "the committed latest values stay at their offsets"
    );
    assert_eq!(aborted, 0, "the emptied aborted transaction left the index");
    assert_eq!(
        latest(&mut c, &topic.name, 0, true),
        latest(&mut c, &topic.name, 0, false)
    );
}

/// WriteTxnMarkers v1 for one partition; the partition's error code.
fn write_marker(
    c: &mut Client,
    topic: &str,
    partition: i32,
    (pid, epoch): (i64, i16),
    coordinator_epoch: i32,
    commit: bool,
) -> i16 {
    use write_txn_markers_request::{WritableTxnMarker, WritableTxnMarkerTopic};
    let req = WriteTxnMarkersRequest::default().with_markers(vec![WritableTxnMarker::default()
        .with_producer_id(ProducerId(pid))
        .with_producer_epoch(epoch)
        .with_transaction_result(commit)
        .with_coordinator_epoch(coordinator_epoch)
        .with_topics(vec![WritableTxnMarkerTopic::default()
            .with_name(name(topic))
            .with_partition_indexes(vec![partition])])]);
    let resp = c.send(&req, 1);
    assert_eq!(resp.markers.len(), 1);
    assert_eq!(resp.markers[0].producer_id.0, pid);
    let t = &resp.markers[0].topics[0];
    assert_eq!(t.name.as_str(), topic);
    assert_eq!(t.partitions[0].partition_index, partition);
    t.partitions[0].error_code
}

/// DescribeProducers v0 of one partition: `(producer id, epoch, coordinator epoch, current
/// transaction start offset)` of each producer.
fn producers(c: &mut Client, topic: &str, partition: i32) -> Vec<(i64, i32, i32, i64)> {
    use describe_producers_request::TopicRequest;
    let req = DescribeProducersRequest::default().with_topics(vec![TopicRequest::default()
        .with_name(name(topic))
        .with_partition_indexes(vec![partition])]);
    let resp = c.send(&req, 0);
    let p = &resp.topics[0].partitions[0];
    assert_eq!(p.error_code, code::NONE);
    p.active_producers
        .iter()
        .map(|s| {
            (
                s.producer_id.0,
                s.producer_epoch,
                s.coordinator_epoch,
                s.current_txn_start_offset,
            )
        })
        .collect()
}

/// KIP-664's abort of a hanging transaction (`kafka-transactions abort`, `Admin.abortTransaction`)
/// sends WriteTxnMarkers to the partition leader with the producer id and epoch DescribeProducers
/// reported and the coordinator epoch (0 when the partition saw none). The ABORT marker ends the
/// transaction in the partition: the last stable offset moves past it, read_committed fetches
/// list it as aborted, and DescribeProducers shows no open transaction and the marker's
/// coordinator epoch. Markers are checked as Kafka's `ProducerAppendInfo.appendEndTxnMarker`
/// does: an older producer epoch is INVALID_PRODUCER_EPOCH, an older coordinator epoch
/// TRANSACTION_COORDINATOR_FENCED; an unknown partition is UNKNOWN_TOPIC_OR_PARTITION.
#[test]
fn write_txn_markers_aborts_a_hanging_transaction() {
    let broker = Broker::start();
    let mut c = broker.client();
    let topic = create_topic(&mut c, "txn-hanging", 2);

    let p = init_ok(&mut c, "hanging", 600_000);
    add_partitions(&mut c, "hanging", p, &topic.name, &[0, 1], 3);
    assert_eq!(
        txn_produce(&mut c, "hanging", &topic, 0, p, 0, &recs("h", 2)),
        code::NONE
    );
    assert_eq!(
        producers(&mut c, &topic.name, 0),
        vec![(p.0, p.1 as i32, -1, 0)]
    );
    assert_eq!(latest(&mut c, &topic.name, 0, true), 0);

    assert_eq!(
        write_marker(&mut c, &topic.name, 0, p, 0, false),
        code::NONE
    );
    assert_eq!(
        latest(&mut c, &topic.name, 0, true),
        3,
        "2 records + marker"
    );
    assert_eq!(
        producers(&mut c, &topic.name, 0),
        vec![(p.0, p.1 as i32, 0, -1)]
    );
    let d = fetch_isolated(&mut c, &topic, 0, 0, true, 18);
    let aborted: Vec<(i64, i64)> = d
        .aborted_transactions
        .unwrap_or_default()
        .iter()
        .map(|a| (a.producer_id.0, a.first_offset))
        .collect();
    assert_eq!(aborted, vec![(p.0, 0)]);

    // Older producer epoch, older coordinator epoch, unknown partition.
    assert_eq!(
        write_marker(&mut c, &topic.name, 0, (p.0, p.1 - 1), 0, false),
        code::INVALID_PRODUCER_EPOCH
    );
    let q = init_ok(&mut c, "hanging-2", 600_000);
    add_partitions(&mut c, "hanging-2", q, &topic.name, &[1], 3);
    assert_eq!(
        txn_produce(&mut c, "hanging-2", &topic, 1, q, 0, &recs("q", 1)),
        code::NONE
    );
    assert_eq!(
        write_marker(&mut c, &topic.name, 1, q, 5, false),
        code::NONE
    );
    assert_eq!(
        write_marker(&mut c, &topic.name, 1, q, 4, false),
        code::TRANSACTION_COORDINATOR_FENCED
    );
    assert_eq!(
        write_marker(&mut c, &topic.name, 7, q, 5, false),
        code::UNKNOWN_TOPIC_OR_PARTITION
    );
    assert_eq!(
        write_marker(&mut c, "no-such-topic", 0, q, 5, false),
        code::UNKNOWN_TOPIC_OR_PARTITION
    );

    // The coordinator still holds "hanging" open; its own abort writes the markers and completes.
    assert_eq!(end_txn(&mut c, "hanging", p, false, 3), code::NONE);
    assert_eq!(
        describe(&mut c, "hanging").transaction_state.as_str(),
        "CompleteAbort"
    );
    assert_eq!(latest(&mut c, &topic.name, 0, true), 4);
}
