//! `kms encrypt-file`, `decrypt-file`, `rewrap-file`, `inspect-file`:
//! envelope files through `kms_envelope::EncryptionService`.
//!
//! Outputs are written to an unnamed temporary file in the destination's
//! directory, fsynced and named only when complete (`AtomicOutput`), so a
//! failure or a kill never leaves a partial or unauthenticated plaintext.
//! `-` means stdin or stdout. A progress bar is drawn only when stderr is a
//! terminal.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use kms_core::{EncryptionContext, KeyRef, KmsManager, Passphrase};
use kms_envelope::io::{SyncReader, SyncWriter};
use kms_envelope::output::AtomicOutput;
use kms_envelope::{
    AgeIdentity, DecryptOptions, EncryptOptions, EncryptionService, Error as EnvError, FileFormat,
    Identity, Recipient, Recipients, RewrapChange,
};
use zeroize::Zeroizing;

use super::{Ctx, default_key_hint};
use crate::cli::DEFAULT_KEY;
use crate::error::CliError;
use crate::input::read_passphrase_file;
use crate::unseal::UnsealSource;

/// The format `encrypt-file` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// The KMS envelope format (docs/envelope-format.md).
    Kms,
    /// A real age v1 file (age recipients or one passphrase).
    Age,
}

/// `kms encrypt-file`.
#[derive(Debug, Args)]
pub struct EncryptFileArgs {
    /// The file to encrypt; `-` for stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A KMS key recipient (id, alias/NAME or backend URI); repeatable.
    /// Without any recipient, `alias/default` is used.
    #[arg(long = "key", value_parser = parse_key_ref)]
    pub keys: Vec<KeyRef>,
    /// An age recipient (`age1…`) or a key reference; repeatable.
    #[arg(long = "recipient", short = 'r', value_name = "R")]
    pub recipients: Vec<String>,
    /// Also encrypt to a passphrase (from --file-passphrase-file, or asked twice on the terminal).
    #[arg(long)]
    pub passphrase: bool,
    #[command(flatten)]
    pub pass: FilePassphrase,
    /// Encryption context `k=v,k=v`; decrypt-file must be given the same.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
    /// Where to write (default FILE.enc; `-` for stdout).
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// ASCII armor (`-----BEGIN KMS ENCRYPTED FILE-----`, or age's armor with --format age).
    #[arg(long, short = 'a')]
    pub armor: bool,
    /// k-of-n: each recipient gets one Shamir share and any K of them open the file.
    #[arg(long, value_name = "K")]
    pub threshold: Option<u8>,
    /// The file format.
    #[arg(long, value_enum, default_value = "kms")]
    pub format: FormatArg,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// The file passphrase source.
#[derive(Debug, Args)]
pub struct FilePassphrase {
    /// A file holding the passphrase of the encrypted file (not of the key
    /// store); a trailing newline is stripped.
    #[arg(long, value_name = "FILE", env = "KMS_FILE_PASSPHRASE_FILE")]
    pub file_passphrase_file: Option<PathBuf>,
}

/// `kms decrypt-file`.
#[derive(Debug, Args)]
pub struct DecryptFileArgs {
    /// The encrypted file (KMS envelope or age, armored or not); `-` for stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub open: OpenWith,
    /// Where to write (default: FILE without `.enc`; `-` for stdout). A file
    /// appears only once the whole input authenticated; on stdout, plaintext
    /// is streamed chunk by chunk as each authenticates, so discard it unless
    /// the exit status is 0.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// How to open an encrypted file: identities, passphrase and context
/// (shared by `decrypt-file` and `rewrap-file`).
#[derive(Debug, Args)]
pub struct OpenWith {
    /// An age identity file (`AGE-SECRET-KEY-1…`); repeatable.
    #[arg(long = "identity", short = 'i', value_name = "FILE")]
    pub identities: Vec<PathBuf>,
    /// Ask for the file passphrase on the terminal.
    #[arg(long)]
    pub passphrase: bool,
    #[command(flatten)]
    pub pass: FilePassphrase,
    /// The encryption context given to encrypt-file.
    #[arg(long, value_parser = parse_context, default_value = "", hide_default_value = true)]
    pub context: EncryptionContext,
}

impl OpenWith {
    /// The identities to try: the age identity files and the passphrase, if any.
    fn identities(&self) -> Result<Vec<Identity>, CliError> {
        let pass = file_passphrase(&self.pass, self.passphrase, false)?;
        identities(&self.identities, pass)
    }
}

/// `kms rewrap-file`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("change").required(true).args(["add_recipient", "remove_recipient", "to_latest_version"])))]
pub struct RewrapFileArgs {
    /// The encrypted file; rewritten in place unless --output is given.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Add a recipient: `age1…` or a key reference.
    #[arg(long, value_name = "R")]
    pub add_recipient: Option<String>,
    /// Remove a recipient: `age1…`, `passphrase`, or a key reference.
    #[arg(long, value_name = "R")]
    pub remove_recipient: Option<String>,
    /// Move every KMS-key stanza to its key's newest version (after a rotation).
    #[arg(long)]
    pub to_latest_version: bool,
    #[command(flatten)]
    pub open: OpenWith,
    /// Write the rewrapped file here instead of replacing FILE.
    #[arg(long, short = 'o', value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing --output file.
    #[arg(long)]
    pub force: bool,
}

/// `kms inspect-file`.
#[derive(Debug, Args)]
pub struct InspectFileArgs {
    /// The encrypted file; `-` for stdin.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

fn parse_key_ref(s: &str) -> Result<KeyRef, kms_core::Error> {
    KeyRef::parse(s)
}

fn parse_context(s: &str) -> Result<EncryptionContext, kms_core::Error> {
    EncryptionContext::parse(s)
}

/// The hint for an envelope error.
pub fn hint(e: &EnvError) -> Option<&'static str> {
    Some(match e {
        EnvError::WrongContext | EnvError::BadHeaderMac => {
            "pass the same --context as encrypt-file (it must match exactly), and check the file is unchanged"
        }
        EnvError::NoMatchingIdentity { .. } | EnvError::NotEnoughShares { .. } => {
            "give an identity that opens the file: --identity FILE (age), --file-passphrase-file / --passphrase, or the key store holding its key"
        }
        EnvError::Truncated
        | EnvError::TrailingData
        | EnvError::ChunkAuthenticationFailed { .. } => {
            "the file was cut, extended or altered after encryption; nothing was written"
        }
        EnvError::OutputExists(_) => "pass --force to overwrite it, or --output elsewhere",
        EnvError::UnknownVersion(_) => "this file was written by a newer kms; upgrade to read it",
        EnvError::NotEncrypted => "decrypt-file reads files made by `kms encrypt-file` or by age",
        _ => return None,
    })
}

fn stdio(p: &Path) -> bool {
    p == Path::new("-")
}

/// Standard output as a file: no line buffering between the pipeline's
/// 1 MiB writes and the descriptor.
fn stdout_raw() -> Result<Box<dyn std::io::Write + Send>, CliError> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        if let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() {
            return Ok(Box::new(std::fs::File::from(fd)));
        }
    }
    Ok(Box::new(std::io::stdout()))
}

