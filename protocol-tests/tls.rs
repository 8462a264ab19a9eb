//! SSL listeners (Kafka's `SslConfigs` with PEM stores): requests over TLS get the same bytes
//! as over PLAINTEXT (a Fetch bigger than the buffered-copy size across several partitions),
//! `ssl.client.auth` none / requested / required, the client certificate principal through
//! `ssl.principal.mapping.rules`, TLS version limits, garbage on the SSL port, certificate
//! reload on SIGHUP and on file change, and start-up errors for stores Klamm cannot read.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::ApiVersionsRequest;
use rcgen::DnType;

use crate::support::client::{decode_response, encode_request};
use crate::support::tls::*;
use crate::support::*;

fn api_versions(c: &mut Client) {
    let mut req = ApiVersionsRequest::default();
    req.client_software_name = s("klamm-tls-test");
    req.client_software_version = s("1.0");
    let resp = c.send(&req, 3);
    assert_eq!(resp.error_code, code::NONE);
    let got: Vec<(i16, i16, i16)> = resp
        .api_keys
        .iter()
        .map(|k| (k.api_key, k.min_version, k.max_version))
        .collect();
    // A broker with default settings: Kafka 4.1's ranges and the versions Kafka 4 removed.
    let want: Vec<(i16, i16, i16)> = advertised_wide()
        .iter()
        .map(|(k, min, max)| (*k as i16, *min, *max))
        .collect();
    assert_eq!(got, want, "ApiVersions over TLS");
}

/// True when a request on `c` gets no answer: the broker closed the connection.
fn refused(c: std::io::Result<Client>) -> bool {
    match c {
        Err(_) => true,
        Ok(mut c) => {
            let frame = encode_request(&ApiVersionsRequest::default(), 3, 1);
            if c.try_write_raw(&frame).is_err() {
                return true;
            }
            match c.read_frame() {
                Ok(None) | Err(_) => true,
                Ok(Some(_)) => false,
            }
        }
    }
}

/// Distinct, incompressible-looking values of `size` bytes.
fn big_records(partition: i32, n: usize, size: usize) -> Vec<Rec> {
    (0..n)
        .map(|i| {
            let value: String = (0..size)
                .map(|j| (b'a' + ((i * 7 + j * 13 + partition as usize * 3) % 26) as u8) as char)
                .collect();
            rec(&format!("p{partition}-k{i}"), &value)
        })
        .collect()
}

#[test]
fn produce_and_fetch_over_ssl_return_the_exact_bytes_of_plaintext() {
    let pki = Pki::new();
    let broker = pki.broker(&[]);
    assert_eq!(broker.listener("SSL").protocol, "SSL");
    let mut tls = broker.tls_client(pki.client_config(None, ALL_VERSIONS));
    api_versions(&mut tls);
    let topic = create_topic(&mut tls, "over-tls", 4);
    let mut expected = Vec::new();
    for p in 0..4 {
        // 2 batches of 120 x 1 KiB per partition: ~960 KiB in one Fetch, several times the
        // 256 KiB buffer of the TLS copy path.
        let mut all = Vec::new();
        for b in 0..2 {
            let records = big_records(p * 10 + b, 120, 1024);
            assert_eq!(produce_ok(&mut tls, &topic, p, &records), (b * 120) as i64);
            all.extend(records);
        }
        expected.push(all);
    }
    let mut plain = broker.client_of("PLAINTEXT");
    let mut req = fetch_request(&topic, 0, 0);
    req.topics[0].partitions = (0..4)
        .map(|p| {
            FetchPartition::default()
                .with_partition(p)
                .with_fetch_offset(0)
                .with_partition_max_bytes(1024 * 1024)
        })
        .collect();
    for v in [4i16, 12, 16] {
        let id_tls = tls.write_request(&req, v);
        let over_tls = tls.read_frame().expect("read").expect("TLS fetch response");
        let id_plain = plain.write_request(&req, v);
        let over_plain = plain
            .read_frame()
            .expect("read")
            .expect("plain fetch response");
        assert_eq!(&over_tls[..4], &id_tls.to_be_bytes());
        assert_eq!(&over_plain[..4], &id_plain.to_be_bytes());
        assert!(
            over_tls.len() > 900 * 1024,
            "Fetch v{v}: {} bytes",
            over_tls.len()
        );
        assert_eq!(
            over_tls[4..],
            over_plain[4..],
            "Fetch v{v}: TLS and PLAINTEXT responses differ"
        );
        let (_, resp) = decode_response::<kafka_protocol::messages::FetchRequest>(
            Bytes::copy_from_slice(&over_tls),
            v,
        );
        let parts = &resp.responses[0].partitions;
        assert_eq!(parts.len(), 4);
        for part in parts {
            assert_eq!(part.error_code, code::NONE);
            let fetched = decode_records(part.records.as_ref().expect("records"));
            assert_records(&fetched, &expected[part.partition_index as usize], 0);
        }
    }
}

