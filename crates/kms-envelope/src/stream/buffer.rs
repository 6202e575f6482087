//! Page-aligned, zeroized-on-drop chunk buffers (plaintext passes through
//! them). A buffer 16 bytes off a page boundary makes copies markedly
//! slower, so batches start on a page boundary and plaintext chunks keep
//! a 64 KiB stride.

use core::fmt;

use zeroize::Zeroize;

const PAGE: usize = 4096;

/// A page-aligned byte buffer.
pub struct ChunkBuf {
    raw: Vec<u8>,
    offset: usize,
    len: usize,
}

impl ChunkBuf {
    /// A zeroed buffer of `len` bytes starting on a page boundary.
    pub fn new(len: usize) -> Self {
        let raw = vec![0u8; len + PAGE];
        let misalign = raw.as_ptr() as usize % PAGE;
        let offset = (PAGE - misalign) % PAGE;
        Self { raw, offset, len }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.raw[self.offset..self.offset + self.len]
    }

    /// The bytes, mutable.
    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        &mut self.raw[self.offset..self.offset + self.len]
    }
}

impl Drop for ChunkBuf {
    #[inline(never)]
    fn drop(&mut self) {
        self.raw.zeroize();
    }
}

impl fmt::Debug for ChunkBuf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChunkBuf(<redacted {} bytes>)", self.len)
    }
}
