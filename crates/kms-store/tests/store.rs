//! Promises of the embedded store that wording alone could fake: sealing,
//! wrong passphrases, no plaintext key bytes at rest, concurrent rotation.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kms_core::crypto::wrap_for_import;
use kms_core::types::CreateKeyRequest;
use kms_core::{
    EncryptionContext, Error, ErrorKind, KeyOrigin, KeyRef, KeySpec, KmsManager, Passphrase,
    SystemRng,
};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};
use kms_testkit::peers::PgDatabase;

fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    }
}

fn pass(s: &str) -> Unseal {
    Unseal::Passphrase(Passphrase::new(s.into()))
}

async fn init(url: &str) -> KmsManager {
    let store = LocalBackend::init(StoreOptions::new(url), &pass("right"), fast_kdf())
        .await
        .unwrap();
    KmsManager::new(store, Arc::new(SystemRng))
}

/// The seal record and the key rows, as stored.
async fn seal_record(url: &str) -> (Vec<u8>, i64) {
    use sqlx::Row;
    let store = LocalBackend::open_sealed(StoreOptions::new(url))
        .await
        .unwrap();
    let row = sqlx::query(
        "SELECT wrapped_root_key, (SELECT COUNT(*) FROM kms_key_versions) AS n FROM kms_seal",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    (row.get("wrapped_root_key"), row.get("n"))
}

#[tokio::test]
async fn a_wrong_passphrase_is_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("k.db"));
    let kms = init(&url).await;
    let key = kms
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    let ct = kms
        .encrypt(&KeyRef::Id(key.key_id), b"kept", &EncryptionContext::new())
        .await
        .unwrap();
    drop(kms);
    let before = seal_record(&url).await;
    let err = LocalBackend::open(StoreOptions::new(&url), &pass("wrong"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongUnsealKey), "{err}");
    assert_eq!(err.kind(), ErrorKind::PermissionDenied);
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert_eq!(before, seal_record(&url).await, "the seal record changed");
    let store = LocalBackend::open(StoreOptions::new(&url), &pass("right"))
        .await
        .unwrap();
    let kms = KmsManager::new(store, Arc::new(SystemRng));
    let back = kms
        .decrypt(&ct.ciphertext, &EncryptionContext::new(), None)
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"kept");
    let again = LocalBackend::init(StoreOptions::new(&url), &pass("other"), fast_kdf()).await;
    assert_eq!(again.unwrap_err().kind(), ErrorKind::Conflict);
}

#[tokio::test]
async fn an_uninitialised_store_says_to_run_init() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("none.db"));
    let err = LocalBackend::open(StoreOptions::new(&url), &pass("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FailedPrecondition);
    assert!(err.to_string().contains("kms init"), "{err}");
}

#[tokio::test]
async fn a_sealed_store_refuses_every_key_operation_until_unsealed() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("s.db"));
    let kms = init(&url).await;
    let key = kms
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    drop(kms);
    let store = LocalBackend::open_sealed(StoreOptions::new(&url))
        .await
        .unwrap();
    assert!(store.is_sealed());
    let kms = KmsManager::new(store.clone(), Arc::new(SystemRng));
    let id = KeyRef::Id(key.key_id);
    for r in [
        kms.encrypt(&id, b"x", &EncryptionContext::new())
            .await
            .map(drop),
        kms.describe_key(&id).await.map(drop),
        kms.create_key(CreateKeyRequest::new(KeySpec::Aes256))
            .await
            .map(drop),
    ] {
        assert!(matches!(r, Err(Error::Sealed)), "{r:?}");
    }
    let status = kms.status().await.unwrap();
    assert!(status.sealed && status.available);
    assert!(store.unseal(&pass("wrong")).await.is_err());
    assert!(store.is_sealed());
    store.unseal(&pass("right")).await.unwrap();
    kms.encrypt(&id, b"x", &EncryptionContext::new())
        .await
        .unwrap();
    store.seal();
    assert!(matches!(kms.describe_key(&id).await, Err(Error::Sealed)));
}

