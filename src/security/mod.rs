//! Security-related state. Klamm serves a PLAINTEXT listener with no authorizer; what it keeps
//! here is what Kafka keeps regardless of listener type (SCRAM credentials).

pub mod scram;
