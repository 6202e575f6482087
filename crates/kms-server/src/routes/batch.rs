//! Batch answers: per-item results in input order, each echoing its
//! `reference`; the audit records of all items are committed together.

use axum::Json;
use axum::response::{IntoResponse, Response};
use kms_proto::batch::{BatchItem, BatchResponse};
use kms_store::AuditEvent;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::{AppState, Attempt};

/// A batch being collected.
#[derive(Debug)]
pub struct Batch<R> {
    results: Vec<BatchItem<R>>,
    events: Vec<AuditEvent>,
}

impl<R: Serialize> Batch<R> {
    /// An empty batch for `n` items.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            results: Vec::with_capacity(n),
            events: Vec::with_capacity(n),
        }
    }

    /// Adds one item's outcome: an attempt (audited) or an error found before it.
    pub fn push<T>(
        &mut self,
        reference: Option<String>,
        outcome: kms_core::Result<Attempt<T>>,
        map: impl FnOnce(T) -> R,
    ) {
        let result = match outcome {
            Ok(a) => {
                self.events.push(a.event);
                a.result
            }
            Err(e) => Err(e),
        };
        self.results.push(match result {
            Ok(v) => BatchItem {
                reference,
                ok: Some(map(v)),
                error: None,
            },
            Err(e) => BatchItem {
                reference,
                ok: None,
                error: Some(ApiError::Core(e).body()),
            },
        });
    }

    /// Commits the audit records, then answers `{"batch_results": [...]}`.
    pub async fn respond(self, state: &AppState) -> Result<Response, ApiError> {
        state.audit.record_all(self.events).await?;
        Ok(Json(BatchResponse {
            batch_results: self.results,
        })
        .into_response())
    }
}

/// Commits one attempt's audit record, then returns its result.
pub async fn finish<T>(state: &AppState, a: Attempt<T>) -> Result<T, ApiError> {
    state.audit.record(a.event).await?;
    Ok(a.result?)
}

/// Refuses an empty or oversized batch.
pub fn check_size(n: usize) -> kms_core::Result<()> {
    if n == 0 || n > MAX_BATCH_ITEMS {
        return Err(kms_core::Error::invalid(
            "batch_input",
            format!("must hold 1–{MAX_BATCH_ITEMS} items; it holds {n}"),
        ));
    }
    Ok(())
}

/// The most items one batch takes.
pub const MAX_BATCH_ITEMS: usize = 1000;
