//! `kms-service`: the KMS HTTP server (the same as `kms server`).
//! Logs go to stderr, filtered by `RUST_LOG` (default `info`).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use kms_server::{ServerArgs, ServerConfig, StoreArgs};

/// mimalloc: the server allocates small, short-lived objects on every core
/// for every request, where it measured faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The KMS HTTP server: seed and native APIs, auth, audit, metrics, TLS.
#[derive(Debug, Parser)]
#[command(name = "kms-service", version, about)]
struct Cli {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    store: StoreArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    kms_server::run::init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let cfg = ServerConfig::resolve(&cli.server, &cli.store)?;
        kms_server::run(cfg).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
