//! The command line: every command, flag and environment variable of `kms`,
//! as clap derive types. Parsing only; the work is in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use kms_core::{
    AliasName, DataKeyPairSpec, DataKeySpec, EncryptionContext, KeyRef, KeySpec, KeyState,
    KeyUsage, MacAlgorithm, SigningAlgorithm,
};

/// The key used by `kms generate-key` (and `encrypt`) when no `--key` is given.
pub const DEFAULT_KEY: &str = "alias/default";

/// `kms`: one key-management system over many key backends.
#[derive(Debug, Parser)]
#[command(name = "kms", version, about, long_about = None)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The key backend. Only `local` (the embedded key store) is available in this build.
    #[arg(long, global = true, env = "KMS_BACKEND", value_name = "NAME")]
    pub backend: Option<String>,

    /// The key store: a SQLite file path, or a database URL (`postgres://…`,
    /// `postgresql://…`, `sqlite:…`) used as is. Default: the platform data
    /// directory, e.g. `~/.local/share/kms/kms.db`.
    #[arg(long, global = true, env = "KMS_STORE", value_name = "PATH|URL")]
    pub store: Option<String>,

    /// A file holding the store passphrase (a trailing newline is stripped).
    #[arg(
        long,
        global = true,
        env = "KMS_PASSPHRASE_FILE",
        value_name = "FILE",
        conflicts_with = "key_file"
    )]
    pub passphrase_file: Option<PathBuf>,

    /// A root key file to unseal the store with, instead of a passphrase.
    #[arg(long, global = true, env = "KMS_KEY_FILE", value_name = "FILE")]
    pub key_file: Option<PathBuf>,

    /// Print machine-readable JSON (errors too, on stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// Use a KMS server instead of the local store, e.g. `http://127.0.0.1:8082`.
    #[arg(long, global = true, env = "KMS_ADDR", value_name = "URL")]
    pub addr: Option<String>,

    /// The token for --addr (before or after the command), or set KMS_TOKEN.
    #[arg(
        long,
        global = true,
        env = "KMS_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<crate::commands::remote::SecretArg>,

    /// A CA bundle (PEM) to trust for an https --addr.
    #[arg(long, global = true, env = "KMS_CACERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and seal a new key store.
    Init(InitArgs),
    /// Manage keys: create, list, describe, update, rotate, enable, disable, delete, import.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage aliases (`alias/NAME` → key).
    #[command(subcommand)]
    Alias(AliasCommand),
    /// Encrypt up to 64 KiB from --input or stdin; prints a `kms:v1:` ciphertext.
    Encrypt(EncryptArgs),
    /// Decrypt a ciphertext (text or binary) from --input or stdin; writes the plaintext bytes.
    Decrypt(DecryptArgs),
    /// Decrypt and encrypt again under another key or context, inside the KMS.
    Reencrypt(ReencryptArgs),
    /// Data keys for envelope encryption.
    #[command(subcommand, name = "data-key")]
    DataKey(DataKeyCommand),
    /// Sign a message (or its digest) with an asymmetric key.
    Sign(SignArgs),
    /// Verify a signature; exit 0 when valid, 1 when not.
    Verify(VerifyArgs),
    /// Generate and verify MACs with an HMAC key.
    #[command(subcommand)]
    Mac(MacCommand),
    /// N random bytes (1–1024) to --output, or base64 on stdout.
    Random(RandomArgs),
    /// A data key from `alias/default` (or --key): prints plaintext (base64) and ciphertext.
    #[command(name = "generate-key")]
    GenerateKey(GenerateKeyArgs),
    /// Backend, availability, seal state, key count and store location.
    Status,
    /// Encrypt a file of any size for KMS keys, age recipients or a passphrase (envelope format).
    #[command(name = "encrypt-file")]
    EncryptFile(crate::commands::file::EncryptFileArgs),
    /// Decrypt a file made by `encrypt-file` (or by age).
    #[command(name = "decrypt-file")]
    DecryptFile(crate::commands::file::DecryptFileArgs),
    /// Change an encrypted file's recipients without touching its payload.
    #[command(name = "rewrap-file")]
    RewrapFile(crate::commands::file::RewrapFileArgs),
    /// Show an encrypted file's format, recipients and sizes (no secrets needed).
    #[command(name = "inspect-file")]
    InspectFile(crate::commands::file::InspectFileArgs),
    /// Run the KMS HTTP server (`kms server --dev` for a throw-away one).
    Server(Box<crate::commands::server::ServerCmdArgs>),
    /// Manage the server's API tokens (on the local store, or the server with --addr).
    #[command(subcommand)]
    Token(crate::commands::admin::TokenCommand),
    /// Manage access policies (on the local store, or the server with --addr).
    #[command(subcommand)]
    Policy(crate::commands::admin::PolicyCommand),
    /// Verify or list the hash-chained audit log.
    #[command(subcommand)]
    Audit(crate::commands::admin::AuditCommand),
    /// Show the configuration file, secrets redacted.
    #[command(subcommand)]
    Config(crate::commands::config::ConfigCommand),
}

