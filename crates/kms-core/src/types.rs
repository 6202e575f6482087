//! Requests and results of the backend operations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::key::{AliasName, KeyId, KeyMetadata, KeyOrigin, KeyState};
use crate::secret::{DataKey, Plaintext, PrivateKey};
use crate::spec::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm,
    SigningAlgorithm,
};

/// Shortest and longest deletion window in days.
pub const DELETION_WINDOW_DAYS: core::ops::RangeInclusive<u32> = 7..=30;
/// Deletion window when none is given.
pub const DEFAULT_DELETION_WINDOW_DAYS: u32 = 30;
/// Shortest and longest automatic rotation period in days (as AWS).
pub const ROTATION_PERIOD_DAYS: core::ops::RangeInclusive<u32> = 1..=2560;

/// What to create.
#[derive(Clone, Debug)]
pub struct CreateKeyRequest {
    /// The spec.
    pub spec: KeySpec,
    /// The usage; the spec's default when `None`.
    pub usage: Option<KeyUsage>,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// An alias to point at the new key.
    pub alias: Option<AliasName>,
    /// `Generated` (default) or `Imported` (the key starts `PendingImport`).
    pub origin: KeyOrigin,
    /// Automatic rotation period in days.
    pub rotation_period_days: Option<u32>,
}

impl CreateKeyRequest {
    /// A generated key of `spec` with its default usage.
    pub fn new(spec: KeySpec) -> Self {
        Self {
            spec,
            usage: None,
            description: String::new(),
            tags: BTreeMap::new(),
            alias: None,
            origin: KeyOrigin::Generated,
            rotation_period_days: None,
        }
    }

    /// Checks spec × usage, origin and rotation period; returns the usage.
    pub fn validate(&self) -> Result<KeyUsage> {
        let usage = self.usage.unwrap_or_else(|| self.spec.default_usage());
        if !self.spec.usages().contains(&usage) {
            return Err(Error::IncompatibleSpec {
                spec: self.spec,
                what: format!("have usage {usage}"),
            });
        }
        if self.origin == KeyOrigin::External {
            return Err(Error::invalid(
                "origin",
                "EXTERNAL keys are created in their own backend",
            ));
        }
        if let Some(days) = self.rotation_period_days {
            check_rotation_period(days)?;
            if self.spec.is_asymmetric() {
                return Err(Error::IncompatibleSpec {
                    spec: self.spec,
                    what: "rotate automatically (rotate asymmetric keys by hand)".into(),
                });
            }
        }
        validate_tags(&self.tags)?;
        if self.description.len() > 8192 {
            return Err(Error::invalid("description", "longer than 8192 bytes"));
        }
        Ok(usage)
    }
}

/// Checks an automatic rotation period.
pub fn check_rotation_period(days: u32) -> Result<()> {
    if !ROTATION_PERIOD_DAYS.contains(&days) {
        return Err(Error::invalid(
            "rotation period",
            format!(
                "{days} days is outside {}–{} days",
                ROTATION_PERIOD_DAYS.start(),
                ROTATION_PERIOD_DAYS.end()
            ),
        ));
    }
    Ok(())
}

/// Checks a deletion window.
pub fn check_deletion_window(days: u32) -> Result<()> {
    if !DELETION_WINDOW_DAYS.contains(&days) {
        return Err(Error::invalid(
            "days",
            format!(
                "the deletion window must be {} to {} days; {days} is outside it",
                DELETION_WINDOW_DAYS.start(),
                DELETION_WINDOW_DAYS.end()
            ),
        ));
    }
    Ok(())
}

/// Checks tag keys and values.
pub fn validate_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 {
            return Err(Error::invalid(
                "tag",
                format!("tag key {k:?} must be 1–128 bytes"),
            ));
        }
        if v.len() > 256 {
            return Err(Error::invalid(
                "tag",
                format!("the value of tag {k:?} is longer than 256 bytes"),
            ));
        }
    }
    Ok(())
}

/// Filters and pagination for listing keys.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ListKeysRequest {
    /// At most this many (1–1000; default 100).
    pub limit: Option<u32>,
    /// The `next_marker` of the previous page.
    pub marker: Option<String>,
    /// Only keys with this alias.
    pub alias: Option<AliasName>,
    /// Only keys with this tag (`key` or `key=value`).
    pub tag: Option<(String, Option<String>)>,
    /// Only keys in this state.
    pub state: Option<KeyState>,
    /// Only keys of this spec.
    pub spec: Option<KeySpec>,
}

impl ListKeysRequest {
    /// The page size, checked.
    pub fn page_size(&self) -> Result<u32> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n),
            Some(n) => Err(Error::invalid("limit", format!("{n} is outside 1–1000"))),
        }
    }
}

/// One page of keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct KeyPage {
    /// The keys.
    pub keys: Vec<KeyMetadata>,
    /// Pass as `marker` for the next page; `None` on the last page.
    pub next_marker: Option<String>,
}

/// A change to a key's settings; `None` fields are left as they are.
#[derive(Clone, Debug, Default)]
pub struct KeyUpdate {
    /// New description.
    pub description: Option<String>,
    /// Tags to set.
    pub set_tags: BTreeMap<String, String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// New rotation period (`Some(None)` turns automatic rotation off).
    pub rotation_period_days: Option<Option<u32>>,
    /// New `min_decryption_version`.
    pub min_decryption_version: Option<u32>,
}

