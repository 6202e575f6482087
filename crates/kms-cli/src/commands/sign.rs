//! `kms sign` and `kms verify`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kms_core::MessageType;
use serde::Serialize;

use super::Ctx;
use crate::cli::{SignArgs, VerifyArgs};
use crate::error::CliError;
use crate::input::{read_bytes_or_base64, read_input, write_output};

fn message_type(digest: bool) -> MessageType {
    if digest {
        MessageType::Digest
    } else {
        MessageType::Raw
    }
}

#[derive(Serialize)]
struct SignatureJson {
    key_id: String,
    key_version: u32,
    algorithm: String,
    /// Base64.
    signature: String,
}

/// `kms sign`: the signature bytes to --output, or base64 on stdout.
pub async fn sign(ctx: &Ctx, args: SignArgs) -> Result<(), CliError> {
    let message = read_input(args.io.input.as_deref())?;
    let kms = ctx.manager().await?;
    let sig = kms
        .sign(
            &args.key,
            &message,
            message_type(args.digest),
            args.algorithm,
        )
        .await?;
    if let Some(path) = args.io.output.as_deref() {
        write_output(Some(path), &sig.signature, false)?;
        if !ctx.out.json {
            return Ok(());
        }
    }
    let b64 = STANDARD.encode(&sig.signature);
    if ctx.out.json {
        return ctx.out.print_json(&SignatureJson {
            key_id: sig.key_id.to_string(),
            key_version: sig.version,
            algorithm: sig.algorithm.to_string(),
            signature: b64,
        });
    }
    ctx.out.line(&b64)
}

#[derive(Serialize)]
struct VerifyJson {
    key_id: String,
    valid: bool,
}

/// `kms verify`: prints `valid` and exits 0, or `invalid signature` and exits 1.
pub async fn verify(ctx: &Ctx, args: VerifyArgs) -> Result<(), CliError> {
    let signature = read_bytes_or_base64(&args.signature)?;
    let message = read_input(args.input.as_deref())?;
    let kms = ctx.manager().await?;
    let valid = kms
        .verify(
            &args.key,
            &message,
            message_type(args.digest),
            args.algorithm,
            &signature,
            args.key_version,
        )
        .await?;
    report_validity(ctx, &args.key, valid, "invalid signature")
}

/// Prints the outcome of a verification; an invalid one exits 1.
pub fn report_validity(
    ctx: &Ctx,
    key: &kms_core::KeyRef,
    valid: bool,
    invalid: &'static str,
) -> Result<(), CliError> {
    if ctx.out.json {
        ctx.out.print_json(&VerifyJson {
            key_id: key.to_string(),
            valid,
        })?;
    } else {
        ctx.out.line(if valid { "valid" } else { invalid })?;
    }
    if valid {
        Ok(())
    } else {
        Err(CliError::Reported(invalid))
    }
}
