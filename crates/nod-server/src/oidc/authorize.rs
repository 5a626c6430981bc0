//! `GET …/oauth2/auth`: validates the request, stores a login request bound to this
//! browser, and sends the browser to the login page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use nod_core::authorize::{self, AuthorizeError};

use crate::i18n::{Lang, Problem};
use crate::paths;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::error::PageError;
use crate::web::extract::QueryParams;
use crate::web::redirect::error_response;
use crate::web::redirect::see_other;

pub(super) async fn authorize(
    state: AppState,
    lang: Lang,
    jar: CookieJar,
    QueryParams(params): QueryParams,
) -> Result<Response, Response> {
    // A malformed query cannot be trusted to name a redirect URI: shown on a page.
    let params = params.map_err(|e| authorize_error(&state, lang, AuthorizeError::Page(e)))?;
    let client_id = authorize::client_id(&params).map_err(|e| authorize_error(&state, lang, e))?;
    let unit = state
        .service
        .store
        .get_sales_unit(client_id)
        .await
        .map_err(|e| PageError::from(e).into_response())?
        .ok_or_else(|| {
            PageError::new(StatusCode::BAD_REQUEST, Problem::UnknownClient).into_response()
        })?;
    let request =
        authorize::validate(&params, &unit).map_err(|e| authorize_error(&state, lang, e))?;
    let (jar, binding) = cookies::browser_binding(&state.config, jar);
    let login = state
        .service
        .start_browser(request, binding)
        .await
        .map_err(|e| PageError::from(e).into_response())?;
    Ok((jar, see_other(&paths::login_page(login.id, ""))).into_response())
}

fn authorize_error(state: &AppState, lang: Lang, error: AuthorizeError) -> Response {
    match error {
        AuthorizeError::Page(e) => PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenLink)
            .with_detail(format!("{}: {}", e.code, e.description))
            .into_response(),
        AuthorizeError::Redirect {
            redirect_uri,
            state: merchant_state,
            response_mode,
            error,
        } => error_response(
            lang,
            &state.config.issuer(),
            &redirect_uri,
            merchant_state.as_deref(),
            response_mode,
            &error,
        ),
    }
}
