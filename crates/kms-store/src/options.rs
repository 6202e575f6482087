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

/// A URL with its password replaced by `***`: in the user info
/// (`postgres://kms:***@db/kms`) and in query parameters whose name ends in
/// `password` (`?password=***`). Text that is not a URL is returned as is.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    // The user info ends at the last `@` before the query: a password may
    // hold an unescaped `/`, so the first `/` cannot be trusted.
    let query_at = rest.find(['?', '#']).unwrap_or(rest.len());
    let (authority, tail) = match rest[..query_at].rfind('@') {
        Some(at) => {
            let (userinfo, host) = rest.split_at(at);
            let tail = &host[1..];
            match userinfo.split_once(':') {
                Some((user, _)) => (format!("{user}:***@"), tail),
                None => (format!("{userinfo}@"), tail),
            }
        }
        None => (String::new(), rest),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((q, f)) => (q, format!("#{f}")),
                None => (query, String::new()),
            };
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().ends_with("password") => {
                        format!("{k}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}{fragment}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}
