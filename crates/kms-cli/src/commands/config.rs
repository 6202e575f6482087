//! `kms config show`: the config file as read, with secrets redacted.

use std::path::PathBuf;

use clap::Subcommand;
use kms_server::config::Config;

use super::Ctx;
use crate::error::CliError;

/// `kms config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the config (`${VAR}`s expanded, secrets redacted) and the backend it selects.
    Show {
        /// The file (default: `KMS_CONFIG`, then `~/.config/kms/kms.toml`).
        #[arg(long, env = "KMS_CONFIG", value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Runs `kms config …`.
pub async fn run(ctx: &Ctx, cmd: ConfigCommand) -> Result<(), CliError> {
    let ConfigCommand::Show { config } = cmd;
    let path = config
        .or_else(Config::default_path)
        .ok_or_else(|| CliError::usage("no config file", "pass --config FILE or set KMS_CONFIG"))?;
    let cfg = Config::load(&path)?;
    let backend = cfg.kms.backend_name()?.unwrap_or_else(|| "local".into());
    if ctx.out.json {
        #[derive(serde::Serialize)]
        struct Shown<'a> {
            path: String,
            backend: &'a str,
            unset_variables: &'a [String],
            config: String,
        }
        return ctx.out.print_json(&Shown {
            path: path.display().to_string(),
            backend: &backend,
            unset_variables: &cfg.unset_variables,
            config: cfg.redacted(),
        });
    }
    ctx.out.line(&format!("# {}", path.display()))?;
    ctx.out.line(&format!("# backend: {backend}"))?;
    for v in &cfg.unset_variables {
        ctx.out.line(&format!("# unset: ${{{v}}}"))?;
    }
    ctx.out.line(&cfg.redacted())
}
