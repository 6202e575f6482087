//! Round trips for every recipient kind and shape of input.

use kms_core::EncryptionContext;
use kms_envelope::{EncryptionService, Error, Recipient, Recipients};

use crate::common::*;

#[tokio::test]
async fn a_kms_key_recipient_round_trips_with_its_context() {
    let k = kms().await;
    let svc = EncryptionService::new(Some(k.manager.clone()));
    let to = Recipients::any_of(vec![Recipient::KmsKey(k.key.clone())]);
    let c = ctx("env=prod,app=x");
    for len in [
        0,
        1,
        100,
        65535,
        65536,
        65537,
        3 * 65536,
        1_000_000,
        16 * 65536,
        32 * 65536,
        5_000_000,
    ] {
        let pt = data(len);
        let ct = seal(&svc, &pt, &to, &c, false).await;
        assert_eq!(open(&svc, &ct, &[], &c).await.unwrap(), pt, "len {len}");
    }
    let ct = seal(&svc, b"x", &to, &c, false).await;
    let err = open(&svc, &ct, &[], &ctx("env=dev,app=x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongContext), "{err}");
    let err = open(&svc, &ct, &[], &EncryptionContext::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongContext), "{err}");
}

#[tokio::test]
async fn age_and_passphrase_recipients_round_trip_and_any_one_opens() {
    let svc = EncryptionService::new(None);
    let (r1, i1) = age_pair();
    let (r2, i2) = age_pair();
    let to = Recipients::any_of(vec![r1, r2, passphrase("pw")]);
    let c = ctx("a=b");
    let pt = data(200_000);
    let ct = seal(&svc, &pt, &to, &c, false).await;
    assert_eq!(open(&svc, &ct, &[i1], &c).await.unwrap(), pt);
    assert_eq!(open(&svc, &ct, &[i2], &c).await.unwrap(), pt);
    let p = kms_envelope::Identity::Passphrase(kms_core::Passphrase::new("pw".into()));
    assert_eq!(open(&svc, &ct, &[p], &c).await.unwrap(), pt);
    let wrong = kms_envelope::Identity::Passphrase(kms_core::Passphrase::new("nope".into()));
    let err = open(&svc, &ct, &[wrong], &c).await.unwrap_err();
    assert!(matches!(err, Error::NoMatchingIdentity { .. }), "{err}");
    let (_, other) = age_pair();
    let err = open(&svc, &ct, &[other], &c).await.unwrap_err();
    assert!(matches!(err, Error::NoMatchingIdentity { .. }), "{err}");
}

#[tokio::test]
async fn mixed_kms_age_and_passphrase_recipients_each_open_the_file() {
    let k = kms().await;
    let svc = EncryptionService::new(Some(k.manager.clone()));
    let (ra, ia) = age_pair();
    let to = Recipients::any_of(vec![Recipient::KmsKey(k.key.clone()), ra, passphrase("pw")]);
    let c = EncryptionContext::new();
    let ct = seal(&svc, b"mixed", &to, &c, false).await;
    assert_eq!(open(&svc, &ct, &[], &c).await.unwrap(), b"mixed");
    let no_kms = EncryptionService::new(None);
    assert_eq!(open(&no_kms, &ct, &[ia], &c).await.unwrap(), b"mixed");
}

#[tokio::test]
async fn a_threshold_file_needs_k_of_its_n_recipients() {
    let svc = EncryptionService::new(None);
    let (r1, i1) = age_pair();
    let (r2, i2) = age_pair();
    let (r3, i3) = age_pair();
    let to = Recipients {
        list: vec![r1, r2, r3],
        threshold: Some(2),
    };
    let c = ctx("t=1");
    let pt = data(70_000);
    let ct = seal(&svc, &pt, &to, &c, false).await;
    assert_eq!(open(&svc, &ct, &[i1, i3], &c).await.unwrap(), pt);
    let err = open(&svc, &ct, &[i2], &c).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::NotEnoughShares {
                needed: 2,
                opened: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn armored_files_round_trip_and_are_64_column_pem() {
    let svc = EncryptionService::new(None);
    let (r, i) = age_pair();
    let to = Recipients::any_of(vec![r]);
    let c = EncryptionContext::new();
    for len in [0usize, 10, 65536, 200_001] {
        let pt = data(len);
        let ct = seal(&svc, &pt, &to, &c, true).await;
        let text = String::from_utf8(ct.clone()).unwrap();
        assert!(text.starts_with("-----BEGIN KMS ENCRYPTED FILE-----\n"));
        assert!(text.ends_with("-----END KMS ENCRYPTED FILE-----\n"));
        assert!(text.lines().all(|l| l.len() <= 64));
        assert_eq!(
            open(&svc, &ct, std::slice::from_ref(&i), &c).await.unwrap(),
            pt,
            "len {len}"
        );
    }
}

#[test]
fn the_blocking_api_round_trips_over_std_io_with_a_kms_key() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let k = rt.block_on(kms());
    let svc = EncryptionService::new(Some(k.manager.clone())).with_runtime(rt.handle().clone());
    let to = Recipients::any_of(vec![Recipient::KmsKey(k.key.clone())]);
    let c = ctx("mode=blocking");
    let pt = data(3 * 65536 + 5);
    let mut ct = Vec::new();
    svc.encrypt_blocking(&pt[..], &mut ct, &to, &c, &Default::default())
        .unwrap();
    let mut back = Vec::new();
    let s = svc
        .decrypt_blocking(&ct[..], &mut back, &[], &c, &Default::default())
        .unwrap();
    assert_eq!(back, pt);
    assert_eq!(s.chunks, 4);
}

#[tokio::test]
async fn progress_is_reported_up_to_the_input_length() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let svc = EncryptionService::new(None);
    let (r, _) = age_pair();
    let seen = std::sync::Arc::new(AtomicU64::new(0));
    let s2 = seen.clone();
    let opts = kms_envelope::EncryptOptions {
        progress: Some(std::sync::Arc::new(move |n| s2.store(n, Ordering::SeqCst))),
        ..Default::default()
    };
    let pt = data(5 * 65536);
    let mut out = Vec::new();
    svc.encrypt_stream(
        &pt[..],
        &mut out,
        &Recipients::any_of(vec![r]),
        &EncryptionContext::new(),
        &opts,
    )
    .await
    .unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), pt.len() as u64);
}
