//! Which server the CLI talks to, and with which token: `--addr`/`KMS_ADDR`
//! and `--token`/`KMS_TOKEN`, else `[cli] addr` and `[cli] token_file` of
//! `kms.toml` (the file of `KMS_CONFIG`, else `~/.config/kms/kms.toml` when
//! it exists).
//!
//! Flags and the environment win over the file, setting by setting. A local
//! store flag (`--store`, `--passphrase-file`, `--key-file` or their
//! variables) asks for the local store, so it wins over `[cli] addr`.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use kms_server::config::Config;
use kms_server::config::effective::{Effective, REDACTED, Source};
use serde_json::Value;
use zeroize::Zeroizing;

use super::SecretArg;
use crate::cli::GlobalArgs;
use crate::error::CliError;

/// Where to send requests and the token to send.
#[derive(Debug)]
pub struct Target {
    /// The server's URL.
    pub addr: String,
    /// The token, if any.
    pub token: Option<SecretArg>,
}

/// The config file of the CLI: `KMS_CONFIG`, else the default path when it exists.
pub fn config_file() -> Result<Option<(PathBuf, Config)>, CliError> {
    let explicit = std::env::var_os("KMS_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    Ok(Config::locate(explicit.as_deref())?)
}

/// Whether a flag or variable names the local store.
fn wants_local(global: &GlobalArgs) -> bool {
    global.store.is_some() || global.passphrase_file.is_some() || global.key_file.is_some()
}

/// Whether [`resolve`] needs the config file: some setting is not given
/// by a flag or the environment.
pub fn needs_file(global: &GlobalArgs) -> bool {
    match &global.addr {
        Some(_) => global.token.is_none(),
        None => !wants_local(global),
    }
}

/// The address in effect and its source; `None` for the local store.
fn addr(global: &GlobalArgs, file: Option<&Config>) -> Option<(String, Source)> {
    match &global.addr {
        Some(a) => Some((
            a.clone(),
            Source::of_arg("--addr", "KMS_ADDR", OsStr::new(a)),
        )),
        None if wants_local(global) => None,
        None => file
            .and_then(|c| c.cli.addr.as_ref())
            .filter(|a| !a.is_empty())
            .map(|a| (a.clone(), Source::File)),
    }
}

/// `[cli] token_file`, when set.
fn token_file(file: Option<&Config>) -> Option<&Path> {
    file.and_then(|c| c.cli.token_file.as_deref())
        .filter(|p| !p.as_os_str().is_empty())
}

/// The server to use, or `None` for the local store. Reads the token file
/// when it is the token's source.
pub fn resolve(global: &GlobalArgs, file: Option<&Config>) -> Result<Option<Target>, CliError> {
    let Some((addr, _)) = addr(global, file) else {
        return Ok(None);
    };
    let token = match (&global.token, token_file(file)) {
        (Some(t), _) => Some(t.clone()),
        (None, Some(path)) => Some(read_token(path)?),
        (None, None) => None,
    };
    Ok(Some(Target { addr, token }))
}

/// Reads `[cli] token_file`: the token, one trailing newline stripped.
fn read_token(path: &Path) -> Result<SecretArg, CliError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|source| CliError::File {
        what: "cannot read the [cli] token_file",
        path: path.to_path_buf(),
        source,
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        CliError::usage(
            format!("the token file {} is not text", path.display()),
            "write the token alone into [cli] token_file",
        )
    })?;
    let token = text.strip_suffix('\n').unwrap_or(text);
    let token = token.strip_suffix('\r').unwrap_or(token);
    if token.is_empty() {
        return Err(CliError::usage(
            format!("the token file {} is empty", path.display()),
            "write the token into it, or pass --token / set KMS_TOKEN",
        ));
    }
    Ok(SecretArg(Zeroizing::new(token.to_string())))
}

/// Adds the `[cli]` settings in effect to `e`, without reading the token.
pub fn show(e: &mut Effective, global: &GlobalArgs, file: Option<&Config>) {
    let remote = addr(global, file);
    let file_addr = file
        .and_then(|c| c.cli.addr.as_ref())
        .filter(|a| !a.is_empty());
    e.push(
        "cli.addr",
        match (&remote, file_addr) {
            (Some((a, src)), _) => (Value::String(kms_server::config::redact_url(a)), *src),
            // A local store flag overrides the file's address.
            (None, Some(_)) => (Value::Null, local_source(global)),
            (None, None) => (Value::Null, Source::Unset),
        },
    );
    let token_file = token_file(file);
    e.push(
        "cli.token_file",
        match token_file {
            Some(p) => (Value::String(p.display().to_string()), Source::File),
            None => (Value::Null, Source::Unset),
        },
    );
    e.push_flag_only(
        "cli.token",
        match (&global.token, token_file) {
            (Some(t), _) => (
                Value::from(REDACTED),
                Source::of_arg("--token", "KMS_TOKEN", OsStr::new(t.0.as_str())),
            ),
            (None, Some(_)) if remote.is_some() => (Value::from(REDACTED), Source::File),
            _ => (Value::Null, Source::Unset),
        },
    );
    e.push_flag_only(
        "cli.ca_cert",
        match &global.ca_cert {
            Some(p) => (
                Value::String(p.display().to_string()),
                Source::of_arg("--ca-cert", "KMS_CACERT", p.as_os_str()),
            ),
            None => (Value::Null, Source::Unset),
        },
    );
}

/// The flag or variable that asked for the local store.
fn local_source(global: &GlobalArgs) -> Source {
    let given = [
        (
            global.store.as_deref().map(OsStr::new),
            "--store",
            "KMS_STORE",
        ),
        (
            global.passphrase_file.as_ref().map(|p| p.as_os_str()),
            "--passphrase-file",
            "KMS_PASSPHRASE_FILE",
        ),
        (
            global.key_file.as_ref().map(|p| p.as_os_str()),
            "--key-file",
            "KMS_KEY_FILE",
        ),
    ];
    given
        .into_iter()
        .find_map(|(v, flag, env)| v.map(|v| Source::of_arg(flag, env, v)))
        .unwrap_or(Source::Unset)
}
