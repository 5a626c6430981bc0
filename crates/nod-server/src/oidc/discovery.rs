//! The discovery document and the JWKS.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::openapi::schemas as doc;
use crate::paths;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = paths::DISCOVERY,
    tag = "OpenID Connect",
    responses(
        (status = 200, description = "The discovery document (also at `/.well-known/openid-configuration`).", body = doc::Discovery,
            headers(("Cache-Control" = String, description = "`max-age=3600`"))),
    ),
    security(()),
)]
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

#[utoipa::path(
    get,
    path = paths::JWKS,
    tag = "OpenID Connect",
    responses(
        (status = 200, description = "The published signing keys.", body = doc::Jwks,
            headers(("Cache-Control" = String, description = "`max-age=300`"))),
    ),
    security(()),
)]
/// The JWKS: the keys that sign ID tokens.
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
