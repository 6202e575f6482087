//! BYOK import wrapping, as AWS KMS (`RSA_AES_KEY_WRAP_SHA_256`) and
//! Vault/OpenBao Transit (`BYOK`) do it.
//!
//! The importer draws an ephemeral AES-256 key `K` and sends
//!
//! ```text
//! RSAES-OAEP(SHA-256, MGF1-SHA-256, no label; wrapping public key, K)   -- 512 bytes (RSA-4096)
//! || AES-KWP(K, key material)                                           -- RFC 5649
//! ```
//!
//! With OpenSSL that is:
//!
//! ```text
//! openssl pkeyutl -encrypt -pubin -inkey wrapping.pem -in k.bin -out k.enc \
//!     -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256
//! openssl enc -id-aes256-wrap-pad -K "$(xxd -p -c 64 k.bin)" -iv A65959A6 -in material.bin -out material.enc
//! cat k.enc material.enc > wrapped.bin
//! ```

use core::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::key_wrap::{AES_256, AesKek, KeyWrapPadded};
use aws_lc_rs::rsa::{
    KeySize, OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::secret::KeyMaterial;

/// The length of the RSA-OAEP-wrapped ephemeral key at the start of a
/// wrapped import: the modulus length of an RSA-4096 wrapping key.
pub const WRAPPED_EPHEMERAL_KEY_LEN: usize = 512;

/// The ephemeral AES-256 key length.
const EPHEMERAL_KEY_LEN: usize = 32;

/// AES-KWP adds at most 15 bytes (8 of integrity check, up to 7 of padding).
const KWP_OVERHEAD: usize = 15;

/// The private half of an import's RSA-4096 wrapping key.
///
/// `Debug` prints nothing of the key.
pub struct ImportWrappingKey {
    key: PrivateDecryptingKey,
}

impl ImportWrappingKey {
    /// Generates a new RSA-4096 wrapping key (with aws-lc's DRBG).
    ///
    /// Returns the key, its PKCS#8 v1 DER (to store until the import token
    /// expires) and its SubjectPublicKeyInfo DER (to hand to the importer).
    ///
    /// # Errors
    /// [`Error::Internal`] if aws-lc fails.
    pub fn generate() -> Result<(Self, KeyMaterial, Vec<u8>)> {
        let failed =
            || Error::Internal("aws-lc failed to generate an RSA-4096 wrapping key".into());
        let pair = RsaKeyPair::generate(KeySize::Rsa4096).map_err(|_| failed())?;
        let pkcs8: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| failed())?;
        let spki: PublicKeyX509Der<'static> = pair.public_key().as_der().map_err(|_| failed())?;
        let material = KeyMaterial::from_slice(pkcs8.as_ref());
        let key = Self::from_pkcs8(&material).map_err(|_| failed())?;
        Ok((key, material, spki.as_ref().to_vec()))
    }

    /// Loads a wrapping key from its PKCS#8 DER.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (`wrapping_key`) unless it is a PKCS#8
    /// RSA-4096 private key.
    pub fn from_pkcs8(pkcs8: &KeyMaterial) -> Result<Self> {
        let key = PrivateDecryptingKey::from_pkcs8(pkcs8.expose_secret())
            .map_err(|_| Error::invalid("wrapping_key", "not a PKCS#8 DER RSA private key"))?;
        if key.key_size_bytes() != WRAPPED_EPHEMERAL_KEY_LEN {
            return Err(Error::invalid(
                "wrapping_key",
                format!(
                    "an import wrapping key must be RSA-4096, got RSA-{}",
                    key.key_size_bits()
                ),
            ));
        }
        Ok(Self { key })
    }

    /// Unwraps key material wrapped for this key (see the module docs for
    /// the format).
    ///
    /// The result is raw key material; the caller still validates it for
    /// the key's spec (`PreparedKey::new`).
    ///
    /// # Errors
    /// [`Error::ImportFailed`] saying which layer is wrong; never the bytes.
    pub fn unwrap(&self, wrapped: &[u8]) -> Result<KeyMaterial> {
        let Some((wrapped_key, wrapped_material)) =
            wrapped.split_at_checked(WRAPPED_EPHEMERAL_KEY_LEN)
        else {
            return Err(import_failed(format!(
                "the wrapped key material is {} bytes; it must start with the {WRAPPED_EPHEMERAL_KEY_LEN}-byte RSAES_OAEP_SHA_256-wrapped AES-256 key, followed by the AES-KWP-wrapped key material",
                wrapped.len()
            )));
        };
        // AES-KWP output is a multiple of 8 bytes and at least 16.
        if wrapped_material.len() < 16 || wrapped_material.len() % 8 != 0 {
            return Err(import_failed(format!(
                "after the {WRAPPED_EPHEMERAL_KEY_LEN}-byte wrapped AES key there must be AES-KWP (RFC 5649) output (a multiple of 8 bytes, at least 16); got {} bytes",
                wrapped_material.len()
            )));
        }

        let oaep = OaepPrivateDecryptingKey::new(self.key.clone())
            .map_err(|_| Error::Internal("aws-lc failed to prepare RSA-OAEP".into()))?;
        let mut ephemeral = Zeroizing::new(vec![0u8; oaep.min_output_size()]);
        let ephemeral_len = oaep
            .decrypt(&OAEP_SHA256_MGF1SHA256, wrapped_key, &mut ephemeral, None)
            .map(|k| k.len())
            .map_err(|_| {
                import_failed(
                    "the first 512 bytes are not an AES key wrapped with RSAES_OAEP_SHA_256 (MGF1 SHA-256) under this import's wrapping public key; check the padding options and that the import token matches",
                )
            })?;
        let ephemeral = ephemeral.get(..ephemeral_len).unwrap_or_default();
        if ephemeral.len() != EPHEMERAL_KEY_LEN {
            return Err(import_failed(format!(
                "the RSA-wrapped key must be a 32-byte AES-256 key, got {} bytes",
                ephemeral.len()
            )));
        }

        let kek = AesKek::new(&AES_256, ephemeral)
            .map_err(|_| Error::Internal("aws-lc rejected a 32-byte AES key".into()))?;
        let mut material = Zeroizing::new(vec![0u8; wrapped_material.len()]);
        let material_len = kek
            .unwrap_with_padding(wrapped_material, &mut material)
            .map(|m| m.len())
            .map_err(|_| {
                import_failed(
                    "the key material is not AES-KWP (RFC 5649, `id-aes256-wrap-pad`) wrapped under the RSA-wrapped AES key, or it was altered",
                )
            })?;
        material.truncate(material_len);
        Ok(KeyMaterial::from(material))
    }
}

