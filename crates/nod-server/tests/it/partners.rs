//! Partner keys over HTTP: a partner's token from `POST /accesstoken/get`, a browser login
//! started with `msn` instead of `client_id` and finished at the token endpoint with the
//! partner's Bearer token and `Merchant-Serial-Number`, a merchant-initiated login the
//! same way, every refusal, and the webhooks API and userinfo closed to partner tokens.

use nod_core::sales_unit::AuthMethod;
use nod_server::paths;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

const PARTNER: &str = "acme-partner";
const MSN: &str = "123456";

/// `shop` (MSN 123456) and the partner `acme-partner`, which may act for 123456, 222 (a
/// sales unit using client_secret_post), 333 (shared by two sales units) and 444 (no
/// sales unit). `stranger` (MSN 777) is not the partner's.
async fn app() -> TestApp {
    let unit = |client_id, msn| SalesUnitSpec {
        msn: Some(msn),
        ..SalesUnitSpec::other(client_id)
    };
    TestApp::builder()
        .with_sales_unit(SalesUnitSpec {
            auth_method: AuthMethod::ClientSecretPost,
            ..unit("post-shop", "222")
        })
        .with_sales_unit(unit("twin-a", "333"))
        .with_sales_unit(unit("twin-b", "333"))
        .with_sales_unit(unit("stranger", "777"))
        .with_partner(PartnerSpec {
            id: PARTNER,
            msns: vec![MSN, "222", "333", "444"],
        })
        .spawn()
        .await
}

/// A partner access token from `POST /accesstoken/get`.
async fn partner_token(app: &TestApp) -> String {
    app.partner(PARTNER).access_token().await
}

/// The partner acting for the sales unit with this MSN (`None`: no header).
async fn partner_for(app: &TestApp, msn: Option<&str>) -> Merchant {
    let token = partner_token(app).await;
    app.merchant().acting_as_partner(&token, msn)
}

/// `shop`'s authorization URL as a partner writes it: `msn` first, instead of `client_id`.
fn msn_authorize_query(msn: &str) -> String {
    format!(
        "msn={msn}&response_type=code&scope=openid%20name&state=state-12345&redirect_uri={}&nonce=n-1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode(REDIRECT_URI)
    )
}

async fn assert_invalid_client(response: Response, case: &str) {
    assert_eq!(
        response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer realm=\"nod\""),
        "{case}"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client", "{case}: {body}");
}

