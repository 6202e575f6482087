//! The audit writer: one background task takes the records of concurrent
//! requests, appends whatever has queued up in one database transaction
//! (group commit), optionally mirrors them to a JSON-lines file, then
//! wakes every request of the batch. A request answers only after its
//! records are durable; if the write fails, the request fails (503).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kms_core::Error;
use kms_proto::admin::AuditRecordWire;
use kms_store::{AuditCursor, AuditEvent, AuditRecord, LocalBackend};
use tokio::io::AsyncWriteExt as _;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ApiError;

/// The most records one transaction takes.
const MAX_BATCH: usize = 1024;

/// The least time between two background WAL checkpoints.
const CHECKPOINT_PAUSE: std::time::Duration = std::time::Duration::from_millis(25);

struct Pending {
    event: AuditEvent,
    enqueued: Instant,
    done: oneshot::Sender<Result<(), String>>,
}

/// A handle to the audit writer (cheap to clone).
#[derive(Clone, Debug)]
pub struct AuditLog {
    tx: mpsc::Sender<Pending>,
}

impl core::fmt::Debug for Pending {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Pending")
            .field("event", &self.event)
            .finish()
    }
}

impl AuditLog {
    /// Starts the writer. It stops, after writing everything queued, when the
    /// last handle is dropped; await the returned task to flush at shutdown.
    ///
    /// On SQLite the writer runs on a thread of its own, with a
    /// single-threaded runtime. On the server's shared runtime, each wake-up
    /// of the writer (a commit finished on SQLite's thread) waited behind
    /// the request tasks in the workers' queues, and SQLite sat idle for
    /// about 350 µs between commits under load; on its own thread the gap
    /// is about 30 µs and native encrypt serves about 9% more requests.
    /// PostgreSQL connections belong to the runtime that opened them, so
    /// there the writer stays on the shared runtime.
    pub fn start(store: Arc<LocalBackend>, mirror: Option<PathBuf>) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16 * MAX_BATCH);
        let own_runtime = store.has_wal().then(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        });
        let task = match own_runtime {
            Some(Ok(rt)) => {
                tokio::task::spawn_blocking(move || rt.block_on(writer(store, mirror, rx)))
            }
            Some(Err(e)) => {
                tracing::warn!(error = %e, "the audit writer's own runtime could not be started; it runs on the shared one");
                tokio::spawn(writer(store, mirror, rx))
            }
            None => tokio::spawn(writer(store, mirror, rx)),
        };
        (Self { tx }, task)
    }

    /// Appends one record and waits until it is committed.
    pub async fn record(&self, event: AuditEvent) -> Result<(), ApiError> {
        self.record_all(vec![event]).await
    }

    /// Appends records (in order) and waits until all are committed.
    pub async fn record_all(&self, events: Vec<AuditEvent>) -> Result<(), ApiError> {
        let mut waits = Vec::with_capacity(events.len());
        for event in events {
            let (done, wait) = oneshot::channel();
            let p = Pending {
                event,
                enqueued: Instant::now(),
                done,
            };
            self.tx
                .send(p)
                .await
                .map_err(|_| unavailable("the audit writer has stopped"))?;
            waits.push(wait);
        }
        for w in waits {
            match w.await {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => return Err(unavailable(&reason)),
                Err(_) => return Err(unavailable("the audit writer has stopped")),
            }
        }
        Ok(())
    }
}

fn unavailable(reason: &str) -> ApiError {
    ApiError::Core(Error::Unavailable {
        what: "the audit log".into(),
        reason: format!("{reason}; the request was not carried out or its result is withheld"),
        source: None,
    })
}

