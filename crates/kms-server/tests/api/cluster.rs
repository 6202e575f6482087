//! Two real `kms-service` nodes on one PostgreSQL store: a key created or
//! rotated through one is used through the other at once; one node is
//! killed (SIGKILL) under a load of key writes and encrypts, and the other
//! keeps serving: every acknowledged key, rotation and ciphertext is there,
//! every acknowledged request has its audit record, and the chain written
//! by both nodes stays intact.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, KeySpec, Passphrase};
use kms_store::{AuditRecord, LocalBackend, StoreOptions, Unseal};
use kms_testkit::peers::PgDatabase;
use serde_json::{Value, json};

use crate::common::{PASSPHRASE, Service, all_audit, b64, fast_kdf, start_service, unb64};

const TOKEN: &str = "cluster-root";

fn node(store: &str, pass: &std::path::Path) -> Service {
    let pass = pass.to_str().unwrap();
    start_service(
        &[
            "--store",
            store,
            "--passphrase-file",
            pass,
            "--listen",
            "127.0.0.1:0",
        ],
        "error",
    )
}

/// A store on a fresh PostgreSQL database with the root token [`TOKEN`]
/// and `alias/default`, and two nodes serving it.
struct Cluster {
    store: Arc<LocalBackend>,
    a: Service,
    b: Service,
    _dir: tempfile::TempDir,
    // Dropped last: the nodes are stopped before their database goes.
    _db: PgDatabase,
}

async fn cluster(db: PgDatabase) -> Cluster {
    let store = LocalBackend::init(
        StoreOptions::new(db.url.clone()),
        &Unseal::Passphrase(Passphrase::new(PASSPHRASE.into())),
        fast_kdf(),
    )
    .await
    .unwrap();
    store
        .insert_token(TOKEN, "root", &["root".into()], None)
        .await
        .unwrap();
    let kms = kms_core::KmsManager::new(store.clone(), Arc::new(kms_core::SystemRng));
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(AliasName::parse("default").unwrap());
    kms.create_key(req).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let a = node(&db.url, &pass);
    let b = node(&db.url, &pass);
    Cluster {
        store,
        a,
        b,
        _dir: dir,
        _db: db,
    }
}

/// An answer: status, `x-request-id`, JSON body.
struct Answer {
    status: u16,
    request_id: String,
    body: Value,
}

