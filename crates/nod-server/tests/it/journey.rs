//! The whole desktop journey over HTTP: authorize → phone number → the app confirms with
//! the right number → consent → code → tokens (ID token checked against the JWKS) →
//! userinfo with every scope; then the remembered second login.

use serde_json::{Value, json};

use crate::support::*;

const ALL_SCOPES: &str = "openid name email address phoneNumber birthDate nin";

#[tokio::test]
async fn desktop_login_then_remembered_login() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let browser = app.browser();

    // 1. The merchant sends the browser to authorize; Nod shows the phone form.
    let id = browser
        .authorize(&app.authorize_url_for(
            CLIENT_ID,
            REDIRECT_URI,
            ALL_SCOPES,
            &format!("&nonce=n-0S6_WzA2Mj&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        ))
        .await;
    let page = browser.login_page(&id).await;
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
    let login = Login {
        id: id.clone(),
        csrf: csrf(&html),
    };

    // 2. The person types their number; the browser shows a two-digit number.
    let number = browser.submit_phone(&login, "+47 912 34 501", true).await;
    assert!((10..=99).contains(&number));

    // The waiting page listens for server-sent events.
    let mut events = browser.events(&id).await;
    assert_eq!(events.status(), 200);
    assert_eq!(events.headers()["content-type"], "text/event-stream");

    // 3. The app sees the request with three numbers, the right one among them.
    let phone = app.phone(PHONE).await;
    let pending = phone.pending().await;
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

    let approved = phone.approve(&id, number, true).await;
    assert_eq!(approved.status(), 200);
    let next: Value = approved.json().await.unwrap();
    assert_eq!(next["next"], "return_to_browser");
    assert!(phone.pending().await.is_empty());

    // 4. The event stream tells the page to continue at once.
    let seen = read_events_until(&mut events, "event: continue").await;
    assert!(
        seen.contains(&format!("data: {}", login_path(&id, "continue"))),
        "{seen}"
    );

    // 5. Consent, then back to the merchant with a code.
    let response = browser.continue_login(&id).await;
    assert_eq!(location(&response), login_path(&id, "consent"));
    let html = browser.consent_page(&id).await;
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
    let response = browser.accept_consent(&login).await;
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
    assert_eq!(params["iss"], app.issuer());
    assert_eq!(params["scope"], ALL_SCOPES);
    let code = params["code"].clone();

    // 6. The merchant redeems the code.
    let response = merchant.redeem(&code, Some(VERIFIER)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], ALL_SCOPES);
    let access_token = tokens["access_token"].as_str().unwrap();
    let claims = merchant
        .verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["aud"], json!([CLIENT_ID]));
    assert_eq!(claims["amr"], json!(["app"]));
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
    let response = merchant.userinfo(access_token).await;
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
    insta::assert_json_snapshot!("userinfo_all_scopes", info, {
        ".sub" => "[sub]",
        ".sid" => "[sid]",
    });

    // 8. The same browser logs in again: authorize answers with the code at once (one
    // browser round trip: no login page, no app, no consent page).
    let response = browser
        .get(&app.authorize_url_for(
            CLIENT_ID,
            REDIRECT_URI,
            "openid name email",
            "&nonce=second",
        ))
        .await;
    assert_eq!(response.status(), 303);
    let callback = location(&response);
    assert!(
        callback.starts_with(REDIRECT_URI),
        "remembered and consented: straight back, got {callback}"
    );
    assert_eq!(query(&callback)["state"], "state-12345");
    assert_eq!(query(&callback)["scope"], "openid name email");
    let tokens = merchant.tokens(&query(&callback)["code"], None).await;
    let claims = merchant
        .verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["sub"], sub.as_str(), "the same pairwise sub");
    assert_eq!(claims["amr"], json!(["remembered_browser"]));
    assert_eq!(claims["nonce"], "second");
    assert_ne!(claims["sid"], id.as_str(), "a login of its own");
    assert!(
        phone.pending().await.is_empty(),
        "no app confirmation was asked for"
    );
}