/// Wraps `material` for import under a wrapping public key (the importer's
/// side; the format is in the module docs).
///
/// The ephemeral AES-256 key is drawn from `rng`; the OAEP padding uses
/// aws-lc's DRBG.
///
/// # Errors
/// * [`Error::InvalidArgument`] (`wrapping_public_key`) unless it is the
///   SubjectPublicKeyInfo DER of an RSA-4096 key.
/// * [`Error::InvalidArgument`] (`key_material`) for empty material.
/// * [`Error::Internal`] if the generator or aws-lc fails.
pub fn wrap_for_import(
    wrapping_public_spki_der: &[u8],
    material: &[u8],
    rng: &dyn Rng,
) -> Result<Vec<u8>> {
    let public = PublicEncryptingKey::from_der(wrapping_public_spki_der).map_err(|_| {
        Error::invalid(
            "wrapping_public_key",
            "not a SubjectPublicKeyInfo DER RSA public key",
        )
    })?;
    if public.key_size_bytes() != WRAPPED_EPHEMERAL_KEY_LEN {
        return Err(Error::invalid(
            "wrapping_public_key",
            format!(
                "an import wrapping key must be RSA-4096, got RSA-{}",
                public.key_size_bits()
            ),
        ));
    }
    if material.is_empty() {
        return Err(Error::invalid("key_material", "is empty"));
    }

    let mut ephemeral = Zeroizing::new([0u8; EPHEMERAL_KEY_LEN]);
    rng.fill(ephemeral.as_mut_slice())?;

    let oaep = OaepPublicEncryptingKey::new(public)
        .map_err(|_| Error::Internal("aws-lc failed to prepare RSA-OAEP".into()))?;
    let mut wrapped = vec![0u8; WRAPPED_EPHEMERAL_KEY_LEN + material.len() + KWP_OVERHEAD];
    let (wrapped_key, wrapped_material) = wrapped.split_at_mut(WRAPPED_EPHEMERAL_KEY_LEN);
    let key_len = oaep
        .encrypt(
            &OAEP_SHA256_MGF1SHA256,
            ephemeral.as_slice(),
            wrapped_key,
            None,
        )
        .map_err(|_| Error::Internal("RSA-OAEP encryption failed".into()))?
        .len();
    if key_len != WRAPPED_EPHEMERAL_KEY_LEN {
        return Err(Error::Internal(
            "RSA-OAEP output has the wrong length".into(),
        ));
    }

    let kek = AesKek::new(&AES_256, ephemeral.as_slice())
        .map_err(|_| Error::Internal("aws-lc rejected a 32-byte AES key".into()))?;
    let material_len = kek
        .wrap_with_padding(material, wrapped_material)
        .map_err(|_| Error::invalid("key_material", "is too long for AES-KWP"))?
        .len();
    wrapped.truncate(WRAPPED_EPHEMERAL_KEY_LEN + material_len);
    Ok(wrapped)
}

fn import_failed(reason: impl Into<String>) -> Error {
    Error::ImportFailed(reason.into())
}

impl fmt::Debug for ImportWrappingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ImportWrappingKey(RSA-4096, <redacted>)")
    }
}
