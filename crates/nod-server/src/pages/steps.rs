//! What the login pages share: the expired page, errors sent to the merchant, and
//! showing the step of a login the engine decided (consent, back to the merchant with
//! the code and the remember cookie, or an error).

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use nod_core::OAuthError;
use nod_core::authorize::ResponseMode;
use nod_core::links;
use nod_core::login::LoginRequest;
use uuid::Uuid;

use crate::i18n::{Lang, Problem, Texts};
use crate::paths;
use crate::service::{Finished, Step};
use crate::state::AppState;
use crate::web::cookies::{self, Name};
use crate::web::error::PageError;
use crate::web::redirect::{authorization_response, error_response, see_other};
use crate::web::render::{html, render_message};

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredView<'a> {
    t: &'a Texts,
    id: Uuid,
    csrf: &'a str,
    merchant: &'a str,
}

pub(super) async fn expired_page(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
) -> Result<Response, PageError> {
    let merchant = state.service.merchant_name(&login.client_id).await?;
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

/// Sends an error of this login to the merchant.
pub(super) fn fail_to_merchant(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
    error: &OAuthError,
) -> Response {
    error_response(
        lang,
        &state.config.issuer(),
        &login.redirect_uri,
        Some(&login.state),
        login.response_mode,
        error,
    )
}

/// Shows a step of a browser login that the engine decided.
pub(super) async fn show_step(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    login: &LoginRequest,
    step: Step,
) -> Result<Response, PageError> {
    let t = lang.texts();
    match step {
        Step::Expired => expired_page(state, lang, login).await,
        Step::Start => Ok(see_other(&paths::login_page(login.id, ""))),
        Step::Fail(error) => Ok(fail_to_merchant(state, lang, login, &error)),
        Step::FinishedInApp => Ok(render_message(lang, t.done_title, t.done_text, None)),
        Step::AlreadyDone => Err(PageError::new(StatusCode::CONFLICT, Problem::AlreadyDone)),
        Step::AskConsent => Ok(see_other(&paths::login_page(login.id, "consent"))),
        Step::Finished(finished) => back_to_merchant(state, lang, jar, login, finished).await,
    }
}

/// The code goes back to the merchant; the remember cookie is set when asked for.
pub(crate) async fn back_to_merchant(
    state: &AppState,
    lang: Lang,
    jar: CookieJar,
    login: &LoginRequest,
    finished: Finished,
) -> Result<Response, PageError> {
    let mut jar = jar;
    if let Some(token) = &finished.remember_token {
        let days = state.config.remember_days;
        jar = jar.add(cookies::cookie(
            &state.config,
            Name::Remember,
            token.clone(),
            days,
        ));
    }
    let pairs = finished.pairs();
    let response = if login.final_redirect_is_app && login.response_mode == ResponseMode::Query {
        // Browsers may refuse to follow a redirect into an app by themselves: a button does it.
        let url = links::with_params(&login.redirect_uri, &pairs)
            .ok_or_else(|| PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenRedirect))?;
        let t = lang.texts();
        let merchant = state.service.merchant_name(&login.client_id).await?;
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
        authorization_response(lang, &login.redirect_uri, &pairs, login.response_mode)
    };
    Ok((jar, response).into_response())
}
