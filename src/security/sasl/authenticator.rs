//! The per-connection SASL state machine, Kafka's `SaslServerAuthenticator` plus the
//! re-authentication rules of `KafkaChannel` and `SocketServer` (KIP-368).
//!
//! On a SASL listener a connection starts unauthenticated: it may send ApiVersions (once) and
//! then must send SaslHandshake; any other request closes it without a response ("Unexpected
//! Kafka request of type X during SASL handshake."). A v1 handshake is followed by
//! SaslAuthenticate requests, a v0 handshake by raw length-prefixed SASL tokens without a
//! Kafka header (KIP-43, KIP-152). Until authentication completes, frames are limited to
//! `sasl.server.max.receive.size`. A failed exchange answers SASL_AUTHENTICATION_FAILED (v1)
//! and closes the connection; success replaces the connection's session with one whose
//! principal is `User:<authorization id>`.
//!
//! With `connections.max.reauth.ms` > 0 the SaslAuthenticate answer carries the session
//! lifetime (at most an OAUTHBEARER token's remaining lifetime); a client that used
//! SaslAuthenticate v1+ may re-authenticate with SaslHandshake + SaslAuthenticate (same
//! mechanism, same principal), and once the session has expired any other request closes the
//! connection. On PLAINTEXT and SSL listeners SaslHandshake and SaslAuthenticate get Kafka's
//! ILLEGAL_SASL_STATE answers from the request handlers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiKey, RequestKind, ResponseKind, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::ResponseError;
use tracing::{debug, info};

use super::config::ListenerSasl;
use super::oauthbearer::OAuthServer;
use super::plain;
use super::scram::ScramServer;
use super::{record_outcome, AuthError, SaslMechanism, Step};
use crate::broker::Broker;
use crate::security::scram::Mechanism as ScramMechanism;
use crate::security::{KafkaPrincipal, Session};

/// `KafkaChannel.MIN_REAUTH_INTERVAL_ONE_SECOND_NANOS`
const MIN_REAUTH_INTERVAL: Duration = Duration::from_secs(1);

/// One mechanism's server side of an exchange.
enum MechanismServer {
    Plain(Arc<plain::PlainUsers>),
    Scram(Box<ScramServer>),
    OAuth(OAuthServer),
}

impl MechanismServer {
    async fn evaluate(&mut self, token: &[u8]) -> Result<Step, AuthError> {
        match self {
            MechanismServer::Plain(users) => plain::evaluate(users, token),
            MechanismServer::Scram(s) => s.evaluate(token),
            MechanismServer::OAuth(s) => s.evaluate(token).await,
        }
    }
}

enum State {
    /// Nothing received yet: ApiVersions or SaslHandshake.
    Initial,
    /// ApiVersions answered: SaslHandshake next.
    HandshakeRequest,
    /// Mechanism chosen; tokens arrive in SaslAuthenticate requests or, after a v0
    /// handshake, raw.
    Authenticate {
        mechanism: SaslMechanism,
        server: MechanismServer,
        raw: bool,
    },
    /// Authenticated (and the state of every connection on a non-SASL listener).
    Complete,
}

/// What the connection does with a decoded request.
#[derive(Debug, PartialEq, Eq)]
pub enum Gate {
    /// The ordinary request handlers answer it.
    Pass,
    /// [`Authenticator::handle`] answers it.
    Sasl,
    /// Close the connection without a response; the reason is for the log.
    Close(String),
}

/// The authenticated identity, kept for re-authentication checks.
struct Authenticated {
    mechanism: SaslMechanism,
    principal: KafkaPrincipal,
}

/// One connection's authenticator.
pub struct Authenticator {
    broker: Arc<Broker>,
    config: Option<Arc<ListenerSasl>>,
    state: State,
    /// The frame size the connection's reader accepts now.
    frame_limit: Arc<AtomicUsize>,
    max_request_bytes: usize,
    authenticated: Option<Authenticated>,
    /// Set while a re-authentication is in progress.
    reauthenticating: bool,
    client_supports_reauth: bool,
    session_expires: Option<Instant>,
    last_reauth_start: Option<Instant>,
}

