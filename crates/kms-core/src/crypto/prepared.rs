//! [`PreparedKey`]: key material parsed and validated once, ready to use.
//!
//! Signing and verification live in `sign.rs`; MAC and RSA-OAEP are here.

use core::fmt;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::hmac;
use aws_lc_rs::rsa::{
    OAEP_SHA256_MGF1SHA256, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1,
    ECDSA_P384_SHA384_ASN1_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
    ParsedPublicKey, RsaKeyPair,
};
use zeroize::Zeroizing;

use super::aead::AeadKey;
use crate::error::{Error, Result};
use crate::secret::{KeyMaterial, Plaintext};
use crate::spec::{KeySpec, MacAlgorithm};

/// Key material of any [`KeySpec`], parsed and validated once, ready to use.
///
/// Built by [`PreparedKey::new`] from stored or imported material. It is
/// `Send + Sync`, so one prepared key can serve concurrent requests.
/// `Debug` prints only the variant and the spec.
#[non_exhaustive]
pub enum PreparedKey {
    /// An AES-GCM key (`AES_128`, `AES_256`).
    Aes(AeadKey),
    /// An ECDSA key pair (`ECC_NIST_P256`, `ECC_NIST_P384`).
    Ecdsa(EcdsaKey),
    /// An Ed25519 key pair.
    Ed25519(Ed25519Key),
    /// An HMAC key (`HMAC_256`, `HMAC_512`).
    Hmac(HmacKey),
    /// An RSA key pair (`RSA_2048`, `RSA_3072`, `RSA_4096`), for signing and RSA-OAEP.
    Rsa(RsaKey),
}

/// A prepared RSA private key: signing, OAEP decryption and the public half.
pub struct RsaKey {
    pub(super) spec: KeySpec,
    pub(super) pair: RsaKeyPair,
    decrypting: OaepPrivateDecryptingKey,
    encrypting: OaepPublicEncryptingKey,
    spki: Vec<u8>,
}

/// A prepared ECDSA private key (P-256 or P-384) with its parsed public key.
pub struct EcdsaKey {
    pub(super) spec: KeySpec,
    pub(super) pair: EcdsaKeyPair,
    pub(super) public: ParsedPublicKey,
    spki: Vec<u8>,
}

/// A prepared Ed25519 private key with its parsed public key.
pub struct Ed25519Key {
    pub(super) pair: Ed25519KeyPair,
    pub(super) public: ParsedPublicKey,
    spki: Vec<u8>,
}

/// A prepared HMAC key.
pub struct HmacKey {
    spec: KeySpec,
    // Boxed: aws-lc's HMAC context is over a kilobyte inline, which would
    // make every `PreparedKey` that large.
    key: Box<hmac::Key>,
}

/// Messages for rejected material: they name the spec and the expected
/// format, never the bytes.
fn rejected(spec: KeySpec, expected: &str, why: impl fmt::Display) -> Error {
    Error::invalid(
        "key_material",
        format!("not a valid {spec} key: expected {expected}; {why}"),
    )
}

/// aws-lc's reason for rejecting a key: a fixed word such as
/// `InvalidEncoding` or `WrongAlgorithm`, never key bytes.
fn aws_lc_says(e: aws_lc_rs::error::KeyRejected) -> String {
    format!("aws-lc says {e}")
}

