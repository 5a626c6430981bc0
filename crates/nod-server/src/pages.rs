//! The login pages a person sees in the browser: phone number (desktop), the deep link
//! that opens the app (phone), the number to match while the app is asked, consent,
//! expiry and errors; and the steps that finish a browser login.
//!
//! Every login request is bound to the browser that started it (a random `nod_bid`
//! cookie, stored hashed on the request), every form carries the request's CSRF token,
//! and the remember cookie holds a random token the server can revoke.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use futures_util::Stream;
use nod_core::authorize::{Flow, Prompt};
use nod_core::crypto;
use nod_core::login::{self, Amr, LoginRequest, RememberedBrowser, Status};
use nod_core::params::Params;
use nod_core::{ErrorCode, OAuthError, msisdn};
use uuid::Uuid;

use crate::config::ServerConfig;
use crate::error::PageError;
use crate::events::Event;
use crate::extract::FormParams;
use crate::flow::{self, audit};
use crate::i18n::{Lang, Problem, Texts};
use crate::ratelimit::ClientIp;
use crate::{AppState, NO_STORE, oidc};

const BINDING_COOKIE: &str = "nod_bid";
pub const REMEMBER_COOKIE: &str = "nod_remember";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/{id}", get(get_login))
        .route("/login/{id}/phone", post(post_phone))
        .route("/login/{id}/wait", get(get_wait))
        .route("/login/{id}/events", get(get_login_events))
        .route("/login/{id}/continue", get(get_continue))
        .route("/login/{id}/resume", get(get_resume))
        .route("/login/{id}/consent", get(get_consent).post(post_consent))
        .route("/login/{id}/restart", post(post_restart))
        .route("/login/{id}/cancel", post(post_cancel))
        .route("/", get(get_home))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/static/nod.css",
            get(|| static_file("text/css", include_str!("../static/nod.css"))),
        )
        .route(
            "/static/nod.js",
            get(|| static_file("text/javascript", include_str!("../static/nod.js"))),
        )
}

pub(crate) async fn static_file(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
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
    t: &'a Texts,
    title: &'a str,
    message: &'a str,
    detail: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhoneView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    phone: &'a str,
    remember: bool,
    error: bool,
    too_many: bool,
}

#[derive(Template)]
#[template(path = "open_app.html")]
struct OpenAppView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    deep_link: &'a str,
    expires_in: i64,
}

#[derive(Template)]
#[template(path = "wait.html")]
struct WaitView<'a> {
    t: &'a Texts,
    id: Uuid,
    merchant: &'a str,
    challenge: u8,
    expires_in: i64,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    items: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessageView<'a> {
    t: &'a Texts,
    title: &'a str,
    message: &'a str,
    link: Option<(&'a str, &'a str)>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomeView<'a> {
    t: &'a Texts,
    test_mode: bool,
}

async fn get_home(state: AppState, lang: Lang) -> Response {
    html(
        StatusCode::OK,
        HomeView {
            t: lang.texts(),
            test_mode: state.config.test_mode,
        }
        .render(),
    )
}

/// Any other path: Nod's "not found" page, in the browser's language.
pub async fn not_found() -> PageError {
    PageError::not_found()
}

#[derive(Template)]
#[template(path = "form_post.html")]
struct FormPostView<'a> {
    t: &'a Texts,
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

pub fn render_error_page(
    status: StatusCode,
    lang: Lang,
    problem: Problem,
    detail: Option<&str>,
) -> Response {
    let t = lang.texts();
    let (title, message) = t.problem(problem);
    html(
        status,
        ErrorView {
            t,
            title,
            message,
            detail,
        }
        .render(),
    )
}

pub fn render_form_post(lang: Lang, action: &str, fields: &[(&str, &str)]) -> Response {
    html(
        StatusCode::OK,
        FormPostView {
            t: lang.texts(),
            action,
            fields,
        }
        .render(),
    )
}

fn render_message(lang: Lang, title: &str, message: &str, link: Option<(&str, &str)>) -> Response {
    html(
        StatusCode::OK,
        MessageView {
            t: lang.texts(),
            title,
            message,
            link,
        }
        .render(),
    )
}

/// `303 See Other` to a location.
pub fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenRedirect).into_response(),
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
        return Err(PageError::new(StatusCode::FORBIDDEN, Problem::WrongBrowser));
    }
    Ok(login)
}

/// The login id of a page's path; a malformed path is the "login not found" page, not
/// axum's plain-text rejection.
pub struct LoginId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for LoginId {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        <Path<String> as axum::extract::FromRequestParts<S>>::from_request_parts(parts, state)
            .await
            .map(|Path(id)| LoginId(id))
            .map_err(|_| PageError::not_found())
    }
}

