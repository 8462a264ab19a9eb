//! Kafka's security model: who a connection is (its listener, security protocol and principal),
//! and the state kept for it (SCRAM credentials). The listener and principal types here are the
//! vocabulary the front end, the SASL authenticator, the authorizer and quotas share.

pub mod acl;
pub mod dev;
pub mod listeners;
pub mod sasl;
pub mod scram;
pub mod tls;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The `authorizer.class.name` value that turns on Kafka's ACLs (KRaft's `StandardAuthorizer`).
pub const STANDARD_AUTHORIZER: &str = "org.apache.kafka.metadata.authorizer.StandardAuthorizer";

/// Kafka's `SecurityProtocol`: what a listener wraps its connections in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SecurityProtocol {
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    /// Kafka's name (`SecurityProtocol.name`).
    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    /// Parses Kafka's name, case-insensitively (`SecurityProtocol.forName`).
    pub fn from_name(s: &str) -> Option<SecurityProtocol> {
        match s.to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Some(SecurityProtocol::Plaintext),
            "SSL" => Some(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Some(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Some(SecurityProtocol::SaslSsl),
            _ => None,
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

/// One Kafka listener: a name (upper case, as Kafka keys `listener.security.protocol.map`), the
/// security protocol it speaks, where it binds and what Metadata advertises to clients that
/// connected through it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listener {
    pub name: String,
    pub protocol: SecurityProtocol,
    pub bind: SocketAddr,
    pub advertised_host: String,
    pub advertised_port: i32,
}

impl Listener {
    /// Kafka's lower-case form of the name, used in `listener.name.<name>.` prefixes.
    pub fn config_prefix_name(&self) -> String {
        self.name.to_ascii_lowercase()
    }
}

/// Kafka's `KafkaPrincipal`: a type (`User`) and a name. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KafkaPrincipal {
    pub principal_type: Arc<str>,
    pub name: Arc<str>,
}

impl KafkaPrincipal {
    /// `KafkaPrincipal.USER_TYPE`
    pub const USER_TYPE: &'static str = "User";

    pub fn user(name: &str) -> KafkaPrincipal {
        KafkaPrincipal {
            principal_type: Arc::from(Self::USER_TYPE),
            name: Arc::from(name),
        }
    }

    /// `KafkaPrincipal.ANONYMOUS`: every client of a PLAINTEXT listener, and of an SSL listener
    /// without a client certificate.
    pub fn anonymous() -> KafkaPrincipal {
        KafkaPrincipal::user("ANONYMOUS")
    }

    /// Parses `Type:name` (`SecurityUtils.parseKafkaPrincipal`): the type is everything before
    /// the first colon.
    pub fn parse(s: &str) -> Option<KafkaPrincipal> {
        let (t, n) = s.split_once(':')?;
        if t.is_empty() {
            return None;
        }
        Some(KafkaPrincipal {
            principal_type: Arc::from(t),
            name: Arc::from(n),
        })
    }
}

impl fmt::Display for KafkaPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.principal_type, self.name)
    }
}

/// Who is on the other end of a connection (Kafka's `Session` plus the listener): handed to
/// every handler through the request context. Replaced, never mutated, when SASL authentication
/// (or re-authentication) completes.
#[derive(Clone, Debug)]
pub struct Session {
    pub principal: KafkaPrincipal,
    pub listener: Arc<Listener>,
    pub client_address: IpAddr,
}

impl Session {
    /// The session a connection starts with: ANONYMOUS until TLS or SASL says otherwise.
    pub fn anonymous(listener: Arc<Listener>, client_address: IpAddr) -> Session {
        Session {
            principal: KafkaPrincipal::anonymous(),
            listener,
            client_address,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_names_round_trip() {
        for p in [
            SecurityProtocol::Plaintext,
            SecurityProtocol::Ssl,
            SecurityProtocol::SaslPlaintext,
            SecurityProtocol::SaslSsl,
        ] {
            assert_eq!(SecurityProtocol::from_name(p.name()), Some(p));
        }
        assert_eq!(
            SecurityProtocol::from_name("sasl_ssl"),
            Some(SecurityProtocol::SaslSsl)
        );
        assert_eq!(SecurityProtocol::from_name("TLS"), None);
    }

    #[test]
    fn principals_parse_at_the_first_colon() {
        let p = KafkaPrincipal::parse("User:CN=a,O=b:c").unwrap();
        assert_eq!(&*p.principal_type, "User");
        assert_eq!(&*p.name, "CN=a,O=b:c");
        assert_eq!(p.to_string(), "User:CN=a,O=b:c");
        assert_eq!(KafkaPrincipal::parse("alice"), None);
        assert_eq!(KafkaPrincipal::parse(":x"), None);
    }
}