/// `kms init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Argon2id memory cost in KiB (default 65536).
    #[arg(long, value_name = "KIB")]
    pub argon2_memory_kib: Option<u32>,
    /// Argon2id iterations (default 3).
    #[arg(long, value_name = "N")]
    pub argon2_iterations: Option<u32>,
    /// Argon2id parallelism (default 1).
    #[arg(long, value_name = "N")]
    pub argon2_parallelism: Option<u32>,
}

/// Where a key's material comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OriginArg {
    /// Generated by the KMS.
    Generated,
    /// Imported later with `kms key import` (the key starts PendingImport).
    Imported,
}

/// Output format of a public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PublicKeyFormat {
    /// SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`).
    Pem,
    /// JSON Web Key.
    Jwk,
}

/// `kms key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key.
    Create(KeyCreateArgs),
    /// List keys, a page at a time.
    List(KeyListArgs),
    /// Show a key's metadata.
    Describe(KeyArg),
    /// Change description, tags, rotation period or minimum decryption version.
    Update(KeyUpdateArgs),
    /// Add a new version; old ciphertexts still decrypt.
    Rotate(KeyArg),
    /// Enable a disabled key.
    Enable(KeyArg),
    /// Disable a key (it keeps its material).
    Disable(KeyArg),
    /// Schedule a key's destruction after a waiting period (7–30 days).
    #[command(name = "schedule-deletion")]
    ScheduleDeletion(ScheduleDeletionArgs),
    /// Cancel a scheduled deletion; the key becomes Disabled.
    #[command(name = "cancel-deletion")]
    CancelDeletion(KeyArg),
    /// Write the wrapping public key and import token for BYOK.
    #[command(name = "import-params")]
    ImportParams(ImportParamsArgs),
    /// Import wrapped key material into a PendingImport key.
    Import(ImportArgs),
    /// Export the public key of an asymmetric key.
    #[command(name = "public-key")]
    PublicKey(PublicKeyArgs),
}

/// A key given as the first positional argument.
#[derive(Debug, Args)]
pub struct KeyArg {
    /// The key: an id, `alias/NAME` or `local:…`.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
}

/// `kms key create`.
#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// Key spec: AES_256, AES_128, RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ED25519, HMAC_256, HMAC_512.
    #[arg(long)]
    pub spec: KeySpec,
    /// Usage: ENCRYPT_DECRYPT, SIGN_VERIFY or GENERATE_VERIFY_MAC (default: the spec's).
    #[arg(long)]
    pub usage: Option<KeyUsage>,
    /// An alias for the new key (`NAME` or `alias/NAME`).
    #[arg(long, value_parser = parse_alias)]
    pub alias: Option<AliasName>,
    /// Free text.
    #[arg(long, default_value = "")]
    pub description: String,
    /// A tag `key=value` (repeatable).
    #[arg(long = "tag", value_name = "K=V", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// `generated` (default) or `imported` (then import material with `kms key import`).
    #[arg(long, value_enum, default_value_t = OriginArg::Generated)]
    pub origin: OriginArg,
    /// Rotate automatically every N days (symmetric keys).
    #[arg(long, value_name = "N")]
    pub rotation_period_days: Option<u32>,
}

