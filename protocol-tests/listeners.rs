//! Kafka's multi-listener settings (`listeners`, `advertised.listeners`,
//! `listener.security.protocol.map`): every listener is bound and served, and a client sees the
//! advertised address of the listener it connected through in Metadata, FindCoordinator and
//! DescribeCluster. Bad listener settings stop the broker at start-up with Kafka's message.

use std::process::Command;

use kafka_protocol::messages::{ApiKey, BrokerId, DescribeClusterRequest, FindCoordinatorRequest};
use kafka_protocol::protocol::StrBytes;

use crate::support::*;

const LISTENERS: &str = "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0,REPLICATION://127.0.0.1:0";
const MAP: &str = "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,REPLICATION:PLAINTEXT";

fn three_listeners() -> Broker {
    Broker::with_overrides(&[
        ("listeners", LISTENERS),
        ("listener.security.protocol.map", MAP),
        ("advertised.listeners", "INTERNAL://internal.example:19093"),
    ])
}

/// (host, port) a client of `name` must be told.
fn expected(broker: &Broker, name: &str) -> (String, i32) {
    let l = broker.listener(name);
    (l.advertised_host.clone(), l.advertised_port)
}

#[test]
fn every_listener_is_bound_and_printed_in_order_with_its_advertised_address() {
    let broker = three_listeners();
    assert_eq!(
        broker.listeners.keys().collect::<Vec<_>>(),
        ["INTERNAL", "PLAINTEXT", "REPLICATION"]
    );
    let plain = broker.listener("PLAINTEXT");
    assert_eq!(plain.protocol, "PLAINTEXT");
    assert_eq!(
        broker.addr, plain.bound,
        "the ready line is the first listener"
    );
    assert_eq!(
        (broker.advertised_host.as_str(), broker.advertised_port),
        ("127.0.0.1", plain.bound.port() as i32)
    );
    let internal = broker.listener("INTERNAL");
    assert_eq!(
        (internal.advertised_host.as_str(), internal.advertised_port),
        ("internal.example", 19093)
    );
    let repl = broker.listener("REPLICATION");
    assert_eq!(
        (repl.advertised_host.as_str(), repl.advertised_port),
        ("127.0.0.1", repl.bound.port() as i32),
        "default: the bound address"
    );
    let ports: std::collections::BTreeSet<u16> =
        broker.listeners.values().map(|l| l.bound.port()).collect();
    assert_eq!(ports.len(), 3, "three distinct ports");
}

#[test]
fn each_listener_answers_with_its_own_advertised_address() {
    let broker = three_listeners();
    for name in ["PLAINTEXT", "INTERNAL", "REPLICATION"] {
        let (host, port) = expected(&broker, name);
        let mut c = broker.client_of(name);
        for v in versions(ApiKey::Metadata) {
            let resp = c.send(&metadata_request(Some(&[]), v < 4), v);
            assert_eq!(resp.brokers.len(), 1, "{name} Metadata v{v}");
            let b = &resp.brokers[0];
            assert_eq!(
                (b.node_id, b.host.as_str(), b.port),
                (BrokerId(0), host.as_str(), port),
                "{name} Metadata v{v}"
            );
        }
        for v in versions(ApiKey::FindCoordinator) {
            let mut req = FindCoordinatorRequest::default();
            if v >= 4 {
                req.coordinator_keys = vec![StrBytes::from_static_str("g")];
            } else {
                req.key = StrBytes::from_static_str("g");
            }
            let resp = c.send(&req, v);
            let got = if v >= 4 {
                let co = &resp.coordinators[0];
                (co.error_code, co.host.to_string(), co.port)
            } else {
                (resp.error_code, resp.host.to_string(), resp.port)
            };
            assert_eq!(
                got,
                (code::NONE, host.clone(), port),
                "{name} FindCoordinator v{v}"
            );
        }
        for v in versions(ApiKey::DescribeCluster) {
            let resp = c.send(&DescribeClusterRequest::default(), v);
            assert_eq!(resp.error_code, code::NONE);
            let b = &resp.brokers[0];
            assert_eq!(
                (b.host.as_str(), b.port),
                (host.as_str(), port),
                "{name} DescribeCluster v{v}"
            );
        }
    }
}

#[test]
fn produce_on_one_listener_is_fetched_on_another() {
    let broker = three_listeners();
    let mut a = broker.client_of("INTERNAL");
    let mut b = broker.client_of("REPLICATION");
    let topic = create_topic(&mut a, "shared", 1);
    let records = [rec("k", "across listeners")];
    assert_eq!(produce_ok(&mut a, &topic, 0, &records), 0);
    let p = fetch(&mut b, &topic, 0, 0, 12);
    assert_eq!(p.error_code, code::NONE);
    let fetched = decode_records(p.records.as_ref().expect("records"));
    assert_records(&fetched, &records, 0);
}

/// Runs `klamm serve` with `overrides`; it must exit non-zero with `message` on stderr.
fn refuses_to_start(overrides: &[(&str, &str)], message: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_klamm"));
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0"])
        .env_remove("KLAMM_CONFIG");
    for (k, v) in overrides {
        cmd.arg("--override").arg(format!("{k}={v}"));
    }
    let out = cmd.output().expect("run klamm");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with {overrides:?}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in stderr:\n{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("klamm listening on"),
        "printed the ready line"
    );
}

#[test]
fn bad_listener_settings_stop_the_start_with_kafkas_messages() {
    refuses_to_start(
        &[("listeners", "PLAINTEXT://127.0.0.1:0,CLIENT://127.0.0.1:0")],
        "No security protocol defined for listener CLIENT",
    );
    refuses_to_start(
        &[("listeners", "PLAINTEXT://:0,plaintext://:0")],
        "Each listener must have a different name, listeners: [PLAINTEXT://:0, plaintext://:0]",
    );
    refuses_to_start(
        &[("listeners", "PLAINTEXT://:19092,SSL://:19092")],
        "Each listener must have a different port, listeners: [PLAINTEXT://:19092, SSL://:19092]",
    );
    refuses_to_start(
        &[("listeners", "PLAINTEXT//:0")],
        "Unable to parse PLAINTEXT//:0 to a broker endpoint",
    );
    refuses_to_start(
        &[
            ("listeners", "PLAINTEXT://127.0.0.1:0"),
            ("advertised.listeners", "OTHER://h:1"),
            ("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT"),
        ],
        "advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. Found OTHER.",
    );
}

#[test]
fn without_listeners_the_listen_flag_is_the_plaintext_listener() {
    let broker = Broker::start();
    assert_eq!(broker.listeners.len(), 1);
    let l = broker.listener("PLAINTEXT");
    assert_eq!(l.protocol, "PLAINTEXT");
    assert_eq!(l.bound, broker.addr);
}
