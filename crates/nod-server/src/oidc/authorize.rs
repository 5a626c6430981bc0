//! `GET …/oauth2/auth`: validates the request, stores a login request bound to this
//! browser, and sends the browser to the login page. A partner's request naming the
//! merchant by `msn` is first sent to the same URL with the merchant's `client_id`.

use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use nod_core::authorize::{self, AuthorizeError};
use nod_core::partner;

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
    RawQuery(raw_query): RawQuery,
    QueryParams(params): QueryParams,
) -> Result<Response, Response> {
    // A malformed query cannot be trusted to name a redirect URI: shown on a page.
    let params = params.map_err(|e| authorize_error(&state, lang, AuthorizeError::Page(e)))?;
    let page = |e| authorize_error(&state, lang, AuthorizeError::Page(e));
    // Partner keys: `msn` instead of `client_id` names the merchant; the browser is sent
    // to the same request with its `client_id` (never to a redirect URI before that).
    let msn = params.get_bounded("msn", 100).map_err(page)?;
    if let (Some(msn), None) = (msn, params.get("client_id").map_err(page)?) {
        let unit = state
            .service
            .sales_unit_for_msn(msn)
            .await
            .map_err(|e| PageError::from(e).into_response())?
            .map_err(|why| {
                PageError::new(StatusCode::BAD_REQUEST, Problem::UnknownClient)
                    .with_detail(why)
                    .into_response()
            })?;
        let query = partner::replace_msn(raw_query.as_deref().unwrap_or(""), &unit.client_id);
        return Ok(see_other(&format!("{}?{query}", paths::AUTHORIZE)));
    }
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
    // Both `client_id` and `msn`: they must name the same sales unit.
    if msn.is_some() && msn != unit.msn.as_deref() {
        return Err(PageError::new(StatusCode::BAD_REQUEST, Problem::BrokenLink)
            .with_detail("msn is not the merchant serial number of the sales unit client_id names")
            .into_response());
    }
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
