//! Keys and aliases (`/api/v1/keys`, `/api/v1/aliases`).

use std::collections::BTreeMap;

use kms_core::types::{ImportParameters, PublicKeyInfo};
use kms_core::{AliasName, KeyId, KeyMetadata, KeyOrigin, KeySpec, KeyState, KeyUsage};
use kms_core::{EncryptionAlgorithm, SigningAlgorithm};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A key's description (everything but its material).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyInfo {
    /// The id (UUID).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// Aliases naming it.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub aliases: Vec<AliasName>,
    /// Free text.
    pub description: String,
    /// Tags.
    pub tags: BTreeMap<String, String>,
    /// `AES_256`, `RSA_2048`, `ECC_NIST_P256`, `HMAC_256`, …
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub spec: KeySpec,
    /// `ENCRYPT_DECRYPT`, `SIGN_VERIFY` or `GENERATE_VERIFY_MAC`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub usage: KeyUsage,
    /// `Enabled`, `Disabled`, `PendingDeletion` or `PendingImport`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub state: KeyState,
    /// `GENERATED`, `IMPORTED` or `EXTERNAL`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub origin: KeyOrigin,
    /// The newest version.
    pub current_version: u32,
    /// The oldest version that may decrypt or verify.
    pub min_decryption_version: u32,
    /// When created (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub created_at: OffsetDateTime,
    /// When last rotated.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub rotated_at: Option<OffsetDateTime>,
    /// Automatic rotation period in days.
    pub rotation_period_days: Option<u32>,
    /// When next rotated automatically.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub next_rotation_at: Option<OffsetDateTime>,
    /// When a key pending deletion is destroyed.
    #[serde(with = "time::serde::rfc3339::option", default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub deletion_date: Option<OffsetDateTime>,
    /// The backend holding it.
    pub backend: String,
}

impl From<&KeyMetadata> for KeyInfo {
    fn from(m: &KeyMetadata) -> Self {
        Self {
            key_id: m.key_id,
            aliases: m.aliases.clone(),
            description: m.description.clone(),
            tags: m.tags.clone(),
            spec: m.spec,
            usage: m.usage,
            state: m.state,
            origin: m.origin,
            current_version: m.current_version,
            min_decryption_version: m.min_decryption_version,
            created_at: m.created_at,
            rotated_at: m.rotated_at,
            rotation_period_days: m.rotation_period_days,
            next_rotation_at: m.next_rotation_at,
            deletion_date: m.deletion_date,
            backend: m.backend.clone(),
        }
    }
}

/// `POST /api/v1/keys`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateKeyRequest {
    /// The spec (default `AES_256`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub spec: Option<KeySpec>,
    /// The usage (default: the spec's).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub usage: Option<KeyUsage>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// An alias for the new key.
    #[serde(default)]
    pub alias: Option<String>,
    /// `GENERATED` (default) or `IMPORTED` (BYOK: the key starts `PendingImport`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub origin: Option<KeyOrigin>,
    /// Automatic rotation period in days.
    #[serde(default)]
    pub rotation_period_days: Option<u32>,
}

/// `PATCH /api/v1/keys/{key}`; absent fields are left unchanged.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateKeyRequest {
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// Tags to set.
    #[serde(default)]
    pub set_tags: BTreeMap<String, String>,
    /// Tags to remove.
    #[serde(default)]
    pub remove_tags: Vec<String>,
    /// New automatic rotation period in days; `0` turns it off.
    #[serde(default)]
    pub rotation_period_days: Option<u32>,
    /// New minimum decryption version.
    #[serde(default)]
    pub min_decryption_version: Option<u32>,
}

/// `PUT /api/v1/keys/{key}/tags`: tags to set.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagsRequest {
    /// Tags to set (others are kept).
    pub tags: BTreeMap<String, String>,
}

/// A page of keys.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyList {
    /// The keys.
    pub keys: Vec<KeyInfo>,
    /// Pass as `marker` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_marker: Option<String>,
}

