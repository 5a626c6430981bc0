//! Merchant-initiated login (CIBA) over HTTP: every success and error row of the
//! backchannel endpoint and the CIBA grants, poll and ping (with a real notification
//! receiver on 127.0.0.1), login to a web page, delegated consents, and the same `sub`
//! as in the browser.

use std::time::{Duration, Instant};

use nod_core::sales_unit::{CibaMode, ConsentLinks, ConsentQuestion, ConsentTexts};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const HINT: (&str, &str) = ("login_hint", "urn:msisdn:4791234501");
const SCOPE: (&str, &str) = ("scope", "openid name");

/// `shop` in ping mode, notified at this endpoint.
fn pinged_at(endpoint: &str) -> SalesUnitSpec {
    SalesUnitSpec {
        ciba_mode: CibaMode::Ping,
        ciba_notification_endpoint: Some(endpoint.to_owned()),
        ..SalesUnitSpec::default()
    }
}

#[tokio::test]
async fn poll_mode_from_start_to_tokens() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let answer = merchant
        .ciba_started(&[
            HINT,
            SCOPE,
            ("binding_message", "POS-7"),
            ("nonce", "n-1"),
            ("state", "s-1"),
        ])
        .await;
    assert_eq!(answer["expires_in"], 600);
    assert_eq!(answer["interval"], 5);
    let auth_req_id = answer["auth_req_id"].as_str().unwrap().to_owned();
    assert!(auth_req_id.len() >= 43);

    // Pending; polling again at once is too fast.
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "authorization_pending")
    );
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "slow_down")
    );
    app.advance(5);
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "authorization_pending")
    );

    // The app shows the sales unit, the binding message and the data asked for.
    let request = phone.merchant_initiated().await;
    assert_eq!(request["sales_unit_name"], "Shop shop");
    assert_eq!(request["binding_message"], "POS-7");
    assert_eq!(request["choices"], Value::Null);
    assert_eq!(request["consent_in_app"], true);
    assert_eq!(request["consent_scopes"][0]["scope"], "name");
    let id = request["id"].as_str().unwrap();
    assert_eq!(
        phone.approve_with(id, json!({})).await.status(),
        400,
        "consent must be answered"
    );
    let response = phone.approve_with(id, json!({ "consent": true })).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap()["next"], "done");

    app.advance(5);
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid name");
    let claims = decode_claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["auth_req_id"], auth_req_id.as_str());
    assert_eq!(claims["nonce"], "n-1");
    assert_eq!(claims["amr"], json!(["app"]));
    let info = merchant
        .userinfo_json(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(info["name"], "Ingrid Solberg");

    // Redeemable once.
    app.advance(5);
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
}

#[tokio::test]
async fn backchannel_request_errors() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("no-nin"))
        .spawn()
        .await;
    let merchant = app.merchant();
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
        let response = merchant.ciba_start(&form).await;
        assert_eq!(response.status(), status, "{form:?}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], error, "{form:?}");
        assert!(body["error_description"].is_string());
    }
    // No client authentication, a wrong secret.
    for merchant in [
        app.merchant().with_auth(ClientAuth::None),
        app.merchant().with_secret("wrong"),
    ] {
        let response = merchant.ciba_start(&[HINT, SCOPE]).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // A client without the nin permission.
    let response = app
        .merchant_as("no-nin")
        .ciba_start(&[HINT, ("scope", "openid nin")])
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_scope".into())
    );
    // Requested expiry within range is honoured.
    let body = merchant
        .ciba_started(&[HINT, SCOPE, ("requested_expiry", "120")])
        .await;
    assert_eq!(body["expires_in"], 120);
}

#[tokio::test]
async fn too_many_pending_requests_for_one_person() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    for _ in 0..3 {
        merchant.ciba_started(&[HINT, SCOPE]).await;
    }
    let response = merchant.ciba_start(&[HINT, SCOPE]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: i64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=600).contains(&retry), "{retry}");
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::TOO_MANY_REQUESTS, "invalid_request".into())
    );
    // Another person is not affected.
    merchant
        .ciba_started(&[("login_hint", "urn:msisdn:4520123401"), SCOPE])
        .await;
}

#[tokio::test]
async fn poll_errors() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other"))
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let invalid_grant = (StatusCode::BAD_REQUEST, "invalid_grant".to_owned());
    let error_of = |(status, body): (StatusCode, Value)| {
        (
            status,
            body["error"].as_str().unwrap_or_default().to_owned(),
        )
    };
    // Unknown, malformed and missing auth_req_id.
    assert_eq!(error_of(merchant.ciba_poll("unknown").await), invalid_grant);
    assert_eq!(
        error_of(merchant.ciba_poll(&"x".repeat(500)).await),
        invalid_grant
    );
    let response = merchant.token(&[("grant_type", CIBA_GRANT)]).await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );

    // Another client's auth_req_id.
    let auth_req_id = merchant.ciba_auth_req_id(&[HINT, SCOPE]).await;
    assert_eq!(
        error_of(app.merchant_as("other").ciba_poll(&auth_req_id).await),
        invalid_grant
    );

    // Rejected.
    let id = phone.merchant_initiated().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(phone.reject(&id).await.status(), 200);
    assert_eq!(
        error_of(merchant.ciba_poll(&auth_req_id).await),
        (StatusCode::BAD_REQUEST, "access_denied".into())
    );

    // Expired.
    let auth_req_id = merchant
        .ciba_auth_req_id(&[HINT, SCOPE, ("requested_expiry", "60")])
        .await;
    app.advance(61);
    assert_eq!(
        error_of(merchant.ciba_poll(&auth_req_id).await),
        (StatusCode::BAD_REQUEST, "expired_token".into())
    );
    assert!(phone.pending().await.is_empty());
}