/// `kms key list`.
#[derive(Debug, Args)]
pub struct KeyListArgs {
    /// At most N keys (1–1000, default 100).
    #[arg(long, value_name = "N")]
    pub limit: Option<u32>,
    /// The next marker printed by the previous page.
    #[arg(long, value_name = "M")]
    pub marker: Option<String>,
    /// Only the key with this alias.
    #[arg(long, value_parser = parse_alias)]
    pub alias: Option<AliasName>,
    /// Only keys with this tag (`k` or `k=v`).
    #[arg(long, value_name = "K[=V]", value_parser = parse_tag_filter)]
    pub tag: Option<(String, Option<String>)>,
    /// Only keys in this state (Enabled, Disabled, PendingDeletion, PendingImport).
    #[arg(long)]
    pub state: Option<KeyState>,
    /// Only keys of this spec.
    #[arg(long)]
    pub spec: Option<KeySpec>,
}

/// `kms key update`.
#[derive(Debug, Args)]
pub struct KeyUpdateArgs {
    /// The key.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// New description.
    #[arg(long)]
    pub description: Option<String>,
    /// Set a tag `key=value` (repeatable).
    #[arg(long = "tag", value_name = "K=V", value_parser = parse_tag)]
    pub tags: Vec<(String, String)>,
    /// Remove a tag (repeatable).
    #[arg(long = "remove-tag", value_name = "K")]
    pub remove_tags: Vec<String>,
    /// Rotate automatically every N days.
    #[arg(long, value_name = "N", conflicts_with = "no_rotation")]
    pub rotation_period_days: Option<u32>,
    /// Turn automatic rotation off.
    #[arg(long)]
    pub no_rotation: bool,
    /// Refuse to decrypt or verify with versions below N.
    #[arg(long, value_name = "N")]
    pub min_decryption_version: Option<u32>,
}

/// `kms key schedule-deletion`.
#[derive(Debug, Args)]
pub struct ScheduleDeletionArgs {
    /// The key.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// Waiting period in days (7–30).
    #[arg(long, default_value_t = 30)]
    pub days: u32,
}

/// `kms key import-params`.
#[derive(Debug, Args)]
pub struct ImportParamsArgs {
    /// The key (created with `--origin imported`).
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// Where to write `wrapping-key.pem` and `import-token`.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: PathBuf,
}

/// `kms key import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The key.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// The `import-token` file written by `kms key import-params`.
    #[arg(long, value_name = "FILE")]
    pub import_token: PathBuf,
    /// The wrapped material: RSA-OAEP-wrapped ephemeral key followed by the AES-KWP-wrapped material.
    #[arg(long, value_name = "FILE")]
    pub wrapped: PathBuf,
}

