//! Kafka's ACL vocabulary (`org.apache.kafka.common.acl` and `.resource`): resource types,
//! pattern types, operations and permission types with their wire codes; an ACL binding
//! (`AclBinding`: a resource pattern plus an access control entry) and a binding filter
//! (`AclBindingFilter`) with Kafka's matching rules; and `AclControlManager.validateNewAcl`.

use serde::{Deserialize, Serialize};

/// `ResourcePattern.WILDCARD_RESOURCE`: a LITERAL pattern with this name matches every name.
pub const WILDCARD_RESOURCE: &str = "*";
/// `AclEntry.WILDCARD_HOST`
pub const WILDCARD_HOST: &str = "*";
/// `Resource.CLUSTER_NAME`: the only name a CLUSTER resource has.
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// Declares a Kafka enum with its wire codes and names (`fromCode` maps an undefined code to
/// UNKNOWN, as Kafka does).
macro_rules! kafka_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:expr, $text:expr;)* }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($variant),* }

        impl $name {
            pub fn from_code(code: i8) -> $name {
                match code {
                    $($code => $name::$variant,)*
                    _ => $name::Unknown,
                }
            }
            pub fn code(self) -> i8 {
                match self { $($name::$variant => $code),* }
            }
            /// Kafka's upper-case name, as `toString` prints it.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

kafka_enum!(
    /// `ResourceType`
    ResourceType {
        Unknown = 0, "UNKNOWN";
        Any = 1, "ANY";
        Topic = 2, "TOPIC";
        Group = 3, "GROUP";
        Cluster = 4, "CLUSTER";
        TransactionalId = 5, "TRANSACTIONAL_ID";
        DelegationToken = 6, "DELEGATION_TOKEN";
        User = 7, "USER";
    }
);

kafka_enum!(
    /// `PatternType`
    PatternType {
        Unknown = 0, "UNKNOWN";
        Any = 1, "ANY";
        Match = 2, "MATCH";
        Literal = 3, "LITERAL";
        Prefixed = 4, "PREFIXED";
    }
);

kafka_enum!(
    /// `AclOperation`
    AclOperation {
        Unknown = 0, "UNKNOWN";
        Any = 1, "ANY";
        All = 2, "ALL";
        Read = 3, "READ";
        Write = 4, "WRITE";
        Create = 5, "CREATE";
        Delete = 6, "DELETE";
        Alter = 7, "ALTER";
        Describe = 8, "DESCRIBE";
        ClusterAction = 9, "CLUSTER_ACTION";
        DescribeConfigs = 10, "DESCRIBE_CONFIGS";
        AlterConfigs = 11, "ALTER_CONFIGS";
        IdempotentWrite = 12, "IDEMPOTENT_WRITE";
        CreateTokens = 13, "CREATE_TOKENS";
        DescribeTokens = 14, "DESCRIBE_TOKENS";
        TwoPhaseCommit = 15, "TWO_PHASE_COMMIT";
    }
);

kafka_enum!(
    /// `AclPermissionType`
    AclPermissionType {
        Unknown = 0, "UNKNOWN";
        Any = 1, "ANY";
        Deny = 2, "DENY";
        Allow = 3, "ALLOW";
    }
);

impl ResourceType {
    /// `AclEntry.supportedOperations`: what `*_authorized_operations` reports on, in bit order.
    pub fn supported_operations(self) -> &'static [AclOperation] {
        use AclOperation::*;
        match self {
            ResourceType::Topic => &[
                Read,
                Write,
                Create,
                Delete,
                Alter,
                Describe,
                DescribeConfigs,
                AlterConfigs,
            ],
            ResourceType::Group => &[Read, Delete, Describe, DescribeConfigs, AlterConfigs],
            ResourceType::Cluster => &[
                Create,
                Alter,
                Describe,
                ClusterAction,
                DescribeConfigs,
                AlterConfigs,
                IdempotentWrite,
            ],
            ResourceType::TransactionalId => &[Write, Describe, TwoPhaseCommit],
            ResourceType::DelegationToken => &[Describe],
            ResourceType::User => &[CreateTokens, DescribeTokens],
            ResourceType::Unknown | ResourceType::Any => &[],
        }
    }
}

/// One stored ACL: Kafka's `StandardAcl` (an `AclBinding` with the principal kept as its
/// `Type:name` string, exactly as the client sent it).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AclBinding {
    pub resource_type: ResourceType,
    pub resource_name: String,
    pub pattern_type: PatternType,
    pub principal: String,
    pub host: String,
    pub operation: AclOperation,
    pub permission_type: AclPermissionType,
}

