//! Injected randomness. Production code takes a `&dyn Rng`; tests and fuzzing
//! may pass a deterministic one.

use crate::error::{Error, Result};

/// A cryptographically secure random source.
pub trait Rng: Send + Sync + core::fmt::Debug {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<()>;
}

/// The operating system's generator (`getrandom(2)` on Linux), as `age`
/// and `openssl rand` use. Not aws-lc's: its generator seeds itself from a
/// CPU-jitter entropy collector on first use, which costs about 40 ms of CPU
/// per process — most of a short `kms` command. Callers that need many
/// small values draw in batches (see the store's nonce source).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        getrandom::fill(dest).map_err(|e| Error::Internal(format!("random generator failed: {e}")))
    }
}

/// A deterministic generator for tests and fuzzing only: SHA-256 in counter
/// mode over a seed. Never use it for real keys.
#[derive(Debug)]
pub struct InsecureDeterministicRng {
    seed: [u8; 32],
    counter: std::sync::atomic::AtomicU64,
}

impl InsecureDeterministicRng {
    /// A generator that always yields the same stream for the same seed.
    pub fn new(seed: u64) -> Self {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_be_bytes());
        Self {
            seed: s,
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }
}

impl Rng for InsecureDeterministicRng {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        use aws_lc_rs::digest::{SHA256, digest};
        for chunk in dest.chunks_mut(32) {
            let n = self
                .counter
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let mut input = self.seed.to_vec();
            input.extend_from_slice(&n.to_be_bytes());
            let d = digest(&SHA256, &input);
            chunk.copy_from_slice(&d.as_ref()[..chunk.len()]);
        }
        Ok(())
    }
}
