//! Each SASL listener's authentication settings, resolved and checked once at start-up, so a
//! bad mechanism list or JAAS config stops the broker with a clear message instead of failing
//! clients later. Listener-prefixed forms win over broker-wide ones, as in Kafka:
//! `listener.name.<l>.sasl.enabled.mechanisms`, `listener.name.<l>.<mechanism>.sasl.jaas.config`
//! (then `listener.name.<l>.sasl.jaas.config`, then `sasl.jaas.config`), and
//! `listener.name.<l>.oauthbearer.sasl.server.callback.handler.class`.
//!
//! OAUTHBEARER validation: signed JWTs against the JWKS when the callback handler class is
//! Kafka's `OAuthBearerValidatorCallbackHandler` (either package) or, with no handler class,
//! when `sasl.oauthbearer.jwks.endpoint.url` is set; otherwise Kafka's unsecured validator.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::jaas::{self, LoginModule};
use super::jwks::{JwksCache, JwksSource, SignedValidator};
use super::oauthbearer::OAuthValidator;
use super::plain::PlainUsers;
use super::unsecured::UnsecuredOptions;
use super::SaslMechanism;
use crate::security::Listener;
use crate::settings::Settings;

/// `OAuthBearerLoginModule`'s class name, whose options configure the unsecured validator.
const OAUTHBEARER_LOGIN_MODULE: &str =
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
/// The signed-JWT validator's class names (Kafka 3.x and 4.x packages).
const SECURED_HANDLERS: &[&str] = &[
    "org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler",
    "org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler",
];
const UNSECURED_HANDLER: &str =
    "org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler";

/// One SASL listener's authentication settings.
pub struct ListenerSasl {
    /// `sasl.enabled.mechanisms`, in the configured order (the SaslHandshake answer).
    pub mechanisms: Vec<SaslMechanism>,
    pub plain_users: Arc<PlainUsers>,
    pub oauth: Option<Arc<OAuthValidator>>,
    /// `sasl.server.max.receive.size`
    pub max_receive_size: usize,
    /// `connections.max.reauth.ms` (0: off)
    pub max_reauth_ms: i64,
}

/// The SASL settings of every SASL listener, by listener name.
#[derive(Default)]
pub struct SaslServers {
    by_listener: HashMap<String, Arc<ListenerSasl>>,
}

impl SaslServers {
    /// Resolves every SASL listener's settings; `Err` is a start-up error.
    pub fn build(settings: &Settings, listeners: &[Arc<Listener>]) -> Result<SaslServers, String> {
        let mut by_listener = HashMap::new();
        for l in listeners.iter().filter(|l| l.protocol.uses_sasl()) {
            by_listener.insert(l.name.clone(), Arc::new(build_listener(settings, &l.name)?));
        }
        Ok(SaslServers { by_listener })
    }

    /// The settings of a SASL listener; `None` for PLAINTEXT and SSL listeners.
    pub fn for_listener(&self, listener: &Listener) -> Option<Arc<ListenerSasl>> {
        if !listener.protocol.uses_sasl() {
            return None;
        }
        self.by_listener.get(&listener.name).cloned()
    }
}

/// The JAAS entries that apply to `mechanism` on `listener`.
fn jaas_modules(
    settings: &Settings,
    listener: &str,
    mechanism: SaslMechanism,
) -> Result<Vec<LoginModule>, String> {
    let scoped = format!("{}.sasl.jaas.config", mechanism.config_prefix());
    let (key, raw) = match settings.listener_value(listener, &scoped) {
        Some(v) => (scoped, v),
        None => match settings.listener_value(listener, "sasl.jaas.config") {
            Some(v) => ("sasl.jaas.config".to_string(), v),
            None => return Ok(Vec::new()),
        },
    };
    jaas::parse_one(&raw)
        .map(|m| vec![m])
        .map_err(|e| format!("listener {listener}: invalid {key}: {e}"))
}

