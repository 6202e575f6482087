//! Where the key store is and how to unseal it: `--store`, `--passphrase-file`,
//! `--key-file`, or a passphrase prompt on a terminal.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kms_core::{ErrorKind, KmsManager, Passphrase, SystemRng};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal};
use zeroize::Zeroizing;

use crate::cli::GlobalArgs;
use crate::error::CliError;
use crate::input::read_passphrase_file;
use crate::local_audit::LocalAudit;

/// The backends this build offers.
pub const BACKENDS: &[&str] = &["local"];

/// Checks `--backend` / `KMS_BACKEND`.
pub fn check_backend(name: Option<&str>) -> Result<&'static str, CliError> {
    let name = name.unwrap_or("local");
    BACKENDS
        .iter()
        .find(|b| b.eq_ignore_ascii_case(name))
        .copied()
        .ok_or_else(|| {
            CliError::usage(
                format!(
                    "unknown backend {name:?}; the backends available are: {}",
                    BACKENDS.join(", ")
                ),
                "leave --backend (and KMS_BACKEND) unset to use the local key store",
            )
        })
}

/// The key store's location.
#[derive(Debug, Clone)]
pub struct StoreLocation {
    /// The database URL handed to the store.
    pub url: String,
    /// The SQLite file, when the store was given as a path.
    pub path: Option<PathBuf>,
}

impl StoreLocation {
    /// From `--store` / `KMS_STORE`, or the platform default.
    pub fn resolve(store: Option<&str>) -> Result<Self, CliError> {
        match store {
            Some(s) if is_url(s) => Ok(Self {
                url: s.to_string(),
                path: None,
            }),
            Some(p) => Ok(Self::from_path(PathBuf::from(p))),
            None => {
                let dir = dirs::data_dir().ok_or_else(|| {
                    CliError::usage(
                        "cannot find a data directory for the default key store",
                        "pass --store PATH or set KMS_STORE",
                    )
                })?;
                Ok(Self::from_path(dir.join("kms").join("kms.db")))
            }
        }
    }

    fn from_path(path: PathBuf) -> Self {
        Self {
            url: kms_store::sqlite_url(&path),
            path: Some(path),
        }
    }

    /// The location for printing: the path, or the URL without its password.
    pub fn display(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => redact_url(&self.url),
        }
    }

    /// Whether the store surely does not exist yet (a SQLite file that is absent).
    pub fn surely_absent(&self) -> bool {
        self.path.as_deref().is_some_and(|p| !p.exists())
    }

    fn options(&self) -> StoreOptions {
        StoreOptions::new(self.url.clone())
    }
}

fn is_url(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("postgres://")
        || lower.starts_with("postgresql://")
        || lower.starts_with("sqlite:")
}

pub use kms_store::redact_url;

/// How the root key is obtained.
#[derive(Debug, Clone)]
pub enum UnsealSource {
    /// `--key-file`.
    KeyFile(PathBuf),
    /// Prompt on the terminal.
    Prompt,
    /// `--passphrase-file`.
    PassphraseFile(PathBuf),
}

impl UnsealSource {
    /// From the global flags; `None` when there is neither a flag nor a terminal.
    pub fn from_args(global: &GlobalArgs) -> Option<Self> {
        if let Some(p) = &global.key_file {
            Some(Self::KeyFile(p.clone()))
        } else if let Some(p) = &global.passphrase_file {
            Some(Self::PassphraseFile(p.clone()))
        } else if can_prompt() {
            Some(Self::Prompt)
        } else {
            None
        }
    }

    /// From the global flags, or the error telling what to pass.
    pub fn require(global: &GlobalArgs) -> Result<Self, CliError> {
        Self::from_args(global).ok_or_else(no_passphrase)
    }

    /// The store's unseal input; `confirm` prompts twice (for `kms init`).
    pub fn unseal(&self, confirm: bool) -> Result<Unseal, CliError> {
        match self {
            Self::KeyFile(p) => Ok(Unseal::KeyFile(p.clone())),
            Self::PassphraseFile(p) => Ok(Unseal::Passphrase(read_passphrase_file(p)?)),
            Self::Prompt => prompt(confirm).map(Unseal::Passphrase),
        }
    }
}

/// Whether a passphrase can be asked for: stdin is a terminal, or (for
/// `echo data | kms encrypt` typed in a shell) stderr is one and the
/// controlling terminal opens. Scripts and CI, with neither, get an error
/// instead of a hang.
fn can_prompt() -> bool {
    if std::io::stdin().is_terminal() {
        return true;
    }
    #[cfg(unix)]
    {
        std::io::stderr().is_terminal() && std::fs::File::open("/dev/tty").is_ok()
    }
    #[cfg(not(unix))]
    {
        false
    }
}

