//! Events Nod sends to merchants: webhooks such as `CONSENT_REVOKED`, and CIBA ping
//! notifications. Sent from a background task with retries and back-off, so no request
//! ever waits for a merchant, and a merchant that never answers costs one timer.

use std::time::Duration;

use serde_json::Value;

/// Pauses before each retry.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Posts `body` to `url` in the background until it is accepted (2xx) or the retries run out.
pub(crate) fn send(http: reqwest::Client, url: String, body: Value) {
    send_with_bearer(http, url, None, body);
}

/// Like [`send`], with `Authorization: Bearer {token}` (CIBA ping notifications).
pub(crate) fn send_with_bearer(
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    body: Value,
) {
    tokio::spawn(async move {
        for (attempt, pause) in std::iter::once(Duration::ZERO).chain(BACKOFF).enumerate() {
            tokio::time::sleep(pause).await;
            let mut request = http.post(&url).json(&body).timeout(ATTEMPT_TIMEOUT);
            if let Some(token) = &token {
                request = request.bearer_auth(token);
            }
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