async fn call(
    c: &reqwest::Client,
    url: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Result<Answer> {
    let req = match body {
        Some(b) => c.post(format!("{url}{path}")).json(&b),
        None => c.get(format!("{url}{path}")),
    };
    let r = req.bearer_auth(TOKEN).send().await?;
    let status = r.status().as_u16();
    let request_id = r
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = r.json().await.unwrap_or(Value::Null);
    Ok(Answer {
        status,
        request_id,
        body,
    })
}

/// Like [`call`], but the node must answer 2xx.
async fn ok(c: &reqwest::Client, url: &str, path: &str, body: Option<Value>) -> Value {
    let a = call(c, url, path, body).await.unwrap();
    assert!(
        (200..300).contains(&a.status),
        "{path}: {} {}",
        a.status,
        a.body
    );
    a.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_created_and_rotated_through_one_node_is_used_through_the_other_at_once() {
    let Some(db) = PgDatabase::create(
        "a_key_created_and_rotated_through_one_node_is_used_through_the_other_at_once",
    ) else {
        return;
    };
    let cl = cluster(db).await;
    let (a, b) = (cl.a.url.as_str(), cl.b.url.as_str());
    let c = reqwest::Client::new();
    let encrypt =
        |pt: &[u8]| json!({"key": "alias/shared", "plaintext": b64(pt), "context": "app=cluster"});
    let decrypt = |ct: &Value| json!({"ciphertext": ct, "context": "app=cluster"});

    // Created through A, used through B at once (by alias and by id).
    let key = ok(
        &c,
        a,
        "/api/v1/keys",
        Some(json!({"spec": "AES_256", "alias": "alias/shared"})),
    )
    .await;
    let id = key["key_id"].as_str().unwrap().to_string();
    let described = ok(&c, b, &format!("/api/v1/keys/{id}"), None).await;
    assert_eq!(described["aliases"], json!(["alias/shared"]), "{described}");
    let on_b = ok(&c, b, "/api/v1/crypto/encrypt", Some(encrypt(b"v1 on B"))).await;
    assert_eq!(on_b["version"], 1);
    let back = ok(
        &c,
        a,
        "/api/v1/crypto/decrypt",
        Some(decrypt(&on_b["ciphertext"])),
    )
    .await;
    assert_eq!(unb64(&back["plaintext"]), b"v1 on B");

    // Rotated through A while B holds version 1 as the newest: A encrypts
    // with version 2 and B decrypts that at once.
    let rot = ok(&c, a, &format!("/api/v1/keys/{id}/rotate"), Some(json!({}))).await;
    assert_eq!(rot["current_version"], 2, "{rot}");
    let on_a = ok(&c, a, "/api/v1/crypto/encrypt", Some(encrypt(b"v2 on A"))).await;
    assert_eq!(on_a["version"], 2);
    let back = ok(
        &c,
        b,
        "/api/v1/crypto/decrypt",
        Some(decrypt(&on_a["ciphertext"])),
    )
    .await;
    assert_eq!(unb64(&back["plaintext"]), b"v2 on A");
    assert_eq!(back["version"], 2);
    // Having seen version 2, B encrypts with it, and A decrypts that.
    let on_b = ok(&c, b, "/api/v1/crypto/encrypt", Some(encrypt(b"v2 on B"))).await;
    assert_eq!(on_b["version"], 2, "{on_b}");
    let back = ok(
        &c,
        a,
        "/api/v1/crypto/decrypt",
        Some(decrypt(&on_b["ciphertext"])),
    )
    .await;
    assert_eq!(unb64(&back["plaintext"]), b"v2 on B");

    // The same the other way round: rotated through B, used through A.
    let rot = ok(&c, b, &format!("/api/v1/keys/{id}/rotate"), Some(json!({}))).await;
    assert_eq!(rot["current_version"], 3, "{rot}");
    let on_b = ok(&c, b, "/api/v1/crypto/encrypt", Some(encrypt(b"v3 on B"))).await;
    assert_eq!(on_b["version"], 3);
    let back = ok(
        &c,
        a,
        "/api/v1/crypto/decrypt",
        Some(decrypt(&on_b["ciphertext"])),
    )
    .await;
    assert_eq!(unb64(&back["plaintext"]), b"v3 on B");
    let on_a = ok(&c, a, "/api/v1/crypto/encrypt", Some(encrypt(b"v3 on A"))).await;
    assert_eq!(on_a["version"], 3, "{on_a}");
    let back = ok(
        &c,
        b,
        "/api/v1/crypto/decrypt",
        Some(decrypt(&on_a["ciphertext"])),
    )
    .await;
    assert_eq!(unb64(&back["plaintext"]), b"v3 on A");

    let v = cl.store.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
}

/// What a worker was told succeeded.
#[derive(Debug)]
enum Acked {
    Created {
        key_id: String,
    },
    Encrypted {
        plaintext: String,
        ciphertext: String,
    },
    Rotated {
        key_id: String,
        version: u64,
    },
}

/// Waits (generously) until `n` reaches `at_least`.
async fn until_count(n: &AtomicUsize, at_least: usize, what: &str) {
    for _ in 0..1200 {
        if n.load(Ordering::Relaxed) >= at_least {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{what}: only {} of {at_least} within 120 s",
        n.load(Ordering::Relaxed)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_nodes_under_load_loses_nothing_acknowledged() {
    let Some(db) =
        PgDatabase::create("killing_one_of_two_nodes_under_load_loses_nothing_acknowledged")
    else {
        return;
    };
    let mut cl = cluster(db).await;
    let urls = [cl.a.url.clone(), cl.b.url.clone()];

    let stop = Arc::new(AtomicBool::new(false));
    // Acknowledgements per node.
    let acks = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let mut workers = Vec::new();
    for w in 0..6u32 {
        let urls = urls.clone();
        let stop = stop.clone();
        let acks = acks.clone();
        workers.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut acked: Vec<(String, Acked)> = Vec::new();
            let mut own_keys: Vec<String> = Vec::new();
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let n = (i as usize + w as usize) % 2;
                let url = &urls[n];
                // Mostly seed encrypts; every fourth request a key write:
                // a new key, or a rotation of one this worker made.
                let (path, body) = match (i % 8, own_keys.last()) {
                    (3, _) | (7, None) => (
                        "/api/v1/keys".to_string(),
                        json!({"spec": "AES_256", "description": format!("w{w}-{i}")}),
                    ),
                    (7, Some(k)) => (format!("/api/v1/keys/{k}/rotate"), json!({})),
                    _ => (
                        "/api/v1/kms/encrypt".to_string(),
                        json!({"plaintext": b64(format!("w{w}-{i}").as_bytes())}),
                    ),
                };
                i += 1;
                let Ok(a) = call(&c, url, &path, Some(body)).await else {
                    continue;
                };
                if !(200..300).contains(&a.status) {
                    continue;
                }
                assert!(!a.request_id.is_empty(), "an answer without x-request-id");
                let what = if path == "/api/v1/keys" {
                    let key_id = a.body["key_id"].as_str().unwrap().to_string();
                    own_keys.push(key_id.clone());
                    Acked::Created { key_id }
                } else if path.ends_with("/rotate") {
                    Acked::Rotated {
                        key_id: a.body["key_id"].as_str().unwrap().to_string(),
                        version: a.body["current_version"].as_u64().unwrap(),
                    }
                } else {
                    Acked::Encrypted {
                        plaintext: format!("w{w}-{}", i - 1),
                        ciphertext: a.body["ciphertext"].as_str().unwrap().to_string(),
                    }
                };
                acked.push((a.request_id, what));
                acks[n].fetch_add(1, Ordering::Relaxed);
            }
            acked
        }));
    }
    // Load on both nodes, then A dies mid-load, then more load on B alone.
    until_count(&acks[0], 40, "acknowledgements from A before the kill").await;
    until_count(&acks[1], 40, "acknowledgements from B before the kill").await;
    cl.a.child.kill().unwrap();
    cl.a.child.wait().unwrap();
    let after_kill = acks[1].load(Ordering::Relaxed) + 40;
    until_count(
        &acks[1],
        after_kill,
        "acknowledgements from B after the kill",
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in workers {
        acked.extend(w.await.unwrap());
    }

    let c = reqwest::Client::new();
    let b = cl.b.url.as_str();
    let mut newest: HashMap<String, u64> = HashMap::new();
    let (mut created, mut rotated, mut encrypted) = (0, 0, 0);
    for (_, what) in &acked {
        match what {
            // Every acknowledged key exists on the surviving node.
            Acked::Created { key_id } => {
                created += 1;
                let d = ok(&c, b, &format!("/api/v1/keys/{key_id}"), None).await;
                assert_eq!(d["key_id"], key_id.as_str());
            }
            Acked::Rotated { key_id, version } => {
                rotated += 1;
                let v = newest.entry(key_id.clone()).or_default();
                *v = (*v).max(*version);
            }
            // Every acknowledged ciphertext decrypts on the surviving node.
            Acked::Encrypted {
                plaintext,
                ciphertext,
            } => {
                encrypted += 1;
                let v = ok(
                    &c,
                    b,
                    "/api/v1/kms/decrypt",
                    Some(json!({"ciphertext": ciphertext})),
                )
                .await;
                assert_eq!(unb64(&v["plaintext"]), plaintext.as_bytes());
            }
        }
    }
    assert!(
        created > 0 && encrypted > 0,
        "{created} keys, {encrypted} encrypts"
    );
    // Every acknowledged rotation is there (a later one may have followed).
    for (key_id, version) in &newest {
        let d = ok(&c, b, &format!("/api/v1/keys/{key_id}"), None).await;
        assert!(d["current_version"].as_u64().unwrap() >= *version, "{d}");
    }

    // One chain across both nodes, intact, with a successful record for
    // every acknowledged request (matched by its x-request-id).
    let v = cl.store.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    let records = all_audit(&cl.store).await;
    let by_request: HashMap<&str, &AuditRecord> = records
        .iter()
        .filter(|r| r.event.outcome == "ok")
        .map(|r| (r.event.request_id.as_str(), r))
        .collect();
    for (request_id, what) in &acked {
        let rec = by_request.get(request_id.as_str()).unwrap_or_else(|| {
            panic!("no audit record of acknowledged request {request_id} ({what:?})")
        });
        if let Acked::Created { key_id } | Acked::Rotated { key_id, .. } = what {
            assert_eq!(&rec.event.entity_id, key_id, "{rec:?}");
        }
    }
    eprintln!(
        "{} acknowledged ({created} keys, {rotated} rotations, {encrypted} encrypts), {} audit records",
        acked.len(),
        records.len()
    );
}
