//! The engine itself: what it holds, its error, and what its parts share (the audit
//! entry, announcing a closed request).

use std::sync::Arc;

use nod_core::login::LoginRequest;
use nod_core::{OAuthError, Timestamp};
use nod_store::{AuditEvent, Store, StoreError};
use uuid::Uuid;

use super::unit_cache::SalesUnitCache;
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::events::{Events, LoginEvent};
use crate::keys::KeyRing;
use crate::ratelimit::RateLimiter;
use crate::webhooks::Outbox;

/// Errors of the engine. Handlers map them into API errors (JSON) or page errors (HTML).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A protocol error, reported to the client with its code.
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    /// No such thing, or not this caller's.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// No active user has the phone number (test-mode registration).
    #[error("no active user has this phone number")]
    UnknownUser,
    /// The login request belongs to another browser.
    #[error("the login request was started in another browser")]
    WrongBrowser,
    /// A form without this login's CSRF token.
    #[error("the form is stale or forged")]
    BadCsrf,
    /// Someone else answered first, or the request is no longer open.
    #[error("the login request was already answered")]
    Conflict,
    /// The login request ran out of time.
    #[error("the login request has expired")]
    Expired,
    /// A limit was reached; try again after this many seconds.
    #[error("too many requests; retry after {retry_after} s")]
    TooMany {
        retry_after: i64,
        description: &'static str,
    },
    /// Client authentication failed; `scheme` is the HTTP authentication scheme the client
    /// tried, which the answer's challenge names (RFC 6749 §5.2).
    #[error("invalid client: {description}")]
    InvalidClient {
        description: &'static str,
        scheme: AuthScheme,
    },
    /// No bearer token at all.
    #[error("no bearer token")]
    NoBearerToken,
    /// A missing, unknown or expired bearer token.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),
    /// A request whose fields break the rules: each field and why (webhook registrations).
    #[error("invalid request: {}", describe(.0))]
    Invalid(Vec<nod_core::webhook::Invalid>),
    /// Refused, with the same answer whatever the reason (nothing to probe).
    #[error("refused: {0}")]
    Refused(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The HTTP authentication scheme a client used, if any: an `invalid_client` answer
/// challenges with the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// No `Authorization` header (`client_secret_post`, the access token API's headers).
    None,
    /// `client_secret_basic`.
    Basic,
    /// A partner's access token.
    Bearer,
}

/// `name: reason; name: reason`.
pub(crate) fn describe(problems: &[nod_core::webhook::Invalid]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.name, p.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The engine, shared by every handler.
pub struct Service {
    pub config: Arc<ServerConfig>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub events: Events,
    pub keys: KeyRing,
    /// Key for deriving pairwise subjects; stored in the database, the same for every instance.
    pub pairwise_key: Vec<u8>,
    /// Signs browser binding cookies (derived from the pairwise key).
    pub binding_key: [u8; 32],
    /// Client for Nod's own outgoing calls (webhooks, CIBA pings).
    pub http: reqwest::Client,
    /// Requests to merchants, sent by the outbox's worker.
    pub outbox: Arc<Outbox>,
    /// Phone-number submissions per address.
    pub phone_limiter: RateLimiter,
    /// Device activations per address (a budget of their own: a person activating their
    /// app is not refused because the phone form was busy, nor the other way round).
    pub activation_limiter: RateLimiter,
    /// Logins started at the authorization endpoint per address.
    pub authorize_limiter: RateLimiter,
    /// Merchant-initiated logins started per sales unit.
    pub ciba_limiter: RateLimiter<String>,
    /// `user-exists` questions per sales unit.
    pub user_exists_limiter: RateLimiter<String>,
    /// Sales units read in the last second.
    pub sales_units: SalesUnitCache,
}

impl Service {
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Counts one more for `key` on `limiter`: `TooMany` (retry when the minute is over)
    /// past the limit.
    pub(super) fn within_limit<K: std::hash::Hash + Eq>(
        &self,
        limiter: &RateLimiter<K>,
        key: Option<K>,
        description: &'static str,
    ) -> Result<()> {
        let now = self.now();
        if limiter.allow(key, now) {
            Ok(())
        } else {
            Err(ServiceError::TooMany {
                retry_after: 60 - now.rem_euclid(60),
                description,
            })
        }
    }

    /// The name of a sales unit as people see it (its client id when it is gone).
    pub async fn merchant_name(&self, client_id: &str) -> Result<String> {
        Ok(self
            .sales_unit(client_id)
            .await?
            .map(|u| u.name.clone())
            .unwrap_or_else(|| client_id.to_owned()))
    }

    /// A login request by the id in a path; `NotFound` for a malformed or unknown one.
    pub(super) async fn login_by_id(&self, id: &str) -> Result<LoginRequest> {
        let not_found = || ServiceError::NotFound("no such login request");
        let id = Uuid::parse_str(id).map_err(|_| not_found())?;
        self.store
            .get_login_request(id)
            .await?
            .ok_or_else(not_found)
    }

    /// Records a security event that is not part of a login move; a failure to record is
    /// logged, not shown.
    pub(super) async fn audit(
        &self,
        event: &str,
        user_id: Option<Uuid>,
        client_id: &str,
        detail: &str,
    ) {
        let entry = audit_entry(self.now(), event, user_id, client_id, detail);
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::warn!(error = %e, event, "audit log write failed");
        }
    }

    /// Tells waiting browsers and the person's apps that a login request moved on.
    pub(super) fn announce_closed(&self, login: &LoginRequest) {
        self.events.send(LoginEvent::Changed { id: login.id });
        if let Some(user_id) = login.user_id {
            self.events.send(LoginEvent::Closed {
                id: login.id,
                user_id,
            });
        }
    }
}

pub(super) fn audit_entry<'a>(
    at: Timestamp,
    event: &'a str,
    user_id: Option<Uuid>,
    client_id: &'a str,
    detail: &'a str,
) -> AuditEvent<'a> {
    AuditEvent {
        at,
        event,
        user_id,
        client_id: (!client_id.is_empty()).then_some(client_id),
        detail,
    }
}
