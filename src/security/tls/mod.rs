//! TLS for SSL and SASL_SSL listeners: Kafka's `SslConfigs` settings (each read with the
//! listener prefix, `listener.name.<name>.ssl.*`), a rustls server config built from PEM
//! keystores and truststores (ring provider), the handshake with Kafka's `ssl.client.auth`
//! modes, the client certificate's principal, and certificate reload without a restart.
//!
//! Kafka's broker reads JKS, PKCS12 and PEM keystores; Klamm reads PEM only, which is also its
//! default `ssl.keystore.type` and `ssl.truststore.type` (Kafka's default, JKS, would make
//! every SSL listener fail to start).

pub mod dev;
pub mod principal;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tracing::{debug, error, info, warn};

use self::principal::{PrincipalError, SslPrincipalMapper};
use super::KafkaPrincipal;
use crate::settings::Settings;

/// A TLS setting that cannot be used; the listener does not start.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("listener {listener}: {message}")]
    Config { listener: String, message: String },
}

/// Kafka's `ssl.client.auth` (`SslClientAuth`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    None,
    Requested,
    Required,
}

/// Why a TLS connection did not get to serve requests: the `reason` label of
/// `klamm_tls_handshake_failures_total`.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("TLS handshake timed out")]
    Timeout,
    #[error("TLS handshake failed: {0}")]
    Failed(io::Error),
    #[error("{0}")]
    Principal(#[from] PrincipalError),
}

impl HandshakeError {
    pub fn reason(&self) -> &'static str {
        match self {
            HandshakeError::Timeout => "timeout",
            HandshakeError::Failed(e) if e.kind() == io::ErrorKind::UnexpectedEof => "eof",
            HandshakeError::Failed(e) => match e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            {
                Some(rustls::Error::InvalidCertificate(_)) => "bad_certificate",
                Some(rustls::Error::NoCertificatesPresented) => "no_client_certificate",
                Some(rustls::Error::PeerIncompatible(_)) => "incompatible",
                Some(rustls::Error::InvalidMessage(_)) => "invalid_message",
                _ => "handshake_error",
            },
            HandshakeError::Principal(_) => "principal",
        }
    }
}

/// Prometheus name of the handshake failure counter.
pub const HANDSHAKE_FAILURES: &str = "klamm_tls_handshake_failures_total";
/// Prometheus name of the certificate reload counter (`result` = ok | error).
pub const RELOADS: &str = "klamm_tls_reloads_total";

fn config_error(listener: &str, message: impl Into<String>) -> TlsError {
    TlsError::Config {
        listener: listener.to_string(),
        message: message.into(),
    }
}

/// The files a listener's TLS config was read from, watched for reload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Watched {
    files: Vec<(PathBuf, Option<SystemTime>)>,
}

impl Watched {
    fn of(paths: &[PathBuf]) -> Watched {
        Watched {
            files: paths.iter().map(|p| (p.clone(), mtime(p))).collect(),
        }
    }

    fn changed(&self) -> bool {
        self.files.iter().any(|(p, t)| mtime(p) != *t)
    }
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// One listener's TLS: the current rustls config (swapped on reload), the principal mapper and
/// the handshake timeout.
pub struct ListenerTls {
    listener: String,
    settings: Arc<Settings>,
    current: RwLock<Arc<ServerConfig>>,
    watched: Mutex<Watched>,
    mapper: SslPrincipalMapper,
    handshake_timeout: Duration,
}

impl ListenerTls {
    /// Reads the listener's TLS settings; any problem is a start-up error.
    pub fn new(settings: Arc<Settings>, listener: &str) -> Result<ListenerTls, TlsError> {
        let (config, files) = build(&settings, listener)?;
        let rules = settings
            .listener_value(listener, "ssl.principal.mapping.rules")
            .unwrap_or_else(|| "DEFAULT".to_string());
        let mapper = SslPrincipalMapper::from_rules(&rules)
            .map_err(|e| config_error(listener, format!("ssl.principal.mapping.rules: {e}")))?;
        // Kafka has no handshake timeout of its own: a connection that never finishes its
        // handshake is closed as idle after connections.max.idle.ms.
        let handshake_timeout = Duration::from_millis(
            settings
                .i64("connections.max.idle.ms")
                .clamp(1, i64::MAX / 2) as u64,
        );
        Ok(ListenerTls {
            listener: listener.to_string(),
            settings,
            current: RwLock::new(config),
            watched: Mutex::new(Watched::of(&files)),
            mapper,
            handshake_timeout,
        })
    }

