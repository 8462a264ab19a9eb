//! Kafka's `StandardAuthorizer`: decides whether a session may perform an operation on a
//! resource, from the ACL set, `super.users` and `allow.everyone.if.no.acl.found`. The rules are
//! `StandardAuthorizerData.authorize`/`findAclRule`/`findResult`:
//!
//! - a super user (`super.users`, compared as `Type:name`) is always allowed;
//! - the ACLs that apply to a resource are its LITERAL name, the LITERAL wildcard `*` and every
//!   PREFIXED pattern the name starts with; an ACL applies to a session when its principal is the
//!   session's or `User:*` and its host is the client's IP address or `*`;
//! - any applicable DENY wins; else any applicable ALLOW allows;
//! - ALL matches every operation; an ALLOW of READ, WRITE, DELETE or ALTER implies DESCRIBE, and
//!   an ALLOW of ALTER_CONFIGS implies DESCRIBE_CONFIGS (DENY ACLs imply nothing);
//! - when no ACL at all exists for the resource (whoever it names), the answer is
//!   `allow.everyone.if.no.acl.found`; when ACLs exist but none applies, it is denied.
//!
//! Checks read an immutable snapshot behind a read lock (an `Arc` clone, no allocation); ACL
//! changes build a new snapshot, persist the set, then swap the snapshot in, so every connection
//! sees them at once.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use tracing::{debug, info};

use super::binding::*;
use super::store::AclStore;
use crate::security::{KafkaPrincipal, Session};
use crate::settings::Settings;

/// `StandardAuthorizer`'s class name, the one value `authorizer.class.name` accepts.
pub use crate::security::STANDARD_AUTHORIZER;
/// The ZooKeeper-era authorizer, removed in Kafka 4.0.
pub const ACL_AUTHORIZER: &str = "kafka.security.authorizer.AclAuthorizer";
/// Requests an authorizer denied, by resource type and operation.
pub const DENIED_METRIC: &str = "klamm_authorizer_denied_total";

/// Why the authorizer settings cannot be used (a start-up error).
#[derive(Debug, thiserror::Error)]
pub enum AuthorizerError {
    #[error("authorizer.class.name: {0} was removed in Kafka 4.0 together with ZooKeeper; use {STANDARD_AUTHORIZER}")]
    Removed(String),
    #[error("authorizer.class.name: unsupported authorizer {0}; the supported value is {STANDARD_AUTHORIZER} (or empty for no authorizer)")]
    Unsupported(String),
    #[error("super.users: expected a string in format principalType:principalName but got {0}")]
    BadSuperUser(String),
    #[error("cannot load ACLs: {0}")]
    Load(std::io::Error),
}

/// Why an ACL change could not be made durable.
#[derive(Debug, thiserror::Error)]
#[error("failed to persist ACLs: {0}")]
pub struct PersistError(pub std::io::Error);

/// An ACL's host, parsed once: Kafka compares the host string with the client's
/// `InetAddress.getHostAddress()`; an IP literal here is compared as an address.
#[derive(Debug)]
enum HostMatch {
    Any,
    Ip(IpAddr),
    /// Not an IP literal: never equals a client address.
    Never,
}

/// One ACL in the check-time form.
#[derive(Debug)]
struct CachedAcl {
    principal_type: String,
    principal_name: String,
    host: HostMatch,
    operation: AclOperation,
    permission: AclPermissionType,
}

impl CachedAcl {
    fn new(b: &AclBinding) -> CachedAcl {
        let (t, n) = b.principal.split_once(':').unwrap_or(("", &b.principal));
        let host = if b.host == WILDCARD_HOST {
            HostMatch::Any
        } else {
            b.host
                .parse()
                .map(HostMatch::Ip)
                .unwrap_or(HostMatch::Never)
        };
        CachedAcl {
            principal_type: t.to_string(),
            principal_name: n.to_string(),
            host,
            operation: b.operation,
            permission: b.permission_type,
        }
    }

