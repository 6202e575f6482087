//! `kms token`, `kms policy`, `kms audit`: on the server with `--addr`, or
//! directly on the local store (tokens, policies and the audit log are not
//! sealed, so no passphrase is needed). On the store, token creation and
//! revocation and policy writes and deletions are recorded in its audit log
//! under the server's operation names (see [`crate::local_audit`]).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use kms_client::Client;
use kms_client::proto::admin::{
    AuditQuery, CreateTokenRequest, PolicyRuleWire, PolicyWire, TokenInfo,
};
use kms_store::{AuditFilter, Policy, PolicyRule, Subject};
use serde::Serialize;
use zeroize::Zeroizing;

use super::Ctx;
use super::remote::{cli_error, client};
use crate::error::CliError;
use crate::unseal;

/// `kms token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; its secret is printed once.
    Create(TokenCreateArgs),
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by its id (`tok_…`).
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// `kms token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// Who the token is for (shown in audit records).
    #[arg(long)]
    pub principal: String,
    /// A policy name (repeat for several; `root` allows everything).
    #[arg(long = "policy", value_name = "NAME")]
    pub policies: Vec<String>,
    /// Lifetime in seconds (default: no expiry).
    #[arg(long, value_name = "SECONDS")]
    pub ttl: Option<u64>,
}

/// `kms policy …`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Create or replace a policy from a JSON file: `{"rules": [{"operations": […], "keys": […], "require_context_keys": […]}]}`.
    Put {
        /// The policy's name.
        name: String,
        /// The JSON file (`-` for stdin).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Show a policy.
    Get {
        /// The policy's name.
        name: String,
    },
    /// List policies.
    List,
    /// Delete a policy.
    Delete {
        /// The policy's name.
        name: String,
    },
}

/// `kms audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the hash chain; names the first bad record (exit 1).
    Verify,
    /// List records, oldest first.
    List(AuditListArgs),
}

/// `kms audit list`.
#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only records after this sequence number.
    #[arg(long, value_name = "SEQ")]
    pub after: Option<i64>,
    /// At most this many (default 100).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// Only this principal.
    #[arg(long)]
    pub principal: Option<String>,
    /// Only this operation (`encrypt`, `token_create`, …).
    #[arg(long)]
    pub operation: Option<String>,
    /// Only this entity (a key id, a token id, a policy name).
    #[arg(long)]
    pub entity: Option<String>,
    /// Only this outcome (`ok`, `denied`, `error:<code>`).
    #[arg(long)]
    pub outcome: Option<String>,
    /// Only records at or after this time (RFC 3339, e.g. `2026-01-01T00:00:00Z`).
    #[arg(long, value_name = "TIME", value_parser = parse_rfc3339)]
    pub since: Option<time::OffsetDateTime>,
    /// Only records before this time (RFC 3339).
    #[arg(long, value_name = "TIME", value_parser = parse_rfc3339)]
    pub until: Option<time::OffsetDateTime>,
}

/// Parses `--since`/`--until`.
fn parse_rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{e}; give an RFC 3339 time like 2026-01-01T00:00:00Z"))
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn token_info(t: &kms_store::TokenRecord) -> TokenInfo {
    TokenInfo {
        id: t.id.clone(),
        principal: t.principal.clone(),
        policies: t.policies.clone(),
        created_at: rfc3339(t.created_at),
        expires_at: t.expires_at.map(rfc3339),
        revoked_at: t.revoked_at.map(rfc3339),
    }
}

async fn remote(ctx: &Ctx) -> Result<Option<Client>, CliError> {
    client(&ctx.global)
}

