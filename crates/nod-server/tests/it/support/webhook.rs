//! `WebhookReceiver`: a merchant's endpoint on `127.0.0.1:0` that records what Nod sends
//! it (webhooks, CIBA pings).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use tokio::sync::Mutex;

/// One request the receiver accepted.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub authorization: Option<String>,
    pub body: Value,
}

pub(crate) struct WebhookReceiver {
    /// Where Nod should send: `http://127.0.0.1:{port}/hook`.
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
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
        let router = axum::Router::new().route(
            "/hook",
            axum::routing::post(
                move |headers: HeaderMap, axum::Json(body): axum::Json<Value>| {
                    let sink = sink.clone();
                    let calls = calls.clone();
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
                        sink.lock().await.push(Received {
                            authorization,
                            body,
                        });
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { url, received }
    }

    /// The first request accepted, waiting for it (Nod sends in the background).
    pub(crate) async fn first(&self, within: Duration) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(first) = self.received.lock().await.first() {
                return first.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "nothing received within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
