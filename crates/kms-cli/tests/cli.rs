//! End-to-end tests of the real `kms` binary, each against its own store in a
//! temporary directory. One integration-test binary; the areas are modules.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "cli/audit.rs"]
mod audit;
#[path = "cli/byok.rs"]
mod byok;
#[path = "cli/common.rs"]
mod common;
#[path = "cli/concurrency.rs"]
mod concurrency;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/crypto.rs"]
mod crypto;
#[path = "cli/files.rs"]
mod files;
#[path = "cli/keys.rs"]
mod keys;
#[path = "cli/remote.rs"]
mod remote;
#[path = "cli/server.rs"]
mod server;
#[path = "cli/signing.rs"]
mod signing;
#[path = "cli/store.rs"]
mod store;
