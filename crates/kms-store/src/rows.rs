//! Reading keys from the database into [`KeyMetadata`], and time conversions.

use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};
use time::OffsetDateTime;

use kms_core::{AliasName, Error, KeyId, KeyMetadata, KeyOrigin, KeyState, Result};

use crate::db::db_err;

/// Unix milliseconds.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

/// From Unix milliseconds.
pub(crate) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) const KEY_COLUMNS: &str = "id, spec, usage, state, origin, description, current_version, \
     min_decryption_version, created_at, rotated_at, rotation_period_days, next_rotation_at, deletion_date, revision";

pub(crate) fn origin_from_str(s: &str) -> Result<KeyOrigin> {
    match s {
        "GENERATED" => Ok(KeyOrigin::Generated),
        "IMPORTED" => Ok(KeyOrigin::Imported),
        "EXTERNAL" => Ok(KeyOrigin::External),
        _ => Err(Error::Internal(format!(
            "stored key origin {s:?} is unknown"
        ))),
    }
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Internal(format!("a stored key row is malformed: {e}"))
}

/// Maps one row of [`KEY_COLUMNS`] (aliases and tags filled by the caller).
pub(crate) fn key_from_row(row: &AnyRow) -> Result<KeyMetadata> {
    let get_s = |c: &str| row.try_get::<String, _>(c).map_err(corrupt);
    let get_i = |c: &str| row.try_get::<i64, _>(c).map_err(corrupt);
    let get_oi = |c: &str| row.try_get::<Option<i64>, _>(c).map_err(corrupt);
    Ok(KeyMetadata {
        key_id: get_s("id")?.parse()?,
        aliases: Vec::new(),
        description: get_s("description")?,
        tags: BTreeMap::new(),
        spec: get_s("spec")?.parse()?,
        usage: get_s("usage")?.parse()?,
        state: get_s("state")?.parse::<KeyState>()?,
        origin: origin_from_str(&get_s("origin")?)?,
        current_version: u32::try_from(get_i("current_version")?).map_err(corrupt)?,
        min_decryption_version: u32::try_from(get_i("min_decryption_version")?).map_err(corrupt)?,
        created_at: from_ms(get_i("created_at")?),
        rotated_at: get_oi("rotated_at")?.map(from_ms),
        rotation_period_days: get_oi("rotation_period_days")?
            .map(|d| u32::try_from(d).map_err(corrupt))
            .transpose()?,
        next_rotation_at: get_oi("next_rotation_at")?.map(from_ms),
        deletion_date: get_oi("deletion_date")?.map(from_ms),
        backend: "local".into(),
    })
}

/// Fills aliases and tags of a key.
pub(crate) async fn fill_names(pool: &AnyPool, meta: &mut KeyMetadata) -> Result<()> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    fill_names_conn(&mut conn, meta).await
}

/// Fills aliases and tags of a key, on one connection (or transaction).
pub(crate) async fn fill_names_conn(
    conn: &mut AnyConnection,
    meta: &mut KeyMetadata,
) -> Result<()> {
    let id = meta.key_id.to_string();
    let aliases = sqlx::query("SELECT name FROM kms_aliases WHERE key_id = $1 ORDER BY name")
        .bind(&id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    meta.aliases = aliases
        .iter()
        .map(|r| {
            r.try_get::<String, _>("name")
                .map_err(corrupt)
                .and_then(|n| AliasName::parse(&n))
        })
        .collect::<Result<_>>()?;
    let tags = sqlx::query("SELECT name, value FROM kms_key_tags WHERE key_id = $1")
        .bind(&id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    meta.tags = tags
        .iter()
        .map(|r| {
            Ok((
                r.try_get::<String, _>("name").map_err(corrupt)?,
                r.try_get::<String, _>("value").map_err(corrupt)?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(())
}

/// Reads one key by id with its revision, or `None`.
pub(crate) async fn load_key(pool: &AnyPool, id: &KeyId) -> Result<Option<(KeyMetadata, i64)>> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    // The revision first: a change made between the two reads leaves a
    // revision older than the metadata, which costs one more reload later,
    // never a stale entry that looks fresh.
    let Some(rev) = load_revision_conn(&mut conn, id).await? else {
        return Ok(None);
    };
    Ok(load_key_conn(&mut conn, id).await?.map(|m| (m, rev)))
}

/// The revision of a key, or `None` when it does not exist.
pub(crate) async fn load_revision(pool: &AnyPool, id: &KeyId) -> Result<Option<i64>> {
    let mut conn = pool.acquire().await.map_err(db_err)?;
    load_revision_conn(&mut conn, id).await
}

pub(crate) async fn load_revision_conn(
    conn: &mut AnyConnection,
    id: &KeyId,
) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT revision FROM kms_keys WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(db_err)?;
    row.map(|r| r.try_get::<i64, _>("revision").map_err(corrupt))
        .transpose()
}

/// Reads one key by id on one connection (or transaction), or `None`.
pub(crate) async fn load_key_conn(
    conn: &mut AnyConnection,
    id: &KeyId,
) -> Result<Option<KeyMetadata>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {KEY_COLUMNS} FROM kms_keys WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    let Some(row) = row else { return Ok(None) };
    let mut meta = key_from_row(&row)?;
    fill_names_conn(conn, &mut meta).await?;
    Ok(Some(meta))
}

/// Resolves an alias to a key id, or `None`.
pub(crate) async fn load_alias(pool: &AnyPool, alias: &AliasName) -> Result<Option<KeyId>> {
    let row = sqlx::query("SELECT key_id FROM kms_aliases WHERE name = $1")
        .bind(alias.as_str())
        .fetch_optional(pool)
        .await
        .map_err(db_err)?;
    row.map(|r| r.try_get::<String, _>("key_id").map_err(corrupt)?.parse())
        .transpose()
}

/// The associated data that binds sealed key material to its key, version and spec.
pub(crate) fn material_aad(id: &KeyId, version: u32, spec: kms_core::KeySpec) -> Vec<u8> {
    let mut aad = b"kms-key-material:v1:".to_vec();
    aad.extend_from_slice(id.as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad.extend_from_slice(spec.as_str().as_bytes());
    aad
}
