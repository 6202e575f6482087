//! Replays the fuzz seed corpora (`fuzz/corpus/<target>/*`) through the
//! checks the `ciphertext_parse` fuzz target runs (`fuzz/src/lib.rs`,
//! included below, so both run the same code), on stable, as part of
//! `cargo test` and so of `scripts/test.sh`. Running the fuzzer itself
//! needs nightly: see `fuzz/README.md`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

#[path = "../../../fuzz/src/lib.rs"]
mod fuzz_checks;

/// Corpora of targets whose checks live in crates built on kms-core (which
/// this test cannot call), and the test that replays each there.
const REPLAYED_ELSEWHERE: &[(&str, &str)] = &[
    (
        "envelope_decrypt",
        "crates/kms-envelope/tests/envelope/fuzz_corpus.rs",
    ),
    (
        "envelope_header",
        "crates/kms-envelope/tests/envelope/fuzz_corpus.rs",
    ),
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

/// The files of one target's corpus, sorted by name.
fn seeds(target: &str) -> Vec<PathBuf> {
    let dir = corpus_dir().join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// The targets that have a corpus directory.
fn corpus_targets() -> Vec<String> {
    let dir = corpus_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Runs the `ciphertext_parse` checks on one file; a panic names the file.
fn replay(path: &Path) -> Option<kms_core::ciphertext::CiphertextHeader> {
    let data = std::fs::read(path).unwrap();
    std::panic::catch_unwind(|| fuzz_checks::ciphertext_parse(&data))
        .unwrap_or_else(|_| panic!("the ciphertext_parse checks panicked on {}", path.display()))
}

#[test]
fn every_corpus_file_replays_through_the_ciphertext_checks_without_a_panic() {
    // Any bytes are a fuzz input, so the other targets' seeds (envelope
    // files) go through the ciphertext parsers too.
    let mut replayed = 0;
    for target in corpus_targets() {
        for path in seeds(&target) {
            replay(&path);
            replayed += 1;
        }
    }
    let own = seeds("ciphertext_parse").len();
    assert!(
        own >= 15,
        "only {own} ciphertext_parse seeds ({replayed} corpus files in all) were replayed; \
         is fuzz/corpus/ciphertext_parse complete?"
    );
}

#[test]
fn the_valid_ciphertext_seeds_parse() {
    let valid: Vec<PathBuf> = seeds("ciphertext_parse")
        .into_iter()
        .filter(|p| file_name(p).starts_with("valid-"))
        .collect();
    assert!(
        valid.len() >= 5,
        "expected the valid-* seeds, found {}",
        valid.len()
    );
    for path in &valid {
        assert!(
            replay(path).is_some(),
            "{} does not parse as a ciphertext",
            path.display()
        );
    }
}

#[test]
fn the_invalid_ciphertext_seeds_are_refused() {
    let invalid = [
        "bad-",
        "key-version-zero",
        "not-utf8",
        "text-",
        "truncated-",
    ];
    let mut checked = 0;
    for path in seeds("ciphertext_parse") {
        let name = file_name(&path);
        if invalid.iter().any(|p| name.starts_with(p)) {
            assert_eq!(replay(&path), None, "{name} was accepted");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} invalid seeds found");
}

#[test]
fn every_fuzz_target_corpus_is_replayed_by_some_test() {
    for target in corpus_targets() {
        let known =
            target == "ciphertext_parse" || REPLAYED_ELSEWHERE.iter().any(|(t, _)| *t == target);
        assert!(
            known,
            "fuzz/corpus/{target} is replayed by no known test: replay it in a test of the \
             crate that holds its checks and list it in REPLAYED_ELSEWHERE here"
        );
    }
    for (target, test) in REPLAYED_ELSEWHERE {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(test);
        let source = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            source.contains(target),
            "{} does not replay fuzz/corpus/{target}",
            path.display()
        );
    }
}