/// A change of state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StateChange {
    /// Cancel a scheduled deletion (the key becomes `Disabled`, as in AWS).
    CancelDeletion,
    /// Disable.
    Disable,
    /// Enable.
    Enable,
    /// Schedule deletion after this many days (7–30).
    ScheduleDeletion {
        /// The window.
        days: u32,
    },
}

impl StateChange {
    /// The operation that makes this change (`enable_key`, …).
    pub fn operation(&self) -> crate::Operation {
        match self {
            StateChange::CancelDeletion => crate::Operation::CancelKeyDeletion,
            StateChange::Disable => crate::Operation::DisableKey,
            StateChange::Enable => crate::Operation::EnableKey,
            StateChange::ScheduleDeletion { .. } => crate::Operation::ScheduleKeyDeletion,
        }
    }
}

/// An alias and the key it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasEntry {
    /// The alias.
    pub alias: AliasName,
    /// The key.
    pub key_id: KeyId,
}

/// The result of encrypt.
#[derive(Clone, Debug)]
pub struct Encrypted {
    /// The key.
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The ciphertext bytes (for the local store: the self-describing format).
    pub ciphertext: Vec<u8>,
}

/// The result of decrypt.
#[derive(Debug)]
pub struct Decrypted {
    /// The key.
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The plaintext.
    pub plaintext: Plaintext,
}

/// The length of a data key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataKeyLength {
    /// By spec.
    Spec(DataKeySpec),
    /// An explicit number of bytes (1–1024).
    Bytes(usize),
}

impl DataKeyLength {
    /// The length in bytes, checked.
    pub fn bytes(&self) -> Result<usize> {
        match self {
            DataKeyLength::Spec(s) => Ok(s.byte_len()),
            DataKeyLength::Bytes(n @ 1..=crate::MAX_RANDOM_BYTES) => Ok(*n),
            DataKeyLength::Bytes(n) => Err(Error::invalid(
                "number of bytes",
                format!("{n} is outside 1–{}", crate::MAX_RANDOM_BYTES),
            )),
        }
    }
}

/// A data key.
#[derive(Debug)]
pub struct GeneratedDataKey {
    /// The key that wraps it.
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The data key in clear (absent for the without-plaintext variant).
    pub plaintext: Option<DataKey>,
    /// The data key encrypted under the key.
    pub ciphertext: Vec<u8>,
}

/// A data key pair.
#[derive(Debug)]
pub struct GeneratedDataKeyPair {
    /// The key that wraps the private key.
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The pair's spec.
    pub spec: DataKeyPairSpec,
    /// The private key in clear, PKCS#8 DER (absent for the without-plaintext variant).
    pub private_key_plaintext: Option<PrivateKey>,
    /// The private key encrypted under the key.
    pub private_key_ciphertext: Vec<u8>,
    /// The public key, SPKI DER.
    pub public_key: Vec<u8>,
}

/// A signature.
#[derive(Clone, Debug)]
pub struct SignatureOutput {
    /// The key.
    pub key_id: KeyId,
    /// The version that signed.
    pub version: u32,
    /// The algorithm.
    pub algorithm: SigningAlgorithm,
    /// The signature (DER for ECDSA).
    pub signature: Vec<u8>,
}

/// A MAC.
#[derive(Clone, Debug)]
pub struct MacOutput {
    /// The key.
    pub key_id: KeyId,
    /// The version used.
    pub version: u32,
    /// The algorithm.
    pub algorithm: MacAlgorithm,
    /// The MAC.
    pub mac: Vec<u8>,
}

/// A public key and what it is for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PublicKeyInfo {
    /// The key.
    pub key_id: KeyId,
    /// The version.
    pub version: u32,
    /// The spec.
    pub spec: KeySpec,
    /// The usage.
    pub usage: KeyUsage,
    /// SubjectPublicKeyInfo, DER.
    #[serde(with = "crate::types::b64")]
    pub der: Vec<u8>,
    /// Signing algorithms (sign-verify keys).
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// Encryption algorithms (encrypt-decrypt keys).
    pub encryption_algorithms: Vec<EncryptionAlgorithm>,
}

/// What a caller needs to import key material (BYOK).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImportParameters {
    /// The key the material is for.
    pub key_id: KeyId,
    /// The token to hand back with the wrapped material (not secret, single use, expires).
    pub import_token: String,
    /// The RSA-4096 wrapping public key, SPKI DER.
    #[serde(with = "crate::types::b64")]
    pub wrapping_public_key: Vec<u8>,
    /// How to wrap: an ephemeral AES-256 key under RSA-OAEP-SHA-256, then the material under AES-KWP.
    pub wrapping_algorithm: String,
    /// When the token stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The wrapping algorithm name of [`ImportParameters`].
pub const IMPORT_WRAPPING_ALGORITHM: &str = "RSA_AES_KEY_WRAP_SHA_256";

/// Base64 serde for byte fields of public (non-secret) values.
pub mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serialize.
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }
    /// Deserialize.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}
