//! The demo merchant at `/demo/` (test mode only): a shop that starts every browser
//! journey and shows what it got back. It is a real relying party: it redeems codes at
//! Nod's token endpoint over HTTP with the demo sales unit's credentials and calls
//! userinfo. Also the demo data that test mode seeds.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use nod_core::crypto;
use nod_core::params::Params;
use serde_json::Value;

use crate::paths::{self, GRANT_CIBA, GRANT_CIBA_REDIRECT};
use crate::state::AppState;
use crate::web::extract::FormParams;
use crate::web::redirect::see_other;
use crate::web::render::NO_STORE;

/// What the demo merchant asks for.
const DEMO_SCOPE: &str = "openid name email address phoneNumber birthDate nin";

mod seed;
pub mod sessions;

pub use seed::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, seed};
use sessions::DemoSession;

/// The journeys the demo merchant offers: (id, button, what it adds to the request).
const JOURNEYS: &[(&str, &str, &str)] = &[
    ("web", "Log in", ""),
    (
        "app_to_app",
        "App to app",
        "&requested_flow=app_to_app&app_callback_uri={app_callback}",
    ),
    (
        "app_to_app_v2",
        "App to app v2",
        "&requested_flow=app_to_app_v2",
    ),
    (
        "automatic_return",
        "Automatic return",
        "&requested_flow=automatic_return_from_vipps_app",
    ),
    (
        "app_auth",
        "Always confirm in the app",
        "&acr_values=urn%3Avipps%3Aacr%3Aapp_auth",
    ),
    ("consent", "Ask for consent again", "&prompt=consent"),
    (
        "form_post",
        "Form post response",
        "&response_mode=form_post",
    ),
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/demo",
            get(|| async { axum::response::Redirect::permanent("/demo/") }),
        )
        .route("/demo/", get(get_demo))
        .route("/demo/start", get(start_login))
        .route("/demo/callback", get(get_callback).post(post_callback))
        .route("/demo/app-callback", get(get_app_callback))
        .route("/demo/ciba/start", get(start_ciba))
        .route("/demo/ciba/wait", get(wait_ciba))
        .route("/demo/ciba-callback", get(ciba_callback))
}

#[derive(Template)]
#[template(path = "demo.html")]
struct DemoView<'a> {
    journeys: &'a [(&'a str, &'a str, &'a str)],
}

#[derive(Template)]
#[template(path = "demo_result.html")]
struct DemoResultView<'a> {
    journey: &'a str,
    name: Option<&'a str>,
    error: Option<&'a str>,
    userinfo: &'a str,
    claims: &'a str,
}

#[derive(Template)]
#[template(path = "demo_ciba_wait.html")]
struct CibaWaitView {
    webpage: bool,
}

#[derive(Template)]
#[template(path = "demo_app_callback.html")]
struct AppCallbackView<'a> {
    resume_uri: &'a str,
}

fn page(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (status, [NO_STORE], Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "demo template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn get_demo() -> Response {
    page(StatusCode::OK, DemoView { journeys: JOURNEYS }.render())
}

/// `GET /demo/start?journey=…`: a new login with PKCE, state and nonce, sent to authorize.
async fn start_login(state: AppState, uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let wanted = params.get("journey").ok().flatten().unwrap_or("web");
    let Some((journey, _, extra)) = JOURNEYS.iter().find(|(id, _, _)| *id == wanted) else {
        return result(
            wanted,
            None,
            Some("unknown journey"),
            &Value::Null,
            &Value::Null,
        );
    };
    let base = state.config.base();
    let verifier = crypto::random_secret();
    let login_state = crypto::random_secret();
    let nonce = crypto::random_secret();
    let redirect: String =
        url::form_urlencoded::byte_serialize(format!("{base}/demo/callback").as_bytes()).collect();
    let app_callback: String =
        url::form_urlencoded::byte_serialize(format!("{base}/demo/app-callback").as_bytes())
            .collect();
    let scope: String = url::form_urlencoded::byte_serialize(DEMO_SCOPE.as_bytes()).collect();
    let url = format!(
        "{base}{}?client_id={DEMO_CLIENT_ID}&response_type=code&scope={scope}&state={login_state}&nonce={nonce}&redirect_uri={redirect}&code_challenge={}&code_challenge_method=S256{}",
        paths::AUTHORIZE,
        crypto::s256(&verifier),
        extra.replace("{app_callback}", &app_callback),
    );
    state.demo.insert(
        login_state,
        DemoSession {
            journey,
            verifier,
            nonce,
            created_at: state.now(),
        },
    );
    see_other(&url)
}

async fn get_callback(state: AppState, uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    callback(&state, &params).await
}

async fn post_callback(state: AppState, FormParams(params): FormParams) -> Response {
    callback(&state, &params).await
}

/// The merchant's redirect URI: redeem the code, call userinfo, show both.
async fn callback(state: &AppState, params: &Params) -> Response {
    let get = |name: &str| params.get(name).ok().flatten();
    let Some(session) = get("state").and_then(|s| state.demo.take(s)) else {
        return result(
            "?",
            None,
            Some("unknown or reused state: start again"),
            &Value::Null,
            &Value::Null,
        );
    };
    if let Some(error) = get("error") {
        let text = format!("{error}: {}", get("error_description").unwrap_or(""));
        return result(
            session.journey,
            None,
            Some(&text),
            &Value::Null,
            &Value::Null,
        );
    }
    let Some(code) = get("code") else {
        return result(
            session.journey,
            None,
            Some("no code in the response"),
            &Value::Null,
            &Value::Null,
        );
    };
    match redeem(state, code, &session).await {
        Ok((claims, userinfo)) => {
            let name = userinfo["name"].as_str().map(str::to_owned);
            result(session.journey, name.as_deref(), None, &userinfo, &claims)
        }
        Err(e) => result(session.journey, None, Some(&e), &Value::Null, &Value::Null),
    }
}

async fn redeem(
    state: &AppState,
    code: &str,
    session: &DemoSession,
) -> Result<(Value, Value), String> {
    let redirect_uri = format!("{}/demo/callback", state.config.base());
    let tokens = token_request(
        state,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &session.verifier),
        ],
    )
    .await?
    .map_err(|e| format!("token endpoint said {e}"))?;
    profile(state, &tokens, &session.nonce).await
}

