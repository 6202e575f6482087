//! The writer as a task on the server's runtime, appending through the
//! store's pool: PostgreSQL (whose connections belong to the runtime that
//! opened them) and in-memory SQLite.

use std::path::PathBuf;
use std::sync::Arc;

use kms_store::LocalBackend;
use tokio::sync::mpsc;

use super::{Pending, batch, checkpoints, mirror};

pub(super) async fn run(
    store: Arc<LocalBackend>,
    mirror_path: Option<PathBuf>,
    mut rx: mpsc::Receiver<Pending>,
) {
    let mut file = None;
    let (checkpoint, requests) = mpsc::channel(1);
    let checkpointer = store
        .has_wal()
        .then(|| tokio::spawn(checkpoints::run(store.clone(), requests)));
    while let Some(first) = rx.recv().await {
        // Let the request tasks that are ready run first, so that their
        // records join this commit rather than the next (fewer, larger
        // commits; no timer, so an idle server commits at once).
        tokio::task::yield_now().await;
        let (events, waiters) = batch::take(first, &mut rx);
        let result = match store.append_audit(events).await {
            Ok(records) => match &mirror_path {
                Some(path) => mirror::write(&mut file, path, &records).await,
                None => Ok(()),
            },
            Err(e) => Err(batch::append_failed(&e)),
        };
        if result.is_ok() {
            let _ = checkpoint.try_send(());
        }
        waiters.settle(result);
    }
    drop(checkpoint);
    if let Some(task) = checkpointer {
        let _ = task.await;
    }
}
