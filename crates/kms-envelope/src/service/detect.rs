//! Tells the input's format from its first bytes, and reads the header.

use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, Result};
use crate::format::{ARMOR_BEGIN, MAGIC, ParsedHeader, parse_header};
use crate::stream::Source;

const AGE_MAGIC: &[u8] = b"age-encryption.org/";
const AGE_ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
const DETECT_LEN: usize = 40;

/// What the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// A KMS envelope file, armored or not.
    Kms {
        /// Armored.
        armored: bool,
    },
    /// An age file, armored or not.
    Age {
        /// Armored.
        armored: bool,
    },
}

/// Reads the first bytes and says what the input is; the bytes are returned
/// to be served again.
pub async fn detect<R: AsyncRead + Unpin>(reader: &mut R) -> Result<(Detected, Vec<u8>)> {
    let mut prefix = vec![0u8; DETECT_LEN];
    let mut n = 0;
    while n < DETECT_LEN {
        let k = reader
            .read(&mut prefix[n..])
            .await
            .map_err(Error::io("cannot read the input"))?;
        if k == 0 {
            break;
        }
        n += k;
    }
    prefix.truncate(n);
    let starts = |m: &[u8]| prefix.starts_with(m);
    let is_prefix_of = |m: &[u8]| !prefix.is_empty() && m.starts_with(&prefix);
    let d = if starts(MAGIC) {
        Detected::Kms { armored: false }
    } else if starts(ARMOR_BEGIN.as_bytes()) {
        Detected::Kms { armored: true }
    } else if starts(AGE_MAGIC) {
        Detected::Age { armored: false }
    } else if starts(AGE_ARMOR) {
        Detected::Age { armored: true }
    } else if is_prefix_of(MAGIC) || is_prefix_of(ARMOR_BEGIN.as_bytes()) {
        return Err(Error::Truncated);
    } else {
        return Err(Error::NotEncrypted);
    };
    Ok((d, prefix))
}

/// Reads the header from `source`; returns it and the payload bytes read past it.
pub async fn read_header<R: AsyncRead + Unpin>(
    source: &mut Source<R>,
) -> Result<(ParsedHeader, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut step = 512;
    loop {
        if let Some(parsed) = parse_header(&buf)? {
            let rest = buf.split_off(parsed.len);
            return Ok((parsed, rest));
        }
        let start = buf.len();
        buf.resize(start + step, 0);
        let k = source
            .read(&mut buf[start..])
            .await
            .map_err(Error::io("cannot read the input"))?;
        buf.truncate(start + k);
        if k == 0 {
            return Err(Error::Truncated);
        }
        step = (step * 2).min(64 * 1024);
    }
}
