//! `kms status`: which backend, whether it answers, whether it is sealed,
//! how many keys, and where the store is. Reports a store that does not
//! exist yet as "not initialised" (exit 0) instead of failing.

use kms_core::{Error as CoreError, ErrorKind};
use serde::Serialize;

use super::Ctx;
use crate::error::CliError;
use crate::unseal::{self, UnsealSource};

#[derive(Serialize)]
struct StatusJson {
    backend: &'static str,
    available: bool,
    /// `None` when the store cannot be reached to tell.
    initialised: Option<bool>,
    sealed: bool,
    key_count: Option<u64>,
    store: String,
    detail: String,
}

/// Runs `kms status`. Exits 1 only when the store cannot be reached.
pub async fn run(ctx: &Ctx) -> Result<(), CliError> {
    if let Some(client) = super::remote::client(&ctx.global)? {
        return super::remote::status(ctx, client).await;
    }
    let mut status = StatusJson {
        backend: ctx.backend,
        available: true,
        initialised: Some(true),
        sealed: true,
        key_count: None,
        store: ctx.location.display(),
        detail: String::new(),
    };
    if ctx.location.surely_absent() {
        status.initialised = Some(false);
        status.detail = "not initialised; run `kms init`".into();
        return print(ctx, &status);
    }
    let store = match unseal::open_sealed(&ctx.location).await {
        Ok(store) => store,
        Err(CliError::NotInitialised { .. }) => {
            status.initialised = Some(false);
            status.detail = "not initialised; run `kms init`".into();
            return print(ctx, &status);
        }
        Err(e) if e.core_kind() == Some(ErrorKind::Unavailable) => {
            status.available = false;
            status.initialised = None;
            status.detail = e.to_string();
            print(ctx, &status)?;
            return Err(CliError::Reported("unavailable"));
        }
        Err(e) => return Err(e),
    };
    // Unseal when there is a way to (a flag or a terminal); a wrong key is a status, not a failure.
    let mut note = String::new();
    match UnsealSource::from_args(&ctx.global) {
        Some(source) => match store.unseal(&source.unseal(false)?).await {
            Ok(()) => {}
            Err(CoreError::WrongUnsealKey) => {
                note = "the passphrase or key file given does not unseal this store".into();
            }
            Err(e) => return Err(e.into()),
        },
        None => note = "no passphrase given: pass --passphrase-file or --key-file to unseal".into(),
    }
    let s = kms_core::KmsBackend::status(&*store).await?;
    status.available = s.available;
    status.sealed = s.sealed;
    status.key_count = s.key_count;
    // The backend's own detail is the store URL, printed already; keep it only when it explains a failure.
    status.detail = if !note.is_empty() {
        note
    } else if !s.available {
        s.detail
    } else {
        String::new()
    };
    print(ctx, &status)?;
    if status.available {
        Ok(())
    } else {
        Err(CliError::Reported("unavailable"))
    }
}

fn print(ctx: &Ctx, s: &StatusJson) -> Result<(), CliError> {
    if ctx.out.json {
        return ctx.out.print_json(s);
    }
    let keys = s
        .key_count
        .map(|n| n.to_string())
        .unwrap_or_else(|| "-".into());
    let mut rows = vec![
        ("backend", s.backend.to_string()),
        ("available", s.available.to_string()),
        (
            "initialised",
            match s.initialised {
                Some(true) => "true".to_string(),
                Some(false) => "false (not initialised)".to_string(),
                None => "unknown".to_string(),
            },
        ),
        ("sealed", s.sealed.to_string()),
        ("keys", keys),
        ("store", s.store.clone()),
    ];
    if !s.detail.is_empty() {
        rows.push(("detail", s.detail.clone()));
    }
    ctx.out.record(&rows)
}
