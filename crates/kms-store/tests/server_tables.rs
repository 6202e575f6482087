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
        items: 1,
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
    let (a, b) = tokio::join!(s.append_audit(first), s.append_audit(second));
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

    // An append of 85 records goes out as statements of 64, 16, 4 and 1
    // rows; a record standing for 100 batch items keeps its count.
    let mut many: Vec<_> = (40..125).map(event).collect();
    many[10].items = 100;
    let stored = s.append_audit(many).await.unwrap();
    assert_eq!(stored.last().unwrap().seq, 125);
    let v = s.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, 125);
    let batch = s
        .list_audit(&AuditFilter {
            principal: Some("p50".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(batch[0].event.items, 100);
    assert_eq!(batch[0].seq, 51);
    sqlx::query("UPDATE kms_audit SET items = 1 WHERE seq = 51")
        .execute(s.pool())
        .await
        .unwrap();
    let v = s.verify_audit().await.unwrap();
    assert_eq!(v.first_bad.map(|b| b.0), Some(51));

    sqlx::query("UPDATE kms_audit SET outcome = 'denied' WHERE seq = 12")
        .execute(s.pool())
        .await
        .unwrap();
    let v = s.verify_audit().await.unwrap();
    assert_eq!(v.first_bad.map(|b| b.0), Some(12));
}

/// A record of one item hashes exactly as before the item count existed,
/// so chains written by earlier versions still verify.
#[test]
fn a_one_item_record_hashes_as_before_the_item_count() {
    let ev = event(3);
    let mut legacy = b"kms-audit-v1".to_vec();
    legacy.extend_from_slice(&7i64.to_be_bytes());
    legacy.extend_from_slice(&((1_893_456_000_000i64 + 3000).to_be_bytes()));
    for s in ["p3", "encrypt", "key", "k", "ok", "r3", "127.0.0.1"] {
        legacy.extend_from_slice(&(s.len() as u32).to_be_bytes());
        legacy.extend_from_slice(s.as_bytes());
    }
    legacy.extend_from_slice(&[1, 0, 0, 0, 1]);
    assert_eq!(ev.canonical_bytes(7), legacy);
    let mut batch = ev.clone();
    batch.items = 100;
    let mut with_items = legacy.clone();
    with_items.extend_from_slice(b"items");
    with_items.extend_from_slice(&100u32.to_be_bytes());
    assert_eq!(batch.canonical_bytes(7), with_items);
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

/// How many audit records the main SQLite file holds on its own, without
/// its write-ahead log (a copy of the file is opened read-only).
async fn records_in_main_file(db: &std::path::Path, copy: &std::path::Path) -> i64 {
    use sqlx::Connection as _;
    std::fs::copy(db, copy).unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(copy);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    let n = sqlx::query_scalar::<_, i64>("SELECT count(*) FROM kms_audit")
        .fetch_one(&mut conn)
        .await
        .unwrap_or(0);
    conn.close().await.unwrap();
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", copy.display()));
    }
    n
}

/// The background checkpoint copies what the audit writer appended to the
/// WAL into the database file, while the store stays open.
#[tokio::test]
async fn a_passive_checkpoint_moves_audit_records_into_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let copy = dir.path().join("copy.db");
    let s = store(&sqlite_url(&db)).await;
    assert!(s.has_wal());
    s.append_audit((0..200).map(event).collect()).await.unwrap();
    assert!(
        records_in_main_file(&db, &copy).await < 200,
        "the records are still only in the WAL"
    );
    s.checkpoint_wal().await.unwrap();
    assert_eq!(records_in_main_file(&db, &copy).await, 200);
    // Appends go on after a checkpoint.
    let more = s.append_audit(vec![event(200)]).await.unwrap();
    assert_eq!(more[0].seq, 201);
    assert!(s.verify_audit().await.unwrap().is_ok());
}

#[tokio::test]
async fn checkpoint_is_a_no_op_on_postgres() {
    let Some(db) = PgDatabase::create("checkpoint_is_a_no_op_on_postgres") else {
        return;
    };
    let s = store(&db.url).await;
    assert!(!s.has_wal());
    s.checkpoint_wal().await.unwrap();
}

/// The server's SQLite audit appender (its own connection, bound values)
/// chains after whatever other writers appended, stores each field as the
/// pool reads it back, and leaves nothing behind when an append fails.
#[tokio::test]
async fn the_sqlite_appender_chains_after_other_writers_and_fails_whole() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&sqlite_url(&dir.path().join("k.db"))).await;
    let mut appender = s.sqlite_audit_appender().unwrap().expect("a SQLite file");
    let mut first: Vec<AuditEvent> = (0..5).map(event).collect();
    first[1].key_version = None;
    first[2].items = 100;
    first[3].principal = "ünïcode 🔑".into();
    let a = appender.append(first.clone()).unwrap();
    assert_eq!(
        a.iter().map(|r| r.seq).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    let stored = s.list_audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(stored, a, "what the pool reads back is what was appended");
    // Another writer (a `kms` command on the same store) appends in between.
    s.append_audit(vec![event(5)]).await.unwrap();
    let b = appender.append((6..9).map(event).collect()).unwrap();
    assert_eq!(b.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![7, 8, 9]);
    assert_eq!(
        b[0].prev_hash,
        s.list_audit(&AuditFilter {
            after_seq: Some(5),
            limit: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()[0]
            .hash
    );
    // A stray row where the next batch's second record goes: the append
    // fails as a whole and the head does not move.
    let head = s.audit_head().await.unwrap();
    let stray = head.seq + 2;
    sqlx_insert(&dir.path().join("k.db"), stray).await;
    let err = appender.append((9..12).map(event).collect()).unwrap_err();
    assert!(err.to_string().contains("database"), "{err}");
    assert_eq!(s.audit_head().await.unwrap(), head);
    let all = s.list_audit(&AuditFilter::default()).await.unwrap();
    assert_eq!(
        all.len() as i64,
        head.seq + 1,
        "only the stray row was added"
    );
    sqlx_delete(&dir.path().join("k.db"), stray).await;
    let c = appender.append((9..12).map(event).collect()).unwrap();
    assert_eq!(c[0].seq, head.seq + 1);
    let v = s.verify_audit().await.unwrap();
    assert!(v.is_ok(), "{v:?}");
    assert_eq!(v.records, 12);
}

async fn sqlite_conn(db: &std::path::Path) -> sqlx::SqliteConnection {
    use sqlx::Connection as _;
    let opts = sqlx::sqlite::SqliteConnectOptions::new().filename(db);
    sqlx::SqliteConnection::connect_with(&opts).await.unwrap()
}

async fn sqlx_insert(db: &std::path::Path, seq: i64) {
    let mut c = sqlite_conn(db).await;
    sqlx::query(
        "INSERT INTO kms_audit (seq, time_ms, principal, operation, entity_type, entity_id, \
         key_version, outcome, request_id, source, prev_hash, hash, items) \
         VALUES ($1, 0, 'x', 'x', 'x', 'x', NULL, 'ok', 'x', 'x', zeroblob(32), zeroblob(32), 1)",
    )
    .bind(seq)
    .execute(&mut c)
    .await
    .unwrap();
}

async fn sqlx_delete(db: &std::path::Path, seq: i64) {
    let mut c = sqlite_conn(db).await;
    sqlx::query("DELETE FROM kms_audit WHERE seq = $1")
        .bind(seq)
        .execute(&mut c)
        .await
        .unwrap();
}

#[tokio::test]
async fn there_is_no_sqlite_appender_on_postgres() {
    let Some(db) = PgDatabase::create("there_is_no_sqlite_appender_on_postgres") else {
        return;
    };
    assert!(
        store(&db.url)
            .await
            .sqlite_audit_appender()
            .unwrap()
            .is_none()
    );
}
