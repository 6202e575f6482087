//! The real `kms-service` binary: dev mode, sealed start, config errors,
//! graceful shutdown, TLS with reload on SIGHUP, and mutual TLS.

use std::path::Path;
use std::process::{Child, Command};
use std::sync::Arc;

use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, KeySpec, Passphrase};
use kms_store::{LocalBackend, StoreOptions, Unseal, sqlite_url};
use serde_json::json;

use crate::common::{BIN, PASSPHRASE, Service, all_audit, fast_kdf, start_service};

fn start(args: &[&str]) -> Service {
    start_service(args, "warn")
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

#[tokio::test]
async fn dev_mode_serves_the_seed_api_with_the_given_root_token_and_stops_cleanly_on_sigterm() {
    let mut s = start(&[
        "--dev",
        "--dev-root-token",
        "dev-root-token",
        "--listen",
        "127.0.0.1:0",
    ]);
    let c = reqwest::Client::new();
    let enc: serde_json::Value = c
        .post(format!("{}/api/v1/kms/encrypt", s.url))
        .bearer_auth("dev-root-token")
        .json(&json!({"plaintext": "SGVsbG8sIFdvcmxkIQ==", "context": "env=prod,service=api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        enc["ciphertext"].as_str().unwrap().starts_with("kms:v1:"),
        "{enc}"
    );
    let h = c
        .get(format!("{}/api/v1/kms/health", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    signal(&s.child, "-TERM");
    let status = s.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

async fn initialised_store(dir: &Path) -> String {
    let path = dir.join("kms.db");
    let store = LocalBackend::init(
        StoreOptions::new(sqlite_url(&path)),
        &Unseal::Passphrase(Passphrase::new(PASSPHRASE.into())),
        fast_kdf(),
    )
    .await
    .unwrap();
    store
        .insert_token("operator-token", "operator", &["root".into()], None)
        .await
        .unwrap();
    let kms = kms_core::KmsManager::new(store.clone(), Arc::new(kms_core::SystemRng));
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(AliasName::parse("default").unwrap());
    kms.create_key(req).await.unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn started_without_a_passphrase_the_server_is_sealed_until_unsealed_over_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let store = initialised_store(dir.path()).await;
    let s = start(&["--store", &store, "--listen", "127.0.0.1:0"]);
    let c = reqwest::Client::new();
    let encrypt = || {
        c.post(format!("{}/api/v1/kms/encrypt", s.url))
            .bearer_auth("operator-token")
            .json(&json!({"plaintext": "AA=="}))
            .send()
    };
    assert_eq!(encrypt().await.unwrap().status(), 503);
    let st: serde_json::Value = c
        .get(format!("{}/api/v1/sys/seal-status", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["sealed"], true);
    let un = c
        .post(format!("{}/api/v1/sys/unseal", s.url))
        .json(&json!({"passphrase": PASSPHRASE}))
        .send()
        .await
        .unwrap();
    assert_eq!(un.status(), 200);
    assert_eq!(encrypt().await.unwrap().status(), 200);
}

#[test]
fn an_unknown_config_key_stops_the_server_with_the_key_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("kms.toml");
    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:0\"\nlisten_port = 1\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--dev", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("listen_port"), "{err}");
}

struct Pki {
    ca_pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

fn ca(name: &str) -> Pki {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pki {
        ca_pem: cert.pem(),
        issuer: rcgen::Issuer::new(params, key),
    }
}

/// A leaf (cert PEM, key PEM) for `localhost` / a client CN.
fn leaf(pki: &Pki, cn: &str) -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &pki.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn client_trusting(ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn after_sighup_the_replaced_certificate_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (ca1, ca2) = (ca("first CA"), ca("second CA"));
    let (c1, k1) = leaf(&ca1, "server one");
    std::fs::write(&cert, c1).unwrap();
    std::fs::write(&key, k1).unwrap();
    let s = start(&[
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let url = format!(
        "{}/api/v1/kms/health",
        s.url.replace("127.0.0.1", "localhost")
    );
    assert_eq!(
        client_trusting(&ca1.ca_pem)
            .get(&url)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(client_trusting(&ca2.ca_pem).get(&url).send().await.is_err());
    let (c2, k2) = leaf(&ca2, "server two");
    std::fs::write(&cert, c2).unwrap();
    std::fs::write(&key, k2).unwrap();
    signal(&s.child, "-HUP");
    let mut ok = false;
    for _ in 0..50 {
        if client_trusting(&ca2.ca_pem).get(&url).send().await.is_ok() {
            ok = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(ok, "the new certificate is not served after SIGHUP");
    assert!(client_trusting(&ca1.ca_pem).get(&url).send().await.is_err());
}

#[tokio::test]
async fn with_mutual_tls_a_mapped_client_certificate_is_a_principal() {
    let dir = tempfile::tempdir().unwrap();
    let server_ca = ca("server CA");
    let client_ca = ca("client CA");
    let (sc, sk) = leaf(&server_ca, "kms");
    let (cc, ck) = leaf(&client_ca, "app1");
    let (oc, ok) = leaf(&client_ca, "stranger");
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("s.crt"), sc).unwrap();
    std::fs::write(p("s.key"), sk).unwrap();
    std::fs::write(p("client-ca.pem"), &client_ca.ca_pem).unwrap();
    std::fs::write(
        p("kms.toml"),
        "[server.tls]\nclient_principals = { \"CN=app1\" = [\"root\"] }\n",
    )
    .unwrap();
    let s = start(&[
        "--dev",
        "--listen",
        "127.0.0.1:0",
        "--config",
        p("kms.toml").to_str().unwrap(),
        "--tls-cert",
        p("s.crt").to_str().unwrap(),
        "--tls-key",
        p("s.key").to_str().unwrap(),
        "--tls-client-ca",
        p("client-ca.pem").to_str().unwrap(),
    ]);
    let url = format!(
        "{}/api/v1/kms/status",
        s.url.replace("127.0.0.1", "localhost")
    );
    let with = |cert: &str, key: &str| {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(server_ca.ca_pem.as_bytes()).unwrap()])
            .identity(reqwest::Identity::from_pem(format!("{cert}{key}").as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    let r = with(&cc, &ck).get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let stranger = with(&oc, &ok).get(&url).send().await.unwrap();
    assert_eq!(stranger.status(), 401, "an unmapped subject needs a token");
    assert!(
        client_trusting(&server_ca.ca_pem)
            .get(&url)
            .send()
            .await
            .is_err(),
        "no client certificate: no handshake"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_load_loses_no_audit_record_of_an_answered_request() {
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    let dir = tempfile::tempdir().unwrap();
    let store_path = initialised_store(dir.path()).await;
    let pass = dir.path().join("pass");
    std::fs::write(&pass, PASSPHRASE).unwrap();
    let mirror = dir.path().join("audit.jsonl");
    let mut s = start(&[
        "--store",
        &store_path,
        "--passphrase-file",
        pass.to_str().unwrap(),
        "--audit-file",
        mirror.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..8u32 {
        let (url, stop, answered) = (s.url.clone(), stop.clone(), answered.clone());
        workers.push(tokio::spawn(async move {
            let c = reqwest::Client::new();
            let mut ids = Vec::new();
            let mut i = 0u32;
            while !stop.load(Ordering::Relaxed) {
                // Mostly encrypts (seed and native), now and then a new key.
                let (path, body) = match i % 5 {
                    4 => ("/api/v1/keys", json!({"spec": "AES_256"})),
                    3 => (
                        "/api/v1/crypto/encrypt",
                        json!({"key": "alias/default", "plaintext": "AA=="}),
                    ),
                    _ => (
                        "/api/v1/kms/encrypt",
                        json!({"plaintext": crate::common::b64(format!("w{w}-{i}").as_bytes())}),
                    ),
                };
                i += 1;
                let r = c
                    .post(format!("{url}{path}"))
                    .bearer_auth("operator-token")
                    .json(&body)
                    .send()
                    .await;
                let Ok(r) = r else {
                    // Refused once the listener closed: not answered.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                if !r.status().is_success() {
                    continue;
                }
                let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
                // The answer counts only once its body arrived whole.
                if r.bytes().await.is_ok() {
                    ids.push(id);
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
            ids
        }));
    }
    // Under load (generously waited for), SIGTERM.
    for _ in 0..1200 {
        if answered.load(Ordering::Relaxed) >= 60 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        answered.load(Ordering::Relaxed) >= 60,
        "no load within 120 s"
    );
    let before_signal = answered.load(Ordering::Relaxed);
    signal(&s.child, "-TERM");
    let status = tokio::task::spawn_blocking(move || {
        let status = s.child.wait();
        (s, status)
    })
    .await
    .unwrap();
    let (_s, status) = status;
    assert!(status.unwrap().success(), "the server did not stop cleanly");
    stop.store(true, Ordering::Relaxed);
    let mut answered_ids = Vec::new();
    for w in workers {
        answered_ids.extend(w.await.unwrap());
    }

    // Every answered request has its record in the store, and in the mirror.
    let store = LocalBackend::open_sealed(StoreOptions::new(sqlite_url(Path::new(&store_path))))
        .await
        .unwrap();
    let v = store.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    let records = all_audit(&store).await;
    let in_store: HashSet<&str> = records
        .iter()
        .filter(|r| r.event.outcome == "ok")
        .map(|r| r.event.request_id.as_str())
        .collect();
    let text = std::fs::read_to_string(&mirror).unwrap();
    let in_mirror: HashSet<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["request_id"].as_str().unwrap().to_string()
        })
        .collect();
    for id in &answered_ids {
        assert!(
            in_store.contains(id.as_str()),
            "request {id} was answered but has no audit record"
        );
        assert!(
            in_mirror.contains(id),
            "request {id} was answered but is not in the mirror"
        );
    }
    eprintln!(
        "{} requests answered ({} after SIGTERM was sent); {} audit records",
        answered_ids.len(),
        answered_ids.len() - before_signal,
        records.len()
    );
}
