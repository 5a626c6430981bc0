//! Every error row of the authorize and token endpoints, and malformed requests of every
//! kind: each gets the exact protocol answer, never a 500.

use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const AUTH: &str = "/access-management-1.0/access/oauth2/auth";

fn auth_query(app: &TestApp, query: &str) -> String {
    format!("{}{AUTH}?{query}", app.base)
}

fn base_query() -> String {
    format!(
        "response_type=code&client_id={CLIENT_ID}&redirect_uri={}&scope=openid%20name&state=state-12345",
        urlencode(REDIRECT_URI)
    )
}

/// Authorize errors that must be shown on a page, never redirected.
#[tokio::test]
async fn authorize_page_errors() {
    let app = TestApp::spawn().await;
    let cases = [
        base_query().replace(&format!("client_id={CLIENT_ID}"), "client_id=nobody"),
        base_query().replace(&format!("client_id={CLIENT_ID}&"), ""),
        base_query().replace(
            &format!("client_id={CLIENT_ID}"),
            &format!("client_id={CLIENT_ID}&client_id={CLIENT_ID}"),
        ),
        // One character off.
        base_query().replace("callback", "callbacc"),
        base_query().replace("callback", "callback%2F"),
        base_query().replace(&format!("&redirect_uri={}", urlencode(REDIRECT_URI)), ""),
        format!("{}&redirect_uri={}", base_query(), urlencode(REDIRECT_URI)),
        // An over-long parameter: the query is not trusted at all.
        format!("{}&nonce={}", base_query(), "x".repeat(5000)),
        "%%%&&&===".to_owned(),
    ];
    for query in cases {
        let response = app
            .client()
            .get(auth_query(&app, &query))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            response.headers().get("location").is_none(),
            "never redirected: {query}"
        );
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(response.headers()["x-frame-options"], "DENY");
    }
}

/// Authorize errors that go back to the redirect URI with `error`, `state` and `iss`.
#[tokio::test]
async fn authorize_redirect_errors() {
    let app = TestApp::spawn().await;
    let base = base_query();
    let long = "a".repeat(1001);
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        (
            base.replace("response_type=code&", ""),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            base.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
            Some("state-12345"),
        ),
        (
            base.replace("&state=state-12345", ""),
            "invalid_request",
            None,
        ),
        (
            base.replace("state=state-12345", "state=short"),
            "invalid_request",
            Some("short"),
        ),
        (
            base.replace("state=state-12345", &format!("state={long}")),
            "invalid_request",
            None,
        ),
        (
            base.replace("scope=openid%20name", "scope=name"),
            "invalid_scope",
            Some("state-12345"),
        ),
        (
            base.replace("scope=openid%20name", "scope=openid%20profile"),
            "invalid_scope",
            Some("state-12345"),
        ),
        (
            base.replace("scope=openid%20name", "scope=openid%20delegatedConsents"),
            "invalid_scope",
            Some("state-12345"),
        ),
        (
            base.replace("&scope=openid%20name", ""),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&scope=openid"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&nonce={long}"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&code_challenge={long}"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&code_challenge=short"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&code_challenge={CHALLENGE}&code_challenge_method=S512"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&code_challenge_method=S256"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&prompt=sometimes"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&response_mode=fragment"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&requested_flow=teleport"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&requested_flow=app_to_app"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&requested_flow=app_to_app_v2"),
            "invalid_request",
            Some("state-12345"),
        ),
        (
            format!("{base}&app_callback_uri=not%20a%20uri"),
            "invalid_app_callback_uri",
            Some("state-12345"),
        ),
        (
            format!("{base}&app_callback_uri=otherapp%3A%2F%2Fcb"),
            "app_callback_uri_not_registered",
            Some("state-12345"),
        ),
        (
            format!("{base}&final_redirect_is_app=maybe"),
            "invalid_request",
            Some("state-12345"),
        ),
    ];
    for (query, error, state) in cases {
        let response = app
            .client()
            .get(auth_query(&app, &query))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{query}");
        let target = location(&response);
        assert!(target.starts_with(REDIRECT_URI), "{query} → {target}");
        let params = query_of(&target);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{query}"
        );
        assert!(params.contains_key("error_description"));
        assert_eq!(params.get("state").map(String::as_str), state, "{query}");
        assert_eq!(params["iss"], app.app.config.issuer());
    }
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    query(location)
}

