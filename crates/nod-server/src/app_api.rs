//! The app API (`/app-api/v1`): what the person's phone app uses to register, see login
//! requests as they arrive, and confirm or reject them. Authenticated with the device
//! token as a Bearer token.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::Stream;
use nod_core::crypto;
use nod_core::login::{Amr, Device, LoginRequest};
use nod_core::{ErrorCode, OAuthError, msisdn};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::error::ApiError;
use crate::events::Event;
use crate::extract::{JsonBody, bearer_token};
use crate::pages::audit;
use crate::{AppState, NO_STORE};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app-api/v1/devices", post(register_device))
        .route("/app-api/v1/login-requests", get(list_login_requests))
        .route("/app-api/v1/events", get(get_events))
        .route(
            "/app-api/v1/login-requests/{id}/approve",
            post(approve_login_request),
        )
        .route(
            "/app-api/v1/login-requests/{id}/reject",
            post(reject_login_request),
        )
        .route("/app-api/v1/profile", get(get_profile))
}

/// The device that sent the request, from its Bearer token.
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(&parts.headers)
            .ok_or_else(|| ApiError::invalid_token("a Bearer device token is required"))?;
        state
            .store
            .get_device(&crypto::hash_secret(token))
            .await?
            .map(DeviceAuth)
            .ok_or_else(|| ApiError::invalid_token("unknown device token"))
    }
}

#[derive(Deserialize)]
struct RegisterDeviceRequest {
    phone_number: Option<String>,
    activation_code: Option<String>,
}

#[derive(Serialize)]
struct RegisterDeviceResponse {
    device_id: Uuid,
    device_token: String,
}

/// `POST /app-api/v1/devices`.
async fn register_device(
    state: AppState,
    JsonBody(body): JsonBody<RegisterDeviceRequest>,
) -> Result<Response, ApiError> {
    let typed = body
        .phone_number
        .ok_or_else(|| OAuthError::invalid_request("phone_number is required"))?;
    let phone = msisdn::normalize(&typed)
        .ok_or_else(|| OAuthError::invalid_request("phone_number is not a valid mobile number"))?;
    if !state.config.test_mode {
        // Outside test mode a device needs an activation code, which Nod does not issue yet.
        let _ = body.activation_code;
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            OAuthError::new(
                ErrorCode::AccessDenied,
                "devices register with an activation code outside test mode",
            ),
        ));
    }
    let user = state
        .store
        .get_user_by_phone(&phone)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                OAuthError::new(
                    ErrorCode::InvalidUser,
                    "no active user has this phone number",
                ),
            )
        })?;
    let token = crypto::random_secret();
    let device = Device {
        id: Uuid::new_v4(),
        user_id: user.id,
        created_at: state.now(),
    };
    state
        .store
        .create_device(&device, &crypto::hash_secret(&token))
        .await?;
    audit(&state, "device_registered", Some(user.id), "", "test mode").await;
    Ok((
        StatusCode::CREATED,
        [NO_STORE],
        axum::Json(RegisterDeviceResponse {
            device_id: device.id,
            device_token: token,
        }),
    )
        .into_response())
}

#[derive(Serialize)]
struct ScopeView {
    scope: &'static str,
    description: &'static str,
}

#[derive(Serialize)]
struct LoginRequestView {
    id: Uuid,
    sales_unit_name: String,
    client_id: String,
    kind: &'static str,
    scopes: Vec<ScopeView>,
    binding_message: Option<String>,
    /// The three numbers to choose from (desktop flow).
    choices: Option<[u8; 3]>,
    consent_in_app: bool,
    expires_at: i64,
    expires_in: i64,
}

async fn view(state: &AppState, login: &LoginRequest) -> Result<LoginRequestView, ApiError> {
    let name = state
        .store
        .get_sales_unit(&login.client_id)
        .await?
        .map(|u| u.name)
        .unwrap_or_else(|| login.client_id.clone());
    Ok(LoginRequestView {
        id: login.id,
        sales_unit_name: name,
        client_id: login.client_id.clone(),
        kind: "browser",
        scopes: login
            .scopes
            .consentable()
            .iter()
            .map(|s| ScopeView {
                scope: s.as_str(),
                description: s.describe(),
            })
            .collect(),
        binding_message: None,
        choices: login.choices,
        consent_in_app: false,
        expires_at: login.expires_at,
        expires_in: (login.expires_at - state.now()).max(0),
    })
}

/// `GET /app-api/v1/login-requests`: the requests waiting for this person.
async fn list_login_requests(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let pending = state
        .store
        .list_pending_login_requests(device.user_id, state.now())
        .await?;
    let mut views = Vec::with_capacity(pending.len());
    for login in &pending {
        views.push(view(&state, login).await?);
    }
    Ok(([NO_STORE], axum::Json(json!({ "login_requests": views }))).into_response())
}

