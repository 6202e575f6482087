//! KMS-key stanzas: the file key (or share) encrypted by `KmsManager::encrypt`
//! under a key of any backend, with the caller's context plus a reserved
//! pair naming the stanza type. The stanza keeps the key reference as text
//! and the backend's ciphertext as is, so any backend fits without a format
//! change.

use kms_core::{EncryptionContext, ErrorKind, KeyRef, KmsManager};

use super::Unwrapped;
use crate::error::{Error, Result};
use crate::format::Stanza;
use crate::secret::WrappedSecret;

/// The context key reserved for the stanza type label.
pub const KMS_CONTEXT_KEY: &str = "kms-envelope";
/// Its value in a KMS-key stanza.
const KMS_CONTEXT_VALUE: &str = "v1 kms-key";

/// Refuses a caller context that uses the reserved key.
pub fn check_context(context: &EncryptionContext) -> Result<()> {
    if context.pairs().contains_key(KMS_CONTEXT_KEY) {
        return Err(Error::invalid(
            "context",
            format!("the key {KMS_CONTEXT_KEY:?} is reserved by the envelope format"),
        ));
    }
    Ok(())
}

fn kms_context(context: &EncryptionContext) -> EncryptionContext {
    let mut c = context.clone();
    c.insert(KMS_CONTEXT_KEY, KMS_CONTEXT_VALUE);
    c
}

/// The text a stanza records: a URI as given, or the resolved key id for
/// the default backend (so a later alias change does not matter).
fn stanza_key_text(key: &KeyRef, resolved: kms_core::KeyId) -> String {
    match key {
        KeyRef::Uri { .. } => key.to_string(),
        _ => resolved.to_string(),
    }
}

pub(super) async fn wrap(
    kms: &KmsManager,
    key: &KeyRef,
    secret: &WrappedSecret,
    context: &EncryptionContext,
) -> Result<Stanza> {
    let enc = kms
        .encrypt(key, secret.expose_secret(), &kms_context(context))
        .await
        .map_err(|source| Error::Kms {
            key: key.to_string(),
            source,
        })?;
    Ok(Stanza::KmsKey {
        key: stanza_key_text(key, enc.key_id),
        version: enc.version,
        ciphertext: enc.ciphertext,
    })
}

pub(super) async fn unwrap(
    kms: &KmsManager,
    key: &str,
    ciphertext: &[u8],
    context: &EncryptionContext,
) -> Result<Unwrapped> {
    let key_ref = match KeyRef::parse(key) {
        Ok(k) => k,
        Err(e) => return Ok(Unwrapped::NotMine(Some(format!("{key}: {e}")))),
    };
    match kms
        .decrypt(ciphertext, &kms_context(context), Some(&key_ref))
        .await
    {
        Ok(d) => Ok(Unwrapped::Opened(WrappedSecret::new(
            d.plaintext.into_zeroizing(),
        ))),
        Err(kms_core::Error::DecryptionFailed) => Ok(Unwrapped::WrongContext),
        Err(e) if matches!(e.kind(), ErrorKind::Internal) => Err(Error::Kms {
            key: key.to_string(),
            source: e,
        }),
        Err(e) => Ok(Unwrapped::NotMine(Some(format!("{key}: {e}")))),
    }
}

/// Moves a stanza to the key's newest version, inside the KMS (re-encrypt:
/// the file key never leaves it). `Ok(None)` when it is already there.
pub(crate) async fn to_latest_version(
    kms: &KmsManager,
    stanza: &Stanza,
    context: &EncryptionContext,
) -> Result<Option<Stanza>> {
    let Stanza::KmsKey {
        key,
        version,
        ciphertext,
    } = stanza
    else {
        return Ok(None);
    };
    let kms_err = |source| Error::Kms {
        key: key.clone(),
        source,
    };
    let key_ref = KeyRef::parse(key).map_err(kms_err)?;
    let meta = kms.describe_key(&key_ref).await.map_err(kms_err)?;
    if *version != 0 && *version >= meta.current_version {
        return Ok(None);
    }
    let ctx = kms_context(context);
    let enc = kms
        .re_encrypt(ciphertext, &ctx, Some(&key_ref), &key_ref, &ctx)
        .await
        .map_err(kms_err)?;
    if enc.version == *version {
        return Ok(None);
    }
    Ok(Some(Stanza::KmsKey {
        key: key.clone(),
        version: enc.version,
        ciphertext: enc.ciphertext,
    }))
}