/// The `nin` scope needs the sales unit's permission.
#[tokio::test]
async fn nin_needs_permission() {
    let app = TestApp::spawn().await;
    app.add_sales_unit(
        "no-nin",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let query = base_query()
        .replace(&format!("client_id={CLIENT_ID}"), "client_id=no-nin")
        .replace("scope=openid%20name", "scope=openid%20nin");
    let response = app
        .client()
        .get(auth_query(&app, &query))
        .send()
        .await
        .unwrap();
    assert_eq!(query_of(&location(&response))["error"], "invalid_scope");
}

/// Runs a browser login to the point where the merchant has a code.
async fn code_for(app: &TestApp, extra: &str) -> String {
    let browser = app.browser();
    let (id, csrf) = start_login(app, &browser, extra).await;
    let number = submit_phone(app, &browser, &id, &csrf, PHONE, false).await;
    let device = app.device(PHONE).await;
    assert_eq!(app.approve(&device, &id, number, false).await.status(), 200);
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    let response = if location(&response).ends_with("/consent") {
        accept_consent(app, &browser, &id, &csrf).await
    } else {
        response
    };
    query(&location(&response))["code"].clone()
}

async fn error_of(response: reqwest::Response) -> (StatusCode, String, Option<String>) {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    (
        status,
        body["error"].as_str().unwrap().to_owned(),
        challenge,
    )
}

#[tokio::test]
async fn token_client_authentication_errors() {
    let app = TestApp::spawn().await;
    let token_url = app.url(nod_server::paths::TOKEN);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", REDIRECT_URI),
    ];

    // No credentials at all.
    let response = app
        .client()
        .post(&token_url)
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, error, challenge) = error_of(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_client")
    );
    assert!(challenge.unwrap().starts_with("Basic"));

    // Wrong secret, unknown client, malformed header.
    for (id, secret) in [(CLIENT_ID, "wrong"), ("nobody", CLIENT_SECRET)] {
        let response = app
            .client()
            .post(&token_url)
            .basic_auth(id, Some(secret))
            .form(&form)
            .send()
            .await
            .unwrap();
        let (status, error, challenge) = error_of(response).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_client")
        );
        assert!(challenge.is_some());
    }
    let response = app
        .client()
        .post(&token_url)
        .header("authorization", "Basic %%%notbase64")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_client");

    // Two methods at once.
    let mut both = form.to_vec();
    both.push(("client_secret", CLIENT_SECRET));
    let response = app
        .client()
        .post(&token_url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&both)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_request");

    // client_secret_post for a Basic client, and Basic for a post client.
    let mut post = form.to_vec();
    post.extend([("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
    let response = app
        .client()
        .post(&token_url)
        .form(&post)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_client");
    app.add_sales_unit(
        "post-shop",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretPost,
        false,
    )
    .await;
    let response = app
        .client()
        .post(&token_url)
        .basic_auth("post-shop", Some(CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_client");
    let mut post = form.to_vec();
    post.extend([("client_id", "post-shop"), ("client_secret", CLIENT_SECRET)]);
    let response = app
        .client()
        .post(&token_url)
        .form(&post)
        .send()
        .await
        .unwrap();
    let (status, error, _) = error_of(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant"),
        "authenticated; the code is bad"
    );

    // Merchant-Serial-Number must match the client's.
    let response = app
        .client()
        .post(&token_url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("merchant-serial-number", "999999")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_request");
    // Over-long system headers are refused.
    let response = app
        .client()
        .post(&token_url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("vipps-system-name", "x".repeat(31))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_request");
}

#[tokio::test]
async fn token_request_errors() {
    let app = TestApp::spawn().await;
    let token_url = app.url(nod_server::paths::TOKEN);
    // Not a form.
    let response = app
        .client()
        .post(&token_url)
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(response).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into(), None)
    );
    // Missing and unknown grant types, missing code, repeated parameters.
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("code", "x")], "invalid_request"),
        (&[("grant_type", "password")], "unsupported_grant_type"),
        (&[("grant_type", "authorization_code")], "invalid_request"),
        (
            &[
                ("grant_type", "authorization_code"),
                ("code", "a"),
                ("code", "b"),
            ],
            "invalid_request",
        ),
        (
            &[
                ("grant_type", "authorization_code"),
                ("code", "unknown"),
                ("redirect_uri", REDIRECT_URI),
            ],
            "invalid_grant",
        ),
    ];
    for (form, error) in cases {
        let response = app.token(form).await;
        assert_eq!(error_of(response).await.1, error, "{form:?}");
    }
}

#[tokio::test]
async fn code_redemption_errors() {
    let app = TestApp::spawn().await;
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");

    // redirect_uri missing or one character off.
    for redirect in [None, Some("https://shop.example/callbacc")] {
        let code = code_for(&app, &pkce).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ];
        if let Some(r) = redirect {
            form.push(("redirect_uri", r));
        }
        assert_eq!(error_of(app.token(&form).await).await.1, "invalid_grant");
    }
    // PKCE: wrong verifier, missing verifier, malformed verifier.
    let wrong = format!("{}A", &VERIFIER[..42]);
    for (verifier, error) in [
        (Some(wrong.as_str()), "invalid_grant"),
        (None, "invalid_grant"),
        (Some("short"), "invalid_request"),
    ] {
        let code = code_for(&app, &pkce).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        assert_eq!(
            error_of(app.token(&form).await).await.1,
            error,
            "{verifier:?}"
        );
    }
    // A verifier for a code without PKCE.
    let code = code_for(&app, "").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(error_of(app.token(&form).await).await.1, "invalid_grant");
    // The plain method.
    let code = code_for(
        &app,
        &format!("&code_challenge={VERIFIER}&code_challenge_method=plain"),
    )
    .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(app.token(&form).await.status(), 200);

    // Another client's code.
    app.add_sales_unit(
        "thief",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let code = code_for(&app, "").await;
    let response = app
        .client()
        .post(app.url(nod_server::paths::TOKEN))
        .basic_auth("thief", Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_grant");
    // …which the rightful client can still redeem.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    assert_eq!(app.token(&form).await.status(), 200);

    // An expired code.
    let code = code_for(&app, "").await;
    app.clock.advance(61);
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    assert_eq!(error_of(app.token(&form).await).await.1, "invalid_grant");
}

#[tokio::test]
async fn replayed_code_revokes_its_tokens() {
    let app = TestApp::spawn().await;
    let code = code_for(&app, "").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT_URI),
    ];
    let tokens: Value = app.token(&form).await.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = app.url(nod_server::paths::USERINFO);
    assert_eq!(
        app.client()
            .get(&userinfo)
            .bearer_auth(access)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let (status, error, _) = error_of(app.token(&form).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let response = app
        .client()
        .get(&userinfo)
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    let (status, error, challenge) = error_of(response).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert!(challenge.unwrap().starts_with("Bearer"));
}

#[tokio::test]
async fn userinfo_errors() {
    let app = TestApp::spawn().await;
    let userinfo = app.url(nod_server::paths::USERINFO);
    let no_token = app.client().get(&userinfo).send().await.unwrap();
    assert_eq!(error_of(no_token).await.1, "invalid_token");
    let bogus = app
        .client()
        .get(&userinfo)
        .bearer_auth("bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(bogus).await.1, "invalid_token");
    let basic = app
        .client()
        .get(&userinfo)
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);

    let code = code_for(&app, "").await;
    let tokens: Value = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT_URI),
        ])
        .await
        .json()
        .await
        .unwrap();
    app.clock.advance(601);
    let expired = app
        .client()
        .get(&userinfo)
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(expired).await.1, "invalid_token");
}

