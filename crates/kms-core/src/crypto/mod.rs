//! Crypto primitives on aws-lc-rs: everything the embedded store does with
//! key material.
//!
//! # Table of contents
//!
//! | File | What |
//! |---|---|
//! | [`aead.rs`](AeadKey) | [`AeadKey`]: a prepared AES-GCM key, the hot path of encrypt/decrypt |
//! | `generate.rs` | [`generate_key_material`] (every [`KeySpec`](crate::KeySpec)) and [`generate_key_pair`] (data key pairs) |
//! | `prepared.rs` | [`PreparedKey`]: key material parsed once, validated, ready to use; MAC and RSA-OAEP |
//! | `sign.rs` | [`PreparedKey::sign`] and [`PreparedKey::verify`] (RSA PSS/PKCS#1, ECDSA, Ed25519; RAW or DIGEST) |
//! | `public_key.rs` | SubjectPublicKeyInfo DER ⇄ PEM, DER → JWK |
//! | `der.rs` | a minimal DER reader used by the JWK conversion |
//! | `import_wrap.rs` | BYOK: [`ImportWrappingKey`] (RSA-4096 OAEP + AES-KWP, as AWS KMS and Vault) and [`wrap_for_import`] |
//!
//! # Conventions
//!
//! * Key material is a [`KeyMaterial`](crate::KeyMaterial): raw bytes for AES
//!   and HMAC, PKCS#8 DER for key pairs.
//! * Public keys leave this module as SubjectPublicKeyInfo DER (`Vec<u8>`,
//!   not secret); [`PreparedKey::public_key_der`] is the one named function
//!   that turns a secret key into a public value.
//! * Cryptographic failures are vague on purpose: a failed AES-GCM open or
//!   RSA-OAEP decryption is [`Error::DecryptionFailed`](crate::Error::DecryptionFailed),
//!   a bad signature or MAC is `Ok(false)`, a bad import wrapping is
//!   [`Error::ImportFailed`](crate::Error::ImportFailed). No error message
//!   ever contains key bytes.
//! * Symmetric keys are drawn from the injected [`Rng`](crate::Rng).
//!   Asymmetric key generation, RSA-OAEP padding and ECDSA nonces use
//!   aws-lc's own DRBG: aws-lc-rs offers no way to inject a generator there.

mod aead;
mod der;
mod generate;
mod import_wrap;
mod prepared;
mod public_key;
mod sign;

#[cfg(test)]
mod tests;

pub use aead::AeadKey;
pub use generate::{generate_key_material, generate_key_pair};
pub use import_wrap::{ImportWrappingKey, WRAPPED_EPHEMERAL_KEY_LEN, wrap_for_import};
pub use prepared::{EcdsaKey, Ed25519Key, HmacKey, PreparedKey, RsaKey};
pub use public_key::{pem_to_der, spki_der_to_jwk, spki_der_to_pem};
