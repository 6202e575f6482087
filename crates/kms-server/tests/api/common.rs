//! A fresh server per test.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt as _;
use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, KeySpec, Passphrase};
use kms_server::auth::AuthSettings;
use kms_server::{AppState, Settings, app};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};
use serde_json::Value;
use tower::ServiceExt as _;

pub const ROOT: &str = "root-token-for-tests";
pub const PASSPHRASE: &str = "correct horse battery staple";

pub struct TestApp {
    pub app: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

pub fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    }
}

/// A fresh unsealed store with `alias/default` and the root token [`ROOT`].
pub async fn fresh() -> TestApp {
    fresh_with(AuthSettings::default(), None).await
}

pub async fn fresh_with(auth: AuthSettings, mirror: Option<&str>) -> TestApp {
    fresh_custom(auth, mirror, None).await
}

pub async fn fresh_custom(
    auth: AuthSettings,
    mirror: Option<&str>,
    clock: Option<Arc<dyn kms_core::Clock>>,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("kms.db"));
    let unseal = Unseal::Passphrase(Passphrase::new(PASSPHRASE.into()));
    let mut opts = StoreOptions::new(url);
    if let Some(c) = clock {
        opts = opts.with_clock(c);
    }
    let store = LocalBackend::init(opts, &unseal, fast_kdf()).await.unwrap();
    store
        .insert_token(ROOT, "root", &["root".to_string()], None)
        .await
        .unwrap();
    let mirror = mirror.map(|m| dir.path().join(m));
    let (state, _task) =
        AppState::new(store, Settings::new("alias/default").unwrap(), auth, mirror);
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(AliasName::parse("alias/default").unwrap());
    state.kms.create_key(req).await.unwrap();
    TestApp {
        app: app(state.clone()),
        state,
        dir,
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl TestApp {
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&b).unwrap())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self.app.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn root(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        self.call(method, path, Some(ROOT), body).await
    }

    /// Creates a key as root; returns its id.
    pub async fn key(&self, spec: &str, alias: Option<&str>) -> String {
        let mut body = serde_json::json!({ "spec": spec });
        if let Some(a) = alias {
            body["alias"] = a.into();
        }
        let a = self.root("POST", "/api/v1/keys", Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body["key_id"].as_str().unwrap().to_string()
    }

    /// A token with one policy made of `rules`.
    pub async fn token_with(&self, name: &str, rules: Value) -> String {
        let a = self
            .root(
                "PUT",
                &format!("/api/v1/auth/policies/{name}"),
                Some(serde_json::json!({ "name": name, "rules": rules })),
            )
            .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let a = self
            .root(
                "POST",
                "/api/v1/auth/tokens",
                Some(
                    serde_json::json!({ "principal": format!("{name}-user"), "policies": [name] }),
                ),
            )
            .await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
        a.body["token"].as_str().unwrap().to_string()
    }

    pub fn store(&self) -> &Arc<LocalBackend> {
        &self.state.store
    }
}

pub fn b64(b: &[u8]) -> String {
    STANDARD.encode(b)
}

pub fn unb64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// Asserts the error format and returns the code.
pub fn error_code(a: &Answer) -> String {
    assert!(a.body["message"].is_string(), "no message in {}", a.text);
    a.body["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {}", a.text))
        .to_string()
}

/// Every audit record of a store, oldest first.
pub async fn all_audit(store: &LocalBackend) -> Vec<kms_store::AuditRecord> {
    let mut out: Vec<kms_store::AuditRecord> = Vec::new();
    loop {
        let page = store
            .list_audit(&kms_store::AuditFilter {
                after_seq: out.last().map(|r| r.seq),
                limit: Some(10_000),
                ..Default::default()
            })
            .await
            .unwrap();
        if page.is_empty() {
            return out;
        }
        out.extend(page);
    }
}

/// The server binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_kms-service");

/// A running `kms-service`, killed when dropped.
pub struct Service {
    pub child: std::process::Child,
    pub url: String,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the server binary with `args` and `RUST_LOG=rust_log`, and waits
/// for its `Listening:` line.
pub fn start_service(args: &[&str], rust_log: &str) -> Service {
    use std::io::{BufRead as _, BufReader};
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .env("RUST_LOG", rust_log)
        .env_remove("KMS_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
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
