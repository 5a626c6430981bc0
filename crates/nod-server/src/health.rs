//! Health checks: `/health/live` (the process answers) and `/health/ready` (the database
//! answers too, within a second: a database that does not answer at all must not hold
//! the check until the pool gives up, since a load balancer wants its answer now).

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(get_ready))
}

/// How long `/health/ready` waits for the database.
const READY_WITHIN: Duration = Duration::from_secs(1);

async fn get_ready(state: AppState) -> (StatusCode, &'static str) {
    match tokio::time::timeout(READY_WITHIN, state.service.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ok"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within a second");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
        }
    }
}