    fn config(&self) -> Arc<ServerConfig> {
        // The lock only guards a pointer swap; a poisoned one still holds a whole config.
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Rebuilds the config from the settings' files. On success new connections use it; on
    /// failure the old config stays and the error is logged.
    pub fn reload(&self) -> bool {
        match build(&self.settings, &self.listener) {
            Ok((config, files)) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
                *self.watched.lock().unwrap_or_else(|e| e.into_inner()) = Watched::of(&files);
                metrics::counter!(RELOADS, "listener" => self.listener.clone(), "result" => "ok")
                    .increment(1);
                info!(listener = %self.listener, "TLS certificates reloaded");
                true
            }
            Err(e) => {
                metrics::counter!(RELOADS, "listener" => self.listener.clone(), "result" => "error")
                    .increment(1);
                error!("TLS reload failed, keeping the previous certificates: {e}");
                false
            }
        }
    }

    /// Reloads when a keystore or truststore file changed since the last (re)load.
    pub fn reload_if_changed(&self) {
        let changed = self
            .watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .changed();
        if changed {
            debug!(listener = %self.listener, "TLS files changed");
            if !self.reload() {
                // Not retried until the files change again.
                let files: Vec<PathBuf> = self
                    .watched
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .files
                    .iter()
                    .map(|(p, _)| p.clone())
                    .collect();
                *self.watched.lock().unwrap_or_else(|e| e.into_inner()) = Watched::of(&files);
            }
        }
    }

    /// The TLS handshake, bounded by the handshake timeout, and the principal it yields:
    /// `User:<mapped subject DN>` with a client certificate, `User:ANONYMOUS` without.
    pub async fn accept(
        &self,
        stream: TcpStream,
    ) -> Result<(TlsStream<TcpStream>, KafkaPrincipal), HandshakeError> {
        let acceptor = tokio_rustls::TlsAcceptor::from(self.config());
        let tls = tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream))
            .await
            .map_err(|_| HandshakeError::Timeout)?
            .map_err(HandshakeError::Failed)?;
        let principal = match tls.get_ref().1.peer_certificates().and_then(|c| c.first()) {
            Some(cert) => {
                let dn = principal::subject_dn(cert.as_ref())?;
                KafkaPrincipal::user(&self.mapper.name(&dn)?)
            }
            None => KafkaPrincipal::anonymous(),
        };
        Ok((tls, principal))
    }

    pub fn listener(&self) -> &str {
        &self.listener
    }
}