#[test]
fn client_auth_required_refuses_a_client_without_a_certificate() {
    let pki = Pki::new();
    let broker = pki.broker(&[("listener.name.ssl.ssl.client.auth", "required")]);
    let addr = broker.listener("SSL").bound;
    let anonymous = Client::connect_tls(addr, pki.client_config(None, ALL_VERSIONS), "localhost");
    assert!(
        refused(anonymous),
        "a client without a certificate was served"
    );
    let cert = pki.client_cert(CLIENT_DN);
    let mut c = broker.tls_client(pki.client_config(Some(&cert), ALL_VERSIONS));
    api_versions(&mut c);
    // A certificate from another CA is refused too.
    let other = klamm::security::tls::dev::CertificateAuthority::new("other CA").unwrap();
    let stranger = other.client(CLIENT_DN).unwrap();
    let c = Client::connect_tls(
        addr,
        pki.client_config(Some(&stranger), ALL_VERSIONS),
        "localhost",
    );
    assert!(refused(c), "a certificate of an unknown CA was accepted");
    // The PLAINTEXT listener is unaffected.
    api_versions(&mut broker.client_of("PLAINTEXT"));
}

#[test]
fn client_auth_requested_serves_clients_with_and_without_certificates() {
    let pki = Pki::new();
    let broker = pki.broker(&[("listener.name.ssl.ssl.client.auth", "requested")]);
    api_versions(&mut broker.tls_client(pki.client_config(None, ALL_VERSIONS)));
    let cert = pki.client_cert(CLIENT_DN);
    api_versions(&mut broker.tls_client(pki.client_config(Some(&cert), ALL_VERSIONS)));
}

/// The principal is the certificate's subject in Java's RFC 2253 form put through the mapping
/// rules: a rule matching only that exact form accepts the client, and a certificate no rule
/// maps is refused (Kafka's NoMatchingRule fails the authentication).
#[test]
fn the_principal_is_the_rfc2253_subject_through_the_mapping_rules() {
    let pki = Pki::new();
    let broker = pki.broker(&[
        ("listener.name.ssl.ssl.client.auth", "required"),
        (
            "listener.name.ssl.ssl.principal.mapping.rules",
            "RULE:^CN=client,OU=eng,O=Example,C=DE$/client/L",
        ),
    ]);
    let addr = broker.listener("SSL").bound;
    let cert = pki.client_cert(CLIENT_DN);
    api_versions(&mut broker.tls_client(pki.client_config(Some(&cert), ALL_VERSIONS)));
    let other = pki.client_cert(&[(DnType::CommonName, "client")]);
    let c = Client::connect_tls(
        addr,
        pki.client_config(Some(&other), ALL_VERSIONS),
        "localhost",
    );
    assert!(
        refused(c),
        "CN=client alone matches no rule and must be refused"
    );
    assert!(
        wait_for(|| broker.stderr_tail().contains(
            "No rules apply to CN=client, rules [RULE:^CN=client,OU=eng,O=Example,C=DE$/client/L]"
        )),
        "Kafka's NoMatchingRule message in the log:\n{}",
        broker.stderr_tail()
    );
    api_versions(&mut broker.tls_client(pki.client_config(Some(&cert), ALL_VERSIONS)));
}

