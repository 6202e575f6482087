//! The CLI's error: a core error plus an actionable hint, or a CLI-level
//! failure (usage, files, an uninitialised store). Decides the exit code and
//! prints `error: …` / `hint: …` (or a JSON object with `--json`) on stderr.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use kms_core::{Error as CoreError, ErrorKind};

/// Exit code of a failed operation.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a usage error (as clap's).
pub const EXIT_USAGE: u8 = 2;

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// An error of the KMS, with a hint chosen by the command where it knows better.
    #[error("{source}")]
    Core {
        /// The error.
        #[source]
        source: CoreError,
        /// What to do about it, if the command knows more than the error kind.
        hint: Option<String>,
    },
    /// An envelope file could not be encrypted, decrypted, rewrapped or inspected.
    #[error(transparent)]
    Envelope(#[from] kms_envelope::Error),
    /// A file could not be read or written.
    #[error("{what} {path}: {source}", path = path.display())]
    File {
        /// `cannot read` / `cannot write` / `cannot create`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Standard input or output failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The store does not exist or was never initialised.
    #[error("the key store at {store} is not initialised")]
    NotInitialised {
        /// The store location (redacted).
        store: String,
    },
    /// The result was already reported on stdout (an invalid signature or MAC); exit 1 quietly.
    #[error("{0}")]
    Reported(&'static str),
    /// The command line is wrong in a way clap cannot see.
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
}

impl From<CoreError> for CliError {
    fn from(source: CoreError) -> Self {
        CliError::Core { source, hint: None }
    }
}

impl CliError {
    /// A usage error with a hint.
    pub fn usage(message: impl Into<String>, hint: impl Into<String>) -> Self {
        CliError::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// Attaches a hint to a core error (kept when one is already set).
    pub fn with_hint(self, hint: impl Into<String>) -> Self {
        match self {
            CliError::Core { source, hint: None } => CliError::Core {
                source,
                hint: Some(hint.into()),
            },
            other => other,
        }
    }

    /// The kind of a core error, if this is one.
    pub fn core_kind(&self) -> Option<ErrorKind> {
        match self {
            CliError::Core { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage { .. } => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// The machine-readable code for `--json`: the [`ErrorKind`] code for KMS errors.
    pub fn code(&self) -> &'static str {
        match self {
            // The same codes as the HTTP API's error bodies.
            CliError::Core { source, .. } => source.kind().code(),
            CliError::Envelope(e) => e.code(),
            CliError::File { .. } | CliError::Io { .. } => "io",
            CliError::NotInitialised { .. } => "not_initialised",
            CliError::Reported(_) => "invalid_signature",
            CliError::Usage { .. } => "usage",
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            CliError::Core {
                hint: Some(hint), ..
            }
            | CliError::Usage {
                hint: Some(hint), ..
            } => Some(hint.clone()),
            CliError::Core { source, hint: None } => core_hint(source).map(str::to_string),
            CliError::Envelope(e) => crate::commands::file::hint(e).map(str::to_string),
            CliError::NotInitialised { .. } => Some(
                "create it with `kms init` (with the same --store), or point --store / KMS_STORE at an existing store"
                    .into(),
            ),
            _ => None,
        }
    }

    /// Prints the error on stderr and returns the exit code.
    pub fn report(&self, json: bool) -> ExitCode {
        let code = self.exit_code();
        if matches!(self, CliError::Reported(_)) {
            return ExitCode::from(code);
        }
        let mut err = std::io::stderr().lock();
        // Failing to write to stderr leaves nothing better to do than exit.
        let _ = writeln!(err, "error: {self}");
        if let Some(hint) = self.hint() {
            let _ = writeln!(err, "hint: {hint}");
        }
        if json {
            let mut body = serde_json::json!({ "error": self.code(), "message": self.to_string() });
            if let Some(hint) = self.hint() {
                body["hint"] = serde_json::Value::String(hint);
            }
            let _ = writeln!(err, "{body}");
        }
        ExitCode::from(code)
    }
}

/// The default hint for a core error, by variant where it is specific and by kind otherwise.
fn core_hint(e: &CoreError) -> Option<&'static str> {
    match e {
        CoreError::DecryptionFailed => Some(
            "check the --context given to encrypt (it must match exactly) and that the ciphertext is complete and unchanged",
        ),
        CoreError::InvalidCiphertext(_) => Some(
            "pass the ciphertext exactly as `kms encrypt` printed it (kms:v1:…) or its binary form",
        ),
        CoreError::Sealed => Some(
            "unseal with the store's passphrase: --passphrase-file FILE or KMS_PASSPHRASE_FILE (or --key-file / KMS_KEY_FILE)",
        ),
        CoreError::WrongUnsealKey => Some(
            "give the passphrase (or key file) used with `kms init` for this store: --passphrase-file / KMS_PASSPHRASE_FILE, --key-file / KMS_KEY_FILE",
        ),
        CoreError::Concurrent(_) => {
            Some("another process changed the key at the same time; run the command again")
        }
        other => match other.kind() {
            ErrorKind::NotFound => {
                Some("list keys with `kms key list` and aliases with `kms alias list`")
            }
            ErrorKind::Unavailable => {
                Some("check --store / KMS_STORE and that the database is reachable")
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_separate_usage_from_failures() {
        assert_eq!(CliError::usage("bad", "fix").exit_code(), EXIT_USAGE);
        assert_eq!(
            CliError::from(CoreError::DecryptionFailed).exit_code(),
            EXIT_FAILURE
        );
        assert_eq!(
            CliError::Reported("invalid signature").exit_code(),
            EXIT_FAILURE
        );
    }

    #[test]
    fn hints_point_at_the_fix() {
        let e = CliError::from(CoreError::NotFound("key alias/x".into()));
        assert!(e.hint().is_some_and(|h| h.contains("kms key list")));
        let e = CliError::from(CoreError::DecryptionFailed);
        assert!(e.hint().is_some_and(|h| h.contains("--context")));
        let e = CliError::from(CoreError::WrongUnsealKey);
        assert!(e.hint().is_some_and(|h| h.contains("--passphrase-file")));
        let e = CliError::from(CoreError::NotFound("x".into())).with_hint("special");
        assert_eq!(e.hint().as_deref(), Some("special"));
    }

    #[test]
    fn json_codes_are_stable() {
        assert_eq!(
            CliError::from(CoreError::DecryptionFailed).code(),
            "invalid_input"
        );
        assert_eq!(
            CliError::from(CoreError::NotFound("k".into())).code(),
            "not_found"
        );
        assert_eq!(
            CliError::NotInitialised { store: "x".into() }.code(),
            "not_initialised"
        );
    }
}
