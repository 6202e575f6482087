//! Batch answers: per-item results in input order, each echoing its
//! `reference`. The batch is audited as one request: items that share
//! operation, key, version and outcome become one record carrying their
//! count (`items`), and all records are committed together before the
//! answer.

use axum::Json;
use axum::response::{IntoResponse, Response};
use kms_proto::batch::{BatchEntry, BatchItem, BatchResponse};
use kms_store::AuditEvent;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::{AppState, Attempt};

/// A batch being answered: the `batch_input` entries still to run (items
/// of type `I`) and the results (`R`) and audit records so far.
#[derive(Debug)]
pub struct Batch<I, R> {
    entries: std::vec::IntoIter<BatchEntry<I>>,
    results: Vec<BatchItem<R>>,
    events: Vec<AuditEvent>,
}

impl<I, R: Serialize> Batch<I, R> {
    /// A batch of these entries; refuses an empty or oversized one.
    pub fn start(entries: Vec<BatchEntry<I>>) -> kms_core::Result<Self> {
        check_size(entries.len())?;
        Ok(Self {
            results: Vec::with_capacity(entries.len()),
            events: Vec::with_capacity(entries.len()),
            entries: entries.into_iter(),
        })
    }

    /// The next item to run. An entry that could not be read becomes that
    /// item's error result on the way (the other items go on).
    pub fn next_item(&mut self) -> Option<I> {
        for entry in self.entries.by_ref() {
            match entry.item {
                Ok(item) => return Some(item),
                Err(bad) => {
                    let e = kms_core::Error::invalid(
                        "batch_input item",
                        format!("{}; fix this item and send it again", bad.message),
                    );
                    self.results.push(BatchItem {
                        reference: bad.reference,
                        ok: None,
                        error: Some(ApiError::Core(e).body()),
                    });
                }
            }
        }
        None
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
        state.audit.record_all(aggregate(self.events)).await?;
        Ok(Json(BatchResponse {
            batch_results: self.results,
        })
        .into_response())
    }
}

/// Folds the items' records into one per (operation, entity, version,
/// outcome), in order of first appearance, counting the items of each.
fn aggregate(events: Vec<AuditEvent>) -> Vec<AuditEvent> {
    let mut out: Vec<AuditEvent> = Vec::new();
    for ev in events {
        let same = out.iter_mut().find(|o| {
            o.operation == ev.operation
                && o.entity_type == ev.entity_type
                && o.entity_id == ev.entity_id
                && o.key_version == ev.key_version
                && o.outcome == ev.outcome
        });
        match same {
            Some(o) => o.items = o.items.saturating_add(ev.items),
            None => out.push(ev),
        }
    }
    out
}

/// Commits one attempt's audit record, then returns its result.
pub async fn finish<T>(state: &AppState, a: Attempt<T>) -> Result<T, ApiError> {
    state.audit.record(a.event).await?;
    Ok(a.result?)
}

/// Refuses an empty or oversized batch.
fn check_size(n: usize) -> kms_core::Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(entity: &str, version: u32, outcome: &str) -> AuditEvent {
        AuditEvent {
            time: time::OffsetDateTime::UNIX_EPOCH,
            principal: "app".into(),
            operation: "encrypt".into(),
            entity_type: "key".into(),
            entity_id: entity.into(),
            key_version: Some(version),
            outcome: outcome.into(),
            request_id: "r".into(),
            source: "127.0.0.1".into(),
            items: 1,
        }
    }

    #[test]
    fn items_sharing_key_version_and_outcome_become_one_counted_record() {
        let got = aggregate(vec![
            ev("a", 1, "ok"),
            ev("b", 1, "ok"),
            ev("a", 1, "ok"),
            ev("a", 1, "error:invalid_input"),
            ev("a", 2, "ok"),
            ev("a", 1, "ok"),
        ]);
        let summary: Vec<_> = got
            .iter()
            .map(|e| {
                (
                    e.entity_id.as_str(),
                    e.key_version,
                    e.outcome.as_str(),
                    e.items,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("a", Some(1), "ok", 3),
                ("b", Some(1), "ok", 1),
                ("a", Some(1), "error:invalid_input", 1),
                ("a", Some(2), "ok", 1),
            ]
        );
    }
}
