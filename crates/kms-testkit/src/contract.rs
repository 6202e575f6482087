//! The backend contract suite.

use std::future::Future;
use std::sync::Arc;

use kms_core::types::{CreateKeyRequest, DataKeyLength, KeyUpdate};
use kms_core::{
    DataKeyPairSpec, DataKeySpec, EncryptionContext, Error, ErrorKind, KeyOrigin, KeyRef, KeySpec,
    KeyState, KmsManager, ManualClock, MessageType, Operation,
};

/// One fresh instance of a backend under test.
pub struct Harness {
    /// The facade over the backend.
    pub kms: KmsManager,
    /// The backend's clock, when the test can move it (rotation and deletion windows).
    pub clock: Option<Arc<ManualClock>>,
}

/// Runs every check of the contract, each on a fresh harness from `make`.
pub async fn run<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Harness>,
{
    encrypt_decrypt_round_trips_with_context(&make().await).await;
    decryption_with_another_context_fails_like_a_wrong_key(&make().await).await;
    tampered_or_truncated_ciphertext_fails(&make().await).await;
    ciphertext_from_before_a_rotation_still_decrypts_after_it(&make().await).await;
    min_decryption_version_retires_old_versions(&make().await).await;
    re_encrypt_moves_a_ciphertext_to_another_key_and_context(&make().await).await;
    data_keys_and_data_key_pairs_decrypt_to_their_plaintext(&make().await).await;
    sign_verify_and_mac_agree(&make().await).await;
    oversized_plaintext_points_to_envelope_encryption(&make().await).await;
    state_operation_table_is_enforced(&make().await).await;
    deletion_window_is_7_to_30_days_and_cancellable(&make().await).await;
    if let Some(h) = Some(make().await).filter(|h| h.clock.is_some()) {
        keys_are_destroyed_when_the_deletion_window_passes(&h).await;
    }
    if let Some(h) = Some(make().await).filter(|h| h.clock.is_some()) {
        automatic_rotation_happens_when_the_period_passes(&h).await;
    }
}

fn supports(h: &Harness, op: Operation) -> bool {
    h.kms.default_backend().capabilities().supports(op)
}

async fn create(h: &Harness, spec: KeySpec) -> KeyRef {
    KeyRef::Id(
        h.kms
            .create_key(CreateKeyRequest::new(spec))
            .await
            .unwrap_or_else(|e| panic!("create {spec}: {e}"))
            .key_id,
    )
}

fn ctx(s: &str) -> EncryptionContext {
    EncryptionContext::parse(s).unwrap()
}

fn assert_kind<T: std::fmt::Debug>(r: Result<T, Error>, kind: ErrorKind, what: &str) {
    match r {
        Ok(v) => panic!("{what}: expected a {kind:?} error, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind(), kind, "{what}: got {e}"),
    }
}

async fn encrypt_decrypt_round_trips_with_context(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let c = ctx("env=prod,service=api");
    for pt in [&b""[..], b"secret", &[0xAB; 4096][..]] {
        let ct = h.kms.encrypt(&key, pt, &c).await.unwrap();
        assert_ne!(ct.ciphertext.as_slice(), pt);
        let back = h.kms.decrypt(&ct.ciphertext, &c, None).await.unwrap();
        assert_eq!(back.plaintext.expose_secret(), pt);
        assert_eq!(back.version, 1);
    }
    let rsa = create(h, KeySpec::Rsa2048).await;
    let empty = EncryptionContext::new();
    let ct = h.kms.encrypt(&rsa, b"rsa secret", &empty).await.unwrap();
    let back = h.kms.decrypt(&ct.ciphertext, &empty, None).await.unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"rsa secret");
}

