//! SASL on a SASL_PLAINTEXT listener (Kafka's `SaslServerAuthenticator`): SaslHandshake v0-1 and
//! SaslAuthenticate v0-2, PLAIN with JAAS users, SCRAM-SHA-256/512 computed here against
//! credentials stored with AlterUserScramCredentials (as `kafka-configs` computes them),
//! OAUTHBEARER unsecured and ES256-signed with a JWKS file, KIP-368 re-authentication, the
//! pre-authentication request and size rules, and the v0 raw-token exchange.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest,
    SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use sha2::{Digest, Sha256, Sha512};

use crate::support::*;

const SASL: &str = "SASL_PLAINTEXT";
const ILLEGAL_SASL_STATE: i16 = 34;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const SASL_AUTHENTICATION_FAILED: i16 = 58;
const PLAIN_JAAS: &str = "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"admin-secret\" user_admin=\"admin-secret\" user_alice=\"alice-secret\" user_bob=\"bob-secret\";";

fn sasl_broker(extra: &[(&str, &str)]) -> Broker {
    let mut o: Vec<(&str, &str)> = vec![
        (
            "listeners",
            "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
        ),
        (
            "listener.name.sasl_plaintext.plain.sasl.jaas.config",
            PLAIN_JAAS,
        ),
    ];
    o.extend_from_slice(extra);
    Broker::with_overrides(&o)
}

fn handshake(c: &mut Client, mechanism: &str, version: i16) -> SaslHandshakeResponse {
    c.send(
        &SaslHandshakeRequest::default().with_mechanism(s(mechanism)),
        version,
    )
}

fn authenticate(c: &mut Client, bytes: &[u8], version: i16) -> SaslAuthenticateResponse {
    c.send(
        &SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(bytes)),
        version,
    )
}

fn metadata_ok(c: &mut Client) {
    let r = c.send(&MetadataRequest::default().with_topics(Some(vec![])), 12);
    assert_eq!(r.brokers.len(), 1);
}

fn plain_login(c: &mut Client, user: &str, password: &str) -> SaslAuthenticateResponse {
    let h = handshake(c, "PLAIN", 1);
    assert_eq!(h.error_code, 0);
    authenticate(c, format!("\0{user}\0{password}").as_bytes(), 2)
}

fn generic_failure(mechanism: &str) -> String {
    format!("Authentication failed during authentication due to invalid credentials with SASL mechanism {mechanism}")
}

#[test]
fn handshake_lists_the_enabled_mechanisms_and_refuses_others() {
    let broker = sasl_broker(&[]);
    for v in 0..=1 {
        let mut c = broker.client_of(SASL);
        let h = handshake(&mut c, "PLAIN", v);
        assert_eq!(h.error_code, 0);
        let m: Vec<String> = h.mechanisms.iter().map(|m| m.to_string()).collect();
        assert_eq!(m, ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]);
    }
    let mut c = broker.client_of(SASL);
    let h = handshake(&mut c, "GSSAPI", 1);
    assert_eq!(h.error_code, UNSUPPORTED_SASL_MECHANISM);
    assert_eq!(h.mechanisms.len(), 3);
    assert!(c.closed_within(Duration::from_secs(5)));
    // ApiVersions first, as every client does, advertises the SASL APIs.
    let mut c = broker.client_of(SASL);
    let v = c.send(&ApiVersionsRequest::default(), 2);
    assert!(v
        .api_keys
        .iter()
        .any(|k| k.api_key == 17 && k.max_version == 1));
    assert!(v
        .api_keys
        .iter()
        .any(|k| k.api_key == 36 && k.max_version == 2));
    assert_eq!(plain_login(&mut c, "alice", "alice-secret").error_code, 0);
    metadata_ok(&mut c);
    // On the PLAINTEXT listener the SASL APIs get Kafka's ILLEGAL_SASL_STATE.
    let mut p = broker.client_of("PLAINTEXT");
    assert_eq!(handshake(&mut p, "PLAIN", 1).error_code, ILLEGAL_SASL_STATE);
    let a = authenticate(&mut p, b"x", 2);
    assert_eq!(a.error_code, ILLEGAL_SASL_STATE);
    metadata_ok(&mut p);
}

