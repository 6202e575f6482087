//! Tests of the crypto module: round trips for every spec and algorithm,
//! error classes for misuse and tampering, public key formats, BYOK
//! wrapping, and interop with the `openssl` command line.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_lc_rs::digest;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::*;
use crate::error::Error;
use crate::rng::{InsecureDeterministicRng, SystemRng};
use crate::secret::KeyMaterial;
use crate::spec::{DataKeyPairSpec, KeySpec, MacAlgorithm, MessageType, SigningAlgorithm};

type TestResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const MESSAGE: &[u8] = b"the quick brown fox signs over the lazy dog";

const ASYMMETRIC: [KeySpec; 6] = [
    KeySpec::Rsa2048,
    KeySpec::Rsa3072,
    KeySpec::Rsa4096,
    KeySpec::EccNistP256,
    KeySpec::EccNistP384,
    KeySpec::Ed25519,
];

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// One prepared key per spec, generated once for the whole test binary (RSA
/// generation is slow).
fn key(spec: KeySpec) -> TestResult<&'static PreparedKey> {
    static KEYS: [OnceLock<Result<PreparedKey, String>>; 10] = [const { OnceLock::new() }; 10];
    let index = KeySpec::ALL
        .iter()
        .position(|s| *s == spec)
        .ok_or("spec missing from KeySpec::ALL")?;
    let cell = KEYS.get(index).ok_or("more specs than key cells")?;
    let prepared = cell.get_or_init(|| {
        generate_key_material(spec, &SystemRng)
            .and_then(|material| PreparedKey::new(spec, &material))
            .map_err(|e| e.to_string())
    });
    Ok(prepared.as_ref().map_err(String::clone)?)
}

/// An import wrapping key with its PKCS#8 and SPKI, as `generate` returns them.
type WrappingKey = (ImportWrappingKey, KeyMaterial, Vec<u8>);

/// One import wrapping key (RSA-4096) for the whole test binary.
fn wrapping_key() -> TestResult<&'static WrappingKey> {
    static KEY: OnceLock<Result<WrappingKey, String>> = OnceLock::new();
    Ok(KEY
        .get_or_init(|| ImportWrappingKey::generate().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(String::clone)?)
}

fn hash(algorithm: SigningAlgorithm, message: &[u8]) -> TestResult<Vec<u8>> {
    let hash = match algorithm.digest_len() {
        Some(32) => &digest::SHA256,
        Some(48) => &digest::SHA384,
        Some(64) => &digest::SHA512,
        _ => return Err(format!("{algorithm} has no digest").into()),
    };
    Ok(digest::digest(hash, message).as_ref().to_vec())
}

/// Asserts that an error message shows none of the secret's bytes.
fn assert_hides(message: &str, secret: &[u8]) {
    if secret.len() < 4 {
        return;
    }
    let prefix = &secret[..secret.len().min(8)];
    assert!(
        !message.contains(&hex::encode(prefix)),
        "message shows secret bytes: {message}"
    );
    assert!(
        !message.contains(&format!("{prefix:?}").trim_matches(['[', ']']).to_string()),
        "message shows secret bytes: {message}"
    );
}

fn flip(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[at] ^= 0x01;
    changed
}

// ---------------------------------------------------------------------------
// Generation and preparation
// ---------------------------------------------------------------------------

#[test]
fn generated_material_prepares_for_every_spec_and_has_the_spec_length() -> TestResult {
    for &spec in KeySpec::ALL {
        let material = generate_key_material(spec, &SystemRng)?;
        let expected_len = match spec {
            KeySpec::Aes128 => Some(16),
            KeySpec::Aes256 | KeySpec::Hmac256 => Some(32),
            KeySpec::Hmac512 => Some(64),
            _ => None,
        };
        if let Some(len) = expected_len {
            assert_eq!(material.len(), len, "{spec}");
        } else {
            // PKCS#8: a DER SEQUENCE.
            assert_eq!(material.expose_secret().first(), Some(&0x30), "{spec}");
        }
        let prepared = PreparedKey::new(spec, &material)?;
        assert_eq!(prepared.spec(), spec);
        assert_eq!(
            prepared.aead().is_some(),
            matches!(spec, KeySpec::Aes128 | KeySpec::Aes256),
            "{spec}"
        );
    }
    Ok(())
}

#[test]
fn symmetric_generation_draws_from_the_injected_rng() -> TestResult {
    for spec in [
        KeySpec::Aes128,
        KeySpec::Aes256,
        KeySpec::Hmac256,
        KeySpec::Hmac512,
    ] {
        let a = generate_key_material(spec, &InsecureDeterministicRng::new(7))?;
        let b = generate_key_material(spec, &InsecureDeterministicRng::new(7))?;
        let c = generate_key_material(spec, &InsecureDeterministicRng::new(8))?;
        assert_eq!(a.expose_secret(), b.expose_secret(), "{spec}");
        assert_ne!(a.expose_secret(), c.expose_secret(), "{spec}");
    }
    Ok(())
}

#[test]
fn generated_ed25519_material_loads_with_maybe_unchecked() -> TestResult {
    let material = generate_key_material(KeySpec::Ed25519, &SystemRng)?;
    assert!(
        aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(material.expose_secret())
            .is_ok()
    );
    Ok(())
}

#[test]
fn pkcs8_v2_ed25519_material_is_accepted() -> TestResult {
    let pair = aws_lc_rs::signature::Ed25519KeyPair::generate()?;
    let v2 = KeyMaterial::from_slice(pair.to_pkcs8()?.as_ref());
    let prepared = PreparedKey::new(KeySpec::Ed25519, &v2)?;
    let signature = prepared.sign(SigningAlgorithm::Ed25519, MESSAGE, MessageType::Raw)?;
    assert!(prepared.verify(
        SigningAlgorithm::Ed25519,
        MESSAGE,
        MessageType::Raw,
        &signature
    )?);
    Ok(())
}