async fn decryption_with_another_context_fails_like_a_wrong_key(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let ct = h
        .kms
        .encrypt(&key, b"secret", &ctx("env=prod"))
        .await
        .unwrap();
    for wrong in ["env=dev", "", "env=prod,extra=1", "ENV=prod"] {
        let r = h.kms.decrypt(&ct.ciphertext, &ctx(wrong), None).await;
        assert!(
            matches!(r, Err(Error::DecryptionFailed)),
            "context {wrong:?}: {r:?}"
        );
    }
    let other = create(h, KeySpec::Aes256).await;
    let r = h
        .kms
        .decrypt(&ct.ciphertext, &ctx("env=prod"), Some(&other))
        .await;
    assert_kind(
        r,
        ErrorKind::InvalidInput,
        "decrypt with a key other than the ciphertext's",
    );
}

async fn tampered_or_truncated_ciphertext_fails(h: &Harness) {
    let key = create(h, KeySpec::Aes128).await;
    let c = ctx("a=b");
    let ct = h
        .kms
        .encrypt(&key, b"attack at dawn", &c)
        .await
        .unwrap()
        .ciphertext;
    for i in 0..ct.len() {
        let mut bad = ct.clone();
        bad[i] ^= 0x01;
        let r = h.kms.decrypt(&bad, &c, None).await;
        assert!(r.is_err(), "flipping byte {i} still decrypted");
    }
    for n in [0, 1, ct.len() / 2, ct.len() - 1] {
        let r = h.kms.decrypt(&ct[..n], &c, None).await;
        assert!(r.is_err(), "truncating to {n} bytes still decrypted");
    }
    let mut longer = ct.clone();
    longer.push(0);
    assert!(h.kms.decrypt(&longer, &c, None).await.is_err());
}

async fn ciphertext_from_before_a_rotation_still_decrypts_after_it(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let c = ctx("k=v");
    let old = h.kms.encrypt(&key, b"v1 data", &c).await.unwrap();
    assert_eq!(old.version, 1);
    let meta = h.kms.rotate_key(&key).await.unwrap();
    assert_eq!(meta.current_version, 2);
    let new = h.kms.encrypt(&key, b"v2 data", &c).await.unwrap();
    assert_eq!(new.version, 2);
    let a = h.kms.decrypt(&old.ciphertext, &c, None).await.unwrap();
    assert_eq!(
        (a.plaintext.expose_secret(), a.version),
        (&b"v1 data"[..], 1)
    );
    let b = h.kms.decrypt(&new.ciphertext, &c, None).await.unwrap();
    assert_eq!(
        (b.plaintext.expose_secret(), b.version),
        (&b"v2 data"[..], 2)
    );
    // Signing keys rotate too; old signatures still verify.
    let sk = create(h, KeySpec::EccNistP256).await;
    let sig = h.kms.sign(&sk, b"m", MessageType::Raw, None).await.unwrap();
    h.kms.rotate_key(&sk).await.unwrap();
    assert!(
        h.kms
            .verify(&sk, b"m", MessageType::Raw, None, &sig.signature, None)
            .await
            .unwrap()
    );
    let sig2 = h.kms.sign(&sk, b"m", MessageType::Raw, None).await.unwrap();
    assert_eq!(sig2.version, 2);
}

async fn min_decryption_version_retires_old_versions(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let c = EncryptionContext::new();
    let old = h.kms.encrypt(&key, b"x", &c).await.unwrap();
    h.kms.rotate_key(&key).await.unwrap();
    let update = KeyUpdate {
        min_decryption_version: Some(2),
        ..KeyUpdate::default()
    };
    h.kms.update_key(&key, update).await.unwrap();
    assert_kind(
        h.kms.decrypt(&old.ciphertext, &c, None).await,
        ErrorKind::FailedPrecondition,
        "decrypt below min_decryption_version",
    );
    let bad = KeyUpdate {
        min_decryption_version: Some(3),
        ..KeyUpdate::default()
    };
    assert_kind(
        h.kms.update_key(&key, bad).await,
        ErrorKind::InvalidInput,
        "min_decryption_version above newest",
    );
}

