//! Merchant-initiated login (CIBA) over HTTP: every success and error row of the
//! backchannel endpoint and the CIBA grants, poll and ping (with a real notification
//! receiver on 127.0.0.1), login to a web page, delegated consents, and the same `sub`
//! as in the browser.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nod_core::sales_unit::{CibaMode, ConsentLinks, ConsentQuestion, ConsentTexts};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::support::*;

const START: &str = "/vipps-login-ciba/api/backchannel/authentication";
const CIBA: &str = "urn:openid:params:grant-type:ciba";
const CIBA_REDIRECT: &str = "urn:vipps:params:grant-type:ciba-redirect";

async fn start(app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
    app.client()
        .post(app.url(START))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn started(app: &TestApp, form: &[(&str, &str)]) -> Value {
    let response = start(app, form).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn poll(app: &TestApp, auth_req_id: &str) -> (StatusCode, Value) {
    let response = app
        .token(&[("grant_type", CIBA), ("auth_req_id", auth_req_id)])
        .await;
    (response.status(), response.json().await.unwrap())
}

const HINT: (&str, &str) = ("login_hint", "urn:msisdn:4791234501");
const SCOPE: (&str, &str) = ("scope", "openid name");

/// The app's view of the one merchant-initiated request.
async fn pending_ciba(app: &TestApp, device: &str) -> Value {
    app.pending(device)
        .await
        .into_iter()
        .find(|r| r["kind"] == "merchant_initiated")
        .expect("a merchant-initiated request")
}

async fn approve(app: &TestApp, device: &str, id: &str, body: Value) -> reqwest::Response {
    app.client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/approve")))
        .bearer_auth(device)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn poll_mode_from_start_to_tokens() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let answer = started(
        &app,
        &[
            HINT,
            SCOPE,
            ("binding_message", "POS-7"),
            ("nonce", "n-1"),
            ("state", "s-1"),
        ],
    )
    .await;
    assert_eq!(answer["expires_in"], 600);
    assert_eq!(answer["interval"], 5);
    let auth_req_id = answer["auth_req_id"].as_str().unwrap().to_owned();
    assert!(auth_req_id.len() >= 43);

    // Pending; polling again at once is too fast.
    let (status, body) = poll(&app, &auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "authorization_pending")
    );
    let (_, body) = poll(&app, &auth_req_id).await;
    assert_eq!(body["error"], "slow_down");
    app.clock.advance(5);
    assert_eq!(
        poll(&app, &auth_req_id).await.1["error"],
        "authorization_pending"
    );

    // The app shows the sales unit, the binding message and the data asked for.
    let request = pending_ciba(&app, &device).await;
    assert_eq!(request["sales_unit_name"], "Shop shop");
    assert_eq!(request["binding_message"], "POS-7");
    assert_eq!(request["choices"], Value::Null);
    assert_eq!(request["consent_in_app"], true);
    assert_eq!(request["consent_scopes"][0]["scope"], "name");
    let id = request["id"].as_str().unwrap();
    assert_eq!(
        approve(&app, &device, id, json!({})).await.status(),
        400,
        "consent must be answered"
    );
    let response = approve(&app, &device, id, json!({ "consent": true })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["next"], "done");

    app.clock.advance(5);
    let (status, tokens) = poll(&app, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid name");
    let claims = decode_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["auth_req_id"], auth_req_id.as_str());
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], json!(["app"]));
    let info: Value = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info["name"], "Ingrid Solberg");

    // Redeemable once.
    app.clock.advance(5);
    assert_eq!(poll(&app, &auth_req_id).await.1["error"], "invalid_grant");
}

