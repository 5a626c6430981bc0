//! Wire compatibility with the Vipps Login API as its documentation describes it: both
//! userinfo spellings, `Merchant-Serial-Number`, token-endpoint statuses, documented scopes
//! Nod does not serve, and the documented lifetimes.

use nod_server::paths;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

const HINT: (&str, &str) = ("login_hint", "urn:msisdn:4791234501");

#[tokio::test]
async fn userinfo_answers_at_both_spellings() {
    let app = TestApp::builder().spawn().await;
    let phone = app.phone(PHONE).await;
    let (_, response) = log_in(&app.browser(), &phone, "", false).await;
    let tokens = app.merchant().tokens(&code_of(&response), None).await;
    let token = tokens["access_token"].as_str().unwrap();
    let mut bodies = Vec::new();
    for path in [paths::USERINFO, paths::USERINFO_SLASH] {
        let response = app
            .client()
            .get(app.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        bodies.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(bodies[0], bodies[1]);
    assert!(bodies[0]["name"].is_string());
}

#[tokio::test]
async fn merchant_serial_number_must_match_only_when_the_sales_unit_has_one() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            msn: None,
            ..SalesUnitSpec::other("no-msn")
        })
        .spawn()
        .await;
    let user_exists = |merchant: Merchant, msn: &'static str| async move {
        merchant
            .post(paths::USER_EXISTS)
            .header("Merchant-Serial-Number", msn)
            .form(&[HINT])
            .send()
            .await
            .unwrap()
    };
    // Without an MSN of its own, a sales unit accepts whatever the SDK sends.
    let response = user_exists(app.merchant_as("no-msn"), "999999").await;
    assert_eq!(response.status(), 200);
    // With one, it must match.
    let response = user_exists(app.merchant(), "123456").await;
    assert_eq!(response.status(), 200);
    let (status, body) = {
        let response = user_exists(app.merchant(), "999999").await;
        (response.status(), response.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_request");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("Merchant-Serial-Number"),
        "{body}"
    );
}

#[tokio::test]
async fn documented_scopes_nod_does_not_serve_are_dropped() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let auth_req_id = merchant
        .ciba_auth_req_id(&[
            HINT,
            (
                "scope",
                "openid name gender offline customFlow paymentSourceReferences",
            ),
        ])
        .await;
    let approved = phone.approve_merchant_initiated().await;
    assert_eq!(approved.status(), 200);
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid name");
    // A scope no Vipps document names is still refused.
    let response = merchant
        .ciba_start(&[HINT, ("scope", "openid name profile")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
}

#[tokio::test]
async fn lifetimes_follow_the_documentation() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;

    // A browser login's access token: 600 s.
    let (_, response) = log_in(&app.browser(), &phone, "", false).await;
    let tokens = merchant.tokens(&code_of(&response), None).await;
    assert_eq!(tokens["expires_in"], 600);

    // A merchant-initiated login's access token: 300 s.
    let auth_req_id = merchant
        .ciba_auth_req_id(&[HINT, ("scope", "openid name")])
        .await;
    assert_eq!(phone.approve_merchant_initiated().await.status(), 200);
    let (status, tokens) = merchant.ciba_poll(&auth_req_id).await;
    assert_eq!(status, 200);
    assert_eq!(tokens["expires_in"], 300);
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    app.advance(299);
    assert_eq!(merchant.userinfo(&access_token).await.status(), 200);
    app.advance(2);
    assert_eq!(merchant.userinfo(&access_token).await.status(), 401);

    // A ciba-redirect code: 300 s in test mode.
    for (wait, redeemed) in [(299, true), (301, false)] {
        merchant
            .ciba_auth_req_id(&[
                HINT,
                ("scope", "openid name"),
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
        app.advance(wait);
        let response = merchant
            .token(&[("grant_type", CIBA_REDIRECT_GRANT), ("code", &code)])
            .await;
        assert_eq!(
            response.status() == StatusCode::OK,
            redeemed,
            "after {wait} s"
        );
    }
}

/// A replayed code that never got tokens does not claim it revoked any.
#[tokio::test]
async fn a_replay_says_tokens_were_revoked_only_when_there_were_some() {
    let app = TestApp::builder().spawn().await;
    let merchant = app.merchant();
    let phone = app.phone(PHONE).await;
    let pkce = format!("&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let describe = |response: reqwest::Response| async move {
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"], "invalid_grant");
        body["error_description"].as_str().unwrap().to_owned()
    };

    // The first redemption fails (wrong verifier): the code is spent, no tokens exist.
    let (_, response) = log_in(&app.browser(), &phone, &pkce, false).await;
    let code = code_of(&response);
    let wrong = "wrong-verifier-wrong-verifier-wrong-verifier-0";
    describe(merchant.redeem(&code, Some(wrong)).await).await;
    let replay = describe(merchant.redeem(&code, Some(VERIFIER)).await).await;
    assert!(!replay.contains("revoked"), "{replay}");

    // The first redemption succeeds: a replay revokes its tokens and says so.
    let (_, response) = log_in(&app.browser(), &phone, &pkce, false).await;
    let code = code_of(&response);
    let tokens = merchant.tokens(&code, Some(VERIFIER)).await;
    let replay = describe(merchant.redeem(&code, Some(VERIFIER)).await).await;
    assert!(replay.contains("revoked"), "{replay}");
    let token = tokens["access_token"].as_str().unwrap();
    assert_eq!(merchant.userinfo(token).await.status(), 401);
}

/// RFC 7009: a client revokes its own access tokens; anything else is 200 and changes
/// nothing.
#[tokio::test]
async fn revocation_revokes_only_the_clients_own_access_tokens() {
    let app = TestApp::builder()
        .with_sales_unit(SalesUnitSpec::other("other"))
        .spawn()
        .await;
    let phone = app.phone(PHONE).await;
    let merchant = app.merchant();
    let (_, response) = log_in(&app.browser(), &phone, "", false).await;
    let tokens = merchant.tokens(&code_of(&response), None).await;
    let token = tokens["access_token"].as_str().unwrap();
    let revoke = |merchant: Merchant, form: Vec<(&'static str, String)>| async move {
        merchant
            .post(paths::REVOKE)
            .form(&form)
            .send()
            .await
            .unwrap()
    };

    let anonymous = revoke(
        app.merchant().with_auth(ClientAuth::None),
        vec![("token", token.to_owned())],
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let missing = revoke(app.merchant(), vec![]).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let other = revoke(app.merchant_as("other"), vec![("token", token.to_owned())]).await;
    assert_eq!(other.status(), 200);
    assert_eq!(merchant.userinfo(token).await.status(), 200, "not theirs");

    let own = revoke(
        app.merchant(),
        vec![
            ("token", token.to_owned()),
            ("token_type_hint", "access_token".to_owned()),
        ],
    )
    .await;
    assert_eq!(own.status(), 200);
    assert_eq!(merchant.userinfo(token).await.status(), 401);
    for again in [token, "never-issued"] {
        let response = revoke(app.merchant(), vec![("token", again.to_owned())]).await;
        assert_eq!(response.status(), 200, "{again}");
    }
    let discovery = merchant.discovery().await;
    assert_eq!(
        discovery["revocation_endpoint"],
        app.url(paths::REVOKE).as_str()
    );
}
