//! Rewrap changes recipients and leaves the payload bytes as they were.

use kms_core::EncryptionContext;
use kms_envelope::format::parse_header;
use kms_envelope::{EncryptionService, Recipient, Recipients, RewrapChange};

use crate::common::*;

fn payload(ct: &[u8]) -> &[u8] {
    let p = parse_header(ct).unwrap().unwrap();
    &ct[p.len..]
}

async fn rewrap(
    svc: &EncryptionService,
    ct: &[u8],
    ids: &[kms_envelope::Identity],
    c: &EncryptionContext,
    change: RewrapChange,
) -> Vec<u8> {
    let mut out = Vec::new();
    svc.rewrap_stream(ct, &mut out, ids, c, &change)
        .await
        .unwrap();
    out
}

#[tokio::test]
async fn adding_and_removing_recipients_keeps_the_payload_identical() {
    let svc = EncryptionService::new(None);
    let (r1, i1) = age_pair();
    let (r2, i2) = age_pair();
    let r2_text = r2.describe();
    let c = ctx("x=y");
    let pt = data(150_000);
    let ct = seal(&svc, &pt, &Recipients::any_of(vec![r1]), &c, false).await;
    assert!(
        open(&svc, &ct, std::slice::from_ref(&i2), &c)
            .await
            .is_err()
    );
    let added = rewrap(
        &svc,
        &ct,
        std::slice::from_ref(&i1),
        &c,
        RewrapChange::AddRecipient(r2),
    )
    .await;
    assert_eq!(payload(&added), payload(&ct));
    assert_eq!(
        open(&svc, &added, std::slice::from_ref(&i2), &c)
            .await
            .unwrap(),
        pt
    );
    let removed = rewrap(
        &svc,
        &added,
        std::slice::from_ref(&i2),
        &c,
        RewrapChange::RemoveRecipient(r2_text),
    )
    .await;
    assert_eq!(payload(&removed), payload(&ct));
    assert!(
        open(&svc, &removed, std::slice::from_ref(&i2), &c)
            .await
            .is_err()
    );
    assert_eq!(open(&svc, &removed, &[i1], &c).await.unwrap(), pt);
}

#[tokio::test]
async fn a_threshold_file_gains_a_share_without_touching_the_others() {
    let svc = EncryptionService::new(None);
    let k1 = age::x25519::Identity::generate();
    let i1_text = age::secrecy::ExposeSecret::expose_secret(&k1.to_string()).to_string();
    let r1 = Recipient::parse(&k1.to_public().to_string()).unwrap();
    let i1 = kms_envelope::Identity::Age(kms_envelope::AgeIdentity::from_key(k1));
    let (r2, i2) = age_pair();
    let (r3, i3) = age_pair();
    let c = ctx("");
    let ct = seal(
        &svc,
        b"shared",
        &Recipients {
            list: vec![r1, r2],
            threshold: Some(2),
        },
        &c,
        false,
    )
    .await;
    let added = rewrap(&svc, &ct, &[i1, i2], &c, RewrapChange::AddRecipient(r3)).await;
    assert_eq!(payload(&added), payload(&ct));
    let (_, fresh) = age_pair();
    let j1 = kms_envelope::Identity::Age(kms_envelope::AgeIdentity::parse(&i1_text).unwrap());
    assert!(
        open(&svc, &added, std::slice::from_ref(&i3), &c)
            .await
            .is_err()
    );
    assert_eq!(
        open(&svc, &added, &[i3, j1, fresh], &c).await.unwrap(),
        b"shared"
    );
}

#[tokio::test]
async fn to_latest_version_moves_kms_stanzas_after_a_rotation() {
    let k = kms().await;
    let svc = EncryptionService::new(Some(k.manager.clone()));
    let c = ctx("env=prod");
    let pt = data(1000);
    let ct = seal(
        &svc,
        &pt,
        &Recipients::any_of(vec![Recipient::KmsKey(k.key.clone())]),
        &c,
        false,
    )
    .await;
    let version = |ct: &[u8]| match &parse_header(ct).unwrap().unwrap().header.stanzas[0].stanza {
        kms_envelope::format::Stanza::KmsKey { version, .. } => *version,
        other => panic!("{other:?}"),
    };
    assert_eq!(version(&ct), 1);
    k.manager.rotate_key(&k.key).await.unwrap();
    let moved = rewrap(&svc, &ct, &[], &c, RewrapChange::ToLatestVersion).await;
    assert_eq!(version(&moved), 2);
    assert_eq!(payload(&moved), payload(&ct));
    assert_eq!(open(&svc, &moved, &[], &c).await.unwrap(), pt);
}
