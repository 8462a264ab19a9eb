//! Authorization as Kafka's `StandardAuthorizer`: the ACL vocabulary and validation
//! ([`binding`]), the decision rules ([`authorizer`]) and durable storage ([`store`]).

pub mod authorizer;
pub mod binding;
pub mod store;

pub use authorizer::Authorizer;
pub use binding::{
    AclBinding, AclBindingFilter, AclOperation, AclPermissionType, PatternType, ResourceType,
    CLUSTER_NAME,
};
