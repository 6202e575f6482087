//! Tokens, policies and the audit log: `/api/v1/auth/{tokens,policies}`, `/api/v1/audit`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kms_proto::admin::{
    AuditList, AuditQuery, AuditVerifyResponse, CreateTokenRequest, CreatedTokenWire, PolicyList,
    PolicyRuleWire, PolicyWire, TokenInfo, TokenList,
};
use kms_proto::b64::SecretText;
use kms_store::{AuditFilter, Policy, PolicyRule, TokenRecord};
use time::format_description::well_known::Rfc3339;

use super::ApiErrors;
use crate::audit::record_to_wire;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::state::{Act, AppState};

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The public description of a token.
pub fn token_info(t: &TokenRecord) -> TokenInfo {
    TokenInfo {
        id: t.id.clone(),
        principal: t.principal.clone(),
        policies: t.policies.clone(),
        created_at: rfc3339(t.created_at),
        expires_at: t.expires_at.map(rfc3339),
        revoked_at: t.revoked_at.map(rfc3339),
    }
}

fn policy_wire(p: Policy) -> PolicyWire {
    PolicyWire {
        name: p.name,
        rules: p
            .rules
            .into_iter()
            .map(|r| PolicyRuleWire {
                operations: r.operations,
                keys: r.keys,
                require_context_keys: r.require_context_keys,
            })
            .collect(),
    }
}

/// Creates a token; the secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "auth", request_body = CreateTokenRequest,
    responses((status = 201, body = CreatedTokenWire), ApiErrors), security(("token" = [])))]
pub async fn create_token(
    State(s): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenWire>), ApiError> {
    // Only root may hand out root.
    if req.policies.iter().any(|p| p == kms_store::ROOT_POLICY) && !caller.root {
        return Err(kms_core::Error::PermissionDenied(
            "only a root token can create a root token".into(),
        )
        .into());
    }
    // Out-of-range lifetimes are refused by the store (1 s to 100 years).
    let ttl = req
        .ttl_seconds
        .map(|s| time::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX)));
    let act = Act::admin("token_create", "token", req.principal.clone());
    let (record, secret) = s
        .run(&caller, act, || async {
            let (secret, rec) = s
                .store
                .create_token(&req.principal, &req.policies, ttl)
                .await?;
            Ok((rec, secret))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenWire {
            token: SecretText::new(secret.to_string()),
            info: token_info(&record),
        }),
    ))
}

/// Lists tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth",
    responses((status = 200, body = TokenList), ApiErrors), security(("token" = [])))]
pub async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    let act = Act::admin("token_list", "token", "");
    let list = s.run(&caller, act, || s.store.list_tokens()).await?;
    Ok(Json(TokenList {
        tokens: list.iter().map(token_info).collect(),
    }))
}

/// Revokes a token by id.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth", params(("id" = String, Path)),
    responses((status = 200, body = TokenInfo), ApiErrors), security(("token" = [])))]
pub async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TokenInfo>, ApiError> {
    let act = Act::admin("token_revoke", "token", id.clone());
    let rec = s.run(&caller, act, || s.store.revoke_token(&id)).await?;
    s.auth.forget_tokens();
    Ok(Json(token_info(&rec)))
}

/// Creates or replaces a policy.
#[utoipa::path(put, path = "/api/v1/auth/policies/{name}", tag = "auth", params(("name" = String, Path)),
    request_body = PolicyWire,
    responses((status = 200, body = PolicyWire), ApiErrors), security(("token" = [])))]
pub async fn put_policy(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
    ApiJson(req): ApiJson<PolicyWire>,
) -> Result<Json<PolicyWire>, ApiError> {
    if req.name != name {
        return Err(
            kms_core::Error::invalid("name", "the body's name differs from the path's").into(),
        );
    }
    let policy = Policy {
        name: req.name,
        rules: req
            .rules
            .into_iter()
            .map(|r| PolicyRule {
                operations: r.operations,
                keys: r.keys,
                require_context_keys: r.require_context_keys,
            })
            .collect(),
    };
    let act = Act::admin("policy_write", "policy", name);
    s.run(&caller, act, || s.store.put_policy(&policy)).await?;
    s.auth.forget_tokens();
    Ok(Json(policy_wire(policy)))
}

