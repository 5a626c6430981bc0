//! The app API: registration, the pending list, live events, approve and reject, and the
//! answers to every bad request an app can send.

use nod_core::crypto;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

/// A login waiting in a browser for [`PHONE`]; returns the browser, the login and the
/// number shown.
async fn waiting_login(app: &TestApp) -> (Browser, Login, u8) {
    let browser = app.browser();
    let login = browser.start_login("").await;
    let number = browser.submit_phone(&login, PHONE, false).await;
    (browser, login, number)
}

#[tokio::test]
async fn device_registration_errors() {
    let app = TestApp::builder().spawn().await;
    let phone = app.unregistered_phone();
    let cases = [
        (
            json!({ "phone_number": "4740000000" }),
            StatusCode::NOT_FOUND,
            "invalid_user",
        ),
        (
            json!({ "phone_number": "not a number" }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
        (json!({}), StatusCode::BAD_REQUEST, "invalid_request"),
        (
            json!({ "phone_number": 4791234501u64 }),
            StatusCode::BAD_REQUEST,
            "invalid_request",
        ),
    ];
    for (body, status, error) in cases {
        let response = phone.register(body.clone()).await;
        assert_eq!(
            status_and_error(response).await,
            (status, error.to_owned()),
            "{body}"
        );
    }
    let response = phone
        .request(Method::POST, "/devices")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
}

#[tokio::test]
async fn device_tokens_are_checked() {
    let app = TestApp::builder().spawn().await;
    for phone in [
        app.unregistered_phone(),
        app.phone_with_token("wrong"),
        app.phone_with_token(""),
    ] {
        let response = phone.login_requests().await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    let profile = app.phone(PHONE).await.profile().await;
    assert_eq!(profile["given_name"], "Ingrid");
    assert_eq!(profile["phone_number"], PHONE);
}

#[tokio::test]
async fn events_announce_new_requests() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let mut events = phone.events().await;
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    read_events_until(&mut events, "event: ready").await;
    let (_browser, login, _) = waiting_login(&app).await;
    let seen = read_events_until(&mut events, &login.id).await;
    assert!(seen.contains("event: login_request"));
    assert!(seen.contains("\"type\":\"new\""));
}

#[tokio::test]
async fn approving_bad_requests() {
    let app = TestApp::builder().spawn().await;
    let (_browser, login, number) = waiting_login(&app).await;
    let id = login.id.as_str();
    let mine = app.phone(PHONE).await;
    let someone_else = app.phone(OTHER_PHONE).await;

    // Another user's device cannot see or approve it.
    assert!(someone_else.pending().await.is_empty());
    let (status, _) = status_and_error(someone_else.approve(id, number, false).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        someone_else.reject(id).await.status(),
        StatusCode::NOT_FOUND
    );
    // Unknown and malformed ids.
    for bad in ["00000000-0000-0000-0000-000000000000", "nope"] {
        assert_eq!(
            mine.approve(bad, number, false).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // A missing number is a malformed request; the login stays pending.
    let response = mine
        .approve_with(id, json!({ "remember_browser": false }))
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    let response = mine
        .approve_with(id, json!({ "challenge": "twelve" }))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(mine.pending().await.len(), 1);

    // Approve once; the second time is a conflict.
    assert_eq!(mine.approve(id, number, false).await.status(), 200);
    let (status, _) = status_and_error(mine.approve(id, number, false).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn approving_an_expired_request() {
    let app = TestApp::builder().spawn().await;
    let (browser, login, number) = waiting_login(&app).await;
    let phone = app.phone(PHONE).await;
    app.advance(300);
    assert!(phone.pending().await.is_empty());
    let (status, error) = status_and_error(phone.approve(&login.id, number, false).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::GONE, "expired_token")
    );
    let html = browser
        .continue_login(&login.id)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Time ran out"));
}

#[tokio::test]
async fn wrong_number_ends_the_login() {
    let app = TestApp::builder().spawn().await;
    let (browser, login, number) = waiting_login(&app).await;
    let phone = app.phone(PHONE).await;
    let choices: Vec<u8> =
        serde_json::from_value(phone.pending().await[0]["choices"].clone()).unwrap();
    let wrong = *choices.iter().find(|c| **c != number).unwrap();
    let (status, error) = status_and_error(phone.approve(&login.id, wrong, false).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "wrong_challenge")
    );
    // The right number no longer helps.
    assert_eq!(
        phone.approve(&login.id, number, false).await.status(),
        StatusCode::CONFLICT
    );
    let response = browser.continue_login(&login.id).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "wrong_challenge".into())
    );
    assert_eq!(query(&location(&response))["state"], "state-12345");
}

#[tokio::test]
async fn rejecting_denies_access() {
    let app = TestApp::builder().spawn().await;
    let (browser, login, _) = waiting_login(&app).await;
    let phone = app.phone(PHONE).await;
    assert_eq!(phone.reject(&login.id).await.status(), 200);
    assert_eq!(phone.reject(&login.id).await.status(), StatusCode::CONFLICT);
    let response = browser.continue_login(&login.id).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "access_denied".into())
    );
}

