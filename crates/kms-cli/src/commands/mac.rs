//! `kms mac generate` and `kms mac verify`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::Ctx;
use super::sign::report_validity;
use crate::cli::{MacCommand, MacGenerateArgs, MacVerifyArgs};
use crate::error::CliError;
use crate::input::{read_bytes_or_base64, read_input, write_output};

/// Runs `kms mac …`.
pub async fn run(ctx: &Ctx, cmd: MacCommand) -> Result<(), CliError> {
    match cmd {
        MacCommand::Generate(args) => generate(ctx, args).await,
        MacCommand::Verify(args) => verify(ctx, args).await,
    }
}

#[derive(Serialize)]
struct MacJson {
    key_id: String,
    key_version: u32,
    algorithm: String,
    /// Base64.
    mac: String,
}

async fn generate(ctx: &Ctx, args: MacGenerateArgs) -> Result<(), CliError> {
    let message = read_input(args.io.input.as_deref())?;
    let kms = ctx.manager().await?;
    let mac = kms
        .generate_mac(&args.key, &message, args.algorithm)
        .await?;
    if let Some(path) = args.io.output.as_deref() {
        write_output(Some(path), &mac.mac, false)?;
        if !ctx.out.json {
            return Ok(());
        }
    }
    let b64 = STANDARD.encode(&mac.mac);
    if ctx.out.json {
        return ctx.out.print_json(&MacJson {
            key_id: mac.key_id.to_string(),
            key_version: mac.version,
            algorithm: mac.algorithm.to_string(),
            mac: b64,
        });
    }
    ctx.out.line(&b64)
}

async fn verify(ctx: &Ctx, args: MacVerifyArgs) -> Result<(), CliError> {
    let mac = read_bytes_or_base64(&args.mac)?;
    let message = read_input(args.input.as_deref())?;
    let kms = ctx.manager().await?;
    let valid = kms
        .verify_mac(&args.key, &message, args.algorithm, &mac, args.key_version)
        .await?;
    report_validity(ctx, &args.key, valid, "invalid MAC")
}