#[test]
fn enabled_protocols_limit_the_tls_version() {
    let pki = Pki::new();
    for (enabled, version, other) in [
        (
            "TLSv1.2",
            rustls::ProtocolVersion::TLSv1_2,
            &rustls::version::TLS13,
        ),
        (
            "TLSv1.3",
            rustls::ProtocolVersion::TLSv1_3,
            &rustls::version::TLS12,
        ),
    ] {
        let broker = pki.broker(&[("listener.name.ssl.ssl.enabled.protocols", enabled)]);
        let mut c = broker.tls_client(pki.client_config(None, ALL_VERSIONS));
        let (negotiated, cert) = c.tls_session().expect("TLS session");
        assert_eq!(negotiated, version, "{enabled}");
        assert_eq!(cert, pki.server.cert_der);
        api_versions(&mut c);
        let only_other = Client::connect_tls(
            broker.listener("SSL").bound,
            pki.client_config(None, &[other]),
            "localhost",
        );
        assert!(
            only_other.is_err(),
            "{enabled}: a client of the other version connected"
        );
    }
}

#[test]
fn cipher_suites_limit_the_negotiated_suite() {
    let pki = Pki::new();
    let broker = pki.broker(&[(
        "listener.name.ssl.ssl.cipher.suites",
        "TLS_CHACHA20_POLY1305_SHA256",
    )]);
    let c = broker.tls_client(pki.client_config(None, ALL_VERSIONS));
    let (v, _) = c.tls_session().unwrap();
    assert_eq!(v, rustls::ProtocolVersion::TLSv1_3);
    // The broker only has a TLS 1.3 suite: a TLS 1.2-only client cannot connect.
    assert!(Client::connect_tls(
        broker.listener("SSL").bound,
        pki.client_config(None, &[&rustls::version::TLS12]),
        "localhost"
    )
    .is_err());
}

fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn handshake_failures(broker: &Broker) -> u64 {
    broker
        .metrics_text()
        .lines()
        .filter(|l| l.starts_with("klamm_tls_handshake_failures_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
fn garbage_on_the_ssl_port_closes_that_connection_only() {
    let pki = Pki::new();
    let broker = pki.broker(&[("connections.max.idle.ms", "1500")]);
    let addr = broker.listener("SSL").bound;
    // A plaintext Kafka request.
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(&encode_request(&ApiVersionsRequest::default(), 3, 1))
        .unwrap();
    assert!(closed_soon(&mut c), "plaintext frame");
    // Random bytes.
    let mut c = TcpStream::connect(addr).unwrap();
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let _ = c.write_all(&noise);
    assert!(closed_soon(&mut c), "random bytes");
    // A ClientHello cut short: the handshake timeout (connections.max.idle.ms) closes it.
    let mut c = TcpStream::connect(addr).unwrap();
    c.write_all(&[
        0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
    ])
    .unwrap();
    let started = Instant::now();
    assert!(closed_soon(&mut c), "truncated ClientHello");
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "closed before the timeout"
    );
    assert!(
        wait_for(|| handshake_failures(&broker) >= 3),
        "klamm_tls_handshake_failures_total: {}",
        handshake_failures(&broker)
    );
    let text = broker.metrics_text();
    assert!(
        text.contains("klamm_tls_handshake_failures_total{listener=\"SSL\",reason=\"timeout\"} 1"),
        "{text}"
    );
    // The broker goes on serving both listeners.
    api_versions(&mut broker.tls_client(pki.client_config(None, ALL_VERSIONS)));
    api_versions(&mut broker.client_of("PLAINTEXT"));
}

fn closed_soon(c: &mut TcpStream) -> bool {
    use std::io::Read;
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match c.read(&mut buf) {
            Ok(0) => return true,
            // A TLS alert may come first.
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

fn leaf(c: &Client) -> Vec<u8> {
    c.tls_session().expect("TLS session").1
}

#[test]
fn sighup_reloads_the_certificate_and_a_bad_file_keeps_the_old_one() {
    let pki = Pki::new();
    let broker = pki.broker(&[("ssl.keystore.reload.check.interval.ms", "0")]);
    let config = pki.client_config(None, ALL_VERSIONS);
    let mut before = broker.tls_client(config.clone());
    assert_eq!(leaf(&before), pki.server.cert_der);
    let renewed = pki
        .ca
        .server("klamm-renewed", &["localhost".into(), "127.0.0.1".into()])
        .unwrap();
    std::fs::write(&pki.keystore_path, renewed.keystore_pem()).unwrap();
    // Without a signal (and with the file check off) nothing changes.
    assert_eq!(
        leaf(&broker.tls_client(config.clone())),
        pki.server.cert_der
    );
    broker.sighup();
    assert!(
        wait_for(|| leaf(&broker.tls_client(config.clone())) == renewed.cert_der),
        "a new connection still sees the old certificate after SIGHUP"
    );
    // The connection made before the reload keeps working.
    api_versions(&mut before);
    // A broken keystore: the reload fails and the last good certificate stays.
    std::fs::write(&pki.keystore_path, "not a pem file").unwrap();
    broker.sighup();
    assert!(
        wait_for(|| broker
            .stderr_tail()
            .contains("TLS reload failed, keeping the previous certificates")),
        "{}",
        broker.stderr_tail()
    );
    assert_eq!(leaf(&broker.tls_client(config)), renewed.cert_der);
}

#[test]
fn a_changed_keystore_file_is_picked_up_without_a_signal() {
    let pki = Pki::new();
    let broker = pki.broker(&[("ssl.keystore.reload.check.interval.ms", "100")]);
    let config = pki.client_config(None, ALL_VERSIONS);
    assert_eq!(
        leaf(&broker.tls_client(config.clone())),
        pki.server.cert_der
    );
    // mtime granularity: make sure the new file's time differs.
    std::thread::sleep(Duration::from_millis(20));
    let renewed = pki
        .ca
        .server("klamm-renewed", &["localhost".into(), "127.0.0.1".into()])
        .unwrap();
    let tmp = pki.write("next.pem", &renewed.keystore_pem());
    std::fs::rename(tmp, &pki.keystore_path).unwrap();
    assert!(
        wait_for(|| leaf(&broker.tls_client(config.clone())) == renewed.cert_der),
        "the changed keystore was not reloaded"
    );
}

#[test]
fn inline_pem_keystore_and_truststore_work() {
    let pki = Pki::new();
    let cert = pki.client_cert(CLIENT_DN);
    let broker = Broker::with_overrides(&[
        ("listeners", "SSL://127.0.0.1:0"),
        ("ssl.keystore.key", &pki.server.key_pem),
        ("ssl.keystore.certificate.chain", &pki.server.cert_pem),
        ("ssl.truststore.certificates", &pki.ca.cert_pem),
        ("ssl.client.auth", "required"),
    ]);
    assert_eq!(
        broker.addr,
        broker.listener("SSL").bound,
        "the ready line is the SSL listener"
    );
    api_versions(&mut broker.tls_client(pki.client_config(Some(&cert), ALL_VERSIONS)));
}

/// `klamm serve` with `overrides` must fail to start with `message`.
fn refuses_to_start(overrides: &[(&str, &str)], message: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_klamm"));
    cmd.arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--http-listen", "127.0.0.1:0"])
        .env_remove("KLAMM_CONFIG");
    for (k, v) in overrides {
        cmd.arg("--override").arg(format!("{k}={v}"));
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started with {overrides:?}");
    assert!(
        stderr.contains(message),
        "expected {message:?} in:\n{stderr}"
    );
}

#[test]
fn stores_klamm_cannot_read_stop_the_start_with_a_clear_error() {
    let pki = Pki::new();
    let ks = pki.keystore_path.display().to_string();
    refuses_to_start(
        &[
            ("listeners", "SSL://127.0.0.1:0"),
            ("ssl.keystore.type", "JKS"),
            ("ssl.keystore.location", &ks),
        ],
        "listener SSL: ssl.keystore.type=JKS is not supported: Klamm reads PEM keystores only",
    );
    let encrypted = pki.write(
        "enc.pem",
        &format!(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n{}",
            pki.server.cert_pem
        ),
    );
    refuses_to_start(
        &[
            ("listeners", "SSL://127.0.0.1:0"),
            ("ssl.keystore.location", &encrypted.display().to_string()),
            ("ssl.key.password", "secret"),
        ],
        "encrypted private keys (ssl.key.password) are not supported",
    );
    refuses_to_start(
        &[("listeners", "SSL://127.0.0.1:0")],
        "listener SSL: an SSL listener needs ssl.keystore.location",
    );
    refuses_to_start(
        &[
            ("listeners", "SSL://127.0.0.1:0"),
            ("ssl.keystore.location", &ks),
            ("ssl.client.auth", "required"),
        ],
        "ssl.client.auth requested or required needs ssl.truststore.location",
    );
}
