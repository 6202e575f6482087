//! # kms-envelope
//!
//! Envelope encryption of files and streams, in one documented, versioned
//! format (`docs/envelope-format.md`): a random file key, wrapped once per
//! recipient (a key of any KMS backend, an age X25519 recipient, a
//! passphrase; or one Shamir share each for a k-of-n threshold), a header MAC
//! keyed from the file key that also binds the encryption context, then the
//! payload in 64 KiB AES-256-GCM chunks with age's STREAM nonces, so
//! truncation, reordering and appended data are detected.
//!
//! Streams run in constant memory and seal chunks on all cores. The same
//! service writes and reads real age v1 files (`FileFormat::Age`).
//!
//! ```no_run
//! # async fn demo(kms: kms_core::KmsManager) -> kms_envelope::Result<()> {
//! use kms_core::{EncryptionContext, KeyRef};
//! use kms_envelope::{EncryptOptions, DecryptOptions, EncryptionService, Recipient, Recipients};
//!
//! let service = EncryptionService::new(Some(kms));
//! let to = Recipients::any_of(vec![
//!     Recipient::KmsKey(KeyRef::parse("alias/default")?),
//!     Recipient::parse("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")?,
//! ]);
//! let ctx = EncryptionContext::parse("env=prod")?;
//! let mut sealed = Vec::new();
//! service.encrypt_stream(&b"hello"[..], &mut sealed, &to, &ctx, &EncryptOptions::default()).await?;
//! let mut plain = Vec::new();
//! service.decrypt_stream(&sealed[..], &mut plain, &[], &ctx, &DecryptOptions::default()).await?;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod age_format;
mod armor;
pub mod crypto;
pub mod error;
pub mod format;
pub mod fuzzing;
pub mod io;
pub mod output;
pub mod recipient;
pub mod secret;
mod service;
pub mod stream;
pub mod threshold;

pub use error::{Error, Result};
pub use recipient::{AgeIdentity, AgeRecipient, Identity, Recipient};
pub use secret::{FileKey, WrappedSecret};
pub use service::{
    DecryptOptions, EncryptOptions, EncryptionService, FileFormat, FileInfo, RecipientInfo,
    Recipients, RewrapChange, RewrapSummary, StreamSummary,
};
pub use stream::{PayloadSummary, Progress};

impl From<kms_core::Error> for Error {
    fn from(e: kms_core::Error) -> Self {
        Error::invalid("argument", e.to_string())
    }
}
