//! Entry points of the fuzz targets (`fuzz/fuzz_targets/envelope_*.rs`),
//! shared with the test that replays their seed corpora.

use std::str::FromStr;

use kms_core::EncryptionContext;

use crate::{AgeIdentity, DecryptOptions, EncryptionService, Identity};

/// The age identity the decrypt target opens files with (public test key;
/// its recipient is [`FUZZ_RECIPIENT`]).
pub const FUZZ_IDENTITY: &str =
    "AGE-SECRET-KEY-1YUFLWSXKWKAP8KZK9T6ZR0KMSXX4MTQ45ZKGT3KR3X7VSP50YU5SQ8X3HX";

/// The recipient of [`FUZZ_IDENTITY`].
pub fn fuzz_recipient() -> Option<String> {
    age::x25519::Identity::from_str(FUZZ_IDENTITY)
        .ok()
        .map(|k| k.to_public().to_string())
}

/// Parses a header from arbitrary bytes; must never panic.
pub fn header(data: &[u8]) -> Option<usize> {
    match crate::format::parse_header(data) {
        Ok(Some(p)) => {
            // A parsed header must write back to the same bytes.
            let again = p.header.to_bytes().ok()?;
            if again != data[..p.len] {
                return None;
            }
            Some(p.len)
        }
        _ => None,
    }
}

/// Decrypts arbitrary bytes with [`FUZZ_IDENTITY`]; returns the error code
/// or `"ok"`. Must never panic.
pub fn decrypt(data: &[u8]) -> &'static str {
    let Ok(key) = age::x25519::Identity::from_str(FUZZ_IDENTITY) else {
        return "internal";
    };
    let ids = [Identity::Age(AgeIdentity::from_key(key))];
    let service = EncryptionService::new(None).with_threads(1);
    let mut out = Vec::new();
    match service.decrypt_blocking(
        data,
        &mut out,
        &ids,
        &EncryptionContext::new(),
        &DecryptOptions::default(),
    ) {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}
