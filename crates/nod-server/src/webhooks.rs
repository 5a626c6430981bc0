//! Sending what Nod tells merchants: Webhooks API events (signed with HMAC-SHA256 as the
//! Vipps Webhooks API's request authentication describes), the Login API's
//! `CONSENT_REVOKED` webhook, and CIBA ping notifications.
//!
//! Each goes through the outbox of the store: the move that causes it stores the
//! request ([`Outbox::send`]), and the worker of every instance ([`deliver`]) claims
//! what is due, sends it, and retries with back-off until the merchant answers 2xx. So
//! no request waits for a merchant, a restart loses nothing, two instances never send
//! one request at the same time, and what an instance that died was sending is sent by
//! another once its hold runs out.

use std::sync::Arc;
use std::time::Duration;

use nod_core::Timestamp;
use nod_core::webhook::{self, SignedTarget};
use nod_store::{Delivery, DeliveryAuth, Store};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::clock::{Clock, SystemClock};

/// Pauses before each retry: after the first attempt, the second, …
const BACKOFF: [i64; 4] = [1, 5, 30, 120];

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How often the worker looks for deliveries due, when nothing wakes it.
const POLL_EVERY: Duration = Duration::from_secs(1);

/// Deliveries one claim takes at most.
const CLAIM_AT_MOST: u32 = 64;

/// How long a claimed delivery is held, longer than an attempt can take: when the
/// instance holding it dies, another sends it after this.
const HOLD: i64 = 60;

/// The outbox's side in the server: stores deliveries and wakes this instance's worker.
pub struct Outbox {
    store: Arc<dyn Store>,
    /// Attempt times are the real clock's, whatever clock the service runs on.
    clock: SystemClock,
    wake: Notify,
}

impl Outbox {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            clock: SystemClock,
            wake: Notify::new(),
        }
    }

    /// Stores a request for the worker to send. A failure is logged: the move that
    /// caused it has happened already.
    pub(crate) async fn send(
        &self,
        url: String,
        content_type: &str,
        body: Vec<u8>,
        auth: DeliveryAuth,
    ) {
        let now = self.clock.now();
        let delivery = Delivery {
            id: Uuid::new_v4(),
            url,
            content_type: content_type.into(),
            body,
            auth,
            attempts: 0,
            due_at: now,
            created_at: now,
        };
        match self.store.enqueue_delivery(&delivery).await {
            Ok(()) => self.wake.notify_one(),
            Err(e) => tracing::error!(error = %e, url = delivery.url, "notification not stored"),
        }
    }

    /// Stores a JSON request.
    pub(crate) async fn send_json(
        &self,
        url: String,
        body: &serde_json::Value,
        auth: DeliveryAuth,
    ) {
        self.send(url, "application/json", body.to_string().into_bytes(), auth)
            .await;
    }
}

/// This instance's worker: claims the deliveries that are due and sends each on a task
/// of its own, until the server stops. `clock` dates the Webhooks API signatures.
pub(crate) async fn deliver(outbox: Arc<Outbox>, http: reqwest::Client, clock: Arc<dyn Clock>) {
    loop {
        let now = outbox.clock.now();
        match outbox
            .store
            .claim_deliveries(now, now + HOLD, CLAIM_AT_MOST)
            .await
        {
            Ok(due) => {
                let full = due.len() == CLAIM_AT_MOST as usize;
                for delivery in due {
                    tokio::spawn(attempt(
                        outbox.clone(),
                        http.clone(),
                        clock.clone(),
                        delivery,
                    ));
                }
                if full {
                    continue;
                }
            }
            Err(e) => tracing::warn!(error = %e, "outbox: claim failed"),
        }
        // Woken by a new delivery, or after a while for retries and others' leftovers.
        let _ = tokio::time::timeout(POLL_EVERY, outbox.wake.notified()).await;
    }
}

/// One attempt: finished when accepted (or when it can never be sent), else let go until
/// its next attempt, or given up after the last.
async fn attempt(
    outbox: Arc<Outbox>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    delivery: Delivery,
) {
    let attempts = delivery.attempts + 1;
    let accepted = match request(&http, clock.now(), &delivery) {
        Err(why) => {
            tracing::error!(why, url = delivery.url, "notification cannot be sent");
            true
        }
        Ok(request) => match request.send().await {
            Ok(response) if response.status().is_success() => true,
            Ok(response) => {
                tracing::warn!(status = %response.status(), attempts, url = delivery.url, "notification refused");
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, attempts, url = delivery.url, "notification failed");
                false
            }
        },
    };
    let store = &outbox.store;
    let result = match BACKOFF.get(delivery.attempts as usize) {
        _ if accepted => store.finish_delivery(delivery.id).await,
        Some(pause) => {
            store
                .retry_delivery(delivery.id, attempts, outbox.clock.now() + pause)
                .await
        }
        None => {
            tracing::error!(
                attempts,
                url = delivery.url,
                "notification given up after retries"
            );
            store.finish_delivery(delivery.id).await
        }
    };
    if let Err(e) = result {
        // Still held: it is sent again once the hold runs out.
        tracing::warn!(error = %e, "outbox: could not record an attempt");
    }
}

/// The HTTP request for a delivery, authenticated as it says, dated `now`.
fn request(
    http: &reqwest::Client,
    now: Timestamp,
    delivery: &Delivery,
) -> Result<reqwest::RequestBuilder, &'static str> {
    let mut request = http
        .post(&delivery.url)
        .header(CONTENT_TYPE, delivery.content_type.as_str())
        .body(delivery.body.clone())
        .timeout(ATTEMPT_TIMEOUT);
    match &delivery.auth {
        DeliveryAuth::None => {}
        DeliveryAuth::Bearer(token) => request = request.bearer_auth(token),
        DeliveryAuth::Hmac(secret) => {
            // The date is the attempt's, so a retry carries its own.
            let url = url::Url::parse(&delivery.url).map_err(|_| "the URL does not parse")?;
            let target = SignedTarget::of(&url).ok_or("the URL has no host")?;
            let date = webhook::http_date(now);
            let hash = webhook::content_hash(&delivery.body);
            let authorization = webhook::authorization(secret, &target, &date, &hash);
            let value = |s: &str| HeaderValue::from_str(s).map_err(|_| "bad header value");
            request = request
                .header("x-ms-date", value(&date)?)
                .header("x-ms-content-sha256", value(&hash)?)
                .header(AUTHORIZATION, value(&authorization)?);
        }
    }
    Ok(request)
}
