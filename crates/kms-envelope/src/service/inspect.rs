//! Inspect: what a file is, who it is for and how big, from its header and
//! length alone. No key, identity or secret is needed or shown.

use core::fmt;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::FileFormat;
use super::detect::{Detected, detect, read_header};
use crate::error::{Error, Result};
use crate::format::{SEALED_CHUNK_SIZE, Stanza, VERSION};
use crate::stream::Source;

/// One recipient of a file.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RecipientInfo {
    /// `kms-key`, `age` (or the age stanza type for age files), `passphrase`, `unknown`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key reference, age recipient or `passphrase`.
    pub recipient: String,
    /// The KMS key version, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_version: Option<u32>,
    /// The Shamir share id (threshold files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_id: Option<u8>,
}

/// What inspect tells.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileInfo {
    /// `kms` or `age`.
    pub format: FileFormat,
    /// The format version.
    pub version: u8,
    /// ASCII armored.
    pub armored: bool,
    /// k of a k-of-n threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u8>,
    /// The recipients.
    pub recipients: Vec<RecipientInfo>,
    /// Header bytes (binary form).
    pub header_bytes: u64,
    /// Payload bytes (binary form).
    pub payload_bytes: u64,
    /// Payload chunks.
    pub chunks: u64,
    /// Plaintext bytes (from the payload length).
    pub plaintext_bytes: u64,
}

pub(super) async fn run<R: AsyncRead + Unpin>(mut reader: R) -> Result<FileInfo> {
    let (detected, prefix) = detect(&mut reader).await?;
    match detected {
        Detected::Kms { armored } => {
            let mut source = Source::new(reader, prefix, armored);
            let (parsed, rest) = read_header(&mut source).await?;
            let payload = rest.len() as u64 + count(&mut source).await?;
            let h = &parsed.header;
            let recipients = h
                .stanzas
                .iter()
                .map(|s| RecipientInfo {
                    kind: s.stanza.kind().label().into(),
                    recipient: match &s.stanza {
                        Stanza::KmsKey { key, .. } => key.clone(),
                        other => other.describe(),
                    },
                    key_version: match &s.stanza {
                        Stanza::KmsKey { version, .. } if *version > 0 => Some(*version),
                        _ => None,
                    },
                    share_id: (s.share_id != 0).then_some(s.share_id),
                })
                .collect();
            let (chunks, plaintext) = sizes(payload, 0);
            Ok(FileInfo {
                format: FileFormat::Kms,
                version: VERSION,
                armored,
                threshold: (h.threshold != 0).then_some(h.threshold),
                recipients,
                header_bytes: parsed.len as u64,
                payload_bytes: payload,
                chunks,
                plaintext_bytes: plaintext,
            })
        }
        Detected::Age { armored } => inspect_age(Source::new(reader, prefix, false), armored).await,
    }
}

/// Chunks and plaintext bytes of a payload of `len` bytes after `skip` bytes of nonce.
fn sizes(len: u64, skip: u64) -> (u64, u64) {
    let body = len.saturating_sub(skip);
    let chunks = body.div_ceil(SEALED_CHUNK_SIZE as u64).max(1);
    (
        chunks,
        body.saturating_sub(chunks * crate::crypto::TAG_LEN as u64),
    )
}

async fn count<R: AsyncRead + Unpin>(r: &mut R) -> Result<u64> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut n = 0u64;
    loop {
        let k = r
            .read(&mut buf)
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            return Ok(n);
        }
        n += k as u64;
    }
}

/// age files: the stanza lines of the header (`-> TYPE args`), then sizes.
async fn inspect_age<R: AsyncRead + Unpin>(reader: R, armored: bool) -> Result<FileInfo> {
    use tokio_util::compat::{FuturesAsyncReadCompatExt, TokioAsyncReadCompatExt};
    let mut binary = age::armor::ArmoredReader::from_async_reader(reader.compat()).compat();
    let mut header = Vec::new();
    let mut byte = [0u8; 1];
    // The header ends with the line that starts "---".
    loop {
        let k = binary
            .read(&mut byte)
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            return Err(Error::Truncated);
        }
        header.push(byte[0]);
        if header.len() > crate::format::MAX_HEADER_LEN {
            return Err(Error::InvalidHeader("the age header is longer than 1 MiB"));
        }
        if byte[0] == b'\n' {
            let line_start = header[..header.len() - 1]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |p| p + 1);
            if header[line_start..].starts_with(b"--- ") {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&header);
    let recipients = text
        .lines()
        .filter_map(|l| l.strip_prefix("-> "))
        .map(|l| {
            let tag = l.split(' ').next().unwrap_or("").to_string();
            RecipientInfo {
                recipient: if tag == "scrypt" {
                    "passphrase".into()
                } else {
                    format!("age {tag} recipient")
                },
                kind: tag,
                key_version: None,
                share_id: None,
            }
        })
        .collect();
    let payload = count(&mut binary).await?;
    let (chunks, plaintext) = sizes(payload, 16);
    Ok(FileInfo {
        format: FileFormat::Age,
        version: 1,
        armored,
        threshold: None,
        recipients,
        header_bytes: header.len() as u64,
        payload_bytes: payload,
        chunks,
        plaintext_bytes: plaintext,
    })
}

impl fmt::Display for FileInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.format {
            FileFormat::Kms => "kms envelope",
            FileFormat::Age => "age",
        };
        writeln!(
            f,
            "format:      {format} v{}{}",
            self.version,
            if self.armored { " (armored)" } else { "" }
        )?;
        match self.threshold {
            Some(k) => writeln!(
                f,
                "opens with:  any {k} of {} recipients",
                self.recipients.len()
            )?,
            None => writeln!(
                f,
                "opens with:  any 1 of {} recipients",
                self.recipients.len()
            )?,
        }
        writeln!(f, "recipients:")?;
        for r in &self.recipients {
            write!(f, "  - {:<11} {}", r.kind, r.recipient)?;
            if let Some(v) = r.key_version {
                write!(f, " (version {v})")?;
            }
            if let Some(s) = r.share_id {
                write!(f, " [share {s}]")?;
            }
            writeln!(f)?;
        }
        writeln!(f, "header:      {} bytes", self.header_bytes)?;
        writeln!(
            f,
            "payload:     {} bytes in {} chunks of 64 KiB",
            self.payload_bytes, self.chunks
        )?;
        write!(f, "plaintext:   {} bytes", self.plaintext_bytes)
    }
}
