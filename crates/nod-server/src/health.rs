//! Health checks: `/health/live` (the process answers) and `/health/ready` (the database
//! answers too).

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(get_ready))
}

async fn get_ready(state: AppState) -> (StatusCode, &'static str) {
    match state.service.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok"),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