/// Runs `kms token …`.
pub async fn token(ctx: &Ctx, cmd: TokenCommand) -> Result<(), CliError> {
    let remote = remote(ctx).await?;
    match cmd {
        TokenCommand::Create(a) => {
            let (secret, info): (Zeroizing<String>, TokenInfo) = match &remote {
                Some(c) => {
                    let t = c
                        .create_token(&CreateTokenRequest {
                            principal: a.principal,
                            policies: a.policies,
                            ttl_seconds: a.ttl,
                        })
                        .await
                        .map_err(cli_error)?;
                    (Zeroizing::new(t.token.expose_secret().to_string()), t.info)
                }
                None => {
                    let store = unseal::open_sealed(&ctx.location).await?;
                    let ttl = a
                        .ttl
                        .map(|s| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX)));
                    let created = store.create_token(&a.principal, &a.policies, ttl).await;
                    // The record names the token's id (never its secret), or the principal asked for.
                    let entity = match &created {
                        Ok((_, rec)) => rec.id.clone(),
                        Err(_) => a.principal.clone(),
                    };
                    let subject = Subject::admin("token_create", "token", entity);
                    let (secret, rec) = ctx.audit.scope(store).record(subject, created).await?;
                    (secret, token_info(&rec))
                }
            };
            #[derive(Serialize)]
            struct Created<'a> {
                token: &'a str,
                #[serde(flatten)]
                info: &'a TokenInfo,
            }
            if ctx.out.json {
                return ctx.out.print_secret_json(&Created {
                    token: &secret,
                    info: &info,
                });
            }
            let mut rows = vec![("token", secret.to_string()), ("id", info.id.clone())];
            rows.push(("principal", info.principal.clone()));
            rows.push(("policies", info.policies.join(", ")));
            rows.push((
                "expires",
                info.expires_at.clone().unwrap_or_else(|| "never".into()),
            ));
            let res = ctx.out.record(&rows);
            // The record rows held the secret; clear it.
            if let Some((_, t)) = rows.first_mut() {
                zeroize::Zeroize::zeroize(t);
            }
            res
        }
        TokenCommand::List => {
            let tokens = match &remote {
                Some(c) => c.list_tokens().await.map_err(cli_error)?.tokens,
                None => {
                    let store = unseal::open_sealed(&ctx.location).await?;
                    store.list_tokens().await?.iter().map(token_info).collect()
                }
            };
            if ctx.out.json {
                return ctx.out.print_json(&tokens);
            }
            let rows: Vec<Vec<String>> = tokens
                .iter()
                .map(|t| {
                    vec![
                        t.id.clone(),
                        t.principal.clone(),
                        t.policies.join(","),
                        t.created_at.clone(),
                        t.expires_at.clone().unwrap_or_else(|| "-".into()),
                        t.revoked_at.clone().unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            ctx.out.records(
                &[
                    "ID",
                    "Principal",
                    "Policies",
                    "Created",
                    "Expires",
                    "Revoked",
                ],
                &rows,
            )
        }
        TokenCommand::Revoke { id } => {
            let info = match &remote {
                Some(c) => c.revoke_token(&id).await.map_err(cli_error)?,
                None => {
                    let store = unseal::open_sealed(&ctx.location).await?;
                    let revoked = store.revoke_token(&id).await;
                    let subject = Subject::admin("token_revoke", "token", id.clone());
                    token_info(&ctx.audit.scope(store).record(subject, revoked).await?)
                }
            };
            if ctx.out.json {
                return ctx.out.print_json(&info);
            }
            ctx.out.line(&format!("revoked {}", info.id))
        }
    }
}

fn to_store(p: PolicyWire) -> Policy {
    Policy {
        name: p.name,
        rules: p
            .rules
            .into_iter()
            .map(|r| PolicyRule {
                operations: r.operations,
                keys: r.keys,
                require_context_keys: r.require_context_keys,
            })
            .collect(),
    }
}

fn to_wire(p: Policy) -> PolicyWire {
    PolicyWire {
        name: p.name,
        rules: p
            .rules
            .into_iter()
            .map(|r| PolicyRuleWire {
                operations: r.operations,
                keys: r.keys,
                require_context_keys: r.require_context_keys,
            })
            .collect(),
    }
}

fn read_rules(name: &str, file: &PathBuf) -> Result<PolicyWire, CliError> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        name: Option<String>,
        rules: Vec<PolicyRuleWire>,
    }
    let text = crate::input::read_input(
        Some(file)
            .filter(|p| p.as_os_str() != "-")
            .map(|p| p.as_path()),
    )?;
    let doc: Doc = serde_json::from_slice(&text).map_err(|e| {
        CliError::usage(
            format!("{} is not a policy document: {e}", file.display()),
            "write {\"rules\": [{\"operations\": [\"encrypt\"], \"keys\": [\"alias/app-*\"]}]}",
        )
    })?;
    if doc.name.as_deref().is_some_and(|n| n != name) {
        return Err(CliError::usage(
            "the file's name differs from the NAME argument",
            "drop `name` from the file or make them agree",
        ));
    }
    Ok(PolicyWire {
        name: name.to_string(),
        rules: doc.rules,
    })
}

fn print_policy(ctx: &Ctx, p: &PolicyWire) -> Result<(), CliError> {
    if ctx.out.json {
        return ctx.out.print_json(p);
    }
    let mut rows = vec![("name", p.name.clone())];
    for (i, r) in p.rules.iter().enumerate() {
        let mut text = format!("{} on {}", r.operations.join(","), r.keys.join(","));
        if !r.require_context_keys.is_empty() {
            text.push_str(&format!(
                " (context keys: {})",
                r.require_context_keys.join(",")
            ));
        }
        rows.push((if i == 0 { "rules" } else { "" }, text));
    }
    ctx.out.record(&rows)
}