fn open_input(p: &Path) -> Result<(Box<dyn std::io::Read + Send>, Option<u64>), CliError> {
    if stdio(p) {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd as _;
            if let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() {
                return Ok((Box::new(std::fs::File::from(fd)), None));
            }
        }
        return Ok((Box::new(std::io::stdin()), None));
    }
    let f = std::fs::File::open(p).map_err(|source| CliError::File {
        what: "cannot read",
        path: p.to_path_buf(),
        source,
    })?;
    let len = f.metadata().ok().map(|m| m.len());
    Ok((Box::new(f), len))
}

/// Where an output goes: a regular file appears atomically; a device or
/// FIFO (`/dev/null`, a pipe) is written in place.
enum Out {
    Atomic(AtomicOutput),
    Direct(std::fs::File),
}

impl Out {
    fn open(path: &Path, force: bool) -> Result<Self, CliError> {
        if let Ok(meta) = std::fs::metadata(path)
            && !meta.file_type().is_file()
            && !meta.is_dir()
        {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(|source| CliError::File {
                    what: "cannot write",
                    path: path.to_path_buf(),
                    source,
                })?;
            return Ok(Out::Direct(f));
        }
        Ok(Out::Atomic(AtomicOutput::create(path, force)?))
    }

    fn writer(&mut self) -> OutWriter<'_> {
        match self {
            Out::Atomic(a) => OutWriter::Atomic(a.writer()),
            Out::Direct(f) => OutWriter::Direct(f),
        }
    }

    fn commit(self) -> Result<(), EnvError> {
        match self {
            Out::Atomic(a) => a.commit(),
            Out::Direct(_) => Ok(()),
        }
    }
}

/// The writer of an [`Out`].
enum OutWriter<'a> {
    Atomic(kms_envelope::output::OutputWriter<'a>),
    Direct(&'a mut std::fs::File),
}

impl std::io::Write for OutWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            OutWriter::Atomic(w) => w.write(buf),
            OutWriter::Direct(f) => f.write(buf),
        }
    }

    fn write_vectored(&mut self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
        match self {
            OutWriter::Atomic(w) => w.write_vectored(bufs),
            OutWriter::Direct(f) => f.write_vectored(bufs),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            OutWriter::Atomic(w) => w.flush(),
            OutWriter::Direct(f) => f.flush(),
        }
    }
}