#[test]
fn other_requests_before_authentication_close_the_connection() {
    let broker = sasl_broker(&[]);
    let mut c = broker.client_of(SASL);
    c.write_request(&MetadataRequest::default(), 12);
    assert!(c.closed_within(Duration::from_secs(5)));
    // Between the handshake and SaslAuthenticate too.
    let mut c = broker.client_of(SASL);
    assert_eq!(handshake(&mut c, "PLAIN", 1).error_code, 0);
    c.write_request(&MetadataRequest::default(), 12);
    assert!(c.closed_within(Duration::from_secs(5)));
    // A second ApiVersions before the handshake, as Kafka.
    let mut c = broker.client_of(SASL);
    c.send(&ApiVersionsRequest::default(), 2);
    c.write_request(&ApiVersionsRequest::default(), 2);
    assert!(c.closed_within(Duration::from_secs(5)));
    // Before authentication a frame is limited to sasl.server.max.receive.size: a 2^31-1
    // byte declaration is refused unread, and the broker goes on serving.
    let mut c = broker.client_of(SASL);
    c.write_raw(&i32::MAX.to_be_bytes());
    c.write_raw(&[0u8; 16]);
    assert!(c.closed_within(Duration::from_secs(5)));
    let mut c = broker.client_of(SASL);
    assert_eq!(handshake(&mut c, "PLAIN", 1).error_code, 0);
    let mut big = 600_000i32.to_be_bytes().to_vec();
    big.extend_from_slice(&[0u8; 64]);
    c.write_raw(&big);
    assert!(c.closed_within(Duration::from_secs(5)));
    let mut c = broker.client_of(SASL);
    assert_eq!(plain_login(&mut c, "bob", "bob-secret").error_code, 0);
    metadata_ok(&mut c);
}

#[test]
fn plain_good_bad_and_authzid() {
    let broker = sasl_broker(&[]);
    let mut c = broker.client_of(SASL);
    let ok = plain_login(&mut c, "alice", "alice-secret");
    assert_eq!(ok.error_code, 0);
    assert_eq!(ok.session_lifetime_ms, 0);
    metadata_ok(&mut c);
    for (user, pw) in [
        ("alice", "wrong"),
        ("mallory", "alice-secret"),
        ("admin", "alice-secret"),
    ] {
        let mut c = broker.client_of(SASL);
        let r = plain_login(&mut c, user, pw);
        assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
        assert_eq!(
            r.error_message.as_deref(),
            Some("Authentication failed: Invalid username or password")
        );
        assert!(c.closed_within(Duration::from_secs(5)));
    }
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "PLAIN", 1);
    let r = authenticate(&mut c, b"bob\0alice\0alice-secret", 1);
    assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
    assert_eq!(
        r.error_message.as_deref(),
        Some("Authentication failed: Client requested an authorization id that is different from username")
    );
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "PLAIN", 1);
    let r = authenticate(&mut c, b"alice\0alice\0alice-secret", 0);
    assert_eq!(r.error_code, 0);
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "PLAIN", 1);
    let r = authenticate(&mut c, b"\0alice\0", 1);
    assert_eq!(
        r.error_message.as_deref(),
        Some(generic_failure("PLAIN").as_str())
    );
}

