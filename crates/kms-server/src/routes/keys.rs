//! Keys: create, list, describe, update, tags, rotate, enable, disable,
//! schedule and cancel deletion, public key, import (BYOK).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kms_core::types::{CreateKeyRequest as CoreCreate, KeyUpdate, ListKeysRequest};
use kms_core::{AliasName, KeyMetadata, KeyOrigin, KeySpec, Operation};
use kms_proto::keys::{
    CreateKeyRequest, ImportKeyMaterialRequest, ImportParametersResponse, KeyInfo, KeyList,
    ListKeysQuery, PublicKeyQuery, PublicKeyResponse, ScheduleDeletionRequest, TagsRequest,
    UpdateKeyRequest,
};

use super::{ApiErrors, key_ref, parse_opt};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::{Act, AppState};

type KeyAnswer = Result<Json<KeyInfo>, ApiError>;

fn info(m: Arc<KeyMetadata>) -> Json<KeyInfo> {
    Json(KeyInfo::from(m.as_ref()))
}

/// Creates a key.
#[utoipa::path(post, path = "/api/v1/keys", tag = "keys", request_body = CreateKeyRequest,
    responses((status = 201, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<KeyInfo>), ApiError> {
    let alias = req.alias.as_deref().map(AliasName::parse).transpose()?;
    let mut core = CoreCreate::new(req.spec.unwrap_or(KeySpec::Aes256));
    core.usage = req.usage;
    core.description = req.description;
    core.tags = req.tags;
    core.alias = alias.clone();
    core.origin = req.origin.unwrap_or(KeyOrigin::Generated);
    core.rotation_period_days = req.rotation_period_days;
    let mut act = Act::keyless(Operation::CreateKey);
    if let Some(a) = &alias {
        act = act.named(a.to_string());
    }
    let meta = s.run(&caller, act, || s.kms.create_key(core)).await?;
    Ok((StatusCode::CREATED, info(meta)))
}

/// Lists keys, a page at a time.
#[utoipa::path(get, path = "/api/v1/keys", tag = "keys", params(ListKeysQuery),
    responses((status = 200, body = KeyList), ApiErrors), security(("token" = [])))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListKeysQuery>,
) -> Result<Json<KeyList>, ApiError> {
    let req = ListKeysRequest {
        limit: q.limit,
        marker: q.marker,
        alias: q.alias.as_deref().map(AliasName::parse).transpose()?,
        tag: q.tag.map(|t| match t.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (t, None),
        }),
        state: parse_opt(q.state.as_deref())?,
        spec: parse_opt(q.spec.as_deref())?,
    };
    let page = s
        .run(&caller, Act::keyless(Operation::ListKeys), || {
            s.kms.list_keys(&req)
        })
        .await?;
    Ok(Json(KeyList {
        keys: page.keys.iter().map(KeyInfo::from).collect(),
        next_marker: page.next_marker,
    }))
}

/// Describes a key (by id, `alias/NAME` URL-encoded, or bare alias name).
#[utoipa::path(get, path = "/api/v1/keys/{key}", tag = "keys", params(("key" = String, Path)),
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn describe(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let act = Act::key(Operation::DescribeKey, &key);
    Ok(info(
        s.run(&caller, act, || s.kms.describe_key(&key)).await?,
    ))
}

/// Updates description, tags, rotation period or minimum decryption version.
#[utoipa::path(patch, path = "/api/v1/keys/{key}", tag = "keys", params(("key" = String, Path)),
    request_body = UpdateKeyRequest,
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateKeyRequest>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let upd = KeyUpdate {
        description: req.description,
        set_tags: req.set_tags,
        remove_tags: req.remove_tags,
        rotation_period_days: req
            .rotation_period_days
            .map(|d| if d == 0 { None } else { Some(d) }),
        min_decryption_version: req.min_decryption_version,
    };
    let act = Act::key(Operation::UpdateKey, &key);
    Ok(info(
        s.run(&caller, act, || s.kms.update_key(&key, upd)).await?,
    ))
}

/// Sets tags (others are kept).
#[utoipa::path(put, path = "/api/v1/keys/{key}/tags", tag = "keys", params(("key" = String, Path)),
    request_body = TagsRequest,
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn set_tags(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(req): ApiJson<TagsRequest>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let upd = KeyUpdate {
        set_tags: req.tags,
        ..KeyUpdate::default()
    };
    let act = Act::key(Operation::UpdateKey, &key);
    Ok(info(
        s.run(&caller, act, || s.kms.update_key(&key, upd)).await?,
    ))
}

