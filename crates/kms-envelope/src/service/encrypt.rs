//! Encrypting a stream: a random file key, one stanza per recipient (or one
//! share each), the header MAC, then the payload.

use std::sync::Arc;

use kms_core::EncryptionContext;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{EncryptOptions, EncryptionService, FileFormat, Recipients, StreamSummary};
use crate::crypto::{header_mac, payload_key};
use crate::error::{Error, Result};
use crate::format::{Header, NONCE_LEN, Slot};
use crate::secret::{FileKey, WrappedSecret};
use crate::stream::{Sink, encrypt_payload};
use crate::threshold;

pub(super) async fn run<R, W>(
    service: &EncryptionService,
    mut reader: R,
    writer: W,
    recipients: &Recipients,
    context: &EncryptionContext,
    options: &EncryptOptions,
) -> Result<StreamSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if options.format == FileFormat::Age {
        return crate::age_format::encrypt(reader, writer, recipients, context, options).await;
    }
    crate::recipient::check_context(context)?;
    let header = build_header(service, recipients, context).await?;
    let (header, file_key) = header;
    let mut sink = Sink::new(writer, options.armor);
    sink.write_all(&header.to_bytes()?).await?;
    let key = Arc::new(payload_key(&file_key, &header.nonce)?);
    drop(file_key);
    let pool = service.pool()?;
    let summary = encrypt_payload(
        &mut reader,
        &mut sink,
        key,
        &pool,
        options.progress.as_ref(),
    )
    .await?;
    sink.finish().await?;
    Ok(StreamSummary::kms(summary))
}

/// Wraps a new file key for every recipient and MACs the header.
async fn build_header(
    service: &EncryptionService,
    recipients: &Recipients,
    context: &EncryptionContext,
) -> Result<(Header, FileKey)> {
    let n = recipients.list.len();
    if n == 0 {
        return Err(Error::invalid(
            "recipients",
            "at least one recipient is needed",
        ));
    }
    if n > crate::format::MAX_STANZAS {
        return Err(Error::invalid("recipients", "at most 255 recipients"));
    }
    let rng = service.rng();
    let file_key = FileKey::generate(rng)?;
    let (threshold, secrets): (u8, Vec<WrappedSecret>) = match recipients.threshold {
        None | Some(1) => (
            0,
            (0..n)
                .map(|_| WrappedSecret::from_slice(file_key.expose_secret()))
                .collect(),
        ),
        Some(k) => (k, threshold::split(&file_key, k, n, rng)?),
    };
    let mut stanzas = Vec::with_capacity(n);
    for (r, secret) in recipients.list.iter().zip(&secrets) {
        let stanza = r.wrap(service.kms(), secret, context, rng).await?;
        let share_id = if threshold == 0 {
            0
        } else {
            threshold::share_id(secret).unwrap_or(0)
        };
        stanzas.push(Slot { share_id, stanza });
    }
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)
        .map_err(|_| Error::Internal("random generator failed"))?;
    let mut header = Header {
        threshold,
        nonce,
        stanzas,
        mac: [0u8; 32],
    };
    header.mac = header_mac(
        &file_key,
        &header.authenticated_bytes()?,
        &context.canonical_bytes(),
    )?;
    Ok((header, file_key))
}
