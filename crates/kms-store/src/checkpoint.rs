//! Moving the SQLite write-ahead log into the database file off the audit
//! writer's path.
//!
//! SQLite checkpoints the WAL inside whichever commit pushes it past 1000
//! pages. Under steady audit traffic that commit is the audit writer's, and
//! every request waiting on it waits for the checkpoint too (copying some
//! 4 MiB and syncing the database file): the tail of the latency. A passive
//! checkpoint on another connection copies the pages while the writer goes
//! on appending, so the checkpoint left inside a commit has little to copy.

use kms_core::Result;

use crate::backend::LocalBackend;
use crate::db::{Dialect, db_err};

impl LocalBackend {
    /// Copies committed pages from the write-ahead log into the database
    /// file without blocking writers (`PRAGMA wal_checkpoint(PASSIVE)`, on
    /// a pool connection). Nothing to do on PostgreSQL.
    pub async fn checkpoint_wal(&self) -> Result<()> {
        if !self.has_wal() {
            return Ok(());
        }
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    /// Whether this store has a write-ahead log to checkpoint (SQLite).
    pub fn has_wal(&self) -> bool {
        self.dialect == Dialect::Sqlite
    }
}
