//! Start-up: flags and `KMS_*` variables over `kms.toml`, the store (a
//! throw-away unsealed one with `--dev`), the listener (plain or TLS),
//! signals (SIGTERM/SIGINT: graceful shutdown flushing the audit log;
//! SIGHUP: reload the TLS certificate) and the audit writer.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kms_core::types::CreateKeyRequest;
use kms_core::{AliasName, Error, KeySpec, Passphrase};
use kms_store::{KdfParams, LocalBackend, ROOT_POLICY, StoreOptions, Unseal, sqlite_url};
use zeroize::Zeroizing;

use crate::auth::AuthSettings;
use crate::config::{Config, DEFAULT_LISTEN, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_SEED_KEY};
use crate::state::{AppState, Settings};
use crate::tls::{TlsFiles, normalise_subject};

/// Where the key store is and how to unseal it (the CLI has the same global flags).
#[derive(Clone, Debug, Default, clap::Args)]
pub struct StoreArgs {
    /// The key store: a SQLite path or a `postgres://` URL (default: the
    /// platform data directory, e.g. `~/.local/share/kms/kms.db`).
    #[arg(long, env = "KMS_STORE", value_name = "PATH|URL")]
    pub store: Option<String>,
    /// A file holding the store passphrase. Without it (and without
    /// --key-file) the server starts sealed.
    #[arg(long, env = "KMS_PASSPHRASE_FILE", value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// A root key file instead of a passphrase.
    #[arg(
        long,
        env = "KMS_KEY_FILE",
        value_name = "FILE",
        conflicts_with = "passphrase_file"
    )]
    pub key_file: Option<PathBuf>,
}

/// The flags of `kms server` and `kms-service`.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServerArgs {
    /// The config file (default: `~/.config/kms/kms.toml` when it exists).
    #[arg(long, env = "KMS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A throw-away, unsealed, in-temp-dir server with a printed root token
    /// and the key `alias/default`. Never for real data.
    #[arg(long)]
    pub dev: bool,
    /// The root token of `--dev` (default: random, printed).
    #[arg(
        long,
        env = "KMS_DEV_ROOT_TOKEN",
        value_name = "TOKEN",
        requires = "dev"
    )]
    pub dev_root_token: Option<String>,
    /// The listen address (default `127.0.0.1:8082`).
    #[arg(long, env = "KMS_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// The key of the seed API (default `alias/default`).
    #[arg(long, env = "KMS_DEFAULT_KEY", value_name = "KEY")]
    pub default_key: Option<String>,
    /// Also append every audit record to this JSON-lines file.
    #[arg(long, env = "KMS_AUDIT_FILE", value_name = "FILE")]
    pub audit_file: Option<PathBuf>,
    /// TLS certificate chain (PEM).
    #[arg(long, env = "KMS_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, env = "KMS_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// CA bundle for client certificates: turns on mutual TLS.
    #[arg(long, env = "KMS_TLS_CLIENT_CA", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// When the store has no token yet, create a root token and write it to
    /// this file (mode 0600) — the first credential of a new deployment.
    #[arg(long, env = "KMS_BOOTSTRAP_ROOT_TOKEN_FILE", value_name = "FILE")]
    pub bootstrap_root_token_file: Option<PathBuf>,
}

/// Everything the server runs with, resolved.
#[derive(Debug)]
pub struct ServerConfig {
    /// The listen address.
    pub listen: String,
    /// `Some` in dev mode: the root token to use (random when `None`).
    pub dev: Option<Option<Zeroizing<String>>>,
    /// The store URL (not in dev mode).
    pub store_url: String,
    /// How to unseal; `None` starts sealed.
    pub unseal: Option<Unseal>,
    /// The seed API's key.
    pub default_key: String,
    /// The largest request body.
    pub max_request_bytes: usize,
    /// The audit mirror file.
    pub audit_file: Option<PathBuf>,
    /// Auth settings.
    pub auth: AuthSettings,
    /// TLS, if on.
    pub tls: Option<TlsFiles>,
    /// Where to write a bootstrap root token.
    pub bootstrap_root_token_file: Option<PathBuf>,
    /// The backend the config file names (only `local` is served).
    pub backend: Option<String>,
}

