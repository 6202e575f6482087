//! The server's tables in the store: tokens (hashes only), policies and the
//! hash-chained audit log, on SQLite and (when available) PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kms_core::Passphrase;
use kms_store::{
    AuditEvent, AuditFilter, KdfParams, LocalBackend, Policy, PolicyRule, StoreOptions, Unseal,
    sqlite_url,
};
use kms_testkit::peers::PgDatabase;

async fn store(url: &str) -> Arc<LocalBackend> {
    let kdf = KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    };
    LocalBackend::init(
        StoreOptions::new(url),
        &Unseal::Passphrase(Passphrase::new("pw".into())),
        kdf,
    )
    .await
    .unwrap()
}

fn event(i: usize) -> AuditEvent {
    AuditEvent {
        time: time::macros::datetime!(2030-01-01 0:00 UTC) + time::Duration::seconds(i as i64),
        principal: format!("p{i}"),
        operation: "encrypt".into(),
        entity_type: "key".into(),
        entity_id: "k".into(),
        key_version: Some(1),
        outcome: "ok".into(),
        request_id: format!("r{i}"),
        source: "127.0.0.1".into(),
    }
}

async fn tokens_policies_and_chain(s: Arc<LocalBackend>) {
    s.put_policy(&Policy {
        name: "app".into(),
        rules: vec![PolicyRule {
            operations: vec!["encrypt".into()],
            keys: vec!["*".into()],
            require_context_keys: vec![],
        }],
    })
    .await
    .unwrap();
    let (secret, rec) = s.create_token("svc", &["app".into()], None).await.unwrap();
    assert_eq!(
        s.authenticate_token(&secret).await.unwrap(),
        Some(rec.clone())
    );
    assert_eq!(s.authenticate_token("kms_other").await.unwrap(), None);
    s.revoke_token(&rec.id).await.unwrap();
    assert_eq!(s.authenticate_token(&secret).await.unwrap(), None);
    assert_eq!(
        s.policies_named(&["app".into(), "ghost".into()])
            .await
            .unwrap()
            .len(),
        1
    );

    // Two concurrent appenders on one chain.
    let first: Vec<_> = (0..20).map(event).collect();
    let second: Vec<_> = (20..40).map(event).collect();
    let (a, b) = tokio::join!(s.append_audit(&first), s.append_audit(&second));
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 40);
    let v = s.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, 40);
    let only = s
        .list_audit(&AuditFilter {
            principal: Some("p7".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].event, event(7));
    let page = s
        .list_audit(&AuditFilter {
            after_seq: Some(35),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![36, 37, 38, 39, 40]
    );
    sqlx::query("UPDATE kms_audit SET outcome = 'denied' WHERE seq = 12")
        .execute(s.pool())
        .await
        .unwrap();
    let v = s.verify_audit().await.unwrap();
    assert_eq!(v.first_bad.map(|b| b.0), Some(12));
}

#[tokio::test]
async fn server_tables_work_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    tokens_policies_and_chain(store(&sqlite_url(&dir.path().join("k.db"))).await).await;
}

#[tokio::test]
async fn server_tables_work_on_postgres() {
    let Some(db) = PgDatabase::create("server_tables_work_on_postgres") else {
        return;
    };
    tokens_policies_and_chain(store(&db.url).await).await;
}
