//! Signed OAUTHBEARER tokens (KIP-768, Kafka's `OAuthBearerValidatorCallbackHandler` with
//! `BrokerJwtValidator`): RS256 and ES256 JWS verified with the keys of a JWKS
//! (`sasl.oauthbearer.jwks.endpoint.url`, a `file://` path or an `http://` URL), then the
//! claims: `exp` and `iat` required, `nbf` honoured, `sasl.oauthbearer.clock.skew.seconds` of
//! slack, `aud` and `iss` checked when `sasl.oauthbearer.expected.audience`/`.issuer` are set,
//! the principal from `sasl.oauthbearer.sub.claim.name`.
//!
//! The key set is fetched at start-up and every `sasl.oauthbearer.jwks.endpoint.refresh.ms`
//! in the background (Kafka's `RefreshingHttpsJwks`); a token whose `kid` is unknown triggers a
//! fetch at once, at most once a minute per unknown `kid` (`MISSING_KEY_ID_MAX_AGE_MS`). A
//! failed fetch keeps the previous keys. The HTTP client is a small one over tokio with a
//! bounded response and a timeout; `https://` is refused at start-up (no CA trust store here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tracing::{debug, info, warn};

use super::jwt::{self, TokenError, ValidatedToken};

/// Largest JWKS document accepted.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Connect-plus-read deadline of one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// An unknown `kid` refetches the key set at most this often (Kafka's `RefreshingHttpsJwks`).
const MISSING_KID_INTERVAL: Duration = Duration::from_secs(60);

/// Where the key set comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JwksSource {
    File(std::path::PathBuf),
    Http {
        host: String,
        port: u16,
        path: String,
    },
}

impl JwksSource {
    /// Parses `sasl.oauthbearer.jwks.endpoint.url`.
    pub fn parse(url: &str) -> Result<JwksSource, String> {
        if let Some(path) = url.strip_prefix("file://") {
            return Ok(JwksSource::File(path.into()));
        }
        if url.starts_with("https://") {
            return Err(format!(
                "sasl.oauthbearer.jwks.endpoint.url {url}: https:// JWKS endpoints are not supported by Klamm yet; serve the JWKS over http:// or give a file:// path"
            ));
        }
        let Some(rest) = url.strip_prefix("http://") else {
            return Err(format!(
                "sasl.oauthbearer.jwks.endpoint.url {url}: the URL must start with file://, http:// or https://"
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].to_string()),
            None => (rest, "/".to_string()),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                match p.parse::<u16>() {
                    Ok(p) => (
                        h.trim_start_matches('[').trim_end_matches(']').to_string(),
                        p,
                    ),
                    Err(_) => (authority.to_string(), 80),
                }
            }
            _ => (authority.to_string(), 80),
        };
        if host.is_empty() {
            return Err(format!("sasl.oauthbearer.jwks.endpoint.url {url}: no host"));
        }
        Ok(JwksSource::Http { host, port, path })
    }
}

/// A verification key.
#[derive(Clone, Debug, PartialEq, Eq)]
enum KeyMaterial {
    /// Modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The uncompressed P-256 point `04 || x || y`.
    EcP256(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Jwk {
    kid: Option<String>,
    key: KeyMaterial,
}

/// Parses a JWKS document; keys of other types or curves are skipped, as jose4j does.
fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let keys = doc
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("no \"keys\" array")?;
    let b64 = |k: &Value, f: &str| -> Option<Vec<u8>> {
        URL_SAFE_NO_PAD
            .decode(k.get(f)?.as_str()?.trim_end_matches('='))
            .ok()
    };
    let mut out = Vec::new();
    for k in keys {
        if k.get("use")
            .and_then(Value::as_str)
            .is_some_and(|u| u != "sig")
        {
            continue;
        }
        let kid = k.get("kid").and_then(Value::as_str).map(String::from);
        let material = match k.get("kty").and_then(Value::as_str) {
            Some("RSA") => match (b64(k, "n"), b64(k, "e")) {
                (Some(n), Some(e)) => KeyMaterial::Rsa { n, e },
                _ => continue,
            },
            Some("EC") if k.get("crv").and_then(Value::as_str) == Some("P-256") => {
                match (b64(k, "x"), b64(k, "y")) {
                    (Some(x), Some(y)) if x.len() == 32 && y.len() == 32 => {
                        let mut p = vec![4u8];
                        p.extend_from_slice(&x);
                        p.extend_from_slice(&y);
                        KeyMaterial::EcP256(p)
                    }
                    _ => continue,
                }
            }
            _ => continue,
        };
        out.push(Jwk { kid, key: material });
    }
    Ok(out)
}

/// Reads the whole HTTP/1.1 response to a GET of `path`, bounded.
async fn http_get(host: &str, port: u16, path: &str) -> Result<Vec<u8>, String> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: application/json\r\nConnection: close\r\nUser-Agent: klamm\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut raw = Vec::new();
        let limit = (MAX_JWKS_BYTES + 64 * 1024) as u64;
        (&mut stream)
            .take(limit + 1)
            .read_to_end(&mut raw)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if raw.len() as u64 > limit {
            return Err(format!("response larger than {MAX_JWKS_BYTES} bytes"));
        }
        Ok::<Vec<u8>, String>(raw)
    };
    let raw = tokio::time::timeout(FETCH_TIMEOUT, fetch)
        .await
        .map_err(|_| format!("no response within {FETCH_TIMEOUT:?}"))??;
    parse_http_response(&raw)
}

