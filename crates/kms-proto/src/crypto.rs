//! Cryptographic operations (`/api/v1/crypto/...`). Requests that take a
//! `batch_input` are answered with [`crate::batch::BatchResponse`] when it is
//! present, and with the single response otherwise. An item's `key`
//! defaults to the request's `key`.

use kms_core::{KeyId, MacAlgorithm, SigningAlgorithm};
use serde::{Deserialize, Serialize};

use crate::b64::SecretBytes;
use crate::batch::BatchEntry;
use crate::context::ContextWire;

/// `POST /api/v1/crypto/encrypt`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncryptRequestWire {
    /// The key (id, `alias/NAME` or backend URI).
    #[serde(default)]
    pub key: Option<String>,
    /// The plaintext, base64 (single request).
    #[serde(default)]
    pub plaintext: Option<SecretBytes>,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<EncryptItemWire>>))]
    pub batch_input: Option<Vec<BatchEntry<EncryptItemWire>>>,
}

/// One item of an encrypt batch.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncryptItemWire {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// The plaintext, base64.
    pub plaintext: SecretBytes,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A ciphertext made by encrypt or re-encrypt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EncryptResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The key version used.
    pub version: u32,
    /// `kms:v1:…`.
    pub ciphertext: String,
}

/// `POST /api/v1/crypto/decrypt`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecryptRequest {
    /// The key; taken from the ciphertext when absent.
    #[serde(default)]
    pub key: Option<String>,
    /// `kms:v1:…` (single request).
    #[serde(default)]
    pub ciphertext: Option<String>,
    /// The encryption context given to encrypt.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<DecryptItem>>))]
    pub batch_input: Option<Vec<BatchEntry<DecryptItem>>>,
}

/// One item of a decrypt batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecryptItem {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// `kms:v1:…`.
    pub ciphertext: String,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A decrypted plaintext.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecryptResponseWire {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The key version used.
    pub version: u32,
    /// The plaintext, base64.
    pub plaintext: SecretBytes,
}

/// `POST /api/v1/crypto/re-encrypt`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReEncryptRequest {
    /// The source ciphertext (single request).
    #[serde(default)]
    pub ciphertext: Option<String>,
    /// The key that made it (default: from the ciphertext).
    #[serde(default)]
    pub source_key: Option<String>,
    /// Its encryption context.
    #[serde(default)]
    pub source_context: Option<ContextWire>,
    /// The key to encrypt under.
    #[serde(default)]
    pub destination_key: Option<String>,
    /// The new encryption context.
    #[serde(default)]
    pub destination_context: Option<ContextWire>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<ReEncryptItem>>))]
    pub batch_input: Option<Vec<BatchEntry<ReEncryptItem>>>,
}

/// One item of a re-encrypt batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReEncryptItem {
    /// The source ciphertext.
    pub ciphertext: String,
    /// Overrides the request's source key.
    #[serde(default)]
    pub source_key: Option<String>,
    /// Its encryption context.
    #[serde(default)]
    pub source_context: Option<ContextWire>,
    /// Overrides the request's destination key.
    #[serde(default)]
    pub destination_key: Option<String>,
    /// The new encryption context.
    #[serde(default)]
    pub destination_context: Option<ContextWire>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// `POST /api/v1/crypto/data-key`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataKeyRequest {
    /// The symmetric key that wraps the data key.
    pub key: String,
    /// `AES_256` (default) or `AES_128`.
    #[serde(default)]
    pub key_spec: Option<String>,
    /// Or an explicit length in bytes (1–1024).
    #[serde(default)]
    pub number_of_bytes: Option<usize>,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Return only the wrapped data key.
    #[serde(default)]
    pub without_plaintext: bool,
}

/// A data key.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataKeyResponseWire {
    /// The wrapping key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// Its version.
    pub version: u32,
    /// The data key, base64 (absent with `without_plaintext`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<SecretBytes>,
    /// The wrapped data key, `kms:v1:…`.
    pub ciphertext: String,
}

/// `POST /api/v1/crypto/data-key-pair`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataKeyPairRequest {
    /// The symmetric key that wraps the private key.
    pub key: String,
    /// `ECC_NIST_P256`, `ECC_NIST_P384`, `ED25519`, `RSA_2048`, `RSA_3072`, `RSA_4096`.
    pub key_pair_spec: String,
    /// The encryption context.
    #[serde(default)]
    pub context: Option<ContextWire>,
    /// Return only the wrapped private key.
    #[serde(default)]
    pub without_plaintext: bool,
}

