//! Tokens, policies and the failed-authentication limit.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kms_core::ManualClock;
use kms_server::auth::AuthSettings;
use serde_json::json;
use sqlx::Row;

use crate::common::*;

#[tokio::test]
async fn no_token_and_a_wrong_token_are_401_while_health_is_open() {
    let t = fresh().await;
    let none = t
        .call(
            "POST",
            "/api/v1/kms/encrypt",
            None,
            Some(json!({"plaintext": "AA=="})),
        )
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&none), "unauthenticated");
    assert!(none.headers.contains_key("www-authenticate"));
    let wrong = t
        .call(
            "POST",
            "/api/v1/kms/encrypt",
            Some("kms_wrong-token"),
            Some(json!({"plaintext": "AA=="})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let h = t.call("GET", "/api/v1/kms/health", None, None).await;
    assert_eq!(h.status, StatusCode::OK);
}

#[tokio::test]
async fn the_token_is_accepted_in_each_of_the_three_headers() {
    let t = fresh().await;
    for (name, value) in [
        ("authorization", format!("Bearer {ROOT}")),
        ("authorization", format!("bearer {ROOT}")),
        ("x-vault-token", ROOT.to_string()),
        ("x-api-key", ROOT.to_string()),
    ] {
        let req = Request::builder()
            .uri("/api/v1/kms/status")
            .header(name, value)
            .body(Body::empty())
            .unwrap();
        let a = t.send(req).await;
        assert_eq!(a.status, StatusCode::OK, "{name}: {}", a.text);
    }
}

#[tokio::test]
async fn policies_allow_operations_on_key_patterns_and_403_differs_from_401() {
    let t = fresh().await;
    t.key("AES_256", Some("alias/app-billing")).await;
    let other = t.key("AES_256", Some("alias/ops")).await;
    let tok = t
        .token_with(
            "app",
            json!([{"operations": ["encrypt", "decrypt"], "keys": ["alias/app-*"]}]),
        )
        .await;
    let ok = t
        .call(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(&tok),
            Some(json!({"key": "alias/app-billing", "plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    // The same key by id matches through its alias.
    let by_id = ok.body["key_id"].as_str().unwrap();
    let ok2 = t
        .call(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(&tok),
            Some(json!({"key": by_id, "plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(ok2.status, StatusCode::OK, "{}", ok2.text);
    let dec = t
        .call(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(&tok),
            Some(json!({"ciphertext": ok.body["ciphertext"]})),
        )
        .await;
    assert_eq!(dec.status, StatusCode::OK, "{}", dec.text);
    let denied_key = t
        .call(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(&tok),
            Some(json!({"key": other, "plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(denied_key.status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&denied_key), "permission_denied");
    let denied_op = t
        .call(
            "POST",
            "/api/v1/keys/alias%2Fapp-billing/rotate",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(denied_op.status, StatusCode::FORBIDDEN);
    let admin = t.call("GET", "/api/v1/auth/tokens", Some(&tok), None).await;
    assert_eq!(admin.status, StatusCode::FORBIDDEN);
    let list = t.call("GET", "/api/v1/keys", Some(&tok), None).await;
    assert_eq!(
        list.status,
        StatusCode::FORBIDDEN,
        "list needs a rule with keys [\"*\"]"
    );
}

#[tokio::test]
async fn a_policy_can_require_encryption_context_keys() {
    let t = fresh().await;
    let tok = t
        .token_with(
            "tenant",
            json!([{"operations": ["encrypt"], "require_context_keys": ["tenant"]}]),
        )
        .await;
    let without = t
        .call(
            "POST",
            "/api/v1/kms/encrypt",
            Some(&tok),
            Some(json!({"plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    assert!(without.body["message"].as_str().unwrap().contains("tenant"));
    let with = t
        .call(
            "POST",
            "/api/v1/kms/encrypt",
            Some(&tok),
            Some(json!({"plaintext": b64(b"x"), "context": "tenant=acme"})),
        )
        .await;
    assert_eq!(with.status, StatusCode::OK, "{}", with.text);
}

#[tokio::test]
async fn tokens_are_stored_only_as_sha256_hashes() {
    let t = fresh().await;
    let tok = t
        .token_with("p", json!([{"operations": ["encrypt"]}]))
        .await;
    assert!(tok.starts_with("kms_") && tok.len() == 68, "{tok}");
    let rows = sqlx::query("SELECT id, hash, principal, policies FROM kms_tokens")
        .fetch_all(t.store().pool())
        .await
        .unwrap();
    let want = kms_store::hash_token(&tok).to_vec();
    let mut found = false;
    for r in rows {
        let hash: Vec<u8> = r.get("hash");
        found |= hash == want;
        for col in ["id", "principal", "policies"] {
            let v: String = r.get(col);
            assert!(!v.contains(&tok[4..]), "secret in column {col}");
        }
        assert!(!String::from_utf8_lossy(&hash).contains(&tok[4..]));
    }
    assert!(found);
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_401() {
    let clock = Arc::new(ManualClock::new(
        time::macros::datetime!(2030-01-01 0:00 UTC),
    ));
    let t = fresh_custom(AuthSettings::default(), None, Some(clock.clone())).await;
    let a = t
        .root(
            "POST",
            "/api/v1/auth/tokens",
            Some(json!({"principal": "ci", "policies": ["root"], "ttl_seconds": 60})),
        )
        .await;
    let short = a.body["token"].as_str().unwrap().to_string();
    assert_eq!(
        t.call("GET", "/api/v1/kms/status", Some(&short), None)
            .await
            .status,
        StatusCode::OK
    );
    clock.advance(time::Duration::seconds(61));
    assert_eq!(
        t.call("GET", "/api/v1/kms/status", Some(&short), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let b = t
        .root(
            "POST",
            "/api/v1/auth/tokens",
            Some(json!({"principal": "ci2", "policies": ["root"]})),
        )
        .await;
    let tok = b.body["token"].as_str().unwrap().to_string();
    let id = b.body["info"]["id"].as_str().unwrap();
    // Used once, so the node has it in its token cache: revocation must still bite at once.
    assert_eq!(
        t.call("GET", "/api/v1/kms/status", Some(&tok), None)
            .await
            .status,
        StatusCode::OK
    );
    let r = t
        .root("DELETE", &format!("/api/v1/auth/tokens/{id}"), None)
        .await;
    assert!(r.body["revoked_at"].is_string(), "{}", r.text);
    assert_eq!(
        t.call("GET", "/api/v1/kms/status", Some(&tok), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

fn from(addr: &str, token: &str) -> Request<Body> {
    Request::builder()
        .uri("/api/v1/kms/status")
        .header("x-forwarded-for", format!("10.9.9.9, {addr}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn three_failed_authentications_from_one_address_lock_it_out_with_429() {
    let settings = AuthSettings {
        max_failures: 3,
        trust_forwarded_for: true,
        ..AuthSettings::default()
    };
    let t = fresh_with(settings, None).await;
    for _ in 0..3 {
        let a = t.send(from("192.0.2.1", "kms_guess")).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    // Locked: even the right token from that address is refused.
    let locked = t.send(from("192.0.2.1", ROOT)).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.text
    );
    assert_eq!(error_code(&locked), "too_many_requests");
    let retry: u64 = locked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    // Another address is not affected.
    assert_eq!(t.send(from("192.0.2.2", ROOT)).await.status, StatusCode::OK);
    // Health stays open.
    let h = t.call("GET", "/api/v1/kms/health", None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    // Each failed authentication is audited, without the token.
    let failed = t
        .store()
        .list_audit(&kms_store::AuditFilter {
            operation: Some("authenticate".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 3);
    for r in &failed {
        assert_eq!(
            (
                r.event.principal.as_str(),
                r.event.outcome.as_str(),
                r.event.source.as_str()
            ),
            ("anonymous", "error:unauthenticated", "192.0.2.1")
        );
        assert!(!format!("{:?}", r.event).contains("kms_guess"));
    }
}
