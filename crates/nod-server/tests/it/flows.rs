//! The phone journeys over HTTP: the mobile deep link, app to app (with `resume_uri`, and
//! v2 with consent in the app), automatic return, `final_redirect_is_app`; and the
//! person's self-service: consents revoked (with the merchant's webhook) and browsers
//! logged out; and the pages' languages.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

const PHONE_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36";

const AUTOMATIC_RETURN: &str = "&requested_flow=automatic_return_from_vipps_app";

/// Accepts the consent page, reading its CSRF token from the page.
async fn accept_consent_page(browser: &Browser, id: &str) -> reqwest::Response {
    let html = browser.consent_page(id).await;
    let login = Login {
        id: id.to_owned(),
        csrf: csrf(&html),
    };
    browser.accept_consent(&login).await
}

#[tokio::test]
async fn mobile_journey_opens_the_app_with_a_ticket() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser_with(&[("user-agent", PHONE_UA)]);
    let (id, ticket) = landing(&app, &browser, "").await;
    let phone = app.phone(PHONE).await;
    assert!(
        phone.pending().await.is_empty(),
        "nobody is asked before the app opens the link"
    );

    let response = phone.open_ticket(&ticket).await;
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["id"], id.as_str());
    assert_eq!(view["choices"], Value::Null, "same phone: nothing to match");
    assert_eq!(view["opened_from_link"], true, "the app warns");
    assert!(view["started_at"].as_i64().unwrap() > 0);
    // The ticket works once, for anybody.
    assert_eq!(phone.open_ticket(&ticket).await.status(), 404);
    let other = app.phone(OTHER_PHONE).await;
    assert_eq!(other.open_ticket(&ticket).await.status(), 404);
    assert_eq!(other.open_ticket("forged").await.status(), 404);
    assert_eq!(other.open_with(json!({})).await.status(), 400);

    let response = phone
        .approve_with(&id, json!({ "remember_browser": true }))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["next"],
        "return_to_browser"
    );
    let response = browser.continue_login(&id).await;
    assert_eq!(location(&response), login_path(&id, "consent"));
    let response = accept_consent_page(&browser, &id).await;
    app.merchant().tokens(&code_of(&response), None).await;
    // Not remembered, though asked: nothing shows the browser is on this phone.
    assert_eq!(phone.browsers().await["browsers"], json!([]));
    let (next, _) = landing(&app, &browser, "").await;
    assert_ne!(next, id, "the next login needs the app again");
}

/// Deep-link phishing: someone starts a login in their own browser and sends the link.
/// The link is stale two minutes after the page showed it, and a browser whose login was
/// opened from a link is never remembered.
#[tokio::test]
async fn a_deep_link_is_stale_after_two_minutes() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser_with(&[("user-agent", PHONE_UA)]);
    let (_, ticket) = landing(&app, &browser, "").await;
    let phone = app.phone(PHONE).await;
    app.advance(121);
    let (status, _) = status_and_error(phone.open_ticket(&ticket).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(phone.pending().await.is_empty());
    // A ticket whose time was changed is not one.
    let (secret, _) = ticket.rsplit_once('.').unwrap();
    let now = ticket.rsplit_once('.').unwrap().1.parse::<i64>().unwrap() + 121;
    let forged = format!("{secret}.{now}");
    assert_eq!(phone.open_ticket(&forged).await.status(), 404);
    // A fresh link opens within the two minutes.
    let (id, fresh) = landing(&app, &browser, "").await;
    app.advance(120);
    let view: Value = phone.open_ticket(&fresh).await.json().await.unwrap();
    assert_eq!(view["id"], id.as_str());
}

