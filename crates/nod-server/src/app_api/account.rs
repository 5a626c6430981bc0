//! The person's own things: registering the app, the profile, consents and remembered
//! browsers (and, in test mode, the users a test app may pretend to be).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nod_core::requests::RegisterDeviceRequest;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::device::{DeviceAuth, json_ok};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, ClientIp, JsonBody};
use crate::web::render::NO_STORE;

#[derive(Serialize)]
struct RegisterDeviceResponse {
    device_id: Uuid,
    device_token: String,
}

/// `POST /app-api/v1/devices`: in test mode any test user's number registers; otherwise
/// the number and an activation code from `nod user activation-code`.
pub(super) async fn register_device(
    state: AppState,
    ClientIp(address): ClientIp,
    JsonBody(body): JsonBody<RegisterDeviceRequest>,
) -> Result<Response, ApiError> {
    let device = state
        .service
        .register_device(
            body.phone_number.as_deref(),
            body.activation_code.as_deref(),
            address,
        )
        .await?;
    let body = RegisterDeviceResponse {
        device_id: device.device_id,
        device_token: device.device_token,
    };
    Ok((StatusCode::CREATED, [NO_STORE], axum::Json(body)).into_response())
}

/// `GET /app-api/v1/test-users`: in test mode only, the users a test app may pretend to be.
pub(super) async fn list_test_users(state: AppState) -> Result<Response, ApiError> {
    let now = state.now();
    let users: Vec<_> = state
        .service
        .test_users()
        .await?
        .iter()
        .map(|u| {
            json!({
                "phone_number": u.phone_number,
                "name": u.name(),
                "country": u.addresses.first().map(|a| a.country.as_str()),
                // What makes a special demo user special.
                "may_log_in": u.may_log_in(now),
                "email_verified": u.email_verified,
                "has_address": !u.addresses.is_empty(),
            })
        })
        .collect();
    Ok(json_ok(json!({ "users": users })))
}

/// `GET /app-api/v1/profile`: the person's own data, with userinfo's field names.
pub(super) async fn get_profile(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let user = state.service.profile(device.user_id).await?;
    Ok(json_ok(json!({
        "phone_number": user.phone_number,
        "given_name": user.given_name,
        "family_name": user.family_name,
        "name": user.name(),
        "email": user.email,
        "birthdate": user.birthdate,
        "nin": user.nin,
        "addresses": user.addresses,
    })))
}

/// `GET /app-api/v1/consents`: the sales units this person shares data with.
pub(super) async fn list_consents(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let t = lang.texts();
    let consents: Vec<_> = state
        .service
        .consents(device.user_id)
        .await?
        .into_iter()
        .map(|(consent, name)| {
            let scopes: Vec<_> = consent
                .scopes
                .iter()
                .map(|s| json!({ "scope": s.as_str(), "description": t.scope(s) }))
                .collect();
            json!({
                "client_id": consent.client_id,
                "sales_unit_name": name,
                "scopes": scopes,
                "granted_at": consent.granted_at,
            })
        })
        .collect();
    Ok(json_ok(json!({ "consents": consents })))
}

/// `DELETE /app-api/v1/consents/{client_id}`: revokes; the next login asks again, and the
/// sales unit's webhook hears `CONSENT_REVOKED`.
pub(super) async fn revoke_consent(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(client_id): ApiPath,
) -> Result<Response, ApiError> {
    state
        .service
        .revoke_consent(device.user_id, &client_id)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /app-api/v1/browsers`: the browsers this person is remembered in.
pub(super) async fn list_browsers(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let browsers = state.service.browsers(device.user_id).await?;
    Ok(json_ok(json!({ "browsers": browsers })))
}

/// `DELETE /app-api/v1/browsers/{id}`: logs a browser out; it needs the app again.
pub(super) async fn forget_browser(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    state.service.forget_browser(device.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