/// A record as the API and the JSON-lines mirror show it.
pub fn record_to_wire(r: &AuditRecord) -> AuditRecordWire {
    AuditRecordWire {
        seq: r.seq,
        time: r
            .event
            .time
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        principal: r.event.principal.clone(),
        operation: r.event.operation.clone(),
        entity_type: r.event.entity_type.clone(),
        entity_id: r.event.entity_id.clone(),
        key_version: r.event.key_version,
        outcome: r.event.outcome.clone(),
        request_id: r.event.request_id.clone(),
        source: r.event.source.clone(),
        items: r.event.items,
        hash: hex::encode(r.hash),
    }
}

async fn writer(
    store: Arc<LocalBackend>,
    mirror: Option<PathBuf>,
    mut rx: mpsc::Receiver<Pending>,
) {
    let mut file = None;
    // Checkpoints run beside the writer (see kms_store::checkpoint); it
    // asks for one after each commit and the channel holds one request.
    let (checkpoint, requests) = mpsc::channel(1);
    let checkpointer = store
        .has_wal()
        .then(|| tokio::spawn(checkpoints(store.clone(), requests)));
    // The head this writer last wrote and its own connection: on SQLite an
    // append is then one round trip to the database, on a connection whose
    // page cache stays warm (see LocalBackend::append_audit_after).
    let mut cursor = AuditCursor::new();
    while let Some(first) = rx.recv().await {
        // Everything that queued while the last commit ran goes into this
        // one (no timer, so an idle server commits at once). On the shared
        // runtime, the request tasks that are ready run first, so that their
        // records join this commit rather than the next.
        tokio::task::yield_now().await;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        metrics::gauge!("kms_audit_queue_depth").set(rx.len() as f64);
        let mut events = Vec::with_capacity(batch.len());
        let mut waiters = Vec::with_capacity(batch.len());
        for p in batch {
            events.push(p.event);
            waiters.push((p.enqueued, p.done));
        }
        let n = events.len();
        let result = match store.append_audit_after(&mut cursor, events).await {
            Ok(records) => match &mirror {
                Some(path) => write_mirror(&mut file, path, &records).await,
                None => Ok(()),
            },
            Err(e) => {
                tracing::error!(error = %e, "audit append failed");
                Err(format!("it cannot be written ({e})"))
            }
        };
        if result.is_ok() {
            let _ = checkpoint.try_send(());
        }
        metrics::counter!("kms_audit_records_total").increment(n as u64);
        metrics::counter!("kms_audit_batches_total").increment(1);
        let lag = metrics::histogram!("kms_audit_lag_seconds");
        for (enqueued, done) in waiters {
            lag.record(enqueued.elapsed().as_secs_f64());
            let _ = done.send(result.clone());
        }
    }
    drop(checkpoint);
    if let Some(task) = checkpointer {
        let _ = task.await;
    }
}

/// Runs a passive WAL checkpoint for each request, at most one per
/// [`CHECKPOINT_PAUSE`]; ends when the writer drops its sender.
async fn checkpoints(store: Arc<LocalBackend>, mut requests: mpsc::Receiver<()>) {
    while requests.recv().await.is_some() {
        if let Err(e) = store.checkpoint_wal().await {
            tracing::warn!(error = %e, "background WAL checkpoint failed; SQLite checkpoints inside commits instead");
        }
        tokio::time::sleep(CHECKPOINT_PAUSE).await;
    }
}

async fn write_mirror(
    file: &mut Option<tokio::fs::File>,
    path: &PathBuf,
    records: &[AuditRecord],
) -> Result<(), String> {
    if file.is_none() {
        let f = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await
            .map_err(|e| format!("the mirror file {} cannot be opened ({e})", path.display()))?;
        *file = Some(f);
    }
    let Some(f) = file.as_mut() else {
        return Err("the mirror file is not open".into());
    };
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, &record_to_wire(r)).map_err(|e| e.to_string())?;
        buf.push(b'\n');
    }
    let res = async {
        f.write_all(&buf).await?;
        f.sync_data().await
    }
    .await;
    res.map_err(|e| {
        tracing::error!(error = %e, "audit mirror write failed");
        format!("the mirror file {} cannot be written ({e})", path.display())
    })
}
