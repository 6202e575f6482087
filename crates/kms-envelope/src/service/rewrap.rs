//! Rewrap: a new header (recipients added or removed, KMS-key stanzas
//! moved to the newest key version) over the same payload bytes. The file
//! key does not change, so the payload is copied byte for byte; the header
//! MAC is recomputed, which needs the file key: the caller must be able to
//! open the file.

use kms_core::{EncryptionContext, KeyRef};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::EncryptionService;
use super::detect::{Detected, detect, read_header};
use super::open::open;
use crate::crypto::header_mac;
use crate::error::{Error, Result};
use crate::format::{Header, Slot, Stanza};
use crate::recipient::{Identity, Recipient};
use crate::secret::WrappedSecret;
use crate::stream::{Sink, Source};
use crate::threshold;

/// What to change.
#[derive(Debug)]
#[non_exhaustive]
pub enum RewrapChange {
    /// Add a recipient.
    AddRecipient(Recipient),
    /// Remove the stanzas of a recipient: `age1…`, `passphrase`, or a key
    /// reference (matched by its text or, through the KMS, by key id).
    RemoveRecipient(String),
    /// Re-encrypt every KMS-key stanza under its key's newest version.
    ToLatestVersion,
}

/// What a rewrap did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RewrapSummary {
    /// Stanzas before.
    pub stanzas_before: usize,
    /// Stanzas after.
    pub stanzas_after: usize,
    /// Stanzas that changed (added, or moved to a newer key version).
    pub changed: usize,
    /// Payload bytes copied unchanged.
    pub payload_bytes: u64,
}

pub(super) async fn run<R, W>(
    service: &EncryptionService,
    mut reader: R,
    writer: W,
    identities: &[Identity],
    context: &EncryptionContext,
    change: &RewrapChange,
) -> Result<RewrapSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (detected, prefix) = detect(&mut reader).await?;
    let armored = match detected {
        Detected::Kms { armored } => armored,
        Detected::Age { .. } => {
            return Err(Error::invalid(
                "file",
                "this is an age file; rewrap works on KMS envelope files",
            ));
        }
    };
    let mut source = Source::new(reader, prefix, armored);
    let (parsed, rest) = read_header(&mut source).await?;
    let opened = open(service.kms(), identities, &parsed, context).await?;
    let old = &parsed.header;
    let mut stanzas = old.stanzas.clone();
    let mut changed = 0;
    match change {
        RewrapChange::AddRecipient(r) => {
            if stanzas.len() >= crate::format::MAX_STANZAS {
                return Err(Error::invalid(
                    "recipient",
                    "the file has 255 recipients already",
                ));
            }
            let (share_id, secret) = if old.threshold == 0 {
                (
                    0,
                    WrappedSecret::from_slice(opened.file_key.expose_secret()),
                )
            } else {
                let used: Vec<u8> = stanzas.iter().map(|s| s.share_id).collect();
                let id = (1..=255u8)
                    .find(|i| !used.contains(i))
                    .ok_or(Error::invalid("recipient", "no share id is free"))?;
                let shares: Vec<WrappedSecret> = opened
                    .shares
                    .iter()
                    .map(|(_, s)| WrappedSecret::from_slice(s.expose_secret()))
                    .collect();
                (id, threshold::extend(&shares, id)?)
            };
            let stanza = r
                .wrap(service.kms(), &secret, context, service.rng())
                .await?;
            stanzas.push(Slot { share_id, stanza });
            changed = 1;
        }
        RewrapChange::RemoveRecipient(who) => {
            let before = stanzas.len();
            let key_id = match (service.kms(), KeyRef::parse(who)) {
                (Some(kms), Ok(k)) if !who.starts_with("age1") && who != "passphrase" => kms
                    .describe_key(&k)
                    .await
                    .ok()
                    .map(|m| m.key_id.to_string()),
                _ => None,
            };
            stanzas.retain(|s| !matches(&s.stanza, who, key_id.as_deref()));
            if stanzas.len() == before {
                return Err(Error::invalid(
                    "recipient",
                    format!("the file has no recipient {who:?}"),
                ));
            }
            let needed = usize::from(old.threshold).max(1);
            if stanzas.len() < needed {
                return Err(Error::invalid(
                    "recipient",
                    format!(
                        "removing {who:?} would leave {} recipients; the file needs {needed}",
                        stanzas.len()
                    ),
                ));
            }
        }
        RewrapChange::ToLatestVersion => {
            let kms = service
                .kms()
                .ok_or_else(|| Error::invalid("recipient", "--to-latest-version needs a KMS"))?;
            for slot in &mut stanzas {
                if let Some(new) =
                    crate::recipient::to_latest_version(kms, &slot.stanza, context).await?
                {
                    slot.stanza = new;
                    changed += 1;
                }
            }
        }
    }
    let mut header = Header {
        threshold: old.threshold,
        nonce: old.nonce,
        stanzas,
        mac: [0u8; 32],
    };
    header.mac = header_mac(
        &opened.file_key,
        &header.authenticated_bytes()?,
        &context.canonical_bytes(),
    )?;
    drop(opened);
    let mut sink = Sink::new(writer, armored);
    sink.write_all(&header.to_bytes()?).await?;
    let mut payload = std::io::Cursor::new(rest).chain(source);
    let mut buf = vec![0u8; 256 * 1024];
    let mut copied = 0u64;
    loop {
        let k = payload
            .read(&mut buf)
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            break;
        }
        sink.write_all(&buf[..k]).await?;
        copied += k as u64;
    }
    sink.finish().await?;
    Ok(RewrapSummary {
        stanzas_before: old.stanzas.len(),
        stanzas_after: header.stanzas.len(),
        changed,
        payload_bytes: copied,
    })
}

fn matches(stanza: &Stanza, who: &str, key_id: Option<&str>) -> bool {
    match stanza {
        Stanza::Age { recipient, .. } => recipient == who,
        Stanza::Passphrase { .. } => who == "passphrase",
        Stanza::KmsKey { key, .. } => key == who || key_id.is_some_and(|id| id == key),
        Stanza::Unknown { .. } => false,
    }
}
