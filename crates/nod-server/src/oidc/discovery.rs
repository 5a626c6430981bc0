//! The discovery document and the JWKS.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The document built at start, with the algorithms of the keys published now (a
/// rotation may bring another).
pub(super) async fn get_discovery(state: AppState) -> Response {
    let mut document = state.discovery.clone();
    document["id_token_signing_alg_values_supported"] =
        serde_json::json!(state.service.keys.algorithms(state.now()));
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=3600"),
        )],
        axum::Json(document),
    )
        .into_response()
}

pub(super) async fn get_jwks(state: AppState) -> Response {
    (
        [(
            header::CACHE_CONTROL,
            HeaderValue::from_static("max-age=300"),
        )],
        axum::Json(state.service.keys.jwks(state.now())),
    )
        .into_response()
}
