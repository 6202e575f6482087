//! A minimal DER reader: just enough to take a SubjectPublicKeyInfo apart
//! for JWK. Definite lengths up to 2^16 − 1 only; no indefinite lengths.

/// The input is not the DER expected. Carries no detail; callers say what
/// they were reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Malformed;

/// DER tags used here.
pub(super) mod tag {
    /// INTEGER.
    pub const INTEGER: u8 = 0x02;
    /// BIT STRING.
    pub const BIT_STRING: u8 = 0x03;
    /// NULL.
    pub const NULL: u8 = 0x05;
    /// OBJECT IDENTIFIER.
    pub const OID: u8 = 0x06;
    /// SEQUENCE (constructed).
    pub const SEQUENCE: u8 = 0x30;
}

/// Reads DER elements one after another from a slice.
pub(super) struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `input`.
    pub(super) fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// Whether all input has been read.
    pub(super) fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    /// Reads the whole input as exactly one element with `tag` and returns
    /// its contents.
    pub(super) fn read_all(input: &'a [u8], tag: u8) -> Result<&'a [u8], Malformed> {
        let mut reader = Reader::new(input);
        let value = reader.read(tag)?;
        reader.finish()?;
        Ok(value)
    }

    /// Fails unless all input has been read.
    pub(super) fn finish(&self) -> Result<(), Malformed> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Malformed)
        }
    }

    /// The tag of the next element, if any.
    pub(super) fn peek_tag(&self) -> Option<u8> {
        self.input.first().copied()
    }

    /// Reads the next element, which must have `tag`, and returns its contents.
    pub(super) fn read(&mut self, tag: u8) -> Result<&'a [u8], Malformed> {
        let (&got, rest) = self.input.split_first().ok_or(Malformed)?;
        if got != tag {
            return Err(Malformed);
        }
        let (&first, rest) = rest.split_first().ok_or(Malformed)?;
        let (len, rest) = match first {
            0x00..=0x7f => (usize::from(first), rest),
            0x81 => {
                let (&b, rest) = rest.split_first().ok_or(Malformed)?;
                // DER: the long form is only for lengths >= 128.
                if b < 0x80 {
                    return Err(Malformed);
                }
                (usize::from(b), rest)
            }
            0x82 => {
                let [hi, lo, tail @ ..] = rest else {
                    return Err(Malformed);
                };
                let len = usize::from(u16::from_be_bytes([*hi, *lo]));
                if len < 0x100 {
                    return Err(Malformed);
                }
                (len, tail)
            }
            _ => return Err(Malformed),
        };
        let (value, rest) = rest.split_at_checked(len).ok_or(Malformed)?;
        self.input = rest;
        Ok(value)
    }

    /// Reads a non-negative INTEGER and returns its big-endian magnitude
    /// without the sign byte.
    pub(super) fn read_unsigned_integer(&mut self) -> Result<&'a [u8], Malformed> {
        let value = self.read(tag::INTEGER)?;
        match value {
            [] => Err(Malformed),
            // Negative.
            [first, ..] if first & 0x80 != 0 => Err(Malformed),
            // A leading zero is only allowed (and required) before a high bit.
            [0, next, ..] if next & 0x80 == 0 => Err(Malformed),
            [0, rest @ ..] if !rest.is_empty() => Ok(rest),
            _ => Ok(value),
        }
    }

    /// Reads a BIT STRING with no unused bits and returns its bytes.
    pub(super) fn read_bit_string(&mut self) -> Result<&'a [u8], Malformed> {
        match self.read(tag::BIT_STRING)? {
            [0, bytes @ ..] => Ok(bytes),
            _ => Err(Malformed),
        }
    }
}
