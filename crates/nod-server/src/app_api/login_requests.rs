//! Login requests in the app: the list, the event stream, opening a deep link, approving
//! and rejecting. The engine decides; these handlers describe and map.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::Response;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use nod_core::login::Kind;
use nod_core::requests::{ApproveRequest, OpenRequest, OutcomeRequest, RejectRequest};
use nod_core::sales_unit::ConsentTexts;
use nod_core::scenario::{self, Outcome};
use nod_core::scope::ScopeSet;
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::device::{DeviceAuth, json_ok};
use crate::events::{LoginEvent, RecvError};
use crate::i18n::Lang;
use crate::openapi::schemas::{self as doc, TEST_MODE};
use crate::service::{AppNext, Approval, OutcomeAnswer, PendingLogin};
use crate::state::AppState;
use crate::web::error::ApiError;
use crate::web::extract::{ApiPath, JsonBody};

#[derive(Serialize)]
struct ScopeView {
    scope: &'static str,
    description: &'static str,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LoginRequest)]
struct LoginRequestView {
    id: Uuid,
    sales_unit_name: String,
    client_id: String,
    /// `browser` or `merchant_initiated`.
    kind: &'static str,
    /// `web`, `app_to_app`, `app_to_app_v2`, `automatic_return_from_vipps_app`,
    /// `login_to_webpage`, …
    flow: &'static str,
    /// Everything the merchant asks for.
    #[schema(value_type = Vec<doc::ScopeDescription>)]
    scopes: Vec<ScopeView>,
    binding_message: Option<String>,
    /// The three numbers to choose from (desktop flow); `null` when there is nothing to match.
    choices: Option<[u8; 3]>,
    /// Whether the person consents in the app (then `consent_scopes` lists what to ask).
    consent_in_app: bool,
    #[schema(value_type = Vec<doc::ScopeDescription>)]
    consent_scopes: Vec<ScopeView>,
    /// The sales unit's consent questions, when it asks for `delegatedConsents`; answer
    /// them in the approval as `delegated_consents`.
    #[schema(value_type = Option<doc::ConsentTexts>)]
    delegated_consents: Option<ConsentTexts>,
    expires_at: i64,
    expires_in: i64,
    /// When the login was started (a browser opened the merchant's login, or the
    /// merchant started it).
    started_at: i64,
    /// The app opened it from a deep link: no number was matched, so the app warns the
    /// person to confirm only a login they started on this phone just now, and the
    /// browser is not remembered.
    opened_from_link: bool,
    /// Test mode only: the outcomes `POST …/{id}/outcome` accepts for this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    test_outcomes: Option<Vec<&'static str>>,
}

fn view(lang: Lang, pending: PendingLogin, now: i64, test_mode: bool) -> LoginRequestView {
    let t = lang.texts();
    let describe = |set: ScopeSet| -> Vec<ScopeView> {
        set.iter()
            .map(|s| ScopeView {
                scope: s.as_str(),
                description: t.scope(s),
            })
            .collect()
    };
    let login = pending.login;
    let test_outcomes = test_mode.then(|| {
        scenario::outcomes_for(&login)
            .into_iter()
            .map(Outcome::as_str)
            .collect()
    });
    LoginRequestView {
        id: login.id,
        sales_unit_name: pending.merchant,
        kind: login.kind.as_str(),
        flow: login.flow.as_str(),
        scopes: describe(login.scopes.consentable()),
        binding_message: login.ciba.and_then(|c| c.binding_message),
        choices: login.choices,
        consent_in_app: !pending.consent_scopes.is_empty(),
        consent_scopes: describe(pending.consent_scopes),
        delegated_consents: pending.delegated,
        expires_at: login.expires_at,
        expires_in: (login.expires_at - now).max(0),
        started_at: login.created_at,
        opened_from_link: login.kind == Kind::Browser && login.challenge.is_none(),
        client_id: login.client_id,
        test_outcomes,
    }
}

#[utoipa::path(
    get,
    path = "/app-api/v1/login-requests",
    tag = "app API",
    responses(
        (status = 200, description = "The pending login requests.", body = doc::LoginRequests),
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `GET /app-api/v1/login-requests`: the requests waiting for this person.
pub(super) async fn list_login_requests(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let now = state.now();
    let views: Vec<_> = state
        .service
        .pending_logins(device.user_id)
        .await?
        .into_iter()
        .map(|p| view(lang, p, now, state.config.test_mode))
        .collect();
    Ok(json_ok(json!({ "login_requests": views })))
}

#[utoipa::path(
    post,
    path = "/app-api/v1/login-requests/open",
    tag = "app API",
    request_body = doc::OpenRequest,
    responses(
        (status = 200, description = "The login request, now this person's.", body = LoginRequestView),
        (status = 403, description = "`access_denied`: the person may not log in (under 15).", body = doc::OAuthErrorBody),
        (status = 404, description = "The ticket is unknown, spent or expired.", body = doc::OAuthErrorBody),
        doc::BadJson,
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `POST /app-api/v1/login-requests/open`: the app opened a deep link; the browser's login
/// request becomes this person's. The ticket works once.
pub(super) async fn open_login_request(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
    JsonBody(body): JsonBody<OpenRequest>,
) -> Result<Response, ApiError> {
    let ticket = body
        .ticket
        .filter(|t| !t.is_empty() && t.len() <= 100)
        .ok_or_else(|| nod_core::OAuthError::invalid_request("ticket is required"))?;
    let pending = state.service.open_ticket(device.user_id, &ticket).await?;
    Ok(json_ok(view(
        lang,
        pending,
        state.now(),
        state.config.test_mode,
    )))
}

#[utoipa::path(
    get,
    path = "/app-api/v1/events",
    tag = "app API",
    responses(
        (status = 200, description = "Server-sent events: `ready`, then `login_request` with `{\"type\":\"new\"|\"closed\"|\"resync\",\"id\"}`.", content_type = "text/event-stream", body = String),
        doc::DeviceUnauthorized,
    ),
    security(("device_token" = [])),
)]
/// `GET /app-api/v1/events`: `login_request` events as requests arrive or close.
pub(super) async fn get_events(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let (user_id, device_id) = (device.user_id, device.id);
    let receiver = state.service.events.user(user_id);
    let ready =
        futures_util::stream::once(async { Ok(SseEvent::default().event("ready").data("{}")) });
    let updates = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        loop {
            let data = match receiver.recv().await {
                Ok(LoginEvent::Sent { id, .. }) => json!({ "type": "new", "id": id }),
                Ok(LoginEvent::Closed { id, .. }) => json!({ "type": "closed", "id": id }),
                Ok(LoginEvent::Changed { .. }) => continue,
                // This app was logged out: its stream ends.
                Ok(LoginEvent::DeviceRevoked {
                    device_id: gone, ..
                }) if gone == device_id => {
                    return None;
                }
                Ok(LoginEvent::DeviceRevoked { .. }) => continue,
                // Some events were missed: the app reloads its list.
                Err(RecvError::Lagged(_)) => json!({ "type": "resync" }),
                Err(RecvError::Closed) => return None,
            };
            let event = SseEvent::default()
                .event("login_request")
                .data(data.to_string());
            return Some((Ok(event), receiver));
        }
    });
    // Counted as open until the stream is dropped (the app went away or was logged out).
    let open = crate::metrics::OpenStream::new("app");
    let stream = futures_util::StreamExt::inspect(
        futures_util::StreamExt::chain(ready, updates),
        move |_| {
            let _ = &open;
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

#[utoipa::path(
    post,
    path = "/app-api/v1/login-requests/{id}/approve",
    tag = "app API",
    params(("id" = uuid::Uuid, Path, description = "The login request's id.")),
    // Optional: an empty body is `{}` (nothing to choose, no consent to give).
    request_body(content = Option<doc::ApproveRequest>),
    responses(
        (status = 200, description = "What the app does next.", body = doc::NextStep),
        (status = 403, description = "`access_denied`: the person may not log in.", body = doc::OAuthErrorBody),
        doc::BadJson,
        doc::LoginRequestErrors,
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `POST /app-api/v1/login-requests/{id}/approve`: confirms, and tells the app what to do
/// next: go back to the browser, or open a URL (app to app, automatic return).
pub(super) async fn approve_login_request(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
    JsonBody(body): JsonBody<ApproveRequest>,
) -> Result<Response, ApiError> {
    let answer = Approval {
        challenge: body.challenge,
        remember_browser: body.remember_browser,
        consent: body.consent,
        delegated_consents: body.delegated_consents,
    };
    let next = state.service.approve(device.user_id, &id, answer).await?;
    Ok(json_ok(next_step(None, next)))
}

/// What the app does next, as the app API says it.
fn next_step(status: Option<&str>, next: AppNext) -> serde_json::Value {
    let mut body = match next {
        AppNext::ReturnToBrowser => json!({ "next": "return_to_browser" }),
        AppNext::OpenUrl(url) => json!({ "next": "open_url", "url": url }),
        AppNext::Done => json!({ "next": "done" }),
    };
    if let Some(status) = status {
        body["status"] = json!(status);
    }
    body
}

#[utoipa::path(
    post,
    path = "/app-api/v1/login-requests/{id}/reject",
    tag = "app API",
    params(("id" = uuid::Uuid, Path, description = "The login request's id.")),
    request_body(content = Option<doc::RejectRequest>),
    responses(
        (status = 200, description = "Rejected (`status` is `rejected`); what the app does next.", body = doc::NextStep),
        doc::BadJson,
        doc::LoginRequestErrors,
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `POST /app-api/v1/login-requests/{id}/reject`.
pub(super) async fn reject_login_request(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
    JsonBody(body): JsonBody<RejectRequest>,
) -> Result<Response, ApiError> {
    let next = state
        .service
        .reject(device.user_id, &id, body.reason.as_deref())
        .await?;
    Ok(json_ok(next_step(Some("rejected"), next)))
}

#[utoipa::path(
    post,
    path = "/app-api/v1/login-requests/{id}/outcome",
    tags = ["app API", TEST_MODE],
    params(("id" = uuid::Uuid, Path, description = "The login request's id.")),
    request_body = doc::OutcomeRequest,
    responses(
        (status = 200, description = "Ended: `status` is `failed` (with `error`) or `expired`.", body = doc::NextStep),
        doc::BadJson,
        doc::LoginRequestErrors,
        doc::DeviceUnauthorized,
        doc::Unavailable,
    ),
    security(("device_token" = [])),
)]
/// `POST /app-api/v1/login-requests/{id}/outcome` (test mode only; the route exists only
/// then): ends the request with a chosen outcome, as the merchant would see it from a
/// real app (docs/app-api.md, docs/testing-your-integration.md).
pub(super) async fn answer_with_outcome(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath,
    JsonBody(body): JsonBody<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let outcome = body
        .outcome
        .ok_or_else(|| nod_core::OAuthError::invalid_request("outcome is required"))?;
    let OutcomeAnswer { error, next } = state
        .service
        .answer_with_outcome(device.user_id, &id, &outcome)
        .await?;
    let mut body = next_step(
        Some(if error.is_some() { "failed" } else { "expired" }),
        next,
    );
    if let Some(error) = error {
        body["error"] = json!(error.as_str());
    }
    Ok(json_ok(body))
}
