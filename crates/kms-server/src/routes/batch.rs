//! Batch answers: per-item results in input order, each echoing its
//! `reference`. The batch is audited as one request: items that share
//! operation, key, version and outcome become one record carrying their
//! count (`items`), and all records are committed together before the
//! answer.

use axum::Json;
use axum::response::{IntoResponse, Response};
use kms_proto::batch::{BatchEntry, BatchItem, BatchResponse};
use serde::Serialize;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::{AppState, Attempt, AuditNote};

/// A batch being answered: the `batch_input` entries still to run (items
/// of type `I`) and the results (`R`) and audit notes so far, already
/// folded: one per operation, key, version and outcome.
#[derive(Debug)]
pub struct Batch<I, R> {
    entries: std::vec::IntoIter<BatchEntry<I>>,
    results: Vec<BatchItem<R>>,
    notes: Vec<AuditNote>,
}

impl<I, R: Serialize> Batch<I, R> {
    /// A batch of these entries; refuses an empty or oversized one.
    pub fn start(entries: Vec<BatchEntry<I>>) -> kms_core::Result<Self> {
        check_size(entries.len())?;
        Ok(Self {
            results: Vec::with_capacity(entries.len()),
            notes: Vec::new(),
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
                fold(&mut self.notes, a.note);
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
    pub async fn respond(self, state: &AppState, caller: &Caller) -> Result<Response, ApiError> {
        let events = self
            .notes
            .into_iter()
            .map(|n| state.event_for(caller, n))
            .collect();
        state.audit.record_all(events).await?;
        Ok(Json(BatchResponse {
            batch_results: self.results,
        })
        .into_response())
    }
}

/// Counts `note` into the note it shares subject (operation, entity,
/// version) and outcome with, or appends it (so notes keep the order of first appearance).
fn fold(notes: &mut Vec<AuditNote>, note: AuditNote) {
    match notes.iter_mut().find(|n| n.same_as(&note)) {
        Some(n) => n.items = n.items.saturating_add(note.items),
        None => notes.push(note),
    }
}

/// Commits one attempt's audit record, then returns its result.
pub async fn finish<T>(state: &AppState, caller: &Caller, a: Attempt<T>) -> Result<T, ApiError> {
    state.audit.record(state.event_for(caller, a.note)).await?;
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

    fn ev(entity: &str, version: u32, outcome: &'static str) -> AuditNote {
        AuditNote {
            subject: kms_store::Subject::key(kms_core::Operation::Encrypt, entity)
                .version(Some(version)),
            outcome: outcome.into(),
            items: 1,
        }
    }

    fn aggregate(notes: Vec<AuditNote>) -> Vec<AuditNote> {
        let mut out = Vec::new();
        for n in notes {
            fold(&mut out, n);
        }
        out
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
                    e.subject.entity_id.as_str(),
                    e.subject.key_version,
                    e.outcome.as_ref(),
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
