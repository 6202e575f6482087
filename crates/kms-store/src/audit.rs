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
//! byte 0 (absent) or 1 followed by a u32 BE, then — only when the record
//! stands for more than one item of a batch — the ASCII tag `items` and the
//! count as a u32 BE (so records of one item hash as they always did).
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
use crate::db::{Dialect, db_err};
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
    /// How many items of the request this record stands for (1, or the
    /// number of batch items that shared key, version and outcome).
    pub items: u32,
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
        if self.items != 1 {
            out.extend_from_slice(b"items");
            out.extend_from_slice(&self.items.to_be_bytes());
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

pub(crate) fn hash32(v: Vec<u8>) -> Result<[u8; 32]> {
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
            items: u32::try_from(row.try_get::<i64, _>("items").map_err(corrupt)?)
                .map_err(corrupt)?,
        },
        prev_hash: hash32(row.try_get("prev_hash").map_err(corrupt)?)?,
        hash: hash32(row.try_get("hash").map_err(corrupt)?)?,
    })
}

pub(crate) const AUDIT_COLUMNS: &str = "seq, time_ms, principal, operation, entity_type, entity_id, key_version, \
     outcome, request_id, source, prev_hash, hash, items";

/// One statement inserts a whole append, whatever its size: the records go
/// in as one JSON array of arrays (hashes in hex), unpacked by the database.
/// One prepared statement serves every batch, and binding is one parameter.
fn insert_sql(dialect: Dialect) -> String {
    // Column kinds in AUDIT_COLUMNS order: integer, text or hex-encoded blob.
    const KINDS: &[u8; 13] = b"iittttitttbbi";
    let col = |n: usize, kind: u8| match (dialect, kind) {
        (Dialect::Sqlite, b'b') => format!("unhex(value->>{n})"),
        (Dialect::Sqlite, _) => format!("value->>{n}"),
        (Dialect::Postgres, b'i') => format!("(r->>{n})::bigint"),
        (Dialect::Postgres, b'b') => format!("decode(r->>{n}, 'hex')"),
        (Dialect::Postgres, _) => format!("r->>{n}"),
    };
    let from = match dialect {
        Dialect::Sqlite => "jsonb_each($1)",
        Dialect::Postgres => "jsonb_array_elements($1::jsonb) AS r",
    };
    let cols: Vec<String> = KINDS.iter().enumerate().map(|(n, k)| col(n, *k)).collect();
    format!(
        "INSERT INTO kms_audit ({AUDIT_COLUMNS}) SELECT {} FROM {from}",
        cols.join(", ")
    )
}

/// The records of an append as the JSON [`insert_sql`] reads, one array
/// per record in [`AUDIT_COLUMNS`] order.
fn insert_json(records: &[AuditRecord]) -> Result<String> {
    let rows: Vec<_> = records
        .iter()
        .map(|r| {
            let e = &r.event;
            (
                r.seq,
                to_ms(e.time),
                e.principal.as_str(),
                e.operation.as_str(),
                e.entity_type.as_str(),
                e.entity_id.as_str(),
                e.key_version,
                e.outcome.as_str(),
                e.request_id.as_str(),
                e.source.as_str(),
                hex::encode(r.prev_hash),
                hex::encode(r.hash),
                e.items,
            )
        })
        .collect();
    serde_json::to_string(&rows).map_err(|e| Error::Internal(format!("audit records: {e}")))
}

/// Reads the chain's head (`seq`, `hash`).
pub(crate) const HEAD_SQL: &str = "SELECT seq, hash FROM kms_audit_head WHERE id = 1";

/// The chain's head: the last record's sequence number and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuditHead {
    /// The last sequence number (0 for an empty log).
    pub seq: i64,
    /// The last record's hash (32 zero bytes for an empty log).
    pub hash: [u8; 32],
}

impl AuditHead {
    /// The head of an empty log.
    pub const GENESIS: Self = Self {
        seq: 0,
        hash: [0; 32],
    };
}

/// The events as records chained after `start`.
fn chain(events: Vec<AuditEvent>, start: AuditHead) -> Result<Vec<AuditRecord>> {
    let mut records = unchained(events);
    rechain(&mut records, start)?;
    Ok(records)
}

/// The events as records not yet numbered or hashed ([`rechain`] does that).
pub(crate) fn unchained(events: Vec<AuditEvent>) -> Vec<AuditRecord> {
    events
        .into_iter()
        .map(|mut ev| {
            // Stored to the millisecond, so hash what is stored.
            ev.time = from_ms(to_ms(ev.time));
            AuditRecord {
                seq: 0,
                event: ev,
                prev_hash: [0; 32],
                hash: [0; 32],
            }
        })
        .collect()
}

/// Renumbers and rehashes `records` to follow `start`.
pub(crate) fn rechain(records: &mut [AuditRecord], start: AuditHead) -> Result<()> {
    let mut prev = start.hash;
    for (i, rec) in records.iter_mut().enumerate() {
        rec.seq = start.seq + 1 + i64::try_from(i).map_err(corrupt)?;
        rec.prev_hash = prev;
        rec.hash = chain_hash(&prev, &rec.event, rec.seq);
        prev = rec.hash;
    }
    Ok(())
}

/// The head after `records` (which follow `start`).
pub(crate) fn head_of(records: &[AuditRecord], start: AuditHead) -> AuditHead {
    records.last().map_or(start, |r| AuditHead {
        seq: r.seq,
        hash: r.hash,
    })
}

impl LocalBackend {
    /// Appends events to the chain in one transaction (a group commit) and
    /// returns the records. The head row is locked first (an `UPDATE`), so
    /// writers on several nodes of one PostgreSQL database serialise.
    pub async fn append_audit(&self, events: Vec<AuditEvent>) -> Result<Vec<AuditRecord>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let n = i64::try_from(events.len()).map_err(corrupt)?;
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let head = sqlx::query(
            "UPDATE kms_audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
        )
        .bind(n)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let end: i64 = head.try_get("seq").map_err(corrupt)?;
        let start = AuditHead {
            seq: end - n,
            hash: hash32(head.try_get("hash").map_err(corrupt)?)?,
        };
        let out = chain(events, start)?;
        sqlx::query(AssertSqlSafe(insert_sql(self.dialect)))
            .bind(insert_json(&out)?)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query("UPDATE kms_audit_head SET hash = $1 WHERE id = 1")
            .bind(head_of(&out, start).hash.to_vec())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(out)
    }

    /// The chain's head: the last sequence number and hash.
    pub async fn audit_head(&self) -> Result<AuditHead> {
        let head = sqlx::query(HEAD_SQL)
            .fetch_one(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(AuditHead {
            seq: head.try_get("seq").map_err(corrupt)?,
            hash: hash32(head.try_get("hash").map_err(corrupt)?)?,
        })
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
        let AuditHead {
            seq: head_seq,
            hash: head_hash,
        } = self.audit_head().await?;
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
