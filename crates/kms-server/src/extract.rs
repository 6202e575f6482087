//! Extractors whose rejections answer in the one error format.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use kms_core::Error;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The body limit (bytes) a request was accepted with, set by the router.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// `Json<T>` whose rejections are `400 invalid_input` or `413 payload_too_large`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = req.extensions().get::<BodyLimit>().map_or(0, |l| l.0);
        if !json_content_type(req.headers()) {
            return Err(json_rejection(
                JsonRejection::MissingJsonContentType(Default::default()),
                limit,
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|rej| json_rejection(rej.into(), limit))?;
        // The fast path reads the body once, without tracking where in
        // the document it is; only a body that fails is read again by
        // axum's own parser, whose message names the path of the error.
        match serde_json::from_slice::<T>(&bytes) {
            Ok(v) => Ok(ApiJson(v)),
            Err(_) => match axum::Json::<T>::from_bytes(&bytes) {
                Ok(axum::Json(v)) => Ok(ApiJson(v)),
                Err(rej) => Err(json_rejection(rej, limit)),
            },
        }
    }
}

/// `application/json` or `application/*+json`, as axum's `Json` requires.
fn json_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == "application"
                && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
        })
}

fn json_rejection(rej: JsonRejection, limit: usize) -> ApiError {
    if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::BodyTooLarge { limit };
    }
    let reason = match &rej {
        JsonRejection::MissingJsonContentType(_) => {
            "the request needs the header Content-Type: application/json".to_string()
        }
        other => other.body_text(),
    };
    ApiError::Core(Error::invalid("request body", reason))
}

/// `Query<T>` answering `400 invalid_input` on a bad query string.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| ApiError::Core(Error::invalid("query", e.body_text())))
    }
}

/// `Path<T>` answering `400 invalid_input` on a bad path segment.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| ApiError::Core(Error::invalid("path", e.body_text())))
    }
}
