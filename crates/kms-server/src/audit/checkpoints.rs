//! WAL checkpoints beside the writer (see `kms_store::checkpoint`): the
//! writer asks for one after each commit; the request channel holds one.

use std::sync::Arc;
use std::time::Duration;

use kms_store::LocalBackend;
use tokio::sync::mpsc;

/// The least time between two background WAL checkpoints.
const PAUSE: Duration = Duration::from_millis(25);

/// Runs a passive WAL checkpoint for each request, at most one per
/// [`PAUSE`]; ends when the writer drops its sender.
pub(super) async fn run(store: Arc<LocalBackend>, mut requests: mpsc::Receiver<()>) {
    while requests.recv().await.is_some() {
        if let Err(e) = store.checkpoint_wal().await {
            tracing::warn!(error = %e, "background WAL checkpoint failed; SQLite checkpoints inside commits instead");
        }
        tokio::time::sleep(PAUSE).await;
    }
}
