//! JSON Web Tokens as OAUTHBEARER carries them: the JWS compact serialization
//! (`header.payload.signature`, each base64url without padding, RFC 7515) and the claim
//! checks Kafka's validators share (`OAuthBearerValidationUtils`, jose4j's `JwtConsumer` in
//! `BrokerJwtValidator`). Error details go to debug logs only; the client sees the status.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// A token that passed validation (Kafka's `OAuthBearerToken`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidatedToken {
    pub principal: String,
    /// `exp` in ms since the epoch.
    pub lifetime_ms: i64,
    pub scope: Vec<String>,
}

/// A token that failed: the RFC 7628 error status (`invalid_token`, `insufficient_scope`),
/// the scope to report, and why (for logs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenError {
    pub status: &'static str,
    pub scope: Option<String>,
    pub detail: String,
}

impl TokenError {
    pub fn invalid(detail: impl Into<String>) -> TokenError {
        TokenError {
            status: "invalid_token",
            scope: None,
            detail: detail.into(),
        }
    }
}

/// A parsed compact JWS.
pub struct Jws {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`: what the signature covers.
    pub signing_input: String,
    pub signature: Vec<u8>,
}

fn json_part(part: &str, what: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| TokenError::invalid(format!("the JWS {what} is not valid base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(TokenError::invalid(format!(
            "the JWS {what} is not a JSON object"
        ))),
    }
}

/// Splits and decodes a compact JWS (three dot-separated parts; the third may be empty).
pub fn parse_compact(token: &str) -> Result<Jws, TokenError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(TokenError::invalid(
            "JWS compact serializations must have 3 dot-separated Base64URL-encoded values",
        ));
    }
    let header = json_part(parts[0], "header")?;
    let claims = json_part(parts[1], "payload")?;
    let signature = URL_SAFE_NO_PAD
        .decode(parts[2])
        .map_err(|_| TokenError::invalid("the JWS signature is not valid base64url"))?;
    Ok(Jws {
        header,
        claims,
        signing_input: format!("{}.{}", parts[0], parts[1]),
        signature,
    })
}

/// A NumericDate claim (seconds, possibly fractional) in ms; `Err` when present but not a number.
pub fn time_claim_ms(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(s) if s.is_finite() => Ok(Some((s * 1000.0) as i64)),
            _ => Err(TokenError::invalid(format!(
                "the {name} claim is not a number"
            ))),
        },
        Some(_) => Err(TokenError::invalid(format!(
            "the {name} claim is not a number"
        ))),
    }
}

/// A string claim; `Err` when present but not a string.
pub fn string_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(TokenError::invalid(format!(
            "the {name} claim is not a string"
        ))),
    }
}

/// The scope claim: a space-separated string or an array of strings (`OAuthBearerScopeUtils`).
pub fn scope_claim(claims: &Map<String, Value>, name: &str) -> Result<Vec<String>, TokenError> {
    match claims.get(name) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(s
            .split(' ')
            .filter(|x| !x.is_empty())
            .map(String::from)
            .collect()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(TokenError::invalid(format!(
                    "the {name} claim is not a list of strings"
                ))),
            })
            .collect(),
        Some(_) => Err(TokenError::invalid(format!(
            "the {name} claim is not a string or list"
        ))),
    }
}

/// The audience claim as a list (a string or an array of strings).
pub fn audience_claim(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn parses_an_unsecured_jws() {
        let token = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"sub":"alice","exp":1.5e9,"scope":"a b","aud":["x","y"]}"#)
        );
        let jws = parse_compact(&token).unwrap();
        assert_eq!(jws.header["alg"], "none");
        assert!(jws.signature.is_empty());
        assert_eq!(
            time_claim_ms(&jws.claims, "exp").unwrap(),
            Some(1_500_000_000_000)
        );
        assert_eq!(string_claim(&jws.claims, "sub").unwrap(), Some("alice"));
        assert_eq!(scope_claim(&jws.claims, "scope").unwrap(), ["a", "b"]);
        assert_eq!(audience_claim(&jws.claims), ["x", "y"]);
        assert!(time_claim_ms(&jws.claims, "sub").is_err());
        assert!(parse_compact("a.b").is_err());
        assert!(parse_compact("!!.e30.").is_err());
        assert!(parse_compact(&format!("{}.{}.", b64("[]"), b64("{}"))).is_err());
    }
}