    /// `StandardAuthorizerData.findResult`: `None` when the ACL does not apply.
    fn result(&self, op: AclOperation, p: &KafkaPrincipal, addr: IpAddr) -> Option<bool> {
        let principal_matches = (self.principal_type == *p.principal_type
            && self.principal_name == *p.name)
            || (self.principal_type == KafkaPrincipal::USER_TYPE && self.principal_name == "*");
        if !principal_matches {
            return None;
        }
        match self.host {
            HostMatch::Any => {}
            HostMatch::Ip(ip) if ip == addr => {}
            _ => return None,
        }
        let allow = self.permission == AclPermissionType::Allow;
        if self.operation != AclOperation::All {
            let applies = if allow {
                match op {
                    AclOperation::Describe => matches!(
                        self.operation,
                        AclOperation::Describe
                            | AclOperation::Read
                            | AclOperation::Write
                            | AclOperation::Delete
                            | AclOperation::Alter
                    ),
                    AclOperation::DescribeConfigs => matches!(
                        self.operation,
                        AclOperation::DescribeConfigs | AclOperation::AlterConfigs
                    ),
                    _ => self.operation == op,
                }
            } else {
                self.operation == op
            };
            if !applies {
                return None;
            }
        }
        Some(allow)
    }
}

/// The ACLs of one resource type, indexed for checks.
#[derive(Default, Debug)]
struct TypeIndex {
    literal: HashMap<String, Vec<CachedAcl>>,
    prefixed: Vec<(String, CachedAcl)>,
}

/// An immutable view of the ACL set.
#[derive(Default, Debug)]
struct AclCache {
    by_type: HashMap<ResourceType, TypeIndex>,
    /// The bindings, for DescribeAcls and authorizeByResourceType.
    bindings: BTreeSet<AclBinding>,
}

impl AclCache {
    fn build(bindings: BTreeSet<AclBinding>) -> AclCache {
        let mut by_type: HashMap<ResourceType, TypeIndex> = HashMap::new();
        for b in &bindings {
            let idx = by_type.entry(b.resource_type).or_default();
            match b.pattern_type {
                PatternType::Literal => idx
                    .literal
                    .entry(b.resource_name.clone())
                    .or_default()
                    .push(CachedAcl::new(b)),
                PatternType::Prefixed => idx
                    .prefixed
                    .push((b.resource_name.clone(), CachedAcl::new(b))),
                _ => {}
            }
        }
        AclCache { by_type, bindings }
    }

    /// `findAclRule`: `Some(allowed)` from the applicable ACLs, `None` when the resource has
    /// no ACL at all (the `allow.everyone.if.no.acl.found` case).
    fn find_rule(
        &self,
        op: AclOperation,
        rt: ResourceType,
        name: &str,
        p: &KafkaPrincipal,
        addr: IpAddr,
    ) -> Option<bool> {
        let idx = self.by_type.get(&rt)?;
        let mut has_resource_acls = false;
        let mut allowed = false;
        let literal = idx.literal.get(name).into_iter().flatten();
        let wildcard = if name == WILDCARD_RESOURCE {
            None
        } else {
            idx.literal.get(WILDCARD_RESOURCE)
        };
        let prefixed = idx
            .prefixed
            .iter()
            .filter(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(_, acl)| acl);
        for acl in literal
            .chain(wildcard.into_iter().flatten())
            .chain(prefixed)
        {
            has_resource_acls = true;
            match acl.result(op, p, addr) {
                Some(false) => return Some(false),
                Some(true) => allowed = true,
                None => {}
            }
        }
        if allowed {
            Some(true)
        } else if has_resource_acls {
            Some(false)
        } else {
            None
        }
    }
}

/// The broker's authorizer; with no `authorizer.class.name` it allows everything and the ACL
/// APIs answer SECURITY_DISABLED.
pub struct Authorizer {
    enabled: bool,
    super_users: Vec<KafkaPrincipal>,
    allow_everyone_if_no_acl_found: bool,
    store: Option<AclStore>,
    cache: RwLock<Arc<AclCache>>,
    /// Serializes changes (read, persist, swap).
    writer: Mutex<()>,
}

impl Authorizer {
    /// No authorizer: every check passes.
    pub fn disabled() -> Authorizer {
        Authorizer {
            enabled: false,
            super_users: Vec::new(),
            allow_everyone_if_no_acl_found: true,
            store: None,
            cache: RwLock::new(Arc::new(AclCache::default())),
            writer: Mutex::new(()),
        }
    }

