//! The discovery document and the JWKS.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

pub(super) async fn get_discovery(state: AppState) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        )],
        axum::Json(state.discovery.clone()),
    )
        .into_response()
}

pub(super) async fn get_jwks(state: AppState) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        )],
        axum::Json(state.service.keys.jwks()),
    )
        .into_response()
}
