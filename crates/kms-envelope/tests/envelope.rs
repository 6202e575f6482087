//! The envelope crate's promises, in one test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "envelope/age_interop.rs"]
mod age_interop;
#[path = "envelope/common.rs"]
mod common;
#[path = "envelope/fuzz_corpus.rs"]
mod fuzz_corpus;
#[path = "envelope/header_props.rs"]
mod header_props;
#[path = "envelope/inspect.rs"]
mod inspect;
#[path = "envelope/rewrap.rs"]
mod rewrap;
#[path = "envelope/roundtrip.rs"]
mod roundtrip;
#[path = "envelope/tamper.rs"]
mod tamper;
#[path = "envelope/vectors.rs"]
mod vectors;
