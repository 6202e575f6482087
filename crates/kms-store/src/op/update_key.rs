//! Update description, tags, rotation period and `min_decryption_version`
//! in one transaction.

use std::sync::Arc;

use kms_core::types::KeyUpdate;
use kms_core::{KeyMetadata, Result};

use crate::backend::LocalBackend;
use crate::db::db_err;

impl LocalBackend {
    pub(crate) async fn op_update_key(
        &self,
        key: &KeyMetadata,
        update: KeyUpdate,
    ) -> Result<Arc<KeyMetadata>> {
        let id = key.key_id.to_string();
        let now = self.now_ms();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query("UPDATE kms_keys SET updated_at = $1, revision = revision + 1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(d) = &update.description {
            sqlx::query("UPDATE kms_keys SET description = $1 WHERE id = $2")
                .bind(d)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for name in update.remove_tags.iter().chain(update.set_tags.keys()) {
            sqlx::query("DELETE FROM kms_key_tags WHERE key_id = $1 AND name = $2")
                .bind(&id)
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for (name, value) in &update.set_tags {
            sqlx::query("INSERT INTO kms_key_tags (key_id, name, value) VALUES ($1, $2, $3)")
                .bind(&id)
                .bind(name)
                .bind(value)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(period) = update.rotation_period_days {
            let next = period.map(|d| self.days_from_now(d));
            sqlx::query("UPDATE kms_keys SET rotation_period_days = $1, next_rotation_at = $2 WHERE id = $3")
                .bind(period.map(i64::from))
                .bind(next)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(v) = update.min_decryption_version {
            sqlx::query("UPDATE kms_keys SET min_decryption_version = $1 WHERE id = $2")
                .bind(i64::from(v))
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        self.cache.evict(&key.key_id);
        self.announce(&key.key_id, false).await;
        self.reload(&key.key_id).await
    }
}