impl PreparedKey {
    /// Parses and validates `material` as a key of `spec`.
    ///
    /// Used for generated, stored and imported material alike, so it checks
    /// everything an importer could get wrong:
    ///
    /// * `AES_128`/`AES_256`: exactly 16/32 raw bytes.
    /// * `HMAC_256`: 32 to 64 raw bytes; `HMAC_512`: 64 to 128 raw bytes (the
    ///   ranges AWS KMS accepts for imported HMAC keys).
    /// * RSA: a PKCS#8 DER RSA private key whose modulus has exactly the
    ///   spec's size.
    /// * ECC: a PKCS#8 DER EC private key on the spec's curve.
    /// * `ED25519`: a PKCS#8 (v1 or v2) DER Ed25519 private key.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] (`key_material`) saying what was expected;
    /// the message never contains key bytes. [`Error::Internal`] if aws-lc
    /// cannot encode a public key it has just parsed.
    pub fn new(spec: KeySpec, material: &KeyMaterial) -> Result<Self> {
        let bytes = material.expose_secret();
        match spec {
            KeySpec::Aes128 | KeySpec::Aes256 => AeadKey::new(spec, bytes).map(PreparedKey::Aes),
            KeySpec::Hmac256 | KeySpec::Hmac512 => HmacKey::new(spec, bytes).map(PreparedKey::Hmac),
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                RsaKey::new(spec, bytes).map(PreparedKey::Rsa)
            }
            KeySpec::EccNistP256 | KeySpec::EccNistP384 => {
                EcdsaKey::new(spec, bytes).map(PreparedKey::Ecdsa)
            }
            KeySpec::Ed25519 => Ed25519Key::new(bytes).map(PreparedKey::Ed25519),
        }
    }

    /// The key's spec.
    #[must_use]
    pub fn spec(&self) -> KeySpec {
        match self {
            PreparedKey::Aes(key) => key.spec(),
            PreparedKey::Ecdsa(key) => key.spec,
            PreparedKey::Ed25519(_) => KeySpec::Ed25519,
            PreparedKey::Hmac(key) => key.spec,
            PreparedKey::Rsa(key) => key.spec,
        }
    }

    /// The AES-GCM key, if this is an AES key.
    #[must_use]
    pub fn aead(&self) -> Option<&AeadKey> {
        match self {
            PreparedKey::Aes(key) => Some(key),
            _ => None,
        }
    }

    /// The public key as SubjectPublicKeyInfo DER: `rsaEncryption` for RSA,
    /// `id-ecPublicKey` with a named curve for ECC, `id-Ed25519` for Ed25519.
    ///
    /// This is the one conversion from a secret key to a public value.
    ///
    /// # Errors
    /// [`Error::IncompatibleSpec`] for symmetric keys.
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        match self {
            PreparedKey::Ecdsa(key) => Ok(key.spki.clone()),
            PreparedKey::Ed25519(key) => Ok(key.spki.clone()),
            PreparedKey::Rsa(key) => Ok(key.spki.clone()),
            PreparedKey::Aes(_) | PreparedKey::Hmac(_) => {
                Err(self.incompatible("export a public key"))
            }
        }
    }

    /// Computes the MAC of `message`.
    ///
    /// # Errors
    /// [`Error::IncompatibleSpec`] unless the key is `HMAC_256` with
    /// `HMAC_SHA_256` or `HMAC_512` with `HMAC_SHA_512`.
    pub fn mac(&self, algorithm: MacAlgorithm, message: &[u8]) -> Result<Vec<u8>> {
        let key = self.hmac_key(algorithm)?;
        Ok(hmac::sign(&key.key, message).as_ref().to_vec())
    }

    /// Checks `mac` against the MAC of `message`, in constant time.
    ///
    /// Returns `Ok(false)` for a wrong MAC (including one of the wrong length).
    ///
    /// # Errors
    /// [`Error::IncompatibleSpec`] as for [`PreparedKey::mac`].
    pub fn verify_mac(&self, algorithm: MacAlgorithm, message: &[u8], mac: &[u8]) -> Result<bool> {
        let key = self.hmac_key(algorithm)?;
        Ok(hmac::verify(&key.key, message, mac).is_ok())
    }

    /// Encrypts `plaintext` with RSAES-OAEP (SHA-256, MGF1 with SHA-256, no label).
    ///
    /// Padding randomness comes from aws-lc's DRBG.
    ///
    /// # Errors
    /// * [`Error::IncompatibleSpec`] for non-RSA keys.
    /// * [`Error::PayloadTooLarge`] if `plaintext` exceeds k − 66 bytes.
    /// * [`Error::Internal`] if aws-lc fails.
    pub fn rsa_oaep_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = self.rsa_key("encrypt with RSAES_OAEP_SHA_256")?;
        let max = key.encrypting.max_plaintext_size(&OAEP_SHA256_MGF1SHA256);
        if plaintext.len() > max {
            return Err(Error::PayloadTooLarge {
                what: "plaintext",
                len: plaintext.len(),
                max,
                hint: "; RSA keys encrypt only small secrets such as data keys",
            });
        }
        let mut out = vec![0u8; key.encrypting.ciphertext_size()];
        let len = key
            .encrypting
            .encrypt(&OAEP_SHA256_MGF1SHA256, plaintext, &mut out, None)
            .map_err(|_| Error::Internal("RSA-OAEP encryption failed".into()))?
            .len();
        out.truncate(len);
        Ok(out)
    }

    /// Decrypts an RSAES-OAEP (SHA-256, MGF1 with SHA-256, no label) ciphertext.
    ///
    /// # Errors
    /// * [`Error::IncompatibleSpec`] for non-RSA keys.
    /// * [`Error::DecryptionFailed`] for a ciphertext of the wrong length,
    ///   under another key, or altered.
    pub fn rsa_oaep_decrypt(&self, ciphertext: &[u8]) -> Result<Plaintext> {
        let key = self.rsa_key("decrypt with RSAES_OAEP_SHA_256")?;
        if ciphertext.len() != key.decrypting.key_size_bytes() {
            return Err(Error::DecryptionFailed);
        }
        let mut out = Zeroizing::new(vec![0u8; key.decrypting.min_output_size()]);
        let len = key
            .decrypting
            .decrypt(&OAEP_SHA256_MGF1SHA256, ciphertext, &mut out, None)
            .map_err(|_| Error::DecryptionFailed)?
            .len();
        out.truncate(len);
        Ok(Plaintext::from(out))
    }

    fn hmac_key(&self, algorithm: MacAlgorithm) -> Result<&HmacKey> {
        match self {
            PreparedKey::Hmac(key) if key.spec.mac_algorithms().contains(&algorithm) => Ok(key),
            _ => Err(self.incompatible(format!("compute or verify {algorithm} MACs"))),
        }
    }

    fn rsa_key(&self, what: &str) -> Result<&RsaKey> {
        match self {
            PreparedKey::Rsa(key) => Ok(key),
            _ => Err(self.incompatible(what)),
        }
    }

    pub(super) fn incompatible(&self, what: impl Into<String>) -> Error {
        Error::IncompatibleSpec {
            spec: self.spec(),
            what: what.into(),
        }
    }
}

