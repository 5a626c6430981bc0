//! The webhooks API: `POST /webhooks/v1/webhooks` registers (`201 {"id","secret"}`),
//! `GET` lists the sales unit's registrations (`{"webhooks":[{"id","url","events"}]}`),
//! `DELETE …/{id}` removes one (`204`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use nod_core::requests::RegisterWebhookRequest;
use nod_core::webhook::{Webhook, WebhookEvent};
use serde::Serialize;

use crate::openapi::schemas as doc;
use crate::paths;
use crate::state::AppState;
use crate::web::error::ProblemJson;
use crate::web::extract::{ApiPath, MerchantAuth, ProblemJsonBody};
use crate::web::render::NO_STORE;

/// The Webhooks API's `RegisterResponse`.
#[derive(Serialize, utoipa::ToSchema)]
struct RegisterResponse {
    id: String,
    secret: String,
}

/// The Webhooks API's `Webhook` (the secret is shown only at registration).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Webhook)]
struct WebhookView {
    id: String,
    url: String,
    #[schema(value_type = Vec<doc::WebhookEventName>)]
    events: Vec<WebhookEvent>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id.to_string(),
            url: w.url,
            events: w.events,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct QueryResponse {
    webhooks: Vec<WebhookView>,
}

#[utoipa::path(
    post,
    path = paths::WEBHOOKS,
    tag = "merchant API",
    params(doc::MerchantSerialNumber),
    request_body = doc::RegisterRequest,
    responses(
        (status = 201, description = "Registered; the secret signs each event and is shown only now.", body = RegisterResponse),
        doc::ProblemBadRequest,
        doc::ProblemErrors,
    ),
    security(("merchant_token" = [])),
)]
/// Registers a webhook (at most 25 per sales unit and event).
pub(super) async fn register_webhook(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
    ProblemJsonBody(request): ProblemJsonBody<RegisterWebhookRequest>,
) -> Result<Response, ProblemJson> {
    let registration = state
        .service
        .register_webhook(&unit, &request.url, &request.events)
        .await?;
    let body = RegisterResponse {
        id: registration.id.to_string(),
        secret: registration.secret,
    };
    Ok((StatusCode::CREATED, [NO_STORE], axum::Json(body)).into_response())
}

#[utoipa::path(
    get,
    path = paths::WEBHOOKS,
    tag = "merchant API",
    params(doc::MerchantSerialNumber),
    responses(
        (status = 200, description = "The sales unit's registrations.", body = QueryResponse),
        doc::ProblemBadRequest,
        doc::ProblemErrors,
    ),
    security(("merchant_token" = [])),
)]
/// The sales unit's webhook registrations.
pub(super) async fn list_webhooks(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
) -> Result<Response, ProblemJson> {
    let webhooks = state.service.webhooks(&unit).await?;
    let body = QueryResponse {
        webhooks: webhooks.into_iter().map(WebhookView::from).collect(),
    };
    Ok(([NO_STORE], axum::Json(body)).into_response())
}

#[utoipa::path(
    delete,
    path = paths::WEBHOOK,
    tag = "merchant API",
    params(("id" = uuid::Uuid, Path, description = "The registration's id."), doc::MerchantSerialNumber),
    responses(
        (status = 204, description = "Removed."),
        (status = 404, description = "No such registration of this sales unit.", content_type = "application/problem+json", body = doc::Problem),
        doc::ProblemBadRequest,
        doc::ProblemErrors,
    ),
    security(("merchant_token" = [])),
)]
/// Removes a webhook registration.
pub(super) async fn delete_webhook(
    state: AppState,
    MerchantAuth(unit): MerchantAuth,
    ApiPath(id): ApiPath,
) -> Result<Response, ProblemJson> {
    state.service.delete_webhook(&unit, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
