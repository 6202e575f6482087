//! Aliases: create, update (point at another key), delete, list.

use sqlx::Row;

use kms_core::types::AliasEntry;
use kms_core::{AliasName, Error, KeyId, KeyMetadata, Result};

use crate::backend::LocalBackend;
use crate::db::{db_err, is_unique_violation};

impl LocalBackend {
    pub(crate) async fn op_create_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let res =
            sqlx::query("INSERT INTO kms_aliases (name, key_id, created_at) VALUES ($1, $2, $3)")
                .bind(alias.as_str())
                .bind(key.key_id.to_string())
                .bind(self.now_ms())
                .execute(&self.pool)
                .await;
        match res {
            Ok(_) => {
                self.bump_revision(&key.key_id).await?;
                self.cache.evict(&key.key_id);
                Ok(())
            }
            Err(e) if is_unique_violation(&e) => Err(Error::AliasExists(alias.to_string())),
            Err(e) => Err(db_err(e)),
        }
    }

    pub(crate) async fn op_update_alias(&self, alias: &AliasName, key: &KeyMetadata) -> Result<()> {
        let old = crate::rows::load_alias(&self.pool, alias)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alias {alias}")))?;
        let res = sqlx::query("UPDATE kms_aliases SET key_id = $1 WHERE name = $2")
            .bind(key.key_id.to_string())
            .bind(alias.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.bump_revision(&old).await?;
        self.bump_revision(&key.key_id).await?;
        self.cache.evict(&old);
        self.cache.evict(&key.key_id);
        if res.rows_affected() == 0 {
            return Err(Error::NotFound(format!("alias {alias}")));
        }
        Ok(())
    }

    pub(crate) async fn op_delete_alias(&self, alias: &AliasName) -> Result<()> {
        self.root()?;
        let old = crate::rows::load_alias(&self.pool, alias)
            .await?
            .ok_or_else(|| Error::NotFound(format!("alias {alias}")))?;
        sqlx::query("DELETE FROM kms_aliases WHERE name = $1")
            .bind(alias.as_str())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.bump_revision(&old).await?;
        self.cache.evict(&old);
        Ok(())
    }

    /// Marks a key changed (its aliases moved) for other processes' caches.
    async fn bump_revision(&self, id: &KeyId) -> Result<()> {
        sqlx::query("UPDATE kms_keys SET revision = revision + 1 WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        self.announce(id, false).await;
        Ok(())
    }

    pub(crate) async fn op_list_aliases(&self, key: Option<KeyId>) -> Result<Vec<AliasEntry>> {
        self.root()?;
        let rows = match key {
            Some(id) => {
                sqlx::query("SELECT name, key_id FROM kms_aliases WHERE key_id = $1 ORDER BY name")
                    .bind(id.to_string())
                    .fetch_all(&self.pool)
                    .await
            }
            None => {
                sqlx::query("SELECT name, key_id FROM kms_aliases ORDER BY name")
                    .fetch_all(&self.pool)
                    .await
            }
        }
        .map_err(db_err)?;
        rows.iter()
            .map(|r| {
                let bad =
                    |e: sqlx::Error| Error::Internal(format!("stored alias is malformed: {e}"));
                Ok(AliasEntry {
                    alias: AliasName::parse(&r.try_get::<String, _>("name").map_err(bad)?)?,
                    key_id: r.try_get::<String, _>("key_id").map_err(bad)?.parse()?,
                })
            })
            .collect()
    }
}
