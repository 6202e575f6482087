//! Cryptographic operations over HTTP, and request-body errors.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn encrypt_decrypt_and_re_encrypt_take_the_context_as_text_or_object() {
    let t = fresh().await;
    let other = t.key("AES_256", Some("alias/other")).await;
    let enc = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintext": b64(b"payload"), "context": {"tenant": "a"}})),
        )
        .await;
    assert_eq!(enc.status, StatusCode::OK, "{}", enc.text);
    let dec = t
        .root(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(json!({"ciphertext": enc.body["ciphertext"], "context": "tenant=a"})),
        )
        .await;
    assert_eq!(unb64(&dec.body["plaintext"]), b"payload", "{}", dec.text);
    let re = t
        .root(
            "POST",
            "/api/v1/crypto/re-encrypt",
            Some(
                json!({"ciphertext": enc.body["ciphertext"], "source_context": "tenant=a",
                        "destination_key": "alias/other", "destination_context": "tenant=b"}),
            ),
        )
        .await;
    assert_eq!(re.status, StatusCode::OK, "{}", re.text);
    assert_eq!(re.body["key_id"], other.as_str());
    let dec2 = t
        .root(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(json!({"ciphertext": re.body["ciphertext"], "context": {"tenant": "b"}})),
        )
        .await;
    assert_eq!(unb64(&dec2.body["plaintext"]), b"payload");
}

#[tokio::test]
async fn data_keys_and_data_key_pairs_come_wrapped_and_optionally_in_clear() {
    let t = fresh().await;
    let dk = t
        .root(
            "POST",
            "/api/v1/crypto/data-key",
            Some(json!({"key": "alias/default", "number_of_bytes": 24})),
        )
        .await;
    assert_eq!(unb64(&dk.body["plaintext"]).len(), 24, "{}", dk.text);
    let unwrapped = t
        .root(
            "POST",
            "/api/v1/crypto/decrypt",
            Some(json!({"ciphertext": dk.body["ciphertext"]})),
        )
        .await;
    assert_eq!(unwrapped.body["plaintext"], dk.body["plaintext"]);
    let bare = t
        .root(
            "POST",
            "/api/v1/crypto/data-key",
            Some(json!({"key": "alias/default", "key_spec": "AES_128", "without_plaintext": true})),
        )
        .await;
    assert!(bare.body.get("plaintext").is_none(), "{}", bare.text);
    let pair = t
        .root(
            "POST",
            "/api/v1/crypto/data-key-pair",
            Some(json!({"key": "alias/default", "key_pair_spec": "ECC_NIST_P256"})),
        )
        .await;
    assert_eq!(pair.status, StatusCode::OK, "{}", pair.text);
    assert!(!unb64(&pair.body["public_key"]).is_empty());
    assert!(!unb64(&pair.body["private_key_plaintext"]).is_empty());
    assert!(
        pair.body["private_key_ciphertext"]
            .as_str()
            .unwrap()
            .starts_with("kms:v1:")
    );
}

#[tokio::test]
async fn sign_verify_mac_and_random_work_and_a_wrong_signature_is_not_valid() {
    let t = fresh().await;
    t.key("ECC_NIST_P256", Some("alias/signer")).await;
    t.key("HMAC_256", Some("alias/mac")).await;
    let sig = t
        .root(
            "POST",
            "/api/v1/crypto/sign",
            Some(json!({"key": "alias/signer", "message": b64(b"doc")})),
        )
        .await;
    assert_eq!(sig.status, StatusCode::OK, "{}", sig.text);
    assert_eq!(sig.body["algorithm"], "ECDSA_SHA_256");
    let ok = t
        .root(
            "POST",
            "/api/v1/crypto/verify",
            Some(json!({"key": "alias/signer", "message": b64(b"doc"), "signature": sig.body["signature"]})),
        )
        .await;
    assert_eq!(ok.body["valid"], true, "{}", ok.text);
    let bad = t
        .root(
            "POST",
            "/api/v1/crypto/verify",
            Some(json!({"key": "alias/signer", "message": b64(b"other"), "signature": sig.body["signature"]})),
        )
        .await;
    assert_eq!(bad.body["valid"], false);
    let mac = t
        .root(
            "POST",
            "/api/v1/crypto/mac",
            Some(json!({"key": "alias/mac", "message": b64(b"m")})),
        )
        .await;
    assert_eq!(unb64(&mac.body["mac"]).len(), 32, "{}", mac.text);
    let mv = t
        .root(
            "POST",
            "/api/v1/crypto/mac/verify",
            Some(json!({"key": "alias/mac", "message": b64(b"m"), "mac": mac.body["mac"]})),
        )
        .await;
    assert_eq!(mv.body["valid"], true, "{}", mv.text);
    let rnd = t
        .root(
            "POST",
            "/api/v1/crypto/random",
            Some(json!({"number_of_bytes": 32})),
        )
        .await;
    assert_eq!(unb64(&rnd.body["random"]).len(), 32);
    let too_many = t
        .root(
            "POST",
            "/api/v1/crypto/random",
            Some(json!({"number_of_bytes": 5000})),
        )
        .await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST);
    let wrong_usage = t
        .root(
            "POST",
            "/api/v1/crypto/sign",
            Some(json!({"key": "alias/default", "message": b64(b"x")})),
        )
        .await;
    assert_eq!(wrong_usage.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn plaintext_over_64_kib_is_413_and_a_body_over_the_limit_is_413_too() {
    let t = fresh().await;
    let big = vec![7u8; 64 * 1024 + 1];
    let a = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintext": b64(&big)})),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(&a), "payload_too_large");
    assert!(a.body["message"].as_str().unwrap().contains("encrypt-file"));
    let huge = vec![1u8; 5 * 1024 * 1024];
    let a = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(&huge)})),
        )
        .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert_eq!(error_code(&a), "payload_too_large");
    assert!(
        a.body["message"].as_str().unwrap().contains("4194304"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_in_the_error_format() {
    let t = fresh().await;
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/kms/encrypt")
        .header("authorization", format!("Bearer {ROOT}"))
        .header("content-type", "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let a = t.send(req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&a), "invalid_input");
    let unknown = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintxt": "AA=="})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(
        unknown.body["message"]
            .as_str()
            .unwrap()
            .contains("plaintxt"),
        "{}",
        unknown.text
    );
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/kms/encrypt")
        .header("authorization", format!("Bearer {ROOT}"))
        .body(Body::from("{}"))
        .unwrap();
    let a = t.send(req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.body["message"].as_str().unwrap().contains("Content-Type"),
        "{}",
        a.text
    );
    let bad_b64 = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": "!!!"})),
        )
        .await;
    assert_eq!(bad_b64.status, StatusCode::BAD_REQUEST);
    assert!(bad_b64.body["message"].as_str().unwrap().contains("base64"));
}
