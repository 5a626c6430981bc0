//! `TestApp`: the real server on `127.0.0.1:0`, a temporary database, a clock the test
//! moves, and helpers that act as browser, app and merchant.

use std::sync::Arc;
use std::time::Duration;

use nod_core::crypto;
use nod_core::sales_unit::{AuthMethod, CibaMode, SalesUnit};
use nod_core::user::User;
use nod_server::{App, ServerConfig, TestClock};
use nod_store::Store;
use reqwest::redirect::Policy;
use serde_json::Value;

pub const CLIENT_ID: &str = "shop";
pub const CLIENT_SECRET: &str = "shop-secret-0123456789-0123456789-abcdef";
pub const REDIRECT_URI: &str = "https://shop.example/callback";
pub const PHONE: &str = "4791234501";
pub const OTHER_PHONE: &str = "4520123401";
/// A PKCE pair from RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct TestApp {
    pub base: String,
    pub app: Arc<App>,
    pub clock: Arc<TestClock>,
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

impl TestApp {
    /// A running Nod in test mode with the demo users and a sales unit `shop`.
    pub async fn spawn() -> TestApp {
        Self::spawn_at(1_800_000_000).await
    }

    /// Like [`TestApp::spawn`], on the real clock (for clients that check token times
    /// against their own clock and wait in real time). `clock` then moves nothing.
    pub async fn spawn_with_real_clock() -> TestApp {
        Self::spawn_on(Arc::new(TestClock::new(0)), true).await
    }

    async fn spawn_at(start: i64) -> TestApp {
        Self::spawn_on(Arc::new(TestClock::new(start)), false).await
    }

    /// Like [`TestApp::spawn`], outside test mode: devices need activation codes, and
    /// there is no demo shop or test app.
    pub async fn spawn_outside_test_mode() -> TestApp {
        Self::spawn_with(Arc::new(TestClock::new(1_800_000_000)), false, false).await
    }

    async fn spawn_on(clock: Arc<TestClock>, real: bool) -> TestApp {
        Self::spawn_with(clock, real, true).await
    }

    async fn spawn_with(clock: Arc<TestClock>, real: bool, test_mode: bool) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nod.db").display());
        let store = nod_store::connect(&url).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let config = ServerConfig {
            public_url: base.clone(),
            test_mode,
            ..ServerConfig::default()
        };
        let users: Vec<User> = nod_core::demo::demo_users()
            .into_iter()
            .map(|u| User::new(u, 0))
            .collect();
        store.import_users(&users).await.unwrap();
        let app_clock: Arc<dyn nod_server::Clock> = if real {
            Arc::new(nod_server::SystemClock)
        } else {
            clock.clone()
        };
        let app = App::new(config, store.clone(), app_clock).await.unwrap();
        tokio::spawn(nod_server::serve(
            listener,
            app.clone(),
            std::future::pending(),
        ));
        let test = TestApp {
            base,
            app,
            clock,
            store,
            _dir: dir,
        };
        test.add_sales_unit(
            CLIENT_ID,
            CLIENT_SECRET,
            AuthMethod::ClientSecretBasic,
            true,
        )
        .await;
        test
    }

    pub async fn add_sales_unit(
        &self,
        client_id: &str,
        secret: &str,
        method: AuthMethod,
        allow_nin: bool,
    ) {
        self.store
            .create_sales_unit(&SalesUnit {
                client_id: client_id.into(),
                secret_hash: crypto::hash_secret(secret).to_vec(),
                name: format!("Shop {client_id}"),
                redirect_uris: vec![REDIRECT_URI.into(), "shopapp://callback".into()],
                auth_method: method,
                msn: Some("123456".into()),
                allow_nin,
                ciba_mode: CibaMode::Poll,
                ciba_notification_endpoint: None,
                webhook_url: None,
                consent_texts: None,
                created_at: 0,
            })
            .await
            .unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    /// A plain HTTP client for merchants and apps.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap()
    }

    pub fn authorize_url(&self, extra: &str) -> String {
        format!(
            "{}?response_type=code&client_id={CLIENT_ID}&redirect_uri={}&scope=openid%20name&state=state-12345{extra}",
            self.url(nod_server::paths::AUTHORIZE),
            urlencode(REDIRECT_URI)
        )
    }

    /// Registers an app for a phone number; returns its device token.
    pub async fn device(&self, phone: &str) -> String {
        let response = self
            .client()
            .post(self.url("/app-api/v1/devices"))
            .json(&serde_json::json!({ "phone_number": phone }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        body["device_token"].as_str().unwrap().to_owned()
    }

    pub async fn pending(&self, device: &str) -> Vec<Value> {
        let body: Value = self
            .client()
            .get(self.url("/app-api/v1/login-requests"))
            .bearer_auth(device)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["login_requests"].as_array().unwrap().clone()
    }

    pub async fn approve(
        &self,
        device: &str,
        id: &str,
        challenge: u8,
        remember: bool,
    ) -> reqwest::Response {
        self.client()
            .post(self.url(&format!("/app-api/v1/login-requests/{id}/approve")))
            .bearer_auth(device)
            .json(&serde_json::json!({ "challenge": challenge, "remember_browser": remember }))
            .send()
            .await
            .unwrap()
    }

    /// The token endpoint with Basic authentication.
    pub async fn token(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.client()
            .post(self.url(nod_server::paths::TOKEN))
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(form)
            .send()
            .await
            .unwrap()
    }
}

/// Accepts the consent page of a confirmed login; returns the response (the redirect).
pub async fn accept_consent(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    csrf: &str,
) -> reqwest::Response {
    browser
        .post(app.url(&format!("/login/{id}/consent")))
        .form(&[("csrf", csrf), ("decision", "accept")])
        .send()
        .await
        .unwrap()
}

/// Userinfo for an access token, as JSON.
pub async fn userinfo(app: &TestApp, access_token: &str) -> serde_json::Value {
    app.client()
        .get(app.url(nod_server::paths::USERINFO))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Starts a browser login: authorize, then the login page. Returns the login id and the
/// page's CSRF token.
pub async fn start_login(
    app: &TestApp,
    browser: &reqwest::Client,
    extra: &str,
) -> (String, String) {
    let response = browser.get(app.authorize_url(extra)).send().await.unwrap();
    assert_eq!(
        response.status(),
        303,
        "authorize should redirect to the login page"
    );
    let location = location(&response);
    assert!(location.starts_with("/login/"), "{location}");
    let id = location.trim_start_matches("/login/").to_owned();
    let page = browser.get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    (id, csrf(&html))
}

/// Submits the phone form and reads the number the waiting page shows.
pub async fn submit_phone(
    app: &TestApp,
    browser: &reqwest::Client,
    id: &str,
    csrf: &str,
    phone: &str,
    remember: bool,
) -> u8 {
    let mut form = vec![("csrf", csrf), ("phone_number", phone)];
    if remember {
        form.push(("remember", "on"));
    }
    let response = browser
        .post(app.url(&format!("/login/{id}/phone")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("/login/{id}/wait"));
    let html = browser
        .get(app.url(&format!("/login/{id}/wait")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    challenge(&html)
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub fn csrf(html: &str) -> String {
    between(html, "name=\"csrf\" value=\"", "\"").expect("page has a CSRF token")
}

pub fn challenge(html: &str) -> u8 {
    let start = html
        .find("id=\"challenge\"")
        .expect("page shows the number");
    let rest = &html[start..];
    between(rest, ">", "<").unwrap().trim().parse().unwrap()
}

pub fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_owned())
}

/// The query parameters of a redirect location.
pub fn query(location: &str) -> std::collections::HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
