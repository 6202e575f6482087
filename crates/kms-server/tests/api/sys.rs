//! Seal state, metrics, the OpenAPI document, and a real TCP listener.

use std::net::SocketAddr;

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn a_sealed_server_answers_only_health_seal_status_and_unseal() {
    let t = fresh().await;
    let s = t.root("POST", "/api/v1/sys/seal", None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.body["sealed"], true);
    for (m, p) in [
        ("POST", "/api/v1/kms/encrypt"),
        ("GET", "/api/v1/keys"),
        ("GET", "/api/v1/auth/tokens"),
        ("POST", "/api/v1/sys/seal"),
    ] {
        let a = t.root(m, p, Some(json!({"plaintext": "AA=="}))).await;
        assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{m} {p}");
        assert_eq!(error_code(&a), "unavailable");
    }
    let h = t.call("GET", "/api/v1/kms/health", None, None).await;
    assert_eq!(
        (h.status, h.body["status"].clone()),
        (StatusCode::SERVICE_UNAVAILABLE, json!("sealed"))
    );
    let st = t.call("GET", "/api/v1/sys/seal-status", None, None).await;
    assert_eq!(st.body["sealed"], true);
    let sys_health = t.call("GET", "/api/v1/sys/health", None, None).await;
    assert_eq!(sys_health.status, StatusCode::SERVICE_UNAVAILABLE);
    let m = t.root("GET", "/metrics", None).await;
    assert_eq!(m.status, StatusCode::OK, "{}", m.text);
    assert!(m.text.contains("kms_sealed 1"), "{}", m.text);
    let wrong = t
        .call(
            "POST",
            "/api/v1/sys/unseal",
            None,
            Some(json!({"passphrase": "nope"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.text);
    let right = t
        .call(
            "POST",
            "/api/v1/sys/unseal",
            None,
            Some(json!({"passphrase": PASSPHRASE})),
        )
        .await;
    assert_eq!(right.status, StatusCode::OK, "{}", right.text);
    assert_eq!(right.body["sealed"], false);
    let enc = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": "AA=="})),
        )
        .await;
    assert_eq!(enc.status, StatusCode::OK);
    let ops: Vec<String> = t
        .store()
        .list_audit(&kms_store::AuditFilter::default())
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{}:{}", r.event.operation, r.event.outcome))
        .collect();
    assert!(
        ops.contains(&"seal:ok".to_string()) && ops.contains(&"unseal:denied".to_string()),
        "{ops:?}"
    );
}

#[tokio::test]
async fn metrics_openapi_and_docs_are_served() {
    let t = fresh().await;
    t.root(
        "POST",
        "/api/v1/kms/encrypt",
        Some(json!({"plaintext": "AA=="})),
    )
    .await;
    let anonymous = t.call("GET", "/metrics", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let m = t.root("GET", "/metrics", None).await;
    assert_eq!(m.status, StatusCode::OK);
    for name in [
        "kms_http_requests_total",
        "kms_http_request_duration_seconds",
        "kms_operations_total",
        "kms_sealed 0",
        "kms_errors_total{kind=\"unauthenticated\"}",
        "kms_audit_lag_seconds_bucket",
        "kms_audit_records_total",
    ] {
        assert!(m.text.contains(name), "{name} missing from /metrics");
    }
    assert!(
        m.text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .all(|l| l.starts_with("kms_"))
    );
    let o = t.call("GET", "/openapi.json", None, None).await;
    assert_eq!(o.status, StatusCode::OK);
    for p in [
        "/api/v1/kms/encrypt",
        "/api/v1/crypto/encrypt",
        "/api/v1/keys/{key}",
        "/api/v1/audit/verify",
    ] {
        assert!(o.body["paths"].get(p).is_some(), "{p} missing from openapi");
    }
    assert!(o.body["components"]["securitySchemes"]["token"].is_object());
    let h = t.call("GET", "/api/v1/sys/health", None, None).await;
    assert_eq!(h.status, StatusCode::OK, "{}", h.text);
    let wrong_method = t.root("DELETE", "/api/v1/crypto/encrypt", None).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(&wrong_method), "method_not_allowed");
    assert!(
        wrong_method.body["message"]
            .as_str()
            .unwrap()
            .contains("DELETE")
    );
    let d = t.call("GET", "/docs/", None, None).await;
    assert_eq!(d.status, StatusCode::OK);
    assert!(d.text.to_lowercase().contains("swagger"));
}

#[tokio::test]
async fn a_real_listener_serves_the_seed_flow_and_audits_the_peer_address() {
    let t = fresh().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = t.app.clone();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let enc: serde_json::Value = client
        .post(format!("{base}/api/v1/kms/encrypt"))
        .header("X-API-Key", ROOT)
        .json(&json!({"plaintext": "SGVsbG8sIFdvcmxkIQ==", "context": "env=prod,service=api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resp = client
        .post(format!("{base}/api/v1/kms/decrypt"))
        .bearer_auth(ROOT)
        .json(&json!({"ciphertext": enc["ciphertext"], "context": "env=prod,service=api"}))
        .send()
        .await
        .unwrap();
    assert!(resp.headers().contains_key("x-request-id"));
    let dec: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(dec["plaintext"], "SGVsbG8sIFdvcmxkIQ==");
    let recs = t
        .store()
        .list_audit(&kms_store::AuditFilter::default())
        .await
        .unwrap();
    assert!(
        recs.iter().all(|r| r.event.source == "127.0.0.1"),
        "{recs:?}"
    );
    assert_eq!(recs.len(), 2);
}