#[tokio::test]
async fn ping_mode_notifies_with_retries() {
    let receiver = WebhookReceiver::failing_first(1).await;
    let app = TestApp::builder()
        .with_sales_unit(pinged_at(&receiver.url))
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let response = merchant.ciba_start(&[HINT, SCOPE]).await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into()),
        "ping mode needs a token"
    );
    let auth_req_id = merchant
        .ciba_auth_req_id(&[
            HINT,
            SCOPE,
            ("client_notification_token", "merchant-token-1"),
        ])
        .await;
    phone.approve_merchant_initiated().await;
    // The first attempt fails; the retry (after a second) gets through.
    let ping = receiver.first(Duration::from_secs(10)).await;
    assert_eq!(
        ping.authorization.as_deref(),
        Some("Bearer merchant-token-1")
    );
    assert_eq!(ping.body, json!({ "auth_req_id": auth_req_id }));
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
}

#[tokio::test]
async fn a_receiver_that_never_answers_holds_up_nothing() {
    let receiver = WebhookReceiver::never_answering().await;
    let app = TestApp::builder()
        .with_sales_unit(pinged_at(&receiver.url))
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[HINT, SCOPE, ("client_notification_token", "t")])
        .await;
    let began = Instant::now();
    let response = phone.approve_merchant_initiated().await;
    assert_eq!(response.status(), 200);
    assert!(
        began.elapsed() < Duration::from_secs(2),
        "approving waited for the merchant: {:?}",
        began.elapsed()
    );
    let began = Instant::now();
    assert_eq!(merchant.ciba_poll(&auth_req_id).await.0, 200);
    assert!(began.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn login_to_webpage() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[
            HINT,
            SCOPE,
            ("requested_flow", "login_to_webpage"),
            ("redirect_uri", REDIRECT_URI),
            ("state", "ignored"),
        ])
        .await;
    // The CIBA grant is the wrong one for this request.
    let (status, body) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::BAD_REQUEST, "unauthorized_client")
    );

    let next: Value = phone
        .approve_merchant_initiated()
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
    assert_eq!(
        status_and_error(merchant.redeem(&code, None).await).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    let response = merchant
        .token(&[("grant_type", CIBA_REDIRECT_GRANT), ("code", &code)])
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into()),
        "a wrong grant spends the code"
    );
}

#[tokio::test]
async fn login_to_webpage_redeems_with_the_redirect_grant() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[
            HINT,
            SCOPE,
            ("requested_flow", "login_to_webpage"),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await;
    let next: Value = phone
        .approve_merchant_initiated()
        .await
        .json()
        .await
        .unwrap();
    let code = query(next["url"].as_str().unwrap())["code"].clone();
    let response = merchant
        .token(&[("grant_type", CIBA_REDIRECT_GRANT), ("code", &code)])
        .await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(
        decode_claims(tokens["id_token"].as_str().unwrap())["auth_req_id"],
        auth_req_id.as_str()
    );
    // Once only; and a browser code cannot use this grant.
    let response = merchant
        .token(&[("grant_type", CIBA_REDIRECT_GRANT), ("code", &code)])
        .await;
    assert_eq!(
        status_and_error(response).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(
        merchant
            .token(&[("grant_type", CIBA_REDIRECT_GRANT)])
            .await
            .status(),
        400
    );
}

#[tokio::test]
async fn the_same_person_has_one_sub_across_flows() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    // Browser.
    let (_, response) = log_in(&app.browser(), &phone, "", false).await;
    let tokens = merchant.tokens(&code_of(&response), None).await;
    let browser_sub = decode_claims(tokens["id_token"].as_str().unwrap())["sub"].clone();
    // Merchant-initiated: the consent is there already, nothing to ask in the app.
    let auth_req_id = merchant.ciba_auth_req_id(&[HINT, SCOPE]).await;
    let request = phone.merchant_initiated().await;
    assert_eq!(request["consent_in_app"], false);
    phone
        .approve_with(request["id"].as_str().unwrap(), json!({}))
        .await;
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200);
    assert_eq!(
        decode_claims(tokens["id_token"].as_str().unwrap())["sub"],
        browser_sub
    );
}

#[tokio::test]
async fn delegated_consents_come_back_in_userinfo() {
    let texts = ConsentTexts {
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
    };
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            consent_texts: Some(texts),
            ..SalesUnitSpec::default()
        })
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[HINT, ("scope", "openid name delegatedConsents")])
        .await;
    let request = phone.merchant_initiated().await;
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
            phone.approve_with(id, body.clone()).await.status(),
            400,
            "{body}"
        );
    }
    let body = json!({ "consent": true, "delegated_consents": [{ "id": "terms", "accepted": true }, { "id": "news", "accepted": false }] });
    assert_eq!(phone.approve_with(id, body).await.status(), 200);
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200);
    let info = merchant
        .userinfo_json(tokens["access_token"].as_str().unwrap())
        .await;
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
    insta::assert_json_snapshot!("userinfo_openid_name_delegated_consents", info, {
        ".sub" => "[sub]",
        ".sid" => "[sid]",
    });
}

#[tokio::test]
async fn user_exists() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    for (hint, exists) in [
        ("urn:msisdn:4791234501", true),
        ("urn:msisdn:4740000000", false),
    ] {
        let response = merchant.user_exists(hint).await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.json::<Value>().await.unwrap(),
            json!({ "exists": exists })
        );
    }
    assert_eq!(merchant.user_exists("4791234501").await.status(), 400);
    let response = app
        .merchant()
        .with_auth(ClientAuth::None)
        .user_exists("urn:msisdn:4791234501")
        .await;
    assert_eq!(response.status(), 401);
}
