//! The audit writer: one background writer takes the records of concurrent
//! requests, appends whatever has queued up in one database transaction
//! (group commit), optionally mirrors them to a JSON-lines file, then
//! wakes every request of the batch. A request answers only after its
//! records are durable; if the write fails, the request fails (503).
//!
//! On a SQLite file the writer is a thread of its own with its own
//! connection ([`sqlite_writer`]); on PostgreSQL (and in-memory SQLite) it
//! is a task on the server's runtime ([`pool_writer`]). Both take batches
//! and settle them the same way ([`batch`]).

mod batch;
mod checkpoints;
mod mirror;
mod pool_writer;
mod sqlite_writer;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use kms_core::Error;
use kms_proto::admin::AuditRecordWire;
use kms_store::{AuditEvent, AuditRecord, LocalBackend};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::ApiError;

/// The most records one transaction takes.
const MAX_BATCH: usize = 1024;

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
    pub fn start(store: Arc<LocalBackend>, mirror: Option<PathBuf>) -> (Self, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16 * MAX_BATCH);
        let appender = store.sqlite_audit_appender().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the audit writer appends through the pool instead of a connection of its own");
            None
        });
        let task = match appender {
            Some(appender) => sqlite_writer::start(appender, store, mirror, rx),
            None => tokio::spawn(pool_writer::run(store, mirror, rx)),
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
