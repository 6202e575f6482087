//! `--format age`: real age v1 files (binary or armored), written and read
//! by the `age` crate, so the age CLI opens what we write and we open what
//! it writes. age has no encryption context and no thresholds: both are
//! refused here rather than silently dropped.

use age::secrecy::SecretString;
use kms_core::EncryptionContext;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio_util::compat::{
    FuturesAsyncReadCompatExt, FuturesAsyncWriteCompatExt, TokioAsyncReadCompatExt,
    TokioAsyncWriteCompatExt,
};

use crate::error::{Error, Result};
use crate::recipient::{Identity, Recipient};
use crate::service::{EncryptOptions, FileFormat, Recipients, StreamSummary};

fn age_err(e: impl std::fmt::Display) -> Error {
    Error::Age(e.to_string())
}

fn map_decrypt(e: age::DecryptError) -> Error {
    match e {
        age::DecryptError::InvalidMac => Error::BadHeaderMac,
        age::DecryptError::NoMatchingKeys => Error::NoMatchingIdentity {
            recipients: "age recipients".into(),
            hint: " (give the matching identity file with --identity, or the passphrase)".into(),
        },
        age::DecryptError::UnknownFormat => Error::UnknownVersion(0),
        age::DecryptError::InvalidHeader => Error::InvalidHeader("invalid age header"),
        age::DecryptError::Io(e) => Error::io("cannot read the age file")(e),
        other => age_err(other),
    }
}

fn encryptor(recipients: &Recipients, context: &EncryptionContext) -> Result<age::Encryptor> {
    if !context.is_empty() {
        return Err(Error::invalid(
            "context",
            "age files have no encryption context; drop --context or use --format kms",
        ));
    }
    if recipients.threshold.is_some_and(|k| k > 1) {
        return Err(Error::invalid(
            "threshold",
            "age files have no thresholds; use --format kms",
        ));
    }
    let mut list: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
    for r in &recipients.list {
        match r {
            Recipient::Age(a) => list.push(Box::new(a.as_age().clone())),
            Recipient::Passphrase(p, _) => {
                if recipients.list.len() > 1 {
                    return Err(Error::invalid(
                        "recipients",
                        "an age passphrase file has no other recipient",
                    ));
                }
                return Ok(age::Encryptor::with_user_passphrase(SecretString::from(
                    p.expose_secret().to_owned(),
                )));
            }
            Recipient::KmsKey(k) => {
                return Err(Error::invalid(
                    "recipients",
                    format!(
                        "{k} is a KMS key; age files take age recipients (age1…) or a passphrase"
                    ),
                ));
            }
        }
    }
    if list.is_empty() {
        return Err(Error::invalid(
            "recipients",
            "at least one recipient is needed",
        ));
    }
    age::Encryptor::with_recipients(list.iter().map(|r| r.as_ref() as &dyn age::Recipient))
        .map_err(age_err)
}

/// Writes an age file.
pub(crate) async fn encrypt<R, W>(
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
    let enc = encryptor(recipients, context)?;
    let format = if options.armor {
        age::armor::Format::AsciiArmor
    } else {
        age::armor::Format::Binary
    };
    let armored = age::armor::ArmoredWriter::wrap_async_output(writer.compat_write(), format);
    let stream = enc
        .wrap_async_output(armored)
        .await
        .map_err(Error::io("cannot write the output"))?;
    let mut out = stream.compat_write();
    let n = copy_with_progress(&mut reader, &mut out, options.progress.as_ref()).await?;
    out.shutdown()
        .await
        .map_err(Error::io("cannot write the output"))?;
    Ok(StreamSummary {
        format: FileFormat::Age,
        plaintext_bytes: n,
        chunks: 0,
    })
}

/// Reads an age file.
pub(crate) async fn decrypt<R, W>(
    reader: R,
    mut writer: W,
    _armored: bool,
    identities: &[Identity],
    context: &EncryptionContext,
) -> Result<StreamSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    if !context.is_empty() {
        return Err(Error::invalid(
            "context",
            "age files have no encryption context; drop --context",
        ));
    }
    let armored = age::armor::ArmoredReader::from_async_reader(reader.compat());
    let decryptor = age::Decryptor::new_async(armored)
        .await
        .map_err(map_decrypt)?;
    let stream = {
        let mut ids: Vec<Box<dyn age::Identity + Send + Sync>> = Vec::new();
        for id in identities {
            match id {
                Identity::Age(a) => {
                    for k in a.keys() {
                        ids.push(Box::new(k.clone()));
                    }
                }
                Identity::Passphrase(p) => {
                    ids.push(Box::new(age::scrypt::Identity::new(SecretString::from(
                        p.expose_secret().to_owned(),
                    ))));
                }
            }
        }
        decryptor
            .decrypt_async(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(map_decrypt)?
    };
    let mut stream = stream.compat();
    let n = copy_with_progress(&mut stream, &mut writer, None).await?;
    writer
        .flush()
        .await
        .map_err(Error::io("cannot write the output"))?;
    Ok(StreamSummary {
        format: FileFormat::Age,
        plaintext_bytes: n,
        chunks: 0,
    })
}

async fn copy_with_progress<R, W>(
    reader: &mut R,
    writer: &mut W,
    progress: Option<&crate::stream::Progress>,
) -> Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    use tokio::io::AsyncReadExt;
    let mut buf = zeroize::Zeroizing::new(vec![0u8; 64 * 1024]);
    let mut total = 0u64;
    loop {
        let k = reader
            .read(&mut buf[..])
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            return Ok(total);
        }
        writer
            .write_all(&buf[..k])
            .await
            .map_err(Error::io("cannot write the output"))?;
        total += k as u64;
        if let Some(p) = progress {
            p(total);
        }
    }
}
