//! The app API (`/app-api/v1`): what the person's phone app uses to register, see login
//! requests as they arrive, open deep links, confirm or reject, and manage consents and
//! remembered browsers. Authenticated with the device token as a Bearer token.

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use nod_core::login::Device;
use serde::Serialize;

use crate::NO_STORE;
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::bearer_token;

mod account;
mod login_requests;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app-api/v1/devices", post(account::register_device))
        .route("/app-api/v1/test-users", get(account::list_test_users))
        .route(
            "/app-api/v1/login-requests",
            get(login_requests::list_login_requests),
        )
        .route(
            "/app-api/v1/login-requests/open",
            post(login_requests::open_login_request),
        )
        .route("/app-api/v1/events", get(login_requests::get_events))
        .route(
            "/app-api/v1/login-requests/{id}/approve",
            post(login_requests::approve_login_request),
        )
        .route(
            "/app-api/v1/login-requests/{id}/reject",
            post(login_requests::reject_login_request),
        )
        .route("/app-api/v1/profile", get(account::get_profile))
        .route("/app-api/v1/consents", get(account::list_consents))
        .route(
            "/app-api/v1/consents/{client_id}",
            delete(account::revoke_consent),
        )
        .route("/app-api/v1/browsers", get(account::list_browsers))
        .route("/app-api/v1/browsers/{id}", delete(account::forget_browser))
}

/// The device that sent the request, from its Bearer token.
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(DeviceAuth(
            state.service.device(bearer_token(&parts.headers)).await?,
        ))
    }
}

fn json_ok<T: Serialize>(body: T) -> Response {
    ([NO_STORE], axum::Json(body)).into_response()
}