    /// The authorizer `authorizer.class.name`, `super.users` and
    /// `allow.everyone.if.no.acl.found` describe, with the ACLs stored in `data_dir`.
    pub fn from_settings(
        settings: &Settings,
        data_dir: &Path,
    ) -> Result<Authorizer, AuthorizerError> {
        let class = settings.string("authorizer.class.name");
        let class = class.trim();
        if class.is_empty() {
            return Ok(Authorizer::disabled());
        }
        if class == ACL_AUTHORIZER {
            return Err(AuthorizerError::Removed(class.to_string()));
        }
        if class != STANDARD_AUTHORIZER {
            return Err(AuthorizerError::Unsupported(class.to_string()));
        }
        let super_users = parse_super_users(&settings.string("super.users"))?;
        let store = AclStore::new(data_dir);
        let acls = store.load().map_err(AuthorizerError::Load)?;
        info!(
            acls = acls.len(),
            super_users = super_users.len(),
            "StandardAuthorizer loaded"
        );
        Ok(Authorizer::with_acls(
            super_users,
            settings.bool("allow.everyone.if.no.acl.found"),
            Some(store),
            acls,
        ))
    }

    fn with_acls(
        super_users: Vec<KafkaPrincipal>,
        allow_everyone_if_no_acl_found: bool,
        store: Option<AclStore>,
        acls: BTreeSet<AclBinding>,
    ) -> Authorizer {
        Authorizer {
            enabled: true,
            super_users,
            allow_everyone_if_no_acl_found,
            store,
            cache: RwLock::new(Arc::new(AclCache::build(acls))),
            writer: Mutex::new(()),
        }
    }

    /// True when an authorizer is configured (the ACL APIs work).
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    fn snapshot(&self) -> Arc<AclCache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn is_super_user(&self, p: &KafkaPrincipal) -> bool {
        self.super_users.iter().any(|s| s == p)
    }

    /// The decision alone, without logging or metrics (for filtering lists, as Kafka's
    /// `logIfDenied = false` checks, and authorized-operations fields).
    pub fn is_allowed(
        &self,
        session: &Session,
        op: AclOperation,
        rt: ResourceType,
        name: &str,
    ) -> bool {
        if !self.enabled || self.is_super_user(&session.principal) {
            return true;
        }
        self.snapshot()
            .find_rule(op, rt, name, &session.principal, session.client_address)
            .unwrap_or(self.allow_everyone_if_no_acl_found)
    }

    /// Kafka's `authorize` for one action that the request needs: a denial is counted in
    /// `klamm_authorizer_denied_total` and logged (at info, with the principal, as Kafka's
    /// `kafka.authorizer.logger` does).
    pub fn authorize(
        &self,
        session: &Session,
        op: AclOperation,
        rt: ResourceType,
        name: &str,
    ) -> bool {
        let allowed = self.is_allowed(session, op, rt, name);
        if !allowed {
            self.record_denied(session, op, rt, name);
        }
        allowed
    }

    /// `authorize` on the CLUSTER resource.
    pub fn authorize_cluster(&self, session: &Session, op: AclOperation) -> bool {
        self.authorize(session, op, ResourceType::Cluster, CLUSTER_NAME)
    }

    fn record_denied(&self, session: &Session, op: AclOperation, rt: ResourceType, name: &str) {
        metrics::counter!(DENIED_METRIC, "resource_type" => rt.name(), "operation" => op.name())
            .increment(1);
        info!(
            principal = %session.principal,
            host = %session.client_address,
            operation = op.name(),
            resource_type = rt.name(),
            resource = name,
            "Principal = {} is Denied operation = {} from host = {} on resource = {}:LITERAL:{}",
            session.principal,
            op.name(),
            session.client_address,
            rt.name(),
            name
        );
    }

    /// Kafka's `authorizedOperations`: the 32-bit field (`Utils.to32BitField`) of the resource
    /// type's supported operations this session is allowed.
    pub fn authorized_operations(&self, session: &Session, rt: ResourceType, name: &str) -> i32 {
        rt.supported_operations()
            .iter()
            .filter(|op| self.is_allowed(session, **op, rt, name))
            .fold(0i32, |bits, op| bits | (1i32 << op.code()))
    }

