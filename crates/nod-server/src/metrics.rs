//! `/metrics` in Prometheus's text format, recorded with the `metrics` crates: requests
//! by route, method and status with their latency, logins by journey and outcome, login
//! requests waiting in the app, open event streams, and the database pool.
//!
//! One recorder serves the process (the `metrics` macros write to a global one). Labels
//! are static strings: routes as the router declares them (never the raw path, whose
//! ids would make a series per login), so the number of series stays bounded and
//! recording allocates nothing but the key of a new series.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use nod_core::authorize::Flow;
use nod_core::login::{Amr, Kind, LoginRequest};

const REQUESTS: &str = "nod_http_requests_total";
const LATENCY: &str = "nod_http_request_duration_seconds";
const LOGINS: &str = "nod_logins_total";
const WAITING: &str = "nod_login_requests_waiting";
const STREAMS: &str = "nod_event_streams_open";
const POOL_OPEN: &str = "nod_db_pool_connections";
const POOL_IDLE: &str = "nod_db_pool_idle_connections";
const POOL_MAX: &str = "nod_db_pool_max_connections";

/// Latency buckets, seconds: a remembered login takes about a millisecond, a busy
/// database may take seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process's recorder, installed by the first app that asks.
fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        // Refused only for an empty list of buckets, which BUCKETS is not.
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(LATENCY.to_owned()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "HTTP requests answered, by route, method and status"
    );
    metrics::describe_histogram!(
        LATENCY,
        metrics::Unit::Seconds,
        "Time to answer an HTTP request (to the response head), by route"
    );
    metrics::describe_counter!(
        LOGINS,
        "Logins that ended, by journey and outcome (confirmed, or the error)"
    );
    metrics::describe_gauge!(WAITING, "Login requests waiting for an answer in the app");
    metrics::describe_gauge!(STREAMS, "Open server-sent event streams, by kind");
    metrics::describe_gauge!(POOL_OPEN, "Database connections open");
    metrics::describe_gauge!(POOL_IDLE, "Database connections open and unused");
    metrics::describe_gauge!(POOL_MAX, "Database connections the pool opens at most");
}

/// Installs the recorder (once per process) so that what is recorded from now on shows.
pub(crate) fn init() {
    handle();
}

/// Sets the gauges read at scrape time, then renders everything in text format.
pub(crate) fn render(pool: nod_store::PoolStats, waiting: Option<i64>) -> String {
    metrics::gauge!(POOL_OPEN).set(pool.open);
    metrics::gauge!(POOL_IDLE).set(pool.idle);
    metrics::gauge!(POOL_MAX).set(pool.max);
    if let Some(waiting) = waiting {
        // Precise enough for a gauge: an f64 holds every count below 2^53.
        #[expect(clippy::cast_precision_loss, reason = "a count far below 2^53")]
        metrics::gauge!(WAITING).set(waiting as f64);
    }
    handle().render()
}

/// Middleware: counts each request and times it to the response head, by the route that
/// matched. (Paths no route matches answer 404 from the fallback, uncounted.)
pub(crate) async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| intern(path.as_str()));
    let method = method_label(request.method());
    let response = next.run(request).await;
    let status = status_label(response.status());
    metrics::counter!(REQUESTS, "route" => route, "method" => method, "status" => status)
        .increment(1);
    metrics::histogram!(LATENCY, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// The routes, as `'static` labels: the router has a fixed set of them.
fn intern(route: &str) -> &'static str {
    static ROUTES: LazyLock<Mutex<HashMap<String, &'static str>>> = LazyLock::new(Default::default);
    let mut routes = ROUTES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = routes.get(route) {
        return known;
    }
    let leaked: &'static str = Box::leak(route.to_owned().into_boxed_str());
    routes.insert(route.to_owned(), leaked);
    leaked
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PUT => "PUT",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

/// The status as a `'static` label: the three digits of every code from 100 to 599.
fn status_label(status: StatusCode) -> &'static str {
    static CODES: LazyLock<Vec<String>> =
        LazyLock::new(|| (100..600).map(|code: u16| code.to_string()).collect());
    CODES
        .get(usize::from(status.as_u16().saturating_sub(100)))
        .map_or("other", String::as_str)
}

/// The journey a login took, as the metrics name it.
pub(crate) fn journey(login: &LoginRequest) -> &'static str {
    match (login.kind, login.flow) {
        (Kind::MerchantInitiated, _) if login.finishes_in_app() => "ciba_login_to_webpage",
        (Kind::MerchantInitiated, _) => "ciba",
        _ if login.amr == Some(Amr::RememberedBrowser) => "remembered",
        (Kind::Browser, Flow::Web) if login.challenge.is_some() => "desktop",
        (Kind::Browser, Flow::Web) => "mobile",
        (Kind::Browser, Flow::AppToApp) => "app_to_app",
        (Kind::Browser, Flow::AppToAppV2) => "app_to_app_v2",
        (Kind::Browser, Flow::AutomaticReturn) => "automatic_return",
    }
}

/// A login ended: `outcome` is `confirmed`, `expired`, or the error the merchant gets.
pub(crate) fn login_ended(journey: &'static str, outcome: &'static str) {
    metrics::counter!(LOGINS, "journey" => journey, "outcome" => outcome).increment(1);
}

/// Counts an open event stream of a kind until it is dropped.
pub(crate) struct OpenStream(&'static str);

impl OpenStream {
    pub(crate) fn new(kind: &'static str) -> Self {
        metrics::gauge!(STREAMS, "kind" => kind).increment(1);
        OpenStream(kind)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        metrics::gauge!(STREAMS, "kind" => self.0).decrement(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded_and_static() {
        assert_eq!(status_label(StatusCode::OK), "200");
        assert_eq!(status_label(StatusCode::SERVICE_UNAVAILABLE), "503");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        let a = intern("/app-api/v1/login-requests/{id}/approve");
        let b = intern("/app-api/v1/login-requests/{id}/approve");
        assert!(std::ptr::eq(a, b), "one leak per route");
    }
}
