//! The connection pool (SQLite or PostgreSQL through sqlx's `Any` driver),
//! connection settings and migrations.

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use kms_core::{Error, Result};

use crate::options::StoreOptions;

/// Which database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// SQLite.
    Sqlite,
}

/// Maps a database error to the core error: connection problems are
/// `Unavailable`, everything else internal (with the source kept).
pub(crate) fn db_err(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Error::Unavailable {
            what: "the key store database".into(),
            reason: "it cannot be reached; check that it runs and the URL".into(),
            source: Some(Box::new(e)),
        },
        sqlx::Error::Database(ref d) if is_busy(d.message()) => {
            Error::Concurrent(format!("the key store database (busy: {})", d.message()))
        }
        other => Error::Backend {
            backend: "local",
            kind: kms_core::ErrorKind::Internal,
            message: "key store database error".into(),
            source: Some(Box::new(other)),
        },
    }
}

fn is_busy(msg: &str) -> bool {
    msg.contains("database is locked") || msg.contains("could not serialize")
}

/// Whether an error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(d) => d.is_unique_violation(),
        _ => false,
    }
}

/// Opens the pool and runs the migrations.
pub(crate) async fn connect(opts: &StoreOptions) -> Result<(AnyPool, Dialect)> {
    sqlx::any::install_default_drivers();
    let dialect = if opts.is_postgres() {
        Dialect::Postgres
    } else if opts.url.starts_with("sqlite:") {
        Dialect::Sqlite
    } else {
        return Err(Error::invalid(
            "store",
            format!(
                "{} is not a sqlite: or postgres:// URL",
                opts.redacted_url()
            ),
        ));
    };
    let connect_opts: AnyConnectOptions = opts.url.parse().map_err(|e: sqlx::Error| {
        Error::invalid(
            "store",
            format!("bad database URL {}: {e}", opts.redacted_url()),
        )
    })?;
    let pool = AnyPoolOptions::new()
        .max_connections(opts.max_connections)
        .acquire_timeout(std::time::Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if dialect == Dialect::Sqlite {
                    conn.execute("PRAGMA busy_timeout = 30000").await?;
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA foreign_keys = ON").await?;
                }
                Ok(())
            })
        })
        .connect_with(connect_opts)
        .await
        .map_err(|e| Error::Unavailable {
            what: format!("the key store at {}", opts.redacted_url()),
            reason: "it cannot be opened; check the path or URL and that the database runs".into(),
            source: Some(Box::new(e)),
        })?;
    let migrator = match dialect {
        Dialect::Sqlite => sqlx::migrate!("./migrations/sqlite"),
        Dialect::Postgres => sqlx::migrate!("./migrations/postgres"),
    };
    migrate_with_retry(&migrator, &pool).await?;
    Ok((pool, dialect))
}

/// Two processes opening a new store at once may race on the migrations
/// table; the loser retries briefly.
async fn migrate_with_retry(migrator: &sqlx::migrate::Migrator, pool: &AnyPool) -> Result<()> {
    let mut last = None;
    for attempt in 0..20u64 {
        match migrator.run(pool).await {
            Ok(()) => return Ok(()),
            Err(e) => {
                last = Some(e);
                tokio::time::sleep(std::time::Duration::from_millis(25 * (attempt + 1))).await;
            }
        }
    }
    Err(Error::Unavailable {
        what: "the key store database".into(),
        reason: "its schema could not be created or upgraded".into(),
        source: last.map(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
    })
}
