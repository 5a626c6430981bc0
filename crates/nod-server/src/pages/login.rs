//! The login page and its steps: phone number or deep link, the number to match, the
//! event stream that moves the waiting page on, continue, resume, restart and cancel.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use futures_util::Stream;
use nod_core::links;
use nod_core::login::{LoginRequest, Status};
use uuid::Uuid;

use super::steps::{expired_page, fail_to_merchant, show_step};
use crate::events::RecvError;
use crate::i18n::{Lang, Texts};
use crate::paths;
use crate::service::{Entry, PhoneOutcome};
use crate::state::AppState;
use crate::web::cookies;
use crate::web::error::PageError;
use crate::web::extract::{BoundLogin, ClientIp, LoginForm, QueryParams, UserAgent};
use crate::web::redirect::see_other;
use crate::web::render::html;

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

/// `GET /login/{id}`: a remembered browser goes straight on; a phone opens the app with a
/// deep link; a desktop browser asks for the phone number.
pub(super) async fn get_login(
    state: AppState,
    lang: Lang,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    BoundLogin(login): BoundLogin,
) -> Result<Response, PageError> {
    let entry = state
        .service
        .enter(
            &login,
            cookies::remember_token(&state.config, &jar),
            links::is_mobile(&agent),
        )
        .await?;
    let t = lang.texts();
    match entry {
        Entry::Expired => expired_page(&state, lang, &login).await,
        Entry::Wait => Ok(see_other(&paths::login_page(login.id, "wait"))),
        Entry::Continue => Ok(see_other(&paths::login_page(login.id, "continue"))),
        Entry::Fail(error) => Ok(fail_to_merchant(&state, lang, &login, &error)),
        Entry::OpenApp { deep_link } => {
            let merchant = state.service.merchant_name(&login.client_id).await?;
            Ok(html(
                StatusCode::OK,
                OpenAppView {
                    t,
                    id: login.id,
                    csrf: &login.csrf_token,
                    merchant: &merchant,
                    deep_link: &deep_link,
                    expires_in: login.expires_at - state.now(),
                }
                .render(),
            ))
        }
        Entry::AskPhone => phone_form(&state, lang, &login, "", false, None).await,
    }
}

/// `POST /login/{id}/phone`: sends the login to the person's app and shows the number.
pub(super) async fn post_phone(
    state: AppState,
    lang: Lang,
    ClientIp(address): ClientIp,
    LoginForm { login, params }: LoginForm,
) -> Result<Response, PageError> {
    if login.is_expired(state.now()) {
        return expired_page(&state, lang, &login).await;
    }
    let typed = params.get("phone_number").ok().flatten().unwrap_or("");
    let remember = params
        .get("remember")
        .ok()
        .flatten()
        .is_some_and(|v| v == "on" || v == "true");
    match state
        .service
        .send_to_phone(&login, typed, remember, address)
        .await?
    {
        PhoneOutcome::Sent => Ok(see_other(&paths::login_page(login.id, "wait"))),
        PhoneOutcome::NotNew => Ok(see_other(&paths::login_page(login.id, ""))),
        problem => phone_form(&state, lang, &login, typed, remember, Some(problem)).await,
    }
}

/// The phone form, again with what was typed when there was a problem.
async fn phone_form(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
    typed: &str,
    remember: bool,
    problem: Option<PhoneOutcome>,
) -> Result<Response, PageError> {
    let merchant = state.service.merchant_name(&login.client_id).await?;
    let shown: String = typed.chars().take(32).collect();
    let status = match problem {
        Some(PhoneOutcome::Invalid) => StatusCode::BAD_REQUEST,
        Some(PhoneOutcome::TooMany) => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
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
            error: problem == Some(PhoneOutcome::Invalid),
            too_many: problem == Some(PhoneOutcome::TooMany),
        }
        .render(),
    ))
}

/// `GET /login/{id}/wait`: the number to pick in the app, until the app answers.
pub(super) async fn get_wait(
    state: AppState,
    lang: Lang,
    BoundLogin(login): BoundLogin,
) -> Result<Response, PageError> {
    let now = state.now();
    if login.is_expired(now) {
        return expired_page(&state, lang, &login).await;
    }
    match (login.status, login.challenge) {
        (Status::Waiting, Some(challenge)) => {
            let merchant = state.service.merchant_name(&login.client_id).await?;
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
        (Status::New | Status::Waiting, _) => Ok(see_other(&paths::login_page(login.id, ""))),
        _ => Ok(see_other(&paths::login_page(login.id, "continue"))),
    }
}

/// `GET /login/{id}/events`: one `continue` event the moment the login moves on.
pub(super) async fn get_login_events(
    state: AppState,
    BoundLogin(login): BoundLogin,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let id = login.id;
    let receiver = state.service.events.login(id);
    let next = paths::login_page(id, "continue");
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
                    let moved_on = state.service.browser_moves_on(id).await;
                    if moved_on {
                        let event = SseEvent::default().event("continue").data(next);
                        return Some((Ok(event), (state, receiver, true)));
                    }
                    tokio::select! {
                        received = receiver.recv() => match received {
                            Ok(_) | Err(RecvError::Lagged(_)) => {}
                            Err(RecvError::Closed) => return None,
                        },
                        _ = tick.tick() => {}
                    }
                }
            }
        },
    );
    // Counted as open until the stream is dropped (the browser went away or it ended).
    let open = crate::metrics::OpenStream::new("browser");
    let stream = futures_util::StreamExt::inspect(stream, move |_| {
        let _ = &open;
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// `GET /login/{id}/continue`: after the app answered: consent if needed, then back to the
/// merchant with a code or an error.
pub(super) async fn get_continue(
    state: AppState,
    lang: Lang,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    BoundLogin(login): BoundLogin,
) -> Result<Response, PageError> {
    let step = state.service.proceed(&login, &agent).await?;
    show_step(&state, lang, jar, &login, step).await
}

/// `GET /login/{id}/resume?token=…`: the merchant's app brings the browser back after an
/// app-to-app confirmation. The token is single use.
pub(super) async fn get_resume(
    state: AppState,
    lang: Lang,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    BoundLogin(login): BoundLogin,
    QueryParams(params): QueryParams,
) -> Result<Response, PageError> {
    let token = params
        .ok()
        .and_then(|p| p.get("token").ok().flatten().map(str::to_owned))
        .unwrap_or_default();
    state.service.resume(&login, &token).await?;
    let step = state.service.proceed(&login, &agent).await?;
    show_step(&state, lang, jar, &login, step).await
}

/// `POST /login/{id}/restart`: a fresh login request with the same parameters.
pub(super) async fn post_restart(
    state: AppState,
    LoginForm { login: old, .. }: LoginForm,
) -> Result<Response, PageError> {
    let fresh = state.service.restart(old).await?;
    Ok(see_other(&paths::login_page(fresh.id, "")))
}

/// `POST /login/{id}/cancel`: back to the merchant with `access_denied`.
pub(super) async fn post_cancel(
    state: AppState,
    lang: Lang,
    LoginForm { login, .. }: LoginForm,
) -> Result<Response, PageError> {
    if login.status == Status::Done {
        return Ok(see_other(&paths::login_page(login.id, "continue")));
    }
    let error = state.service.cancel(&login).await?;
    Ok(fail_to_merchant(&state, lang, &login, &error).into_response())
}
