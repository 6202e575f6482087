//! Bounded big-endian readers and writers for the header.

use crate::error::{Error, Result};

/// Why a parse stopped.
#[derive(Debug)]
pub enum Stop {
    /// More bytes are needed.
    Incomplete,
    /// The bytes are invalid.
    Invalid(Error),
}

impl From<Error> for Stop {
    fn from(e: Error) -> Self {
        Stop::Invalid(e)
    }
}

/// A cursor over a byte slice.
pub struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Whether running out of bytes means "incomplete" (header) or "invalid" (inside a stanza body).
    open_ended: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor over a prefix of a stream: running out is `Incomplete`.
    pub fn streaming(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            open_ended: true,
        }
    }

    /// A cursor over a complete value: running out is invalid.
    pub fn complete(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            open_ended: false,
        }
    }

    /// Bytes consumed.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Whether every byte was consumed.
    pub fn is_at_end(&self) -> bool {
        self.pos == self.buf.len()
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], Stop> {
        let end = self
            .pos
            .checked_add(n)
            .ok_or(Stop::Invalid(Error::InvalidHeader("length overflow")))?;
        match self.buf.get(self.pos..end) {
            Some(s) => {
                self.pos = end;
                Ok(s)
            }
            None if self.open_ended => Err(Stop::Incomplete),
            None => Err(Stop::Invalid(Error::InvalidHeader(
                "a stanza field runs past its stanza",
            ))),
        }
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8, Stop> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian u16.
    pub fn u16(&mut self) -> Result<u16, Stop> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// A big-endian u32.
    pub fn u32(&mut self) -> Result<u32, Stop> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A u16-length-prefixed byte string.
    pub fn bytes16(&mut self) -> Result<&'a [u8], Stop> {
        let n = self.u16()? as usize;
        self.take(n)
    }

    /// A u16-length-prefixed UTF-8 string.
    pub fn str16(&mut self) -> Result<&'a str, Stop> {
        let b = self.bytes16()?;
        core::str::from_utf8(b)
            .map_err(|_| Stop::Invalid(Error::InvalidHeader("a stanza string is not UTF-8")))
    }
}

/// Appends a u16-length-prefixed byte string.
pub fn put_bytes16(out: &mut Vec<u8>, b: &[u8]) -> Result<()> {
    let n = u16::try_from(b.len())
        .map_err(|_| Error::invalid("stanza", "a field is longer than 65535 bytes"))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}
