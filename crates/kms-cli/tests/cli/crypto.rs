//! Encrypt, decrypt, re-encrypt, data keys, random and MACs.

use crate::common::{Kms, b64, sh, to_b64};

fn tampered(ct: &[u8], at: impl Fn(usize) -> usize) -> Vec<u8> {
    let text = std::str::from_utf8(ct).unwrap().trim();
    let mut blob = b64(text.strip_prefix("kms:v1:").unwrap());
    let i = at(blob.len());
    blob[i] ^= 0x01;
    format!("kms:v1:{}\n", to_b64(&blob)).into_bytes()
}

#[test]
fn a_secret_encrypted_with_a_context_decrypts_only_with_that_context_and_unchanged_ciphertext() {
    let kms = Kms::init();
    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "app"]);
    let ct = kms.ok_stdin(
        &["encrypt", "--key", "alias/app", "--context", "env=prod"],
        b"secret\n",
    );
    assert!(
        ct.starts_with(b"kms:v1:"),
        "{}",
        String::from_utf8_lossy(&ct)
    );
    assert!(ct.ends_with(b"\n"));

    let pt = kms.ok_stdin(&["decrypt", "--context", "env=prod"], &ct);
    assert_eq!(pt, b"secret\n");

    let (code, _, err) = kms.fail(&["decrypt", "--context", "env=dev"], &ct);
    assert_eq!(code, 1);
    assert!(err.contains("error: decryption failed"), "{err}");
    assert!(err.contains("hint:") && err.contains("--context"), "{err}");

    // One changed byte anywhere in the body or tag: the tag check fails.
    for at in [|n: usize| n - 1, |n: usize| n - 20, |_: usize| 30] {
        let (code, _, err) = kms.fail(&["decrypt", "--context", "env=prod"], &tampered(&ct, at));
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("decryption failed"), "{err}");
    }
    // A changed key version in the header fails too (version 2 does not exist).
    let (code, _, _) = kms.fail(
        &["decrypt", "--context", "env=prod"],
        &tampered(&ct, |_| 24),
    );
    assert_eq!(code, 1);

    // The binary form decrypts as well.
    let text = std::str::from_utf8(&ct).unwrap().trim();
    std::fs::write(
        kms.path("ct.bin"),
        b64(text.strip_prefix("kms:v1:").unwrap()),
    )
    .unwrap();
    let bin = kms.path("ct.bin").display().to_string();
    let pt = kms.ok_stdin(&["decrypt", "--context", "env=prod", "--input", &bin], b"");
    assert_eq!(pt, b"secret\n");
}

#[test]
fn a_wrong_passphrase_is_refused_clearly_and_the_store_still_opens_with_the_right_one() {
    let kms = Kms::init();
    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "app"]);
    let ct = kms.ok_stdin(&["encrypt", "--key", "alias/app"], b"data");

    let wrong = kms.path("wrong");
    std::fs::write(&wrong, "not the passphrase\n").unwrap();
    let out = crate::common::bare_cmd()
        .args(["--store", &kms.store, "--passphrase-file"])
        .arg(&wrong)
        .args(["decrypt"])
        .write_stdin(ct.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("wrong passphrase"), "{err}");
    assert!(err.contains("--passphrase-file"), "{err}");

    assert_eq!(kms.ok_stdin(&["decrypt"], &ct), b"data");
}

#[test]
fn encrypt_json_names_key_and_version_and_output_files_work() {
    let kms = Kms::init();
    let id = kms.create_key("AES_128", &[]);
    std::fs::write(kms.path("in.txt"), b"file input").unwrap();
    let (input, output) = (kms.path("in.txt"), kms.path("ct.txt"));
    let j = kms.json(&[
        "encrypt",
        "--key",
        &id,
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
    ]);
    assert_eq!(j["key_id"], id.as_str());
    assert_eq!(j["key_version"], 1);
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(written.trim(), j["ciphertext"].as_str().unwrap());
    let d = kms.json(&["decrypt", "--input", output.to_str().unwrap()]);
    assert_eq!(b64(d["plaintext"].as_str().unwrap()), b"file input");
    assert_eq!(d["key_version"], 1);
    // A local: URI names the same key.
    let ct = kms.ok_stdin(&["encrypt", "--key", &format!("local:{id}")], b"x");
    assert_eq!(kms.ok_stdin(&["decrypt", "--key", &id], &ct), b"x");
}