impl RsaKey {
    fn new(spec: KeySpec, pkcs8: &[u8]) -> Result<Self> {
        let want = spec.rsa_modulus_len().unwrap_or_default();
        let expected = format!("a PKCS#8 DER {}-bit RSA private key", want * 8);
        let pair =
            RsaKeyPair::from_pkcs8(pkcs8).map_err(|e| rejected(spec, &expected, aws_lc_says(e)))?;
        let got = pair.public_modulus_len();
        if got != want {
            return Err(rejected(
                spec,
                &expected,
                format_args!("got a {}-bit RSA key", got * 8),
            ));
        }
        let decrypting = PrivateDecryptingKey::from_pkcs8(pkcs8)
            .map_err(|e| rejected(spec, &expected, aws_lc_says(e)))
            .and_then(|k| OaepPrivateDecryptingKey::new(k).map_err(|_| internal_prepare(spec)))?;
        let spki = spki_of(spec, pair.public_key())?;
        let encrypting = PublicEncryptingKey::from_der(&spki)
            .map_err(|_| internal_prepare(spec))
            .and_then(|k| OaepPublicEncryptingKey::new(k).map_err(|_| internal_prepare(spec)))?;
        Ok(Self {
            spec,
            pair,
            decrypting,
            encrypting,
            spki,
        })
    }
}

impl EcdsaKey {
    fn new(spec: KeySpec, pkcs8: &[u8]) -> Result<Self> {
        let (signing, verification, expected) = match spec {
            KeySpec::EccNistP256 => (
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                &ECDSA_P256_SHA256_ASN1,
                "a PKCS#8 DER EC private key on curve P-256",
            ),
            _ => (
                &ECDSA_P384_SHA384_ASN1_SIGNING,
                &ECDSA_P384_SHA384_ASN1,
                "a PKCS#8 DER EC private key on curve P-384",
            ),
        };
        let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8)
            .map_err(|e| rejected(spec, expected, aws_lc_says(e)))?;
        let public = ParsedPublicKey::new(verification, pair.public_key().as_ref())
            .map_err(|_| internal_prepare(spec))?;
        let spki = spki_of(spec, pair.public_key())?;
        Ok(Self {
            spec,
            pair,
            public,
            spki,
        })
    }
}

impl Ed25519Key {
    fn new(pkcs8: &[u8]) -> Result<Self> {
        let spec = KeySpec::Ed25519;
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8)
            .map_err(|e| rejected(spec, "a PKCS#8 DER Ed25519 private key", aws_lc_says(e)))?;
        let public = ParsedPublicKey::new(&ED25519, pair.public_key().as_ref())
            .map_err(|_| internal_prepare(spec))?;
        let spki = spki_of(spec, pair.public_key())?;
        Ok(Self { pair, public, spki })
    }
}

impl HmacKey {
    fn new(spec: KeySpec, bytes: &[u8]) -> Result<Self> {
        let (algorithm, min, max) = match spec {
            KeySpec::Hmac256 => (hmac::HMAC_SHA256, 32, 64),
            _ => (hmac::HMAC_SHA512, 64, 128),
        };
        if !(min..=max).contains(&bytes.len()) {
            return Err(Error::invalid(
                "key_material",
                format!(
                    "{spec} key material must be {min} to {max} bytes, got {} bytes",
                    bytes.len()
                ),
            ));
        }
        Ok(Self {
            spec,
            key: Box::new(hmac::Key::new(algorithm, bytes)),
        })
    }
}

fn spki_of<P: AsDer<PublicKeyX509Der<'static>>>(spec: KeySpec, public: &P) -> Result<Vec<u8>> {
    public
        .as_der()
        .map(|der| der.as_ref().to_vec())
        .map_err(|_| internal_prepare(spec))
}

fn internal_prepare(spec: KeySpec) -> Error {
    Error::Internal(format!(
        "aws-lc failed to prepare a {spec} key it had accepted"
    ))
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            PreparedKey::Aes(_) => "Aes",
            PreparedKey::Ecdsa(_) => "Ecdsa",
            PreparedKey::Ed25519(_) => "Ed25519",
            PreparedKey::Hmac(_) => "Hmac",
            PreparedKey::Rsa(_) => "Rsa",
        };
        write!(f, "PreparedKey::{variant}({}, <redacted>)", self.spec())
    }
}

impl fmt::Debug for RsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaKey({}, <redacted>)", self.spec)
    }
}

impl fmt::Debug for EcdsaKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EcdsaKey({}, <redacted>)", self.spec)
    }
}

impl fmt::Debug for Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Key(<redacted>)")
    }
}

impl fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HmacKey({}, <redacted>)", self.spec)
    }
}