/// A SaslHandshake/SaslAuthenticate answer and whether the connection closes after it.
pub struct Answer {
    pub response: ResponseKind,
    pub close_after: bool,
}

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

impl Authenticator {
    /// The authenticator of a connection accepted on a listener with `config` (`None` for
    /// PLAINTEXT and SSL listeners) and the frame limit its reader must apply.
    pub fn new(
        broker: Arc<Broker>,
        config: Option<Arc<ListenerSasl>>,
        max_request_bytes: usize,
    ) -> (Authenticator, Arc<AtomicUsize>) {
        let (state, limit) = match &config {
            Some(c) => (State::Initial, c.max_receive_size),
            None => (State::Complete, max_request_bytes),
        };
        let frame_limit = Arc::new(AtomicUsize::new(limit));
        (
            Authenticator {
                broker,
                config,
                state,
                frame_limit: frame_limit.clone(),
                max_request_bytes,
                authenticated: None,
                reauthenticating: false,
                client_supports_reauth: false,
                session_expires: None,
                last_reauth_start: None,
            },
            frame_limit,
        )
    }

    /// True when the next frame is a raw SASL token (after a v0 SaslHandshake).
    pub fn expects_raw_token(&self) -> bool {
        matches!(self.state, State::Authenticate { raw: true, .. })
    }

