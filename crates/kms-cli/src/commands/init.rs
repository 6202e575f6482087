//! `kms init`: create and seal a new key store.

use kms_store::KdfParams;

use super::Ctx;
use crate::cli::InitArgs;
use crate::error::CliError;
use crate::unseal::{self, UnsealSource};

/// Runs `kms init`.
pub async fn run(ctx: &Ctx, args: InitArgs) -> Result<(), CliError> {
    let defaults = KdfParams::default();
    let kdf = KdfParams {
        memory_kib: args.argon2_memory_kib.unwrap_or(defaults.memory_kib),
        iterations: args.argon2_iterations.unwrap_or(defaults.iterations),
        parallelism: args.argon2_parallelism.unwrap_or(defaults.parallelism),
    };
    let source = UnsealSource::require(&ctx.global)?;
    unseal::init(&ctx.location, &source, kdf).await?;
    let store = ctx.location.display();
    if ctx.out.json {
        return ctx.out.print_json(&serde_json::json!({
            "backend": ctx.backend,
            "store": store,
            "initialised": true,
        }));
    }
    ctx.out.line(&format!(
        "initialised the key store at {store}\nnext: kms key create --spec AES_256 --alias default"
    ))
}