/// A data key pair.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataKeyPairResponseWire {
    /// The wrapping key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// Its version.
    pub version: u32,
    /// The pair's spec.
    pub key_pair_spec: String,
    /// The private key, PKCS#8 DER, base64 (absent with `without_plaintext`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_plaintext: Option<SecretBytes>,
    /// The wrapped private key, `kms:v1:…`.
    pub private_key_ciphertext: String,
    /// The public key, SPKI DER, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub public_key: Vec<u8>,
}

/// `POST /api/v1/crypto/sign`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignRequest {
    /// The signing key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message or digest, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub message: Option<Vec<u8>>,
    /// `RAW` (default) or `DIGEST`.
    #[serde(default)]
    pub message_type: Option<String>,
    /// The algorithm (default: the key's first).
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<SignItem>>))]
    pub batch_input: Option<Vec<BatchEntry<SignItem>>>,
}

/// One item of a sign batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignItem {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message or digest, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub message: Vec<u8>,
    /// Overrides the request's message type.
    #[serde(default)]
    pub message_type: Option<String>,
    /// Overrides the request's algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The version that signed.
    pub version: u32,
    /// The algorithm.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub algorithm: SigningAlgorithm,
    /// The signature, base64 (DER for ECDSA).
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub signature: Vec<u8>,
}

/// `POST /api/v1/crypto/verify`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyRequest {
    /// The key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message or digest, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub message: Option<Vec<u8>>,
    /// The signature, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub signature: Option<Vec<u8>>,
    /// `RAW` (default) or `DIGEST`.
    #[serde(default)]
    pub message_type: Option<String>,
    /// The algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// The key version (default: every usable version).
    #[serde(default)]
    pub version: Option<u32>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<VerifyItem>>))]
    pub batch_input: Option<Vec<BatchEntry<VerifyItem>>>,
}

/// One item of a verify batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyItem {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message or digest, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub message: Vec<u8>,
    /// The signature, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub signature: Vec<u8>,
    /// Overrides the request's message type.
    #[serde(default)]
    pub message_type: Option<String>,
    /// Overrides the request's algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// The key version.
    #[serde(default)]
    pub version: Option<u32>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// Whether a signature or MAC matched.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// Whether it matched.
    pub valid: bool,
}

/// `POST /api/v1/crypto/mac`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacRequest {
    /// The HMAC key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub message: Option<Vec<u8>>,
    /// `HMAC_SHA_256` or `HMAC_SHA_512` (default: the key's).
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<MacItem>>))]
    pub batch_input: Option<Vec<BatchEntry<MacItem>>>,
}

/// One item of a MAC batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacItem {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub message: Vec<u8>,
    /// Overrides the request's algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// A MAC.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The algorithm.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub algorithm: MacAlgorithm,
    /// The MAC, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub mac: Vec<u8>,
}

/// `POST /api/v1/crypto/mac/verify`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacVerifyRequest {
    /// The HMAC key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub message: Option<Vec<u8>>,
    /// The MAC to check, base64 (single request).
    #[serde(default, with = "crate::b64::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Byte))]
    pub mac: Option<Vec<u8>>,
    /// The algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// The key version (default: every usable version).
    #[serde(default)]
    pub version: Option<u32>,
    /// Items of a batch.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<MacVerifyItem>>))]
    pub batch_input: Option<Vec<BatchEntry<MacVerifyItem>>>,
}

/// One item of a MAC-verify batch.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MacVerifyItem {
    /// Overrides the request's key.
    #[serde(default)]
    pub key: Option<String>,
    /// The message, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub message: Vec<u8>,
    /// The MAC, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub mac: Vec<u8>,
    /// Overrides the request's algorithm.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// The key version.
    #[serde(default)]
    pub version: Option<u32>,
    /// Echoed in the result.
    #[serde(default)]
    pub reference: Option<String>,
}

/// `POST /api/v1/crypto/random`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RandomRequest {
    /// 1–1024.
    pub number_of_bytes: usize,
}

/// Random bytes (secret: they may become keys).
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RandomResponseWire {
    /// The bytes, base64.
    pub random: SecretBytes,
}