#[tokio::test]
async fn a_key_file_unseals_and_a_passphrase_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let kf = dir.path().join("root.key");
    kms_store::generate_key_file(&kf, &SystemRng).unwrap();
    assert!(
        kms_store::generate_key_file(&kf, &SystemRng).is_err(),
        "overwrote a key file"
    );
    let url = sqlite_url(&dir.path().join("kf.db"));
    let unseal = Unseal::KeyFile(kf.clone());
    LocalBackend::init(StoreOptions::new(&url), &unseal, KdfParams::default())
        .await
        .unwrap();
    LocalBackend::open(StoreOptions::new(&url), &unseal)
        .await
        .unwrap();
    let err = LocalBackend::open(StoreOptions::new(&url), &pass("x"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("key file"), "{err}");
    std::fs::write(dir.path().join("other.key"), [7u8; 32]).unwrap();
    let other = Unseal::KeyFile(dir.path().join("other.key"));
    let err = LocalBackend::open(StoreOptions::new(&url), &other)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::WrongUnsealKey), "{err}");
}

/// Imports recognisable key material and returns it.
async fn import_known_material(kms: &KmsManager) -> Vec<u8> {
    let material: Vec<u8> = (0u8..32)
        .map(|i| i.wrapping_mul(37).wrapping_add(0xA5))
        .collect();
    let key = kms
        .create_key(CreateKeyRequest {
            origin: KeyOrigin::Imported,
            ..CreateKeyRequest::new(KeySpec::Aes256)
        })
        .await
        .unwrap();
    let id = KeyRef::Id(key.key_id);
    let params = kms.import_parameters(&id).await.unwrap();
    let wrapped = wrap_for_import(&params.wrapping_public_key, &material, &SystemRng).unwrap();
    let meta = kms
        .import_key_material(&id, &params.import_token, &wrapped)
        .await
        .unwrap();
    assert_eq!(meta.state, kms_core::KeyState::Enabled);
    let ct = kms
        .encrypt(&id, b"byok", &EncryptionContext::new())
        .await
        .unwrap();
    let back = kms
        .decrypt(&ct.ciphertext, &EncryptionContext::new(), None)
        .await
        .unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"byok");
    let reuse = kms
        .import_key_material(&id, &params.import_token, &wrapped)
        .await;
    assert!(reuse.is_err(), "an import token worked twice");
    material
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_sqlite_database_never_holds_imported_key_material() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("scan.db"));
    let kms = init(&url).await;
    let material = import_known_material(&kms).await;
    let hexed = hex::encode(&material);
    let mut scanned = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        scanned += bytes.len();
        assert!(!contains(&bytes, &material), "raw key bytes found at rest");
        assert!(
            !contains(&bytes, hexed.as_bytes()),
            "hex key bytes found at rest"
        );
    }
    assert!(scanned > 4096, "nothing was scanned");
}

#[tokio::test]
async fn the_postgres_database_never_holds_imported_key_material() {
    let Some(db) = PgDatabase::create("the_postgres_database_never_holds_imported_key_material")
    else {
        return;
    };
    let kms = init(&db.url).await;
    let material = import_known_material(&kms).await;
    let dump = std::process::Command::new("pg_dump")
        .args(["--data-only", &db.url])
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let text = String::from_utf8_lossy(&dump.stdout).to_lowercase();
    assert!(
        text.contains("kms_key_versions"),
        "the dump holds no key table"
    );
    assert!(
        !text.contains(&hex::encode(&material)),
        "key bytes found in PostgreSQL"
    );
    assert!(!contains(&dump.stdout, &material));
}