fn read_passphrase(path: &Path) -> kms_core::Result<Passphrase> {
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(
            "passphrase file",
            format!("cannot read {}: {e}", path.display()),
        )
    })?);
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(Passphrase::new(trimmed.to_string()))
}

impl ServerConfig {
    /// Flags and `KMS_*` (already merged by clap) over the config file.
    /// [`crate::config::effective::Effective::server`] shows the same
    /// resolution, with where each value came from.
    pub fn resolve(args: &ServerArgs, store: &StoreArgs) -> kms_core::Result<Self> {
        let cfg = Config::locate(args.config.as_deref())?
            .map(|(_, c)| c)
            .unwrap_or_default();
        for v in &cfg.unset_variables {
            tracing::warn!("config: ${{{v}}} is unset and was read as empty");
        }
        let local = &cfg.kms.local;
        let store_url = match store.store.clone().or_else(|| local.store.clone()) {
            Some(s) if s.contains("://") || s.starts_with("sqlite:") => s,
            Some(p) => sqlite_url(Path::new(&p)),
            None => sqlite_url(&default_store_path()?),
        };
        let unseal = if let Some(p) = &store.passphrase_file {
            Some(Unseal::Passphrase(read_passphrase(p)?))
        } else if let Some(k) = &store.key_file {
            Some(Unseal::KeyFile(k.clone()))
        } else {
            match (&local.passphrase_file, &local.key_file) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(
                        "config",
                        "[kms.local] sets both passphrase_file and key_file; keep one",
                    ));
                }
                (Some(p), None) => Some(Unseal::Passphrase(read_passphrase(p)?)),
                (None, Some(k)) => Some(Unseal::KeyFile(k.clone())),
                (None, None) => None,
            }
        };
        let srv = &cfg.server;
        let tls_cfg = srv.tls.clone().unwrap_or_default();
        let cert = args.tls_cert.clone().or(tls_cfg.cert_file);
        let key = args.tls_key.clone().or(tls_cfg.key_file);
        let client_ca = args.tls_client_ca.clone().or(tls_cfg.client_ca_file);
        let tls = match (cert, key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca,
            }),
            (None, None) if client_ca.is_none() => None,
            _ => {
                return Err(Error::invalid(
                    "tls",
                    "TLS needs both a certificate and a key (--tls-cert and --tls-key, or [server.tls] cert_file and key_file)",
                ));
            }
        };
        let a = &srv.auth;
        let defaults = AuthSettings::default();
        let auth = AuthSettings {
            max_failures: a.max_failures.unwrap_or(defaults.max_failures),
            failure_window: a.failure_window_secs.map_or(defaults.failure_window, secs),
            lockout: a.lockout_secs.map_or(defaults.lockout, secs),
            trust_forwarded_for: srv.trust_forwarded_for,
            client_cert_principals: tls_cfg
                .client_principals
                .iter()
                .map(|(k, v)| (normalise_subject(k), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        };
        Ok(Self {
            listen: args
                .listen
                .clone()
                .or_else(|| srv.listen.clone())
                .unwrap_or_else(|| DEFAULT_LISTEN.into()),
            dev: args
                .dev
                .then(|| args.dev_root_token.clone().map(Zeroizing::new)),
            store_url,
            unseal,
            default_key: args
                .default_key
                .clone()
                .or_else(|| srv.default_key.clone())
                .unwrap_or_else(|| DEFAULT_SEED_KEY.into()),
            max_request_bytes: srv.max_request_bytes.unwrap_or(DEFAULT_MAX_REQUEST_BYTES),
            audit_file: args.audit_file.clone().or_else(|| srv.audit_file.clone()),
            auth,
            tls,
            bootstrap_root_token_file: args.bootstrap_root_token_file.clone(),
            backend: cfg.kms.backend_name()?,
        })
    }
}

/// The store when neither `--store`, `KMS_STORE` nor `[kms.local] store` is
/// given: `<data dir>/kms/kms.db`, e.g. `~/.local/share/kms/kms.db`.
pub fn default_store_path() -> kms_core::Result<PathBuf> {
    let dir = dirs::data_dir().ok_or_else(|| {
        Error::invalid("store", "no data directory; pass --store or set KMS_STORE")
    })?;
    Ok(dir.join("kms").join("kms.db"))
}