#[test]
fn generate_key_pair_returns_a_matching_private_and_public_key() -> TestResult {
    for &pair_spec in DataKeyPairSpec::ALL {
        let (private, public) = generate_key_pair(pair_spec)?;
        let prepared = PreparedKey::new(
            pair_spec.key_spec(),
            &KeyMaterial::from_slice(private.expose_secret()),
        )?;
        assert_eq!(prepared.public_key_der()?, public, "{pair_spec}");
    }
    Ok(())
}

#[test]
fn material_that_is_not_a_key_of_the_spec_is_rejected_without_showing_it() -> TestResult {
    let p256 = generate_key_material(KeySpec::EccNistP256, &SystemRng)?;
    let ed25519 = generate_key_material(KeySpec::Ed25519, &SystemRng)?;
    let rsa2048 = generate_key_material(KeySpec::Rsa2048, &SystemRng)?;
    let junk = KeyMaterial::from_slice(&[0xa5; 48]);
    let short = KeyMaterial::from_slice(&[0xa5; 31]);
    let long = KeyMaterial::from_slice(&[0xa5; 65]);
    let cases: Vec<(KeySpec, &KeyMaterial)> = vec![
        (KeySpec::Aes128, &junk),
        (KeySpec::Aes256, &junk),
        (KeySpec::Hmac256, &short),
        (KeySpec::Hmac256, &long),
        (KeySpec::Hmac512, &junk),
        (KeySpec::EccNistP384, &p256),
        (KeySpec::EccNistP256, &ed25519),
        (KeySpec::Ed25519, &p256),
        (KeySpec::Rsa3072, &rsa2048),
        (KeySpec::Rsa2048, &p256),
        (KeySpec::Rsa2048, &junk),
    ];
    for (spec, material) in cases {
        match PreparedKey::new(spec, material) {
            Err(
                e @ Error::InvalidArgument {
                    field: "key_material",
                    ..
                },
            ) => {
                let message = e.to_string();
                assert!(message.contains(spec.as_str()), "{message}");
                assert_hides(&message, material.expose_secret());
            }
            other => panic!("{spec}: expected an invalid key_material error, got {other:?}"),
        }
    }
    // HMAC accepts the AWS import ranges.
    PreparedKey::new(KeySpec::Hmac256, &KeyMaterial::from_slice(&[1; 64]))?;
    PreparedKey::new(KeySpec::Hmac512, &KeyMaterial::from_slice(&[1; 128]))?;
    Ok(())
}

#[test]
fn debug_output_never_shows_key_bytes() -> TestResult {
    let secret = [0x5a_u8; 32];
    let aead = AeadKey::new(KeySpec::Aes256, &secret)?;
    let outputs = [
        format!("{aead:?}"),
        format!(
            "{:?}",
            PreparedKey::new(KeySpec::Aes256, &KeyMaterial::from_slice(&secret))?
        ),
        format!(
            "{:?}",
            PreparedKey::new(KeySpec::Hmac256, &KeyMaterial::from_slice(&secret))?
        ),
        format!("{:?}", key(KeySpec::Rsa2048)?),
        format!("{:?}", key(KeySpec::EccNistP256)?),
        format!("{:?}", key(KeySpec::Ed25519)?),
        format!("{:?}", wrapping_key()?.0),
    ];
    for out in outputs {
        assert!(out.contains("redacted"), "{out}");
        assert!(!out.contains("5a5a") && !out.contains("90, 90"), "{out}");
        // No public key or DER dump either (aws-lc's own Debug prints hex).
        assert!(out.len() < 80, "{out}");
    }
    Ok(())
}

#[test]
fn prepared_keys_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PreparedKey>();
    assert_send_sync::<AeadKey>();
    assert_send_sync::<ImportWrappingKey>();
}

// ---------------------------------------------------------------------------
// AES-GCM
// ---------------------------------------------------------------------------

#[test]
fn aes_gcm_round_trips_and_any_change_fails_to_decrypt() -> TestResult {
    for spec in [KeySpec::Aes128, KeySpec::Aes256] {
        let prepared = key(spec)?;
        let aead = prepared.aead().ok_or("no AEAD key")?;
        let nonce = [7u8; 12];
        let mut sealed = b"attack at dawn".to_vec();
        aead.seal_in_place_append_tag(nonce, b"context", &mut sealed)?;
        assert_eq!(sealed.len(), 14 + AeadKey::TAG_LEN);

        let mut opened = sealed.clone();
        assert_eq!(
            aead.open_in_place(nonce, b"context", &mut opened)?,
            b"attack at dawn"
        );

        for (nonce, aad, ciphertext) in [
            ([8u8; 12], &b"context"[..], sealed.clone()),
            (nonce, &b"kontext"[..], sealed.clone()),
            (nonce, &b"context"[..], flip(&sealed, 0)),
            (nonce, &b"context"[..], flip(&sealed, sealed.len() - 1)),
            (nonce, &b"context"[..], sealed[..sealed.len() - 1].to_vec()),
            (nonce, &b"context"[..], Vec::new()),
        ] {
            let mut buffer = ciphertext;
            assert!(matches!(
                aead.open_in_place(nonce, aad, &mut buffer),
                Err(Error::DecryptionFailed)
            ));
        }
    }
    Ok(())
}