#[tokio::test]
async fn app_to_app_resumes_in_the_same_browser() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    let extra = "&requested_flow=app_to_app&app_callback_uri=shopapp%3A%2F%2Fcallback";
    let (id, ticket) = landing(&app, &browser, extra).await;
    let phone = app.phone(PHONE).await;
    assert_eq!(phone.open_ticket(&ticket).await.status(), 200);
    let response = phone.approve_with(&id, json!({})).await;
    let next: Value = response.json().await.unwrap();
    assert_eq!(next["next"], "open_url");
    let url = next["url"].as_str().unwrap();
    assert!(url.starts_with("shopapp://callback?"), "{url}");
    let params = query(url);
    assert_eq!(params["state"], "state-12345");
    let resume = params["resume_uri"].clone();
    let resume_path = login_path(&id, "resume");
    assert!(
        resume.starts_with(&app.url(&format!("{resume_path}?token="))),
        "{resume}"
    );

    // The browser waits for the shop's app to resume it.
    let response = browser.get(&format!("{resume_path}?token=forged")).await;
    assert_eq!(response.status(), 400);
    let stranger = app.browser();
    assert_eq!(stranger.get(&resume).await.status(), 403);
    let response = browser.get(&resume).await;
    assert_eq!(location(&response), login_path(&id, "consent"));
    // Replayed: refused.
    assert_eq!(browser.get(&resume).await.status(), 400);
    let response = accept_consent_page(&browser, &id).await;
    assert!(query(&location(&response)).contains_key("code"));
}

#[tokio::test]
async fn app_to_app_v2_and_automatic_return_finish_in_the_app() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let mut last_phone = None;
    for (extra, verifier, number) in [
        (
            format!(
                "&requested_flow=app_to_app_v2&code_challenge={CHALLENGE}&code_challenge_method=S256"
            ),
            Some(VERIFIER),
            PHONE,
        ),
        (AUTOMATIC_RETURN.to_owned(), None, OTHER_PHONE),
    ] {
        let phone = app.phone(number).await;
        let browser = app.browser();
        let (id, ticket) = landing(&app, &browser, &extra).await;
        let view: Value = phone.open_ticket(&ticket).await.json().await.unwrap();
        assert_eq!(view["consent_in_app"], true, "{extra}");
        assert_eq!(view["consent_scopes"][0]["scope"], "name");
        // Consent must be answered in the app.
        let response = phone.approve_with(&id, json!({})).await;
        assert_eq!(response.status(), 400);
        let response = phone.approve_with(&id, json!({ "consent": true })).await;
        assert_eq!(response.status(), 200);
        let next: Value = response.json().await.unwrap();
        assert_eq!(next["next"], "open_url");
        let url = next["url"].as_str().unwrap();
        assert!(url.starts_with(REDIRECT_URI), "{url}");
        let params = query(url);
        assert_eq!(params["state"], "state-12345");
        assert_eq!(params["iss"], app.issuer());
        // Redeemed by whoever opened the URL: no cookies needed.
        let tokens = merchant.tokens(&params["code"], verifier).await;
        assert!(tokens["access_token"].is_string());
        // The starting browser is told it is over.
        let response = browser.continue_login(&id).await;
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("You are logged in"));
        last_phone = Some(phone);
    }
    // The consent given in the app counts for the next login.
    let phone = last_phone.unwrap();
    let browser = app.browser();
    let (id, ticket) = landing(&app, &browser, AUTOMATIC_RETURN).await;
    let view: Value = phone.open_ticket(&ticket).await.json().await.unwrap();
    assert_eq!(view["consent_in_app"], false);
    let response = phone.approve_with(&id, json!({})).await;
    assert_eq!(response.json::<Value>().await.unwrap()["next"], "open_url");
}

#[tokio::test]
async fn refusing_consent_in_the_app_denies_access() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let (id, ticket) = landing(&app, &browser, AUTOMATIC_RETURN).await;
    phone.open_ticket(&ticket).await;
    let response = phone.approve_with(&id, json!({ "consent": false })).await;
    assert_eq!(response.status(), 200);
    let response = browser.continue_login(&id).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "access_denied".into())
    );
    assert_eq!(
        phone.consents().await["consents"],
        json!([]),
        "nothing was stored"
    );
}

#[tokio::test]
async fn final_redirect_into_an_app_shows_a_button() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let url = app.authorize_url_for(
        CLIENT_ID,
        "shopapp://callback",
        "openid",
        "&final_redirect_is_app=true",
    );
    let login = browser.start_login_at(&url).await;
    let number = browser.submit_phone(&login, PHONE, false).await;
    phone.approve(&login.id, number, false).await;
    let response = browser.continue_login(&login.id).await;
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

