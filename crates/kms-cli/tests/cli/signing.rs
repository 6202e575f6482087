//! Signatures made by `kms sign` verify with OpenSSL against the exported
//! public key, and with `kms verify`; a tampered one does not.

use crate::common::{Kms, sh, to_b64};

/// Creates a key of `spec`, signs `msg` with `algorithm`, checks the
/// signature with `openssl_verify` (run in the temp dir, files `pub.pem`,
/// `msg`, `sig`), then with `kms verify`, raw and base64, and tampered.
fn signature_verifies_everywhere(
    spec: &str,
    algorithm: Option<&str>,
    openssl_verify: &str,
    openssl_ok: &str,
) {
    let kms = Kms::init();
    let usage: &[&str] = if spec.starts_with("RSA") {
        &["--usage", "SIGN_VERIFY"]
    } else {
        &[]
    };
    let id = kms.create_key(spec, usage);
    let dir = kms.dir.path();
    let pem = kms.ok(&["key", "public-key", &id, "--format", "pem"]);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    std::fs::write(dir.join("pub.pem"), &pem).unwrap();
    std::fs::write(dir.join("msg"), b"a message to sign\n").unwrap();

    let mut sign = vec![
        "sign",
        "--key",
        id.as_str(),
        "--input",
        "msg",
        "--output",
        "sig",
    ];
    if let Some(a) = algorithm {
        sign.extend_from_slice(&["--algorithm", a]);
    }
    let out = kms.cmd().current_dir(dir).args(&sign).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let verdict = sh(dir, openssl_verify);
    assert!(
        verdict.contains(openssl_ok),
        "{spec} {algorithm:?}: {verdict}"
    );

    let mut verify = vec![
        "verify",
        "--key",
        id.as_str(),
        "--input",
        "msg",
        "--signature",
        "sig",
    ];
    if let Some(a) = algorithm {
        verify.extend_from_slice(&["--algorithm", a]);
    }
    let out = kms.cmd().current_dir(dir).args(&verify).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "valid");

    // The same signature as base64 text.
    let raw = std::fs::read(dir.join("sig")).unwrap();
    std::fs::write(dir.join("sig"), format!("{}\n", to_b64(&raw))).unwrap();
    let out = kms.cmd().current_dir(dir).args(&verify).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // One flipped bit: invalid, exit 1.
    let mut bad = raw.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0x01;
    std::fs::write(dir.join("sig"), &bad).unwrap();
    let out = kms.cmd().current_dir(dir).args(&verify).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "invalid signature"
    );

    // And a changed message with the good signature.
    std::fs::write(dir.join("sig"), &raw).unwrap();
    std::fs::write(dir.join("msg"), b"a message to sign!\n").unwrap();
    let out = kms.cmd().current_dir(dir).args(&verify).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
}

const DGST: &str = "openssl dgst -sha256 -verify pub.pem -signature sig msg";

#[test]
fn ecdsa_p256_signatures_verify_with_openssl() {
    signature_verifies_everywhere("ECC_NIST_P256", None, DGST, "Verified OK");
}

#[test]
fn rsa_pss_signatures_verify_with_openssl() {
    signature_verifies_everywhere(
        "RSA_2048",
        Some("RSASSA_PSS_SHA_256"),
        "openssl dgst -sha256 -verify pub.pem -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 -signature sig msg",
        "Verified OK",
    );
}

#[test]
fn rsa_pkcs1_signatures_verify_with_openssl() {
    signature_verifies_everywhere(
        "RSA_2048",
        Some("RSASSA_PKCS1_V1_5_SHA_256"),
        DGST,
        "Verified OK",
    );
}

#[test]
fn ed25519_signatures_verify_with_openssl() {
    signature_verifies_everywhere(
        "ED25519",
        None,
        "openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg -sigfile sig",
        "Signature Verified Successfully",
    );
}

#[test]
fn a_signed_digest_verifies_as_a_signature_of_the_message() {
    let kms = Kms::init();
    let id = kms.create_key("ECC_NIST_P256", &[]);
    let dir = kms.dir.path();
    std::fs::write(dir.join("pub.pem"), kms.ok(&["key", "public-key", &id])).unwrap();
    std::fs::write(dir.join("msg"), b"digest me").unwrap();
    sh(dir, "openssl dgst -sha256 -binary msg > digest");
    let out = kms
        .cmd()
        .current_dir(dir)
        .args([
            "sign", "--key", &id, "--digest", "--input", "digest", "--output", "sig",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(sh(dir, DGST).contains("Verified OK"));
    let out = kms
        .cmd()
        .current_dir(dir)
        .args([
            "verify",
            "--key",
            &id,
            "--digest",
            "--input",
            "digest",
            "--signature",
            "sig",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    // A digest of the wrong length is a usage failure of the operation.
    let (code, _, err) = kms.fail(&["sign", "--key", &id, "--digest"], b"short");
    assert_eq!(code, 1);
    assert!(err.contains("32 bytes"), "{err}");
}

#[test]
fn public_keys_export_as_jwk_and_json() {
    let kms = Kms::init();
    let id = kms.create_key("ECC_NIST_P256", &[]);
    let jwk: serde_json::Value =
        serde_json::from_str(&kms.ok(&["key", "public-key", &id, "--format", "jwk"])).unwrap();
    assert_eq!(jwk["kty"], "EC");
    assert_eq!(jwk["crv"], "P-256");
    let j = kms.json(&["key", "public-key", &id]);
    assert_eq!(j["key_id"], id.as_str());
    assert_eq!(j["spec"], "ECC_NIST_P256");
    assert!(j["pem"].as_str().unwrap().contains("BEGIN PUBLIC KEY"));
    let id = kms.create_key("ED25519", &[]);
    let jwk: serde_json::Value =
        serde_json::from_str(&kms.ok(&["key", "public-key", &id, "--format", "jwk"])).unwrap();
    assert_eq!(jwk["kty"], "OKP");
    // A symmetric key has no public key.
    let aes = kms.create_key("AES_256", &[]);
    let (code, _, _) = kms.fail(&["key", "public-key", &aes], b"");
    assert_eq!(code, 1);
}
