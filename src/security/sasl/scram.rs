//! SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka's `ScramSaslServer`,
//! against the credentials AlterUserScramCredentials stored ([`crate::security::scram`]).
//! Two client messages: client-first (gs2 header without channel binding, user, nonce,
//! extensions) answered with the server-first (combined nonce, salt, iterations), then
//! client-final (channel binding, nonce, proof) answered with the server signature. The
//! message grammar is Kafka's `ScramMessages` patterns.

use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use regex::Regex;
use sha2::{Digest, Sha256, Sha512};

use super::{constant_time_eq, AuthError, Completed, Step};
use crate::broker::Broker;
use crate::security::scram::{Mechanism, ScramCredential, MIN_ITERATIONS};

const SASLNAME: &str = r"(?:[\x01-\x7F&&[^=,]]|=2C|=3D)+";
const VALUE: &str = r"[\x01-\x7F&&[^,]]+";
const PRINTABLE: &str = r"[\x21-\x7E&&[^,]]+";
const BASE64: &str = r"(?:[a-zA-Z0-9/+]{4})*(?:[a-zA-Z0-9/+]{3}=|[a-zA-Z0-9/+]{2}==)?";

fn client_first_pattern() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| {
        let extensions = format!("(?:,[A-Za-z]+={VALUE})*");
        Regex::new(&format!(
            "^n,(?:a=(?P<authzid>{SASLNAME}))?,(?P<bare>(?:m={VALUE},)?n=(?P<saslname>{SASLNAME}),r=(?P<nonce>{PRINTABLE})(?P<extensions>{extensions}))$"
        ))
        .unwrap_or_else(|e| panic!("SCRAM client-first pattern: {e}"))
    })
}

fn client_final_pattern() -> &'static Regex {
    static P: OnceLock<Regex> = OnceLock::new();
    P.get_or_init(|| {
        let extensions = format!("(?:,[A-Za-z]+={VALUE})*");
        Regex::new(&format!(
            "^(?P<without_proof>c=(?P<channel>{BASE64}),r=(?P<nonce>{PRINTABLE}){extensions}),p=(?P<proof>{BASE64})$"
        ))
        .unwrap_or_else(|e| panic!("SCRAM client-final pattern: {e}"))
    })
}

/// `ScramFormatter.username`: `=2C` and `=3D` decoded.
fn username(saslname: &str) -> String {
    saslname.replace("=2C", ",").replace("=3D", "=")
}

/// A fresh server nonce: 32 alphanumeric characters from the OS random source
/// (`ScramFormatter.secureRandomString` is a base-36 rendering of 130 random bits).
fn server_nonce() -> Result<String, AuthError> {
    use ring::rand::SecureRandom;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut bytes = [0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| {
            AuthError::Sasl("Authentication failed: Credentials could not be obtained".into())
        })?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect())
}

fn hmac(m: Mechanism, key: &[u8], data: &[u8]) -> Vec<u8> {
    macro_rules! mac {
        ($h:ty) => {{
            match <Hmac<$h> as KeyInit>::new_from_slice(key) {
                Ok(mut mac) => {
                    mac.update(data);
                    mac.finalize().into_bytes().to_vec()
                }
                // HMAC takes keys of any length; unreachable, and an empty result fails the proof.
                Err(_) => Vec::new(),
            }
        }};
    }
    match m {
        Mechanism::Sha256 => mac!(Sha256),
        Mechanism::Sha512 => mac!(Sha512),
    }
}

fn hash(m: Mechanism, data: &[u8]) -> Vec<u8> {
    match m {
        Mechanism::Sha256 => Sha256::digest(data).to_vec(),
        Mechanism::Sha512 => Sha512::digest(data).to_vec(),
    }
}

enum State {
    ReceiveClientFirst,
    ReceiveClientFinal {
        client_first_bare: String,
        server_first: String,
        nonce: String,
        credential: ScramCredential,
        authorization_id: String,
    },
    Done,
}

/// One SCRAM exchange.
pub struct ScramServer {
    mechanism: Mechanism,
    broker: Arc<Broker>,
    state: State,
}

impl ScramServer {
    pub fn new(mechanism: Mechanism, broker: Arc<Broker>) -> ScramServer {
        ScramServer {
            mechanism,
            broker,
            state: State::ReceiveClientFirst,
        }
    }

    /// `ScramSaslServer.evaluateResponse`. Any error ends the exchange.
    pub fn evaluate(&mut self, token: &[u8]) -> Result<Step, AuthError> {
        let state = std::mem::replace(&mut self.state, State::Done);
        match state {
            State::ReceiveClientFirst => self.client_first(token),
            State::ReceiveClientFinal {
                client_first_bare,
                server_first,
                nonce,
                credential,
                authorization_id,
            } => self.client_final(
                token,
                &client_first_bare,
                &server_first,
                &nonce,
                &credential,
                authorization_id,
            ),
            State::Done => Err(AuthError::Sasl(
                "Unexpected challenge in Sasl server state COMPLETE".into(),
            )),
        }
    }

