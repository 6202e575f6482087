//! Any change to an encrypted file makes decryption fail, with the error
//! class that names what happened.

use kms_envelope::{EncryptionService, Error, Recipients};

use crate::common::*;

#[tokio::test]
async fn flipping_any_byte_of_a_small_file_fails_decryption() {
    let svc = EncryptionService::new(None);
    let (r, i) = age_pair();
    let c = ctx("k=v");
    let ct = seal(
        &svc,
        b"small secret payload",
        &Recipients::any_of(vec![r]),
        &c,
        false,
    )
    .await;
    let ids = [i];
    for pos in 0..ct.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = ct.clone();
            bad[pos] ^= bit;
            assert!(
                open(&svc, &bad, &ids, &c).await.is_err(),
                "flip {bit:#x} at byte {pos} of {} went unnoticed",
                ct.len()
            );
        }
    }
}

#[tokio::test]
async fn truncation_reordering_and_appending_are_each_named() {
    let svc = EncryptionService::new(None);
    let (r, i) = age_pair();
    let c = ctx("");
    let ids = [i];
    let pt = data(3 * 65536);
    let ct = seal(&svc, &pt, &Recipients::any_of(vec![r]), &c, false).await;
    let sealed = 65536 + 16;
    let header = ct.len() - 3 * sealed;
    // Cut at a chunk boundary: the last chunk present has no last flag.
    let err = open(&svc, &ct[..ct.len() - sealed], &ids, &c)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Truncated), "{err}");
    // Cut inside a chunk.
    let err = open(&svc, &ct[..ct.len() - 100], &ids, &c)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ChunkAuthenticationFailed { index: 2 } | Error::Truncated
        ),
        "{err}"
    );
    // Header only.
    let err = open(&svc, &ct[..header], &ids, &c).await.unwrap_err();
    assert!(matches!(err, Error::Truncated), "{err}");
    // Swap chunks 0 and 1.
    let mut swapped = ct[..header].to_vec();
    swapped.extend_from_slice(&ct[header + sealed..header + 2 * sealed]);
    swapped.extend_from_slice(&ct[header..header + sealed]);
    swapped.extend_from_slice(&ct[header + 2 * sealed..]);
    let err = open(&svc, &swapped, &ids, &c).await.unwrap_err();
    assert!(
        matches!(err, Error::ChunkAuthenticationFailed { index: 0 }),
        "{err}"
    );
    // Append a whole chunk's worth, and a few bytes.
    for extra in [vec![0u8; 7], ct[header..header + sealed].to_vec()] {
        let mut longer = ct.clone();
        longer.extend_from_slice(&extra);
        let err = open(&svc, &longer, &ids, &c).await.unwrap_err();
        assert!(matches!(err, Error::TrailingData), "{err}");
    }
}

#[tokio::test]
async fn armored_files_with_appended_or_cut_text_fail() {
    let svc = EncryptionService::new(None);
    let (r, i) = age_pair();
    let c = ctx("");
    let ids = [i];
    let ct = seal(&svc, b"armored", &Recipients::any_of(vec![r]), &c, true).await;
    let mut longer = ct.clone();
    longer.extend_from_slice(b"more\n");
    assert!(matches!(
        open(&svc, &longer, &ids, &c).await.unwrap_err(),
        Error::TrailingData
    ));
    let cut = &ct[..ct.len() - 40];
    assert!(matches!(
        open(&svc, cut, &ids, &c).await.unwrap_err(),
        Error::Truncated | Error::Armor(_)
    ));
}

#[tokio::test]
async fn a_changed_header_byte_is_a_bad_header_mac() {
    let svc = EncryptionService::new(None);
    let (r, i) = age_pair();
    let c = ctx("");
    let mut ct = seal(&svc, b"x", &Recipients::any_of(vec![r]), &c, false).await;
    ct[12] ^= 1; // inside the payload nonce
    assert!(matches!(
        open(&svc, &ct, &[i], &c).await.unwrap_err(),
        Error::BadHeaderMac
    ));
}