/// `kms key public-key`.
#[derive(Debug, Args)]
pub struct PublicKeyArgs {
    /// The key.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// `pem` (default) or `jwk`.
    #[arg(long, value_enum, default_value_t = PublicKeyFormat::Pem)]
    pub format: PublicKeyFormat,
    /// A key version (default: the newest).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `kms alias …`.
#[derive(Debug, Subcommand)]
pub enum AliasCommand {
    /// Point a new alias at a key.
    Create(AliasKeyArgs),
    /// Point an existing alias at another key.
    Update(AliasKeyArgs),
    /// Delete an alias (the key stays).
    Delete(AliasArg),
    /// List aliases, of one key or all.
    List(AliasListArgs),
}

/// An alias and a key.
#[derive(Debug, Args)]
pub struct AliasKeyArgs {
    /// The alias, `NAME` or `alias/NAME`.
    #[arg(value_name = "NAME", value_parser = parse_alias)]
    pub alias: AliasName,
    /// The key.
    #[arg(value_name = "KEY", value_parser = parse_key_ref)]
    pub key: KeyRef,
}

/// An alias.
#[derive(Debug, Args)]
pub struct AliasArg {
    /// The alias, `NAME` or `alias/NAME`.
    #[arg(value_name = "NAME", value_parser = parse_alias)]
    pub alias: AliasName,
}

/// `kms alias list`.
#[derive(Debug, Args)]
pub struct AliasListArgs {
    /// Only the aliases of this key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: Option<KeyRef>,
}

/// Where data comes from and goes to.
#[derive(Debug, Args)]
pub struct InputOutput {
    /// Read from FILE instead of stdin.
    #[arg(long, short, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `kms encrypt`.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The key: an id, `alias/NAME` or `local:…` (default: alias/default).
    #[arg(long, value_parser = parse_key_ref)]
    pub key: Option<KeyRef>,
    /// Encryption context `k=v,k=v`; decrypt must be given the same.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
    /// Input and output.
    #[command(flatten)]
    pub io: InputOutput,
}

/// `kms decrypt`.
#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The key; optional, the ciphertext names it. When given it must match.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: Option<KeyRef>,
    /// The encryption context given to encrypt.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
    /// Input and output.
    #[command(flatten)]
    pub io: InputOutput,
}

/// `kms reencrypt`.
#[derive(Debug, Args)]
pub struct ReencryptArgs {
    /// The destination key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// The context the ciphertext was made with.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
    /// The context of the new ciphertext (default: the same as --context).
    #[arg(long, value_parser = parse_context)]
    pub to_context: Option<EncryptionContext>,
    /// The source key (default: the key the ciphertext names).
    #[arg(long, value_parser = parse_key_ref)]
    pub source_key: Option<KeyRef>,
    /// Input and output.
    #[command(flatten)]
    pub io: InputOutput,
}

/// `kms data-key …`.
#[derive(Debug, Subcommand)]
pub enum DataKeyCommand {
    /// A symmetric data key: plaintext (base64) and the same encrypted under --key.
    Generate(DataKeyGenerateArgs),
    /// A key pair whose private key is encrypted under --key.
    #[command(name = "generate-pair")]
    GeneratePair(DataKeyPairArgs),
}

/// `kms data-key generate`.
#[derive(Debug, Args)]
pub struct DataKeyGenerateArgs {
    /// The symmetric key that wraps the data key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// AES_256 (default) or AES_128.
    #[arg(long, conflicts_with = "bytes")]
    pub spec: Option<DataKeySpec>,
    /// An explicit length in bytes (1–1024) instead of --spec.
    #[arg(long, value_name = "N")]
    pub bytes: Option<usize>,
    /// Only the encrypted data key.
    #[arg(long)]
    pub no_plaintext: bool,
    /// Encryption context bound to the encrypted data key.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
}

/// `kms data-key generate-pair`.
#[derive(Debug, Args)]
pub struct DataKeyPairArgs {
    /// The symmetric key that wraps the private key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// ECC_NIST_P256, ECC_NIST_P384, ED25519, RSA_2048, RSA_3072 or RSA_4096.
    #[arg(long)]
    pub spec: DataKeyPairSpec,
    /// Only the encrypted private key and the public key.
    #[arg(long)]
    pub no_plaintext: bool,
    /// Encryption context bound to the encrypted private key.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
}

/// `kms sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The signing key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// Signing algorithm (default: the key's first, e.g. RSASSA_PSS_SHA_256 for RSA).
    #[arg(long)]
    pub algorithm: Option<SigningAlgorithm>,
    /// The input is a digest of the message, not the message.
    #[arg(long)]
    pub digest: bool,
    /// Input (the message) and output (the signature bytes; base64 on stdout otherwise).
    #[command(flatten)]
    pub io: InputOutput,
}

