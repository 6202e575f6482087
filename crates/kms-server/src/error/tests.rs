//! One test per row of the error table.
#![allow(clippy::unwrap_used)]

use super::*;
use axum::body::to_bytes;
use kms_core::{KeyId, KeySpec, KeyState, Operation};

async fn answer(e: ApiError) -> (StatusCode, ErrorBody, Response) {
    let resp = e.into_response();
    let status = resp.status();
    let (parts, body) = resp.into_parts();
    let bytes = to_bytes(body, 1 << 20).await.unwrap();
    let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
    (
        status,
        body,
        Response::from_parts(parts, axum::body::Body::empty()),
    )
}

fn key() -> KeyId {
    KeyId::from_bytes([7; 16])
}

#[tokio::test]
async fn invalid_input_is_400() {
    let (s, b, _) = answer(Error::invalid("context", "bad").into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_input")
    );
    assert!(b.message.contains("bad"));
    let (s, _, _) = answer(Error::DecryptionFailed.into()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unauthenticated_is_401_with_a_challenge() {
    let (s, b, r) = answer(ApiError::Unauthenticated("no token".into())).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthenticated")
    );
    assert!(r.headers().contains_key(header::WWW_AUTHENTICATE));
}

#[tokio::test]
async fn permission_denied_is_403() {
    let (s, b, _) = answer(Error::PermissionDenied("no".into()).into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::FORBIDDEN, "permission_denied")
    );
}

#[tokio::test]
async fn not_found_is_404() {
    let (s, b, _) = answer(Error::NotFound("key x".into()).into()).await;
    assert_eq!((s, b.error.as_str()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn another_method_on_a_known_route_is_405() {
    let (s, b, _) = answer(ApiError::MethodNotAllowed("GET is not allowed".into())).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
    );
    assert!(b.message.contains("GET"));
}

#[tokio::test]
async fn conflict_is_409() {
    let (s, b, _) = answer(Error::AliasExists("alias/a".into()).into()).await;
    assert_eq!((s, b.error.as_str()), (StatusCode::CONFLICT, "conflict"));
}

#[tokio::test]
async fn payload_too_large_is_413_from_core_and_from_the_body_limit() {
    let core = Error::PayloadTooLarge {
        what: "plaintext",
        len: 10,
        max: 5,
        hint: "",
    };
    let (s, b, _) = answer(core.into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let (s, b, _) = answer(ApiError::BodyTooLarge { limit: 1024 }).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(b.message.contains("1024"), "{}", b.message);
}

#[tokio::test]
async fn failed_precondition_is_422() {
    let e = Error::InvalidKeyState {
        key: key(),
        state: KeyState::Disabled,
        operation: Operation::Encrypt,
    };
    let (s, b, _) = answer(e.into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "failed_precondition")
    );
}

#[tokio::test]
async fn too_many_requests_is_429_with_retry_after() {
    let (s, b, r) = answer(ApiError::TooManyRequests {
        retry_after_secs: 42,
    })
    .await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::TOO_MANY_REQUESTS, "too_many_requests")
    );
    assert_eq!(r.headers()[header::RETRY_AFTER], "42");
}

#[tokio::test]
async fn internal_is_500_with_a_generic_body_and_the_error_attached() {
    let (s, b, r) = answer(Error::Internal("secret detail".into()).into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, "internal")
    );
    assert!(!b.message.contains("secret detail"));
    let attached = r.extensions().get::<InternalError>().unwrap();
    assert!(attached.0.to_string().contains("secret detail"));
}

#[tokio::test]
async fn unsupported_is_501() {
    let e = Error::IncompatibleSpec {
        spec: KeySpec::Aes256,
        what: "sign".into(),
    };
    assert_eq!(answer(e.into()).await.0, StatusCode::BAD_REQUEST);
    let (s, b, _) = answer(Error::unsupported("vault", "signing").into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::NOT_IMPLEMENTED, "unsupported")
    );
}

#[tokio::test]
async fn unavailable_is_503() {
    let (s, b, _) = answer(Error::Sealed.into()).await;
    assert_eq!(
        (s, b.error.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    );
    assert!(b.message.contains("sealed"));
}