#[tokio::test]
async fn login_pages_refuse_forgeries() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;

    // Missing or wrong CSRF token.
    for token in ["", "forged"] {
        let response = browser
            .post(app.url(&format!("/login/{id}/phone")))
            .form(&[("csrf", token), ("phone_number", PHONE)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // Another browser (no binding cookie).
    let other = app.browser();
    let response = other
        .get(app.url(&format!("/login/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = other
        .post(app.url(&format!("/login/{id}/phone")))
        .form(&[("csrf", csrf.as_str()), ("phone_number", PHONE)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Not a form body.
    let response = browser
        .post(app.url(&format!("/login/{id}/phone")))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Unknown and malformed ids.
    for path in [
        "/login/00000000-0000-0000-0000-000000000000",
        "/login/not-a-uuid",
        "/login/not-a-uuid/continue",
    ] {
        let response = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A malformed phone number shows the form again with an error.
    for typed in ["abc", "12", "+1 555 0100", &"9".repeat(100)] {
        let response = browser
            .post(app.url(&format!("/login/{id}/phone")))
            .form(&[("csrf", csrf.as_str()), ("phone_number", typed)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed}");
        let html = response.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{typed}");
    }
    // Still usable afterwards.
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
    assert!((10..=99).contains(&number));
}

#[tokio::test]
async fn unknown_number_waits_like_a_known_one_then_expires() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;
    let number = submit_phone(&app, &browser, &id, &csrf, "+47 40000000", false).await;
    assert!(
        (10..=99).contains(&number),
        "an unknown number gets a number too"
    );

    app.clock.advance(301);
    let response = browser
        .get(app.url(&format!("/login/{id}/wait")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Time ran out"));
    // Start over: a fresh login with the same parameters.
    let response = browser
        .post(app.url(&format!("/login/{id}/restart")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let fresh = location(&response);
    assert!(fresh.starts_with("/login/") && !fresh.contains(&id));
    let page = browser.get(app.url(&fresh)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("phone_number"));
    // Or give up: back to the merchant with access_denied.
    let response = browser
        .post(app.url(&format!("/login/{id}/cancel")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let params = query(&location(&response));
    assert_eq!(params["error"], "access_denied");
    assert_eq!(params["state"], "state-12345");
}

#[tokio::test]
async fn consent_cancel_and_prompt_none() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "").await;
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
    let device = app.device(PHONE).await;
    app.approve(&device, &id, number, false).await;
    let response = browser
        .post(app.url(&format!("/login/{id}/consent")))
        .form(&[("csrf", csrf.as_str()), ("decision", "cancel")])
        .send()
        .await
        .unwrap();
    assert_eq!(query(&location(&response))["error"], "access_denied");

    // prompt=none in a browser that is not remembered.
    let fresh = app.browser();
    let response = fresh
        .get(app.authorize_url("&prompt=none"))
        .send()
        .await
        .unwrap();
    let page = location(&response);
    let response = fresh.get(app.url(&page)).send().await.unwrap();
    assert_eq!(query(&location(&response))["error"], "login_required");
}

#[tokio::test]
async fn every_page_refuses_frames() {
    let app = TestApp::spawn().await;
    for path in [
        "/login/not-a-uuid",
        nod_server::paths::DISCOVERY,
        "/health/live",
    ] {
        let response = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        assert!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
    }
}

async fn submit(app: &TestApp, browser: &reqwest::Client, phone: &str) -> reqwest::Response {
    let (id, csrf) = start_login(app, browser, "").await;
    browser
        .post(app.url(&format!("/login/{id}/phone")))
        .form(&[("csrf", csrf.as_str()), ("phone_number", phone)])
        .send()
        .await
        .unwrap()
}

/// Push-bombing defence: a few logins waiting per number, known or not, the same answer.
#[tokio::test]
async fn too_many_logins_waiting_for_one_number() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    for phone in [PHONE, "4740000000"] {
        for _ in 0..3 {
            assert_eq!(
                submit(&app, &browser, phone).await.status(),
                StatusCode::SEE_OTHER,
                "{phone}"
            );
        }
        let response = submit(&app, &browser, phone).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{phone}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Too many login attempts for this number"),
            "{phone}"
        );
        assert!(
            html.contains("name=\"phone_number\""),
            "the form is shown again"
        );
    }
    let device = app.device(PHONE).await;
    assert_eq!(
        app.pending(&device).await.len(),
        3,
        "the refused one never reached the app"
    );
    // Once they have expired, the number can be used again.
    app.clock.advance(301);
    assert_eq!(
        submit(&app, &browser, PHONE).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn too_many_numbers_from_one_address() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    for i in 0..20 {
        let response = submit(&app, &browser, &format!("47400000{i:02}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "submission {i}");
    }
    let response = submit(&app, &browser, "4740000099").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // The next minute is a new window.
    app.clock.advance(60);
    assert_eq!(
        submit(&app, &browser, "4740000098").await.status(),
        StatusCode::SEE_OTHER
    );
}
