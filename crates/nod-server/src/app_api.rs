//! The app API (`/app-api/v1`): what the person's phone app uses to register, see login
//! requests as they arrive, open deep links, confirm or reject, and manage consents and
//! remembered browsers. Authenticated with the device token as a Bearer token.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use futures_util::Stream;
use nod_core::authorize::Flow;
use nod_core::crypto;
use nod_core::login::{Amr, Device, Kind, LoginRequest};
use nod_core::sales_unit::ConsentTexts;
use nod_core::scope::Scope;
use nod_core::{ErrorCode, OAuthError, msisdn};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::error::ApiError;
use crate::events::Event;
use crate::extract::{JsonBody, bearer_token};
use crate::flow::{self, audit};
use crate::i18n::Lang;
use crate::ratelimit::ClientIp;
use crate::{AppState, NO_STORE, webhooks};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app-api/v1/devices", post(register_device))
        .route("/app-api/v1/test-users", get(list_test_users))
        .route("/app-api/v1/login-requests", get(list_login_requests))
        .route("/app-api/v1/login-requests/open", post(open_login_request))
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
        .route("/app-api/v1/consents", get(list_consents))
        .route("/app-api/v1/consents/{client_id}", delete(revoke_consent))
        .route("/app-api/v1/browsers", get(list_browsers))
        .route("/app-api/v1/browsers/{id}", delete(forget_browser))
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

/// A path parameter; a malformed one (say, invalid UTF-8) is a JSON 404.
pub struct PathParam(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathParam {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| PathParam(value))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    OAuthError::invalid_request("no such resource"),
                )
            })
    }
}

fn json_ok<T: Serialize>(body: T) -> Response {
    ([NO_STORE], axum::Json(body)).into_response()
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        OAuthError::invalid_request("no such login request"),
    )
}

fn conflict() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        OAuthError::invalid_request("the login request was already answered"),
    )
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

/// `POST /app-api/v1/devices`: in test mode any test user's number registers; otherwise
/// the number and an activation code from `nod user activation-code`.
async fn register_device(
    state: AppState,
    ClientIp(address): ClientIp,
    JsonBody(body): JsonBody<RegisterDeviceRequest>,
) -> Result<Response, ApiError> {
    let typed = body
        .phone_number
        .ok_or_else(|| OAuthError::invalid_request("phone_number is required"))?;
    let phone = msisdn::normalize(&typed)
        .ok_or_else(|| OAuthError::invalid_request("phone_number is not a valid mobile number"))?;
    let now = state.now();
    let user = state
        .store
        .get_user_by_phone(&phone)
        .await?
        .filter(|u| u.active);
    let user = if state.config.test_mode {
        user.ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                OAuthError::new(
                    ErrorCode::InvalidUser,
                    "no active user has this phone number",
                ),
            )
        })?
    } else {
        let code = body
            .activation_code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("activation_code is required"))?;
        // The same answer for a wrong code and an unknown number: nothing to probe.
        let refused = || {
            ApiError::new(
                StatusCode::FORBIDDEN,
                OAuthError::new(
                    ErrorCode::AccessDenied,
                    "the activation code is wrong, used or expired",
                ),
            )
        };
        if !state.phone_limiter.allow(address, now) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                OAuthError::invalid_request("too many attempts from this address; wait a minute"),
            ));
        }
        let code = crypto::normalize_activation_code(code).ok_or_else(refused)?;
        let user = user.ok_or_else(refused)?;
        if !state
            .store
            .consume_activation_code(user.id, &crypto::hash_secret(&code), now)
            .await?
        {
            return Err(refused());
        }
        user
    };
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
    let how = if state.config.test_mode {
        "test mode"
    } else {
        "activation code"
    };
    audit(&state, "device_registered", Some(user.id), "", how).await;
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

/// `GET /app-api/v1/test-users`: in test mode only, the users a test app may pretend to be.
async fn list_test_users(state: AppState) -> Result<Response, ApiError> {
    if !state.config.test_mode {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            OAuthError::invalid_request("only in test mode"),
        ));
    }
    let users = state.store.list_users(100, 0).await?;
    let users: Vec<_> = users
        .iter()
        .filter(|u| u.active)
        .map(|u| {
            json!({
                "phone_number": u.phone_number,
                "name": u.name(),
                "country": u.addresses.first().map(|a| a.country.as_str()),
            })
        })
        .collect();
    Ok(json_ok(json!({ "users": users })))
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
    flow: &'static str,
    /// Everything the merchant asks for.
    scopes: Vec<ScopeView>,
    binding_message: Option<String>,
    /// The three numbers to choose from (desktop flow); `null` when there is nothing to match.
    choices: Option<[u8; 3]>,
    /// Whether the person consents in the app (then `consent_scopes` lists what to ask).
    consent_in_app: bool,
    consent_scopes: Vec<ScopeView>,
    /// The sales unit's consent questions, when it asks for `delegatedConsents`; answer
    /// them in the approval as `delegated_consents`.
    delegated_consents: Option<ConsentTexts>,
    expires_at: i64,
    expires_in: i64,
}

