//! The seed API, as seed 001's curl examples use it (plus a token header).

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn seed_curl_examples_encrypt_decrypt_and_generate_key_round_trip() {
    let t = fresh().await;
    let enc = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": "SGVsbG8sIFdvcmxkIQ==", "context": "env=prod,service=api"})),
        )
        .await;
    assert_eq!(enc.status, StatusCode::OK, "{}", enc.text);
    let ct = enc.body["ciphertext"].as_str().unwrap().to_string();
    assert!(ct.starts_with("kms:v1:"), "{ct}");
    assert_eq!(
        enc.body.as_object().unwrap().len(),
        1,
        "only ciphertext: {}",
        enc.text
    );

    let dec = t
        .root(
            "POST",
            "/api/v1/kms/decrypt",
            Some(json!({"ciphertext": ct, "context": "env=prod,service=api"})),
        )
        .await;
    assert_eq!(dec.status, StatusCode::OK, "{}", dec.text);
    assert_eq!(dec.body["plaintext"], "SGVsbG8sIFdvcmxkIQ==");

    let gen_key = t
        .root(
            "POST",
            "/api/v1/kms/generate-key",
            Some(json!({"key_spec": "AES_256"})),
        )
        .await;
    assert_eq!(gen_key.status, StatusCode::OK, "{}", gen_key.text);
    let dk = unb64(&gen_key.body["plaintext"]);
    assert_eq!(dk.len(), 32);
    let unwrapped = t
        .root(
            "POST",
            "/api/v1/kms/decrypt",
            Some(json!({"ciphertext": gen_key.body["ciphertext"]})),
        )
        .await;
    assert_eq!(unb64(&unwrapped.body["plaintext"]), dk);

    let short = t
        .root(
            "POST",
            "/api/v1/kms/generate-key",
            Some(json!({"key_spec": "AES_128"})),
        )
        .await;
    assert_eq!(unb64(&short.body["plaintext"]).len(), 16);
}

#[tokio::test]
async fn seed_decrypt_with_another_context_fails_as_invalid_input() {
    let t = fresh().await;
    let enc = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(b"x"), "context": "env=prod"})),
        )
        .await;
    let dec = t
        .root(
            "POST",
            "/api/v1/kms/decrypt",
            Some(json!({"ciphertext": enc.body["ciphertext"], "context": "env=dev"})),
        )
        .await;
    assert_eq!(dec.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&dec), "invalid_input");
    assert!(
        dec.body["message"]
            .as_str()
            .unwrap()
            .contains("decryption failed")
    );
}

#[tokio::test]
async fn health_is_open_and_status_counts_operations() {
    let t = fresh().await;
    let h = t.call("GET", "/api/v1/kms/health", None, None).await;
    assert_eq!(h.status, StatusCode::OK);
    assert_eq!(h.body["status"], "healthy");
    let unauth = t.call("GET", "/api/v1/kms/status", None, None).await;
    assert_eq!(unauth.status, StatusCode::UNAUTHORIZED);
    for _ in 0..2 {
        t.root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(b"hi")})),
        )
        .await;
    }
    let s = t.root("GET", "/api/v1/kms/status", None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    assert_eq!(s.body["backend"], "local");
    assert_eq!(s.body["available"], true);
    assert_eq!(s.body["operations"]["encrypt"], 2);
    assert!(s.body["operation_count"].as_u64().unwrap() >= 2);
}

#[tokio::test]
async fn every_answer_carries_an_x_request_id_and_a_given_one_is_kept() {
    let t = fresh().await;
    for a in [
        t.call("GET", "/api/v1/kms/health", None, None).await,
        t.call("GET", "/api/v1/kms/status", None, None).await,
        t.root("GET", "/no/such/route", None).await,
    ] {
        let id = a.headers.get("x-request-id").expect("x-request-id");
        assert!(!id.is_empty());
    }
    let req = axum::http::Request::builder()
        .uri("/api/v1/kms/health")
        .header("x-request-id", "abc-123")
        .body(axum::body::Body::empty())
        .unwrap();
    let a = t.send(req).await;
    assert_eq!(a.headers["x-request-id"], "abc-123");
    let nf = t.root("GET", "/no/such/route", None).await;
    assert_eq!(nf.status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&nf), "not_found");
}