async fn re_encrypt_moves_a_ciphertext_to_another_key_and_context(h: &Harness) {
    let a = create(h, KeySpec::Aes256).await;
    let b = create(h, KeySpec::Aes128).await;
    let ct = h.kms.encrypt(&a, b"moving", &ctx("from=a")).await.unwrap();
    let moved = h
        .kms
        .re_encrypt(&ct.ciphertext, &ctx("from=a"), None, &b, &ctx("to=b"))
        .await
        .unwrap();
    let b_id = h.kms.key_id(&b).await.unwrap();
    assert_eq!(moved.key_id, b_id);
    let back = h
        .kms
        .decrypt(&moved.ciphertext, &ctx("to=b"), None)
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"moving");
    let r = h
        .kms
        .re_encrypt(&ct.ciphertext, &ctx("from=x"), None, &b, &ctx("to=b"))
        .await;
    assert!(matches!(r, Err(Error::DecryptionFailed)), "{r:?}");
}

async fn data_keys_and_data_key_pairs_decrypt_to_their_plaintext(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let c = ctx("purpose=dek");
    for (len, n) in [
        (DataKeyLength::Spec(DataKeySpec::Aes256), 32),
        (DataKeyLength::Spec(DataKeySpec::Aes128), 16),
        (DataKeyLength::Bytes(1), 1),
        (DataKeyLength::Bytes(1024), 1024),
    ] {
        let dk = h.kms.generate_data_key(&key, len, &c, true).await.unwrap();
        let pt = dk.plaintext.unwrap();
        assert_eq!(pt.len(), n);
        let back = h.kms.decrypt(&dk.ciphertext, &c, None).await.unwrap();
        assert_eq!(back.plaintext.expose_secret(), pt.expose_secret());
    }
    let none = h
        .kms
        .generate_data_key(&key, DataKeyLength::Spec(DataKeySpec::Aes256), &c, false)
        .await
        .unwrap();
    assert!(none.plaintext.is_none());
    for bad in [0, 1025] {
        assert_kind(
            h.kms
                .generate_data_key(&key, DataKeyLength::Bytes(bad), &c, true)
                .await,
            ErrorKind::InvalidInput,
            "data key length",
        );
    }
    let pair = h
        .kms
        .generate_data_key_pair(&key, DataKeyPairSpec::EccNistP256, &c, true)
        .await
        .unwrap();
    let private = h
        .kms
        .decrypt(&pair.private_key_ciphertext, &c, None)
        .await
        .unwrap();
    assert_eq!(
        private.plaintext.expose_secret(),
        pair.private_key_plaintext.unwrap().expose_secret()
    );
    assert!(!pair.public_key.is_empty());
    let rsa = create(h, KeySpec::Rsa2048).await;
    assert_kind(
        h.kms
            .generate_data_key(&rsa, DataKeyLength::Bytes(32), &c, true)
            .await,
        ErrorKind::InvalidInput,
        "data key under an RSA key",
    );
}

