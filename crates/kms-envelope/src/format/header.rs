//! The header: magic, version, flags, threshold, payload nonce, stanzas, MAC.
//!
//! ```text
//! magic      6   "KMSENV"
//! version    1   0x01
//! flags      1   0x00 (reserved)
//! threshold  1   0 = any one stanza opens the file; 2..=255 = k-of-n Shamir shares
//! nonce      32  random; salt of the payload key
//! count      1   number of stanzas, 1..=255
//! stanza     count times: kind u8, share id u8 (0 without threshold), length u32 BE (<= 65536), body
//! mac        32  HMAC-SHA256(HKDF(file key, "", "kms-envelope/v1 header"),
//!                            every byte above || canonical(context))
//! ```

use super::stanza::Stanza;

/// One stanza and the Shamir share id it holds (0 without threshold; share
/// ids are public x coordinates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The share id, 1..=255 in a threshold file, else 0.
    pub share_id: u8,
    /// The stanza.
    pub stanza: Stanza,
}
use super::wire::{Cursor, Stop};
use super::{MAGIC, MAX_HEADER_LEN, MAX_STANZA_LEN, MAX_STANZAS, NONCE_LEN, VERSION};
use crate::crypto::MAC_LEN;
use crate::error::{Error, Result};

/// A parsed or to-be-written header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// 0, or k of a k-of-n threshold.
    pub threshold: u8,
    /// The payload nonce.
    pub nonce: [u8; NONCE_LEN],
    /// The recipient stanzas.
    pub stanzas: Vec<Slot>,
    /// The MAC (zero until computed).
    pub mac: [u8; MAC_LEN],
}

/// A header and where its MAC'd bytes end.
#[derive(Debug)]
pub struct ParsedHeader {
    /// The header.
    pub header: Header,
    /// The bytes the MAC covers (everything before the MAC).
    pub authenticated: Vec<u8>,
    /// Total header length including the MAC.
    pub len: usize,
}

impl Header {
    /// The bytes the MAC covers.
    pub fn authenticated_bytes(&self) -> Result<Vec<u8>> {
        if self.stanzas.is_empty() || self.stanzas.len() > MAX_STANZAS {
            return Err(Error::invalid(
                "recipients",
                "a file needs 1 to 255 recipient stanzas",
            ));
        }
        let mut out = Vec::with_capacity(64 + self.stanzas.len() * 128);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.push(0);
        out.push(self.threshold);
        out.extend_from_slice(&self.nonce);
        out.push(self.stanzas.len() as u8);
        for s in &self.stanzas {
            let body = s.stanza.encode_body()?;
            out.push(s.stanza.kind().to_byte());
            out.push(s.share_id);
            out.extend_from_slice(&(body.len() as u32).to_be_bytes());
            out.extend_from_slice(&body);
        }
        Ok(out)
    }

    /// The whole header: authenticated bytes and MAC.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = self.authenticated_bytes()?;
        out.extend_from_slice(&self.mac);
        Ok(out)
    }
}

/// Parses a header from the start of `buf`. `Ok(None)` means `buf` is a
/// valid prefix and more bytes are needed.
pub fn parse_header(buf: &[u8]) -> Result<Option<ParsedHeader>> {
    match parse_inner(buf) {
        Ok(p) => Ok(Some(p)),
        Err(Stop::Incomplete) if buf.len() >= MAX_HEADER_LEN => {
            Err(Error::InvalidHeader("the header is longer than 1 MiB"))
        }
        Err(Stop::Incomplete) => Ok(None),
        Err(Stop::Invalid(e)) => Err(e),
    }
}

fn parse_inner(buf: &[u8]) -> Result<ParsedHeader, Stop> {
    let mut c = Cursor::streaming(buf);
    // Compare the magic on whatever prefix is there, so a short non-envelope
    // input is refused at once rather than waiting for more bytes.
    let have = buf.len().min(MAGIC.len());
    if buf[..have] != MAGIC[..have] {
        return Err(Stop::Invalid(Error::NotEncrypted));
    }
    c.take(MAGIC.len())?;
    let version = c.u8()?;
    if version != VERSION {
        return Err(Stop::Invalid(Error::UnknownVersion(version)));
    }
    if c.u8()? != 0 {
        return Err(Stop::Invalid(Error::InvalidHeader("unknown flags")));
    }
    let threshold = c.u8()?;
    if threshold == 1 {
        return Err(Stop::Invalid(Error::InvalidHeader(
            "threshold 1 is written as 0",
        )));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(c.take(NONCE_LEN)?);
    let count = c.u8()? as usize;
    if count == 0 {
        return Err(Stop::Invalid(Error::InvalidHeader("no recipient stanzas")));
    }
    if threshold as usize > count {
        return Err(Stop::Invalid(Error::InvalidHeader(
            "the threshold exceeds the number of stanzas",
        )));
    }
    let mut stanzas = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = c.u8()?;
        let share_id = c.u8()?;
        if (threshold == 0) != (share_id == 0) {
            return Err(Stop::Invalid(Error::InvalidHeader(
                "share ids must be set exactly when a threshold is",
            )));
        }
        if share_id != 0 && stanzas.iter().any(|s: &Slot| s.share_id == share_id) {
            return Err(Stop::Invalid(Error::InvalidHeader(
                "two stanzas hold the same share id",
            )));
        }
        let len = c.u32()? as usize;
        if len > MAX_STANZA_LEN {
            return Err(Stop::Invalid(Error::InvalidHeader(
                "a stanza is longer than 64 KiB",
            )));
        }
        let body = c.take(len)?;
        stanzas.push(Slot {
            share_id,
            stanza: Stanza::decode_body(kind, body)?,
        });
    }
    let authenticated_len = c.pos();
    let mut mac = [0u8; MAC_LEN];
    mac.copy_from_slice(c.take(MAC_LEN)?);
    Ok(ParsedHeader {
        header: Header {
            threshold,
            nonce,
            stanzas,
            mac,
        },
        authenticated: buf[..authenticated_len].to_vec(),
        len: c.pos(),
    })
}