/// A progress bar on a terminal, else nothing.
fn progress(
    total: Option<u64>,
) -> (
    Option<kms_envelope::Progress>,
    Option<indicatif::ProgressBar>,
) {
    if !std::io::stderr().is_terminal() {
        return (None, None);
    }
    let bar = match total {
        Some(n) => indicatif::ProgressBar::new(n),
        None => indicatif::ProgressBar::new_spinner(),
    };
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style);
    }
    let b = bar.clone();
    (Some(Arc::new(move |n| b.set_position(n))), Some(bar))
}

fn file_passphrase(
    pass: &FilePassphrase,
    ask: bool,
    confirm: bool,
) -> Result<Option<Passphrase>, CliError> {
    if let Some(p) = &pass.file_passphrase_file {
        return read_passphrase_file(p).map(Some);
    }
    if !ask {
        return Ok(None);
    }
    let read = |label: &str| {
        rpassword::prompt_password(label).map(Zeroizing::new).map_err(|source| CliError::Io {
            what: "cannot read the file passphrase from the terminal (or pass --file-passphrase-file FILE)",
            source,
        })
    };
    let first = read("File passphrase: ")?;
    if first.is_empty() {
        return Err(CliError::usage(
            "the file passphrase is empty",
            "type a passphrase",
        ));
    }
    if confirm && *read("Repeat the file passphrase: ")? != *first {
        return Err(CliError::usage(
            "the two passphrases differ",
            "type the same passphrase twice",
        ));
    }
    Ok(Some(Passphrase::new(first.to_string())))
}

fn identities(paths: &[PathBuf], pass: Option<Passphrase>) -> Result<Vec<Identity>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        let text =
            Zeroizing::new(String::from_utf8(crate::input::read_file(p)?).map_err(|_| {
                CliError::usage(
                    format!("{} is not a text identity file", p.display()),
                    "pass an age identity file (age-keygen)",
                )
            })?);
        out.push(Identity::Age(AgeIdentity::parse(&text)?));
    }
    if let Some(p) = pass {
        out.push(Identity::Passphrase(p));
    }
    Ok(out)
}

/// The KMS for opening files. Without another identity it is required (and
/// its error is reported); with one, it is used when it opens without a
/// prompt (a passphrase or key file, or a server), and skipped otherwise.
async fn optional_kms(ctx: &Ctx, have_other: bool) -> Result<Option<KmsManager>, CliError> {
    let would_prompt = ctx.global.key_file.is_none()
        && ctx.global.passphrase_file.is_none()
        && UnsealSource::from_args(&ctx.global).is_some();
    if have_other && would_prompt {
        return Ok(None);
    }
    match ctx.manager().await {
        Ok(m) => Ok(Some(m)),
        Err(_) if have_other => Ok(None),
        Err(e) => Err(e),
    }
}