/// Seconds from the config, at most a week (longer windows and lockouts are mistakes).
fn secs(s: u64) -> time::Duration {
    time::Duration::seconds(i64::try_from(s.min(7 * 24 * 3600)).unwrap_or(1))
}

/// What dev mode prints once the listener is bound.
struct DevInfo {
    dir: tempfile::TempDir,
    token: Zeroizing<String>,
    passphrase: Zeroizing<String>,
    key_id: kms_core::KeyId,
}

/// Opens (or, in dev mode, creates) the store.
async fn open_store(cfg: &ServerConfig) -> kms_core::Result<(Arc<LocalBackend>, Option<DevInfo>)> {
    let Some(dev_token) = &cfg.dev else {
        if let Some(b) = cfg.backend.as_deref().filter(|b| *b != "local") {
            return Err(Error::invalid(
                "backend",
                format!(
                    "the config selects the `{b}` backend, but this server serves the embedded local key store; set [kms] backend = \"local\" (or use --dev)"
                ),
            ));
        }
        let opts = StoreOptions::new(cfg.store_url.clone());
        let store = match &cfg.unseal {
            Some(u) => LocalBackend::open(opts, u).await?,
            None => {
                let s = LocalBackend::open_sealed(opts).await?;
                tracing::warn!(
                    "no passphrase or key file: starting sealed; POST /api/v1/sys/unseal to unseal"
                );
                s
            }
        };
        return Ok((store, None));
    };
    let dir = tempfile::Builder::new()
        .prefix("kms-dev-")
        .tempdir()
        .map_err(|e| Error::Internal(format!("cannot create a temp dir: {e}")))?;
    let opts = StoreOptions::new(sqlite_url(&dir.path().join("kms.db")));
    let mut pass = Zeroizing::new([0u8; 32]);
    opts.rng.fill(&mut pass[..])?;
    let passphrase = Zeroizing::new(hex::encode(&pass[..]));
    let unseal = Unseal::Passphrase(Passphrase::new(passphrase.to_string()));
    // Dev mode: a light KDF, the store lives only as long as the process.
    let kdf = KdfParams {
        memory_kib: 8 * 1024,
        iterations: 1,
        parallelism: 1,
    };
    let store = LocalBackend::init(opts, &unseal, kdf).await?;
    let token = match dev_token {
        Some(t) => {
            store
                .insert_token(t, "root", &[ROOT_POLICY.to_string()], None)
                .await?;
            t.clone()
        }
        None => {
            store
                .create_token("root", &[ROOT_POLICY.to_string()], None)
                .await?
                .0
        }
    };
    let mut req = CreateKeyRequest::new(KeySpec::Aes256);
    req.alias = Some(AliasName::parse(&cfg.default_key)?);
    req.description = "default key of the dev server".into();
    let kms = kms_core::KmsManager::new(store.clone(), store.options().rng.clone());
    let key = kms.create_key(req).await?;
    Ok((
        store,
        Some(DevInfo {
            dir,
            token,
            passphrase,
            key_id: key.key_id,
        }),
    ))
}

impl DevInfo {
    /// Dev mode prints its root token on purpose, like `vault server -dev`.
    fn print(&self, cfg: &ServerConfig, addr: SocketAddr) {
        let scheme = if cfg.tls.is_some() { "https" } else { "http" };
        println!(
            "KMS dev server: a throw-away, unsealed key store in {}",
            self.dir.path().display()
        );
        println!("Listening:   {scheme}://{addr}");
        println!("Root token:  {}", self.token.as_str());
        println!(
            "Unseal passphrase (after POST /api/v1/sys/seal): {}",
            self.passphrase.as_str()
        );
        println!("Default key: {} ({})", cfg.default_key, self.key_id);
        println!(
            "    export KMS_ADDR={scheme}://{addr} KMS_TOKEN={}",
            self.token.as_str()
        );
    }
}