async fn view(
    state: &AppState,
    lang: Lang,
    login: &LoginRequest,
) -> Result<LoginRequestView, ApiError> {
    let t = lang.texts();
    let unit = state.store.get_sales_unit(&login.client_id).await?;
    let delegated_consents = unit
        .as_ref()
        .and_then(|u| u.consent_texts.clone())
        .filter(|_| login.scopes.contains(Scope::DelegatedConsents));
    let name = unit
        .map(|u| u.name)
        .unwrap_or_else(|| login.client_id.clone());
    let describe = |set: nod_core::scope::ScopeSet| -> Vec<ScopeView> {
        set.iter()
            .map(|s| ScopeView {
                scope: s.as_str(),
                description: t.scope(s),
            })
            .collect()
    };
    let consent_in_app = login.consent_in_app();
    let consent_scopes = if consent_in_app {
        describe(flow::missing_consent(state, login).await?)
    } else {
        Vec::new()
    };
    Ok(LoginRequestView {
        id: login.id,
        sales_unit_name: name,
        client_id: login.client_id.clone(),
        kind: login.kind.as_str(),
        flow: login.flow.as_str(),
        scopes: describe(login.scopes.consentable()),
        binding_message: login.ciba.as_ref().and_then(|c| c.binding_message.clone()),
        choices: login.choices,
        consent_in_app: consent_in_app && !consent_scopes.is_empty(),
        consent_scopes,
        delegated_consents,
        expires_at: login.expires_at,
        expires_in: (login.expires_at - state.now()).max(0),
    })
}

/// `GET /app-api/v1/login-requests`: the requests waiting for this person.
async fn list_login_requests(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let pending = state
        .store
        .list_pending_login_requests(device.user_id, state.now())
        .await?;
    let mut views = Vec::with_capacity(pending.len());
    for login in &pending {
        views.push(view(&state, lang, login).await?);
    }
    Ok(json_ok(json!({ "login_requests": views })))
}

#[derive(Deserialize)]
struct OpenRequest {
    ticket: Option<String>,
}

/// `POST /app-api/v1/login-requests/open`: the app opened a deep link; the browser's login
/// request becomes this person's. The ticket works once.
async fn open_login_request(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
    JsonBody(body): JsonBody<OpenRequest>,
) -> Result<Response, ApiError> {
    let ticket = body
        .ticket
        .filter(|t| !t.is_empty() && t.len() <= 100)
        .ok_or_else(|| OAuthError::invalid_request("ticket is required"))?;
    let login = state
        .store
        .open_login_ticket(&crypto::hash_secret(&ticket), device.user_id, state.now())
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                OAuthError::invalid_request("the link is unknown, already used or expired"),
            )
        })?;
    state.events.send(Event::LoginSent {
        id: login.id,
        user_id: device.user_id,
    });
    Ok(json_ok(view(&state, lang, &login).await?))
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
            let data = match receiver.recv().await {
                Ok(Event::LoginSent { id, user_id: u }) if u == user_id => {
                    json!({ "type": "new", "id": id })
                }
                Ok(Event::LoginClosed { id, user_id: u }) if u == user_id => {
                    json!({ "type": "closed", "id": id })
                }
                Ok(_) => continue,
                // Some events were missed: the app reloads its list.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    json!({ "type": "resync" })
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            };
            let event = SseEvent::default()
                .event("login_request")
                .data(data.to_string());
            return Some((Ok(event), receiver));
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
        return Err(conflict());
    }
    Ok(login)
}

