//! Every error row of the authorize and token endpoints, and malformed requests of every
//! kind: each gets the exact protocol answer, never a 500.

use std::time::Duration;

use nod_core::sales_unit::AuthMethod;
use nod_server::paths;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn auth_query(app: &TestApp, query: &str) -> String {
    format!("{}?{query}", app.url(paths::AUTHORIZE))
}

/// The query of `shop`'s good authorization URL, to break in one place at a time.
fn base_query(app: &TestApp) -> String {
    let url = app.authorize_url("");
    url.split_once('?').unwrap().1.to_owned()
}

/// Authorize errors that must be shown on a page, never redirected.
#[tokio::test]
async fn authorize_page_errors() {
    let app = TestApp::builder().spawn().await;
    let cases = [
        base_query(&app).replace(&format!("client_id={CLIENT_ID}"), "client_id=nobody"),
        base_query(&app).replace(&format!("client_id={CLIENT_ID}&"), ""),
        base_query(&app).replace(
            &format!("client_id={CLIENT_ID}"),
            &format!("client_id={CLIENT_ID}&client_id={CLIENT_ID}"),
        ),
        // One character off.
        base_query(&app).replace("callback", "callbacc"),
        base_query(&app).replace("callback", "callback%2F"),
        base_query(&app).replace(&format!("&redirect_uri={}", urlencode(REDIRECT_URI)), ""),
        format!(
            "{}&redirect_uri={}",
            base_query(&app),
            urlencode(REDIRECT_URI)
        ),
        // An over-long client id or redirect URI: nothing to redirect to.
        base_query(&app).replace(
            &format!("client_id={CLIENT_ID}"),
            &format!("client_id={}", "x".repeat(5000)),
        ),
        format!(
            "{}&redirect_uri={}",
            base_query(&app).replace(&format!("&redirect_uri={}", urlencode(REDIRECT_URI)), ""),
            "x".repeat(5000)
        ),
        "%%%&&&===".to_owned(),
    ];
    for case in cases {
        let response = app
            .client()
            .get(auth_query(&app, &case))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        assert!(
            response.headers().get("location").is_none(),
            "never redirected: {case}"
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
    let app = TestApp::builder().spawn().await;
    let base = base_query(&app);
    let long = "a".repeat(1001);
    let too_long = "a".repeat(5000);
    let cases: Vec<(String, &str, Option<&str>)> = vec![
        (
            base.replace("state=state-12345", &format!("state={too_long}")),
            "invalid_request",
            None,
        ),
        (
            base.replace(
                "state=state-12345",
                &format!("state=state-12345&nonce={too_long}"),
            ),
            "invalid_request",
            Some("state-12345"),
        ),
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
    for (case, error, state) in cases {
        let response = app
            .client()
            .get(auth_query(&app, &case))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{case}");
        let target = location(&response);
        assert!(target.starts_with(REDIRECT_URI), "{case} → {target}");
        let params = query(&target);
        assert_eq!(
            params.get("error").map(String::as_str),
            Some(error),
            "{case}"
        );
        assert!(params.contains_key("error_description"));
        assert_eq!(params.get("state").map(String::as_str), state, "{case}");
        assert_eq!(params["iss"], app.issuer());
    }
}

/// The `nin` scope needs the sales unit's permission.
#[tokio::test]
async fn nin_needs_permission() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("no-nin"))
        .spawn()
        .await;
    let url = app.authorize_url_for("no-nin", REDIRECT_URI, "openid nin", "");
    let response = app.client().get(url).send().await.unwrap();
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "invalid_scope".into())
    );
}

/// Runs a browser login to the point where the merchant has a code.
async fn code_for(app: &TestApp, phone: &Phone, extra: &str) -> String {
    let (_, response) = log_in(&app.browser(), phone, extra, false).await;
    code_of(&response)
}

/// A JSON error answer of the token or userinfo endpoint.
struct ErrorAnswer {
    status: StatusCode,
    error: String,
    challenge: Option<String>,
    body: Value,
}

impl ErrorAnswer {
    /// What a snapshot records of it, under a name for the case.
    fn snapshot(&self, case: &str) -> Value {
        json!({
            "case": case,
            "status": self.status.as_u16(),
            "www_authenticate": self.challenge,
            "body": self.body,
        })
    }
}

