//! The OpenID Connect endpoints on the compatible paths: discovery and JWKS, authorize,
//! token and userinfo; and the check of the merchant system headers every call may carry.

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use nod_core::OAuthError;

use crate::paths;
use crate::state::AppState;
use crate::web::error::ApiError;

pub(crate) mod authorize;
pub(crate) mod discovery;
pub(crate) mod token;
pub(crate) mod userinfo;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::DISCOVERY, get(discovery::get_discovery))
        .route(paths::ROOT_DISCOVERY, get(discovery::get_discovery))
        .route(paths::JWKS, get(discovery::get_jwks))
        .route(paths::AUTHORIZE, get(authorize::authorize))
        .route(paths::TOKEN, post(token::post_token))
        .route(paths::REVOKE, post(token::post_revoke))
        .route(
            paths::USERINFO,
            get(userinfo::get_userinfo).post(userinfo::get_userinfo),
        )
        .route(
            paths::USERINFO_SLASH,
            get(userinfo::get_userinfo).post(userinfo::get_userinfo),
        )
}

/// Rejects over-long `Vipps-System-*` headers and logs the rest as structured fields.
pub(crate) async fn check_system_headers(request: Request, next: Next) -> Response {
    const NAMES: [&str; 4] = [
        "vipps-system-name",
        "vipps-system-version",
        "vipps-system-plugin-name",
        "vipps-system-plugin-version",
    ];
    let headers = request.headers();
    for name in NAMES {
        if let Some(value) = headers.get(name)
            && value.len() > 30
        {
            return ApiError::bad_request(OAuthError::invalid_request(format!(
                "header {name} is longer than 30 characters"
            )))
            .into_response();
        }
    }
    if NAMES.iter().any(|n| headers.contains_key(*n)) {
        let field = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info!(
            system_name = field(NAMES[0]),
            system_version = field(NAMES[1]),
            plugin_name = field(NAMES[2]),
            plugin_version = field(NAMES[3]),
            "merchant system"
        );
    }
    next.run(request).await
}