/// Query of `GET /api/v1/keys`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct ListKeysQuery {
    /// Page size, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// The `next_marker` of the previous page.
    pub marker: Option<String>,
    /// Only keys with this alias.
    pub alias: Option<String>,
    /// Only keys with this tag: `name` or `name=value`.
    pub tag: Option<String>,
    /// Only keys in this state.
    pub state: Option<String>,
    /// Only keys of this spec.
    pub spec: Option<String>,
}

/// `POST /api/v1/keys/{key}/schedule-deletion`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleDeletionRequest {
    /// Days until destruction, 7–30 (default 30).
    #[serde(default)]
    pub days: Option<u32>,
}

/// Query of `GET /api/v1/keys/{key}/public-key`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct PublicKeyQuery {
    /// The version (default: newest).
    pub version: Option<u32>,
}

/// A public key.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicKeyResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The version.
    pub version: u32,
    /// The spec.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub spec: KeySpec,
    /// The usage.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub usage: KeyUsage,
    /// SubjectPublicKeyInfo DER, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub public_key: Vec<u8>,
    /// The same as PEM.
    pub public_key_pem: String,
    /// Signing algorithms.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub signing_algorithms: Vec<SigningAlgorithm>,
    /// Encryption algorithms.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub encryption_algorithms: Vec<EncryptionAlgorithm>,
}

impl From<&PublicKeyInfo> for PublicKeyResponse {
    fn from(p: &PublicKeyInfo) -> Self {
        Self {
            key_id: p.key_id,
            version: p.version,
            spec: p.spec,
            usage: p.usage,
            public_key: p.der.clone(),
            public_key_pem: pem("PUBLIC KEY", &p.der),
            signing_algorithms: p.signing_algorithms.clone(),
            encryption_algorithms: p.encryption_algorithms.clone(),
        }
    }
}

/// PEM armour of DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Parameters to import key material (BYOK).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportParametersResponse {
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
    /// The single-use token to send back with the material.
    pub import_token: String,
    /// RSA-4096 wrapping public key, SPKI DER, base64.
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub wrapping_public_key: Vec<u8>,
    /// `RSA_AES_KEY_WRAP_SHA_256`.
    pub wrapping_algorithm: String,
    /// When the token expires (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub expires_at: OffsetDateTime,
}

impl From<ImportParameters> for ImportParametersResponse {
    fn from(p: ImportParameters) -> Self {
        Self {
            key_id: p.key_id,
            import_token: p.import_token,
            wrapping_public_key: p.wrapping_public_key,
            wrapping_algorithm: p.wrapping_algorithm,
            expires_at: p.expires_at,
        }
    }
}

/// `POST /api/v1/keys/{key}/import`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportKeyMaterialRequest {
    /// The token from the import parameters.
    pub import_token: String,
    /// The wrapped material, base64 (it is encrypted, so not secret on the wire).
    #[serde(with = "crate::b64")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Byte))]
    pub wrapped_material: Vec<u8>,
}

/// An alias and its key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AliasInfo {
    /// `alias/NAME`.
    pub alias: String,
    /// The key.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub key_id: KeyId,
}

/// A list of aliases.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AliasList {
    /// The aliases.
    pub aliases: Vec<AliasInfo>,
}

/// `POST /api/v1/aliases`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAliasRequest {
    /// `alias/NAME` or `NAME`.
    pub alias: String,
    /// The key it names (id or alias).
    pub key: String,
}

/// `PUT /api/v1/aliases/{alias}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAliasRequest {
    /// The key it should name.
    pub key: String,
}

/// Query of `GET /api/v1/aliases`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct ListAliasesQuery {
    /// Only aliases of this key.
    pub key: Option<String>,
}

impl From<KeyInfo> for KeyMetadata {
    fn from(k: KeyInfo) -> Self {
        KeyMetadata {
            key_id: k.key_id,
            aliases: k.aliases,
            description: k.description,
            tags: k.tags,
            spec: k.spec,
            usage: k.usage,
            state: k.state,
            origin: k.origin,
            current_version: k.current_version,
            min_decryption_version: k.min_decryption_version,
            created_at: k.created_at,
            rotated_at: k.rotated_at,
            rotation_period_days: k.rotation_period_days,
            next_rotation_at: k.next_rotation_at,
            deletion_date: k.deletion_date,
            backend: k.backend,
        }
    }
}
