//! Replays the fuzz targets' seed corpora (`fuzz/corpus/envelope_*`)
//! through the same functions the targets call: nothing may panic, and the
//! seeds that are valid files (named `ok_*`) must still open.

use std::path::Path;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "empty corpus {}", dir.display());
    out
}

#[test]
fn the_header_corpus_replays_without_panics() {
    for (name, data) in seeds("envelope_header") {
        let parsed = kms_envelope::fuzzing::header(&data);
        if name.starts_with("ok_") && !name.contains("armored") {
            assert!(parsed.is_some(), "{name} no longer parses");
        }
        for cut in [0, 1, 7, 40, data.len() / 2] {
            let _ = kms_envelope::fuzzing::header(&data[..cut.min(data.len())]);
        }
    }
}

#[test]
fn the_decrypt_corpus_replays_without_panics() {
    for (name, data) in seeds("envelope_decrypt") {
        let code = kms_envelope::fuzzing::decrypt(&data);
        // Seeds made without a context open with the target's empty context.
        if name.starts_with("ok_armored") {
            assert_eq!(code, "ok", "{name}");
        } else if !name.starts_with("ok_") {
            assert_ne!(code, "ok", "{name}");
        }
    }
}
