//! `POST …/oauth2/token`: the authorization code, CIBA and CIBA-redirect grants; and
//! `POST …/oauth2/revoke` (RFC 7009).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nod_core::grant::CodeGrant;
use nod_core::{ErrorCode, OAuthError};

use crate::openapi::schemas as doc;
use crate::paths::{self, GRANT_AUTHORIZATION_CODE, GRANT_CIBA, GRANT_CIBA_REDIRECT};
use crate::service::TokenResponse;
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::ClientForm;
use crate::web::render::NO_STORE;

#[utoipa::path(
    post,
    path = paths::TOKEN,
    tag = "OpenID Connect",
    params(doc::MerchantSerialNumber),
    request_body(content = doc::TokenForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The tokens.", body = doc::TokenResponse,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        doc::ClientErrors,
    ),
    security(("client_secret_basic" = []), ("client_secret_post" = []), ("merchant_token" = [])),
)]
/// Redeems an authorization code, a CIBA `auth_req_id` or a `ciba-redirect` code.
pub(super) async fn post_token(
    state: AppState,
    ClientForm { unit, params }: ClientForm,
) -> Result<Response, ApiError> {
    let service = &state.service;
    let code_grant = match params.require("grant_type")? {
        GRANT_AUTHORIZATION_CODE => CodeGrant::AuthorizationCode,
        GRANT_CIBA_REDIRECT => CodeGrant::CibaRedirect,
        GRANT_CIBA => {
            let auth_req_id = params.require("auth_req_id")?;
            let tokens = service.redeem_auth_req_id(&unit, auth_req_id).await?;
            return Ok(token_response(tokens));
        }
        _ => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "grant_type must be authorization_code, urn:openid:params:grant-type:ciba or urn:vipps:params:grant-type:ciba-redirect",
            )
            .into());
        }
    };
    let tokens = service
        .redeem_code(
            &unit,
            params.require("code")?,
            code_grant,
            params.get("redirect_uri")?,
            params.get("code_verifier")?,
        )
        .await?;
    Ok(token_response(tokens))
}

#[utoipa::path(
    post,
    path = paths::REVOKE,
    tag = "OpenID Connect",
    params(doc::MerchantSerialNumber),
    request_body(content = doc::RevokeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or there was no such token (RFC 7009 §2.2); no body."),
        doc::ClientErrors,
    ),
    security(("client_secret_basic" = []), ("client_secret_post" = []), ("merchant_token" = [])),
)]
/// `POST …/oauth2/revoke`: revokes an access token; 200 whether or not there was one.
pub(super) async fn post_revoke(
    state: AppState,
    ClientForm { unit, params }: ClientForm,
) -> Result<Response, ApiError> {
    // `token_type_hint` is only a hint (RFC 7009 §2.1): access tokens are all Nod has.
    params.get("token_type_hint")?;
    state
        .service
        .revoke(&unit, params.require("token")?)
        .await?;
    Ok(([NO_STORE], StatusCode::OK).into_response())
}

fn token_response(tokens: TokenResponse) -> Response {
    (
        [
            NO_STORE,
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        axum::Json(tokens),
    )
        .into_response()
}
