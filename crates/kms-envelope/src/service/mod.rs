//! [`EncryptionService`]: encrypt and decrypt streams (async over tokio
//! `AsyncRead`/`AsyncWrite`, or blocking over `std::io`), rewrap a file's
//! header, inspect a file. Memory stays constant whatever the stream's size.

mod decrypt;
mod detect;
mod encrypt;
mod inspect;
mod open;
mod rewrap;

use std::sync::Arc;

use kms_core::{EncryptionContext, KmsManager, Rng, SystemRng};
use tokio::io::{AsyncRead, AsyncWrite};

pub use inspect::{FileInfo, RecipientInfo};
pub use rewrap::{RewrapChange, RewrapSummary};

use crate::error::{Error, Result};
use crate::io::{SyncReader, SyncWriter};
use crate::recipient::{Identity, Recipient};
use crate::stream::{PayloadSummary, Progress};

/// The file format to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum FileFormat {
    /// The KMS envelope format (`docs/envelope-format.md`).
    #[default]
    Kms,
    /// A real age v1 file (age recipients or one passphrase; no context, no threshold).
    Age,
}

/// Who a file is encrypted to.
#[derive(Debug, Default)]
pub struct Recipients {
    /// The recipients; with no threshold, any one opens the file.
    pub list: Vec<Recipient>,
    /// `Some(k)`: each recipient gets one Shamir share and any `k` open the file.
    pub threshold: Option<u8>,
}

impl Recipients {
    /// Any one of `list` opens the file.
    pub fn any_of(list: Vec<Recipient>) -> Self {
        Self {
            list,
            threshold: None,
        }
    }
}

/// How to write an encrypted file.
#[derive(Clone, Default)]
pub struct EncryptOptions {
    /// ASCII armor.
    pub armor: bool,
    /// The format.
    pub format: FileFormat,
    /// Told the input bytes read so far.
    pub progress: Option<Progress>,
}

impl core::fmt::Debug for EncryptOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EncryptOptions")
            .field("armor", &self.armor)
            .field("format", &self.format)
            .finish()
    }
}

/// How to read an encrypted file.
#[derive(Clone, Default)]
pub struct DecryptOptions {
    /// Told the input bytes read so far.
    pub progress: Option<Progress>,
}

impl core::fmt::Debug for DecryptOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("DecryptOptions")
    }
}

/// What encrypting or decrypting a stream did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StreamSummary {
    /// The format read or written.
    pub format: FileFormat,
    /// Plaintext bytes.
    pub plaintext_bytes: u64,
    /// Payload chunks (0 for age files, whose chunks the age crate handles).
    pub chunks: u64,
}

impl StreamSummary {
    fn kms(p: PayloadSummary) -> Self {
        Self {
            format: FileFormat::Kms,
            plaintext_bytes: p.plaintext_bytes,
            chunks: p.chunks,
        }
    }
}

/// Envelope encryption of streams and files.
#[derive(Debug, Clone)]
pub struct EncryptionService {
    kms: Option<KmsManager>,
    rng: Arc<dyn Rng>,
    threads: usize,
    runtime: Option<tokio::runtime::Handle>,
}

impl Default for EncryptionService {
    fn default() -> Self {
        Self::new(None)
    }
}

impl EncryptionService {
    /// A service; `kms` wraps and unwraps KMS-key stanzas. Inside a tokio
    /// runtime, its handle is kept for the blocking methods.
    pub fn new(kms: Option<KmsManager>) -> Self {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(8);
        Self {
            kms,
            rng: Arc::new(SystemRng),
            threads,
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Uses another random source (tests and fuzzing).
    pub fn with_rng(mut self, rng: Arc<dyn Rng>) -> Self {
        self.rng = rng;
        self
    }

    /// Uses `n` crypto threads (default: one per core, at most 8).
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// Runs the blocking methods' KMS calls on this runtime.
    pub fn with_runtime(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = Some(handle);
        self
    }

    /// The KMS, if any.
    pub fn kms(&self) -> Option<&KmsManager> {
        self.kms.as_ref()
    }

    /// Encrypts `reader` to `writer` for `recipients`, binding `context`.
    pub async fn encrypt_stream<R, W>(
        &self,
        reader: R,
        writer: W,
        recipients: &Recipients,
        context: &EncryptionContext,
        options: &EncryptOptions,
    ) -> Result<StreamSummary>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        encrypt::run(self, reader, writer, recipients, context, options).await
    }

    /// Decrypts `reader` (a KMS envelope file, armored or not, or an age
    /// file) to `writer`. Each chunk is authenticated before it is written;
    /// an error means the output is incomplete and must be discarded.
    pub async fn decrypt_stream<R, W>(
        &self,
        reader: R,
        writer: W,
        identities: &[Identity],
        context: &EncryptionContext,
        options: &DecryptOptions,
    ) -> Result<StreamSummary>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        decrypt::run(self, reader, writer, identities, context, options).await
    }