/// The body of a 200 response (Content-Length, chunked, or up to EOF).
fn parse_http_response(raw: &[u8]) -> Result<Vec<u8>, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("truncated HTTP response headers")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or("");
    let code = status.split(' ').nth(1).unwrap_or("");
    if code != "200" {
        return Err(format!("HTTP status {status:?}"));
    }
    let mut chunked = false;
    let mut length: Option<usize> = None;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.eq_ignore_ascii_case("chunked")
            {
                chunked = true;
            }
        }
    }
    if chunked {
        let mut out = Vec::new();
        let mut rest = body;
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .ok_or("truncated chunk")?;
            let size_str = String::from_utf8_lossy(&rest[..eol]);
            let size = usize::from_str_radix(size_str.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| "invalid chunk size")?;
            rest = &rest[eol + 2..];
            if size == 0 {
                return Ok(out);
            }
            // Checked before any sum: a chunk size is read from the peer (usize::MAX wraps).
            if size > MAX_JWKS_BYTES - out.len() || rest.len() < size + 2 {
                return Err("truncated or oversized chunk".into());
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    }
    match length {
        Some(n) if body.len() >= n => Ok(body[..n].to_vec()),
        Some(_) => Err("truncated HTTP body".into()),
        None => Ok(body.to_vec()),
    }
}

struct KeyState {
    keys: Vec<Jwk>,
    fetched: Option<Instant>,
    missing_kids: HashMap<String, Instant>,
}

/// The cached key set of one JWKS endpoint.
pub struct JwksCache {
    source: JwksSource,
    refresh: Duration,
    state: Mutex<KeyState>,
    /// One fetch at a time.
    fetching: tokio::sync::Mutex<()>,
}

impl JwksCache {
    pub fn new(source: JwksSource, refresh: Duration) -> Arc<JwksCache> {
        Arc::new(JwksCache {
            source,
            refresh,
            state: Mutex::new(KeyState {
                keys: Vec::new(),
                fetched: None,
                missing_kids: HashMap::new(),
            }),
            fetching: tokio::sync::Mutex::new(()),
        })
    }

    /// Fetches the key set now; on failure the previous keys stay.
    pub async fn refresh(&self) -> Result<usize, String> {
        let _one = self.fetching.lock().await;
        let body = match &self.source {
            JwksSource::File(path) => {
                let p = path.clone();
                let bytes = tokio::task::spawn_blocking(move || std::fs::read(p))
                    .await
                    .map_err(|e| format!("{}: {e}", path.display()))?
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                if bytes.len() > MAX_JWKS_BYTES {
                    return Err(format!(
                        "{}: larger than {MAX_JWKS_BYTES} bytes",
                        path.display()
                    ));
                }
                bytes
            }
            JwksSource::Http { host, port, path } => http_get(host, *port, path).await?,
        };
        let keys = parse_jwks(&body)?;
        let n = keys.len();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.keys = keys;
        st.fetched = Some(Instant::now());
        Ok(n)
    }

    async fn refresh_logged(&self) {
        match self.refresh().await {
            Ok(n) => debug!(source = ?self.source, keys = n, "fetched the OAUTHBEARER JWKS"),
            Err(e) => warn!(source = ?self.source, "fetching the OAUTHBEARER JWKS failed: {e}"),
        }
    }

    /// Fetches now and then every refresh interval, while the cache is alive.
    pub fn spawn_refresh(self: &Arc<Self>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let weak: Weak<JwksCache> = Arc::downgrade(self);
        rt.spawn(async move {
            loop {
                let Some(cache) = weak.upgrade() else { return };
                cache.refresh_logged().await;
                let pause = cache.refresh;
                drop(cache);
                tokio::time::sleep(pause).await;
            }
        });
    }

    /// The keys a token with `kid` may be signed with; an unknown `kid` (or no keys at all)
    /// fetches the set again, rate-limited per `kid`.
    async fn candidates(&self, kid: Option<&str>) -> Vec<Jwk> {
        let select = |keys: &[Jwk]| -> Vec<Jwk> {
            keys.iter()
                .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
                .cloned()
                .collect()
        };
        let refetch = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let found = select(&st.keys);
            if !found.is_empty() {
                return found;
            }
            let now = Instant::now();
            let key = kid.unwrap_or("").to_string();
            match st.missing_kids.get(&key) {
                Some(t)
                    if now.duration_since(*t) < MISSING_KID_INTERVAL && st.fetched.is_some() =>
                {
                    false
                }
                _ => {
                    if st.missing_kids.len() > 1000 {
                        st.missing_kids.clear();
                    }
                    st.missing_kids.insert(key, now);
                    true
                }
            }
        };
        if refetch {
            info!(kid = ?kid, "OAUTHBEARER token names an unknown key: fetching the JWKS again");
            self.refresh_logged().await;
        }
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        select(&st.keys)
    }
}

