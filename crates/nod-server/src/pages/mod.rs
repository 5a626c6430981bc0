//! The login pages a person sees in the browser: phone number (desktop), the deep link
//! that opens the app (phone), the number to match while the app is asked, consent,
//! expiry and errors. Every login request is bound to the browser that started it
//! ([`BoundLogin`](crate::web::extract::BoundLogin)), every form carries the request's
//! CSRF token, and the remember cookie holds a random token the server can revoke.
//! The handlers ask the engine what happens and render its answer.

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

use crate::i18n::{Lang, Texts};
use crate::paths;
use crate::state::AppState;
use crate::web::error::PageError;
use crate::web::render::{html, static_file};

mod consent;
mod login;
mod steps;

pub(crate) use steps::back_to_merchant;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(paths::LOGIN, get(login::get_login))
        .route(paths::LOGIN_PHONE, post(login::post_phone))
        .route(paths::LOGIN_WAIT, get(login::get_wait))
        .route(paths::LOGIN_EVENTS, get(login::get_login_events))
        .route(paths::LOGIN_CONTINUE, get(login::get_continue))
        .route(paths::LOGIN_RESUME, get(login::get_resume))
        .route(
            paths::LOGIN_CONSENT,
            get(consent::get_consent).post(consent::post_consent),
        )
        .route(paths::LOGIN_RESTART, post(login::post_restart))
        .route(paths::LOGIN_CANCEL, post(login::post_cancel))
        .route("/", get(get_home))
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/static/nod.css",
            get(|| static_file("text/css", include_str!("../../static/nod.css"))),
        )
        .route(
            "/static/nod.js",
            get(|| static_file("text/javascript", include_str!("../../static/nod.js"))),
        )
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
pub(crate) async fn not_found() -> PageError {
    PageError::not_found()
}