    /// Rewrites the header of an envelope file (adds or removes a recipient,
    /// moves KMS-key stanzas to the keys' newest versions); the payload is
    /// copied byte for byte. The file must open with `identities` or the KMS.
    pub async fn rewrap_stream<R, W>(
        &self,
        reader: R,
        writer: W,
        identities: &[Identity],
        context: &EncryptionContext,
        change: &RewrapChange,
    ) -> Result<RewrapSummary>
    where
        R: AsyncRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        rewrap::run(self, reader, writer, identities, context, change).await
    }

    /// Describes a file without decrypting it (no secrets needed or shown).
    pub async fn inspect_stream<R: AsyncRead + Unpin>(&self, reader: R) -> Result<FileInfo> {
        inspect::run(reader).await
    }

    /// [`Self::encrypt_stream`] over blocking `std::io`. The work runs on a
    /// fresh thread; KMS calls go to the runtime kept by [`Self::new`] or
    /// [`Self::with_runtime`]. Do not call it from the thread that drives a
    /// current-thread runtime whose KMS connections it needs (use the async
    /// method there, or `spawn_blocking`).
    pub fn encrypt_blocking<R, W>(
        &self,
        reader: R,
        writer: W,
        recipients: &Recipients,
        context: &EncryptionContext,
        options: &EncryptOptions,
    ) -> Result<StreamSummary>
    where
        R: std::io::Read + Unpin + Send,
        W: std::io::Write + Unpin + Send,
    {
        self.block_on(self.encrypt_stream(
            SyncReader(reader),
            SyncWriter(writer),
            recipients,
            context,
            options,
        ))
    }

    /// [`Self::decrypt_stream`] over blocking `std::io`.
    pub fn decrypt_blocking<R, W>(
        &self,
        reader: R,
        writer: W,
        identities: &[Identity],
        context: &EncryptionContext,
        options: &DecryptOptions,
    ) -> Result<StreamSummary>
    where
        R: std::io::Read + Unpin + Send,
        W: std::io::Write + Unpin + Send,
    {
        self.block_on(self.decrypt_stream(
            SyncReader(reader),
            SyncWriter(writer),
            identities,
            context,
            options,
        ))
    }

    /// Runs a future to completion on a fresh thread: on the kept runtime's
    /// handle (whose drivers serve the KMS's connections) or on a private
    /// current-thread runtime. A fresh thread is never inside a runtime, so
    /// this cannot trip tokio's nested-runtime check; the caller's thread
    /// only waits.
    fn block_on<F: std::future::Future<Output = Result<T>> + Send, T: Send>(
        &self,
        fut: F,
    ) -> Result<T> {
        let handle = self.runtime.clone();
        std::thread::scope(|s| {
            let joined = s
                .spawn(move || match handle {
                    Some(h) => h.block_on(fut),
                    None => tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .map_err(|source| Error::Io {
                            what: "cannot start a runtime",
                            source,
                        })?
                        .block_on(fut),
                })
                .join();
            joined.unwrap_or(Err(Error::Internal("the envelope thread panicked")))
        })
    }

    pub(crate) fn rng(&self) -> &dyn Rng {
        self.rng.as_ref()
    }

    pub(crate) fn pool(&self) -> Result<crate::stream::CryptoPool> {
        crate::stream::CryptoPool::new(self.threads)
    }
}
