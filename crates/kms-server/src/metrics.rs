//! Prometheus metrics (`/metrics`). Every name starts with `kms_`:
//!
//! - `kms_http_requests_total{method,route,status}` and
//!   `kms_http_request_duration_seconds{method,route}`: per route
//! - `kms_operations_total{operation,outcome}`: per KMS operation
//! - `kms_errors_total{kind}`: error answers by code
//! - `kms_sealed`: 1 while the store is sealed
//! - `kms_audit_lag_seconds`, `kms_audit_queue_depth`,
//!   `kms_audit_records_total`, `kms_audit_batches_total`: the audit writer
//!
//! The `metrics` crate keeps one recorder per process, so the exporter is
//! installed once and every [`crate::AppState`] of the process shares it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use kms_core::Operation;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::error::InternalError;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn install() -> Option<PrometheusHandle> {
    let builder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".into()),
            &[
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
            ],
        )
        .ok()?;
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).ok()?;
    Some(handle)
}

/// Metrics of this server.
#[derive(Debug)]
pub struct Metrics {
    handle: Option<PrometheusHandle>,
    ops: BTreeMap<Operation, OpCounters>,
}

/// One KMS operation's counters, registered once so that counting is an
/// atomic increment rather than a registry lookup.
#[derive(Debug)]
struct OpCounters {
    /// Successes in this process (for the seed status).
    done: AtomicU64,
    ok: metrics::Counter,
    error: metrics::Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Installs the exporter (once per process) and zeroes the counters.
    pub fn new() -> Self {
        let handle = HANDLE.get_or_init(install).clone();
        Self {
            handle,
            ops: Operation::ALL
                .iter()
                .map(|op| {
                    let name = op.as_str();
                    let counters = OpCounters {
                        done: AtomicU64::new(0),
                        ok: metrics::counter!("kms_operations_total", "operation" => name, "outcome" => "ok"),
                        error: metrics::counter!("kms_operations_total", "operation" => name, "outcome" => "error"),
                    };
                    (*op, counters)
                })
                .collect(),
        }
    }

    /// Counts an operation's outcome: a KMS operation (`kms_op`) or an
    /// administrative one named `name`.
    pub fn operation(&self, kms_op: Option<Operation>, name: &'static str, ok: bool) {
        match kms_op.and_then(|o| self.ops.get(&o)) {
            Some(c) if ok => {
                c.ok.increment(1);
                c.done.fetch_add(1, Ordering::Relaxed);
            }
            Some(c) => c.error.increment(1),
            None => {
                let outcome = if ok { "ok" } else { "error" };
                metrics::counter!("kms_operations_total", "operation" => name, "outcome" => outcome)
                    .increment(1);
            }
        }
    }

    /// Successful operations of this process, by name (for the seed status).
    pub fn operation_counts(&self) -> BTreeMap<String, u64> {
        self.ops
            .iter()
            .map(|(op, c)| (op.as_str().to_string(), c.done.load(Ordering::Relaxed)))
            .collect()
    }

    /// The Prometheus text. `kms_sealed` is this server's own seal state,
    /// written after the shared registry's series: a process-wide gauge would
    /// let two servers of one process (tests, embedders) overwrite each
    /// other's state between setting and rendering it.
    pub fn render(&self, sealed: bool) -> String {
        let mut text = self
            .handle
            .as_ref()
            .map_or_else(String::new, PrometheusHandle::render);
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# TYPE kms_sealed gauge\nkms_sealed ");
        text.push_str(if sealed { "1" } else { "0" });
        text.push('\n');
        text
    }
}

/// Middleware: counts and times every request by route; logs 5xx errors.
/// Each route's series are registered on first use and kept, so a request
/// allocates no label strings and looks nothing up in the registry.
pub async fn track(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = route_metrics(
        req.extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", MatchedPath::as_str),
    );
    let resp = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let request_id = || {
        resp.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if let Some(InternalError(e)) = resp.extensions().get::<InternalError>() {
        tracing::error!(request_id = request_id(), route = &*route.label, error = %e, source = ?std::error::Error::source(e.as_ref()), "internal error");
    }
    tracing::debug!(
        request_id = request_id(),
        method,
        route = &*route.label,
        status = resp.status().as_u16(),
        secs,
        "request"
    );
    route.record(method, resp.status(), secs);
    resp
}

/// The series of one route: requests by method and status, latency by method.
#[derive(Debug)]
struct RouteMetrics {
    label: metrics::SharedString,
    series: RwLock<Vec<Series>>,
}

#[derive(Debug)]
struct Series {
    method: &'static str,
    status: u16,
    requests: metrics::Counter,
    latency: metrics::Histogram,
}

impl RouteMetrics {
    fn record(&self, method: &'static str, status: axum::http::StatusCode, secs: f64) {
        let code = status.as_u16();
        let count = |all: &[Series]| {
            let s = all
                .iter()
                .find(|s| s.method == method && s.status == code)?;
            s.requests.increment(1);
            s.latency.record(secs);
            Some(())
        };
        if self
            .series
            .read()
            .ok()
            .and_then(|all| count(&all))
            .is_some()
        {
            return;
        }
        let Ok(mut all) = self.series.write() else {
            return;
        };
        if count(&all).is_none() {
            let status: metrics::SharedString = match status_label(status) {
                Some(s) => s.into(),
                None => code.to_string().into(),
            };
            let route = self.label.clone();
            all.push(Series {
                method,
                status: code,
                requests: metrics::counter!("kms_http_requests_total", "method" => method, "route" => route.clone(), "status" => status),
                latency: metrics::histogram!("kms_http_request_duration_seconds", "method" => method, "route" => route),
            });
            count(&all);
        }
    }
}

/// The shared series of a route (the router has a fixed set of routes).
fn route_metrics(route: &str) -> Arc<RouteMetrics> {
    static ROUTES: OnceLock<RwLock<HashMap<String, Arc<RouteMetrics>>>> = OnceLock::new();
    let table = ROUTES.get_or_init(Default::default);
    if let Ok(map) = table.read()
        && let Some(r) = map.get(route)
    {
        return r.clone();
    }
    let r = Arc::new(RouteMetrics {
        label: metrics::SharedString::from(Arc::<str>::from(route)),
        series: RwLock::new(Vec::new()),
    });
    if let Ok(mut map) = table.write() {
        return map.entry(route.to_string()).or_insert(r).clone();
    }
    r
}

fn method_label(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

fn status_label(s: axum::http::StatusCode) -> Option<&'static str> {
    Some(match s.as_u16() {
        200 => "200",
        201 => "201",
        204 => "204",
        400 => "400",
        401 => "401",
        403 => "403",
        404 => "404",
        405 => "405",
        409 => "409",
        413 => "413",
        415 => "415",
        422 => "422",
        429 => "429",
        500 => "500",
        501 => "501",
        503 => "503",
        _ => return None,
    })
}
