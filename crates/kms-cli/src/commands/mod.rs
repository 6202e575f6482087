//! One module per command area; each is parse result → `KmsManager` call → print.
//!
//! | module | commands |
//! |---|---|
//! | [`init`] | `kms init` |
//! | [`status`] | `kms status` |
//! | [`key`] | `kms key create/list/describe/update/rotate/enable/disable/schedule-deletion/cancel-deletion/import-params/import/public-key` |
//! | [`alias`] | `kms alias create/update/delete/list` |
//! | [`crypto`] | `kms encrypt`, `decrypt`, `reencrypt`, `random` |
//! | [`data_key`] | `kms data-key generate/generate-pair`, `kms generate-key` |
//! | [`sign`] | `kms sign`, `kms verify` |
//! | [`mac`] | `kms mac generate/verify` |
//! | [`file`] | `kms encrypt-file`, `decrypt-file`, `rewrap-file`, `inspect-file` |
//! | [`server`] | `kms server` |
//! | [`admin`] | `kms token`, `kms policy`, `kms audit` |
//! | [`config`] | `kms config show` |
//! | [`remote`] | `--addr`/`--token`: every command above through a server |

pub mod admin;
pub mod alias;
pub mod config;
pub mod crypto;
pub mod data_key;
pub mod file;
pub mod init;
pub mod key;
pub mod mac;
pub mod remote;
pub mod server;
pub mod sign;
pub mod status;

use kms_core::{KeyRef, KmsManager};

use crate::cli::{Cli, Command, DEFAULT_KEY, GlobalArgs};
use crate::error::CliError;
use crate::local_audit::LocalAudit;
use crate::output::Output;
use crate::unseal::{self, StoreLocation, UnsealSource};

/// What every command gets: the global flags, the output style and the store location.
#[derive(Debug)]
pub struct Ctx {
    /// Global flags.
    pub global: GlobalArgs,
    /// How to print.
    pub out: Output,
    /// The key store.
    pub location: StoreLocation,
    /// The backend name (`local`).
    pub backend: &'static str,
    /// Who the audit records of work on the local store name.
    pub audit: LocalAudit,
}

impl Ctx {
    /// Opens and unseals the store, or connects to the server of `--addr`.
    /// On the store, every key operation is recorded in its audit log.
    pub async fn manager(&self) -> Result<KmsManager, CliError> {
        if let Some(client) = remote::client(&self.global)? {
            return Ok(remote::manager(client));
        }
        let source = UnsealSource::require(&self.global)?;
        unseal::open(&self.location, &source, &self.audit).await
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let backend = unseal::check_backend(cli.global.backend.as_deref())?;
    let location = StoreLocation::resolve(cli.global.store.as_deref())?;
    let ctx = Ctx {
        out: Output::new(cli.global.json),
        global: cli.global,
        location,
        backend,
        audit: LocalAudit::for_this_invocation()?,
    };
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, args).await,
        Command::Status => status::run(&ctx).await,
        Command::Key(cmd) => key::run(&ctx, cmd).await,
        Command::Alias(cmd) => alias::run(&ctx, cmd).await,
        Command::Encrypt(args) => crypto::encrypt(&ctx, args).await,
        Command::Decrypt(args) => crypto::decrypt(&ctx, args).await,
        Command::Reencrypt(args) => crypto::reencrypt(&ctx, args).await,
        Command::Random(args) => crypto::random(&ctx, args).await,
        Command::DataKey(cmd) => data_key::run(&ctx, cmd).await,
        Command::GenerateKey(args) => data_key::generate_key(&ctx, args).await,
        Command::Sign(args) => sign::sign(&ctx, args).await,
        Command::Verify(args) => sign::verify(&ctx, args).await,
        Command::Mac(cmd) => mac::run(&ctx, cmd).await,
        Command::EncryptFile(args) => file::encrypt(&ctx, args).await,
        Command::DecryptFile(args) => file::decrypt(&ctx, args).await,
        Command::RewrapFile(args) => file::rewrap(&ctx, args).await,
        Command::InspectFile(args) => file::inspect(&ctx, args).await,
        Command::Server(args) => server::run(&ctx, *args).await,
        Command::Token(cmd) => admin::token(&ctx, cmd).await,
        Command::Policy(cmd) => admin::policy(&ctx, cmd).await,
        Command::Audit(cmd) => admin::audit(&ctx, cmd).await,
        Command::Config(cmd) => config::run(&ctx, cmd).await,
    };
    result.map_err(remote::hint)
}

/// The given key, or `alias/default`; and whether the default was taken.
pub fn key_or_default(key: Option<KeyRef>) -> Result<(KeyRef, bool), CliError> {
    match key {
        Some(k) => Ok((k, false)),
        None => Ok((KeyRef::parse(DEFAULT_KEY)?, true)),
    }
}

/// Adds the hint to create the default key when it is missing.
pub fn default_key_hint(e: CliError, used_default: bool) -> CliError {
    if used_default && e.core_kind() == Some(kms_core::ErrorKind::NotFound) {
        e.with_hint(format!(
            "there is no default key yet: create it with `kms key create --spec AES_256 --alias default`, or pass --key (`{DEFAULT_KEY}` is used without one)"
        ))
    } else {
        e
    }
}
