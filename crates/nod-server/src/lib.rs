//! Nod's HTTP server: the OpenID Connect endpoints on the compatible paths, the login
//! pages, the app API, health checks, and the state they share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, header};
use nod_store::Store;
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub mod app_api;
pub mod ciba;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod events;
pub mod extract;
pub mod flow;
pub mod health;
pub mod i18n;
pub mod keys;
pub mod oidc;
pub mod pages;
pub mod paths;
pub mod ratelimit;
pub mod test_app;
pub mod webhooks;

pub use clock::{Clock, SystemClock, TestClock};
pub use config::ServerConfig;

use events::Events;
use keys::KeyRing;

/// What every request can reach.
pub struct App {
    pub config: ServerConfig,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: KeyRing,
    pub events: Events,
    /// Key for deriving pairwise subjects; stored in the database, the same for every instance.
    pub pairwise_key: Vec<u8>,
    /// The discovery document, built once.
    pub discovery: serde_json::Value,
    /// Client for Nod's own outgoing calls (webhooks, the demo merchant).
    pub http: reqwest::Client,
    /// Logins the demo merchant started (test mode).
    pub demo: demo::DemoSessions,
    /// Phone-number submissions per address.
    pub phone_limiter: ratelimit::RateLimiter,
}

impl App {
    /// Loads keys and settings from the store, generating what does not exist yet.
    pub async fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Arc<App>> {
        let now = clock.now();
        let keys = KeyRing::load(store.as_ref(), now).await?;
        let initial = nod_core::crypto::random_secret();
        let pairwise_key = store
            .setting_or_init("pairwise_key", initial.as_bytes())
            .await?;
        let discovery = oidc::discovery_document(&config);
        let phone_limiter = ratelimit::RateLimiter::new(config.phone_form_per_ip_per_minute);
        Ok(Arc::new(App {
            config,
            store,
            clock,
            keys,
            events: Events::default(),
            pairwise_key,
            discovery,
            http: reqwest::Client::builder()
                .user_agent(concat!("Nod/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(std::time::Duration::from_secs(5))
                .build()?,
            demo: demo::DemoSessions::default(),
            phone_limiter,
        }))
    }

    pub fn now(&self) -> nod_core::Timestamp {
        self.clock.now()
    }
}

/// The shared state handlers extract.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl<S> FromRequestParts<S> for AppState
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(AppState::from_ref(state))
    }
}

/// Every route of Nod, with its layers.
pub fn build_router(app: Arc<App>) -> Router {
    let test_mode = app.config.test_mode;
    let state = AppState(app);
    let mut router = Router::new()
        .merge(oidc::router())
        .merge(ciba::router())
        .merge(pages::router())
        .merge(app_api::router())
        .merge(health::router());
    if test_mode {
        router = router.merge(test_app::router()).merge(demo::router());
    }
    router
        .fallback(pages::not_found)
        .with_state(state)
        // Layers run bottom-up on the request: tracing sees everything, then the body
        // limit and the system headers check; on the way out, error pages are rendered in
        // the request's language and then the security headers go on every response.
        .layer(axum::middleware::from_fn(error::render_problem_pages))
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
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                // The path only: query strings carry codes and states.
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
}

/// Serves until the shutdown future completes; runs housekeeping in the background.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let purge = tokio::spawn(purge_loop(app.clone()));
    let router = build_router(app);
    // Event streams never end by themselves: after the signal, requests get a few seconds
    // to finish, then the server stops anyway.
    let (stopping, mut stopped) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stopping.send(true);
    };
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal);
    let grace = async move {
        let _ = stopped.wait_for(|s| *s).await;
        tokio::time::sleep(Duration::from_secs(5)).await;
    };
    let result = tokio::select! {
        result = server => result,
        () = grace => Ok(()),
    };
    purge.abort();
    result
}

/// Deletes expired codes, tokens, login requests and browsers every ten minutes.
async fn purge_loop(app: Arc<App>) {
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        match app.store.purge_expired(app.now()).await {
            Ok(n) if n > 0 => tracing::info!(rows = n, "purged expired rows"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
    }
}

/// `Cache-Control: no-store`, for every response that carries a token or personal data.
pub(crate) const NO_STORE: (HeaderName, HeaderValue) =
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