#[test]
fn aead_key_checks_spec_and_length() {
    assert!(matches!(
        AeadKey::new(KeySpec::Aes256, &[0; 16]),
        Err(Error::InvalidArgument {
            field: "key_material",
            ..
        })
    ));
    assert!(matches!(
        AeadKey::new(KeySpec::Aes128, &[0; 32]),
        Err(Error::InvalidArgument {
            field: "key_material",
            ..
        })
    ));
    assert!(matches!(
        AeadKey::new(KeySpec::Hmac256, &[0; 32]),
        Err(Error::IncompatibleSpec {
            spec: KeySpec::Hmac256,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------
// Signing
// ---------------------------------------------------------------------------

#[test]
fn every_signing_algorithm_round_trips_raw_and_digest_interchangeably() -> TestResult {
    for spec in ASYMMETRIC {
        let prepared = key(spec)?;
        for &algorithm in spec.signing_algorithms() {
            let raw = prepared.sign(algorithm, MESSAGE, MessageType::Raw)?;
            assert!(
                prepared.verify(algorithm, MESSAGE, MessageType::Raw, &raw)?,
                "{spec} {algorithm} RAW"
            );
            if algorithm == SigningAlgorithm::Ed25519 {
                continue;
            }
            let digest = hash(algorithm, MESSAGE)?;
            let from_digest = prepared.sign(algorithm, &digest, MessageType::Digest)?;
            // A signature over the digest is a signature over the message…
            assert!(
                prepared.verify(algorithm, MESSAGE, MessageType::Raw, &from_digest)?,
                "{spec} {algorithm}: DIGEST-signed, RAW-verified"
            );
            assert!(
                prepared.verify(algorithm, &digest, MessageType::Digest, &from_digest)?,
                "{spec} {algorithm}: DIGEST-signed, DIGEST-verified"
            );
            // …and the other way round.
            assert!(
                prepared.verify(algorithm, &digest, MessageType::Digest, &raw)?,
                "{spec} {algorithm}: RAW-signed, DIGEST-verified"
            );
        }
    }
    Ok(())
}

#[test]
fn signatures_have_the_expected_shape() -> TestResult {
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        let modulus_len = spec.rsa_modulus_len().ok_or("not RSA")?;
        for &algorithm in spec.signing_algorithms() {
            let signature = key(spec)?.sign(algorithm, MESSAGE, MessageType::Raw)?;
            assert_eq!(signature.len(), modulus_len, "{spec} {algorithm}");
        }
    }
    for (spec, algorithm) in [
        (KeySpec::EccNistP256, SigningAlgorithm::EcdsaSha256),
        (KeySpec::EccNistP384, SigningAlgorithm::EcdsaSha384),
    ] {
        // ASN.1 DER ECDSA-Sig-Value, not the fixed r||s form.
        let signature = key(spec)?.sign(algorithm, MESSAGE, MessageType::Raw)?;
        assert_eq!(signature.first(), Some(&0x30), "{spec}");
        assert_eq!(usize::from(signature[1]) + 2, signature.len(), "{spec}");
    }
    let ed = key(KeySpec::Ed25519)?.sign(SigningAlgorithm::Ed25519, MESSAGE, MessageType::Raw)?;
    assert_eq!(ed.len(), 64);
    // Ed25519 is deterministic.
    let again =
        key(KeySpec::Ed25519)?.sign(SigningAlgorithm::Ed25519, MESSAGE, MessageType::Raw)?;
    assert_eq!(ed, again);
    Ok(())
}

#[test]
fn a_tampered_signature_or_message_verifies_false() -> TestResult {
    for spec in ASYMMETRIC {
        let prepared = key(spec)?;
        for &algorithm in spec.signing_algorithms() {
            let signature = prepared.sign(algorithm, MESSAGE, MessageType::Raw)?;
            let verify = |message: &[u8], signature: &[u8]| {
                prepared.verify(algorithm, message, MessageType::Raw, signature)
            };
            assert!(
                !verify(MESSAGE, &flip(&signature, signature.len() - 1))?,
                "{spec} {algorithm}"
            );
            assert!(
                !verify(MESSAGE, &flip(&signature, signature.len() / 2))?,
                "{spec} {algorithm}"
            );
            assert!(
                !verify(MESSAGE, &signature[..signature.len() - 1])?,
                "{spec} {algorithm}"
            );
            assert!(!verify(MESSAGE, &[])?, "{spec} {algorithm}");
            assert!(
                !verify(&flip(MESSAGE, 0), &signature)?,
                "{spec} {algorithm}"
            );
            if algorithm != SigningAlgorithm::Ed25519 {
                let other_digest = hash(algorithm, b"another message")?;
                assert!(
                    !prepared.verify(algorithm, &other_digest, MessageType::Digest, &signature)?,
                    "{spec} {algorithm}"
                );
            }
        }
    }
    // A signature by another key of the same spec does not verify.
    let other = PreparedKey::new(
        KeySpec::EccNistP256,
        &generate_key_material(KeySpec::EccNistP256, &SystemRng)?,
    )?;
    let signature = other.sign(SigningAlgorithm::EcdsaSha256, MESSAGE, MessageType::Raw)?;
    assert!(!key(KeySpec::EccNistP256)?.verify(
        SigningAlgorithm::EcdsaSha256,
        MESSAGE,
        MessageType::Raw,
        &signature
    )?);
    Ok(())
}

#[test]
fn a_digest_of_the_wrong_length_is_an_invalid_message() -> TestResult {
    for spec in ASYMMETRIC {
        let prepared = key(spec)?;
        for &algorithm in spec.signing_algorithms() {
            let Some(len) = algorithm.digest_len() else {
                continue;
            };
            for wrong in [0, len - 1, len + 1, 2 * len] {
                let digest = vec![0x11; wrong];
                assert!(
                    matches!(
                        prepared.sign(algorithm, &digest, MessageType::Digest),
                        Err(Error::InvalidArgument {
                            field: "message",
                            ..
                        })
                    ),
                    "{spec} {algorithm} {wrong}"
                );
                assert!(
                    matches!(
                        prepared.verify(algorithm, &digest, MessageType::Digest, &[0; 64]),
                        Err(Error::InvalidArgument {
                            field: "message",
                            ..
                        })
                    ),
                    "{spec} {algorithm} {wrong}"
                );
            }
        }
    }
    Ok(())
}

#[test]
fn an_algorithm_the_spec_does_not_offer_is_incompatible() -> TestResult {
    let incompatible = |spec: KeySpec, algorithm: SigningAlgorithm, message_type: MessageType| {
        let prepared = key(spec)?;
        let message = vec![0u8; algorithm.digest_len().unwrap_or(3)];
        let signed = prepared.sign(algorithm, &message, message_type);
        let verified = prepared.verify(algorithm, &message, message_type, &[0; 64]);
        let ok = matches!(signed, Err(Error::IncompatibleSpec { spec: s, .. }) if s == spec)
            && matches!(verified, Err(Error::IncompatibleSpec { spec: s, .. }) if s == spec);
        assert!(
            ok,
            "{spec} {algorithm} {message_type}: {signed:?} / {verified:?}"
        );
        TestResult::Ok(())
    };
    incompatible(
        KeySpec::EccNistP256,
        SigningAlgorithm::EcdsaSha384,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::EccNistP384,
        SigningAlgorithm::EcdsaSha256,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::Rsa2048,
        SigningAlgorithm::EcdsaSha256,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::EccNistP256,
        SigningAlgorithm::RsaPssSha256,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::Ed25519,
        SigningAlgorithm::EcdsaSha256,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::Ed25519,
        SigningAlgorithm::Ed25519,
        MessageType::Digest,
    )?;
    incompatible(
        KeySpec::Aes256,
        SigningAlgorithm::RsaPssSha256,
        MessageType::Raw,
    )?;
    incompatible(
        KeySpec::Hmac256,
        SigningAlgorithm::EcdsaSha256,
        MessageType::Digest,
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------
// HMAC
// ---------------------------------------------------------------------------

#[test]
fn hmac_round_trips_and_a_changed_byte_does_not_verify() -> TestResult {
    for (spec, algorithm) in [
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512),
    ] {
        let prepared = key(spec)?;
        let mac = prepared.mac(algorithm, MESSAGE)?;
        assert_eq!(mac.len(), algorithm.mac_len());
        assert!(prepared.verify_mac(algorithm, MESSAGE, &mac)?);
        assert!(!prepared.verify_mac(algorithm, MESSAGE, &flip(&mac, 0))?);
        assert!(!prepared.verify_mac(algorithm, MESSAGE, &flip(&mac, mac.len() - 1))?);
        assert!(!prepared.verify_mac(algorithm, MESSAGE, &mac[..mac.len() - 1])?);
        assert!(!prepared.verify_mac(algorithm, &flip(MESSAGE, 3), &mac)?);
        assert!(!prepared.verify_mac(algorithm, MESSAGE, &[])?);
    }
    Ok(())
}

#[test]
fn hmac_matches_rfc_4231_test_case_2_extended_key() -> TestResult {
    // RFC 4231 §4.3 uses the 4-byte key "Jefe", shorter than a KMS key may
    // be. HMAC pads keys with zeros to the block size, so "Jefe" followed by
    // 28 zero bytes is the same key and gives the RFC's answer.
    let mut material = b"Jefe".to_vec();
    material.resize(32, 0);
    let prepared = PreparedKey::new(KeySpec::Hmac256, &KeyMaterial::new(material))?;
    let mac = prepared.mac(MacAlgorithm::HmacSha256, b"what do ya want for nothing?")?;
    assert_eq!(
        hex::encode(mac),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    Ok(())
}

#[test]
fn a_mac_algorithm_that_does_not_fit_the_spec_is_incompatible() -> TestResult {
    let cases = [
        (KeySpec::Hmac256, MacAlgorithm::HmacSha512),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha256),
        (KeySpec::Aes256, MacAlgorithm::HmacSha256),
        (KeySpec::EccNistP256, MacAlgorithm::HmacSha256),
    ];
    for (spec, algorithm) in cases {
        let prepared = key(spec)?;
        assert!(matches!(
            prepared.mac(algorithm, MESSAGE),
            Err(Error::IncompatibleSpec { .. })
        ));
        assert!(matches!(
            prepared.verify_mac(algorithm, MESSAGE, &[0; 32]),
            Err(Error::IncompatibleSpec { .. })
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// RSA-OAEP
// ---------------------------------------------------------------------------

#[test]
fn rsa_oaep_round_trips_and_tampering_is_decryption_failed() -> TestResult {
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        let prepared = key(spec)?;
        let max = spec.max_plaintext_len().ok_or("no limit")?;
        for plaintext in [
            &b""[..],
            b"a data key of 32 bytes, exactly!",
            &vec![9u8; max],
        ] {
            let ciphertext = prepared.rsa_oaep_encrypt(plaintext)?;
            assert_eq!(Some(ciphertext.len()), spec.rsa_modulus_len());
            assert_eq!(
                prepared.rsa_oaep_decrypt(&ciphertext)?.expose_secret(),
                plaintext
            );
            for bad in [
                flip(&ciphertext, 0),
                flip(&ciphertext, ciphertext.len() - 1),
                ciphertext[1..].to_vec(),
                Vec::new(),
            ] {
                assert!(matches!(
                    prepared.rsa_oaep_decrypt(&bad),
                    Err(Error::DecryptionFailed)
                ));
            }
        }
        assert!(matches!(
            prepared.rsa_oaep_encrypt(&vec![0; max + 1]),
            Err(Error::PayloadTooLarge { .. })
        ));
    }
    // A ciphertext for another key fails the same way.
    let ciphertext = key(KeySpec::Rsa2048)?.rsa_oaep_encrypt(b"secret")?;
    let other = PreparedKey::new(
        KeySpec::Rsa2048,
        &generate_key_material(KeySpec::Rsa2048, &SystemRng)?,
    )?;
    assert!(matches!(
        other.rsa_oaep_decrypt(&ciphertext),
        Err(Error::DecryptionFailed)
    ));
    Ok(())
}

#[test]
fn rsa_oaep_on_a_non_rsa_key_is_incompatible() -> TestResult {
    for spec in [
        KeySpec::Aes256,
        KeySpec::EccNistP256,
        KeySpec::Ed25519,
        KeySpec::Hmac256,
    ] {
        assert!(matches!(
            key(spec)?.rsa_oaep_encrypt(b"x"),
            Err(Error::IncompatibleSpec { .. })
        ));
        assert!(matches!(
            key(spec)?.rsa_oaep_decrypt(&[0; 256]),
            Err(Error::IncompatibleSpec { .. })
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Public key formats
// ---------------------------------------------------------------------------

#[test]
fn symmetric_keys_have_no_public_key() -> TestResult {
    for spec in [
        KeySpec::Aes128,
        KeySpec::Aes256,
        KeySpec::Hmac256,
        KeySpec::Hmac512,
    ] {
        match key(spec)?.public_key_der() {
            Err(Error::IncompatibleSpec { spec: s, what }) => {
                assert_eq!(s, spec);
                assert_eq!(what, "export a public key");
            }
            other => panic!("{spec}: {other:?}"),
        }
        assert!(matches!(
            spki_der_to_jwk(spec, &[0x30, 0x00], "k"),
            Err(Error::IncompatibleSpec { .. })
        ));
    }
    Ok(())
}

#[test]
fn jwk_has_the_rfc_fields_with_the_right_lengths() -> TestResult {
    let decoded = |jwk: &serde_json::Value, field: &str| -> TestResult<Vec<u8>> {
        let text = jwk[field].as_str().ok_or(format!("no {field}"))?;
        assert!(!text.contains('='), "padding in {field}");
        Ok(URL_SAFE_NO_PAD.decode(text)?)
    };
    for spec in [KeySpec::Rsa2048, KeySpec::Rsa3072, KeySpec::Rsa4096] {
        let jwk = spki_der_to_jwk(spec, &key(spec)?.public_key_der()?, "key-1")?;
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["kid"], "key-1");
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(Some(decoded(&jwk, "n")?.len()), spec.rsa_modulus_len());
        assert!(jwk.get("use").is_none());
    }
    for (spec, crv, len) in [
        (KeySpec::EccNistP256, "P-256", 32),
        (KeySpec::EccNistP384, "P-384", 48),
    ] {
        let jwk = spki_der_to_jwk(spec, &key(spec)?.public_key_der()?, "key-2")?;
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], crv);
        assert_eq!(jwk["kid"], "key-2");
        assert_eq!(decoded(&jwk, "x")?.len(), len);
        assert_eq!(decoded(&jwk, "y")?.len(), len);
        assert!(jwk.get("d").is_none());
    }
    let jwk = spki_der_to_jwk(
        KeySpec::Ed25519,
        &key(KeySpec::Ed25519)?.public_key_der()?,
        "key-3",
    )?;
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(decoded(&jwk, "x")?.len(), 32);
    assert!(jwk.get("d").is_none());
    Ok(())
}

#[test]
fn ed25519_jwk_x_is_the_raw_public_key() -> TestResult {
    // RFC 8032 §7.1 test 1 public key, wrapped in its SPKI.
    let raw = hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")?;
    let mut spki = hex::decode("302a300506032b6570032100")?;
    spki.extend_from_slice(&raw);
    let jwk = spki_der_to_jwk(KeySpec::Ed25519, &spki, "k")?;
    assert_eq!(jwk["x"], "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    Ok(())
}

#[test]
fn jwk_of_a_public_key_of_another_spec_is_invalid() -> TestResult {
    let cases = [
        (KeySpec::EccNistP384, KeySpec::EccNistP256),
        (KeySpec::EccNistP256, KeySpec::Ed25519),
        (KeySpec::Ed25519, KeySpec::Rsa2048),
        (KeySpec::Rsa3072, KeySpec::Rsa2048),
        (KeySpec::Rsa2048, KeySpec::EccNistP256),
    ];
    for (asked, actual) in cases {
        let der = key(actual)?.public_key_der()?;
        assert!(
            matches!(
                spki_der_to_jwk(asked, &der, "k"),
                Err(Error::InvalidArgument {
                    field: "public_key",
                    ..
                })
            ),
            "{asked} from {actual}"
        );
    }
    // Truncated or padded DER.
    let der = key(KeySpec::EccNistP256)?.public_key_der()?;
    for bad in [
        &der[..der.len() - 1],
        &[der.as_slice(), &[0]].concat(),
        &[][..],
    ] {
        assert!(matches!(
            spki_der_to_jwk(KeySpec::EccNistP256, bad, "k"),
            Err(Error::InvalidArgument { .. })
        ));
    }
    Ok(())
}

#[test]
fn pem_round_trips_with_64_column_lines() -> TestResult {
    for spec in ASYMMETRIC {
        let der = key(spec)?.public_key_der()?;
        let pem = spki_der_to_pem(&der);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
        assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
        let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let (last, full) = body.split_last().ok_or("empty PEM body")?;
        assert!(full.iter().all(|line| line.len() == 64), "{spec}");
        assert!(!last.is_empty() && last.len() <= 64, "{spec}");
        assert_eq!(pem_to_der(&pem)?, der, "{spec}");
        // CRLF line endings and leading text are tolerated.
        let crlf = format!("some comment\r\n{}", pem.replace('\n', "\r\n"));
        assert_eq!(pem_to_der(&crlf)?, der, "{spec}");
    }
    Ok(())
}

#[test]
fn malformed_pem_is_an_invalid_argument() {
    let cases = [
        "",
        "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END RSA PRIVATE KEY-----\n",
    ];
    for pem in cases {
        assert!(
            matches!(
                pem_to_der(pem),
                Err(Error::InvalidArgument { field: "pem", .. })
            ),
            "{pem:?}"
        );
    }
}

mod never_panics {
    use proptest::prelude::*;

    use super::super::{pem_to_der, spki_der_to_jwk};
    use crate::spec::KeySpec;

    proptest! {
        #[test]
        fn spki_der_to_jwk_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            for &spec in KeySpec::ALL {
                let _ = spki_der_to_jwk(spec, &bytes, "k");
            }
        }

        #[test]
        fn spki_der_to_jwk_on_spki_like_prefixes(tail in proptest::collection::vec(any::<u8>(), 0..120)) {
            // An SPKI header followed by arbitrary bytes exercises the deeper parsers.
            let mut bytes = vec![0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
            bytes.extend_from_slice(&tail);
            for &spec in KeySpec::ALL {
                let _ = spki_der_to_jwk(spec, &bytes, "k");
            }
        }

        #[test]
        fn pem_to_der_on_arbitrary_text(text in "\\PC*") {
            let _ = pem_to_der(&text);
            let _ = pem_to_der(&format!("-----BEGIN X-----\n{text}\n-----END X-----"));
        }
    }
}

// ---------------------------------------------------------------------------
// BYOK import wrapping
// ---------------------------------------------------------------------------

#[test]
fn wrapped_key_material_unwraps_to_the_same_bytes() -> TestResult {
    let (wrapping, pkcs8, spki) = wrapping_key()?;
    let p256 = generate_key_material(KeySpec::EccNistP256, &SystemRng)?;
    for material in [
        &[0x42u8; 32][..],
        &[0x17; 20],
        &[0x01],
        p256.expose_secret(),
    ] {
        let wrapped = wrap_for_import(spki, material, &SystemRng)?;
        assert_eq!(
            wrapped.len(),
            WRAPPED_EPHEMERAL_KEY_LEN + material.len().div_ceil(8) * 8 + 8
        );
        assert_eq!(wrapping.unwrap(&wrapped)?.expose_secret(), material);
        // A wrapping key reloaded from its stored PKCS#8 unwraps too.
        let reloaded = ImportWrappingKey::from_pkcs8(pkcs8)?;
        assert_eq!(reloaded.unwrap(&wrapped)?.expose_secret(), material);
    }
    let unwrapped = wrapping.unwrap(&wrap_for_import(spki, p256.expose_secret(), &SystemRng)?)?;
    PreparedKey::new(KeySpec::EccNistP256, &unwrapped)?;
    Ok(())
}

#[test]
fn a_tampered_or_misformatted_wrap_is_import_failed_without_showing_bytes() -> TestResult {
    let (wrapping, _, spki) = wrapping_key()?;
    let material = [0x42u8; 32];
    let wrapped = wrap_for_import(spki, &material, &SystemRng)?;
    let other_wrapping = ImportWrappingKey::generate()?;
    let cases = [
        ("rsa part", flip(&wrapped, 10)),
        ("kwp part", flip(&wrapped, WRAPPED_EPHEMERAL_KEY_LEN + 3)),
        ("kwp tail", flip(&wrapped, wrapped.len() - 1)),
        ("truncated", wrapped[..wrapped.len() - 8].to_vec()),
        ("odd length", wrapped[..wrapped.len() - 1].to_vec()),
        ("rsa only", wrapped[..WRAPPED_EPHEMERAL_KEY_LEN].to_vec()),
        ("short", wrapped[..100].to_vec()),
        ("empty", Vec::new()),
        (
            "other key",
            wrap_for_import(&other_wrapping.2, &material, &SystemRng)?,
        ),
    ];
    for (name, bad) in cases {
        match wrapping.unwrap(&bad) {
            Err(e @ Error::ImportFailed(_)) => {
                let message = e.to_string();
                assert!(message.contains("wrap"), "{name}: {message}");
                assert_hides(&message, &material);
                assert_hides(&message, &bad);
            }
            other => panic!("{name}: expected ImportFailed, got {other:?}"),
        }
    }
    Ok(())
}

#[test]
fn wrapping_needs_an_rsa_4096_key() -> TestResult {
    let rsa2048 = key(KeySpec::Rsa2048)?;
    assert!(matches!(
        wrap_for_import(&rsa2048.public_key_der()?, &[1; 32], &SystemRng),
        Err(Error::InvalidArgument {
            field: "wrapping_public_key",
            ..
        })
    ));
    assert!(matches!(
        wrap_for_import(
            &key(KeySpec::EccNistP256)?.public_key_der()?,
            &[1; 32],
            &SystemRng
        ),
        Err(Error::InvalidArgument {
            field: "wrapping_public_key",
            ..
        })
    ));
    assert!(matches!(
        wrap_for_import(&wrapping_key()?.2, &[], &SystemRng),
        Err(Error::InvalidArgument {
            field: "key_material",
            ..
        })
    ));
    let pkcs8_2048 = generate_key_material(KeySpec::Rsa2048, &SystemRng)?;
    assert!(matches!(
        ImportWrappingKey::from_pkcs8(&pkcs8_2048),
        Err(Error::InvalidArgument {
            field: "wrapping_key",
            ..
        })
    ));
    assert!(matches!(
        ImportWrappingKey::from_pkcs8(&KeyMaterial::from_slice(b"not a key")),
        Err(Error::InvalidArgument {
            field: "wrapping_key",
            ..
        })
    ));
    Ok(())
}

// ---------------------------------------------------------------------------
// Interop with the openssl command line
// ---------------------------------------------------------------------------

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TestResult<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kms-core-crypto-{name}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(Self(dir))
    }

    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    fn write(&self, file: &str, bytes: impl AsRef<[u8]>) -> TestResult<PathBuf> {
        let path = self.path(file);
        std::fs::write(&path, bytes)?;
        Ok(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether `openssl` can run. Without it the interop tests skip loudly,
/// and fail under `KMS_REQUIRE_PEERS=1`.
fn have_openssl(test: &str) -> bool {
    let found = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        assert!(
            std::env::var_os("KMS_REQUIRE_PEERS").is_none_or(|v| v != "1"),
            "{test}: openssl is required (KMS_REQUIRE_PEERS=1) but cannot be run"
        );
        eprintln!("SKIPPING {test}: the `openssl` command is not available");
    }
    found
}

/// Runs openssl with `args`; fails the test with its stderr if it fails.
fn openssl(args: &[&dyn AsRef<std::ffi::OsStr>]) -> TestResult<Vec<u8>> {
    let output = Command::new("openssl").args(args).output()?;
    if !output.status.success() {
        let shown: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        return Err(format!(
            "openssl {} failed: {}{}",
            shown.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    Ok(output.stdout)
}

fn write_public_pem(dir: &TempDir, prepared: &PreparedKey) -> TestResult<PathBuf> {
    dir.write("public.pem", spki_der_to_pem(&prepared.public_key_der()?))
}

#[test]
fn openssl_verifies_our_ecdsa_rsa_and_ed25519_signatures() -> TestResult {
    if !have_openssl("openssl_verifies_our_ecdsa_rsa_and_ed25519_signatures") {
        return Ok(());
    }
    let dir = TempDir::new("verify")?;
    let message = dir.write("message.bin", MESSAGE)?;

    // (spec, algorithm, openssl dgst options)
    let cases: [(KeySpec, SigningAlgorithm, &[&str]); 8] = [
        (
            KeySpec::EccNistP256,
            SigningAlgorithm::EcdsaSha256,
            &["-sha256"],
        ),
        (
            KeySpec::EccNistP384,
            SigningAlgorithm::EcdsaSha384,
            &["-sha384"],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsaPkcs1Sha256,
            &["-sha256"],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsaPkcs1Sha512,
            &["-sha512"],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsaPssSha256,
            &[
                "-sha256",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:-1",
            ],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsaPssSha384,
            &[
                "-sha384",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:48",
            ],
        ),
        (
            KeySpec::Rsa3072,
            SigningAlgorithm::RsaPssSha512,
            &[
                "-sha512",
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:-1",
            ],
        ),
        (
            KeySpec::Rsa4096,
            SigningAlgorithm::RsaPkcs1Sha384,
            &["-sha384"],
        ),
    ];
    for (spec, algorithm, options) in cases {
        let prepared = key(spec)?;
        let public = write_public_pem(&dir, prepared)?;
        for message_type in [MessageType::Raw, MessageType::Digest] {
            let input = match message_type {
                MessageType::Raw => MESSAGE.to_vec(),
                MessageType::Digest => hash(algorithm, MESSAGE)?,
            };
            let signature = dir.write(
                "signature.bin",
                prepared.sign(algorithm, &input, message_type)?,
            )?;
            let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"dgst"];
            args.extend(options.iter().map(|o| o as &dyn AsRef<std::ffi::OsStr>));
            args.extend([
                &"-verify" as &dyn AsRef<std::ffi::OsStr>,
                &public,
                &"-signature",
                &signature,
                &message,
            ]);
            let out =
                openssl(&args).map_err(|e| format!("{spec} {algorithm} {message_type}: {e}"))?;
            assert!(String::from_utf8_lossy(&out).contains("Verified OK"));
        }
    }

    let prepared = key(KeySpec::Ed25519)?;
    let public = write_public_pem(&dir, prepared)?;
    let signature = dir.write(
        "signature.bin",
        prepared.sign(SigningAlgorithm::Ed25519, MESSAGE, MessageType::Raw)?,
    )?;
    let out = openssl(&[
        &"pkeyutl",
        &"-verify",
        &"-pubin",
        &"-inkey",
        &public,
        &"-rawin",
        &"-in",
        &message,
        &"-sigfile",
        &signature,
    ])?;
    assert!(String::from_utf8_lossy(&out).contains("Signature Verified Successfully"));

    // And a tampered signature is refused by openssl too (the check above is not vacuous).
    let bad = prepared.sign(SigningAlgorithm::Ed25519, MESSAGE, MessageType::Raw)?;
    let bad = dir.write("bad.bin", flip(&bad, 5))?;
    assert!(
        openssl(&[
            &"pkeyutl",
            &"-verify",
            &"-pubin",
            &"-inkey",
            &public,
            &"-rawin",
            &"-in",
            &message,
            &"-sigfile",
            &bad,
        ])
        .is_err()
    );
    Ok(())
}

#[test]
fn openssl_generated_keys_import_and_their_signatures_verify() -> TestResult {
    if !have_openssl("openssl_generated_keys_import_and_their_signatures_verify") {
        return Ok(());
    }
    let dir = TempDir::new("import")?;
    let message = dir.write("message.bin", MESSAGE)?;
    let cases: [(KeySpec, SigningAlgorithm, &[&str]); 4] = [
        (
            KeySpec::EccNistP256,
            SigningAlgorithm::EcdsaSha256,
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        ),
        (
            KeySpec::EccNistP384,
            SigningAlgorithm::EcdsaSha384,
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        ),
        (
            KeySpec::Rsa2048,
            SigningAlgorithm::RsaPkcs1Sha256,
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            KeySpec::Ed25519,
            SigningAlgorithm::Ed25519,
            &["-algorithm", "ed25519"],
        ),
    ];
    for (spec, algorithm, options) in cases {
        let private = dir.path("private.pem");
        let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&"genpkey"];
        args.extend(options.iter().map(|o| o as &dyn AsRef<std::ffi::OsStr>));
        args.extend([&"-out" as &dyn AsRef<std::ffi::OsStr>, &private]);
        openssl(&args)?;

        let pkcs8 = pem_to_der(&std::fs::read_to_string(&private)?)?;
        let prepared =
            PreparedKey::new(spec, &KeyMaterial::new(pkcs8)).map_err(|e| format!("{spec}: {e}"))?;
        let public_der = openssl(&[&"pkey", &"-in", &private, &"-pubout", &"-outform", &"DER"])?;
        assert_eq!(prepared.public_key_der()?, public_der, "{spec}");

        let signature = dir.path("signature.bin");
        if spec == KeySpec::Ed25519 {
            openssl(&[
                &"pkeyutl", &"-sign", &"-inkey", &private, &"-rawin", &"-in", &message, &"-out",
                &signature,
            ])?;
        } else {
            let hash = if spec == KeySpec::EccNistP384 {
                "-sha384"
            } else {
                "-sha256"
            };
            openssl(&[
                &"dgst", &hash, &"-sign", &private, &"-out", &signature, &message,
            ])?;
        }
        let signature = std::fs::read(&signature)?;
        assert!(
            prepared.verify(algorithm, MESSAGE, MessageType::Raw, &signature)?,
            "{spec}"
        );
    }
    Ok(())
}

#[test]
fn openssl_wrapped_key_material_unwraps_with_the_import_wrapping_key() -> TestResult {
    if !have_openssl("openssl_wrapped_key_material_unwraps_with_the_import_wrapping_key") {
        return Ok(());
    }
    let dir = TempDir::new("wrap")?;
    let (wrapping, _, spki) = wrapping_key()?;
    let public = dir.write("wrapping.pem", spki_der_to_pem(spki))?;
    let p256 = generate_key_material(KeySpec::EccNistP256, &SystemRng)?;
    for material in [&[0x42u8; 32][..], &[0x17; 20], p256.expose_secret()] {
        let mut ephemeral = [0u8; 32];
        crate::rng::Rng::fill(&SystemRng, &mut ephemeral)?;
        let ephemeral_file = dir.write("ephemeral.bin", ephemeral)?;
        let material_file = dir.write("material.bin", material)?;
        let wrapped_key = dir.path("ephemeral.enc");
        let wrapped_material = dir.path("material.enc");
        openssl(&[
            &"pkeyutl",
            &"-encrypt",
            &"-pubin",
            &"-inkey",
            &public,
            &"-in",
            &ephemeral_file,
            &"-out",
            &wrapped_key,
            &"-pkeyopt",
            &"rsa_padding_mode:oaep",
            &"-pkeyopt",
            &"rsa_oaep_md:sha256",
            &"-pkeyopt",
            &"rsa_mgf1_md:sha256",
        ])?;
        openssl(&[
            &"enc",
            &"-id-aes256-wrap-pad",
            &"-K",
            &hex::encode(ephemeral),
            &"-iv",
            &"A65959A6",
            &"-in",
            &material_file,
            &"-out",
            &wrapped_material,
        ])?;
        let mut wrapped = std::fs::read(&wrapped_key)?;
        wrapped.extend(std::fs::read(&wrapped_material)?);
        assert_eq!(wrapping.unwrap(&wrapped)?.expose_secret(), material);
    }
    Ok(())
}

#[test]
fn openssl_unwraps_what_wrap_for_import_produces() -> TestResult {
    if !have_openssl("openssl_unwraps_what_wrap_for_import_produces") {
        return Ok(());
    }
    let dir = TempDir::new("unwrap")?;
    let (_, pkcs8, spki) = wrapping_key()?;
    let private = dir.write("wrapping.der", pkcs8.expose_secret())?;
    let material = [0x5cu8; 44];
    let wrapped = wrap_for_import(spki, &material, &SystemRng)?;
    let (rsa_part, kwp_part) = wrapped.split_at(WRAPPED_EPHEMERAL_KEY_LEN);
    let rsa_part = dir.write("ephemeral.enc", rsa_part)?;
    let kwp_part = dir.write("material.enc", kwp_part)?;
    let ephemeral = openssl(&[
        &"pkeyutl",
        &"-decrypt",
        &"-keyform",
        &"DER",
        &"-inkey",
        &private,
        &"-in",
        &rsa_part,
        &"-pkeyopt",
        &"rsa_padding_mode:oaep",
        &"-pkeyopt",
        &"rsa_oaep_md:sha256",
        &"-pkeyopt",
        &"rsa_mgf1_md:sha256",
    ])?;
    assert_eq!(ephemeral.len(), 32);
    let unwrapped = openssl(&[
        &"enc",
        &"-d",
        &"-id-aes256-wrap-pad",
        &"-K",
        &hex::encode(&ephemeral),
        &"-iv",
        &"A65959A6",
        &"-in",
        &kwp_part,
    ])?;
    assert_eq!(unwrapped, material);
    Ok(())
}

#[test]
fn openssl_computes_the_same_hmac() -> TestResult {
    if !have_openssl("openssl_computes_the_same_hmac") {
        return Ok(());
    }
    let dir = TempDir::new("hmac")?;
    let message = dir.write("message.bin", MESSAGE)?;
    for (spec, algorithm, hash) in [
        (KeySpec::Hmac256, MacAlgorithm::HmacSha256, "-sha256"),
        (KeySpec::Hmac512, MacAlgorithm::HmacSha512, "-sha512"),
    ] {
        let material = generate_key_material(spec, &SystemRng)?;
        let prepared = PreparedKey::new(spec, &material)?;
        let key_option = format!("hexkey:{}", hex::encode(material.expose_secret()));
        let theirs = openssl(&[
            &"dgst",
            &hash,
            &"-mac",
            &"HMAC",
            &"-macopt",
            &key_option,
            &"-binary",
            &message,
        ])?;
        assert_eq!(prepared.mac(algorithm, MESSAGE)?, theirs, "{spec}");
    }
    Ok(())
}

#[test]
fn openssl_reads_our_pem_and_agrees_on_the_rsa_jwk_modulus() -> TestResult {
    if !have_openssl("openssl_reads_our_pem_and_agrees_on_the_rsa_jwk_modulus") {
        return Ok(());
    }
    let dir = TempDir::new("pem")?;
    let prepared = key(KeySpec::Rsa2048)?;
    let public = write_public_pem(&dir, prepared)?;
    let text = openssl(&[&"rsa", &"-pubin", &"-in", &public, &"-noout", &"-modulus"])?;
    let text = String::from_utf8(text)?;
    let modulus_hex = text.trim().strip_prefix("Modulus=").ok_or("no modulus")?;
    let jwk = spki_der_to_jwk(KeySpec::Rsa2048, &prepared.public_key_der()?, "k")?;
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().ok_or("no n")?)?;
    assert_eq!(hex::encode_upper(n), modulus_hex);
    Ok(())
}
