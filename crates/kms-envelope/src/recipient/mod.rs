//! Recipients (who a file is encrypted to) and identities (what opens it).
//!
//! | recipient | stanza | opened by |
//! |---|---|---|
//! | [`Recipient::KmsKey`] — a key of any `KmsBackend` | `KmsManager::encrypt` of the file key (or share) under the key, with the context plus the reserved pair `kms-envelope=v1 kms-key` as encryption context | the service's `KmsManager` (`KmsManager::decrypt`) |
//! | [`Recipient::Age`] — `age1…` | an age X25519 stanza wrapping a 16-byte seed, plus the file key sealed under HKDF(seed) with the context as associated data | [`Identity::Age`] (`AGE-SECRET-KEY-1…`) |
//! | [`Recipient::Passphrase`] | Argon2id(passphrase, salt) seals a 32-byte seed; the file key sealed under HKDF(seed) with the context | [`Identity::Passphrase`] |
//!
//! The two-step seal of age and passphrase stanzas lets decryption tell a
//! wrong identity (the first step fails) from a wrong context (the second).

mod age_x25519;
mod kms_key;
mod passphrase;

use std::str::FromStr;

use kms_core::{EncryptionContext, KeyRef, KmsManager, Passphrase};

pub use age_x25519::{AgeIdentity, AgeRecipient};
pub use kms_key::KMS_CONTEXT_KEY;
pub(crate) use kms_key::{check_context, to_latest_version};
pub use passphrase::PASSPHRASE_LIMITS;

use crate::error::{Error, Result};
use crate::format::{Argon2Params, Stanza};
use crate::secret::WrappedSecret;

/// One recipient of a file.
#[derive(Debug)]
#[non_exhaustive]
pub enum Recipient {
    /// An age X25519 recipient.
    Age(AgeRecipient),
    /// A key of any KMS backend, reached through the service's `KmsManager`.
    KmsKey(KeyRef),
    /// A passphrase, stretched with Argon2id.
    Passphrase(Passphrase, Argon2Params),
}

impl Recipient {
    /// Parses `age1…` as an age recipient and anything else as a key reference
    /// (`<uuid>`, `alias/NAME`, `scheme://…`).
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.starts_with("age1") {
            return Ok(Recipient::Age(AgeRecipient::from_str(s)?));
        }
        KeyRef::parse(s).map(Recipient::KmsKey).map_err(|e| {
            Error::invalid(
                "recipient",
                format!("{s:?} is neither an age recipient (age1…) nor a key: {e}"),
            )
        })
    }

    /// A passphrase recipient with the default Argon2id parameters.
    pub fn passphrase(p: Passphrase) -> Self {
        Recipient::Passphrase(p, Argon2Params::default())
    }

    /// How the recipient is shown (never secret).
    pub fn describe(&self) -> String {
        match self {
            Recipient::Age(r) => r.to_string(),
            Recipient::KmsKey(k) => k.to_string(),
            Recipient::Passphrase(..) => "passphrase".into(),
        }
    }

    /// Wraps `secret` (the file key or a share) into a stanza.
    pub(crate) async fn wrap(
        &self,
        kms: Option<&KmsManager>,
        secret: &WrappedSecret,
        context: &EncryptionContext,
        rng: &dyn kms_core::Rng,
    ) -> Result<Stanza> {
        match self {
            Recipient::Age(r) => r.wrap(secret, context, rng),
            Recipient::KmsKey(key) => {
                let kms = kms.ok_or_else(|| {
                    Error::invalid(
                        "recipient",
                        format!("{key} is a KMS key, but this service has no KMS"),
                    )
                })?;
                kms_key::wrap(kms, key, secret, context).await
            }
            Recipient::Passphrase(p, params) => passphrase::wrap(p, *params, secret, context, rng),
        }
    }
}

/// Something that opens stanzas. KMS-key stanzas are opened by the
/// service's `KmsManager` and need no identity here.
#[non_exhaustive]
pub enum Identity {
    /// age X25519 identities (from an identity file).
    Age(AgeIdentity),
    /// A passphrase.
    Passphrase(Passphrase),
}

impl core::fmt::Debug for Identity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Identity::Age(a) => write!(f, "Identity::Age({} keys, <redacted>)", a.len()),
            Identity::Passphrase(_) => f.write_str("Identity::Passphrase(<redacted>)"),
        }
    }
}

/// What trying one stanza gave.
pub(crate) enum Unwrapped {
    /// The stanza opened.
    Opened(WrappedSecret),
    /// The stanza is not for any identity given; why, if worth saying.
    NotMine(Option<String>),
    /// The identity matched but the context-bound seal did not open.
    WrongContext,
}

/// Tries one stanza with the identities and the KMS.
pub(crate) async fn unwrap(
    stanza: &Stanza,
    kms: Option<&KmsManager>,
    identities: &[Identity],
    context: &EncryptionContext,
) -> Result<Unwrapped> {
    match stanza {
        Stanza::KmsKey {
            key, ciphertext, ..
        } => match kms {
            Some(kms) => kms_key::unwrap(kms, key, ciphertext, context).await,
            None => Ok(Unwrapped::NotMine(Some(format!(
                "{key}: no KMS is configured"
            )))),
        },
        Stanza::Age { .. } => {
            for id in identities {
                if let Identity::Age(a) = id {
                    match a.unwrap(stanza, context)? {
                        Unwrapped::NotMine(_) => continue,
                        other => return Ok(other),
                    }
                }
            }
            Ok(Unwrapped::NotMine(None))
        }
        Stanza::Passphrase { .. } => {
            for id in identities {
                if let Identity::Passphrase(p) = id {
                    match passphrase::unwrap(p, stanza, context)? {
                        Unwrapped::NotMine(_) => continue,
                        other => return Ok(other),
                    }
                }
            }
            Ok(Unwrapped::NotMine(None))
        }
        Stanza::Unknown { .. } => Ok(Unwrapped::NotMine(None)),
    }
}