fn decode_claims(id_token: &str) -> Value {
    use base64::Engine;
    let payload = id_token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn backchannel_request_errors() {
    let app = TestApp::spawn().await;
    type Case<'a> = (Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (vec![SCOPE], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![("login_hint", "msisdn:4791234501"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("login_hint", "urn:msisdn:47abc"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("login_hint", "urn:msisdn:4791"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("login_hint", "urn:msisdn:47912345011234"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("login_hint", "urn:msisdn:9991234567"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![("login_hint", "urn:msisdn:4740000000"), SCOPE],
            StatusCode::BAD_REQUEST,
            "invalid_user",
        ),
        (vec![HINT], StatusCode::BAD_REQUEST, "invalid_request"),
        (
            vec![HINT, ("scope", "name")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![HINT, ("scope", "openid profile")],
            StatusCode::BAD_REQUEST,
            "invalid_scope",
        ),
        (
            vec![HINT, SCOPE, ("binding_message", "pos-7")],
            StatusCode::BAD_REQUEST,
            "invalid_binding_message",
        ),
        (
            vec![HINT, SCOPE, ("binding_message", "TOOLONGMSG")],
            StatusCode::BAD_REQUEST,
            "invalid_binding_message",
        ),
        (
            vec![HINT, SCOPE, ("requested_expiry", "59")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![HINT, SCOPE, ("requested_expiry", "901")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![HINT, SCOPE, ("requested_expiry", "soon")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![HINT, SCOPE, ("requested_flow", "login_to_webpage")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![
                HINT,
                SCOPE,
                ("requested_flow", "login_to_webpage"),
                ("redirect_uri", "https://evil.example/"),
            ],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![HINT, SCOPE, ("requested_flow", "teleport")],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (
            vec![HINT, SCOPE, HINT],
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (form, status, error) in cases {
        let response = start(&app, &form).await;
        assert_eq!(response.status(), status, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
        assert!(body["error_description"].is_string());
    }
    // No client authentication, a wrong secret.
    let response = app
        .client()
        .post(app.url(START))
        .form(&[HINT, SCOPE])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let response = app
        .client()
        .post(app.url(START))
        .basic_auth(CLIENT_ID, Some("wrong"))
        .form(&[HINT, SCOPE])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    // A client without the nin permission.
    app.add_sales_unit(
        "no-nin",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let response = app
        .client()
        .post(app.url(START))
        .basic_auth("no-nin", Some(CLIENT_SECRET))
        .form(&[HINT, ("scope", "openid nin")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
    // Requested expiry within range is honoured.
    let body = started(&app, &[HINT, SCOPE, ("requested_expiry", "120")]).await;
    assert_eq!(body["expires_in"], 120);
}

#[tokio::test]
async fn too_many_pending_requests_for_one_person() {
    let app = TestApp::spawn().await;
    for _ in 0..3 {
        started(&app, &[HINT, SCOPE]).await;
    }
    let response = start(&app, &[HINT, SCOPE]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    // Another person is not affected.
    started(&app, &[("login_hint", "urn:msisdn:4520123401"), SCOPE]).await;
}

#[tokio::test]
async fn poll_errors() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    // Unknown, malformed and missing auth_req_id.
    assert_eq!(poll(&app, "unknown").await.1["error"], "invalid_grant");
    assert_eq!(
        poll(&app, &"x".repeat(500)).await.1["error"],
        "invalid_grant"
    );
    let response = app.token(&[("grant_type", CIBA)]).await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );

    // Another client's auth_req_id.
    let auth_req_id = started(&app, &[HINT, SCOPE]).await["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.add_sales_unit(
        "other",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let response = app
        .client()
        .post(app.url(nod_server::paths::TOKEN))
        .basic_auth("other", Some(CLIENT_SECRET))
        .form(&[("grant_type", CIBA), ("auth_req_id", auth_req_id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    // Rejected.
    let id = pending_ciba(&app, &device).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/reject")))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(poll(&app, &auth_req_id).await.1["error"], "access_denied");

    // Expired.
    let auth_req_id =
        started(&app, &[HINT, SCOPE, ("requested_expiry", "60")]).await["auth_req_id"]
            .as_str()
            .unwrap()
            .to_owned();
    app.clock.advance(61);
    assert_eq!(poll(&app, &auth_req_id).await.1["error"], "expired_token");
    assert!(app.pending(&device).await.is_empty());
}

/// A merchant's notification endpoint on 127.0.0.1: records pings, can fail the first
/// `failures` times, or never answer.
async fn receiver(failures: usize, hang: bool) -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(AtomicUsize::new(0));
    let sink = received.clone();
    let router = axum::Router::new().route(
        "/ping",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
                let sink = sink.clone();
                let calls = calls.clone();
                async move {
                    if hang {
                        tokio::time::sleep(Duration::from_secs(3600)).await;
                    }
                    let auth = headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    if calls.fetch_add(1, Ordering::SeqCst) < failures {
                        return StatusCode::SERVICE_UNAVAILABLE;
                    }
                    sink.lock().await.push((auth, body));
                    StatusCode::NO_CONTENT
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ping", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, received)
}

async fn use_ping(app: &TestApp, endpoint: &str) {
    let mut unit = app.store.get_sales_unit(CLIENT_ID).await.unwrap().unwrap();
    unit.ciba_mode = CibaMode::Ping;
    unit.ciba_notification_endpoint = Some(endpoint.to_owned());
    app.store.update_sales_unit(&unit).await.unwrap();
}

#[tokio::test]
async fn ping_mode_notifies_with_retries() {
    let app = TestApp::spawn().await;
    let (endpoint, received) = receiver(1, false).await;
    use_ping(&app, &endpoint).await;
    let device = app.device(PHONE).await;
    let response = start(&app, &[HINT, SCOPE]).await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_request",
        "ping mode needs a token"
    );
    let auth_req_id = started(
        &app,
        &[
            HINT,
            SCOPE,
            ("client_notification_token", "merchant-token-1"),
        ],
    )
    .await["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = pending_ciba(&app, &device).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    approve(&app, &device, &id, json!({ "consent": true })).await;
    // The first attempt fails; the retry (after a second) gets through.
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.lock().await.is_empty() {
        assert!(Instant::now() < deadline, "no ping within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (auth, body) = received.lock().await[0].clone();
    assert_eq!(auth, "Bearer merchant-token-1");
    assert_eq!(body, json!({ "auth_req_id": auth_req_id }));
    let (status, tokens) = poll(&app, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_holds_up_nothing() {
    let app = TestApp::spawn().await;
    let (endpoint, _) = receiver(0, true).await;
    use_ping(&app, &endpoint).await;
    let device = app.device(PHONE).await;
    let auth_req_id =
        started(&app, &[HINT, SCOPE, ("client_notification_token", "t")]).await["auth_req_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let id = pending_ciba(&app, &device).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let began = Instant::now();
    let response = approve(&app, &device, &id, json!({ "consent": true })).await;
    assert_eq!(response.status(), 200);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "approving waited for the merchant: {:?}",
        began.elapsed()
    );
    let began = Instant::now();
    assert_eq!(poll(&app, &auth_req_id).await.0, 200);
    assert!(began.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn login_to_webpage() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let auth_req_id = started(
        &app,
        &[
            HINT,
            SCOPE,
            ("requested_flow", "login_to_webpage"),
            ("redirect_uri", REDIRECT_URI),
            ("state", "ignored"),
        ],
    )
    .await["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The CIBA grant is the wrong one for this request.
    let (status, body) = poll(&app, &auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "unauthorized_client")
    );

    let id = pending_ciba(&app, &device).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let next: Value = approve(&app, &device, &id, json!({ "consent": true }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["next"], "open_url");
    let url = next["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{REDIRECT_URI}?code=")), "{url}");
    let params = query(url);
    assert_eq!(params.len(), 1, "only the code: {url}");
    let code = params["code"].clone();

    // The authorization_code grant is the wrong one for this code; it stays usable.
    let response = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let response = app
        .token(&[("grant_type", CIBA_REDIRECT), ("code", &code)])
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant",
        "a wrong grant spends the code"
    );
}

#[tokio::test]
async fn login_to_webpage_redeems_with_the_redirect_grant() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let auth_req_id = started(
        &app,
        &[
            HINT,
            SCOPE,
            ("requested_flow", "login_to_webpage"),
            ("redirect_uri", REDIRECT_URI),
        ],
    )
    .await["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = pending_ciba(&app, &device).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let next: Value = approve(&app, &device, &id, json!({ "consent": true }))
        .await
        .json()
        .await
        .unwrap();
    let code = query(next["url"].as_str().unwrap())["code"].clone();
    let response = app
        .token(&[("grant_type", CIBA_REDIRECT), ("code", &code)])
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        decode_claims(tokens["id_token"].as_str().unwrap())["auth_req_id"],
        auth_req_id.as_str()
    );
    // Once only; and a browser code cannot use this grant.
    let response = app
        .token(&[("grant_type", CIBA_REDIRECT), ("code", &code)])
        .await;
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    assert_eq!(
        app.token(&[("grant_type", CIBA_REDIRECT)]).await.status(),
        400
    );
}

#[tokio::test]
async fn the_same_person_has_one_sub_across_flows() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    // Browser.
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
    app.approve(&device, &id, number, false).await;
    let response = accept_consent(&app, &browser, &id, &csrf).await;
    let code = query(&location(&response))["code"].clone();
    let tokens: Value = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await
        .json()
        .await
        .unwrap();
    let browser_sub = decode_claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
    // Merchant-initiated: the consent is there already, nothing to ask in the app.
    let auth_req_id = started(&app, &[HINT, SCOPE]).await["auth_req_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = pending_ciba(&app, &device).await;
    assert_eq!(request["consent_in_app"], false);
    approve(&app, &device, request["id"].as_str().unwrap(), json!({})).await;
    let (status, tokens) = poll(&app, &auth_req_id).await;
    assert_eq!(status, 200);
    assert_eq!(
        decode_claims(tokens["id_token"].as_str().unwrap())["sub"],
        browser_sub
    );
}

#[tokio::test]
async fn delegated_consents_come_back_in_userinfo() {
    let app = TestApp::spawn().await;
    let mut unit = app.store.get_sales_unit(CLIENT_ID).await.unwrap().unwrap();
    unit.consent_texts = Some(ConsentTexts {
        language: "en".into(),
        heading: "Membership".into(),
        text: "Join the club".into(),
        terms_description: "Our terms".into(),
        confirm_consent_button_text: "Confirm".into(),
        links: ConsentLinks {
            terms_link_text: "Terms".into(),
            terms_link_url: "https://shop.example/terms".into(),
            privacy_statement_link_text: "Privacy".into(),
            privacy_statement_link_url: "https://shop.example/privacy".into(),
        },
        consents: vec![
            ConsentQuestion {
                id: "terms".into(),
                required: true,
                text_displayed_to_user: "I accept the terms".into(),
            },
            ConsentQuestion {
                id: "news".into(),
                required: false,
                text_displayed_to_user: "Send me news".into(),
            },
        ],
    });
    app.store.update_sales_unit(&unit).await.unwrap();
    let device = app.device(PHONE).await;
    let auth_req_id =
        started(&app, &[HINT, ("scope", "openid name delegatedConsents")]).await["auth_req_id"]
            .as_str()
            .unwrap()
            .to_owned();
    let request = pending_ciba(&app, &device).await;
    assert_eq!(
        request["delegated_consents"]["consents"][0]["textDisplayedToUser"],
        "I accept the terms"
    );
    let id = request["id"].as_str().unwrap();
    let bad = [
        json!({ "consent": true }),
        json!({ "consent": true, "delegated_consents": [{ "id": "terms", "accepted": false }, { "id": "news", "accepted": true }] }),
        json!({ "consent": true, "delegated_consents": [{ "id": "terms", "accepted": true }] }),
        json!({ "consent": true, "delegated_consents": [{ "id": "terms", "accepted": true }, { "id": "news", "accepted": false }, { "id": "x", "accepted": true }] }),
    ];
    for body in bad {
        assert_eq!(
            approve(&app, &device, id, body.clone()).await.status(),
            400,
            "{body}"
        );
    }
    let body = json!({ "consent": true, "delegated_consents": [{ "id": "terms", "accepted": true }, { "id": "news", "accepted": false }] });
    assert_eq!(approve(&app, &device, id, body).await.status(), 200);
    let (status, tokens) = poll(&app, &auth_req_id).await;
    assert_eq!(status, 200);
    let info: Value = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
    let delegated = &info["delegatedConsents"];
    assert_eq!(delegated["heading"], "Membership");
    assert_eq!(
        delegated["links"]["termsLinkUrl"],
        "https://shop.example/terms"
    );
    assert_eq!(
        delegated["consents"][0],
        json!({ "id": "terms", "accepted": true, "required": true, "textDisplayedToUser": "I accept the terms" })
    );
    assert_eq!(delegated["consents"][1]["accepted"], false);
    assert_eq!(delegated["timeOfConsent"], "2027-01-15T08:00:00Z");
}

#[tokio::test]
async fn user_exists() {
    let app = TestApp::spawn().await;
    let url = app.url("/vipps-login-ciba/api/v1/user-exists");
    for (hint, exists) in [
        ("urn:msisdn:4791234501", true),
        ("urn:msisdn:4740000000", false),
    ] {
        let response = app
            .client()
            .post(&url)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[("login_hint", hint)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "exists": exists })
        );
    }
    let response = app
        .client()
        .post(&url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[("login_hint", "4791234501")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = app
        .client()
        .post(&url)
        .form(&[("login_hint", "urn:msisdn:4791234501")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn discovery_advertises_ciba() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .client()
        .get(app.url(nod_server::paths::DISCOVERY))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["backchannel_authentication_endpoint"], app.url(START));
    assert_eq!(
        doc["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping"])
    );
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(grants.contains(&json!(CIBA)));
    assert!(grants.contains(&json!(CIBA_REDIRECT)));
}
