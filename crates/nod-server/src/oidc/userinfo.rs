//! `GET|POST /vipps-userinfo-api/userinfo`: the claims of the scopes granted.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::bearer_token;
use crate::web::render::NO_STORE;

pub(super) async fn get_userinfo(
    state: AppState,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let claims = state.service.userinfo(bearer_token(&headers)).await?;
    Ok(([NO_STORE], axum::Json(claims)).into_response())
}
