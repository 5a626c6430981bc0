//! Redirects: `303 See Other`, and the authorization response sent back to the merchant's
//! redirect URI (a `303` with the parameters in the query, or a self-submitting form).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nod_core::OAuthError;
use nod_core::authorize::ResponseMode;
use nod_core::links;

use crate::i18n::{Lang, Problem};
use crate::web::error::PageError;
use crate::web::render::{NO_STORE, render_form_post};

/// `303 See Other` to a location.
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(header::LOCATION, value)]).into_response(),
        Err(_) => PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenRedirect).into_response(),
    }
}

/// The authorization response (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode).
pub(crate) fn authorization_response(
    lang: Lang,
    redirect_uri: &str,
    params: &[(&str, &str)],
    mode: ResponseMode,
) -> Response {
    match mode {
        ResponseMode::Query => {
            let Some(url) = links::with_params(redirect_uri, params) else {
                return PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenRedirect)
                    .into_response();
            };
            ([NO_STORE], see_other(&url)).into_response()
        }
        ResponseMode::FormPost => render_form_post(lang, redirect_uri, params),
    }
}

/// Sends an error to the merchant's redirect URI, with `state` and `iss` (RFC 9207).
pub(crate) fn error_response(
    lang: Lang,
    issuer: &str,
    redirect_uri: &str,
    state: Option<&str>,
    mode: ResponseMode,
    error: &OAuthError,
) -> Response {
    let mut params = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_ref()),
    ];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    authorization_response(lang, redirect_uri, &params, mode)
}
