//! The special demo users of test mode: under 15, unverified e-mail, no address,
//! inactive, as merchants see them.

use reqwest::StatusCode;
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
        let id = phone.merchant_initiated().await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let approved = phone.approve_with(&id, json!({ "consent": true })).await;
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
