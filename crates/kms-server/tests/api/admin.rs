//! Token and policy administration.

use axum::http::StatusCode;
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
