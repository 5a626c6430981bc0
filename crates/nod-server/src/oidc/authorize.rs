//! `GET …/oauth2/auth`: validates the request, stores a login request bound to this
//! browser, and sends the browser to the login page; a remembered browser whose person
//! has consented goes straight back to the merchant with the code. A partner's request naming the
//! merchant by `msn` is first sent to the same URL with the merchant's `client_id`.

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use nod_core::authorize::AuthorizeError;

use crate::i18n::{Lang, Problem};
use crate::openapi::schemas as doc;
use crate::pages::back_to_merchant;
use crate::paths;
use crate::service::Authorized;
use crate::state::AppState;
use crate::web::cookies;
use crate::web::error::PageError;
use crate::web::extract::{ClientIp, QueryParams};
use crate::web::redirect::error_response;
use crate::web::redirect::see_other;

#[utoipa::path(
    get,
    path = paths::AUTHORIZE,
    tag = "OpenID Connect",
    params(doc::AuthorizeQuery),
    responses(
        (status = 303, description = "To the login page, or back to the redirect URI with `code`, `state`, `scope` and `iss` (or `error`, `error_description`, `state`, `iss`).",
            headers(("Location" = String))),
        (status = 200, description = "`response_mode=form_post`: a page that posts the answer to the redirect URI.", content_type = "text/html", body = String),
        (status = 400, description = "An error page (never a redirect): an unknown `client_id`, a `redirect_uri` that is not registered, a malformed query.", content_type = "text/html", body = String),
        (status = 429, description = "An error page: this address started too many logins this minute.", content_type = "text/html", body = String,
            headers(("Retry-After" = i64, description = "Seconds to wait."))),
        (status = 503, description = "An error page: the database is busy or unreachable.", content_type = "text/html", body = String,
            headers(("Retry-After" = i64, description = "Seconds to wait."))),
    ),
    security(()),
)]
/// Starts a login (OpenID Connect Core §3.1.2).
pub(super) async fn authorize(
    state: AppState,
    lang: Lang,
    jar: CookieJar,
    ClientIp(address): ClientIp,
    RawQuery(raw_query): RawQuery,
    QueryParams(params): QueryParams,
) -> Response {
    // Every login started stores a login request: one address starts a bounded number.
    if !state.service.authorize_limiter.allow(address, state.now()) {
        return PageError::new(StatusCode::TOO_MANY_REQUESTS, Problem::TooManyLogins)
            .into_response();
    }
    // A malformed query cannot be trusted to name a redirect URI: shown on a page.
    let params = match params {
        Ok(params) => params,
        Err(e) => return authorize_error(&state, lang, AuthorizeError::Page(e)),
    };
    let (jar, binding) = cookies::browser_binding(&state.config, &state.service.binding_key, jar);
    let raw_query = raw_query.as_deref().unwrap_or("");
    let remember_token = cookies::remember_token(&state.config, &jar);
    match state
        .service
        .authorize(&params, raw_query, binding, remember_token)
        .await
    {
        Ok(Authorized::Rewritten(query)) => see_other(&format!("{}?{query}", paths::AUTHORIZE)),
        Ok(Authorized::Started(id)) => (jar, see_other(&paths::login_page(id, ""))).into_response(),
        Ok(Authorized::Finished(finished)) => {
            let (login, finished) = *finished;
            back_to_merchant(&state, lang, jar, &login, finished)
                .await
                .into_response()
        }
        Ok(Authorized::UnknownClient(why)) => {
            let page = PageError::new(StatusCode::BAD_REQUEST, Problem::UnknownClient);
            match why {
                Some(why) => page.with_detail(why),
                None => page,
            }
            .into_response()
        }
        Ok(Authorized::Refused(e)) => authorize_error(&state, lang, e),
        Err(e) => PageError::from(e).into_response(),
    }
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
