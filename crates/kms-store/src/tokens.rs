//! API tokens and stored policies. A token is 32 random bytes shown once
//! (`kms_` + 64 hex digits); only its SHA-256 is stored, next to a public
//! id (the accessor), the principal, its policies and its expiry. Tokens
//! and policies live outside the sealed key material, so a sealed server
//! can still authenticate the caller of `seal-status`.

use aws_lc_rs::digest::{SHA256, digest};
// Dynamic SQL here is built only from constant column lists and `$N`
// placeholders; every value is bound.
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;
use zeroize::Zeroizing;

use kms_core::{Error, Result};

use crate::backend::LocalBackend;
use crate::db::{db_err, is_unique_violation};
use crate::policy::{Policy, PolicyRule, ROOT_POLICY};
use crate::rows::{from_ms, to_ms};

/// A token as stored (never the secret).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// The public id (accessor).
    pub id: String,
    /// Who the token is for.
    pub principal: String,
    /// Policy names.
    pub policies: Vec<String>,
    /// When created.
    pub created_at: OffsetDateTime,
    /// When it stops working, if ever.
    pub expires_at: Option<OffsetDateTime>,
    /// When revoked, if so.
    pub revoked_at: Option<OffsetDateTime>,
}

impl TokenRecord {
    /// Whether the token holds the built-in `root` policy.
    pub fn is_root(&self) -> bool {
        self.policies.iter().any(|p| p == ROOT_POLICY)
    }
}

/// SHA-256 of a secret token.
pub fn hash_token(secret: &str) -> [u8; 32] {
    let d = digest(&SHA256, secret.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("a stored token or policy row is malformed: {e}"))
}

fn token_from_row(row: &AnyRow) -> Result<TokenRecord> {
    let policies: String = row.try_get("policies").map_err(corrupt)?;
    Ok(TokenRecord {
        id: row.try_get("id").map_err(corrupt)?,
        principal: row.try_get("principal").map_err(corrupt)?,
        policies: serde_json::from_str(&policies).map_err(corrupt)?,
        created_at: from_ms(row.try_get("created_at").map_err(corrupt)?),
        expires_at: row
            .try_get::<Option<i64>, _>("expires_at")
            .map_err(corrupt)?
            .map(from_ms),
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")
            .map_err(corrupt)?
            .map(from_ms),
    })
}

/// The longest token lifetime: 100 years.
pub const MAX_TOKEN_TTL: time::Duration = time::Duration::days(36_500);

fn expiry(now: OffsetDateTime, ttl: time::Duration) -> Result<OffsetDateTime> {
    if !ttl.is_positive() || ttl > MAX_TOKEN_TTL {
        return Err(Error::invalid(
            "ttl",
            format!(
                "{} s is outside 1 s–{} s (100 years)",
                ttl.whole_seconds(),
                MAX_TOKEN_TTL.whole_seconds()
            ),
        ));
    }
    now.checked_add(ttl)
        .ok_or_else(|| Error::invalid("ttl", "the expiry is out of range"))
}

const TOKEN_COLUMNS: &str = "id, hash, principal, policies, created_at, expires_at, revoked_at";

impl LocalBackend {
    /// Creates a token with a fresh random secret; returns the secret (shown once) and the record.
    pub async fn create_token(
        &self,
        principal: &str,
        policies: &[String],
        ttl: Option<time::Duration>,
    ) -> Result<(Zeroizing<String>, TokenRecord)> {
        let mut raw = Zeroizing::new([0u8; 32]);
        self.opts.rng.fill(&mut raw[..])?;
        let secret = Zeroizing::new(format!("kms_{}", hex::encode(&raw[..])));
        let record = self.insert_token(&secret, principal, policies, ttl).await?;
        Ok((secret, record))
    }