#[test]
fn v0_handshake_is_followed_by_raw_tokens() {
    let broker = sasl_broker(&[]);
    let mut c = broker.client_of(SASL);
    assert_eq!(handshake(&mut c, "PLAIN", 0).error_code, 0);
    let token = b"\0alice\0alice-secret";
    let mut frame = (token.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(token);
    c.write_raw(&frame);
    let mut size = [0u8; 4];
    std::io::Read::read_exact(
        &mut std::io::BufReader::new(&mut RawRead(&mut c)),
        &mut size,
    )
    .unwrap();
    assert_eq!(size, [0, 0, 0, 0], "PLAIN answers an empty token");
    metadata_ok(&mut c);
    // A bad raw token closes the connection (v0 has no error response).
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "PLAIN", 0);
    let token = b"\0alice\0nope";
    let mut frame = (token.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(token);
    c.write_raw(&frame);
    assert!(c.closed_within(Duration::from_secs(5)));
}

/// Reads raw bytes from a test client (the empty v0 answer is not a Kafka response frame).
struct RawRead<'a>(&'a mut Client);

impl std::io::Read for RawRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read_raw(buf)
    }
}

// --- SCRAM ------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Sha {
    S256,
    S512,
}

fn hmac(h: Sha, key: &[u8], data: &[u8]) -> Vec<u8> {
    match h {
        Sha::S256 => {
            let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        Sha::S512 => {
            let mut m = <Hmac<Sha512> as KeyInit>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

fn digest(h: Sha, data: &[u8]) -> Vec<u8> {
    match h {
        Sha::S256 => Sha256::digest(data).to_vec(),
        Sha::S512 => Sha512::digest(data).to_vec(),
    }
}

/// RFC 5802 `Hi`, what `kafka-configs --add-config 'SCRAM-SHA-256=[iterations=..,password=..]'`
/// computes before it sends AlterUserScramCredentials.
fn hi(h: Sha, password: &[u8], salt: &[u8], iterations: i32) -> Vec<u8> {
    let mut first = salt.to_vec();
    first.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(h, password, &first);
    let mut out = u.clone();
    for _ in 1..iterations {
        u = hmac(h, password, &u);
        out.iter_mut().zip(&u).for_each(|(o, b)| *o ^= b);
    }
    out
}

fn add_scram_user(c: &mut Client, user: &str, h: Sha, password: &str, iterations: i32) {
    let salt = b"klamm-test-salt-0123";
    let mechanism = match h {
        Sha::S256 => 1,
        Sha::S512 => 2,
    };
    let req = AlterUserScramCredentialsRequest::default().with_upsertions(vec![
        ScramCredentialUpsertion::default()
            .with_name(s(user))
            .with_mechanism(mechanism)
            .with_iterations(iterations)
            .with_salt(Bytes::from_static(salt))
            .with_salted_password(Bytes::from(hi(h, password.as_bytes(), salt, iterations))),
    ]);
    let r = c.send(&req, 0);
    assert_eq!(r.results[0].error_code, 0);
}

/// Runs a SCRAM exchange; `tamper_nonce` sends a wrong nonce in client-final.
fn scram_login(
    c: &mut Client,
    mech: &str,
    h: Sha,
    user: &str,
    password: &str,
    tamper_nonce: bool,
) -> SaslAuthenticateResponse {
    assert_eq!(handshake(c, mech, 1).error_code, 0);
    let cnonce = "fyko+d2lbbFgONRv9qkxdawL";
    let bare = format!("n={user},r={cnonce}");
    let first = authenticate(c, format!("n,,{bare}").as_bytes(), 2);
    if first.error_code != 0 {
        return first;
    }
    let server_first = String::from_utf8(first.auth_bytes.to_vec()).unwrap();
    let mut parts = server_first.split(',');
    let nonce = parts
        .next()
        .unwrap()
        .strip_prefix("r=")
        .unwrap()
        .to_string();
    assert!(nonce.starts_with(cnonce) && nonce.len() > cnonce.len());
    let salt = STANDARD
        .decode(parts.next().unwrap().strip_prefix("s=").unwrap())
        .unwrap();
    let iterations: i32 = parts
        .next()
        .unwrap()
        .strip_prefix("i=")
        .unwrap()
        .parse()
        .unwrap();
    let salted = hi(h, password.as_bytes(), &salt, iterations);
    let client_key = hmac(h, &salted, b"Client Key");
    let stored_key = digest(h, &client_key);
    let sent_nonce = if tamper_nonce {
        format!("{nonce}x")
    } else {
        nonce
    };
    let without_proof = format!("c=biws,r={sent_nonce}");
    let auth_message = format!("{bare},{server_first},{without_proof}");
    let signature = hmac(h, &stored_key, auth_message.as_bytes());
    let proof: Vec<u8> = client_key
        .iter()
        .zip(&signature)
        .map(|(a, b)| a ^ b)
        .collect();
    let fin = authenticate(
        c,
        format!("{without_proof},p={}", STANDARD.encode(proof)).as_bytes(),
        2,
    );
    if fin.error_code == 0 {
        let server_key = hmac(h, &salted, b"Server Key");
        let expected = hmac(h, &server_key, auth_message.as_bytes());
        assert_eq!(
            fin.auth_bytes.as_ref(),
            format!("v={}", STANDARD.encode(expected)).as_bytes(),
            "the server signature proves the server knows the credential"
        );
    }
    fin
}

#[test]
fn scram_sha_256_and_512_full_exchanges() {
    let broker = sasl_broker(&[]);
    let mut admin = broker.client_of("PLAINTEXT");
    add_scram_user(&mut admin, "alice", Sha::S256, "alice-secret", 8192);
    add_scram_user(&mut admin, "bob", Sha::S512, "bob-secret", 4096);
    for (mech, h, user, pw) in [
        ("SCRAM-SHA-256", Sha::S256, "alice", "alice-secret"),
        ("SCRAM-SHA-512", Sha::S512, "bob", "bob-secret"),
    ] {
        let mut c = broker.client_of(SASL);
        let ok = scram_login(&mut c, mech, h, user, pw, false);
        assert_eq!(ok.error_code, 0, "{mech}: {:?}", ok.error_message);
        metadata_ok(&mut c);
        let failure = generic_failure(mech);
        // Wrong password, wrong nonce, unknown user, user of the other mechanism.
        for (u, p, tamper) in [
            (user, "wrong", false),
            (user, pw, true),
            ("nobody", pw, false),
        ] {
            let mut c = broker.client_of(SASL);
            let r = scram_login(&mut c, mech, h, u, p, tamper);
            assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
            assert_eq!(r.error_message.as_deref(), Some(failure.as_str()));
            assert!(c.closed_within(Duration::from_secs(5)));
        }
    }
    let mut c = broker.client_of(SASL);
    let r = scram_login(
        &mut c,
        "SCRAM-SHA-512",
        Sha::S512,
        "alice",
        "alice-secret",
        false,
    );
    assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
    // Malformed messages: channel binding, garbage, delegation tokens.
    for msg in [
        &b"y,,n=alice,r=abc"[..],
        b"\xff\xfe",
        b"n,,n=alice",
        b"n,,n=alice,r=abc,tokenauth=true",
    ] {
        let mut c = broker.client_of(SASL);
        handshake(&mut c, "SCRAM-SHA-256", 1);
        let r = authenticate(&mut c, msg, 1);
        assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED, "{msg:?}");
        assert_eq!(
            r.error_message.as_deref(),
            Some(generic_failure("SCRAM-SHA-256").as_str())
        );
    }
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "SCRAM-SHA-256", 1);
    let r = authenticate(&mut c, b"n,a=bob,n=alice,r=abc", 1);
    assert_eq!(
        r.error_message.as_deref(),
        Some("Authentication failed: Client requested an authorization id that is different from username")
    );
}

// --- OAUTHBEARER --------------------------------------------------------------------------------

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn unsecured_jwt(claims: &str) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(claims)
    )
}