#[tokio::test]
async fn a_partner_gets_an_access_token_in_the_vipps_shape() {
    let app = app().await;
    let response = app.partner(PARTNER).access_token_response().await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], "3600");
    assert_eq!(body["access_token"].as_str().unwrap().len(), 43);

    // A wrong secret, and an MSN the partner may not act for.
    let wrong = app
        .client()
        .post(app.url(paths::ACCESS_TOKEN))
        .header("client_id", PARTNER)
        .header("client_secret", CLIENT_SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let stranger = app
        .client()
        .post(app.url(paths::ACCESS_TOKEN))
        .header("client_id", PARTNER)
        .header("client_secret", PARTNER_SECRET)
        .header("Merchant-Serial-Number", "777")
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_browser_login_through_a_partner() {
    let app = app().await;
    let browser = app.browser();
    let phone = app.phone(PHONE).await;

    // msn instead of client_id: the same request with shop's client_id, in the same order.
    let response = browser
        .get(&format!(
            "{}?{}",
            paths::AUTHORIZE,
            msn_authorize_query(MSN)
        ))
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let redirected = location(&response);
    assert_eq!(
        redirected,
        format!(
            "{}?{}",
            paths::AUTHORIZE,
            msn_authorize_query(MSN).replace("msn=123456", "client_id=shop")
        )
    );

    let login = browser.start_login_at(&redirected).await;
    let number = browser.submit_phone(&login, phone.number(), false).await;
    assert_eq!(phone.approve(&login.id, number, false).await.status(), 200);
    let response = browser.continue_login(&login.id).await;
    let response = if location(&response) == login_path(&login.id, "consent") {
        browser.accept_consent(&login).await
    } else {
        response
    };
    let code = code_of(&response);

    // The partner redeems the code with its token and the MSN: the tokens are shop's.
    let partner = partner_for(&app, Some(MSN)).await;
    let tokens = partner.tokens(&code, Some(VERIFIER)).await;
    let claims = partner
        .verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["msn"], MSN, "partners validate the ID token by msn");
    assert_eq!(claims["aud"], json!([CLIENT_ID]));
    assert_eq!(claims["nonce"], "n-1");
    let access_token = tokens["access_token"].as_str().unwrap();
    let userinfo = partner.userinfo_json(access_token).await;
    assert_eq!(userinfo["sub"], claims["sub"]);

    // Revocation works the same way.
    let revoked = partner
        .post(paths::REVOKE)
        .form(&[("token", access_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        partner.userinfo(access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_merchant_initiated_login_through_a_partner() {
    let app = app().await;
    let phone = app.phone(PHONE).await;
    let partner = partner_for(&app, Some(MSN)).await;

    let exists = partner.user_exists("urn:msisdn:4791234501").await;
    assert_eq!(exists.status(), StatusCode::OK);
    assert_eq!(exists.json::<Value>().await.unwrap()["exists"], true);

    let auth_req_id = partner
        .ciba_auth_req_id(&[
            ("login_hint", "urn:msisdn:4791234501"),
            ("scope", "openid name"),
            ("binding_message", "POS-7"),
        ])
        .await;
    let request = phone.merchant_initiated().await;
    assert_eq!(request["sales_unit_name"], "Shop shop");
    let id = request["id"].as_str().unwrap();
    let approved = phone.approve_with(id, json!({ "consent": true })).await;
    assert_eq!(approved.status(), 200);

    let (status, tokens) = partner.ciba_poll(&auth_req_id).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = partner
        .verify_id_token(tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(claims["msn"], MSN);
    assert_eq!(claims["aud"], json!([CLIENT_ID]));
    assert_eq!(claims["auth_req_id"], auth_req_id.as_str());

    // The login is shop's: shop's own credentials see it redeemed.
    let (status, body) = app.merchant().ciba_poll(&auth_req_id).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn refusals_at_the_token_endpoint() {
    let app = app().await;
    let token = partner_token(&app).await;
    let as_partner = |token: &str, msn: Option<&str>| app.merchant().acting_as_partner(token, msn);
    let grant = [("grant_type", "authorization_code"), ("code", "nope")];

    // An unknown token, and a sales unit's own merchant API token: 401 invalid_client.
    let response = as_partner("not-a-token", Some(MSN)).token(&grant).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_invalid_client(response, "unknown token").await;
    let merchant_token = app.merchant().access_token().await;
    let response = as_partner(&merchant_token, Some(MSN)).token(&grant).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_invalid_client(response, "a sales unit's token").await;

    // The partner's own credentials with Basic: partner keys work only with a token.
    let response = app.partner(PARTNER).token(&grant).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // No Merchant-Serial-Number: 400 invalid_request.
    let (status, error) = status_and_error(as_partner(&token, None).token(&grant).await).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::BAD_REQUEST, "invalid_request")
    );

    // Not the partner's MSN; the partner's, but no sales unit, several sales units, or a
    // sales unit not on client_secret_basic: 401 invalid_client.
    for (msn, case) in [
        ("777", "not the partner's"),
        ("444", "no sales unit"),
        ("333", "several sales units"),
        ("222", "client_secret_post"),
        ("12ab", "not an MSN"),
    ] {
        let response = as_partner(&token, Some(msn)).token(&grant).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{case}");
        assert_invalid_client(response, case).await;
    }

    // The same refusals at CIBA start, user-exists and revocation.
    let response = as_partner(&token, Some("777"))
        .ciba_start(&[("login_hint", "urn:msisdn:4791234501"), ("scope", "openid")])
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = as_partner(&token, None)
        .user_exists("urn:msisdn:4791234501")
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = as_partner("not-a-token", Some(MSN))
        .post(paths::REVOKE)
        .form(&[("token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // One client authentication method: no client_secret besides the token; a client_id
    // in the form must be the sales unit's.
    let partner = as_partner(&token, Some(MSN));
    let both = partner
        .post(paths::TOKEN)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", CLIENT_ID),
            ("client_secret", CLIENT_SECRET),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_error(both).await.1, "invalid_request");
    let other_id = partner
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", "stranger"),
        ])
        .await;
    assert_eq!(status_and_error(other_id).await.1, "invalid_request");
    let same_id = partner
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("client_id", CLIENT_ID),
        ])
        .await;
    assert_eq!(
        status_and_error(same_id).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned()),
        "authenticated as shop; only the code is wrong"
    );

    // The token expires with the merchant token lifetime.
    app.advance(3600);
    let response = as_partner(&token, Some(MSN)).token(&grant).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_invalid_client(response, "expired").await;
}

#[tokio::test]
async fn a_deleted_partner_token_stops_working() {
    let app = app().await;
    let partner = partner_for(&app, Some(MSN)).await;
    let grant = [("grant_type", "authorization_code"), ("code", "nope")];
    assert_eq!(
        status_and_error(partner.token(&grant).await).await.1,
        "invalid_grant"
    );
    app.store.delete_partner(PARTNER).await.unwrap();
    assert_eq!(
        partner.token(&grant).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// A browser request to authorize; must be Nod's error page, never a redirect.
async fn assert_error_page(app: &TestApp, query: &str, detail: &str) {
    let response = app
        .browser()
        .get(&format!("{}?{query}", paths::AUTHORIZE))
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    assert!(response.headers().get("location").is_none(), "{query}");
    let html = response.text().await.unwrap();
    assert!(html.contains(detail), "{query}: {html}");
}

#[tokio::test]
async fn authorize_with_an_msn_that_names_no_single_sales_unit_is_an_error_page() {
    let app = app().await;
    assert_error_page(
        &app,
        &msn_authorize_query("999"),
        "no sales unit has this merchant serial number",
    )
    .await;
    assert_error_page(
        &app,
        &msn_authorize_query("333"),
        "several sales units have this merchant serial number",
    )
    .await;
    assert_error_page(&app, &msn_authorize_query("12ab"), "1 to 20 digits").await;
    assert_error_page(
        &app,
        &format!("{}&msn=1", msn_authorize_query(MSN)),
        "more than once",
    )
    .await;
}

#[tokio::test]
async fn authorize_with_client_id_and_msn_needs_them_to_agree() {
    let app = app().await;
    let query = msn_authorize_query(MSN);
    let agreeing = format!("client_id={CLIENT_ID}&{query}");
    let login = app
        .browser()
        .authorize(&app.url(&format!("{}?{agreeing}", paths::AUTHORIZE)))
        .await;
    assert!(!login.is_empty());
    assert_error_page(
        &app,
        &format!("client_id=stranger&{query}"),
        "msn is not the merchant serial number of the sales unit client_id names",
    )
    .await;
}

#[tokio::test]
async fn a_partner_token_opens_neither_the_webhooks_api_nor_userinfo() {
    let app = app().await;
    let token = partner_token(&app).await;
    let merchant = app.merchant();
    let register = merchant
        .register_webhook(
            &token,
            &json!({ "url": "https://shop.example/hook", "events": ["login.merchant-initiated.ping.v1"] }),
        )
        .await;
    let list = merchant.list_webhooks(&token).await;
    let delete = merchant
        .delete_webhook(&token, "00000000-0000-0000-0000-000000000000")
        .await;
    assert_eq!(
        merchant.userinfo(&token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    for response in [register, list, delete] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = response.json().await.unwrap();
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("partner access token cannot use the webhooks API"),
            "{body}"
        );
    }
}
