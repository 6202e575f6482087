//! The one error type of the envelope crate. Every class of bad input a test
//! vector names is its own variant, so callers (and the vectors) can tell a
//! truncated file from a tampered header without reading message text.

use std::io;

/// Errors of envelope encryption, decryption, rewrap and inspection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The armor (`-----BEGIN KMS ENCRYPTED FILE-----`) is malformed or not canonical.
    #[error("invalid armor: {0}")]
    Armor(&'static str),
    /// The header MAC does not match: the header was altered, or it was
    /// decrypted with a different encryption context.
    #[error(
        "the file header failed authentication: it was altered, or the encryption context differs from the one used to encrypt"
    )]
    BadHeaderMac,
    /// A payload chunk failed authentication: it was altered, or chunks were reordered.
    #[error(
        "payload chunk {index} failed authentication: the file was altered or its chunks reordered"
    )]
    ChunkAuthenticationFailed {
        /// The chunk's index (0-based).
        index: u64,
    },
    /// The blocking API was called from inside an async task.
    #[error(
        "the blocking envelope API was called from inside an async runtime; use the async methods there"
    )]
    BlockingInAsyncContext,
    /// The header is malformed (bad lengths, unknown flags, trailing bytes in a stanza).
    #[error("invalid file header: {0}")]
    InvalidHeader(&'static str),
    /// An argument is not valid (recipients, threshold, context, format).
    #[error("invalid {field}: {reason}")]
    InvalidArgument {
        /// The argument.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// Reading or writing failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A call into the KMS failed (for a reason other than a failed unwrap).
    #[error("KMS key {key}: {source}")]
    Kms {
        /// The key reference of the stanza.
        key: String,
        /// The KMS error.
        #[source]
        source: kms_core::Error,
    },
    /// The age crate refused or failed.
    #[error("age: {0}")]
    Age(String),
    /// No identity given (nor the KMS) opens any recipient stanza of the file.
    #[error("no identity opens this file; it is encrypted to: {recipients}{hint}")]
    NoMatchingIdentity {
        /// The recipients the file names (never secret).
        recipients: String,
        /// Why some could not be tried (a KMS key that is not usable, ...).
        hint: String,
    },
    /// The final chunk is empty although the payload is not: only a writer
    /// holding the file key can produce this, and no writer of this format does.
    #[error("the payload is not canonical: an empty final chunk follows data")]
    NonCanonicalPayload,
    /// Fewer shares could be opened than the file's threshold needs.
    #[error(
        "this file needs {needed} of its {total} recipients; only {opened} could be opened{hint}"
    )]
    NotEnoughShares {
        /// The threshold.
        needed: u8,
        /// The number of stanzas.
        total: usize,
        /// How many were opened.
        opened: usize,
        /// Why some could not be tried.
        hint: String,
    },
    /// The input is not an envelope file (nor an age file).
    #[error("not an encrypted file (no KMS envelope or age header found)")]
    NotEncrypted,
    /// The output file exists and overwriting was not asked for.
    #[error("{} exists; pass --force to overwrite it", .0.display())]
    OutputExists(std::path::PathBuf),
    /// A passphrase stanza asks for more work than this reader allows.
    #[error(
        "the passphrase stanza asks for Argon2id m={memory_kib} KiB t={iterations} p={parallelism}, above the limit; refusing"
    )]
    PassphraseWorkTooHigh {
        /// Memory in KiB.
        memory_kib: u32,
        /// Passes.
        iterations: u32,
        /// Lanes.
        parallelism: u32,
    },
    /// Data follows the final chunk.
    #[error("data follows the end of the encrypted payload (appended data)")]
    TrailingData,
    /// The file ends before its header or its final chunk.
    #[error("the file is truncated: it ends before its final chunk")]
    Truncated,
    /// The format version is not one this code reads.
    #[error("unknown envelope format version {0}; this build reads version 1 (upgrade kms)")]
    UnknownVersion(u8),
    /// Something that should not happen (a worker thread died, a length overflowed).
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// A recipient's key wrap opened, but the encryption context (or the stanza) differs.
    #[error(
        "decryption failed: the encryption context differs from the one used to encrypt (or the recipient stanza was altered)"
    )]
    WrongContext,
}

