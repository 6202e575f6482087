//! The binary format, version 1 (`docs/envelope-format.md`): constants, the
//! header with its recipient stanzas, and their parser. The parser works on
//! a byte slice and says when it needs more bytes, so the streaming reader
//! and the fuzz target share it.

mod header;
mod stanza;
mod wire;

pub use header::{Header, ParsedHeader, Slot, parse_header};
pub use stanza::{Argon2Params, Stanza, StanzaKind};

/// The magic that opens every binary envelope file.
pub const MAGIC: &[u8; 6] = b"KMSENV";
/// The format version this code writes and reads.
pub const VERSION: u8 = 1;
/// Length of the random header nonce (the salt of the payload key).
pub const NONCE_LEN: usize = 32;
/// Plaintext bytes per payload chunk (64 KiB).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Ciphertext bytes per full payload chunk (chunk + GCM tag).
pub const SEALED_CHUNK_SIZE: usize = CHUNK_SIZE + crate::crypto::TAG_LEN;
/// The most stanzas a header may hold (Shamir over GF(256) allows 255 shares).
pub const MAX_STANZAS: usize = 255;
/// The longest stanza body.
pub const MAX_STANZA_LEN: usize = 64 * 1024;
/// The longest header this reader accepts.
pub const MAX_HEADER_LEN: usize = 1024 * 1024;
/// The first line of the ASCII armor.
pub const ARMOR_BEGIN: &str = "-----BEGIN KMS ENCRYPTED FILE-----";
/// The last line of the ASCII armor.
pub const ARMOR_END: &str = "-----END KMS ENCRYPTED FILE-----";
