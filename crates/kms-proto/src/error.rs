//! The error body every non-2xx answer carries.

use serde::{Deserialize, Serialize};

/// `{"error": code, "message": text}`; `code` is stable and machine-readable
/// (`invalid_input`, `unauthenticated`, `permission_denied`, `not_found`,
/// `conflict`, `payload_too_large`, `failed_precondition`, `too_many_requests`,
/// `unavailable`, `unsupported`, `internal`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The stable code.
    pub error: String,
    /// What went wrong, for people.
    pub message: String,
}
