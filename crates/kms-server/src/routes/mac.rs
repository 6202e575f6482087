//! Generate and verify MACs (each with `batch_input`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kms_core::types::MacOutput;
use kms_core::{MacAlgorithm, Operation};
use kms_proto::batch::SingleOrBatch;
use kms_proto::crypto::{MacRequest, MacResponse, MacVerifyRequest};

use super::batch::{Batch, finish};
use super::signing::{Verified, VerifyAnswer, verified};
use super::{ApiErrors, parse_opt, required, required_key};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{Act, AppState, Attempt};

/// The documented answer of MAC.
type MacAnswer = SingleOrBatch<MacResponse>;

fn maced(o: MacOutput) -> MacResponse {
    MacResponse {
        key_id: o.key_id,
        version: o.version,
        algorithm: o.algorithm,
        mac: o.mac,
    }
}

async fn mac_one(
    s: &AppState,
    c: &Caller,
    key: Option<&str>,
    message: &[u8],
    algorithm: Option<&str>,
) -> kms_core::Result<Attempt<MacOutput>> {
    let key = required_key(key, "key")?;
    let alg = parse_opt::<MacAlgorithm>(algorithm)?;
    let act = Act::key(Operation::GenerateMac, &key);
    Ok(s.attempt(c, act, || s.kms.generate_mac(&key, message, alg))
        .await)
}

/// Computes an HMAC (message at most 4 KiB).
#[utoipa::path(post, path = "/api/v1/crypto/mac", tag = "crypto", request_body = MacRequest,
    responses((status = 200, description = "`MacResponse`, or `{batch_results: [...]}` for a batch", body = MacAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn mac(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MacRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let key = it.key.as_deref().or(req.key.as_deref());
            let alg = it.algorithm.as_deref().or(req.algorithm.as_deref());
            let a = mac_one(&s, &caller, key, &it.message, alg).await;
            batch.push(it.reference, a, maced);
        }
        return batch.respond(&s, &caller).await;
    }
    let message = required(req.message, "message")?;
    let a = mac_one(
        &s,
        &caller,
        req.key.as_deref(),
        &message,
        req.algorithm.as_deref(),
    )
    .await?;
    Ok(Json(maced(finish(&s, &caller, a).await?)).into_response())
}

struct MacVerifyArgs<'a> {
    key: Option<&'a str>,
    message: &'a [u8],
    mac: &'a [u8],
    algorithm: Option<&'a str>,
    version: Option<u32>,
}

async fn verify_one(
    s: &AppState,
    c: &Caller,
    a: MacVerifyArgs<'_>,
) -> kms_core::Result<Attempt<Verified>> {
    let key = required_key(a.key, "key")?;
    let alg = parse_opt::<MacAlgorithm>(a.algorithm)?;
    let act = Act::key(Operation::VerifyMac, &key);
    Ok(s.attempt(c, act, || async {
        let valid = s
            .kms
            .verify_mac(&key, a.message, alg, a.mac, a.version)
            .await?;
        let key_id = s.kms.key_id(&key).await?;
        Ok(Verified { key_id, valid })
    })
    .await)
}

/// Verifies an HMAC in constant time; `valid: false` when it does not match.
#[utoipa::path(post, path = "/api/v1/crypto/mac/verify", tag = "crypto", request_body = MacVerifyRequest,
    responses((status = 200, description = "`VerifyResponse`, or `{batch_results: [...]}` for a batch", body = VerifyAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn verify_mac(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MacVerifyRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let args = MacVerifyArgs {
                key: it.key.as_deref().or(req.key.as_deref()),
                message: &it.message,
                mac: &it.mac,
                algorithm: it.algorithm.as_deref().or(req.algorithm.as_deref()),
                version: it.version,
            };
            let a = verify_one(&s, &caller, args).await;
            batch.push(it.reference, a, verified);
        }
        return batch.respond(&s, &caller).await;
    }
    let message = required(req.message, "message")?;
    let mac = required(req.mac, "mac")?;
    let args = MacVerifyArgs {
        key: req.key.as_deref(),
        message: &message,
        mac: &mac,
        algorithm: req.algorithm.as_deref(),
        version: req.version,
    };
    let a = verify_one(&s, &caller, args).await?;
    Ok(Json(verified(finish(&s, &caller, a).await?)).into_response())
}