    /// `Authorizer.authorizeByResourceType` (KIP-679): may the session perform `op` on some
    /// resource of type `rt`? Allowed when a check on an arbitrary name passes (super users,
    /// `allow.everyone.if.no.acl.found`), or when an applicable ALLOW (LITERAL or PREFIXED) is not
    /// dominated by an applicable DENY (the same literal, or a prefix of it); a DENY of the
    /// wildcard denies.
    pub fn authorize_by_resource_type(
        &self,
        session: &Session,
        op: AclOperation,
        rt: ResourceType,
    ) -> bool {
        if self.is_allowed(session, op, rt, "hardcode") {
            return true;
        }
        let cache = self.snapshot();
        let p = &session.principal;
        let mut deny_literal: BTreeSet<&str> = BTreeSet::new();
        let mut deny_prefix: BTreeSet<&str> = BTreeSet::new();
        let mut allow: Vec<(&AclBinding, bool)> = Vec::new();
        for b in cache.bindings.iter().filter(|b| b.resource_type == rt) {
            if b.host != WILDCARD_HOST
                && b.host.parse::<IpAddr>().ok() != Some(session.client_address)
            {
                continue;
            }
            let own = b
                .principal
                .split_once(':')
                .is_some_and(|(t, n)| t == &*p.principal_type && n == &*p.name);
            if !own && b.principal != "User:*" {
                continue;
            }
            if b.operation != op && b.operation != AclOperation::All {
                continue;
            }
            let name = b.resource_name.as_str();
            match (b.permission_type, b.pattern_type) {
                (AclPermissionType::Deny, PatternType::Literal) => {
                    if name == WILDCARD_RESOURCE {
                        return false;
                    }
                    deny_literal.insert(name);
                }
                (AclPermissionType::Deny, PatternType::Prefixed) => {
                    if name.is_empty() {
                        return false;
                    }
                    deny_prefix.insert(name);
                }
                (AclPermissionType::Allow, PatternType::Literal) => {
                    if name == WILDCARD_RESOURCE {
                        return true;
                    }
                    allow.push((b, true));
                }
                (AclPermissionType::Allow, PatternType::Prefixed) => {
                    if name.is_empty() {
                        return true;
                    }
                    allow.push((b, false));
                }
                _ => {}
            }
        }
        allow.iter().any(|(b, literal)| {
            let name = b.resource_name.as_str();
            if *literal && deny_literal.contains(name) {
                return false;
            }
            !name
                .char_indices()
                .map(|(i, c)| &name[..i + c.len_utf8()])
                .any(|prefix| deny_prefix.contains(prefix))
        })
    }

    /// The bindings `filter` matches (DescribeAcls).
    pub fn acls(&self, filter: &AclBindingFilter) -> Vec<AclBinding> {
        self.snapshot()
            .bindings
            .iter()
            .filter(|b| filter.matches(b))
            .cloned()
            .collect()
    }

    /// Adds already-validated bindings (existing ones are kept, as Kafka does) and persists the
    /// set before it takes effect.
    pub fn create_acls(&self, new: &[AclBinding]) -> Result<(), PersistError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.snapshot();
        let mut set = current.bindings.clone();
        let mut changed = false;
        for b in new {
            changed |= set.insert(b.clone());
        }
        if changed {
            self.replace(set)?;
            debug!(count = new.len(), "ACLs created");
        }
        Ok(())
    }

    /// Deletes what each filter matches, every filter against the set as it was before the
    /// request (as `AclControlManager.deleteAcls` does); returns the bindings per filter.
    pub fn delete_acls(
        &self,
        filters: &[AclBindingFilter],
    ) -> Result<Vec<Vec<AclBinding>>, PersistError> {
        let _w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let current = self.snapshot();
        let matched: Vec<Vec<AclBinding>> = filters
            .iter()
            .map(|f| {
                current
                    .bindings
                    .iter()
                    .filter(|b| f.matches(b))
                    .cloned()
                    .collect()
            })
            .collect();
        if matched.iter().any(|m| !m.is_empty()) {
            let mut set = current.bindings.clone();
            for b in matched.iter().flatten() {
                set.remove(b);
            }
            self.replace(set)?;
        }
        Ok(matched)
    }

    fn replace(&self, set: BTreeSet<AclBinding>) -> Result<(), PersistError> {
        if let Some(store) = &self.store {
            store.save(&set).map_err(PersistError)?;
        }
        let cache = Arc::new(AclCache::build(set));
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = cache;
        Ok(())
    }
}

