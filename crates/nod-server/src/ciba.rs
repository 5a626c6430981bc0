//! Merchant-initiated login (CIBA) on the compatible paths: the backchannel
//! authentication endpoint and `user-exists`. The CIBA grant is at the token endpoint.

use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::openapi::schemas as doc;
use crate::paths;
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::ClientForm;
use crate::web::render::NO_STORE;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::CIBA_START, post(start_ciba))
        .route(paths::USER_EXISTS, post(user_exists))
}

#[utoipa::path(
    post,
    path = paths::CIBA_START,
    tag = "merchant-initiated login",
    params(doc::MerchantSerialNumber),
    request_body(content = doc::CibaStartForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Started: poll the token endpoint with `auth_req_id` (or wait for the ping).", body = doc::CibaStarted),
        doc::ClientErrors,
        doc::TooMany,
    ),
    security(("client_secret_basic" = []), ("client_secret_post" = []), ("merchant_token" = [])),
)]
/// `POST /vipps-login-ciba/api/backchannel/authentication`.
async fn start_ciba(
    state: AppState,
    ClientForm { unit, params }: ClientForm,
) -> Result<Response, ApiError> {
    let started = state.service.start_ciba(&unit, &params).await?;
    let body = json!({
        "auth_req_id": started.auth_req_id,
        "expires_in": started.expires_in,
        "interval": started.interval,
    });
    Ok(([NO_STORE], axum::Json(body)).into_response())
}

#[utoipa::path(
    post,
    path = paths::USER_EXISTS,
    tag = "merchant-initiated login",
    params(doc::MerchantSerialNumber),
    request_body(content = doc::UserExistsForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether an active user has this number.", body = doc::UserExists),
        doc::ClientErrors,
        doc::TooMany,
    ),
    security(("client_secret_basic" = []), ("client_secret_post" = []), ("merchant_token" = [])),
)]
/// `POST /vipps-login-ciba/api/v1/user-exists`: whether a merchant-initiated login can
/// reach this person.
async fn user_exists(
    state: AppState,
    ClientForm { unit, params }: ClientForm,
) -> Result<Response, ApiError> {
    let exists = state
        .service
        .user_exists(&unit, params.require("login_hint")?)
        .await?;
    Ok(([NO_STORE], axum::Json(json!({ "exists": exists }))).into_response())
}
