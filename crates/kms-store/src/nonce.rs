//! Random AES-GCM nonces, drawn from the injected generator 4 KiB at a time.
//! One call into the system generator costs about as much as sealing a small
//! message; drawing in batches makes a nonce cost a copy. Nonces are public,
//! so holding future ones in memory exposes nothing.

use std::sync::{Arc, Mutex};

use kms_core::{Result, Rng};

const BATCH: usize = 4096;
const NONCE: usize = 12;

/// A batched source of 12-byte random nonces.
#[derive(Debug)]
pub(crate) struct NonceSource {
    rng: Arc<dyn Rng>,
    state: Mutex<(Box<[u8; BATCH]>, usize)>,
}

impl NonceSource {
    pub(crate) fn new(rng: Arc<dyn Rng>) -> Self {
        Self {
            rng,
            // Start "used up" so the first call fills from the generator.
            state: Mutex::new((Box::new([0u8; BATCH]), BATCH)),
        }
    }

    /// The next nonce.
    pub(crate) fn next(&self) -> Result<[u8; NONCE]> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (buf, pos) = &mut *guard;
        if *pos + NONCE > BATCH {
            self.rng.fill(&mut buf[..])?;
            *pos = 0;
        }
        let mut out = [0u8; NONCE];
        out.copy_from_slice(&buf[*pos..*pos + NONCE]);
        *pos += NONCE;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_do_not_repeat_across_batches() {
        let src = NonceSource::new(Arc::new(kms_core::SystemRng));
        let mut seen = std::collections::HashSet::new();
        for _ in 0..(3 * BATCH / NONCE) {
            assert!(seen.insert(src.next().unwrap()));
        }
    }
}