/// `kms verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// The signature: a file of raw bytes or base64 text.
    #[arg(long, value_name = "FILE")]
    pub signature: PathBuf,
    /// Signing algorithm (default: the key's first).
    #[arg(long)]
    pub algorithm: Option<SigningAlgorithm>,
    /// The input is a digest of the message, not the message.
    #[arg(long)]
    pub digest: bool,
    /// Only this key version (default: any usable version).
    #[arg(long, value_name = "N")]
    pub key_version: Option<u32>,
    /// Read the message from FILE instead of stdin.
    #[arg(long, short, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// `kms mac …`.
#[derive(Debug, Subcommand)]
pub enum MacCommand {
    /// Compute a MAC of the input (to --output, or base64 on stdout).
    Generate(MacGenerateArgs),
    /// Verify a MAC; exit 0 when valid, 1 when not.
    Verify(MacVerifyArgs),
}

/// `kms mac generate`.
#[derive(Debug, Args)]
pub struct MacGenerateArgs {
    /// The HMAC key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// HMAC_SHA_256 or HMAC_SHA_512 (default: the key's).
    #[arg(long)]
    pub algorithm: Option<MacAlgorithm>,
    /// Input and output.
    #[command(flatten)]
    pub io: InputOutput,
}

/// `kms mac verify`.
#[derive(Debug, Args)]
pub struct MacVerifyArgs {
    /// The HMAC key.
    #[arg(long, value_parser = parse_key_ref)]
    pub key: KeyRef,
    /// The MAC: a file of raw bytes or base64 text.
    #[arg(long, value_name = "FILE")]
    pub mac: PathBuf,
    /// HMAC_SHA_256 or HMAC_SHA_512 (default: the key's).
    #[arg(long)]
    pub algorithm: Option<MacAlgorithm>,
    /// Only this key version (default: any usable version).
    #[arg(long, value_name = "N")]
    pub key_version: Option<u32>,
    /// Read the message from FILE instead of stdin.
    #[arg(long, short, value_name = "FILE")]
    pub input: Option<PathBuf>,
}

/// `kms random`.
#[derive(Debug, Args)]
pub struct RandomArgs {
    /// How many bytes (1–1024).
    #[arg(value_name = "N")]
    pub bytes: usize,
    /// Write the raw bytes to FILE instead of base64 on stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `kms generate-key`.
#[derive(Debug, Args)]
pub struct GenerateKeyArgs {
    /// AES_256 (default) or AES_128 (also spelled AES256, aes128).
    #[arg(long, visible_alias = "key-spec")]
    pub spec: Option<DataKeySpec>,
    /// The wrapping key (default: alias/default).
    #[arg(long, value_parser = parse_key_ref)]
    pub key: Option<KeyRef>,
    /// Encryption context bound to the encrypted data key.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
}

fn parse_key_ref(s: &str) -> Result<KeyRef, kms_core::Error> {
    KeyRef::parse(s)
}

fn parse_alias(s: &str) -> Result<AliasName, kms_core::Error> {
    AliasName::parse(s)
}

fn parse_context(s: &str) -> Result<EncryptionContext, kms_core::Error> {
    EncryptionContext::parse(s)
}

fn parse_tag(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(format!("{s:?} is not key=value")),
    }
}

fn parse_tag_filter(s: &str) -> Result<(String, Option<String>), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), Some(v.to_string()))),
        None if !s.trim().is_empty() => Ok((s.trim().to_string(), None)),
        _ => Err(format!("{s:?} is not key or key=value")),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn tags_and_tag_filters_parse() {
        assert_eq!(parse_tag("a=b=c").ok(), Some(("a".into(), "b=c".into())));
        assert!(parse_tag("nokey").is_err());
        assert_eq!(parse_tag_filter("env").ok(), Some(("env".into(), None)));
        assert_eq!(
            parse_tag_filter("env=prod").ok(),
            Some(("env".into(), Some("prod".into())))
        );
    }
}
