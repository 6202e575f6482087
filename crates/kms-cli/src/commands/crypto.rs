//! `kms encrypt`, `kms decrypt`, `kms reencrypt`, `kms random`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kms_core::ciphertext;
use kms_core::types::Encrypted;
use serde::Serialize;
use zeroize::Zeroizing;

use super::{Ctx, default_key_hint, key_or_default};
use crate::cli::{DecryptArgs, EncryptArgs, RandomArgs, ReencryptArgs};
use crate::error::CliError;
use crate::input::{read_input, write_output};

/// The JSON of an encryption result.
#[derive(Serialize)]
struct EncryptedJson {
    key_id: String,
    key_version: u32,
    ciphertext: String,
}

/// Prints a ciphertext as `kms:v1:` text (to --output or stdout), or JSON.
fn print_encrypted(
    ctx: &Ctx,
    enc: &Encrypted,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    let mut text = ciphertext::to_text(&enc.ciphertext);
    text.push('\n');
    if ctx.out.json {
        if output.is_some() {
            write_output(output, text.as_bytes(), false)?;
        }
        return ctx.out.print_json(&EncryptedJson {
            key_id: enc.key_id.to_string(),
            key_version: enc.version,
            ciphertext: text.trim_end().to_string(),
        });
    }
    write_output(output, text.as_bytes(), false)
}

/// `kms encrypt`.
pub async fn encrypt(ctx: &Ctx, args: EncryptArgs) -> Result<(), CliError> {
    let (key, used_default) = key_or_default(args.key)?;
    let plaintext = read_input(args.io.input.as_deref())?;
    let kms = ctx.manager().await?;
    let enc = kms
        .encrypt(&key, &plaintext, &args.context)
        .await
        .map_err(|e| default_key_hint(e.into(), used_default))?;
    print_encrypted(ctx, &enc, args.io.output.as_deref())
}

/// Decrypted plaintext for `--json`: a borrowed view, printed through a zeroized buffer.
#[derive(Serialize)]
struct DecryptedWire<'a> {
    key_id: String,
    key_version: u32,
    /// Base64 of the plaintext.
    plaintext: &'a str,
}

/// `kms decrypt`.
pub async fn decrypt(ctx: &Ctx, args: DecryptArgs) -> Result<(), CliError> {
    let input = read_input(args.io.input.as_deref())?;
    let blob = ciphertext::from_text_or_binary(&input)?;
    let kms = ctx.manager().await?;
    let dec = kms.decrypt(&blob, &args.context, args.key.as_ref()).await?;
    if ctx.out.json {
        let b64 = Zeroizing::new(STANDARD.encode(dec.plaintext.expose_secret()));
        if args.io.output.is_some() {
            write_output(
                args.io.output.as_deref(),
                dec.plaintext.expose_secret(),
                true,
            )?;
        }
        return ctx.out.print_secret_json(&DecryptedWire {
            key_id: dec.key_id.to_string(),
            key_version: dec.version,
            plaintext: &b64,
        });
    }
    write_output(
        args.io.output.as_deref(),
        dec.plaintext.expose_secret(),
        true,
    )
}

/// `kms reencrypt`.
pub async fn reencrypt(ctx: &Ctx, args: ReencryptArgs) -> Result<(), CliError> {
    let input = read_input(args.io.input.as_deref())?;
    let blob = ciphertext::from_text_or_binary(&input)?;
    let to_context = args.to_context.unwrap_or_else(|| args.context.clone());
    let kms = ctx.manager().await?;
    let enc = kms
        .re_encrypt(
            &blob,
            &args.context,
            args.source_key.as_ref(),
            &args.key,
            &to_context,
        )
        .await?;
    print_encrypted(ctx, &enc, args.io.output.as_deref())
}

/// Random bytes for `--json`.
#[derive(Serialize)]
struct RandomWire<'a> {
    bytes: usize,
    /// Base64.
    random: &'a str,
}

/// `kms random N`.
pub async fn random(ctx: &Ctx, args: RandomArgs) -> Result<(), CliError> {
    let kms = ctx.manager().await?;
    let bytes = Zeroizing::new(kms.generate_random(args.bytes).await?);
    if let Some(path) = args.output.as_deref() {
        write_output(Some(path), &bytes, true)?;
        if !ctx.out.json {
            return Ok(());
        }
    }
    let b64 = Zeroizing::new(STANDARD.encode(&*bytes));
    if ctx.out.json {
        return ctx.out.print_secret_json(&RandomWire {
            bytes: bytes.len(),
            random: &b64,
        });
    }
    let mut line = Zeroizing::new(String::with_capacity(b64.len() + 1));
    line.push_str(&b64);
    line.push('\n');
    write_output(None, line.as_bytes(), true)
}
