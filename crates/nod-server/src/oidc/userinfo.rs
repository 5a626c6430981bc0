//! `GET|POST /vipps-userinfo-api/userinfo`: the claims of the scopes granted.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::openapi::schemas as doc;
use crate::paths;
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::bearer_token;
use crate::web::render::NO_STORE;

#[utoipa::path(
    method(get, post),
    path = paths::USERINFO,
    operation_id = "userinfo",
    tag = "OpenID Connect",
    responses(
        (status = 200, description = "The claims of the scopes granted (also at `…/userinfo/`).", body = doc::Userinfo),
        // No schema: the answer to a request without a token has no body at all.
        (status = 401, description = "No token was sent: no body at all (RFC 6750 §3.1). An unknown, expired or revoked access token: an `OAuthError` body, `invalid_token`.",
            headers(("WWW-Authenticate" = String, description = "`Bearer`, or `Bearer error=\"invalid_token\"`"))),
        doc::Unavailable,
    ),
    security(("access_token" = [])),
)]
/// The claims of the scopes granted to the access token.
pub(super) async fn get_userinfo(
    state: AppState,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let claims = state.service.userinfo(bearer_token(&headers)).await?;
    Ok(([NO_STORE], axum::Json(claims)).into_response())
}
