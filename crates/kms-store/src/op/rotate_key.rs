//! Rotate a key: add a version with new material. The transaction starts
//! with a write to the key's row, which takes SQLite's write lock or
//! PostgreSQL's row lock, so that concurrent rotations in several processes
//! produce consecutive versions and never the same version twice.

use std::sync::Arc;

use sqlx::Row;

use kms_core::crypto::generate_key_material;
use kms_core::{Error, KeyId, KeyMetadata, KeyOrigin, KeySpec, KeyState, Operation, Result};

use crate::backend::{LocalBackend, precondition};
use crate::db::db_err;
use crate::rows::origin_from_str;

impl LocalBackend {
    /// Rotates `id`. With `only_if_due`, rotates only if the automatic
    /// rotation date has passed (another process may have done it already).
    pub(crate) async fn rotate(&self, id: &KeyId, only_if_due: bool) -> Result<Arc<KeyMetadata>> {
        let now = self.now_ms();
        let id_s = id.to_string();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE kms_keys SET updated_at = $1, revision = revision + 1 WHERE id = $2")
            .bind(now)
            .bind(&id_s)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let row = sqlx::query(
            "SELECT current_version, state, spec, origin, rotation_period_days, next_rotation_at FROM kms_keys WHERE id = $1",
        )
        .bind(&id_s)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?
        .ok_or_else(|| Error::NotFound(format!("key {id}")))?;
        let bad = |e: sqlx::Error| Error::Internal(format!("stored key row is malformed: {e}"));
        let current: i64 = row.try_get("current_version").map_err(bad)?;
        let state: KeyState = row.try_get::<String, _>("state").map_err(bad)?.parse()?;
        let spec: KeySpec = row.try_get::<String, _>("spec").map_err(bad)?.parse()?;
        let origin = origin_from_str(&row.try_get::<String, _>("origin").map_err(bad)?)?;
        let period: Option<i64> = row.try_get("rotation_period_days").map_err(bad)?;
        let next: Option<i64> = row.try_get("next_rotation_at").map_err(bad)?;
        if only_if_due && !(state == KeyState::Enabled && next.is_some_and(|n| n <= now)) {
            tx.rollback().await.map_err(db_err)?;
            self.cache.evict(id);
            return self.reload(id).await;
        }
        if state != KeyState::Enabled {
            return Err(Error::InvalidKeyState {
                key: *id,
                state,
                operation: Operation::RotateKey,
            });
        }
        if origin == KeyOrigin::Imported {
            return Err(precondition(format!(
                "key {id} holds imported material, which the KMS cannot rotate; create a new key and import new material into it"
            )));
        }
        let version = u32::try_from(current + 1)
            .map_err(|_| Error::Internal("key version overflow".into()))?;
        let material = generate_key_material(spec, self.opts.rng.as_ref())?;
        let sealed = self.seal_material(id, version, spec, material.expose_secret())?;
        sqlx::query("INSERT INTO kms_key_versions (key_id, version, sealed_material, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id_s)
            .bind(i64::from(version))
            .bind(sealed)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let next_rotation = period.map(|d| now + d * 86_400_000);
        sqlx::query("UPDATE kms_keys SET current_version = $1, rotated_at = $2, next_rotation_at = $3 WHERE id = $4")
            .bind(i64::from(version))
            .bind(now)
            .bind(next_rotation)
            .bind(&id_s)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // Read back inside the transaction: after commit another process
        // may already have rotated again.
        let since = self.cache.epoch();
        let rev = crate::rows::load_revision_conn(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("key {id}")))?;
        let meta = crate::rows::load_key_conn(&mut tx, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("key {id}")))?;
        tx.commit().await.map_err(db_err)?;
        let meta = Arc::new(meta);
        // Replaces the entry of the old version (or drops it, when a later
        // change may have been announced since the read).
        self.cache.put_meta(meta.clone(), rev, since);
        self.announce(id, false).await;
        Ok(meta)
    }
}
