//! The login pages a person sees in the browser: phone number, the number to match while
//! the app is asked, consent, expiry and errors; and the steps that finish a browser login.
//!
//! Every login request is bound to the browser that started it (a random `nod_bid`
//! cookie, stored hashed on the request), every form carries the request's CSRF token,
//! and the remember cookie holds a random token the server can revoke.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use futures_util::Stream;
use nod_core::authorize::{ACR_APP_AUTH, Prompt};
use nod_core::crypto;
use nod_core::grant::AuthCode;
use nod_core::login::{self, Amr, LoginRequest, RememberedBrowser, Status};
use nod_core::scope::ScopeSet;
use nod_core::{ErrorCode, OAuthError, msisdn};
use nod_store::AuditEvent;
use uuid::Uuid;

use crate::config::ServerConfig;
use crate::error::PageError;
use crate::events::Event;
use crate::extract::FormParams;
use crate::{AppState, NO_STORE, oidc};

const BINDING_COOKIE: &str = "nod_bid";
const REMEMBER_COOKIE: &str = "nod_remember";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{id}", get(get_login))
        .route("/login/{id}/phone", post(post_phone))
        .route("/login/{id}/wait", get(get_wait))
        .route("/login/{id}/events", get(get_login_events))
        .route("/login/{id}/continue", get(get_continue))
        .route("/login/{id}/consent", get(get_consent).post(post_consent))
        .route("/login/{id}/restart", post(post_restart))
        .route("/login/{id}/cancel", post(post_cancel))
        .route(
            "/static/nod.css",
            get(|| static_file("text/css", include_str!("../static/nod.css"))),
        )
        .route(
            "/static/nod.js",
            get(|| static_file("text/javascript", include_str!("../static/nod.js"))),
        )
}

async fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

// ---- views -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorView<'a> {
    title: &'a str,
    message: &'a str,
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhoneView<'a> {
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    phone: &'a str,
    remember: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "wait.html")]
struct WaitView<'a> {
    id: Uuid,
    merchant: &'a str,
    challenge: u8,
    expires_in: i64,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentView<'a> {
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    items: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredView<'a> {
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostView<'a> {
    action: &'a str,
    fields: &'a [(&'a str, &'a str)],
}

fn html(status: StatusCode, rendered: Result<String, askama::Error>) -> Response {
    match rendered {
        Ok(body) => (status, [NO_STORE], Html(body)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

pub fn render_error_page(status: StatusCode, title: &str, message: &str) -> Response {
    html(status, ErrorView { title, message }.render())
}

pub fn render_form_post(action: &str, fields: &[(&str, &str)]) -> Response {
    html(StatusCode::OK, FormPostView { action, fields }.render())
}

/// `303 See Other` to a location.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => render_error_page(
            StatusCode::BAD_REQUEST,
            "Broken redirect",
            "The return address is not valid.",
        ),
    }
}

// ---- cookies and binding ----------------------------------------------------------

fn cookie(
    config: &ServerConfig,
    name: &'static str,
    value: String,
    max_age_days: i64,
) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .secure(config.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::days(max_age_days))
        .build()
}

/// The hash of this browser's binding cookie, setting a new cookie if it has none.
pub fn browser_binding(config: &ServerConfig, jar: CookieJar) -> (CookieJar, Vec<u8>) {
    if let Some(existing) = jar
        .get(BINDING_COOKIE)
        .map(|c| c.value())
        .filter(|v| v.len() == 43)
    {
        let hash = crypto::hash_secret(existing).to_vec();
        return (jar, hash);
    }
    let value = crypto::random_secret();
    let hash = crypto::hash_secret(&value).to_vec();
    (jar.add(cookie(config, BINDING_COOKIE, value, 400)), hash)
}

/// Loads a login request and checks that this browser started it.
async fn load_bound(
    state: &AppState,
    id: &str,
    jar: &CookieJar,
) -> Result<LoginRequest, PageError> {
    let id = Uuid::parse_str(id).map_err(|_| PageError::not_found())?;
    let login = state
        .store
        .get_login_request(id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let bound = jar
        .get(BINDING_COOKIE)
        .is_some_and(|c| crypto::verify_secret(c.value(), &login.browser_binding));
    if !bound {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Wrong browser",
            "This login was started in another browser. Go back to the shop and start the login again here.",
        ));
    }
    Ok(login)
}

fn check_csrf(login: &LoginRequest, params: &nod_core::params::Params) -> Result<(), PageError> {
    let sent = params.get("csrf").ok().flatten().unwrap_or("");
    if sent.is_empty() || sent != login.csrf_token {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Form expired",
            "This form is no longer valid. Go back and try again.",
        ));
    }
    Ok(())
}

