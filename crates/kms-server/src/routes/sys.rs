//! Seal state and metrics: `/api/v1/sys/{health,seal-status,seal,unseal}`, `/metrics`.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use kms_core::{Error, ErrorKind, Passphrase};
use kms_proto::sys::{SealStatus, UnsealRequestWire};
use kms_store::Unseal;

use super::ApiErrors;
use crate::auth::{Caller, RequestMeta};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{Act, AppState};

fn seal_status(s: &AppState) -> SealStatus {
    SealStatus {
        sealed: s.store.is_sealed(),
        backend: s.kms.default_backend().name().to_string(),
    }
}

/// Whether the store is sealed. Open.
#[utoipa::path(get, path = "/api/v1/sys/seal-status", tag = "sys",
    responses((status = 200, body = SealStatus)))]
pub async fn status(State(s): State<AppState>) -> Json<SealStatus> {
    Json(seal_status(&s))
}

/// Seals: the root key and every cached key leave memory; key operations answer 503.
#[utoipa::path(post, path = "/api/v1/sys/seal", tag = "sys",
    responses((status = 200, body = SealStatus), ApiErrors), security(("token" = [])))]
pub async fn seal(State(s): State<AppState>, caller: Caller) -> Result<Json<SealStatus>, ApiError> {
    let act = Act::admin("seal", "store", "seal");
    s.run(&caller, act, || async {
        s.store.seal();
        Ok(())
    })
    .await?;
    tracing::warn!(principal = caller.principal, "store sealed over the API");
    Ok(Json(seal_status(&s)))
}

/// Unseals with the store passphrase. Open (the passphrase is the
/// credential); wrong passphrases count as failed authentications.
#[utoipa::path(post, path = "/api/v1/sys/unseal", tag = "sys", request_body = UnsealRequestWire,
    responses((status = 200, body = SealStatus), ApiErrors))]
pub async fn unseal(
    State(s): State<AppState>,
    meta: RequestMeta,
    ApiJson(req): ApiJson<UnsealRequestWire>,
) -> Result<Json<SealStatus>, ApiError> {
    let now = s.clock.now();
    s.auth.check(&meta.source, now)?;
    let unseal = Unseal::Passphrase(Passphrase::new(req.passphrase.expose_secret().to_string()));
    let result = s.store.unseal(&unseal).await;
    let outcome = match &result {
        Ok(()) => "ok".to_string(),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            s.auth.fail(&meta.source, now);
            "denied".to_string()
        }
        Err(e) => format!("error:{}", crate::error::core_status(e).1),
    };
    let event = s.event(
        "anonymous",
        &meta,
        "unseal",
        "store",
        "unseal".into(),
        None,
        outcome,
    );
    s.audit.record(event).await?;
    result.map_err(|e| match e {
        Error::WrongUnsealKey => ApiError::Core(Error::PermissionDenied(
            "wrong passphrase for this key store; it stays sealed".into(),
        )),
        other => ApiError::Core(other),
    })?;
    tracing::info!("store unsealed over the API");
    Ok(Json(seal_status(&s)))
}

/// Prometheus metrics (text format). Any valid token may read them (give
/// the scraper a token with no policy); they are served while sealed too,
/// so `kms_sealed` can be watched.
#[utoipa::path(get, path = "/metrics", tag = "sys",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"),
        ApiErrors), security(("token" = [])))]
pub async fn metrics(State(s): State<AppState>, _caller: Caller) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        s.metrics.render(s.store.is_sealed()),
    )
}
