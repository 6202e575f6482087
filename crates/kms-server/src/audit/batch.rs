//! What both writers do around an append: take everything that has queued
//! up, then count the batch and wake each of its requests with the outcome.

use std::time::Instant;

use kms_store::AuditEvent;
use tokio::sync::{mpsc, oneshot};

use super::{MAX_BATCH, Pending};

/// The requests of a batch, waiting for its outcome.
pub(super) struct Waiters(Vec<(Instant, oneshot::Sender<Result<(), String>>)>);

/// `first` and whatever else is queued (up to [`MAX_BATCH`]): the events to
/// append, in order, and their requests.
pub(super) fn take(first: Pending, rx: &mut mpsc::Receiver<Pending>) -> (Vec<AuditEvent>, Waiters) {
    let mut events = vec![first.event];
    let mut waiters = vec![(first.enqueued, first.done)];
    while events.len() < MAX_BATCH {
        match rx.try_recv() {
            Ok(p) => {
                events.push(p.event);
                waiters.push((p.enqueued, p.done));
            }
            Err(_) => break,
        }
    }
    metrics::gauge!("kms_audit_queue_depth").set(rx.len() as f64);
    (events, Waiters(waiters))
}

/// What a request is told when the append failed (the error is logged).
pub(super) fn append_failed(e: &kms_core::Error) -> String {
    tracing::error!(error = %e, "audit append failed");
    format!("it cannot be written ({e})")
}

impl Waiters {
    /// Counts the batch and wakes each request with `result`.
    pub(super) fn settle(self, result: Result<(), String>) {
        metrics::counter!("kms_audit_records_total").increment(self.0.len() as u64);
        metrics::counter!("kms_audit_batches_total").increment(1);
        let lag = metrics::histogram!("kms_audit_lag_seconds");
        for (enqueued, done) in self.0 {
            lag.record(enqueued.elapsed().as_secs_f64());
            let _ = done.send(result.clone());
        }
    }
}
