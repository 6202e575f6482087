//! # kms-client
//!
//! A typed client of the KMS server's native API (`/api/v1/...`), its seed
//! API and its admin endpoints, on reqwest with rustls. Errors keep the
//! server's code (`not_found`, `permission_denied`, …) and map back to a
//! [`kms_core::ErrorKind`] so that callers (the CLI) can report them the
//! same way as local errors.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kms_client::Error> {
//! let kms = kms_client::Client::builder("http://127.0.0.1:8082")
//!     .token("kms_…")
//!     .build()?;
//! let ct = kms.encrypt("alias/default", b"secret", None).await?;
//! let pt = kms.decrypt(&ct.ciphertext, None, None).await?;
//! assert_eq!(pt.plaintext.expose_secret(), b"secret");
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod client;
mod error;

pub use backend::RemoteBackend;
pub use client::{Client, ClientBuilder};
pub use error::Error;
pub use kms_proto as proto;
