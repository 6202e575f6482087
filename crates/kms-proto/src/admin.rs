//! Tokens, policies and audit records (`/api/v1/auth/...`, `/api/v1/audit`).

use serde::{Deserialize, Serialize};

use crate::b64::SecretText;

/// A rule of a policy: which operations on which keys, and which
/// encryption-context keys the request must carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyRuleWire {
    /// Operation names (`encrypt`, `create_key`, `token_create`, …) or `*`.
    pub operations: Vec<String>,
    /// Key patterns: ids, `alias/NAME`, globs with `*` and `?`. Default `["*"]`.
    #[serde(default = "star")]
    pub keys: Vec<String>,
    /// Encryption-context keys every request under this rule must carry.
    #[serde(default)]
    pub require_context_keys: Vec<String>,
}

fn star() -> Vec<String> {
    vec!["*".into()]
}

/// A policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyWire {
    /// Its name.
    pub name: String,
    /// The rules; a request is allowed when one rule allows it.
    pub rules: Vec<PolicyRuleWire>,
}

/// A list of policies.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyList {
    /// The policies.
    pub policies: Vec<PolicyWire>,
}

/// `POST /api/v1/auth/tokens`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateTokenRequest {
    /// Who the token is for (shown in audit records).
    pub principal: String,
    /// Policy names.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Lifetime in seconds (default: no expiry).
    #[serde(default)]
    pub ttl_seconds: Option<u64>,
}

/// A token's public description (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    /// The token's id (an accessor: it names the token but does not authenticate).
    pub id: String,
    /// Who the token is for.
    pub principal: String,
    /// Its policies.
    pub policies: Vec<String>,
    /// When created (RFC 3339).
    pub created_at: String,
    /// When it expires, if ever.
    pub expires_at: Option<String>,
    /// When revoked, if so.
    pub revoked_at: Option<String>,
}

/// A new token: the only time the secret is shown.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedTokenWire {
    /// The secret token; send it as `Authorization: Bearer …`.
    pub token: SecretText,
    /// Its description.
    pub info: TokenInfo,
}

/// A list of tokens.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenList {
    /// The tokens.
    pub tokens: Vec<TokenInfo>,
}

/// One audit record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditRecordWire {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When (RFC 3339).
    pub time: String,
    /// Who.
    pub principal: String,
    /// What.
    pub operation: String,
    /// `key`, `token`, `policy`, `store`.
    pub entity_type: String,
    /// The entity's id.
    pub entity_id: String,
    /// The key version, when one was used.
    pub key_version: Option<u32>,
    /// `ok`, `denied` or `error:<code>`.
    pub outcome: String,
    /// The request's `x-request-id`.
    pub request_id: String,
    /// The caller's address.
    pub source: String,
    /// How many items of the request the record stands for: 1, or the
    /// number of batch items that shared key, version and outcome.
    #[serde(default = "one")]
    pub items: u32,
    /// SHA-256 chain hash, hex.
    pub hash: String,
}

fn one() -> u32 {
    1
}

/// A page of audit records.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditList {
    /// The records, oldest first.
    pub records: Vec<AuditRecordWire>,
}

/// Query of `GET /api/v1/audit`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams, utoipa::ToSchema))]
pub struct AuditQuery {
    /// Only records after this sequence number.
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only this entity id.
    pub entity_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only records at or after this time (RFC 3339, e.g. `2026-01-01T00:00:00Z`).
    pub since: Option<String>,
    /// Only records before this time (RFC 3339).
    pub until: Option<String>,
}

/// The result of verifying the audit chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditVerifyResponse {
    /// Whether the whole chain is intact.
    pub ok: bool,
    /// Records checked.
    pub records: u64,
    /// The first bad record's sequence number.
    pub first_bad_seq: Option<i64>,
    /// Why it is bad.
    pub reason: Option<String>,
}