fn oauth_login(c: &mut Client, token: &str) -> SaslAuthenticateResponse {
    assert_eq!(handshake(c, "OAUTHBEARER", 1).error_code, 0);
    authenticate(
        c,
        format!("n,,\x01auth=Bearer {token}\x01\x01").as_bytes(),
        2,
    )
}

/// A refused token gets the JSON error challenge; the client's %x01 then fails the exchange.
fn assert_token_refused(c: &mut Client, token: &str) {
    let r = oauth_login(c, token);
    assert_eq!(r.error_code, 0);
    assert_eq!(r.auth_bytes.as_ref(), br#"{"status":"invalid_token"}"#);
    let r = authenticate(c, b"\x01", 2);
    assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
    assert_eq!(
        r.error_message.as_deref(),
        Some(r#"{"status":"invalid_token"}"#)
    );
    assert!(c.closed_within(Duration::from_secs(5)));
}

#[test]
fn oauthbearer_unsecured_tokens() {
    let broker = sasl_broker(&[
        ("sasl.enabled.mechanisms", "PLAIN,OAUTHBEARER"),
        ("connections.max.reauth.ms", "60000"),
    ]);
    let mut c = broker.client_of(SASL);
    let exp = now_s() + 10;
    let ok = oauth_login(
        &mut c,
        &unsecured_jwt(&format!(
            r#"{{"sub":"carol","iat":{},"exp":{exp}}}"#,
            now_s()
        )),
    );
    assert_eq!(ok.error_code, 0, "{:?}", ok.error_message);
    // The session lifetime is the token's remaining lifetime, below connections.max.reauth.ms.
    assert!(
        ok.session_lifetime_ms > 7_000 && ok.session_lifetime_ms <= 10_000,
        "{}",
        ok.session_lifetime_ms
    );
    metadata_ok(&mut c);
    let mut c = broker.client_of(SASL);
    assert_token_refused(&mut c, &unsecured_jwt(r#"{"sub":"carol","exp":1000}"#));
    let mut c = broker.client_of(SASL);
    assert_token_refused(&mut c, &unsecured_jwt(&format!(r#"{{"exp":{exp}}}"#)));
    let mut c = broker.client_of(SASL);
    handshake(&mut c, "OAUTHBEARER", 1);
    let r = authenticate(&mut c, b"n,,auth=Bearer x", 1);
    assert_eq!(
        r.error_message.as_deref(),
        Some(generic_failure("OAUTHBEARER").as_str())
    );
}

fn es256_key() -> (ring::signature::EcdsaKeyPair, ring::rand::SystemRandom) {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    (key, rng)
}

fn es256_jwk(key: &ring::signature::EcdsaKeyPair, kid: &str) -> String {
    use ring::signature::KeyPair;
    let p = key.public_key().as_ref();
    format!(
        r#"{{"kty":"EC","crv":"P-256","kid":"{kid}","use":"sig","x":"{}","y":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(&p[1..33]),
        URL_SAFE_NO_PAD.encode(&p[33..65])
    )
}

fn es256_jwt(
    key: &ring::signature::EcdsaKeyPair,
    rng: &ring::rand::SystemRandom,
    kid: &str,
    claims: &str,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"ES256","typ":"JWT","kid":"{kid}"}}"#)),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = key.sign(rng, input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
}

#[test]
fn oauthbearer_es256_tokens_against_a_jwks_file() {
    let (key, rng) = es256_key();
    let (other, _) = es256_key();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, format!(r#"{{"keys":[{}]}}"#, es256_jwk(&key, "k1"))).unwrap();
    let url = format!("file://{}", jwks.display());
    let broker = sasl_broker(&[
        ("sasl.enabled.mechanisms", "OAUTHBEARER"),
        ("sasl.oauthbearer.jwks.endpoint.url", &url),
        ("sasl.oauthbearer.expected.audience", "klamm"),
        ("sasl.oauthbearer.expected.issuer", "https://idp.example"),
    ]);
    let now = now_s();
    let claims = |aud: &str, iss: &str, exp: i64| {
        format!(r#"{{"sub":"svc","aud":"{aud}","iss":"{iss}","iat":{now},"exp":{exp}}}"#)
    };
    let good = claims("klamm", "https://idp.example", now + 300);
    let mut c = broker.client_of(SASL);
    let ok = oauth_login(&mut c, &es256_jwt(&key, &rng, "k1", &good));
    assert_eq!(ok.error_code, 0, "{:?}", ok.error_message);
    metadata_ok(&mut c);
    for token in [
        es256_jwt(
            &key,
            &rng,
            "k1",
            &claims("other", "https://idp.example", now + 300),
        ),
        es256_jwt(
            &key,
            &rng,
            "k1",
            &claims("klamm", "https://evil.example", now + 300),
        ),
        es256_jwt(
            &key,
            &rng,
            "k1",
            &claims("klamm", "https://idp.example", now - 100),
        ),
        es256_jwt(&other, &rng, "k1", &good),
        es256_jwt(&other, &rng, "k2", &good),
        unsecured_jwt(&good),
    ] {
        let mut c = broker.client_of(SASL);
        assert_token_refused(&mut c, &token);
    }
    // A new key in the JWKS is picked up when a token names its unknown kid.
    std::fs::write(
        &jwks,
        format!(
            r#"{{"keys":[{},{}]}}"#,
            es256_jwk(&key, "k1"),
            es256_jwk(&other, "k3")
        ),
    )
    .unwrap();
    let mut c = broker.client_of(SASL);
    let ok = oauth_login(&mut c, &es256_jwt(&other, &rng, "k3", &good));
    assert_eq!(ok.error_code, 0, "{:?}", ok.error_message);
}

// --- Re-authentication (KIP-368) ----------------------------------------------------------------

#[test]
fn reauthentication_and_expired_sessions() {
    let broker = sasl_broker(&[("connections.max.reauth.ms", "1500")]);
    let mut c = broker.client_of(SASL);
    let ok = plain_login(&mut c, "alice", "alice-secret");
    assert_eq!(ok.session_lifetime_ms, 1500);
    metadata_ok(&mut c);
    std::thread::sleep(Duration::from_millis(1700));
    c.write_request(&MetadataRequest::default(), 12);
    assert!(
        c.closed_within(Duration::from_secs(5)),
        "an expired session closes"
    );

    // Re-authenticating in time keeps the connection.
    let mut c = broker.client_of(SASL);
    assert_eq!(plain_login(&mut c, "alice", "alice-secret").error_code, 0);
    std::thread::sleep(Duration::from_millis(1100));
    let again = plain_login(&mut c, "alice", "alice-secret");
    assert_eq!(again.error_code, 0, "{:?}", again.error_message);
    assert_eq!(again.session_lifetime_ms, 1500);
    std::thread::sleep(Duration::from_millis(700));
    metadata_ok(&mut c);

    // Another principal is refused.
    let mut c = broker.client_of(SASL);
    assert_eq!(plain_login(&mut c, "alice", "alice-secret").error_code, 0);
    std::thread::sleep(Duration::from_millis(1100));
    let r = plain_login(&mut c, "bob", "bob-secret");
    assert_eq!(r.error_code, SASL_AUTHENTICATION_FAILED);
    assert_eq!(
        r.error_message.as_deref(),
        Some("Cannot change principals during re-authentication from User.alice: User.bob")
    );
    assert!(c.closed_within(Duration::from_secs(5)));
}

// --- Sensitive settings -------------------------------------------------------------------------

#[test]
fn jaas_configs_are_sensitive_in_describe_configs_and_logs() {
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use kafka_protocol::messages::DescribeConfigsRequest;
    let broker = sasl_broker(&[("sasl.jaas.config", PLAIN_JAAS)]);
    let mut c = broker.client_of(SASL);
    assert_eq!(plain_login(&mut c, "admin", "admin-secret").error_code, 0);
    let req = DescribeConfigsRequest::default()
        .with_resources(vec![DescribeConfigsResource::default()
            .with_resource_type(4)
            .with_resource_name(s("0"))
            .with_configuration_keys(None)])
        .with_include_synonyms(true);
    let resp = c.send(&req, 4);
    let entries = &resp.results[0].configs;
    let jaas = entries
        .iter()
        .find(|e| e.name.as_str() == "sasl.jaas.config")
        .expect("sasl.jaas.config is described");
    assert_eq!(jaas.value, None);
    assert!(jaas.is_sensitive);
    assert!(jaas.synonyms.iter().all(|s| s.value.is_none()));
    let mechanisms = entries
        .iter()
        .find(|e| e.name.as_str() == "sasl.enabled.mechanisms")
        .unwrap();
    assert_eq!(
        mechanisms.value.as_deref(),
        Some("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512")
    );
    assert!(!mechanisms.is_sensitive);
    for e in entries {
        if let Some(v) = &e.value {
            assert!(!v.contains("admin-secret"), "{} shows a secret", e.name);
        }
    }
    // A failed login is logged with the peer and mechanism, never the password.
    let mut bad = broker.client_of(SASL);
    plain_login(&mut bad, "alice", "hunter2-secret");
    assert!(bad.closed_within(Duration::from_secs(5)));
    drop(c);
    let log = broker.stderr_text();
    assert!(
        log.contains("closing connection: failed authentication"),
        "{log}"
    );
    assert!(
        !log.contains("hunter2") && !log.contains("admin-secret"),
        "{log}"
    );
}

/// Serves `body` to every HTTP request on a loopback port; returns the JWKS URL.
fn serve_jwks(body: String) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            let mut req = [0u8; 4096];
            let _ = s.read(&mut req);
            let _ = write!(
                s,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}/jwks.json")
}

#[test]
fn oauthbearer_rs256_tokens_against_an_http_jwks() {
    use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
    // Our own test key (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048, then
    // openssl rsa -traditional -outform DER: PKCS#1).
    let der = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("protocol-tests/fixtures/oauth-rs256-test-key.der"),
    )
    .unwrap();
    let key = RsaKeyPair::from_der(&der).unwrap();
    let public = key.public_key();
    let n = URL_SAFE_NO_PAD.encode(ring::rsa::PublicKeyComponents::<Vec<u8>>::from(public).n);
    let e = URL_SAFE_NO_PAD.encode(ring::rsa::PublicKeyComponents::<Vec<u8>>::from(public).e);
    let url = serve_jwks(format!(
        r#"{{"keys":[{{"kty":"RSA","kid":"rsa1","alg":"RS256","n":"{n}","e":"{e}"}}]}}"#
    ));
    let broker = sasl_broker(&[
        (
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
            "OAUTHBEARER",
        ),
        (
            "listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class",
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
        ),
        ("sasl.oauthbearer.jwks.endpoint.url", &url),
        ("sasl.oauthbearer.sub.claim.name", "client_id"),
    ]);
    let rng = ring::rand::SystemRandom::new();
    let sign = |claims: &str| {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"rsa1"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig)
            .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let now = now_s();
    let mut c = broker.client_of(SASL);
    let ok = oauth_login(
        &mut c,
        &sign(&format!(
            r#"{{"client_id":"svc-a","iat":{now},"exp":{}}}"#,
            now + 60
        )),
    );
    assert_eq!(ok.error_code, 0, "{:?}", ok.error_message);
    metadata_ok(&mut c);
    // No client_id claim (the configured principal claim), or tampered payload.
    let mut c = broker.client_of(SASL);
    assert_token_refused(
        &mut c,
        &sign(&format!(
            r#"{{"sub":"svc-a","iat":{now},"exp":{}}}"#,
            now + 60
        )),
    );
    let good = sign(&format!(
        r#"{{"client_id":"svc-a","iat":{now},"exp":{}}}"#,
        now + 60
    ));
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(format!(
        r#"{{"client_id":"root","iat":{now},"exp":{}}}"#,
        now + 60
    ));
    parts[1] = &forged;
    let mut c = broker.client_of(SASL);
    assert_token_refused(&mut c, &parts.join("."));
}