async fn merchant_name(state: &AppState, client_id: &str) -> Result<String, PageError> {
    Ok(state
        .store
        .get_sales_unit(client_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_else(|| client_id.to_owned()))
}

fn login_url(id: Uuid, step: &str) -> String {
    if step.is_empty() {
        format!("/login/{id}")
    } else {
        format!("/login/{id}/{step}")
    }
}

// ---- handlers ---------------------------------------------------------------------

/// `GET /login/{id}`: a remembered browser goes straight on; otherwise the phone form.
async fn get_login(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, &login).await;
    }
    match login.status {
        Status::New => {}
        Status::Waiting => return Ok(see_other(&login_url(login.id, "wait"))),
        Status::Confirmed | Status::Done | Status::Failed => {
            return Ok(see_other(&login_url(login.id, "continue")));
        }
    }
    if !login.acr_app_auth
        && login.prompt != Prompt::Login
        && let Some(browser) = remembered_browser(&state, &jar, now).await?
    {
        let expires = now + state.config.login_request_lifetime;
        if state
            .store
            .confirm_login_request(
                login.id,
                browser.user_id,
                Amr::RememberedBrowser,
                false,
                now,
                expires,
            )
            .await?
        {
            return Ok(see_other(&login_url(login.id, "continue")));
        }
    }
    if login.prompt == Prompt::None {
        return fail_to_merchant(
            &state,
            &login,
            ErrorCode::LoginRequired,
            "the user must confirm the login in the app",
        )
        .await;
    }
    let merchant = merchant_name(&state, &login.client_id).await?;
    Ok(html(
        StatusCode::OK,
        PhoneView {
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
            phone: "",
            remember: false,
            error: None,
        }
        .render(),
    ))
}

async fn remembered_browser(
    state: &AppState,
    jar: &CookieJar,
    now: i64,
) -> Result<Option<RememberedBrowser>, PageError> {
    match jar
        .get(REMEMBER_COOKIE)
        .map(|c| c.value())
        .filter(|v| v.len() == 43)
    {
        Some(token) => Ok(state
            .store
            .use_browser(&crypto::hash_secret(token), now)
            .await?),
        None => Ok(None),
    }
}

/// `POST /login/{id}/phone`: sends the login to the person's app and shows the number.
async fn post_phone(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, &login).await;
    }
    if login.status != Status::New {
        return Ok(see_other(&login_url(login.id, "")));
    }
    let typed = params.get("phone_number").ok().flatten().unwrap_or("");
    let remember = params
        .get("remember")
        .ok()
        .flatten()
        .is_some_and(|v| v == "on" || v == "true");
    let Some(phone) = msisdn::normalize(typed) else {
        let merchant = merchant_name(&state, &login.client_id).await?;
        let shown: String = typed.chars().take(32).collect();
        return Ok(html(
            StatusCode::BAD_REQUEST,
            PhoneView {
                id: login.id,
                csrf: &login.csrf_token,
                merchant: &merchant,
                phone: &shown,
                remember,
                error: Some("Enter a mobile number with country code, for example +47 912 34 567."),
            }
            .render(),
        ));
    };
    // An unknown number looks the same from outside: the request waits and expires.
    let user = state
        .store
        .get_user_by_phone(&phone)
        .await?
        .filter(|u| u.active);
    let user_id = user.as_ref().map(|u| u.id);
    let (challenge, choices) = login::new_challenge();
    let sent = state
        .store
        .send_login_request(login.id, user_id, challenge, choices, remember, now)
        .await?;
    if sent && let Some(user_id) = user_id {
        state.events.send(Event::LoginSent {
            id: login.id,
            user_id,
        });
    }
    Ok(see_other(&login_url(login.id, "wait")))
}

/// `GET /login/{id}/wait`: the number to pick in the app, until the app answers.
async fn get_wait(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, &login).await;
    }
    match (login.status, login.challenge) {
        (Status::Waiting, Some(challenge)) => {
            let merchant = merchant_name(&state, &login.client_id).await?;
            Ok(html(
                StatusCode::OK,
                WaitView {
                    id: login.id,
                    merchant: &merchant,
                    challenge,
                    expires_in: login.expires_at - now,
                }
                .render(),
            ))
        }
        (Status::New, _) => Ok(see_other(&login_url(login.id, ""))),
        _ => Ok(see_other(&login_url(login.id, "continue"))),
    }
}

