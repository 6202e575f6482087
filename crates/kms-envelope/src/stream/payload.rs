//! Sealing and opening the payload: age's STREAM over AES-256-GCM.
//!
//! Chunk `i` (64 KiB of plaintext, the last one shorter and non-empty unless
//! the whole payload is empty) is sealed with nonce `i` as an 11-byte
//! big-endian counter followed by a flag byte, 1 for the last chunk. So a
//! truncated file (no chunk carries the flag), reordered chunks (wrong
//! counter) and appended data (something after the flagged chunk) all fail.
//!
//! The driver reads a batch of chunks, hands it to the pool and writes
//! finished batches in order; at most `2 × threads + 1` batches are in
//! flight. To know whether a full chunk is the last, it peeks one byte
//! past each full batch.

use std::collections::VecDeque;
use std::sync::Arc;

use ring::aead::{Aad, LessSafeKey};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::sync::oneshot;

use super::Progress;
use super::buffer::ChunkBuf;
use super::pool::CryptoPool;
use super::sink::Sink;
use crate::crypto::{TAG_LEN, chunk_nonce};
use crate::error::{Error, Result};
use crate::format::{CHUNK_SIZE, SEALED_CHUNK_SIZE};

/// Chunks per batch (1 MiB of plaintext).
const BATCH_CHUNKS: usize = 16;

/// What a payload pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct PayloadSummary {
    /// Plaintext bytes.
    pub plaintext_bytes: u64,
    /// Chunks.
    pub chunks: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Seal,
    Open,
}

impl Direction {}

/// One batch: input bytes, output bytes, and where it sits in the stream.
struct Batch {
    input: ChunkBuf,
    output: ChunkBuf,
    in_len: usize,
    out_len: usize,
    first_index: u64,
    chunks: usize,
    /// The batch's last chunk is the stream's last.
    ends_stream: bool,
}

impl Batch {
    fn new(dir: Direction) -> Self {
        // Sealing works in place: the plaintext is read in one piece, its
        // chunks are spread to slots of the sealed size and each tag is
        // written after its chunk. Opening copies
        // each sealed chunk to a plaintext slot and opens it there, so the
        // sealed bytes stay intact to classify a failure; the last slot
        // needs the tag's room past the end.
        let output = match dir {
            Direction::Seal => ChunkBuf::new(0),
            Direction::Open => ChunkBuf::new(CHUNK_SIZE * BATCH_CHUNKS + TAG_LEN),
        };
        Self {
            input: ChunkBuf::new(SEALED_CHUNK_SIZE * BATCH_CHUNKS),
            output,
            in_len: 0,
            out_len: 0,
            first_index: 0,
            chunks: 0,
            ends_stream: false,
        }
    }

    fn seal(&mut self, key: &LessSafeKey) -> Result<()> {
        let buf = self.input.as_mut_slice();
        // The plaintext was read in one piece; spread the chunks to their
        // slots (last first, so nothing is overwritten before it moved),
        // leaving room for each tag.
        for c in (1..self.chunks).rev() {
            let n = (self.in_len - c * CHUNK_SIZE).min(CHUNK_SIZE);
            buf.copy_within(c * CHUNK_SIZE..c * CHUNK_SIZE + n, c * SEALED_CHUNK_SIZE);
        }
        let mut out_len = 0;
        for c in 0..self.chunks {
            let n = (self.in_len - c * CHUNK_SIZE).min(CHUNK_SIZE);
            let last = self.ends_stream && c + 1 == self.chunks;
            let slot = &mut buf[c * SEALED_CHUNK_SIZE..c * SEALED_CHUNK_SIZE + n + TAG_LEN];
            let nonce = chunk_nonce(self.first_index + c as u64, last);
            let tag = key
                .seal_in_place_separate_tag(nonce, Aad::empty(), &mut slot[..n])
                .map_err(|_| Error::Internal("AES-GCM seal failed"))?;
            slot[n..].copy_from_slice(tag.as_ref());
            out_len += n + TAG_LEN;
        }
        self.out_len = out_len;
        Ok(())
    }

    /// The bytes to write once the batch is done.
    fn done_bytes(&self, dir: Direction) -> &[u8] {
        match dir {
            Direction::Seal => &self.input.as_slice()[..self.out_len],
            Direction::Open => &self.output.as_slice()[..self.out_len],
        }
    }

    fn open(&mut self, key: &LessSafeKey) -> Result<()> {
        let input = self.input.as_slice();
        let output = self.output.as_mut_slice();
        let mut out_len = 0;
        for c in 0..self.chunks {
            let index = self.first_index + c as u64;
            let start = c * SEALED_CHUNK_SIZE;
            let end = (start + SEALED_CHUNK_SIZE).min(self.in_len);
            let sealed = &input[start..end];
            if sealed.len() < TAG_LEN {
                return Err(Error::Truncated);
            }
            let final_position = self.ends_stream && c + 1 == self.chunks;
            let slot = &mut output[c * CHUNK_SIZE..c * CHUNK_SIZE + sealed.len()];
            let n = sealed.len() - TAG_LEN;
            if open_into(key, index, final_position, sealed, slot) {
                if final_position && n == 0 && index > 0 {
                    return Err(Error::NonCanonicalPayload);
                }
                out_len += n;
                continue;
            }
            // Tell truncation and appended data from tampering: would the
            // chunk open with the other flag?
            let other = open_into(key, index, !final_position, sealed, slot);
            return Err(match (final_position, other) {
                (true, true) => Error::Truncated,
                (false, true) => Error::TrailingData,
                _ => Error::ChunkAuthenticationFailed { index },
            });
        }
        self.out_len = out_len;
        Ok(())
    }
}

