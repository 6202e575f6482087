//! `kms`: the command-line tool of the KMS. Parses the command line, builds
//! a runtime and hands over to [`commands::run`]; errors are printed by
//! [`error::CliError::report`] with a hint and an exit code (0 success,
//! 1 failed operation, 2 usage).
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod error;
mod input;
mod local_audit;
mod output;
mod unseal;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json = cli.global.json;
    // The server runs on every core and logs by RUST_LOG (as `kms-service`);
    // every other command is one request on one thread.
    let serving = matches!(cli.command, cli::Command::Server(_));
    let mut builder = if serving {
        kms_server::run::init_tracing();
        tokio::runtime::Builder::new_multi_thread()
    } else {
        init_tracing();
        tokio::runtime::Builder::new_current_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(source) => {
            return error::CliError::Io {
                what: "cannot start the async runtime",
                source,
            }
            .report(json);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => e.report(json),
    }
}

/// Logs go to stderr, filtered by `KMS_LOG` (e.g. `KMS_LOG=debug`); warnings by default.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KMS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