async fn sign_verify_and_mac_agree(h: &Harness) {
    for spec in [
        KeySpec::EccNistP256,
        KeySpec::EccNistP384,
        KeySpec::Ed25519,
        KeySpec::Rsa2048,
    ] {
        let key = h
            .kms
            .create_key(CreateKeyRequest {
                usage: Some(kms_core::KeyUsage::SignVerify),
                ..CreateKeyRequest::new(spec)
            })
            .await
            .unwrap();
        let key = KeyRef::Id(key.key_id);
        for alg in spec.signing_algorithms() {
            let sig = h
                .kms
                .sign(&key, b"message", MessageType::Raw, Some(*alg))
                .await
                .unwrap();
            assert!(
                h.kms
                    .verify(
                        &key,
                        b"message",
                        MessageType::Raw,
                        Some(*alg),
                        &sig.signature,
                        None
                    )
                    .await
                    .unwrap()
            );
            assert!(
                !h.kms
                    .verify(
                        &key,
                        b"messagE",
                        MessageType::Raw,
                        Some(*alg),
                        &sig.signature,
                        None
                    )
                    .await
                    .unwrap()
            );
        }
        let pk = h.kms.public_key(&key, None).await.unwrap();
        assert!(!pk.der.is_empty());
    }
    let aes = create(h, KeySpec::Aes256).await;
    assert_kind(
        h.kms.sign(&aes, b"m", MessageType::Raw, None).await,
        ErrorKind::InvalidInput,
        "sign with an AES key",
    );
    assert_kind(
        h.kms.public_key(&aes, None).await,
        ErrorKind::InvalidInput,
        "public key of an AES key",
    );
    for spec in [KeySpec::Hmac256, KeySpec::Hmac512] {
        let key = create(h, spec).await;
        let mac = h.kms.generate_mac(&key, b"msg", None).await.unwrap();
        assert!(
            h.kms
                .verify_mac(&key, b"msg", None, &mac.mac, None)
                .await
                .unwrap()
        );
        let mut bad = mac.mac.clone();
        bad[0] ^= 1;
        assert!(
            !h.kms
                .verify_mac(&key, b"msg", None, &bad, None)
                .await
                .unwrap()
        );
    }
    let r = h.kms.generate_random(32).await.unwrap();
    assert_eq!(r.len(), 32);
    assert_kind(
        h.kms.generate_random(0).await,
        ErrorKind::InvalidInput,
        "0 random bytes",
    );
    assert_kind(
        h.kms.generate_random(1025).await,
        ErrorKind::InvalidInput,
        "1025 random bytes",
    );
}

async fn oversized_plaintext_points_to_envelope_encryption(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    let big = vec![0u8; kms_core::MAX_SYMMETRIC_PLAINTEXT + 1];
    let e = h
        .kms
        .encrypt(&key, &big, &EncryptionContext::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("encrypt-file"), "{e}");
    assert!(
        h.kms
            .encrypt(&key, &big[1..], &EncryptionContext::new())
            .await
            .is_ok()
    );
    let rsa = create(h, KeySpec::Rsa2048).await;
    let e = h
        .kms
        .encrypt(&rsa, &[0u8; 191], &EncryptionContext::new())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PayloadTooLarge { .. }), "{e}");
    assert!(
        h.kms
            .encrypt(&rsa, &[0u8; 190], &EncryptionContext::new())
            .await
            .is_ok()
    );
}

/// Keys of each usage in `state`.
struct Keys {
    aes: KeyRef,
    ec: KeyRef,
    hmac: KeyRef,
    ct: Vec<u8>,
    sig: Vec<u8>,
    mac: Vec<u8>,
}

async fn keys_in_state(h: &Harness, state: KeyState) -> Option<Keys> {
    let c = EncryptionContext::new();
    let aes = create(h, KeySpec::Aes256).await;
    let ec = create(h, KeySpec::EccNistP256).await;
    let hmac = create(h, KeySpec::Hmac256).await;
    let ct = h.kms.encrypt(&aes, b"x", &c).await.unwrap().ciphertext;
    let sig = h
        .kms
        .sign(&ec, b"x", MessageType::Raw, None)
        .await
        .unwrap()
        .signature;
    let mac = h.kms.generate_mac(&hmac, b"x", None).await.unwrap().mac;
    for k in [&aes, &ec, &hmac] {
        match state {
            KeyState::Enabled => {}
            KeyState::Disabled => {
                h.kms.disable_key(k).await.unwrap();
            }
            KeyState::PendingDeletion => {
                h.kms.schedule_key_deletion(k, Some(7)).await.unwrap();
            }
            _ => return None,
        }
    }
    Some(Keys {
        aes,
        ec,
        hmac,
        ct,
        sig,
        mac,
    })
}

