//! # kms-proto
//!
//! The JSON wire types of the KMS HTTP API, shared by `kms-server` and
//! `kms-client`. Byte fields are standard base64. Types that carry secrets
//! (plaintext, data keys, private keys, random bytes, tokens, passphrases)
//! are the explicit `*Wire` types: they hold their bytes in zeroizing
//! buffers, print a redaction from `Debug` and are not `Clone`.
//!
//! With the `openapi` feature every type derives `utoipa::ToSchema`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod admin;
pub mod b64;
pub mod batch;
pub mod context;
pub mod crypto;
pub mod error;
pub mod keys;
pub mod seed;
pub mod sys;

pub use b64::SecretBytes;
pub use context::ContextWire;
pub use error::ErrorBody;
