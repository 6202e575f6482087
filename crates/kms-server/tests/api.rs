//! HTTP tests of the server: one binary, a fresh store and state per test,
//! most through `app(state).oneshot(req)`, a few on a real TCP listener.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "api/common.rs"]
mod common;

#[path = "api/admin.rs"]
mod admin;
#[path = "api/audit.rs"]
mod audit;
#[path = "api/auth.rs"]
mod auth;
#[path = "api/batch.rs"]
mod batch;
#[path = "api/cluster.rs"]
mod cluster;
#[path = "api/crypto.rs"]
mod crypto;
#[path = "api/keys.rs"]
mod keys;
#[path = "api/seed.rs"]
mod seed;
#[path = "api/service.rs"]
mod service;
#[path = "api/sys.rs"]
mod sys;
