//! The one error type of the core, and the kind that decides how every
//! surface (HTTP status, CLI exit code) reports it.

use crate::key::{KeyId, KeyState};
use crate::operation::Operation;
use crate::spec::{KeySpec, KeyUsage};

/// How an error is reported: decided here, by an exhaustive match, never by
/// reading message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request conflicts with current state (an alias that exists, a concurrent change).
    Conflict,
    /// The key is not in a state that permits the operation.
    FailedPrecondition,
    /// A server-side fault.
    Internal,
    /// The request is malformed or a value is out of range.
    InvalidInput,
    /// The key, alias or version does not exist.
    NotFound,
    /// The caller may not do this.
    PermissionDenied,
    /// The backend or store cannot serve now (down, sealed).
    Unavailable,
    /// The backend cannot do this operation at all.
    Unsupported,
}

impl ErrorKind {
    /// A stable, machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ErrorKind::Conflict => "conflict",
            ErrorKind::FailedPrecondition => "failed_precondition",
            ErrorKind::Internal => "internal",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::NotFound => "not_found",
            ErrorKind::PermissionDenied => "permission_denied",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// Errors of the KMS core and of every backend, after mapping.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An alias with that name exists already.
    #[error("alias {0} already exists; choose another name or use `alias update`")]
    AliasExists(String),
    /// A backend refused or failed a call; `kind` says how to report it.
    #[error("{backend} backend: {message}")]
    Backend {
        /// The backend's name.
        backend: &'static str,
        /// How to report it.
        kind: ErrorKind,
        /// What went wrong (never secret).
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// Concurrent changes collided; retrying may succeed.
    #[error("conflicting concurrent change to {0}; retry the operation")]
    Concurrent(String),
    /// Decryption failed: wrong key, wrong context, or tampered or truncated ciphertext.
    /// Deliberately carries no detail.
    #[error(
        "decryption failed: the ciphertext was altered or truncated, or the key or encryption context differs from the one used to encrypt"
    )]
    DecryptionFailed,
    /// An imported key material or import token was rejected.
    #[error("import failed: {0}")]
    ImportFailed(String),
    /// Invariant broken inside the KMS; a bug.
    #[error("internal error: {0}")]
    Internal(String),
    /// A value is not valid for a field.
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The field or argument.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The ciphertext is not one this KMS produced (bad prefix, encoding or header).
    #[error("invalid ciphertext: {0}")]
    InvalidCiphertext(&'static str),
    /// The key cannot do this operation in its current state.
    #[error("key {key} is {state}; {operation} is not permitted in that state{hint}", hint = state_hint(*state))]
    InvalidKeyState {
        /// The key.
        key: KeyId,
        /// Its state.
        state: KeyState,
        /// What was attempted.
        operation: Operation,
    },
    /// The key's usage does not allow this operation.
    #[error("key {key} has usage {usage}; {operation} needs a key with a different usage")]
    InvalidKeyUsage {
        /// The key.
        key: KeyId,
        /// Its usage.
        usage: KeyUsage,
        /// What was attempted.
        operation: Operation,
    },
    /// A signature or MAC did not verify (only for the boolean-less API).
    #[error("the signature or MAC is not valid for this message and key")]
    InvalidSignature,
    /// The key spec and the requested algorithm or usage do not fit.
    #[error("key spec {spec} cannot {what}")]
    IncompatibleSpec {
        /// The spec.
        spec: KeySpec,
        /// What was asked.
        what: String,
    },
    /// A key, alias or version is not known.
    #[error("{0} not found")]
    NotFound(String),
    /// The input is larger than the operation allows.
    #[error("{what} is {len} bytes; the limit is {max} bytes{hint}")]
    PayloadTooLarge {
        /// What was too large.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
        /// A pointer to what to do instead.
        hint: &'static str,
    },
    /// The caller may not do this.
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The store is sealed: unseal it with its passphrase or key file.
    #[error("the key store is sealed; unseal it with its passphrase or key file")]
    Sealed,
    /// The root-key passphrase or key file is wrong.
    #[error("wrong passphrase or key file for this key store; nothing was changed")]
    WrongUnsealKey,
    /// The store or backend is unreachable or failing.
    #[error("{what} is unavailable: {reason}")]
    Unavailable {
        /// What is unavailable.
        what: String,
        /// Why, and what to do.
        reason: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
    /// The backend cannot do this at all.
    #[error("the {backend} backend does not support {what}")]
    Unsupported {
        /// The backend.
        backend: &'static str,
        /// What it cannot do.
        what: String,
    },
    /// The key version is below `min_decryption_version` or above the newest.
    #[error("key {key} version {version} {reason}")]
    VersionNotUsable {
        /// The key.
        key: KeyId,
        /// The version asked for.
        version: u32,
        /// Why it cannot be used.
        reason: &'static str,
    },
}

fn state_hint(state: KeyState) -> &'static str {
    match state {
        KeyState::Disabled => " (enable it with `kms key enable`)",
        KeyState::PendingDeletion => " (cancel the deletion with `kms key cancel-deletion`)",
        KeyState::PendingImport => " (import key material with `kms key import`)",
        KeyState::Enabled => "",
    }
}

impl Error {
    /// How to report this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::AliasExists(_) | Error::Concurrent(_) => ErrorKind::Conflict,
            Error::Backend { kind, .. } => *kind,
            Error::DecryptionFailed
            | Error::ImportFailed(_)
            | Error::InvalidArgument { .. }
            | Error::InvalidCiphertext(_)
            | Error::InvalidSignature
            | Error::IncompatibleSpec { .. }
            | Error::InvalidKeyUsage { .. }
            | Error::PayloadTooLarge { .. } => ErrorKind::InvalidInput,
            Error::Internal(_) => ErrorKind::Internal,
            Error::InvalidKeyState { .. } | Error::VersionNotUsable { .. } => {
                ErrorKind::FailedPrecondition
            }
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::PermissionDenied(_) | Error::WrongUnsealKey => ErrorKind::PermissionDenied,
            Error::Sealed | Error::Unavailable { .. } => ErrorKind::Unavailable,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
        }
    }

    /// The stable, machine-readable code of this error, the same on every
    /// surface (the `error` of an HTTP error body, the `error:<code>` outcome
    /// of an audit record): its kind's [`ErrorKind::code`], except
    /// `payload_too_large` for [`Error::PayloadTooLarge`].
    pub fn code(&self) -> &'static str {
        match self {
            Error::PayloadTooLarge { .. } => "payload_too_large",
            other => other.kind().code(),
        }
    }

    /// Shorthand for an invalid argument.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    /// Shorthand for an unsupported operation.
    pub fn unsupported(backend: &'static str, what: impl Into<String>) -> Self {
        Error::Unsupported {
            backend,
            what: what.into(),
        }
    }
}

/// Result with the core error.
pub type Result<T, E = Error> = core::result::Result<T, E>;
