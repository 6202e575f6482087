//! Extractors whose rejections answer in the one error format.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
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
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rej) => Err(json_rejection(rej, limit)),
        }
    }
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
