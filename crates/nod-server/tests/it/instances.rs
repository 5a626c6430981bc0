//! Two `nod serve` processes on one PostgreSQL database: any instance serves any step of
//! any login, and what happens on one reaches the event streams open on another at once.
//! Skipped (saying so) when `NOD_TEST_POSTGRES_URL` names no server; the README's test
//! command starts one.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const HINT: (&str, &str) = ("login_hint", "urn:msisdn:4791234501");
const SCOPE: (&str, &str) = ("scope", "openid name");

/// The longest an event may take to reach another instance: well under the 2 s after
/// which a waiting page checks the store by itself, so that only the event crossing
/// instances passes (it takes milliseconds; the bound leaves room for a loaded machine).
const AT_ONCE: Duration = Duration::from_millis(500);

#[tokio::test]
async fn a_new_login_request_reaches_the_app_on_the_other_instance_at_once() {
    let Some(builder) = TestApp::builder().clock(TestTime::Real).on_postgres() else {
        return;
    };
    let instances = builder.spawn_processes(2).await;
    let (a, b) = (&instances.each[0], &instances.each[1]);
    let phone = b.phone(PHONE).await;
    let mut events = phone.events().await;
    read_events_until(&mut events, "event: ready").await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let browser = a.browser();
        let login = browser.start_login("").await;
        browser.submit_phone(&login, PHONE, false).await;
        // The request is on its way to the app once the phone form is answered.
        let answered = Instant::now();
        read_events_until(&mut events, &login.id).await;
        slowest = slowest.max(answered.elapsed());
        assert_eq!(phone.reject(&login.id).await.status(), 200);
    }
    eprintln!("slowest event from instance A to the app on B: {slowest:?}");
    assert!(slowest <= AT_ONCE, "an event took {slowest:?}");
}

#[tokio::test]
async fn the_browser_waiting_on_one_instance_continues_when_the_app_approves_on_another() {
    let Some(builder) = TestApp::builder().clock(TestTime::Real).on_postgres() else {
        return;
    };
    let instances = builder.spawn_processes(2).await;
    let (a, b) = (&instances.each[0], &instances.each[1]);
    let phone = b.phone(PHONE).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let browser = a.browser();
        let login = browser.start_login("").await;
        let number = browser.submit_phone(&login, PHONE, false).await;
        let mut events = browser.events(&login.id).await;
        assert_eq!(events.status(), 200);
        let approved = phone.approve(&login.id, number, false).await;
        assert_eq!(approved.status(), 200);
        let answered = Instant::now();
        read_events_until(&mut events, "event: continue").await;
        slowest = slowest.max(answered.elapsed());
    }
    eprintln!("slowest approval on B to the waiting page on A: {slowest:?}");
    assert!(slowest <= AT_ONCE, "an approval took {slowest:?}");
}

#[tokio::test]
async fn two_hundred_logins_succeed_with_every_step_on_the_next_instance() {
    let Some(builder) = TestApp::builder().clock(TestTime::Real).on_postgres() else {
        return;
    };
    let instances = builder.spawn_processes(2).await;
    let app = &instances.app;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    for n in 0..100 {
        // Desktop: authorize, the phone form, the app's approval, continue (and consent
        // the first time), then the merchant's token and userinfo.
        let browser = app.browser();
        let (_, response) = log_in(&browser, &phone, "", false).await;
        let tokens = merchant.tokens(&code_of(&response), None).await;
        let userinfo = merchant
            .userinfo_json(tokens["access_token"].as_str().unwrap())
            .await;
        assert_eq!(userinfo["given_name"], "Ingrid", "desktop login {n}");

        // Merchant-initiated: started, approved in the app, polled, userinfo.
        let auth_req_id = merchant.ciba_auth_req_id(&[HINT, SCOPE]).await;
        let approved = phone.approve_merchant_initiated().await;
        assert_eq!(approved.status(), 200, "ciba login {n}");
        let (status, tokens): (_, Value) = merchant.ciba_poll(&auth_req_id).await;
        assert_eq!(status, 200, "ciba login {n}: {tokens}");
        let userinfo = merchant
            .userinfo_json(tokens["access_token"].as_str().unwrap())
            .await;
        assert_eq!(userinfo["given_name"], "Ingrid", "ciba login {n}");
    }
    let served = app.served();
    eprintln!("requests served by each instance: {served:?}");
    let total: usize = served.iter().sum();
    assert!(
        served.iter().all(|n| *n * 5 >= total * 2),
        "each instance served at least 40%: {served:?}"
    );
}

#[tokio::test]
async fn instances_starting_together_on_an_empty_database_publish_one_key() {
    use std::sync::Arc;

    use nod_server::{App, ServerConfig, SystemClock};
    if std::env::var_os("NOD_TEST_POSTGRES_URL").is_none() {
        eprintln!("skipped: NOD_TEST_POSTGRES_URL names no PostgreSQL server");
        return;
    }
    for _ in 0..5 {
        let database = TestDatabase::postgres().await;
        let (a, b) = tokio::join!(
            nod_store::connect(&database.url),
            nod_store::connect(&database.url)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        let start = |store| App::new(ServerConfig::default(), store, Arc::new(SystemClock));
        let (a, b) = tokio::join!(start(a), start(b));
        let (a, b) = (a.unwrap(), b.unwrap());
        let jwks = a.service.keys.jwks(a.now());
        assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(1), "{jwks}");
        assert_eq!(jwks, b.service.keys.jwks(b.now()));
    }
}
