//! `Phone`: the app on a person's phone, speaking the app API with its device token.

use nod_server::paths::APP_API;
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{Value, json};

pub(crate) struct Phone {
    base: String,
    client: reqwest::Client,
    number: Option<String>,
    token: Option<String>,
}

impl Phone {
    pub(super) fn new(
        base: &str,
        client: reqwest::Client,
        number: Option<&str>,
        token: Option<&str>,
    ) -> Self {
        Self {
            base: base.to_owned(),
            client,
            number: number.map(str::to_owned),
            token: token.map(str::to_owned),
        }
    }

    /// The phone number this app registered with.
    pub(crate) fn number(&self) -> &str {
        self.number.as_deref().expect("a registered phone")
    }

    /// A request to a path under the app API, with the device token if there is one.
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{APP_API}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn get_json(&self, path: &str) -> Value {
        let response = self.request(Method::GET, path).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.unwrap()
    }

    async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.request(Method::POST, path)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a device with this body.
    pub(crate) async fn register(&self, body: Value) -> Response {
        self.post_json("/devices", &body).await
    }

    /// The pending login requests, as the app lists them.
    pub(crate) async fn login_requests(&self) -> Response {
        self.request(Method::GET, "/login-requests")
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn pending(&self) -> Vec<Value> {
        let body: Value = self.login_requests().await.json().await.unwrap();
        body["login_requests"].as_array().unwrap().clone()
    }

    /// The one pending merchant-initiated request.
    pub(crate) async fn merchant_initiated(&self) -> Value {
        self.pending()
            .await
            .into_iter()
            .find(|r| r["kind"] == "merchant_initiated")
            .expect("a merchant-initiated request")
    }

    /// Approves the one merchant-initiated request waiting, consenting in the app.
    pub(crate) async fn approve_merchant_initiated(&self) -> Response {
        let request = self.merchant_initiated().await;
        let id = request["id"].as_str().unwrap();
        self.approve_with(id, json!({ "consent": true })).await
    }

    /// Approves with the number the person picked.
    pub(crate) async fn approve(&self, id: &str, challenge: u8, remember: bool) -> Response {
        self.approve_with(
            id,
            json!({ "challenge": challenge, "remember_browser": remember }),
        )
        .await
    }

    /// Approves with this body.
    pub(crate) async fn approve_with(&self, id: &str, body: Value) -> Response {
        self.post_json(&format!("/login-requests/{id}/approve"), &body)
            .await
    }

    pub(crate) async fn reject(&self, id: &str) -> Response {
        self.request(Method::POST, &format!("/login-requests/{id}/reject"))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn reject_with(&self, id: &str, body: Value) -> Response {
        self.post_json(&format!("/login-requests/{id}/reject"), &body)
            .await
    }

    /// Test mode: ends a login request with a chosen outcome (`expire_now`, `old_app`, …).
    pub(crate) async fn answer_with_outcome(&self, id: &str, outcome: &str) -> Response {
        self.post_json(
            &format!("/login-requests/{id}/outcome"),
            &json!({ "outcome": outcome }),
        )
        .await
    }

    /// Opens the ticket of a deep link.
    pub(crate) async fn open_ticket(&self, ticket: &str) -> Response {
        self.open_with(json!({ "ticket": ticket })).await
    }

    pub(crate) async fn open_with(&self, body: Value) -> Response {
        self.post_json("/login-requests/open", &body).await
    }

    /// The live event stream.
    pub(crate) async fn events(&self) -> Response {
        self.request(Method::GET, "/events").send().await.unwrap()
    }

    pub(crate) async fn profile(&self) -> Value {
        self.get_json("/profile").await
    }

    /// The remembered browsers.
    pub(crate) async fn browsers(&self) -> Value {
        self.get_json("/browsers").await
    }

    pub(crate) async fn forget_browser(&self, id: &str) -> Response {
        self.request(Method::DELETE, &format!("/browsers/{id}"))
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn consents(&self) -> Value {
        self.get_json("/consents").await
    }

    pub(crate) async fn revoke_consent(&self, client_id: &str) -> Response {
        self.request(Method::DELETE, &format!("/consents/{client_id}"))
            .send()
            .await
            .unwrap()
    }

    /// The person's registered apps.
    pub(crate) async fn devices(&self) -> Value {
        self.get_json("/devices").await
    }

    pub(crate) async fn revoke_device(&self, id: &str) -> Response {
        self.request(Method::DELETE, &format!("/devices/{id}"))
            .send()
            .await
            .unwrap()
    }
}
