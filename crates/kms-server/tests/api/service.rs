//! The real `kms-service` binary: dev mode, sealed start, config errors,
//! graceful shutdown, TLS with reload on SIGHUP, and mutual TLS.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, KeySpec, Passphrase};
use kms_store::{LocalBackend, StoreOptions, Unseal, sqlite_url};
use serde_json::json;

use crate::common::{PASSPHRASE, fast_kdf};

const BIN: &str = env!("CARGO_BIN_EXE_kms-service");

struct Service {
    child: Child,
    url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Service {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("KMS_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("the server exited before listening")
            .unwrap();
        if let Some(rest) = line.strip_prefix("Listening:") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Service { child, url }
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
