//! Events Nod sends to merchants' webhooks (such as `CONSENT_REVOKED`). Sent from a
//! background task with retries and back-off, so no request ever waits for a merchant.

use std::time::Duration;

use serde_json::Value;

/// Attempts and the pause before each retry.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(120),
];

/// Posts `body` to `url` in the background until it is accepted (2xx) or the retries run out.
pub fn send(http: reqwest::Client, url: String, body: Value) {
    tokio::spawn(async move {
        for (attempt, pause) in std::iter::once(Duration::ZERO).chain(BACKOFF).enumerate() {
            tokio::time::sleep(pause).await;
            match http
                .post(&url)
                .json(&body)
                .timeout(Duration::from_secs(10))
                .send()
                .await
            {
                Ok(response) if response.status().is_success() => return,
                Ok(response) => {
                    tracing::warn!(status = %response.status(), attempt, "webhook refused")
                }
                Err(e) => tracing::warn!(error = %e, attempt, "webhook failed"),
            }
        }
        tracing::error!(event = %body["event"], "webhook given up after retries");
    });
}
