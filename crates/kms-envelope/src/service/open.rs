//! Opening a header: trying stanzas with the identities and the KMS until
//! the file key (or k shares of it) is recovered, then checking the header MAC.

use kms_core::{EncryptionContext, KmsManager};

use crate::crypto::verify_header_mac;
use crate::error::{Error, Result};
use crate::format::{ParsedHeader, StanzaKind};
use crate::recipient::{Identity, Unwrapped, unwrap};
use crate::secret::{FileKey, WrappedSecret};
use crate::threshold;

/// An opened header.
pub struct Opened {
    /// The file key.
    pub file_key: FileKey,
    /// The shares opened (threshold files), with their stanza indexes.
    pub shares: Vec<(usize, WrappedSecret)>,
}

/// Cheap stanzas first; passphrases (Argon2id) last.
fn order(kind: StanzaKind) -> u8 {
    match kind {
        StanzaKind::Age => 0,
        StanzaKind::KmsKey => 1,
        StanzaKind::Passphrase => 2,
        _ => 3,
    }
}

/// Recovers and checks the file key.
pub async fn open(
    kms: Option<&KmsManager>,
    identities: &[Identity],
    parsed: &ParsedHeader,
    context: &EncryptionContext,
) -> Result<Opened> {
    crate::recipient::check_context(context)?;
    let header = &parsed.header;
    let ctx = context.canonical_bytes();
    let mut idx: Vec<usize> = (0..header.stanzas.len()).collect();
    idx.sort_by_key(|i| order(header.stanzas[*i].stanza.kind()));
    let mut wrong_context = false;
    let mut hints = Vec::new();
    let mut shares: Vec<(usize, WrappedSecret)> = Vec::new();
    for i in idx {
        let slot = &header.stanzas[i];
        match unwrap(&slot.stanza, kms, identities, context).await? {
            Unwrapped::Opened(secret) if header.threshold == 0 => {
                let file_key = FileKey::from_slice(secret.expose_secret()).ok_or(
                    Error::InvalidHeader("a stanza holds a key of the wrong length"),
                )?;
                verify_header_mac(&file_key, &parsed.authenticated, &ctx, &header.mac)?;
                return Ok(Opened { file_key, shares });
            }
            Unwrapped::Opened(share) => {
                if threshold::share_id(&share) != Some(slot.share_id) {
                    return Err(Error::InvalidHeader(
                        "a share does not match its stanza's share id",
                    ));
                }
                shares.push((i, share));
                if shares.len() == header.threshold as usize {
                    let list: Vec<WrappedSecret> = shares
                        .iter()
                        .map(|(_, s)| WrappedSecret::from_slice(s.expose_secret()))
                        .collect();
                    let file_key = threshold::combine(&list)?;
                    verify_header_mac(&file_key, &parsed.authenticated, &ctx, &header.mac)?;
                    return Ok(Opened { file_key, shares });
                }
            }
            Unwrapped::WrongContext => wrong_context = true,
            Unwrapped::NotMine(Some(h)) => hints.push(h),
            Unwrapped::NotMine(None) => {}
        }
    }
    if wrong_context {
        return Err(Error::WrongContext);
    }
    let recipients = header
        .stanzas
        .iter()
        .map(|s| s.stanza.describe())
        .collect::<Vec<_>>()
        .join(", ");
    let hint = if hints.is_empty() {
        String::new()
    } else {
        format!(" ({})", hints.join("; "))
    };
    if header.threshold == 0 {
        Err(Error::NoMatchingIdentity { recipients, hint })
    } else {
        Err(Error::NotEnoughShares {
            needed: header.threshold,
            total: header.stanzas.len(),
            opened: shares.len(),
            hint: format!(" (recipients: {recipients}){hint}"),
        })
    }
}