impl AclBinding {
    /// Kafka's `AclBinding.isUnknown`: a creation with an UNKNOWN element fails request parsing
    /// (`CreateAclsRequest.validate`: "Contain UNKNOWN elements").
    pub fn is_unknown(&self) -> bool {
        self.resource_type == ResourceType::Unknown
            || self.pattern_type == PatternType::Unknown
            || self.operation == AclOperation::Unknown
            || self.permission_type == AclPermissionType::Unknown
    }
}

impl std::fmt::Display for AclBinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "(pattern=ResourcePattern(resourceType={}, name={}, patternType={}), entry=(principal={}, host={}, operation={}, permissionType={}))",
            self.resource_type,
            self.resource_name,
            self.pattern_type,
            self.principal,
            self.host,
            self.operation,
            self.permission_type
        )
    }
}

/// Kafka's `AclBindingFilter`: `None` strings match anything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AclBindingFilter {
    pub resource_type: ResourceType,
    pub resource_name: Option<String>,
    pub pattern_type: PatternType,
    pub principal: Option<String>,
    pub host: Option<String>,
    pub operation: AclOperation,
    pub permission_type: AclPermissionType,
}

impl AclBindingFilter {
    /// `AclBindingFilter.ANY`
    pub fn any() -> AclBindingFilter {
        AclBindingFilter {
            resource_type: ResourceType::Any,
            resource_name: None,
            pattern_type: PatternType::Any,
            principal: None,
            host: None,
            operation: AclOperation::Any,
            permission_type: AclPermissionType::Any,
        }
    }

    /// `AclBindingFilter.isUnknown`: such a filter fails request parsing in Kafka
    /// (`DescribeAclsRequest`/`DeleteAclsRequest` "... contain UNKNOWN elements").
    pub fn is_unknown(&self) -> bool {
        self.resource_type == ResourceType::Unknown
            || self.pattern_type == PatternType::Unknown
            || self.operation == AclOperation::Unknown
            || self.permission_type == AclPermissionType::Unknown
    }

    /// `AclBindingFilter.matches`: `ResourcePatternFilter.matches` and
    /// `AccessControlEntryFilter.matches`. A MATCH filter with a name selects the ACLs that
    /// would apply to that resource: the LITERAL name, the LITERAL wildcard and every PREFIXED
    /// pattern the name starts with.
    pub fn matches(&self, acl: &AclBinding) -> bool {
        self.matches_pattern(acl) && self.matches_entry(acl)
    }

    fn matches_pattern(&self, acl: &AclBinding) -> bool {
        if self.resource_type != ResourceType::Any && self.resource_type != acl.resource_type {
            return false;
        }
        if !matches!(self.pattern_type, PatternType::Any | PatternType::Match)
            && self.pattern_type != acl.pattern_type
        {
            return false;
        }
        let Some(name) = &self.resource_name else {
            return true;
        };
        if self.pattern_type == PatternType::Any || self.pattern_type == acl.pattern_type {
            return *name == acl.resource_name;
        }
        match acl.pattern_type {
            PatternType::Literal => {
                *name == acl.resource_name || acl.resource_name == WILDCARD_RESOURCE
            }
            PatternType::Prefixed => name.starts_with(acl.resource_name.as_str()),
            _ => false,
        }
    }

    fn matches_entry(&self, acl: &AclBinding) -> bool {
        if self.principal.as_ref().is_some_and(|p| *p != acl.principal) {
            return false;
        }
        if self.host.as_ref().is_some_and(|h| *h != acl.host) {
            return false;
        }
        if self.operation != AclOperation::Any && self.operation != acl.operation {
            return false;
        }
        self.permission_type == AclPermissionType::Any
            || self.permission_type == acl.permission_type
    }
}

