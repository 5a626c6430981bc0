//! Test scenarios (test mode): every outcome the app API can end a login with on purpose
//! (`POST /app-api/v1/login-requests/{id}/outcome`), as the merchant sees it in a browser
//! login (the authorize redirect) and in a merchant-initiated one (the token endpoint);
//! the outcomes a kind of login cannot have; the special demo users (under 15, unverified
//! e-mail, no address, inactive); and the endpoint's absence outside test mode.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const SCOPE: (&str, &str) = ("scope", "openid name");
/// The special demo users (`nod_core::demo::special_demo_users`).
const UNDER_15: &str = "4791234510";
const EMAIL_UNVERIFIED: &str = "4791234511";
const NO_ADDRESS: &str = "4791234512";
const INACTIVE: &str = "4791234513";

fn hint(phone: &str) -> String {
    format!("urn:msisdn:{phone}")
}

/// A desktop browser login of `shop` waiting for [`PHONE`]'s app.
async fn waiting_browser_login(app: &TestApp) -> (Browser, Login) {
    let browser = app.browser();
    let login = browser.start_login("").await;
    browser.submit_phone(&login, PHONE, false).await;
    (browser, login)
}

/// A merchant-initiated login of `shop` waiting for [`PHONE`]'s app: its `auth_req_id`
/// and the id the app knows it by.
async fn waiting_ciba_login(app: &TestApp, phone: &Phone) -> (String, String) {
    let auth_req_id = app
        .merchant()
        .ciba_auth_req_id(&[("login_hint", &hint(PHONE)), SCOPE])
        .await;
    let id = phone.merchant_initiated().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (auth_req_id, id)
}

async fn json_of(response: reqwest::Response) -> (StatusCode, Value) {
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn every_browser_error_reaches_the_merchant_through_the_redirect() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    for (outcome, error) in [
        ("rejected", "access_denied"),
        ("wrong_challenge", "wrong_challenge"),
        ("unknown_reject_reason", "unknown_reject_reason"),
        ("outdated_app_version", "outdated_app_version"),
    ] {
        let (browser, login) = waiting_browser_login(&app).await;
        let (status, body) = json_of(phone.answer_with_outcome(&login.id, outcome).await).await;
        assert_eq!(status, 200, "{outcome}: {body}");
        assert_eq!(
            body,
            json!({ "status": "failed", "error": error, "next": "return_to_browser" }),
            "{outcome}"
        );
        assert!(phone.pending().await.is_empty(), "{outcome}: answered");
        let response = browser.continue_login(&login.id).await;
        assert_eq!(
            redirect_error(&response),
            (StatusCode::SEE_OTHER, error.to_owned()),
            "{outcome}"
        );
        let params = query(&location(&response));
        assert!(location(&response).starts_with(REDIRECT_URI));
        assert_eq!(params["state"], "state-12345");
        assert_eq!(params["iss"], app.issuer());
        assert!(!params["error_description"].is_empty());
        // Answered once: nothing else moves it.
        assert_eq!(
            phone
                .answer_with_outcome(&login.id, "rejected")
                .await
                .status(),
            StatusCode::CONFLICT,
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn expire_now_ends_a_browser_login_as_expired_for_every_door() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let (browser, login) = waiting_browser_login(&app).await;
    let mut events = phone.events().await;
    read_events_until(&mut events, "ready").await;

    let (status, body) = json_of(phone.answer_with_outcome(&login.id, "expire_now").await).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "status": "expired", "next": "done" }));
    read_events_until(&mut events, "closed").await;

    // The app: no longer listed, and no longer answerable.
    assert!(phone.pending().await.is_empty());
    let number = 10;
    let (status, error) = status_and_error(phone.approve(&login.id, number, false).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::GONE, "expired_token")
    );
    let (status, error) =
        status_and_error(phone.answer_with_outcome(&login.id, "rejected").await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::GONE, "expired_token")
    );

    // The browser: the expired page, and "Return to the shop" gives access_denied.
    let html = browser.wait_page(&login.id).await.text().await.unwrap();
    assert!(html.contains("Time ran out"), "{html}");
    let html = browser
        .continue_login(&login.id)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("Time ran out"));
    let response = browser.cancel(&login).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "access_denied".to_owned())
    );
}

#[tokio::test]
async fn a_browser_login_cannot_get_old_app_and_stays_waiting() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let (browser, login) = waiting_browser_login(&app).await;
    let (status, body) = json_of(phone.answer_with_outcome(&login.id, "old_app").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("outdated_app_version"),
        "{body}"
    );
    // Still waiting: the app lists it, with the outcomes it can have.
    let pending = phone.pending().await;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0]["test_outcomes"],
        json!([
            "rejected",
            "wrong_challenge",
            "unknown_reject_reason",
            "outdated_app_version",
            "expire_now"
        ])
    );
    let html = browser.wait_page(&login.id).await.text().await.unwrap();
    assert!(!html.contains("Time ran out"));
}

