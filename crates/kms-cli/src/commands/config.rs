//! `kms config show`: the effective configuration (file < `KMS_*`
//! environment < flags, and the defaults), each setting with its source,
//! secrets redacted.

use clap::Subcommand;
use kms_server::config::effective::Effective;
use kms_server::{ServerArgs, StoreArgs};

use super::Ctx;
use super::remote::settings;
use crate::error::CliError;

/// `kms config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration of `kms server` (given the same
    /// flags) and of the CLI, each setting with its source, secrets redacted.
    Show {
        /// The flags of `kms server`, to show what it would run with.
        #[command(flatten)]
        server: Box<ServerArgs>,
    },
}

/// Runs `kms config …`.
pub async fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<(), CliError> {
    let ConfigCommand::Show { server } = cmd;
    let located = kms_server::config::Config::locate(server.config.as_deref())?;
    let (path, cfg) = match located {
        Some((p, c)) => (Some(p), c),
        None => (None, Default::default()),
    };
    let store = StoreArgs {
        store: ctx.global.store.clone(),
        passphrase_file: ctx.global.passphrase_file.clone(),
        key_file: ctx.global.key_file.clone(),
    };
    let mut effective = Effective::server(&cfg, &server, &store)?;
    settings::show(&mut effective, &ctx.global, path.as_ref().map(|_| &cfg));
    let backend = effective
        .get("kms.backend")
        .and_then(|s| s.value.as_str())
        .unwrap_or("local")
        .to_string();
    let shown_path = match &path {
        Some(p) => p.display().to_string(),
        None => match kms_server::config::Config::default_path() {
            Some(d) => format!("none ({} does not exist)", d.display()),
            None => "none".to_string(),
        },
    };
    if ctx.out.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            path: Option<String>,
            backend: &'a str,
            unset_variables: &'a [String],
            settings: &'a [kms_server::config::effective::Setting],
        }
        return ctx.out.print_json(&Shown {
            path: path.as_ref().map(|p| p.display().to_string()),
            backend: &backend,
            unset_variables: &cfg.unset_variables,
            settings: &effective.settings,
        });
    }
    ctx.out.line(&format!("# config file: {shown_path}"))?;
    ctx.out.line(&format!("# backend: {backend}"))?;
    for v in &cfg.unset_variables {
        ctx.out.line(&format!("# unset: ${{{v}}}"))?;
    }
    ctx.out.line("")?;
    ctx.out.line(effective.render().trim_end())
}