/// Removes one tag.
#[utoipa::path(delete, path = "/api/v1/keys/{key}/tags/{name}", tag = "keys",
    params(("key" = String, Path), ("name" = String, Path)),
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn remove_tag(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath((key, name)): ApiPath<(String, String)>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let upd = KeyUpdate {
        remove_tags: vec![name],
        ..KeyUpdate::default()
    };
    let act = Act::key(Operation::UpdateKey, &key);
    Ok(info(
        s.run(&caller, act, || s.kms.update_key(&key, upd)).await?,
    ))
}

macro_rules! state_change {
    ($(#[$doc:meta])* $name:ident, $path:literal, $op:expr, $call:ident) => {
        $(#[$doc])*
        #[utoipa::path(post, path = $path, tag = "keys", params(("key" = String, Path)),
            responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
        pub async fn $name(State(s): State<AppState>, caller: Caller, ApiPath(key): ApiPath<String>) -> KeyAnswer {
            let key = key_ref(&key)?;
            let act = Act::key($op, &key);
            Ok(info(s.run(&caller, act, || s.kms.$call(&key)).await?))
        }
    };
}

state_change!(
    /// Adds a new version; encryption and signing use it from now on.
    rotate, "/api/v1/keys/{key}/rotate", Operation::RotateKey, rotate_key);
state_change!(
    /// Enables a key.
    enable, "/api/v1/keys/{key}/enable", Operation::EnableKey, enable_key);
state_change!(
    /// Disables a key.
    disable, "/api/v1/keys/{key}/disable", Operation::DisableKey, disable_key);
state_change!(
    /// Cancels a scheduled deletion (the key becomes Disabled).
    cancel_deletion, "/api/v1/keys/{key}/cancel-deletion", Operation::CancelKeyDeletion, cancel_key_deletion);

/// Schedules the key's destruction after 7–30 days (default 30).
#[utoipa::path(post, path = "/api/v1/keys/{key}/schedule-deletion", tag = "keys",
    params(("key" = String, Path)), request_body = ScheduleDeletionRequest,
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn schedule_deletion(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(req): ApiJson<ScheduleDeletionRequest>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let act = Act::key(Operation::ScheduleKeyDeletion, &key);
    Ok(info(
        s.run(&caller, act, || s.kms.schedule_key_deletion(&key, req.days))
            .await?,
    ))
}

/// The public key of an asymmetric key (DER and PEM).
#[utoipa::path(get, path = "/api/v1/keys/{key}/public-key", tag = "keys",
    params(("key" = String, Path), PublicKeyQuery),
    responses((status = 200, body = PublicKeyResponse), ApiErrors), security(("token" = [])))]
pub async fn public_key(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<PublicKeyQuery>,
) -> Result<Json<PublicKeyResponse>, ApiError> {
    let key = key_ref(&key)?;
    let act = Act::key(Operation::GetPublicKey, &key);
    let p = s
        .run(&caller, act, || s.kms.public_key(&key, q.version))
        .await?;
    Ok(Json(PublicKeyResponse::from(&p)))
}

/// The wrapping key and token to import material into a `PendingImport` key.
#[utoipa::path(post, path = "/api/v1/keys/{key}/import-parameters", tag = "keys",
    params(("key" = String, Path)),
    responses((status = 200, body = ImportParametersResponse), ApiErrors), security(("token" = [])))]
pub async fn import_parameters(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<ImportParametersResponse>, ApiError> {
    let key = key_ref(&key)?;
    let act = Act::key(Operation::GetImportParameters, &key);
    let p = s
        .run(&caller, act, || s.kms.import_parameters(&key))
        .await?;
    Ok(Json(p.into()))
}

/// Imports wrapped key material.
#[utoipa::path(post, path = "/api/v1/keys/{key}/import", tag = "keys",
    params(("key" = String, Path)), request_body = ImportKeyMaterialRequest,
    responses((status = 200, body = KeyInfo), ApiErrors), security(("token" = [])))]
pub async fn import(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(req): ApiJson<ImportKeyMaterialRequest>,
) -> KeyAnswer {
    let key = key_ref(&key)?;
    let act = Act::key(Operation::ImportKeyMaterial, &key);
    Ok(info(
        s.run(&caller, act, || {
            s.kms
                .import_key_material(&key, &req.import_token, &req.wrapped_material)
        })
        .await?,
    ))
}
