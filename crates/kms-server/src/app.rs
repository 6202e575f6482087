//! The router: every route, the OpenAPI document, and the layers (request
//! ids, metrics, the sealed-mode guard, the body limit).

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::extract::BodyLimit;
use crate::routes::{admin, aliases, crypto, keys, mac, seed, signing, sys};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "KMS",
        description = "Seed API (`/api/v1/kms/...`), native API (`/api/v1/...`), sys, auth and audit. \
            Every answer carries `x-request-id`; errors are `{\"error\": code, \"message\": text}`."
    ),
    modifiers(&TokenScheme),
    tags(
        (name = "seed", description = "The seed 001 API on the default key"),
        (name = "keys", description = "Key lifecycle"),
        (name = "aliases", description = "Aliases"),
        (name = "crypto", description = "Cryptographic operations, with batch_input"),
        (name = "sys", description = "Seal state and metrics"),
        (name = "auth", description = "Tokens and policies"),
        (name = "audit", description = "The hash-chained audit log"),
    )
)]
struct ApiDoc;

struct TokenScheme;

impl Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Paths a sealed server still answers.
const OPEN_WHEN_SEALED: &[&str] = &[
    "/api/v1/kms/health",
    "/api/v1/sys/health",
    "/api/v1/sys/seal-status",
    "/api/v1/sys/unseal",
    "/metrics",
    "/openapi.json",
];

async fn sealed_guard(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if s.store.is_sealed() && !OPEN_WHEN_SEALED.contains(&path) && !path.starts_with("/docs") {
        return ApiError::Core(kms_core::Error::Sealed).into_response();
    }
    next.run(req).await
}

async fn not_found(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::Core(kms_core::Error::NotFound(format!(
        "no route {method} {}; see /docs or /openapi.json",
        uri.path()
    )))
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::MethodNotAllowed(format!(
        "{method} is not allowed on {}; see /docs or /openapi.json for the methods it takes",
        uri.path()
    ))
}

/// A handler that panicked answers a generic 500 (and is logged) instead of
/// dropping the connection.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Core(kms_core::Error::Internal(
        "a request handler panicked".into(),
    ))
    .into_response()
}

/// The OpenAPI document and the routes it describes.
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(seed::encrypt))
        .routes(routes!(seed::decrypt))
        .routes(routes!(seed::generate_key))
        .routes(routes!(seed::status))
        .routes(routes!(seed::health))
        .routes(routes!(keys::create, keys::list))
        .routes(routes!(keys::describe, keys::update))
        .routes(routes!(keys::set_tags))
        .routes(routes!(keys::remove_tag))
        .routes(routes!(keys::rotate))
        .routes(routes!(keys::enable))
        .routes(routes!(keys::disable))
        .routes(routes!(keys::schedule_deletion))
        .routes(routes!(keys::cancel_deletion))
        .routes(routes!(keys::public_key))
        .routes(routes!(keys::import_parameters))
        .routes(routes!(keys::import))
        .routes(routes!(aliases::list, aliases::create))
        .routes(routes!(aliases::update, aliases::delete))
        .routes(routes!(crypto::encrypt))
        .routes(routes!(crypto::decrypt))
        .routes(routes!(crypto::re_encrypt))
        .routes(routes!(crypto::data_key))
        .routes(routes!(crypto::data_key_pair))
        .routes(routes!(crypto::random))
        .routes(routes!(signing::sign))
        .routes(routes!(signing::verify))
        .routes(routes!(mac::mac))
        .routes(routes!(mac::verify_mac))
        .routes(routes!(sys::status))
        .routes(routes!(sys::seal))
        .routes(routes!(sys::unseal))
        .routes(routes!(sys::metrics))
        .routes(routes!(admin::create_token, admin::list_tokens))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::list_policies))
        .routes(routes!(
            admin::put_policy,
            admin::get_policy,
            admin::delete_policy
        ))
        .routes(routes!(admin::list_audit))
        .routes(routes!(admin::verify_audit))
        .split_for_parts()
}

/// The whole application for one state.
pub fn app(state: AppState) -> Router {
    let (api, doc) = api_router();
    let limit = state.settings.max_request_bytes;
    api.route("/api/v1/sys/health", axum::routing::get(seed::health))
        .merge(SwaggerUi::new("/docs").url("/openapi.json", doc))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(Extension(BodyLimit(limit)))
        .layer(middleware::from_fn_with_state(state.clone(), sealed_guard))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
