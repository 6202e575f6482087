//! `AuditedBackend`: every key operation leaves one record in the store's
//! hash-chained log with the server's names and outcomes, a result is
//! withheld when its record cannot be written, and the decorator keeps the
//! backend contract.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use kms_core::crypto::wrap_for_import;
use kms_core::types::{CreateKeyRequest, DataKeyLength, KeyUpdate, ListKeysRequest};
use kms_core::{
    AliasName, DataKeySpec, EncryptionContext, Error, ErrorKind, InsecureDeterministicRng,
    KeyOrigin, KeyRef, KeySpec, KmsBackend, KmsManager, ManualClock, MessageType, Operation,
    Passphrase, SystemRng,
};
use kms_store::audited::{new_request_id, outcome};
use kms_store::{
    AuditFilter, AuditScope, AuditedBackend, KdfParams, LocalBackend, StoreOptions, Subject,
    Unseal, sqlite_url,
};
use kms_testkit::contract::{Harness, run};

fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    }
}

async fn store(opts: StoreOptions) -> Arc<LocalBackend> {
    LocalBackend::init(
        opts,
        &Unseal::Passphrase(Passphrase::new("pw".into())),
        fast_kdf(),
    )
    .await
    .unwrap()
}

fn audited(store: &Arc<LocalBackend>) -> Arc<AuditedBackend> {
    let scope = AuditScope::new(store.clone(), "cli:tester", "local", "req-1");
    Arc::new(AuditedBackend::new(scope))
}

