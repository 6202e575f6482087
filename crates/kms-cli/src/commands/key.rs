//! `kms key …`: the life of a key.

use std::path::{Path, PathBuf};

use kms_core::crypto::{spki_der_to_jwk, spki_der_to_pem};
use kms_core::types::{CreateKeyRequest, KeyUpdate, ListKeysRequest};
use kms_core::{KeyMetadata, KeyOrigin, KmsManager};
use serde::Serialize;

use super::Ctx;
use crate::cli::{
    ImportArgs, ImportParamsArgs, KeyCommand, KeyCreateArgs, KeyListArgs, KeyUpdateArgs, OriginArg,
    PublicKeyArgs, PublicKeyFormat,
};
use crate::error::CliError;
use crate::input::{read_file, write_file, write_output};
use crate::output::{self, Output};

/// File name of the wrapping public key written by `import-params`.
pub const WRAPPING_KEY_FILE: &str = "wrapping-key.pem";
/// File name of the import token written by `import-params`.
pub const IMPORT_TOKEN_FILE: &str = "import-token";

/// Runs `kms key …`.
pub async fn run(ctx: &Ctx, cmd: KeyCommand) -> Result<(), CliError> {
    let kms = ctx.manager().await?;
    let out = &ctx.out;
    match cmd {
        KeyCommand::Create(args) => create(&kms, out, args).await,
        KeyCommand::List(args) => list(&kms, out, args).await,
        KeyCommand::Describe(a) => out.key(&*kms.describe_key(&a.key).await?),
        KeyCommand::Update(args) => update(&kms, out, args).await,
        KeyCommand::Rotate(a) => out.key(&*kms.rotate_key(&a.key).await?),
        KeyCommand::Enable(a) => out.key(&*kms.enable_key(&a.key).await?),
        KeyCommand::Disable(a) => out.key(&*kms.disable_key(&a.key).await?),
        KeyCommand::ScheduleDeletion(a) => {
            out.key(&*kms.schedule_key_deletion(&a.key, Some(a.days)).await?)
        }
        KeyCommand::CancelDeletion(a) => out.key(&*kms.cancel_key_deletion(&a.key).await?),
        KeyCommand::ImportParams(args) => import_params(&kms, out, args).await,
        KeyCommand::Import(args) => import(&kms, out, args).await,
        KeyCommand::PublicKey(args) => public_key(&kms, out, args).await,
    }
}

async fn create(kms: &KmsManager, out: &Output, args: KeyCreateArgs) -> Result<(), CliError> {
    let mut req = CreateKeyRequest::new(args.spec);
    req.usage = args.usage;
    req.description = args.description;
    req.tags = args.tags.into_iter().collect();
    req.alias = args.alias;
    req.origin = match args.origin {
        OriginArg::Generated => KeyOrigin::Generated,
        OriginArg::Imported => KeyOrigin::Imported,
    };
    req.rotation_period_days = args.rotation_period_days;
    let meta = kms.create_key(req).await?;
    out.key(&meta)?;
    if !out.json && meta.origin == KeyOrigin::Imported {
        output::note(&format!(
            "the key waits for its material: run `kms key import-params {}`",
            meta.key_id
        ));
    }
    Ok(())
}

async fn list(kms: &KmsManager, out: &Output, args: KeyListArgs) -> Result<(), CliError> {
    let req = ListKeysRequest {
        limit: args.limit,
        marker: args.marker,
        alias: args.alias,
        tag: args.tag,
        state: args.state,
        spec: args.spec,
    };
    let page = kms.list_keys(&req).await?;
    if out.json {
        return out.print_json(&page);
    }
    let rows: Vec<Vec<String>> = page.keys.iter().map(list_row).collect();
    if rows.is_empty() {
        output::note("no keys");
    } else {
        out.records(
            &[
                "KEY ID", "ALIASES", "SPEC", "USAGE", "STATE", "VERSION", "CREATED",
            ],
            &rows,
        )?;
    }
    if let Some(marker) = page.next_marker {
        if out.tty {
            out.line(&format!("more keys: kms key list --marker {marker}"))?;
        } else {
            out.line(&format!("\nnext_marker: {marker}"))?;
        }
    }
    Ok(())
}

fn list_row(k: &KeyMetadata) -> Vec<String> {
    vec![
        k.key_id.to_string(),
        output::aliases(k),
        k.spec.to_string(),
        k.usage.to_string(),
        k.state.to_string(),
        k.current_version.to_string(),
        output::time(k.created_at),
    ]
}

async fn update(kms: &KmsManager, out: &Output, args: KeyUpdateArgs) -> Result<(), CliError> {
    let rotation_period_days = if args.no_rotation {
        Some(None)
    } else {
        args.rotation_period_days.map(Some)
    };
    let update = KeyUpdate {
        description: args.description,
        set_tags: args.tags.into_iter().collect(),
        remove_tags: args.remove_tags,
        rotation_period_days,
        min_decryption_version: args.min_decryption_version,
    };
    out.key(&*kms.update_key(&args.key, update).await?)
}

