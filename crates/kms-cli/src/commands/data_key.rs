//! `kms data-key generate`, `kms data-key generate-pair`, `kms generate-key`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use kms_core::ciphertext;
use kms_core::crypto::spki_der_to_pem;
use kms_core::types::{DataKeyLength, GeneratedDataKey};
use kms_core::{DataKeySpec, EncryptionContext, KeyRef, KmsManager};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{Ctx, default_key_hint, key_or_default};
use crate::cli::{DataKeyCommand, DataKeyGenerateArgs, DataKeyPairArgs, GenerateKeyArgs};
use crate::error::CliError;

/// Runs `kms data-key …`.
pub async fn run(ctx: &Ctx, cmd: DataKeyCommand) -> Result<(), CliError> {
    match cmd {
        DataKeyCommand::Generate(args) => generate(ctx, args).await,
        DataKeyCommand::GeneratePair(args) => generate_pair(ctx, args).await,
    }
}

/// A data key as printed: borrowed views of zeroized buffers.
#[derive(Serialize)]
struct DataKeyWire<'a> {
    key_id: String,
    key_version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_spec: Option<&'a str>,
    bytes: usize,
    /// Base64 of the data key; absent with --no-plaintext.
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext: Option<&'a str>,
    /// `kms:v1:` text.
    ciphertext: String,
}

async fn data_key(
    kms: &KmsManager,
    key: &KeyRef,
    length: DataKeyLength,
    context: &EncryptionContext,
    with_plaintext: bool,
) -> Result<GeneratedDataKey, kms_core::Error> {
    kms.generate_data_key(key, length, context, with_plaintext)
        .await
}

fn print_data_key(
    ctx: &Ctx,
    dk: &GeneratedDataKey,
    spec: Option<DataKeySpec>,
    bytes: usize,
) -> Result<(), CliError> {
    let plaintext = dk
        .plaintext
        .as_ref()
        .map(|p| Zeroizing::new(STANDARD.encode(p.expose_secret())));
    let wire = DataKeyWire {
        key_id: dk.key_id.to_string(),
        key_version: dk.version,
        key_spec: spec.as_ref().map(DataKeySpec::as_str),
        bytes,
        plaintext: plaintext.as_deref().map(String::as_str),
        ciphertext: ciphertext::to_text(&dk.ciphertext),
    };
    if ctx.out.json {
        return ctx.out.print_secret_json(&wire);
    }
    let mut text = Zeroizing::new(String::with_capacity(1024));
    text.push_str(&format!(
        "key_id: {}\nkey_version: {}\n",
        wire.key_id, wire.key_version
    ));
    if let Some(p) = wire.plaintext {
        text.push_str("plaintext: ");
        text.push_str(p);
        text.push('\n');
    }
    text.push_str("ciphertext: ");
    text.push_str(&wire.ciphertext);
    text.push('\n');
    crate::input::write_stdout(text.as_bytes())
}

async fn generate(ctx: &Ctx, args: DataKeyGenerateArgs) -> Result<(), CliError> {
    let (length, spec) = match (args.bytes, args.spec) {
        (Some(n), _) => (DataKeyLength::Bytes(n), None),
        (None, spec) => {
            let spec = spec.unwrap_or(DataKeySpec::Aes256);
            (DataKeyLength::Spec(spec), Some(spec))
        }
    };
    let bytes = length.bytes()?;
    let kms = ctx.manager().await?;
    let dk = data_key(&kms, &args.key, length, &args.context, !args.no_plaintext).await?;
    print_data_key(ctx, &dk, spec, bytes)
}

/// `kms generate-key` (the seed command): a data key under `alias/default` or --key.
pub async fn generate_key(ctx: &Ctx, args: GenerateKeyArgs) -> Result<(), CliError> {
    let (key, used_default) = key_or_default(args.key)?;
    let spec = args.spec.unwrap_or(DataKeySpec::Aes256);
    let kms = ctx.manager().await?;
    let dk = data_key(&kms, &key, DataKeyLength::Spec(spec), &args.context, true)
        .await
        .map_err(|e| default_key_hint(e.into(), used_default))?;
    print_data_key(ctx, &dk, Some(spec), spec.byte_len())
}

/// A data key pair as printed.
#[derive(Serialize)]
struct DataKeyPairWire<'a> {
    key_id: String,
    key_version: u32,
    key_pair_spec: &'a str,
    /// SubjectPublicKeyInfo PEM.
    public_key: String,
    /// PKCS#8 PEM; absent with --no-plaintext.
    #[serde(skip_serializing_if = "Option::is_none")]
    private_key_plaintext: Option<&'a str>,
    /// `kms:v1:` text of the PKCS#8 DER private key.
    private_key_ciphertext: String,
}

/// PKCS#8 DER → `-----BEGIN PRIVATE KEY-----` PEM, in a zeroized buffer.
fn private_key_pem(der: &[u8]) -> Zeroizing<String> {
    let b64 = Zeroizing::new(STANDARD.encode(der));
    let mut pem = Zeroizing::new(String::with_capacity(b64.len() + b64.len() / 64 + 64));
    pem.push_str("-----BEGIN PRIVATE KEY-----\n");
    for (i, c) in b64.chars().enumerate() {
        if i > 0 && i % 64 == 0 {
            pem.push('\n');
        }
        pem.push(c);
    }
    pem.push_str("\n-----END PRIVATE KEY-----\n");
    pem
}

async fn generate_pair(ctx: &Ctx, args: DataKeyPairArgs) -> Result<(), CliError> {
    let kms = ctx.manager().await?;
    let pair = kms
        .generate_data_key_pair(&args.key, args.spec, &args.context, !args.no_plaintext)
        .await?;
    let private = pair
        .private_key_plaintext
        .as_ref()
        .map(|p| private_key_pem(p.expose_secret()));
    let wire = DataKeyPairWire {
        key_id: pair.key_id.to_string(),
        key_version: pair.version,
        key_pair_spec: pair.spec.as_str(),
        public_key: spki_der_to_pem(&pair.public_key),
        private_key_plaintext: private.as_deref().map(String::as_str),
        private_key_ciphertext: ciphertext::to_text(&pair.private_key_ciphertext),
    };
    if ctx.out.json {
        return ctx.out.print_secret_json(&wire);
    }
    let mut text = Zeroizing::new(String::with_capacity(8192));
    text.push_str(&format!(
        "key_id: {}\nkey_version: {}\nkey_pair_spec: {}\nprivate_key_ciphertext: {}\n{}",
        wire.key_id,
        wire.key_version,
        wire.key_pair_spec,
        wire.private_key_ciphertext,
        wire.public_key
    ));
    if let Some(p) = wire.private_key_plaintext {
        text.push_str(p);
    }
    crate::input::write_stdout(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_key_pem_has_64_column_lines() {
        let pem = private_key_pem(&[7u8; 100]);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(pem.ends_with("\n-----END PRIVATE KEY-----\n"));
        assert!(pem.lines().all(|l| l.len() <= 64 || l.starts_with("-----")));
    }
}
