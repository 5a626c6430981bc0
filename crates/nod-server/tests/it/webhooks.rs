//! The access token API, the webhooks API, the `login.merchant-initiated.ping.v1` event
//! (signed as the Vipps Webhooks API's request authentication says, checked here with
//! our own HMAC, not the server's code) and the Login API's `CONSENT_REVOKED` webhook.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::*;

const PING: &str = "login.merchant-initiated.ping.v1";
const HINT: (&str, &str) = ("login_hint", "urn:msisdn:4791234501");
const SCOPE: (&str, &str) = ("scope", "openid name");

/// The status, content type and body of a problem response.
async fn problem(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json",
        "{status}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(body["detail"].is_string(), "{body}");
    (status, body)
}

/// The `name`s of a problem's `extraDetails`.
fn invalid_fields(body: &Value) -> Vec<String> {
    body["extraDetails"]
        .as_array()
        .unwrap_or_else(|| panic!("extraDetails in {body}"))
        .iter()
        .map(|d| {
            assert!(d["reason"].is_string(), "{d}");
            d["name"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_access_token_api_answers_in_the_vipps_shape() {
    let app = TestApp::builder().spawn().await;
    let response = app.merchant().access_token_response().await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    // Every value is a string, as the Access token API's response has them.
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3600");
    assert_eq!(body["ext_expires_in"], "0");
    assert_eq!(body["not_before"], START.to_string());
    assert_eq!(body["expires_on"], (START + 3600).to_string());
    assert!(body["resource"].is_string());
    let token = body["access_token"].as_str().unwrap();
    assert!(token.len() >= 43, "{token}");
    assert_ne!(
        token,
        app.merchant().access_token().await,
        "each call a new token"
    );
}

#[tokio::test]
async fn wrong_or_missing_credentials_get_401() {
    let app = TestApp::builder().spawn().await;
    for merchant in [
        app.merchant().with_secret("wrong-secret"),
        app.merchant_as("nobody"),
    ] {
        let (status, body) = problem(merchant.access_token_response().await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(
            body["detail"].as_str().unwrap().contains("client_secret"),
            "{body}"
        );
    }
    let response = app
        .client()
        .post(app.url("/accesstoken/get"))
        .header("client_id", CLIENT_ID)
        .send()
        .await
        .unwrap();
    let (status, _) = problem(response).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no client_secret header");
    // Nod's token endpoint credentials (Basic) are not what this endpoint reads.
    let response = app
        .merchant()
        .post("/accesstoken/get")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_webhooks_api_needs_a_valid_token() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let response = app
        .client()
        .get(app.url("/webhooks/v1/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer error=\"invalid_token\""
    );
    assert_eq!(problem(response).await.0, StatusCode::UNAUTHORIZED);
    for token in ["not-a-token", CLIENT_SECRET] {
        let response = merchant.list_webhooks(token).await;
        assert_eq!(problem(response).await.0, StatusCode::UNAUTHORIZED);
    }
    let token = merchant.access_token().await;
    assert_eq!(merchant.list_webhooks(&token).await.status(), 200);
    app.advance(3599);
    assert_eq!(merchant.list_webhooks(&token).await.status(), 200);
    app.advance(1);
    let (status, body) = problem(merchant.list_webhooks(&token).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired: {body}");
    let response = merchant
        .register_webhook(
            &token,
            &json!({ "url": "https://shop.example/h", "events": [PING] }),
        )
        .await;
    assert_eq!(problem(response).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn webhooks_are_registered_listed_and_deleted() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let listed: Value = merchant.list_webhooks(&token).await.json().await.unwrap();
    assert_eq!(listed, json!({ "webhooks": [] }));

    let created = merchant
        .registered_webhook(&token, "https://shop.example/hooks?x=1", &[PING])
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{created}");
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 88, "64 random bytes, base64");
    assert_eq!(created.as_object().unwrap().len(), 2, "{created}");

    let response = merchant.list_webhooks(&token).await;
    assert_eq!(response.status(), 200);
    let listed: Value = response.json().await.unwrap();
    assert_eq!(
        listed,
        json!({ "webhooks": [{ "id": id, "url": "https://shop.example/hooks?x=1", "events": [PING] }] }),
        "listed without the secret"
    );

    let response = merchant.delete_webhook(&token, &id).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.text().await.unwrap().is_empty());
    let (status, _) = problem(merchant.delete_webhook(&token, &id).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = problem(merchant.delete_webhook(&token, "not-a-uuid").await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let listed: Value = merchant.list_webhooks(&token).await.json().await.unwrap();
    assert_eq!(listed, json!({ "webhooks": [] }));
}

#[tokio::test]
async fn another_sales_units_webhooks_are_out_of_reach() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other-shop"))
        .spawn()
        .await;
    let shop = app.merchant();
    let other = app.merchant_as("other-shop");
    let shop_token = shop.access_token().await;
    let other_token = other.access_token().await;
    let created = shop
        .registered_webhook(&shop_token, "https://shop.example/hooks", &[PING])
        .await;
    let id = created["id"].as_str().unwrap();

    let listed: Value = other
        .list_webhooks(&other_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed, json!({ "webhooks": [] }));
    let (status, _) = problem(other.delete_webhook(&other_token, id).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "as if it did not exist");
    let listed: Value = shop.list_webhooks(&shop_token).await.json().await.unwrap();
    assert_eq!(
        listed["webhooks"].as_array().unwrap().len(),
        1,
        "still there"
    );
}

#[tokio::test]
async fn registrations_are_validated() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let cases = [
        (json!({ "url": "/relative", "events": [PING] }), vec!["url"]),
        (
            json!({ "url": "ftp://shop.example/h", "events": [PING] }),
            vec!["url"],
        ),
        (json!({ "events": [PING] }), vec!["url"]),
        (
            json!({ "url": "https://shop.example/h", "events": ["epayments.payment.captured.v1"] }),
            vec!["events"],
        ),
        (
            json!({ "url": "https://shop.example/h", "events": [] }),
            vec!["events"],
        ),
        (json!({ "url": "https://shop.example/h" }), vec!["events"]),
        (
            json!({ "url": "nope", "events": ["nope"] }),
            vec!["url", "events"],
        ),
    ];
    for (body, fields) in cases {
        let (status, problem) = problem(merchant.register_webhook(&token, &body).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(invalid_fields(&problem), fields, "{body}: {problem}");
    }
    // An unknown event says which events Nod sends.
    let (_, body) = problem(
        merchant
            .register_webhook(
                &token,
                &json!({ "url": "https://shop.example/h", "events": ["login.unknown.v1"] }),
            )
            .await,
    )
    .await;
    let reason = body["extraDetails"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("login.unknown.v1") && reason.contains(PING),
        "{reason}"
    );
    // Malformed JSON, an unknown field.
    let response = app
        .client()
        .post(app.url("/webhooks/v1/webhooks"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(response).await.0, StatusCode::BAD_REQUEST);
    let body = json!({ "url": "https://shop.example/h", "events": [PING], "secret": "mine" });
    let (status, _) = problem(merchant.register_webhook(&token, &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let listed: Value = merchant.list_webhooks(&token).await.json().await.unwrap();
    assert_eq!(listed, json!({ "webhooks": [] }), "nothing was stored");
}

#[tokio::test]
async fn at_most_25_registrations_per_event() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other-shop"))
        .spawn()
        .await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let mut ids = Vec::new();
    for n in 0..25 {
        let created = merchant
            .registered_webhook(&token, &format!("https://shop.example/h/{n}"), &[PING])
            .await;
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let body = json!({ "url": "https://shop.example/h/25", "events": [PING] });
    let (status, problem_body) = problem(merchant.register_webhook(&token, &body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid_fields(&problem_body), ["events"]);
    assert!(
        problem_body["extraDetails"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("25"),
        "{problem_body}"
    );
    // Another sales unit counts its own.
    let other = app.merchant_as("other-shop");
    let other_token = other.access_token().await;
    other
        .registered_webhook(&other_token, "https://other.example/h", &[PING])
        .await;
    // Deleting one frees a place.
    assert_eq!(
        merchant.delete_webhook(&token, &ids[0]).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        merchant.register_webhook(&token, &body).await.status(),
        StatusCode::CREATED
    );
}

/// Checks a notification as a merchant following the Vipps Webhooks API's request
/// authentication would: the content hash of the raw body, and the HMAC-SHA256, keyed
/// with the secret, of `POST\n{path and query}\n{x-ms-date};{host};{content hash}`.
fn verify_signature(received: &Received, secret: &str, registered_url: &str) {
    let url = url::Url::parse(registered_url).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    assert_eq!(
        received.header("host"),
        Some(host.as_str()),
        "the Host header"
    );
    let path_and_query = received.uri.path_and_query().unwrap().as_str();
    let expected_path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    assert_eq!(path_and_query, expected_path);

    let hash = STANDARD.encode(Sha256::digest(&received.raw));
    assert_eq!(received.header("x-ms-content-sha256"), Some(hash.as_str()));
    let date = received.header("x-ms-date").expect("x-ms-date");
    let signed = format!("POST\n{path_and_query}\n{date};{host};{hash}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    let signature = STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(
        received.authorization.as_deref(),
        Some(
            format!(
                "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
            )
            .as_str()
        )
    );
}

/// Starts a merchant-initiated login for [`PHONE`]; its `auth_req_id` and the id the app
/// sees.
async fn start_ciba(app: &TestApp, phone: &Phone) -> (String, String) {
    let auth_req_id = app.merchant().ciba_auth_req_id(&[HINT, SCOPE]).await;
    let id = phone.merchant_initiated().await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (auth_req_id, id)
}

#[tokio::test]
async fn an_answered_merchant_initiated_login_is_signed_and_sent_to_every_registration() {
    let receiver = WebhookReceiver::start().await;
    let other_receiver = WebhookReceiver::start().await;
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other-shop"))
        .spawn()
        .await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let with_query = format!("{}?shop=nod&n=1", receiver.url);
    let first = merchant
        .registered_webhook(&token, &receiver.url, &[PING])
        .await;
    let second = merchant
        .registered_webhook(&token, &with_query, &[PING])
        .await;
    // Another sales unit's registration hears nothing of this one's logins.
    let other = app.merchant_as("other-shop");
    let other_token = other.access_token().await;
    other
        .registered_webhook(&other_token, &other_receiver.url, &[PING])
        .await;

    let phone = app.phone(PHONE).await;
    let (auth_req_id, id) = start_ciba(&app, &phone).await;
    app.advance(7);
    let response = phone.approve_with(&id, json!({ "consent": true })).await;
    assert_eq!(response.status(), 200);

    let mut received = receiver.wait_for(2, Duration::from_secs(10)).await;
    received.sort_by_key(|r| r.uri.query().is_some());
    for (r, (registration, url)) in received.iter().zip([
        (&first, receiver.url.as_str()),
        (&second, with_query.as_str()),
    ]) {
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.body, json!({ "auth_req_id": auth_req_id }));
        assert_eq!(r.text(), format!(r#"{{"auth_req_id":"{auth_req_id}"}}"#));
        // The date is the server's clock (START + 7 s), RFC 1123.
        assert_eq!(r.header("x-ms-date"), Some("Fri, 15 Jan 2027 08:00:07 GMT"));
        verify_signature(r, registration["secret"].as_str().unwrap(), url);
    }
    // The poll-mode merchant still redeems as usual.
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");

    // A rejected login is an answer too.
    let (auth_req_id, id) = start_ciba(&app, &phone).await;
    assert_eq!(phone.reject(&id).await.status(), 200);
    let received = receiver.wait_for(4, Duration::from_secs(10)).await;
    for r in &received[2..] {
        assert_eq!(r.body, json!({ "auth_req_id": auth_req_id }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(other_receiver.received().await.is_empty());
    assert_eq!(receiver.received().await.len(), 4, "once per registration");
}

#[tokio::test]
async fn a_ping_mode_merchant_gets_the_event_and_its_ping() {
    let hooks = WebhookReceiver::start().await;
    let ping = WebhookReceiver::start().await;
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            ciba_mode: nod_core::sales_unit::CibaMode::Ping,
            ciba_notification_endpoint: Some(ping.url.clone()),
            ..SalesUnitSpec::default()
        })
        .spawn()
        .await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let registration = merchant
        .registered_webhook(&token, &hooks.url, &[PING])
        .await;
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[HINT, SCOPE, ("client_notification_token", "ping-token")])
        .await;
    phone.approve_merchant_initiated().await;
    let event = hooks.first(Duration::from_secs(10)).await;
    verify_signature(&event, registration["secret"].as_str().unwrap(), &hooks.url);
    assert_eq!(event.body, json!({ "auth_req_id": auth_req_id }));
    let notified = ping.first(Duration::from_secs(10)).await;
    assert_eq!(notified.authorization.as_deref(), Some("Bearer ping-token"));
    assert!(
        notified.header("x-ms-date").is_none(),
        "the CIBA ping is not signed"
    );
}

#[tokio::test]
async fn events_are_retried_until_the_receiver_accepts() {
    let receiver = WebhookReceiver::failing_first(1).await;
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let token = merchant.access_token().await;
    let registration = merchant
        .registered_webhook(&token, &receiver.url, &[PING])
        .await;
    let phone = app.phone(PHONE).await;
    let (auth_req_id, id) = start_ciba(&app, &phone).await;
    let began = std::time::Instant::now();
    let response = phone.approve_with(&id, json!({ "consent": true })).await;
    assert_eq!(response.status(), 200);
    assert!(began.elapsed() < Duration::from_secs(1), "the app waited");
    // The first attempt is refused (503); the retry a second later gets through, signed.
    let event = receiver.first(Duration::from_secs(10)).await;
    assert_eq!(receiver.calls(), 2);
    assert_eq!(event.body, json!({ "auth_req_id": auth_req_id }));
    verify_signature(
        &event,
        registration["secret"].as_str().unwrap(),
        &receiver.url,
    );
}

#[tokio::test]
async fn consent_revoked_is_an_unsigned_jwt_in_a_text_body() {
    let hook = WebhookReceiver::start().await;
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            webhook_url: Some(hook.url.clone()),
            ..SalesUnitSpec::default()
        })
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let (_, response) = log_in(&browser, &phone, "", false).await;
    let tokens = merchant.tokens(&code_of(&response), None).await;
    let userinfo = merchant
        .userinfo_json(tokens["access_token"].as_str().unwrap())
        .await;

    app.advance(100);
    assert_eq!(phone.revoke_consent(CLIENT_ID).await.status(), 204);
    let event = hook.first(Duration::from_secs(10)).await;
    assert_eq!(event.header("content-type"), Some("text/plain"));
    assert_eq!(event.authorization, None);
    let parts: Vec<&str> = event.text().split('.').collect();
    assert_eq!(parts.len(), 3, "{}", event.text());
    assert_eq!(parts[2], "", "no signature");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header, json!({ "alg": "none", "typ": "JWT" }));
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let now = START + 100;
    assert_eq!(
        claims,
        json!({
            "exp": now + 300,
            "iat": now,
            "nbf": now,
            "sub": userinfo["sub"],
            "event": "CONSENT_REVOKED",
        })
    );
    assert!(claims["sub"].is_string());
}

#[tokio::test]
async fn what_an_instance_that_died_was_sending_is_sent_once_its_hold_runs_out() {
    use nod_server::Clock as _;
    let receiver = WebhookReceiver::start().await;
    let now = nod_server::SystemClock.now();
    let delivery = nod_store::Delivery {
        id: uuid::Uuid::new_v4(),
        url: receiver.url.clone(),
        content_type: "application/json".into(),
        body: br#"{"auth_req_id":"left-behind"}"#.to_vec(),
        auth: nod_store::DeliveryAuth::Bearer("ping-token".into()),
        attempts: 0,
        due_at: now,
        created_at: now,
    };
    // Claimed by an instance that died: held two more seconds.
    let began = std::time::Instant::now();
    let _app = TestApp::builder()
        .with_held_delivery(delivery, now + 2)
        .spawn()
        .await;
    let event = receiver.first(Duration::from_secs(10)).await;
    assert!(
        began.elapsed() >= Duration::from_secs(1),
        "sent while another instance held it"
    );
    assert_eq!(event.body, json!({ "auth_req_id": "left-behind" }));
    assert_eq!(event.authorization.as_deref(), Some("Bearer ping-token"));
    // Sent once: finished, not sent again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.calls(), 1);
}