/// A token request with the demo sales unit's credentials: the tokens, or the error body.
async fn token_request(
    state: &AppState,
    form: &[(&str, &str)],
) -> Result<Result<Value, Value>, String> {
    let response = state
        .service
        .http
        .post(format!("{}{}", state.config.base(), paths::TOKEN))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(form)
        .send()
        .await
        .map_err(|e| format!("token request failed: {e}"))?;
    let ok = response.status().is_success();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("token response: {e}"))?;
    Ok(if ok { Ok(body) } else { Err(body) })
}

/// Checks the ID token's nonce and fetches userinfo: (claims, userinfo).
async fn profile(state: &AppState, tokens: &Value, nonce: &str) -> Result<(Value, Value), String> {
    let (Some(access_token), Some(id_token)) =
        (tokens["access_token"].as_str(), tokens["id_token"].as_str())
    else {
        return Err(format!("token endpoint said {tokens}"));
    };
    // The demo shows the claims; the tests and certified clients check the signature.
    let claims: Value = id_token
        .split('.')
        .nth(1)
        .and_then(|payload| URL_SAFE_NO_PAD.decode(payload).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null);
    if claims["nonce"].as_str() != Some(nonce) {
        return Err("the ID token's nonce does not match".into());
    }
    let userinfo: Value = state
        .service
        .http
        .get(format!("{}{}", state.config.base(), paths::USERINFO))
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| format!("userinfo request failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("userinfo response: {e}"))?;
    Ok((claims, userinfo))
}

/// `GET /demo/ciba/start?phone_number=…&binding_message=…&mode=poll|webpage`: the shop's
/// till starts a merchant-initiated login.
async fn start_ciba(state: AppState, uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let get = |name: &str| params.get(name).ok().flatten().unwrap_or("");
    let journey = if get("mode") == "webpage" {
        "ciba_webpage"
    } else {
        "ciba"
    };
    let Some(phone) = nod_core::msisdn::normalize(get("phone_number")) else {
        return result(
            journey,
            None,
            Some("enter a mobile number with country code"),
            &Value::Null,
            &Value::Null,
        );
    };
    let base = state.config.base();
    let nonce = crypto::random_secret();
    let hint = format!("urn:msisdn:{phone}");
    let webpage = format!("{base}/demo/ciba-callback");
    let mut form = vec![
        ("login_hint", hint.as_str()),
        ("scope", "openid name phoneNumber delegatedConsents"),
        ("nonce", nonce.as_str()),
    ];
    let message = get("binding_message").trim().to_ascii_uppercase();
    if !message.is_empty() {
        form.push(("binding_message", message.as_str()));
    }
    if journey == "ciba_webpage" {
        form.push(("requested_flow", "login_to_webpage"));
        form.push(("redirect_uri", webpage.as_str()));
    }
    let response = state
        .service
        .http
        .post(format!("{base}{}", paths::CIBA_START))
        .basic_auth(DEMO_CLIENT_ID, Some(DEMO_CLIENT_SECRET))
        .form(&form)
        .send()
        .await;
    let body: Value = match response {
        Ok(r) => r.json().await.unwrap_or(Value::Null),
        Err(e) => {
            return result(
                journey,
                None,
                Some(&format!("request failed: {e}")),
                &Value::Null,
                &Value::Null,
            );
        }
    };
    let Some(auth_req_id) = body["auth_req_id"].as_str() else {
        let error = format!(
            "{}: {}",
            body["error"].as_str().unwrap_or("error"),
            body["error_description"].as_str().unwrap_or("")
        );
        return result(journey, None, Some(&error), &Value::Null, &Value::Null);
    };
    state.demo.insert(
        auth_req_id.to_owned(),
        DemoSession {
            journey,
            verifier: String::new(),
            nonce,
            created_at: state.now(),
        },
    );
    let id: String = url::form_urlencoded::byte_serialize(auth_req_id.as_bytes()).collect();
    see_other(&format!("/demo/ciba/wait?id={id}"))
}

/// `GET /demo/ciba/wait?id=…`: polls once per visit; the page reloads itself every five
/// seconds (the interval) until the person answered.
async fn wait_ciba(state: AppState, uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let id = params.get("id").ok().flatten().unwrap_or("");
    let Some(session) = state.demo.peek(id) else {
        return result(
            "ciba",
            None,
            Some("unknown or finished login: start again"),
            &Value::Null,
            &Value::Null,
        );
    };
    let waiting = || {
        let mut response = page(
            StatusCode::OK,
            CibaWaitView {
                webpage: session.journey == "ciba_webpage",
            }
            .render(),
        );
        response.headers_mut().insert(
            axum::http::header::REFRESH,
            axum::http::HeaderValue::from_static("5"),
        );
        response
    };
    if session.journey == "ciba_webpage" {
        return waiting();
    }
    match token_request(&state, &[("grant_type", GRANT_CIBA), ("auth_req_id", id)]).await {
        Ok(Ok(tokens)) => {
            state.demo.take(id);
            match profile(&state, &tokens, &session.nonce).await {
                Ok((claims, userinfo)) => {
                    let name = userinfo["name"].as_str().map(str::to_owned);
                    result(session.journey, name.as_deref(), None, &userinfo, &claims)
                }
                Err(e) => result(session.journey, None, Some(&e), &Value::Null, &Value::Null),
            }
        }
        Ok(Err(error))
            if matches!(
                error["error"].as_str(),
                Some("authorization_pending" | "slow_down")
            ) =>
        {
            waiting()
        }
        Ok(Err(error)) => {
            state.demo.take(id);
            let text = format!(
                "{}: {}",
                error["error"].as_str().unwrap_or("error"),
                error["error_description"].as_str().unwrap_or("")
            );
            result(
                session.journey,
                None,
                Some(&text),
                &Value::Null,
                &Value::Null,
            )
        }
        Err(e) => result(session.journey, None, Some(&e), &Value::Null, &Value::Null),
    }
}

/// `GET /demo/ciba-callback?code=…`: login to a web page; the app opened this page.
async fn ciba_callback(state: AppState, uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let Some(code) = params.get("code").ok().flatten() else {
        return result(
            "ciba_webpage",
            None,
            Some("no code in the response"),
            &Value::Null,
            &Value::Null,
        );
    };
    let tokens = match token_request(
        &state,
        &[("grant_type", GRANT_CIBA_REDIRECT), ("code", code)],
    )
    .await
    {
        Ok(Ok(tokens)) => tokens,
        Ok(Err(error)) => {
            return result(
                "ciba_webpage",
                None,
                Some(&format!("token endpoint said {error}")),
                &Value::Null,
                &Value::Null,
            );
        }
        Err(e) => return result("ciba_webpage", None, Some(&e), &Value::Null, &Value::Null),
    };
    // The ID token names the request; its session holds the nonce.
    let auth_req_id = tokens["id_token"]
        .as_str()
        .and_then(|t| t.split('.').nth(1))
        .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .and_then(|c| c["auth_req_id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    let Some(session) = state.demo.take(&auth_req_id) else {
        return result(
            "ciba_webpage",
            None,
            Some("unknown login"),
            &Value::Null,
            &Value::Null,
        );
    };
    match profile(&state, &tokens, &session.nonce).await {
        Ok((claims, userinfo)) => {
            let name = userinfo["name"].as_str().map(str::to_owned);
            result(session.journey, name.as_deref(), None, &userinfo, &claims)
        }
        Err(e) => result(session.journey, None, Some(&e), &Value::Null, &Value::Null),
    }
}

fn result(
    journey: &str,
    name: Option<&str>,
    error: Option<&str>,
    userinfo: &Value,
    claims: &Value,
) -> Response {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    page(
        status,
        DemoResultView {
            journey,
            name,
            error,
            userinfo: &pretty(userinfo),
            claims: &pretty(claims),
        }
        .render(),
    )
}

/// `GET /demo/app-callback?state=…&resume_uri=…`: stands in for the shop's own app, which
/// gets control back after an app-to-app confirmation and opens `resume_uri` in its browser.
async fn get_app_callback(uri: axum::http::Uri) -> Response {
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    match params.get("resume_uri").ok().flatten() {
        Some(resume) if resume.starts_with("http://") || resume.starts_with("https://") => page(
            StatusCode::OK,
            AppCallbackView { resume_uri: resume }.render(),
        ),
        _ => result(
            "app_to_app",
            None,
            Some("no resume_uri"),
            &Value::Null,
            &Value::Null,
        ),
    }
}
