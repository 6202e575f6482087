//! The client against a real server on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;

use kms_client::Client;
use kms_client::proto::ContextWire;
use kms_client::proto::admin::CreateTokenRequest;
use kms_client::proto::crypto::{DecryptItem, SignRequest, VerifyRequest};
use kms_client::proto::keys::{CreateKeyRequest, ListKeysQuery};
use kms_core::{ErrorKind, KeySpec, Passphrase};
use kms_server::auth::AuthSettings;
use kms_server::{AppState, Settings};
use kms_store::{KdfParams, LocalBackend, StoreOptions, Unseal, sqlite_url};

async fn server() -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalBackend::init(
        StoreOptions::new(sqlite_url(&dir.path().join("k.db"))),
        &Unseal::Passphrase(Passphrase::new("pw".into())),
        KdfParams {
            memory_kib: 8 * 1024,
            iterations: 1,
            parallelism: 1,
        },
    )
    .await
    .unwrap();
    store
        .insert_token("client-root", "root", &["root".into()], None)
        .await
        .unwrap();
    let (state, _) = AppState::new(
        store,
        Settings::new("alias/default").unwrap(),
        AuthSettings::default(),
        None,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = kms_server::app(state);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (format!("http://{addr}"), dir)
}

#[tokio::test]
async fn the_client_drives_keys_crypto_tokens_and_audit() {
    let (addr, _dir) = server().await;
    let kms = Client::builder(&addr).token("client-root").build().unwrap();
    let key = kms
        .create_key(&CreateKeyRequest {
            alias: Some("alias/app/one".into()),
            ..CreateKeyRequest::default()
        })
        .await
        .unwrap();
    // An alias with a slash survives the path encoding.
    assert_eq!(
        kms.describe_key("alias/app/one").await.unwrap().key_id,
        key.key_id
    );
    let ctx = Some(ContextWire::Text("env=prod".into()));
    let ct = kms
        .encrypt("alias/app/one", b"hello", ctx.clone())
        .await
        .unwrap();
    let pt = kms
        .decrypt(&ct.ciphertext, ctx.clone(), None)
        .await
        .unwrap();
    assert_eq!(pt.plaintext.expose_secret(), b"hello");
    let batch = kms
        .decrypt_batch(vec![
            DecryptItem {
                ciphertext: ct.ciphertext.clone(),
                context: ctx,
                reference: Some("a".into()),
                ..DecryptItem::default()
            },
            DecryptItem {
                ciphertext: ct.ciphertext.clone(),
                reference: Some("b".into()),
                ..DecryptItem::default()
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        batch.batch_results[0]
            .ok
            .as_ref()
            .unwrap()
            .plaintext
            .expose_secret(),
        b"hello"
    );
    assert_eq!(
        batch.batch_results[1].error.as_ref().unwrap().error,
        "invalid_input"
    );

    let signer = kms
        .create_key(&CreateKeyRequest {
            spec: Some(KeySpec::Ed25519),
            ..CreateKeyRequest::default()
        })
        .await
        .unwrap();
    let id = signer.key_id.to_string();
    let sig = kms
        .sign(&SignRequest {
            key: Some(id.clone()),
            message: Some(b"m".to_vec()),
            ..SignRequest::default()
        })
        .await
        .unwrap();
    let v = kms
        .verify(&VerifyRequest {
            key: Some(id),
            message: Some(b"m".to_vec()),
            signature: Some(sig.signature),
            ..VerifyRequest::default()
        })
        .await
        .unwrap();
    assert!(v.valid);
    let page = kms
        .list_keys(&ListKeysQuery {
            limit: Some(1),
            ..ListKeysQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(page.keys.len(), 1);
    assert!(page.next_marker.is_some());

    let t = kms
        .create_token(&CreateTokenRequest {
            principal: "ci".into(),
            policies: vec!["root".into()],
            ttl_seconds: None,
        })
        .await
        .unwrap();
    let other = Client::builder(&addr)
        .token(t.token.expose_secret())
        .build()
        .unwrap();
    assert_eq!(other.status().await.unwrap().backend, "local");
    kms.revoke_token(&t.info.id).await.unwrap();
    let e = other.status().await.unwrap_err();
    assert_eq!(e.code(), Some("unauthenticated"));
    assert_eq!(e.kind(), ErrorKind::PermissionDenied);
    assert!(kms.audit_verify().await.unwrap().ok);
    let missing = kms.describe_key("alias/missing").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.to_string().contains("not found"), "{missing}");
}

#[tokio::test]
async fn an_unreachable_server_is_unavailable_and_a_bad_address_is_refused() {
    assert!(Client::builder("ftp://x").build().is_err());
    let kms = Client::builder("http://127.0.0.1:1").build().unwrap();
    let e = kms.health().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unavailable);
    assert!(e.to_string().contains("127.0.0.1:1"), "{e}");
}
