//! `kms alias …`: names for keys.

use kms_core::types::AliasEntry;
use kms_core::{AliasName, KeyRef};

use super::Ctx;
use crate::cli::AliasCommand;
use crate::error::CliError;
use crate::output;

/// Runs `kms alias …`.
pub async fn run(ctx: &Ctx, cmd: AliasCommand) -> Result<(), CliError> {
    let kms = ctx.manager().await?;
    let out = &ctx.out;
    match cmd {
        AliasCommand::Create(a) => {
            kms.create_alias(&a.alias, &a.key).await?;
            let meta = kms.describe_key(&KeyRef::Alias(a.alias.clone())).await?;
            print_entry(
                ctx,
                "created",
                &AliasEntry {
                    alias: a.alias,
                    key_id: meta.key_id,
                },
            )
        }
        AliasCommand::Update(a) => {
            kms.update_alias(&a.alias, &a.key).await?;
            let meta = kms.describe_key(&KeyRef::Alias(a.alias.clone())).await?;
            print_entry(
                ctx,
                "updated",
                &AliasEntry {
                    alias: a.alias,
                    key_id: meta.key_id,
                },
            )
        }
        AliasCommand::Delete(a) => {
            kms.delete_alias(&a.alias)
                .await
                .map_err(|e| alias_hint(e.into(), &a.alias))?;
            if out.json {
                out.print_json(&serde_json::json!({ "alias": a.alias, "deleted": true }))
            } else {
                out.line(&format!("deleted {}", a.alias))
            }
        }
        AliasCommand::List(a) => {
            let entries = kms.list_aliases(a.key.as_ref()).await?;
            if out.json {
                return out.print_json(&entries);
            }
            if entries.is_empty() {
                output::note("no aliases");
                return Ok(());
            }
            if out.tty {
                let rows: Vec<Vec<String>> = entries
                    .iter()
                    .map(|e| vec![e.alias.to_string(), e.key_id.to_string()])
                    .collect();
                out.records(&["ALIAS", "KEY ID"], &rows)
            } else {
                let rows: Vec<(&str, String)> = entries
                    .iter()
                    .map(|e| (e.alias.as_str(), e.key_id.to_string()))
                    .collect();
                out.record(&rows)
            }
        }
    }
}

fn print_entry(ctx: &Ctx, what: &str, entry: &AliasEntry) -> Result<(), CliError> {
    if ctx.out.json {
        ctx.out.print_json(entry)
    } else {
        ctx.out
            .line(&format!("{what} {} -> {}", entry.alias, entry.key_id))
    }
}

fn alias_hint(e: CliError, alias: &AliasName) -> CliError {
    if e.core_kind() == Some(kms_core::ErrorKind::NotFound) {
        e.with_hint(format!(
            "there is no {alias}; list aliases with `kms alias list`"
        ))
    } else {
        e
    }
}
