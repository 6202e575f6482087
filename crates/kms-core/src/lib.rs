//! # kms-core
//!
//! The joint of the KMS: domain types, the [`KmsBackend`] trait every key
//! backend implements, the [`KmsManager`] facade that checks the key-state ×
//! operation table before every call, typed errors with an [`ErrorKind`],
//! secret types that zeroize and never print, and the crypto the embedded
//! store performs (on aws-lc-rs).
//!
//! Time and randomness are injected ([`Clock`], [`Rng`]) so that rotation
//! and deletion windows are testable without waiting.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod backend;
pub mod ciphertext;
pub mod clock;
pub mod context;
pub mod crypto;
pub mod error;
pub mod key;
pub mod manager;
pub mod operation;
pub mod rng;
pub mod secret;
pub mod spec;
pub mod types;

pub use backend::{BackendStatus, Capabilities, KmsBackend};
pub use clock::{Clock, ManualClock, SystemClock};
pub use context::EncryptionContext;
pub use error::{Error, ErrorKind, Result};
pub use key::{AliasName, KeyId, KeyMetadata, KeyOrigin, KeyRef, KeyState};
pub use manager::{KmsManager, ResolvedKey};
pub use operation::Operation;
pub use rng::{InsecureDeterministicRng, Rng, SystemRng};
pub use secret::{DataKey, KeyMaterial, Passphrase, Plaintext, PrivateKey};
pub use spec::{
    DataKeyPairSpec, DataKeySpec, EncryptionAlgorithm, KeySpec, KeyUsage, MacAlgorithm,
    MessageType, SigningAlgorithm,
};

/// The most plaintext one direct symmetric encryption takes (64 KiB); larger
/// data goes through envelope encryption (`kms encrypt-file`).
pub const MAX_SYMMETRIC_PLAINTEXT: usize = 64 * 1024;

/// The most bytes `generate_random` and a data key of explicit length give.
pub const MAX_RANDOM_BYTES: usize = 1024;
