//! Development certificates: a private CA and a server certificate signed by it, made once in
//! the data directory (`<data.dir>/dev-tls/`) and reused on later starts, so a developer can
//! switch an SSL listener on without running openssl. Clients trust `ca.pem`.
//!
//! Also the certificate factory the tests use (a CA, server and client certificates).

use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

/// The files of the development CA and server certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevCertificates {
    /// The CA certificate (PEM): clients' `ssl.ca.location`, a broker's truststore.
    pub ca_cert_pem_path: PathBuf,
    /// The CA private key (PEM, mode 0600), to sign client certificates for mTLS.
    pub ca_key_pem_path: PathBuf,
    /// The server keystore (PEM: private key, certificate, CA certificate), the broker's
    /// `ssl.keystore.location`. Mode 0600.
    pub server_keystore_pem_path: PathBuf,
    /// The server certificate alone (PEM).
    pub server_cert_pem_path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum DevCertError {
    #[error("dev certificates in {dir}: {source}")]
    Io {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("dev certificates: {0}")]
    Generate(#[from] rcgen::Error),
}

/// The directory under the data directory holding the development certificates.
pub const DIR: &str = "dev-tls";

/// Creates the CA and a server certificate (SANs localhost, 127.0.0.1, ::1 and `hostnames`)
/// in `<data_dir>/dev-tls/` unless they are already there, and returns their paths. Existing
/// files are reused as they are (a host name added later needs the directory removed).
pub fn ensure_certificates(
    data_dir: &Path,
    hostnames: &[String],
) -> Result<DevCertificates, DevCertError> {
    let dir = data_dir.join(DIR);
    let paths = DevCertificates {
        ca_cert_pem_path: dir.join("ca.pem"),
        ca_key_pem_path: dir.join("ca-key.pem"),
        server_keystore_pem_path: dir.join("server-keystore.pem"),
        server_cert_pem_path: dir.join("server.pem"),
    };
    let io = |source| DevCertError::Io {
        dir: dir.clone(),
        source,
    };
    let all_there = [
        &paths.ca_cert_pem_path,
        &paths.ca_key_pem_path,
        &paths.server_keystore_pem_path,
        &paths.server_cert_pem_path,
    ]
    .iter()
    .all(|p| p.is_file());
    if all_there {
        return Ok(paths);
    }
    std::fs::create_dir_all(&dir).map_err(io)?;
    let ca = CertificateAuthority::new("Klamm development CA")?;
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for h in hostnames {
        if !names.contains(h) {
            names.push(h.clone());
        }
    }
    let server = ca.server("klamm", &names)?;
    write_file(&paths.ca_key_pem_path, &ca.key_pem(), true).map_err(io)?;
    write_file(
        &paths.server_keystore_pem_path,
        &server.keystore_pem(),
        true,
    )
    .map_err(io)?;
    write_file(&paths.server_cert_pem_path, &server.cert_pem, false).map_err(io)?;
    // The CA certificate last: its presence with the others means a complete set.
    write_file(&paths.ca_cert_pem_path, &ca.cert_pem, false).map_err(io)?;
    Ok(paths)
}

/// Writes `contents` to `path` atomically (a temporary file renamed), mode 0600 for secrets.
fn write_file(path: &Path, contents: &str, secret: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// A certificate authority that signs server and client certificates.
pub struct CertificateAuthority {
    issuer: Issuer<'static, KeyPair>,
    /// The CA certificate, PEM.
    pub cert_pem: String,
}

/// A signed certificate and its private key.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
    /// The issuing CA's certificate, PEM.
    pub ca_pem: String,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl Issued {
    /// Key, certificate and CA certificate in one PEM file: Kafka's PEM keystore layout.
    pub fn keystore_pem(&self) -> String {
        format!("{}{}{}", self.key_pem, self.cert_pem, self.ca_pem)
    }
}

impl CertificateAuthority {
    /// A new self-signed CA with common name `cn`.
    pub fn new(cn: &str) -> Result<CertificateAuthority, rcgen::Error> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        Ok(CertificateAuthority {
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's private key, PEM.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses) with common name `cn`.
    pub fn server(&self, cn: &str, names: &[String]) -> Result<Issued, rcgen::Error> {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n.clone().try_into().map(SanType::DnsName),
            })
            .collect::<Result<_, _>>()?;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        self.issue(params)
    }

    /// A client certificate whose subject is `dn`, given most general first as X.509 encodes
    /// it (e.g. `[(C, "DE"), (O, "Example"), (CN, "client")]`).
    pub fn client(&self, dn: &[(DnType, &str)]) -> Result<Issued, rcgen::Error> {
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        for (t, v) in dn {
            name.push(t.clone(), *v);
        }
        params.distinguished_name = name;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        self.issue(params)
    }

    fn issue(&self, params: CertificateParams) -> Result<Issued, rcgen::Error> {
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            ca_pem: self.cert_pem.clone(),
            cert_der: cert.der().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn dev_certificates_are_made_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure_certificates(dir.path(), &["broker.test".to_string()]).unwrap();
        let ca = std::fs::read_to_string(&first.ca_cert_pem_path).unwrap();
        let keystore = std::fs::read_to_string(&first.server_keystore_pem_path).unwrap();
        assert!(
            keystore.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{keystore}"
        );
        assert_eq!(keystore.matches("-----BEGIN CERTIFICATE-----").count(), 2);
        for secret in [&first.server_keystore_pem_path, &first.ca_key_pem_path] {
            let mode = std::fs::metadata(secret).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", secret.display());
        }
        let again = ensure_certificates(dir.path(), &[]).unwrap();
        assert_eq!(again, first);
        assert_eq!(
            std::fs::read_to_string(&again.ca_cert_pem_path).unwrap(),
            ca
        );
        // The server certificate is for localhost, the loopback addresses and the host given.
        let server = std::fs::read(&first.server_cert_pem_path).unwrap();
        let der = rustls_pki_types::CertificateDer::pem_slice_iter(&server)
            .next()
            .unwrap()
            .unwrap();
        let (_, cert) = <x509_parser::prelude::X509Certificate as x509_parser::prelude::FromDer<
            _,
        >>::from_der(der.as_ref())
        .unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        let names: Vec<String> = san
            .value
            .general_names
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "DNSName(localhost)",
                "IPAddress(7f:00:00:01)",
                "IPAddress(00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01)",
                "DNSName(broker.test)"
            ]
        );
    }

    use rustls_pki_types::pem::PemObject;
}