/// `kms encrypt-file`.
pub async fn encrypt(ctx: &Ctx, args: EncryptFileArgs) -> Result<(), CliError> {
    let mut list = Vec::new();
    for r in &args.recipients {
        list.push(Recipient::parse(r)?);
    }
    let mut used_default = false;
    for k in &args.keys {
        list.push(Recipient::KmsKey(k.clone()));
    }
    if let Some(p) = file_passphrase(&args.pass, args.passphrase, true)? {
        list.push(Recipient::passphrase(p));
    }
    if list.is_empty() {
        list.push(Recipient::KmsKey(KeyRef::parse(DEFAULT_KEY)?));
        used_default = true;
    }
    let needs_kms = list.iter().any(|r| matches!(r, Recipient::KmsKey(_)));
    let kms = if needs_kms {
        Some(ctx.manager().await?)
    } else {
        None
    };
    let service = EncryptionService::new(kms);
    let output = match &args.output {
        Some(o) => o.clone(),
        None if stdio(&args.file) => PathBuf::from("-"),
        None => {
            let mut s = args.file.clone().into_os_string();
            s.push(".enc");
            PathBuf::from(s)
        }
    };
    if stdio(&output) && !args.armor && std::io::stdout().is_terminal() {
        return Err(CliError::usage(
            "refusing to write binary ciphertext to a terminal",
            "pass --armor, or --output FILE, or redirect stdout",
        ));
    }
    let (reader, len) = open_input(&args.file)?;
    let (progress, bar) = progress(len);
    let opts = EncryptOptions {
        armor: args.armor,
        format: match args.format {
            FormatArg::Kms => FileFormat::Kms,
            FormatArg::Age => FileFormat::Age,
        },
        progress,
    };
    let to = Recipients {
        list,
        threshold: args.threshold,
    };
    let result = if stdio(&output) {
        let out = stdout_raw()?;
        service
            .encrypt_stream(
                SyncReader(reader),
                SyncWriter(out),
                &to,
                &args.context,
                &opts,
            )
            .await
            .map(|_| ())
            .map_err(CliError::from)
    } else {
        let mut out = Out::open(&output, args.force)?;
        match service
            .encrypt_stream(
                SyncReader(reader),
                SyncWriter(out.writer()),
                &to,
                &args.context,
                &opts,
            )
            .await
        {
            Ok(_) => out.commit().map_err(CliError::from),
            Err(e) => Err(CliError::from(e)),
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result.map_err(|e| match e {
        CliError::Envelope(EnvError::Kms { source, .. }) => {
            default_key_hint(CliError::from(source), used_default)
        }
        other => other,
    })?;
    if !stdio(&output) {
        crate::output::note(&format!("encrypted to {}", output.display()));
    }
    Ok(())
}

/// `kms decrypt-file`.
pub async fn decrypt(ctx: &Ctx, args: DecryptFileArgs) -> Result<(), CliError> {
    let ids = args.open.identities()?;
    let kms = optional_kms(ctx, !ids.is_empty()).await?;
    let service = EncryptionService::new(kms);
    let output = match &args.output {
        Some(o) => o.clone(),
        None if stdio(&args.file) => PathBuf::from("-"),
        None => match args.file.to_str().and_then(|s| s.strip_suffix(".enc")) {
            Some(stem) if !stem.is_empty() => PathBuf::from(stem),
            _ => {
                return Err(CliError::usage(
                    format!(
                        "{} does not end in .enc, so there is no default output name",
                        args.file.display()
                    ),
                    "pass --output OUT (or --output - for stdout)",
                ));
            }
        },
    };
    let (reader, len) = open_input(&args.file)?;
    let (progress, bar) = progress(len);
    let opts = DecryptOptions { progress };
    let result = if stdio(&output) {
        let out = stdout_raw()?;
        service
            .decrypt_stream(
                SyncReader(reader),
                SyncWriter(out),
                &ids,
                &args.open.context,
                &opts,
            )
            .await
            .map(|_| ())
    } else {
        let mut out = Out::open(&output, args.force)?;
        // The plaintext gets its name only after the final chunk authenticated.
        match service
            .decrypt_stream(
                SyncReader(reader),
                SyncWriter(out.writer()),
                &ids,
                &args.open.context,
                &opts,
            )
            .await
        {
            Ok(_) => out.commit(),
            Err(e) => Err(e),
        }
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    result?;
    Ok(())
}

/// `kms rewrap-file`.
pub async fn rewrap(ctx: &Ctx, args: RewrapFileArgs) -> Result<(), CliError> {
    let ids = args.open.identities()?;
    let needs_kms = args.to_latest_version
        || args
            .add_recipient
            .as_deref()
            .is_some_and(|r| !r.starts_with("age1"));
    let kms = if needs_kms {
        Some(ctx.manager().await?)
    } else {
        optional_kms(ctx, !ids.is_empty()).await?
    };
    let service = EncryptionService::new(kms);
    let change = match (&args.add_recipient, &args.remove_recipient) {
        (Some(r), _) => RewrapChange::AddRecipient(Recipient::parse(r)?),
        (None, Some(r)) => RewrapChange::RemoveRecipient(r.trim().to_string()),
        (None, None) => RewrapChange::ToLatestVersion,
    };
    let (output, overwrite) = match &args.output {
        Some(o) => (o.clone(), args.force),
        None if stdio(&args.file) => (PathBuf::from("-"), false),
        None => (args.file.clone(), true),
    };
    let (reader, _) = open_input(&args.file)?;
    let summary = if stdio(&output) {
        let out = stdout_raw()?;
        service
            .rewrap_stream(
                SyncReader(reader),
                SyncWriter(out),
                &ids,
                &args.open.context,
                &change,
            )
            .await?
    } else {
        let mut out = Out::open(&output, overwrite)?;
        let summary = service
            .rewrap_stream(
                SyncReader(reader),
                SyncWriter(out.writer()),
                &ids,
                &args.open.context,
                &change,
            )
            .await?;
        out.commit()?;
        summary
    };
    if stdio(&output) {
        return Ok(());
    }
    if ctx.global.json {
        ctx.out.print_json(&summary)
    } else {
        ctx.out.line(&format!(
            "rewrapped {}: {} → {} recipients, {} changed, payload ({} bytes) unchanged",
            output.display(),
            summary.stanzas_before,
            summary.stanzas_after,
            summary.changed,
            summary.payload_bytes
        ))
    }
}

/// `kms inspect-file`.
pub async fn inspect(ctx: &Ctx, args: InspectFileArgs) -> Result<(), CliError> {
    let (reader, _) = open_input(&args.file)?;
    let info = EncryptionService::new(None)
        .inspect_stream(SyncReader(reader))
        .await?;
    if ctx.global.json {
        ctx.out.print_json(&info)
    } else {
        ctx.out.line(&info.to_string())
    }
}
