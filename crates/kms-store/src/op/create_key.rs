//! Create a key: new id, generated material sealed as version 1 (or no
//! material for `PendingImport`), tags and an optional alias, in one
//! transaction.

use std::sync::Arc;

use kms_core::crypto::generate_key_material;
use kms_core::types::CreateKeyRequest;
use kms_core::{Error, KeyId, KeyMetadata, KeyOrigin, KeyState, Result};

use crate::backend::LocalBackend;
use crate::db::{db_err, is_unique_violation};

impl LocalBackend {
    pub(crate) async fn op_create_key(&self, req: CreateKeyRequest) -> Result<Arc<KeyMetadata>> {
        self.root()?;
        let usage = req.validate()?;
        let rng = self.opts.rng.clone();
        let id = KeyId::new_random(rng.as_ref())?;
        let now = self.now_ms();
        let (state, version, sealed) = match req.origin {
            KeyOrigin::Imported => (KeyState::PendingImport, 0u32, None),
            _ => {
                let material = generate_key_material(req.spec, rng.as_ref())?;
                let sealed = self.seal_material(&id, 1, req.spec, material.expose_secret())?;
                (KeyState::Enabled, 1u32, Some(sealed))
            }
        };
        let next_rotation = req
            .rotation_period_days
            .filter(|_| state == KeyState::Enabled)
            .map(|d| self.days_from_now(d));
        let id_s = id.to_string();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO kms_keys (id, spec, usage, state, origin, description, current_version, \
             min_decryption_version, created_at, rotated_at, rotation_period_days, next_rotation_at, deletion_date, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, $13)",
        )
        .bind(&id_s)
        .bind(req.spec.as_str())
        .bind(usage.as_str())
        .bind(state.as_str())
        .bind(req.origin.as_str())
        .bind(&req.description)
        .bind(i64::from(version))
        .bind(i64::from(version.max(1)))
        .bind(now)
        .bind((version > 0).then_some(now))
        .bind(req.rotation_period_days.map(i64::from))
        .bind(next_rotation)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(sealed) = sealed {
            sqlx::query("INSERT INTO kms_key_versions (key_id, version, sealed_material, created_at) VALUES ($1, $2, $3, $4)")
                .bind(&id_s)
                .bind(1i64)
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        for (k, v) in &req.tags {
            sqlx::query("INSERT INTO kms_key_tags (key_id, name, value) VALUES ($1, $2, $3)")
                .bind(&id_s)
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(alias) = &req.alias {
            let res = sqlx::query(
                "INSERT INTO kms_aliases (name, key_id, created_at) VALUES ($1, $2, $3)",
            )
            .bind(alias.as_str())
            .bind(&id_s)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match res {
                Ok(_) => {}
                Err(e) if is_unique_violation(&e) => {
                    return Err(Error::AliasExists(alias.to_string()));
                }
                Err(e) => return Err(db_err(e)),
            }
        }
        tx.commit().await.map_err(db_err)?;
        self.reload(&id).await
    }
}
