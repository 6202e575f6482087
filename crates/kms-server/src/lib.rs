//! # kms-server
//!
//! The HTTP server of the KMS (axum): the seed API of seed 001, the native
//! API under `/api/v1/`, seal state, tokens, policies, the hash-chained
//! audit log, Prometheus metrics and the OpenAPI document. See
//! `docs/server.md` for the reference.
//!
//! Every handler is thin: extractors ([`auth::Caller`], [`extract::ApiJson`])
//! → [`AppState::run`] (authorize, call the [`kms_core::KmsManager`], count,
//! audit) → a wire type of `kms-proto`. Every error goes through the one
//! table of [`error::ApiError`].
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod routes;
pub mod run;
pub mod state;
pub mod tls;

pub use app::app;
pub use error::ApiError;
pub use run::{ServerArgs, ServerConfig, StoreArgs, run};
pub use state::{AppState, Settings};
