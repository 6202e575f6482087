//! Injected randomness. Production code takes a `&dyn Rng`; tests and fuzzing
//! may pass a deterministic one.

use crate::error::{Error, Result};

/// A cryptographically secure random source.
pub trait Rng: Send + Sync + core::fmt::Debug {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]) -> Result<()>;
}

/// The operating system's generator, through aws-lc.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, dest: &mut [u8]) -> Result<()> {
        aws_lc_rs::rand::fill(dest).map_err(|_| Error::Internal("random generator failed".into()))
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
