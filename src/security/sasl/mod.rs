//! SASL authentication on SASL_PLAINTEXT and SASL_SSL listeners, as Kafka's
//! `SaslServerAuthenticator` does it: the per-connection state machine ([`authenticator`]),
//! one SASL server per mechanism ([`plain`], [`scram`], [`oauthbearer`]), JAAS option parsing
//! ([`jaas`]), signed-token validation ([`jwt`], [`jwks`]) and the per-listener configuration
//! built at start-up ([`config`]). The transport (TLS or not) is invisible here.

pub mod authenticator;
pub mod config;
pub mod jaas;
pub mod jwks;
pub mod jwt;
pub mod oauthbearer;
pub mod plain;
pub mod scram;
pub mod unsecured;

use std::fmt;

pub use authenticator::Authenticator;
pub use config::{ListenerSasl, SaslServers};

/// A SASL mechanism Klamm serves, by its IANA name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SaslMechanism {
    Plain,
    ScramSha256,
    ScramSha512,
    OAuthBearer,
}

impl SaslMechanism {
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Mechanism names are case-sensitive in Kafka (`enabledMechanisms.contains`).
    pub fn from_name(s: &str) -> Option<SaslMechanism> {
        match s {
            "PLAIN" => Some(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Some(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Some(SaslMechanism::ScramSha512),
            "OAUTHBEARER" => Some(SaslMechanism::OAuthBearer),
            _ => None,
        }
    }

    /// The lower-case prefix of mechanism-scoped settings (`listener.name.<l>.<mech>.sasl.jaas.config`).
    pub fn config_prefix(self) -> String {
        self.name().to_ascii_lowercase()
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a SASL exchange failed, in Kafka's two kinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// `SaslAuthenticationException`: the message is sent to the client as is.
    Authentication(String),
    /// `SaslException`: the client gets only Kafka's generic "invalid credentials" message (it
    /// might tell whether a user exists); the detail is for debug logs and never holds secrets.
    Sasl(String),
}

/// A completed exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Completed {
    /// The authorization id: the principal becomes `User:<id>`.
    pub authorization_id: String,
    /// When the credential expires (ms since the epoch): an OAUTHBEARER token's `exp`
    /// (`SaslInternalConfigs.CREDENTIAL_LIFETIME_MS_SASL_NEGOTIATED_PROPERTY_KEY`).
    pub credential_expiry_ms: Option<i64>,
}

/// The result of one client token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The server's challenge or final message (may be empty).
    pub response: Vec<u8>,
    pub completed: Option<Completed>,
}

impl Step {
    fn challenge(response: Vec<u8>) -> Step {
        Step {
            response,
            completed: None,
        }
    }
}

/// Compares two secrets in time independent of where they differ (a fold over every byte);
/// lengths are compared first, as `MessageDigest.isEqual` does.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a
        .iter()
        .zip(b)
        .fold(0u8, |acc, (x, y)| acc | std::hint::black_box(x ^ y));
    diff == 0
}

/// Counts one authentication outcome: `klamm_sasl_authentications_total{mechanism,result}`
/// (Kafka's `successful-authentication-total` / `failed-authentication-total`).
pub fn record_outcome(mechanism: SaslMechanism, result: &'static str) {
    ::metrics::counter!("klamm_sasl_authentications_total",
        "mechanism" => mechanism.name(), "result" => result)
    .increment(1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanism_names_are_case_sensitive() {
        for m in [
            SaslMechanism::Plain,
            SaslMechanism::ScramSha256,
            SaslMechanism::ScramSha512,
            SaslMechanism::OAuthBearer,
        ] {
            assert_eq!(SaslMechanism::from_name(m.name()), Some(m));
        }
        assert_eq!(SaslMechanism::from_name("plain"), None);
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
