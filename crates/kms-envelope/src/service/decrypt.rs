//! Decrypting a stream: detect the format, read and open the header, then
//! open the payload chunk by chunk.

use std::sync::Arc;

use kms_core::EncryptionContext;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};

use super::detect::{Detected, detect, read_header};
use super::open::open;
use super::{DecryptOptions, EncryptionService, StreamSummary};
use crate::crypto::payload_key;
use crate::error::Result;
use crate::recipient::Identity;
use crate::stream::{Sink, Source, decrypt_payload};

pub(super) async fn run<R, W>(
    service: &EncryptionService,
    mut reader: R,
    writer: W,
    identities: &[Identity],
    context: &EncryptionContext,
    options: &DecryptOptions,
) -> Result<StreamSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (detected, prefix) = detect(&mut reader).await?;
    let armored = match detected {
        Detected::Age { armored } => {
            return crate::age_format::decrypt(
                Source::new(reader, prefix, false),
                writer,
                armored,
                identities,
                context,
            )
            .await;
        }
        Detected::Kms { armored } => armored,
    };
    let mut source = Source::new(reader, prefix, armored);
    let (parsed, rest) = read_header(&mut source).await?;
    let opened = open(service.kms(), identities, &parsed, context).await?;
    let key = Arc::new(payload_key(&opened.file_key, &parsed.header.nonce)?);
    drop(opened);
    let mut payload = std::io::Cursor::new(rest).chain(source);
    let mut sink = Sink::new(writer, false);
    let pool = service.pool()?;
    let summary = decrypt_payload(
        &mut payload,
        &mut sink,
        key,
        &pool,
        options.progress.as_ref(),
    )
    .await?;
    sink.finish().await?;
    Ok(StreamSummary::kms(summary))
}
