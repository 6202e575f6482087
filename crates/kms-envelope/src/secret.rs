//! Secret types of the envelope: the file key, a wrapped secret (the file
//! key or one Shamir share) and the payload key. They zeroize on drop and
//! their `Debug` is a redaction.

use core::fmt;

use zeroize::{Zeroize, Zeroizing};

/// Length of the file key in bytes.
pub const FILE_KEY_LEN: usize = 32;

/// The random key of one file. Every recipient stanza wraps it (or one share
/// of it); the header MAC key and the payload key are derived from it.
pub struct FileKey(Box<[u8; FILE_KEY_LEN]>);

impl FileKey {
    /// Fills a new key in place from the random source.
    pub fn generate(rng: &dyn kms_core::Rng) -> crate::Result<Self> {
        let mut k = Box::new([0u8; FILE_KEY_LEN]);
        rng.fill(&mut k[..])
            .map_err(|_| crate::Error::Internal("random generator failed"))?;
        Ok(Self(k))
    }

    /// From bytes that must be exactly 32 long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let mut k = Box::new([0u8; FILE_KEY_LEN]);
        if bytes.len() != FILE_KEY_LEN {
            return None;
        }
        k.copy_from_slice(bytes);
        Some(Self(k))
    }

    /// The key bytes. Callers must not log or persist them.
    pub fn expose_secret(&self) -> &[u8; FILE_KEY_LEN] {
        &self.0
    }
}

impl Drop for FileKey {
    #[inline(never)]
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for FileKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

/// What one stanza wraps: the file key, or one Shamir share of it.
pub struct WrappedSecret(Zeroizing<Vec<u8>>);

impl WrappedSecret {
    /// Wraps bytes; they are zeroized on drop.
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }

    /// Copies bytes.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(Zeroizing::new(bytes.to_vec()))
    }

    /// The secret bytes. Callers must not log or persist them.
    pub fn expose_secret(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for WrappedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WrappedSecret(<redacted {} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_secret_types_shows_no_bytes() {
        let k = FileKey::from_slice(&[0x41; 32]).unwrap();
        let s = WrappedSecret::from_slice(&[0x41; 33]);
        for out in [format!("{k:?}"), format!("{s:?}")] {
            assert!(out.contains("redacted"), "{out}");
            assert!(
                !out.contains("65") && !out.contains("41") && !out.contains('A'),
                "{out}"
            );
        }
    }
}
