//! The consent page: the sales unit's name and the data it asks for, in words; accept
//! or cancel.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use nod_core::login::Status;
use uuid::Uuid;

use super::steps::{expired_page, fail_to_merchant, show_step};
use crate::i18n::{Lang, Texts};
use crate::paths;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::extract::{BoundLogin, LoginForm, UserAgent};
use crate::web::redirect::see_other;
use crate::web::render::html;

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
    items: Vec<&'static str>,
}

/// `GET /login/{id}/consent`.
pub(super) async fn get_consent(
    state: AppState,
    lang: Lang,
    BoundLogin(login): BoundLogin,
) -> Result<Response, PageError> {
    if login.is_expired(state.now()) {
        return expired_page(&state, lang, &login).await;
    }
    let missing = state.service.missing_consent(&login).await?;
    if login.status != Status::Confirmed || missing.is_empty() {
        return Ok(see_other(&paths::login_page(login.id, "continue")));
    }
    let merchant = state.service.merchant_name(&login.client_id).await?;
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
pub(super) async fn post_consent(
    state: AppState,
    lang: Lang,
    UserAgent(agent): UserAgent,
    jar: CookieJar,
    LoginForm { login, params }: LoginForm,
) -> Result<Response, PageError> {
    if login.is_expired(state.now()) {
        return expired_page(&state, lang, &login).await;
    }
    if login.status != Status::Confirmed {
        return Ok(see_other(&paths::login_page(login.id, "continue")));
    }
    if params.get("decision").ok().flatten() == Some("accept") {
        let step = state.service.accept_consent(&login, &agent).await?;
        return show_step(&state, lang, jar, &login, step).await;
    }
    let error = state.service.refuse_consent(&login).await?;
    Ok(fail_to_merchant(&state, lang, &login, &error))
}
