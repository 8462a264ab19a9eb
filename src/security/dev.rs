//! `klamm serve --dev-security`: a secure broker from one switch, beyond what Kafka offers.
//!
//! Kafka's secure set-up takes a CA, keystores, JAAS files, SCRAM users made with
//! `kafka-configs` and an authorizer, each configured by hand. For development this switch does
//! all of it in the data directory (`dev-security/`), once, and reuses it on later starts:
//! - a CA and a server certificate (PEM), and a client certificate for `alice` (mTLS);
//! - three listeners: PLAINTEXT on the `listen` port, SASL_SSL on the next port, SSL (client
//!   certificates required, principal = the certificate's CN) on the one after;
//! - two users with generated passwords: `admin` (a super user) and `alice` (read and write on
//!   every topic, group and transactional id), for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512;
//! - Kafka's StandardAuthorizer with `allow.everyone.if.no.acl.found=false`, so ANONYMOUS
//!   (PLAINTEXT) clients may do nothing until an ACL says so.
//!
//! Everything is ordinary settings underneath: the layer sits below the config file, so any
//! of them can still be overridden. The generated passwords are printed once at start-up on
//! stdout with ready-to-paste client configs (and kept in `dev-security/`, mode 0600); they
//! never go to the log.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use rcgen::DnType;

use crate::cluster::{read_json, write_atomically};
use crate::security::acl::store::AclStore;
use crate::security::acl::{
    AclBinding, AclOperation, AclPermissionType, PatternType, ResourceType, CLUSTER_NAME,
};
use crate::security::scram::{salted_password, Alteration, Mechanism, ScramStore};
use crate::security::tls::dev::CertificateAuthority;
use crate::settings::Settings;

/// The directory under the data directory.
pub const DIR: &str = "dev-security";
const USERS_FILE: &str = "users.json";
/// The super user.
pub const ADMIN: &str = "admin";
/// The ordinary user.
pub const USER: &str = "alice";
/// SCRAM iterations for the generated users (Kafka's `kafka-configs` default).
pub const SCRAM_ITERATIONS: i32 = 4096;

#[derive(Clone, Serialize, Deserialize)]
struct UsersFile {
    admin_password: String,
    user_password: String,
}

/// The generated material and where each listener goes.
pub struct DevSecurity {
    pub dir: PathBuf,
    pub admin_password: String,
    pub user_password: String,
    /// Host the three listeners bind (the host of `listen`).
    pub bind_host: String,
    pub plaintext_port: u16,
    pub sasl_ssl_port: u16,
    pub ssl_port: u16,
}

