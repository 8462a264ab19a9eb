//! SaslHandshake and SaslAuthenticate when they reach the request handlers: on a PLAINTEXT or
//! SSL listener, or on a SASL listener after authentication when the request does not start a
//! re-authentication. Kafka's `KafkaApis.handleSaslHandshakeRequest` and
//! `handleSaslAuthenticateRequest` answer ILLEGAL_SASL_STATE there; the exchange itself is
//! [`crate::security::sasl::Authenticator`]'s.

use kafka_protocol::messages::{SaslAuthenticateResponse, SaslHandshakeResponse};
use kafka_protocol::ResponseError;

use super::sb;

pub fn illegal_state_handshake() -> SaslHandshakeResponse {
    SaslHandshakeResponse::default().with_error_code(ResponseError::IllegalSaslState.code())
}

pub fn illegal_state_authenticate() -> SaslAuthenticateResponse {
    SaslAuthenticateResponse::default()
        .with_error_code(ResponseError::IllegalSaslState.code())
        .with_error_message(Some(sb(
            "SaslAuthenticate request received after successful authentication",
        )))
}
