//! SASL/OAUTHBEARER (RFC 7628, KIP-255) as Kafka's `OAuthBearerSaslServer`: the client initial
//! response `n,[a=authzid],^Aauth=Bearer <token>^A[key=value^A]*^A` (extensions are accepted
//! and ignored, as no extension validator is configured). A token the validator refuses is
//! answered, as RFC 7628 says, with a JSON error challenge (`{"status":"invalid_token"}`); the
//! client replies with a single %x01 and the exchange then fails with that JSON as the message.

use std::sync::Arc;

use super::jwks::SignedValidator;
use super::jwt::{TokenError, ValidatedToken};
use super::unsecured::{self, UnsecuredOptions};
use super::{AuthError, Completed, Step};

const SEPARATOR: u8 = 0x01;
const INVALID_FIRST_MESSAGE: &str = "Invalid OAUTHBEARER client first message";

/// How tokens are validated on one listener.
pub enum OAuthValidator {
    /// `OAuthBearerUnsecuredValidatorCallbackHandler` (Kafka's default).
    Unsecured(UnsecuredOptions),
    /// `OAuthBearerValidatorCallbackHandler` against a JWKS.
    Signed(SignedValidator),
}

impl OAuthValidator {
    async fn validate(&self, token: &str) -> Result<ValidatedToken, TokenError> {
        let now = crate::broker::now_ms();
        match self {
            OAuthValidator::Unsecured(o) => unsecured::validate(o, token, now),
            OAuthValidator::Signed(v) => v.validate(token, now).await,
        }
    }
}

/// `[-_.a-zA-Z0-9]+`: the token characters Kafka's `AUTH_PATTERN` allows.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// The authzid and token of a client initial response (`OAuthBearerClientInitialResponse`).
fn parse_initial_response(msg: &[u8]) -> Result<(String, String), AuthError> {
    let invalid = || AuthError::Sasl(INVALID_FIRST_MESSAGE.into());
    let text = std::str::from_utf8(msg).map_err(|_| invalid())?;
    let rest = text.strip_prefix("n,").ok_or_else(invalid)?;
    let (authz_part, rest) = rest.split_once(',').ok_or_else(invalid)?;
    let authzid = if authz_part.is_empty() {
        String::new()
    } else {
        let a = authz_part.strip_prefix("a=").ok_or_else(invalid)?;
        if a.is_empty() {
            return Err(invalid());
        }
        a.replace("=2C", ",").replace("=3D", "=")
    };
    let sep = SEPARATOR as char;
    let kvpairs = rest
        .strip_prefix(sep)
        .and_then(|r| r.strip_suffix(sep))
        .ok_or_else(invalid)?;
    let mut auth: Option<&str> = None;
    if !kvpairs.is_empty() {
        let body = kvpairs.strip_suffix(sep).ok_or_else(invalid)?;
        for pair in body.split(sep) {
            let (k, v) = pair.split_once('=').ok_or_else(invalid)?;
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphabetic()) || v.is_empty() {
                return Err(invalid());
            }
            if k == "auth" {
                auth = Some(v);
            }
        }
    }
    let auth = auth
        .ok_or_else(|| AuthError::Sasl(format!("{INVALID_FIRST_MESSAGE}: 'auth' not specified")))?;
    let bad_auth = || AuthError::Sasl(format!("{INVALID_FIRST_MESSAGE}: invalid 'auth' format"));
    let (scheme, token) = auth.split_once(' ').ok_or_else(bad_auth)?;
    let token = token.trim_start_matches(' ');
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
        || token.is_empty()
        || !token.chars().all(is_token_char)
    {
        return Err(bad_auth());
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Sasl(format!(
            "Invalid scheme in OAUTHBEARER client first message: {scheme}"
        )));
    }
    Ok((authzid, token.to_string()))
}

