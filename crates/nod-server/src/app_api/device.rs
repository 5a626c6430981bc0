//! The device behind a request: its Bearer token, checked by the engine; and the JSON
//! answer every app API call gives.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use nod_core::login::Device;
use serde::Serialize;

use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::bearer_token;
use crate::web::render::NO_STORE;

/// The device that sent the request, from its Bearer token.
pub(super) struct DeviceAuth(pub Device);

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

pub(super) fn json_ok<T: Serialize>(body: T) -> Response {
    ([NO_STORE], axum::Json(body)).into_response()
}
