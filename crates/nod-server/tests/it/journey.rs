//! The whole desktop journey over HTTP: authorize → phone number → the app confirms with
//! the right number → consent → code → tokens (ID token checked against the JWKS) →
//! userinfo with every scope; then the remembered second login.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::support::*;

const ALL_SCOPES: &str = "openid%20name%20email%20address%20phoneNumber%20birthDate%20nin";

fn with_scope(app: &TestApp, scope: &str, extra: &str) -> String {
    app.authorize_url(extra)
        .replace("scope=openid%20name", &format!("scope={scope}"))
}

async fn verify_id_token(app: &TestApp, id_token: &str) -> Value {
    let jwks: JwkSet = app
        .client()
        .get(app.url(nod_server::paths::JWKS))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let kid = header.kid.unwrap();
    assert!(kid.starts_with("public:"), "{kid}");
    let key = DecodingKey::from_jwk(jwks.find(&kid).expect("kid is in the JWKS")).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[app.app.config.issuer()]);
    jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims
}

#[tokio::test]
async fn desktop_login_then_remembered_login() {
    let app = TestApp::spawn().await;
    let browser = app.browser();

    // 1. The merchant sends the browser to authorize; Nod shows the phone form.
    let response = browser
        .get(with_scope(
            &app,
            ALL_SCOPES,
            &format!("&nonce=n-0S6_WzA2Mj&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let login_path = location(&response);
    let id = login_path.trim_start_matches("/login/").to_owned();
    let page = browser.get(app.url(&login_path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(
        page.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Log in to Shop shop"),
        "the merchant's name is shown"
    );
    assert!(html.contains("Remember me in this browser"));
    let csrf = csrf(&html);

    // 2. The person types their number; the browser shows a two-digit number.
    let number = submit_phone(&app, &browser, &id, &csrf, "+47 912 34 501", true).await;
    assert!((10..=99).contains(&number));

    // The waiting page listens for server-sent events.
    let events = browser
        .get(app.url(&format!("/login/{id}/events")))
        .send()
        .await
        .unwrap();
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    // 3. The app sees the request with three numbers, the right one among them.
    let device = app.device(PHONE).await;
    let pending = app.pending(&device).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["id"], id.as_str());
    assert_eq!(pending[0]["sales_unit_name"], "Shop shop");
    assert_eq!(pending[0]["kind"], "browser");
    let choices: Vec<u8> = serde_json::from_value(pending[0]["choices"].clone()).unwrap();
    assert_eq!(choices.len(), 3);
    assert!(choices.contains(&number));
    let described: Vec<&str> = pending[0]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["scope"].as_str().unwrap())
        .collect();
    assert_eq!(
        described,
        [
            "name",
            "email",
            "address",
            "phoneNumber",
            "birthDate",
            "nin"
        ]
    );

    let approved = app.approve(&device, &id, number, true).await;
    assert_eq!(approved.status(), 200);
    let next: Value = approved.json().await.unwrap();
    assert_eq!(next["next"], "return_to_browser");
    assert!(app.pending(&device).await.is_empty());

    // 4. The event stream tells the page to continue at once.
    let mut events = events;
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !seen.contains("event: continue") {
        let chunk = tokio::time::timeout_at(deadline, events.chunk())
            .await
            .expect("event within 5 s")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(
        seen.contains(&format!("data: /login/{id}/continue")),
        "{seen}"
    );

    // 5. Consent, then back to the merchant with a code.
    let response = browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), format!("/login/{id}/consent"));
    let html = browser
        .get(app.url(&format!("/login/{id}/consent")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for words in [
        "Name",
        "Email address",
        "Addresses",
        "Phone number",
        "Date of birth",
        "National identity number",
    ] {
        assert!(html.contains(words), "consent page lists {words}");
    }
    let response = accept_consent(&app, &browser, &id, &csrf).await;
    assert_eq!(response.status(), 303);
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("nod_remember=")
            && c.contains("HttpOnly")
            && c.contains("SameSite=Lax")),
        "{cookies:?}"
    );
    let callback = location(&response);
    assert!(callback.starts_with(REDIRECT_URI), "{callback}");
    let params = query(&callback);
    assert_eq!(params["state"], "state-12345");
    assert_eq!(params["iss"], app.app.config.issuer());
    assert_eq!(
        params["scope"],
        "openid name email address phoneNumber birthDate nin"
    );
    let code = params["code"].clone();

    // 6. The merchant redeems the code.
    let response = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(
        tokens["scope"],
        "openid name email address phoneNumber birthDate nin"
    );
    let access_token = tokens["access_token"].as_str().unwrap();
    let claims = verify_id_token(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["aud"], serde_json::json!([CLIENT_ID]));
    assert_eq!(claims["amr"], serde_json::json!(["app"]));
    assert_eq!(claims["sid"], id.as_str());
    assert_eq!(claims["msn"], "123456");
    assert_eq!(claims["at_hash"], nod_core::crypto::at_hash(access_token));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert!(claims.get("acr").is_none());
    assert!(
        claims.get("name").is_none(),
        "no profile claims in the ID token"
    );
    let sub = claims["sub"].as_str().unwrap().to_owned();

    // 7. Userinfo returns every scope's claims, verified.
    let response = app
        .client()
        .get(app.url(nod_server::paths::USERINFO))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["sub"], sub.as_str());
    assert_eq!(info["sid"], id.as_str());
    assert_eq!(info["name"], "Ingrid Solberg");
    assert_eq!(info["given_name"], "Ingrid");
    assert_eq!(info["family_name"], "Solberg");
    assert_eq!(info["email"], "ingrid.solberg@example.no");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["phone_number"], PHONE);
    assert_eq!(info["phone_number_verified"], true);
    assert_eq!(info["birthdate"], "1958-03-14");
    assert_eq!(info["nin"], "14035810200");
    assert_eq!(info["address"]["country"], "NO");
    assert!(
        info["address"]["formatted"]
            .as_str()
            .unwrap()
            .contains('\n')
    );
    assert!(info["other_addresses"].is_array());

    // 8. The same browser logs in again: no phone number, no app, no consent page.
    let response = browser
        .get(with_scope(&app, "openid%20name%20email", "&nonce=second"))
        .send()
        .await
        .unwrap();
    let second = location(&response);
    let second_id = second.trim_start_matches("/login/").to_owned();
    let response = browser.get(app.url(&second)).send().await.unwrap();
    assert_eq!(location(&response), format!("/login/{second_id}/continue"));
    let response = browser
        .get(app.url(&format!("/login/{second_id}/continue")))
        .send()
        .await
        .unwrap();
    let callback = location(&response);
    assert!(
        callback.starts_with(REDIRECT_URI),
        "remembered and consented: straight back, got {callback}"
    );
    let code = query(&callback)["code"].clone();
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
    let claims = verify_id_token(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], sub.as_str(), "the same pairwise sub");
    assert_eq!(claims["amr"], serde_json::json!(["remembered_browser"]));
    assert!(
        app.pending(&device).await.is_empty(),
        "no app confirmation was asked for"
    );
}

