//! SCRAM credentials (KIP-554): AlterUserScramCredentials stores them, DescribeUserScramCredentials
//! lists mechanisms and iteration counts. As in Kafka, the broker keeps the salt, StoredKey and
//! ServerKey derived from the client's salted password (RFC 5802), never the password itself.
//! SASL/SCRAM on a SASL listener authenticates against them (`security::sasl::scram`); the
//! validation rules are Kafka's `ScramControlManager`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use crate::cluster::write_atomically;

const FILE: &str = "klamm-scram-credentials.json";
/// `ScramMechanism.minIterations` (both mechanisms).
pub const MIN_ITERATIONS: i32 = 4096;
/// `ScramControlManager.MAX_ITERATIONS`
pub const MAX_ITERATIONS: i32 = 16384;

/// `ScramMechanism` as numbered on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Mechanism {
    #[serde(rename = "SCRAM-SHA-256")]
    Sha256,
    #[serde(rename = "SCRAM-SHA-512")]
    Sha512,
}

impl Mechanism {
    pub fn from_type(t: i8) -> Option<Mechanism> {
        match t {
            1 => Some(Mechanism::Sha256),
            2 => Some(Mechanism::Sha512),
            _ => None,
        }
    }

    pub fn type_id(self) -> i8 {
        match self {
            Mechanism::Sha256 => 1,
            Mechanism::Sha512 => 2,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct StoredCredential {
    user: String,
    mechanism: Mechanism,
    salt: String,
    stored_key: String,
    server_key: String,
    iterations: i32,
}

#[derive(Serialize, Deserialize, Default)]
struct StoredFile {
    version: u32,
    credentials: Vec<StoredCredential>,
}

/// Kafka's `ScramCredential`: what the server needs to verify a client proof. Secret: no `Debug`.
pub struct ScramCredential {
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub iterations: i32,
}

/// Why one user's alteration was refused (mapped to Kafka codes by the handler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScramError {
    DuplicateResource(String),
    UnacceptableCredential(String),
    UnsupportedMechanism(String),
    ResourceNotFound(String),
    Storage(String),
}

/// One requested change.
pub enum Alteration {
    Delete {
        user: String,
        mechanism: i8,
    },
    Upsert {
        user: String,
        mechanism: i8,
        iterations: i32,
        salt: Vec<u8>,
        salted_password: Vec<u8>,
    },
}

/// A user's `(mechanism type, iterations)` pairs, or why they cannot be described.
pub type DescribeResult = Result<Vec<(i8, i32)>, ScramError>;

/// Persistent credential store.
pub struct ScramStore {
    path: PathBuf,
    creds: Mutex<BTreeMap<(String, Mechanism), StoredCredential>>,
}

impl ScramStore {
    pub fn open(data_dir: &Path) -> std::io::Result<ScramStore> {
        let path = data_dir.join(FILE);
        let file: StoredFile = crate::cluster::read_json(&path)?.unwrap_or_default();
        let creds = file
            .credentials
            .into_iter()
            .map(|c| ((c.user.clone(), c.mechanism), c))
            .collect();
        Ok(ScramStore {
            path,
            creds: Mutex::new(creds),
        })
    }

    /// Applies a request's deletions and upsertions; returns one result per user, in the
    /// order Kafka reports them (deletions, upsertions, then errors).
    pub fn alter(&self, changes: Vec<Alteration>) -> Vec<(String, Result<(), ScramError>)> {
        let mut creds = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        let dup = || {
            ScramError::DuplicateResource(
                "A user credential cannot be altered twice in the same request".into(),
            )
        };
        let mut errors: HashMap<String, ScramError> = HashMap::new();
        let mut error_order: Vec<String> = Vec::new();
        let mut deletions: BTreeMap<String, Mechanism> = BTreeMap::new();
        let mut upserts: BTreeMap<String, (Mechanism, i32, Vec<u8>, Vec<u8>)> = BTreeMap::new();
        let mut fail = |errors: &mut HashMap<String, ScramError>, user: &str, e: ScramError| {
            if !errors.contains_key(user) {
                error_order.push(user.to_string());
            }
            errors.insert(user.to_string(), e);
        };
        for change in changes {
            match change {
                Alteration::Delete { user, mechanism } => {
                    if errors.contains_key(&user) {
                        continue;
                    }
                    if deletions.remove(&user).is_some() {
                        fail(&mut errors, &user, dup());
                        continue;
                    }
                    match validate(&user, mechanism) {
                        Err(e) => fail(&mut errors, &user, e),
                        Ok(m) if !creds.contains_key(&(user.clone(), m)) => fail(
                            &mut errors,
                            &user,
                            ScramError::ResourceNotFound(
                                "Attempt to delete a user credential that does not exist".into(),
                            ),
                        ),
                        Ok(m) => {
                            deletions.insert(user, m);
                        }
                    }
                }
                Alteration::Upsert {
                    user,
                    mechanism,
                    iterations,
                    salt,
                    salted_password,
                } => {
                    if errors.contains_key(&user) {
                        continue;
                    }
                    if deletions.remove(&user).is_some() || upserts.remove(&user).is_some() {
                        fail(&mut errors, &user, dup());
                        continue;
                    }
                    match validate(&user, mechanism) {
                        Err(e) => fail(&mut errors, &user, e),
                        Ok(_) if iterations < MIN_ITERATIONS => fail(
                            &mut errors,
                            &user,
                            ScramError::UnacceptableCredential("Too few iterations".into()),
                        ),
                        Ok(_) if iterations > MAX_ITERATIONS => fail(
                            &mut errors,
                            &user,
                            ScramError::UnacceptableCredential("Too many iterations".into()),
                        ),
                        Ok(m) => {
                            upserts.insert(user, (m, iterations, salt, salted_password));
                        }
                    }
                }
            }
        }
        let mut results = Vec::new();
        let mut next = creds.clone();
        for (user, m) in &deletions {
            next.remove(&(user.clone(), *m));
            results.push((user.clone(), Ok(())));
        }
        for (user, (m, iterations, salt, salted)) in &upserts {
            let (stored_key, server_key) = derive_keys(*m, salted);
            next.insert(
                (user.clone(), *m),
                StoredCredential {
                    user: user.clone(),
                    mechanism: *m,
                    salt: STANDARD.encode(salt),
                    stored_key: STANDARD.encode(stored_key),
                    server_key: STANDARD.encode(server_key),
                    iterations: *iterations,
                },
            );
            results.push((user.clone(), Ok(())));
        }
        if !deletions.is_empty() || !upserts.is_empty() {
            if let Err(e) = persist(&self.path, &next) {
                let msg = format!("failed to store credentials: {e}");
                return results
                    .into_iter()
                    .map(|(u, _)| (u, Err(ScramError::Storage(msg.clone()))))
                    .chain(error_order.into_iter().map(|u| {
                        let e = errors
                            .remove(&u)
                            .unwrap_or_else(|| ScramError::Storage(msg.clone()));
                        (u, Err(e))
                    }))
                    .collect();
            }
            *creds = next;
        }
        for user in error_order {
            if let Some(e) = errors.remove(&user) {
                results.push((user, Err(e)));
            }
        }
        results
    }

    /// The credential SASL/SCRAM authenticates `user` against (`CredentialCache`), if any.
    pub fn credential(&self, user: &str, mechanism: Mechanism) -> Option<ScramCredential> {
        let creds = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        let c = creds.get(&(user.to_string(), mechanism))?;
        Some(ScramCredential {
            salt: STANDARD.decode(&c.salt).ok()?,
            stored_key: STANDARD.decode(&c.stored_key).ok()?,
            server_key: STANDARD.decode(&c.server_key).ok()?,
            iterations: c.iterations,
        })
    }

    /// `ScramImage.describe`: `None` users lists everyone.
    pub fn describe(&self, users: Option<Vec<String>>) -> Vec<(String, DescribeResult)> {
        let creds = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        let mut unique: BTreeMap<String, bool> = BTreeMap::new();
        match users {
            Some(list) if !list.is_empty() => {
                for u in list {
                    let dup = unique.contains_key(&u);
                    unique.insert(u, dup);
                }
            }
            _ => {
                for (u, _) in creds.keys() {
                    unique.insert(u.clone(), false);
                }
            }
        }
        unique
            .into_iter()
            .map(|(user, duplicate)| {
                if duplicate {
                    let msg = format!("Cannot describe SCRAM credentials for the same user twice in a single request: {user}");
                    return (user, Err(ScramError::DuplicateResource(msg)));
                }
                let infos: Vec<(i8, i32)> = creds
                    .iter()
                    .filter(|((u, _), _)| *u == user)
                    .map(|((_, m), c)| (m.type_id(), c.iterations))
                    .collect();
                if infos.is_empty() {
                    let msg = format!("Attempt to describe a user credential that does not exist: {user}");
                    (user, Err(ScramError::ResourceNotFound(msg)))
                } else {
                    (user, Ok(infos))
                }
            })
            .collect()
    }
}

fn validate(user: &str, mechanism: i8) -> Result<Mechanism, ScramError> {
    if user.is_empty() {
        return Err(ScramError::UnacceptableCredential(
            "Username must not be empty".into(),
        ));
    }
    Mechanism::from_type(mechanism)
        .ok_or_else(|| ScramError::UnsupportedMechanism("Unknown SCRAM mechanism".into()))
}

/// RFC 5802: StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key").
fn derive_keys(m: Mechanism, salted_password: &[u8]) -> (Vec<u8>, Vec<u8>) {
    macro_rules! keys {
        ($h:ty) => {{
            let hmac = |data: &[u8]| -> Vec<u8> {
                let mut mac = <Hmac<$h> as KeyInit>::new_from_slice(salted_password)
                    .expect("HMAC accepts keys of any length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            };
            let client_key = hmac(b"Client Key");
            (<$h>::digest(&client_key).to_vec(), hmac(b"Server Key"))
        }};
    }
    match m {
        Mechanism::Sha256 => keys!(Sha256),
        Mechanism::Sha512 => keys!(Sha512),
    }
}

/// RFC 5802's `Hi(password, salt, i)`: PBKDF2 with HMAC-SHA-256/512 and one output block,
/// what a client (Kafka's `ScramFormatter.hi`, `kafka-configs --add-config`) computes before it
/// sends AlterUserScramCredentials. The broker needs it only to provision users it creates
/// itself (the dev-security switch).
pub fn salted_password(m: Mechanism, password: &[u8], salt: &[u8], iterations: i32) -> Vec<u8> {
    macro_rules! hi {
        ($h:ty) => {{
            let mac = |data: &[u8]| -> Vec<u8> {
                let mut mac = <Hmac<$h> as KeyInit>::new_from_slice(password)
                    .expect("HMAC accepts keys of any length");
                mac.update(data);
                mac.finalize().into_bytes().to_vec()
            };
            let mut first = salt.to_vec();
            first.extend_from_slice(&1u32.to_be_bytes());
            let mut u = mac(&first);
            let mut out = u.clone();
            for _ in 1..iterations.max(1) {
                u = mac(&u);
                out.iter_mut().zip(&u).for_each(|(o, b)| *o ^= b);
            }
            out
        }};
    }
    match m {
        Mechanism::Sha256 => hi!(Sha256),
        Mechanism::Sha512 => hi!(Sha512),
    }
}

fn persist(
    path: &Path,
    creds: &BTreeMap<(String, Mechanism), StoredCredential>,
) -> std::io::Result<()> {
    let file = StoredFile {
        version: 1,
        credentials: creds.values().cloned().collect(),
    };
    let body = serde_json::to_vec_pretty(&file).map_err(std::io::Error::other)?;
    write_atomically(path, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_password_matches_rfc_7677() {
        // RFC 7677 section 3: user "user", password "pencil", 4096 iterations. The client's
        // proof there follows from this SaltedPassword; the StoredKey derived from it must
        // verify that proof, which `derive_keys` is tested for below.
        let salt = STANDARD.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let salted = salted_password(Mechanism::Sha256, b"pencil", &salt, 4096);
        let (_, server_key) = derive_keys(Mechanism::Sha256, &salted);
        // ServerSignature = HMAC(ServerKey, AuthMessage); the RFC gives
        // v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=.
        let auth = "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&server_key).unwrap();
        mac.update(auth.as_bytes());
        assert_eq!(
            STANDARD.encode(mac.finalize().into_bytes()),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    fn upsert(user: &str, mech: i8, iterations: i32) -> Alteration {
        Alteration::Upsert {
            user: user.into(),
            mechanism: mech,
            iterations,
            salt: b"salt".to_vec(),
            salted_password: b"salted".to_vec(),
        }
    }

    #[test]
    fn alter_validates_like_kafka_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let s = ScramStore::open(dir.path()).unwrap();
        let r = s.alter(vec![
            upsert("alice", 1, 8192),
            upsert("bob", 2, 100),
            upsert("", 1, 8192),
            upsert("carol", 9, 8192),
            upsert("dave", 1, 20000),
            Alteration::Delete {
                user: "erin".into(),
                mechanism: 1,
            },
            upsert("frank", 1, 4096),
            upsert("frank", 2, 4096),
        ]);
        let get = |u: &str| r.iter().find(|(x, _)| x == u).unwrap().1.clone();
        assert_eq!(get("alice"), Ok(()));
        assert!(
            matches!(get("bob"), Err(ScramError::UnacceptableCredential(m)) if m == "Too few iterations")
        );
        assert!(matches!(
            get(""),
            Err(ScramError::UnacceptableCredential(_))
        ));
        assert!(matches!(
            get("carol"),
            Err(ScramError::UnsupportedMechanism(_))
        ));
        assert!(
            matches!(get("dave"), Err(ScramError::UnacceptableCredential(m)) if m == "Too many iterations")
        );
        assert!(matches!(get("erin"), Err(ScramError::ResourceNotFound(_))));
        assert!(matches!(
            get("frank"),
            Err(ScramError::DuplicateResource(_))
        ));
        drop(s);
        let s = ScramStore::open(dir.path()).unwrap();
        let d = s.describe(None);
        assert_eq!(d, vec![("alice".to_string(), Ok(vec![(1, 8192)]))]);
        let d = s.describe(Some(vec!["alice".into(), "alice".into(), "zed".into()]));
        assert!(matches!(d[0].1, Err(ScramError::DuplicateResource(_))));
        assert!(matches!(d[1].1, Err(ScramError::ResourceNotFound(_))));
    }

    #[test]
    fn keys_follow_rfc5802() {
        // RFC 7677 test vector (SCRAM-SHA-256): SaltedPassword of "pencil" with the given salt.
        let salted = STANDARD
            .decode("xKSVEDI6tPlSysH6mUQZOeeOp01r6B3fcJbodRPcYV0=")
            .unwrap();
        let (stored, server) = derive_keys(Mechanism::Sha256, &salted);
        assert_eq!(
            STANDARD.encode(stored),
            "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
        );
        assert_eq!(
            STANDARD.encode(server),
            "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
        );
    }
}