/// Lists policies.
#[utoipa::path(get, path = "/api/v1/auth/policies", tag = "auth",
    responses((status = 200, body = PolicyList), ApiErrors), security(("token" = [])))]
pub async fn list_policies(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<PolicyList>, ApiError> {
    let act = Act::admin("policy_read", "policy", "");
    let list = s.run(&caller, act, || s.store.list_policies()).await?;
    Ok(Json(PolicyList {
        policies: list.into_iter().map(policy_wire).collect(),
    }))
}

/// Reads a policy.
#[utoipa::path(get, path = "/api/v1/auth/policies/{name}", tag = "auth", params(("name" = String, Path)),
    responses((status = 200, body = PolicyWire), ApiErrors), security(("token" = [])))]
pub async fn get_policy(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<PolicyWire>, ApiError> {
    let act = Act::admin("policy_read", "policy", name.clone());
    let p = s.run(&caller, act, || s.store.policy(&name)).await?;
    let p = p.ok_or_else(|| kms_core::Error::NotFound(format!("policy {name}")))?;
    Ok(Json(policy_wire(p)))
}

/// Deletes a policy.
#[utoipa::path(delete, path = "/api/v1/auth/policies/{name}", tag = "auth", params(("name" = String, Path)),
    responses((status = 204), ApiErrors), security(("token" = [])))]
pub async fn delete_policy(
    State(s): State<AppState>,
    caller: Caller,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let act = Act::admin("policy_delete", "policy", name.clone());
    s.run(&caller, act, || s.store.delete_policy(&name)).await?;
    s.auth.forget_tokens();
    Ok(StatusCode::NO_CONTENT)
}

/// Lists audit records, oldest first. Reading the log is itself audited.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditList), ApiErrors), security(("token" = [])))]
pub async fn list_audit(
    State(s): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditList>, ApiError> {
    let filter = AuditFilter {
        after_seq: q.after,
        limit: Some(q.limit.unwrap_or(100).min(1000)),
        principal: q.principal,
        operation: q.operation,
        entity_id: q.entity_id,
        outcome: q.outcome,
        since: q
            .since
            .as_deref()
            .map(|t| instant("since", t))
            .transpose()?,
        until: q
            .until
            .as_deref()
            .map(|t| instant("until", t))
            .transpose()?,
    };
    let act = Act::admin("audit_read", "audit", "");
    let records = s.run(&caller, act, || s.store.list_audit(&filter)).await?;
    Ok(Json(AuditList {
        records: records.iter().map(record_to_wire).collect(),
    }))
}

/// An RFC 3339 time of the audit query; anything else is a 400 naming the field.
fn instant(field: &'static str, text: &str) -> Result<time::OffsetDateTime, kms_core::Error> {
    time::OffsetDateTime::parse(text, &Rfc3339).map_err(|e| {
        kms_core::Error::invalid(
            field,
            format!("{text:?} is not an RFC 3339 time like 2026-01-01T00:00:00Z ({e})"),
        )
    })
}

/// Verifies the audit chain and names the first bad record.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, body = AuditVerifyResponse), ApiErrors), security(("token" = [])))]
pub async fn verify_audit(
    State(s): State<AppState>,
    caller: Caller,
) -> Result<Json<AuditVerifyResponse>, ApiError> {
    let act = Act::admin("audit_verify", "audit", "");
    let v = s.run(&caller, act, || s.store.verify_audit()).await?;
    Ok(Json(AuditVerifyResponse {
        ok: v.is_ok(),
        records: v.records,
        first_bad_seq: v.first_bad.as_ref().map(|b| b.0),
        reason: v.first_bad.map(|b| b.1),
    }))
}
