//! The handlers, one file per area. Each is thin: extract → authorize, run
//! and audit through [`crate::AppState::run`] → map to a wire type.

pub mod admin;
pub mod aliases;
pub mod batch;
pub mod crypto;
pub mod keys;
pub mod mac;
pub mod same_key;
pub mod seed;
pub mod signing;
pub mod sys;

use kms_core::{AliasName, Error, KeyRef};
use kms_proto::ErrorBody;

/// The error answers every operation documents (`{"error": code, "message":
/// text}`, see [`crate::error`]): any 4xx, and 503 while the store is
/// sealed or the database or the audit log is down.
#[derive(Debug, utoipa::IntoResponses)]
pub enum ApiErrors {
    /// Refused; the `error` code says why (`invalid_input`, `not_found`, …).
    #[response(status = "4XX")]
    Refused(ErrorBody),
    /// The store is sealed, or the database or the audit log is down.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// Parses a key reference; a bare name that is not an id is taken as an alias
/// (`default` → `alias/default`).
pub fn key_ref(s: &str) -> kms_core::Result<KeyRef> {
    KeyRef::parse(s).or_else(|e| AliasName::parse(s).map(KeyRef::Alias).map_err(|_| e))
}

/// A required key field.
pub fn required_key(s: Option<&str>, field: &'static str) -> kms_core::Result<KeyRef> {
    key_ref(s.ok_or_else(|| Error::invalid(field, "is required"))?)
}

/// A required field.
pub fn required<T>(v: Option<T>, field: &'static str) -> kms_core::Result<T> {
    v.ok_or_else(|| Error::invalid(field, "is required (or send batch_input)"))
}

/// Parses an optional enum-like field (`AES_256`, `RAW`, …).
pub fn parse_opt<T>(v: Option<&str>) -> kms_core::Result<Option<T>>
where
    T: core::str::FromStr<Err = Error>,
{
    v.map(str::parse).transpose()
}

/// The `kms:v1:` text of ciphertext bytes.
pub fn ct_text(bytes: &[u8]) -> String {
    kms_core::ciphertext::to_text(bytes)
}

/// Ciphertext bytes from `kms:v1:` text.
pub fn ct_bytes(text: &str) -> kms_core::Result<Vec<u8>> {
    kms_core::ciphertext::from_text(text)
}