#[test]
fn reencrypt_moves_a_ciphertext_to_another_key_and_context() {
    let kms = Kms::init();
    let a = kms.create_key("AES_256", &["--alias", "a"]);
    let b = kms.create_key("AES_256", &["--alias", "b"]);
    let ct = kms.ok_stdin(
        &["encrypt", "--key", "alias/a", "--context", "env=prod"],
        b"moving",
    );
    let j = kms.json_stdin(
        &[
            "reencrypt",
            "--key",
            "alias/b",
            "--context",
            "env=prod",
            "--to-context",
            "env=stage",
        ],
        &ct,
    );
    assert_eq!(j["key_id"], b.as_str());
    let moved = format!("{}\n", j["ciphertext"].as_str().unwrap());
    assert_eq!(
        kms.ok_stdin(&["decrypt", "--context", "env=stage"], moved.as_bytes()),
        b"moving"
    );
    kms.fail(&["decrypt", "--context", "env=prod"], moved.as_bytes());
    let (_, _, err) = kms.fail(
        &["decrypt", "--key", &a, "--context", "env=stage"],
        moved.as_bytes(),
    );
    assert!(err.contains("not"), "{err}");
}

#[test]
fn data_keys_come_with_a_ciphertext_that_decrypts_to_the_same_bytes() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &[]);
    let j = kms.json(&[
        "data-key",
        "generate",
        "--key",
        &id,
        "--context",
        "purpose=files",
    ]);
    let plain = b64(j["plaintext"].as_str().unwrap());
    assert_eq!(plain.len(), 32);
    assert_eq!(j["key_spec"], "AES_256");
    let ct = format!("{}\n", j["ciphertext"].as_str().unwrap());
    assert_eq!(
        kms.ok_stdin(&["decrypt", "--context", "purpose=files"], ct.as_bytes()),
        plain
    );

    let j = kms.json(&[
        "data-key",
        "generate",
        "--key",
        &id,
        "--spec",
        "AES_128",
        "--no-plaintext",
    ]);
    assert!(j.get("plaintext").is_none(), "{j}");
    assert!(j["ciphertext"].as_str().unwrap().starts_with("kms:v1:"));
    let j = kms.json(&["data-key", "generate", "--key", &id, "--bytes", "64"]);
    assert_eq!(b64(j["plaintext"].as_str().unwrap()).len(), 64);

    let human = kms.ok(&["data-key", "generate", "--key", &id]);
    assert!(
        human.contains("plaintext: ") && human.contains("ciphertext: kms:v1:"),
        "{human}"
    );
}

#[test]
fn a_data_key_pair_has_a_matching_public_key_and_a_wrapped_private_key() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &[]);
    let j = kms.json(&[
        "data-key",
        "generate-pair",
        "--key",
        &id,
        "--spec",
        "ECC_NIST_P256",
    ]);
    std::fs::write(
        kms.path("priv.pem"),
        j["private_key_plaintext"].as_str().unwrap(),
    )
    .unwrap();
    let derived = sh(kms.dir.path(), "openssl pkey -in priv.pem -pubout");
    assert_eq!(derived.trim(), j["public_key"].as_str().unwrap().trim());
    let ct = format!("{}\n", j["private_key_ciphertext"].as_str().unwrap());
    let der = kms.ok_stdin(&["decrypt"], ct.as_bytes());
    std::fs::write(kms.path("priv.der"), der).unwrap();
    let from_wrapped = sh(
        kms.dir.path(),
        "openssl pkey -inform DER -in priv.der -pubout",
    );
    assert_eq!(from_wrapped, derived);

    let j = kms.json(&[
        "data-key",
        "generate-pair",
        "--key",
        &id,
        "--spec",
        "ED25519",
        "--no-plaintext",
    ]);
    assert!(j.get("private_key_plaintext").is_none());
    assert!(
        j["public_key"]
            .as_str()
            .unwrap()
            .contains("BEGIN PUBLIC KEY")
    );
}