fn no_passphrase() -> CliError {
    CliError::usage(
        "no passphrase for the key store, and no terminal to ask for it on",
        "pass --passphrase-file FILE (or set KMS_PASSPHRASE_FILE), or --key-file FILE (KMS_KEY_FILE)",
    )
}

fn prompt(confirm: bool) -> Result<Passphrase, CliError> {
    let read = |label: &str| {
        rpassword::prompt_password(label)
            .map(Zeroizing::new)
            .map_err(|source| CliError::Io {
                what: "cannot read the passphrase from the terminal",
                source,
            })
    };
    let first = read("Key store passphrase: ")?;
    if first.is_empty() {
        return Err(CliError::usage(
            "the passphrase is empty",
            "type a passphrase",
        ));
    }
    if confirm {
        let second = read("Repeat the passphrase: ")?;
        if *first != *second {
            return Err(CliError::usage(
                "the two passphrases differ",
                "run `kms init` again and type the same passphrase twice",
            ));
        }
    }
    Ok(Passphrase::new(first.to_string()))
}

/// Opens the store and builds the manager over it; the manager records
/// every key operation in the store's audit log as `audit` says.
pub async fn open(
    location: &StoreLocation,
    source: &UnsealSource,
    audit: &LocalAudit,
) -> Result<KmsManager, CliError> {
    if location.surely_absent() {
        return Err(CliError::NotInitialised {
            store: location.display(),
        });
    }
    let unseal = source.unseal(false)?;
    let backend = LocalBackend::open(location.options(), &unseal)
        .await
        .map_err(|e| open_error(e, location))?;
    Ok(audit.manager(backend))
}

fn open_error(e: kms_core::Error, location: &StoreLocation) -> CliError {
    if e.kind() == ErrorKind::FailedPrecondition {
        return CliError::NotInitialised {
            store: location.display(),
        };
    }
    CliError::from(e)
}

/// Creates the store (and the parent directory of a SQLite file, and the
/// key file when `--key-file` names one that does not exist yet).
pub async fn init(
    location: &StoreLocation,
    source: &UnsealSource,
    kdf: KdfParams,
) -> Result<(), CliError> {
    if let Some(parent) = location.path.as_deref().and_then(Path::parent) {
        create_private_dir(parent)?;
    }
    let mut created_key_file = None;
    if let UnsealSource::KeyFile(path) = source
        && !path.exists()
    {
        kms_store::generate_key_file(path, &SystemRng)?;
        created_key_file = Some(path.clone());
    }
    let unseal = source.unseal(true)?;
    let result = LocalBackend::init(location.options(), &unseal, kdf)
        .await
        .map_err(|e| {
            let hint = format!(
                "the store at {} is initialised already; use it as is, or pass another --store",
                location.display()
            );
            if e.kind() == ErrorKind::Conflict {
                CliError::from(e).with_hint(hint)
            } else {
                CliError::from(e)
            }
        });
    if let (Err(_), Some(path)) = (&result, created_key_file) {
        // Nothing was sealed under the new key file: do not leave it behind.
        let _ = std::fs::remove_file(path);
    }
    result.map(|_| ())
}

/// Opens the store without unsealing it (for `kms status` without a passphrase).
pub async fn open_sealed(location: &StoreLocation) -> Result<Arc<LocalBackend>, CliError> {
    if location.surely_absent() {
        return Err(CliError::NotInitialised {
            store: location.display(),
        });
    }
    LocalBackend::open_sealed(location.options())
        .await
        .map_err(|e| open_error(e, location))
}

fn create_private_dir(dir: &Path) -> Result<(), CliError> {
    if dir.as_os_str().is_empty() || dir.exists() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| CliError::File {
        what: "cannot create",
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_used_as_is_and_paths_become_sqlite_urls() -> Result<(), CliError> {
        let pg = StoreLocation::resolve(Some("postgres://u:secret@db:5432/kms"))?;
        assert_eq!(pg.url, "postgres://u:secret@db:5432/kms");
        assert!(pg.path.is_none());
        assert_eq!(pg.display(), "postgres://u:***@db:5432/kms");
        let sq = StoreLocation::resolve(Some("sqlite:/tmp/x.db"))?;
        assert_eq!(sq.url, "sqlite:/tmp/x.db");
        let file = StoreLocation::resolve(Some("/tmp/some/kms.db"))?;
        assert_eq!(file.path.as_deref(), Some(Path::new("/tmp/some/kms.db")));
        assert!(file.url.starts_with("sqlite:"));
        Ok(())
    }

    #[test]
    fn only_the_local_backend_is_accepted() {
        assert!(check_backend(None).is_ok());
        assert!(check_backend(Some("LOCAL")).is_ok());
        let err = check_backend(Some("vault")).err().map(|e| e.to_string());
        assert!(err.is_some_and(|m| m.contains("local")));
    }

    #[test]
    fn urls_without_a_password_are_unchanged() {
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