#[derive(Deserialize)]
struct ApproveRequest {
    challenge: Option<u8>,
    #[serde(default)]
    remember_browser: bool,
    /// The answer to the consent question, when the consent is asked in the app.
    consent: Option<bool>,
    /// Answers to the sales unit's consent questions (`delegatedConsents`).
    delegated_consents: Option<Vec<DelegatedAnswer>>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct DelegatedAnswer {
    id: String,
    accepted: bool,
}

/// `POST /app-api/v1/login-requests/{id}/approve`: confirms, and tells the app what to do
/// next: go back to the browser, or open a URL (app to app, automatic return).
async fn approve_login_request(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    PathParam(id): PathParam,
    JsonBody(body): JsonBody<ApproveRequest>,
) -> Result<Response, ApiError> {
    let login = pending_for(&state, &device, &id).await?;
    let user_id = device.user_id;
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
                .fail_login_request(login.id, Some(user_id), ErrorCode::WrongChallenge, now)
                .await?;
            notify_closed(&state, &login, user_id);
            audit(
                &state,
                "login_wrong_challenge",
                Some(user_id),
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
    // Consent in the app comes before the confirmation, so a refusal leaves nothing half-done.
    let in_app = login.consent_in_app();
    let missing = if in_app {
        flow::missing_consent(&state, &login).await?
    } else {
        Default::default()
    };
    if in_app && !missing.is_empty() {
        match body.consent {
            None => {
                return Err(OAuthError::invalid_request(
                    "consent is asked in the app: send \"consent\": true or false",
                )
                .into());
            }
            Some(false) => {
                state
                    .store
                    .fail_login_request(login.id, Some(user_id), ErrorCode::AccessDenied, now)
                    .await?;
                notify_closed(&state, &login, user_id);
                crate::ciba::notify(&state, &login).await;
                return Ok(json_ok(json!({ "next": next_without_code(&login) })));
            }
            Some(true) => {}
        }
    }
    if login.scopes.contains(Scope::DelegatedConsents) {
        check_delegated_answers(&state, &login, user_id, body.delegated_consents).await?;
    }
    // The consent is stored before the confirmation: a failure leaves the request pending,
    // never confirmed without the consent the person gave.
    if in_app && !missing.is_empty() {
        flow::grant_consent(&state, &login, user_id, now).await?;
    }
    let remember = body.remember_browser || login.remember_browser;
    let expires = now + state.config.login_request_lifetime;
    if !state
        .store
        .confirm_login_request(login.id, user_id, Amr::App, remember, now, expires)
        .await?
    {
        return Err(conflict());
    }
    notify_closed(&state, &login, user_id);
    audit(
        &state,
        "login_confirmed",
        Some(user_id),
        &login.client_id,
        "",
    )
    .await;
    let confirmed = LoginRequest {
        status: nod_core::login::Status::Confirmed,
        user_id: Some(user_id),
        amr: Some(Amr::App),
        remember_browser: remember,
        auth_time: Some(now),
        expires_at: expires,
        ..login
    };
    let next = match confirmed.flow {
        _ if confirmed.kind == Kind::MerchantInitiated => {
            if confirmed.finishes_in_app() {
                // Login to a web page: the app opens the redirect URI with a code only.
                let success = flow::issue_code(&state, &confirmed)
                    .await?
                    .ok_or_else(conflict)?;
                let url = flow::url_with_params(
                    &confirmed.redirect_uri,
                    &[("code", success.code.as_str())],
                )
                .ok_or_else(|| ApiError::internal("redirect uri", &"redirect_uri is not a URL"))?;
                json!({ "next": "open_url", "url": url })
            } else {
                crate::ciba::notify(&state, &confirmed).await;
                json!({ "next": "done" })
            }
        }
        Flow::Web => json!({ "next": "return_to_browser" }),
        Flow::AppToApp => {
            let token = crypto::random_secret();
            state
                .store
                .set_resume_token(confirmed.id, &crypto::hash_secret(&token))
                .await?;
            let resume = flow::url_with_params(
                &format!("{}/login/{}/resume", state.config.base(), confirmed.id),
                &[("token", &token)],
            )
            .ok_or_else(|| ApiError::internal("resume uri", &"public URL is not a URL"))?;
            let callback = confirmed
                .app_callback_uri
                .as_deref()
                .unwrap_or(&confirmed.redirect_uri);
            let url = flow::url_with_params(
                callback,
                &[
                    ("state", confirmed.state.as_str()),
                    ("resume_uri", resume.as_str()),
                ],
            )
            .ok_or_else(|| ApiError::internal("app callback", &"app_callback_uri is not a URL"))?;
            json!({ "next": "open_url", "url": url })
        }
        Flow::AppToAppV2 | Flow::AutomaticReturn => {
            let success = flow::issue_code(&state, &confirmed)
                .await?
                .ok_or_else(conflict)?;
            let url = flow::url_with_params(&confirmed.redirect_uri, &success.pairs())
                .ok_or_else(|| ApiError::internal("redirect uri", &"redirect_uri is not a URL"))?;
            json!({ "next": "open_url", "url": url })
        }
    };
    Ok(json_ok(next))
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
    PathParam(id): PathParam,
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
        return Err(conflict());
    }
    notify_closed(&state, &login, device.user_id);
    crate::ciba::notify(&state, &login).await;
    audit(
        &state,
        "login_rejected",
        Some(device.user_id),
        &login.client_id,
        error.as_str(),
    )
    .await;
    Ok(json_ok(json!({ "status": "rejected" })))
}

/// What the app does after a refusal: nothing for a merchant-initiated login.
fn next_without_code(login: &LoginRequest) -> &'static str {
    match login.kind {
        Kind::MerchantInitiated => "done",
        Kind::Browser => "return_to_browser",
    }
}