#[tokio::test]
async fn app_journeys_get_the_error_on_the_url_the_app_opens() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let extra = "&requested_flow=app_to_app&app_callback_uri=shopapp%3A%2F%2Fcallback";
    let (id, ticket) = landing(&app, &browser, extra).await;
    assert_eq!(phone.open_ticket(&ticket).await.status(), 200);

    // No number on this journey, so no wrong number either.
    let pending = phone.pending().await;
    assert_eq!(
        pending[0]["test_outcomes"],
        json!([
            "rejected",
            "unknown_reject_reason",
            "outdated_app_version",
            "expire_now"
        ])
    );
    let (status, error) =
        status_and_error(phone.answer_with_outcome(&id, "wrong_challenge").await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    let (status, body) =
        json_of(phone.answer_with_outcome(&id, "outdated_app_version").await).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "failed");
    assert_eq!(body["next"], "open_url");
    let url = body["url"].as_str().unwrap();
    assert!(url.starts_with("shopapp://callback?"), "{url}");
    let params = query(url);
    assert_eq!(params["error"], "outdated_app_version");
    assert_eq!(params["state"], "state-12345");
}

#[tokio::test]
async fn every_merchant_initiated_outcome_reaches_the_merchant_at_the_token_endpoint() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let merchant = app.merchant();
    for (outcome, error) in [
        ("rejected", "access_denied"),
        ("old_app", "old_app"),
        ("expire_now", "expired_token"),
    ] {
        let (auth_req_id, id) = waiting_ciba_login(&app, &phone).await;
        assert_eq!(
            phone.pending().await[0]["test_outcomes"],
            json!(["rejected", "old_app", "expire_now"])
        );
        let (status, body) = json_of(phone.answer_with_outcome(&id, outcome).await).await;
        assert_eq!(status, 200, "{outcome}: {body}");
        assert_eq!(body["next"], "done", "{outcome}");
        assert!(phone.pending().await.is_empty(), "{outcome}");
        let (status, body) = merchant.ciba_poll(&auth_req_id).await;
        assert_eq!(
            (status, body["error"].as_str().unwrap()),
            (StatusCode::BAD_REQUEST, error),
            "{outcome}: {body}"
        );
        app.advance(5);
    }
}