#[tokio::test]
async fn pairwise_subjects_differ_between_sales_units() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other-shop"))
        .spawn()
        .await;
    let phone = app.phone(PHONE).await;
    let mut subs = Vec::new();
    for client in [CLIENT_ID, "other-shop"] {
        let merchant = app.merchant_as(client);
        let browser = app.browser();
        let login = browser
            .start_login_at(&app.authorize_url_for(client, REDIRECT_URI, "openid name", ""))
            .await;
        let number = browser.submit_phone(&login, PHONE, false).await;
        assert_eq!(phone.approve(&login.id, number, false).await.status(), 200);
        let response = browser.accept_consent(&login).await;
        let tokens = merchant.tokens(&code_of(&response), None).await;
        let info = merchant
            .userinfo_json(tokens["access_token"].as_str().unwrap())
            .await;
        assert!(uuid::Uuid::parse_str(info["sub"].as_str().unwrap()).is_ok());
        assert!(info.get("email").is_none(), "email was not asked for");
        insta::assert_json_snapshot!("userinfo_openid_name", info, {
            ".sub" => "[sub]",
            ".sid" => "[sid]",
        });
        subs.push(info["sub"].as_str().unwrap().to_owned());
    }
    assert_ne!(subs[0], subs[1]);
}

/// Logs in once with "remember me", consenting to `openid name`; returns the browser.
async fn remembered_browser(app: &TestApp, phone: &Phone) -> Browser {
    let browser = app.browser();
    let (_, response) = log_in(&browser, phone, "", true).await;
    assert!(location(&response).starts_with(REDIRECT_URI));
    browser
}

#[tokio::test]
async fn app_auth_and_prompt_login_force_the_app_in_a_remembered_browser() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let browser = remembered_browser(&app, &phone).await;
    for extra in ["&acr_values=urn%3Avipps%3Aacr%3Aapp_auth", "&prompt=login"] {
        let login = browser.start_login(extra).await;
        let number = browser.submit_phone(&login, PHONE, false).await;
        assert_eq!(phone.approve(&login.id, number, false).await.status(), 200);
        let response = browser.continue_login(&login.id).await;
        let tokens = merchant.tokens(&code_of(&response), None).await;
        let claims = merchant
            .verify_id_token(tokens["id_token"].as_str().unwrap())
            .await;
        assert_eq!(claims["amr"], json!(["app"]), "{extra}");
        if extra.contains("acr_values") {
            assert_eq!(claims["acr"], "urn:vipps:acr:app_auth");
        } else {
            assert!(claims.get("acr").is_none());
        }
    }
}

#[tokio::test]
async fn prompt_none_in_a_remembered_browser() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = remembered_browser(&app, &phone).await;
    // Consent given for `name`: straight back with a code, from authorize itself.
    let response = browser.get(&app.authorize_url("&prompt=none")).await;
    assert!(query(&location(&response)).contains_key("code"));
    // A new scope without consent: consent_required, no page.
    let with_email =
        |extra: &str| app.authorize_url_for(CLIENT_ID, REDIRECT_URI, "openid name email", extra);
    let id = browser.authorize(&with_email("&prompt=none")).await;
    let response = browser.login_page(&id).await;
    let response = browser.get(&location(&response)).await;
    assert_eq!(
        redirect_error(&response),
        (reqwest::StatusCode::SEE_OTHER, "consent_required".into())
    );
    assert_eq!(query(&location(&response))["state"], "state-12345");
    // Without prompt=none the consent page asks only for the new scope.
    let id = browser.authorize(&with_email("")).await;
    browser.login_page(&id).await;
    browser.continue_login(&id).await;
    let html = browser.consent_page(&id).await;
    assert!(html.contains("Email address"));
    assert!(
        !html.contains("<li>Name</li>"),
        "name was consented to before"
    );
}