impl DevSecurity {
    /// Creates (or reloads) the users of `data_dir/dev-security`. `listen` is the PLAINTEXT
    /// listener (HOST:PORT); the secure listeners take the next two ports, or port 0 each when
    /// `listen` asks for an ephemeral port.
    pub fn prepare(data_dir: &Path, listen: &str) -> io::Result<DevSecurity> {
        let dir = data_dir.join(DIR);
        fs::create_dir_all(&dir)?;
        let users_path = dir.join(USERS_FILE);
        let users = match read_json::<UsersFile>(&users_path)? {
            Some(users) => users,
            None => {
                let users = UsersFile {
                    admin_password: generate_password(),
                    user_password: generate_password(),
                };
                let body = serde_json::to_vec_pretty(&users).map_err(io::Error::other)?;
                write_private(&users_path, &body)?;
                users
            }
        };
        let (host, port) = listen.rsplit_once(':').ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("listen {listen:?}: expected HOST:PORT"),
            )
        })?;
        let port: u16 = port.parse().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("listen {listen:?}: bad port"),
            )
        })?;
        let next = |n: u16| if port == 0 { 0 } else { port.saturating_add(n) };
        Ok(DevSecurity {
            dir,
            admin_password: users.admin_password,
            user_password: users.user_password,
            bind_host: host.to_string(),
            plaintext_port: port,
            sasl_ssl_port: next(1),
            ssl_port: next(2),
        })
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn server_keystore_path(&self) -> PathBuf {
        self.dir.join("server.pem")
    }

    pub fn client_cert_path(&self) -> PathBuf {
        self.dir.join(format!("{USER}-cert.pem"))
    }

    pub fn client_key_path(&self) -> PathBuf {
        self.dir.join(format!("{USER}-key.pem"))
    }

    /// The settings the switch stands for, as (Kafka name, value), layered below the config
    /// file.
    pub fn settings_layer(&self) -> Vec<(String, String)> {
        let h = &self.bind_host;
        let jaas = format!(
            "org.apache.kafka.common.security.plain.PlainLoginModule required \
             user_{ADMIN}=\"{}\" user_{USER}=\"{}\";",
            self.admin_password, self.user_password
        );
        let pairs: Vec<(&str, String)> = vec![
            (
                "listeners",
                format!(
                    "PLAINTEXT://{h}:{},SASL_SSL://{h}:{},SSL://{h}:{}",
                    self.plaintext_port, self.sasl_ssl_port, self.ssl_port
                ),
            ),
            ("ssl.keystore.type", "PEM".into()),
            (
                "ssl.keystore.location",
                self.server_keystore_path().display().to_string(),
            ),
            ("ssl.truststore.type", "PEM".into()),
            (
                "ssl.truststore.location",
                self.ca_path().display().to_string(),
            ),
            ("listener.name.ssl.ssl.client.auth", "required".into()),
            (
                "ssl.principal.mapping.rules",
                "RULE:^CN=([^,]+).*$/$1/,DEFAULT".into(),
            ),
            (
                "sasl.enabled.mechanisms",
                "SCRAM-SHA-512,SCRAM-SHA-256,PLAIN".into(),
            ),
            ("listener.name.sasl_ssl.plain.sasl.jaas.config", jaas),
            (
                "authorizer.class.name",
                crate::security::STANDARD_AUTHORIZER.into(),
            ),
            ("super.users", format!("User:{ADMIN}")),
            ("allow.everyone.if.no.acl.found", "false".into()),
        ];
        pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Creates, once, the CA, the server keystore and alice's client certificate.
    fn ensure_certificates(&self) -> anyhow::Result<()> {
        let files = [
            self.ca_path(),
            self.server_keystore_path(),
            self.client_cert_path(),
            self.client_key_path(),
        ];
        if files.iter().all(|p| p.is_file()) {
            return Ok(());
        }
        let ca = CertificateAuthority::new("Klamm development CA")?;
        let names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .iter()
            .map(|s| s.to_string())
            .chain(
                (!matches!(self.bind_host.as_str(), "" | "0.0.0.0" | "::" | "[::]"))
                    .then(|| self.bind_host.clone()),
            )
            .collect();
        let server = ca.server("klamm", &names)?;
        let client = ca.client(&[(DnType::CommonName, USER)])?;
        write_private(
            &self.server_keystore_path(),
            server.keystore_pem().as_bytes(),
        )?;
        write_private(&self.client_key_path(), client.key_pem.as_bytes())?;
        write_atomically(&self.client_cert_path(), client.cert_pem.as_bytes())?;
        // The CA certificate last: its presence with the others means a complete set.
        write_atomically(&self.ca_path(), ca.cert_pem.as_bytes())?;
        Ok(())
    }

    /// `alice`'s ACLs: everything on every topic, group and transactional id, and idempotent
    /// writes on the cluster (KIP-679), from any host.
    fn alice_acls() -> Vec<AclBinding> {
        let acl = |rt: ResourceType, name: &str, op: AclOperation| AclBinding {
            resource_type: rt,
            resource_name: name.to_string(),
            pattern_type: PatternType::Literal,
            principal: format!("User:{USER}"),
            host: "*".to_string(),
            operation: op,
            permission_type: AclPermissionType::Allow,
        };
        vec![
            acl(ResourceType::Topic, "*", AclOperation::All),
            acl(ResourceType::Group, "*", AclOperation::All),
            acl(ResourceType::TransactionalId, "*", AclOperation::All),
            acl(
                ResourceType::Cluster,
                CLUSTER_NAME,
                AclOperation::IdempotentWrite,
            ),
        ]
    }

    /// Stores what the broker must know of the generated users before it starts: the
    /// certificates, their SCRAM credentials (both mechanisms) and `alice`'s ACLs. Idempotent.
    pub fn provision(&self, settings: &Settings) -> anyhow::Result<()> {
        let data_dir = settings.data_dir();
        self.ensure_certificates()?;
        let store = AclStore::new(&data_dir);
        let mut acls = store.load()?;
        let before = acls.len();
        acls.extend(Self::alice_acls());
        if acls.len() != before {
            store.save(&acls)?;
        }
        let scram = ScramStore::open(&data_dir)?;
        let mut changes = Vec::new();
        for (user, password) in [(ADMIN, &self.admin_password), (USER, &self.user_password)] {
            for m in [Mechanism::Sha256, Mechanism::Sha512] {
                // An ASCII salt, as Kafka's `ScramFormatter.secureRandomBytes` makes (a base-36
                // rendering of random bits): librdkafka up to 2.0 (Debian's kcat) mishandles
                // salts with NUL bytes.
                let salt = generate_password().into_bytes();
                let salted = salted_password(m, password.as_bytes(), &salt, SCRAM_ITERATIONS);
                changes.push((user, m, salt, salted));
            }
        }
        // One request may carry one change per user: apply them mechanism by mechanism.
        for m in [Mechanism::Sha256, Mechanism::Sha512] {
            let batch = changes
                .iter()
                .filter(|c| c.1 == m)
                .map(|(user, m, salt, salted)| Alteration::Upsert {
                    user: user.to_string(),
                    mechanism: m.type_id(),
                    iterations: SCRAM_ITERATIONS,
                    salt: salt.clone(),
                    salted_password: salted.clone(),
                })
                .collect();
            for (user, result) in scram.alter(batch) {
                if let Err(e) = result {
                    anyhow::bail!("cannot store the SCRAM credential of {user}: {e:?}");
                }
            }
        }
        Ok(())
    }

    /// Ready-to-paste client configs for `alice`, given the advertised SASL_SSL and SSL
    /// addresses; also written to `dev-security/` so they can be passed by file.
    pub fn client_configs(&self, sasl_ssl: &str, ssl: &str) -> String {
        let ca = self.ca_path().display().to_string();
        let pw = &self.user_password;
        let librdkafka = format!(
            "bootstrap.servers={sasl_ssl}\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.username={USER}\nsasl.password={pw}\nssl.ca.location={ca}\n"
        );
        let java = format!(
            "bootstrap.servers={sasl_ssl}\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"{USER}\" password=\"{pw}\";\nssl.truststore.type=PEM\nssl.truststore.location={ca}\n"
        );
        let java_admin = format!(
            "bootstrap.servers={sasl_ssl}\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n\
             sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"{ADMIN}\" password=\"{}\";\nssl.truststore.type=PEM\nssl.truststore.location={ca}\n",
            self.admin_password
        );
        let mtls = format!(
            "bootstrap.servers={ssl}\nsecurity.protocol=SSL\nssl.ca.location={ca}\n\
             ssl.certificate.location={}\nssl.key.location={}\n",
            self.client_cert_path().display(),
            self.client_key_path().display()
        );
        let python = format!(
            "KafkaProducer(bootstrap_servers=\"{sasl_ssl}\", security_protocol=\"SASL_SSL\",\n    \
             sasl_mechanism=\"SCRAM-SHA-512\", sasl_plain_username=\"{USER}\",\n    \
             sasl_plain_password=\"{pw}\", ssl_cafile=\"{ca}\")\n"
        );
        for (name, body) in [
            ("alice-librdkafka.properties", &librdkafka),
            ("alice-java.properties", &java),
            ("admin-java.properties", &java_admin),
            ("alice-mtls-librdkafka.properties", &mtls),
        ] {
            if let Err(e) = write_private(&self.dir.join(name), body.as_bytes()) {
                tracing::warn!("cannot write {name} in {}: {e}", self.dir.display());
            }
        }
        format!(
            "klamm dev security: users {ADMIN} (super user) and {USER}; CA {ca}\n\
             --- librdkafka / confluent-kafka / kcat -F ({USER}, SASL_SSL) ---\n{librdkafka}\
             --- Java client ({USER}, SASL_SSL; {ADMIN}: {dir}/admin-java.properties) ---\n{java}\
             --- librdkafka ({USER}, SSL with a client certificate) ---\n{mtls}\
             --- kafka-python ({USER}) ---\n{python}\
             (these files are in {dir})\n",
            dir = self.dir.display()
        )
    }
}

