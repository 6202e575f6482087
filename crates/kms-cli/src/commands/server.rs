//! `kms server`: runs the HTTP server of `kms-server` with the CLI's store flags.

use clap::Args;
use kms_server::{ServerArgs, ServerConfig, StoreArgs};

use super::Ctx;
use crate::error::CliError;

/// `kms server`.
#[derive(Debug, Args)]
pub struct ServerCmdArgs {
    /// Server flags.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(ctx: &Ctx, args: ServerCmdArgs) -> Result<(), CliError> {
    let store = StoreArgs {
        store: ctx.global.store.clone(),
        passphrase_file: ctx.global.passphrase_file.clone(),
        key_file: ctx.global.key_file.clone(),
    };
    let cfg = ServerConfig::resolve(&args.server, &store)?;
    kms_server::run(cfg).await?;
    Ok(())
}