/// Runs `kms policy …`.
pub async fn policy(ctx: &Ctx, cmd: PolicyCommand) -> Result<(), CliError> {
    let remote = remote(ctx).await?;
    let store = match &remote {
        Some(_) => None,
        None => Some(unseal::open_sealed(&ctx.location).await?),
    };
    match (cmd, &remote, &store) {
        (PolicyCommand::Put { name, file }, r, s) => {
            let p = read_rules(&name, &file)?;
            match (r, s) {
                (Some(c), _) => {
                    c.put_policy(&p).await.map_err(cli_error)?;
                }
                (None, Some(s)) => {
                    let put = s.put_policy(&to_store(p.clone())).await;
                    let subject = Subject::admin("policy_write", "policy", name.clone());
                    ctx.audit.scope(s.clone()).record(subject, put).await?
                }
                (None, None) => {}
            }
            print_policy(ctx, &p)
        }
        (PolicyCommand::Get { name }, r, s) => {
            let p = match (r, s) {
                (Some(c), _) => c.policy(&name).await.map_err(cli_error)?,
                (None, Some(s)) => to_wire(
                    s.policy(&name)
                        .await?
                        .ok_or_else(|| kms_core::Error::NotFound(format!("policy {name}")))?,
                ),
                (None, None) => return Ok(()),
            };
            print_policy(ctx, &p)
        }
        (PolicyCommand::List, r, s) => {
            let list = match (r, s) {
                (Some(c), _) => c.list_policies().await.map_err(cli_error)?.policies,
                (None, Some(s)) => s.list_policies().await?.into_iter().map(to_wire).collect(),
                (None, None) => Vec::new(),
            };
            if ctx.out.json {
                return ctx.out.print_json(&list);
            }
            let rows: Vec<Vec<String>> = list
                .iter()
                .map(|p| vec![p.name.clone(), p.rules.len().to_string()])
                .collect();
            ctx.out.records(&["Name", "Rules"], &rows)
        }
        (PolicyCommand::Delete { name }, r, s) => {
            match (r, s) {
                (Some(c), _) => c.delete_policy(&name).await.map_err(cli_error)?,
                (None, Some(s)) => {
                    let deleted = s.delete_policy(&name).await;
                    let subject = Subject::admin("policy_delete", "policy", name.clone());
                    ctx.audit.scope(s.clone()).record(subject, deleted).await?
                }
                (None, None) => {}
            }
            ctx.out.line(&format!("deleted policy {name}"))
        }
    }
}

/// Runs `kms audit …`.
pub async fn audit(ctx: &Ctx, cmd: AuditCommand) -> Result<(), CliError> {
    let remote = remote(ctx).await?;
    match cmd {
        AuditCommand::Verify => {
            #[derive(Serialize)]
            struct Verified {
                ok: bool,
                records: u64,
                first_bad_seq: Option<i64>,
                reason: Option<String>,
            }
            let v = match &remote {
                Some(c) => {
                    let v = c.audit_verify().await.map_err(cli_error)?;
                    Verified {
                        ok: v.ok,
                        records: v.records,
                        first_bad_seq: v.first_bad_seq,
                        reason: v.reason,
                    }
                }
                None => {
                    let store = unseal::open_sealed(&ctx.location).await?;
                    let v = store.verify_audit().await?;
                    Verified {
                        ok: v.is_ok(),
                        records: v.records,
                        first_bad_seq: v.first_bad.as_ref().map(|b| b.0),
                        reason: v.first_bad.map(|b| b.1),
                    }
                }
            };
            if ctx.out.json {
                ctx.out.print_json(&v)?;
            } else if v.ok {
                ctx.out
                    .line(&format!("audit log intact: {} records", v.records))?;
            } else {
                ctx.out.line(&format!(
                    "audit log broken at record {}: {}",
                    v.first_bad_seq.unwrap_or_default(),
                    v.reason.as_deref().unwrap_or("")
                ))?;
            }
            if v.ok {
                Ok(())
            } else {
                Err(CliError::Reported("audit log broken"))
            }
        }
        AuditCommand::List(a) => {
            let records = match &remote {
                Some(c) => {
                    let q = AuditQuery {
                        after: a.after,
                        limit: a.limit,
                        principal: a.principal,
                        operation: a.operation,
                        entity_id: a.entity,
                        outcome: a.outcome,
                        since: a.since.map(rfc3339),
                        until: a.until.map(rfc3339),
                    };
                    c.audit(&q).await.map_err(cli_error)?.records
                }
                None => {
                    let store = unseal::open_sealed(&ctx.location).await?;
                    let f = AuditFilter {
                        after_seq: a.after,
                        limit: a.limit,
                        principal: a.principal,
                        operation: a.operation,
                        entity_id: a.entity,
                        outcome: a.outcome,
                        since: a.since,
                        until: a.until,
                    };
                    store
                        .list_audit(&f)
                        .await?
                        .iter()
                        .map(kms_server::audit::record_to_wire)
                        .collect()
                }
            };
            if ctx.out.json {
                return ctx.out.print_json(&records);
            }
            let rows: Vec<Vec<String>> = records
                .iter()
                .map(|r| {
                    vec![
                        r.seq.to_string(),
                        r.time.clone(),
                        r.principal.clone(),
                        r.operation.clone(),
                        r.entity_id.clone(),
                        r.key_version.map_or_else(|| "-".into(), |v| v.to_string()),
                        r.outcome.clone(),
                        r.request_id.clone(),
                    ]
                })
                .collect();
            ctx.out.records(
                &[
                    "Seq",
                    "Time",
                    "Principal",
                    "Operation",
                    "Entity",
                    "Version",
                    "Outcome",
                    "Request",
                ],
                &rows,
            )
        }
    }
}
