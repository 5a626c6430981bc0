//! `WebhookReceiver`: a merchant's endpoint on `127.0.0.1:0` that records what Nod sends
//! it (Webhooks API events, `CONSENT_REVOKED`, CIBA pings): the raw body, the headers and
//! the path with its query, so tests can check signatures themselves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::Value;
use tokio::sync::Mutex;

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub authorization: Option<String>,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
    /// The body exactly as it arrived.
    pub raw: Bytes,
    pub headers: HeaderMap,
    /// The request target: path and query, as the merchant's server sees it.
    pub uri: Uri,
}

impl Received {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.raw).unwrap()
    }
}

pub(crate) struct WebhookReceiver {
    /// Where Nod should send: `http://127.0.0.1:{port}/hook`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    calls: Arc<AtomicUsize>,
}

impl WebhookReceiver {
    /// Accepts every request with `204 No Content`.
    pub(crate) async fn start() -> Self {
        Self::answering(0, false).await
    }

    /// Answers `503` the first `failures` times, then accepts.
    pub(crate) async fn failing_first(failures: usize) -> Self {
        Self::answering(failures, false).await
    }

    /// Never answers.
    pub(crate) async fn never_answering() -> Self {
        Self::answering(0, true).await
    }

    async fn answering(failures: usize, hang: bool) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let calls = Arc::new(AtomicUsize::new(0));
        let sink = received.clone();
        let counter = calls.clone();
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |uri: Uri, headers: HeaderMap, raw: Bytes| {
                let sink = sink.clone();
                let calls = counter.clone();
                async move {
                    if hang {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    if calls.fetch_add(1, Ordering::SeqCst) < failures {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    let authorization = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned());
                    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
                    sink.lock().await.push(Received {
                        authorization,
                        body,
                        raw,
                        headers,
                        uri,
                    });
                    StatusCode::NO_CONTENT
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            url,
            received,
            calls,
        }
    }

    /// The first request accepted, waiting for it (Nod sends in the background).
    pub(crate) async fn first(&self, within: Duration) -> Received {
        self.wait_for(1, within).await.remove(0)
    }

    /// The first `n` requests accepted, waiting for them.
    pub(crate) async fn wait_for(&self, n: usize, within: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            {
                let received = self.received.lock().await;
                if received.len() >= n {
                    return received[..n].to_vec();
                }
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} requests not received within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Every request accepted so far.
    pub(crate) async fn received(&self) -> Vec<Received> {
        self.received.lock().await.clone()
    }

    /// How many requests arrived, refused ones included.
    pub(crate) fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}