#[tokio::test]
async fn pairwise_subjects_differ_between_sales_units() {
    let app = TestApp::spawn().await;
    app.add_sales_unit(
        "other-shop",
        CLIENT_SECRET,
        nod_core::sales_unit::AuthMethod::ClientSecretBasic,
        false,
    )
    .await;
    let device = app.device(PHONE).await;
    let mut subs = Vec::new();
    for client in [CLIENT_ID, "other-shop"] {
        let browser = app.browser();
        let url = app.authorize_url("").replace(
            &format!("client_id={CLIENT_ID}"),
            &format!("client_id={client}"),
        );
        let response = browser.get(url).send().await.unwrap();
        let id = location(&response).trim_start_matches("/login/").to_owned();
        let html = browser
            .get(app.url(&format!("/login/{id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let number = submit_phone(&app, &browser, &id, &csrf(&html), PHONE, false).await;
        assert_eq!(app.approve(&device, &id, number, false).await.status(), 200);
        let response = browser
            .post(app.url(&format!("/login/{id}/consent")))
            .form(&[("csrf", csrf(&html).as_str()), ("decision", "accept")])
            .send()
            .await
            .unwrap();
        let code = query(&location(&response))["code"].clone();
        let response = app
            .client()
            .post(app.url(nod_server::paths::TOKEN))
            .basic_auth(client, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT_URI),
            ])
            .send()
            .await
            .unwrap();
        let tokens: Value = response.json().await.unwrap();
        let info: Value = userinfo(&app, tokens["access_token"].as_str().unwrap()).await;
        assert!(uuid::Uuid::parse_str(info["sub"].as_str().unwrap()).is_ok());
        assert!(info.get("email").is_none(), "email was not asked for");
        subs.push(info["sub"].as_str().unwrap().to_owned());
    }
    assert_ne!(subs[0], subs[1]);
}

/// Logs in once with "remember me", consenting to `openid name`; returns the browser.
async fn remembered_browser(app: &TestApp, device: &str) -> reqwest::Client {
    let browser = app.browser();
    let (id, csrf) = start_login(app, &browser, "").await;
    let number = submit_phone(app, &browser, &id, &csrf, PHONE, true).await;
    assert_eq!(app.approve(device, &id, number, true).await.status(), 200);
    let response = accept_consent(app, &browser, &id, &csrf).await;
    assert!(location(&response).starts_with(REDIRECT_URI));
    browser
}

#[tokio::test]
async fn app_auth_and_prompt_login_force_the_app_in_a_remembered_browser() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = remembered_browser(&app, &device).await;
    for extra in ["&acr_values=urn%3Avipps%3Aacr%3Aapp_auth", "&prompt=login"] {
        let (id, csrf) = start_login(&app, &browser, extra).await;
        let number = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
        assert_eq!(app.approve(&device, &id, number, false).await.status(), 200);
        let response = browser
            .get(app.url(&format!("/login/{id}/continue")))
            .send()
            .await
            .unwrap();
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
        let claims = verify_id_token(&app, tokens["id_token"].as_str().unwrap()).await;
        assert_eq!(claims["amr"], serde_json::json!(["app"]), "{extra}");
        if extra.contains("acr_values") {
            assert_eq!(claims["acr"], "urn:vipps:acr:app_auth");
        } else {
            assert!(claims.get("acr").is_none());
        }
    }
}

