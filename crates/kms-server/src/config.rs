//! `kms.toml`: the file the server, the CLI and the Nushell plugin share.
//!
//! Every table denies unknown keys (the error names the key). String values
//! may use `${VAR}` and `${VAR:-default}`; a `${VAR}` whose variable is
//! unset becomes empty (so the seed layout loads without every backend's
//! secrets) and is listed in [`Config::unset_variables`]. `~` in paths is
//! expanded. Values from the file are overridden by `KMS_*` environment
//! variables and flags ([`crate::ServerArgs`]).
//!
//! ```toml
//! [kms]
//! dev_backend = "age"            # or: backend = "local"
//! prod_backend = "cosmian"
//! environment = "${PROVISIONING_ENV:-dev}"
//!
//! [kms.local]
//! store = "~/.local/share/kms/kms.db"     # or postgres://…
//! passphrase_file = "/run/secrets/kms-passphrase"
//!
//! [server]
//! listen = "127.0.0.1:8082"
//! default_key = "alias/default"
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use kms_core::Error;
use serde::Deserialize;
use zeroize::Zeroizing;

/// `[server] listen` when nothing sets it.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8082";
/// `[server] default_key` when nothing sets it.
pub const DEFAULT_SEED_KEY: &str = "alias/default";
/// `[server] max_request_bytes` when nothing sets it (4 MiB).
pub const DEFAULT_MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[kms]`: backends.
    #[serde(default)]
    pub kms: KmsSection,
    /// `[server]`: the HTTP server.
    #[serde(default)]
    pub server: ServerSection,
    /// `[cli]`: settings of the command-line tool.
    #[serde(default)]
    pub cli: CliSection,
    /// `${VAR}`s that were unset when the file was read.
    #[serde(skip)]
    pub unset_variables: Vec<String>,
}

/// `[kms]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KmsSection {
    /// The default backend (seed 000 style).
    pub backend: Option<String>,
    /// The backend when `environment` is `dev` (seed 001 style).
    pub dev_backend: Option<String>,
    /// The backend otherwise.
    pub prod_backend: Option<String>,
    /// `dev`, `prod`, … picks `dev_backend` or `prod_backend`.
    pub environment: Option<String>,
    /// `[kms.local]`: the embedded key store.
    #[serde(default)]
    pub local: LocalSection,
    /// `[kms.age]`.
    pub age: Option<AgeSection>,
    /// `[kms.cosmian]`.
    pub cosmian: Option<CosmianSection>,
}

/// `[kms.local]`. `Debug` hides a password in the store URL.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSection {
    /// A SQLite path or a `postgres://` URL.
    pub store: Option<String>,
    /// A file with the passphrase.
    pub passphrase_file: Option<PathBuf>,
    /// A root key file instead of a passphrase.
    pub key_file: Option<PathBuf>,
}

impl fmt::Debug for LocalSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSection")
            .field("store", &self.store.as_deref().map(redact_url))
            .field("passphrase_file", &self.passphrase_file)
            .field("key_file", &self.key_file)
            .finish()
    }
}

/// `[kms.age]` (seed 001).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgeSection {
    /// The recipient file.
    pub public_key_path: Option<PathBuf>,
    /// The identity file.
    pub private_key_path: Option<PathBuf>,
}

/// `[kms.cosmian]` (seed 001).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosmianSection {
    /// The server URL.
    pub server_url: Option<String>,
    /// The API key (secret; never printed).
    pub api_key: Option<SecretString>,
    /// The default key id.
    pub default_key_id: Option<String>,
    /// Whether to verify the server's certificate.
    #[serde(default = "yes")]
    pub tls_verify: bool,
}

fn yes() -> bool {
    true
}

impl fmt::Debug for CosmianSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CosmianSection")
            .field("server_url", &self.server_url)
            .field("api_key", &self.api_key)
            .field("default_key_id", &self.default_key_id)
            .field("tls_verify", &self.tls_verify)
            .finish()
    }
}

/// A secret from the config: zeroized, `Debug` prints a redaction.
#[derive(Clone, Default, Deserialize)]
#[serde(from = "String")]
pub struct SecretString(Zeroizing<String>);

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
}

impl SecretString {
    /// The secret. Callers must not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            f.write_str("\"<redacted>\"")
        }
    }
}

/// `[server]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Listen address (default `127.0.0.1:8082`).
    pub listen: Option<String>,
    /// The key of the seed API (default `alias/default`).
    pub default_key: Option<String>,
    /// The largest request body in bytes (default 4 MiB).
    pub max_request_bytes: Option<usize>,
    /// A JSON-lines file every audit record is also appended to.
    pub audit_file: Option<PathBuf>,
    /// Take the client address from `X-Forwarded-For` (behind a load balancer only).
    #[serde(default)]
    pub trust_forwarded_for: bool,
    /// `[server.auth]`.
    #[serde(default)]
    pub auth: AuthSection,
    /// `[server.tls]`.
    pub tls: Option<TlsSection>,
}

/// `[server.auth]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSection {
    /// Failed authentications from one address before it is locked out (default 10).
    pub max_failures: Option<u32>,
    /// The window they are counted in, seconds (default 60).
    pub failure_window_secs: Option<u64>,
    /// The lockout, seconds (default 60).
    pub lockout_secs: Option<u64>,
}