impl Error {
    /// A stable, machine-readable name of the error class (used by the test
    /// vectors and the CLI's JSON output).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Age(_) => "age",
            Error::Armor(_) => "invalid_armor",
            Error::BadHeaderMac => "bad_header_mac",
            Error::BlockingInAsyncContext => "blocking_in_async_context",
            Error::ChunkAuthenticationFailed { .. } => "chunk_authentication_failed",
            Error::Internal(_) => "internal",
            Error::InvalidArgument { .. } => "invalid_argument",
            Error::InvalidHeader(_) => "invalid_header",
            Error::Io { .. } => "io",
            Error::Kms { .. } => "kms",
            Error::NoMatchingIdentity { .. } => "no_matching_identity",
            Error::NonCanonicalPayload => "non_canonical_payload",
            Error::NotEncrypted => "not_encrypted",
            Error::NotEnoughShares { .. } => "not_enough_shares",
            Error::OutputExists(_) => "output_exists",
            Error::PassphraseWorkTooHigh { .. } => "passphrase_work_too_high",
            Error::TrailingData => "trailing_data",
            Error::Truncated => "truncated",
            Error::UnknownVersion(_) => "unknown_version",
            Error::WrongContext => "wrong_context",
        }
    }

    /// Shorthand for an invalid argument.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> Self {
        move |source| {
            // Errors the age crate and our own wrappers pass through io::Error.
            match source
                .get_ref()
                .and_then(|e| e.downcast_ref::<IoCarried>())
                .map(|c| c.0.clone())
            {
                Some(code) => code.into_error(),
                None if source.kind() == io::ErrorKind::UnexpectedEof => Error::Truncated,
                None => Error::Io { what, source },
            }
        }
    }
}

/// An error class carried through an `io::Error` (for readers such as the
/// armor decoder that must speak `io`).
#[derive(Debug, Clone)]
pub(crate) struct IoCarried(pub(crate) Carried);

/// The classes that travel inside `io::Error`.
#[derive(Debug, Clone)]
pub(crate) enum Carried {
    Armor(&'static str),
    TrailingData,
    Truncated,
}

impl Carried {
    fn into_error(self) -> Error {
        match self {
            Carried::Armor(m) => Error::Armor(m),
            Carried::TrailingData => Error::TrailingData,
            Carried::Truncated => Error::Truncated,
        }
    }
    pub(crate) fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, IoCarried(self))
    }
}

impl std::fmt::Display for IoCarried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Carried::Armor(m) => write!(f, "invalid armor: {m}"),
            Carried::TrailingData => f.write_str("data follows the end of the armor"),
            Carried::Truncated => f.write_str("the armor ends before its END line"),
        }
    }
}

impl std::error::Error for IoCarried {}

impl From<Error> for kms_core::Error {
    /// Maps to the core error at the boundary to the CLI and server: bad
    /// input is `InvalidInput`, failed authentication `DecryptionFailed`.
    fn from(e: Error) -> Self {
        use kms_core::{Error as E, ErrorKind};
        match e {
            Error::Kms { source, .. } => source,
            Error::BadHeaderMac | Error::ChunkAuthenticationFailed { .. } | Error::WrongContext => {
                E::DecryptionFailed
            }
            Error::Io { what, source } => E::Unavailable {
                what: what.to_string(),
                reason: source.to_string(),
                source: Some(Box::new(source)),
            },
            Error::NoMatchingIdentity { .. } | Error::NotEnoughShares { .. } => E::Backend {
                backend: "envelope",
                kind: ErrorKind::PermissionDenied,
                message: e.to_string(),
                source: None,
            },
            Error::Internal(m) => E::Internal(m.to_string()),
            Error::BlockingInAsyncContext => E::Internal(e.to_string()),
            other => E::Backend {
                backend: "envelope",
                kind: ErrorKind::InvalidInput,
                message: other.to_string(),
                source: None,
            },
        }
    }
}

/// Result with the envelope error.
pub type Result<T, E = Error> = core::result::Result<T, E>;