#[tokio::test]
async fn rejecting_with_an_unknown_reason() {
    let app = TestApp::builder().spawn().await;
    let (browser, login, _) = waiting_login(&app).await;
    let phone = app.phone(PHONE).await;
    let response = phone
        .reject_with(&login.id, json!({ "reason": "phone_fell_in_the_sea" }))
        .await;
    assert_eq!(response.status(), 200);
    let response = browser.continue_login(&login.id).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "unknown_reject_reason".into())
    );
}

#[tokio::test]
async fn outside_test_mode_devices_need_an_activation_code() {
    let app = TestApp::builder().test_mode(false).spawn().await;
    let user = app.store.get_user_by_phone(PHONE).await.unwrap().unwrap();
    let code = crypto::activation_code();
    let hash = crypto::hash_secret(&crypto::normalize_activation_code(&code).unwrap());
    app.store
        .create_activation_code(user.id, &hash, START + 900)
        .await
        .unwrap();
    let phone = app.unregistered_phone();
    let (status, error) =
        status_and_error(phone.register(json!({ "phone_number": PHONE })).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    for wrong in ["0000-0000-0000", "not a code"] {
        let response = phone
            .register(json!({ "phone_number": PHONE, "activation_code": wrong }))
            .await;
        assert_eq!(
            status_and_error(response).await,
            (StatusCode::FORBIDDEN, "access_denied".into()),
            "{wrong}"
        );
    }
    // Someone else's number with this code: the same refusal.
    let response = phone
        .register(json!({ "phone_number": OTHER_PHONE, "activation_code": code }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Typed in lower case without dashes: accepted, once.
    let typed = code.to_lowercase().replace('-', "");
    let response = phone
        .register(json!({ "phone_number": PHONE, "activation_code": typed }))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = phone
        .register(json!({ "phone_number": PHONE, "activation_code": code }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "single use");
    // Expired.
    let late = crypto::activation_code();
    let hash = crypto::hash_secret(&crypto::normalize_activation_code(&late).unwrap());
    app.store
        .create_activation_code(user.id, &hash, START + 60)
        .await
        .unwrap();
    app.advance(61);
    let response = phone
        .register(json!({ "phone_number": PHONE, "activation_code": late }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // No test users, demo shop or test app outside test mode.
    for path in [
        format!("{}/test-users", nod_server::paths::APP_API),
        "/demo/".to_owned(),
        "/test-app/".to_owned(),
    ] {
        let response = app.client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn device_activations_have_a_budget_of_their_own() {
    let app = TestApp::builder().test_mode(false).spawn().await;
    let phone = app.unregistered_phone();
    // Ten wrong codes a minute from one address, then 429.
    for _ in 0..10 {
        let response = phone
            .register(json!({ "phone_number": PHONE, "activation_code": "0000-0000-0000" }))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let response = phone
        .register(json!({ "phone_number": PHONE, "activation_code": "0000-0000-0000" }))
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // The phone-number form of the same address is not held back by it.
    let browser = app.browser();
    let login = browser.start_login("").await;
    let response = browser.post_phone(&login.id, &login.csrf, PHONE).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), login_path(&login.id, "wait"));
    // A minute later activations are allowed again.
    app.advance(60);
    let response = phone
        .register(json!({ "phone_number": PHONE, "activation_code": "0000-0000-0000" }))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}