/// The signed-JWT validator's settings.
pub struct SignedValidator {
    pub jwks: Arc<JwksCache>,
    pub expected_audience: Option<Vec<String>>,
    pub expected_issuer: Option<String>,
    pub sub_claim: String,
    pub scope_claim: String,
    pub clock_skew_ms: i64,
}

fn verify(key: &KeyMaterial, alg: &str, input: &[u8], sig: &[u8]) -> bool {
    use ring::signature;
    match (alg, key) {
        ("RS256", KeyMaterial::Rsa { n, e }) => signature::RsaPublicKeyComponents { n, e }
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
            .is_ok(),
        ("ES256", KeyMaterial::EcP256(point)) => {
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(input, sig)
                .is_ok()
        }
        _ => false,
    }
}

impl SignedValidator {
    /// Validates a signed token at `now_ms`.
    pub async fn validate(&self, token: &str, now_ms: i64) -> Result<ValidatedToken, TokenError> {
        let jws = jwt::parse_compact(token)?;
        let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
        if alg != "RS256" && alg != "ES256" {
            return Err(TokenError::invalid(format!(
                "the JWS algorithm {alg:?} is not accepted (RS256, ES256)"
            )));
        }
        let kid = jws.header.get("kid").and_then(Value::as_str);
        let keys = self.jwks.candidates(kid).await;
        if keys.is_empty() {
            return Err(TokenError::invalid(format!(
                "no JWKS key matches the token's kid {kid:?}"
            )));
        }
        if !keys
            .iter()
            .any(|k| verify(&k.key, alg, jws.signing_input.as_bytes(), &jws.signature))
        {
            return Err(TokenError::invalid("the JWS signature does not verify"));
        }
        let claims = &jws.claims;
        let skew = self.clock_skew_ms;
        let Some(exp) = jwt::time_claim_ms(claims, "exp")? else {
            return Err(TokenError::invalid("no exp claim"));
        };
        if now_ms - skew >= exp {
            return Err(TokenError::invalid("the token has expired"));
        }
        let Some(iat) = jwt::time_claim_ms(claims, "iat")? else {
            return Err(TokenError::invalid("no iat claim"));
        };
        if iat > now_ms + skew {
            return Err(TokenError::invalid("the token was issued in the future"));
        }
        if let Some(nbf) = jwt::time_claim_ms(claims, "nbf")? {
            if nbf > now_ms + skew {
                return Err(TokenError::invalid("the token is not valid yet (nbf)"));
            }
        }
        if let Some(expected) = &self.expected_audience {
            let aud = jwt::audience_claim(claims);
            if !aud.iter().any(|a| expected.contains(a)) {
                return Err(TokenError::invalid(
                    "the token's audience is not an expected one",
                ));
            }
        }
        if let Some(expected) = &self.expected_issuer {
            if jwt::string_claim(claims, "iss")? != Some(expected.as_str()) {
                return Err(TokenError::invalid(
                    "the token's issuer is not the expected one",
                ));
            }
        }
        let principal = match jwt::string_claim(claims, &self.sub_claim)? {
            Some(p) if !p.trim().is_empty() => p.to_string(),
            _ => {
                return Err(TokenError::invalid(format!(
                    "the token has no {} claim",
                    self.sub_claim
                )))
            }
        };
        let scope = jwt::scope_claim(claims, &self.scope_claim)?;
        Ok(ValidatedToken {
            principal,
            lifetime_ms: exp,
            scope,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        assert_eq!(
            JwksSource::parse("http://127.0.0.1:8080/jwks.json").unwrap(),
            JwksSource::Http {
                host: "127.0.0.1".into(),
                port: 8080,
                path: "/jwks.json".into()
            }
        );
        assert_eq!(
            JwksSource::parse("http://idp").unwrap(),
            JwksSource::Http {
                host: "idp".into(),
                port: 80,
                path: "/".into()
            }
        );
        assert_eq!(
            JwksSource::parse("file:///etc/jwks.json").unwrap(),
            JwksSource::File("/etc/jwks.json".into())
        );
        assert!(JwksSource::parse("https://idp/jwks")
            .unwrap_err()
            .contains("https://"));
        assert!(JwksSource::parse("ftp://x").is_err());
    }

    #[test]
    fn http_bodies() {
        assert_eq!(
            parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}xx").unwrap(),
            b"{}"
        );
        assert_eq!(
            parse_http_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\n").unwrap(),
            b"{}"
        );
        assert!(parse_http_response(b"HTTP/1.1 404 Not Found\r\n\r\n").is_err());
        assert!(parse_http_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{}").is_err());
    }

    #[test]
    fn jwks_keys() {
        let keys = parse_jwks(br#"{"keys":[
            {"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"},
            {"kty":"EC","crv":"P-256","kid":"e","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
            {"kty":"EC","crv":"P-384","kid":"x","x":"AA","y":"AA"},
            {"kty":"oct","k":"AA"},
            {"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}"#).unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[1].kid.as_deref(), Some("e"));
        assert!(parse_jwks(b"[]").is_err());
    }
}