#[tokio::test]
async fn a_merchant_initiated_login_cannot_get_the_browser_only_errors() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let merchant = app.merchant();
    let (auth_req_id, id) = waiting_ciba_login(&app, &phone).await;
    for outcome in [
        "wrong_challenge",
        "unknown_reject_reason",
        "outdated_app_version",
    ] {
        let (status, error) = status_and_error(phone.answer_with_outcome(&id, outcome).await).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_request"),
            "{outcome}"
        );
    }
    let (_, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(body["error"], "authorization_pending", "still waiting");

    // A rejection with a reason Nod does not know is access_denied here, as every
    // rejection of a merchant-initiated login.
    let rejected = phone
        .reject_with(&id, json!({ "reason": "battery_low" }))
        .await;
    assert_eq!(rejected.status(), 200);
    app.advance(5);
    let (_, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(body["error"], "access_denied");
}

#[tokio::test]
async fn bad_outcome_requests() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let (_browser, login) = waiting_browser_login(&app).await;
    for body in [
        json!({}),
        json!({ "outcome": "approved" }),
        json!({ "outcome": 7 }),
    ] {
        let response = phone
            .request(
                Method::POST,
                &format!("/login-requests/{}/outcome", login.id),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    // Another person's app, an unknown id, no device token.
    let other = app.phone(OTHER_PHONE).await;
    let (status, _) =
        status_and_error(other.answer_with_outcome(&login.id, "rejected").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, _) = status_and_error(phone.answer_with_outcome(&unknown, "rejected").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let response = app
        .unregistered_phone()
        .answer_with_outcome(&login.id, "rejected")
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(phone.pending().await.len(), 1, "nothing moved it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_outcome_racing_an_approval_has_one_winner() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    for outcome in ["outdated_app_version", "expire_now"] {
        for _ in 0..5 {
            let browser = app.browser();
            let login = browser.start_login("").await;
            let number = browser.submit_phone(&login, PHONE, false).await;
            let (approved, ended) = tokio::join!(
                phone.approve(&login.id, number, false),
                phone.answer_with_outcome(&login.id, outcome),
            );
            let (approved, ended) = (approved.status(), ended.status());
            assert!(
                (approved == 200) ^ (ended == 200),
                "{outcome}: exactly one wins ({approved}, {ended})"
            );
            let loser = if approved == 200 { ended } else { approved };
            assert!(
                loser == StatusCode::CONFLICT || loser == StatusCode::GONE,
                "{outcome}: {loser}"
            );
        }
    }
}

#[tokio::test]
async fn the_outcome_endpoint_does_not_exist_outside_test_mode() {
    for test_mode in [true, false] {
        let app = TestApp::builder().test_mode(test_mode).spawn().await;
        // A made-up device token: where the route exists, the device check answers 401.
        let phone = app.phone_with_token("not-a-device-token");
        let id = uuid::Uuid::new_v4().to_string();
        let status = phone.answer_with_outcome(&id, "rejected").await.status();
        let expected = if test_mode {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::NOT_FOUND
        };
        assert_eq!(status, expected, "test mode {test_mode}");
        let status = app
            .unregistered_phone()
            .answer_with_outcome(&id, "expire_now")
            .await
            .status();
        assert_eq!(status, expected, "test mode {test_mode}");
    }
}

#[tokio::test]
async fn a_person_under_15_cannot_log_in() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    // Merchant-initiated: invalid_user, and user-exists says no.
    let response = merchant
        .ciba_start(&[("login_hint", &hint(UNDER_15)), SCOPE])
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_user".to_owned())
    );
    let exists: Value = merchant
        .user_exists(&hint(UNDER_15))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(exists, json!({ "exists": false }));

    // In the browser, the login waits for nobody (as for an unknown number) and expires;
    // their app never sees it, not even by opening a deep link.
    let child = app.phone(UNDER_15).await;
    let browser = app.browser();
    let login = browser.start_login("").await;
    browser.submit_phone(&login, UNDER_15, false).await;
    assert!(child.pending().await.is_empty());
    let (_, ticket) = landing(
        &app,
        &app.browser(),
        "&requested_flow=automatic_return_from_vipps_app",
    )
    .await;
    let (status, _) = status_and_error(child.open_ticket(&ticket).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    app.advance(301);
    let html = browser.wait_page(&login.id).await.text().await.unwrap();
    assert!(html.contains("Time ran out"));
}

#[tokio::test]
async fn an_inactive_person_gets_invalid_user() {
    let app = TestApp::builder().spawn().await;
    let response = app
        .merchant()
        .ciba_start(&[("login_hint", &hint(INACTIVE)), SCOPE])
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_user".to_owned())
    );
    let registered = app
        .unregistered_phone()
        .register(json!({ "phone_number": INACTIVE }))
        .await;
    assert_eq!(registered.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn userinfo_of_the_unverified_email_and_the_no_address_users() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    for (number, check) in [(EMAIL_UNVERIFIED, "email"), (NO_ADDRESS, "address")] {
        let phone = app.phone(number).await;
        let auth_req_id = merchant
            .ciba_auth_req_id(&[
                ("login_hint", &hint(number)),
                ("scope", "openid email address"),
            ])
            .await;
        let approved = phone.approve_merchant_initiated().await;
        assert_eq!(approved.status(), 200);
        let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
        assert_eq!(status, 200, "{tokens}");
        let info = merchant
            .userinfo_json(tokens["access_token"].as_str().unwrap())
            .await;
        if check == "email" {
            assert_eq!(info["email_verified"], false);
            assert_eq!(info["address"]["country"], "NO");
        } else {
            assert_eq!(info["email_verified"], true);
            for field in [
                "street_address",
                "postal_code",
                "region",
                "country",
                "formatted",
            ] {
                assert_eq!(info["address"][field], "", "{field}");
            }
            assert_eq!(info["other_addresses"], json!([]));
        }
    }
}

#[tokio::test]
async fn the_test_users_list_marks_the_special_users() {
    let app = TestApp::builder().spawn().await;
    let response = app
        .client()
        .get(app.url("/app-api/v1/test-users"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let users = body["users"].as_array().unwrap();
    let find = |phone: &str| users.iter().find(|u| u["phone_number"] == phone).cloned();
    let flags = |u: Value| {
        (
            u["may_log_in"].clone(),
            u["email_verified"].clone(),
            u["has_address"].clone(),
        )
    };
    assert_eq!(
        flags(find(PHONE).unwrap()),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!(flags(find(UNDER_15).unwrap()).0, json!(false));
    assert_eq!(flags(find(EMAIL_UNVERIFIED).unwrap()).1, json!(false));
    assert_eq!(flags(find(NO_ADDRESS).unwrap()).2, json!(false));
    assert!(find(INACTIVE).is_none(), "an inactive user has no app");
}

#[tokio::test]
async fn a_ping_mode_merchant_is_pinged_for_old_app_and_then_polls_it() {
    let receiver = WebhookReceiver::start().await;
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            ciba_mode: nod_core::sales_unit::CibaMode::Ping,
            ciba_notification_endpoint: Some(receiver.url.clone()),
            ..SalesUnitSpec::default()
        })
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[
            ("login_hint", &hint(PHONE)),
            SCOPE,
            ("client_notification_token", "merchant-token"),
        ])
        .await;
    let id = phone.merchant_initiated().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        phone.answer_with_outcome(&id, "old_app").await.status(),
        200
    );
    let ping = receiver.first(std::time::Duration::from_secs(5)).await;
    assert_eq!(ping.body, json!({ "auth_req_id": auth_req_id }));
    assert_eq!(ping.authorization.as_deref(), Some("Bearer merchant-token"));
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "old_app")
    );
}
