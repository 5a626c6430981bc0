//! Nod's HTTP server: the OpenID Connect endpoints on the compatible paths, the login
//! pages, the app API, health checks, and the state they share.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, header};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

mod app_api;
mod ciba;
mod clock;
mod config;
pub mod demo;
mod discovery;
mod events;
mod health;
mod i18n;
pub mod keys;
mod listen;
mod merchant_api;
mod metrics;
mod oidc;
mod openapi;
mod pages;
pub mod paths;
mod ratelimit;
mod relay;
mod service;
mod state;
mod test_app;
mod web;
mod webhooks;

pub use clock::{Clock, SystemClock, TestClock};
pub use config::ServerConfig;
pub use state::{App, AppState};

/// Every route of Nod, with its layers.
pub fn build_router(app: Arc<App>) -> Router {
    let test_mode = app.config.test_mode;
    let openapi = openapi::router(&app.config);
    let state = AppState(app);
    let mut router = Router::new()
        .merge(oidc::router())
        .merge(ciba::router())
        .merge(pages::router())
        .merge(app_api::router())
        .merge(merchant_api::router())
        .merge(health::router())
        .merge(openapi);
    if test_mode {
        router = router
            .merge(test_app::router())
            .merge(demo::router())
            .merge(app_api::test_mode_router());
    }
    metrics::init();
    router
        .fallback(pages::not_found)
        .route_layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
        // Layers run bottom-up on the request: every request gets an id (kept when a
        // proxy sent one) that goes on its log lines and back on the response; tracing
        // sees everything, then the body limit and the system headers check; on the way
        // out, a JSON API's unknown paths and methods are answered in its JSON, error
        // pages are rendered in the request's language (with the request id), and then
        // the security headers go on every response.
        .layer(axum::middleware::from_fn(web::error::json_api_misses))
        .layer(axum::middleware::from_fn(web::error::render_problem_pages))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(axum::middleware::from_fn(oidc::check_system_headers))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        // A request (its body read, its handler) gets 30 s to produce a response; an
        // event stream's response comes at once and then streams.
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let id = req
                    .headers()
                    .get(web::error::REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                // The path only: query strings carry codes and states.
                tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Serves until the shutdown future completes; runs housekeeping in the background.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let _housekeeping = Housekeeping::start(app.clone())?;
    let router = build_router(app);
    listen::serve(listener, router, shutdown).await
}

/// The background work (the purge, the relay between instances, webhook deliveries, key
/// reloads) on
/// a thread of its own, with a runtime of its own. The store runs SQLite's statements
/// on the calling thread, and when another process holds the database a write waits
/// out the busy timeout there: that wait must hold neither a thread that serves
/// requests nor a request queued on it. Stops when dropped (with the server).
struct Housekeeping {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Housekeeping {
    fn start(app: Arc<App>) -> std::io::Result<Self> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        std::thread::Builder::new()
            .name("nod-housekeeping".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let purge = tokio::spawn(purge_loop(app.clone()));
                    let relay = tokio::spawn(relay::run(app.clone()));
                    let keys = tokio::spawn(reload_keys(app.clone()));
                    let deliveries = tokio::spawn(webhooks::deliver(
                        app.service.outbox.clone(),
                        app.service.http.clone(),
                        app.service.clock.clone(),
                    ));
                    // The sender is dropped with the server, or sends at its end.
                    let _ = stopped.await;
                    purge.abort();
                    deliveries.abort();
                    relay.abort();
                    keys.abort();
                });
            })?;
        Ok(Self { stop: Some(stop) })
    }
}

impl Drop for Housekeeping {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Rereads the signing keys every `key_reload_interval` seconds, so that a key another
/// instance or `nod keys rotate` stored is published here before it signs. A timer rather
/// than a message between the instances: it works the same on SQLite and PostgreSQL, and
/// nothing is lost when a message would be (see docs/decisions.md).
async fn reload_keys(app: Arc<App>) {
    let every = u64::try_from(app.config.key_reload_interval)
        .unwrap_or(60)
        .max(1);
    let mut tick = tokio::time::interval(Duration::from_secs(every));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let service = &app.service;
        match service.keys.reload(service.store.as_ref(), app.now()).await {
            Ok(true) => tracing::info!("signing keys reloaded"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "signing keys: reload failed"),
        }
    }
}

/// How often expired rows are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// Deletes expired codes, tokens, login requests and browsers every ten minutes, on one
/// instance at a time: the instance that holds the `purge` lease, which it renews at
/// each round. When it stops, another takes the lease over within two rounds.
async fn purge_loop(app: Arc<App>) {
    let holder = uuid::Uuid::new_v4().to_string();
    let lease = i64::try_from(PURGE_EVERY.as_secs()).unwrap_or(600) + 60;
    let mut tick = tokio::time::interval(PURGE_EVERY);
    loop {
        tick.tick().await;
        let now = app.now();
        match app
            .service
            .store
            .take_lease("purge", &holder, now, now + lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "purge: the lease could not be taken");
                continue;
            }
        }
        match app.service.purge_expired().await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired rows"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
    }
}