/// `StandardAuthorizer.getConfiguredSuperUsers`: semicolon-separated, trimmed, empty entries
/// skipped, each a `Type:name` principal.
fn parse_super_users(value: &str) -> Result<Vec<KafkaPrincipal>, AuthorizerError> {
    value
        .split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            KafkaPrincipal::parse(v).ok_or_else(|| AuthorizerError::BadSuperUser(v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::security::{Listener, SecurityProtocol};
    use AclOperation::*;
    use AclPermissionType::{Allow, Deny};
    use PatternType::{Literal, Prefixed};
    use ResourceType::*;

    fn session(principal: &str, ip: &str) -> Session {
        let listener = Arc::new(Listener {
            name: "PLAINTEXT".into(),
            protocol: SecurityProtocol::Plaintext,
            bind: "127.0.0.1:9092".parse().unwrap(),
            advertised_host: "localhost".into(),
            advertised_port: 9092,
        });
        Session {
            principal: KafkaPrincipal::parse(principal).unwrap(),
            listener,
            client_address: ip.parse().unwrap(),
        }
    }

    fn acl(
        rt: ResourceType,
        name: &str,
        pt: PatternType,
        principal: &str,
        host: &str,
        op: AclOperation,
        perm: AclPermissionType,
    ) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: host.into(),
            operation: op,
            permission_type: perm,
        }
    }

    fn authorizer(acls: Vec<AclBinding>, supers: &str, allow_everyone: bool) -> Authorizer {
        Authorizer::with_acls(
            parse_super_users(supers).unwrap(),
            allow_everyone,
            None,
            acls.into_iter().collect(),
        )
    }

    #[test]
    fn literal_wildcard_and_prefixed_patterns_apply() {
        let a = authorizer(
            vec![
                acl(Topic, "orders", Literal, "User:alice", "*", Read, Allow),
                acl(Topic, "*", Literal, "User:bob", "*", Write, Allow),
                acl(Topic, "log-", Prefixed, "User:carol", "*", Read, Allow),
            ],
            "",
            false,
        );
        let alice = session("User:alice", "127.0.0.1");
        let bob = session("User:bob", "127.0.0.1");
        let carol = session("User:carol", "127.0.0.1");
        assert!(a.is_allowed(&alice, Read, Topic, "orders"));
        assert!(!a.is_allowed(&alice, Read, Topic, "orders2"));
        assert!(!a.is_allowed(&alice, Write, Topic, "orders"));
        assert!(a.is_allowed(&bob, Write, Topic, "anything"));
        assert!(a.is_allowed(&bob, Write, Topic, "orders"));
        assert!(!a.is_allowed(&bob, Write, Group, "anything"));
        assert!(a.is_allowed(&carol, Read, Topic, "log-app"));
        assert!(a.is_allowed(&carol, Read, Topic, "log-"));
        assert!(!a.is_allowed(&carol, Read, Topic, "log"));
        // A literal "log-" pattern named like the prefix is not a prefix.
        assert!(!a.is_allowed(&carol, Read, Topic, "xlog-app"));
    }

    #[test]
    fn deny_wins_and_applies_through_the_wildcard_principal() {
        let a = authorizer(
            vec![
                acl(Topic, "t", Literal, "User:alice", "*", All, Allow),
                acl(Topic, "t", Prefixed, "User:*", "*", Write, Deny),
            ],
            "",
            true,
        );
        let alice = session("User:alice", "10.0.0.1");
        assert!(a.is_allowed(&alice, Read, Topic, "t"));
        assert!(!a.is_allowed(&alice, Write, Topic, "t"));
        assert!(!a.is_allowed(&alice, Write, Topic, "tx"));
        // DENY of WRITE does not deny DESCRIBE.
        assert!(a.is_allowed(&alice, Describe, Topic, "t"));
        // tx has ACLs (the prefixed DENY), none allows READ: denied despite allow.everyone.
        assert!(!a.is_allowed(&alice, Read, Topic, "tx"));
        // No ACL names "other": allow.everyone.if.no.acl.found applies.
        assert!(a.is_allowed(&alice, Read, Topic, "other"));
    }

    #[test]
    fn all_deny_denies_every_operation() {
        let a = authorizer(
            vec![
                acl(Group, "g", Literal, "User:alice", "*", Read, Allow),
                acl(Group, "g", Literal, "User:alice", "*", All, Deny),
            ],
            "",
            false,
        );
        let alice = session("User:alice", "127.0.0.1");
        for op in [Read, Describe, Delete] {
            assert!(!a.is_allowed(&alice, op, Group, "g"));
        }
    }

    #[test]
    fn allow_acls_imply_describe_and_describe_configs() {
        let mk = |op| {
            authorizer(
                vec![acl(Topic, "t", Literal, "User:a", "*", op, Allow)],
                "",
                false,
            )
        };
        let s = session("User:a", "127.0.0.1");
        for op in [Read, Write, Delete, Alter, Describe] {
            assert!(
                mk(op).is_allowed(&s, Describe, Topic, "t"),
                "{op} implies DESCRIBE"
            );
        }
        for op in [Create, AlterConfigs, DescribeConfigs] {
            assert!(!mk(op).is_allowed(&s, Describe, Topic, "t"), "{op}");
        }
        assert!(mk(AlterConfigs).is_allowed(&s, DescribeConfigs, Topic, "t"));
        assert!(!mk(Alter).is_allowed(&s, DescribeConfigs, Topic, "t"));
        assert!(!mk(Read).is_allowed(&s, Write, Topic, "t"));
        assert!(!mk(Describe).is_allowed(&s, Read, Topic, "t"));
    }

    #[test]
    fn hosts_must_match_the_client_address() {
        let a = authorizer(
            vec![acl(Topic, "t", Literal, "User:a", "10.0.0.1", Read, Allow)],
            "",
            true,
        );
        assert!(a.is_allowed(&session("User:a", "10.0.0.1"), Read, Topic, "t"));
        assert!(!a.is_allowed(&session("User:a", "10.0.0.2"), Read, Topic, "t"));
        assert!(!a.is_allowed(&session("User:b", "10.0.0.1"), Read, Topic, "t"));
    }

    #[test]
    fn super_users_are_always_allowed() {
        let a = authorizer(
            vec![acl(Topic, "*", Literal, "User:*", "*", All, Deny)],
            " User:admin ; ;User:CN=ops,O=x",
            false,
        );
        assert!(a.is_allowed(&session("User:admin", "127.0.0.1"), Write, Topic, "t"));
        assert!(a.is_allowed(
            &session("User:CN=ops,O=x", "127.0.0.1"),
            Alter,
            Cluster,
            CLUSTER_NAME
        ));
        assert!(!a.is_allowed(&session("User:bob", "127.0.0.1"), Read, Topic, "t"));
        assert!(parse_super_users("User:a;bob").is_err());
    }

    #[test]
    fn no_acls_follows_allow_everyone() {
        let s = session("User:a", "127.0.0.1");
        assert!(!authorizer(vec![], "", false).is_allowed(&s, Read, Topic, "t"));
        assert!(authorizer(vec![], "", true).is_allowed(&s, Read, Topic, "t"));
        assert!(Authorizer::disabled().is_allowed(&s, Alter, Cluster, CLUSTER_NAME));
    }

    #[test]
    fn authorized_operations_are_kafkas_bit_field() {
        let a = authorizer(
            vec![acl(Topic, "t", Literal, "User:a", "*", Read, Allow)],
            "",
            false,
        );
        let s = session("User:a", "127.0.0.1");
        assert_eq!(a.authorized_operations(&s, Topic, "t"), (1 << 3) | (1 << 8));
        assert_eq!(a.authorized_operations(&s, Topic, "u"), 0);
        assert_eq!(
            Authorizer::disabled().authorized_operations(&s, Cluster, CLUSTER_NAME),
            (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12)
        );
    }

    #[test]
    fn by_resource_type_follows_kip_679() {
        let s = session("User:a", "127.0.0.1");
        let a = authorizer(
            vec![acl(Topic, "t", Literal, "User:a", "*", Write, Allow)],
            "",
            false,
        );
        assert!(a.authorize_by_resource_type(&s, Write, Topic));
        assert!(!a.authorize_by_resource_type(&s, Read, Topic));
        let a = authorizer(
            vec![
                acl(Topic, "team-x", Literal, "User:a", "*", Write, Allow),
                acl(Topic, "team", Prefixed, "User:a", "*", Write, Deny),
            ],
            "",
            false,
        );
        assert!(!a.authorize_by_resource_type(&s, Write, Topic));
        let a = authorizer(
            vec![
                acl(Topic, "p-", Prefixed, "User:*", "*", All, Allow),
                acl(Topic, "*", Literal, "User:a", "*", Write, Deny),
            ],
            "",
            false,
        );
        assert!(!a.authorize_by_resource_type(&s, Write, Topic));
        assert!(a.authorize_by_resource_type(&session("User:b", "127.0.0.1"), Write, Topic));
    }

    #[test]
    fn changes_take_effect_and_delete_reports_per_filter() {
        let a = authorizer(vec![], "", false);
        let s = session("User:a", "127.0.0.1");
        let b = acl(Topic, "t", Literal, "User:a", "*", Read, Allow);
        a.create_acls(std::slice::from_ref(&b)).unwrap();
        assert!(a.is_allowed(&s, Read, Topic, "t"));
        let f = AclBindingFilter::any();
        let out = a.delete_acls(&[f.clone(), f]).unwrap();
        assert_eq!(out, vec![vec![b.clone()], vec![b]]);
        assert!(!a.is_allowed(&s, Read, Topic, "t"));
        assert!(a.acls(&AclBindingFilter::any()).is_empty());
    }
}
