//! Seal state (`/api/v1/sys/...`).

use serde::{Deserialize, Serialize};

use crate::b64::SecretText;

/// `GET /api/v1/sys/seal-status` and the answer to seal and unseal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealStatus {
    /// Whether the store is sealed.
    pub sealed: bool,
    /// The backend.
    pub backend: String,
}

/// `POST /api/v1/sys/unseal`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnsealRequestWire {
    /// The store passphrase.
    pub passphrase: SecretText,
}
