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
use crate::openapi::schemas::{self as doc, TEST_MODE};
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, ClientIp, JsonBody};
use crate::web::render::NO_STORE;

#[derive(Serialize, utoipa::ToSchema)]
struct RegisterDeviceResponse {
    device_id: Uuid,
    device_token: String,
}

#[utoipa::path(
    post,
    path = "/app-api/v1/devices",
    tag = "app API",
    request_body = doc::RegisterDeviceRequest,
    responses(
        (status = 201, description = "Registered.", body = RegisterDeviceResponse),
        (status = 403, description = "`access_denied`: a wrong, used or expired activation code, or an unknown number.", body = doc::OAuthErrorBody),
        (status = 404, description = "`invalid_user`: test mode, no active user has this number.", body = doc::OAuthErrorBody),
        doc::BadJson,
        doc::TooMany,
        doc::Unavailable,
    ),
    security(()),
)]
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
            body.name.as_deref(),
            address,
        )
        .await?;
    let body = RegisterDeviceResponse {
        device_id: device.device_id,
        device_token: device.device_token,
    };
    Ok((StatusCode::CREATED, [NO_STORE], axum::Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = "/app-api/v1/test-users",
    tags = ["app API", TEST_MODE],
    responses(
        (status = 200, description = "The active test users.", body = doc::TestUsers),
        doc::Unavailable,
    ),
    security(()),
)]
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

#[utoipa::path(
    get,
    path = "/app-api/v1/profile",
    tag = "app API",
    responses(
        (status = 200, description = "The person's data.", body = doc::Profile),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
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

#[utoipa::path(
    get,
    path = "/app-api/v1/consents",
    tag = "app API",
    responses(
        (status = 200, description = "The consents given.", body = doc::Consents),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
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

#[utoipa::path(
    delete,
    path = "/app-api/v1/consents/{client_id}",
    tag = "app API",
    params(("client_id" = String, Path, description = "The sales unit's client id.")),
    responses(
        (status = 204, description = "Revoked."),
        (status = 404, description = "No consent to this sales unit.", body = doc::OAuthErrorBody),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
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

#[utoipa::path(
    get,
    path = "/app-api/v1/browsers",
    tag = "app API",
    responses(
        (status = 200, description = "The remembered browsers.", body = doc::Browsers),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `GET /app-api/v1/browsers`: the browsers this person is remembered in.
pub(super) async fn list_browsers(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let browsers = state.service.browsers(device.user_id).await?;
    Ok(json_ok(json!({ "browsers": browsers })))
}

#[utoipa::path(
    delete,
    path = "/app-api/v1/browsers/{id}",
    tag = "app API",
    params(("id" = Uuid, Path, description = "The browser's id.")),
    responses(
        (status = 204, description = "Logged out."),
        (status = 404, description = "No such browser of this person.", body = doc::OAuthErrorBody),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `DELETE /app-api/v1/browsers/{id}`: logs a browser out; it needs the app again.
pub(super) async fn forget_browser(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    state.service.forget_browser(device.user_id, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// One of the person's registered apps, as listed.
#[derive(Serialize)]
struct DeviceView {
    id: Uuid,
    name: Option<String>,
    created_at: i64,
    /// To the day.
    last_used_at: i64,
    /// Its token stops working then unless the app is used before.
    expires_at: i64,
    /// The app that asks.
    current: bool,
}

#[utoipa::path(
    get,
    path = "/app-api/v1/devices",
    tag = "app API",
    responses(
        (status = 200, description = "The person's registered apps, newest first.", body = doc::Devices),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `GET /app-api/v1/devices`: the person's registered apps, newest first.
pub(super) async fn list_devices(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let devices: Vec<_> = state
        .service
        .devices(device.user_id)
        .await?
        .into_iter()
        .map(|d| DeviceView {
            current: d.id == device.id,
            id: d.id,
            name: d.name,
            created_at: d.created_at,
            last_used_at: d.last_used_at,
            expires_at: d.expires_at,
        })
        .collect();
    Ok(json_ok(json!({ "devices": devices })))
}

#[utoipa::path(
    delete,
    path = "/app-api/v1/devices/{id}",
    tag = "app API",
    params(("id" = Uuid, Path, description = "The app's id.")),
    responses(
        (status = 204, description = "Logged out: its token is refused at once."),
        (status = 404, description = "No such app of this person.", body = doc::OAuthErrorBody),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `DELETE /app-api/v1/devices/{id}`: logs an app out (a lost phone): its token stops
/// working at once. The app may log itself out too.
pub(super) async fn revoke_device(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
) -> Result<Response, ApiError> {
    state
        .service
        .revoke_device(device.user_id, &id, "app")
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
