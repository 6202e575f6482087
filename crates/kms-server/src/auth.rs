//! Authentication as an extractor: [`Caller`] reads the token from
//! `Authorization: Bearer`, `X-Vault-Token` or `X-API-Key` (or takes the
//! principal of a mapped TLS client certificate), checks it against the
//! stored SHA-256 hashes and loads its policies. Failed attempts are
//! counted per source address by [`FailureLimiter`]; past the threshold the
//! address is answered 429 until its lockout ends.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Mutex;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use kms_store::Policy;
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::error::ApiError;
use crate::state::AppState;

/// Auth settings.
#[derive(Clone, Debug)]
pub struct AuthSettings {
    /// Failed authentications from one address within `failure_window` that
    /// lock it out (the threshold; default 10).
    pub max_failures: u32,
    /// The window failures are counted in (default 60 s).
    pub failure_window: Duration,
    /// How long an address is locked out (default 60 s).
    pub lockout: Duration,
    /// Take the caller's address from the last `X-Forwarded-For` entry
    /// (only behind a load balancer that sets it).
    pub trust_forwarded_for: bool,
    /// TLS client-certificate subjects (normalised RFC 4514 text, e.g.
    /// `CN=app1,O=Example`) accepted as principals, with their policies.
    pub client_cert_principals: BTreeMap<String, Vec<String>>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            max_failures: 10,
            failure_window: Duration::seconds(60),
            lockout: Duration::seconds(60),
            trust_forwarded_for: false,
            client_cert_principals: BTreeMap::new(),
        }
    }
}

#[derive(Debug)]
struct Failures {
    count: u32,
    window_start: OffsetDateTime,
    locked_until: Option<OffsetDateTime>,
}

/// How long a verified token is trusted from memory. Revocations and policy
/// changes made through this node clear the cache at once; made through
/// another node, they take effect here within this time.
pub const TOKEN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// A verified token and its policies, as cached.
#[derive(Debug)]
struct VerifiedToken {
    principal: String,
    token_id: String,
    root: bool,
    policies: std::sync::Arc<Vec<Policy>>,
    expires_at: Option<OffsetDateTime>,
    verified: std::time::Instant,
}

/// Counts failed authentications per source address, and caches verified
/// tokens by their SHA-256 (never the token itself) for [`TOKEN_CACHE_TTL`].
#[derive(Debug)]
pub struct FailureLimiter {
    settings: AuthSettings,
    by_source: Mutex<HashMap<String, Failures>>,
    verified: Mutex<HashMap<[u8; 32], std::sync::Arc<VerifiedToken>>>,
}

impl FailureLimiter {
    /// A limiter with these settings.
    pub fn new(settings: AuthSettings) -> Self {
        Self {
            settings,
            by_source: Mutex::new(HashMap::new()),
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached token (after a revocation or a policy change).
    pub fn forget_tokens(&self) {
        self.verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    fn cached_token(
        &self,
        hash: &[u8; 32],
        now: OffsetDateTime,
    ) -> Option<std::sync::Arc<VerifiedToken>> {
        let map = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let v = map.get(hash)?;
        let fresh = v.verified.elapsed() < TOKEN_CACHE_TTL && v.expires_at.is_none_or(|e| e > now);
        fresh.then(|| v.clone())
    }

    fn cache_token(&self, hash: [u8; 32], v: std::sync::Arc<VerifiedToken>) {
        let mut map = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, t| t.verified.elapsed() < TOKEN_CACHE_TTL);
        }
        map.insert(hash, v);
    }

    /// The settings.
    pub fn settings(&self) -> &AuthSettings {
        &self.settings
    }

    /// `Err` with the seconds left when `source` is locked out.
    pub fn check(&self, source: &str, now: OffsetDateTime) -> Result<(), ApiError> {
        let map = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = map.get(source).and_then(|f| f.locked_until)
            && until > now
        {
            let secs = (until - now).whole_seconds().max(1);
            return Err(ApiError::TooManyRequests {
                retry_after_secs: u64::try_from(secs).unwrap_or(1),
            });
        }
        Ok(())
    }

    /// Records a failure; locks the address when it reaches the threshold.
    pub fn fail(&self, source: &str, now: OffsetDateTime) {
        let mut map = self.by_source.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            let window = self.settings.failure_window;
            map.retain(|_, f| {
                f.window_start.checked_add(window).is_some_and(|e| e > now)
                    || f.locked_until.is_some_and(|u| u > now)
            });
        }
        let entry = map.entry(source.to_string()).or_insert(Failures {
            count: 0,
            window_start: now,
            locked_until: None,
        });
        let window_end = entry.window_start.checked_add(self.settings.failure_window);
        if window_end.is_none_or(|end| end <= now) {
            entry.count = 0;
            entry.window_start = now;
        }
        entry.count += 1;
        if entry.count >= self.settings.max_failures {
            entry.locked_until = Some(now.checked_add(self.settings.lockout).unwrap_or(now));
            entry.count = 0;
            entry.window_start = now;
            tracing::warn!(
                source,
                "too many failed authentications; address locked out"
            );
        }
    }
}