/// Runs `op` on keys in `state` and checks the result against the table.
async fn check_op(h: &Harness, state: KeyState, op: Operation) {
    let c = EncryptionContext::new();
    let Some(k) = keys_in_state(h, state).await else {
        return;
    };
    let result: Result<(), Error> = match op {
        Operation::Encrypt => h.kms.encrypt(&k.aes, b"x", &c).await.map(drop),
        Operation::Decrypt => h.kms.decrypt(&k.ct, &c, None).await.map(drop),
        Operation::ReEncrypt => h
            .kms
            .re_encrypt(&k.ct, &c, None, &k.aes, &c)
            .await
            .map(drop),
        Operation::GenerateDataKey => h
            .kms
            .generate_data_key(&k.aes, DataKeyLength::Bytes(16), &c, true)
            .await
            .map(drop),
        Operation::GenerateDataKeyPair => h
            .kms
            .generate_data_key_pair(&k.aes, DataKeyPairSpec::Ed25519, &c, true)
            .await
            .map(drop),
        Operation::Sign => h
            .kms
            .sign(&k.ec, b"x", MessageType::Raw, None)
            .await
            .map(drop),
        Operation::Verify => h
            .kms
            .verify(&k.ec, b"x", MessageType::Raw, None, &k.sig, None)
            .await
            .map(drop),
        Operation::GenerateMac => h.kms.generate_mac(&k.hmac, b"x", None).await.map(drop),
        Operation::VerifyMac => h
            .kms
            .verify_mac(&k.hmac, b"x", None, &k.mac, None)
            .await
            .map(drop),
        Operation::GetPublicKey => h.kms.public_key(&k.ec, None).await.map(drop),
        Operation::RotateKey => h.kms.rotate_key(&k.aes).await.map(drop),
        Operation::EnableKey => h.kms.enable_key(&k.aes).await.map(drop),
        Operation::DisableKey => h.kms.disable_key(&k.aes).await.map(drop),
        Operation::DescribeKey => h.kms.describe_key(&k.aes).await.map(drop),
        Operation::UpdateKey => h
            .kms
            .update_key(
                &k.aes,
                KeyUpdate {
                    description: Some("d".into()),
                    ..KeyUpdate::default()
                },
            )
            .await
            .map(drop),
        Operation::ScheduleKeyDeletion => {
            h.kms.schedule_key_deletion(&k.aes, Some(7)).await.map(drop)
        }
        Operation::CancelKeyDeletion => h.kms.cancel_key_deletion(&k.aes).await.map(drop),
        _ => return,
    };
    let permitted = state.permits(op);
    match (&result, permitted) {
        (Ok(()), true) => {}
        (Err(e), false) => assert_eq!(
            e.kind(),
            ErrorKind::FailedPrecondition,
            "{op} on a {state} key must be refused as a precondition failure, got {e}"
        ),
        (Err(e), true) => {
            if supports(h, op) {
                panic!("{op} on a {state} key is permitted by the table but failed: {e}");
            }
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{op}: {e}");
        }
        (Ok(()), false) => panic!("{op} on a {state} key must be refused but succeeded"),
    }
}

async fn state_operation_table_is_enforced(h: &Harness) {
    for state in [
        KeyState::Enabled,
        KeyState::Disabled,
        KeyState::PendingDeletion,
    ] {
        for op in Operation::ALL {
            check_op(h, state, *op).await;
        }
    }
    if supports(h, Operation::ImportKeyMaterial) {
        let k = h
            .kms
            .create_key(CreateKeyRequest {
                origin: KeyOrigin::Imported,
                ..CreateKeyRequest::new(KeySpec::Aes256)
            })
            .await
            .unwrap();
        assert_eq!(k.state, KeyState::PendingImport);
        let k = KeyRef::Id(k.key_id);
        assert_kind(
            h.kms.encrypt(&k, b"x", &EncryptionContext::new()).await,
            ErrorKind::FailedPrecondition,
            "encrypt while PendingImport",
        );
        assert_kind(
            h.kms.enable_key(&k).await,
            ErrorKind::FailedPrecondition,
            "enable while PendingImport",
        );
        assert_kind(
            h.kms.rotate_key(&k).await,
            ErrorKind::FailedPrecondition,
            "rotate while PendingImport",
        );
        h.kms.describe_key(&k).await.unwrap();
        let wrap = h.kms.import_parameters(&k).await.unwrap();
        assert_eq!(wrap.key_id, h.kms.key_id(&k).await.unwrap());
    }
}