/// Every file-or-inline PEM setting of one listener, read and turned into a rustls config.
fn build(
    settings: &Settings,
    listener: &str,
) -> Result<(Arc<ServerConfig>, Vec<PathBuf>), TlsError> {
    let get = |name: &str| {
        settings
            .listener_value(listener, name)
            .filter(|v| !v.trim().is_empty())
    };
    let err = |m: String| config_error(listener, m);
    let mut files = Vec::new();

    for (type_setting, other) in [
        ("ssl.keystore.type", "keystore"),
        ("ssl.truststore.type", "truststore"),
    ] {
        let t = get(type_setting).unwrap_or_else(|| "PEM".to_string());
        if !t.eq_ignore_ascii_case("PEM") {
            return Err(err(format!(
                "{type_setting}={t} is not supported: Klamm reads PEM {other}s only; convert it (e.g. openssl pkcs12 -in store.p12 -nodes) and set {type_setting}=PEM"
            )));
        }
    }

    // The keystore: a PEM file with the private key and certificate chain, or both inline.
    let (key_pem, chain_pem) = match (
        get("ssl.keystore.location"),
        get("ssl.keystore.key"),
        get("ssl.keystore.certificate.chain"),
    ) {
        (Some(loc), None, None) => {
            let path = PathBuf::from(&loc);
            let pem = std::fs::read(&path)
                .map_err(|e| err(format!("ssl.keystore.location {loc}: {e}")))?;
            files.push(path);
            (pem.clone(), pem)
        }
        (None, Some(key), Some(chain)) => (key.into_bytes(), chain.into_bytes()),
        (None, None, None) => {
            return Err(err(
                "an SSL listener needs ssl.keystore.location, or ssl.keystore.key with ssl.keystore.certificate.chain"
                    .to_string(),
            ))
        }
        _ => {
            return Err(err(
                "set either ssl.keystore.location or both ssl.keystore.key and ssl.keystore.certificate.chain, not a mix"
                    .to_string(),
            ))
        }
    };
    let key = private_key(&key_pem, get("ssl.key.password").is_some()).map_err(err)?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| err(format!("keystore certificate chain: {e}")))?;
    if chain.is_empty() {
        return Err(err("the keystore holds no certificate".to_string()));
    }

    // The truststore: CA certificates that sign client certificates.
    let trust_pem = match (
        get("ssl.truststore.location"),
        get("ssl.truststore.certificates"),
    ) {
        (Some(loc), None) => {
            let path = PathBuf::from(&loc);
            let pem = std::fs::read(&path)
                .map_err(|e| err(format!("ssl.truststore.location {loc}: {e}")))?;
            files.push(path);
            Some(pem)
        }
        (None, Some(inline)) => Some(inline.into_bytes()),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(err(
                "set ssl.truststore.location or ssl.truststore.certificates, not both".to_string(),
            ))
        }
    };

    let client_auth = match get("ssl.client.auth").as_deref().unwrap_or("none") {
        "required" => ClientAuth::Required,
        "requested" => ClientAuth::Requested,
        "none" => ClientAuth::None,
        other => {
            return Err(err(format!(
                "Invalid value {other} for configuration ssl.client.auth: String must be one of: required, requested, none"
            )))
        }
    };

    let provider = Arc::new(provider(get("ssl.cipher.suites").as_deref()).map_err(err)?);
    let versions = protocol_versions(
        get("ssl.enabled.protocols")
            .as_deref()
            .unwrap_or("TLSv1.2,TLSv1.3"),
        listener,
    )
    .map_err(err)?;

    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| err(format!("ssl.enabled.protocols / ssl.cipher.suites: {e}")))?;
    let builder = match client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Requested | ClientAuth::Required => {
            let Some(trust_pem) = trust_pem else {
                return Err(err(
                    "ssl.client.auth requested or required needs ssl.truststore.location or ssl.truststore.certificates"
                        .to_string(),
                ));
            };
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&trust_pem) {
                let cert = cert.map_err(|e| err(format!("truststore: {e}")))?;
                roots
                    .add(cert)
                    .map_err(|e| err(format!("truststore certificate: {e}")))?;
            }
            if roots.is_empty() {
                return Err(err("the truststore holds no certificate".to_string()));
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let verifier = if client_auth == ClientAuth::Requested {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            let verifier = verifier
                .build()
                .map_err(|e| err(format!("client certificate verifier: {e}")))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(chain, key)
        .map_err(|e| err(format!("keystore: {e}")))?;
    Ok((Arc::new(config), files))
}

/// The private key of a PEM keystore. Encrypted keys (`ssl.key.password`) need PBES2 with
/// AES-CBC, which none of Klamm's pure-Rust crypto dependencies provides: they are refused
/// with a message saying how to store the key unencrypted.
fn private_key(pem: &[u8], password_set: bool) -> Result<PrivateKeyDer<'static>, String> {
    let text = String::from_utf8_lossy(pem);
    if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        || text.contains("Proc-Type: 4,ENCRYPTED")
    {
        return Err("encrypted private keys (ssl.key.password) are not supported: store the key unencrypted (openssl pkcs8 -topk8 -nocrypt -in key.pem -out plain.pem), protect the file with mode 0600, and unset ssl.key.password".to_string());
    }
    if password_set {
        warn!(
            "ssl.key.password is set but the private key is not encrypted; the password is ignored"
        );
    }
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| format!("keystore private key: {e}"))
}