fn check_csrf(login: &LoginRequest, params: &Params) -> Result<(), PageError> {
    let sent = params.get("csrf").ok().flatten().unwrap_or("");
    if sent.is_empty() || !crypto::verify_secret(sent, &crypto::hash_secret(&login.csrf_token)) {
        return Err(PageError::new(StatusCode::FORBIDDEN, Problem::FormExpired));
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

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

// ---- handlers ---------------------------------------------------------------------

/// `GET /login/{id}`: a remembered browser goes straight on; a phone opens the app with a
/// deep link; a desktop browser asks for the phone number.
async fn get_login(
    state: AppState,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    LoginId(id): LoginId,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, lang, &login).await;
    }
    match login.status {
        Status::New => {}
        Status::Waiting if login.challenge.is_some() => {
            return Ok(see_other(&login_url(login.id, "wait")));
        }
        Status::Waiting => {}
        Status::Confirmed | Status::Done | Status::Failed => {
            return Ok(see_other(&login_url(login.id, "continue")));
        }
    }
    if login.status == Status::New
        && !login.acr_app_auth
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
        return fail_to_merchant(&state, lang, &login, ErrorCode::LoginRequired).await;
    }
    let merchant = merchant_name(&state, &login.client_id).await?;
    let t = lang.texts();
    if login.flow != Flow::Web || flow::is_mobile(user_agent(&headers)) {
        // A new ticket each time the page is shown; only the latest one opens the request.
        let ticket = crypto::random_secret();
        if login.status == Status::New {
            state
                .store
                .set_login_ticket(login.id, &crypto::hash_secret(&ticket), now)
                .await?;
        }
        let deep_link = flow::deep_link(&state.config, &ticket);
        return Ok(html(
            StatusCode::OK,
            OpenAppView {
                t,
                id: login.id,
                csrf: &login.csrf_token,
                merchant: &merchant,
                deep_link: &deep_link,
                expires_in: login.expires_at - now,
            }
            .render(),
        ));
    }
    Ok(html(
        StatusCode::OK,
        PhoneView {
            t,
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
            phone: "",
            remember: false,
            error: false,
            too_many: false,
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
    lang: Lang,
    ClientIp(address): ClientIp,
    jar: CookieJar,
    LoginId(id): LoginId,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, lang, &login).await;
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
    if !state.phone_limiter.allow(address, now) {
        return phone_form_again(&state, lang, &login, typed, remember, PhoneProblem::TooMany)
            .await;
    }
    let Some(phone) = msisdn::normalize(typed) else {
        return phone_form_again(&state, lang, &login, typed, remember, PhoneProblem::Invalid)
            .await;
    };
    // An unknown number looks the same from outside: the request waits and expires.
    let user = state
        .store
        .get_user_by_phone(&phone)
        .await?
        .filter(|u| u.active);
    let user_id = user.as_ref().map(|u| u.id);
    let (challenge, choices) = login::new_challenge();
    let limit = i64::try_from(state.config.max_pending_per_user).unwrap_or(i64::MAX);
    let phone_hash = crypto::hash_secret(&phone);
    let sent = state
        .store
        .send_login_request(
            login.id,
            &phone_hash,
            limit,
            user_id,
            challenge,
            choices,
            remember,
            now,
        )
        .await?;
    if sent {
        if let Some(user_id) = user_id {
            state.events.send(Event::LoginSent {
                id: login.id,
                user_id,
            });
        }
    } else if state
        .store
        .get_login_request(login.id)
        .await?
        .is_some_and(|l| l.status == Status::New)
    {
        // Still new: the number has too many logins waiting (known or not, the same answer).
        return phone_form_again(&state, lang, &login, typed, remember, PhoneProblem::TooMany)
            .await;
    }
    Ok(see_other(&login_url(login.id, "wait")))
}

/// Why the phone form is shown again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PhoneProblem {
    Invalid,
    TooMany,
}

async fn phone_form_again(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
    typed: &str,
    remember: bool,
    problem: PhoneProblem,
) -> Result<Response, PageError> {
    let merchant = merchant_name(state, &login.client_id).await?;
    let shown: String = typed.chars().take(32).collect();
    let status = match problem {
        PhoneProblem::Invalid => StatusCode::BAD_REQUEST,
        PhoneProblem::TooMany => StatusCode::TOO_MANY_REQUESTS,
    };
    Ok(html(
        status,
        PhoneView {
            t: lang.texts(),
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
            phone: &shown,
            remember,
            error: problem == PhoneProblem::Invalid,
            too_many: problem == PhoneProblem::TooMany,
        }
        .render(),
    ))
}

