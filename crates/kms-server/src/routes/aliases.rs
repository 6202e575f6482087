//! Aliases: list, create, re-point, delete.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kms_core::{AliasName, KeyRef, Operation};
use kms_proto::keys::{
    AliasInfo, AliasList, CreateAliasRequest, ListAliasesQuery, UpdateAliasRequest,
};

use super::{ApiErrors, key_ref};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::{Act, AppState};

/// Lists aliases, of one key or all.
#[utoipa::path(get, path = "/api/v1/aliases", tag = "aliases", params(ListAliasesQuery),
    responses((status = 200, body = AliasList), ApiErrors), security(("token" = [])))]
pub async fn list(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListAliasesQuery>,
) -> Result<Json<AliasList>, ApiError> {
    let key = q.key.as_deref().map(key_ref).transpose()?;
    let act = Act::maybe_key(Operation::ListAliases, key.as_ref());
    let list = s
        .run(&caller, act, || s.kms.list_aliases(key.as_ref()))
        .await?;
    Ok(Json(AliasList {
        aliases: list
            .into_iter()
            .map(|a| AliasInfo {
                alias: a.alias.to_string(),
                key_id: a.key_id,
            })
            .collect(),
    }))
}

/// Creates an alias.
#[utoipa::path(post, path = "/api/v1/aliases", tag = "aliases", request_body = CreateAliasRequest,
    responses((status = 201, body = AliasInfo), ApiErrors), security(("token" = [])))]
pub async fn create(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAliasRequest>,
) -> Result<(StatusCode, Json<AliasInfo>), ApiError> {
    let alias = AliasName::parse(&req.alias)?;
    let key = key_ref(&req.key)?;
    let act = Act::key(Operation::CreateAlias, &key).named(alias.to_string());
    s.run(&caller, act, || s.kms.create_alias(&alias, &key))
        .await?;
    let key_id = s.kms.key_id(&key).await?;
    Ok((
        StatusCode::CREATED,
        Json(AliasInfo {
            alias: alias.to_string(),
            key_id,
        }),
    ))
}

/// Points an alias at another key.
#[utoipa::path(put, path = "/api/v1/aliases/{alias}", tag = "aliases",
    params(("alias" = String, Path)), request_body = UpdateAliasRequest,
    responses((status = 200, body = AliasInfo), ApiErrors), security(("token" = [])))]
pub async fn update(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(alias): ApiPath<String>,
    ApiJson(req): ApiJson<UpdateAliasRequest>,
) -> Result<Json<AliasInfo>, ApiError> {
    let alias = AliasName::parse(&alias)?;
    let key = key_ref(&req.key)?;
    // The caller needs the right on the new key and on the alias's current key.
    let current = KeyRef::Alias(alias.clone());
    s.authorize(&caller, &Act::key(Operation::UpdateAlias, &current))
        .await?;
    let act = Act::key(Operation::UpdateAlias, &key).named(alias.to_string());
    s.run(&caller, act, || s.kms.update_alias(&alias, &key))
        .await?;
    let key_id = s.kms.key_id(&key).await?;
    Ok(Json(AliasInfo {
        alias: alias.to_string(),
        key_id,
    }))
}

/// Deletes an alias (the key stays).
#[utoipa::path(delete, path = "/api/v1/aliases/{alias}", tag = "aliases",
    params(("alias" = String, Path)),
    responses((status = 204), ApiErrors), security(("token" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(alias): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let alias = AliasName::parse(&alias)?;
    let key = KeyRef::Alias(alias.clone());
    let act = Act::key(Operation::DeleteAlias, &key);
    s.run(&caller, act, || s.kms.delete_alias(&alias)).await?;
    Ok(StatusCode::NO_CONTENT)
}