#[tokio::test]
async fn form_post_response_mode() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = app.browser();
    let (_, response) = log_in(&browser, &phone, "&response_mode=form_post", false).await;
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
        .get(&app.authorize_url("&response_mode=form_post&prompt=sometimes"))
        .await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("name=\"error\" value=\"invalid_request\""));
}

#[tokio::test]
async fn a_remembered_login_at_authorize_keeps_the_response_mode() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = remembered_browser(&app, &phone).await;
    let response = browser
        .get(&app.authorize_url("&response_mode=form_post"))
        .await;
    assert_eq!(
        response.status(),
        200,
        "posted to the merchant, not redirected"
    );
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&format!("action=\"{REDIRECT_URI}\"")),
        "{html}"
    );
    assert!(html.contains("name=\"code\""));
    assert!(html.contains("name=\"state\" value=\"state-12345\""));
}

#[tokio::test]
async fn a_remembered_browser_without_its_person_sees_the_login_page() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let browser = remembered_browser(&app, &phone).await;
    let user = app.store.get_user_by_phone(PHONE).await.unwrap().unwrap();
    app.store.delete_user(user.id).await.unwrap();
    // `authorize` asserts that the browser is sent to a login page.
    let id = browser.authorize(&app.authorize_url("")).await;
    let response = browser.login_page(&id).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("phone_number"));
}

#[tokio::test]
async fn a_remembered_code_is_redeemed_once() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let browser = remembered_browser(&app, &phone).await;
    let response = browser.get(&app.authorize_url("")).await;
    let code = query(&location(&response))["code"].clone();
    assert_eq!(merchant.redeem(&code, None).await.status(), 200);
    let (status, error) = status_and_error(merchant.redeem(&code, None).await).await;
    assert_eq!((status.as_u16(), error.as_str()), (400, "invalid_grant"));
    // Two remembered logins at the same moment both finish, each with its own code.
    let url = app.authorize_url("");
    let (a, b) = tokio::join!(browser.get(&url), browser.get(&url));
    let (a, b) = (
        query(&location(&a))["code"].clone(),
        query(&location(&b))["code"].clone(),
    );
    assert_ne!(a, b);
    assert_eq!(merchant.redeem(&a, None).await.status(), 200);
    assert_eq!(merchant.redeem(&b, None).await.status(), 200);
}

#[tokio::test]
async fn a_remembered_browser_of_a_person_who_may_not_log_in_is_asked_for_the_number() {
    let app = TestApp::builder().spawn().await;
    // The demo's inactive person, with a browser remembered before they became inactive.
    let inactive = app
        .store
        .get_user_by_phone("4791234513")
        .await
        .unwrap()
        .unwrap();
    assert!(!inactive.active);
    let token = nod_core::crypto::random_secret();
    let remembered = nod_core::login::RememberedBrowser {
        id: uuid::Uuid::new_v4(),
        user_id: inactive.id,
        label: "Firefox on Linux".into(),
        created_at: 0,
        last_used_at: 0,
        expires_at: i64::MAX,
    };
    app.store
        .create_browser(&remembered, &nod_core::crypto::hash_secret(&token))
        .await
        .unwrap();
    // The browser's cookies by hand: the remember cookie, then the binding cookie
    // authorize sets.
    let client = app.client();
    let remember = format!("nod_remember={token}");
    let response = client
        .get(app.authorize_url(""))
        .header("cookie", &remember)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let page = location(&response);
    assert!(
        login_id_of(&page).is_some(),
        "a login page, not the merchant: {page}"
    );
    let binding = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("nod_bid="))
        .unwrap();
    let response = client
        .get(app.url(&page))
        .header("cookie", format!("{remember}; {binding}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        200,
        "the phone form, not a redirect onwards"
    );
    assert!(response.text().await.unwrap().contains("phone_number"));
}