async fn error_of(response: Response) -> ErrorAnswer {
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    assert!(body["error_description"].is_string(), "{body}");
    ErrorAnswer {
        status,
        error: body["error"].as_str().unwrap().to_owned(),
        challenge,
        body,
    }
}

#[tokio::test]
async fn token_client_authentication_errors() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            auth_method: AuthMethod::ClientSecretPost,
            ..SalesUnitSpec::other("post-shop")
        })
        .spawn()
        .await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", "x"),
        ("redirect_uri", REDIRECT_URI),
    ];
    let mut seen = Vec::new();
    let mut check = |case: &str, answer: ErrorAnswer, status: StatusCode, error: &str| {
        assert_eq!(
            (answer.status, answer.error.as_str()),
            (status, error),
            "{case}"
        );
        seen.push(answer.snapshot(case));
        answer.challenge
    };

    // No credentials at all.
    let response = app
        .merchant()
        .with_auth(ClientAuth::None)
        .token(&form)
        .await;
    let challenge = check(
        "no credentials",
        error_of(response).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    assert!(challenge.unwrap().starts_with("Basic"));

    // Wrong secret, unknown client, malformed header.
    for (case, merchant) in [
        ("wrong secret", app.merchant().with_secret("wrong")),
        ("unknown client", app.merchant_as("nobody")),
    ] {
        let response = merchant.token(&form).await;
        let challenge = check(
            case,
            error_of(response).await,
            StatusCode::UNAUTHORIZED,
            "invalid_client",
        );
        assert!(challenge.is_some());
    }
    let response = app
        .merchant()
        .with_auth(ClientAuth::None)
        .post(paths::TOKEN)
        .header("authorization", "Basic %%%notbase64")
        .form(&form)
        .send()
        .await
        .unwrap();
    check(
        "malformed Basic header",
        error_of(response).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );

    // Two methods at once.
    let mut both = form.to_vec();
    both.push(("client_secret", CLIENT_SECRET));
    let response = app.merchant().token(&both).await;
    check(
        "Basic and client_secret at once",
        error_of(response).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );

    // client_secret_post for a Basic client, and Basic for a post client.
    let response = app
        .merchant()
        .with_auth(ClientAuth::Post)
        .token(&form)
        .await;
    check(
        "post for a Basic client",
        error_of(response).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    let response = app.merchant_as("post-shop").token(&form).await;
    check(
        "Basic for a post client",
        error_of(response).await,
        StatusCode::UNAUTHORIZED,
        "invalid_client",
    );
    let response = app
        .merchant_as("post-shop")
        .with_auth(ClientAuth::Post)
        .token(&form)
        .await;
    check(
        "post client authenticated, the code is bad",
        error_of(response).await,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
    );

    // Merchant-Serial-Number must match the client's.
    let response = app
        .merchant()
        .post(paths::TOKEN)
        .header("merchant-serial-number", "999999")
        .form(&form)
        .send()
        .await
        .unwrap();
    check(
        "another Merchant-Serial-Number",
        error_of(response).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    // Over-long system headers are refused.
    let response = app
        .merchant()
        .post(paths::TOKEN)
        .header("vipps-system-name", "x".repeat(31))
        .form(&form)
        .send()
        .await
        .unwrap();
    check(
        "over-long Vipps-System-Name",
        error_of(response).await,
        StatusCode::BAD_REQUEST,
        "invalid_request",
    );
    insta::assert_json_snapshot!("token_client_authentication_errors", seen);
}

#[tokio::test]
async fn token_request_errors() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let mut seen = Vec::new();
    // Not a form.
    let response = merchant
        .post(paths::TOKEN)
        .json(&json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .unwrap();
    let answer = error_of(response).await;
    assert_eq!(
        (
            answer.status,
            answer.error.as_str(),
            answer.challenge.as_deref()
        ),
        (StatusCode::BAD_REQUEST, "invalid_request", None)
    );
    seen.push(answer.snapshot("a JSON body"));
    // Missing and unknown grant types, missing code, repeated parameters.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        ("no grant_type", &[("code", "x")], "invalid_request"),
        (
            "unknown grant_type",
            &[("grant_type", "password")],
            "unsupported_grant_type",
        ),
        (
            "no code",
            &[("grant_type", "authorization_code")],
            "invalid_request",
        ),
        (
            "two codes",
            &[
                ("grant_type", "authorization_code"),
                ("code", "a"),
                ("code", "b"),
            ],
            "invalid_request",
        ),
        (
            "unknown code",
            &[
                ("grant_type", "authorization_code"),
                ("code", "unknown"),
                ("redirect_uri", REDIRECT_URI),
            ],
            "invalid_grant",
        ),
    ];
    for (case, form, error) in cases {
        let answer = error_of(merchant.token(form).await).await;
        assert_eq!(
            (answer.status, answer.error.as_str()),
            (StatusCode::BAD_REQUEST, error),
            "{case}"
        );
        seen.push(answer.snapshot(case));
    }
    insta::assert_json_snapshot!("token_request_errors", seen);
}

#[tokio::test]
async fn code_redemption_errors() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("thief"))
        .spawn()
        .await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let invalid_grant = (StatusCode::BAD_REQUEST, "invalid_grant".to_owned());
    let status_and_error = |answer: ErrorAnswer| (answer.status, answer.error);

    // redirect_uri missing or one character off.
    for redirect in [None, Some("https://shop.example/callbacc")] {
        let code = code_for(&app, &phone, &pkce).await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", VERIFIER),
        ];
        if let Some(r) = redirect {
            form.push(("redirect_uri", r));
        }
        let answer = error_of(merchant.token(&form).await).await;
        assert_eq!(status_and_error(answer), invalid_grant, "{redirect:?}");
    }
    // PKCE: wrong verifier, missing verifier, malformed verifier.
    let wrong = format!("{}A", &VERIFIER[..42]);
    for (verifier, error) in [
        (Some(wrong.as_str()), "invalid_grant"),
        (None, "invalid_grant"),
        (Some("short"), "invalid_request"),
    ] {
        let code = code_for(&app, &phone, &pkce).await;
        let answer = error_of(merchant.redeem(&code, verifier).await).await;
        assert_eq!(
            status_and_error(answer),
            (StatusCode::BAD_REQUEST, error.to_owned()),
            "{verifier:?}"
        );
    }
    // A verifier for a code without PKCE.
    let code = code_for(&app, &phone, "").await;
    let answer = error_of(merchant.redeem(&code, Some(VERIFIER)).await).await;
    assert_eq!(status_and_error(answer), invalid_grant);
    // The plain method.
    let code = code_for(
        &app,
        &phone,
        &format!("&code_challenge={VERIFIER}&code_challenge_method=plain"),
    )
    .await;
    assert_eq!(merchant.redeem(&code, Some(VERIFIER)).await.status(), 200);

    // Another client's code…
    let code = code_for(&app, &phone, "").await;
    let answer = error_of(app.merchant_as("thief").redeem(&code, None).await).await;
    assert_eq!(status_and_error(answer), invalid_grant);
    // …which the rightful client can still redeem.
    assert_eq!(merchant.redeem(&code, None).await.status(), 200);

    // An expired code.
    let code = code_for(&app, &phone, "").await;
    app.advance(61);
    let answer = error_of(merchant.redeem(&code, None).await).await;
    assert_eq!(status_and_error(answer), invalid_grant);
}

