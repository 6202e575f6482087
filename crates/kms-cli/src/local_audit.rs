//! The audit records of `kms` on a local store (no `--addr`): every key
//! operation goes through [`kms_store::AuditedBackend`], and token and policy
//! changes are recorded by their commands, into the store's own log — the
//! chain a server on the store writes too. The records name the principal
//! `cli:<user>` (from `$USER`; `cli` without it), the source `local`, and one
//! request id shared by everything the invocation does.

use std::ffi::OsString;
use std::sync::Arc;

use kms_core::{KmsManager, SystemRng};
use kms_store::{AuditScope, AuditedBackend, LocalBackend};

use crate::error::CliError;

/// The source of the CLI's records.
pub const SOURCE: &str = "local";

/// Who this invocation's records name, and its request id.
#[derive(Clone, Debug)]
pub struct LocalAudit {
    principal: String,
    request_id: String,
}

impl LocalAudit {
    /// The principal from `$USER` and a fresh request id (a UUID v4).
    pub fn for_this_invocation() -> Result<Self, CliError> {
        Ok(Self {
            principal: principal(std::env::var_os("USER")),
            request_id: kms_store::audited::new_request_id(&SystemRng)?,
        })
    }

    /// Records into `store`'s log.
    pub fn scope(&self, store: Arc<LocalBackend>) -> AuditScope {
        AuditScope::new(store, &self.principal, SOURCE, &self.request_id)
    }

    /// The facade over `store`, recording every key operation.
    pub fn manager(&self, store: Arc<LocalBackend>) -> KmsManager {
        let backend = Arc::new(AuditedBackend::new(self.scope(store)));
        KmsManager::new(backend, Arc::new(SystemRng))
    }
}

/// `cli:<user>`, or `cli` when the user name is unset, empty or not UTF-8.
fn principal(user: Option<OsString>) -> String {
    match user.and_then(|u| u.into_string().ok()) {
        Some(u) if !u.trim().is_empty() => format!("cli:{}", u.trim()),
        _ => "cli".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_principal_is_the_os_user_or_cli_without_one() {
        assert_eq!(principal(Some("alice".into())), "cli:alice");
        assert_eq!(principal(Some(" ".into())), "cli");
        assert_eq!(principal(None), "cli");
    }
}
