//! TLS test fixtures: a throw-away CA with server and client certificates (Klamm's own
//! `security::tls::dev` factory, rcgen underneath), PEM files in a temporary directory, rustls
//! client configs, and a broker with a PLAINTEXT and an SSL listener.

use std::path::PathBuf;
use std::sync::Arc;

use klamm::security::tls::dev::{CertificateAuthority, Issued};
use rcgen::DnType;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};

use super::{Broker, Client};

/// The subject of the standard client certificate, most general RDN first as encoded; Java
/// prints it `CN=client,OU=eng,O=Example,C=DE`.
pub const CLIENT_DN: &[(DnType, &str)] = &[
    (DnType::CountryName, "DE"),
    (DnType::OrganizationName, "Example"),
    (DnType::OrganizationalUnitName, "eng"),
    (DnType::CommonName, "client"),
];

pub struct Pki {
    pub ca: CertificateAuthority,
    pub server: Issued,
    pub dir: tempfile::TempDir,
    pub ca_path: PathBuf,
    pub keystore_path: PathBuf,
}

impl Pki {
    pub fn new() -> Pki {
        let ca = CertificateAuthority::new("Klamm test CA").expect("CA");
        let server = ca
            .server(
                "klamm-test-server",
                &["localhost".into(), "127.0.0.1".into()],
            )
            .expect("server cert");
        let dir = tempfile::Builder::new()
            .prefix("klamm-tls-test-")
            .tempdir()
            .expect("temp dir");
        let ca_path = dir.path().join("ca.pem");
        let keystore_path = dir.path().join("server-keystore.pem");
        std::fs::write(&ca_path, &ca.cert_pem).expect("write CA");
        std::fs::write(&keystore_path, server.keystore_pem()).expect("write keystore");
        Pki {
            ca,
            server,
            dir,
            ca_path,
            keystore_path,
        }
    }

    /// A client certificate signed by this CA.
    pub fn client_cert(&self, dn: &[(DnType, &str)]) -> Issued {
        self.ca.client(dn).expect("client cert")
    }

    /// Writes `contents` to `name` in the temporary directory.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).expect("write pem");
        p
    }

    /// The settings of an SSL listener named SSL with this PKI's keystore (listener-prefixed,
    /// as Kafka's per-listener settings), plus a PLAINTEXT listener listed first.
    pub fn broker_overrides(&self) -> Vec<(String, String)> {
        vec![
            (
                "listeners".into(),
                "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0".into(),
            ),
            (
                "listener.name.ssl.ssl.keystore.location".into(),
                self.keystore_path.display().to_string(),
            ),
            (
                "listener.name.ssl.ssl.truststore.location".into(),
                self.ca_path.display().to_string(),
            ),
        ]
    }

    /// A broker with [`Pki::broker_overrides`] and `extra`.
    pub fn broker(&self, extra: &[(&str, &str)]) -> Broker {
        let mut all = self.broker_overrides();
        all.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        Broker::with_overrides(&pairs)
    }

    /// A client config trusting this CA, presenting `cert` when given.
    pub fn client_config(
        &self,
        cert: Option<&Issued>,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        client_config(&self.ca.cert_pem, cert, versions)
    }
}

pub const ALL_VERSIONS: &[&SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// A rustls client config (ring) trusting `ca_pem`.
pub fn client_config(
    ca_pem: &str,
    cert: Option<&Issued>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.expect("CA pem")).expect("add CA");
    }
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(versions)
            .expect("versions")
            .with_root_certificates(roots);
    let config = match cert {
        None => builder.with_no_client_auth(),
        Some(c) => {
            let chain = CertificateDer::pem_slice_iter(c.cert_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .expect("client chain");
            let key = PrivateKeyDer::from_pem_slice(c.key_pem.as_bytes()).expect("client key");
            builder
                .with_client_auth_cert(chain, key)
                .expect("client auth")
        }
    };
    Arc::new(config)
}

impl Broker {
    /// A TLS connection to the SSL listener; panics when the handshake fails.
    pub fn tls_client(&self, config: Arc<ClientConfig>) -> Client {
        Client::connect_tls(self.listener("SSL").bound, config, "localhost")
            .unwrap_or_else(|e| panic!("TLS handshake with the SSL listener: {e}"))
    }
}
