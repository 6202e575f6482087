//! The one mapping from errors to HTTP answers.
//!
//! | error | status | `error` code |
//! |---|---|---|
//! | `ErrorKind::InvalidInput` (bad field, bad ciphertext, decryption failed, wrong key usage) | 400 | `invalid_input` |
//! | no token, or an unknown, expired or revoked token | 401 | `unauthenticated` |
//! | `ErrorKind::PermissionDenied` (policy, wrong unseal passphrase) | 403 | `permission_denied` |
//! | `ErrorKind::NotFound` (key, alias, version, token, policy, route) | 404 | `not_found` |
//! | a route that exists, called with another method | 405 | `method_not_allowed` |
//! | `ErrorKind::Conflict` (alias exists, concurrent change) | 409 | `conflict` |
//! | `Error::PayloadTooLarge`, or a body over the request-size limit | 413 | `payload_too_large` |
//! | `ErrorKind::FailedPrecondition` (key state, unusable version) | 422 | `failed_precondition` |
//! | too many failed authentications from one address | 429 | `too_many_requests` |
//! | `ErrorKind::Internal` | 500 | `internal` (generic message) |
//! | `ErrorKind::Unsupported` (the backend cannot do this at all) | 501 | `unsupported` |
//! | `ErrorKind::Unavailable` (sealed store, database down, audit log down) | 503 | `unavailable` |
//!
//! `Unsupported` is 501, not 400: the request is well-formed and retrying it
//! elsewhere may work, but this server's backend will never perform it.
//! For 5xx other than 501/503 the body is generic; the real error travels
//! in a response extension to the logging middleware.

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kms_core::{Error, ErrorKind};
use kms_proto::ErrorBody;

/// An error answered over HTTP.
#[derive(Debug)]
pub enum ApiError {
    /// A core error, mapped by its kind.
    Core(Error),
    /// No valid credentials.
    Unauthenticated(String),
    /// The request body is over the limit.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The route exists but not with this method (the message names both).
    MethodNotAllowed(String),
    /// Too many failed authentications from this address.
    TooManyRequests {
        /// Seconds until the address may try again.
        retry_after_secs: u64,
    },
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Core(e)
    }
}

/// The status and code of a core error (the table above).
pub fn core_status(e: &Error) -> (StatusCode, &'static str) {
    if let Error::PayloadTooLarge { .. } = e {
        return (StatusCode::PAYLOAD_TOO_LARGE, e.code());
    }
    let status = match e.kind() {
        ErrorKind::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::FailedPrecondition => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unsupported => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, e.code())
}

/// The failing error of a 5xx answer, for the logging middleware.
#[derive(Clone, Debug)]
pub struct InternalError(pub Arc<Error>);

impl ApiError {
    /// The status and code of this error (the table above).
    pub fn status(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BodyTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::TooManyRequests { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
            }
            ApiError::Core(e) => core_status(e),
        }
    }

    /// The JSON body (generic for internal errors).
    pub fn body(&self) -> ErrorBody {
        let (status, code) = self.status();
        let message = match self {
            _ if status == StatusCode::INTERNAL_SERVER_ERROR => {
                "internal server error; the server log has the details under this response's x-request-id".to_string()
            }
            ApiError::Core(e) => e.to_string(),
            ApiError::Unauthenticated(m) | ApiError::MethodNotAllowed(m) => m.clone(),
            ApiError::BodyTooLarge { limit } => format!(
                "the request body is larger than the server's limit of {limit} bytes; send less per request (or raise server.max_request_bytes)"
            ),
            ApiError::TooManyRequests { retry_after_secs } => format!(
                "too many failed authentication attempts from this address; try again in {retry_after_secs} s"
            ),
        };
        ErrorBody {
            error: code.to_string(),
            message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status();
        metrics::counter!("kms_errors_total", "kind" => code).increment(1);
        let mut resp = (status, Json(self.body())).into_response();
        match self {
            ApiError::TooManyRequests { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            ApiError::Unauthenticated(_) => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"kms\""),
                );
            }
            ApiError::Core(e) if status == StatusCode::INTERNAL_SERVER_ERROR => {
                resp.extensions_mut().insert(InternalError(Arc::new(e)));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests;