/// `GET /login/{id}/wait`: the number to pick in the app, until the app answers.
async fn get_wait(
    state: AppState,
    lang: Lang,
    jar: CookieJar,
    LoginId(id): LoginId,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, lang, &login).await;
    }
    match (login.status, login.challenge) {
        (Status::Waiting, Some(challenge)) => {
            let merchant = merchant_name(&state, &login.client_id).await?;
            Ok(html(
                StatusCode::OK,
                WaitView {
                    t: lang.texts(),
                    id: login.id,
                    merchant: &merchant,
                    challenge,
                    expires_in: login.expires_at - now,
                }
                .render(),
            ))
        }
        (Status::New | Status::Waiting, _) => Ok(see_other(&login_url(login.id, ""))),
        _ => Ok(see_other(&login_url(login.id, "continue"))),
    }
}

/// Whether the waiting browser should move on: the app answered, or time ran out. In the
/// app-to-app flow the merchant's app resumes the browser instead.
fn browser_moves_on(login: &LoginRequest, now: i64) -> bool {
    match login.status {
        Status::Failed => true,
        _ if login.is_expired(now) => true,
        Status::New | Status::Waiting => false,
        Status::Confirmed | Status::Done => login.flow != Flow::AppToApp,
    }
}

/// `GET /login/{id}/events`: one `continue` event the moment the login moves on.
async fn get_login_events(
    state: AppState,
    jar: CookieJar,
    LoginId(id): LoginId,
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
                    // The stored state is the truth; events only wake us early.
                    let moved_on = match state.store.get_login_request(id).await {
                        Ok(Some(l)) => browser_moves_on(&l, state.now()),
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
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    LoginId(id): LoginId,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    proceed(&state, lang, &headers, jar, &login).await
}

/// `GET /login/{id}/resume?token=…`: the merchant's app brings the browser back after an
/// app-to-app confirmation. The token is single use.
async fn get_resume(
    state: AppState,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    LoginId(id): LoginId,
    uri: axum::http::Uri,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    let params = Params::parse(uri.query().unwrap_or("").as_bytes()).map_err(|_| bad_resume())?;
    let token = params.get("token").ok().flatten().ok_or_else(bad_resume)?;
    if !state
        .store
        .take_resume_token(login.id, &crypto::hash_secret(token))
        .await?
    {
        return Err(bad_resume());
    }
    proceed(&state, lang, &headers, jar, &login).await
}

fn bad_resume() -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, Problem::BadResumeLink)
}