#[derive(Serialize)]
struct ImportParamsJson<'a> {
    key_id: String,
    wrapping_key_path: String,
    import_token_path: String,
    wrapping_algorithm: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    expires_at: time::OffsetDateTime,
}

/// The commands that wrap `material.bin` for import with OpenSSL 3.
pub fn openssl_commands(wrapping_key: &Path) -> Vec<String> {
    let pem = wrapping_key.display();
    vec![
        "openssl rand 32 > eph.key".into(),
        format!(
            "openssl pkeyutl -encrypt -pubin -inkey {pem} -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 -in eph.key -out eph.wrapped"
        ),
        "openssl enc -id-aes256-wrap-pad -K $(xxd -p -c 64 eph.key) -iv A65959A6 -in material.bin -out material.wrapped".into(),
        "cat eph.wrapped material.wrapped > wrapped.bin".into(),
    ]
}

async fn import_params(
    kms: &KmsManager,
    out: &Output,
    args: ImportParamsArgs,
) -> Result<(), CliError> {
    let params = kms.import_parameters(&args.key).await?;
    if !args.out_dir.exists() {
        std::fs::create_dir_all(&args.out_dir).map_err(|source| CliError::File {
            what: "cannot create",
            path: args.out_dir.clone(),
            source,
        })?;
    }
    // In the current directory, print bare file names so the commands read exactly as documented.
    let in_dir = |name: &str| {
        if args.out_dir == Path::new(".") {
            PathBuf::from(name)
        } else {
            args.out_dir.join(name)
        }
    };
    let key_path = in_dir(WRAPPING_KEY_FILE);
    let token_path = in_dir(IMPORT_TOKEN_FILE);
    write_file(
        &key_path,
        spki_der_to_pem(&params.wrapping_public_key).as_bytes(),
        false,
    )?;
    // The token is not secret, but it is single use: keep it to the owner anyway.
    write_file(&token_path, params.import_token.as_bytes(), true)?;
    if out.json {
        return out.print_json(&ImportParamsJson {
            key_id: params.key_id.to_string(),
            wrapping_key_path: key_path.display().to_string(),
            import_token_path: token_path.display().to_string(),
            wrapping_algorithm: &params.wrapping_algorithm,
            expires_at: params.expires_at,
        });
    }
    let mut text = format!(
        "wrapping key:       {}\nimport token:       {}\nexpires at:         {}\nwrapping algorithm: {} (RSA-4096 OAEP SHA-256 wraps an ephemeral AES-256 key; AES-KWP (RFC 5649) wraps the material)\n\n\
         Wrap the key material (material.bin: raw bytes for AES and HMAC keys, PKCS#8 DER for key pairs):\n\n",
        key_path.display(),
        token_path.display(),
        output::time(params.expires_at),
        params.wrapping_algorithm,
    );
    for cmd in openssl_commands(&key_path) {
        text.push_str("  ");
        text.push_str(&cmd);
        text.push('\n');
    }
    text.push_str(&format!(
        "\nthen import it (the token works once):\n\n  kms key import {} --import-token {} --wrapped wrapped.bin\n\nand delete eph.key.",
        params.key_id,
        token_path.display()
    ));
    out.line(&text)
}

async fn import(kms: &KmsManager, out: &Output, args: ImportArgs) -> Result<(), CliError> {
    let token_bytes = read_file(&args.import_token)?;
    let token = String::from_utf8(token_bytes).map_err(|_| {
        CliError::usage(
            format!(
                "the import token file {} is not text",
                args.import_token.display()
            ),
            "pass the `import-token` file written by `kms key import-params`",
        )
    })?;
    let wrapped = read_file(&args.wrapped)?;
    let meta = kms
        .import_key_material(&args.key, token.trim(), &wrapped)
        .await?;
    out.key(&meta)
}

#[derive(Serialize)]
struct PublicKeyJson<'a> {
    #[serde(flatten)]
    info: &'a kms_core::types::PublicKeyInfo,
    pem: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    jwk: Option<serde_json::Value>,
}

async fn public_key(kms: &KmsManager, out: &Output, args: PublicKeyArgs) -> Result<(), CliError> {
    let info = kms.public_key(&args.key, args.version).await?;
    let pem = spki_der_to_pem(&info.der);
    let jwk = match args.format {
        PublicKeyFormat::Jwk => Some(spki_der_to_jwk(
            info.spec,
            &info.der,
            &format!("{}/{}", info.key_id, info.version),
        )?),
        PublicKeyFormat::Pem => None,
    };
    if out.json {
        let body = PublicKeyJson {
            info: &info,
            pem,
            jwk,
        };
        let text = serde_json::to_string_pretty(&body).map_err(|e| CliError::Io {
            what: "cannot encode JSON",
            source: std::io::Error::other(e),
        })? + "\n";
        return write_output(args.output.as_deref(), text.as_bytes(), false);
    }
    let text = match jwk {
        Some(jwk) => {
            serde_json::to_string_pretty(&jwk).map_err(|e| CliError::Io {
                what: "cannot encode JSON",
                source: std::io::Error::other(e),
            })? + "\n"
        }
        None => pem,
    };
    write_output(args.output.as_deref(), text.as_bytes(), false)
}
