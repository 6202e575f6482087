//! The audit log: one record per operation, hash-chained, committed before
//! the answer, never holding secrets; a failed audit write fails the request.

use axum::http::StatusCode;
use serde_json::json;

use crate::common::*;

#[tokio::test]
async fn each_key_operation_appends_a_record_with_its_request_id_and_version() {
    let t = fresh().await;
    let enc = t
        .root(
            "POST",
            "/api/v1/crypto/encrypt",
            Some(json!({"key": "alias/default", "plaintext": b64(b"s3cret-payload")})),
        )
        .await;
    let rid = enc.headers["x-request-id"].to_str().unwrap().to_string();
    let recs = t.root("GET", "/api/v1/audit?operation=encrypt", None).await;
    assert_eq!(recs.status, StatusCode::OK, "{}", recs.text);
    let r = &recs.body["records"].as_array().unwrap()[0];
    assert_eq!(r["principal"], "root");
    assert_eq!(r["entity_type"], "key");
    assert_eq!(r["entity_id"], enc.body["key_id"]);
    assert_eq!(r["key_version"], 1);
    assert_eq!(r["outcome"], "ok");
    assert_eq!(r["request_id"], rid.as_str());
    assert_eq!(r["source"], "unknown");
    assert_eq!(r["hash"].as_str().unwrap().len(), 64);
}

#[tokio::test]
async fn denied_and_failed_requests_are_audited_with_their_outcome() {
    let t = fresh().await;
    let tok = t
        .token_with(
            "none",
            json!([{"operations": ["sign"], "keys": ["alias/x"]}]),
        )
        .await;
    t.call(
        "POST",
        "/api/v1/kms/encrypt",
        Some(&tok),
        Some(json!({"plaintext": b64(b"x")})),
    )
    .await;
    t.root("POST", "/api/v1/keys/alias%2Fmissing/rotate", None)
        .await;
    let v = t
        .store()
        .list_audit(&kms_store::AuditFilter::default())
        .await
        .unwrap();
    let outcomes: Vec<(String, String, String)> = v
        .iter()
        .map(|r| {
            (
                r.event.principal.clone(),
                r.event.operation.clone(),
                r.event.outcome.clone(),
            )
        })
        .collect();
    assert!(
        outcomes.contains(&("none-user".into(), "encrypt".into(), "denied".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&("root".into(), "rotate_key".into(), "error:not_found".into())),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.1 == "token_create"),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.1 == "policy_write"),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn the_audit_table_never_holds_plaintext_keys_or_tokens() {
    let t = fresh().await;
    let secret = b"TOP-SECRET-PLAINTEXT-0123456789";
    t.root(
        "POST",
        "/api/v1/kms/encrypt",
        Some(json!({"plaintext": b64(secret), "context": "a=b"})),
    )
    .await;
    let dk = t
        .root("POST", "/api/v1/kms/generate-key", Some(json!({})))
        .await;
    let tok = t
        .token_with("p", json!([{"operations": ["encrypt"]}]))
        .await;
    let dump = format!(
        "{:?}",
        t.store()
            .list_audit(&kms_store::AuditFilter {
                limit: Some(10_000),
                ..Default::default()
            })
            .await
            .unwrap()
    );
    for needle in [
        String::from_utf8_lossy(secret).into_owned(),
        b64(secret),
        dk.body["plaintext"].as_str().unwrap().to_string(),
        tok.clone(),
        ROOT.to_string(),
    ] {
        assert!(!dump.contains(&needle), "audit holds {needle}");
    }
}

#[tokio::test]
async fn verify_passes_on_an_intact_chain_and_names_the_first_altered_or_missing_record() {
    let t = fresh().await;
    for i in 0..5 {
        t.root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(&[i])})),
        )
        .await;
    }
    let ok = t.root("GET", "/api/v1/audit/verify", None).await;
    assert_eq!(ok.body["ok"], true, "{}", ok.text);
    let pool = t.store().pool();
    sqlx::query("UPDATE kms_audit SET principal = 'mallory' WHERE seq = 3")
        .execute(pool)
        .await
        .unwrap();
    let v = t.store().verify_audit().await.unwrap();
    assert_eq!(v.first_bad.as_ref().map(|b| b.0), Some(3), "{v:?}");
    assert!(v.first_bad.unwrap().1.contains("altered"));
    sqlx::query("UPDATE kms_audit SET principal = 'root' WHERE seq = 3")
        .execute(pool)
        .await
        .unwrap();
    assert!(t.store().verify_audit().await.unwrap().is_ok());
    sqlx::query("DELETE FROM kms_audit WHERE seq = 2")
        .execute(pool)
        .await
        .unwrap();
    let v = t.store().verify_audit().await.unwrap();
    assert_eq!(v.first_bad.as_ref().map(|b| b.0), Some(2), "{v:?}");
    assert!(v.first_bad.unwrap().1.contains("missing"));
}

#[tokio::test]
async fn records_cut_off_the_end_are_detected() {
    let t = fresh().await;
    for _ in 0..3 {
        t.root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(b"x")})),
        )
        .await;
    }
    let last: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM kms_audit")
        .fetch_one(t.store().pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM kms_audit WHERE seq = $1")
        .bind(last)
        .execute(t.store().pool())
        .await
        .unwrap();
    let v = t.root("GET", "/api/v1/audit/verify", None).await;
    assert_eq!(v.body["ok"], false, "{}", v.text);
    assert_eq!(v.body["first_bad_seq"], last);
}

#[tokio::test]
async fn when_the_audit_write_fails_the_request_fails_and_returns_no_result() {
    let t = fresh().await;
    sqlx::query("DROP TABLE kms_audit")
        .execute(t.store().pool())
        .await
        .unwrap();
    let a = t
        .root(
            "POST",
            "/api/v1/kms/encrypt",
            Some(json!({"plaintext": b64(b"x")})),
        )
        .await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text);
    assert_eq!(error_code(&a), "unavailable");
    assert!(a.body.get("ciphertext").is_none());
    assert!(a.body["message"].as_str().unwrap().contains("audit"));
}

#[tokio::test]
async fn concurrent_requests_are_group_committed_into_one_intact_chain_and_mirrored() {
    let t = fresh_with(
        kms_server::auth::AuthSettings::default(),
        Some("audit.jsonl"),
    )
    .await;
    let mut tasks = Vec::new();
    for i in 0..40u8 {
        let app = t.app.clone();
        tasks.push(tokio::spawn(async move {
            use tower::ServiceExt as _;
            let req = axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/kms/encrypt")
                .header("authorization", format!("Bearer {ROOT}"))
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    json!({"plaintext": b64(&[i])}).to_string(),
                ))
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::OK);
    }
    let v = t.store().verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, 40);
    let lines = std::fs::read_to_string(t.dir.path().join("audit.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 40);
    let mut seqs: Vec<i64> = recs.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
}