#[tokio::test]
async fn revoked_consent_is_asked_again_and_the_merchant_hears_of_it() {
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
    let (_, response) = log_in(&browser, &phone, "", true).await;
    let tokens = merchant.tokens(&code_of(&response), None).await;

    let consents = phone.consents().await;
    assert_eq!(consents["consents"][0]["client_id"], CLIENT_ID);
    assert_eq!(consents["consents"][0]["scopes"][0]["scope"], "name");
    assert_eq!(phone.revoke_consent(CLIENT_ID).await.status(), 204);
    assert_eq!(phone.revoke_consent(CLIENT_ID).await.status(), 404);

    // The webhook hears of it (sent in the background): an unsigned JWT, whose claims
    // webhooks.rs checks in full.
    let event = hook.first(Duration::from_secs(5)).await;
    let event = decode_claims(event.text());
    assert_eq!(event["event"], "CONSENT_REVOKED");
    let userinfo = merchant
        .userinfo_json(tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(
        event["sub"], userinfo["sub"],
        "the webhook names the pairwise sub"
    );

    // Remembered, but the consent is gone: the consent page again.
    let id = browser.authorize(&app.authorize_url("")).await;
    let response = browser.login_page(&id).await;
    assert_eq!(location(&response), login_path(&id, "continue"));
    let response = browser.continue_login(&id).await;
    assert_eq!(location(&response), login_path(&id, "consent"));
}

#[tokio::test]
async fn a_logged_out_browser_needs_the_app_again() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    log_in(&browser, &phone, "", true).await;
    let browser_id = phone.browsers().await["browsers"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.phone(OTHER_PHONE).await;
    assert_eq!(
        other.forget_browser(&browser_id).await.status(),
        404,
        "not theirs"
    );
    assert_eq!(phone.forget_browser("nope").await.status(), 404);
    assert_eq!(phone.forget_browser(&browser_id).await.status(), 204);

    // The cookie is still there, but revoked: the phone form again.
    let (_, html) = browser.open_login("").await;
    assert!(html.contains("name=\"phone_number\""));
}

#[tokio::test]
async fn pages_speak_the_browsers_language() {
    let app = TestApp::builder().spawn().await;
    for (accept, words, lang) in [
        (
            "nb-NO,nb;q=0.9,en;q=0.5",
            "Husk meg i denne nettleseren",
            "nb",
        ),
        ("da", "Husk mig i denne browser", "da"),
        ("fi-FI", "Muista minut tässä selaimessa", "fi"),
        ("de", "Remember me in this browser", "en"),
    ] {
        let browser = app.browser_with(&[("accept-language", accept)]);
        let (_, html) = browser.open_login("").await;
        assert!(html.contains(words), "{accept}");
        let response = browser.login_page("not-a-uuid").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{accept}");
        let error = response.text().await.unwrap();
        assert!(error.contains(&format!("lang=\"{lang}\"")), "{accept}");
    }
    let browser = app.browser_with(&[("accept-language", "fi")]);
    let response = browser.login_page("not-a-uuid").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let error = response.text().await.unwrap();
    assert!(error.contains("Kirjautumista ei löytynyt"), "{error}");
    assert!(error.contains("lang=\"fi\""));
}

#[tokio::test]
async fn the_demo_merchant_logs_in() {
    let app = TestApp::builder().spawn().await;
    nod_server::demo::seed(app.store.as_ref(), &app.base, 0)
        .await
        .unwrap();
    let browser = app.browser();
    let response = browser.get("/demo/").await;
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("/demo/start?journey=app_to_app_v2")
    );
    let response = browser.get("/demo/start?journey=web").await;
    let authorize = location(&response);
    assert!(authorize.contains("code_challenge_method=S256"));
    let (id, html) = browser.open_login_at(&authorize).await;
    assert!(html.contains("Demo Shop"));
    let login = Login {
        id,
        csrf: csrf(&html),
    };
    let number = browser.submit_phone(&login, PHONE, false).await;
    let phone = app.phone(PHONE).await;
    phone.approve(&login.id, number, false).await;
    let response = browser.accept_consent(&login).await;
    let callback = location(&response);
    assert!(callback.starts_with(&app.url("/demo/callback?")));
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Welcome, Ingrid Solberg!"), "{html}");
    assert!(html.contains("14035810200"), "the nin came back");
    // The same state a second time: refused.
    assert_eq!(browser.get(&callback).await.status(), 400);
}

