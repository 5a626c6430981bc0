//! What every request can reach: the engine, the settings, the discovery document and
//! the demo merchant's sessions. Handlers extract [`AppState`].

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use nod_store::Store;

use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::demo::sessions::DemoSessions;
use crate::events::Events;
use crate::keys::KeyRing;
use crate::ratelimit::RateLimiter;
use crate::service::SalesUnitCache;
use crate::service::Service;
use crate::webhooks::Outbox;

pub struct App {
    pub config: Arc<ServerConfig>,
    /// The login engine.
    pub service: Service,
    /// The discovery document, built once.
    pub discovery: serde_json::Value,
    /// Logins the demo merchant started (test mode).
    pub demo: DemoSessions,
}

impl App {
    /// Loads keys and settings from the store, generating what does not exist yet.
    pub async fn new(
        config: ServerConfig,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Arc<App>> {
        let now = clock.now();
        let keys = KeyRing::load(
            store.as_ref(),
            now,
            config.signing_alg,
            crate::keys::keep_after(config.id_token_lifetime),
        )
        .await?;
        let initial = nod_core::crypto::random_secret();
        let pairwise_key = store
            .setting_or_init("pairwise_key", initial.as_bytes())
            .await?;
        let config = Arc::new(config);
        let discovery = crate::discovery::document(&config);
        let http = reqwest::Client::builder()
            .user_agent(concat!("Nod/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        let service = Service {
            config: config.clone(),
            store: store.clone(),
            clock,
            events: Events::default(),
            keys,
            binding_key: nod_core::crypto::binding_key(&pairwise_key),
            pairwise_key,
            http,
            outbox: Arc::new(Outbox::new(store.clone())),
            phone_limiter: RateLimiter::new(config.phone_form_per_ip_per_minute),
            activation_limiter: RateLimiter::new(config.device_activation_per_ip_per_minute),
            authorize_limiter: RateLimiter::new(config.authorize_per_ip_per_minute),
            ciba_limiter: RateLimiter::new(config.ciba_start_per_client_per_minute),
            user_exists_limiter: RateLimiter::new(config.user_exists_per_client_per_minute),
            sales_units: SalesUnitCache::default(),
        };
        Ok(Arc::new(App {
            config,
            service,
            discovery,
            demo: DemoSessions::default(),
        }))
    }

    pub fn now(&self) -> nod_core::Timestamp {
        self.service.now()
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
