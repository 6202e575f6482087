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
            // Successes and failures, so the records differ in every field.
            let (uri, body) = match i % 4 {
                3 => ("/api/v1/keys/alias%2Fmissing/rotate".to_string(), json!({})),
                2 => (
                    "/api/v1/crypto/encrypt".to_string(),
                    json!({"key": "alias/default", "plaintext": b64(&[i]), "context": "a=b"}),
                ),
                _ => (
                    "/api/v1/kms/encrypt".to_string(),
                    json!({"plaintext": b64(&[i])}),
                ),
            };
            let req = axum::http::Request::builder()
                .method("POST")
                .uri(uri)
                .header("authorization", format!("Bearer {ROOT}"))
                .header("content-type", "application/json")
                .header("x-request-id", format!("mirror-test-{i}"))
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            (i, app.oneshot(req).await.unwrap().status())
        }));
    }
    for task in tasks {
        let (i, status) = task.await.unwrap();
        let want = if i % 4 == 3 {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(status, want, "request {i}");
    }
    let v = t.store().verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, 40);
    let rows = t
        .store()
        .list_audit(&kms_store::AuditFilter {
            limit: Some(10_000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 40);

    let text = std::fs::read_to_string(t.dir.path().join("audit.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), rows.len(), "one line per record");
    // Line n is record n: every field and the hash as the database has them.
    for (line, row) in lines.iter().zip(&rows) {
        let want = serde_json::to_value(kms_server::audit::record_to_wire(row)).unwrap();
        assert_eq!(line, &want, "the mirror differs from record {}", row.seq);
        assert_eq!(line["hash"], hex::encode(row.hash));
    }
    let mut ids: Vec<&str> = lines
        .iter()
        .map(|l| l["request_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want: Vec<String> = (0..40).map(|i| format!("mirror-test-{i}")).collect();
    want.sort_unstable();
    assert_eq!(ids, want);

    // The chain recomputed from the file alone: each hash is
    // SHA-256(previous hash || canonical record), from 32 zero bytes.
    let mut prev = [0u8; 32];
    for (n, line) in lines.iter().enumerate() {
        let w: kms_proto::admin::AuditRecordWire = serde_json::from_value(line.clone()).unwrap();
        assert_eq!(w.seq, n as i64 + 1, "the mirror skips or reorders records");
        let event = kms_store::AuditEvent {
            time: time::OffsetDateTime::parse(
                &w.time,
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap(),
            principal: w.principal,
            operation: w.operation,
            entity_type: w.entity_type,
            entity_id: w.entity_id,
            key_version: w.key_version,
            outcome: w.outcome,
            request_id: w.request_id,
            source: w.source,
            items: w.items,
        };
        let hash = kms_store::audit::chain_hash(&prev, &event, w.seq);
        assert_eq!(hex::encode(hash), w.hash, "line {} does not chain", n + 1);
        prev = hash;
    }
    // The file ends where the database's chain ends.
    assert_eq!(prev, rows.last().unwrap().hash);
}
