//! Health checks and metrics: `/metrics` (see [`crate::metrics`]), `/health/live` (the process answers) and `/health/ready` (the database
//! answers too, within a second: a database that does not answer at all must not hold
//! the check until the pool gives up, since a load balancer wants its answer now).

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .route("/health/ready", get(get_ready))
        .route("/metrics", get(get_metrics))
}

/// `GET /metrics`: Prometheus's text format (see [`crate::metrics`]).
async fn get_metrics(state: AppState) -> Response {
    let store = &state.service.store;
    let waiting = match store.count_waiting(state.now()).await {
        Ok(waiting) => Some(waiting),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: counting waiting login requests");
            None
        }
    };
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        crate::metrics::render(store.pool_stats(), waiting),
    )
        .into_response()
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
