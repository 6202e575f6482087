//! The seed API of seed 001: `/api/v1/kms/{encrypt,decrypt,generate-key,status,health}`
//! on the configured default key (`alias/default`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kms_core::types::DataKeyLength;
use kms_core::{DataKeySpec, EncryptionContext, Operation};
use kms_proto::SecretBytes;
use kms_proto::seed::{
    Health, SeedDecryptRequest, SeedDecryptResponseWire, SeedEncryptRequestWire,
    SeedEncryptResponse, SeedGenerateKeyRequest, SeedGenerateKeyResponseWire, SeedStatus,
};

use super::{ApiErrors, ct_bytes, ct_text, parse_opt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{Act, AppState};

fn context(c: Option<&str>) -> kms_core::Result<EncryptionContext> {
    EncryptionContext::parse(c.unwrap_or(""))
}

/// Encrypts with the default key.
#[utoipa::path(post, path = "/api/v1/kms/encrypt", tag = "seed",
    request_body = SeedEncryptRequestWire,
    responses((status = 200, body = SeedEncryptResponse), ApiErrors),
    security(("token" = [])))]
pub async fn encrypt(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SeedEncryptRequestWire>,
) -> Result<Json<SeedEncryptResponse>, ApiError> {
    let ctx = context(req.context.as_deref())?;
    let key = s.default_key();
    let act = Act::key(Operation::Encrypt, key).context(&ctx);
    let out = s
        .run(&caller, act, || {
            s.kms.encrypt(key, req.plaintext.expose_secret(), &ctx)
        })
        .await?;
    Ok(Json(SeedEncryptResponse {
        ciphertext: ct_text(&out.ciphertext),
    }))
}

/// Decrypts a ciphertext of the seed API.
#[utoipa::path(post, path = "/api/v1/kms/decrypt", tag = "seed",
    request_body = SeedDecryptRequest,
    responses((status = 200, body = SeedDecryptResponseWire), ApiErrors),
    security(("token" = [])))]
pub async fn decrypt(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SeedDecryptRequest>,
) -> Result<Json<SeedDecryptResponseWire>, ApiError> {
    let ctx = context(req.context.as_deref())?;
    let ct = ct_bytes(&req.ciphertext)?;
    let key = s.kms.default_backend().ciphertext_key(&ct).await.ok();
    let act = Act::maybe_key(Operation::Decrypt, key.as_ref()).context(&ctx);
    let out = s
        .run(&caller, act, || s.kms.decrypt(&ct, &ctx, None))
        .await?;
    Ok(Json(SeedDecryptResponseWire {
        plaintext: SecretBytes::new(out.plaintext.into_zeroizing()),
    }))
}

/// A data key under the default key, in clear and wrapped.
#[utoipa::path(post, path = "/api/v1/kms/generate-key", tag = "seed",
    request_body = SeedGenerateKeyRequest,
    responses((status = 200, body = SeedGenerateKeyResponseWire), ApiErrors),
    security(("token" = [])))]
pub async fn generate_key(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SeedGenerateKeyRequest>,
) -> Result<Json<SeedGenerateKeyResponseWire>, ApiError> {
    let spec = parse_opt::<DataKeySpec>(req.key_spec.as_deref())?.unwrap_or(DataKeySpec::Aes256);
    let ctx = EncryptionContext::new();
    let key = s.default_key();
    let act = Act::key(Operation::GenerateDataKey, key);
    let out = s
        .run(&caller, act, || {
            s.kms
                .generate_data_key(key, DataKeyLength::Spec(spec), &ctx, true)
        })
        .await?;
    let plaintext = out
        .plaintext
        .map(|k| SecretBytes::new(k.into_zeroizing()))
        .ok_or_else(|| {
            kms_core::Error::Internal("the data key came back without plaintext".into())
        })?;
    Ok(Json(SeedGenerateKeyResponseWire {
        plaintext,
        ciphertext: ct_text(&out.ciphertext),
    }))
}

/// Backend, availability and operation counts.
#[utoipa::path(get, path = "/api/v1/kms/status", tag = "seed",
    responses((status = 200, body = SeedStatus), ApiErrors),
    security(("token" = [])))]
pub async fn status(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<SeedStatus>, ApiError> {
    // Reading the status touches no key, token or policy: authorized, not audited.
    s.authorize(&caller, &Act::admin("status", "store", ""))
        .await?;
    let st = s.kms.status().await?;
    let operations = s.metrics.operation_counts();
    Ok(Json(SeedStatus {
        backend: st.backend,
        available: st.available,
        sealed: s.store.is_sealed(),
        operation_count: operations.values().sum(),
        operations,
        default_key: s.default_key().to_string(),
    }))
}

/// Health: 200 `healthy`, or 503 `sealed` so that load balancers skip a sealed node. Open.
#[utoipa::path(get, path = "/api/v1/kms/health", tag = "seed",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(State(s): State<AppState>) -> (StatusCode, Json<Health>) {
    let sealed = s.store.is_sealed();
    let status = if sealed { "sealed" } else { "healthy" };
    let code = if sealed {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        code,
        Json(Health {
            status: status.into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }),
    )
}
