//! Merchant-initiated login (CIBA) on the compatible paths: the backchannel authentication
//! endpoint, `user-exists`, the token endpoint's CIBA grant (poll and ping), and the
//! notification ping-mode clients receive.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use nod_core::ciba;
use nod_core::login::{LoginRequest, Status};
use nod_core::params::Params;
use nod_core::sales_unit::{CibaMode, SalesUnit};
use nod_core::{ErrorCode, OAuthError};
use serde_json::json;

use crate::error::ApiError;
use crate::events::Event;
use crate::extract::FormParams;
use crate::oidc::{Grant, authenticate_client, issue_tokens};
use crate::{AppState, NO_STORE, flow, paths, webhooks};

pub fn router() -> axum::Router<AppState> {
    Router::new()
        .route(paths::CIBA_START, post(start_ciba))
        .route(paths::USER_EXISTS, post(user_exists))
}

/// `POST /vipps-login-ciba/api/backchannel/authentication`.
async fn start_ciba(
    state: AppState,
    headers: HeaderMap,
    FormParams(params): FormParams,
) -> Result<Response, ApiError> {
    let unit = authenticate_client(&state, &headers, &params).await?;
    let request = ciba::validate(&params, &unit)?;
    let user = state
        .store
        .get_user_by_phone(&request.phone_number)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| {
            OAuthError::new(
                ErrorCode::InvalidUser,
                "no active user has this phone number",
            )
        })?;
    let now = state.now();
    // Push-bombing defence: a few pending requests per person at most.
    let pending = state
        .store
        .list_pending_login_requests(user.id, now)
        .await?;
    if pending.len() >= state.config.max_pending_per_user {
        let retry = pending
            .iter()
            .map(|p| p.expires_at - now)
            .min()
            .unwrap_or(30)
            .clamp(1, 900);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            OAuthError::invalid_request(
                "too many login requests are waiting for this person; try again later",
            ),
        )
        .into_response();
        if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let expires_in = request.expires_in;
    let login = request.into_login_request(&unit.client_id, user.id, now);
    state.store.create_login_request(&login).await?;
    state.events.send(Event::LoginSent {
        id: login.id,
        user_id: user.id,
    });
    let auth_req_id = login
        .ciba
        .as_ref()
        .map(|c| c.auth_req_id.clone())
        .unwrap_or_default();
    Ok((
        [NO_STORE],
        axum::Json(json!({ "auth_req_id": auth_req_id, "expires_in": expires_in, "interval": ciba::INTERVAL })),
    )
        .into_response())
}

/// `POST /vipps-login-ciba/api/v1/user-exists`: whether a merchant-initiated login can
/// reach this person.
async fn user_exists(
    state: AppState,
    headers: HeaderMap,
    FormParams(params): FormParams,
) -> Result<Response, ApiError> {
    authenticate_client(&state, &headers, &params).await?;
    let phone = ciba::parse_login_hint(params.require("login_hint")?)?;
    let exists = state
        .store
        .get_user_by_phone(&phone)
        .await?
        .is_some_and(|u| u.active);
    Ok(([NO_STORE], axum::Json(json!({ "exists": exists }))).into_response())
}

/// The token endpoint's `urn:openid:params:grant-type:ciba` grant.
pub async fn redeem_auth_req_id(
    state: &AppState,
    unit: &SalesUnit,
    params: &Params,
) -> Result<Response, ApiError> {
    let auth_req_id = params.require("auth_req_id")?;
    let unknown = || OAuthError::invalid_grant("unknown auth_req_id");
    if auth_req_id.len() > 100 {
        return Err(unknown().into());
    }
    let login = state
        .store
        .get_ciba_request(auth_req_id, &unit.client_id)
        .await?
        .ok_or_else(unknown)?;
    let Some(ciba) = &login.ciba else {
        return Err(unknown().into());
    };
    if !login.redirect_uri.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this request finishes on the web page: redeem its code with grant_type=urn:vipps:params:grant-type:ciba-redirect",
        )
        .into());
    }
    let now = state.now();
    if login.is_expired(now) {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "the request expired before the person answered",
        )
        .into());
    }
    match login.status {
        Status::New | Status::Waiting => {
            state.store.record_poll(login.id, now).await?;
            let too_fast = ciba
                .last_polled_at
                .is_some_and(|last| now - last < ciba::INTERVAL);
            if too_fast && unit.ciba_mode == CibaMode::Poll {
                Err(OAuthError::new(
                    ErrorCode::SlowDown,
                    "polled faster than the interval; wait longer",
                )
                .into())
            } else {
                Err(OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "the person has not answered yet",
                )
                .into())
            }
        }
        Status::Failed => {
            Err(OAuthError::new(ErrorCode::AccessDenied, "the person rejected the login").into())
        }
        Status::Done => {
            Err(OAuthError::invalid_grant("this auth_req_id was already redeemed").into())
        }
        Status::Confirmed => {
            if !state.store.finish_ciba_request(login.id).await? {
                return Err(
                    OAuthError::invalid_grant("this auth_req_id was already redeemed").into(),
                );
            }
            let (Some(user_id), Some(amr)) = (login.user_id, login.amr) else {
                return Err(ApiError::internal(
                    "ciba",
                    &"confirmed request without a user",
                ));
            };
            flow::audit(
                state,
                "login_completed",
                Some(user_id),
                &unit.client_id,
                "merchant_initiated",
            )
            .await;
            let grant = Grant {
                user_id,
                scopes: login.scopes,
                sid: login.id,
                nonce: login.nonce.clone(),
                auth_time: login.auth_time.unwrap_or(now),
                amr,
                acr: None,
                auth_req_id: Some(ciba.auth_req_id.clone()),
                code_hash: None,
            };
            issue_tokens(state, unit, grant).await
        }
    }
}

/// Tells a ping-mode client that the person answered (in the background, with retries).
pub async fn notify(state: &AppState, login: &LoginRequest) {
    let Some(ciba) = &login.ciba else { return };
    if !login.redirect_uri.is_empty() {
        return;
    }
    let unit = match state.store.get_sales_unit(&login.client_id).await {
        Ok(Some(unit)) => unit,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "ping: sales unit lookup failed");
            return;
        }
    };
    if let (CibaMode::Ping, Some(endpoint), Some(token)) = (
        unit.ciba_mode,
        unit.ciba_notification_endpoint,
        ciba.notification_token.clone(),
    ) {
        webhooks::send_with_bearer(
            state.http.clone(),
            endpoint,
            Some(token),
            json!({ "auth_req_id": ciba.auth_req_id }),
        );
    }
}
