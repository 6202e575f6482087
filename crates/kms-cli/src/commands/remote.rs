//! Talking to a KMS server (`--addr` / `KMS_ADDR`, `--token` / `KMS_TOKEN`,
//! or `[cli]` of `kms.toml`, see [`settings`]): a [`KmsManager`] over
//! [`kms_client::RemoteBackend`], so that every key and crypto command
//! prints the same as on the local store.

pub mod settings;

use std::str::FromStr;
use std::sync::Arc;

use kms_client::{Client, RemoteBackend};
use kms_core::{KmsManager, SystemRng};
use zeroize::Zeroizing;

use super::Ctx;
use crate::cli::GlobalArgs;
use crate::error::CliError;

/// A secret command-line value (a token): zeroized, never printed by `Debug`.
#[derive(Clone)]
pub struct SecretArg(pub Zeroizing<String>);

impl FromStr for SecretArg {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(Zeroizing::new(s.to_string())))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg(<redacted>)")
    }
}

/// The client for `--addr` (or `[cli] addr`), or `None` for the local store.
pub fn client(global: &GlobalArgs) -> Result<Option<Client>, CliError> {
    let file = if settings::needs_file(global) {
        settings::config_file()?
    } else {
        None
    };
    let Some(target) = settings::resolve(global, file.as_ref().map(|(_, c)| c))? else {
        return Ok(None);
    };
    let mut b = Client::builder(target.addr.as_str());
    if let Some(t) = &target.token {
        b = b.token(t.0.as_str());
    }
    if let Some(ca) = &global.ca_cert {
        let pem = std::fs::read(ca).map_err(|source| CliError::File {
            what: "cannot read",
            path: ca.clone(),
            source,
        })?;
        b = b.ca_pem(pem);
    }
    b.build().map(Some).map_err(|e| {
        CliError::usage(
            e.to_string(),
            "give --addr (or [cli] addr) as http://HOST:PORT or https://HOST:PORT",
        )
    })
}

/// A manager whose backend is the server.
pub fn manager(client: Client) -> KmsManager {
    KmsManager::new(Arc::new(RemoteBackend::new(client)), Arc::new(SystemRng))
}

/// A client error as a CLI error of the same kind, with a hint for auth errors.
pub fn cli_error(e: kms_client::Error) -> CliError {
    let hint = match e.code() {
        Some("unauthenticated") => {
            Some("pass a token with --token or KMS_TOKEN (or [cli] token_file in kms.toml)")
        }
        Some("permission_denied") => {
            Some("the token's policies do not allow this; ask for a token with the right policy")
        }
        _ if e.kind() == kms_core::ErrorKind::Unavailable => {
            Some("check --addr / KMS_ADDR and that the server runs (and is unsealed)")
        }
        _ => None,
    };
    let err: CliError = kms_client::RemoteBackend::core_error(e).into();
    match hint {
        Some(h) => err.with_hint(h),
        None => err,
    }
}

/// `kms status` against a server.
pub async fn status(ctx: &Ctx, client: Client) -> Result<(), CliError> {
    #[derive(serde::Serialize)]
    struct RemoteStatus {
        backend: String,
        available: bool,
        initialised: Option<bool>,
        sealed: bool,
        key_count: Option<u64>,
        store: String,
        detail: String,
    }
    let seal = client.seal_status().await.map_err(cli_error)?;
    let s = RemoteStatus {
        backend: seal.backend,
        available: true,
        initialised: Some(true),
        sealed: seal.sealed,
        key_count: None,
        store: client.addr().trim_end_matches('/').to_string(),
        detail: if seal.sealed {
            "the server is sealed: `curl -X POST …/api/v1/sys/unseal`".into()
        } else {
            String::new()
        },
    };
    if ctx.out.json {
        return ctx.out.print_json(&s);
    }
    let mut rows = vec![
        ("backend", s.backend.clone()),
        ("available", s.available.to_string()),
        ("initialised", "true".to_string()),
        ("sealed", s.sealed.to_string()),
        ("keys", "-".to_string()),
        ("store", s.store.clone()),
    ];
    if !s.detail.is_empty() {
        rows.push(("detail", s.detail.clone()));
    }
    ctx.out.record(&rows)
}

/// Adds a hint to errors the server sent (auth, reachability), when none is set.
pub fn hint(e: CliError) -> CliError {
    let CliError::Core {
        source:
            kms_core::Error::Backend {
                backend: "remote",
                kind,
                ..
            },
        hint: None,
    } = &e
    else {
        return e;
    };
    let h = match kind {
        kms_core::ErrorKind::PermissionDenied => {
            "the server refused the token: pass one with --token or KMS_TOKEN, whose policies allow this operation on this key"
        }
        kms_core::ErrorKind::Unavailable => {
            "check --addr / KMS_ADDR, that the server runs, and that it is unsealed"
        }
        _ => return e,
    };
    e.with_hint(h)
}