/// (operation, entity id, key version, outcome) of every record, in order.
async fn trail(store: &LocalBackend) -> Vec<(String, String, Option<u32>, String)> {
    let records = store
        .list_audit(&AuditFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .unwrap();
    for r in &records {
        assert_eq!(
            (
                r.event.principal.as_str(),
                r.event.source.as_str(),
                r.event.request_id.as_str(),
                r.event.items
            ),
            ("cli:tester", "local", "req-1", 1),
            "{r:?}"
        );
    }
    records
        .into_iter()
        .map(|r| {
            (
                r.event.operation,
                r.event.entity_id,
                r.event.key_version,
                r.event.outcome,
            )
        })
        .collect()
}

fn rec(op: &str, id: &str, v: Option<u32>, outcome: &str) -> (String, String, Option<u32>, String) {
    (op.into(), id.into(), v, outcome.into())
}

#[tokio::test]
async fn every_key_operation_leaves_one_record_with_the_server_names_and_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(StoreOptions::new(sqlite_url(&dir.path().join("a.db")))).await;
    let kms = KmsManager::new(audited(&store), Arc::new(SystemRng));
    let ctx = EncryptionContext::parse("env=prod").unwrap();
    let wrong = EncryptionContext::parse("env=dev").unwrap();

    // Lifecycle.
    let aes = kms
        .create_key(CreateKeyRequest::new(KeySpec::Aes256))
        .await
        .unwrap();
    let id = aes.key_id.to_string();
    let key = KeyRef::Id(aes.key_id);
    kms.describe_key(&key).await.unwrap();
    kms.list_keys(&ListKeysRequest::default()).await.unwrap();
    let update = KeyUpdate {
        description: Some("audited".into()),
        ..Default::default()
    };
    kms.update_key(&key, update).await.unwrap();
    kms.rotate_key(&key).await.unwrap();
    kms.disable_key(&key).await.unwrap();
    kms.enable_key(&key).await.unwrap();
    let alias = AliasName::parse("alias/audited").unwrap();
    kms.create_alias(&alias, &key).await.unwrap();
    kms.update_alias(&alias, &key).await.unwrap();
    kms.list_aliases(Some(&key)).await.unwrap();
    kms.delete_alias(&alias).await.unwrap();
    let missing = KeyRef::parse("alias/missing").unwrap();
    assert!(kms.describe_key(&missing).await.is_err());

    // Crypto: a failing decrypt is an error outcome, never its plaintext.
    let ct = kms.encrypt(&key, b"top secret", &ctx).await.unwrap();
    kms.decrypt(&ct.ciphertext, &ctx, None).await.unwrap();
    let err = kms.decrypt(&ct.ciphertext, &wrong, None).await.unwrap_err();
    assert!(matches!(err, Error::DecryptionFailed), "{err}");
    kms.generate_data_key(&key, DataKeyLength::Spec(DataKeySpec::Aes256), &ctx, true)
        .await
        .unwrap();
    kms.re_encrypt(&ct.ciphertext, &ctx, None, &key, &wrong)
        .await
        .unwrap();
    kms.generate_random(16).await.unwrap();

    let signer = kms
        .create_key(CreateKeyRequest::new(KeySpec::EccNistP256))
        .await
        .unwrap();
    let sid = signer.key_id.to_string();
    let sk = KeyRef::Id(signer.key_id);
    let sig = kms.sign(&sk, b"m", MessageType::Raw, None).await.unwrap();
    assert!(
        kms.verify(&sk, b"m", MessageType::Raw, None, &sig.signature, None)
            .await
            .unwrap()
    );
    kms.public_key(&sk, None).await.unwrap();

    let hmac = kms
        .create_key(CreateKeyRequest::new(KeySpec::Hmac256))
        .await
        .unwrap();
    let hid = hmac.key_id.to_string();
    let hk = KeyRef::Id(hmac.key_id);
    let mac = kms.generate_mac(&hk, b"m", None).await.unwrap();
    assert!(
        kms.verify_mac(&hk, b"m", None, &mac.mac, None)
            .await
            .unwrap()
    );

    let byok = kms
        .create_key(CreateKeyRequest {
            origin: KeyOrigin::Imported,
            ..CreateKeyRequest::new(KeySpec::Aes256)
        })
        .await
        .unwrap();
    let bid = byok.key_id.to_string();
    let bk = KeyRef::Id(byok.key_id);
    let params = kms.import_parameters(&bk).await.unwrap();
    let wrapped = wrap_for_import(&params.wrapping_public_key, &[7u8; 32], &SystemRng).unwrap();
    kms.import_key_material(&bk, &params.import_token, &wrapped)
        .await
        .unwrap();
    kms.schedule_key_deletion(&key, Some(7)).await.unwrap();
    kms.cancel_key_deletion(&key).await.unwrap();

    let d = |id: &str, v: u32| rec("describe_key", id, Some(v), "ok");
    let expected = vec![
        rec("create_key", &id, Some(1), "ok"),
        d(&id, 1),
        rec("list_keys", "", None, "ok"),
        d(&id, 1),
        rec("update_key", &id, Some(1), "ok"),
        d(&id, 1),
        rec("rotate_key", &id, Some(2), "ok"),
        d(&id, 2),
        rec("disable_key", &id, Some(2), "ok"),
        d(&id, 2),
        rec("enable_key", &id, Some(2), "ok"),
        d(&id, 2),
        rec("create_alias", &id, None, "ok"),
        d(&id, 2),
        rec("update_alias", &id, None, "ok"),
        d(&id, 2),
        rec("list_aliases", &id, None, "ok"),
        rec("delete_alias", &id, None, "ok"),
        // An unknown key is named as given.
        rec("describe_key", "alias/missing", None, "error:not_found"),
        d(&id, 2),
        rec("encrypt", &id, Some(2), "ok"),
        d(&id, 2),
        rec("decrypt", &id, Some(2), "ok"),
        d(&id, 2),
        rec("decrypt", &id, None, "error:invalid_input"),
        // A data key is made by the facade and encrypted by the backend,
        // as through a server.
        d(&id, 2),
        rec("encrypt", &id, Some(2), "ok"),
        d(&id, 2),
        d(&id, 2),
        rec("decrypt", &id, Some(2), "ok"),
        rec("encrypt", &id, Some(2), "ok"),
        rec("generate_random", "", None, "ok"),
        rec("create_key", &sid, Some(1), "ok"),
        d(&sid, 1),
        rec("sign", &sid, Some(1), "ok"),
        d(&sid, 1),
        rec("verify", &sid, None, "ok"),
        d(&sid, 1),
        rec("get_public_key", &sid, Some(1), "ok"),
        rec("create_key", &hid, Some(1), "ok"),
        d(&hid, 1),
        rec("generate_mac", &hid, Some(1), "ok"),
        d(&hid, 1),
        rec("verify_mac", &hid, None, "ok"),
        rec("create_key", &bid, Some(0), "ok"),
        rec("describe_key", &bid, Some(0), "ok"),
        rec("get_import_parameters", &bid, None, "ok"),
        rec("describe_key", &bid, Some(0), "ok"),
        rec("import_key_material", &bid, Some(1), "ok"),
        d(&id, 2),
        rec("schedule_key_deletion", &id, Some(2), "ok"),
        d(&id, 2),
        rec("cancel_key_deletion", &id, Some(2), "ok"),
    ];
    let got = trail(&store).await;
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "record {}", i + 1);
    }

    // Records hold no plaintext, key material or ciphertext.
    let dump = format!("{:?}", store.list_audit(&AuditFilter::default()).await);
    assert!(!dump.contains("top secret"));
    assert!(!dump.contains(&String::from_utf8_lossy(&ct.ciphertext).to_string()));
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, expected.len() as u64);
}

