//! Known-answer vectors in `tests/vectors/*.json`, positive and negative,
//! each negative one named by the error class (`Error::code`) it must give.
//! `UPDATE_VECTORS=1` writes them again (and the fuzz seed corpora).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kms_envelope::fuzzing::FUZZ_IDENTITY;
use kms_envelope::{AgeIdentity, EncryptionService, Identity, Recipient, Recipients};
use serde_json::{Value, json};

use crate::common::*;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

/// A second, unrelated identity (for the wrong-recipient vector).
const OTHER_IDENTITY: &str =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";

fn identity(s: &str) -> Identity {
    Identity::Age(AgeIdentity::parse(s).unwrap())
}

async fn make(svc: &EncryptionService, len: usize, c: &str, armor: bool) -> Vec<u8> {
    let r = Recipient::parse(&kms_envelope::fuzzing::fuzz_recipient().unwrap()).unwrap();
    seal(
        svc,
        &data(len),
        &Recipients::any_of(vec![r]),
        &ctx(c),
        armor,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
fn vector(
    name: &str,
    desc: &str,
    ids: &[&str],
    passphrase: Option<&str>,
    c: &str,
    ct: &[u8],
    expect: &str,
    len: usize,
) -> Value {
    json!({
        "name": name,
        "description": desc,
        "identities": ids,
        "passphrase": passphrase,
        "context": c,
        "ciphertext": STANDARD.encode(ct),
        "expect": expect,
        "plaintext_len": len,
        "plaintext_pattern": "byte i = (i * 31) mod 251",
    })
}

async fn generate() -> Vec<Value> {
    let svc = EncryptionService::new(None);
    let mut v = Vec::new();
    let small = make(&svc, 100, "env=prod", false).await;
    v.push(vector(
        "ok_age_x25519",
        "one age recipient, a context",
        &[FUZZ_IDENTITY],
        None,
        "env=prod",
        &small,
        "ok",
        100,
    ));
    let pass = Recipients::any_of(vec![passphrase("vector passphrase")]);
    let empty = seal(&svc, b"", &pass, &ctx(""), false).await;
    v.push(vector(
        "ok_passphrase_empty",
        "an empty file for a passphrase (Argon2id m=8 KiB)",
        &[],
        Some("vector passphrase"),
        "",
        &empty,
        "ok",
        0,
    ));
    let armored = make(&svc, 65537, "", true).await;
    v.push(vector(
        "ok_armored_two_chunks",
        "armored, one full chunk and one byte",
        &[FUZZ_IDENTITY],
        None,
        "",
        &armored,
        "ok",
        65537,
    ));
    let other = age::x25519::Identity::from_str(OTHER_IDENTITY)
        .unwrap()
        .to_public()
        .to_string();
    let t = Recipients {
        list: vec![
            Recipient::parse(&kms_envelope::fuzzing::fuzz_recipient().unwrap()).unwrap(),
            Recipient::parse(&other).unwrap(),
            passphrase("share three"),
        ],
        threshold: Some(2),
    };
    let thr = seal(&svc, &data(10), &t, &ctx(""), false).await;
    v.push(vector(
        "ok_threshold_2_of_3",
        "2 of 3: two age identities",
        &[FUZZ_IDENTITY, OTHER_IDENTITY],
        None,
        "",
        &thr,
        "ok",
        10,
    ));
    let mut bad_mac = small.clone();
    bad_mac[20] ^= 0x40;
    v.push(vector(
        "bad_header_mac",
        "a payload-nonce byte changed",
        &[FUZZ_IDENTITY],
        None,
        "env=prod",
        &bad_mac,
        "bad_header_mac",
        0,
    ));
    let mut version = small.clone();
    version[6] = 2;
    v.push(vector(
        "unknown_version",
        "format version 2",
        &[FUZZ_IDENTITY],
        None,
        "env=prod",
        &version,
        "unknown_version",
        0,
    ));
    let two = make(&svc, 131072, "", false).await;
    let cut = &two[..two.len() - 65552];
    v.push(vector(
        "truncated",
        "two full chunks; the last one removed",
        &[FUZZ_IDENTITY],
        None,
        "",
        cut,
        "truncated",
        0,
    ));
    let re = make(&svc, 65546, "", false).await;
    let h = re.len() - 65552 - 26;
    let mut reordered = re[..h].to_vec();
    reordered.extend_from_slice(&re[h + 65552..]);
    reordered.extend_from_slice(&re[h..h + 65552]);
    v.push(vector(
        "reordered",
        "the two chunks swapped",
        &[FUZZ_IDENTITY],
        None,
        "",
        &reordered,
        "chunk_authentication_failed",
        0,
    ));
    let mut appended = make(&svc, 65536, "", false).await;
    appended.extend_from_slice(b"appended");
    v.push(vector(
        "appended_data",
        "bytes after the final chunk",
        &[FUZZ_IDENTITY],
        None,
        "",
        &appended,
        "trailing_data",
        0,
    ));
    v.push(vector(
        "wrong_recipient",
        "opened with an unrelated identity",
        &[OTHER_IDENTITY],
        None,
        "env=prod",
        &small,
        "no_matching_identity",
        0,
    ));
    v.push(vector(
        "wrong_context",
        "opened with another context",
        &[FUZZ_IDENTITY],
        None,
        "env=dev",
        &small,
        "wrong_context",
        0,
    ));
    v
}

#[tokio::test]
async fn every_vector_gives_its_expected_result() {
    if std::env::var_os("UPDATE_VECTORS").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        for v in generate().await {
            let name = v["name"].as_str().unwrap().to_string();
            std::fs::write(
                dir().join(format!("{name}.json")),
                serde_json::to_string_pretty(&v).unwrap() + "\n",
            )
            .unwrap();
            let ct = STANDARD.decode(v["ciphertext"].as_str().unwrap()).unwrap();
            let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
            for target in ["envelope_decrypt", "envelope_header"] {
                std::fs::create_dir_all(corpus.join(target)).unwrap();
                std::fs::write(corpus.join(target).join(&name), &ct).unwrap();
            }
        }
    }
    let svc = EncryptionService::new(None);
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    assert!(names.len() >= 11, "missing vectors in {}", dir().display());
    let mut classes = std::collections::BTreeSet::new();
    for path in names {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut ids: Vec<Identity> = v["identities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| identity(s.as_str().unwrap()))
            .collect();
        if let Some(p) = v["passphrase"].as_str() {
            ids.push(Identity::Passphrase(kms_core::Passphrase::new(p.into())));
        }
        let ct = STANDARD.decode(v["ciphertext"].as_str().unwrap()).unwrap();
        let expect = v["expect"].as_str().unwrap();
        let got = open(&svc, &ct, &ids, &ctx(v["context"].as_str().unwrap())).await;
        match (expect, got) {
            ("ok", Ok(pt)) => assert_eq!(
                pt,
                data(v["plaintext_len"].as_u64().unwrap() as usize),
                "{}",
                path.display()
            ),
            ("ok", Err(e)) => panic!("{}: expected success, got {e}", path.display()),
            (class, Ok(_)) => panic!("{}: expected {class}, but it decrypted", path.display()),
            (class, Err(e)) => assert_eq!(e.code(), class, "{}: {e}", path.display()),
        }
        classes.insert(expect.to_string());
    }
    for class in [
        "bad_header_mac",
        "unknown_version",
        "truncated",
        "chunk_authentication_failed",
        "trailing_data",
        "no_matching_identity",
        "wrong_context",
    ] {
        assert!(classes.contains(class), "no vector for {class}");
    }
}
