//! How to open a store.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kms_core::{Clock, Rng, SystemClock, SystemRng};

/// Where the store is and what it runs with.
#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// `sqlite://PATH?mode=rwc` (see [`sqlite_url`]) or `postgres://…`.
    pub url: String,
    /// The wall clock (rotation periods, deletion windows, token expiry).
    pub clock: Arc<dyn Clock>,
    /// The random source for symmetric keys, nonces, ids and tokens.
    pub rng: Arc<dyn Rng>,
    /// How long key metadata is trusted from memory before it is read again.
    /// Key material of a version never changes, so it is cached for the
    /// life of the process; metadata (state, newest version) may change in
    /// another process or node, so it is re-read after this long.
    pub cache_ttl: Duration,
    /// Most connections in the pool.
    pub max_connections: u32,
}

impl StoreOptions {
    /// Options with the system clock and generator and a 1 s metadata cache.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            clock: Arc::new(SystemClock),
            rng: Arc::new(SystemRng),
            cache_ttl: Duration::from_secs(1),
            max_connections: 8,
        }
    }

    /// Replaces the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Replaces the metadata cache lifetime (zero turns the cache off).
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Whether the URL names PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.url.starts_with("postgres://") || self.url.starts_with("postgresql://")
    }

    /// The URL with any password replaced, for display.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

/// The URL of a SQLite database file, created when missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Replaces the password of a URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}
