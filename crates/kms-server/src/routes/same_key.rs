//! The key of a batch, parsed and resolved once: consecutive items that
//! name the same key (as Vault's batches do, under the key of the path)
//! share one [`ResolvedKey`] instead of parsing the reference and reading
//! the key's metadata for each item. The key's state and usage are still
//! checked for every item, against the metadata read for the first one.

use kms_core::{KeyRef, KmsManager, Operation, ResolvedKey};

use super::required_key;

/// The last key a batch's items named, resolved for one operation.
#[derive(Debug)]
pub struct SameKey<'a> {
    kms: &'a KmsManager,
    op: Operation,
    last: Option<Named<'a>>,
}

#[derive(Debug)]
struct Named<'a> {
    given: String,
    key: KeyRef,
    /// `None` when resolving failed: the operation then runs on the
    /// reference and reports the error itself, item by item.
    resolved: Option<ResolvedKey<'a>>,
}

impl<'a> SameKey<'a> {
    /// No key yet, for `op` on `kms`.
    pub fn new(kms: &'a KmsManager, op: Operation) -> Self {
        Self {
            kms,
            op,
            last: None,
        }
    }

    /// The reference an item gives in `field` (required), parsed, and the
    /// key resolved, both reused while items give the same text.
    pub async fn get(
        &mut self,
        given: Option<&str>,
        field: &'static str,
    ) -> kms_core::Result<(&KeyRef, Option<&ResolvedKey<'a>>)> {
        let named = match self.last.take() {
            Some(n) if n.resolved.is_some() && given == Some(n.given.as_str()) => n,
            _ => {
                let key = required_key(given, field)?;
                let resolved = self.kms.resolve_key(&key, self.op).await.ok();
                Named {
                    given: given.map(str::to_string).unwrap_or_default(),
                    key,
                    resolved,
                }
            }
        };
        let n = self.last.insert(named);
        Ok((&n.key, n.resolved.as_ref()))
    }
}