/// `AclControlManager.validateNewAcl` plus the checks `AclApis.handleCreateAcls` makes first
/// (CLUSTER's only name, empty names), with Kafka's messages; every failure is INVALID_REQUEST.
pub fn validate_new_acl(acl: &AclBinding) -> Result<(), String> {
    if acl.resource_type == ResourceType::Cluster && acl.resource_name != CLUSTER_NAME {
        return Err(format!(
            "The only valid name for the CLUSTER resource is {CLUSTER_NAME}"
        ));
    }
    if acl.resource_name.is_empty() {
        return Err("Invalid empty resource name".into());
    }
    if matches!(acl.resource_type, ResourceType::Unknown | ResourceType::Any) {
        return Err(format!("Invalid resourceType {}", acl.resource_type));
    }
    if !matches!(
        acl.pattern_type,
        PatternType::Literal | PatternType::Prefixed
    ) {
        return Err(format!("Invalid patternType {}", acl.pattern_type));
    }
    if matches!(acl.operation, AclOperation::Unknown | AclOperation::Any) {
        return Err(format!("Invalid operation {}", acl.operation));
    }
    if !matches!(
        acl.permission_type,
        AclPermissionType::Allow | AclPermissionType::Deny
    ) {
        return Err(format!("Invalid permissionType {}", acl.permission_type));
    }
    if !acl.principal.contains(':') {
        return Err(format!(
            "Could not parse principal from `{}` (no colon is present separating the principal type from the principal name)",
            acl.principal
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn acl(
        rt: ResourceType,
        name: &str,
        pt: PatternType,
        principal: &str,
        op: AclOperation,
        perm: AclPermissionType,
    ) -> AclBinding {
        AclBinding {
            resource_type: rt,
            resource_name: name.into(),
            pattern_type: pt,
            principal: principal.into(),
            host: "*".into(),
            operation: op,
            permission_type: perm,
        }
    }

    #[test]
    fn codes_round_trip_and_undefined_codes_are_unknown() {
        for c in 0..=7 {
            assert_eq!(ResourceType::from_code(c).code(), c);
        }
        for c in 0..=15 {
            assert_eq!(AclOperation::from_code(c).code(), c);
        }
        assert_eq!(ResourceType::from_code(8), ResourceType::Unknown);
        assert_eq!(AclOperation::from_code(-1), AclOperation::Unknown);
        assert_eq!(PatternType::from_code(5), PatternType::Unknown);
        assert_eq!(AclPermissionType::from_code(4), AclPermissionType::Unknown);
        assert_eq!(AclOperation::IdempotentWrite.name(), "IDEMPOTENT_WRITE");
    }

    #[test]
    fn match_filters_select_the_acls_that_apply_to_a_name() {
        use AclOperation::Read;
        use AclPermissionType::Allow;
        use PatternType::*;
        use ResourceType::Topic;
        let lit = acl(Topic, "foo", Literal, "User:a", Read, Allow);
        let wild = acl(Topic, "*", Literal, "User:a", Read, Allow);
        let pre = acl(Topic, "fo", Prefixed, "User:a", Read, Allow);
        let other = acl(Topic, "bar", Prefixed, "User:a", Read, Allow);
        let mut f = AclBindingFilter::any();
        f.resource_name = Some("foo".into());
        f.pattern_type = Match;
        assert!(f.matches(&lit) && f.matches(&wild) && f.matches(&pre));
        assert!(!f.matches(&other));
        f.pattern_type = Any;
        assert!(f.matches(&lit) && !f.matches(&wild) && !f.matches(&pre));
        f.resource_name = Some("fo".into());
        assert!(f.matches(&pre));
        f.pattern_type = Literal;
        assert!(!f.matches(&pre));
        let mut f = AclBindingFilter::any();
        f.principal = Some("User:b".into());
        assert!(!f.matches(&lit));
        f.principal = Some("User:a".into());
        f.operation = AclOperation::Write;
        assert!(!f.matches(&lit));
        f.operation = AclOperation::Any;
        f.permission_type = AclPermissionType::Deny;
        assert!(!f.matches(&lit));
    }

    #[test]
    fn new_acls_are_validated_with_kafkas_messages() {
        use AclOperation::{Alter, Read};
        use AclPermissionType::{Allow, Deny};
        use PatternType::{Literal, Match};
        use ResourceType::{Cluster, Topic};
        assert_eq!(
            validate_new_acl(&acl(Cluster, "x", Literal, "User:a", Alter, Allow)),
            Err("The only valid name for the CLUSTER resource is kafka-cluster".into())
        );
        assert_eq!(
            validate_new_acl(&acl(Topic, "", Literal, "User:a", Read, Allow)),
            Err("Invalid empty resource name".into())
        );
        assert_eq!(
            validate_new_acl(&acl(ResourceType::Any, "t", Literal, "User:a", Read, Allow)),
            Err("Invalid resourceType ANY".into())
        );
        assert_eq!(
            validate_new_acl(&acl(Topic, "t", Match, "User:a", Read, Allow)),
            Err("Invalid patternType MATCH".into())
        );
        assert_eq!(
            validate_new_acl(&acl(
                Topic,
                "t",
                Literal,
                "User:a",
                AclOperation::Any,
                Allow
            )),
            Err("Invalid operation ANY".into())
        );
        assert_eq!(
            validate_new_acl(&acl(
                Topic,
                "t",
                Literal,
                "User:a",
                Read,
                AclPermissionType::Any
            )),
            Err("Invalid permissionType ANY".into())
        );
        assert!(
            validate_new_acl(&acl(Topic, "t", Literal, "alice", Read, Allow))
                .is_err_and(|m| m.starts_with("Could not parse principal from `alice`"))
        );
        assert_eq!(
            validate_new_acl(&acl(
                Cluster,
                "kafka-cluster",
                Literal,
                "User:a",
                Alter,
                Deny
            )),
            Ok(())
        );
    }
}