/// Copies `sealed` into `slot` and opens it there; the input stays intact
/// for a second try.
fn open_into(key: &LessSafeKey, index: u64, last: bool, sealed: &[u8], slot: &mut [u8]) -> bool {
    slot.copy_from_slice(sealed);
    key.open_in_place(chunk_nonce(index, last), Aad::empty(), slot)
        .is_ok()
}

/// Reads until `buf` is full or the input ends.
async fn fill<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut [u8],
    carry: &mut Option<u8>,
) -> Result<usize> {
    let mut n = 0;
    if let Some(b) = carry.take() {
        buf[0] = b;
        n = 1;
    }
    while n < buf.len() {
        let k = r
            .read(&mut buf[n..])
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    Ok(n)
}

/// Whether the input is at its end; a byte read is kept in `carry`.
async fn at_eof<R: AsyncRead + Unpin>(r: &mut R, carry: &mut Option<u8>) -> Result<bool> {
    let mut b = [0u8; 1];
    let k = r
        .read(&mut b)
        .await
        .map_err(Error::io("cannot read the input"))?;
    if k == 0 {
        return Ok(true);
    }
    *carry = Some(b[0]);
    Ok(false)
}

/// Seals the plaintext of `reader` into `sink`.
pub(crate) async fn encrypt_payload<R, W>(
    reader: &mut R,
    sink: &mut Sink<W>,
    key: Arc<LessSafeKey>,
    pool: &CryptoPool,
    progress: Option<&Progress>,
) -> Result<PayloadSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    run(Direction::Seal, reader, sink, key, pool, progress).await
}

/// Opens the sealed payload of `reader` into `sink`.
pub(crate) async fn decrypt_payload<R, W>(
    reader: &mut R,
    sink: &mut Sink<W>,
    key: Arc<LessSafeKey>,
    pool: &CryptoPool,
    progress: Option<&Progress>,
) -> Result<PayloadSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    run(Direction::Open, reader, sink, key, pool, progress).await
}

async fn run<R, W>(
    dir: Direction,
    reader: &mut R,
    sink: &mut Sink<W>,
    key: Arc<LessSafeKey>,
    pool: &CryptoPool,
    progress: Option<&Progress>,
) -> Result<PayloadSummary>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let max_in_flight = pool.size() * 2 + 1;
    let mut queue: VecDeque<oneshot::Receiver<(Batch, Result<()>)>> = VecDeque::new();
    let mut free: Vec<Batch> = Vec::new();
    let mut carry = None;
    let mut index = 0u64;
    let mut consumed = 0u64;
    let mut summary = PayloadSummary::default();
    loop {
        let mut batch = free.pop().unwrap_or_else(|| Batch::new(dir));
        let (n, short) = match dir {
            Direction::Seal => {
                let cap = CHUNK_SIZE * BATCH_CHUNKS;
                let n = fill(reader, &mut batch.input.as_mut_slice()[..cap], &mut carry).await?;
                (n, n < cap)
            }
            Direction::Open => {
                let cap = batch.input.as_slice().len();
                let n = fill(reader, batch.input.as_mut_slice(), &mut carry).await?;
                (n, n < cap)
            }
        };
        let eof = short || at_eof(reader, &mut carry).await?;
        let mut chunks = match dir {
            Direction::Seal => n.div_ceil(CHUNK_SIZE),
            Direction::Open => n.div_ceil(SEALED_CHUNK_SIZE),
        };
        if chunks == 0 {
            match dir {
                // No payload at all (later batches always hold the peeked byte).
                Direction::Open => return Err(Error::Truncated),
                // The empty final chunk of an empty payload.
                Direction::Seal => chunks = 1,
            }
        }
        consumed += n as u64;
        batch.in_len = n;
        batch.chunks = chunks;
        batch.first_index = index;
        batch.ends_stream = eof;
        index += chunks as u64;
        let key = Arc::clone(&key);
        queue.push_back(pool.run(move || {
            let r = match dir {
                Direction::Seal => batch.seal(&key),
                Direction::Open => batch.open(&key),
            };
            (batch, r)
        }));
        while queue.len() >= max_in_flight || (eof && !queue.is_empty()) {
            let Some(rx) = queue.pop_front() else { break };
            let (done, result) = rx
                .await
                .map_err(|_| Error::Internal("a crypto thread failed"))?;
            result?;
            sink.write_all(done.done_bytes(dir)).await?;
            if dir == Direction::Seal {
                summary.plaintext_bytes += done.in_len as u64;
            } else {
                summary.plaintext_bytes += done.out_len as u64;
            }
            summary.chunks += done.chunks as u64;
            if let Some(p) = progress {
                p(consumed);
            }
            free.push(done);
        }
        if eof {
            return Ok(summary);
        }
    }
}
