//! The phone journeys over HTTP: the mobile deep link, app to app (with `resume_uri`, and
//! v2 with consent in the app), automatic return, `final_redirect_is_app`; and the
//! person's self-service: consents revoked (with the merchant's webhook) and browsers
//! logged out; and the pages' languages.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::*;

const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

fn phone_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(PHONE_UA)
        .build()
        .unwrap()
}

/// Starts a login in a browser and returns the login id and the ticket of its deep link.
async fn landing(app: &TestApp, browser: &reqwest::Client, extra: &str) -> (String, String) {
    let response = browser.get(app.authorize_url(extra)).send().await.unwrap();
    let page = location(&response);
    let id = page.trim_start_matches("/login/").to_owned();
    let response = browser.get(app.url(&page)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
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

async fn open(app: &TestApp, device: &str, ticket: &str) -> reqwest::Response {
    app.client()
        .post(app.url("/app-api/v1/login-requests/open"))
        .bearer_auth(device)
        .json(&json!({ "ticket": ticket }))
        .send()
        .await
        .unwrap()
}

async fn approve_json(app: &TestApp, device: &str, id: &str, body: Value) -> reqwest::Response {
    app.client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/approve")))
        .bearer_auth(device)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn redeem(app: &TestApp, code: &str, verifier: Option<&str>) -> Value {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    let response = app.token(&form).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn mobile_journey_opens_the_app_with_a_ticket() {
    let app = TestApp::spawn().await;
    let browser = phone_browser();
    let (id, ticket) = landing(&app, &browser, "").await;
    let device = app.device(PHONE).await;
    assert!(
        app.pending(&device).await.is_empty(),
        "nobody is asked before the app opens the link"
    );

    let response = open(&app, &device, &ticket).await;
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["choices"], Value::Null, "same phone: nothing to match");
    // The ticket works once, for anybody.
    assert_eq!(open(&app, &device, &ticket).await.status(), 404);
    let other = app.device(OTHER_PHONE).await;
    assert_eq!(open(&app, &other, &ticket).await.status(), 404);
    assert_eq!(open(&app, &other, "forged").await.status(), 404);
    let response = app
        .client()
        .post(app.url("/app-api/v1/login-requests/open"))
        .bearer_auth(&other)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    let response = approve_json(&app, &device, &id, json!({ "remember_browser": true })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["next"],
        "return_to_browser"
    );
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("/login/{id}/consent"));
    let html = browser
        .get(app.url(&format!("/login/{id}/consent")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = browser
        .post(app.url(&format!("/login/{id}/consent")))
        .form(&[("csrf", csrf(&html).as_str()), ("decision", "accept")])
        .send()
        .await
        .unwrap();
    let code = query(&location(&response))["code"].clone();
    redeem(&app, &code, None).await;
    // Remembered in the phone's browser too.
    let remembered: Value = app
        .client()
        .get(app.url("/app-api/v1/browsers"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(remembered["browsers"][0]["label"], "Chrome on Android");
}

#[tokio::test]
async fn app_to_app_resumes_in_the_same_browser() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let extra = "&requested_flow=app_to_app&app_callback_uri=shopapp%3A%2F%2Fcallback";
    let (id, ticket) = landing(&app, &browser, extra).await;
    let device = app.device(PHONE).await;
    assert_eq!(open(&app, &device, &ticket).await.status(), 200);
    let response = approve_json(&app, &device, &id, json!({})).await;
    let next: Value = response.json().await.unwrap();
    assert_eq!(next["next"], "open_url");
    let url = next["url"].as_str().unwrap();
    assert!(url.starts_with("shopapp://callback?"), "{url}");
    let params = query(url);
    assert_eq!(params["state"], "state-12345");
    let resume = params["resume_uri"].clone();
    assert!(
        resume.starts_with(&app.url(&format!("/login/{id}/resume?token="))),
        "{resume}"
    );

    // The browser waits for the shop's app to resume it.
    let response = browser
        .get(app.url(&format!("/login/{id}/resume?token=forged")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let stranger = app.browser();
    assert_eq!(stranger.get(&resume).send().await.unwrap().status(), 403);
    let response = browser.get(&resume).send().await.unwrap();
    assert_eq!(location(&response), format!("/login/{id}/consent"));
    // Replayed: refused.
    assert_eq!(browser.get(&resume).send().await.unwrap().status(), 400);
    let html = browser
        .get(app.url(&format!("/login/{id}/consent")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = browser
        .post(app.url(&format!("/login/{id}/consent")))
        .form(&[("csrf", csrf(&html).as_str()), ("decision", "accept")])
        .send()
        .await
        .unwrap();
    assert!(query(&location(&response)).contains_key("code"));
}

#[tokio::test]
async fn app_to_app_v2_and_automatic_return_finish_in_the_app() {
    let app = TestApp::spawn().await;
    let mut device = String::new();
    for (extra, verifier, phone) in [
        (
            format!(
                "&requested_flow=app_to_app_v2&code_challenge={CHALLENGE}&code_challenge_method=S256"
            ),
            Some(VERIFIER),
            PHONE,
        ),
        (
            "&requested_flow=automatic_return_from_vipps_app".to_owned(),
            None,
            OTHER_PHONE,
        ),
    ] {
        device = app.device(phone).await;
        let browser = app.browser();
        let (id, ticket) = landing(&app, &browser, &extra).await;
        let view: Value = open(&app, &device, &ticket).await.json().await.unwrap();
        assert_eq!(view["consent_in_app"], true, "{extra}");
        assert_eq!(view["consent_scopes"][0]["scope"], "name");
        // Consent must be answered in the app.
        let response = approve_json(&app, &device, &id, json!({})).await;
        assert_eq!(response.status(), 400);
        let response = approve_json(&app, &device, &id, json!({ "consent": true })).await;
        assert_eq!(response.status(), 200);
        let next: Value = response.json().await.unwrap();
        assert_eq!(next["next"], "open_url");
        let url = next["url"].as_str().unwrap();
        assert!(url.starts_with(REDIRECT_URI), "{url}");
        let params = query(url);
        assert_eq!(params["state"], "state-12345");
        assert_eq!(params["iss"], app.app.config.issuer());
        // Redeemed by whoever opened the URL: no cookies needed.
        let tokens = redeem(&app, &params["code"], verifier).await;
        assert!(tokens["access_token"].is_string());
        // The starting browser is told it is over.
        let response = browser
            .get(app.url(&format!("/login/{id}/continue")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("You are logged in"));
    }
    // The consent given in the app counts for the next login.
    let browser = app.browser();
    let (id, ticket) = landing(
        &app,
        &browser,
        "&requested_flow=automatic_return_from_vipps_app",
    )
    .await;
    let view: Value = open(&app, &device, &ticket).await.json().await.unwrap();
    assert_eq!(view["consent_in_app"], false);
    let response = approve_json(&app, &device, &id, json!({})).await;
    assert_eq!(response.json::<Value>().await.unwrap()["next"], "open_url");
}

#[tokio::test]
async fn refusing_consent_in_the_app_denies_access() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = app.browser();
    let (id, ticket) = landing(
        &app,
        &browser,
        "&requested_flow=automatic_return_from_vipps_app",
    )
    .await;
    open(&app, &device, &ticket).await;
    let response = approve_json(&app, &device, &id, json!({ "consent": false })).await;
    assert_eq!(response.status(), 200);
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&response))["error"], "access_denied");
    let consents: Value = app
        .client()
        .get(app.url("/app-api/v1/consents"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(consents["consents"], json!([]), "nothing was stored");
}

#[tokio::test]
async fn final_redirect_into_an_app_shows_a_button() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = app.browser();
    let url = app
        .authorize_url("&final_redirect_is_app=true&scope=openid")
        .replace("scope=openid%20name&", "")
        .replace(&urlencode(REDIRECT_URI), &urlencode("shopapp://callback"));
    let response = browser.get(url).send().await.unwrap();
    let page = location(&response);
    let id = page.trim_start_matches("/login/").to_owned();
    let html = browser
        .get(app.url(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let number = submit_phone(&app, &browser, &id, &csrf(&html), PHONE, false).await;
    app.approve(&device, &id, number, false).await;
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["refresh"]
            .to_str()
            .unwrap()
            .contains("shopapp://callback?code=")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("href=\"shopapp://callback?code="), "{html}");
}

/// A merchant's webhook endpoint on 127.0.0.1 that records what it receives.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().await.push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

#[tokio::test]
async fn revoked_consent_is_asked_again_and_the_merchant_hears_of_it() {
    let app = TestApp::spawn().await;
    let (hook, received) = webhook_receiver().await;
    let mut unit = app.store.get_sales_unit(CLIENT_ID).await.unwrap().unwrap();
    unit.webhook_url = Some(hook);
    app.store.update_sales_unit(&unit).await.unwrap();

    let device = app.device(PHONE).await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, true).await;
    app.approve(&device, &id, number, true).await;
    let response = accept_consent(&app, &browser, &id, &csrf).await;
    let tokens = redeem(&app, &query(&location(&response))["code"], None).await;
    let sub = tokens["id_token"].as_str().map(|_| ()).and(Some(()));
    assert!(sub.is_some());

    let consents: Value = app
        .client()
        .get(app.url("/app-api/v1/consents"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(consents["consents"][0]["client_id"], CLIENT_ID);
    assert_eq!(consents["consents"][0]["scopes"][0]["scope"], "name");
    let revoke = app.url(&format!("/app-api/v1/consents/{CLIENT_ID}"));
    assert_eq!(
        app.client()
            .delete(&revoke)
            .bearer_auth(&device)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(
        app.client()
            .delete(&revoke)
            .bearer_auth(&device)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // The webhook hears of it (sent in the background).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while received.lock().await.is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no webhook within 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let event = received.lock().await[0].clone();
    assert_eq!(event["event"], "CONSENT_REVOKED");
    assert_eq!(event["client_id"], CLIENT_ID);
    let userinfo: Value = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(
        event["sub"], userinfo["sub"],
        "the webhook names the pairwise sub"
    );

    // Remembered, but the consent is gone: the consent page again.
    let (id, _) = {
        let response = browser.get(app.authorize_url("")).send().await.unwrap();
        let page = location(&response);
        (page.trim_start_matches("/login/").to_owned(), page)
    };
    let response = browser
        .get(app.url(&format!("/login/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("/login/{id}/continue"));
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("/login/{id}/consent"));
}

#[tokio::test]
async fn a_logged_out_browser_needs_the_app_again() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, true).await;
    app.approve(&device, &id, number, true).await;
    accept_consent(&app, &browser, &id, &csrf).await;
    let list: Value = app
        .client()
        .get(app.url("/app-api/v1/browsers"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let browser_id = list["browsers"][0]["id"].as_str().unwrap().to_owned();
    let other = app.device(OTHER_PHONE).await;
    let forget = app.url(&format!("/app-api/v1/browsers/{browser_id}"));
    assert_eq!(
        app.client()
            .delete(&forget)
            .bearer_auth(&other)
            .send()
            .await
            .unwrap()
            .status(),
        404,
        "not theirs"
    );
    assert_eq!(
        app.client()
            .delete(app.url("/app-api/v1/browsers/nope"))
            .bearer_auth(&device)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        app.client()
            .delete(&forget)
            .bearer_auth(&device)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );

    // The cookie is still there, but revoked: the phone form again.
    let response = browser.get(app.authorize_url("")).send().await.unwrap();
    let page = location(&response);
    let html = browser
        .get(app.url(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"phone_number\""));
}

#[tokio::test]
async fn pages_speak_the_browsers_language() {
    let app = TestApp::spawn().await;
    for (accept, words) in [
        ("nb-NO,nb;q=0.9,en;q=0.5", "Husk meg i denne nettleseren"),
        ("da", "Husk mig i denne browser"),
        ("fi-FI", "Muista minut tässä selaimessa"),
        ("de", "Remember me in this browser"),
    ] {
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(
                [(reqwest::header::ACCEPT_LANGUAGE, accept.parse().unwrap())]
                    .into_iter()
                    .collect(),
            )
            .build()
            .unwrap();
        let response = browser.get(app.authorize_url("")).send().await.unwrap();
        let html = browser
            .get(app.url(&location(&response)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(words), "{accept}");
        let error = browser
            .get(app.url("/login/not-a-uuid"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!error.is_empty());
    }
    let error = app
        .client()
        .get(app.url("/login/not-a-uuid"))
        .header("accept-language", "fi")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("Kirjautumista ei löytynyt"), "{error}");
    assert!(error.contains("lang=\"fi\""));
}

#[tokio::test]
async fn the_demo_merchant_logs_in() {
    let app = TestApp::spawn().await;
    nod_server::demo::seed(app.store.as_ref(), &app.base, 0)
        .await
        .unwrap();
    let browser = app.browser();
    let response = browser.get(app.url("/demo/")).send().await.unwrap();
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("/demo/start?journey=app_to_app_v2")
    );
    let response = browser
        .get(app.url("/demo/start?journey=web"))
        .send()
        .await
        .unwrap();
    let authorize = location(&response);
    assert!(authorize.contains("code_challenge_method=S256"));
    let response = browser.get(&authorize).send().await.unwrap();
    let page = location(&response);
    let id = page.trim_start_matches("/login/").to_owned();
    let html = browser
        .get(app.url(&page))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Demo Shop"));
    let number = submit_phone(&app, &browser, &id, &csrf(&html), PHONE, false).await;
    let device = app.device(PHONE).await;
    app.approve(&device, &id, number, false).await;
    let response = browser
        .post(app.url(&format!("/login/{id}/consent")))
        .form(&[("csrf", csrf(&html).as_str()), ("decision", "accept")])
        .send()
        .await
        .unwrap();
    let callback = location(&response);
    assert!(callback.starts_with(&app.url("/demo/callback?")));
    let response = browser.get(&callback).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Welcome, Ingrid Solberg!"), "{html}");
    assert!(html.contains("14035810200"), "the nin came back");
    // The same state a second time: refused.
    let again = browser.get(&callback).send().await.unwrap();
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn the_demo_till_logs_in_by_phone_number() {
    let app = TestApp::spawn().await;
    nod_server::demo::seed(app.store.as_ref(), &app.base, 0)
        .await
        .unwrap();
    let device = app.device(PHONE).await;
    let till = app.browser();
    for mode in ["poll", "webpage"] {
        let response = till
            .get(app.url(&format!(
                "/demo/ciba/start?phone_number=%2B47+912+34+501&binding_message=till-42&mode={mode}"
            )))
            .send()
            .await
            .unwrap();
        let wait = location(&response);
        assert!(wait.starts_with("/demo/ciba/wait?id="), "{wait}");
        let response = till.get(app.url(&wait)).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["refresh"], "5");
        let request = app
            .pending(&device)
            .await
            .into_iter()
            .find(|r| r["kind"] == "merchant_initiated")
            .unwrap();
        assert_eq!(request["binding_message"], "TILL-42");
        assert_eq!(request["sales_unit_name"], "Demo Shop");
        assert_eq!(request["delegated_consents"]["consents"][0]["id"], "terms");
        let body = json!({
            "consent": true,
            "delegated_consents": [{ "id": "terms", "accepted": true }, { "id": "newsletter", "accepted": true }],
        });
        let next: Value = approve_json(&app, &device, request["id"].as_str().unwrap(), body)
            .await
            .json()
            .await
            .unwrap();
        app.clock.advance(5);
        let html = if mode == "poll" {
            assert_eq!(next["next"], "done");
            till.get(app.url(&wait))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        } else {
            assert_eq!(next["next"], "open_url");
            let url = next["url"].as_str().unwrap();
            assert!(
                url.starts_with(&app.url("/demo/ciba-callback?code=")),
                "{url}"
            );
            app.browser()
                .get(url)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        };
        assert!(html.contains("Welcome, Ingrid Solberg!"), "{mode}: {html}");
        assert!(html.contains("delegatedConsents"), "{mode}");
    }
    // A malformed number never reaches Nod's endpoint.
    let response = till
        .get(app.url("/demo/ciba/start?phone_number=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}
