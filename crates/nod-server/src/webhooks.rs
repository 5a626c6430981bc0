//! Sending what Nod tells merchants: Webhooks API events (signed with HMAC-SHA256 as the
//! Vipps Webhooks API's request authentication describes), the Login API's
//! `CONSENT_REVOKED` webhook, and CIBA ping notifications. Each is sent from a background
//! task with retries and back-off until the merchant answers 2xx, so no request ever
//! waits for a merchant, and a merchant that never answers costs one timer.

use std::sync::Arc;
use std::time::Duration;

use nod_core::webhook::{self, SignedTarget};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

use crate::clock::Clock;

/// Pauses before each retry.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a request proves it comes from Nod.
pub(crate) enum Auth {
    /// Nothing (the Login API's `CONSENT_REVOKED` webhook).
    None,
    /// `Authorization: Bearer {token}` (CIBA ping notifications).
    Bearer(String),
    /// The Webhooks API's headers: `x-ms-date`, `x-ms-content-sha256` and
    /// `Authorization: HMAC-SHA256 …`, keyed with the registration's secret. The date
    /// comes from the clock at each attempt, so a retry carries its own date.
    Hmac {
        secret: String,
        clock: Arc<dyn Clock>,
    },
}

/// One request to deliver.
pub(crate) struct Delivery {
    pub url: String,
    pub content_type: &'static str,
    /// The body exactly as sent (the content hash covers these bytes).
    pub body: Vec<u8>,
    pub auth: Auth,
}

impl Delivery {
    /// A JSON body.
    pub(crate) fn json(url: String, body: &serde_json::Value, auth: Auth) -> Self {
        Self {
            url,
            content_type: "application/json",
            body: body.to_string().into_bytes(),
            auth,
        }
    }

    fn request(&self, http: &reqwest::Client) -> Result<reqwest::RequestBuilder, &'static str> {
        let mut request = http
            .post(&self.url)
            .header(CONTENT_TYPE, self.content_type)
            .body(self.body.clone())
            .timeout(ATTEMPT_TIMEOUT);
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => request = request.bearer_auth(token),
            Auth::Hmac { secret, clock } => {
                let url = url::Url::parse(&self.url).map_err(|_| "the URL does not parse")?;
                let target = SignedTarget::of(&url).ok_or("the URL has no host")?;
                let date = webhook::http_date(clock.now());
                let hash = webhook::content_hash(&self.body);
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
}

/// Sends `delivery` in the background until it is accepted (2xx) or the retries run out.
pub(crate) fn send(http: reqwest::Client, delivery: Delivery) {
    tokio::spawn(async move {
        for (attempt, pause) in std::iter::once(Duration::ZERO).chain(BACKOFF).enumerate() {
            tokio::time::sleep(pause).await;
            let request = match delivery.request(&http) {
                Ok(request) => request,
                Err(why) => {
                    tracing::error!(why, "notification cannot be sent");
                    return;
                }
            };
            match request.send().await {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => {
                    tracing::warn!(status = %response.status(), attempt, "notification refused")
                }
                Err(e) => tracing::warn!(error = %e, attempt, "notification failed"),
            }
        }
        tracing::error!("notification given up after retries");
    });
}