#[tokio::test]
async fn the_demo_till_logs_in_by_phone_number() {
    let app = TestApp::builder().spawn().await;
    nod_server::demo::seed(app.store.as_ref(), &app.base, 0)
        .await
        .unwrap();
    let phone = app.phone(PHONE).await;
    let till = app.browser();
    for mode in ["poll", "webpage"] {
        let response = till
            .get(&format!(
                "/demo/ciba/start?phone_number=%2B47+912+34+501&binding_message=till-42&mode={mode}"
            ))
            .await;
        let wait = location(&response);
        assert!(wait.starts_with("/demo/ciba/wait?id="), "{wait}");
        let response = till.get(&wait).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["refresh"], "5");
        let request = phone.merchant_initiated().await;
        assert_eq!(request["binding_message"], "TILL-42");
        assert_eq!(request["sales_unit_name"], "Demo Shop");
        assert_eq!(request["delegated_consents"]["consents"][0]["id"], "terms");
        let body = json!({
            "consent": true,
            "delegated_consents": [{ "id": "terms", "accepted": true }, { "id": "newsletter", "accepted": true }],
        });
        let next: Value = phone
            .approve_with(request["id"].as_str().unwrap(), body)
            .await
            .json()
            .await
            .unwrap();
        app.advance(5);
        let html = if mode == "poll" {
            assert_eq!(next["next"], "done");
            till.get(&wait).await.text().await.unwrap()
        } else {
            assert_eq!(next["next"], "open_url");
            let url = next["url"].as_str().unwrap();
            assert!(
                url.starts_with(&app.url("/demo/ciba-callback?code=")),
                "{url}"
            );
            app.browser().get(url).await.text().await.unwrap()
        };
        assert!(html.contains("Welcome, Ingrid Solberg!"), "{mode}: {html}");
        assert!(html.contains("delegatedConsents"), "{mode}");
    }
    // A malformed number never reaches Nod's endpoint.
    let response = till.get("/demo/ciba/start?phone_number=abc").await;
    assert_eq!(response.status(), 400);
}

/// A rejection in app to app sends the person back to the merchant's app with the error;
/// in app to app v2 and automatic return the app opens the redirect URI with it.
#[tokio::test]
async fn rejections_in_app_journeys_go_back_to_the_merchant() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let cases = [
        (
            "&requested_flow=app_to_app&app_callback_uri=shopapp%3A%2F%2Fcallback".to_owned(),
            "shopapp://callback?",
        ),
        (
            format!(
                "&requested_flow=app_to_app_v2&code_challenge={CHALLENGE}&code_challenge_method=S256"
            ),
            REDIRECT_URI,
        ),
        (AUTOMATIC_RETURN.to_owned(), REDIRECT_URI),
    ];
    for (extra, opens) in cases {
        let browser = app.browser();
        let (id, ticket) = landing(&app, &browser, &extra).await;
        assert_eq!(phone.open_ticket(&ticket).await.status(), 200);
        let rejected = phone.reject(&id).await;
        assert_eq!(rejected.status(), 200, "{extra}");
        let next: serde_json::Value = rejected.json().await.unwrap();
        assert_eq!(next["status"], "rejected");
        assert_eq!(next["next"], "open_url", "{extra}");
        let url = next["url"].as_str().unwrap();
        assert!(url.starts_with(opens), "{extra}: {url}");
        let params = query(url);
        assert_eq!(params["state"], "state-12345");
        assert_eq!(params["error"], "access_denied");
        assert!(params.contains_key("error_description"));
        assert!(!params.contains_key("code"));
        if opens == REDIRECT_URI {
            assert_eq!(params["iss"], app.issuer());
        }
    }
    // The desktop journey: the waiting browser shows it.
    let browser = app.browser();
    let login = browser.start_login("").await;
    browser.submit_phone(&login, PHONE, false).await;
    let next: serde_json::Value = phone.reject(&login.id).await.json().await.unwrap();
    assert_eq!(next["next"], "return_to_browser");
}

/// Logins opened from deep links wait for the person like any other: they count toward
/// the limit a merchant-initiated start meets.
#[tokio::test]
async fn logins_opened_from_deep_links_count_toward_the_pending_limit() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    for _ in 0..3 {
        let browser = app.browser_with(&[("user-agent", PHONE_UA)]);
        let (_, ticket) = landing(&app, &browser, "").await;
        assert_eq!(phone.open_ticket(&ticket).await.status(), 200);
    }
    let response = app
        .merchant()
        .ciba_start(&[
            ("login_hint", "urn:msisdn:4791234501"),
            ("scope", "openid name"),
        ])
        .await;
    assert_eq!(response.status(), reqwest::StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
}
