//! The checks behind the fuzz targets, kept in one place so that the corpus
//! replay test (`crates/kms-core/tests/fuzz_corpus.rs`, which includes this
//! file with `#[path]`) runs exactly what the fuzzer runs.
//!
//! Besides "no panic", each check asserts properties that must hold for any
//! input, so the fuzzer also finds wrong answers, not only crashes.
#![forbid(unsafe_code)]

use kms_core::EncryptionContext;
use kms_core::ciphertext::{self, CiphertextHeader, HEADER_LEN, MAGIC};

/// The `ciphertext_parse` target: `CiphertextHeader::parse` on the raw
/// bytes, `from_text_or_binary` (and `parse` on what it returns), and, for
/// UTF-8 input, `from_text` and `EncryptionContext::parse`.
///
/// Returns the header when the input is a ciphertext (binary or text form)
/// whose header parses.
pub fn ciphertext_parse(data: &[u8]) -> Option<CiphertextHeader> {
    let direct = header_of(data);
    let decoded = match ciphertext::from_text_or_binary(data) {
        Ok(bytes) => {
            if data.starts_with(MAGIC) {
                assert_eq!(bytes, data, "the binary form must be taken as it is");
            }
            let back = ciphertext::from_text(&ciphertext::to_text(&bytes));
            assert_eq!(
                back.ok().as_deref(),
                Some(&bytes[..]),
                "text form must round-trip"
            );
            header_of(&bytes)
        }
        Err(_) => None,
    };
    if data.starts_with(MAGIC) {
        assert_eq!(
            direct, decoded,
            "binary input must parse the same both ways"
        );
    }
    if let Ok(s) = core::str::from_utf8(data) {
        // `from_text_or_binary` skips the text parser for input starting
        // with the magic; run it on every string.
        if let Ok(bytes) = ciphertext::from_text(s) {
            let _ = header_of(&bytes);
        }
        check_context(s);
    }
    decoded
}

/// Parses a binary ciphertext and checks that the header and body are
/// exactly the input, split at the header length.
fn header_of(blob: &[u8]) -> Option<CiphertextHeader> {
    let (header, body) = CiphertextHeader::parse(blob).ok()?;
    assert!(header.version >= 1, "key version 0 was accepted");
    assert_eq!(
        &header.to_bytes()[..],
        &blob[..HEADER_LEN],
        "header must re-encode to its bytes"
    );
    assert_eq!(
        body,
        &blob[HEADER_LEN..],
        "body must be the rest of the input"
    );
    Some(header)
}

/// Parses an encryption context; a parsed context has a consistent
/// canonical encoding and, when its seed form is unambiguous, parses back
/// from that seed form to the same map.
fn check_context(s: &str) {
    let Ok(ctx) = EncryptionContext::parse(s) else {
        return;
    };
    assert_eq!(ctx.canonical_bytes().len(), ctx.encoded_len());
    let plain = |x: &str| x.trim() == x && !x.contains([',', '=']);
    let seed = ctx.to_seed_form();
    let unambiguous = !seed.starts_with('{')
        && ctx
            .pairs()
            .iter()
            .all(|(k, v)| !k.is_empty() && plain(k) && plain(v));
    if unambiguous {
        let back = EncryptionContext::parse(&seed);
        assert_eq!(
            back.ok().as_ref(),
            Some(&ctx),
            "seed form {seed:?} must parse back"
        );
    }
}