    fn text(&self) -> &'static str {
        if self.reauthenticating {
            "re-authentication"
        } else {
            "authentication"
        }
    }

    /// Decides who answers a request of `api`, and whether the connection must close first.
    pub fn gate(&mut self, api: ApiKey) -> Gate {
        if self.config.is_none() {
            return Gate::Pass;
        }
        match &self.state {
            State::Initial => match api {
                ApiKey::ApiVersions => {
                    self.state = State::HandshakeRequest;
                    Gate::Pass
                }
                ApiKey::SaslHandshake => Gate::Sasl,
                other => Gate::Close(format!(
                    "Unexpected Kafka request of type {} during SASL handshake.",
                    api_name(other)
                )),
            },
            State::HandshakeRequest => match api {
                ApiKey::SaslHandshake => Gate::Sasl,
                other => Gate::Close(format!(
                    "Unexpected Kafka request of type {} during SASL handshake.",
                    api_name(other)
                )),
            },
            State::Authenticate { .. } => match api {
                ApiKey::SaslAuthenticate => Gate::Sasl,
                other => Gate::Close(format!(
                    "Unexpected Kafka request of type {} during SASL {}.",
                    api_name(other),
                    self.text()
                )),
            },
            State::Complete => {
                let now = Instant::now();
                if api == ApiKey::SaslHandshake
                    && self.client_supports_reauth
                    && self
                        .last_reauth_start
                        .is_none_or(|t| now.duration_since(t) >= MIN_REAUTH_INTERVAL)
                {
                    self.last_reauth_start = Some(now);
                    self.reauthenticating = true;
                    return Gate::Sasl;
                }
                if self.session_expires.is_some_and(|t| now >= t) {
                    return Gate::Close(format!(
                        "the authenticated session expired (connections.max.reauth.ms) and {} is not a re-authentication",
                        api_name(api)
                    ));
                }
                Gate::Pass
            }
        }
    }

    /// Answers a SaslHandshake or SaslAuthenticate that [`Authenticator::gate`] routed here.
    pub async fn handle(
        &mut self,
        version: i16,
        body: RequestKind,
        peer: std::net::SocketAddr,
        session: &mut Arc<Session>,
    ) -> Option<Answer> {
        match body {
            RequestKind::SaslHandshake(r) => Some(self.handshake(version, r, peer)),
            RequestKind::SaslAuthenticate(r) => {
                Some(self.authenticate(version, r, peer, session).await)
            }
            _ => None,
        }
    }

    fn handshake(
        &mut self,
        version: i16,
        r: SaslHandshakeRequest,
        peer: std::net::SocketAddr,
    ) -> Answer {
        let Some(config) = self.config.clone() else {
            return Answer {
                response: ResponseKind::SaslHandshake(
                    crate::handlers::sasl::illegal_state_handshake(),
                ),
                close_after: false,
            };
        };
        let enabled: Vec<StrBytes> = config.mechanisms.iter().map(|m| sb(m.name())).collect();
        let requested = SaslMechanism::from_name(r.mechanism.as_str())
            .filter(|m| config.mechanisms.contains(m));
        let Some(mechanism) = requested else {
            info!(%peer, mechanism = %r.mechanism.as_str().escape_debug(),
                "closing connection: unsupported SASL mechanism");
            return Answer {
                response: ResponseKind::SaslHandshake(
                    SaslHandshakeResponse::default()
                        .with_error_code(ResponseError::UnsupportedSaslMechanism.code())
                        .with_mechanisms(enabled),
                ),
                close_after: true,
            };
        };
        let ok =
            ResponseKind::SaslHandshake(SaslHandshakeResponse::default().with_mechanisms(enabled));
        if let Some(prev) = self
            .authenticated
            .as_ref()
            .filter(|_| self.reauthenticating)
        {
            if prev.mechanism != mechanism {
                // Kafka's REAUTH_BAD_MECHANISM: the handshake is answered, then the exchange fails.
                info!(%peer, mechanism = %mechanism, previous = %prev.mechanism,
                    "closing connection: SASL mechanism '{}' requested by client is not supported for re-authentication of mechanism '{}'",
                    mechanism, prev.mechanism);
                record_outcome(mechanism, "failure");
                return Answer {
                    response: ok,
                    close_after: true,
                };
            }
        }
        let server = match mechanism {
            SaslMechanism::Plain => MechanismServer::Plain(config.plain_users.clone()),
            SaslMechanism::ScramSha256 => MechanismServer::Scram(Box::new(ScramServer::new(
                ScramMechanism::Sha256,
                self.broker.clone(),
            ))),
            SaslMechanism::ScramSha512 => MechanismServer::Scram(Box::new(ScramServer::new(
                ScramMechanism::Sha512,
                self.broker.clone(),
            ))),
            SaslMechanism::OAuthBearer => match &config.oauth {
                Some(v) => MechanismServer::OAuth(OAuthServer::new(v.clone())),
                None => {
                    return Answer {
                        response: ResponseKind::SaslHandshake(
                            SaslHandshakeResponse::default()
                                .with_error_code(ResponseError::UnsupportedSaslMechanism.code()),
                        ),
                        close_after: true,
                    }
                }
            },
        };
        debug!(%peer, %mechanism, version, "SASL handshake");
        self.state = State::Authenticate {
            mechanism,
            server,
            raw: version == 0,
        };
        self.frame_limit
            .store(config.max_receive_size, Ordering::Relaxed);
        Answer {
            response: ok,
            close_after: false,
        }
    }

    /// Kafka's message for a `SaslException`: nothing about the user or the credential.
    fn generic_failure(&self, mechanism: SaslMechanism) -> String {
        format!(
            "Authentication failed during {} due to invalid credentials with SASL mechanism {}",
            self.text(),
            mechanism
        )
    }

    /// Runs one token through the mechanism; `Ok((response, lifetime_ms))` or the message.
    async fn evaluate(
        &mut self,
        token: &[u8],
        peer: std::net::SocketAddr,
        session: &mut Arc<Session>,
    ) -> Result<(Vec<u8>, i64), (SaslMechanism, String)> {
        let State::Authenticate {
            mechanism, server, ..
        } = &mut self.state
        else {
            return Err((
                SaslMechanism::Plain,
                "SaslAuthenticate outside an exchange".into(),
            ));
        };
        let mechanism = *mechanism;
        let step = match server.evaluate(token).await {
            Ok(s) => s,
            Err(AuthError::Authentication(m)) => return Err((mechanism, m)),
            Err(AuthError::Sasl(detail)) => {
                debug!(%peer, %mechanism, "SASL exchange failed: {detail}");
                return Err((mechanism, self.generic_failure(mechanism)));
            }
        };
        let Some(done) = step.completed else {
            return Ok((step.response, 0));
        };
        let principal = KafkaPrincipal::user(&done.authorization_id);
        if self.reauthenticating {
            if let Some(prev) = &self.authenticated {
                if prev.principal != principal {
                    return Err((
                        mechanism,
                        format!(
                            "Cannot change principals during re-authentication from {}.{}: {}.{}",
                            prev.principal.principal_type,
                            prev.principal.name,
                            principal.principal_type,
                            principal.name
                        ),
                    ));
                }
            }
        }
        // `ReauthInfo.calcCompletionTimesAndReturnSessionLifetimeMs`, with re-authentication on.
        let max_reauth = self.config.as_ref().map(|c| c.max_reauth_ms).unwrap_or(0);
        let lifetime_ms = if max_reauth > 0 {
            let now = crate::broker::now_ms();
            let l = match done.credential_expiry_ms {
                Some(exp) => (exp.saturating_sub(now)).min(max_reauth),
                None => max_reauth,
            };
            l.max(0)
        } else {
            0
        };
        self.session_expires =
            (max_reauth > 0).then(|| Instant::now() + Duration::from_millis(lifetime_ms as u64));
        info!(%peer, %mechanism, principal = %principal, text = self.text(), "SASL authentication succeeded");
        record_outcome(mechanism, "success");
        *session = Arc::new(Session {
            principal: principal.clone(),
            listener: session.listener.clone(),
            client_address: session.client_address,
        });
        self.authenticated = Some(Authenticated {
            mechanism,
            principal,
        });
        self.reauthenticating = false;
        self.state = State::Complete;
        self.frame_limit
            .store(self.max_request_bytes, Ordering::Relaxed);
        Ok((step.response, lifetime_ms))
    }

    async fn authenticate(
        &mut self,
        version: i16,
        r: SaslAuthenticateRequest,
        peer: std::net::SocketAddr,
        session: &mut Arc<Session>,
    ) -> Answer {
        if !matches!(self.state, State::Authenticate { raw: false, .. }) {
            // A SaslAuthenticate outside an exchange (KafkaApis.handleSaslAuthenticateRequest).
            return Answer {
                response: ResponseKind::SaslAuthenticate(
                    crate::handlers::sasl::illegal_state_authenticate(),
                ),
                close_after: false,
            };
        }
        self.client_supports_reauth |= version > 0;
        match self.evaluate(&r.auth_bytes, peer, session).await {
            Ok((response, lifetime)) => Answer {
                response: ResponseKind::SaslAuthenticate(
                    SaslAuthenticateResponse::default()
                        .with_auth_bytes(Bytes::from(response))
                        .with_session_lifetime_ms(lifetime),
                ),
                close_after: false,
            },
            Err((mechanism, message)) => {
                info!(%peer, %mechanism, "closing connection: failed {} ({message})", self.text());
                record_outcome(mechanism, "failure");
                Answer {
                    response: ResponseKind::SaslAuthenticate(
                        SaslAuthenticateResponse::default()
                            .with_error_code(ResponseError::SaslAuthenticationFailed.code())
                            .with_error_message(Some(sb(&message))),
                    ),
                    close_after: true,
                }
            }
        }
    }

    /// Handles a raw token (after a v0 handshake): `Ok` holds the size-prefixed answer, `Err`
    /// closes the connection (the v0 protocol has no error response).
    pub async fn raw_token(
        &mut self,
        token: Bytes,
        peer: std::net::SocketAddr,
        session: &mut Arc<Session>,
    ) -> Result<Bytes, ()> {
        match self.evaluate(&token, peer, session).await {
            Ok((response, _)) => {
                let mut out = BytesMut::with_capacity(4 + response.len());
                out.put_i32(response.len() as i32);
                out.put_slice(&response);
                Ok(out.freeze())
            }
            Err((mechanism, message)) => {
                info!(%peer, %mechanism, "closing connection: failed {} ({message})", self.text());
                record_outcome(mechanism, "failure");
                Err(())
            }
        }
    }
}

/// Kafka's `ApiKeys` enum name (`SaslServerAuthenticator` messages print it).
fn api_name(api: ApiKey) -> String {
    let camel = format!("{api:?}");
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_names_are_kafkas() {
        assert_eq!(api_name(ApiKey::Metadata), "METADATA");
        assert_eq!(api_name(ApiKey::SaslHandshake), "SASL_HANDSHAKE");
        assert_eq!(api_name(ApiKey::ApiVersions), "API_VERSIONS");
    }
}