/// Who sent a request and which one it is: for audit records.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    /// The `x-request-id`.
    pub request_id: String,
    /// The caller's address (IP), or `unknown`.
    pub source: String,
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(request_meta(
            parts,
            state.auth.settings().trust_forwarded_for,
        ))
    }
}

/// Reads the request id and source address of a request.
pub fn request_meta(parts: &Parts, trust_forwarded_for: bool) -> RequestMeta {
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|s| s[..s.floor_char_boundary(128.min(s.len()))].to_string())
        .unwrap_or_default();
    let forwarded = trust_forwarded_for
        .then(|| parts.headers.get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.rsplit(',').next())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let source = forwarded.unwrap_or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string())
    });
    RequestMeta { request_id, source }
}

/// The token of a request, from the first of the three headers present.
pub fn token_from_headers(headers: &HeaderMap) -> Option<Zeroizing<String>> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION)
        && let Ok(s) = v.to_str()
    {
        let s = s.trim();
        let (scheme, rest) = s.split_once(' ').unwrap_or((s, ""));
        if scheme.eq_ignore_ascii_case("bearer") && !rest.trim().is_empty() {
            return Some(Zeroizing::new(rest.trim().to_string()));
        }
    }
    for name in ["x-vault-token", "x-api-key"] {
        if let Some(s) = headers.get(name).and_then(|v| v.to_str().ok()) {
            let s = s.trim();
            if !s.is_empty() {
                return Some(Zeroizing::new(s.to_string()));
            }
        }
    }
    None
}

/// The normalised subject of the client certificate of a mutual-TLS connection.
fn client_subject(parts: &Parts) -> Option<String> {
    let info = parts
        .extensions
        .get::<std::sync::Arc<axum_server::tls::TlsInfo>>()?;
    crate::tls::subject_of(info.peer_certificates.first()?)
}

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who (the token's principal or the certificate subject).
    pub principal: String,
    /// The token's id (`cert` for a client certificate).
    pub token_id: String,
    /// Whether the caller holds the `root` policy.
    pub root: bool,
    /// The caller's stored policies (shared with the verified-token cache).
    pub policies: std::sync::Arc<Vec<Policy>>,
    /// The request.
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let meta = request_meta(parts, state.auth.settings().trust_forwarded_for);
        let now = state.clock.now();
        state.auth.check(&meta.source, now)?;
        let Some(token) = token_from_headers(&parts.headers) else {
            // The TLS layer verified the chain against the client CA.
            if let Some(subject) = client_subject(parts)
                && let Some(names) = state.auth.settings().client_cert_principals.get(&subject)
            {
                let root = names.iter().any(|n| n == kms_store::ROOT_POLICY);
                let policies = std::sync::Arc::new(state.store.policies_named(names).await?);
                return Ok(Caller {
                    principal: subject,
                    token_id: "cert".into(),
                    root,
                    policies,
                    meta,
                });
            }
            return Err(ApiError::Unauthenticated(
                "this endpoint needs a token: send `Authorization: Bearer <token>` (or X-Vault-Token / X-API-Key)".into(),
            ));
        };
        let hash = kms_store::tokens::hash_token(&token);
        let verified = match state.auth.cached_token(&hash, now) {
            Some(v) => v,
            None => {
                let Some(record) = state.store.authenticate_token(&token).await? else {
                    state.auth.fail(&meta.source, now);
                    // A presented token that fails is an audited event
                    // (never the token itself).
                    let event = state.event(
                        "anonymous",
                        &meta,
                        "authenticate",
                        "token",
                        String::new(),
                        None,
                        "error:unauthenticated".into(),
                    );
                    state.audit.record(event).await?;
                    return Err(ApiError::Unauthenticated(
                        "the token is unknown, expired or revoked".into(),
                    ));
                };
                let policies =
                    std::sync::Arc::new(state.store.policies_named(&record.policies).await?);
                let v = std::sync::Arc::new(VerifiedToken {
                    principal: record.principal.clone(),
                    token_id: record.id.clone(),
                    root: record.is_root(),
                    policies,
                    expires_at: record.expires_at,
                    verified: std::time::Instant::now(),
                });
                state.auth.cache_token(hash, v.clone());
                v
            }
        };
        Ok(Caller {
            principal: verified.principal.clone(),
            token_id: verified.token_id.clone(),
            root: verified.root,
            policies: verified.policies.clone(),
            meta,
        })
    }
}