/// `GET /app-api/v1/events`: `login_request` events as requests arrive or close.
async fn get_events(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let user_id = device.user_id;
    let receiver = state.events.subscribe();
    let ready =
        futures_util::stream::once(async { Ok(SseEvent::default().event("ready").data("{}")) });
    let updates = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(Event::LoginSent { id, user_id: u }) if u == user_id => {
                    let data = json!({ "type": "new", "id": id }).to_string();
                    return Some((
                        Ok(SseEvent::default().event("login_request").data(data)),
                        receiver,
                    ));
                }
                Ok(Event::LoginClosed { id, user_id: u }) if u == user_id => {
                    let data = json!({ "type": "closed", "id": id }).to_string();
                    return Some((
                        Ok(SseEvent::default().event("login_request").data(data)),
                        receiver,
                    ));
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    // Some events were missed: tell the app to reload its list.
                    let data = json!({ "type": "resync" }).to_string();
                    return Some((
                        Ok(SseEvent::default().event("login_request").data(data)),
                        receiver,
                    ));
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(futures_util::StreamExt::chain(ready, updates))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// A login request of this device's user that the app may still act on.
async fn pending_for(
    state: &AppState,
    device: &Device,
    id: &str,
) -> Result<LoginRequest, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            OAuthError::invalid_request("no such login request"),
        )
    };
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    let login = state
        .store
        .get_login_request(id)
        .await?
        .ok_or_else(not_found)?;
    if login.user_id != Some(device.user_id) {
        return Err(not_found());
    }
    let now = state.now();
    if login.is_expired(now) {
        return Err(ApiError::new(
            StatusCode::GONE,
            OAuthError::new(ErrorCode::ExpiredToken, "the login request has expired"),
        ));
    }
    if !login.is_pending(now) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            OAuthError::invalid_request("the login request was already answered"),
        ));
    }
    Ok(login)
}

#[derive(Deserialize)]
struct ApproveRequest {
    challenge: Option<u8>,
    #[serde(default)]
    remember_browser: bool,
    #[serde(default)]
    #[allow(dead_code)]
    consent: Option<bool>,
}

/// `POST /app-api/v1/login-requests/{id}/approve`.
async fn approve_login_request(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ApproveRequest>,
) -> Result<Response, ApiError> {
    let login = pending_for(&state, &device, &id).await?;
    let now = state.now();
    if let Some(expected) = login.challenge {
        let Some(picked) = body.challenge else {
            return Err(OAuthError::invalid_request(
                "challenge is required: the number the browser shows",
            )
            .into());
        };
        if picked != expected {
            state
                .store
                .fail_login_request(
                    login.id,
                    Some(device.user_id),
                    ErrorCode::WrongChallenge,
                    now,
                )
                .await?;
            notify_closed(&state, &login, device.user_id);
            audit(
                &state,
                "login_wrong_challenge",
                Some(device.user_id),
                &login.client_id,
                "",
            )
            .await;
            return Err(OAuthError::new(
                ErrorCode::WrongChallenge,
                "that is not the number the browser shows; the login is cancelled",
            )
            .into());
        }
    }
    let remember = body.remember_browser || login.remember_browser;
    let expires = now + state.config.login_request_lifetime;
    if !state
        .store
        .confirm_login_request(login.id, device.user_id, Amr::App, remember, now, expires)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            OAuthError::invalid_request("the login request was already answered"),
        ));
    }
    notify_closed(&state, &login, device.user_id);
    audit(
        &state,
        "login_confirmed",
        Some(device.user_id),
        &login.client_id,
        "",
    )
    .await;
    Ok((
        [NO_STORE],
        axum::Json(json!({ "next": "return_to_browser" })),
    )
        .into_response())
}

#[derive(Deserialize)]
struct RejectRequest {
    /// `rejected` (the default), `not_me` or `cancelled`; anything else reaches the
    /// merchant as `unknown_reject_reason`.
    reason: Option<String>,
}

/// `POST /app-api/v1/login-requests/{id}/reject`.
async fn reject_login_request(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RejectRequest>,
) -> Result<Response, ApiError> {
    let login = pending_for(&state, &device, &id).await?;
    // The merchant learns only whether the person said no or the app gave a reason Nod
    // does not know.
    let error = match body.reason.as_deref() {
        None | Some("rejected" | "not_me" | "cancelled") => ErrorCode::AccessDenied,
        Some(_) => ErrorCode::UnknownRejectReason,
    };
    if !state
        .store
        .fail_login_request(login.id, Some(device.user_id), error, state.now())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            OAuthError::invalid_request("the login request was already answered"),
        ));
    }
    notify_closed(&state, &login, device.user_id);
    audit(
        &state,
        "login_rejected",
        Some(device.user_id),
        &login.client_id,
        "",
    )
    .await;
    Ok(([NO_STORE], axum::Json(json!({ "status": "rejected" }))).into_response())
}

fn notify_closed(state: &AppState, login: &LoginRequest, user_id: Uuid) {
    state.events.send(Event::LoginChanged { id: login.id });
    state.events.send(Event::LoginClosed {
        id: login.id,
        user_id,
    });
}

/// `GET /app-api/v1/profile`: the person's own data, with userinfo's field names.
async fn get_profile(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let user = state
        .store
        .get_user(device.user_id)
        .await?
        .ok_or_else(|| ApiError::invalid_token("the user of this device no longer exists"))?;
    let body = json!({
        "phone_number": user.phone_number,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "name": user.name(),
        "email": user.email,
        "birthdate": user.birthdate,
        "nin": user.nin,
        "addresses": user.addresses,
    });
    Ok(([NO_STORE], axum::Json(body)).into_response())
}
