//! The self-describing ciphertext of the embedded store's small-data
//! operations. The layout is written down in `docs/ciphertext-format.md`:
//!
//! ```text
//! offset size  field
//! 0      3     magic "KMS"
//! 3      1     format version, 0x01
//! 4      1     algorithm: 0x01 AES-128-GCM, 0x02 AES-256-GCM, 0x03 RSAES-OAEP-SHA-256
//! 5      16    key id (UUID bytes)
//! 21     4     key version, u32 big-endian, >= 1
//! 25     ...   body: AES-GCM: nonce (12) | ciphertext | tag (16); RSA: OAEP block
//! ```
//!
//! For AES-GCM the associated data is the 25 header bytes followed by the
//! canonical encryption context, so the key id, version and context are all
//! authenticated. The text form is `kms:v1:` + standard base64 of the bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};
use crate::key::KeyId;

/// The text prefix.
pub const TEXT_PREFIX: &str = "kms:v1:";
/// The binary magic.
pub const MAGIC: &[u8; 3] = b"KMS";
/// The format version this code writes and reads.
pub const FORMAT_VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 25;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;

/// The algorithm of a ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CiphertextAlgorithm {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
    /// RSAES-OAEP with SHA-256.
    RsaOaepSha256,
}

impl CiphertextAlgorithm {
    fn to_byte(self) -> u8 {
        match self {
            CiphertextAlgorithm::Aes128Gcm => 1,
            CiphertextAlgorithm::Aes256Gcm => 2,
            CiphertextAlgorithm::RsaOaepSha256 => 3,
        }
    }
    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(CiphertextAlgorithm::Aes128Gcm),
            2 => Some(CiphertextAlgorithm::Aes256Gcm),
            3 => Some(CiphertextAlgorithm::RsaOaepSha256),
            _ => None,
        }
    }
}

/// The parsed header of a ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CiphertextHeader {
    /// The algorithm.
    pub algorithm: CiphertextAlgorithm,
    /// The key.
    pub key_id: KeyId,
    /// The key version.
    pub version: u32,
}

impl CiphertextHeader {
    /// The 25 header bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..3].copy_from_slice(MAGIC);
        out[3] = FORMAT_VERSION;
        out[4] = self.algorithm.to_byte();
        out[5..21].copy_from_slice(self.key_id.as_bytes());
        out[21..25].copy_from_slice(&self.version.to_be_bytes());
        out
    }

    /// Parses the header; returns it and the body.
    pub fn parse(blob: &[u8]) -> Result<(Self, &[u8])> {
        if blob.len() < HEADER_LEN {
            return Err(Error::InvalidCiphertext("too short to be a KMS ciphertext"));
        }
        if &blob[..3] != MAGIC {
            return Err(Error::InvalidCiphertext(
                "not a KMS ciphertext (bad magic); ciphertexts of external backends need --key with the backend URI",
            ));
        }
        if blob[3] != FORMAT_VERSION {
            return Err(Error::InvalidCiphertext(
                "unknown ciphertext format version",
            ));
        }
        let algorithm = CiphertextAlgorithm::from_byte(blob[4])
            .ok_or(Error::InvalidCiphertext("unknown ciphertext algorithm"))?;
        let mut id = [0u8; 16];
        id.copy_from_slice(&blob[5..21]);
        let mut v = [0u8; 4];
        v.copy_from_slice(&blob[21..25]);
        let version = u32::from_be_bytes(v);
        if version == 0 {
            return Err(Error::InvalidCiphertext("key version 0 is not valid"));
        }
        let body = &blob[HEADER_LEN..];
        if matches!(
            algorithm,
            CiphertextAlgorithm::Aes128Gcm | CiphertextAlgorithm::Aes256Gcm
        ) && body.len() < NONCE_LEN + TAG_LEN
        {
            return Err(Error::InvalidCiphertext(
                "truncated: the body is shorter than nonce and tag",
            ));
        }
        Ok((
            Self {
                algorithm,
                key_id: KeyId::from_bytes(id),
                version,
            },
            body,
        ))
    }
}

/// `kms:v1:` + base64.
pub fn to_text(blob: &[u8]) -> String {
    let mut s = String::with_capacity(TEXT_PREFIX.len() + blob.len().div_ceil(3) * 4);
    s.push_str(TEXT_PREFIX);
    STANDARD.encode_string(blob, &mut s);
    s
}

/// Parses the text form (surrounding whitespace ignored).
pub fn from_text(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    let b64 = s.strip_prefix(TEXT_PREFIX).ok_or(Error::InvalidCiphertext(
        "missing the kms:v1: prefix; give the ciphertext exactly as encrypt printed it",
    ))?;
    STANDARD
        .decode(b64)
        .map_err(|_| Error::InvalidCiphertext("the part after kms:v1: is not valid base64"))
}

/// Accepts either the text form or raw bytes (as written by `--output` of a binary ciphertext).
pub fn from_text_or_binary(input: &[u8]) -> Result<Vec<u8>> {
    if input.starts_with(MAGIC) {
        return Ok(input.to_vec());
    }
    let s = core::str::from_utf8(input).map_err(|_| {
        Error::InvalidCiphertext("neither kms:v1: text nor a binary KMS ciphertext")
    })?;
    from_text(s)
}

#[cfg(test)]
mod tests;