#[tokio::test]
async fn replayed_code_revokes_its_tokens() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let code = code_for(&app, &phone, "").await;
    let tokens = merchant.tokens(&code, None).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(merchant.userinfo(access).await.status(), 200);

    let answer = error_of(merchant.redeem(&code, None).await).await;
    assert_eq!(
        (answer.status, answer.error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_grant")
    );
    let answer = error_of(merchant.userinfo(access).await).await;
    assert_eq!(
        (answer.status, answer.error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    assert!(answer.challenge.as_deref().unwrap().starts_with("Bearer"));
    insta::assert_json_snapshot!(
        "userinfo_error_revoked_token",
        answer.snapshot("a token whose code was replayed")
    );
}

#[tokio::test]
async fn userinfo_errors() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let userinfo = app.url(paths::USERINFO);
    let mut seen = Vec::new();
    // No bearer token at all: a bare challenge, no error code (RFC 6750 §3.1).
    let no_token = app.client().get(&userinfo).send().await.unwrap();
    let basic = app
        .client()
        .get(&userinfo)
        .basic_auth("a", Some("b"))
        .send()
        .await
        .unwrap();
    for (case, response) in [("no token", no_token), ("Basic authentication", basic)] {
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{case}");
        assert_eq!(response.text().await.unwrap(), "", "{case}: no error code");
    }
    let bogus = merchant.userinfo("bogus").await;
    for (case, response) in [("an unknown token", bogus)] {
        let answer = error_of(response).await;
        assert_eq!(
            (answer.status, answer.error.as_str()),
            (StatusCode::UNAUTHORIZED, "invalid_token"),
            "{case}"
        );
        seen.push(answer.snapshot(case));
    }

    let phone = app.phone(PHONE).await;
    let code = code_for(&app, &phone, "").await;
    let tokens = merchant.tokens(&code, None).await;
    app.advance(601);
    let expired = merchant
        .userinfo(tokens["access_token"].as_str().unwrap())
        .await;
    let answer = error_of(expired).await;
    assert_eq!(
        (answer.status, answer.error.as_str()),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );
    seen.push(answer.snapshot("an expired token"));
    insta::assert_json_snapshot!("userinfo_errors", seen);
}

#[tokio::test]
async fn login_pages_refuse_forgeries() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    let login = browser.start_login("").await;
    let id = login.id.as_str();

    // Missing or wrong CSRF token.
    for token in ["", "forged"] {
        let response = browser.post_phone(id, token, PHONE).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    // Another browser (no binding cookie).
    let other = app.browser();
    assert_eq!(other.login_page(id).await.status(), StatusCode::FORBIDDEN);
    let response = other.post_phone(id, &login.csrf, PHONE).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Not a form body.
    let response = browser
        .client()
        .post(browser.url(&login_path(id, "phone")))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    // Unknown and malformed ids.
    for path in [
        login_path("00000000-0000-0000-0000-000000000000", ""),
        login_path("not-a-uuid", ""),
        login_path("not-a-uuid", "continue"),
    ] {
        let response = browser.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // A malformed phone number shows the form again with an error.
    for typed in ["abc", "12", "+1 555 0100", &"9".repeat(100)] {
        let response = browser.post_phone(id, &login.csrf, typed).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed}");
        let html = response.text().await.unwrap();
        assert!(html.contains("role=\"alert\""), "{typed}");
    }
    // Still usable afterwards.
    let number = browser.submit_phone(&login, PHONE, false).await;
    assert!((10..=99).contains(&number));
}

#[tokio::test]
async fn unknown_number_waits_like_a_known_one_then_expires() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    let login = browser.start_login("").await;
    let number = browser.submit_phone(&login, "+47 40000000", false).await;
    assert!(
        (10..=99).contains(&number),
        "an unknown number gets a number too"
    );

    app.advance(301);
    let response = browser.wait_page(&login.id).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("Time ran out"));
    // Start over: a fresh login with the same parameters.
    let response = browser.restart(&login).await;
    assert_eq!(response.status(), 303);
    let fresh = location(&response);
    let fresh = login_id_of(&fresh).expect("a login page");
    assert_ne!(fresh, login.id);
    let page = browser.login_page(fresh).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("phone_number"));
    // Or give up: back to the merchant with access_denied.
    let response = browser.cancel(&login).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "access_denied".into())
    );
    assert_eq!(query(&location(&response))["state"], "state-12345");
}

