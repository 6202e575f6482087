//! The audit log: an append-only, hash-chained table. Each record's hash is
//! `SHA-256(prev_hash || canonical record)`, the first record's `prev_hash`
//! is 32 zero bytes, and a one-row head holds the last sequence number and
//! hash, so [`LocalBackend::verify_audit`] detects records that were
//! changed, removed (in the middle or at the end) or reordered.
//!
//! The canonical record is, in this order: the ASCII tag `kms-audit-v1`,
//! `seq` (i64 BE), `time` in Unix milliseconds (i64 BE), then each of
//! principal, operation, entity type, entity id, outcome, request id and
//! source as a u32 BE length and UTF-8 bytes, then the key version as one
//! byte 0 (absent) or 1 followed by a u32 BE.
//!
//! Records never hold plaintext, key material or tokens: only ids,
//! versions, names and outcomes.

use aws_lc_rs::digest::{Context, SHA256};
// Dynamic SQL here is built only from constant column lists and `$N`
// placeholders; every value is bound.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use kms_core::{Error, Result};

use crate::backend::LocalBackend;
use crate::db::db_err;
use crate::rows::{from_ms, to_ms};

/// What happened, before it is chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEvent {
    /// When (stored to the millisecond).
    pub time: OffsetDateTime,
    /// Who (the token's principal, or `anonymous`).
    pub principal: String,
    /// The operation name (`encrypt`, `token_create`, …).
    pub operation: String,
    /// `key`, `token`, `policy` or `store`.
    pub entity_type: String,
    /// The key id, token id, policy name, … (empty when none).
    pub entity_id: String,
    /// The key version used, if any.
    pub key_version: Option<u32>,
    /// `ok`, `denied` or `error:<code>`.
    pub outcome: String,
    /// The request's id.
    pub request_id: String,
    /// The caller's address.
    pub source: String,
}

/// A chained record as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event.
    pub event: AuditEvent,
    /// The previous record's hash.
    pub prev_hash: [u8; 32],
    /// This record's hash.
    pub hash: [u8; 32],
}

/// Which records to list.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    /// Only records with `seq` greater than this.
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 10 000).
    pub limit: Option<u32>,
    /// Only this principal.
    pub principal: Option<String>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only this entity id.
    pub entity_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<String>,
    /// Only records at or after this time.
    pub since: Option<OffsetDateTime>,
    /// Only records before this time.
    pub until: Option<OffsetDateTime>,
}

/// The result of [`LocalBackend::verify_audit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditVerification {
    /// Records read.
    pub records: u64,
    /// The first bad record and why, or `None` when the chain is intact.
    pub first_bad: Option<(i64, String)>,
}

impl AuditVerification {
    /// Whether the chain is intact.
    pub fn is_ok(&self) -> bool {
        self.first_bad.is_none()
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

impl AuditEvent {
    /// The canonical bytes of this event at position `seq` (see the module docs).
    pub fn canonical_bytes(&self, seq: i64) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.extend_from_slice(b"kms-audit-v1");
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&to_ms(self.time).to_be_bytes());
        for s in [
            &self.principal,
            &self.operation,
            &self.entity_type,
            &self.entity_id,
            &self.outcome,
            &self.request_id,
            &self.source,
        ] {
            put_str(&mut out, s);
        }
        match self.key_version {
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&v.to_be_bytes());
            }
            None => out.push(0),
        }
        out
    }
}

/// `SHA-256(prev_hash || canonical)`.
pub fn chain_hash(prev: &[u8; 32], event: &AuditEvent, seq: i64) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(prev);
    ctx.update(&event.canonical_bytes(seq));
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("a stored audit record is malformed: {e}"))
}

fn hash32(v: Vec<u8>) -> Result<[u8; 32]> {
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| corrupt("hash is not 32 bytes"))
}

fn record_from_row(row: &AnyRow) -> Result<AuditRecord> {
    let s = |c: &str| row.try_get::<String, _>(c).map_err(corrupt);
    Ok(AuditRecord {
        seq: row.try_get("seq").map_err(corrupt)?,
        event: AuditEvent {
            time: from_ms(row.try_get("time_ms").map_err(corrupt)?),
            principal: s("principal")?,
            operation: s("operation")?,
            entity_type: s("entity_type")?,
            entity_id: s("entity_id")?,
            key_version: row
                .try_get::<Option<i64>, _>("key_version")
                .map_err(corrupt)?
                .map(|v| u32::try_from(v).map_err(corrupt))
                .transpose()?,
            outcome: s("outcome")?,
            request_id: s("request_id")?,
            source: s("source")?,
        },
        prev_hash: hash32(row.try_get("prev_hash").map_err(corrupt)?)?,
        hash: hash32(row.try_get("hash").map_err(corrupt)?)?,
    })
}

const AUDIT_COLUMNS: &str = "seq, time_ms, principal, operation, entity_type, entity_id, key_version, \
     outcome, request_id, source, prev_hash, hash";