#[test]
fn generate_key_uses_alias_default_and_says_how_to_create_it() {
    let kms = Kms::init();
    let (code, _, err) = kms.fail(&["generate-key"], b"");
    assert_eq!(code, 1);
    assert!(
        err.contains("kms key create --spec AES_256 --alias default"),
        "{err}"
    );

    kms.ok(&["key", "create", "--spec", "AES_256", "--alias", "default"]);
    let j = kms.json(&["generate-key"]);
    assert_eq!(b64(j["plaintext"].as_str().unwrap()).len(), 32);
    let j = kms.json(&["generate-key", "--key-spec", "AES128"]);
    assert_eq!(b64(j["plaintext"].as_str().unwrap()).len(), 16);
    let j = kms.json(&["generate-key", "--spec", "aes256"]);
    let ct = format!("{}\n", j["ciphertext"].as_str().unwrap());
    assert_eq!(
        kms.ok_stdin(&["decrypt"], ct.as_bytes()),
        b64(j["plaintext"].as_str().unwrap())
    );
    // encrypt without --key uses the default key too.
    let ct = kms.ok_stdin(&["encrypt"], b"to default");
    assert_eq!(kms.ok_stdin(&["decrypt"], &ct), b"to default");
}

#[test]
fn random_gives_the_asked_number_of_bytes() {
    let kms = Kms::init();
    assert_eq!(b64(&kms.ok(&["random", "24"])).len(), 24);
    let out = kms.path("rand.bin");
    kms.ok(&["random", "1024", "--output", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap().len(), 1024);
    let (code, _, err) = kms.fail(&["random", "1025"], b"");
    assert_eq!(code, 1);
    assert!(err.contains("1024"), "{err}");
}

#[test]
fn a_mac_verifies_and_a_changed_message_does_not() {
    let kms = Kms::init();
    let id = kms.create_key("HMAC_256", &[]);
    std::fs::write(kms.path("msg"), b"authenticate me").unwrap();
    let (msg, mac) = (kms.path("msg"), kms.path("mac.bin"));
    kms.ok(&[
        "mac",
        "generate",
        "--key",
        &id,
        "--input",
        msg.to_str().unwrap(),
        "--output",
        mac.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read(&mac).unwrap().len(), 32);
    let out = kms.ok(&[
        "mac",
        "verify",
        "--key",
        &id,
        "--mac",
        mac.to_str().unwrap(),
        "--input",
        msg.to_str().unwrap(),
    ]);
    assert_eq!(out.trim(), "valid");
    // base64 on stdout, and as a --mac file.
    let b64mac = kms.ok_stdin(&["mac", "generate", "--key", &id], b"authenticate me");
    std::fs::write(kms.path("mac.txt"), &b64mac).unwrap();
    let txt = kms.path("mac.txt");
    let out = kms.ok_stdin(
        &[
            "mac",
            "verify",
            "--key",
            &id,
            "--mac",
            txt.to_str().unwrap(),
        ],
        b"authenticate me",
    );
    assert_eq!(String::from_utf8_lossy(&out).trim(), "valid");
    let (code, stdout, _) = kms.fail(
        &[
            "mac",
            "verify",
            "--key",
            &id,
            "--mac",
            mac.to_str().unwrap(),
        ],
        b"authenticate you",
    );
    assert_eq!(code, 1);
    assert_eq!(stdout.trim(), "invalid MAC");
}

#[test]
fn a_disabled_key_refuses_to_encrypt_and_says_how_to_enable_it() {
    let kms = Kms::init();
    let id = kms.create_key("AES_256", &[]);
    kms.ok(&["key", "disable", &id]);
    let (code, _, err) = kms.fail(&["encrypt", "--key", &id], b"x");
    assert_eq!(code, 1);
    assert!(err.contains("kms key enable"), "{err}");
    kms.ok(&["key", "enable", &id]);
    kms.ok_stdin(&["encrypt", "--key", &id], b"x");
}