/// `GET /login/{id}/events`: one `continue` event the moment the login moves on.
async fn get_login_events(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let id = login.id;
    let receiver = state.events.subscribe();
    let next = login_url(id, "continue");
    let stream = futures_util::stream::unfold(
        (state, receiver, false),
        move |(state, mut receiver, finished)| {
            let next = next.clone();
            async move {
                if finished {
                    return None;
                }
                let mut tick = tokio::time::interval(Duration::from_secs(2));
                loop {
                    // Check the stored state first: it is the truth; events only wake us.
                    let moved_on = match state.store.get_login_request(id).await {
                        Ok(Some(l)) => l.status != Status::Waiting || l.is_expired(state.now()),
                        Ok(None) => true,
                        Err(_) => false,
                    };
                    if moved_on {
                        let event = SseEvent::default().event("continue").data(next);
                        return Some((Ok(event), (state, receiver, true)));
                    }
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Ok(Event::LoginChanged { id: changed }) if changed == id => {}
                            Ok(_) => continue,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = tick.tick() => {}
                    }
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// `GET /login/{id}/continue`: after the app answered: consent if needed, then back to the
/// merchant with a code or an error.
async fn get_continue(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, &login).await;
    }
    match login.status {
        Status::New | Status::Waiting => Ok(see_other(&login_url(login.id, ""))),
        Status::Failed => {
            let code = login.error.unwrap_or(ErrorCode::AccessDenied);
            Ok(oidc::error_response(
                &state.config,
                &login.redirect_uri,
                Some(&login.state),
                login.response_mode,
                &OAuthError::new(code, failure_description(code)),
            ))
        }
        Status::Done => Err(PageError::new(
            StatusCode::CONFLICT,
            "Already logged in",
            "This login is complete. Go back to the shop to continue.",
        )),
        Status::Confirmed => {
            let missing = missing_consent(&state, &login).await?;
            if missing.is_empty() {
                finish(&state, jar, &login).await
            } else if login.prompt == Prompt::None {
                fail_to_merchant(
                    &state,
                    &login,
                    ErrorCode::ConsentRequired,
                    "the user has not consented to these scopes",
                )
                .await
            } else {
                Ok(see_other(&login_url(login.id, "consent")))
            }
        }
    }
}

fn failure_description(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::WrongChallenge => "the user picked the wrong number in the app",
        ErrorCode::AccessDenied => "the user rejected the login",
        ErrorCode::LoginRequired => "the user must confirm the login in the app",
        ErrorCode::ConsentRequired => "the user has not consented to these scopes",
        ErrorCode::UnknownRejectReason => {
            "the login was rejected in the app for a reason Nod does not know"
        }
        _ => "the login failed",
    }
}

async fn missing_consent(state: &AppState, login: &LoginRequest) -> Result<ScopeSet, PageError> {
    let Some(user_id) = login.user_id else {
        return Ok(login.scopes.consentable());
    };
    let given = state.store.get_consent(user_id, &login.client_id).await?;
    Ok(login::missing_consent(
        login.scopes,
        given.as_ref(),
        login.prompt,
    ))
}

/// `GET /login/{id}/consent`.
async fn get_consent(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    if login.is_expired(state.now()) {
        return expired_page(&state, &login).await;
    }
    if login.status != Status::Confirmed {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    let missing = missing_consent(&state, &login).await?;
    if missing.is_empty() {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    let merchant = merchant_name(&state, &login.client_id).await?;
    Ok(html(
        StatusCode::OK,
        ConsentView {
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
            items: missing.iter().map(|s| s.describe()).collect(),
        }
        .render(),
    ))
}

/// `POST /login/{id}/consent`: `decision=accept` shares the data; anything else cancels.
async fn post_consent(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, &login).await;
    }
    let (Status::Confirmed, Some(user_id)) = (login.status, login.user_id) else {
        return Ok(see_other(&login_url(login.id, "continue")));
    };
    match params.get("decision").ok().flatten() {
        Some("accept") => {
            let scopes = login.scopes.consentable();
            state
                .store
                .grant_consent(user_id, &login.client_id, scopes, now)
                .await?;
            audit(
                &state,
                "consent_given",
                Some(user_id),
                &login.client_id,
                &scopes.to_string(),
            )
            .await;
            finish(&state, jar, &login).await
        }
        _ => {
            fail_to_merchant(
                &state,
                &login,
                ErrorCode::AccessDenied,
                "the user did not consent",
            )
            .await
        }
    }
}

/// `POST /login/{id}/restart`: a fresh login request with the same parameters.
async fn post_restart(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let old = load_bound(&state, &id, &jar).await?;
    check_csrf(&old, &params)?;
    let now = state.now();
    let fresh = LoginRequest {
        id: Uuid::new_v4(),
        csrf_token: crypto::random_secret(),
        status: Status::New,
        user_id: None,
        challenge: None,
        choices: None,
        remember_browser: false,
        amr: None,
        error: None,
        created_at: now,
        expires_at: now + state.config.login_request_lifetime,
        auth_time: None,
        ..old
    };
    state.store.create_login_request(&fresh).await?;
    Ok(see_other(&login_url(fresh.id, "")))
}

/// `POST /login/{id}/cancel`: back to the merchant with `access_denied`.
async fn post_cancel(
    state: AppState,
    jar: CookieJar,
    Path(id): Path<String>,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    if matches!(login.status, Status::Done) {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    // An expired request cannot change any more; it is simply reported.
    state
        .store
        .fail_login_request(login.id, None, ErrorCode::AccessDenied, state.now())
        .await?;
    Ok(oidc::error_response(
        &state.config,
        &login.redirect_uri,
        Some(&login.state),
        login.response_mode,
        &OAuthError::new(ErrorCode::AccessDenied, "the user cancelled the login"),
    ))
}

async fn expired_page(state: &AppState, login: &LoginRequest) -> Result<Response, PageError> {
    let merchant = merchant_name(state, &login.client_id).await?;
    Ok(html(
        StatusCode::OK,
        ExpiredView {
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
        }
        .render(),
    ))
}

async fn fail_to_merchant(
    state: &AppState,
    login: &LoginRequest,
    code: ErrorCode,
    description: &'static str,
) -> Result<Response, PageError> {
    state
        .store
        .fail_login_request(login.id, None, code, state.now())
        .await?;
    state.events.send(Event::LoginChanged { id: login.id });
    if let Some(user_id) = login.user_id {
        state.events.send(Event::LoginClosed {
            id: login.id,
            user_id,
        });
    }
    Ok(oidc::error_response(
        &state.config,
        &login.redirect_uri,
        Some(&login.state),
        login.response_mode,
        &OAuthError::new(code, description),
    ))
}

/// Issues the code and sends the browser back to the merchant; remembers the browser
/// when the person asked for it in the app.
async fn finish(
    state: &AppState,
    jar: CookieJar,
    login: &LoginRequest,
) -> Result<Response, PageError> {
    let (Some(user_id), Some(amr)) = (login.user_id, login.amr) else {
        return Err(PageError::not_found());
    };
    let now = state.now();
    let code = crypto::random_secret();
    let record = AuthCode {
        code_hash: crypto::hash_secret(&code).to_vec(),
        client_id: login.client_id.clone(),
        user_id,
        redirect_uri: Some(login.redirect_uri.clone()),
        scopes: login.scopes,
        nonce: login.nonce.clone(),
        code_challenge: login.code_challenge.clone(),
        code_challenge_method: login.code_challenge_method,
        sid: login.id,
        auth_time: login.auth_time.unwrap_or(now),
        amr,
        acr: (login.acr_app_auth && amr == Amr::App).then(|| ACR_APP_AUTH.to_owned()),
        auth_req_id: None,
        expires_at: now + state.config.code_lifetime,
    };
    if !state
        .store
        .complete_login_request(login.id, &record)
        .await?
    {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    state.events.send(Event::LoginChanged { id: login.id });
    let mut jar = jar;
    if login.remember_browser && amr == Amr::App {
        let token = crypto::random_secret();
        let days = state.config.remember_days;
        let browser = RememberedBrowser {
            id: Uuid::new_v4(),
            user_id,
            label: "Web browser".into(),
            created_at: now,
            last_used_at: now,
            expires_at: now + days * 86_400,
        };
        state
            .store
            .create_browser(&browser, &crypto::hash_secret(&token))
            .await?;
        audit(
            state,
            "browser_remembered",
            Some(user_id),
            &login.client_id,
            "",
        )
        .await;
        jar = jar.add(cookie(&state.config, REMEMBER_COOKIE, token, days));
    }
    audit(
        state,
        "login_completed",
        Some(user_id),
        &login.client_id,
        amr.as_str(),
    )
    .await;
    let issuer = state.config.issuer();
    let scope = login.scopes.to_string();
    let params = [
        ("code", code.as_str()),
        ("state", login.state.as_str()),
        ("scope", scope.as_str()),
        ("iss", issuer.as_str()),
    ];
    Ok((
        jar,
        oidc::authorization_response(&login.redirect_uri, &params, login.response_mode),
    )
        .into_response())
}

/// Records a security event; a failure to record is logged, not shown.
pub(crate) async fn audit(
    state: &AppState,
    event: &str,
    user_id: Option<Uuid>,
    client_id: &str,
    detail: &str,
) {
    let entry = AuditEvent {
        at: state.now(),
        event,
        user_id,
        client_id: Some(client_id),
        detail,
    };
    if let Err(e) = state.store.record_audit(&entry).await {
        tracing::warn!(error = %e, event, "audit log write failed");
    }
}