#[tokio::test]
async fn prompt_none_in_a_remembered_browser() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = remembered_browser(&app, &device).await;
    // Consent given for `name`: straight back with a code.
    let response = browser
        .get(app.authorize_url("&prompt=none"))
        .send()
        .await
        .unwrap();
    let page = location(&response);
    let response = browser.get(app.url(&page)).send().await.unwrap();
    let response = browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap();
    assert!(query(&location(&response)).contains_key("code"));
    // A new scope without consent: consent_required, no page.
    let url = app
        .authorize_url("&prompt=none")
        .replace("scope=openid%20name", "scope=openid%20name%20email");
    let response = browser.get(url).send().await.unwrap();
    let page = location(&response);
    let response = browser.get(app.url(&page)).send().await.unwrap();
    let response = browser
        .get(app.url(&location(&response)))
        .send()
        .await
        .unwrap();
    let params = query(&location(&response));
    assert_eq!(params["error"], "consent_required");
    assert_eq!(params["state"], "state-12345");
    // Without prompt=none the consent page asks only for the new scope.
    let url = app
        .authorize_url("")
        .replace("scope=openid%20name", "scope=openid%20name%20email");
    let response = browser.get(url).send().await.unwrap();
    let page = location(&response);
    let id = page.trim_start_matches("/login/").to_owned();
    browser.get(app.url(&page)).send().await.unwrap();
    browser
        .get(app.url(&format!("/login/{id}/continue")))
        .send()
        .await
        .unwrap();
    let html = browser
        .get(app.url(&format!("/login/{id}/consent")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Email address"));
    assert!(
        !html.contains("<li>Name</li>"),
        "name was consented to before"
    );
}

#[tokio::test]
async fn form_post_response_mode() {
    let app = TestApp::spawn().await;
    let device = app.device(PHONE).await;
    let browser = app.browser();
    let (id, csrf) = start_login(&app, &browser, "&response_mode=form_post").await;
    let number = submit_phone(&app, &browser, &id, &csrf, PHONE, false).await;
    app.approve(&device, &id, number, false).await;
    let response = accept_consent(&app, &browser, &id, &csrf).await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"{REDIRECT_URI}\"")),
        "{html}"
    );
    assert!(html.contains("name=\"code\""));
    assert!(html.contains("name=\"state\" value=\"state-12345\""));
    assert!(html.contains("data-autosubmit"));
    // Errors are posted too.
    let response = browser
        .get(app.authorize_url("&response_mode=form_post&prompt=sometimes"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("name=\"error\" value=\"invalid_request\""));
}
