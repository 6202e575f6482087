//! The payload pipeline: chunks are read in batches, sealed or opened on a
//! small pool of threads (bounded in flight, so memory stays constant
//! whatever the file size), and written in order.

mod buffer;
mod payload;
mod pool;
mod sink;
mod source;

pub use payload::PayloadSummary;
pub(crate) use payload::{decrypt_payload, encrypt_payload};
pub(crate) use pool::CryptoPool;
pub(crate) use sink::Sink;
pub(crate) use source::Source;

/// A callback told the number of input bytes processed so far.
pub type Progress = std::sync::Arc<dyn Fn(u64) + Send + Sync>;
