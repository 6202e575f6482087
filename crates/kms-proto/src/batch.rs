//! Vault-style batches: `batch_input` items in, `batch_results` out, in order,
//! each echoing its `reference`; a failing item carries an error and does not
//! fail the others.

use serde::{Deserialize, Serialize};

use crate::error::ErrorBody;

/// The answer to a batch request.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchResponse<T> {
    /// One result per input item, in input order.
    pub batch_results: Vec<BatchItem<T>>,
}

/// One result of a batch.
#[derive(Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchItem<T> {
    /// The item's `reference`, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The result when the item succeeded.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ok: Option<T>,
    /// The error when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}
