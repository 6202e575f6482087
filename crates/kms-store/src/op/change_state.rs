//! Enable, disable, schedule deletion, cancel deletion. Each is one
//! conditional update, so a concurrent change is detected, not overwritten.

use std::sync::Arc;

use kms_core::types::StateChange;
use kms_core::{Error, KeyMetadata, KeyState, Result};

use crate::backend::LocalBackend;
use crate::db::db_err;

impl LocalBackend {
    pub(crate) async fn op_change_state(
        &self,
        key: &KeyMetadata,
        change: StateChange,
    ) -> Result<Arc<KeyMetadata>> {
        let (to, deletion_date) = match change {
            StateChange::Enable => (KeyState::Enabled, None),
            StateChange::Disable => (KeyState::Disabled, None),
            StateChange::CancelDeletion => (KeyState::Disabled, None),
            StateChange::ScheduleDeletion { days } => {
                (KeyState::PendingDeletion, Some(self.days_from_now(days)))
            }
            _ => return Err(Error::unsupported("local", format!("{change:?}"))),
        };
        let res = sqlx::query(
            "UPDATE kms_keys SET state = $1, deletion_date = $2, updated_at = $3, revision = revision + 1 WHERE id = $4 AND state = $5",
        )
        .bind(to.as_str())
        .bind(deletion_date)
        .bind(self.now_ms())
        .bind(key.key_id.to_string())
        .bind(key.state.as_str())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        self.cache.evict(&key.key_id);
        if res.rows_affected() == 0 {
            return Err(Error::Concurrent(format!(
                "key {} (its state changed meanwhile)",
                key.key_id
            )));
        }
        self.announce(&key.key_id, false).await;
        self.reload(&key.key_id).await
    }
}