/// 128 bits from the OS's generator (UUID v4 draws 122 of them), as 32 hex digits.
fn generate_password() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Writes a file only its owner can read (keys, passwords).
pub fn write_private(path: &Path, body: &[u8]) -> io::Result<()> {
    crate::cluster::write_atomically_with_mode(path, body, 0o600)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificates_are_made_once_with_private_keys_only_the_owner_reads() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let dev = DevSecurity::prepare(dir.path(), "127.0.0.1:19092").unwrap();
        dev.ensure_certificates().unwrap();
        for secret in [dev.server_keystore_path(), dev.client_key_path()] {
            let mode = fs::metadata(&secret).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", secret.display());
        }
        let keystore = fs::read_to_string(dev.server_keystore_path()).unwrap();
        assert!(
            keystore.starts_with("-----BEGIN PRIVATE KEY-----"),
            "{keystore}"
        );
        assert_eq!(keystore.matches("-----BEGIN CERTIFICATE-----").count(), 2);
        let ca = fs::read(dev.ca_path()).unwrap();
        // A second start reuses them.
        dev.ensure_certificates().unwrap();
        assert_eq!(fs::read(dev.ca_path()).unwrap(), ca);
    }

    #[test]
    fn users_are_generated_once_and_listener_ports_follow_listen() {
        let dir = tempfile::tempdir().unwrap();
        let first = DevSecurity::prepare(dir.path(), "127.0.0.1:19092").unwrap();
        assert_eq!(first.admin_password.len(), 32);
        assert_ne!(first.admin_password, first.user_password);
        assert_eq!(
            (first.plaintext_port, first.sasl_ssl_port, first.ssl_port),
            (19092, 19093, 19094)
        );
        let again = DevSecurity::prepare(dir.path(), "127.0.0.1:0").unwrap();
        assert_eq!(again.admin_password, first.admin_password);
        assert_eq!((again.sasl_ssl_port, again.ssl_port), (0, 0));
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.path().join(DIR).join(USERS_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let layer = first.settings_layer();
        let get = |k: &str| layer.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(
            get("listeners").as_deref(),
            Some("PLAINTEXT://127.0.0.1:19092,SASL_SSL://127.0.0.1:19093,SSL://127.0.0.1:19094")
        );
        assert_eq!(get("super.users").as_deref(), Some("User:admin"));
    }
}