/// `[server.tls]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// PEM certificate chain.
    pub cert_file: Option<PathBuf>,
    /// PEM private key.
    pub key_file: Option<PathBuf>,
    /// PEM CA bundle; when set, clients must present a certificate it signed.
    pub client_ca_file: Option<PathBuf>,
    /// Client-certificate subjects (RFC 4514, e.g. `CN=app1,O=Example`) and their policies.
    #[serde(default)]
    pub client_principals: BTreeMap<String, Vec<String>>,
}

/// `[cli]`: read by every `kms` command that can work through a server;
/// `--addr`/`KMS_ADDR`, `--token`/`KMS_TOKEN` and a local store flag
/// (`--store`, `KMS_STORE`, …) win over it. `Debug` hides a password in `addr`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CliSection {
    /// The server the CLI talks to, like `KMS_ADDR`.
    pub addr: Option<String>,
    /// A file holding the CLI's token (a trailing newline is stripped), used
    /// when neither `--token` nor `KMS_TOKEN` is given.
    pub token_file: Option<PathBuf>,
}

impl fmt::Debug for CliSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliSection")
            .field("addr", &self.addr.as_deref().map(redact_url))
            .field("token_file", &self.token_file)
            .finish()
    }
}

impl Config {
    /// Reads and checks a file.
    pub fn load(path: &Path) -> kms_core::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::invalid("config", format!("cannot read {}: {e}", path.display()))
        })?;
        Self::parse(&text).map_err(|e| match e {
            Error::InvalidArgument { field, reason } => Error::InvalidArgument {
                field,
                reason: format!("{}: {reason}", path.display()),
            },
            other => other,
        })
    }

    /// Parses the text of a file.
    pub fn parse(text: &str) -> kms_core::Result<Self> {
        // Unknown keys first, on the raw text, so the error has a line number.
        let _: Config =
            toml::from_str(text).map_err(|e| Error::invalid("config", e.to_string()))?;
        let mut value: toml::Value =
            toml::from_str(text).map_err(|e| Error::invalid("config", e.to_string()))?;
        let mut unset = Vec::new();
        interpolate(&mut value, "", &mut unset)?;
        let mut cfg =
            Config::deserialize(value).map_err(|e| Error::invalid("config", e.to_string()))?;
        cfg.unset_variables = unset;
        cfg.kms.backend_name()?;
        Ok(cfg)
    }

    /// The default path: `$XDG_CONFIG_HOME/kms/kms.toml` (e.g. `~/.config/kms/kms.toml`).
    pub fn default_path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("kms").join("kms.toml"))
    }

    /// The file in use and its contents: `explicit` (`--config`,
    /// `KMS_CONFIG`; it must exist), else the default path when it exists,
    /// else `None` (every setting from the environment, flags and defaults).
    pub fn locate(explicit: Option<&Path>) -> kms_core::Result<Option<(PathBuf, Self)>> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => match Self::default_path().filter(|p| p.exists()) {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        let cfg = Self::load(&path)?;
        Ok(Some((path, cfg)))
    }

    /// A redacted rendering of the file as read (secrets and URL passwords
    /// replaced); [`effective::Effective`] is the view with defaults and overrides.
    pub fn redacted(&self) -> String {
        format!("{self:#?}")
    }
}

impl KmsSection {
    /// The default backend: `backend`, or by `environment` (`dev` →
    /// `dev_backend`, else `prod_backend`); `None` when nothing is set.
    pub fn backend_name(&self) -> kms_core::Result<Option<String>> {
        if self.backend.is_some() && (self.dev_backend.is_some() || self.prod_backend.is_some()) {
            return Err(Error::invalid(
                "config",
                "[kms] sets both `backend` and `dev_backend`/`prod_backend`; keep one style",
            ));
        }
        if let Some(b) = &self.backend {
            return Ok(Some(b.clone()));
        }
        let env = self.environment.as_deref().unwrap_or("dev");
        let chosen = if env.eq_ignore_ascii_case("dev") || env.eq_ignore_ascii_case("development") {
            &self.dev_backend
        } else {
            &self.prod_backend
        };
        Ok(chosen.clone())
    }
}

/// Expands `${VAR}` / `${VAR:-default}` in every string, and `~` at the start.
fn interpolate(v: &mut toml::Value, path: &str, unset: &mut Vec<String>) -> kms_core::Result<()> {
    match v {
        toml::Value::String(s) => {
            let expanded = expand_vars(s, path, unset)?;
            *s = shellexpand::tilde(&expanded).into_owned();
        }
        toml::Value::Table(t) => {
            for (k, v) in t.iter_mut() {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                interpolate(v, &p, unset)?;
            }
        }
        toml::Value::Array(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                interpolate(v, &format!("{path}[{i}]"), unset)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands `${VAR}` and `${VAR:-default}` (only these forms: a lone `$`
/// stays as it is). An unset `${VAR}` without default becomes empty and is
/// recorded in `unset`.
fn expand_vars(s: &str, path: &str, unset: &mut Vec<String>) -> kms_core::Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("${") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let end = after.find('}').ok_or_else(|| {
            Error::invalid("config", format!("{path}: `${{` without a closing `}}`"))
        })?;
        let inner = &after[..end];
        let (name, default) = match inner.split_once(":-") {
            Some((n, d)) => (n, Some(d)),
            None => (inner, None),
        };
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(
                "config",
                format!("{path}: `${{{inner}}}` is not ${{VAR}} or ${{VAR:-default}}"),
            ));
        }
        match (std::env::var(name).ok().filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => unset.push(format!("{name} (in {path})")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub use kms_store::redact_url;

pub mod effective;

#[cfg(test)]
mod tests;