/// Checks the answers to the sales unit's consent questions (every required one accepted)
/// and stores them on the request.
async fn check_delegated_answers(
    state: &AppState,
    login: &LoginRequest,
    user_id: Uuid,
    answers: Option<Vec<DelegatedAnswer>>,
) -> Result<(), ApiError> {
    let Some(texts) = state
        .store
        .get_sales_unit(&login.client_id)
        .await?
        .and_then(|u| u.consent_texts)
    else {
        return Ok(());
    };
    let answers = answers.ok_or_else(|| {
        OAuthError::invalid_request("delegated_consents: answer the sales unit's consent questions")
    })?;
    for question in &texts.consents {
        let answer = answers.iter().find(|a| a.id == question.id);
        match answer {
            None => {
                return Err(OAuthError::invalid_request(format!(
                    "delegated_consents: no answer for '{}'",
                    question.id
                ))
                .into());
            }
            Some(a) if question.required && !a.accepted => {
                return Err(OAuthError::invalid_request(format!(
                    "delegated_consents: '{}' must be accepted",
                    question.id
                ))
                .into());
            }
            Some(_) => {}
        }
    }
    if answers
        .iter()
        .any(|a| !texts.consents.iter().any(|q| q.id == a.id))
    {
        return Err(OAuthError::invalid_request(
            "delegated_consents: an answer to a question that was not asked",
        )
        .into());
    }
    let stored = serde_json::to_string(&answers).map_err(|e| ApiError::internal("answers", &e))?;
    if !state
        .store
        .set_delegated_answers(login.id, user_id, &stored)
        .await?
    {
        return Err(conflict());
    }
    Ok(())
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
async fn list_consents(
    state: AppState,
    lang: Lang,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let t = lang.texts();
    let consents = state.store.list_consents(device.user_id).await?;
    let mut out = Vec::with_capacity(consents.len());
    for consent in consents {
        let name = state
            .store
            .get_sales_unit(&consent.client_id)
            .await?
            .map(|u| u.name);
        out.push(json!({
            "client_id": consent.client_id,
            "sales_unit_name": name.unwrap_or_else(|| consent.client_id.clone()),
            "scopes": consent.scopes.iter().map(|s| json!({ "scope": s.as_str(), "description": t.scope(s) })).collect::<Vec<_>>(),
            "granted_at": consent.granted_at,
        }));
    }
    Ok(json_ok(json!({ "consents": out })))
}

/// `DELETE /app-api/v1/consents/{client_id}`: revokes; the next login asks again, and the
/// sales unit's webhook hears `CONSENT_REVOKED`.
async fn revoke_consent(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    PathParam(client_id): PathParam,
) -> Result<Response, ApiError> {
    if !state
        .store
        .revoke_consent(device.user_id, &client_id)
        .await?
    {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            OAuthError::invalid_request("no consent for this client"),
        ));
    }
    audit(
        &state,
        "consent_revoked",
        Some(device.user_id),
        &client_id,
        "",
    )
    .await;
    if let Some(unit) = state.store.get_sales_unit(&client_id).await?
        && let Some(url) = unit.webhook_url
    {
        let sub = crypto::pairwise_subject(&state.pairwise_key, &client_id, device.user_id);
        let body = json!({
            "event": "CONSENT_REVOKED",
            "sub": sub,
            "client_id": client_id,
            "msn": unit.msn,
            "timestamp": state.now(),
        });
        webhooks::send(state.http.clone(), url, body);
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /app-api/v1/browsers`: the browsers this person is remembered in.
async fn list_browsers(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
) -> Result<Response, ApiError> {
    let browsers = state
        .store
        .list_browsers(device.user_id, state.now())
        .await?;
    Ok(json_ok(json!({ "browsers": browsers })))
}

/// `DELETE /app-api/v1/browsers/{id}`: logs a browser out; it needs the app again.
async fn forget_browser(
    state: AppState,
    DeviceAuth(device): DeviceAuth,
    PathParam(id): PathParam,
) -> Result<Response, ApiError> {
    let gone = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            OAuthError::invalid_request("no such remembered browser"),
        )
    };
    let id = Uuid::parse_str(&id).map_err(|_| gone())?;
    if !state.store.delete_browser(device.user_id, id).await? {
        return Err(gone());
    }
    audit(&state, "browser_forgotten", Some(device.user_id), "", "").await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