#[tokio::test]
async fn consent_cancel_and_prompt_none() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    let login = browser.start_login("").await;
    let number = browser.submit_phone(&login, PHONE, false).await;
    let phone = app.phone(PHONE).await;
    phone.approve(&login.id, number, false).await;
    let response = browser.cancel_consent(&login).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "access_denied".into())
    );
    assert_eq!(
        query(&location(&response))["error_description"],
        "the user rejected the login"
    );

    // prompt=none in a browser that is not remembered.
    let fresh = app.browser();
    let id = fresh.authorize(&app.authorize_url("&prompt=none")).await;
    let response = fresh.login_page(&id).await;
    assert_eq!(
        redirect_error(&response),
        (StatusCode::SEE_OTHER, "login_required".into())
    );
}

#[tokio::test]
async fn every_page_refuses_frames() {
    let app = TestApp::builder().spawn().await;
    for path in [
        login_path("not-a-uuid", ""),
        paths::DISCOVERY.to_owned(),
        "/health/live".to_owned(),
    ] {
        let response = app.client().get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.headers()["x-frame-options"], "DENY", "{path}");
        assert!(
            response.headers()["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        // No URL of Nod's (a login id, a code) leaks to another site through Referer.
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{path}"
        );
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
}

/// Starts a login and posts a phone number on its page.
async fn submit(browser: &Browser, phone: &str) -> Response {
    let login = browser.start_login("").await;
    browser.post_phone(&login.id, &login.csrf, phone).await
}

/// Push-bombing defence: a few logins waiting per number, known or not, the same answer.
#[tokio::test]
async fn too_many_logins_waiting_for_one_number() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    for number in [PHONE, "4740000000"] {
        for _ in 0..3 {
            assert_eq!(
                submit(&browser, number).await.status(),
                StatusCode::SEE_OTHER,
                "{number}"
            );
        }
        let response = submit(&browser, number).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{number}");
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Too many login attempts for this number"),
            "{number}"
        );
        assert!(
            html.contains("name=\"phone_number\""),
            "the form is shown again"
        );
    }
    let phone = app.phone(PHONE).await;
    assert_eq!(
        phone.pending().await.len(),
        3,
        "the refused one never reached the app"
    );
    // Once they have expired, the number can be used again.
    app.advance(301);
    assert_eq!(
        submit(&browser, PHONE).await.status(),
        StatusCode::SEE_OTHER
    );
}

