//! [`AeadKey`]: a prepared AES-GCM key.

use core::fmt;

use aws_lc_rs::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};

use crate::error::{Error, Result};
use crate::spec::KeySpec;

/// A prepared AES-GCM key (AES-128-GCM for [`KeySpec::Aes128`], AES-256-GCM
/// for [`KeySpec::Aes256`]).
///
/// The key schedule is computed once in [`AeadKey::new`]; sealing and opening
/// then allocate nothing (beyond growing the caller's `Vec` by the tag).
/// Nonces are the caller's responsibility: a nonce must never repeat under
/// one key. `Debug` prints only the spec.
pub struct AeadKey {
    spec: KeySpec,
    key: LessSafeKey,
}

impl AeadKey {
    /// The length of an AES-GCM nonce in bytes.
    pub const NONCE_LEN: usize = 12;

    /// The length of an AES-GCM tag in bytes.
    pub const TAG_LEN: usize = 16;

    /// Prepares `material` as an AES-GCM key of `spec`.
    ///
    /// # Errors
    /// * [`Error::IncompatibleSpec`] if `spec` is not an AES spec.
    /// * [`Error::InvalidArgument`] (`key_material`) if `material` is not 16
    ///   bytes for `AES_128` or 32 bytes for `AES_256`.
    pub fn new(spec: KeySpec, material: &[u8]) -> Result<Self> {
        let algorithm = match spec {
            KeySpec::Aes128 => &AES_128_GCM,
            KeySpec::Aes256 => &AES_256_GCM,
            _ => {
                return Err(Error::IncompatibleSpec {
                    spec,
                    what: "be used as an AES-GCM key".into(),
                });
            }
        };
        if material.len() != algorithm.key_len() {
            return Err(Error::invalid(
                "key_material",
                format!(
                    "{spec} key material must be {} bytes, got {} bytes",
                    algorithm.key_len(),
                    material.len()
                ),
            ));
        }
        let key = UnboundKey::new(algorithm, material)
            .map_err(|_| Error::Internal(format!("aws-lc rejected a {spec} key")))?;
        Ok(Self {
            spec,
            key: LessSafeKey::new(key),
        })
    }

    /// The key's spec (`AES_128` or `AES_256`).
    #[must_use]
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// Encrypts `in_out` in place and appends the 16-byte tag.
    ///
    /// `nonce` must be unique for this key; `aad` is authenticated but not
    /// encrypted.
    ///
    /// # Errors
    /// [`Error::Internal`] if aws-lc fails (input larger than GCM allows).
    pub fn seal_in_place_append_tag(
        &self,
        nonce: [u8; Self::NONCE_LEN],
        aad: &[u8],
        in_out: &mut Vec<u8>,
    ) -> Result<()> {
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .map_err(|_| Error::Internal("AES-GCM encryption failed".into()))
    }

    /// Decrypts `in_out` (ciphertext followed by the tag) in place and returns
    /// the plaintext, a prefix of `in_out`.
    ///
    /// # Errors
    /// [`Error::DecryptionFailed`] if the tag does not verify (wrong key,
    /// nonce or `aad`, or altered or truncated ciphertext). `in_out` is then
    /// unspecified; callers must not use it.
    pub fn open_in_place<'a>(
        &self,
        nonce: [u8; Self::NONCE_LEN],
        aad: &[u8],
        in_out: &'a mut [u8],
    ) -> Result<&'a mut [u8]> {
        self.key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
            .map_err(|_| Error::DecryptionFailed)
    }
}

impl fmt::Debug for AeadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AeadKey({}, <redacted>)", self.spec)
    }
}
