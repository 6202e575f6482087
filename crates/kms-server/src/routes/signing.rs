//! Sign and verify (each with `batch_input`).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use kms_core::types::SignatureOutput;
use kms_core::{MessageType, Operation, SigningAlgorithm};
use kms_proto::batch::SingleOrBatch;
use kms_proto::crypto::{SignRequest, SignResponse, VerifyRequest, VerifyResponse};

use super::batch::{Batch, finish};
use super::{ApiErrors, parse_opt, required, required_key};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::state::{Act, AppState, Attempt};

/// The documented answer of sign.
type SignAnswer = SingleOrBatch<SignResponse>;

/// The documented answer of verify and MAC verify.
pub type VerifyAnswer = SingleOrBatch<VerifyResponse>;

fn signed(o: SignatureOutput) -> SignResponse {
    SignResponse {
        key_id: o.key_id,
        version: o.version,
        algorithm: o.algorithm,
        signature: o.signature,
    }
}

struct SignArgs<'a> {
    key: Option<&'a str>,
    message: &'a [u8],
    message_type: Option<&'a str>,
    algorithm: Option<&'a str>,
}

async fn sign_one(
    s: &AppState,
    c: &Caller,
    a: SignArgs<'_>,
) -> kms_core::Result<Attempt<SignatureOutput>> {
    let key = required_key(a.key, "key")?;
    let mt = parse_opt::<MessageType>(a.message_type)?.unwrap_or(MessageType::Raw);
    let alg = parse_opt::<SigningAlgorithm>(a.algorithm)?;
    let act = Act::key(Operation::Sign, &key);
    Ok(s.attempt(c, act, || s.kms.sign(&key, a.message, mt, alg))
        .await)
}

/// Signs a RAW message (at most 4 KiB) or a DIGEST.
#[utoipa::path(post, path = "/api/v1/crypto/sign", tag = "crypto", request_body = SignRequest,
    responses((status = 200, description = "`SignResponse`, or `{batch_results: [...]}` for a batch", body = SignAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn sign(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<SignRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let args = SignArgs {
                key: it.key.as_deref().or(req.key.as_deref()),
                message: &it.message,
                message_type: it.message_type.as_deref().or(req.message_type.as_deref()),
                algorithm: it.algorithm.as_deref().or(req.algorithm.as_deref()),
            };
            let a = sign_one(&s, &caller, args).await;
            batch.push(it.reference, a, signed);
        }
        return batch.respond(&s, &caller).await;
    }
    let message = required(req.message, "message")?;
    let args = SignArgs {
        key: req.key.as_deref(),
        message: &message,
        message_type: req.message_type.as_deref(),
        algorithm: req.algorithm.as_deref(),
    };
    let a = sign_one(&s, &caller, args).await?;
    Ok(Json(signed(finish(&s, &caller, a).await?)).into_response())
}

struct VerifyArgs<'a> {
    key: Option<&'a str>,
    message: &'a [u8],
    signature: &'a [u8],
    message_type: Option<&'a str>,
    algorithm: Option<&'a str>,
    version: Option<u32>,
}

/// A verification's outcome, with the key it used (for the audit record).
#[derive(Debug)]
pub struct Verified {
    /// The key.
    pub key_id: kms_core::KeyId,
    /// Whether it matched.
    pub valid: bool,
}

impl crate::state::Audited for Verified {
    fn audit_entity(&self) -> Option<String> {
        Some(self.key_id.to_string())
    }
}

/// The wire form of a verification.
pub fn verified(v: Verified) -> VerifyResponse {
    VerifyResponse {
        key_id: v.key_id,
        valid: v.valid,
    }
}

async fn verify_one(
    s: &AppState,
    c: &Caller,
    a: VerifyArgs<'_>,
) -> kms_core::Result<Attempt<Verified>> {
    let key = required_key(a.key, "key")?;
    let mt = parse_opt::<MessageType>(a.message_type)?.unwrap_or(MessageType::Raw);
    let alg = parse_opt::<SigningAlgorithm>(a.algorithm)?;
    let act = Act::key(Operation::Verify, &key);
    Ok(s.attempt(c, act, || async {
        let valid = s
            .kms
            .verify(&key, a.message, mt, alg, a.signature, a.version)
            .await?;
        let key_id = s.kms.key_id(&key).await?;
        Ok(Verified { key_id, valid })
    })
    .await)
}

/// Verifies a signature; `valid: false` when it does not match.
#[utoipa::path(post, path = "/api/v1/crypto/verify", tag = "crypto", request_body = VerifyRequest,
    responses((status = 200, description = "`VerifyResponse`, or `{batch_results: [...]}` for a batch", body = VerifyAnswer),
        ApiErrors), security(("token" = [])))]
pub async fn verify(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<VerifyRequest>,
) -> Result<Response, ApiError> {
    if let Some(items) = req.batch_input {
        let mut batch = Batch::start(items)?;
        while let Some(it) = batch.next_item() {
            let args = VerifyArgs {
                key: it.key.as_deref().or(req.key.as_deref()),
                message: &it.message,
                signature: &it.signature,
                message_type: it.message_type.as_deref().or(req.message_type.as_deref()),
                algorithm: it.algorithm.as_deref().or(req.algorithm.as_deref()),
                version: it.version,
            };
            let a = verify_one(&s, &caller, args).await;
            batch.push(it.reference, a, verified);
        }
        return batch.respond(&s, &caller).await;
    }
    let message = required(req.message, "message")?;
    let signature = required(req.signature, "signature")?;
    let args = VerifyArgs {
        key: req.key.as_deref(),
        message: &message,
        signature: &signature,
        message_type: req.message_type.as_deref(),
        algorithm: req.algorithm.as_deref(),
        version: req.version,
    };
    let a = verify_one(&s, &caller, args).await?;
    Ok(Json(verified(finish(&s, &caller, a).await?)).into_response())
}
