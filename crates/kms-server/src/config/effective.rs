//! The effective configuration, for `kms config show`: every setting after
//! file < `KMS_*` environment < flags, with the defaults filled in and where
//! each value came from.
//!
//! Redaction is by construction: a [`Setting`] holds a rendered value, and
//! the builders put `<redacted>` in place of secrets (API keys, tokens) and
//! `***` in place of URL passwords ([`super::redact_url`]), so no caller
//! can print a secret by forgetting to redact it.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};
use serde_json::Value;

use super::{Config, DEFAULT_LISTEN, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_SEED_KEY, redact_url};
use crate::auth::AuthSettings;
use crate::run::{ServerArgs, StoreArgs, default_store_path};

/// What a secret is shown as.
pub const REDACTED: &str = "<redacted>";

/// Where a setting's value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A `KMS_*` environment variable.
    Env(&'static str),
    /// The config file.
    File,
    /// A command-line flag.
    Flag(&'static str),
    /// Set nowhere, and without a default.
    Unset,
}

impl Source {
    /// The source of a value clap took from `flag` or from `env`: the
    /// variable when it holds this very value, else the flag. (A flag given
    /// the same value as the variable is reported as the variable; either
    /// way that is the value in effect.)
    pub fn of_arg(flag: &'static str, env: &'static str, value: &OsStr) -> Self {
        match std::env::var_os(env) {
            Some(v) if v == value => Source::Env(env),
            _ => Source::Flag(flag),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Env(v) => write!(f, "env {v}"),
            Source::File => f.write_str("file"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
            Source::Unset => f.write_str("unset"),
        }
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One setting.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Setting {
    /// The dotted name of the key in `kms.toml` (`server.listen`).
    pub key: String,
    /// The value in effect, already redacted; `null` when unset.
    pub value: Value,
    /// Where it came from.
    pub source: Source,
    /// Whether `key` may be written in `kms.toml` (not for flag-only
    /// settings and the token itself).
    pub file_key: bool,
}

/// Every setting in file order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Effective {
    /// The settings.
    pub settings: Vec<Setting>,
}

/// A path as shown.
fn path_value(p: &Path) -> Value {
    Value::String(p.display().to_string())
}

/// A flag's path value, else the file's, else unset.
fn path_setting(flag: Option<(&Path, Source)>, file: Option<&PathBuf>) -> (Value, Source) {
    match (flag, file) {
        (Some((p, src)), _) => (path_value(p), src),
        (None, Some(p)) => (path_value(p), Source::File),
        (None, None) => (Value::Null, Source::Unset),
    }
}

fn flag_path<'a>(
    value: Option<&'a PathBuf>,
    flag: &'static str,
    env: &'static str,
) -> Option<(&'a Path, Source)> {
    value.map(|p| (p.as_path(), Source::of_arg(flag, env, p.as_os_str())))
}

/// A file value, else a default.
fn or_default<T: Into<Value>>(file: Option<T>, default: T) -> (Value, Source) {
    match file {
        Some(v) => (v.into(), Source::File),
        None => (default.into(), Source::Default),
    }
}

/// A file value or unset.
fn from_file<T: Into<Value>>(file: Option<T>) -> (Value, Source) {
    match file {
        Some(v) => (v.into(), Source::File),
        None => (Value::Null, Source::Unset),
    }
}

impl Effective {
    /// Adds a setting that is a key of `kms.toml`.
    pub fn push(&mut self, key: &str, (value, source): (Value, Source)) {
        self.settings.push(Setting {
            key: key.to_string(),
            value,
            source,
            file_key: true,
        });
    }

    /// Adds a setting that only flags or the environment set (shown
    /// commented out, since `kms.toml` does not take it).
    pub fn push_flag_only(&mut self, key: &str, setting: (Value, Source)) {
        self.push(key, setting);
        if let Some(s) = self.settings.last_mut() {
            s.file_key = false;
        }
    }

    /// The setting named `key`, if shown.
    pub fn get(&self, key: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }

    /// What `kms server` with these flags would run with: the same
    /// resolution as [`crate::ServerConfig::resolve`], without reading any
    /// secret (the passphrase file is named, not read).
    pub fn server(file: &Config, args: &ServerArgs, store: &StoreArgs) -> kms_core::Result<Self> {
        let mut e = Self::default();
        let kms = &file.kms;
        e.push(
            "kms.backend",
            or_default(kms.backend_name()?, "local".to_string()),
        );
        for (key, v) in [
            ("kms.environment", &kms.environment),
            ("kms.dev_backend", &kms.dev_backend),
            ("kms.prod_backend", &kms.prod_backend),
        ] {
            if v.is_some() {
                e.push(key, from_file(v.clone()));
            }
        }

        let local = &kms.local;
        let store_value = match (&store.store, &local.store) {
            (Some(s), _) => (
                Value::String(redact_url(s)),
                Source::of_arg("--store", "KMS_STORE", OsStr::new(s)),
            ),
            (None, Some(s)) => (Value::String(redact_url(s)), Source::File),
            (None, None) => (path_value(&default_store_path()?), Source::Default),
        };
        e.push("kms.local.store", store_value);
        // One unseal source: a flag (either one) replaces both file values.
        let unseal_flag = store.passphrase_file.is_some() || store.key_file.is_some();
        let file_or_none = |v: &Option<PathBuf>| if unseal_flag { None } else { v.clone() };
        e.push(
            "kms.local.passphrase_file",
            path_setting(
                flag_path(
                    store.passphrase_file.as_ref(),
                    "--passphrase-file",
                    "KMS_PASSPHRASE_FILE",
                ),
                file_or_none(&local.passphrase_file).as_ref(),
            ),
        );
        e.push(
            "kms.local.key_file",
            path_setting(
                flag_path(store.key_file.as_ref(), "--key-file", "KMS_KEY_FILE"),
                file_or_none(&local.key_file).as_ref(),
            ),
        );
        if let Some(age) = &kms.age {
            e.push(
                "kms.age.public_key_path",
                from_file(age.public_key_path.as_deref().map(path_value)),
            );
            e.push(
                "kms.age.private_key_path",
                from_file(age.private_key_path.as_deref().map(path_value)),
            );
        }
        if let Some(c) = &kms.cosmian {
            e.push(
                "kms.cosmian.server_url",
                from_file(c.server_url.as_deref().map(redact_url)),
            );
            let api_key = c.api_key.as_ref().map(|k| {
                if k.expose_secret().is_empty() {
                    ""
                } else {
                    REDACTED
                }
            });
            e.push("kms.cosmian.api_key", from_file(api_key));
            e.push(
                "kms.cosmian.default_key_id",
                from_file(c.default_key_id.clone()),
            );
            e.push(
                "kms.cosmian.tls_verify",
                (c.tls_verify.into(), Source::File),
            );
        }
        e.push_server_section(file, args);
        Ok(e)
    }

    fn push_server_section(&mut self, file: &Config, args: &ServerArgs) {
        let srv = &file.server;
        let text = |flag: Option<&String>,
                    name: &'static str,
                    env: &'static str,
                    file: &Option<String>,
                    default: &str| match (flag, file) {
            (Some(v), _) => (
                Value::String(v.clone()),
                Source::of_arg(name, env, OsStr::new(v)),
            ),
            (None, Some(v)) => (Value::String(v.clone()), Source::File),
            (None, None) => (Value::String(default.to_string()), Source::Default),
        };
        self.push(
            "server.listen",
            text(
                args.listen.as_ref(),
                "--listen",
                "KMS_LISTEN",
                &srv.listen,
                DEFAULT_LISTEN,
            ),
        );
        self.push(
            "server.default_key",
            text(
                args.default_key.as_ref(),
                "--default-key",
                "KMS_DEFAULT_KEY",
                &srv.default_key,
                DEFAULT_SEED_KEY,
            ),
        );
        self.push(
            "server.max_request_bytes",
            or_default(
                srv.max_request_bytes.map(|n| n as u64),
                DEFAULT_MAX_REQUEST_BYTES as u64,
            ),
        );
        self.push(
            "server.audit_file",
            path_setting(
                flag_path(args.audit_file.as_ref(), "--audit-file", "KMS_AUDIT_FILE"),
                srv.audit_file.as_ref(),
            ),
        );
        self.push(
            "server.trust_forwarded_for",
            if srv.trust_forwarded_for {
                (true.into(), Source::File)
            } else {
                (false.into(), Source::Default)
            },
        );
        self.push_flag_only(
            "server.bootstrap_root_token_file",
            path_setting(
                flag_path(
                    args.bootstrap_root_token_file.as_ref(),
                    "--bootstrap-root-token-file",
                    "KMS_BOOTSTRAP_ROOT_TOKEN_FILE",
                ),
                None,
            ),
        );
        let a = &srv.auth;
        let d = AuthSettings::default();
        self.push(
            "server.auth.max_failures",
            or_default(a.max_failures, d.max_failures),
        );
        self.push(
            "server.auth.failure_window_secs",
            or_default(
                a.failure_window_secs,
                d.failure_window.whole_seconds().unsigned_abs(),
            ),
        );
        self.push(
            "server.auth.lockout_secs",
            or_default(a.lockout_secs, d.lockout.whole_seconds().unsigned_abs()),
        );
        let tls = srv.tls.clone().unwrap_or_default();
        self.push(
            "server.tls.cert_file",
            path_setting(
                flag_path(args.tls_cert.as_ref(), "--tls-cert", "KMS_TLS_CERT"),
                tls.cert_file.as_ref(),
            ),
        );
        self.push(
            "server.tls.key_file",
            path_setting(
                flag_path(args.tls_key.as_ref(), "--tls-key", "KMS_TLS_KEY"),
                tls.key_file.as_ref(),
            ),
        );
        self.push(
            "server.tls.client_ca_file",
            path_setting(
                flag_path(
                    args.tls_client_ca.as_ref(),
                    "--tls-client-ca",
                    "KMS_TLS_CLIENT_CA",
                ),
                tls.client_ca_file.as_ref(),
            ),
        );
        if !tls.client_principals.is_empty() {
            let map: serde_json::Map<String, Value> = tls
                .client_principals
                .iter()
                .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                .collect();
            self.push(
                "server.tls.client_principals",
                (Value::Object(map), Source::File),
            );
        }
    }

    /// The settings as `kms.toml` text: a `[table]` header where the table
    /// changes, `key = value` with its source as a comment; unset keys and
    /// settings that are not keys of `kms.toml` are commented out.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut table = "";
        for s in &self.settings {
            let (t, name) = s.key.rsplit_once('.').unwrap_or(("", s.key.as_str()));
            if t != table {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&format!("[{t}]\n"));
                table = t;
            }
            let line = match (s.value.is_null(), s.file_key) {
                (true, _) => format!("# {name} ="),
                (false, true) => format!("{name} = {}", toml_value(&s.value)),
                (false, false) => format!("# {name} = {}", toml_value(&s.value)),
            };
            out.push_str(&format!("{line:<48} # {}\n", s.source));
        }
        out
    }
}

/// A JSON value as a TOML value (strings, numbers, booleans, arrays, inline tables).
fn toml_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{} = {}", Value::String(k.clone()), toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // JSON strings, numbers and booleans are valid TOML as written.
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
