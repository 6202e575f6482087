//! Errors of the client.

use kms_core::ErrorKind;

/// A failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with an error.
    #[error("{message}")]
    Api {
        /// The HTTP status.
        status: u16,
        /// The server's stable code (`not_found`, …).
        code: String,
        /// The server's message.
        message: String,
    },
    /// The server's answer could not be read.
    #[error("unexpected answer from {url}: {reason}")]
    Decode {
        /// The URL called.
        url: String,
        /// Why.
        reason: String,
    },
    /// The address or a TLS file is not usable.
    #[error("invalid client setting: {0}")]
    Config(String),
    /// The server could not be reached.
    #[error("cannot reach the KMS server at {url}: {source}")]
    Transport {
        /// The URL called.
        url: String,
        /// The underlying error.
        #[source]
        source: reqwest::Error,
    },
}

impl Error {
    /// The server's code, for API errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The kind of error, decided by the server's code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api { code, .. } => match code.as_str() {
                "invalid_input" | "payload_too_large" => ErrorKind::InvalidInput,
                "unauthenticated" | "permission_denied" | "too_many_requests" => {
                    ErrorKind::PermissionDenied
                }
                "not_found" => ErrorKind::NotFound,
                "conflict" => ErrorKind::Conflict,
                "failed_precondition" => ErrorKind::FailedPrecondition,
                "unavailable" => ErrorKind::Unavailable,
                "unsupported" => ErrorKind::Unsupported,
                _ => ErrorKind::Internal,
            },
            Error::Transport { .. } => ErrorKind::Unavailable,
            Error::Config(_) => ErrorKind::InvalidInput,
            Error::Decode { .. } => ErrorKind::Internal,
        }
    }
}
