//! The app API: registration, the pending list, live events, approve and reject, and the
//! answers to every bad request an app can send.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn waiting_login(app: &TestApp) -> (reqwest::Client, String, String, u8) {
    let browser = app.browser();
    let (id, csrf) = start_login(app, &browser, "").await;
    let number = submit_phone(app, &browser, &id, &csrf, PHONE, false).await;
    (browser, id, csrf, number)
}

async fn status_and_error(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn device_registration_errors() {
    let app = TestApp::spawn().await;
    let url = app.url("/app-api/v1/devices");
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
        let response = app.client().post(&url).json(&body).send().await.unwrap();
        assert_eq!(
            status_and_error(response).await,
            (status, error.to_owned()),
            "{body}"
        );
    }
    let response = app
        .client()
        .post(&url)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_error(response).await.1, "invalid_request");
}

#[tokio::test]
async fn device_tokens_are_checked() {
    let app = TestApp::spawn().await;
    for token in [None, Some("wrong"), Some("")] {
        let mut request = app.client().get(app.url("/app-api/v1/login-requests"));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(
            response.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
    }
    let device = app.device(PHONE).await;
    let profile: Value = app
        .client()
        .get(app.url("/app-api/v1/profile"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["given_name"], "Ingrid");
    assert_eq!(profile["phone_number"], PHONE);
}

#[tokio::test]
async fn events_announce_new_requests() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let mut events = app
        .client()
        .get(app.url("/app-api/v1/events"))
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut seen = String::new();
    while !seen.contains("event: ready") {
        seen.push_str(&String::from_utf8_lossy(
            &events.chunk().await.unwrap().unwrap(),
        ));
    }
    let (_browser, id, _, _) = waiting_login(&app).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains(&id) {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("event within 5 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains("event: login_request"));
    assert!(seen.contains("\"type\":\"new\""));
}

#[tokio::test]
async fn approving_bad_requests() {
    let app = TestApp::spawn().await;
    let (_browser, id, _, number) = waiting_login(&app).await;
    let mine = app.device(PHONE).await;
    let someone_else = app.device(OTHER_PHONE).await;

    // Another user's device cannot see or approve it.
    assert!(app.pending(&someone_else).await.is_empty());
    let (status, _) = status_and_error(app.approve(&someone_else, &id, number, false).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = app
        .client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/reject")))
        .bearer_auth(&someone_else)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Unknown and malformed ids.
    for bad in ["00000000-0000-0000-0000-000000000000", "nope"] {
        assert_eq!(
            app.approve(&mine, bad, number, false).await.status(),
            StatusCode::NOT_FOUND
        );
    }
    // A missing number is a malformed request; the login stays pending.
    let response = app
        .client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/approve")))
        .bearer_auth(&mine)
        .json(&json!({ "remember_browser": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    let response = app
        .client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/approve")))
        .bearer_auth(&mine)
        .json(&json!({ "challenge": "twelve" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.pending(&mine).await.len(), 1);

    // Approve once; the second time is a conflict.
    assert_eq!(app.approve(&mine, &id, number, false).await.status(), 200);
    let (status, _) = status_and_error(app.approve(&mine, &id, number, false).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn approving_an_expired_request() {
    let app = TestApp::spawn().await;
    let (browser, id, _, number) = waiting_login(&app).await;
    let device = app.device(PHONE).await;
    app.clock.advance(300);
    assert!(app.pending(&device).await.is_empty());
    let (status, error) = status_and_error(app.approve(&device, &id, number, false).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::GONE, "expired_token")
    );
    let html = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Time ran out"));
}

#[tokio::test]
async fn wrong_number_ends_the_login() {
    let app = TestApp::spawn().await;
    let (browser, id, _, number) = waiting_login(&app).await;
    let device = app.device(PHONE).await;
    let choices: Vec<u8> =
        serde_json::from_value(app.pending(&device).await[0]["choices"].clone()).unwrap();
    let wrong = *choices.iter().find(|c| **c != number).unwrap();
    let (status, error) = status_and_error(app.approve(&device, &id, wrong, false).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "wrong_challenge")
    );
    // The right number no longer helps.
    assert_eq!(
        app.approve(&device, &id, number, false).await.status(),
        StatusCode::CONFLICT
    );
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    let params = query(&location(&response));
    assert_eq!(params["error"], "wrong_challenge");
    assert_eq!(params["state"], "state-12345");
}

#[tokio::test]
async fn rejecting_denies_access() {
    let app = TestApp::spawn().await;
    let (browser, id, _, _) = waiting_login(&app).await;
    let device = app.device(PHONE).await;
    let reject = app.url(&format!("/app-api/v1/login-requests/{id}/reject"));
    let response = app
        .client()
        .post(&reject)
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = app
        .client()
        .post(&reject)
        .bearer_auth(&device)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&response))["error"], "access_denied");
}

#[tokio::test]
async fn rejecting_with_an_unknown_reason() {
    let app = TestApp::spawn().await;
    let (browser, id, _, _) = waiting_login(&app).await;
    let device = app.device(PHONE).await;
    let response = app
        .client()
        .post(app.url(&format!("/app-api/v1/login-requests/{id}/reject")))
        .bearer_auth(&device)
        .json(&json!({ "reason": "phone_fell_in_the_sea" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(
        query(&location(&response))["error"],
        "unknown_reject_reason"
    );
}

#[tokio::test]
async fn outside_test_mode_devices_need_an_activation_code() {
    let app = TestApp::spawn_outside_test_mode().await;
    let user = app.store.get_user_by_phone(PHONE).await.unwrap().unwrap();
    let code = nod_core::crypto::activation_code();
    let canonical = nod_core::crypto::normalize_activation_code(&code).unwrap();
    let hash = nod_core::crypto::hash_secret(&canonical);
    app.store
        .create_activation_code(user.id, &hash, 1_800_000_000 + 900)
        .await
        .unwrap();
    let register = |body: Value| {
        let app = &app;
        async move {
            app.client()
                .post(app.url("/app-api/v1/devices"))
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let (status, error) = status_and_error(register(json!({ "phone_number": PHONE })).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );
    for wrong in ["0000-0000-0000", "not a code"] {
        let response = register(json!({ "phone_number": PHONE, "activation_code": wrong })).await;
        assert_eq!(
            status_and_error(response).await,
            (StatusCode::FORBIDDEN, "access_denied".into()),
            "{wrong}"
        );
    }
    // Someone else's number with this code: the same refusal.
    let response = register(json!({ "phone_number": OTHER_PHONE, "activation_code": code })).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Typed in lower case without dashes: accepted, once.
    let typed = code.to_lowercase().replace('-', "");
    let response = register(json!({ "phone_number": PHONE, "activation_code": typed })).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let response = register(json!({ "phone_number": PHONE, "activation_code": code })).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "single use");
    // Expired.
    let late = nod_core::crypto::activation_code();
    let hash =
        nod_core::crypto::hash_secret(&nod_core::crypto::normalize_activation_code(&late).unwrap());
    app.store
        .create_activation_code(user.id, &hash, 1_800_000_000 + 60)
        .await
        .unwrap();
    app.clock.advance(61);
    let response = register(json!({ "phone_number": PHONE, "activation_code": late })).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // No test users, demo shop or test app outside test mode.
    for path in ["/app-api/v1/test-users", "/demo/", "/test-app/"] {
        assert_eq!(
            app.client()
                .get(app.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