/// Push-bombing around the pending limit: each login cancelled at once. A number gets at
/// most ten login requests in ten minutes however they end, by the phone form and by
/// merchant-initiated starts alike.
#[tokio::test]
async fn cancelling_each_login_at_once_does_not_get_past_the_limit() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    for _ in 0..10 {
        let login = browser.start_login("").await;
        let response = browser.post_phone(&login.id, &login.csrf, PHONE).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(browser.cancel(&login).await.status(), StatusCode::SEE_OTHER);
    }
    let phone = app.phone(PHONE).await;
    assert!(phone.pending().await.is_empty(), "none waits");
    let response = submit(&browser, PHONE).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Too many login attempts for this number")
    );
    let merchant = app.merchant();
    let start = [
        ("login_hint", "urn:msisdn:4791234501"),
        ("scope", "openid name"),
    ];
    let response = merchant.ciba_start(&start).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Ten minutes later the number may be asked again.
    app.advance(601);
    assert_eq!(
        submit(&browser, PHONE).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn too_many_numbers_from_one_address() {
    let app = TestApp::builder().spawn().await;
    let browser = app.browser();
    for i in 0..20 {
        let response = submit(&browser, &format!("47400000{i:02}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "submission {i}");
    }
    let response = submit(&browser, "4740000099").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // The next minute is a new window.
    app.advance(60);
    assert_eq!(
        submit(&browser, "4740000098").await.status(),
        StatusCode::SEE_OTHER
    );
}

/// Every response carries a request id (a proxy's is kept), and error pages show it so a
/// person can quote it.
#[tokio::test]
async fn every_response_carries_a_request_id_and_error_pages_show_it() {
    let app = TestApp::builder().spawn().await;
    let client = app.client();
    let id_of = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    let ok = client
        .get(app.url(nod_server::paths::DISCOVERY))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let first = id_of(&ok);
    assert_eq!(first.len(), 36, "a UUID: {first}");
    let api_error = client
        .get(app.url(nod_server::paths::USERINFO))
        .send()
        .await
        .unwrap();
    assert_eq!(api_error.status(), 401);
    assert_ne!(id_of(&api_error), first, "one id per request");
    let page = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(page.status(), 404);
    let id = id_of(&page);
    assert!(page.text().await.unwrap().contains(&id));
    let proxied = client
        .get(app.url("/no/such/page"))
        .header("x-request-id", "proxy-7f3a")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&proxied), "proxy-7f3a");
}

/// The router's own answers on the JSON APIs (a path that does not exist, a method the
/// endpoint does not take) are JSON in the API's format, never empty or a page.
#[tokio::test]
async fn unknown_paths_and_methods_of_json_apis_answer_json() {
    let app = TestApp::builder().spawn().await;
    let client = app.client();
    let cases = [
        (
            reqwest::Method::GET,
            paths::TOKEN,
            405,
            "application/json",
            Some("POST"),
        ),
        (
            reqwest::Method::PUT,
            paths::USERINFO,
            405,
            "application/json",
            None,
        ),
        (
            reqwest::Method::GET,
            paths::CIBA_START,
            405,
            "application/json",
            Some("POST"),
        ),
        (
            reqwest::Method::DELETE,
            "/app-api/v1/login-requests",
            405,
            "application/json",
            None,
        ),
        (
            reqwest::Method::GET,
            "/app-api/v1/nothing",
            404,
            "application/json",
            None,
        ),
        (
            reqwest::Method::GET,
            "/vipps-login-ciba/api/nothing",
            404,
            "application/json",
            None,
        ),
        (
            reqwest::Method::GET,
            paths::ACCESS_TOKEN,
            405,
            "application/problem+json",
            Some("POST"),
        ),
        (
            reqwest::Method::GET,
            "/webhooks/v1/nothing",
            404,
            "application/problem+json",
            None,
        ),
    ];
    for (method, path, status, content_type, allow) in cases {
        let response = client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            content_type,
            "{method} {path}"
        );
        if let Some(allow) = allow {
            assert!(
                response.headers()["allow"]
                    .to_str()
                    .unwrap()
                    .contains(allow),
                "{method} {path}"
            );
        }
        let body: Value = response.json().await.unwrap();
        if content_type == "application/json" {
            assert!(body["error"].is_string(), "{method} {path}: {body}");
            assert!(
                body["error_description"].is_string(),
                "{method} {path}: {body}"
            );
        } else {
            assert_eq!(body["status"], status, "{method} {path}: {body}");
            assert!(body["detail"].is_string(), "{method} {path}: {body}");
        }
    }
    // Pages keep their pages.
    let response = client.get(app.url("/no/such/page")).send().await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

/// A body over the limit (64 KiB) is 413, in JSON at the token endpoint and as a page on
/// a login form; a person never sees JSON.
#[tokio::test]
async fn bodies_over_the_limit_are_413_in_the_form_their_reader_expects() {
    let app = TestApp::builder().spawn().await;
    let big = format!(
        "grant_type=authorization_code&code={}",
        "x".repeat(70 * 1024)
    );
    let response = app
        .client()
        .post(app.url(paths::TOKEN))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");

    let browser = app.browser();
    let login = browser.start_login("").await;
    let response = browser
        .client()
        .post(browser.url(&login_path(&login.id, "phone")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={}&phone_number={}",
            login.csrf,
            "9".repeat(70 * 1024)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(response.text().await.unwrap().contains("Too much sent"));
}

/// Two thousand connections that send half a request head and wait neither stop others
/// being served nor stay open past the header timeout (10 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_half_sent_connections_neither_block_service_nor_stay() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::builder().spawn().await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..2000 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        stream
            .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        idle.push(stream);
    }
    let started = std::time::Instant::now();
    let response = app
        .client()
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // The server closes them after the header timeout: a read sees the end.
    let mut buffer = [0u8; 256];
    let read = tokio::time::timeout(Duration::from_secs(15), idle[0].read(&mut buffer))
        .await
        .expect("closed within 15 s");
    assert!(
        matches!(read, Ok(0) | Err(_)) || buffer.starts_with(b"HTTP/1.1 408"),
        "{read:?}"
    );
}

/// Logins started per address, merchant-initiated logins and user-exists questions per
/// sales unit: past the limit, 429 with Retry-After; another address or sales unit, or
/// the next minute, goes on.
#[tokio::test]
async fn anonymous_and_merchant_writes_are_limited_per_minute() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other-shop"))
        .configure(|c| {
            c.authorize_per_ip_per_minute = 3;
            c.ciba_start_per_client_per_minute = 2;
            c.user_exists_per_client_per_minute = 2;
        })
        .spawn()
        .await;
    let client = app.client();
    for _ in 0..3 {
        let response = client.get(app.authorize_url("")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let response = client.get(app.authorize_url("")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "60");
    assert!(response.text().await.unwrap().contains("Too many logins"));

    let merchant = app.merchant();
    let hint = ("login_hint", "urn:msisdn:4791234501");
    let scope = ("scope", "openid name");
    for _ in 0..2 {
        assert_eq!(
            merchant.ciba_start(&[hint, scope]).await.status(),
            StatusCode::OK
        );
    }
    let response = merchant.ciba_start(&[hint, scope]).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    for _ in 0..2 {
        assert_eq!(merchant.user_exists(hint.1).await.status(), StatusCode::OK);
    }
    let response = merchant.user_exists(hint.1).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    // Another sales unit has its own budget.
    let other = app.merchant_as("other-shop");
    assert_eq!(other.user_exists(hint.1).await.status(), StatusCode::OK);
    // The next minute, all again.
    app.advance(60);
    assert_eq!(
        client
            .get(app.authorize_url(""))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(merchant.user_exists(hint.1).await.status(), StatusCode::OK);
}
