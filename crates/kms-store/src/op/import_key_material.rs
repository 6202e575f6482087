//! BYOK: hand out an RSA-4096 wrapping key and a single-use import token,
//! then take key material wrapped as AWS KMS and Vault do (an ephemeral
//! AES-256 key under RSA-OAEP-SHA-256, then the material under AES-KWP).

use std::sync::Arc;

use sqlx::Row;

use kms_core::crypto::{ImportWrappingKey, PreparedKey};
use kms_core::types::{IMPORT_WRAPPING_ALGORITHM, ImportParameters};
use kms_core::{Error, KeyMaterial, KeyMetadata, KeyOrigin, Result};

use crate::backend::{LocalBackend, precondition};
use crate::db::db_err;

/// How long an import token works.
const IMPORT_TOKEN_HOURS: i64 = 24;

fn token_aad(token: &str) -> Vec<u8> {
    format!("kms-import-wrapping-key:v1:{token}").into_bytes()
}

impl LocalBackend {
    pub(crate) async fn op_import_parameters(&self, key: &KeyMetadata) -> Result<ImportParameters> {
        if key.origin != KeyOrigin::Imported {
            return Err(precondition(format!(
                "key {} was not created for imported material; create one with --origin imported",
                key.key_id
            )));
        }
        let root = self.root()?;
        let (_wrapping, private_pkcs8, public_der) = ImportWrappingKey::generate()?;
        let mut raw = [0u8; 32];
        self.opts.rng.fill(&mut raw)?;
        let token = hex::encode(raw);
        let sealed = root.seal(
            self.opts.rng.as_ref(),
            &token_aad(&token),
            private_pkcs8.expose_secret(),
        )?;
        let expires = self.opts.clock.now() + time::Duration::hours(IMPORT_TOKEN_HOURS);
        sqlx::query("INSERT INTO kms_import_tokens (token, key_id, sealed_wrapping_key, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(&token)
            .bind(key.key_id.to_string())
            .bind(sealed)
            .bind(crate::rows::to_ms(expires))
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(ImportParameters {
            key_id: key.key_id,
            import_token: token,
            wrapping_public_key: public_der,
            wrapping_algorithm: IMPORT_WRAPPING_ALGORITHM.into(),
            expires_at: expires,
        })
    }

    pub(crate) async fn op_import_key_material(
        &self,
        key: &KeyMetadata,
        import_token: &str,
        wrapped: &[u8],
    ) -> Result<Arc<KeyMetadata>> {
        let root = self.root()?;
        let token = import_token.trim();
        let row = sqlx::query("SELECT sealed_wrapping_key, expires_at FROM kms_import_tokens WHERE token = $1 AND key_id = $2")
            .bind(token)
            .bind(key.key_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?
            .ok_or_else(|| {
                Error::ImportFailed(format!(
                    "the import token is unknown, was already used, or is for another key; get new parameters with `kms key import-params {}`",
                    key.key_id
                ))
            })?;
        let bad =
            |e: sqlx::Error| Error::Internal(format!("stored import token is malformed: {e}"));
        let expires: i64 = row.try_get("expires_at").map_err(bad)?;
        if expires <= self.now_ms() {
            return Err(Error::ImportFailed(
                "the import token has expired; get new parameters with `kms key import-params`"
                    .into(),
            ));
        }
        let sealed: Vec<u8> = row.try_get("sealed_wrapping_key").map_err(bad)?;
        let pkcs8: KeyMaterial = root
            .open(&token_aad(token), &sealed)
            .map_err(|_| Error::Internal("the stored wrapping key does not unseal".into()))?;
        let material = ImportWrappingKey::from_pkcs8(&pkcs8)?.unwrap(wrapped)?;
        PreparedKey::new(key.spec, &material)?;
        let sealed_material =
            self.seal_material(&key.key_id, 1, key.spec, material.expose_secret())?;
        let now = self.now_ms();
        let id = key.key_id.to_string();
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        let used = sqlx::query("DELETE FROM kms_import_tokens WHERE token = $1")
            .bind(token)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if used.rows_affected() != 1 {
            return Err(Error::ImportFailed(
                "the import token was used concurrently".into(),
            ));
        }
        let updated = sqlx::query(
            "UPDATE kms_keys SET state = 'Enabled', current_version = 1, min_decryption_version = 1, rotated_at = $1, updated_at = $2, revision = revision + 1 \
             WHERE id = $3 AND state = 'PendingImport'",
        )
        .bind(now)
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if updated.rows_affected() != 1 {
            return Err(Error::Concurrent(format!(
                "key {} (no longer pending import)",
                key.key_id
            )));
        }
        sqlx::query("INSERT INTO kms_key_versions (key_id, version, sealed_material, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(1i64)
            .bind(sealed_material)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        self.cache.evict(&key.key_id);
        self.announce(&key.key_id, false).await;
        self.reload(&key.key_id).await
    }
}
