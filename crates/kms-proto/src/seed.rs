//! The seed API (`/api/v1/kms/...`), exactly as seed 001 shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::b64::SecretBytes;

/// `POST /api/v1/kms/encrypt`.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedEncryptRequestWire {
    /// The plaintext, base64.
    pub plaintext: SecretBytes,
    /// The encryption context, `k=v,k=v` (optional).
    #[serde(default)]
    pub context: Option<String>,
}

/// Answer to seed encrypt.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedEncryptResponse {
    /// The ciphertext, `kms:v1:…`.
    pub ciphertext: String,
}

/// `POST /api/v1/kms/decrypt`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedDecryptRequest {
    /// The ciphertext as encrypt returned it.
    pub ciphertext: String,
    /// The encryption context given to encrypt.
    #[serde(default)]
    pub context: Option<String>,
}

/// Answer to seed decrypt.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedDecryptResponseWire {
    /// The plaintext, base64.
    pub plaintext: SecretBytes,
}

/// `POST /api/v1/kms/generate-key`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedGenerateKeyRequest {
    /// `AES_256` (default) or `AES_128`.
    #[serde(default)]
    pub key_spec: Option<String>,
}

/// Answer to seed generate-key: a data key in clear and wrapped.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedGenerateKeyResponseWire {
    /// The data key, base64.
    pub plaintext: SecretBytes,
    /// The data key encrypted under the default key, `kms:v1:…`.
    pub ciphertext: String,
}

/// `GET /api/v1/kms/status`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeedStatus {
    /// The backend's name.
    pub backend: String,
    /// Whether it answers.
    pub available: bool,
    /// Whether the key store is sealed.
    pub sealed: bool,
    /// Successful operations served by this process, by operation name.
    pub operations: BTreeMap<String, u64>,
    /// The sum of `operations`.
    pub operation_count: u64,
    /// The key used by the seed API.
    pub default_key: String,
}

/// `GET /api/v1/kms/health`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `healthy`, or `sealed` when the store waits for its passphrase.
    pub status: String,
    /// The server version.
    pub version: String,
}
