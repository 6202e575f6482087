//! Fuzzes the `kms:v1` ciphertext parser (binary and text forms) and the
//! encryption-context parser. The checks live in `src/lib.rs`, shared with
//! the corpus replay test in `crates/kms-core/tests/fuzz_corpus.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kms_fuzz::ciphertext_parse(data);
});
