//! The writer on a SQLite file: a thread of its own that runs SQLite itself,
//! on a connection of its own (`kms_store::SqliteAuditAppender`).
//!
//! As a task on the shared runtime going through sqlx, each wake-up of the
//! writer (a statement result from sqlx's SQLite thread) waited behind the
//! request tasks, SQLite sat idle for about 350 µs between commits under
//! load, and each append crossed threads several times. Here a commit
//! starts as soon as the previous one has woken its requests.

use std::path::PathBuf;
use std::sync::Arc;

use kms_store::{LocalBackend, SqliteAuditAppender};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Pending, batch, checkpoints, mirror};

/// Starts the thread and the checkpoint task beside it; the returned task
/// ends when both have (the thread after the last handle is dropped and
/// everything queued is written).
pub(super) fn start(
    appender: SqliteAuditAppender,
    store: Arc<LocalBackend>,
    mirror_path: Option<PathBuf>,
    rx: mpsc::Receiver<Pending>,
) -> JoinHandle<()> {
    let (checkpoint, requests) = mpsc::channel(1);
    let checkpointer = tokio::spawn(checkpoints::run(store, requests));
    let thread = tokio::task::spawn_blocking(move || run(appender, mirror_path, rx, checkpoint));
    tokio::spawn(async move {
        if let Err(e) = thread.await {
            tracing::error!(error = %e, "the audit writer thread failed");
        }
        let _ = checkpointer.await;
    })
}

fn run(
    mut appender: SqliteAuditAppender,
    mirror_path: Option<PathBuf>,
    mut rx: mpsc::Receiver<Pending>,
    checkpoint: mpsc::Sender<()>,
) {
    let mut file = None;
    while let Some(first) = rx.blocking_recv() {
        let (events, waiters) = batch::take(first, &mut rx);
        let result = match appender.append(events) {
            Ok(records) => match &mirror_path {
                Some(path) => mirror::write_blocking(&mut file, path, &records),
                None => Ok(()),
            },
            Err(e) => Err(batch::append_failed(&e)),
        };
        if result.is_ok() {
            let _ = checkpoint.try_send(());
        }
        waiters.settle(result);
    }
}
