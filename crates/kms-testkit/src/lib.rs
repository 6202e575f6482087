//! # kms-testkit
//!
//! The contract every [`kms_core::KmsBackend`] must keep, run through the
//! [`kms_core::KmsManager`] facade: the key-state × operation table,
//! rotation, re-encryption, context mismatch and tampering. Each backend's
//! `tests/contract.rs` calls [`contract::run`] with a factory of fresh
//! managers. Operations a backend does not declare in its capabilities are
//! checked to be refused with `Unsupported`, not skipped.
#![forbid(unsafe_code)]
// Test support: a failed expectation is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

pub mod contract;
pub mod peers;
