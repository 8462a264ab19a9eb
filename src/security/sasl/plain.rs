//! SASL/PLAIN (RFC 4616) as Kafka's `PlainSaslServer` with `PlainServerCallbackHandler`: the
//! users are the `user_<name>="<password>"` options of the listener's `PlainLoginModule` JAAS
//! entry. One message, `[authzid] NUL authcid NUL passwd`; the authorization id must be empty
//! or the user name.

use std::collections::BTreeMap;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::{constant_time_eq, AuthError, Completed, Step};

/// `PlainLoginModule`'s class name, whose entries hold the users.
pub const LOGIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
/// `PlainServerCallbackHandler.JAAS_USER_PREFIX`
pub const USER_PREFIX: &str = "user_";

/// The PLAIN users of one listener: name to password. Secrets: no `Debug`.
pub struct PlainUsers(BTreeMap<String, String>);

impl PlainUsers {
    /// The `user_*` options of the `PlainLoginModule` entries.
    pub fn from_modules(modules: &[super::jaas::LoginModule]) -> PlainUsers {
        let mut users = BTreeMap::new();
        for m in modules.iter().filter(|m| m.class == LOGIN_MODULE) {
            for (k, v) in &m.options {
                if let Some(user) = k.strip_prefix(USER_PREFIX) {
                    users.insert(user.to_string(), v.clone());
                }
            }
        }
        PlainUsers(users)
    }

    /// `PlainServerCallbackHandler.authenticate`. The comparison hashes both sides first, so
    /// its time depends on neither the stored password's length nor where the two differ.
    fn authenticate(&self, user: &str, password: &str) -> bool {
        let presented = Sha256::digest(password.as_bytes());
        match self.0.get(user) {
            Some(expected) => constant_time_eq(&Sha256::digest(expected.as_bytes()), &presented),
            None => {
                // Same work for an unknown user.
                let _ = constant_time_eq(&Sha256::digest(b""), &presented);
                false
            }
        }
    }
}

/// Kafka's split of the message into exactly three fields: at most two NULs separate them,
/// and the third ends at a further NUL if there is one.
fn split3(s: &str) -> [&str; 3] {
    let mut out = ["", "", ""];
    let mut rest = s;
    for slot in out.iter_mut() {
        match rest.find('\0') {
            None => {
                *slot = rest;
                break;
            }
            Some(i) => {
                *slot = &rest[..i];
                rest = &rest[i + 1..];
            }
        }
    }
    out
}

/// `PlainSaslServer.evaluateResponse`.
pub fn evaluate(users: &Arc<PlainUsers>, token: &[u8]) -> Result<Step, AuthError> {
    let response = String::from_utf8_lossy(token);
    let [authzid, username, password] = split3(&response);
    if username.is_empty() {
        return Err(AuthError::Sasl(
            "Authentication failed: username not specified".into(),
        ));
    }
    if password.is_empty() {
        return Err(AuthError::Sasl(
            "Authentication failed: password not specified".into(),
        ));
    }
    if !users.authenticate(username, password) {
        return Err(AuthError::Authentication(
            "Authentication failed: Invalid username or password".into(),
        ));
    }
    if !authzid.is_empty() && authzid != username {
        return Err(AuthError::Authentication(
            "Authentication failed: Client requested an authorization id that is different from username".into(),
        ));
    }
    Ok(Step {
        response: Vec::new(),
        completed: Some(Completed {
            authorization_id: username.to_string(),
            credential_expiry_ms: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::sasl::jaas;

    fn users() -> Arc<PlainUsers> {
        let m = jaas::parse(&format!(
            "{LOGIN_MODULE} required username=\"admin\" password=\"admin-secret\" \
             user_admin=\"admin-secret\" user_alice=\"alice-secret\";"
        ))
        .unwrap();
        Arc::new(PlainUsers::from_modules(&m))
    }

    #[test]
    fn good_bad_and_authzid() {
        let u = users();
        let ok = evaluate(&u, b"\0alice\0alice-secret").unwrap();
        assert_eq!(ok.completed.unwrap().authorization_id, "alice");
        let ok = evaluate(&u, b"alice\0alice\0alice-secret").unwrap();
        assert!(ok.completed.is_some());
        let bad = "Authentication failed: Invalid username or password";
        assert_eq!(
            evaluate(&u, b"\0alice\0wrong"),
            Err(AuthError::Authentication(bad.into()))
        );
        assert_eq!(
            evaluate(&u, b"\0mallory\0alice-secret"),
            Err(AuthError::Authentication(bad.into()))
        );
        assert_eq!(
            evaluate(&u, b"admin\0alice\0alice-secret"),
            Err(AuthError::Authentication("Authentication failed: Client requested an authorization id that is different from username".into()))
        );
        assert!(matches!(evaluate(&u, b"\0\0x"), Err(AuthError::Sasl(_))));
        assert!(matches!(evaluate(&u, b"\0alice"), Err(AuthError::Sasl(_))));
        // A NUL inside the password ends it, as in Kafka's split.
        assert!(evaluate(&u, b"\0alice\0alice-secret\0junk").is_ok());
        // `username`/`password` options are the broker's own client credentials, not users.
        assert!(evaluate(&u, b"\0username\0admin").is_err());
    }
}
