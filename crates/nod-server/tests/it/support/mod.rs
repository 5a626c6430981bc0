//! The harness: [`TestApp`] (the real server on `127.0.0.1:0`, a temporary database and a
//! clock the test moves) and the actors that drive it over HTTP: a [`Phone`] (the app
//! API), a [`Browser`] (the login pages), a [`Merchant`] (token, userinfo, CIBA) and a
//! [`WebhookReceiver`] (what Nod sends to merchants).

mod app;
mod browser;
mod merchant;
mod phone;
mod processes;
mod webhook;

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Response, StatusCode};
use serde_json::Value;

pub(crate) use app::{
    PartnerSpec, START, SalesUnitSpec, TestApp, TestAppBuilder, TestDatabase, TestTime,
};
pub(crate) use browser::{Browser, Login, login_id_of, login_path};
pub(crate) use merchant::{CIBA_GRANT, CIBA_REDIRECT_GRANT, ClientAuth, Merchant, decode_claims};
pub(crate) use phone::Phone;
pub(crate) use processes::{nod_binary, wait_ready};
pub(crate) use webhook::{Received, WebhookReceiver};

pub(crate) const CLIENT_ID: &str = "shop";
pub(crate) const CLIENT_SECRET: &str = "shop-secret-0123456789-0123456789-abcdef";
/// The secret of every partner a test creates ([`PartnerSpec`]).
pub(crate) const PARTNER_SECRET: &str = "partner-secret-0123456789-0123456789-abcd";
pub(crate) const REDIRECT_URI: &str = "https://shop.example/callback";
pub(crate) const PHONE: &str = "4791234501";
pub(crate) const OTHER_PHONE: &str = "4520123401";
/// A PKCE pair from RFC 7636 Appendix B.
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// The status and the `error` of a JSON error response.
pub(crate) async fn status_and_error(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

/// The status of a redirect back to the merchant and the `error` it carries.
pub(crate) fn redirect_error(response: &Response) -> (StatusCode, String) {
    let params = query(&location(response));
    (
        response.status(),
        params.get("error").cloned().unwrap_or_default(),
    )
}

/// A JSON value with the server's base URL (random port) replaced by `[base]`, for
/// snapshots.
pub(crate) fn scrub_base(value: &Value, base: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace(base, "[base]")),
        Value::Array(items) => items.iter().map(|v| scrub_base(v, base)).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| (k.clone(), scrub_base(v, base)))
            .collect(),
        other => other.clone(),
    }
}

/// Reads an event stream until it has said `needle`, for at most 5 s; returns all it read.
pub(crate) async fn read_events_until(events: &mut Response, needle: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    while !seen.contains(needle) {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .unwrap_or_else(|_| panic!("{needle:?} within 5 s; got {seen:?}"))
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

pub(crate) fn location(response: &Response) -> String {
    response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

pub(crate) fn csrf(html: &str) -> String {
    between(html, "name=\"csrf\" value=\"", "\"").expect("page has a CSRF token")
}

/// The number the waiting page shows.
pub(crate) fn challenge(html: &str) -> u8 {
    let start = html
        .find("id=\"challenge\"")
        .expect("page shows the number");
    let rest = &html[start..];
    between(rest, ">", "<").unwrap().trim().parse().unwrap()
}

pub(crate) fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let i = s.find(start)? + start.len();
    let j = s[i..].find(end)? + i;
    Some(s[i..j].to_owned())
}

/// The query parameters of an absolute URL (a redirect location).
pub(crate) fn query(location: &str) -> HashMap<String, String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().into_owned().collect()
}

pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A browser login of `shop` (`scope=openid name`, then `extra`) by this phone's owner:
/// the phone number typed in, the right number picked in the app, the consent page
/// accepted if it is shown. Returns the login and the last response: the redirect back to
/// the merchant, or the page that posts it.
pub(crate) async fn log_in(
    browser: &Browser,
    phone: &Phone,
    extra: &str,
    remember: bool,
) -> (Login, Response) {
    let login = browser.start_login(extra).await;
    let number = browser.submit_phone(&login, phone.number(), remember).await;
    let approved = phone.approve(&login.id, number, remember).await;
    assert_eq!(approved.status(), 200);
    let response = browser.continue_login(&login.id).await;
    let response = if location(&response) == login_path(&login.id, "consent") {
        browser.accept_consent(&login).await
    } else {
        response
    };
    (login, response)
}

/// The `code` of a redirect back to the merchant.
pub(crate) fn code_of(response: &Response) -> String {
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    query(&location(response))["code"].clone()
}

/// Starts a login in a browser on a journey without a phone-number form (app to app,
/// automatic return, a phone's browser); returns the login id and the ticket of its deep
/// link.
pub(crate) async fn landing(app: &TestApp, browser: &Browser, extra: &str) -> (String, String) {
    let (id, html) = browser.open_login(extra).await;
    assert!(
        !html.contains("name=\"phone_number\""),
        "no phone number on this journey"
    );
    let deep_link =
        between(&html, "id=\"open-app\" href=\"", "\"").expect("the page opens the app");
    let deep_link = deep_link.replace("&amp;", "&");
    assert!(
        deep_link.starts_with(&app.url("/test-app/open?ticket=")),
        "{deep_link}"
    );
    let ticket = query(&deep_link)["ticket"].clone();
    (id, ticket)
}