async fn deletion_window_is_7_to_30_days_and_cancellable(h: &Harness) {
    let key = create(h, KeySpec::Aes256).await;
    for bad in [0, 6, 31] {
        assert_kind(
            h.kms.schedule_key_deletion(&key, Some(bad)).await,
            ErrorKind::InvalidInput,
            "deletion window",
        );
    }
    assert_eq!(
        h.kms.describe_key(&key).await.unwrap().state,
        KeyState::Enabled,
        "a refused schedule changed the key"
    );
    let m = h.kms.schedule_key_deletion(&key, Some(7)).await.unwrap();
    assert_eq!(m.state, KeyState::PendingDeletion);
    assert!(m.deletion_date.is_some());
    let m = h.kms.cancel_key_deletion(&key).await.unwrap();
    assert_eq!(m.state, KeyState::Disabled);
    assert!(m.deletion_date.is_none());
    let m = h.kms.schedule_key_deletion(&key, None).await.unwrap();
    let days = (m.deletion_date.unwrap() - m.created_at).whole_days();
    assert!(
        (29..=30).contains(&days),
        "default window is 30 days, got {days}"
    );
}

async fn keys_are_destroyed_when_the_deletion_window_passes(h: &Harness) {
    let clock = h.clock.as_ref().unwrap();
    let key = h
        .kms
        .create_key(CreateKeyRequest {
            alias: Some(kms_core::AliasName::parse("alias/doomed").unwrap()),
            ..CreateKeyRequest::new(KeySpec::Aes256)
        })
        .await
        .unwrap();
    let id = KeyRef::Id(key.key_id);
    let ct = h
        .kms
        .encrypt(&id, b"x", &EncryptionContext::new())
        .await
        .unwrap();
    h.kms.schedule_key_deletion(&id, Some(7)).await.unwrap();
    clock.advance(time::Duration::days(7) - time::Duration::minutes(1));
    assert_eq!(
        h.kms.describe_key(&id).await.unwrap().state,
        KeyState::PendingDeletion
    );
    clock.advance(time::Duration::minutes(2));
    assert_kind(
        h.kms.describe_key(&id).await,
        ErrorKind::NotFound,
        "describe after the window",
    );
    assert_kind(
        h.kms
            .decrypt(&ct.ciphertext, &EncryptionContext::new(), None)
            .await,
        ErrorKind::NotFound,
        "decrypt after the window",
    );
    let alias = KeyRef::parse("alias/doomed").unwrap();
    assert_kind(
        h.kms.describe_key(&alias).await,
        ErrorKind::NotFound,
        "alias after the window",
    );
}

async fn automatic_rotation_happens_when_the_period_passes(h: &Harness) {
    let clock = h.clock.as_ref().unwrap();
    let key = h
        .kms
        .create_key(CreateKeyRequest {
            rotation_period_days: Some(90),
            ..CreateKeyRequest::new(KeySpec::Aes256)
        })
        .await
        .unwrap();
    let id = KeyRef::Id(key.key_id);
    assert!(key.next_rotation_at.is_some());
    let old = h
        .kms
        .encrypt(&id, b"x", &EncryptionContext::new())
        .await
        .unwrap();
    clock.advance(time::Duration::days(89));
    assert_eq!(h.kms.describe_key(&id).await.unwrap().current_version, 1);
    clock.advance(time::Duration::days(2));
    let new = h
        .kms
        .encrypt(&id, b"y", &EncryptionContext::new())
        .await
        .unwrap();
    assert_eq!(new.version, 2, "the key rotated when its period passed");
    assert_eq!(h.kms.describe_key(&id).await.unwrap().current_version, 2);
    clock.advance(time::Duration::days(91));
    assert_eq!(h.kms.describe_key(&id).await.unwrap().current_version, 3);
    let back = h
        .kms
        .decrypt(&old.ciphertext, &EncryptionContext::new(), None)
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"x");
}