/// Where a login goes from here.
async fn proceed(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    jar: CookieJar,
    login: &LoginRequest,
) -> Result<Response, PageError> {
    let t = lang.texts();
    if login.is_expired(state.now()) {
        return expired_page(state, lang, login).await;
    }
    match login.status {
        Status::New | Status::Waiting => Ok(see_other(&login_url(login.id, ""))),
        Status::Failed => {
            let code = login.error.unwrap_or(ErrorCode::AccessDenied);
            Ok(oidc::error_response(
                lang,
                &state.config,
                &login.redirect_uri,
                Some(&login.state),
                login.response_mode,
                &OAuthError::new(code, failure_description(code)),
            ))
        }
        // The app finished it (app-to-app v2, automatic return): nothing left to do here.
        Status::Done if login.finishes_in_app() => {
            Ok(render_message(lang, t.done_title, t.done_text, None))
        }
        Status::Done => Err(PageError::new(StatusCode::CONFLICT, Problem::AlreadyDone)),
        Status::Confirmed => {
            let missing = flow::missing_consent(state, login).await?;
            if missing.is_empty() {
                finish(state, lang, headers, jar, login).await
            } else if login.prompt == Prompt::None {
                fail_to_merchant(state, lang, login, ErrorCode::ConsentRequired).await
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

/// `GET /login/{id}/consent`.
async fn get_consent(
    state: AppState,
    lang: Lang,
    jar: CookieJar,
    LoginId(id): LoginId,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    if login.is_expired(state.now()) {
        return expired_page(&state, lang, &login).await;
    }
    if login.status != Status::Confirmed {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    let missing = flow::missing_consent(&state, &login).await?;
    if missing.is_empty() {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    let merchant = merchant_name(&state, &login.client_id).await?;
    let t = lang.texts();
    Ok(html(
        StatusCode::OK,
        ConsentView {
            t,
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
            items: missing.iter().map(|s| t.scope(s)).collect(),
        }
        .render(),
    ))
}

/// `POST /login/{id}/consent`: `decision=accept` shares the data; anything else cancels.
async fn post_consent(
    state: AppState,
    lang: Lang,
    headers: HeaderMap,
    jar: CookieJar,
    LoginId(id): LoginId,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, lang, &login).await;
    }
    let (Status::Confirmed, Some(user_id)) = (login.status, login.user_id) else {
        return Ok(see_other(&login_url(login.id, "continue")));
    };
    match params.get("decision").ok().flatten() {
        Some("accept") => {
            flow::grant_consent(&state, &login, user_id, now).await?;
            finish(&state, lang, &headers, jar, &login).await
        }
        _ => fail_to_merchant(&state, lang, &login, ErrorCode::AccessDenied).await,
    }
}

/// `POST /login/{id}/restart`: a fresh login request with the same parameters.
async fn post_restart(
    state: AppState,
    jar: CookieJar,
    LoginId(id): LoginId,
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
    lang: Lang,
    jar: CookieJar,
    LoginId(id): LoginId,
    FormParams(params): FormParams,
) -> Result<Response, PageError> {
    let login = load_bound(&state, &id, &jar).await?;
    check_csrf(&login, &params)?;
    if login.status == Status::Done {
        return Ok(see_other(&login_url(login.id, "continue")));
    }
    // An expired request cannot change any more; it is simply reported.
    state
        .store
        .fail_login_request(login.id, None, ErrorCode::AccessDenied, state.now())
        .await?;
    notify_failed(&state, &login);
    Ok(oidc::error_response(
        lang,
        &state.config,
        &login.redirect_uri,
        Some(&login.state),
        login.response_mode,
        &OAuthError::new(ErrorCode::AccessDenied, "the user cancelled the login"),
    ))
}

async fn expired_page(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
) -> Result<Response, PageError> {
    let merchant = merchant_name(state, &login.client_id).await?;
    Ok(html(
        StatusCode::OK,
        ExpiredView {
            t: lang.texts(),
            id: login.id,
            csrf: &login.csrf_token,
            merchant: &merchant,
        }
        .render(),
    ))
}

fn notify_failed(state: &AppState, login: &LoginRequest) {
    state.events.send(Event::LoginChanged { id: login.id });
    if let Some(user_id) = login.user_id {
        state.events.send(Event::LoginClosed {
            id: login.id,
            user_id,
        });
    }
}

async fn fail_to_merchant(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
    code: ErrorCode,
) -> Result<Response, PageError> {
    state
        .store
        .fail_login_request(login.id, None, code, state.now())
        .await?;
    notify_failed(state, login);
    Ok(oidc::error_response(
        lang,
        &state.config,
        &login.redirect_uri,
        Some(&login.state),
        login.response_mode,
        &OAuthError::new(code, failure_description(code)),
    ))
}

/// Issues the code and sends the browser back to the merchant; remembers the browser when
/// the person asked for it.
async fn finish(
    state: &AppState,
    lang: Lang,
    headers: &HeaderMap,
    jar: CookieJar,
    login: &LoginRequest,
) -> Result<Response, PageError> {
    let Some(success) = flow::issue_code(state, login).await? else {
        return Ok(see_other(&login_url(login.id, "continue")));
    };
    let mut jar = jar;
    if let (true, Some(Amr::App), Some(user_id)) =
        (login.remember_browser, login.amr, login.user_id)
    {
        let now = state.now();
        let token = crypto::random_secret();
        let days = state.config.remember_days;
        let browser = RememberedBrowser {
            id: Uuid::new_v4(),
            user_id,
            label: flow::browser_label(user_agent(headers)),
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
    let pairs = success.pairs();
    let response = if login.final_redirect_is_app
        && login.response_mode == nod_core::authorize::ResponseMode::Query
    {
        // Browsers may refuse to follow a redirect into an app by themselves: a button does it.
        let Some(url) = flow::url_with_params(&login.redirect_uri, &pairs) else {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                Problem::BrokenRedirect,
            ));
        };
        let t = lang.texts();
        let merchant = merchant_name(state, &login.client_id).await?;
        let label = format!("{} {merchant}", t.return_to);
        let mut page = render_message(
            lang,
            t.back_to_app_title,
            t.back_to_app_text,
            Some((&url, &label)),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("0;url={url}")) {
            page.headers_mut().insert(header::REFRESH, value);
        }
        page
    } else {
        oidc::authorization_response(lang, &login.redirect_uri, &pairs, login.response_mode)
    };
    Ok((jar, response).into_response())
}