/// `OAuthBearerSaslServer.jsonErrorResponse`
fn json_error(e: &TokenError) -> String {
    let mut s = format!("{{\"status\":\"{}\"", e.status);
    if let Some(scope) = &e.scope {
        s.push_str(&format!(", \"scope\":\"{scope}\""));
    }
    s.push('}');
    s
}

/// One OAUTHBEARER exchange.
pub struct OAuthServer {
    validator: Arc<OAuthValidator>,
    /// The JSON error challenge sent, awaiting the client's %x01.
    error_sent: Option<String>,
}

impl OAuthServer {
    pub fn new(validator: Arc<OAuthValidator>) -> OAuthServer {
        OAuthServer {
            validator,
            error_sent: None,
        }
    }

    /// `OAuthBearerSaslServer.evaluateResponse`
    pub async fn evaluate(&mut self, msg: &[u8]) -> Result<Step, AuthError> {
        if msg == [SEPARATOR] {
            if let Some(e) = self.error_sent.take() {
                return Err(AuthError::Authentication(e));
            }
        }
        self.error_sent = None;
        let (authzid, token) = parse_initial_response(msg)?;
        match self.validator.validate(&token).await {
            Err(e) => {
                tracing::debug!(status = e.status, "OAUTHBEARER token refused: {}", e.detail);
                let json = json_error(&e);
                self.error_sent = Some(json.clone());
                Ok(Step::challenge(json.into_bytes()))
            }
            Ok(t) => {
                if !authzid.is_empty() && authzid != t.principal {
                    return Err(AuthError::Authentication(format!(
                        "Authentication failed: Client requested an authorization id ({authzid}) that is different from the token's principal name ({})",
                        t.principal
                    )));
                }
                Ok(Step {
                    response: Vec::new(),
                    completed: Some(Completed {
                        authorization_id: t.principal,
                        credential_expiry_ms: Some(t.lifetime_ms),
                    }),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn unsecured_token(claims: &str) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn initial_responses() {
        let (a, t) = parse_initial_response(b"n,,\x01auth=Bearer abc.def.\x01\x01").unwrap();
        assert_eq!((a.as_str(), t.as_str()), ("", "abc.def."));
        let (a, _) =
            parse_initial_response(b"n,a=alice,\x01host=x\x01auth=bearer t\x01port=1\x01\x01")
                .unwrap();
        assert_eq!(a, "alice");
        for bad in [
            &b"n,,auth=Bearer t"[..],
            b"y,,\x01auth=Bearer t\x01\x01",
            b"n,,\x01\x01",
            b"n,,\x01auth=Bearer\x01\x01",
            b"n,,\x01auth=Bearer a b\x01\x01",
            b"n,,\x01auth=Basic abc\x01\x01",
            b"n,,\x01auth=Bearer t\x01",
        ] {
            assert!(parse_initial_response(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn error_challenge_then_failure() {
        let v = Arc::new(OAuthValidator::Unsecured(UnsecuredOptions::default()));
        let mut s = OAuthServer::new(v.clone());
        let expired = unsecured_token(r#"{"sub":"alice","exp":1}"#);
        let step = s
            .evaluate(format!("n,,\x01auth=Bearer {expired}\x01\x01").as_bytes())
            .await
            .unwrap();
        assert_eq!(step.response, br#"{"status":"invalid_token"}"#);
        assert!(step.completed.is_none());
        assert_eq!(
            s.evaluate(b"\x01").await,
            Err(AuthError::Authentication(
                r#"{"status":"invalid_token"}"#.into()
            ))
        );
        let mut s = OAuthServer::new(v);
        let good = unsecured_token(r#"{"sub":"alice","exp":99999999999}"#);
        let step = s
            .evaluate(format!("n,,\x01auth=Bearer {good}\x01\x01").as_bytes())
            .await
            .unwrap();
        let done = step.completed.unwrap();
        assert_eq!(done.authorization_id, "alice");
        assert_eq!(done.credential_expiry_ms, Some(99_999_999_999_000));
    }
}