fn build_listener(settings: &Settings, listener: &str) -> Result<ListenerSasl, String> {
    let raw = settings
        .listener_value(listener, "sasl.enabled.mechanisms")
        .unwrap_or_default();
    let mut mechanisms = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let m = match SaslMechanism::from_name(name) {
            Some(m) => m,
            None if name == "GSSAPI" => {
                return Err(format!(
                    "listener {listener}: sasl.enabled.mechanisms lists GSSAPI (Kerberos), which Klamm does not serve; enable PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER"
                ))
            }
            None => {
                return Err(format!(
                    "listener {listener}: sasl.enabled.mechanisms lists unknown SASL mechanism {name:?}; Klamm serves PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER"
                ))
            }
        };
        if !mechanisms.contains(&m) {
            mechanisms.push(m);
        }
    }
    if mechanisms.is_empty() {
        return Err(format!(
            "listener {listener}: sasl.enabled.mechanisms is empty; a SASL listener needs at least one mechanism"
        ));
    }
    let mut plain_users = PlainUsers::from_modules(&[]);
    let mut oauth = None;
    for m in &mechanisms {
        let modules = jaas_modules(settings, listener, *m)?;
        match m {
            SaslMechanism::Plain => plain_users = PlainUsers::from_modules(&modules),
            SaslMechanism::OAuthBearer => {
                oauth = Some(Arc::new(oauth_validator(settings, listener, &modules)?))
            }
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {}
        }
    }
    Ok(ListenerSasl {
        mechanisms,
        plain_users: Arc::new(plain_users),
        oauth,
        max_receive_size: settings.i32("sasl.server.max.receive.size").max(1) as usize,
        max_reauth_ms: settings
            .listener_value(listener, "connections.max.reauth.ms")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0),
    })
}

