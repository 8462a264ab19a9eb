//! Kafka's default OAUTHBEARER validator, `OAuthBearerUnsecuredValidatorCallbackHandler`:
//! unsigned JWTs (`alg` `none`, empty signature), configured by the `OAuthBearerLoginModule`
//! JAAS options `unsecuredValidatorPrincipalClaimName` (sub), `unsecuredValidatorScopeClaimName`
//! (scope), `unsecuredValidatorRequiredScope` (space-separated) and
//! `unsecuredValidatorAllowableClockSkewMs` (0). For development only, as in Kafka: anyone can
//! mint such a token, which is why OAUTHBEARER is enabled only when listed.

use std::collections::BTreeMap;

use super::jwt::{self, TokenError, ValidatedToken};

/// The unsecured validator's options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsecuredOptions {
    pub principal_claim: String,
    pub scope_claim: String,
    pub required_scope: Vec<String>,
    pub clock_skew_ms: i64,
}

impl Default for UnsecuredOptions {
    fn default() -> Self {
        UnsecuredOptions {
            principal_claim: "sub".into(),
            scope_claim: "scope".into(),
            required_scope: Vec::new(),
            clock_skew_ms: 0,
        }
    }
}

impl UnsecuredOptions {
    /// Reads the JAAS options; a clock skew that is not a non-negative integer is an error
    /// (Kafka: "Invalid value for unsecuredValidatorAllowableClockSkewMs").
    pub fn from_options(options: &BTreeMap<String, String>) -> Result<UnsecuredOptions, String> {
        let mut o = UnsecuredOptions::default();
        if let Some(v) = options.get("unsecuredValidatorPrincipalClaimName") {
            if !v.trim().is_empty() {
                o.principal_claim = v.trim().to_string();
            }
        }
        if let Some(v) = options.get("unsecuredValidatorScopeClaimName") {
            if !v.trim().is_empty() {
                o.scope_claim = v.trim().to_string();
            }
        }
        if let Some(v) = options.get("unsecuredValidatorRequiredScope") {
            o.required_scope = v
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = options.get("unsecuredValidatorAllowableClockSkewMs") {
            o.clock_skew_ms = match v.trim().parse::<i64>() {
                Ok(n) if n >= 0 => n,
                _ => {
                    return Err(format!(
                        "Invalid value for unsecuredValidatorAllowableClockSkewMs: {v}"
                    ))
                }
            };
        }
        Ok(o)
    }
}

/// `OAuthBearerUnsecuredValidatorCallbackHandler.handleCallback` at time `now_ms`.
pub fn validate(
    o: &UnsecuredOptions,
    token: &str,
    now_ms: i64,
) -> Result<ValidatedToken, TokenError> {
    let jws = jwt::parse_compact(token)?;
    if !jws.signature.is_empty() {
        return Err(TokenError::invalid(
            "Unsecured JWS compact serializations must have an empty third component",
        ));
    }
    if jws.header.get("alg").and_then(|v| v.as_str()) != Some("none") {
        return Err(TokenError::invalid(
            "Unsecured JWS must have 'none' for the alg header",
        ));
    }
    let claims = &jws.claims;
    let principal = match jwt::string_claim(claims, &o.principal_claim)? {
        Some(p) if !p.trim().is_empty() => p.to_string(),
        _ => {
            return Err(TokenError::invalid(format!(
                "Required claim missing: {}",
                o.principal_claim
            )))
        }
    };
    let iat = jwt::time_claim_ms(claims, "iat")?;
    if let Some(iat) = iat {
        if iat > now_ms + o.clock_skew_ms {
            return Err(TokenError::invalid(
                "The Issued At value is after the current time",
            ));
        }
    }
    let Some(exp) = jwt::time_claim_ms(claims, "exp")? else {
        return Err(TokenError::invalid("Required claim missing: exp"));
    };
    if now_ms - o.clock_skew_ms >= exp {
        return Err(TokenError::invalid(
            "The indicated time is after the token's expiration time",
        ));
    }
    if iat.is_some_and(|iat| exp <= iat) {
        return Err(TokenError::invalid(
            "The Expiration Time is not after the Issued At time",
        ));
    }
    let scope = jwt::scope_claim(claims, &o.scope_claim)?;
    if let Some(missing) = o.required_scope.iter().find(|s| !scope.contains(s)) {
        return Err(TokenError {
            status: "insufficient_scope",
            scope: Some(o.required_scope.join(" ")),
            detail: format!("The provided scope lacks a required scope: {missing}"),
        });
    }
    Ok(ValidatedToken {
        principal,
        lifetime_ms: exp,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    fn token(claims: &str) -> String {
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        )
    }

    #[test]
    fn kafkas_unsecured_rules() {
        let o = UnsecuredOptions::default();
        let now = 1_700_000_000_000;
        let ok = validate(
            &o,
            &token(r#"{"sub":"alice","iat":1699999999,"exp":1700000100}"#),
            now,
        )
        .unwrap();
        assert_eq!(ok.principal, "alice");
        assert_eq!(ok.lifetime_ms, 1_700_000_100_000);
        assert!(validate(&o, &token(r#"{"sub":"alice","exp":1699999999}"#), now).is_err());
        assert!(validate(&o, &token(r#"{"sub":"alice"}"#), now).is_err());
        assert!(validate(&o, &token(r#"{"exp":1700000100}"#), now).is_err());
        assert!(validate(
            &o,
            &token(r#"{"sub":"a","iat":1700000200,"exp":1700000300}"#),
            now
        )
        .is_err());
        let signed = format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert!(validate(&o, &signed, now).is_err());
        let hs = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"sub":"a","exp":1800000000}"#)
        );
        assert!(validate(&o, &hs, now).is_err());

        let mut opts = BTreeMap::new();
        opts.insert(
            "unsecuredValidatorRequiredScope".to_string(),
            "read write".to_string(),
        );
        opts.insert(
            "unsecuredValidatorPrincipalClaimName".to_string(),
            "client".to_string(),
        );
        opts.insert(
            "unsecuredValidatorAllowableClockSkewMs".to_string(),
            "5000".to_string(),
        );
        let o = UnsecuredOptions::from_options(&opts).unwrap();
        let e = validate(
            &o,
            &token(r#"{"client":"svc","exp":1700000001,"scope":"read"}"#),
            now,
        )
        .unwrap_err();
        assert_eq!(e.status, "insufficient_scope");
        assert_eq!(e.scope.as_deref(), Some("read write"));
        let ok = validate(
            &o,
            &token(r#"{"client":"svc","exp":1699999998,"scope":["read","write"]}"#),
            now,
        )
        .unwrap();
        assert_eq!(ok.principal, "svc");
        opts.insert(
            "unsecuredValidatorAllowableClockSkewMs".to_string(),
            "x".to_string(),
        );
        assert!(UnsecuredOptions::from_options(&opts).is_err());
    }
}