    /// Stores a token whose secret the caller chose (the `--dev-root-token`).
    pub async fn insert_token(
        &self,
        secret: &str,
        principal: &str,
        policies: &[String],
        ttl: Option<time::Duration>,
    ) -> Result<TokenRecord> {
        if secret.len() < 8 {
            return Err(Error::invalid(
                "token",
                "a token needs at least 8 characters",
            ));
        }
        if principal.trim().is_empty() || principal.len() > 256 {
            return Err(Error::invalid("principal", "give 1–256 characters"));
        }
        for name in policies {
            if name != ROOT_POLICY && self.policy(name).await?.is_none() {
                return Err(Error::NotFound(format!("policy {name}")));
            }
        }
        let mut id_raw = [0u8; 8];
        self.opts.rng.fill(&mut id_raw)?;
        // Stored to the millisecond; return what is stored.
        let now = from_ms(to_ms(self.opts.clock.now()));
        let record = TokenRecord {
            id: format!("tok_{}", hex::encode(id_raw)),
            principal: principal.to_string(),
            policies: policies.to_vec(),
            created_at: now,
            expires_at: ttl.map(|t| expiry(now, t)).transpose()?,
            revoked_at: None,
        };
        let res = sqlx::query(
            "INSERT INTO kms_tokens (id, hash, principal, policies, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL)",
        )
        .bind(record.id.clone())
        .bind(hash_token(secret).to_vec())
        .bind(record.principal.clone())
        .bind(serde_json::to_string(&record.policies).map_err(corrupt)?)
        .bind(to_ms(record.created_at))
        .bind(record.expires_at.map(to_ms))
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(record),
            Err(e) if is_unique_violation(&e) => Err(Error::Concurrent(
                "token (the same secret exists already)".into(),
            )),
            Err(e) => Err(db_err(e)),
        }
    }

    /// The live token with this secret: `None` when unknown, expired or revoked.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<TokenRecord>> {
        let hash = hash_token(secret);
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM kms_tokens WHERE hash = $1"
        )))
        .bind(hash.to_vec())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        let Some(row) = row else { return Ok(None) };
        let stored: Vec<u8> = row.try_get("hash").map_err(corrupt)?;
        if !bool::from(stored.as_slice().ct_eq(&hash[..])) {
            return Ok(None);
        }
        let rec = token_from_row(&row)?;
        let now = self.opts.clock.now();
        if rec.revoked_at.is_some() || rec.expires_at.is_some_and(|e| e <= now) {
            return Ok(None);
        }
        Ok(Some(rec))
    }

    /// Every token, oldest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM kms_tokens ORDER BY created_at, id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token by its id; revoking twice is not an error.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenRecord> {
        sqlx::query("UPDATE kms_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(to_ms(self.opts.clock.now()))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM kms_tokens WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::NotFound(format!("token {id}")))?;
        token_from_row(&row)
    }

    /// Creates or replaces a policy.
    pub async fn put_policy(&self, policy: &Policy) -> Result<()> {
        policy.validate()?;
        let doc = serde_json::to_string(&policy.rules).map_err(corrupt)?;
        let now = to_ms(self.opts.clock.now());
        let updated =
            sqlx::query("UPDATE kms_policies SET document = $1, updated_at = $2 WHERE name = $3")
                .bind(doc.clone())
                .bind(now)
                .bind(policy.name.clone())
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        if updated.rows_affected() > 0 {
            return Ok(());
        }
        let res = sqlx::query(
            "INSERT INTO kms_policies (name, document, created_at, updated_at) VALUES ($1, $2, $3, $3)",
        )
        .bind(policy.name.clone())
        .bind(doc)
        .bind(now)
        .execute(&self.pool)
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if is_unique_violation(&e) => {
                Err(Error::Concurrent(format!("policy {}", policy.name)))
            }
            Err(e) => Err(db_err(e)),
        }
    }

    /// A stored policy by name.
    pub async fn policy(&self, name: &str) -> Result<Option<Policy>> {
        let row = sqlx::query("SELECT name, document FROM kms_policies WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        row.as_ref().map(policy_from_row).transpose()
    }

    /// Every stored policy, by name.
    pub async fn list_policies(&self) -> Result<Vec<Policy>> {
        let rows = sqlx::query("SELECT name, document FROM kms_policies ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        rows.iter().map(policy_from_row).collect()
    }

    /// Deletes a policy (tokens naming it lose what it allowed).
    pub async fn delete_policy(&self, name: &str) -> Result<()> {
        let res = sqlx::query("DELETE FROM kms_policies WHERE name = $1")
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        if res.rows_affected() == 0 {
            return Err(Error::NotFound(format!("policy {name}")));
        }
        Ok(())
    }

    /// The stored policies among `names` (unknown names are skipped: deny by default).
    pub async fn policies_named(&self, names: &[String]) -> Result<Vec<Policy>> {
        let mut out = Vec::with_capacity(names.len());
        for n in names {
            if let Some(p) = self.policy(n).await? {
                out.push(p);
            }
        }
        Ok(out)
    }
}

fn policy_from_row(row: &AnyRow) -> Result<Policy> {
    let doc: String = row.try_get("document").map_err(corrupt)?;
    let rules: Vec<PolicyRule> = serde_json::from_str(&doc).map_err(corrupt)?;
    Ok(Policy {
        name: row.try_get("name").map_err(corrupt)?,
        rules,
    })
}