/// Kafka's `ssl.enabled.protocols` to rustls versions. rustls speaks TLS 1.2 and 1.3 only;
/// older names (which Java's default security policy disables too) are ignored with a warning.
fn protocol_versions(
    raw: &str,
    listener: &str,
) -> Result<Vec<&'static SupportedProtocolVersion>, String> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match name {
            "TLSv1.2" => out.push(&rustls::version::TLS12),
            "TLSv1.3" => out.push(&rustls::version::TLS13),
            "TLSv1" | "TLSv1.1" | "SSLv3" => {
                warn!(
                    listener,
                    "ssl.enabled.protocols: {name} is not supported and is ignored"
                )
            }
            other => return Err(format!("ssl.enabled.protocols: unknown protocol {other}")),
        }
    }
    if out.is_empty() {
        return Err(format!(
            "ssl.enabled.protocols={raw} enables no supported protocol (TLSv1.2, TLSv1.3)"
        ));
    }
    Ok(out)
}

/// The ring provider, its cipher suites limited to `ssl.cipher.suites` when given (IANA / Java
/// names such as TLS_AES_128_GCM_SHA256 or TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256).
fn provider(suites: Option<&str>) -> Result<CryptoProvider, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    let Some(raw) = suites else {
        return Ok(provider);
    };
    let wanted: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        return Ok(provider);
    }
    let all = provider.cipher_suites.clone();
    let mut chosen = Vec::new();
    for name in &wanted {
        match all.iter().find(|s| suite_name(s) == *name) {
            Some(s) => chosen.push(*s),
            None => {
                return Err(format!(
                    "ssl.cipher.suites: unsupported cipher suite {name}; supported: {}",
                    all.iter().map(suite_name).collect::<Vec<_>>().join(", ")
                ))
            }
        }
    }
    provider.cipher_suites = chosen;
    Ok(provider)
}

/// The IANA name of a suite (rustls spells TLS 1.3 suites `TLS13_...`).
fn suite_name(s: &rustls::SupportedCipherSuite) -> String {
    let debug = format!("{:?}", s.suite());
    match debug.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => debug,
    }
}

/// Watches every TLS listener: SIGHUP reloads them all; with
/// `ssl.keystore.reload.check.interval.ms` > 0 changed files are reloaded too.
pub fn spawn_reloader(
    tls: Vec<Arc<ListenerTls>>,
    check_every: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if tls.is_empty() {
        return tasks;
    }
    {
        let tls = tls.clone();
        tasks.push(tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let mut hup = match signal(SignalKind::hangup()) {
                Ok(s) => s,
                Err(e) => {
                    error!("cannot listen for SIGHUP, TLS reload on signal is off: {e}");
                    return;
                }
            };
            while hup.recv().await.is_some() {
                info!("received SIGHUP: reloading TLS certificates");
                for t in &tls {
                    t.reload();
                }
            }
        }));
    }
    if !check_every.is_zero() {
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(check_every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                for t in &tls {
                    t.reload_if_changed();
                }
            }
        }));
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cipher_suite_names_are_ianas() {
        let p = provider(Some(
            "TLS_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ))
        .unwrap();
        let names: Vec<String> = p.cipher_suites.iter().map(suite_name).collect();
        assert_eq!(
            names,
            [
                "TLS_AES_128_GCM_SHA256",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        let e = provider(Some("TLS_RSA_WITH_RC4_128_MD5")).unwrap_err();
        assert!(e.starts_with("ssl.cipher.suites: unsupported cipher suite TLS_RSA_WITH_RC4_128_MD5; supported: TLS_AES_256_GCM_SHA384"), "{e}");
        assert_eq!(
            provider(None).unwrap().cipher_suites.len(),
            provider(Some("")).unwrap().cipher_suites.len()
        );
    }

    #[test]
    fn protocols() {
        assert_eq!(protocol_versions("TLSv1.2,TLSv1.3", "L").unwrap().len(), 2);
        assert_eq!(
            protocol_versions("TLSv1.3", "L").unwrap()[0].version,
            rustls::ProtocolVersion::TLSv1_3
        );
        assert_eq!(protocol_versions("TLSv1.1, TLSv1.2", "L").unwrap().len(), 1);
        assert!(protocol_versions("TLSv1.1", "L").is_err());
        assert!(protocol_versions("TLSv9", "L").is_err());
    }

    #[test]
    fn encrypted_keys_are_refused_with_advice() {
        let e = private_key(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n",
            true,
        )
        .unwrap_err();
        assert!(
            e.contains("encrypted private keys (ssl.key.password) are not supported"),
            "{e}"
        );
    }
}