#[tokio::test]
async fn a_result_is_withheld_when_its_record_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(StoreOptions::new(sqlite_url(&dir.path().join("f.db")))).await;
    let backend = audited(&store);
    let kms = KmsManager::new(backend.clone(), Arc::new(SystemRng));
    let key = KeyRef::Id(
        kms.create_key(CreateKeyRequest::new(KeySpec::Aes256))
            .await
            .unwrap()
            .key_id,
    );
    let ctx = EncryptionContext::new();
    let ct = kms.encrypt(&key, b"secret", &ctx).await.unwrap();
    // Resolved without the decorator, so that only the operation's own record fails.
    let meta = store.describe_key(&key).await.unwrap();

    sqlx::query("DROP TABLE kms_audit")
        .execute(store.pool())
        .await
        .unwrap();

    let withheld = |e: Error| {
        assert_eq!(e.kind(), ErrorKind::Unavailable, "{e}");
        let text = e.to_string();
        assert!(
            text.contains("the audit log") && text.contains("cannot be written"),
            "{text}"
        );
        assert!(text.contains("withheld"), "{text}");
    };
    withheld(
        backend
            .decrypt(&meta, &ct.ciphertext, &ctx)
            .await
            .unwrap_err(),
    );
    withheld(backend.encrypt(&meta, b"x", &ctx).await.unwrap_err());
    withheld(backend.rotate_key(&meta).await.unwrap_err());
    withheld(kms.describe_key(&key).await.unwrap_err());
    withheld(kms.generate_random(8).await.unwrap_err());
    // Token and policy changes recorded through the same scope fail alike.
    let subject = Subject::admin("policy_delete", "policy", "p");
    let r = backend.scope().record(subject, Ok(())).await;
    withheld(r.unwrap_err());
}

#[test]
fn outcomes_use_the_stable_error_codes() {
    assert_eq!(outcome(&Ok(())), "ok");
    let denied: kms_core::Result<()> = Err(Error::PermissionDenied("policy".into()));
    assert_eq!(outcome(&denied), "denied");
    let failed: kms_core::Result<()> = Err(Error::DecryptionFailed);
    assert_eq!(outcome(&failed), "error:invalid_input");
    let large: kms_core::Result<()> = Err(Error::PayloadTooLarge {
        what: "plaintext",
        len: 2,
        max: 1,
        hint: "",
    });
    assert_eq!(outcome(&large), "error:payload_too_large");
    assert_eq!(outcome::<()>(&Err(Error::Sealed)), "error:unavailable");
}

#[test]
fn request_ids_are_uuid_v4_from_the_given_generator() {
    let a = new_request_id(&InsecureDeterministicRng::new(1)).unwrap();
    let b = new_request_id(&InsecureDeterministicRng::new(1)).unwrap();
    assert_eq!(a, b);
    let u = uuid::Uuid::parse_str(&a).unwrap();
    assert_eq!(u.get_version_num(), 4);
    assert_ne!(a, new_request_id(&SystemRng).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audited_backend_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let n = Arc::new(Mutex::new(0));
    run(|| {
        let n = n.clone();
        let dir = dir.path().to_path_buf();
        async move {
            let i = {
                let mut g = n.lock().unwrap();
                *g += 1;
                *g
            };
            let clock = Arc::new(ManualClock::new(kms_core::Clock::now(
                &kms_core::SystemClock,
            )));
            let url = sqlite_url(&dir.join(format!("c{i}.db")));
            let store = store(StoreOptions::new(url).with_clock(clock.clone())).await;
            Harness {
                kms: KmsManager::new(audited(&store), Arc::new(SystemRng)),
                clock: Some(clock),
            }
        }
    })
    .await;
}

#[test]
fn the_decorator_keeps_the_inner_name_and_capabilities() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store = store(StoreOptions::new(sqlite_url(&dir.path().join("n.db")))).await;
        let backend = audited(&store);
        assert_eq!(backend.name(), store.name());
        assert_eq!(
            backend.capabilities().operations,
            store.capabilities().operations
        );
        assert!(backend.capabilities().supports(Operation::Encrypt));
        assert_eq!(backend.scope().principal(), "cli:tester");
        assert_eq!(backend.scope().request_id(), "req-1");
    });
}