async fn rotate_concurrently(url: &str) {
    let kms = init(url).await;
    let key = kms
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    let id = KeyRef::Id(key.key_id);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        // Two independent stores (two pools), as two processes would have.
        let store = LocalBackend::open(StoreOptions::new(url), &pass("right"))
            .await
            .unwrap();
        let kms = KmsManager::new(store, Arc::new(SystemRng));
        let id = id.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..15 {
                seen.push(kms.rotate_key(&id).await.unwrap().current_version);
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    let expected: Vec<u32> = (2..=31).collect();
    assert_eq!(
        all, expected,
        "rotations must yield consecutive, distinct versions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_on_sqlite_give_consecutive_versions() {
    let dir = tempfile::tempdir().unwrap();
    rotate_concurrently(&sqlite_url(&dir.path().join("r.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_on_postgres_give_consecutive_versions() {
    let Some(db) = PgDatabase::create("concurrent_rotations_on_postgres_give_consecutive_versions")
    else {
        return;
    };
    rotate_concurrently(&db.url).await;
}

#[test]
fn debug_of_store_secrets_shows_no_bytes() {
    let u = pass("hunter2-passphrase");
    let s = format!("{u:?}");
    assert!(!s.contains("hunter2"), "{s}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_by_another_process_is_seen_once_the_cache_lifetime_passes() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("x.db"));
    let ttl = std::time::Duration::from_millis(100);
    let open = |url: String| async move {
        let store = LocalBackend::open(StoreOptions::new(url).with_cache_ttl(ttl), &pass("right"))
            .await
            .unwrap();
        KmsManager::new(store, Arc::new(SystemRng))
    };
    drop(init(&url).await);
    let (a, b) = (open(url.clone()).await, open(url.clone()).await);
    let key = a
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    let id = KeyRef::Id(key.key_id);
    let ctx = EncryptionContext::new();
    // Both processes have the key cached.
    a.encrypt(&id, b"x", &ctx).await.unwrap();
    b.encrypt(&id, b"x", &ctx).await.unwrap();
    // An unchanged key stays usable across many lifetimes (revalidated, not reloaded).
    tokio::time::sleep(ttl * 3).await;
    b.encrypt(&id, b"x", &ctx).await.unwrap();
    // A disables it: B refuses once its entry is older than the lifetime.
    a.disable_key(&id).await.unwrap();
    tokio::time::sleep(ttl * 2).await;
    let r = b.encrypt(&id, b"x", &ctx).await;
    assert_eq!(r.unwrap_err().kind(), ErrorKind::FailedPrecondition);
    // A rotates after enabling: B encrypts with version 2.
    a.enable_key(&id).await.unwrap();
    a.rotate_key(&id).await.unwrap();
    tokio::time::sleep(ttl * 2).await;
    assert_eq!(b.encrypt(&id, b"x", &ctx).await.unwrap().version, 2);
    // An alias made by A resolves in B, and B sees it on the key.
    let alias = kms_core::AliasName::parse("alias/late").unwrap();
    a.create_alias(&alias, &id).await.unwrap();
    tokio::time::sleep(ttl * 2).await;
    let meta = b.describe_key(&KeyRef::Alias(alias.clone())).await.unwrap();
    assert_eq!(meta.aliases, vec![alias]);
}

/// Two stores (two pools, as two nodes would have) on one database, whose
/// metadata cache outlives the test: whatever one sees of the other's
/// changes is read because it was needed, not because an entry expired.
async fn two_nodes(url: &str) -> (KmsManager, KmsManager) {
    let ttl = std::time::Duration::from_secs(3600);
    let open = || async {
        let store = LocalBackend::open(StoreOptions::new(url).with_cache_ttl(ttl), &pass("right"))
            .await
            .unwrap();
        KmsManager::new(store, Arc::new(SystemRng))
    };
    drop(init(url).await);
    (open().await, open().await)
}

/// A key rotated through A is used through B at once: B decrypts,
/// verifies and checks MACs made with the version it has not seen yet, and
/// then encrypts with it itself.
async fn rotated_on_one_node_used_on_the_other(url: &str) {
    use kms_core::MessageType;
    let (a, b) = two_nodes(url).await;
    let ctx = EncryptionContext::parse("app=nodes").unwrap();
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(kms_core::AliasName::parse("alias/shared").unwrap());
    let key = a.create_key(req).await.unwrap();
    let id = KeyRef::Id(key.key_id);
    let alias = KeyRef::Alias(kms_core::AliasName::parse("alias/shared").unwrap());
    // A key created through A is used through B at once, by id and alias;
    // B now holds version 1 as the newest.
    assert_eq!(b.encrypt(&id, b"v1", &ctx).await.unwrap().version, 1);
    assert_eq!(b.encrypt(&alias, b"v1", &ctx).await.unwrap().version, 1);

    assert_eq!(a.rotate_key(&id).await.unwrap().current_version, 2);
    let ct = a.encrypt(&alias, b"made on A", &ctx).await.unwrap();
    assert_eq!(ct.version, 2);
    let back = b.decrypt(&ct.ciphertext, &ctx, None).await.unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"made on A");
    assert_eq!(back.version, 2);
    // Having seen version 2, B encrypts with it; A decrypts.
    let ct = b.encrypt(&alias, b"made on B", &ctx).await.unwrap();
    assert_eq!(ct.version, 2);
    let back = a.decrypt(&ct.ciphertext, &ctx, None).await.unwrap();
    assert_eq!(back.plaintext.expose_secret(), b"made on B");
    // A version that exists nowhere is still refused, after the lookup.
    let mut forged = ct.ciphertext.clone();
    let header = kms_core::ciphertext::CiphertextHeader {
        algorithm: kms_core::ciphertext::CiphertextAlgorithm::Aes256Gcm,
        key_id: key.key_id,
        version: 9,
    }
    .to_bytes();
    forged[..header.len()].copy_from_slice(&header);
    let err = b.decrypt(&forged, &ctx, None).await.unwrap_err();
    assert!(
        matches!(err, Error::VersionNotUsable { version: 9, .. }),
        "{err}"
    );

    // Signatures: B verifies a signature made with a version it has not seen,
    // with and without the version named.
    let signing = a
        .create_key(CreateKeyRequest::new(KeySpec::EccNistP256))
        .await
        .unwrap();
    let sid = KeyRef::Id(signing.key_id);
    let s1 = a.sign(&sid, b"msg", MessageType::Raw, None).await.unwrap();
    assert!(
        b.verify(&sid, b"msg", MessageType::Raw, None, &s1.signature, None)
            .await
            .unwrap()
    );
    a.rotate_key(&sid).await.unwrap();
    let s2 = a.sign(&sid, b"msg", MessageType::Raw, None).await.unwrap();
    assert_eq!(s2.version, 2);
    assert!(
        b.verify(&sid, b"msg", MessageType::Raw, None, &s2.signature, None)
            .await
            .unwrap()
    );
    assert!(
        b.verify(&sid, b"msg", MessageType::Raw, None, &s2.signature, Some(2))
            .await
            .unwrap()
    );
    assert!(
        !b.verify(&sid, b"other", MessageType::Raw, None, &s2.signature, None)
            .await
            .unwrap()
    );

    // MACs, the same.
    let mac_key = a
        .create_key(CreateKeyRequest::new(KeySpec::Hmac256))
        .await
        .unwrap();
    let mid = KeyRef::Id(mac_key.key_id);
    let m1 = a.generate_mac(&mid, b"msg", None).await.unwrap();
    assert!(
        b.verify_mac(&mid, b"msg", None, &m1.mac, None)
            .await
            .unwrap()
    );
    a.rotate_key(&mid).await.unwrap();
    let m2 = a.generate_mac(&mid, b"msg", None).await.unwrap();
    assert_eq!(m2.version, 2);
    assert!(
        b.verify_mac(&mid, b"msg", None, &m2.mac, None)
            .await
            .unwrap()
    );
    assert!(
        b.verify_mac(&mid, b"msg", None, &m2.mac, Some(2))
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_a_key_rotated_through_one_store_is_used_through_another_at_once() {
    let dir = tempfile::tempdir().unwrap();
    rotated_on_one_node_used_on_the_other(&sqlite_url(&dir.path().join("n.db"))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_key_rotated_through_one_node_is_used_through_another_at_once() {
    let Some(db) = PgDatabase::create(
        "on_postgres_a_key_rotated_through_one_node_is_used_through_another_at_once",
    ) else {
        return;
    };
    rotated_on_one_node_used_on_the_other(&db.url).await;
}

/// Polls `f` until it holds (generous: notices normally arrive in
/// milliseconds, but the machine may be busy).
async fn eventually<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1500 {
        if f().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{what}: not seen within 30 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_a_disable_through_one_node_reaches_the_other_before_its_cache_expires() {
    let Some(db) = PgDatabase::create(
        "on_postgres_a_disable_through_one_node_reaches_the_other_before_its_cache_expires",
    ) else {
        return;
    };
    // The cache lifetime is an hour: only A's notice can make B let go.
    let (a, b) = two_nodes(&db.url).await;
    let ctx = EncryptionContext::new();
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(kms_core::AliasName::parse("alias/first").unwrap());
    let key = a.create_key(req).await.unwrap();
    let id = KeyRef::Id(key.key_id);
    let ct = b.encrypt(&id, b"x", &ctx).await.unwrap();
    a.disable_key(&id).await.unwrap();
    eventually(
        "B refuses to decrypt with a key disabled through A",
        || async {
            matches!(
                b.decrypt(&ct.ciphertext, &ctx, None).await,
                Err(Error::InvalidKeyState { .. })
            )
        },
    )
    .await;
    assert!(matches!(
        b.encrypt(&id, b"x", &ctx).await,
        Err(Error::InvalidKeyState { .. })
    ));
    a.enable_key(&id).await.unwrap();
    eventually("B decrypts again once A re-enabled the key", || async {
        b.decrypt(&ct.ciphertext, &ctx, None).await.is_ok()
    })
    .await;
    // An alias moved through A is followed by B.
    let alias = kms_core::AliasName::parse("alias/first").unwrap();
    let other = a
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    assert_eq!(
        b.encrypt(&KeyRef::Alias(alias.clone()), b"x", &ctx)
            .await
            .unwrap()
            .key_id,
        key.key_id
    );
    a.update_alias(&alias, &KeyRef::Id(other.key_id))
        .await
        .unwrap();
    eventually("B follows an alias moved through A", || async {
        b.encrypt(&KeyRef::Alias(alias.clone()), b"x", &ctx)
            .await
            .is_ok_and(|e| e.key_id == other.key_id)
    })
    .await;
    // Scheduled for deletion through A: B refuses too.
    a.schedule_key_deletion(&id, Some(7)).await.unwrap();
    eventually(
        "B refuses a key scheduled for deletion through A",
        || async {
            matches!(
                b.decrypt(&ct.ciphertext, &ctx, None).await,
                Err(Error::InvalidKeyState { .. })
            )
        },
    )
    .await;
}

#[tokio::test]
async fn a_key_resolved_once_encrypts_like_encrypt_and_still_checks_usage() {
    let dir = tempfile::tempdir().unwrap();
    let kms = init(&sqlite_url(&dir.path().join("kms.db"))).await;
    let aes = kms
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    let signer = kms
        .create_key(CreateKeyRequest::new(KeySpec::EccNistP256))
        .await
        .unwrap();
    let ctx = EncryptionContext::parse("env=prod").unwrap();
    let key = KeyRef::Id(aes.key_id);
    let resolved = kms
        .resolve_key(&key, kms_core::Operation::Encrypt)
        .await
        .unwrap();
    assert_eq!(resolved.metadata().key_id, aes.key_id);
    for msg in [&b"one"[..], b"two"] {
        let ct = kms.encrypt_with(&resolved, msg, &ctx).await.unwrap();
        assert_eq!((ct.key_id, ct.version), (aes.key_id, 1));
        let pt = kms.decrypt(&ct.ciphertext, &ctx, None).await.unwrap();
        assert_eq!(pt.plaintext.expose_secret(), msg);
    }
    let too_big = vec![0u8; 70_000];
    let e = kms
        .encrypt_with(&resolved, &too_big, &ctx)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::PayloadTooLarge { .. }), "{e}");

    // Resolving checks the backend's capability only; the key's usage is
    // checked on each use, as encrypt does.
    let sign_key = kms
        .resolve_key(&KeyRef::Id(signer.key_id), kms_core::Operation::Encrypt)
        .await
        .unwrap();
    let e = kms.encrypt_with(&sign_key, b"x", &ctx).await.unwrap_err();
    let direct = kms
        .encrypt(&KeyRef::Id(signer.key_id), b"x", &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert_eq!(e.to_string(), direct.to_string());

    let missing = KeyRef::parse("alias/missing").unwrap();
    let e = kms
        .resolve_key(&missing, kms_core::Operation::Encrypt)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
}
