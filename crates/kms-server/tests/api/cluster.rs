//! Two real `kms-service` nodes on one PostgreSQL store: one is killed
//! (SIGKILL) under load; the other keeps serving, everything acknowledged
//! stays decryptable, and the audit chain written by both stays intact.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, KeySpec, Passphrase};
use kms_store::{LocalBackend, StoreOptions, Unseal};
use kms_testkit::peers::PgDatabase;
use serde_json::json;

use crate::common::{PASSPHRASE, fast_kdf};

struct Node {
    child: Child,
    url: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn node(store: &str, pass: &std::path::Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kms-service"))
        .args(["--store", store, "--passphrase-file"])
        .arg(pass)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "error")
        .env_remove("KMS_CONFIG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("node exited").unwrap();
        if let Some(rest) = line.strip_prefix("Listening:") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Node { child, url }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_nodes_under_load_loses_nothing_acknowledged() {
    let Some(db) =
        PgDatabase::create("killing_one_of_two_nodes_under_load_loses_nothing_acknowledged")
    else {
        return;
    };
    let store = LocalBackend::init(
        StoreOptions::new(db.url.clone()),
        &Unseal::Passphrase(Passphrase::new(PASSPHRASE.into())),
        fast_kdf(),
    )
    .await
    .unwrap();
    store
        .insert_token("cluster-root", "root", &["root".into()], None)
        .await
        .unwrap();
    let kms = kms_core::KmsManager::new(store.clone(), Arc::new(kms_core::SystemRng));
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(AliasName::parse("default").unwrap());
    kms.create_key(req).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pass = dir.path().join("pass");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let mut a = node(&db.url, &pass);
    let b = node(&db.url, &pass);
    let urls = [a.url.clone(), b.url.clone()];

    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..6u32 {
        let urls = urls.clone();
        let stop = stop.clone();
        workers.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut acked = Vec::new();
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                let pt = format!("w{w}-{i}");
                let url = &urls[(i % 2) as usize];
                let r = c
                    .post(format!("{url}/api/v1/kms/encrypt"))
                    .bearer_auth("cluster-root")
                    .json(&json!({"plaintext": crate::common::b64(pt.as_bytes())}))
                    .send()
                    .await;
                if let Ok(r) = r
                    && r.status() == 200
                {
                    let v: serde_json::Value = r.json().await.unwrap();
                    acked.push((pt, v["ciphertext"].as_str().unwrap().to_string()));
                }
                i += 1;
            }
            acked
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    for w in workers {
        acked.extend(w.await.unwrap());
    }
    assert!(acked.len() > 20, "too little load: {}", acked.len());

    // Every acknowledged ciphertext decrypts on the surviving node.
    let c = reqwest::Client::new();
    for (pt, ct) in &acked {
        let v: serde_json::Value = c
            .post(format!("{}/api/v1/kms/decrypt", b.url))
            .bearer_auth("cluster-root")
            .json(&json!({"ciphertext": ct}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(crate::common::unb64(&v["plaintext"]), pt.as_bytes());
    }
    // One chain across both nodes, intact, with a record for every acknowledgement.
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert!(
        v.records as usize >= acked.len(),
        "{} records for {} acks",
        v.records,
        acked.len()
    );
}