impl LocalBackend {
    /// Appends events to the chain in one transaction (a group commit) and
    /// returns the records. The head row is locked first (an `UPDATE`), so
    /// writers on several nodes of one PostgreSQL database serialise.
    pub async fn append_audit(&self, events: &[AuditEvent]) -> Result<Vec<AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let n = i64::try_from(events.len()).map_err(corrupt)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE kms_audit_head SET seq = seq + $1 WHERE id = 1")
            .bind(n)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let head = sqlx::query("SELECT seq, hash FROM kms_audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
        let end: i64 = head.try_get("seq").map_err(corrupt)?;
        let mut prev = hash32(head.try_get("hash").map_err(corrupt)?)?;
        let mut out = Vec::with_capacity(events.len());
        for (i, ev) in events.iter().enumerate() {
            let seq = end - n + 1 + i64::try_from(i).map_err(corrupt)?;
            let hash = chain_hash(&prev, ev, seq);
            let mut stored = ev.clone();
            stored.time = from_ms(to_ms(ev.time));
            out.push(AuditRecord {
                seq,
                event: stored,
                prev_hash: prev,
                hash,
            });
            prev = hash;
        }
        // Multi-row inserts: one statement per 64 records (768 parameters,
        // far below the SQLite and PostgreSQL limits).
        for chunk in out.chunks(64) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let cols: Vec<String> = (1..=12).map(|c| format!("${}", r * 12 + c)).collect();
                    format!("({})", cols.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO kms_audit ({AUDIT_COLUMNS}) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for rec in chunk {
                let ev = &rec.event;
                q = q
                    .bind(rec.seq)
                    .bind(to_ms(ev.time))
                    .bind(ev.principal.clone())
                    .bind(ev.operation.clone())
                    .bind(ev.entity_type.clone())
                    .bind(ev.entity_id.clone())
                    .bind(ev.key_version.map(i64::from))
                    .bind(ev.outcome.clone())
                    .bind(ev.request_id.clone())
                    .bind(ev.source.clone())
                    .bind(rec.prev_hash.to_vec())
                    .bind(rec.hash.to_vec());
            }
            q.execute(&mut *tx).await.map_err(db_err)?;
        }
        sqlx::query("UPDATE kms_audit_head SET hash = $1 WHERE id = 1")
            .bind(prev.to_vec())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    /// Records matching `filter`, oldest first.
    pub async fn list_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>> {
        let limit = i64::from(filter.limit.unwrap_or(100).clamp(1, 10_000));
        let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM kms_audit WHERE seq > $1");
        let mut binds: Vec<String> = Vec::new();
        for (col, v) in [
            ("principal", &filter.principal),
            ("operation", &filter.operation),
            ("entity_id", &filter.entity_id),
            ("outcome", &filter.outcome),
        ] {
            if let Some(v) = v {
                binds.push(v.clone());
                sql.push_str(&format!(" AND {col} = ${}", binds.len() + 1));
            }
        }
        let since_ix = binds.len() + 2;
        sql.push_str(&format!(
            " AND time_ms >= ${since_ix} AND time_ms < ${} ORDER BY seq LIMIT ${}",
            since_ix + 1,
            since_ix + 2
        ));
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(filter.after_seq.unwrap_or(0));
        for b in binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(filter.since.map_or(i64::MIN, to_ms))
            .bind(filter.until.map_or(i64::MAX, to_ms))
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(record_from_row).collect()
    }

    /// Walks the whole chain and names the first record that is missing,
    /// out of order, altered, or cut off at the end.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        let mut expected_prev = [0u8; 32];
        let mut expected_seq = 1i64;
        let mut count = 0u64;
        loop {
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {AUDIT_COLUMNS} FROM kms_audit WHERE seq >= $1 ORDER BY seq LIMIT 1000"
            )))
            .bind(expected_seq)
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let rec = record_from_row(row)?;
                count += 1;
                let bad = |why: &str| {
                    Ok(AuditVerification {
                        records: count,
                        first_bad: Some((expected_seq, why.to_string())),
                    })
                };
                if rec.seq != expected_seq {
                    return bad(&format!(
                        "record {expected_seq} is missing (the next stored record is {})",
                        rec.seq
                    ));
                }
                if !bool::from(rec.prev_hash.ct_eq(&expected_prev)) {
                    return bad("its prev_hash does not match the previous record's hash");
                }
                if !bool::from(chain_hash(&rec.prev_hash, &rec.event, rec.seq).ct_eq(&rec.hash)) {
                    return bad("its content does not match its hash (it was altered)");
                }
                expected_prev = rec.hash;
                expected_seq += 1;
            }
        }
        let head = sqlx::query("SELECT seq, hash FROM kms_audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        let head_seq: i64 = head.try_get("seq").map_err(corrupt)?;
        let head_hash = hash32(head.try_get("hash").map_err(corrupt)?)?;
        if head_seq != expected_seq - 1 || !bool::from(head_hash.ct_eq(&expected_prev)) {
            return Ok(AuditVerification {
                records: count,
                first_bad: Some((
                    expected_seq,
                    format!(
                        "the log ends at record {} but its head says {head_seq}: records were removed from the end",
                        expected_seq - 1
                    ),
                )),
            });
        }
        Ok(AuditVerification {
            records: count,
            first_bad: None,
        })
    }
}
