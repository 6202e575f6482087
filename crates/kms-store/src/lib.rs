//! # kms-store
//!
//! The embedded keystore: the `local` backend. Keys live in SQLite (WAL,
//! the default) or PostgreSQL (several stateless server nodes on one
//! database). Every key material is sealed with AES-256-GCM under a root
//! key bound to its key id, version and spec; the root key is itself
//! sealed under a key derived from a passphrase (Argon2id, parameters
//! stored) or read from a key file. The database never holds plaintext key
//! bytes.
//!
//! ```no_run
//! # async fn demo() -> kms_core::Result<()> {
//! use std::sync::Arc;
//! use kms_core::{KmsManager, KeySpec, KeyRef, EncryptionContext, SystemRng};
//! use kms_core::types::CreateKeyRequest;
//! use kms_store::{LocalBackend, StoreOptions, Unseal, KdfParams, sqlite_url};
//!
//! let unseal = Unseal::Passphrase(kms_core::Passphrase::new("correct horse".into()));
//! let opts = StoreOptions::new(sqlite_url(std::path::Path::new("/tmp/kms.db")));
//! let store = LocalBackend::init(opts, &unseal, KdfParams::default()).await?;
//! let kms = KmsManager::new(store, Arc::new(SystemRng));
//! let key = kms.create_key(CreateKeyRequest::new(KeySpec::Aes256)).await?;
//! let ctx = EncryptionContext::parse("env=prod")?;
//! let ct = kms.encrypt(&KeyRef::Id(key.key_id), b"secret", &ctx).await?;
//! let pt = kms.decrypt(&ct.ciphertext, &ctx, None).await?;
//! assert_eq!(pt.plaintext.expose_secret(), b"secret");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audit;
mod audit_sqlite;
pub mod audited;
mod backend;
mod cache;
mod checkpoint;
mod db;
mod kms_backend;
mod nonce;
mod op;
mod options;
pub mod policy;
mod rows;
mod seal;
pub mod tokens;

pub use audit::{AuditEvent, AuditFilter, AuditHead, AuditRecord, AuditVerification};
pub use audit_sqlite::SqliteAuditAppender;
pub use audited::{AuditScope, AuditedBackend, Subject};
pub use backend::LocalBackend;
pub use db::Dialect;
pub use options::{StoreOptions, redact_url, sqlite_url};
pub use policy::{AccessRequest, Policy, PolicyRule, ROOT_POLICY};
pub use seal::{KdfParams, Unseal, generate_key_file};
pub use tokens::{TokenRecord, hash_token};
