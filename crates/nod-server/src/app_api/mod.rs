//! The app API (`/app-api/v1`): what the person's phone app uses to register, see login
//! requests as they arrive, open deep links, confirm or reject, and manage consents and
//! remembered browsers. Authenticated with the device token as a Bearer token.

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

pub(crate) mod account;
mod device;
pub(crate) mod login_requests;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app-api/v1/devices",
            post(account::register_device).get(account::list_devices),
        )
        .route("/app-api/v1/devices/{id}", delete(account::revoke_device))
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

/// The routes that exist only in test mode.
pub(crate) fn test_mode_router() -> Router<AppState> {
    Router::new().route(
        "/app-api/v1/login-requests/{id}/outcome",
        post(login_requests::answer_with_outcome),
    )
}