    fn client_first(&mut self, token: &[u8]) -> Result<Step, AuthError> {
        let msg = std::str::from_utf8(token)
            .map_err(|_| AuthError::Sasl("Invalid SCRAM client first message format".into()))?;
        let caps = client_first_pattern()
            .captures(msg)
            .ok_or_else(|| AuthError::Sasl("Invalid SCRAM client first message format".into()))?;
        let group = |n: &str| caps.name(n).map(|m| m.as_str()).unwrap_or("");
        let extensions: Vec<(&str, &str)> = group("extensions")
            .split(',')
            .filter(|s| !s.is_empty())
            .filter_map(|kv| kv.split_once('='))
            .collect();
        let user = username(group("saslname"));
        // Delegation tokens (`tokenauth=true`) are not supported: no token owner is found,
        // as in a Kafka broker without the token.
        if extensions
            .iter()
            .any(|(k, v)| *k == "tokenauth" && v.eq_ignore_ascii_case("true"))
        {
            return Err(AuthError::Sasl(
                "Token Authentication failed: Invalid tokenId".into(),
            ));
        }
        let server_nonce = server_nonce()?;
        let Some(credential) = self.broker.scram.credential(&user, self.mechanism) else {
            return Err(AuthError::Sasl(
                "Authentication failed: Invalid user credentials".into(),
            ));
        };
        let authzid = username(group("authzid"));
        if !authzid.is_empty() && authzid != user {
            return Err(AuthError::Authentication(
                "Authentication failed: Client requested an authorization id that is different from username".into(),
            ));
        }
        if credential.iterations < MIN_ITERATIONS {
            return Err(AuthError::Sasl(format!(
                "Iterations {} is less than the minimum {MIN_ITERATIONS}",
                credential.iterations
            )));
        }
        let nonce = format!("{}{server_nonce}", group("nonce"));
        let server_first = format!(
            "r={nonce},s={},i={}",
            STANDARD.encode(&credential.salt),
            credential.iterations
        );
        let response = server_first.clone().into_bytes();
        self.state = State::ReceiveClientFinal {
            client_first_bare: group("bare").to_string(),
            server_first,
            nonce,
            credential,
            authorization_id: user,
        };
        Ok(Step::challenge(response))
    }

    fn client_final(
        &self,
        token: &[u8],
        client_first_bare: &str,
        server_first: &str,
        nonce: &str,
        credential: &ScramCredential,
        authorization_id: String,
    ) -> Result<Step, AuthError> {
        let msg = std::str::from_utf8(token)
            .map_err(|_| AuthError::Sasl("Invalid SCRAM client final message format".into()))?;
        let caps = client_final_pattern()
            .captures(msg)
            .ok_or_else(|| AuthError::Sasl("Invalid SCRAM client final message format".into()))?;
        let group = |n: &str| caps.name(n).map(|m| m.as_str()).unwrap_or("");
        if group("nonce") != nonce {
            return Err(AuthError::Sasl(
                "Invalid client nonce in the final client message.".into(),
            ));
        }
        let proof = STANDARD
            .decode(group("proof"))
            .map_err(|_| AuthError::Sasl("Invalid client credentials".into()))?;
        let auth_message = format!(
            "{client_first_bare},{server_first},{}",
            group("without_proof")
        );
        let m = self.mechanism;
        let client_signature = hmac(m, &credential.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(AuthError::Sasl("Invalid client credentials".into()));
        }
        let client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        if !constant_time_eq(&hash(m, &client_key), &credential.stored_key) {
            return Err(AuthError::Sasl("Invalid client credentials".into()));
        }
        let server_signature = hmac(m, &credential.server_key, auth_message.as_bytes());
        Ok(Step {
            response: format!("v={}", STANDARD.encode(server_signature)).into_bytes(),
            completed: Some(Completed {
                authorization_id,
                credential_expiry_ms: None,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_accept_clients_and_refuse_channel_binding() {
        let p = client_first_pattern();
        assert!(p.is_match("n,,n=alice,r=abc"));
        assert!(p.is_match("n,a=alice,n=alice,r=abc,tokenauth=true"));
        assert!(p.is_match("n,,n=a=2Cb,r=abc"));
        assert!(!p.is_match("y,,n=alice,r=abc"));
        assert!(!p.is_match("p=tls-unique,,n=alice,r=abc"));
        assert!(!p.is_match("n,,n=,r=abc"));
        assert!(!p.is_match("n,,n=al=ice,r=abc"));
        let caps = p.captures("n,,n=a=2Cb=3Dc,r=xyz").unwrap();
        assert_eq!(username(&caps["saslname"]), "a,b=c");
        assert_eq!(&caps["bare"], "n=a=2Cb=3Dc,r=xyz");
        let f = client_final_pattern();
        let caps = f.captures("c=biws,r=abcdef,p=dGVzdA==").unwrap();
        assert_eq!(&caps["without_proof"], "c=biws,r=abcdef");
        assert!(!f.is_match("c=biws,r=abc"));
        assert!(!f.is_match("c=biws,r=abc,p=!!"));
    }

    #[test]
    fn nonces_differ() {
        let a = server_nonce().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, server_nonce().unwrap());
    }
}
