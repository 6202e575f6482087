//! The audit append of a server on SQLite, on a connection of its own,
//! called from one OS thread.
//!
//! Through sqlx, each append crossed two threads (the caller's runtime and
//! sqlx's SQLite worker) several times: the command, then one message per
//! statement result of the append script, each a wake-up and a context
//! switch, and the records went in as JSON that SQLite parsed again. Here
//! the writer thread runs SQLite itself: one `BEGIN IMMEDIATE`, the head
//! read under the write lock, one cached prepared `INSERT` per record with
//! bound values, the head moved, `COMMIT`.
//!
//! The chain is the one [`crate::audit`] defines; other writers (a `kms`
//! command on the same store, [`LocalBackend::append_audit`]) take the same
//! SQLite write lock, and the head read under it says where to chain.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use kms_core::{Error, Result};

use crate::audit::{
    AUDIT_COLUMNS, AuditEvent, AuditHead, AuditRecord, HEAD_SQL, hash32, head_of, rechain,
    unchained,
};
use crate::backend::LocalBackend;
use crate::db::Dialect;
use crate::rows::to_ms;

/// How long an append waits for another writer's lock (as the pool does).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// A blocking audit appender with its own SQLite connection. Made by
/// [`LocalBackend::sqlite_audit_appender`]; keep it on one thread.
#[derive(Debug)]
pub struct SqliteAuditAppender {
    conn: Connection,
    /// The record `INSERT` (prepared once, then taken from the cache).
    insert: String,
    /// The head this appender last wrote: records are chained after it
    /// before the lock is taken, and again only if the head moved.
    head: Option<AuditHead>,
}

fn sqlite_err(e: rusqlite::Error) -> Error {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if busy {
        return Error::Concurrent(format!("the key store database (busy: {e})"));
    }
    Error::Backend {
        backend: "local",
        kind: kms_core::ErrorKind::Internal,
        message: "key store database error (audit append)".into(),
        source: Some(Box::new(e)),
    }
}

/// One record's `INSERT`, bound values in [`AUDIT_COLUMNS`] order.
fn insert_sql() -> String {
    let values: Vec<String> = (1..=AUDIT_COLUMNS.split(',').count())
        .map(|n| format!("?{n}"))
        .collect();
    format!(
        "INSERT INTO kms_audit ({AUDIT_COLUMNS}) VALUES ({})",
        values.join(", ")
    )
}

impl LocalBackend {
    /// The file of a SQLite store, or `None` for PostgreSQL and in-memory
    /// databases (which a second connection cannot open).
    fn sqlite_file(&self) -> Option<PathBuf> {
        if self.dialect != Dialect::Sqlite {
            return None;
        }
        let url = self.opts.url.as_str();
        if url.contains(":memory:") || url.contains("mode=memory") {
            return None;
        }
        let opts: sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
        Some(opts.get_filename().to_path_buf())
    }

    /// An appender on a connection of its own, for a store in a SQLite
    /// file; `Ok(None)` on PostgreSQL and for in-memory SQLite, where
    /// [`Self::append_audit`] is the way.
    pub fn sqlite_audit_appender(&self) -> Result<Option<SqliteAuditAppender>> {
        let Some(path) = self.sqlite_file() else {
            return Ok(None);
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| Error::Unavailable {
            what: format!("the key store file {}", path.display()),
            reason: "the audit writer cannot open it".into(),
            source: Some(Box::new(e)),
        })?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite_err)?;
        // The store is already in WAL mode (the pool set it); the appender
        // must sync each commit as the pool's connections do.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sqlite_err)?;
        Ok(Some(SqliteAuditAppender {
            conn,
            insert: insert_sql(),
            head: None,
        }))
    }
}

impl SqliteAuditAppender {
    /// Appends events to the chain in one transaction and returns the
    /// records. On error nothing is written (the transaction rolls back).
    pub fn append(&mut self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let mut records = unchained(events);
        let prechained = self.head;
        if let Some(h) = prechained {
            rechain(&mut records, h)?;
        }
        // Forget the head until the commit succeeds: after a failure the
        // next append reads it again.
        self.head = None;
        // Every statement, BEGIN and COMMIT included, is prepared once and
        // then taken from the connection's cache: parsing them again on
        // each commit was a tenth of the writer's time.
        self.exec_cached("BEGIN IMMEDIATE")?;
        match self.append_in_transaction(&mut records, prechained) {
            Ok(end) => {
                if let Err(e) = self.exec_cached("COMMIT") {
                    self.roll_back();
                    return Err(e);
                }
                self.head = Some(end);
                Ok(records)
            }
            Err(e) => {
                self.roll_back();
                Err(e)
            }
        }
    }

    fn exec_cached(&self, sql: &str) -> Result<()> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(sqlite_err)
    }

    /// Ends a failed append's transaction, if it is still open.
    fn roll_back(&self) {
        if !self.conn.is_autocommit()
            && let Err(e) = self.exec_cached("ROLLBACK")
        {
            tracing::warn!(error = %e, "audit append: ROLLBACK failed");
        }
    }

    /// The append inside `BEGIN IMMEDIATE`: the head read under the write
    /// lock, the records (chained again if the head moved), the new head.
    fn append_in_transaction(
        &self,
        records: &mut [AuditRecord],
        prechained: Option<AuditHead>,
    ) -> Result<AuditHead> {
        let (seq, hash) = self
            .conn
            .prepare_cached(HEAD_SQL)
            .and_then(|mut s| s.query_row([], |row| Ok((row.get(0)?, row.get(1)?))))
            .map_err(sqlite_err)?;
        let start = AuditHead {
            seq,
            hash: hash32(hash)?,
        };
        if prechained != Some(start) {
            rechain(records, start)?;
        }
        let mut insert = self.conn.prepare_cached(&self.insert).map_err(sqlite_err)?;
        for r in records.iter() {
            let e = &r.event;
            insert
                .execute(params![
                    r.seq,
                    to_ms(e.time),
                    e.principal,
                    e.operation,
                    e.entity_type,
                    e.entity_id,
                    e.key_version,
                    e.outcome,
                    e.request_id,
                    e.source,
                    &r.prev_hash[..],
                    &r.hash[..],
                    e.items,
                ])
                .map_err(sqlite_err)?;
        }
        let end = head_of(records, start);
        self.conn
            .prepare_cached("UPDATE kms_audit_head SET seq = ?1, hash = ?2 WHERE id = 1")
            .and_then(|mut s| s.execute(params![end.seq, &end.hash[..]]))
            .map_err(sqlite_err)?;
        Ok(end)
    }
}
