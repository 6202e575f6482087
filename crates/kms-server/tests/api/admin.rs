//! Token and policy administration, and the audit log's query.

use std::sync::Arc;

use axum::http::StatusCode;
use kms_server::auth::AuthSettings;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn tokens_are_created_listed_and_revoked_without_showing_secrets() {
    let t = fresh().await;
    let tok = t
        .token_with("reader", json!([{"operations": ["describe_key"]}]))
        .await;
    let list = t.root("GET", "/api/v1/auth/tokens", None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(!list.text.contains(&tok));
    let tokens = list.body["tokens"].as_array().unwrap();
    assert!(
        tokens
            .iter()
            .any(|x| x["principal"] == "reader-user" && x["policies"] == json!(["reader"]))
    );
    let missing = t.root("DELETE", "/api/v1/auth/tokens/tok_nope", None).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn only_root_can_create_root_tokens_and_unknown_policies_are_refused() {
    let t = fresh().await;
    let admin = t
        .token_with("admin", json!([{"operations": ["token_create"]}]))
        .await;
    let a = t
        .call(
            "POST",
            "/api/v1/auth/tokens",
            Some(&admin),
            Some(json!({"principal": "x", "policies": ["root"]})),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let ok = t
        .call(
            "POST",
            "/api/v1/auth/tokens",
            Some(&admin),
            Some(json!({"principal": "x", "policies": ["admin"]})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.text);
    let bad = t
        .root(
            "POST",
            "/api/v1/auth/tokens",
            Some(json!({"principal": "x", "policies": ["ghost"]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn policies_are_written_read_listed_and_deleted_and_validated() {
    let t = fresh().await;
    let body = json!({"name": "p1", "rules": [{"operations": ["encrypt"], "keys": ["alias/a-*"], "require_context_keys": ["t"]}]});
    let put = t
        .root("PUT", "/api/v1/auth/policies/p1", Some(body.clone()))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.text);
    let get = t.root("GET", "/api/v1/auth/policies/p1", None).await;
    assert_eq!(get.body, body);
    let list = t.root("GET", "/api/v1/auth/policies", None).await;
    assert_eq!(list.body["policies"].as_array().unwrap().len(), 1);
    let bad = t
        .root(
            "PUT",
            "/api/v1/auth/policies/p2",
            Some(json!({"name": "p2", "rules": [{"operations": ["explode"]}]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body["message"].as_str().unwrap().contains("explode"));
    let root = t
        .root(
            "PUT",
            "/api/v1/auth/policies/root",
            Some(json!({"name": "root", "rules": [{"operations": ["*"]}]})),
        )
        .await;
    assert_eq!(root.status, StatusCode::BAD_REQUEST);
    let del = t.root("DELETE", "/api/v1/auth/policies/p1", None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = t.root("GET", "/api/v1/auth/policies/p1", None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_token_lifetime_out_of_range_is_400_not_a_crash() {
    let t = fresh().await;
    for ttl in [0u64, u64::MAX, 36_500 * 86_400 + 1] {
        let a = t
            .root(
                "POST",
                "/api/v1/auth/tokens",
                Some(json!({"principal": "x", "policies": ["root"], "ttl_seconds": ttl})),
            )
            .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{ttl}: {}", a.text);
        assert!(a.body["message"].as_str().unwrap().contains("ttl"));
    }
}

#[tokio::test]
async fn audit_records_are_listed_by_time_and_a_time_that_is_not_rfc_3339_is_a_400() {
    let clock = Arc::new(kms_core::ManualClock::new(
        time::macros::datetime!(2030-01-01 0:00 UTC),
    ));
    let t = fresh_custom(AuthSettings::default(), None, Some(clock.clone())).await;
    let encrypt = |n: u8| {
        t.root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintext": b64(&[n])})),
        )
    };
    encrypt(1).await;
    clock.advance(time::Duration::hours(1));
    encrypt(2).await;
    clock.advance(time::Duration::hours(1));
    encrypt(3).await;
    let times = |q: &'static str| {
        let t = &t;
        async move {
            let a = t.root("GET", q, None).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            a.body["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["time"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let all = times("/api/v1/audit?operation=encrypt").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let since = times("/api/v1/audit?operation=encrypt&since=2030-01-01T01:00:00Z").await;
    assert_eq!(since, all[1..].to_vec());
    let until = times("/api/v1/audit?operation=encrypt&until=2030-01-01T01:00:00Z").await;
    assert_eq!(until, all[..1].to_vec(), "until is exclusive");
    let both = times(
        "/api/v1/audit?operation=encrypt&since=2030-01-01T00:30:00Z&until=2030-01-01T01:30:00Z",
    )
    .await;
    assert_eq!(both, all[1..2].to_vec());
    // Another offset names the same instant.
    let offset = times("/api/v1/audit?operation=encrypt&since=2030-01-01T03:00:00%2B02:00").await;
    assert_eq!(offset, all[1..].to_vec());

    let bad = t.root("GET", "/api/v1/audit?since=yesterday", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(
        bad.body["message"].as_str().unwrap().contains("since"),
        "{}",
        bad.text
    );
}