fn oauth_validator(
    settings: &Settings,
    listener: &str,
    modules: &[LoginModule],
) -> Result<OAuthValidator, String> {
    let handler = settings
        .listener_value(listener, "oauthbearer.sasl.server.callback.handler.class")
        .or_else(|| settings.listener_value(listener, "sasl.server.callback.handler.class"));
    let url = settings
        .listener_value(listener, "oauthbearer.sasl.oauthbearer.jwks.endpoint.url")
        .or_else(|| settings.listener_value(listener, "sasl.oauthbearer.jwks.endpoint.url"));
    let signed = match handler.as_deref().map(str::trim) {
        None | Some("") => url.is_some(),
        Some(h) if SECURED_HANDLERS.contains(&h) => true,
        Some(UNSECURED_HANDLER) => false,
        Some(h) => {
            return Err(format!(
                "listener {listener}: OAUTHBEARER callback handler class {h} is not available in Klamm; use {} (signed JWTs with a JWKS) or leave it unset (unsecured JWTs)",
                SECURED_HANDLERS[0]
            ))
        }
    };
    if !signed {
        let options = modules
            .iter()
            .find(|m| m.class == OAUTHBEARER_LOGIN_MODULE)
            .map(|m| m.options.clone())
            .unwrap_or_default();
        let o = UnsecuredOptions::from_options(&options)
            .map_err(|e| format!("listener {listener}: {e}"))?;
        return Ok(OAuthValidator::Unsecured(o));
    }
    let Some(url) = url else {
        return Err(format!(
            "listener {listener}: the OAUTHBEARER validator needs sasl.oauthbearer.jwks.endpoint.url"
        ));
    };
    let source = JwksSource::parse(url.trim()).map_err(|e| format!("listener {listener}: {e}"))?;
    let get = |name: &str| {
        settings
            .listener_value(listener, &format!("oauthbearer.{name}"))
            .or_else(|| settings.listener_value(listener, name))
    };
    let refresh_ms = get("sasl.oauthbearer.jwks.endpoint.refresh.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(3_600_000)
        .max(1);
    let jwks = JwksCache::new(source, Duration::from_millis(refresh_ms));
    jwks.spawn_refresh();
    let audience = get("sasl.oauthbearer.expected.audience").map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
    });
    Ok(OAuthValidator::Signed(SignedValidator {
        jwks,
        expected_audience: audience.filter(|a| !a.is_empty()),
        expected_issuer: get("sasl.oauthbearer.expected.issuer").filter(|s| !s.is_empty()),
        sub_claim: get("sasl.oauthbearer.sub.claim.name").unwrap_or_else(|| "sub".into()),
        scope_claim: get("sasl.oauthbearer.scope.claim.name").unwrap_or_else(|| "scope".into()),
        clock_skew_ms: get("sasl.oauthbearer.clock.skew.seconds")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(30)
            .max(0)
            * 1000,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::SecurityProtocol;
    use crate::settings::Overrides;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let cli = Overrides {
            overrides: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        };
        Settings::load(&cli).unwrap()
    }

    fn listener(name: &str) -> Vec<Arc<Listener>> {
        vec![Arc::new(Listener {
            name: name.into(),
            protocol: SecurityProtocol::SaslPlaintext,
            bind: "127.0.0.1:0".parse().unwrap(),
            advertised_host: "localhost".into(),
            advertised_port: 0,
        })]
    }

    fn build(pairs: &[(&str, &str)]) -> Result<SaslServers, String> {
        SaslServers::build(&settings(pairs), &listener("SASL_PLAINTEXT"))
    }

    #[test]
    fn mechanisms_default_and_refusals() {
        let s = build(&[]).unwrap();
        let l = s.by_listener["SASL_PLAINTEXT"].clone();
        assert_eq!(
            l.mechanisms,
            [
                SaslMechanism::Plain,
                SaslMechanism::ScramSha256,
                SaslMechanism::ScramSha512
            ]
        );
        assert!(l.oauth.is_none());
        assert_eq!(l.max_receive_size, 524288);
        let e = build(&[("sasl.enabled.mechanisms", "PLAIN,GSSAPI")])
            .err()
            .unwrap();
        assert!(e.contains("GSSAPI"), "{e}");
        let e = build(&[("sasl.enabled.mechanisms", "CRAM-MD5")])
            .err()
            .unwrap();
        assert!(e.contains("unknown SASL mechanism \"CRAM-MD5\""), "{e}");
        let s = build(&[
            ("sasl.enabled.mechanisms", "GSSAPI"),
            (
                "listener.name.sasl_plaintext.sasl.enabled.mechanisms",
                "OAUTHBEARER",
            ),
        ])
        .unwrap();
        assert!(s.by_listener["SASL_PLAINTEXT"].oauth.is_some());
    }

    #[test]
    fn jaas_errors_name_the_setting() {
        let e = build(&[(
            "listener.name.sasl_plaintext.plain.sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"b\"",
        )])
        .err()
        .unwrap();
        assert_eq!(
            e,
            "listener SASL_PLAINTEXT: invalid plain.sasl.jaas.config: JAAS config entry not terminated by semi-colon"
        );
        assert!(e.find("\"b\"").is_none());
    }

    #[test]
    fn oauth_validator_choice() {
        let e = build(&[
            ("sasl.enabled.mechanisms", "OAUTHBEARER"),
            ("sasl.oauthbearer.jwks.endpoint.url", "https://idp/jwks"),
        ])
        .err()
        .unwrap();
        assert!(e.contains("https://"), "{e}");
        let e = build(&[
            ("sasl.enabled.mechanisms", "OAUTHBEARER"),
            (
                "listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class",
                SECURED_HANDLERS[1],
            ),
        ])
        .err()
        .unwrap();
        assert!(e.contains("jwks.endpoint.url"), "{e}");
        let e = build(&[
            ("sasl.enabled.mechanisms", "OAUTHBEARER"),
            ("sasl.server.callback.handler.class", "com.example.Custom"),
        ])
        .err()
        .unwrap();
        assert!(e.contains("com.example.Custom"), "{e}");
    }
}