async fn bootstrap_root_token(store: &LocalBackend, path: &Path) -> kms_core::Result<()> {
    if !store.list_tokens().await?.is_empty() {
        return Ok(());
    }
    let (secret, rec) = store
        .create_token("root", &[ROOT_POLICY.to_string()], None)
        .await?;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let write = |f: &mut std::fs::File| {
        std::io::Write::write_all(f, secret.as_bytes()).and_then(|()| f.sync_all())
    };
    opts.open(path)
        .and_then(|mut f| write(&mut f))
        .map_err(|e| {
            Error::invalid(
                "bootstrap root token file",
                format!("{}: {e}", path.display()),
            )
        })?;
    tracing::warn!(token_id = rec.id, file = %path.display(), "created the first root token");
    Ok(())
}

/// Resolves when SIGTERM or SIGINT arrives.
async fn terminate() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing requests and flushing the audit log");
}

/// Runs the server until SIGTERM or SIGINT.
pub async fn run(cfg: ServerConfig) -> kms_core::Result<()> {
    let (store, dev) = open_store(&cfg).await?;
    if let Some(path) = &cfg.bootstrap_root_token_file {
        bootstrap_root_token(&store, path).await?;
    }
    let mut settings = Settings::new(&cfg.default_key)?;
    settings.max_request_bytes = cfg.max_request_bytes;
    let state_sealed = store.is_sealed();
    let (state, audit_task) =
        AppState::new(store, settings, cfg.auth.clone(), cfg.audit_file.clone());
    let app = crate::app(state);
    let listener = std::net::TcpListener::bind(&cfg.listen).map_err(|e| Error::Unavailable {
        what: format!("the listen address {}", cfg.listen),
        reason: format!("it cannot be bound ({e})"),
        source: Some(Box::new(e)),
    })?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Error::Internal(format!("listener: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::Internal(format!("listener: {e}")))?;
    match &dev {
        Some(d) => d.print(&cfg, addr),
        None => {
            let scheme = if cfg.tls.is_some() { "https" } else { "http" };
            let sealed = if state_sealed { " (sealed)" } else { "" };
            println!("Listening:   {scheme}://{addr}{sealed}");
        }
    }
    let make = app.into_make_service_with_connect_info::<SocketAddr>();
    match &cfg.tls {
        None => {
            tracing::info!(%addr, "listening (http)");
            let listener = tokio::net::TcpListener::from_std(listener)
                .map_err(|e| Error::Internal(format!("listener: {e}")))?;
            axum::serve(listener, make)
                .with_graceful_shutdown(terminate())
                .await
                .map_err(|e| Error::Internal(format!("server: {e}")))?;
        }
        Some(files) => {
            let rustls = axum_server::tls_rustls::RustlsConfig::from_config(files.load()?);
            spawn_reload_on_sighup(files.clone(), rustls.clone());
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                terminate().await;
                h.graceful_shutdown(Some(Duration::from_secs(30)));
            });
            tracing::info!(%addr, mutual = files.client_ca.is_some(), "listening (https)");
            axum_server::from_tcp_rustls(listener, rustls)
                .map_err(|e| Error::Internal(format!("listener: {e}")))?
                .handle(handle)
                .serve(make)
                .await
                .map_err(|e| Error::Internal(format!("server: {e}")))?;
        }
    }
    // The router (and every state clone) is gone: the writer drains and stops.
    match tokio::time::timeout(Duration::from_secs(30), audit_task).await {
        Ok(_) => tracing::info!("audit log flushed"),
        Err(_) => tracing::error!("the audit writer did not finish within 30 s"),
    }
    Ok(())
}

#[cfg(unix)]
fn spawn_reload_on_sighup(files: TlsFiles, rustls: axum_server::tls_rustls::RustlsConfig) {
    use tokio::signal::unix::{SignalKind, signal};
    tokio::spawn(async move {
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            tracing::error!("cannot listen for SIGHUP; TLS reload is off");
            return;
        };
        while hup.recv().await.is_some() {
            match files.load() {
                Ok(c) => {
                    rustls.reload_from_config(c);
                    tracing::info!("SIGHUP: TLS certificate reloaded");
                }
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: TLS reload failed; keeping the old certificate")
                }
            }
        }
    });
}

#[cfg(not(unix))]
fn spawn_reload_on_sighup(_: TlsFiles, _: axum_server::tls_rustls::RustlsConfig) {}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
