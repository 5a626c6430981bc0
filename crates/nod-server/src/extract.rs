//! Extractors that turn requests into protocol values, so handlers never see a malformed
//! one: form parameters (RFC 6749 rules), JSON bodies and bearer tokens, each
//! rejecting with an RFC-shaped error instead of axum's plain-text rejection.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, header};
use nod_core::OAuthError;
use nod_core::params::Params;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Parameters from an `application/x-www-form-urlencoded` body.
pub struct FormParams(pub Params);

impl<S: Send + Sync> FromRequest<S> for FormParams {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_form(req.headers()) {
            return Err(ApiError::bad_request(OAuthError::invalid_request(
                "the body must be application/x-www-form-urlencoded",
            )));
        }
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::bad_request(OAuthError::invalid_request("the body could not be read"))
        })?;
        Ok(Self(Params::parse(&body)?))
    }
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// A JSON body; a missing content type or malformed JSON is `invalid_request`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(req, state).await.map_err(|_| {
            ApiError::bad_request(OAuthError::invalid_request("the body could not be read"))
        })?;
        let body: &[u8] = if body.is_empty() { b"{}" } else { &body };
        serde_json::from_slice(body).map(Self).map_err(|e| {
            ApiError::bad_request(OAuthError::invalid_request(format!(
                "malformed JSON body: {e}"
            )))
        })
    }
}

/// The token of an `Authorization: Bearer` header, if one was sent.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty() && t.len() <= 512)
}
